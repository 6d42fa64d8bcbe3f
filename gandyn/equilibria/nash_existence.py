"""Whether a game with several parameters per player has a pure Nash equilibrium in a box.

:mod:`gandyn.equilibria.grid_nash` tabulates games of one parameter per
player. Here each player's strategy is a vector in a box (the Gaussian
game's generator has a mean and a scale, its discriminator three logit
coefficients), and :func:`nash_existence` answers with four pieces:

* **best responses** (:func:`best_response`): a player's own cost minimized
  over its box with the other's strategy fixed, globally in the practical
  sense: the cost on a coarse grid of the box (one batched evaluation), then
  L-BFGS-B from the best grid point and from the current strategy;
* **the pure verdict** (:func:`pure_nash_search`): the Nikaido-Isoda gap

  ``gap(x) = [f_G(x) - min_theta' f_G(theta', psi)] + [f_D(x) - min_psi' f_D(theta, psi')]``

  is zero exactly at pure Nash equilibria and positive elsewhere; for a
  zero-sum game (``f_G = V + h(psi)``, ``f_D = -V + k(theta)``) it is the
  duality gap at the point, ``max_psi' V(theta, psi') - min_theta' V(theta', psi)``.
  A pure equilibrium in the box satisfies each player's first-order
  conditions on its box, ``x = P_box(x - xi(x))`` (``xi`` the simultaneous
  gradient), so the candidates are the solutions of that equation found from
  ``n_starts`` starts (least squares), plus the iterates of the best-response
  dynamics. The verdict is ``exists`` at a candidate whose gap is within
  ``tol``, otherwise ``none-found`` with the smallest gap found and, at that
  point, each player's profitable deviation: the certificate that it is not
  an equilibrium. Every candidate is refuted the same way; a first-order
  point the starts missed is not (the search is numeric, not a proof);
* **best-response dynamics** (:func:`best_response_dynamics`): alternating
  best responses from a start; a fixed point is a pure equilibrium, a
  repeated state a cycle (the players chase each other, as when no pure
  equilibrium exists);
* **the discretized game** (:func:`discretize`): each player's box on a
  tensor grid of ``points`` per axis, a finite game of ``points ** k``
  strategies each; for zero-sum games its upper and lower values in pure
  strategies, and its mixed equilibrium by linear programming
  (:func:`gandyn.equilibria.grid_nash.mixed_equilibrium`) with the value and
  both supports; for general-sum games (a bimatrix game) a mixed equilibrium
  by Lemke-Howson (:func:`gandyn.equilibria.bimatrix.bimatrix_equilibrium`)
  with both players' expected costs and supports. Either is checked: no pure
  deviation lowers a player's expected cost by more than a tolerance.

The nonparametric critic (all 1-Lipschitz functions) is in
:mod:`gandyn.equilibria.lipschitz_critic`.

References
----------
.. [1] Nikaido and Isoda (1955). Note on non-cooperative convex games. Pacific
   J. Math. 5(5), 807-815 (the gap function whose zeros are the equilibria).
.. [2] Farnia and Ozdaglar (2020). Do GANs always have Nash equilibria? ICML
   (GAN zero-sum games whose pure Nash equilibria fail to exist).
.. [3] Glicksberg (1952). A further generalization of the Kakutani fixed point
   theorem, with application to Nash equilibrium points. Proc. AMS 3(1),
   170-174 (mixed equilibria of continuous games on compact sets).
.. [4] Facchinei and Pang (2003). Finite-Dimensional Variational Inequalities
   and Complementarity Problems. Springer, Prop. 1.4.2 and 1.5.8 (first-order
   conditions on a box as the fixed point of a projection).
.. [5] Hsieh, Liu and Cevher (2019). Finding Mixed Nash Equilibria of
   Generative Adversarial Networks. ICML.
.. [6] Lemke and Howson (1964). Equilibrium points of bimatrix games. J. SIAM
   12(2), 413-423 (the general-sum discretized game).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import least_squares, minimize

from gandyn.arrays import Array
from gandyn.derivation.field import VectorField
from gandyn.equilibria.bimatrix import (
    MAX_STRATEGIES,
    bimatrix_equilibrium,
    default_tol,
    deviation_gains,
)
from gandyn.equilibria.grid_nash import (
    SUPPORT_THRESHOLD,
    PayoffGrid,
    box_bounds,
    minimax_values,
    mixed_equilibrium,
    pure_nash,
)
from gandyn.equilibria.lipschitz_critic import CriticDynamics, CriticGame
from gandyn.errors import SpecError

__all__ = [
    "COARSE_POINTS",
    "MAX_STRATEGY_PAIRS",
    "STATES_PER_CHUNK",
    "BestResponse",
    "Deviation",
    "DiscretizedGame",
    "Dynamics",
    "GameInBox",
    "MixedOnGrid",
    "NashExistence",
    "PureValues",
    "PureVerdict",
    "best_response",
    "best_response_dynamics",
    "discretize",
    "first_order_points",
    "game_in_box",
    "nash_existence",
    "nikaido_isoda_gap",
    "pure_nash_search",
    "pure_values",
    "solve_discretized",
    "zero_sum_value",
]

#: Most strategy pairs (``n_theta_strategies * n_psi_strategies``) a discretized game may have:
#: both cost matrices and the LP's constraint matrix grow with it.
MAX_STRATEGY_PAIRS = 1_000_000
#: States evaluated in one batch while a discretized game is tabulated.
STATES_PER_CHUNK = 65_536
#: Most points of the coarse grid a best response starts from (batched in one evaluation).
COARSE_POINTS = 4096


@dataclass(frozen=True, eq=False)
class GameInBox:
    """A two-player game on a box: each player minimizes its own cost over its part of it.

    Attributes
    ----------
    theta_names, psi_names
        The players' parameters; a state is ``theta`` then ``psi``.
    costs
        ``x`` of shape ``(..., n)`` to ``(f_G, f_D)`` of shape ``(..., 2)``.
    low, high
        The box, shape ``(n,)``, ``low < high``.
    zero_sum
        Whether ``f_G + f_D`` is a function of ``theta`` plus one of ``psi``.
    gradient
        ``x`` to the simultaneous gradient ``xi = (d f_G / d theta, d f_D / d psi)``,
        shape ``(..., n)``; ``None``: central differences of ``costs``.
    name
        The game's name.
    start
        Where best-response dynamics start (default: the box's centre).
    """

    theta_names: tuple[str, ...]
    psi_names: tuple[str, ...]
    costs: Callable[[Array], Array]
    low: Array
    high: Array
    zero_sum: bool
    gradient: Callable[[Array], Array] | None = None
    name: str = ""
    start: Array | None = None

    @property
    def n_theta(self) -> int:
        """The generator's number of parameters."""
        return len(self.theta_names)

    @property
    def names(self) -> tuple[str, ...]:
        """All parameters, ``theta`` then ``psi``."""
        return self.theta_names + self.psi_names

    def block(self, player: str) -> slice:
        """The coordinates of ``player`` (``"generator"`` or ``"discriminator"``)."""
        return slice(0, self.n_theta) if player == "generator" else slice(self.n_theta, None)

    def point(self, x: Array) -> dict[str, float]:
        """``{name: value}`` of a state."""
        return {name: float(v) for name, v in zip(self.names, x, strict=True)}

    def xi(self, x: Array) -> Array:
        """The simultaneous gradient at ``x`` (shape ``(n,)``)."""
        if self.gradient is not None:
            return np.asarray(self.gradient(x), dtype=np.float64)
        n = len(x)
        step = 1e-6 * (1.0 + np.abs(x))
        shifts = np.eye(n) * step
        plus = self.costs(x + shifts)
        minus = self.costs(x - shifts)
        own = np.where(np.arange(n) < self.n_theta, 0, 1)
        result: Array = (plus[np.arange(n), own] - minus[np.arange(n), own]) / (2 * step)
        return result


def _check_box(names: tuple[str, ...], box: Mapping[str, tuple[float, float]],
               game: str) -> tuple[Array, Array]:
    unknown = sorted(set(box) - set(names))
    if unknown:
        raise SpecError(f"box names unknown parameter {unknown[0]!r} (game {game!r} has "
                        f"{', '.join(names)})")
    low, high = np.empty(len(names)), np.empty(len(names))
    for k, name in enumerate(names):
        low[k], high[k] = box_bounds(box, name, game)
    return low, high


def game_in_box(vf: VectorField, box: Mapping[str, tuple[float, float]],
                params: Mapping[str, float] | None = None) -> GameInBox:
    """The derived game ``vf`` on ``box`` (``{name: (low, high)}`` for every parameter).

    Raises
    ------
    SpecError
        For a box that misses a parameter, names an unknown one, is empty or
        leaves the allowed range.
    """
    game = vf.game
    theta = tuple(s.name for s in game.theta)
    psi = tuple(s.name for s in game.psi)
    low, high = _check_box(theta + psi, box, game.name)
    costs_fn, field_fn = vf.costs_fn, vf.field_fn
    start = np.array([game.default_start[name] for name in theta + psi])

    def costs(x: Array) -> Array:
        return np.asarray(costs_fn(x, params), dtype=np.float64)

    def gradient(x: Array) -> Array:
        # F = -xi: the flow's right-hand side is minus each player's own gradient.
        return -np.asarray(field_fn(x, params), dtype=np.float64)

    return GameInBox(theta, psi, costs, low, high, game.zero_sum, gradient, game.name,
                     np.clip(start, low, high))


# --- best responses ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BestResponse:
    """A player's best response found: its strategy and its cost there."""

    strategy: Array
    cost: float


def _grid(low: Array, high: Array, per_axis: int) -> Array:
    axes = [np.linspace(lo, hi, per_axis) for lo, hi in zip(low, high, strict=True)]
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, len(low))


