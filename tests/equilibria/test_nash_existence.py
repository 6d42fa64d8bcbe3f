"""Nash existence with several parameters per player (gandyn.equilibria.nash_existence).

Closed forms used below (derived here unless a source is named):

* hide and seek in the plane, ``V = |theta - psi|**2`` on ``[-1, 1]**2`` for
  each player (G minimizes, D maximizes): at a state the Nikaido-Isoda gap
  is ``max_psi' V - min_theta' V = (1 + |theta_1|)**2 + (1 + |theta_2|)**2``,
  smallest (2) at ``theta = 0``; ``min max = 2``, ``max min = 0``. Against a
  mixed ``q`` the generator's best reply is ``theta = E_q psi`` and the
  payoff the variance ``E_q |psi|**2 - |E_q psi|**2 <= 2``, with equality
  only on the corners; against ``theta = 0`` the discriminator gets
  ``|psi|**2 <= 2``. The mixed value is 2, the generator's optimal strategy
  the centre;
* continuous matching pennies, ``V = cos(theta - psi)`` on ``[0, 2 pi]``:
  ``min max = 1``, ``max min = -1`` (the pennies' payoffs), mixed value 0
  (``theta`` uniform on ``{0, pi}`` makes ``E V = 0`` for every ``psi``);
* the Gaussian game with the minimax loss: the discriminator's best
  response is the log-density ratio of ``N(mu, sigma**2)`` to
  ``N(theta_mu, theta_sigma**2)``, which is quadratic (Goodfellow et al. 2014,
  Prop. 1: ``D* = p_data / (p_data + p_g)``); at ``theta = (mu, sigma)``,
  ``psi = 0`` both players best-respond and ``-cost_d = -log 4`` (ibid., Thm. 1);
* the Gaussian game with the Wasserstein loss: ``V = psi_1 (mu - theta_mu) +
  psi_2 (mu**2 + sigma**2 - theta_mu**2 - theta_sigma**2)`` is linear in
  ``psi``, so the discriminator's best response is a corner of its box;
* two-point data ``+-1``, one-point generator, quadratic logit, Wasserstein
  loss: ``V = -psi_1 theta + psi_2 (1 - theta**2)``; on ``psi in [-1, 1]**3``,
  ``max_psi V = |theta| + |1 - theta**2| >= 1`` (equality at ``theta = 0, +-1``)
  and ``max_psi min_theta V = 0`` on ``theta in [-2, 2]``; the mixed value is 0
  and any optimal mixed generator has ``E theta = 0``, ``E theta**2 = 1``.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from gandyn.derivation.field import VectorField, derive
from gandyn.equilibria.nash_existence import (
    MAX_STRATEGY_PAIRS,
    GameInBox,
    best_response,
    best_response_dynamics,
    discretize,
    game_in_box,
    nash_existence,
    nikaido_isoda_gap,
    pure_nash_search,
    solve_discretized,
)
from gandyn.errors import SpecError
from gandyn.games.files import load_game_file
from gandyn.games.game import GameDefinition, make_game

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SQUARE = {name: (-1.0, 1.0) for name in ("theta_1", "theta_2", "psi_1", "psi_2")}
GAUSSIAN_BOX = {"theta_mu": (-2.0, 2.0), "theta_sigma": (0.25, 3.0), "psi_0": (-3.0, 3.0),
                "psi_1": (-3.0, 3.0), "psi_2": (-3.0, 3.0)}


@functools.cache
def hide_and_seek_2d() -> GameInBox:
    return game_in_box(derive(make_game(load_game_file(EXAMPLES / "hide-and-seek-2d.toml"))),
                       SQUARE)


@functools.cache
def gaussian(loss: str, order: int = 12, mu: float = 0.5, sigma: float = 0.8) -> VectorField:
    return derive(make_game("gaussian", loss, options={"order": order},
                            params={"mu": mu, "sigma": sigma}))


def direct_game(name: str, theta: tuple[str, ...], psi: tuple[str, ...], cost_g: str,
                cost_d: str) -> VectorField:
    symbols = {n: sp.Symbol(n, real=True) for n in theta + psi}
    g, d = (sp.sympify(text, locals=symbols) for text in (cost_g, cost_d))
    definition = GameDefinition(name=name, title=name, reference="test", theta=tuple(
        symbols[n] for n in theta), psi=tuple(symbols[n] for n in psi), params=(),
        direct_costs=(g, d))
    return derive(make_game(definition))


def assert_no_profitable_deviation(game: GameInBox, points: int) -> None:
    """The LP's strategies: no pure strategy of either player beats the value."""
    from gandyn.equilibria.grid_nash import mixed_equilibrium

    eq = mixed_equilibrium(discretize(game, points).grid)
    assert np.all(eq.payoff @ eq.q >= eq.value - 1e-8)
    assert np.all(eq.p @ eq.payoff <= eq.value + 1e-8)


