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

from collections.abc import Callable
from typing import Any

import numpy as np

from gandyn.arrays import Array
from gandyn.dynamics.stepping import outside_ball
from gandyn.dynamics.trajectory import Trajectory
from gandyn.rules.flow import GradientFlow

__all__ = ["MAX_EVALUATIONS", "METHODS", "simulate_flow"]

#: The work bound: evaluations of the batched field ``F`` one integration may make. A smooth
#: flow over a few hundred time units takes a few thousand; a flow that needs more is stiff
#: (an implicit method takes far fewer steps) or asks for more than a run should do.
MAX_EVALUATIONS = 50_000


#: The :func:`scipy.integrate.solve_ivp` methods, each a solver class of :mod:`scipy.integrate`.
METHODS = ("RK45", "RK23", "DOP853", "Radau", "BDF", "LSODA")


def _work_bound(t: float) -> str:
    return (f"solver stopped at t = {t:g} after {MAX_EVALUATIONS} evaluations of F (the work "
            "bound): try Radau or BDF, a looser rtol or a shorter t_end")


def _first_exit(dense: Any, run: int, n: int, low: float, high: float,
                max_norm: float) -> tuple[float, float]:
    """When ``run`` leaves the ball ``max|x_i| <= max_norm``: ``(last in, first out)``.

    Bisection on the step's dense output (the run is inside at ``low`` and
    outside, or non-finite, at ``high``) until the two times are adjacent doubles.
    """
    def outside(t: float) -> bool:
        x = np.asarray(dense(t)).reshape(-1, n)[run]
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
        Passed to :func:`scipy.integrate.solve_ivp`.
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
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")

    # Runs still integrated; a run that leaves the ball is frozen at its boundary state.
    active = ~outside_ball(x0, max_norm)
    diverged_at = np.where(active, np.nan, 0.0)

    def rhs(_t: float, flat: Array) -> Array:
        x = flat.reshape(batch, n)
        with np.errstate(all="ignore"):
            dx = scale * field(x)
        dx[~active] = 0.0
        return np.nan_to_num(dx, nan=0.0, posinf=0.0, neginf=0.0).ravel()

    options: dict[str, Any] = {}
    if method in ("Radau", "BDF", "LSODA") and jacobian is not None:
        from scipy.sparse import block_diag

        def jac_fn(_t: float, flat: Array) -> Any:
            x = flat.reshape(batch, n)
            with np.errstate(all="ignore"):
                blocks = scale[None, :, None] * jacobian(x)
            blocks[~active] = 0.0
            blocks = np.nan_to_num(blocks, nan=0.0, posinf=0.0, neginf=0.0)
            matrix = block_diag(list(blocks), format="csc")
            # LSODA takes only a dense Jacobian (a sparse one fails inside scipy).
            return matrix.toarray() if method == "LSODA" else matrix

        options["jac"] = jac_fn  # explicit methods warn if given a Jacobian

    t_eval = np.linspace(0.0, t_end, n_eval)
    xs = np.empty((n_eval, batch, n))
    xs[0] = x0
    filled = 1  # t_eval[:filled] are recorded
    y, t, evaluations, stop = x0.copy(), 0.0, 0, ""
    while t < t_end and active.any() and not stop:
        solver = getattr(integrate, method)(rhs, t, y.ravel(), t_end, rtol=rtol, atol=atol,
                                           **options)
        while solver.status == "running":
            solver.step()
            if solver.status == "failed":
                stop = "solver stopped: step size too small (a stiff flow: try Radau or BDF)"
                break
            t_old, t_new = float(solver.t_old), float(solver.t)
            y_new = np.asarray(solver.y, dtype=np.float64).reshape(batch, n)
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
            for i in np.flatnonzero(crossing):
                inside, diverged_at[i] = _first_exit(dense, int(i), n, t_old, t_new, max_norm)
                frozen_state[i] = np.asarray(dense(inside)).reshape(batch, n)[i]
            for k in range(filled, upto):
                xs[k] = np.asarray(dense(t_eval[k])).reshape(batch, n)
                late = crossing & (t_eval[k] > diverged_at)
                xs[k][late] = frozen_state[late]
            filled = max(filled, upto)
            t, y = t_new, frozen_state
            if evaluations + int(solver.nfev) > MAX_EVALUATIONS:
                stop = _work_bound(t)
                break
            if crossing.any():
                active &= ~crossing
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