def _coarse(low: Array, high: Array, limit: int) -> Array:
    """At most ``limit`` points of a box: a tensor grid (65 points on a line, 64 per axis in the
    plane, fewer beyond), or, past 12 dimensions, where even 2 per axis is too many, the centre
    and seeded uniform points."""
    k = len(low)
    per_axis = min(65, int(np.floor(limit ** (1.0 / k) + 1e-9)))
    if per_axis >= 2:
        return _grid(low, high, per_axis)
    uniform = np.random.default_rng(0).random((limit - 1, k))
    result: Array = np.vstack([(low + high) / 2, low + (high - low) * uniform])
    return result


def best_response(game: GameInBox, player: str, x: Array, polish: int = 1) -> BestResponse:
    """``player``'s best response to the other's part of ``x``, on its box.

    The player's cost on a coarse grid of its box (at most
    :data:`COARSE_POINTS` points, one batched evaluation), then L-BFGS-B with
    bounds from the ``polish`` best grid points and from ``x``'s own part;
    the lowest cost wins (global in practice for the smooth, low-dimensional
    costs here; not a guarantee). A current strategy as good as the best
    found (to ``1e-12`` relative) is kept; other ties on the grid go to the
    first point in grid order.
    """
    if player not in ("generator", "discriminator"):
        raise ValueError(f"player must be 'generator' or 'discriminator', not {player!r}")
    part = game.block(player)
    own = 0 if player == "generator" else 1
    low, high = game.low[part], game.high[part]
    grid = _coarse(low, high, COARSE_POINTS)
    states = np.repeat(np.asarray(x, dtype=np.float64)[None, :], len(grid), axis=0)
    states[:, part] = grid
    values = game.costs(states)[:, own]
    values = np.where(np.isfinite(values), values, np.inf)
    order = np.argsort(values, kind="stable")[:polish]
    starts = [grid[i] for i in order]
    own_part = np.clip(np.asarray(x, dtype=np.float64)[part], low, high)
    if all(np.any(own_part != start) for start in starts):
        starts.append(own_part)
    best = BestResponse(grid[order[0]].copy(), float(values[order[0]]))
    base = np.asarray(x, dtype=np.float64).copy()

    def cost_and_gradient(y: Array) -> tuple[float, Array]:
        state = base.copy()
        state[part] = y
        value = float(game.costs(state)[own])
        return value, game.xi(state)[part]

    for start in starts:
        result = minimize(cost_and_gradient, start, jac=True, method="L-BFGS-B",
                          bounds=list(zip(low, high, strict=True)),
                          options={"maxiter": 200, "ftol": 1e-15, "gtol": 1e-12})
        y = np.clip(np.asarray(result.x, dtype=np.float64), low, high)
        value, _ = cost_and_gradient(y)
        if np.isfinite(value) and value < best.cost:
            best = BestResponse(y, value)
    # A player already best-responding stays put: ties must not move it, or a pure
    # equilibrium where a player is indifferent would not be a fixed point of the dynamics.
    current = np.clip(base[part], low, high)
    current_cost, _ = cost_and_gradient(current)
    if np.isfinite(current_cost) and current_cost <= best.cost + 1e-12 * (1.0 + abs(best.cost)):
        return BestResponse(current, current_cost)
    return best


