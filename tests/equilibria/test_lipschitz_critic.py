"""The nonparametric 1-Lipschitz critic by LP (gandyn.equilibria.lipschitz_critic).

References checked against: ``scipy.stats.wasserstein_distance`` (W1 on the
line from the quantile functions, an independent computation), the
assignment problem for equal-size uniform samples in the plane (W1 is the
mean cost of the best matching: Birkhoff-von Neumann, Villani 2009, Ch. 5),
and the closed forms ``W1(delta_x, delta_y) = |x - y|`` and
``W1(1/2 delta_{-a} + 1/2 delta_a, delta_theta) = max(|theta|, a)``.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment
from scipy.stats import wasserstein_distance

from gandyn.equilibria.lipschitz_critic import (
    critic_dynamics,
    critic_game,
    critic_game_of,
    generator_best_response,
    optimal_critic,
    two_point_critic_game,
)
from gandyn.errors import SpecError


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_w1_on_the_line_matches_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    real, fake = rng.normal(size=25), rng.normal(1.0, 2.0, size=17)
    w_real, w_fake = rng.random(25), rng.random(17)
    w_real, w_fake = w_real / w_real.sum(), w_fake / w_fake.sum()
    critic = optimal_critic(real, fake, w_real, w_fake)
    assert critic.value == pytest.approx(wasserstein_distance(real, fake, w_real, w_fake),
                                         rel=1e-9)
    # The critic is 1-Lipschitz and attains the value (E_real f - E_fake f).
    f = critic(critic.support)
    np.testing.assert_allclose(f, critic.values, atol=1e-12)
    steps = np.abs(np.diff(critic.values)) - np.diff(critic.support[:, 0])
    assert np.all(steps <= 1e-9)
    assert w_real @ critic(real) - w_fake @ critic(fake) == pytest.approx(critic.value, rel=1e-9)


def test_w1_between_point_masses_and_the_two_point_data() -> None:
    assert optimal_critic([0.3], [-1.2]).value == pytest.approx(1.5)
    for theta in np.linspace(-3, 3, 13):
        value = optimal_critic([-1.5, 1.5], [theta]).value
        assert value == pytest.approx(max(abs(theta), 1.5), abs=1e-12)


def test_w1_in_the_plane_matches_the_assignment_problem() -> None:
    rng = np.random.default_rng(5)
    real, fake = rng.normal(size=(7, 2)), rng.normal(0.5, 1.0, size=(7, 2))
    cost = np.linalg.norm(real[:, None, :] - fake[None, :, :], axis=-1)
    rows, cols = linear_sum_assignment(cost)
    assert optimal_critic(real, fake).value == pytest.approx(cost[rows, cols].mean(), rel=1e-9)


def test_generator_hops_between_the_data_points() -> None:
    # From 0.5 the critic is highest at -1; from -1 at +1, and back: a 2-cycle, W1 = a = 1 at
    # every data point (and at 0.5: max(0.5, 1) = 1).
    dynamics = critic_dynamics([-1.0, 1.0], 0.5, (-2.0, 2.0))
    assert dynamics.thetas[1:] == (-1.0, 1.0, -1.0)
    assert dynamics.cycle_length == 2
    assert dynamics.distances == pytest.approx([1.0] * len(dynamics.thetas))
    critic = optimal_critic([-1.0, 1.0], [1.0])
    assert generator_best_response(critic, (-2.0, 2.0)) == -1.0


def test_one_point_generator_has_no_pure_equilibrium_and_two_points_do() -> None:
    one = two_point_critic_game(a=1.0, generator_points=1, grid_points=21)
    assert one.min_max == pytest.approx(1.0) and one.max_min == 0.0
    assert not one.pure_nash and one.gap_lower_bound == pytest.approx(1.0)
    assert abs(one.theta_min_max[0]) <= 1.0 + 1e-12  # any theta in [-a, a] attains W1 = a
    assert one.mixed_value == pytest.approx(0.0, abs=1e-12)
    two = two_point_critic_game(a=1.0, generator_points=2, grid_points=21)
    assert two.pure_nash and two.min_max == pytest.approx(0.0, abs=1e-12)
    assert two.theta_min_max == pytest.approx((-1.0, 1.0))


def test_gap_bound_holds_for_random_critics() -> None:
    # gap(theta, f) = W1(data, delta_theta) - E_data f + max f >= a for every 1-Lipschitz f.
    rng = np.random.default_rng(11)
    box = np.linspace(-2.0, 2.0, 401)
    for _ in range(50):
        slope, centre, phase = rng.uniform(-1, 1), rng.uniform(-2, 2), rng.uniform(0, 6)
        f = slope * np.abs(box - centre) + 0.5 * np.sin(box + phase) * (1 - abs(slope))
        assert np.all(np.abs(np.diff(f)) <= np.diff(box) + 1e-12)
        f_at = dict(zip(box.round(6), f, strict=True))
        theta = rng.uniform(-2, 2)
        gap = (max(abs(theta), 1.0) - (f_at[-1.0] + f_at[1.0]) / 2 + f.max())
        assert gap >= 1.0 - 1e-12


def test_bad_input_is_refused() -> None:
    with pytest.raises(SpecError, match="sum to 1"):
        optimal_critic([0.0, 1.0], [0.5], real_weights=[0.2, 0.2])
    with pytest.raises(SpecError, match="differ in dimension"):
        optimal_critic(np.zeros((2, 2)), [0.5])
    with pytest.raises(SpecError, match="must contain"):
        two_point_critic_game(a=1.0, box=(-0.5, 0.5))
    with pytest.raises(SpecError, match="finite"):
        optimal_critic([np.nan], [0.0])


def test_critic_game_of_catalogue_games() -> None:
    from gandyn.games.game import make_game

    box = {"theta": (-2.0, 2.0), "psi": (-1.0, 1.0)}
    found = critic_game_of(make_game("two-point", "wasserstein", params={"a": 1.5}), box,
                           grid_points=21)
    assert found is not None
    solved, dynamics = found
    # min_theta max(|theta|, a) = a, no pure equilibrium; the generator hops between +-a.
    assert solved.min_max == pytest.approx(1.5) and not solved.pure_nash
    assert solved.gap_lower_bound == pytest.approx(1.5) and solved.mixed_value == 0.0
    assert dynamics.cycle_length == 2 and set(dynamics.thetas[1:]) == {-1.5, 1.5}
    # The Dirac-GAN's data is one point (c = 0.5): the generator reproduces it, W1 = 0 there.
    dirac = critic_game_of(make_game("dirac", "wasserstein", params={"c": 0.5}), box,
                           grid_points=21)
    assert dirac is not None and dirac[0].pure_nash
    assert dirac[0].theta_min_max == pytest.approx((0.5,))
    # Other losses and regularized games have a different nonparametric discriminator.
    assert critic_game_of(make_game("two-point", "minimax"), box) is None
    assert critic_game_of(make_game("two-point", "wasserstein", ["r1"]), box) is None
    assert critic_game_of(make_game("gaussian", "wasserstein"), box) is None


def test_critic_game_with_weighted_data() -> None:
    # Data 0 (1/4) and 2 (3/4): W1(data, delta_theta) = |theta|/4 + 3|theta - 2|/4 is smallest
    # at the weighted median theta = 2, with value 1/2.
    solved = critic_game([0.0, 2.0], (-1.0, 3.0), [0.25, 0.75], grid_points=9)
    assert solved.min_max == pytest.approx(0.5) and solved.theta_min_max == (2.0,)
    assert solved.gap_lower_bound == pytest.approx(0.5)
    outside = critic_game([0.0, 2.0], (-1.0, 1.0), [0.25, 0.75], grid_points=9)
    assert outside.max_min is None and outside.mixed_value is None and not outside.pure_nash
    assert outside.min_max == pytest.approx(0.25 * 1 + 0.75 * 1)
