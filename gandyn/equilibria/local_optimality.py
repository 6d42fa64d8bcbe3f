"""Tests at a stationary point: Nash type and local minimax, with the reason for each verdict.

:func:`nash_type` applies each player's optimality conditions to its *own*
cost; :func:`local_minimax` tests the local minimax conditions of a zero-sum
game. Each returns a :class:`LocalVerdict`: the verdict and the reason, so
that a test that cannot decide says ``"undecided"`` and why, never ``"no"``.

Where the costs are twice differentiable the tests are the second-order
conditions. Where ``F`` has a kink (:func:`gandyn.equilibria.nonsmooth_at`:
``|psi|``, ``sign``, ``relu``, ...), the costs are not twice differentiable
and no smooth piece's Hessian speaks for the point: each player's own cost is
evaluated at small steps on each side along its own coordinate directions
(:func:`_one_sided`), a one-sided slope and curvature per direction.
(Nash equilibria of the whole game on a grid are in
:mod:`gandyn.equilibria.grid_nash`.)

References
----------
.. [1] Ratliff, Burden and Sastry (2013). Characterization and computation of
   local Nash equilibria in continuous games. Allerton.
.. [2] Ratliff, Burden and Sastry (2016). On the characterization of local
   Nash equilibria in continuous games. IEEE TAC 61(8) (differential Nash
   equilibria: each player's own Hessian positive definite).
.. [3] Jin, Netrapalli and Jordan (2020). What is local optimality in
   nonconvex-nonconcave minimax optimization? ICML, Sec. 3 (the definition of
   a local minimax point; every local Nash equilibrium is one), Prop. 18
   (second-order necessary) and Prop. 19 (sufficient conditions).
.. [4] Mazumdar, Ratliff and Sastry (2020). On gradient-based learning in
   continuous games. SIAM J. Math. Data Sci. 2(1) (stable non-Nash points of
   the gradient flow).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from gandyn.arrays import Array
from gandyn.derivation.field import NumericFunction, VectorField
from gandyn.equilibria.smoothness import FIELD_ZERO_TOL, field_on_switch, nonsmooth_at
from gandyn.errors import SpecError

__all__ = ["MINIMAX_VERDICTS", "NASH_VERDICTS", "LocalVerdict", "local_minimax", "nash_type",
           "state_vector"]

#: Nash types: both own Hessians positive definite; a strict local Nash equilibrium
#: found by one-sided checks at a kink; some player can improve; the tests cannot decide.
NASH_VERDICTS = ("differential-nash", "local-nash", "not-nash", "undecided")
#: Local minimax verdicts of a zero-sum game.
MINIMAX_VERDICTS = ("yes", "no", "undecided")

#: Hessian eigenvalues within this (relative to ``max(1, largest)``) of zero are zero.
_HESSIAN_RTOL = 1e-9
#: One-sided steps ``h`` and ``2 h`` with ``h = _SIDE_STEP (1 + |x|_inf)``.
_SIDE_STEP = 1e-4
#: A one-sided slope below this (relative to ``1 + |cost|``) is zero.
_SLOPE_TOL = 1e-6
#: A one-sided curvature below this (relative to ``1 + |cost|``) is zero.
_CURVATURE_TOL = 1e-3


@dataclass(frozen=True)
class LocalVerdict:
    """A verdict and the reason for it.

    Attributes
    ----------
    verdict
        One of :data:`NASH_VERDICTS` (:func:`nash_type`) or
        :data:`MINIMAX_VERDICTS` (:func:`local_minimax`).
    reason
        Why, in a sentence (which condition holds or fails, or why the test
        cannot decide).
    """

    verdict: str
    reason: str


def state_vector(vf: VectorField, point: Mapping[str, float]) -> Array:
    """The point as a vector in state order; a missing coordinate is a ``SpecError``."""
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


def _sign_class(eig: Array) -> str:
    """``"positive"`` (definite), ``"negative-eigenvalue"`` or ``"singular"`` (semidefinite)."""
    tol = _HESSIAN_RTOL * max(1.0, float(np.max(np.abs(eig))))
    if float(eig.min()) < -tol:
        return "negative-eigenvalue"
    return "positive" if float(eig.min()) > tol else "singular"


def _not_stationary(vf: VectorField, point: Mapping[str, float],
                   stationary_tol: float) -> str | None:
    # on a switching surface, F with gandyn's conventions (sign(0) = 0)
    residual = float(np.max(np.abs(field_on_switch(vf, point))))
    if residual <= stationary_tol:
        return None
    return f"not stationary (max|F| = {residual:.3g}): the first-order condition fails"


@dataclass(frozen=True)
class _Ray:
    """A player's own cost along one direction from the point, one-sided."""

    direction: str
    slope: float
    curvature: float
    change: str  # "rises", "falls" or "flat"


