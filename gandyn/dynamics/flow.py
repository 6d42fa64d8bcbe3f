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

__all__ = ["simulate_flow"]

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
    from scipy.integrate import solve_ivp

    x0 = np.array(x0, dtype=np.float64)
    batch, n = x0.shape
    scale = np.ones(n) if rates is None else np.asarray(rates, dtype=np.float64)
    if not (t_end > 0 and np.isfinite(t_end)) or n_eval < 2:
        raise ValueError("t_end must be positive and finite and n_eval at least 2")

    def frozen(x: Array) -> np.ndarray[Any, np.dtype[np.bool_]]:
        return outside_ball(x, max_norm)

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
    bad = outside_ball(xs, max_norm)
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