@dataclass(frozen=True)
class Deviation:
    """A player's best deviation from a state: where to and how much its cost falls."""

    player: str
    to: Mapping[str, float]
    gain: float

    def to_dict(self) -> dict[str, Any]:
        """JSON: ``player``, ``to`` (the player's parameters), ``gain``."""
        return {"player": self.player, "to": dict(self.to), "gain": self.gain}


def nikaido_isoda_gap(game: GameInBox, x: Array) -> tuple[float, tuple[Deviation, Deviation]]:
    """The Nikaido-Isoda gap at ``x`` and each player's best deviation.

    ``gap = gain_G + gain_D`` with ``gain_P = f_P(x) - min over P's box of
    f_P`` (the other player fixed), each at least 0.

    References
    ----------
    .. [1] Nikaido and Isoda (1955). Pacific J. Math. 5(5), 807-815.
    """
    x = np.asarray(x, dtype=np.float64)
    here = game.costs(x)
    deviations = []
    for own, player in enumerate(("generator", "discriminator")):
        response = best_response(game, player, x)
        names = game.theta_names if own == 0 else game.psi_names
        gain = max(float(here[own]) - response.cost, 0.0)
        deviations.append(Deviation(player, dict(zip(names, map(float, response.strategy),
                                                         strict=True)), gain))
    return deviations[0].gain + deviations[1].gain, (deviations[0], deviations[1])


