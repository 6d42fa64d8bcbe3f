"""Simulate a discrete update rule on a batch of starts: :func:`simulate_rule`.

The rule (from :mod:`gandyn.rules`) is iterated by the one step loop of
:mod:`gandyn.dynamics.stepping`; this module records the states and the logged
losses on the recording grid, stored time-major and coordinate-first (a
recorded step is one contiguous write; the trajectory's ``(B, n_t, n)`` arrays
are transposed views of that storage).
Divergence is a result, not a crash: a run that leaves the ball
``|x|_inf <= max_norm`` is frozen at its last good state, marked diverged with
the step at which that happened, and its data up to then are kept.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gandyn.arrays import Array
from gandyn.derivation.numeric import NumericFunction
from gandyn.dynamics.stepping import StepLoop
from gandyn.dynamics.trajectory import Measure, Trajectory, rule_trajectory
from gandyn.rules.base import FieldFunctions, UpdateRule, evaluate_rows

__all__ = ["simulate_rule"]

#: Runs per call when the logged losses of a large batch are recorded (see :func:`_record`).
RECORD_BLOCK = 8192


def _record(logged: Callable[[Array], Array], rows: Array, out: Array) -> None:
    """Write the logged losses at coordinate-first states ``rows`` ``(n, B)`` into ``out``.

    Compiled expressions (a :class:`NumericFunction`, which holds no per-run
    values) are evaluated a block of runs at a time: each entry is elementwise
    in the runs, so the values are those of one call, while the temporaries stay
    small. Over a whole batch they are megabytes each, allocated and freed for
    every recorded step, and the C allocator can hand them back to the system
    between steps, so that each record pays a page fault per 4 KiB of every
    temporary: that doubled the cost of recording every step of 10^5 runs.
    Other functions (per-run hyper-parameters, minibatch draws) see the whole batch.
    """
    batch = rows.shape[1]
    if type(logged) is not NumericFunction or batch <= 2 * RECORD_BLOCK:
        evaluate_rows(logged, rows, out)
        return
    for first in range(0, batch, RECORD_BLOCK):
        part = slice(first, first + RECORD_BLOCK)
        evaluate_rows(logged, rows[:, part], out[:, part])


def simulate_rule(
    rule: UpdateRule,
    field: FieldFunctions,
    logged: Callable[[Array], Array],
    x0: Array,
    steps: int,
    *,
    every: int = 1,
    max_norm: float = 1e6,
    measure: Measure = "state",
    state_names: tuple[str, ...],
    logged_names: tuple[str, ...],
    project: Callable[[Array], Array] | None = None,
    progress: Callable[[int], None] | None = None,
    backend: str | None = None,
) -> Trajectory:
    """Iterate a discrete update rule on a batch of initial states.

    Parameters
    ----------
    rule
        The update rule (its learning rates, numbers or per run ``(B,)``, and settings).
    field
        The numeric game the rule steps on.
    logged
        ``(B, n) -> (B, k)``: the logged losses at a state.
    x0
        Initial states ``(B, n)``.
    steps
        Number of iterations.
    every
        Record every ``every``-th step (step 0 and the last step always).
    max_norm
        A run whose ``max |x_i|`` exceeds this (or that becomes non-finite) diverges.
    measure
        ``state``: losses at the recorded state. ``loop``: at step ``k``, the
        discriminator's losses at the state the discriminator's gradient saw
        and ``g_loss`` at the state the generator's gradient saw (before the
        update, as a training loop logs them).
    state_names, logged_names
        Labels of the columns.
    project
        Applied to the state after every step (WGAN weight clipping).
    progress
        Called with the number of steps done since its last call (a progress bar).
    backend
        ``auto``, ``numpy`` or ``compiled`` (``None``: ``GANDYN_BACKEND``, else
        ``auto``): see :mod:`gandyn.dynamics.kernels`.

    Returns
    -------
    Trajectory
        With per-run rates, ``t`` is ``(B, n_t)`` (each run on its own clock)
        and ``method`` lists the rates. ``x`` and ``logged`` are transposed
        views of time-major storage ``(n_t, n, B)`` (not C-contiguous).
    """
    if backend != "numpy":  # the compiled loop, or numpy with the reason why not
        from gandyn.dynamics.kernels import simulate_with_backend

        return simulate_with_backend(
            simulate_rule, rule, field, logged, x0, steps, every=every, max_norm=max_norm,
            measure=measure, state_names=state_names, logged_names=logged_names,
            project=project, progress=progress, backend=backend)
    if steps < 0 or every < 1:
        raise ValueError("steps must be >= 0 and every >= 1")
    x = np.array(x0, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError("x0 must have shape (B, n)")
    batch, n = x.shape
    n_logged = len(logged_names)
    d_columns = [i for i, name in enumerate(logged_names) if name != "g_loss"]
    g_columns = [i for i, name in enumerate(logged_names) if name == "g_loss"]

    record_steps = [k for k in range(steps + 1) if k % every == 0 or k == steps]
    # Time-major, coordinate-first storage: a recorded step is one contiguous (n, B) block
    # (and what the loop holds), where a (B, n_t, n) array would take a strided write per
    # run. The trajectory sees it as (B, n_t, n) through a transposed view.
    x_store = np.empty((len(record_steps), n, batch))
    l_store = np.empty((len(record_steps), n_logged, batch))
    xs, ls = x_store.transpose(2, 0, 1), l_store.transpose(2, 0, 1)
    loop = StepLoop(rule, field, x, max_norm=max_norm, project=project)
    with np.errstate(all="ignore"):
        np.copyto(x_store[0], x.T)
        _record(logged, x_store[0], l_store[0])
        slot = 1
        for k in loop.run(steps):
            if slot < len(record_steps) and k == record_steps[slot]:
                x_rows, l_rows = x_store[slot], l_store[slot]
                np.copyto(x_rows, loop.x.T)
                _record(logged, x_rows, l_rows)
                if measure == "loop":
                    last = loop.last
                    assert last is not None
                    row = np.empty((batch, n_logged))
                    row[:, d_columns] = logged(last.seen_by_d)[:, d_columns]
                    row[:, g_columns] = logged(last.seen_by_g)[:, g_columns]
                    np.copyto(l_rows, row.T, where=~loop.diverged)
                slot += 1
            if progress is not None and (k % 100 == 0 or k == steps):
                progress(100 if k % 100 == 0 else k % 100)
        if loop.all_diverged:
            # as for a frozen run in a batch that goes on: its state and the losses there
            xs[:, slot:] = loop.x[:, None]
            ls[:, slot:] = logged(loop.x)[:, None]
    return rule_trajectory(rule, steps, record_steps, xs, ls, loop.diverged, loop.diverged_at,
                           measure=measure, state_names=state_names,
                           logged_names=logged_names)
