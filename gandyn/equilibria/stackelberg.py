"""Differential Stackelberg equilibria: the generator leads, the discriminator follows.

In a Stackelberg game the leader (here the generator, ``theta``) chooses
first, anticipating the follower's best response ``r(theta)``, a local
minimizer of the follower's cost ``f_D(theta, .)``. Near a point where the
follower's Hessian ``f_D,pp`` is positive definite the implicit function
theorem gives ``Dr = -f_D,pp^{-1} f_D,pt``, and the leader's cost along the
response, ``g(theta) = f_G(theta, r(theta))``, has

    Dg  = f_G,t + Dr^T f_G,p
    D2g = f_G,tt + f_G,tp Dr + Dr^T f_G,pt + Dr^T f_G,pp Dr + sum_k (f_G,p)_k D2r_k.

A *differential Stackelberg equilibrium* (Fiez, Chasnov and Ratliff 2020,
Def. 4) is a point with ``f_D,p = 0``, ``Dg = 0``, ``f_D,pp`` positive
definite and ``D2g`` positive definite.

Which cost does the leader minimize? In a zero-sum game (``f_G + f_D`` a sum
of terms of one player alone) it is the game's value ``V = -f_D + k(theta)``,
as in ``min_G max_D V``: a term of ``psi`` alone (``d_real``, an R1 penalty)
does not move ``G``'s gradient, but it moves along ``r(theta)``, and ``D2g``
becomes the Schur complement ``V_tt - V_tp V_pp^{-1} V_pt``, so the test is
Jin, Netrapalli and Jordan's strict local minimax test. In a general-sum game
(the non-saturating loss) the leader's cost is ``f_G`` itself, as in Fiez et
al.'s GAN experiments, and the two tests differ. The last term of ``D2g``
needs second derivatives of the response; it vanishes where the leader's cost
is stationary in ``psi``, and elsewhere ``D2g`` is obtained by central
differences of ``Dg`` along the response, which is followed by Newton's
method on ``f_D,p = 0`` (the verdict's reason says so).

References
----------
.. [1] Fiez, Chasnov and Ratliff (2020). Implicit learning dynamics in
   Stackelberg games: equilibria characterization, convergence analysis,
   and empirical study. ICML, Def. 4 and Prop. 1.
.. [2] Jin, Netrapalli and Jordan (2020). What is local optimality in
   nonconvex-nonconcave minimax optimization? ICML, Prop. 19.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import sympy as sp

from gandyn.arrays import Array
from gandyn.derivation.field import NumericFunction, VectorField
from gandyn.equilibria.local_optimality import state_vector

__all__ = ["StackelbergVerdict", "stackelberg_type"]

#: Eigenvalues within this (relative to ``max(1, largest)``) of zero are zero,
#: as in :mod:`gandyn.equilibria.local_optimality`.
_RTOL = 1e-9
#: Step of the central differences of ``Dg`` (relative to ``max(1, |theta|)``): the
#: truncation error ``h^2`` and the rounding error ``eps / h`` are both about 1e-8.
_DIFFERENCE_STEP = 1e-4
#: Eigenvalues of a differenced ``D2g`` within this (relative) of zero are zero.
_DIFFERENCE_RTOL = 1e-6
#: Newton's method for the follower's best response: steps and residual.
_NEWTON_STEPS = 50
_NEWTON_TOL = 1e-13


@dataclass(frozen=True)
class StackelbergVerdict:
    """The differential Stackelberg test at one point.

    Attributes
    ----------
    verdict
        ``"differential-stackelberg"``, ``"not-stackelberg"`` or ``"undecided"``.
    reason
        Why, in a few words (which condition failed or could not be decided).
    leader_hessian_eigenvalues
        The eigenvalues of ``D2g`` (empty when it was not computed).
    """

    verdict: Literal["differential-stackelberg", "not-stackelberg", "undecided"]
    reason: str
    leader_hessian_eigenvalues: tuple[float, ...] = ()


@functools.lru_cache(maxsize=32)
def _leader_parts(vf: VectorField) -> NumericFunction:
    """``f_G,p``, ``f_G,tt``, ``f_G,tp``, ``f_G,pp``, ``f_D,pp``, ``f_D,pt`` as one function."""
    game = vf.game
    theta, psi = game.theta, game.psi
    g, d = game.cost_g, game.cost_d
    exprs = [
        sp.Matrix([sp.diff(g, p) for p in psi]),
        sp.Matrix([[sp.diff(g, a, b) for b in theta] for a in theta]),
        sp.Matrix([[sp.diff(g, a, b) for b in psi] for a in theta]),
        sp.Matrix([[sp.diff(g, a, b) for b in psi] for a in psi]),
        sp.Matrix([[sp.diff(d, a, b) for b in psi] for a in psi]),
        sp.Matrix([[sp.diff(d, a, b) for b in theta] for a in psi]),
    ]
    flat = [vf.substituted(e) for m in exprs for e in m]
    return NumericFunction(flat, game.state_symbols, game.param_values)


def _split(values: Array, n_t: int, n_p: int) -> list[Array]:
    shapes = [(n_p,), (n_t, n_t), (n_t, n_p), (n_p, n_p), (n_p, n_p), (n_p, n_t)]
    parts, start = [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        parts.append(values[start:start + size].reshape(shape))
        start += size
    return parts


def _min_eig(matrix: Array) -> tuple[float, float, Array]:
    eig: Array = np.asarray(np.linalg.eigvalsh(0.5 * (matrix + matrix.T)), dtype=np.float64)
    return float(eig.min()), _RTOL * max(1.0, float(np.max(np.abs(eig)))), eig


def stackelberg_type(vf: VectorField, point: Mapping[str, float], *,
                     stationary_tol: float = 1e-6) -> StackelbergVerdict:
    """Whether a point is a differential Stackelberg equilibrium with the generator leading.

    Parameters
    ----------
    vf
        The derived game; hyper-parameters at their values.
    point
        State symbol name -> value.
    stationary_tol
        The follower's gradient and the leader's total derivative must be
        below this in absolute value.

    Returns
    -------
    StackelbergVerdict

    References
    ----------
    .. [1] Fiez, Chasnov and Ratliff (2020). ICML, Def. 4.
    """
    x = state_vector(vf, point)
    n_t, n_p = len(vf.game.theta), len(vf.game.psi)
    field = np.asarray(vf.field_fn(x), dtype=np.float64)
    if not np.all(np.isfinite(field)):
        return StackelbergVerdict("undecided", "the field is not finite here")
    if np.max(np.abs(field[n_t:])) > stationary_tol:
        return StackelbergVerdict("not-stackelberg", "the discriminator is not at a stationary "
                                  "point of its cost")
    values = np.asarray(_leader_parts(vf)(x), dtype=np.float64).reshape(-1)
    g_p, g_tt, g_tp, g_pp, d_pp, d_pt = _split(values, n_t, n_p)
    if vf.game.zero_sum:
        # The leader minimizes the game's value V = -f_D + k(theta) = f_G - h(psi): a term
        # h(psi) of the discriminator alone (d_real, an R1 penalty) moves along the
        # response and belongs to the leader's problem. V's theta derivatives are f_G's.
        g_p, g_pp = field[n_t:].copy(), -d_pp
    low, tol, _ = _min_eig(d_pp)
    if low < -tol:
        return StackelbergVerdict("not-stackelberg", "the discriminator's Hessian of its own "
                                  "cost has a negative eigenvalue: no local best response")
    if low <= tol:
        return StackelbergVerdict("undecided", "the discriminator's Hessian is singular: the "
                                  "best response is not unique to second order")
    response = -np.linalg.solve(d_pp, d_pt)  # Dr, (n_p, n_t)
    grad_g = -field[:n_t]  # f_G,t
    total = grad_g + response.T @ g_p
    if np.max(np.abs(total)) > stationary_tol:
        return StackelbergVerdict("not-stackelberg", "the generator's cost along the "
                                  "discriminator's best response is not stationary")
    if np.max(np.abs(g_p)) > stationary_tol:
        # D2g has the term sum_k (f_G,p)_k D2r_k: differentiate Dg along the response instead.
        leader = _leader_hessian_along_response(vf, x, n_t, stationary_tol)
        if leader is None:
            return StackelbergVerdict("undecided", "the generator's cost moves with psi here and "
                                      "the best response could not be followed numerically")
        low, tol, eig = _min_eig(leader)
        tol = max(tol, _DIFFERENCE_RTOL * max(1.0, float(np.max(np.abs(eig)))))
        how = " (D2g by central differences along the best response)"
    else:
        leader = g_tt + g_tp @ response + response.T @ g_tp.T + response.T @ g_pp @ response
        low, tol, eig = _min_eig(leader)
        how = ""
    values_out = tuple(float(v) for v in eig)
    if low > tol:
        return StackelbergVerdict("differential-stackelberg", "both second-order conditions "
                                  "hold" + how, values_out)
    if low < -tol:
        return StackelbergVerdict("not-stackelberg", "the generator's cost along the best "
                                  "response curves down" + how, values_out)
    return StackelbergVerdict("undecided", "the generator's Hessian along the best response "
                              "is singular: the second-order test cannot decide" + how,
                              values_out)


def _best_response(vf: VectorField, theta: Array, psi: Array, n_t: int) -> Array | None:
    """The follower's local best response near ``psi``: Newton on ``grad_psi f_D = 0``."""
    parts = _leader_parts(vf)
    n_p = psi.size
    for _ in range(_NEWTON_STEPS):
        x = np.concatenate([theta, psi])
        residual = -np.asarray(vf.field_fn(x), dtype=np.float64)[n_t:]  # grad_psi f_D
        if np.max(np.abs(residual)) < _NEWTON_TOL:
            return psi
        d_pp = _split(np.asarray(parts(x), dtype=np.float64).reshape(-1), n_t, n_p)[4]
        psi = psi - np.linalg.solve(d_pp, residual)
        if not np.all(np.isfinite(psi)):
            return None
    return None