# --- hide and seek in the plane: no pure equilibrium, two parameters per player -----------------


def test_gap_of_hide_and_seek_is_its_closed_form() -> None:
    game = hide_and_seek_2d()
    rng = np.random.default_rng(3)
    for x in rng.uniform(-1, 1, size=(6, 4)):
        gap, (g_dev, d_dev) = nikaido_isoda_gap(game, x)
        expected = (1 + abs(x[0])) ** 2 + (1 + abs(x[1])) ** 2
        assert gap == pytest.approx(expected, abs=1e-9)
        # The generator's best reply is to stand on the hider; the hider runs to the far corner.
        assert list(g_dev.to.values()) == pytest.approx(list(x[2:]), abs=1e-7)
        assert list(d_dev.to.values()) == [-np.sign(x[0]), -np.sign(x[1])]


def test_hide_and_seek_has_no_pure_equilibrium_and_the_gap_is_the_duality_gap() -> None:
    verdict = pure_nash_search(hide_and_seek_2d(), n_starts=16)
    assert verdict.verdict == "none-found"
    # min over states of the gap = min max - max min = 2 - 0, at theta = 0.
    assert verdict.gap == pytest.approx(2.0, abs=1e-7)
    assert [verdict.point["theta_1"], verdict.point["theta_2"]] == pytest.approx([0, 0], abs=1e-6)
    generator, discriminator = verdict.deviations
    assert generator.gain == pytest.approx(0.0, abs=1e-9)
    assert discriminator.gain == pytest.approx(2.0 - (verdict.point["psi_1"] ** 2
                                                      + verdict.point["psi_2"] ** 2), abs=1e-7)
    assert {abs(v) for v in discriminator.to.values()} == {1.0}


def test_best_responses_cycle_through_opposite_corners() -> None:
    game = hide_and_seek_2d()
    dynamics = best_response_dynamics(game, start=np.array([0.5, 0.0, -0.5, 0.0]))
    assert dynamics.outcome == "cycle" and dynamics.cycle_length == 2
    last, before = dynamics.states[-1], dynamics.states[-2]
    # The seeker sits where the hider was; the hider at the corner opposite the seeker.
    np.testing.assert_allclose(np.abs(last), 1.0)
    np.testing.assert_allclose(last[2:], -last[:2])
    np.testing.assert_allclose(before, -last)


def test_mixed_equilibrium_of_discretized_hide_and_seek() -> None:
    game = hide_and_seek_2d()
    solved = solve_discretized(game, discretize(game, 5))
    assert solved.strategies == (25, 25) and solved.pure_equilibria == 0
    assert (solved.min_max, solved.max_min, solved.duality_gap) == pytest.approx((2, 0, 2))
    assert solved.value == pytest.approx(2.0, abs=1e-9)
    ((theta, p),) = solved.theta_support
    assert p == pytest.approx(1.0) and list(theta.values()) == pytest.approx([0, 0], abs=1e-12)
    for psi, _ in solved.psi_support:
        assert {abs(v) for v in psi.values()} == {1.0}
    assert_no_profitable_deviation(game, 5)


# --- continuous matching pennies -----------------------------------------------------------------


def test_continuous_matching_pennies() -> None:
    vf = direct_game("pennies", ("theta",), ("psi",), "cos(theta - psi)", "-cos(theta - psi)")
    game = game_in_box(vf, {"theta": (0.0, 2 * np.pi), "psi": (0.0, 2 * np.pi)})
    result = nash_existence(game, n_starts=6, points=5)
    assert result.pure.verdict == "none-found"
    assert result.pure.gap == pytest.approx(2.0, abs=1e-7)
    assert result.dynamics.outcome == "cycle"
    disc = result.discretized
    assert (disc.min_max, disc.max_min) == pytest.approx((1.0, -1.0))
    assert disc.value == pytest.approx(0.0, abs=1e-9)
    assert_no_profitable_deviation(game, 5)


