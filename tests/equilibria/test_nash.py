"""Pure and mixed Nash equilibria on a grid (gandyn.equilibria.grid_nash) against hand-solved games.

Known solutions used below:

* matching pennies: value 0, both players mix 1/2-1/2 (von Neumann 1928;
  Owen (2013), Game Theory, Ch. II);
* ``theta * psi`` on ``[-1, 1]**2``: the pure saddle point (0, 0), value 0;
* hide and seek ``V = (theta - psi)**2`` on ``[-1, 1]**2`` (G minimizes, D
  maximizes): ``min max = 1`` at ``theta = 0``, ``max min = 0``; the mixed
  equilibrium is ``theta = 0`` against ``psi = +-1`` with probability 1/2 each,
  value 1 (``V`` is convex in ``theta``, so G's optimal strategy is pure;
  against ``q`` G's best reply is ``theta = E_q[psi]``, which must be 0, and
  the value ``E_q[psi**2]`` is 1 only on ``psi = +-1``).
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from gandyn.derivation.field import VectorField, derive
from gandyn.equilibria.grid_nash import (
    PayoffGrid,
    best_responses,
    minimax_values,
    mixed_equilibrium,
    payoff_grid,
    pure_nash,
)
from gandyn.errors import SpecError
from gandyn.games.game import make_game

UNIT_BOX = {"theta": (-1.0, 1.0), "psi": (-1.0, 1.0)}
BUMP_BOX = {"theta": (-2.0, 2.0), "psi": (-2.0, 2.0)}


@functools.cache
def field(name: str, loss: str | None = None) -> VectorField:
    return derive(make_game(name, loss))


def hand_grid(cost_g: list[list[float]], cost_d: list[list[float]]) -> PayoffGrid:
    g, d = np.array(cost_g, dtype=float), np.array(cost_d, dtype=float)
    return PayoffGrid("theta", "psi", np.arange(g.shape[0], dtype=float),
                      np.arange(g.shape[1], dtype=float), g, d)


def assert_no_profitable_deviation(grid: PayoffGrid, atol: float = 1e-8) -> None:
    """Against q every pure theta gives >= value; against p every pure psi gives <= value."""
    eq = mixed_equilibrium(grid)
    assert eq.p.sum() == pytest.approx(1.0) and eq.q.sum() == pytest.approx(1.0)
    assert np.all(eq.p >= 0) and np.all(eq.q >= 0)
    assert np.all(eq.payoff @ eq.q >= eq.value - atol)
    assert np.all(eq.p @ eq.payoff <= eq.value + atol)
    assert eq.p @ eq.payoff @ eq.q == pytest.approx(eq.value, abs=atol)


# --- hand-made matrix games ---------------------------------------------------------------------


def test_matching_pennies() -> None:
    # G (rows) pays 1 on a match; D minimizes -cost_g: zero-sum, V = -cost_d = cost_g.
    m = [[1.0, -1.0], [-1.0, 1.0]]
    grid = hand_grid(m, [[-v for v in row] for row in m])
    assert pure_nash(grid) == []
    values = minimax_values(grid)
    assert (values.min_max, values.max_min, values.duality_gap) == (1.0, -1.0, 2.0)
    eq = mixed_equilibrium(grid)
    assert eq.value == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(eq.p, [0.5, 0.5], atol=1e-9)
    np.testing.assert_allclose(eq.q, [0.5, 0.5], atol=1e-9)
    assert_no_profitable_deviation(grid)


def test_battle_of_the_sexes_two_pure_nash_in_a_general_sum_game() -> None:
    # costs = minus payoffs (2, 1) / (1, 2) on coordinating, 0 otherwise: two pure equilibria
    cost_g = [[-2.0, 0.0], [0.0, -1.0]]
    cost_d = [[-1.0, 0.0], [0.0, -2.0]]
    grid = hand_grid(cost_g, cost_d)
    assert pure_nash(grid) == [{"theta": 0.0, "psi": 0.0}, {"theta": 1.0, "psi": 1.0}]
    with pytest.raises(SpecError, match="not zero-sum"):
        minimax_values(grid)
    with pytest.raises(SpecError, match="not zero-sum"):
        mixed_equilibrium(grid)


def test_ties_are_all_best_responses_and_boundary_is_flagged() -> None:
    grid = hand_grid([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]], [[2.0, 1.0, 1.0], [0.0, 5.0, 0.0]])
    br = best_responses(grid)
    np.testing.assert_array_equal(br.d_best, [[False, True, True], [True, False, True]])
    np.testing.assert_array_equal(br.psi_star, [1.0, 0.0])
    np.testing.assert_array_equal(br.d_on_boundary, [True, True])
    np.testing.assert_array_equal(br.g_on_boundary, [True, True, True])
    assert pure_nash(grid) == [{"theta": 0.0, "psi": 1.0}, {"theta": 0.0, "psi": 2.0}]


def test_psi_only_terms_keep_the_game_zero_sum() -> None:
    # cost_d = -cost_g + h(psi): D's best responses and V = -cost_d, as the minimax GAN.
    rng = np.random.default_rng(0)
    f, h = rng.normal(size=(4, 5)), rng.normal(size=5)
    grid = hand_grid(f.tolist(), (-f + h).tolist())
    eq = mixed_equilibrium(grid)
    np.testing.assert_allclose(eq.payoff, f - h)
    assert_no_profitable_deviation(grid)


# --- catalogue games ----------------------------------------------------------------------------


def test_bilinear_has_the_pure_saddle_point_at_the_origin() -> None:
    grid = payoff_grid(field("bilinear"), UNIT_BOX, n=41)
    assert pure_nash(grid) == [{"theta": 0.0, "psi": 0.0}]
    values = minimax_values(grid)
    assert values.duality_gap == 0.0
    assert values.min_max == 0.0 and values.theta_minmax == 0.0 and values.psi_maxmin == 0.0
    eq = mixed_equilibrium(grid)
    assert eq.value == pytest.approx(0.0, abs=1e-12)
    assert_no_profitable_deviation(grid)


def test_payoff_grid_matches_the_costs_pointwise() -> None:
    vf = field("hide-and-seek")
    grid = payoff_grid(vf, {"psi": (-1.0, 0.5), "theta": (0.0, 2.0)}, n=7)
    assert grid.cost_g.shape == (7, 7)
    i, j = 3, 5
    assert grid.theta[i] == pytest.approx(1.0) and grid.psi[j] == pytest.approx(0.25)
    assert grid.cost_g[i, j] == pytest.approx(0.75**2)
    assert grid.cost_d[i, j] == pytest.approx(-(0.75**2))


def test_hide_and_seek_has_no_pure_nash_and_the_hand_solved_mixed_one() -> None:
    n = 101
    grid = payoff_grid(field("hide-and-seek"), UNIT_BOX, n=n)
    assert pure_nash(grid) == []
    br = best_responses(grid)
    # G matches D (theta = psi), D runs to the box end farther away: on the boundary
    np.testing.assert_allclose(br.theta_star, grid.psi, atol=1e-12)
    assert br.d_on_boundary.all()
    values = minimax_values(grid)
    assert values.min_max == pytest.approx(1.0) and values.theta_minmax == 0.0
    assert values.max_min == pytest.approx(0.0, abs=1e-12)
    assert values.duality_gap == pytest.approx(1.0)
    eq = mixed_equilibrium(grid)
    assert eq.value == pytest.approx(1.0, abs=1e-9)
    np.testing.assert_array_equal(eq.theta_support, [0.0])
    np.testing.assert_array_equal(eq.psi_support, [-1.0, 1.0])
    # On the grid D's mix is unique only up to theta = 0 staying G's best grid reply:
    # |E_q[psi]| <= spacing / 2, i.e. q(+1) in 1/2 +- spacing / 4.
    spacing = 2.0 / (n - 1)
    assert abs(eq.q[-1] - 0.5) <= spacing / 4 + 1e-9
    assert_no_profitable_deviation(grid)


@pytest.mark.parametrize("loss", ["wasserstein", "minimax", "non-saturating"])
def test_two_point_bump_gan_has_no_pure_nash(loss: str) -> None:
    # Why (see games._two_point_bump): G's only best reply to psi is theta = psi, the top
    # of D's bump; there D strictly prefers another centre (-psi, or +a when psi = 0).
    # On a grid with the same points on both axes: G's best-response map is the identity
    # and D's best response never includes the diagonal cell.
    grid = payoff_grid(field("two-point-bump", loss), BUMP_BOX, n=101)
    assert pure_nash(grid) == []
    br = best_responses(grid)
    np.testing.assert_array_equal(br.g_best, np.eye(101, dtype=bool))
    assert not np.diagonal(br.d_best).any()


def test_two_point_bump_mixed_equilibrium_wasserstein() -> None:
    grid = payoff_grid(field("two-point-bump", "wasserstein"), BUMP_BOX, n=101)
    values = minimax_values(grid)
    assert values.duality_gap > 0.1
    eq = mixed_equilibrium(grid)
    assert values.max_min - 1e-9 <= eq.value <= values.min_max + 1e-9
    # G mixing +-a half-half reproduces the data: every critic scores 0, so value <= 0.
    data = np.isin(grid.theta, [-1.0, 1.0])
    np.testing.assert_allclose(0.5 * grid.cost_d[data].sum(axis=0), 0.0, atol=1e-12)
    assert eq.value <= 1e-9
    assert len(eq.theta_support) >= 2  # no pure optimal strategy for G
    assert_no_profitable_deviation(grid)


def test_two_point_bump_mixed_equilibrium_minimax() -> None:
    grid = payoff_grid(field("two-point-bump", "minimax"), BUMP_BOX, n=61)
    assert minimax_values(grid).duality_gap > 0.1
    assert_no_profitable_deviation(grid)


def test_non_zero_sum_game_is_refused_for_mixed_equilibria() -> None:
    grid = payoff_grid(field("two-point-bump", "non-saturating"), BUMP_BOX, n=11)
    with pytest.raises(SpecError, match="not zero-sum"):
        mixed_equilibrium(grid)


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("box", "message"),
    [
        ({"theta": (-1.0, 1.0)}, "box misses parameter 'psi'"),
        ({"theta": (-1.0, 1.0), "psi": (1.0, -1.0)}, "low < high"),
        ({"theta": (-1.0, 1.0), "psi": (0.0, float("inf"))}, "finite"),
        ({"theta": (-1.0, 1.0), "psi": (0.0, 1.0), "phi": (0.0, 1.0)}, "unknown parameter 'phi'"),
    ],
)
def test_bad_boxes_raise_one_line(box: dict[str, tuple[float, float]], message: str) -> None:
    with pytest.raises(SpecError, match=message) as info:
        payoff_grid(field("bilinear"), box)
    assert "\n" not in str(info.value)


def test_multi_parameter_game_and_tiny_grid_raise_one_line() -> None:
    vf = derive(make_game("two-point", "minimax", options={"logit": "affine"}))
    with pytest.raises(SpecError, match="has 1 and 2") as info:
        payoff_grid(vf, {"theta": (-1.0, 1.0), "psi_0": (0.0, 1.0)})
    assert "\n" not in str(info.value)
    with pytest.raises(SpecError, match="at least 2"):
        payoff_grid(field("bilinear"), UNIT_BOX, n=1)


def test_overflowing_costs_raise() -> None:
    # refused before any cost is evaluated: the box lies outside the declared finite range
    vf = derive(make_game("dirac", "minimax"))
    with pytest.raises(SpecError, match="must lie in a finite number from -1e12 to 1e12"):
        payoff_grid(vf, {"theta": (-1e200, 1e200), "psi": (-1e200, 1e200)}, n=3)
