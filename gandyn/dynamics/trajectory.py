"""Simulate a game: the continuous gradient flow and the discrete update rules.

:func:`simulate_flow` integrates ``dx/dt = h * F(x)`` with
:func:`scipy.integrate.solve_ivp` (``h`` the per-player rates, so two time
scales carry over to the flow); :func:`simulate_rule` iterates a discrete
update rule from :mod:`gandyn.rules.update_rules`. Both advance a whole batch of
initial states at once, in one vectorized computation.

Divergence is a result, not a crash: a run whose state becomes non-finite or
leaves the ball ``|x|_inf <= max_norm`` is frozen at its last good state,
marked diverged with the step (or time) at which that happened, and its data
up to then are kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from gandyn.arrays import Array
from gandyn.rules.update_rules import UpdateRule

__all__ = ["Trajectory", "simulate_flow", "simulate_rule"]

Measure = Literal["state", "loop"]


@dataclass(frozen=True)
class Trajectory:
    """A batch of simulated runs.

    Attributes
    ----------
    state_names, logged_names
        Names of the state coordinates (theta..., psi...) and logged losses.
    step
        Recorded step numbers, ``(n_t,)`` (for the flow: the index on the time grid).
    t
        Recorded times, ``(n_t,)``: for discrete rules ``step * lr_g`` (the
        generator's clock), for the flow the integration time.
    x
        States, ``(B, n_t, n)``; rows after a run diverged repeat its last good state.
    logged
        Logged losses, ``(B, n_t, k)`` in the order of ``logged_names``.
    diverged
        ``(B,)``: whether each run diverged.
    diverged_at
        ``(B,)``: the step (discrete) or time (flow) of divergence, NaN if none.
    method
        The update rule or ``flow``, with its settings.
    measure
        ``state`` (losses at the recorded state) or ``loop`` (as a training loop logs them).
    message
        One line on how the simulation ended.
    """

    state_names: tuple[str, ...]
    logged_names: tuple[str, ...]
    step: Array
    t: Array
    x: Array
    logged: Array
    diverged: np.ndarray[Any, np.dtype[np.bool_]]
    diverged_at: Array
    method: dict[str, Any] = field(default_factory=dict)
    measure: Measure = "state"
    message: str = ""

    @property
    def n_runs(self) -> int:
        """Number of runs in the batch."""
        return int(self.x.shape[0])

    def loss(self, name: str) -> Array:
        """The logged loss ``name`` as ``(B, n_t)``."""
        return self.logged[..., self.logged_names.index(name)]

    def coordinate(self, name: str) -> Array:
        """The state coordinate ``name`` as ``(B, n_t)``."""
        return self.x[..., self.state_names.index(name)]


def _bad(x: Array, max_norm: float) -> np.ndarray[Any, np.dtype[np.bool_]]:
    # Fast path: one reduction over the whole batch (NaN propagates through max).
    # Row-wise reductions over a short last axis are slow in numpy.
    with np.errstate(invalid="ignore"):
        largest = np.max(np.abs(x)) if x.size else 0.0
    if np.isfinite(largest) and largest <= max_norm:
        return np.zeros(x.shape[:-1], dtype=bool)
    with np.errstate(invalid="ignore"):
        bad: np.ndarray[Any, np.dtype[np.bool_]] = ~np.all(np.isfinite(x), axis=-1) | (
            np.max(np.abs(x), axis=-1) > max_norm
        )
    return bad


def simulate_rule(
    rule: UpdateRule,
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
) -> Trajectory:
    """Iterate a discrete update rule on a batch of initial states.

    Parameters
    ----------
    rule
        The update rule (with its game and learning rates).
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

    Returns
    -------
    Trajectory
    """
    if steps < 0 or every < 1:
        raise ValueError("steps must be >= 0 and every >= 1")
    x = np.array(x0, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError("x0 must have shape (B, n)")
    batch = x.shape[0]
    buffers = rule.init_buffers(x)
    diverged = _bad(x, max_norm)
    diverged_at = np.where(diverged, 0.0, np.nan)
    d_columns = [i for i, name in enumerate(logged_names) if name != "g_loss"]
    g_columns = [i for i, name in enumerate(logged_names) if name == "g_loss"]

    record_steps = [k for k in range(steps + 1) if k % every == 0 or k == steps]
    xs = np.empty((batch, len(record_steps), x.shape[1]))
    ls = np.empty((batch, len(record_steps), len(logged_names)))
    with np.errstate(all="ignore"):
        xs[:, 0] = x
        ls[:, 0] = logged(x)
        slot = 1
        for k in range(1, steps + 1):
            result = rule.step(x, buffers, k)
            new = result.x if project is None else project(result.x)
            bad = _bad(new, max_norm) & ~diverged
            diverged_at[bad] = k
            diverged |= bad
            any_diverged = bool(diverged.any())
            keep = ~diverged[:, None]
            if measure == "loop":
                row = np.empty((batch, len(logged_names)))
                row[:, d_columns] = logged(result.seen_by_d)[:, d_columns]
                row[:, g_columns] = logged(result.seen_by_g)[:, g_columns]
            if any_diverged:  # freeze diverged runs; otherwise no copy is needed
                x = np.where(keep, new, x)
                buffers = {name: np.where(keep, value, buffers[name])
                           for name, value in result.buffers.items()}
            else:
                x, buffers = new, result.buffers
            if slot < len(record_steps) and k == record_steps[slot]:
                xs[:, slot] = x
                current = logged(x)
                if measure == "loop":
                    current = np.where(keep, row, current)
                ls[:, slot] = current
                slot += 1
            if progress is not None and (k % 100 == 0 or k == steps):
                progress(100 if k % 100 == 0 else k % 100)
            if diverged.all():
                # as for a frozen run in a batch that goes on: its state and the losses there
                xs[:, slot:] = x[:, None]
                ls[:, slot:] = logged(x)[:, None]
                break
    n_div = int(diverged.sum())
    message = (f"{steps} steps; {n_div} of {batch} runs diverged" if n_div
               else f"{steps} steps; no run diverged")
    step_arr = np.array(record_steps, dtype=np.float64)
    return Trajectory(
        state_names=state_names,
        logged_names=logged_names,
        step=step_arr,
        t=step_arr * rule.lr_g,
        x=xs,
        logged=ls,
        diverged=diverged,
        diverged_at=diverged_at,
        method={"optimizer": rule.name, "lr_g": rule.lr_g, "lr_d": rule.lr_d},
        measure=measure,
        message=message,
    )


def simulate_flow(
    field: Callable[[Array], Array],
    jacobian: Callable[[Array], Array] | None,
    logged: Callable[[Array], Array],
    x0: Array,
    *,
    t_end: float,
    n_eval: int = 201,
    rates: Array | None = None,
    method: str = "RK45",
    rtol: float = 1e-8,
    atol: float = 1e-10,
    max_norm: float = 1e6,
    state_names: tuple[str, ...],
    logged_names: tuple[str, ...],
) -> Trajectory:
    """Integrate the gradient flow ``dx/dt = rates * F(x)`` for a batch of starts.

    All runs form one system for :func:`scipy.integrate.solve_ivp`; a run
    that leaves the ball ``max |x_i| <= max_norm`` (or becomes non-finite)
    has its right-hand side set to zero from then on, so it stays at the
    boundary while the others go on, and is reported as diverged.

    Parameters
    ----------
    field, jacobian, logged
        ``F``, ``dF/dx`` (for implicit methods; may be ``None``) and the
        logged losses, all batched.
    x0
        Initial states ``(B, n)``.
    t_end, n_eval
        Output on ``n_eval`` uniform times in ``[0, t_end]``.
    rates
        Per-coordinate time scales (default 1: the plain flow).
    method, rtol, atol
        Passed to :func:`scipy.integrate.solve_ivp`.
    max_norm
        The divergence bound.
    state_names, logged_names
        Labels of the columns.
    """
    from scipy.integrate import solve_ivp

    x0 = np.array(x0, dtype=np.float64)
    batch, n = x0.shape
    scale = np.ones(n) if rates is None else np.asarray(rates, dtype=np.float64)
    if not (t_end > 0 and np.isfinite(t_end)) or n_eval < 2:
        raise ValueError("t_end must be positive and finite and n_eval at least 2")

    def frozen(x: Array) -> np.ndarray[Any, np.dtype[np.bool_]]:
        return _bad(x, max_norm)

    def rhs(_t: float, flat: Array) -> Array:
        x = flat.reshape(batch, n)
        with np.errstate(all="ignore"):
            dx = scale * field(x)
        dx[frozen(x)] = 0.0
        return np.nan_to_num(dx, nan=0.0, posinf=0.0, neginf=0.0).ravel()

    jac_fn = None
    if jacobian is not None:
        from scipy.sparse import block_diag

        def jac_fn(_t: float, flat: Array) -> Any:
            x = flat.reshape(batch, n)
            with np.errstate(all="ignore"):
                blocks = scale[None, :, None] * jacobian(x)
            blocks[frozen(x)] = 0.0
            blocks = np.nan_to_num(blocks, nan=0.0, posinf=0.0, neginf=0.0)
            return block_diag(list(blocks), format="csc")

    t_eval = np.linspace(0.0, t_end, n_eval)
    options: dict[str, Any] = {}
    if method in ("Radau", "BDF", "LSODA") and jac_fn is not None:
        options["jac"] = jac_fn  # explicit methods warn if given a Jacobian
    solution = solve_ivp(
        rhs, (0.0, t_end), x0.ravel(), method=method, t_eval=t_eval, rtol=rtol, atol=atol,
        **options,
    )
    ts = np.asarray(solution.t, dtype=np.float64)
    xs = np.asarray(solution.y, dtype=np.float64).T.reshape(len(ts), batch, n).swapaxes(0, 1)
    if len(ts) < n_eval:  # the solver stopped early: pad with the last state
        pad = n_eval - len(ts)
        xs = np.concatenate([xs, np.repeat(xs[:, -1:], pad, axis=1)], axis=1)
        ts = np.concatenate([ts, t_eval[len(ts):]])
    bad = _bad(xs, max_norm)
    diverged: np.ndarray[Any, np.dtype[np.bool_]] = np.asarray(bad.any(axis=1))
    first = np.argmax(bad, axis=1)
    diverged_at = np.where(diverged, ts[first], np.nan)
    with np.errstate(all="ignore"):
        ls = logged(xs.reshape(-1, n)).reshape(batch, len(ts), -1)
    n_div = int(diverged.sum())
    status = "" if solution.success else f"; solver stopped: {solution.message}"
    message = (f"flow to t = {t_end:g}; {n_div} of {batch} runs diverged" if n_div
               else f"flow to t = {t_end:g}; no run diverged") + status
    return Trajectory(
        state_names=state_names,
        logged_names=logged_names,
        step=np.arange(len(ts), dtype=np.float64),
        t=ts,
        x=xs,
        logged=ls,
        diverged=diverged,
        diverged_at=diverged_at,
        method={"optimizer": "flow", "method": method, "rtol": rtol, "atol": atol,
                "rates": [float(r) for r in scale], "solver_success": bool(solution.success)},
        measure="state",
        message=message,
    )