# --- the pure verdict ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PureValues:
    """A zero-sum game's values in pure strategies on the continuous box (numeric).

    ``min_max = min_theta max_psi V`` (what the generator can guarantee) at
    ``theta`` and ``max_min = max_psi min_theta V`` (what the discriminator can)
    at ``psi``. At every state the gap is ``max_psi' V(theta, psi') - min_theta'
    V(theta', psi) >= min_max - max_min``, with equality at ``(theta, psi)``: a
    positive difference means no pure equilibrium. The inner optimizations
    are best responses, the outer ones Nelder-Mead from the discretized
    game's best rows and columns: numeric estimates, not bounds.
    """

    min_max: float
    theta: Mapping[str, float]
    max_min: float
    psi: Mapping[str, float]

    def to_dict(self) -> dict[str, Any]:
        """The ``values`` record of the JSON."""
        return {"min_max": self.min_max, "theta": dict(self.theta), "max_min": self.max_min,
                "psi": dict(self.psi)}


@dataclass(frozen=True)
class PureVerdict:
    """Whether a pure Nash equilibrium was found in the box, with the certificate.

    Attributes
    ----------
    verdict
        ``"exists"`` (a candidate's gap is within ``tol``) or
        ``"none-found"`` (every candidate has a larger gap).
    point
        The candidate with the smallest gap.
    gap
        Its Nikaido-Isoda gap.
    tol
        The tolerance of the verdict.
    deviations
        Each player's best deviation from ``point``: a gain above ``tol``
        refutes it.
    candidates
        How many distinct candidates were checked.
    values
        For a zero-sum game without a pure equilibrium found: its pure
        values (:class:`PureValues`), whose difference is the smallest gap.
    """

    verdict: str
    point: Mapping[str, float]
    gap: float
    tol: float
    deviations: tuple[Deviation, Deviation]
    candidates: int
    values: PureValues | None = None

    def to_dict(self) -> dict[str, Any]:
        """The ``pure`` record of the JSON."""
        return {"verdict": self.verdict, "point": dict(self.point), "gap": self.gap,
                "tol": self.tol, "deviations": [d.to_dict() for d in self.deviations],
                "candidates": self.candidates,
                "values": None if self.values is None else self.values.to_dict()}


def first_order_points(game: GameInBox, n_starts: int = 32, seed: int = 0) -> list[Array]:
    """Solutions of ``x = P_box(x - xi(x))`` found by least squares from random starts.

    These are the states where each player's own first-order conditions on
    its box hold (a stationary point inside, or a gradient pointing out of
    the box at its face); every pure Nash equilibrium in the box is one.

    References
    ----------
    .. [1] Facchinei and Pang (2003). Finite-Dimensional Variational
       Inequalities and Complementarity Problems. Prop. 1.5.8.
    """
    rng = np.random.default_rng(seed)
    width = game.high - game.low
    starts = np.vstack([(game.low + game.high) / 2,
                        game.low + width * rng.random((max(int(n_starts) - 1, 0), len(width)))])

    def residual(x: Array) -> Array:
        step = np.clip(x - game.xi(x), game.low, game.high)
        result: Array = (x - step) / width
        return result

    found: list[Array] = []
    for start in starts:
        result = least_squares(residual, start, bounds=(game.low, game.high), xtol=1e-12,
                               ftol=1e-12, gtol=1e-12, max_nfev=200)
        x = np.clip(np.asarray(result.x, dtype=np.float64), game.low, game.high)
        if np.all(np.isfinite(x)) and float(np.max(np.abs(residual(x)))) <= 1e-7:
            found.append(x)
    return _distinct(found, width)


def _distinct(points: list[Array], width: Array) -> list[Array]:
    kept: list[Array] = []
    for x in points:
        if all(np.max(np.abs(x - y) / width) > 1e-6 for y in kept):
            kept.append(x)
    return kept


def _cost_scale(game: GameInBox) -> float:
    sample = game.costs(_coarse(game.low, game.high, 2048))
    finite = sample[np.isfinite(sample)]
    return float(np.max(np.abs(finite))) if finite.size else 1.0