def _one_sided(vf: VectorField, x: Array, player: int) -> list[_Ray]:
    """One player's own cost at small steps on each side along its coordinate directions.

    Along a direction ``d`` the cost changes by ``delta(h) = a h + b h^2 / 2
    + O(h^3)`` on one smooth piece (a kink through ``x`` leaves each ray in one
    piece for small ``h``); ``a = (4 delta(h) - delta(2h)) / (2h)`` and ``b =
    (delta(2h) - 2 delta(h)) / h^2`` with ``h = 1e-4 (1 + |x|)``. The cost
    rises when ``a > 0``, or ``a = 0`` and ``b > 0``; falls when ``a < 0``, or
    ``a = 0`` and ``b < 0``; else the ray is flat to second order.
    """
    n_theta = len(vf.game.theta)
    own = range(n_theta) if player == 0 else range(n_theta, x.size)
    names = [s.name for s in vf.game.state_symbols]
    h = _SIDE_STEP * (1.0 + float(np.max(np.abs(x))))

    def cost(y: Array) -> float:
        return float(vf.costs_fn(y)[player])

    base = cost(x)
    scale = 1.0 + abs(base)
    rays = []
    for i in own:
        for sign in (1.0, -1.0):
            d = np.zeros_like(x)
            d[i] = sign
            d1, d2 = cost(x + h * d) - base, cost(x + 2 * h * d) - base
            slope = (4 * d1 - d2) / (2 * h)
            curvature = (d2 - 2 * d1) / h**2
            if abs(slope) > _SLOPE_TOL * scale:
                change = "rises" if slope > 0 else "falls"
            elif abs(curvature) > _CURVATURE_TOL * scale:
                change = "rises" if curvature > 0 else "falls"
            else:
                change = "flat"
            rays.append(_Ray(("+" if sign > 0 else "-") + names[i], slope, curvature, change))
    return rays


def _player_one_sided(vf: VectorField, x: Array, player: int) -> tuple[str, str]:
    """``("min" | "descent" | "undecided", reason)`` for one player at a kink."""
    cost = "cost_g" if player == 0 else "cost_d"
    rays = _one_sided(vf, x, player)
    falling = [r for r in rays if r.change == "falls"]
    if falling:
        r = falling[0]
        detail = (f"slope {r.slope:.3g}" if abs(r.slope) > _SLOPE_TOL * (1.0 + abs(r.slope))
                  else f"slope 0 and curvature {r.curvature:.3g}")
        return "descent", f"{cost} decreases along {r.direction}, one-sided {detail}"
    if all(r.change == "rises" for r in rays):
        if len(rays) == 2:  # one parameter: both sides checked, a strict local minimum
            return "min", f"{cost} rises on both sides"
        return "undecided", (f"{cost} rises along every coordinate direction, which does not "
                             "prove a minimum with several parameters")
    flat = next(r for r in rays if r.change == "flat")
    return "undecided", f"{cost} is flat to second order along {flat.direction}"


def _kink_reason(kinks: list[str]) -> str:
    return (f"one-sided checks, the costs not being twice differentiable where "
            f"{', '.join(kinks)} switches")


