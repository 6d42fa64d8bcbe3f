"""A sweep's group of cells through the compiled loop: :func:`sweep_statistics`.

:mod:`gandyn.sweeps.chunk` judges every cell from a few statistics kept while
it steps (the distance to the equilibrium, when it last crossed the tolerance,
the largest distance in each third of the final window, the range of the
monitored losses). :func:`sweep_statistics` computes the same statistics in one
compiled loop (:func:`gandyn.dynamics.kernels.source.sweep_source`) with
per-cell rates and hyper-parameters, or returns ``None`` so that the chunk
steps with numpy: numba missing, the backend ``numpy``, a rule without a
compiled step, or (``auto``) too little work to pay for a first compilation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import sympy as sp

from gandyn.arrays import Array, BoolArray
from gandyn.dynamics.kernels.printing import UnsupportedError
from gandyn.dynamics.stepping import outside_ball
from gandyn.errors import SpecError
from gandyn.rules.base import UpdateRule

if TYPE_CHECKING:
    from gandyn.derivation.field import VectorField

__all__ = ["SweepStatistics", "sweep_statistics"]


@dataclass(frozen=True)
class SweepStatistics:
    """What the compiled loop leaves besides the arrays it updates in place.

    Attributes
    ----------
    x
        The final states ``(B, n)`` (a diverged cell's last good state).
    diverged, diverged_at
        ``(B,)``: whether each cell left the ball, and the step (NaN if not).
    inside
        ``(B,)``: whether the last state is within the tolerance of the equilibrium.
    """

    x: Array
    diverged: BoolArray
    diverged_at: Array
    inside: BoolArray


def sweep_statistics(
    rule: UpdateRule, vf: VectorField, params: Mapping[str, Any], x0: Array, steps: int,
    max_norm: float, fixed: BoolArray, target: Array, tol2: float, first_window: int,
    thirds: Sequence[int], inside: BoolArray, changed_at: Any, peak: Array, low: Array,
    high: Array, monitored: Sequence[Any], backend: str | None = None,
) -> SweepStatistics | None:
    """Step a group of cells in the compiled loop, updating the statistics arrays in place.

    Parameters
    ----------
    rule
        The rule with per-cell rates.
    vf
        The derived game; ``params`` are per-cell hyper-parameter values (arrays ``(B,)``)
        over the game's own values.
    x0
        Starts ``(B, n)``.
    steps, max_norm
        As for :func:`gandyn.dynamics.discrete.simulate_rule`.
    fixed, target
        The coordinates the equilibrium fixes and their values per cell ``(B, f)``.
    tol2, first_window, thirds
        The squared tolerance, the final window's first step and the steps its thirds start.
    inside, changed_at, peak, low, high
        The statistics at the start (updated in place; ``inside`` is returned).
    monitored
        The expressions of the monitored losses (``g_loss``, ``d_fake`` as the game has them).
    backend
        As for :func:`gandyn.dynamics.kernels.simulate.check_backend`.

    Returns
    -------
    SweepStatistics or None
        ``None`` when the chunk should step with numpy.

    Raises
    ------
    SpecError
        ``compiled`` asked for a rule that has no compiled step.
    """
    from gandyn.dynamics.kernels.build import load_kernel, numba_version
    from gandyn.dynamics.kernels.simulate import (
        AUTO_MIN_RUN_STEPS,
        adam_corrections,
        check_backend,
        cross_gradient,
        first_call,
        per_run,
    )
    from gandyn.dynamics.kernels.source import sweep_source
    from gandyn.dynamics.kernels.steps import settings_vector, step_code

    backend = check_backend(backend)
    batch, n = x0.shape
    if backend == "numpy" or numba_version() is None or (
            backend == "auto" and batch * steps < AUTO_MIN_RUN_STEPS):
        return None
    game = vf.game
    n_theta = len(game.theta)
    symbols = tuple(game.param_values)
    fixed_at = [int(i) for i in np.flatnonzero(fixed)]
    try:
        step = step_code(rule, n, n_theta)
    except UnsupportedError as exc:
        if backend == "compiled":
            raise SpecError(f"`backend` compiled cannot run this sweep: {exc}") from None
        return None
    jacobian = list(vf.jacobian) if step.needs_jacobian else None
    cross = cross_gradient(vf) if step.needs_cross else None
    exprs = [sp.sympify(e) for e in monitored]
    description = "\n".join([
        "sweep", sp.srepr(sp.Tuple(*vf.field)), sp.srepr(sp.Tuple(*(jacobian or ()))),
        sp.srepr(sp.Tuple(*(cross or ()))),
        sp.srepr(sp.Tuple(*exprs)), sp.srepr(sp.Tuple(*game.state_symbols)),
        sp.srepr(sp.Tuple(*symbols)), repr((n_theta, fixed_at)), repr(step)])

    def source() -> str:
        return sweep_source(step, list(vf.field), jacobian, exprs, game.state_symbols, symbols,
                            n_theta, fixed_at, cross)

    try:
        run, _ = load_kernel(description, source, "sweep_run")
    except (UnsupportedError, ImportError) as exc:
        if backend == "compiled":
            raise SpecError(f"`backend` compiled cannot run this sweep: {exc}") from None
        return None
    x = np.array(x0, dtype=np.float64, order="C")  # the loop writes into it
    buffers = rule.init_buffers(x)
    buf = np.ascontiguousarray(np.concatenate([buffers[b] for b in rule.buffer_names], axis=1)
                               if rule.buffer_names else np.zeros((batch, 0)))
    par = np.empty((batch, len(symbols)))
    for j, symbol in enumerate(symbols):
        par[:, j] = params.get(symbol.name, float(game.param_values[symbol]))
    c1s, c2s = adam_corrections(rule, steps)
    diverged = outside_ball(x, max_norm).copy()
    diverged_at = np.where(diverged, 0.0, np.nan)
    state = np.ascontiguousarray(inside, dtype=np.bool_)
    changed = np.ascontiguousarray(changed_at, dtype=np.int64)
    hg, hd = per_run(rule.lr_g, batch), per_run(rule.lr_d, batch)
    arguments = (x, buf, hg, hd, par, settings_vector(rule), c1s, c2s, steps, float(max_norm),
                 np.ascontiguousarray(target, dtype=np.float64), float(tol2), int(first_window),
                 int(thirds[0]), int(thirds[1]), state, changed, peak, low, high, diverged,
                 diverged_at)
    try:
        first_call(run, arguments)
    except UnsupportedError as exc:
        if backend == "compiled":
            raise SpecError(f"`backend` compiled cannot run this sweep: {exc}") from None
        return None
    changed_at[...] = changed
    return SweepStatistics(x, diverged, diverged_at, state)