# --- the Gaussian game: mean and scale against a quadratic discriminator -------------------------


def log_density_ratio(theta_mu: float, theta_sigma: float, mu: float, sigma: float) -> list[float]:
    """log N(x; mu, sigma^2) - log N(x; theta_mu, theta_sigma^2) as (psi_0, psi_1, psi_2)."""
    return [theta_mu**2 / (2 * theta_sigma**2) - mu**2 / (2 * sigma**2)
            + np.log(theta_sigma / sigma),
            mu / sigma**2 - theta_mu / theta_sigma**2,
            1 / (2 * theta_sigma**2) - 1 / (2 * sigma**2)]


def test_gaussian_discriminator_best_response_is_the_log_density_ratio() -> None:
    # Order-12 Gauss-Hermite expectations of log-sigmoids: a few 1e-3 off (see the slow test).
    game = game_in_box(gaussian("minimax"), GAUSSIAN_BOX)
    for theta in ([-0.3, 1.2], [1.0, 0.6]):
        response = best_response(game, "discriminator", np.array([*theta, 0.0, 0.0, 0.0]))
        np.testing.assert_allclose(response.strategy, log_density_ratio(*theta, 0.5, 0.8),
                                   atol=5e-3)


@pytest.mark.slow
def test_gaussian_discriminator_best_response_converges_with_the_quadrature_order() -> None:
    game = game_in_box(gaussian("minimax", order=40), GAUSSIAN_BOX)
    response = best_response(game, "discriminator", np.array([-0.3, 1.2, 0.0, 0.0, 0.0]))
    np.testing.assert_allclose(response.strategy, log_density_ratio(-0.3, 1.2, 0.5, 0.8),
                               atol=1e-5)


def test_gaussian_pure_equilibrium_at_the_data_with_value_minus_log_4() -> None:
    game = game_in_box(gaussian("minimax"), GAUSSIAN_BOX)
    verdict = pure_nash_search(game, n_starts=8)
    assert verdict.verdict == "exists" and verdict.gap <= verdict.tol
    point = np.array(list(verdict.point.values()))
    np.testing.assert_allclose(point, [0.5, 0.8, 0.0, 0.0, 0.0], atol=1e-6)
    # Goodfellow et al. (2014), Thm. 1: the virtual criterion's minimum is -log 4 (= -cost_d).
    assert -game.costs(point)[1] == pytest.approx(-np.log(4.0), abs=1e-9)
    # An equilibrium is a fixed point of the dynamics: each player already best-responds.
    assert best_response_dynamics(game, start=point, rounds=3).outcome == "converged"


def test_gaussian_discretized_value_is_minus_log_4() -> None:
    # The grid holds theta = (0, 1) (the data N(0, 1)) and psi = 0.
    box = {"theta_mu": (-2.0, 2.0), "theta_sigma": (0.0, 2.0), "psi_0": (-2.0, 2.0),
           "psi_1": (-2.0, 2.0), "psi_2": (-2.0, 2.0)}
    game = game_in_box(gaussian("minimax", mu=0.0, sigma=1.0), box)
    solved = solve_discretized(game, discretize(game, 5))
    assert solved.pure_equilibria >= 1
    assert solved.min_max == pytest.approx(-np.log(4.0), abs=1e-9)
    assert solved.max_min == pytest.approx(-np.log(4.0), abs=1e-9)
    assert solved.value == pytest.approx(-np.log(4.0), abs=1e-9)


def test_wasserstein_gaussian_discriminator_answers_at_a_corner() -> None:
    game = game_in_box(gaussian("wasserstein"), GAUSSIAN_BOX)
    mu, sigma = 0.5, 0.8
    for theta_mu, theta_sigma in ([-0.3, 1.2], [1.0, 0.6], [0.9, 0.1 + 0.25]):
        response = best_response(game, "discriminator",
                                 np.array([theta_mu, theta_sigma, 0.0, 0.0, 0.0]))
        expected = [3.0 * np.sign(mu - theta_mu),
                    3.0 * np.sign(mu**2 + sigma**2 - theta_mu**2 - theta_sigma**2)]
        np.testing.assert_allclose(response.strategy[1:], expected, atol=1e-9)
    verdict = pure_nash_search(game, n_starts=8)
    assert verdict.verdict == "exists"
    assert [verdict.point["theta_mu"], verdict.point["theta_sigma"]] == pytest.approx(
        [mu, sigma], abs=1e-6)