def nash_type(
    vf: VectorField, point: Mapping[str, float], *, stationary_tol: float = FIELD_ZERO_TOL
) -> LocalVerdict:
    """Nash test with each player's *own* cost, with the reason for its verdict.

    Where the costs are twice differentiable, a stationary point is a
    differential (strict local) Nash equilibrium when ``d^2 cost_g / d
    theta^2`` and ``d^2 cost_d / d psi^2`` are both positive definite
    (Ratliff, Burden and Sastry 2016, Def. 3 and Thm. 2); it is not a local
    Nash equilibrium when either has a negative eigenvalue (the second-order
    necessary condition fails, ibid. Prop. 1). Positive semidefinite Hessians
    with a zero eigenvalue leave the second-order test inconclusive:
    ``"undecided"``. Eigenvalues within ``1e-9 max(1, |lambda|)`` of zero count
    as zero.

    Where ``F`` has a kink (:func:`gandyn.equilibria.nonsmooth_at`) the
    Hessians are those of one smooth piece and are not used: each player's own
    cost is checked one-sidedly along ``+-`` each of its coordinates
    (:func:`_one_sided`). A direction along which it decreases makes
    ``"not-nash"``; a cost rising on both sides for both players (one
    parameter each) is a strict local minimum for each, ``"local-nash"``;
    anything else is ``"undecided"``.

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
    LocalVerdict
        ``verdict`` in :data:`NASH_VERDICTS` and its reason.

    References
    ----------
    .. [1] Ratliff, Burden and Sastry (2013). Characterization and computation
       of local Nash equilibria in continuous games. Allerton.
    .. [2] Ratliff, Burden and Sastry (2016). On the characterization of local
       Nash equilibria in continuous games. IEEE TAC 61(8).
    """
    x = state_vector(vf, point)
    failed = _not_stationary(vf, point, stationary_tol)
    if failed:
        return LocalVerdict("not-nash", failed)
    kinks = nonsmooth_at(vf, point)
    if kinks:
        return _nash_at_kink(vf, x, kinks)
    hess_g, hess_d = _hessians(vf)
    classes = {"cost_g in theta": _sign_class(_eigvalsh(hess_g(x))),
               "cost_d in psi": _sign_class(_eigvalsh(hess_d(x)))}
    negative = [k for k, c in classes.items() if c == "negative-eigenvalue"]
    if negative:
        return LocalVerdict("not-nash", f"the Hessian of {negative[0]} has a negative "
                            "eigenvalue: that player can improve, the second-order necessary "
                            "condition fails")
    singular = [k for k, c in classes.items() if c == "singular"]
    if singular:
        return LocalVerdict("undecided", f"the Hessian of {' and of '.join(singular)} is "
                            "singular: the second-order test is inconclusive")
    return LocalVerdict("differential-nash", "both players' own Hessians are positive definite")


def _nash_at_kink(vf: VectorField, x: Array, kinks: list[str]) -> LocalVerdict:
    results = [_player_one_sided(vf, x, p) for p in (0, 1)]
    prefix = _kink_reason(kinks)
    for outcome, why in results:
        if outcome == "descent":
            return LocalVerdict("not-nash", f"{prefix}: {why}")
    if all(outcome == "min" for outcome, _ in results):
        return LocalVerdict("local-nash", f"{prefix}: {results[0][1]}, {results[1][1]}")
    why = next(w for outcome, w in results if outcome == "undecided")
    return LocalVerdict("undecided", f"{prefix}: {why}")