def zero_sum_value(game: GameInBox) -> Callable[[Array], Array]:
    """The payoff ``V`` of a zero-sum game, which the generator minimizes and D maximizes.

    ``V(x) = -f_D(x) + S(theta, psi_0) - S(theta_0, psi_0)`` with ``S = f_G + f_D``
    and ``(theta_0, psi_0)`` the box's low corner: the convention of
    :func:`gandyn.equilibria.grid_nash.zero_sum_payoff`, so values agree with
    the discretized game's.
    """
    d = game.block("discriminator")
    corner = game.low.copy()
    reference = float(np.sum(game.costs(corner)))

    def value(x: Array) -> Array:
        x = np.asarray(x, dtype=np.float64)
        shifted = x.copy()
        shifted[..., d] = corner[d]
        result: Array = -game.costs(x)[..., 1] + np.sum(game.costs(shifted), axis=-1) - reference
        return result

    return value


def _nelder_mead(objective: Callable[[Array], float], start: Array, low: Array, high: Array,
                 max_evaluations: int) -> tuple[Array, float]:
    """Minimize ``objective`` over a box from ``start`` (points clipped into the box)."""
    def clipped(y: Array) -> float:
        return objective(np.clip(y, low, high))

    k = len(start)
    simplex = np.vstack([start] + [np.clip(start + np.eye(k)[i] * (high - low) / 8, low, high)
                                   if start[i] + (high - low)[i] / 8 <= high[i]
                                   else start - np.eye(k)[i] * (high - low) / 8
                                   for i in range(k)])
    result = minimize(clipped, start, method="Nelder-Mead",
                      options={"initial_simplex": simplex, "maxfev": max_evaluations,
                               "xatol": 1e-9, "fatol": 1e-12})
    y = np.clip(np.asarray(result.x, dtype=np.float64), low, high)
    return y, clipped(y)


def pure_values(game: GameInBox, disc: DiscretizedGame | None = None,
                starts: int = 1) -> PureValues:
    """The zero-sum game's pure ``min max`` and ``max min`` on the box (see :class:`PureValues`).

    The discretized game (default: 5 points per axis, fewer for many
    parameters) picks the starting rows and columns.
    """
    if disc is None:
        disc = discretize(game, max(2, min(5, int(20000 ** (1 / len(game.low))))))
    value = zero_sum_value(game)
    V = -disc.grid.cost_d + (disc.grid.cost_d + disc.grid.cost_g)[:, :1] - (
        disc.grid.cost_d[0, 0] + disc.grid.cost_g[0, 0])
    g, d = game.block("generator"), game.block("discriminator")
    middle = (game.low + game.high) / 2

    def guarantee(player: str, y: Array) -> float:
        x = middle.copy()
        x[g if player == "generator" else d] = y
        other = "discriminator" if player == "generator" else "generator"
        x[game.block(other)] = best_response(game, other, x).strategy
        worth = float(value(x))
        return worth if player == "generator" else -worth

    results = []
    for player, part, order, strategies in (
            ("generator", g, np.argsort(V.max(axis=1), kind="stable"), disc.theta),
            ("discriminator", d, np.argsort(-V.min(axis=0), kind="stable"), disc.psi)):
        best: tuple[Array, float] | None = None
        objective = functools.partial(guarantee, player)
        for index in order[:starts]:
            y, worth = _nelder_mead(objective, strategies[index], game.low[part],
                                    game.high[part], 30 + 30 * len(strategies[index]))
            if best is None or worth < best[1]:
                best = (y, worth)
        assert best is not None
        results.append(best)
    (theta, min_max), (psi, minus_max_min) = results
    return PureValues(min_max, dict(zip(game.theta_names, map(float, theta), strict=True)),
                      -minus_max_min, dict(zip(game.psi_names, map(float, psi), strict=True)))


def pure_nash_search(game: GameInBox, n_starts: int = 32, seed: int = 0,
                     extra: list[Array] | None = None, tol: float | None = None,
                     disc: DiscretizedGame | None = None) -> PureVerdict:
    """Search the box for a pure Nash equilibrium; return the verdict and its certificate.

    The candidates are the first-order points (:func:`first_order_points`)
    and ``extra``. When none has a gap within ``tol``, the smallest gap is
    sought further: for a zero-sum game at the pair of the generator's
    ``min max`` strategy and the discriminator's ``max min`` strategy
    (:func:`pure_values`; the gap is smallest there), otherwise by Nelder-Mead
    on the gap from the best candidate.

    Parameters
    ----------
    game
        From :func:`game_in_box` (or built by hand).
    n_starts
        Starts of the first-order search (:func:`first_order_points`).
    seed
        Seed of the starts.
    extra
        More candidates (the iterates of best-response dynamics).
    tol
        Gap at or below which a candidate counts as an equilibrium; default
        ``1e-6 (1 + max |cost|)`` over a coarse grid of the box.
    disc
        The discretized game, if already built (it seeds :func:`pure_values`).
    """
    tol = 1e-6 * (1.0 + _cost_scale(game)) if tol is None else float(tol)
    candidates = _distinct(first_order_points(game, n_starts, seed) + list(extra or []),
                           game.high - game.low)
    if not candidates:
        candidates = [(game.low + game.high) / 2]
    best: tuple[float, Array, tuple[Deviation, Deviation]] | None = None
    for x in candidates:
        gap, deviations = nikaido_isoda_gap(game, x)
        if best is None or gap < best[0]:
            best = (gap, x, deviations)
        if gap <= tol:
            break
    assert best is not None
    values = None
    if best[0] > tol:
        if game.zero_sum and (disc is not None or 2.0 ** len(game.low) <= MAX_STRATEGY_PAIRS):
            values = pure_values(game, disc)
            x = np.array([*values.theta.values(), *values.psi.values()])
        else:
            x, _ = _nelder_mead(lambda y: nikaido_isoda_gap(game, y)[0], best[1], game.low,
                                game.high, 30 * len(game.low))
        gap, deviations = nikaido_isoda_gap(game, x)
        candidates.append(x)
        if gap < best[0]:
            best = (gap, x, deviations)
    gap, x, deviations = best
    return PureVerdict("exists" if gap <= tol else "none-found", game.point(x), gap, tol,
                       deviations, len(candidates), values)