def test_gaussian_generator_too_narrow_for_the_data_has_no_pure_equilibrium() -> None:
    # Data N(0, 1), Wasserstein loss, generator scale capped at 0.5, psi in [-1, 1]^3:
    # V = -psi_1 theta_mu + psi_2 (1 - theta_mu^2 - theta_sigma^2) (exact: polynomial moments),
    # max_psi V = |theta_mu| + |1 - theta_mu^2 - theta_sigma^2|, smallest (0.75 = 1 - 0.5^2) at
    # theta = (0, 0.5); max_psi min_theta V = 0 (any psi_1 or psi_2 != 0 lets the generator make
    # V negative). No pure equilibrium: two parameters for the generator, three for the critic.
    # A mixture of generators matches both moments (E theta_mu = 0, E theta_mu^2 + theta_sigma^2
    # = 1), so the mixed value is 0.
    vf = derive(make_game("gaussian", "wasserstein", params={"mu": 0.0, "sigma": 1.0}))
    box = {"theta_mu": (-2.0, 2.0), "theta_sigma": (0.1, 0.5), "psi_0": (-1.0, 1.0),
           "psi_1": (-1.0, 1.0), "psi_2": (-1.0, 1.0)}
    result = nash_existence(game_in_box(vf, box), n_starts=8, points=9)
    assert result.pure.verdict == "none-found"
    assert result.pure.gap == pytest.approx(0.75, abs=1e-7)
    assert result.pure.values is not None
    assert result.pure.values.min_max == pytest.approx(0.75, abs=1e-7)
    assert result.pure.values.max_min == pytest.approx(0.0, abs=1e-7)
    assert list(result.pure.values.theta.values()) == pytest.approx([0.0, 0.5], abs=1e-6)
    disc = result.discretized
    assert (disc.min_max, disc.max_min) == pytest.approx((0.75, 0.0), abs=1e-12)
    assert disc.value == pytest.approx(0.0, abs=1e-9)
    weights = np.array([p for _, p in disc.theta_support])
    mean = np.array([s["theta_mu"] for s, _ in disc.theta_support])
    scale = np.array([s["theta_sigma"] for s, _ in disc.theta_support])
    assert weights @ mean == pytest.approx(0.0, abs=1e-8)
    assert weights @ (mean**2 + scale**2) == pytest.approx(1.0, abs=1e-8)


# --- two-point data, quadratic discriminator: several discriminator parameters, no pure NE -------


def test_two_point_quadratic_wasserstein_game_has_no_pure_equilibrium() -> None:
    vf = derive(make_game("two-point", "wasserstein", options={"logit": "quadratic"}))
    box = {"theta": (-2.0, 2.0), "psi_0": (-1.0, 1.0), "psi_1": (-1.0, 1.0),
           "psi_2": (-1.0, 1.0)}
    game = game_in_box(vf, box)
    result = nash_existence(game, n_starts=12, points=9)
    assert result.pure.verdict == "none-found"
    # min over states of the duality gap = min max - max min = 1 - 0.
    assert result.pure.gap == pytest.approx(1.0, abs=1e-7)
    assert result.dynamics.outcome in ("cycle", "no-convergence")
    disc = result.discretized
    assert (disc.min_max, disc.max_min) == pytest.approx((1.0, 0.0), abs=1e-12)
    assert disc.value == pytest.approx(0.0, abs=1e-9)
    thetas = np.array([s["theta"] for s, _ in disc.theta_support])
    weights = np.array([p for _, p in disc.theta_support])
    assert weights @ thetas == pytest.approx(0.0, abs=1e-8)
    assert weights @ thetas**2 == pytest.approx(1.0, abs=1e-8)


# --- a general-sum game with a pure equilibrium --------------------------------------------------


