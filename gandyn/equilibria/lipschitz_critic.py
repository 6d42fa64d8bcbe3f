"""A nonparametric 1-Lipschitz critic by linear programming, and the two-point game against it.

The Wasserstein GAN's discriminator ("critic") ranges over *all* 1-Lipschitz
functions. Between two finitely supported distributions ``P = sum_i p_i
delta_{x_i}`` (the data) and ``Q = sum_j q_j delta_{y_j}`` (the generator),
the critic's problem

``max_f E_P f - E_Q f`` over 1-Lipschitz ``f``

only sees ``f`` on the union of the supports, ``z_1 .. z_m``, so it is the
linear program ``max sum_k (p_k - q_k) f_k`` subject to ``f_k - f_l <=
|z_k - z_l|``: every 1-Lipschitz function on the support points extends to
the whole space with the same constant (McShane 1934), so nothing is lost.
Its value is the Wasserstein-1 distance ``W1(P, Q)`` by the
Kantorovich-Rubinstein duality (Villani 2009, Thm. 5.10 and Rem. 6.5);
:func:`optimal_critic` solves it with HiGHS. On the line only neighbouring
support points need a constraint (``|f_k - f_l|`` is at most the sum of the
neighbouring steps), elsewhere every pair gets one.

The *two-point game* (data at ``-a`` and ``+a`` with probability 1/2 each,
the catalogue's ``two-point``) against this critic is the Wasserstein GAN
with a nonparametric discriminator. A generator of ``k`` equally weighted
points ``theta_1 .. theta_k`` pays ``V(theta, f) = E_data f - (1/k) sum_i
f(theta_i)``, which the critic maximizes:

* the critic's best response to ``theta`` is the LP above, value
  ``W1(data, P_theta)``; for one point, ``W1 = (|theta - a| + |theta + a|) / 2
  = max(|theta|, a)``;
* the generator's best response to a critic ``f`` puts each of its points
  where ``f`` is largest (:func:`generator_best_response`);
* for every pure pair ``(theta, f)`` the Nikaido-Isoda gap is
  ``W1(data, P_theta) - E_data f + max f >= W1(data, P_theta)``, because
  ``max f >= E_data f`` when the data's points lie in the generator's box;
  hence ``min_theta W1(data, P_theta)`` is a lower bound of the gap
  everywhere, and a pure Nash equilibrium exists only when the generator can
  reproduce the data (``k >= 2`` points can, at ``{-a, +a}``; one point
  cannot: the gap is at least ``a``);
* the generator's *mixed* strategy ``1/2 delta_{-a} + 1/2 delta_{+a}``
  reproduces the data, so the mixed game's value is 0 while the pure
  ``min max`` is ``a`` (:func:`two_point_critic_game`).

This is the situation Farnia and Ozdaglar (2020) describe for Wasserstein
GANs: the zero-sum game has no (pure) Nash equilibrium, while the
generator that minimizes the Wasserstein distance, with its optimal
critic, is still the solution the sequential (generator first) game asks
for. The two-point instance and its bounds here are derived in this module,
not copied from the paper.

References
----------
.. [1] Arjovsky, Chintala and Bottou (2017). Wasserstein Generative Adversarial
   Networks. ICML, Sec. 3 (the critic over 1-Lipschitz functions, Eq. 3).
.. [2] Villani (2009). Optimal Transport, Old and New. Springer, Thm. 5.10 and
   Rem. 6.5 (Kantorovich-Rubinstein duality).
.. [3] McShane (1934). Extension of range of functions. Bull. AMS 40(12),
   837-842 (Lipschitz extension with the same constant).
.. [4] Farnia and Ozdaglar (2020). Do GANs always have Nash equilibria? ICML
   (GAN zero-sum games without Nash equilibria; the Wasserstein GAN's optimal
   generator as a proximal equilibrium).
.. [5] Arora et al. (2017). Generalization and Equilibrium in Generative
   Adversarial Nets (GANs). ICML, Sec. 4 (mixed strategies of a generator that
   cannot represent the data).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations_with_replacement
from typing import Any

import numpy as np
import sympy as sp
from scipy.optimize import linprog

from gandyn.arrays import Array
from gandyn.errors import SpecError
from gandyn.games.game import Game
from gandyn.symbolic.expectations import PointMasses

__all__ = [
    "MAX_SUPPORT_POINTS",
    "CriticDynamics",
    "CriticGame",
    "LipschitzCritic",
    "critic_dynamics",
    "critic_game",
    "critic_game_of",
    "generator_best_response",
    "optimal_critic",
    "two_point_critic_game",
]

#: Most distinct support points :func:`optimal_critic` takes (every pair is a
#: constraint off the line: the program grows with the square).
MAX_SUPPORT_POINTS = 2000


@dataclass(frozen=True, eq=False)
class LipschitzCritic:
    """An optimal 1-Lipschitz critic on the union of two finite supports.

    Attributes
    ----------
    support
        The distinct support points, shape ``(m, d)`` (sorted when ``d = 1``).
    values
        The critic ``f`` at them, shape ``(m,)``; ``f`` is defined up to a
        constant, fixed by ``values[0] = 0``.
    value
        ``E_P f - E_Q f`` at the optimum: ``W1(P, Q)``.
    """

    support: Array
    values: Array
    value: float

    def __call__(self, x: Array) -> Array:
        """The smallest 1-Lipschitz extension ``max_k (f_k - |x - z_k|)`` at ``x``.

        ``x`` has shape ``(..., d)`` (or ``(...,)`` on the line). The optimal
        critic off the support is not unique; this extension is the one whose
        maximum lies on the support, so a generator chasing it lands on a
        support point.
        """
        points = np.asarray(x, dtype=np.float64)
        if self.support.shape[1] == 1 and (points.ndim == 0 or points.shape[-1] != 1):
            points = points[..., None]
        distance = np.linalg.norm(points[..., None, :] - self.support, axis=-1)
        result: Array = np.max(self.values - distance, axis=-1)
        return result


def _as_points(points: Sequence[float] | Array, what: str) -> Array:
    array = np.asarray(points, dtype=np.float64)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or array.shape[0] == 0:
        raise SpecError(f"`{what}` must be a non-empty list of points")
    if not np.all(np.isfinite(array)):
        raise SpecError(f"`{what}` must be finite")
    return array


def _as_weights(weights: Sequence[float] | Array | None, count: int, what: str) -> Array:
    if weights is None:
        return np.full(count, 1.0 / count)
    array = np.asarray(weights, dtype=np.float64).reshape(-1)
    if array.shape != (count,):
        raise SpecError(f"`{what}` must have one weight per point ({count}), got {array.size}")
    if not np.all(np.isfinite(array)) or np.any(array < 0) or abs(array.sum() - 1.0) > 1e-9:
        raise SpecError(f"`{what}` must be non-negative and sum to 1, got sum {array.sum():.12g}")
    return array


def optimal_critic(real: Sequence[float] | Array, fake: Sequence[float] | Array,
                   real_weights: Sequence[float] | Array | None = None,
                   fake_weights: Sequence[float] | Array | None = None) -> LipschitzCritic:
    """The critic maximizing ``E_real f - E_fake f`` over 1-Lipschitz ``f``, by LP.

    Parameters
    ----------
    real, fake
        Support points, shape ``(n,)`` on the line or ``(n, d)``.
    real_weights, fake_weights
        Probabilities of the points (default: equal).

    Returns
    -------
    LipschitzCritic
        The critic on the merged support and its value, ``W1(real, fake)``.

    Raises
    ------
    SpecError
        For empty, non-finite or mismatched points or weights that are not a
        probability vector, or more than :data:`MAX_SUPPORT_POINTS` points.

    References
    ----------
    .. [1] Villani (2009). Optimal Transport, Old and New. Thm. 5.10
       (Kantorovich-Rubinstein duality).
    """
    p_points, q_points = _as_points(real, "real"), _as_points(fake, "fake")
    if p_points.shape[1] != q_points.shape[1]:
        raise SpecError(f"`real` and `fake` points differ in dimension "
                        f"({p_points.shape[1]} and {q_points.shape[1]})")
    p = _as_weights(real_weights, len(p_points), "real_weights")
    q = _as_weights(fake_weights, len(q_points), "fake_weights")
    support, inverse = np.unique(np.vstack([p_points, q_points]), axis=0, return_inverse=True)
    m = len(support)
    if m > MAX_SUPPORT_POINTS:
        raise SpecError(f"the critic's program takes at most {MAX_SUPPORT_POINTS} support points, "
                        f"got {m}")
    signed = np.zeros(m)
    np.add.at(signed, inverse.reshape(-1), np.concatenate([p, -q]))
    if m == 1:
        return LipschitzCritic(support, np.zeros(1), 0.0)
    if support.shape[1] == 1:
        # np.unique sorts: neighbours only, both directions.
        pairs = np.column_stack([np.arange(m - 1), np.arange(1, m)])
    else:
        i, j = np.triu_indices(m, k=1)
        pairs = np.column_stack([i, j])
    distance = np.linalg.norm(support[pairs[:, 0]] - support[pairs[:, 1]], axis=1)
    rows = len(pairs)
    A = np.zeros((2 * rows, m))
    A[np.arange(rows), pairs[:, 0]] = 1.0
    A[np.arange(rows), pairs[:, 1]] = -1.0
    A[rows + np.arange(rows), pairs[:, 0]] = -1.0
    A[rows + np.arange(rows), pairs[:, 1]] = 1.0
    b = np.concatenate([distance, distance])
    # f is defined up to a constant (the weights' difference sums to 0): pin f_0 = 0.
    bounds = [(0.0, 0.0)] + [(None, None)] * (m - 1)
    result = linprog(-signed, A_ub=A, b_ub=b, bounds=bounds, method="highs")
    if not result.success:  # pragma: no cover - bounded and feasible (f = 0) by construction
        raise RuntimeError(f"critic linear program failed: {result.message}")
    values = np.asarray(result.x, dtype=np.float64)
    return LipschitzCritic(support, values, float(signed @ values))


def generator_best_response(critic: LipschitzCritic, box: tuple[float, float]) -> float:
    """Where a one-point generator on the line best answers ``critic``: ``argmax f`` on the box.

    The generator's cost is ``-f(theta)`` (it wants the critic to call its
    sample real), so it moves to the top of the critic's extension
    (:meth:`LipschitzCritic.__call__`), which on an interval is a support
    point inside it or an end of it. Ties go to the smallest point.
    """
    low, high = (float(v) for v in box)
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise SpecError(f"the generator's box must be finite with low < high, got {box}")
    if critic.support.shape[1] != 1:
        raise SpecError("the generator's best response is implemented on the line (d = 1)")
    inside = critic.support[:, 0][(critic.support[:, 0] >= low) & (critic.support[:, 0] <= high)]
    candidates = np.unique(np.concatenate([inside, [low, high]]))
    heights = critic(candidates)
    return float(candidates[int(np.argmax(heights >= heights.max() - 1e-12))])


@dataclass(frozen=True)
class CriticDynamics:
    """Alternating best responses of a one-point generator and the nonparametric critic.

    Attributes
    ----------
    thetas
        The generator's positions, the start first.
    distances
        ``W1(data, delta_theta)`` at each, the critic's best-response value.
    cycle_length
        The period once a position repeats (``None``: none repeated).
    """

    thetas: tuple[float, ...]
    distances: tuple[float, ...]
    cycle_length: int | None


def critic_dynamics(data: Sequence[float], start: float, box: tuple[float, float],
                    rounds: int = 8, data_weights: Sequence[float] | None = None
                    ) -> CriticDynamics:
    """Iterate: the critic answers the generator (LP), the generator jumps to the critic's top.

    On the two-point data the generator hops between the data points for
    ever: from either point the critic is highest at the other.
    """
    thetas, distances = [float(start)], []
    cycle = None
    for _ in range(int(rounds)):
        critic = optimal_critic(data, [thetas[-1]], data_weights)
        distances.append(critic.value)
        theta = generator_best_response(critic, box)
        earlier = [k for k, t in enumerate(thetas) if abs(t - theta) <= 1e-9 * (1 + abs(t))]
        thetas.append(theta)
        if earlier:
            cycle = len(thetas) - 1 - earlier[-1]
            break
    distances.append(optimal_critic(data, [thetas[-1]], data_weights).value)
    return CriticDynamics(tuple(thetas), tuple(distances), cycle)


@dataclass(frozen=True)
class CriticGame:
    """A generator of ``k`` equal point masses against the nonparametric critic, solved.

    Attributes
    ----------
    data, weights
        The data's points (on the line) and probabilities.
    generator_points
        ``k``, the number of equally weighted points of the generator.
    box
        The range of each generator point.
    min_max
        ``min_theta W1(data, P_theta)`` over the generator's box (pure
        strategies): what the critic is sure to get against a pure generator.
    theta_min_max
        A generator attaining it.
    max_min
        ``max_f min_theta V(theta, f)``: 0 when the data lie in the box (a
        constant critic gets 0, and no critic more since ``E_data f <= max f``);
        ``None`` otherwise (not derived).
    gap_lower_bound
        ``min_max - max_min``: a lower bound of the Nikaido-Isoda gap at every
        pure pair (``None`` with ``max_min``).
    pure_nash
        Whether a pure Nash equilibrium exists: ``min_max`` is 0 within
        tolerance (the generator reproduces the data) and the data lie in the box.
    mixed_value
        The value in mixed strategies when the data lie in the box: 0, the
        generator mixing over the data's points (``None`` otherwise).
    """

    data: tuple[float, ...]
    weights: tuple[float, ...]
    generator_points: int
    box: tuple[float, float]
    min_max: float
    theta_min_max: tuple[float, ...]
    max_min: float | None
    gap_lower_bound: float | None
    pure_nash: bool
    mixed_value: float | None

    def to_dict(self) -> dict[str, Any]:
        """The ``nonparametric_critic`` record of ``gandyn analyze --nash --json``."""
        return {"data": list(self.data), "weights": list(self.weights),
                "generator_points": self.generator_points, "box": list(self.box),
                "min_max": self.min_max, "theta_min_max": list(self.theta_min_max),
                "max_min": self.max_min, "gap_lower_bound": self.gap_lower_bound,
                "pure_nash": self.pure_nash, "mixed_value": self.mixed_value}


def critic_game(data: Sequence[float], box: tuple[float, float],
                weights: Sequence[float] | None = None, generator_points: int = 1,
                grid_points: int = 81) -> CriticGame:
    """Solve a ``k``-point generator's game against the nonparametric critic on the line.

    ``min_max`` is searched over sorted ``k``-tuples of the box's grid
    (``grid_points`` per axis, ends included) together with the data's points
    in the box, each tuple's ``W1`` by :func:`optimal_critic`.

    Parameters
    ----------
    data, weights
        The data's points and probabilities (default equal).
    box
        The range of each generator point, ``low < high``.
    generator_points
        ``k``, 1 to 3.
    grid_points
        Grid points of the search for ``min_max``.
    """
    low, high = (float(v) for v in box)
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise SpecError(f"the generator's box must be finite with low < high, got {box}")
    k = int(generator_points)
    if not 1 <= k <= 3:
        raise SpecError(f"`generator_points` must be 1, 2 or 3, got {generator_points}")
    points = _as_points(data, "data")
    if points.shape[1] != 1:
        raise SpecError("the critic game is implemented on the line (d = 1)")
    p = _as_weights(weights, len(points), "weights")
    values = points[:, 0]
    inside = bool(np.all((values >= low) & (values <= high)))
    grid = np.unique(np.concatenate([np.linspace(low, high, int(grid_points)),
                                     values[(values >= low) & (values <= high)]]))
    best, best_theta = np.inf, (float(grid[0]),) * k
    for index in combinations_with_replacement(range(len(grid)), k):
        theta = grid[list(index)]
        distance = optimal_critic(values, theta, p).value
        if distance < best - 1e-12:
            best, best_theta = distance, tuple(float(t) for t in theta)
    tol = 1e-9 * (1 + float(np.max(np.abs(values))))
    max_min = 0.0 if inside else None
    # Mixed: a generator mixing over the data's points (with the data's weights) leaves the
    # critic W1 = 0 to gain, and the constant critic gets 0 against every generator.
    mixed = optimal_critic(values, values, p, p).value if inside else None
    return CriticGame(
        data=tuple(float(v) for v in values), weights=tuple(float(w) for w in p),
        generator_points=k, box=(low, high), min_max=float(best), theta_min_max=best_theta,
        max_min=max_min, gap_lower_bound=None if max_min is None else float(best) - max_min,
        pure_nash=bool(inside and best <= tol),
        mixed_value=None if mixed is None else float(mixed))


def two_point_critic_game(a: float = 1.0, generator_points: int = 1,
                          box: tuple[float, float] | None = None,
                          grid_points: int = 81) -> CriticGame:
    """The two-point data ``+-a`` against the nonparametric critic (:func:`critic_game`).

    ``box`` defaults to ``[-2a, 2a]`` and must contain ``+-a``, as the gap
    bound needs.
    """
    a = float(a)
    if not (np.isfinite(a) and a > 0):
        raise SpecError(f"`a` must be positive and finite, got {a}")
    low, high = (-2 * a, 2 * a) if box is None else (float(box[0]), float(box[1]))
    if not (low <= -a and a <= high):
        raise SpecError(f"the generator's box [{low:g}, {high:g}] must contain the data's "
                        f"points -a and a ({a:g})")
    return critic_game([-a, a], (low, high), generator_points=generator_points,
                       grid_points=grid_points)


def critic_game_of(game: Game, box: Mapping[str, tuple[float, float]],
                   grid_points: int = 81) -> tuple[CriticGame, CriticDynamics] | None:
    """The nonparametric-critic game of a catalogue or file game, where it applies.

    It applies to a Wasserstein-loss game without regularizers whose
    generator is one point mass at its only parameter and whose data are
    weighted points with numeric values (``two-point``, ``dirac``, a game
    file with ``[data] points``): then the parametric discriminator can be
    replaced by every 1-Lipschitz function. Returns the solved game and the
    best-response dynamics from the game's start, or ``None`` where it does
    not apply.
    """
    model = game.definition.model
    if (model is None or game.loss is None or game.loss.name != "wasserstein"
            or game.regularizers or len(game.theta) != 1 or model.fake_sample != game.theta[0]):
        return None
    distribution = model.variables.get(model.real_sample) if isinstance(
        model.real_sample, sp.Symbol) else None
    if not isinstance(distribution, PointMasses):
        return None
    values = game.param_values
    try:
        data = [float(sp.sympify(p).xreplace(values)) for p in distribution.points]
        weights = [float(sp.sympify(w).xreplace(values)) for w in distribution.weights]
    except TypeError:  # a point or weight left symbolic
        return None
    name = game.theta[0].name
    low, high = (float(v) for v in box[name])
    solved = critic_game(data, (low, high), weights, grid_points=grid_points)
    start = float(np.clip(game.default_start[name], low, high))
    return solved, critic_dynamics(data, start, (low, high), data_weights=weights)