def _leader_hessian_along_response(vf: VectorField, x: Array, n_t: int,
                                   stationary_tol: float) -> Array | None:
    """``D2g`` by central differences of ``Dg = f_G,t + Dr^T f_G,p`` along ``r(theta)``."""
    parts = _leader_parts(vf)
    theta0, psi0 = x[:n_t], x[n_t:]
    n_p = psi0.size

    def total_derivative(theta: Array) -> Array | None:
        psi = _best_response(vf, theta, psi0.copy(), n_t)
        if psi is None:
            return None
        point = np.concatenate([theta, psi])
        g_p, _, _, _, d_pp, d_pt = _split(np.asarray(parts(point), dtype=np.float64)
                                          .reshape(-1), n_t, n_p)
        grad_g = -np.asarray(vf.field_fn(point), dtype=np.float64)[:n_t]
        result: Array = grad_g + (-np.linalg.solve(d_pp, d_pt)).T @ g_p
        return result

    columns = []
    for j in range(n_t):
        step = np.zeros(n_t)
        step[j] = _DIFFERENCE_STEP * max(1.0, abs(float(theta0[j])))
        ahead, behind = total_derivative(theta0 + step), total_derivative(theta0 - step)
        if ahead is None or behind is None:
            return None
        columns.append((ahead - behind) / (2 * step[j]))
    hessian = np.stack(columns, axis=1)
    symmetric: Array = 0.5 * (hessian + hessian.T)
    return symmetric
