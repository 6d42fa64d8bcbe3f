"""Integrate the continuous gradient flow of a game: :func:`simulate_flow`.

``dx/dt = h * F(x)`` (``h`` the per-player rates, so two time scales carry
over to the flow) is integrated with :func:`scipy.integrate.solve_ivp` for a
whole batch of starts at once. Its settings and their defaults are declared in
:class:`gandyn.rules.flow.GradientFlow`.

Divergence is a result, not a crash: a run that becomes non-finite or leaves
the ball ``|x|_inf <= max_norm`` is frozen there, marked diverged with the
time at which that happened, and its data up to then are kept.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from gandyn.arrays import Array
from gandyn.dynamics.stepping import outside_ball
from gandyn.dynamics.trajectory import Trajectory
from gandyn.rules.base import FieldFunctions, StepResult, UpdateRule, identity_batch
from gandyn.rules.flow import GradientFlow

__all__ = ["FIXED_STEP_METHODS", "MAX_EVALUATIONS", "METHODS", "RungeKuttaFlow", "rk4_steps",
           "simulate_flow"]

#: The work bound: evaluations of the batched field ``F`` one integration may make. A smooth
#: flow over a few hundred time units takes a few thousand; a flow that needs more is stiff
#: (an implicit method takes far fewer steps) or asks for more than a run should do.
MAX_EVALUATIONS = 50_000


#: The :func:`scipy.integrate.solve_ivp` methods, each a solver class of :mod:`scipy.integrate`.
METHODS = ("RK45", "RK23", "DOP853", "Radau", "BDF", "LSODA")

#: Fixed-step methods gandyn integrates itself: ``rk4``, the classic four-stage Runge-Kutta
#: method (Hairer, Norsett and Wanner (1993), Solving Ordinary Differential Equations I,
#: Sec. II.1, Table 1.2, "the" Runge-Kutta method), whose steps are the same for every run
#: and every call, as a sweep of flows needs.
FIXED_STEP_METHODS = ("rk4",)


def _work_bound(t: float) -> str:
    return (f"solver stopped at t = {t:g} after {MAX_EVALUATIONS} evaluations of F (the work "
            "bound): try Radau or BDF, a looser rtol or a shorter t_end")


def _first_exit(dense: Callable[[float], Array], run: int, low: float, high: float,
                max_norm: float) -> tuple[float, float]:
    """When ``run`` leaves the ball ``max|x_i| <= max_norm``: ``(last in, first out)``.

    Bisection on the step's dense output (the run is inside at ``low`` and
    outside, or non-finite, at ``high``) until the two times are adjacent doubles.
    """
    def outside(t: float) -> bool:
        x = dense(t)[run]
        with np.errstate(invalid="ignore"):
            return not (np.all(np.isfinite(x)) and np.max(np.abs(x)) <= max_norm)

    for _ in range(200):
        middle = 0.5 * (low + high)
        if not low < middle < high:
            break
        if outside(middle):
            high = middle
        else:
            low = middle
    return low, high

#: The declared defaults of the flow's settings (one source for the library and the CLI).
_DEFAULT: dict[str, Any] = {s.name: s.default for s in GradientFlow.settings}

#: The step of ``rk4`` when none is given (declared with the flow's settings): small against
#: the time scales of the catalogue games (rates of order 1).
DEFAULT_STEP_SIZE: float = _DEFAULT["step_size"]


class RungeKuttaFlow(UpdateRule):
    """The flow advanced by one classic RK4 step per iteration, as a map (sweeps of the flow).

    With ``h`` the per-coordinate steps (``lr_g`` on theta, ``lr_d`` on psi):
    ``k1 = F(x)``, ``k2 = F(x + h k1 / 2)``, ``k3 = F(x + h k2 / 2)``,
    ``k4 = F(x + h k3)``, ``x' = x + h (k1 + 2 k2 + 2 k3 + k4) / 6``: the step
    ``simulate_flow(method="rk4")`` takes with ``step_size = lr_g`` and rates
    ``lr_d / lr_g``. Its map Jacobian follows the stages by the chain rule
    (``dk2/dx = F'(x + h k1 / 2) (I + h dk1/dx / 2)``, ...).
    """

    name = "flow"
    title = "the gradient flow by classic Runge-Kutta steps"
    reference = ("Hairer, Norsett and Wanner (1993), Solving Ordinary Differential Equations I, "
                 "Sec. II.1, Table 1.2")

    def step(self, field: FieldFunctions, x: Array, buffers: dict[str, Array],
             k: int) -> StepResult:
        h = self.rates(field, x)
        k1 = field.field(x)
        k2 = field.field(x + 0.5 * h * k1)
        k3 = field.field(x + 0.5 * h * k2)
        k4 = field.field(x + h * k3)
        return StepResult(x + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4), {}, x, x)

    def map_jacobian(self, field: FieldFunctions, x: Array, buffers: dict[str, Array],
                     k: int) -> Array:
        h = self.rates(field, x)
        rows = np.asarray(h)[..., None]  # diag(h) J scales the rows of J
        eye = identity_batch(x.shape[0], x.shape[-1])
        k1 = field.field(x)
        j1 = field.jacobian(x)
        y2 = x + 0.5 * h * k1
        k2, j2 = field.field(y2), field.jacobian(y2) @ (eye + 0.5 * rows * j1)
        y3 = x + 0.5 * h * k2
        j3 = field.jacobian(y3) @ (eye + 0.5 * rows * j2)
        y4 = x + h * field.field(y3)
        j4 = field.jacobian(y4) @ (eye + rows * j3)
        return eye + rows / 6.0 * (j1 + 2.0 * j2 + 2.0 * j3 + j4)


def rk4_steps(t_end: float, n_eval: int, step_size: float | None) -> tuple[int, float]:
    """``rk4``'s steps between two recorded times and its step: ``(per_record, h)``.

    The step is ``step_size`` (default :data:`DEFAULT_STEP_SIZE`) shortened so
    that ``per_record`` whole steps span the interval ``t_end / (n_eval - 1)``
    between recorded times, so every recorded time is a step's end.

    Raises
    ------
    ValueError
        ``step_size`` not positive, or more evaluations of the field (four a
        step) than :data:`MAX_EVALUATIONS`.
    """
    wanted = DEFAULT_STEP_SIZE if step_size is None else float(step_size)
    if not (wanted > 0 and math.isfinite(wanted)):
        raise ValueError(f"`step_size` must be positive and finite, not {wanted:g}")
    spacing = t_end / (n_eval - 1)
    # 1e-9: a step that divides the spacing up to rounding is kept as given.
    per_record = max(1, math.ceil(spacing / wanted * (1.0 - 1e-9)))
    evaluations = 4 * per_record * (n_eval - 1)
    if evaluations > MAX_EVALUATIONS:
        raise ValueError(f"rk4 with `step_size` {wanted:g} to t = {t_end:g} takes "
                         f"{evaluations} evaluations of F, over the work bound of "
                         f"{MAX_EVALUATIONS}: raise `step_size` or shorten `t_end`")
    return per_record, spacing / per_record


def _classic_rk4(rhs: Callable[[float, Array], Array], states: Callable[[Array], Array],
                 x0: Array, t_eval: Array, xs: Array, active: Any, diverged_at: Array,
                 per_record: int, max_norm: float) -> tuple[int, Array, str]:
    """Integrate with classic RK4, ``per_record`` steps between recorded times, into ``xs``.

    After each step a run outside the ball (or non-finite) is frozen at its
    state before the step and its ``diverged_at`` set to the end of that step;
    ``active`` and ``diverged_at`` are updated in place. Returns the number of
    records filled, the last states ``(B, n)`` and an empty stop message.
    """
    n = x0.shape[1]
    h = float(t_eval[1] - t_eval[0]) / per_record
    y = np.ascontiguousarray(x0.T).ravel()  # coordinate-first, as ``rhs`` takes it
    for k in range(1, len(t_eval)):
        for j in range(per_record):
            k1 = rhs(0.0, y)
            k2 = rhs(0.0, y + 0.5 * h * k1)
            k3 = rhs(0.0, y + 0.5 * h * k2)
            k4 = rhs(0.0, y + h * k3)
            y_new = y + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
            crossing = active & outside_ball(states(y_new), max_norm)
            if crossing.any():
                diverged_at[crossing] = t_eval[k - 1] + (j + 1) * h
                active &= ~crossing
            if not active.all():  # frozen runs keep their last state inside
                y_new = np.where(np.tile(active, n), y_new, y)
            y = y_new
        xs[k] = states(y)
        if not active.any():
            return k + 1, states(y), ""
    return len(t_eval), states(y), ""


def simulate_flow(
    field: Callable[[Array], Array],
    jacobian: Callable[[Array], Array] | None,
    logged: Callable[[Array], Array],
    x0: Array,
    *,
    t_end: float,
    n_eval: int = _DEFAULT["n_eval"],
    rates: Array | None = None,
    method: str = _DEFAULT["method"],
    rtol: float = _DEFAULT["rtol"],
    atol: float = _DEFAULT["atol"],
    step_size: float | None = None,
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
        Output on ``n_eval`` uniform times in ``[0, t_end]`` (``t_end`` has no
        default here: a caller that stands beside a discrete rule uses
        ``steps * lr_g``, see :meth:`gandyn.rules.flow.GradientFlow.resolve`).
    rates
        Per-coordinate time scales (default 1: the plain flow).
    method, rtol, atol
        Passed to :func:`scipy.integrate.solve_ivp`; or ``method="rk4"``:
        the classic Runge-Kutta method with fixed steps (``rtol`` and ``atol``
        unused), see :func:`rk4_steps`.
    step_size
        ``rk4``'s step (default :data:`DEFAULT_STEP_SIZE`), shortened so that
        a whole number of steps falls between two recorded times.
    max_norm
        The divergence bound.
    state_names, logged_names
        Labels of the columns.
    """
    from scipy import integrate

    x0 = np.array(x0, dtype=np.float64)
    batch, n = x0.shape
    scale = np.ones(n) if rates is None else np.asarray(rates, dtype=np.float64)
    if not (t_end > 0 and np.isfinite(t_end)) or n_eval < 2:
        raise ValueError("t_end must be positive and finite and n_eval at least 2")
    if method not in METHODS + FIXED_STEP_METHODS:
        known = ", ".join(METHODS + FIXED_STEP_METHODS)
        raise ValueError(f"method must be one of {known}, not {method!r}")
    per_record = 0
    if method in FIXED_STEP_METHODS:
        per_record, _ = rk4_steps(t_end, n_eval, step_size)

    # Runs still integrated; a run that leaves the ball is frozen at its boundary state.
    active = ~outside_ball(x0, max_norm)
    diverged_at = np.where(active, np.nan, 0.0)

    # The stacked system is held coordinate-first, ``(n, B)`` raveled: the derived field
    # works on one contiguous row per coordinate and returns a transposed view of such rows
    # (:class:`gandyn.derivation.numeric.NumericFunction`), so that neither the call nor the
    # ravel copies the batch. Rates of 1 and a batch with no frozen run skip their work.
    unit_rates = bool(np.all(scale == 1.0))
    column_scale = scale[:, None]

    # Compiled expressions write their rows straight into a fresh (n, B) array; a fresh one
    # each call, since solve_ivp keeps the returned derivative (its last stage) by reference.
    into = getattr(field, "into", None)

    def rhs(_t: float, flat: Array) -> Array:
        with np.errstate(all="ignore"):
            if into is not None:
                dx = np.empty((n, batch))
                into(flat.reshape(n, batch), dx)
            else:
                dx = np.asarray(field(flat.reshape(n, batch).T)).T  # (n, B)
            if not unit_rates:
                dx = column_scale * dx
        if not all_active:
            dx = np.where(active, dx, 0.0)
        out = dx.ravel()
        with np.errstate(all="ignore"):
            finite = np.isfinite(out.sum())
        # A run that turns non-finite must not poison the error norm of the others.
        return out if finite else np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)

    def states(flat: Array) -> Array:
        """The ``(B, n)`` states of a raveled coordinate-first system (a view)."""
        return np.asarray(flat, dtype=np.float64).reshape(n, batch).T

    t_eval = np.linspace(0.0, t_end, n_eval)
    xs = np.empty((n_eval, batch, n))
    xs[0] = x0
    all_active = bool(active.all())
    if method in FIXED_STEP_METHODS:
        filled, y, stop = _classic_rk4(rhs, states, x0, t_eval, xs, active, diverged_at,
                                       per_record, max_norm)
    else:
        filled, y, stop = 1, x0.copy(), ""  # t_eval[:filled] are recorded
    options: dict[str, Any] = {}
    if method in ("Radau", "BDF", "LSODA") and jacobian is not None:
        from scipy.sparse import coo_matrix

        # Entry (i, j) of run b's block sits at row i B + b, column j B + b of the
        # coordinate-first system.
        rows = (np.arange(n)[:, None, None] * batch + np.arange(batch)[None, None, :])
        cols = (np.arange(n)[None, :, None] * batch + np.arange(batch)[None, None, :])
        rows, cols = np.broadcast_arrays(rows, cols)

        def jac_fn(_t: float, flat: Array) -> Any:
            with np.errstate(all="ignore"):
                blocks = scale[None, :, None] * jacobian(states(flat))  # (B, n, n)
            blocks[~active] = 0.0
            blocks = np.nan_to_num(blocks, nan=0.0, posinf=0.0, neginf=0.0)
            values = np.moveaxis(blocks, 0, -1)  # (n, n, B), as rows and cols
            matrix = coo_matrix((values.ravel(), (rows.ravel(), cols.ravel())),
                                shape=(n * batch, n * batch)).tocsc()
            # LSODA takes only a dense Jacobian (a sparse one fails inside scipy).
            return matrix.toarray() if method == "LSODA" else matrix

        options["jac"] = jac_fn  # explicit methods warn if given a Jacobian

    t, evaluations = 0.0, 0
    while method not in FIXED_STEP_METHODS and t < t_end and active.any() and not stop:
        solver = getattr(integrate, method)(rhs, t, y.T.ravel(), t_end, rtol=rtol, atol=atol,
                                           **options)
        while solver.status == "running":
            solver.step()
            if solver.status == "failed":
                stop = "solver stopped: step size too small (a stiff flow: try Radau or BDF)"
                break
            t_old, t_new = float(solver.t_old), float(solver.t)
            y_new = states(solver.y)
            crossing = active & outside_ball(y_new, max_norm)
            upto = int(np.searchsorted(t_eval, t_new, side="right"))
            if upto == filled and not crossing.any():  # nothing to record in this step
                t, y = t_new, y_new
                if evaluations + int(solver.nfev) > MAX_EVALUATIONS:
                    stop = _work_bound(t)
                    break
                continue
            dense = solver.dense_output()
            frozen_state = y_new.copy()

            def dense_states(u: float, dense: Any = dense) -> Array:
                return states(dense(u))

            for i in np.flatnonzero(crossing):
                inside, diverged_at[i] = _first_exit(dense_states, int(i), t_old, t_new,
                                                     max_norm)
                frozen_state[i] = states(dense(inside))[i]
            for k in range(filled, upto):
                xs[k] = states(dense(t_eval[k]))
                late = crossing & (t_eval[k] > diverged_at)
                xs[k][late] = frozen_state[late]
            filled = max(filled, upto)
            t, y = t_new, frozen_state
            if evaluations + int(solver.nfev) > MAX_EVALUATIONS:
                stop = _work_bound(t)
                break
            if crossing.any():
                active &= ~crossing
                all_active = False
                break  # restart: the frozen runs' right-hand side is now zero
        evaluations += int(solver.nfev)
    xs[filled:] = y  # stopped early: the last state (frozen runs at their boundary)
    xs = xs.swapaxes(0, 1)
    ts = t_eval
    diverged: np.ndarray[Any, np.dtype[np.bool_]] = np.isfinite(diverged_at)
    with np.errstate(all="ignore"):
        ls = logged(xs.reshape(-1, n)).reshape(batch, len(ts), -1)
    n_div = int(diverged.sum())
    status = f"; {stop}" if stop else ""
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
                "rates": [float(r) for r in scale], "solver_success": not stop},
        measure="state",
        message=message,
    )
