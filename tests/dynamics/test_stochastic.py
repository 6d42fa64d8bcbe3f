"""Tests of the minibatch (stochastic) mode against the exact expectations.

The references are independent of the minibatch code: the exact field comes
from :mod:`gandyn.derivation.field` (finite sums for point masses, Gauss-Hermite of
order 40 for Gaussians), the per-sample identities are written out by hand
in numpy, and every statistical check uses a tolerance of several standard
errors estimated from the samples themselves.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from gandyn.derivation.field import derive
from gandyn.derivation.per_sample import sample_terms
from gandyn.dynamics.discrete import simulate_rule
from gandyn.dynamics.minibatch import MinibatchField, simulate_minibatch
from gandyn.errors import SpecError
from gandyn.games.game import make_game
from gandyn.games.regularizers import AppliedRegularizer, apply_values, get_regularizer
from gandyn.rules import FieldFunctions, make_rule

Array = np.ndarray[Any, np.dtype[np.float64]]
N_SIGMA = 5.0


def _reg(name: str, **values: float | int) -> AppliedRegularizer:
    return apply_values(get_regularizer(name), dict(values))


GAUSS = {"order": 40}
CASES = [
    ("gaussian", GAUSS, "minimax", ()),
    ("gaussian", GAUSS, "non-saturating", ()),
    ("gaussian", GAUSS, "least-squares", ()),
    ("gaussian", GAUSS, "wasserstein", ()),
    ("gaussian", GAUSS, "non-saturating", (_reg("r1", gamma=0.7),)),
    ("gaussian", GAUSS, "non-saturating", (_reg("instance-noise", sigma=0.5, order=40),)),
    ("dirac", None, "non-saturating", (_reg("r1", gamma=0.3),)),
    ("dirac", None, "minimax", (_reg("instance-noise", sigma=0.4, order=40), _reg("r2"))),
    ("two-point", None, "non-saturating", ()),
    ("two-point", {"logit": "affine"}, "minimax", (_reg("r1", gamma=2.0),)),
    ("two-point", {"logit": "quadratic"}, "relativistic", ()),
    ("two-point", {"logit": "affine"}, "wasserstein", (_reg("wgan-gp", gamma=3.0),)),
    # Gauss-Hermite of a kink converges slowly: hinge only where expectations are finite sums.
    ("two-point", {"logit": "quadratic"}, "hinge", ()),
    ("two-point", {"logit": "quadratic"}, "least-squares", (_reg("instance-noise", sigma=0.3),)),
]


def _states(game_name: str, n: int) -> Array:
    rng = np.random.default_rng(12345)
    x = rng.uniform(-0.6, 0.6, size=(3, n))
    if game_name == "gaussian":
        x[:, 1] = [1.3, 0.7, 1.0]  # theta_sigma
        x[:, 4] = [0.05, -0.1, 0.02]  # psi_2 small: the expectations stay finite
    return x


@pytest.mark.parametrize(("name", "options", "loss", "regs"), CASES)
def test_large_batch_matches_exact_field(
    name: str, options: dict[str, Any] | None, loss: str, regs: tuple[AppliedRegularizer, ...]
) -> None:
    game = make_game(name, loss, regs, options=options)
    m = 200_000
    field = MinibatchField(game, m, seed=7)
    n_theta = len(game.theta)
    x = _states(name, len(game.state_symbols))
    exact = derive(game).field_fn(x)
    # Standard errors of the mean from an independent set of per-sample gradients.
    per_d = field.per_sample_grad_d(x, field.draw(3, m))
    per_g = field.per_sample_grad_g(x, field.draw(3, m))
    se = np.concatenate([per_g.std(axis=1), per_d.std(axis=1)], axis=1) / np.sqrt(m)
    estimate = field(x)
    tol = N_SIGMA * se + 1e-9 * (1 + np.abs(exact))
    assert np.all(np.abs(estimate - exact) <= tol), (estimate - exact, se)
    # The per-sample means converge to the same field (F = -(grad_g, grad_d)).
    mean = -np.concatenate([per_g.mean(axis=1), per_d.mean(axis=1)], axis=1)
    assert np.all(np.abs(mean - exact) <= tol)
    assert field.n_theta == n_theta


def test_minibatch_losses_estimate_the_exact_losses() -> None:
    game = make_game("gaussian", "non-saturating", options=GAUSS)
    field = MinibatchField(game, 200_000, seed=3)
    x = _states("gaussian", 5)
    field(x)
    assert field.last_logged is not None
    per = field.per_sample_logged(x, field.draw(3, 200_000))
    se = per.std(axis=1) / np.sqrt(200_000)
    exact = derive(game).logged_fn(x)
    assert np.all(np.abs(field.last_logged - exact) <= N_SIGMA * se + 1e-12)


def _variance_and_se(samples: Array) -> tuple[Array, Array]:
    n = samples.shape[0]
    centred = samples - samples.mean(axis=0)
    var = (centred**2).mean(axis=0)
    m4 = (centred**4).mean(axis=0)
    return var, np.sqrt(np.maximum(m4 - var**2, 0.0) / n)


@pytest.mark.parametrize(("name", "options"), [("gaussian", GAUSS), ("two-point", None)])
def test_variance_scales_like_inverse_batch_size(
    name: str, options: dict[str, Any] | None
) -> None:
    game = make_game(name, "non-saturating", options=options)
    n = len(game.state_symbols)
    x = np.repeat(_states(name, n)[:1], 20_000, axis=0)  # 20000 independent minibatches
    var10, se10 = _variance_and_se(MinibatchField(game, 10, seed=1)(x))
    var40, se40 = _variance_and_se(MinibatchField(game, 40, seed=2)(x))
    random = var10 > 1e-12
    assert random.any()
    ratio = var10[random] / var40[random]
    rel_se = np.hypot(se10[random] / var10[random], se40[random] / var40[random])
    assert np.all(np.abs(ratio - 4.0) <= N_SIGMA * 4.0 * rel_se), (ratio, rel_se)


def test_separate_batch_sizes_for_the_two_players() -> None:
    game = make_game("gaussian", "non-saturating", options=GAUSS)
    x = np.repeat(_states("gaussian", 5)[:1], 20_000, axis=0)
    var_a, _ = _variance_and_se(MinibatchField(game, 10, 10, seed=1)(x))
    var_b, _ = _variance_and_se(MinibatchField(game, 10, 40, seed=1)(x))
    # Only the generator's rows change with batch_size_g, by about a factor 4.
    assert np.all(np.abs(var_a[:2] / var_b[:2] - 4.0) < 0.6)
    assert np.all(np.abs(var_a[2:] / var_b[2:] - 1.0) < 0.15)


def test_non_saturating_identity_per_sample() -> None:
    game = make_game("gaussian", "non-saturating", options=GAUSS)
    field = MinibatchField(game, 64, seed=0)
    x = _states("gaussian", 5)
    raw = field.draw(3, 64)
    draws = {v.name: a for v, a in raw.items()}
    per = field.per_sample_logged(x, raw)
    names = field.logged_names
    theta_mu, theta_sigma, p0, p1, p2 = (x[:, i : i + 1] for i in range(5))
    fake = theta_mu + theta_sigma * draws["z"]
    logit = p0 + p1 * fake + p2 * fake**2
    d_fake, g_loss = per[..., names.index("d_fake")], per[..., names.index("g_loss")]
    np.testing.assert_allclose(d_fake - g_loss, logit, rtol=1e-12, atol=1e-12)
    # The minibatch means obey it too when taken over the same batch.
    np.testing.assert_allclose((d_fake - g_loss).mean(axis=1), logit.mean(axis=1), atol=1e-12)
    for name in ("d_x", "d_gz"):
        values = per[..., names.index(name)]
        assert np.all((values >= 0) & (values <= 1))
    field(x)
    assert field.last_logged is not None
    assert np.all((field.last_logged[:, 3:] >= 0) & (field.last_logged[:, 3:] <= 1))


def test_relativistic_loss_pairs_each_real_sample_with_one_fake() -> None:
    game = make_game("two-point", "relativistic", options={"logit": "affine"})
    field = MinibatchField(game, 32, seed=4)
    x = np.array([[0.3, 0.2, -0.7]])
    draws = field.draw(1, 32)
    per = field.per_sample_logged(x, draws)
    data = next(a for v, a in draws.items() if v.name == "x_data")
    real = 0.2 - 0.7 * data
    fake = 0.2 - 0.7 * 0.3
    expected = np.logaddexp(0.0, fake - real) / 2
    names = field.logged_names
    np.testing.assert_allclose(per[..., names.index("d_real")], expected, rtol=1e-12)
    np.testing.assert_allclose(per[..., names.index("d_fake")], expected, rtol=1e-12)
    np.testing.assert_allclose(
        per[..., names.index("g_loss")], np.logaddexp(0.0, real - fake), rtol=1e-12
    )


def test_sample_sides() -> None:
    terms = sample_terms(make_game("gaussian", "minimax", (_reg("wgan-gp"),)))
    assert [v.name for v, _ in terms.real_variables] == ["x_data"]
    assert [v.name for v, _ in terms.fake_variables] == ["z"]
    assert [v.name for v, _ in terms.extra_variables] == ["epsilon_gp"]
    assert not terms.cost_g.has(*(v for v, _ in terms.real_variables))


def test_same_seed_same_trajectory_other_seed_differs() -> None:
    game = make_game("gaussian", "non-saturating")
    x0 = np.array([[1.0, 1.5, 0.0, 0.0, 0.0], [0.5, 1.0, 0.1, 0.0, 0.0]])

    def run(seed: int, rule: str = "adam") -> Any:
        return simulate_minibatch(game, rule, 0.01, 0.01, x0, 30, batch_size=8, seed=seed,
                                  every=5)

    a, b, c = run(0), run(0), run(1)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.logged, b.logged)
    assert not np.allclose(a.x[:, -1], c.x[:, -1])
    assert a.measure == "loop"
    assert a.method["batch_size_d"] == 8 and a.method["seed"] == 0
    # Runs in a batch get independent noise: two equal starts part ways.
    twin = simulate_minibatch(game, "simgd", 0.05, 0.05, np.repeat(x0[:1], 2, axis=0), 10,
                              batch_size=4)
    assert not np.allclose(twin.x[0, -1], twin.x[1, -1])


def test_large_batches_follow_the_exact_rule() -> None:
    game = make_game("two-point", "non-saturating")
    x0 = np.array([[0.5, 0.5]])
    vf = derive(game)
    for rule in ("simgd", "altgd", "extragradient"):
        exact = simulate_rule(
            make_rule(rule, 0.1, 0.1), FieldFunctions(vf.field_fn, vf.jacobian_fn, 1),
            vf.logged_fn, x0, 10, measure="loop", state_names=("theta", "psi"),
            logged_names=vf.logged_names,
        )
        noisy = simulate_minibatch(game, rule, 0.1, 0.1, x0, 10, batch_size=200_000, seed=5)
        np.testing.assert_allclose(noisy.x, exact.x, atol=5e-3)
        # The losses logged are those at the states each player's gradient saw.
        np.testing.assert_allclose(noisy.logged, exact.logged, atol=5e-3)


def test_divergence_is_a_result() -> None:
    game = make_game("dirac", "wasserstein")
    traj = simulate_minibatch(game, "simgd", 10.0, 10.0, np.array([1.0, 1.0]), 200,
                              batch_size=2, max_norm=1e3)
    assert traj.diverged.all()
    assert np.isfinite(traj.diverged_at).all()


def _one_line(exc: pytest.ExceptionInfo[SpecError]) -> str:
    message = str(exc.value)
    assert "\n" not in message and message
    return message


def test_unsupported_games_raise_one_line_errors() -> None:
    # Nagarajan-Kolter is a function of the expected gradient (consensus is estimated).
    with pytest.raises(SpecError) as gradient_norm:
        MinibatchField(make_game("dirac", "minimax", (_reg("nagarajan-kolter"),)), 4)
    assert "nagarajan-kolter" in _one_line(gradient_norm)
    with pytest.raises(SpecError) as bilinear:
        sample_terms(make_game("bilinear"))
    assert "bilinear" in _one_line(bilinear)
    game = make_game("dirac")
    for sizes in ((0, None), (4, 0), (-3, 5)):
        with pytest.raises(SpecError) as bad:
            MinibatchField(game, *sizes)
        _one_line(bad)
    with pytest.raises(SpecError):
        simulate_minibatch(game, "simgd", 0.1, 0.1, np.zeros((1, 2)), 5, batch_size=0)
