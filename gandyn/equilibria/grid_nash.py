"""Pure and mixed Nash equilibria of one-parameter-per-player games on a grid.

For a game with one generator parameter ``theta`` and one discriminator
parameter ``psi``, :func:`payoff_grid` tabulates both players' costs on the
tensor grid ``theta_i x psi_j`` of a box. On that finite game:

* :func:`best_responses` gives each player's best responses (every minimizer
  of its own cost within a tolerance) and flags those on the box boundary;
* :func:`pure_nash` lists the cells that are mutual best responses;
* for zero-sum games, :func:`minimax_values` gives ``min max``, ``max min``
  and the duality gap, and :func:`mixed_equilibrium` solves the matrix game
  by linear programming;
* a general-sum grid game is a bimatrix game, solved by Lemke-Howson in
  :mod:`gandyn.equilibria.bimatrix` (:func:`gandyn.equilibria.global_nash.general_sum_mixed`).

Conventions (``gandyn`` section 2): each player *minimizes* its own cost.
A game is zero-sum on the grid when ``cost_d + cost_g = h(psi) + k(theta)``
there (all catalogue losses that are zero-sum have ``k = 0``: the sum is
``E[d_real]``, a function of ``psi``). The matrix game then has the payoff

``V[i, j] = -cost_d[i, j] + k(theta_i) - k(theta_0) = cost_g[i, j] - h'(psi_j)``,

which D maximizes and G minimizes; it is exactly ``-cost_d`` (D's payoff)
when ``k = 0``. Terms of one player's parameter alone do not change the
other's best responses, so ``V`` has the same equilibria as the game, and
its values are in the units of D's payoff.

Everything here is about the *grid* game: a continuous game's equilibrium
that falls between grid points is seen only approximately (pass a larger
``tol`` to :func:`pure_nash` to look for epsilon-equilibria), and an
equilibrium outside the box is not seen at all.

References
----------
.. [1] von Neumann (1928). Zur Theorie der Gesellschaftsspiele. Math. Ann. 100,
   295-320 (the minimax theorem for matrix games).
.. [2] Owen (2013). Game Theory, 4th ed., Emerald, Ch. II (matrix games and
   their solution by linear programming).
.. [3] Glicksberg (1952). A further generalization of the Kakutani fixed point
   theorem, with application to Nash equilibrium points. Proc. AMS 3(1),
   170-174 (mixed equilibria of continuous games on compact sets).
.. [4] Hsieh, Liu and Cevher (2019). Finding Mixed Nash Equilibria of
   Generative Adversarial Networks. ICML.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import linprog

from gandyn.arrays import Array, BoolArray
from gandyn.derivation.field import VectorField
from gandyn.errors import SpecError
from gandyn.limits import RANGES, check_value

__all__ = [
    "SUPPORT_THRESHOLD",
    "BestResponses",
    "MinimaxValues",
    "MixedEquilibrium",
    "PayoffGrid",
    "best_responses",
    "box_bounds",
    "minimax_values",
    "mixed_equilibrium",
    "payoff_grid",
    "pure_nash",
    "zero_sum_payoff",
]


#: Probability above which a grid point counts as in a mixed strategy's support.
SUPPORT_THRESHOLD = 1e-9


@dataclass(frozen=True, eq=False)
class PayoffGrid:
    """Both players' costs on the tensor grid ``theta_i x psi_j``.

    Attributes
    ----------
    theta_name, psi_name
        The names of the two parameters.
    theta, psi
        The grid values, shapes ``(n_theta,)`` and ``(n_psi,)``, increasing.
    cost_g, cost_d
        ``cost_g[i, j]`` and ``cost_d[i, j]`` at ``(theta[i], psi[j])``,
        shape ``(n_theta, n_psi)``; each player minimizes its own.
    game
        The game's name (``""`` for a grid built by hand).
    """

    theta_name: str
    psi_name: str
    theta: Array
    psi: Array
    cost_g: Array
    cost_d: Array
    game: str = ""

    def __post_init__(self) -> None:
        shape = (len(self.theta), len(self.psi))
        if self.cost_g.shape != shape or self.cost_d.shape != shape:
            raise SpecError(
                f"payoff grid: costs must have shape {shape}, "
                f"got {self.cost_g.shape} and {self.cost_d.shape}"
            )
        if not (np.all(np.isfinite(self.cost_g)) and np.all(np.isfinite(self.cost_d))):
            raise SpecError("payoff grid: a cost is not finite on the box; choose a smaller box")

    def default_tol(self) -> float:
        """``1e-9 * (1 + max |cost|)``: ties up to rounding, not up to grid spacing."""
        scale = max(float(np.max(np.abs(self.cost_g))), float(np.max(np.abs(self.cost_d))))
        return 1e-9 * (1.0 + scale)

    def point(self, i: int, j: int) -> dict[str, float]:
        """The state ``{theta_name: theta[i], psi_name: psi[j]}``."""
        return {self.theta_name: float(self.theta[i]), self.psi_name: float(self.psi[j])}


@dataclass(frozen=True, eq=False)
class BestResponses:
    """Each player's best responses on a :class:`PayoffGrid`.

    Attributes
    ----------
    d_best
        ``d_best[i, j]``: ``psi[j]`` minimizes ``cost_d[i, :]`` within ``tol``
        (a best response of D to ``theta[i]``).
    g_best
        ``g_best[i, j]``: ``theta[i]`` minimizes ``cost_g[:, j]`` within ``tol``.
    psi_star
        For each ``theta[i]``, the smallest of D's best responses, ``(n_theta,)``.
    theta_star
        For each ``psi[j]``, the smallest of G's best responses, ``(n_psi,)``.
    d_on_boundary
        For each ``theta[i]``: a best response of D is an end of the ``psi``
        range. The box may be too small, or no best response may exist.
    g_on_boundary
        For each ``psi[j]``: a best response of G is an end of the ``theta`` range.
    tol
        The tolerance used.
    """

    d_best: BoolArray
    g_best: BoolArray
    psi_star: Array
    theta_star: Array
    d_on_boundary: BoolArray
    g_on_boundary: BoolArray
    tol: float


@dataclass(frozen=True)
class MinimaxValues:
    """Upper and lower values of the zero-sum grid game with payoff ``V``.

    Attributes
    ----------
    min_max
        ``min_i max_j V[i, j]``: what G can guarantee (the upper value).
    max_min
        ``max_j min_i V[i, j]``: what D can guarantee (the lower value).
    duality_gap
        ``min_max - max_min >= 0``; zero exactly when a pure saddle point exists.
    theta_minmax, psi_maxmin
        A ``theta`` attaining ``min_max`` and a ``psi`` attaining ``max_min``.
    """

    min_max: float
    max_min: float
    duality_gap: float
    theta_minmax: float
    psi_maxmin: float


@dataclass(frozen=True, eq=False)
class MixedEquilibrium:
    """A mixed Nash equilibrium of the zero-sum grid game with payoff ``V``.

    Attributes
    ----------
    value
        The game's value ``p @ V @ q`` (G's LP; D's LP agrees within tolerance).
    p
        G's mixed strategy over ``theta``, shape ``(n_theta,)``, sums to one.
    q
        D's mixed strategy over ``psi``, shape ``(n_psi,)``, sums to one.
    theta_support, psi_support
        Grid values played with probability above :data:`SUPPORT_THRESHOLD`.
    payoff
        The matrix ``V`` solved (rows ``theta``, G minimizes; columns ``psi``,
        D maximizes).
    """

    value: float
    p: Array
    q: Array
    theta_support: Array
    psi_support: Array
    payoff: Array


def box_bounds(box: Mapping[str, Any], name: str, game: str) -> tuple[float, float]:
    """``box[name]`` as ``(low, high)``, finite with ``low < high`` and inside ``RANGES["box"]``.

    Raises
    ------
    gandyn.errors.SpecError
        For a parameter the box leaves out, or bounds that are not such a pair.
    """
    if name not in box:
        raise SpecError(f"box misses parameter {name!r} of game {game!r}")
    low, high = (float(v) for v in box[name])
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise SpecError(f"box for {name!r} must be finite with low < high, got {box[name]}")
    if not (RANGES["box"].contains(low) and RANGES["box"].contains(high)):
        raise SpecError(f"box for {name!r} must lie in {RANGES['box'].describe()} (costs "
                        f"overflow beyond it), got {box[name]}")
    return low, high


def payoff_grid(
    vf: VectorField,
    box: Mapping[str, tuple[float, float]],
    n: int = 101,
    params: Mapping[str, float] | None = None,
) -> PayoffGrid:
    """Tabulate both players' costs on an ``n x n`` grid of a box.

    Parameters
    ----------
    vf
        The differentiated game; it must have one generator and one
        discriminator parameter.
    box
        ``{name: (low, high)}`` for both parameters, ``low < high``.
    n
        Grid points per axis, ends included (at least 2). An odd ``n`` on a
        symmetric box contains 0.
    params
        Hyper-parameter values by name, overriding the game's.

    Returns
    -------
    PayoffGrid
        ``cost_g`` and ``cost_d`` of shape ``(n, n)``.

    Raises
    ------
    SpecError
        For a game with other than one parameter per player, a box that
        misses a parameter, names an unknown one or is empty, or costs that
        are not finite on the box.
    """
    game = vf.game
    if len(game.theta) != 1 or len(game.psi) != 1:
        raise SpecError(
            f"Nash grids need one generator and one discriminator parameter; game "
            f"{game.name!r} has {len(game.theta)} and {len(game.psi)}"
        )
    theta_name, psi_name = game.theta[0].name, game.psi[0].name
    unknown = sorted(set(box) - {theta_name, psi_name})
    if unknown:
        raise SpecError(
            f"box names unknown parameter {unknown[0]!r} (game {game.name!r} has "
            f"{theta_name}, {psi_name})"
        )
    for name in (theta_name, psi_name):
        box_bounds(box, name, game.name)
    if int(n) < 2:
        raise SpecError(f"a Nash grid needs at least 2 points per axis, got n={n}")
    check_value("grid_points", int(n), what="grid")
    (theta_low, theta_high), (psi_low, psi_high) = box[theta_name], box[psi_name]
    theta: Array = np.linspace(float(theta_low), float(theta_high), int(n))
    psi: Array = np.linspace(float(psi_low), float(psi_high), int(n))
    states = np.stack(np.meshgrid(theta, psi, indexing="ij"), axis=-1)
    try:
        costs = vf.costs_fn(states, params)
    except KeyError as error:
        raise SpecError(f"game {game.name!r}: {error.args[0]}") from None
    return PayoffGrid(
        theta_name=theta_name,
        psi_name=psi_name,
        theta=theta,
        psi=psi,
        cost_g=np.ascontiguousarray(costs[..., 0]),
        cost_d=np.ascontiguousarray(costs[..., 1]),
        game=game.name,
    )


def best_responses(grid: PayoffGrid, tol: float | None = None) -> BestResponses:
    """Both players' best responses on the grid.

    Parameters
    ----------
    grid
        From :func:`payoff_grid` (or built by hand).
    tol
        Costs within ``tol`` of the minimum count as minimal (ties);
        default :meth:`PayoffGrid.default_tol`.

    Returns
    -------
    BestResponses
        Masks of all best responses, a representative of each, and whether a
        best response sits on the box boundary.
    """
    tol = grid.default_tol() if tol is None else float(tol)
    d_best = grid.cost_d <= grid.cost_d.min(axis=1, keepdims=True) + tol
    g_best = grid.cost_g <= grid.cost_g.min(axis=0, keepdims=True) + tol
    return BestResponses(
        d_best=d_best,
        g_best=g_best,
        psi_star=grid.psi[np.argmax(d_best, axis=1)],
        theta_star=grid.theta[np.argmax(g_best, axis=0)],
        d_on_boundary=d_best[:, 0] | d_best[:, -1],
        g_on_boundary=g_best[0, :] | g_best[-1, :],
        tol=tol,
    )


def pure_nash(grid: PayoffGrid, tol: float | None = None) -> list[dict[str, float]]:
    """Pure Nash equilibria of the grid game: cells of mutual best responses.

    A cell ``(i, j)`` is one when ``cost_g[i, j] <= min_i' cost_g[i', j] + tol``
    and ``cost_d[i, j] <= min_j' cost_d[i, j'] + tol``: a fixed point of the
    best-response map.

    Parameters
    ----------
    grid
        From :func:`payoff_grid`.
    tol
        Tie tolerance (default :meth:`PayoffGrid.default_tol`); a larger value
        finds ``tol``-Nash equilibria, such as a continuous game's equilibrium
        that falls between grid points.

    Returns
    -------
    list of dict
        ``{theta_name: value, psi_name: value}`` per equilibrium, in grid
        order. Empty: no pure Nash equilibrium in this box on this grid.
    """
    responses = best_responses(grid, tol)
    cells = np.argwhere(responses.d_best & responses.g_best)
    return [grid.point(int(i), int(j)) for i, j in cells]


def zero_sum_payoff(grid: PayoffGrid, tol: float | None = None) -> Array:
    """The payoff ``V`` that G minimizes and D maximizes, for a zero-sum grid.

    Checks that ``S = cost_d + cost_g`` is ``h(psi) + k(theta)`` on the grid,
    ``S[i, j] - S[i, 0] - S[0, j] + S[0, 0] = 0`` within ``tol``, and returns
    ``V[i, j] = -cost_d[i, j] + S[i, 0] - S[0, 0]`` (``-cost_d`` when ``k = 0``).

    Raises
    ------
    SpecError
        When the game is not zero-sum on the grid.
    """
    tol = grid.default_tol() if tol is None else float(tol)
    total = grid.cost_d + grid.cost_g
    k = total[:, :1] - total[:1, :1]
    residual = total - k - total[:1, :]
    worst = float(np.max(np.abs(residual)))
    # Sums of costs lose a few ulps more than the costs themselves.
    if worst > 10 * tol:
        raise SpecError(
            f"game {grid.game or '(grid)'!r} is not zero-sum on this box: cost_d + cost_g "
            f"is not a function of psi plus one of theta (residual {worst:.3g})"
        )
    result: Array = -grid.cost_d + k
    return result


def minimax_values(grid: PayoffGrid, tol: float | None = None) -> MinimaxValues:
    """Upper value, lower value and duality gap of a zero-sum grid game.

    With ``V`` from :func:`zero_sum_payoff` (D's payoff ``-cost_d``),
    ``min_max = min_theta max_psi V`` and ``max_min = max_psi min_theta V``.

    Raises
    ------
    SpecError
        When the game is not zero-sum on the grid.

    References
    ----------
    .. [1] von Neumann (1928). Zur Theorie der Gesellschaftsspiele. Math. Ann. 100.
    .. [2] Owen (2013). Game Theory, 4th ed., Ch. II.1 (upper and lower values).
    """
    V = zero_sum_payoff(grid, tol)
    row_max = V.max(axis=1)
    col_min = V.min(axis=0)
    i, j = int(np.argmin(row_max)), int(np.argmax(col_min))
    min_max, max_min = float(row_max[i]), float(col_min[j])
    return MinimaxValues(
        min_max=min_max,
        max_min=max_min,
        duality_gap=max(min_max - max_min, 0.0),
        theta_minmax=float(grid.theta[i]),
        psi_maxmin=float(grid.psi[j]),
    )


def _row_player_lp(V: Array) -> tuple[Array, float]:
    """Optimal mixed strategy and value of the row player who minimizes ``V``.

    ``min v`` subject to ``sum_i p_i V[i, j] <= v`` for every column ``j``,
    ``sum_i p_i = 1``, ``p >= 0``; variables ``(p, v)``.
    """
    m, n = V.shape
    c = np.zeros(m + 1)
    c[-1] = 1.0
    A_ub = np.hstack([V.T, -np.ones((n, 1))])
    A_eq = np.hstack([np.ones((1, m)), np.zeros((1, 1))])
    bounds = [(0.0, None)] * m + [(None, None)]
    result = linprog(c, A_ub=A_ub, b_ub=np.zeros(n), A_eq=A_eq, b_eq=[1.0], bounds=bounds,
                     method="highs")
    if not result.success:  # pragma: no cover - a bounded, feasible LP always solves
        raise RuntimeError(f"linear program failed: {result.message}")
    p = np.clip(np.asarray(result.x[:m], dtype=np.float64), 0.0, None)
    return p / p.sum(), float(result.x[-1])


def mixed_equilibrium(grid: PayoffGrid, tol: float | None = None) -> MixedEquilibrium:
    """A mixed Nash equilibrium of a zero-sum grid game by linear programming.

    G (rows, minimizer) solves ``min v`` s.t. ``p @ V[:, j] <= v`` for all
    ``j``, ``sum p = 1``, ``p >= 0``; D (columns, maximizer) solves the dual,
    ``max w`` s.t. ``V[i, :] @ q >= w`` for all ``i``, ``sum q = 1``,
    ``q >= 0``, written as G's problem for ``-V.T``. Both are solved with
    HiGHS; by the minimax theorem ``v = w = p @ V @ q``, which is checked.

    Parameters
    ----------
    grid
        From :func:`payoff_grid`; the game must be zero-sum on it.
    tol
        Tolerance of the zero-sum check (default :meth:`PayoffGrid.default_tol`).

    Returns
    -------
    MixedEquilibrium
        Value, both strategies and their supports.

    Raises
    ------
    SpecError
        When the game is not zero-sum on the grid.
    RuntimeError
        If the two programs disagree (a solver failure).

    References
    ----------
    .. [1] von Neumann (1928). Zur Theorie der Gesellschaftsspiele. Math. Ann. 100.
    .. [2] Owen (2013). Game Theory, 4th ed., Ch. II.4 (matrix games as linear programs).
    .. [3] Glicksberg (1952). A further generalization of the Kakutani fixed point
       theorem. Proc. AMS 3(1) (the continuous game's mixed equilibrium).
    """
    V = zero_sum_payoff(grid, tol)
    p, v = _row_player_lp(V)
    q, minus_w = _row_player_lp(-V.T)
    w = -minus_w
    value = float(p @ V @ q)
    scale = 1e-7 * (1.0 + float(np.max(np.abs(V))))
    if abs(v - w) > scale or abs(value - v) > scale:
        raise RuntimeError(
            f"mixed equilibrium: the two linear programs disagree (v={v:.12g}, w={w:.12g}, "
            f"p V q={value:.12g})"
        )
    return MixedEquilibrium(
        value=value,
        p=p,
        q=q,
        theta_support=grid.theta[p > SUPPORT_THRESHOLD],
        psi_support=grid.psi[q > SUPPORT_THRESHOLD],
        payoff=V,
    )