# --- best-response dynamics ----------------------------------------------------------------------


@dataclass(frozen=True)
class Dynamics:
    """Alternating best responses from a start.

    Attributes
    ----------
    outcome
        ``"converged"`` (a fixed point: a pure equilibrium), ``"cycle"`` (a
        state repeated) or ``"no-convergence"`` within the rounds.
    states
        The start, then the state after each round (the generator answers
        first, then the discriminator answers it).
    cycle_length
        Rounds per cycle (``None`` unless ``outcome == "cycle"``).
    """

    outcome: str
    states: tuple[Array, ...]
    cycle_length: int | None
    names: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """The ``best_response_dynamics`` record of the JSON."""
        return {"outcome": self.outcome, "rounds": len(self.states) - 1,
                "cycle_length": self.cycle_length,
                "states": [{n: float(v) for n, v in zip(self.names, s, strict=True)}
                           for s in self.states]}


def best_response_dynamics(game: GameInBox, start: Array | None = None,
                           rounds: int = 20) -> Dynamics:
    """Iterate ``theta <- BR_G(psi)``, then ``psi <- BR_D(theta)``, from ``start``.

    Two states closer than ``1e-6`` of the box's width per coordinate count
    as the same: the next state equal to the current one is a fixed point,
    equal to an earlier one a cycle.
    """
    x = np.asarray(game.start if start is None and game.start is not None
                   else (game.low + game.high) / 2 if start is None else start,
                   dtype=np.float64).copy()
    width = game.high - game.low
    states = [x.copy()]
    for _ in range(int(rounds)):
        x = x.copy()
        g = game.block("generator")
        x[g] = best_response(game, "generator", x).strategy
        d = game.block("discriminator")
        x[d] = best_response(game, "discriminator", x).strategy
        same = [k for k, y in enumerate(states) if np.max(np.abs(x - y) / width) <= 1e-6]
        states.append(x)
        if same:
            if same[-1] == len(states) - 2:
                return Dynamics("converged", tuple(states), None, game.names)
            return Dynamics("cycle", tuple(states), len(states) - 1 - same[-1], game.names)
    return Dynamics("no-convergence", tuple(states), None, game.names)


# --- the discretized game ------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class DiscretizedGame:
    """Each player's box on a tensor grid: a finite game.

    Attributes
    ----------
    theta, psi
        The strategies, shapes ``(m, n_theta)`` and ``(l, n_psi)``.
    grid
        The costs as a :class:`~gandyn.equilibria.grid_nash.PayoffGrid`
        whose "values" are strategy indices ``0 .. m-1`` and ``0 .. l-1``.
    points
        Grid points per axis.
    """

    theta: Array
    psi: Array
    grid: PayoffGrid
    points: int