def test_general_sum_follower_game() -> None:
    # G chases D (cost |theta - psi|^2), D goes to c = (0.5, -0.25): the equilibrium is
    # theta = psi = c, and the gap at a state is |theta - psi|^2 + |psi - c|^2.
    vf = direct_game("follow", ("t1", "t2"), ("p1", "p2"), "(t1 - p1)**2 + (t2 - p2)**2",
                     "(p1 - 1/2)**2 + (p2 + 1/4)**2")
    assert not vf.game.zero_sum
    game = game_in_box(vf, {n: (-1.0, 1.0) for n in ("t1", "t2", "p1", "p2")})
    x = np.array([0.1, 0.2, -0.3, 0.4])
    gap, _ = nikaido_isoda_gap(game, x)
    assert gap == pytest.approx((0.4**2 + 0.2**2) + (0.8**2 + 0.65**2), abs=1e-9)
    result = nash_existence(game, n_starts=8, points=3)
    assert result.pure.verdict == "exists"
    assert list(result.pure.point.values()) == pytest.approx([0.5, -0.25, 0.5, -0.25], abs=1e-6)
    assert result.dynamics.outcome == "converged"
    assert result.discretized.value is None and result.discretized.min_max is None


# --- bad input -----------------------------------------------------------------------------------


def test_bad_boxes_and_grids_are_refused() -> None:
    vf = derive(make_game(load_game_file(EXAMPLES / "hide-and-seek-2d.toml")))
    with pytest.raises(SpecError, match="misses parameter 'psi_2'"):
        game_in_box(vf, {k: v for k, v in SQUARE.items() if k != "psi_2"})
    with pytest.raises(SpecError, match="unknown parameter 'zeta'"):
        game_in_box(vf, {**SQUARE, "zeta": (0.0, 1.0)})
    with pytest.raises(SpecError, match="low < high"):
        game_in_box(vf, {**SQUARE, "psi_1": (1.0, -1.0)})
    points = int(np.ceil(MAX_STRATEGY_PAIRS ** 0.25)) + 1
    with pytest.raises(SpecError, match="`nash_grid`"):
        discretize(hide_and_seek_2d(), points)


def test_discretized_costs_do_not_depend_on_the_chunking(monkeypatch: pytest.MonkeyPatch) -> None:
    import gandyn.equilibria.nash_existence as module

    game = hide_and_seek_2d()
    monkeypatch.setattr(module, "STATES_PER_CHUNK", 7)
    disc = discretize(game, 3)
    closed = np.sum((disc.theta[:, None, :] - disc.psi[None, :, :]) ** 2, axis=-1)
    np.testing.assert_allclose(disc.grid.cost_g, closed, atol=1e-12)
    np.testing.assert_allclose(disc.grid.cost_d, -closed, atol=1e-12)


def test_a_game_written_in_numpy_uses_central_differences() -> None:
    # Hide and seek on the line, V = (theta - psi)^2, with no gradient given: the gap at
    # (theta, psi) is (1 + |theta|)^2, and best responses are psi (seeker) and -sign(theta).
    def costs(x: np.ndarray) -> np.ndarray:
        value = (x[..., 0] - x[..., 1]) ** 2
        return np.stack([value, -value], axis=-1)

    game = GameInBox(("theta",), ("psi",), costs, np.array([-1.0, -1.0]), np.array([1.0, 1.0]),
                     zero_sum=True)
    # xi = (d f_G / d theta, d f_D / d psi) = (2 (theta - psi), 2 (theta - psi)).
    np.testing.assert_allclose(game.xi(np.array([0.3, -0.2])), [1.0, 1.0], rtol=1e-6)
    gap, (g_dev, d_dev) = nikaido_isoda_gap(game, np.array([0.3, -0.2]))
    assert gap == pytest.approx(1.3**2, abs=1e-9)
    assert g_dev.to["theta"] == pytest.approx(-0.2, abs=1e-7) and d_dev.to["psi"] == -1.0
    with pytest.raises(ValueError, match="player"):
        best_response(game, "critic", np.zeros(2))


def test_many_parameters_per_player() -> None:
    # Seven parameters each (past the tensor grid of the cost scale): G chases D, D goes to
    # c_i = i / 10; the equilibrium is theta = psi = c.
    theta = tuple(f"t{i}" for i in range(7))
    psi = tuple(f"p{i}" for i in range(7))
    vf = direct_game("follow-7", theta, psi,
                     " + ".join(f"(t{i} - p{i})**2" for i in range(7)),
                     " + ".join(f"(p{i} - {i}/10)**2" for i in range(7)))
    game = game_in_box(vf, {n: (-1.0, 1.0) for n in theta + psi})
    verdict = pure_nash_search(game, n_starts=4)
    assert verdict.verdict == "exists"
    expected = [i / 10 for i in range(7)] * 2
    assert list(verdict.point.values()) == pytest.approx(expected, abs=1e-6)
