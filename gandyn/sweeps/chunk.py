"""Simulating one chunk of a sweep: its cells together, and their verdicts.

Every cell is one simulation of a discrete update rule from
:mod:`gandyn.rules` on the derived game of :mod:`gandyn.derivation.field`. All
cells of a chunk advance together in one vectorized numpy computation, through
the step loop of :mod:`gandyn.dynamics.stepping`, with per-cell learning rates
(the rule's rates given as arrays, one per cell) and per-cell hyper-parameter
values (bound to the lambdified field as arrays). Memory is bounded by the
chunk size, not by the number of cells.

Verdicts
--------
Let ``d_k`` be the Euclidean distance of step ``k``'s state to the reference
equilibrium ``x*`` (over the coordinates ``x*`` fixes; a line of equilibria
fixes fewer), ``W`` the final window (``window`` steps, default half the
run), split into thirds, and ``r_1``, ``r_2`` the ratios of the largest
``d_k`` in each third to the largest in the third before it (1 when both are
0). On a spiral whose distance changes by ``rho`` per step both are about
``rho**(W/3)``; on a cycle shorter than ``W/3`` steps both are about 1, and a
bounded chaotic orbit rarely moves both the same way. The first rule that
applies decides:

1. ``diverged`` if the state left the ball ``max_i |x_i| <= max_norm`` or
   turned non-finite (the run is then frozen at its last good state);
2. ``converged`` if ``d_k < tol`` at every step of the window's last third;
3. ``diverged`` if the distance grows: ``r_1`` and ``r_2 > 1 + growth``;
4. ``converged`` if it shrinks, ``r_1`` and ``r_2 < 1 / (1 + growth)``, and
   ends closer to ``x*`` than it started (still spiralling in: a slow but
   converging run);
5. ``cycling`` otherwise: bounded, neither shrinking nor growing (a limit
   cycle, a centre, a chaotic orbit, or a stationary point other than ``x*``).

``decided_at`` is the first step from which the verdict holds: the step at
which the run left the max-norm ball, else the first step from which it
stays on the side of the tolerance ball ``d_k < tol`` where it ends (inside
for rule 2; outside for a cycle, for instance). A window shorter than three periods of the
oscillation can mistake a cycle for a trend: raise ``window`` (and
``steps``) for slow rotations.

Beside each verdict stands the *linear prediction*: the spectral radius
``rho`` of the Jacobian of the rule's map at ``x*`` (extended by the rule's
buffers at their fixed-point values, as :func:`gandyn.equilibria.map_stability`
does). ``rho < 1`` predicts local convergence and ``rho > 1`` its failure
(Mescheder, Nowozin and Geiger 2017, Sec. 3); away from ``rho = 1`` and from
starts far outside the basin, the simulated verdicts agree with it.

The measures per cell: ``decided_at``, ``distance`` (``d_K`` at the last
step, or at the last good state of a run that left the ball),
``g_loss_amplitude`` and ``d_fake_amplitude`` (half the range of each logged
loss over the last third of the final window, where the run is judged; NaN
for a run that left the ball or a game that does not log the loss) and
``spectral_radius``.

The reference equilibrium ``x*`` comes from the plan (:mod:`gandyn.sweeps.plan`).
When an axis moves a hyper-parameter, each cell's ``x*`` is refined from it by
Newton's method on ``F(x) = 0`` at that cell's values (a cell where Newton
fails gets NaN distances and verdicts from the ball alone). A line or surface
of equilibria is used as it is (no refinement) and has no linear prediction
(NaN): its spectral radius is 1 along the set.

References
----------
.. [1] Mescheder, Nowozin and Geiger (2017). The Numerics of GANs. NeurIPS,
   Sec. 3 (a discrete rule is locally convergent when the spectral radius of
   its map's Jacobian is below one).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from gandyn.arrays import Array, fast_softplus
from gandyn.sweeps.plan import SweepPlan

if TYPE_CHECKING:
    from gandyn.derivation.field import NumericFunction, VectorField
    from gandyn.rules.base import FieldFunctions, UpdateRule

__all__ = ["VERDICTS", "simulate_chunk"]

#: Verdict names; a cell's verdict code indexes this tuple.
VERDICTS: tuple[str, ...] = ("converged", "cycling", "diverged")
#: The step at which a step-dependent map (Adam's bias correction) is linearized.
_LINEARIZE_AT_STEP = 10**6


@dataclass
class _Engine:
    """The derived game of a plan, built once per process."""

    plan: SweepPlan
    vf: VectorField
    names: tuple[str, ...]
    n_theta: int
    monitored: NumericFunction  # (g_loss, d_fake) or those the game has
    monitored_exprs: list[Any]  # its expressions (for the compiled loop)
    monitored_columns: tuple[int | None, int | None]


_ENGINES: dict[str, _Engine] = {}


def _engine(plan: SweepPlan) -> _Engine:
    key = plan.digest()
    cached = _ENGINES.get(key)
    if cached is not None:
        return cached
    from gandyn.derivation.field import NumericFunction, derive
    from gandyn.runs.build import build_game_part

    game = build_game_part(plan.game)
    vf = derive(game)
    logged = dict(game.logged)
    wanted = [name for name in ("g_loss", "d_fake") if name in logged]
    monitored_exprs = [logged[n] for n in wanted] or [0]
    monitored = NumericFunction(monitored_exprs, game.state_symbols,
                                game.param_values, namespace={"softplus": fast_softplus})
    columns = tuple(wanted.index(n) if n in wanted else None for n in ("g_loss", "d_fake"))
    engine = _Engine(plan, vf, tuple(s.name for s in game.state_symbols), len(game.theta),
                     monitored, monitored_exprs, cast(tuple[int | None, int | None], columns))
    _ENGINES.clear()  # one plan at a time per process keeps memory bounded
    _ENGINES[key] = engine
    return engine


def _field_functions(vf: VectorField, params: Mapping[str, Any]) -> FieldFunctions:
    """The numeric game at per-cell hyper-parameter values ``params`` (arrays ``(B,)``).

    The functions are bound to the values (:meth:`NumericFunction.bound`), so
    the step loop can restrict them to the cells that have not diverged; the
    third and cross derivatives (SGA's, the opponent-aware rules') are compiled
    only if the rule calls them.
    """
    from gandyn.rules.base import FieldFunctions

    return FieldFunctions.of(vf, params)


def _newton(vf: VectorField, x: Array, params: Mapping[str, Any], iterations: int = 50) -> Array:
    """Refine equilibria ``F(x) = 0`` per cell; cells that do not converge become NaN."""
    x = x.copy()
    with np.errstate(all="ignore"):
        for _ in range(iterations):
            f = vf.field_fn(x, params)
            residual = np.max(np.abs(f), axis=-1)
            active = residual > 1e-13
            if not active.any():
                break
            jac = vf.jacobian_fn(x, params)
            step = np.einsum("bij,bj->bi", np.linalg.pinv(jac), f)
            x = np.where(active[:, None], x - step, x)
        residual = np.max(np.abs(vf.field_fn(x, params)), axis=-1)
    x[~(residual <= 1e-9)] = np.nan
    return x


def _cell_values(plan: SweepPlan, first: int, stop: int) -> list[Array]:
    """The value of each axis at cells ``first..stop-1`` (C order: the first axis slowest)."""
    index = np.unravel_index(np.arange(first, stop), plan.shape)
    return [axis.values[i] for axis, i in zip(plan.axes, index, strict=True)]


def simulate_chunk(plan: SweepPlan, index: int) -> dict[str, np.ndarray[Any, Any]]:
    """Simulate the cells of chunk ``index`` together and classify them.

    Parameters
    ----------
    plan
        The sweep.
    index
        The chunk, ``0 <= index < plan.n_chunks``.

    Returns
    -------
    dict
        Per cell: ``verdict`` (codes into :data:`VERDICTS`, uint8),
        ``decided_at`` (int64), ``distance``, ``g_loss_amplitude``,
        ``d_fake_amplitude``, ``spectral_radius`` (float64).
    """
    from gandyn.dynamics.flow import RungeKuttaFlow
    from gandyn.rules.registry import make_rule

    engine = _engine(plan)
    first, stop = plan.chunk_cells(index)
    batch = stop - first
    values = _cell_values(plan, first, stop)
    names, n = engine.names, len(engine.names)
    start = dict(plan.start)
    # The state coordinate-first, used through a transposed (B, n) view: the field's rows
    # are then contiguous, and elementwise updates keep that layout (gandyn.derivation.field);
    # a rule with per-cell rates holds its step sizes the same way (gandyn.rules.base).
    x0 = np.empty((n, batch))
    for i, name in enumerate(names):
        x0[i] = start[name]
    lr_g = np.full(batch, plan.lr_g)
    lr_d = np.full(batch, plan.lr_d)
    params: dict[str, Any] = {}
    settings_columns: dict[str, Array] = {}
    for axis, v in zip(plan.axes, values, strict=True):
        if axis.kind == "state":
            x0[names.index(axis.target)] = v
        elif axis.kind == "lr":
            if axis.target in ("lr", "lr_g"):
                lr_g[:] = v
            if axis.target in ("lr", "lr_d"):
                lr_d[:] = v
        elif axis.kind == "param":
            params[axis.target] = v
        else:
            settings_columns[axis.target] = v
    eq_fixed = dict(plan.equilibrium)
    fixed = np.array([name in eq_fixed for name in names])
    x_eq = np.array([eq_fixed.get(name, np.nan) for name in names])[None, :].repeat(batch, 0)
    if params and fixed.all():
        x_eq = _newton(engine.vf, x_eq, params)
    out: dict[str, np.ndarray[Any, Any]] = {
        "verdict": np.empty(batch, dtype=np.uint8),
        "decided_at": np.empty(batch, dtype=np.int64),
        "distance": np.empty(batch),
        "g_loss_amplitude": np.empty(batch),
        "d_fake_amplitude": np.empty(batch),
        "spectral_radius": np.empty(batch),
    }
    # Rule settings cannot vary inside one rule object: one group per combination.
    if settings_columns:
        keys = list(settings_columns)
        combos = np.stack([settings_columns[k] for k in keys], axis=1)
        unique, inverse = np.unique(combos, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        groups = [(np.flatnonzero(inverse == g), dict(zip(keys, row, strict=True)))
                  for g, row in enumerate(unique)]
    else:
        groups = [(np.arange(batch), {})]
    base_settings = dict(plan.settings)
    for cells, extra in groups:
        settings = {**base_settings, **{k: (int(v) if k in ("d_steps", "g_steps") else float(v))
                                        for k, v in extra.items()}}
        whole = len(cells) == batch
        group_params = params if whole else {k: v[cells] for k, v in params.items()}
        x0_g = x0.T if whole else np.ascontiguousarray(x0[:, cells]).T
        rule = (RungeKuttaFlow(lr_g[cells], lr_d[cells]) if plan.optimizer == "flow"  # rk4
                else make_rule(plan.optimizer, lr_g[cells], lr_d[cells], **settings))
        result = _simulate_group(engine, x0_g, rule, group_params, x_eq[cells], fixed)
        for key, value in result.items():
            out[key][cells] = value
    return out


def _simulate_group(engine: _Engine, x0: Array, rule: UpdateRule, params: Mapping[str, Any],
                    x_eq: Array, fixed: np.ndarray[Any, np.dtype[np.bool_]]) -> dict[str, Any]:
    from gandyn.dynamics.stepping import StepLoop

    plan = engine.plan
    batch = x0.shape[0]
    steps, window = plan.steps, plan.window
    game = _field_functions(engine.vf, params)
    # coordinate-first, as the loop holds the states: contiguous rows, no strided passes
    target = x_eq[:, fixed]
    target_rows = np.ascontiguousarray(target.T)
    all_fixed = bool(fixed.all())

    def distance2(x: Array) -> Array:
        diff = (x.T if all_fixed else x.T[fixed]) - target_rows
        return cast(Array, np.einsum("ib,ib->b", diff, diff))

    tol2 = plan.tol**2
    with np.errstate(invalid="ignore"):
        start2 = distance2(x0)
        inside = start2 < tol2
    changed_at = np.zeros(batch, dtype=np.int64)
    first_window = steps - window + 1  # the final window holds steps first_window..steps
    # the window's thirds start at these steps
    thirds = [first_window + (window * j) // 3 for j in (1, 2)]
    peak = np.full((3, batch), -np.inf)
    low = np.full((2, batch), np.inf)
    high = np.full((2, batch), -np.inf)
    g_col, d_col = engine.monitored_columns
    # the compiled loop (gandyn.dynamics.kernels) fills the same statistics when it can
    from gandyn.dynamics.kernels.sweep import sweep_statistics

    done = sweep_statistics(rule, engine.vf, params, x0, steps, plan.max_norm, fixed, target,
                            tol2, first_window, thirds, inside, changed_at, peak, low, high,
                            engine.monitored_exprs)
    if done is not None:
        x, left = done.x, done.diverged
        left_at = np.where(left, done.diverged_at, 0).astype(np.int64)
        with np.errstate(all="ignore"):
            distance = np.sqrt(distance2(x))
            ratios = [np.where(peak[j + 1] == peak[j], 1.0, np.sqrt(peak[j + 1] / peak[j]))
                      for j in (0, 1)]
        return _classify(plan, rule, game, x_eq, fixed, left, left_at, distance, start2,
                         done.inside, changed_at, thirds, ratios, low, high, (g_col, d_col))
    loop = StepLoop(rule, game, x0, max_norm=plan.max_norm)
    # The statistics follow the loop's work (its live runs, coordinate-first): once runs
    # diverge, reading the whole batch (loop.x) would copy every frozen state at every step.
    # What a run records after it diverged is never read: its verdict, decided_at and
    # amplitudes come from the divergence alone, its distance from its frozen state (below).
    monitored = engine.monitored
    zero_target = not np.any(target_rows)  # x - 0 is x exactly: skip the subtraction
    runs: Any = None  # the runs the views below hold (None: every run, the arrays themselves)
    w_changed, w_inside, w_peak, w_low, w_high = changed_at, inside, peak, low, high
    w_target, w_params = target_rows, params
    with np.errstate(all="ignore"):
        for k in loop.run(steps):
            rows, work_runs = loop.work
            if work_runs is not runs:  # the loop dropped diverged runs: follow its layout
                if runs is None:
                    inside = w_inside
                else:
                    changed_at[runs], inside[runs] = w_changed, w_inside
                    peak[:, runs], low[:, runs], high[:, runs] = w_peak, w_low, w_high
                runs = work_runs
                w_changed, w_inside = changed_at[runs], inside[runs]
                w_peak, w_low, w_high = peak[:, runs], low[:, runs], high[:, runs]
                w_target = target_rows[:, runs]
                w_params = {name: v if np.ndim(v) == 0 else np.asarray(v)[runs]
                            for name, v in params.items()}
            diff = rows if all_fixed else rows[fixed]
            if not zero_target:
                diff = diff - w_target
            # the sum of squares in distance2's order (from the first coordinate on, each
            # product rounded, then the sum), written out: einsum's set-up costs a tenth
            # of a step at a chunk's size
            d2 = diff[0] * diff[0] if len(diff) else np.zeros(rows.shape[1])
            for row in diff[1:]:
                d2 += row * row
            now = d2 < tol2
            np.copyto(w_changed, k, where=now != w_inside)
            w_inside = now
            if k >= first_window:
                part = (k >= thirds[0]) + (k >= thirds[1])
                np.fmax(w_peak[part], d2, out=w_peak[part])
                if part == 2:  # the losses' amplitude: over the last third, as rule 2
                    losses = monitored.entries(rows, w_params)
                    for j in range(min(2, len(losses))):
                        np.fmin(w_low[j], losses[j], out=w_low[j])
                        np.fmax(w_high[j], losses[j], out=w_high[j])
        if runs is None:
            inside = w_inside
        else:
            changed_at[runs], inside[runs] = w_changed, w_inside
            peak[:, runs], low[:, runs], high[:, runs] = w_peak, w_low, w_high
        x = loop.x
        left = loop.diverged  # left the max-norm ball (or non-finite)
        left_at = np.where(left, loop.diverged_at, 0).astype(np.int64)
        distance = np.sqrt(distance2(x))
        # the largest distance of each third over that of the previous one (1 when both are 0)
        ratios = [np.where(peak[j + 1] == peak[j], 1.0, np.sqrt(peak[j + 1] / peak[j]))
                  for j in (0, 1)]
    return _classify(plan, rule, game, x_eq, fixed, left, left_at, distance, start2, inside,
                     changed_at, thirds, ratios, low, high, (g_col, d_col))


def _classify(plan: SweepPlan, rule: UpdateRule, game: FieldFunctions, x_eq: Array,
              fixed: np.ndarray[Any, np.dtype[np.bool_]], left: Any, left_at: Any,
              distance: Array, start2: Array, inside: Any, changed_at: Any, thirds: list[int],
              ratios: list[Array], low: Array, high: Array,
              columns: tuple[int | None, int | None]) -> dict[str, Any]:
    """The verdicts and measures of the module's rules from a group's statistics."""
    batch = len(distance)
    g_col, d_col = columns
    settled = inside & (changed_at < thirds[1])  # inside the ball through the last third
    growing = (ratios[0] > 1 + plan.growth) & (ratios[1] > 1 + plan.growth)
    shrinking = ((ratios[0] < 1 / (1 + plan.growth)) & (ratios[1] < 1 / (1 + plan.growth))
                 & (distance**2 < start2))
    verdict = np.select([left, settled, growing, shrinking], [2, 0, 2, 0], 1).astype(np.uint8)
    decided = np.where(left, left_at, changed_at)
    amplitude = 0.5 * (high - low)
    amplitude[:, left] = np.nan
    g_amp = amplitude[g_col] if g_col is not None else np.full(batch, np.nan)
    d_amp = amplitude[d_col] if d_col is not None else np.full(batch, np.nan)
    return {
        "verdict": verdict,
        "decided_at": decided,
        "distance": distance,
        "g_loss_amplitude": g_amp,
        "d_fake_amplitude": d_amp,
        "spectral_radius": _spectral_radius(rule, game, x_eq, fixed),
    }


def _spectral_radius(rule: UpdateRule, game: FieldFunctions, x_eq: Array,
                     fixed: np.ndarray[Any, np.dtype[np.bool_]]) -> Array:
    """The spectral radius of the rule's map at each cell's equilibrium (NaN if unknown)."""
    batch = x_eq.shape[0]
    radius = np.full(batch, np.nan)
    if not fixed.all():
        return radius
    ok = np.all(np.isfinite(x_eq), axis=-1)
    if not ok.any():
        return radius
    with np.errstate(all="ignore"):
        buffers = rule.init_buffers(x_eq)
        jac = rule.map_jacobian(game, x_eq, buffers, _LINEARIZE_AT_STEP)
    finite = ok & np.all(np.isfinite(jac), axis=(-2, -1))
    if finite.any():
        radius[finite] = _radius_of_distinct(jac[finite])
    return radius


def _radius_of_distinct(jac: Array) -> Array:
    """The spectral radius of each matrix of ``jac`` ``(B, n, n)``, once per run of equal ones.

    Neighbouring cells often share their map's Jacobian (in C order, an inner axis
    that moves the start leaves it unchanged), and an eigenvalue problem costs more
    than the rest of the linearization. Matrices are matched by their bits, so a
    cell's radius is exactly that of solving its own matrix.
    """
    batch, n = jac.shape[0], jac.shape[-1]
    bits = np.ascontiguousarray(jac).reshape(batch, n * n).view(np.uint64)
    new = np.ones(batch, dtype=bool)  # where a run of bitwise-equal matrices starts
    np.any(bits[1:] != bits[:-1], axis=1, out=new[1:])
    starts = np.flatnonzero(new)
    radius = np.max(np.abs(np.linalg.eigvals(jac[starts])), axis=-1)
    if len(starts) == batch:
        return cast(Array, radius)
    return cast(Array, radius[np.cumsum(new) - 1])