def discretize(game: GameInBox, points: int = 9) -> DiscretizedGame:
    """The finite game on ``points`` per axis of each player's box.

    Raises
    ------
    SpecError
        For fewer than 2 points, or more than :data:`MAX_STRATEGY_PAIRS`
        strategy pairs, or costs that are not finite on the grid.
    """
    points = int(points)
    if points < 2:
        raise SpecError(f"`nash_grid` must be at least 2 points per axis, got {points}")
    n_theta, n_psi = game.n_theta, len(game.psi_names)
    pairs = float(points) ** (n_theta + n_psi)
    if pairs > MAX_STRATEGY_PAIRS:
        raise SpecError(f"`nash_grid` {points} gives {points}**{n_theta + n_psi} = {pairs:.3g} "
                        f"strategy pairs (at most {MAX_STRATEGY_PAIRS:,}); give fewer points")
    g, d = game.block("generator"), game.block("discriminator")
    theta = _grid(game.low[g], game.high[g], points)
    psi = _grid(game.low[d], game.high[d], points)
    # In chunks of generator strategies, so that the states and the compiled costs'
    # temporaries stay near STATES_PER_CHUNK rows whatever the grid.
    costs = np.empty((len(theta), len(psi), 2))
    rows = max(1, STATES_PER_CHUNK // len(psi))
    for first in range(0, len(theta), rows):
        block = theta[first:first + rows]
        states = np.concatenate([np.repeat(block[:, None, :], len(psi), axis=1),
                                 np.repeat(psi[None, :, :], len(block), axis=0)], axis=-1)
        costs[first:first + rows] = game.costs(states)
    grid = PayoffGrid("generator strategy", "discriminator strategy",
                      np.arange(len(theta), dtype=np.float64),
                      np.arange(len(psi), dtype=np.float64),
                      np.ascontiguousarray(costs[..., 0]), np.ascontiguousarray(costs[..., 1]),
                      game.name)
    return DiscretizedGame(theta, psi, grid, points)


@dataclass(frozen=True)
class MixedOnGrid:
    """The discretized game's pure values, pure equilibria and mixed equilibrium.

    Attributes
    ----------
    points
        Grid points per axis; ``strategies`` the number of each player's.
    pure_equilibria
        How many strategy pairs are pure equilibria of the finite game.
    min_max, max_min, duality_gap
        Upper and lower values in pure strategies (zero-sum games; else ``None``).
    value
        The mixed equilibrium's value (zero-sum games; else ``None``).
    theta_support, psi_support
        ``({name: value}, probability)`` for each strategy played.
    method
        ``"linear-program"`` (zero-sum), ``"lemke-howson"`` (general-sum) or
        ``None`` (no mixed equilibrium computed; ``skipped`` says why).
    cost_g, cost_d
        Both players' expected costs at the mixed equilibrium.
    deviation_gains
        How much each player's expected cost falls by its best pure
        deviation (:func:`gandyn.equilibria.bimatrix.deviation_gains`): the
        check that the strategies are an equilibrium, within ``tol``.
    """

    points: int
    strategies: tuple[int, int]
    pure_equilibria: int
    min_max: float | None = None
    max_min: float | None = None
    duality_gap: float | None = None
    value: float | None = None
    theta_support: tuple[tuple[Mapping[str, float], float], ...] = ()
    psi_support: tuple[tuple[Mapping[str, float], float], ...] = ()
    method: str | None = None
    cost_g: float | None = None
    cost_d: float | None = None
    deviation_gains: tuple[float, float] | None = None
    tol: float | None = None
    skipped: str | None = None

    @property
    def verified(self) -> bool:
        """Whether a mixed equilibrium was found and no pure deviation gains more than ``tol``."""
        return (self.deviation_gains is not None and self.tol is not None
                and max(self.deviation_gains) <= self.tol)

    def to_dict(self) -> dict[str, Any]:
        """The ``discretized`` record of the JSON."""
        mixed = None
        if self.method is not None:
            mixed = {"method": self.method, "value": self.value, "cost_g": self.cost_g,
                     "cost_d": self.cost_d,
                     "deviation_gains": (None if self.deviation_gains is None
                                         else list(self.deviation_gains)),
                     "tol": self.tol, "verified": self.verified,
                     "theta": [[dict(s), p] for s, p in self.theta_support],
                     "psi": [[dict(s), p] for s, p in self.psi_support]}
        return {"points_per_axis": self.points, "strategies": list(self.strategies),
                "pure_equilibria": self.pure_equilibria, "min_max": self.min_max,
                "max_min": self.max_min, "duality_gap": self.duality_gap,
                "mixed": mixed, "mixed_skipped": self.skipped}


def _supports(game: GameInBox, disc: DiscretizedGame, p: Array, q: Array) -> tuple[
        tuple[tuple[Mapping[str, float], float], ...],
        tuple[tuple[Mapping[str, float], float], ...]]:
    theta_support = tuple(
        ({n: float(v) for n, v in zip(game.theta_names, disc.theta[i], strict=True)}, float(w))
        for i, w in enumerate(p) if w > SUPPORT_THRESHOLD)
    psi_support = tuple(
        ({n: float(v) for n, v in zip(game.psi_names, disc.psi[j], strict=True)}, float(w))
        for j, w in enumerate(q) if w > SUPPORT_THRESHOLD)
    return theta_support, psi_support


def solve_discretized(game: GameInBox, disc: DiscretizedGame) -> MixedOnGrid:
    """Pure equilibria of the finite game and a mixed equilibrium, checked.

    Zero-sum: the pure values and the matrix game's equilibrium by linear
    programming (:func:`gandyn.equilibria.grid_nash.mixed_equilibrium`).
    General-sum: a bimatrix equilibrium by Lemke-Howson
    (:func:`gandyn.equilibria.bimatrix.bimatrix_equilibrium`), unless the
    players have more than :data:`gandyn.equilibria.bimatrix.MAX_STRATEGIES`
    strategies together (then ``skipped`` says so). Both report each
    player's expected cost and the gain of its best pure deviation.
    """
    grid = disc.grid
    strategies = (len(disc.theta), len(disc.psi))
    pure = len(pure_nash(grid))
    if not game.zero_sum:
        if sum(strategies) > MAX_STRATEGIES:
            return MixedOnGrid(disc.points, strategies, pure, skipped=(
                f"{strategies[0]} + {strategies[1]} strategies exceed the {MAX_STRATEGIES} "
                "Lemke-Howson takes; give fewer points (--nash-grid)"))
        found = bimatrix_equilibrium(grid.cost_g, grid.cost_d)
        theta_support, psi_support = _supports(game, disc, found.p, found.q)
        return MixedOnGrid(disc.points, strategies, pure, theta_support=theta_support,
                           psi_support=psi_support, method="lemke-howson",
                           cost_g=found.cost_g, cost_d=found.cost_d,
                           deviation_gains=(found.gain_g, found.gain_d), tol=found.tol)
    values = minimax_values(grid)
    mixed = mixed_equilibrium(grid)
    theta_support, psi_support = _supports(game, disc, mixed.p, mixed.q)
    gains = deviation_gains(grid.cost_g, grid.cost_d, mixed.p, mixed.q)
    return MixedOnGrid(disc.points, strategies, pure, values.min_max, values.max_min,
                       values.duality_gap, mixed.value, theta_support, psi_support,
                       method="linear-program",
                       cost_g=float(mixed.p @ grid.cost_g @ mixed.q),
                       cost_d=float(mixed.p @ grid.cost_d @ mixed.q),
                       # HiGHS solves to about 1e-9 of the payoffs' scale: ten times the
                       # Lemke-Howson tolerance, as grid_nash checks the two LPs' agreement.
                       deviation_gains=gains, tol=10 * default_tol(grid.cost_g, grid.cost_d))


# --- everything ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NashExistence:
    """The answer of :func:`nash_existence`: pure verdict, dynamics, discretized game.

    ``critic`` is the game against the nonparametric 1-Lipschitz critic and
    its best-response dynamics, where it applies
    (:func:`gandyn.equilibria.lipschitz_critic.critic_game_of`).
    """

    game: str
    box: Mapping[str, tuple[float, float]]
    zero_sum: bool
    pure: PureVerdict
    dynamics: Dynamics
    discretized: MixedOnGrid
    critic: tuple[CriticGame, CriticDynamics] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The ``nash_existence`` record of ``gandyn analyze --nash --json``."""
        critic = None
        if self.critic is not None:
            solved, dynamics = self.critic
            critic = {**solved.to_dict(), "best_responses": {
                "thetas": list(dynamics.thetas), "distances": list(dynamics.distances),
                "cycle_length": dynamics.cycle_length}}
        return {"box": {k: list(v) for k, v in self.box.items()}, "zero_sum": self.zero_sum,
                "pure": self.pure.to_dict(),
                "best_response_dynamics": self.dynamics.to_dict(),
                "discretized": self.discretized.to_dict(),
                "nonparametric_critic": critic}


def nash_existence(game: GameInBox, n_starts: int = 32, seed: int = 0, points: int = 9,
                   rounds: int = 20, tol: float | None = None,
                   critic: tuple[CriticGame, CriticDynamics] | None = None) -> NashExistence:
    """Pure verdict with its certificate, best-response dynamics and the discretized game.

    Parameters
    ----------
    game
        From :func:`game_in_box`.
    n_starts, seed
        The first-order search of :func:`pure_nash_search`.
    points
        Grid points per axis of the discretized game (:func:`discretize`).
    rounds
        Rounds of :func:`best_response_dynamics`.
    tol
        Gap tolerance of the pure verdict.
    critic
        The game against the nonparametric critic, to carry along
        (:func:`gandyn.equilibria.lipschitz_critic.critic_game_of`).
    """
    disc = discretize(game, points)  # refuses a too large grid before any search
    dynamics = best_response_dynamics(game, rounds=rounds)
    pure = pure_nash_search(game, n_starts, seed, extra=list(dynamics.states), tol=tol,
                            disc=disc)
    box = {n: (float(lo), float(hi))
           for n, lo, hi in zip(game.names, game.low, game.high, strict=True)}
    return NashExistence(game.name, box, game.zero_sum, pure, dynamics,
                         solve_discretized(game, disc), critic)