def local_minimax(
    vf: VectorField, point: Mapping[str, float], *, stationary_tol: float = FIELD_ZERO_TOL
) -> LocalVerdict | None:
    """Whether a stationary point of a zero-sum game is a local minimax point, and why.

    ``vf.game.zero_sum`` means ``cost_g + cost_d = h(psi) + k(theta)``, so the
    game is strategically the zero-sum game with value
    ``V = cost_g - h(psi) = -cost_d + k(theta)`` that G minimizes and D
    maximizes. Its second derivatives are read off each player's own cost:
    ``V_tt = d^2 cost_g/d theta^2``, ``V_tp = d^2 cost_g/d theta d psi``
    (minus the theta rows, psi columns of ``dF/dx``) and
    ``V_pp = -d^2 cost_d/d psi^2``. Jin, Netrapalli and Jordan (2020):

    * ``"yes"``: ``V_pp`` negative definite (D's own Hessian positive
      definite) and the Schur complement ``V_tt - V_tp V_pp^{-1} V_pt``
      positive definite: a strict local minimax point (Prop. 19);
    * ``"no"``: ``V_pp`` has a positive eigenvalue, or ``V_pp`` is negative
      definite and the Schur complement has a negative eigenvalue (the
      necessary conditions of Prop. 18 fail);
    * ``"undecided"``: ``V_pp`` singular, or the Schur complement positive
      semidefinite and singular: the second-order test is inconclusive
      (``f = x y`` at 0 is a local minimax point, ``f = x^3`` at 0 is not;
      both have zero Hessians).

    Where ``F`` has a kink the costs are not twice differentiable and the
    tests are one-sided (:func:`_one_sided`): D's cost decreasing along some
    direction means ``psi`` is not a local maximizer of ``V(theta*, .)``
    (the definition, Sec. 3, fails): ``"no"``; both players' costs rising on
    both sides make a strict local Nash equilibrium, which is local minimax
    (Sec. 3): ``"yes"``; anything else is ``"undecided"``.

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
        A point with ``max|F| > stationary_tol`` is not stationary: ``"no"``.

    Returns
    -------
    LocalVerdict or None
        ``None`` for a game that is not zero-sum; else ``verdict`` in
        :data:`MINIMAX_VERDICTS` and its reason.

    References
    ----------
    .. [3] Jin, Netrapalli and Jordan (2020). What is local optimality in
       nonconvex-nonconcave minimax optimization? ICML, Sec. 3, Prop. 18 and 19.
    """
    if not vf.game.zero_sum:
        return None
    x = state_vector(vf, point)
    failed = _not_stationary(vf, point, stationary_tol)
    if failed:
        return LocalVerdict("no", failed)
    kinks = nonsmooth_at(vf, point)
    if kinks:
        return _minimax_at_kink(vf, x, kinks)
    n_theta = len(vf.game.theta)
    hess_g, hess_d = _hessians(vf)
    v_tt = hess_g(x)
    d_pp = hess_d(x)  # = -V_pp
    v_tp = -vf.jacobian_fn(x)[:n_theta, n_theta:]
    d_class = _sign_class(_eigvalsh(d_pp))
    if d_class == "negative-eigenvalue":
        return LocalVerdict("no", "the Hessian of cost_d in psi has a negative eigenvalue "
                            "(V_pp a positive one): psi does not maximize V locally, "
                            "Prop. 18 fails")
    if d_class == "singular":
        return LocalVerdict("undecided", "the Hessian of cost_d in psi (-V_pp) is singular: "
                            "the second-order test is inconclusive")
    schur = v_tt + v_tp @ np.linalg.solve(d_pp, v_tp.T)
    s_class = _sign_class(_eigvalsh(schur))
    if s_class == "negative-eigenvalue":
        return LocalVerdict("no", "the Schur complement V_tt - V_tp V_pp^-1 V_pt has a negative "
                            "eigenvalue: Prop. 18 fails")
    if s_class == "singular":
        return LocalVerdict("undecided", "the Schur complement V_tt - V_tp V_pp^-1 V_pt is "
                            "singular: the second-order test is inconclusive")
    return LocalVerdict("yes", "V_pp is negative definite and the Schur complement "
                        "V_tt - V_tp V_pp^-1 V_pt positive definite: a strict local minimax "
                        "point by Prop. 19")


def _minimax_at_kink(vf: VectorField, x: Array, kinks: list[str]) -> LocalVerdict:
    prefix = _kink_reason(kinks)
    d_outcome, d_why = _player_one_sided(vf, x, 1)
    if d_outcome == "descent":
        return LocalVerdict("no", f"{prefix}: {d_why}, so psi does not maximize V(theta*, .) "
                            "locally: the definition of a local minimax point fails")
    g_outcome, g_why = _player_one_sided(vf, x, 0)
    if d_outcome == "min" and g_outcome == "min":
        return LocalVerdict("yes", f"{prefix}: {g_why}, {d_why}: a strict local Nash "
                            "equilibrium, hence local minimax")
    if d_outcome == "undecided":
        return LocalVerdict("undecided", f"{prefix}: {d_why}")
    if g_outcome == "descent":
        g_why += ", which a local minimax point allows when psi responds"
    return LocalVerdict("undecided", f"{prefix}: {g_why}")
