"""Second-order tests at a stationary point: Nash type and strict local minimax.

:func:`nash_type` applies each player's second-order condition to its *own*
cost; :func:`local_minimax` tests the strict local minimax conditions of a
zero-sum game. (Nash equilibria of the whole game on a grid are in
:mod:`gandyn.equilibria.grid_nash`.)

References
----------
.. [1] Ratliff, Burden and Sastry (2013). Characterization and computation of
   local Nash equilibria in continuous games. Allerton.
.. [2] Ratliff, Burden and Sastry (2016). On the characterization of local
   Nash equilibria in continuous games. IEEE TAC 61(8) (differential Nash
   equilibria: each player's own Hessian positive definite).
.. [3] Jin, Netrapalli and Jordan (2020). What is local optimality in
   nonconvex-nonconcave minimax optimization? ICML, Prop. 18 and 19
   (second-order conditions for strict local minimax points).
.. [4] Mazumdar, Ratliff and Sastry (2020). On gradient-based learning in
   continuous games. SIAM J. Math. Data Sci. 2(1) (stable non-Nash points of
   the gradient flow).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Literal

import numpy as np

from gandyn.arrays import Array
from gandyn.derivation.field import NumericFunction, VectorField
from gandyn.errors import SpecError

__all__ = ["local_minimax", "nash_type"]


#: Hessian eigenvalues within this (relative to ``max(1, largest)``) of zero are zero.
_HESSIAN_RTOL = 1e-9


def _state_vector(vf: VectorField, point: Mapping[str, float]) -> Array:
    names = [s.name for s in vf.game.state_symbols]
    missing = [n for n in names if n not in point]
    if missing:
        raise SpecError(f"point misses state symbol(s) {', '.join(missing)} (needs {names})")
    return np.array([float(point[n]) for n in names])


@functools.lru_cache(maxsize=32)
def _hessians(vf: VectorField) -> tuple[NumericFunction, NumericFunction]:
    state, params = vf.game.state_symbols, vf.game.param_values
    return (NumericFunction(vf.hessian_g, state, params),
            NumericFunction(vf.hessian_d, state, params))


def _eigvalsh(matrix: Array) -> Array:
    sym = 0.5 * (matrix + matrix.T)
    values: Array = np.asarray(np.linalg.eigvalsh(sym), dtype=np.float64)
    return values


def nash_type(
    vf: VectorField, point: Mapping[str, float], *, stationary_tol: float = 1e-6
) -> Literal["differential-nash", "degenerate", "not-nash"]:
    """Second-order Nash test with each player's Hessian of its *own* cost.

    A stationary point is a differential (strict local) Nash equilibrium when
    ``d^2 cost_g / d theta^2`` and ``d^2 cost_d / d psi^2`` are both positive
    definite (Ratliff, Burden and Sastry 2016, Def. 3 and Thm. 2); it is
    not a local Nash equilibrium when either has a negative eigenvalue (the
    second-order necessary condition fails, ibid. Prop. 1). Positive
    semidefinite Hessians with a zero eigenvalue leave the second-order test
    inconclusive: ``"degenerate"``. Eigenvalues within ``1e-9 max(1, |lambda|)``
    of zero count as zero.

    Parameters
    ----------
    vf
        The derived game; hyper-parameters at their values.
    point
        State symbol name -> value.
    stationary_tol
        A point with ``max|F| > stationary_tol`` is not stationary, hence
        ``"not-nash"`` (the first-order condition fails).

    Returns
    -------
    str
        ``"differential-nash"``, ``"degenerate"`` or ``"not-nash"``.

    References
    ----------
    .. [1] Ratliff, Burden and Sastry (2013). Characterization and computation
       of local Nash equilibria in continuous games. Allerton.
    .. [2] Ratliff, Burden and Sastry (2016). On the characterization of local
       Nash equilibria in continuous games. IEEE TAC 61(8).
    """
    x = _state_vector(vf, point)
    if not np.max(np.abs(vf.field_fn(x))) <= stationary_tol:
        return "not-nash"
    hess_g, hess_d = _hessians(vf)
    eig = [_eigvalsh(hess_g(x)), _eigvalsh(hess_d(x))]
    scale = max(1.0, *(float(np.max(np.abs(e))) for e in eig))
    tol = _HESSIAN_RTOL * scale
    if any(float(e.min()) < -tol for e in eig):
        return "not-nash"
    if all(float(e.min()) > tol for e in eig):
        return "differential-nash"
    return "degenerate"


def local_minimax(
    vf: VectorField, point: Mapping[str, float], *, stationary_tol: float = 1e-6
) -> bool | None:
    """Whether a stationary point of a zero-sum game is a strict local minimax point.

    ``vf.game.zero_sum`` means ``cost_g + cost_d = h(psi) + k(theta)``, so the
    game is strategically the zero-sum game with value
    ``V = cost_g - h(psi) = -cost_d + k(theta)`` that G minimizes and D
    maximizes. Its second derivatives are read off each player's own cost:
    ``V_tt = d^2 cost_g/d theta^2``, ``V_tp = d^2 cost_g/d theta d psi``
    (minus the theta rows, psi columns of ``dF/dx``) and
    ``V_pp = -d^2 cost_d/d psi^2``. The strict local minimax sufficient
    conditions (Jin, Netrapalli and Jordan 2020, Prop. 19) are
    ``V_pp`` negative definite, i.e. D's own Hessian positive definite, and
    the Schur complement ``V_tt - V_tp V_pp^{-1} V_pt`` positive definite.

    ``V_pp`` is taken from D's cost, not from ``cost_g``: a term of ``psi``
    alone (``d_real``, an R1 penalty) changes D's problem but not ``cost_g``,
    and ``d^2 cost_g / d psi^2`` would ignore it.

    Parameters
    ----------
    vf
        The derived game; hyper-parameters at their values.
    point
        State symbol name -> value.
    stationary_tol
        A point with ``max|F| > stationary_tol`` is not stationary: ``False``.

    Returns
    -------
    bool or None
        ``None`` for a game that is not zero-sum; ``True`` when the strict
        conditions hold; ``False`` otherwise (which includes degenerate
        points where the second-order test cannot decide, Prop. 18).

    References
    ----------
    .. [3] Jin, Netrapalli and Jordan (2020). What is local optimality in
       nonconvex-nonconcave minimax optimization? ICML, Prop. 18 and 19.
    """
    if not vf.game.zero_sum:
        return None
    x = _state_vector(vf, point)
    if not np.max(np.abs(vf.field_fn(x))) <= stationary_tol:
        return False
    n_theta = len(vf.game.theta)
    hess_g, hess_d = _hessians(vf)
    v_tt = hess_g(x)
    d_pp = hess_d(x)  # = -V_pp
    v_tp = -vf.jacobian_fn(x)[:n_theta, n_theta:]
    eig_d = _eigvalsh(d_pp)
    if not float(eig_d.min()) > _HESSIAN_RTOL * max(1.0, float(np.max(np.abs(eig_d)))):
        return False
    schur = v_tt + v_tp @ np.linalg.solve(d_pp, v_tp.T)
    eig_s = _eigvalsh(schur)
    return bool(float(eig_s.min()) > _HESSIAN_RTOL * max(1.0, float(np.max(np.abs(eig_s)))))
