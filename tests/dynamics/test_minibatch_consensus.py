"""Consensus optimization with minibatches, against the exact field and its variance bias.

A loop squares its minibatch gradient (Mescheder, Nowozin and Geiger 2017, The Numerics of
GANs, Algorithm 1; their ``ConsensusOptimizer``): ``E[xi_B,k**2] = xi_k**2 + Var(g_k)/m``,
so the expected field is the exact consensus field of
``gamma/2 (|xi|**2 + sum_k Var(g_k)/m)``. On two-point data the variances have closed
forms: a per-sample term ``g(x)`` over ``x = -a, +a`` has ``Var = (g(a) - g(-a))**2 / 4``.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from gandyn.derivation.field import derive
from gandyn.dynamics.minibatch import MinibatchField
from gandyn.games.game import make_game

GAMMA, A = 0.8, 1.0
STATE = np.array([0.4, 0.3, -0.9])  # theta, psi_0, psi_1


def _game() -> object:
    return make_game("two-point", "minimax", [("consensus", {"gamma": GAMMA})],
                     options={"logit": "affine"}, params={"a": A})


def test_a_batch_that_is_the_distribution_gives_the_deterministic_field() -> None:
    """Two-point data drawn once each: the batch means are the expectations."""
    game = _game()
    field = MinibatchField(game, 2, seed=3)
    x = np.array([STATE, [-1.1, 0.7, 0.4], [2.0, -0.5, 1.5]])
    draws_d = field.draw(len(x), 2)
    (data,) = [v for v in draws_d if v.name == "x_data"]
    draws_d[data] = np.tile([-A, A], (len(x), 1))
    got, _ = field.on_draws(x, draws_d, field.draw(len(x), 1))
    np.testing.assert_allclose(got, derive(game).field_fn(x), rtol=1e-12, atol=1e-14)


def test_point_mass_games_equal_the_deterministic_field_on_every_batch() -> None:
    game = make_game("dirac", "non-saturating", [("consensus", {"gamma": 0.6})],
                     params={"c": 0.3})
    x = np.array([[1.0, 0.5], [-0.3, 2.0], [0.0, 0.0]])
    np.testing.assert_allclose(MinibatchField(game, 5, seed=1)(x), derive(game).field_fn(x),
                               rtol=1e-12, atol=1e-14)


def _variance_bias(batch: int) -> np.ndarray:
    """``-gamma/2 grad_own sum_k Var(g_k)/m`` at STATE, from the closed-form variances."""
    theta, p0, p1, x = sp.symbols("theta psi_0 psi_1 x", real=True)
    sigmoid = lambda t: 1 / (1 + sp.exp(-t))  # noqa: E731
    # D's per-sample gradient of softplus(-s(x)) + softplus(s(theta)), s = psi_0 + psi_1 x.
    per_sample = [-sigmoid(-(p0 + p1 * x)) + sigmoid(p0 + p1 * theta),
                  -x * sigmoid(-(p0 + p1 * x)) + theta * sigmoid(p0 + p1 * theta)]
    variance = sum((g.subs(x, A) - g.subs(x, -A)) ** 2 / 4 for g in per_sample)
    # G's gradient has no randomness (a point-mass generator): no term of its own.
    penalty = GAMMA / 2 * variance / batch
    point = dict(zip((theta, p0, p1), STATE, strict=True))
    return -np.array([float(sp.diff(penalty, s).subs(point)) for s in (theta, p0, p1)])


def test_the_expected_minibatch_field_is_the_exact_one_plus_the_variance_bias() -> None:
    game = _game()
    batch, runs = 2, 40000
    samples = MinibatchField(game, batch, seed=11)(np.tile(STATE, (runs, 1)))
    mean = samples.mean(axis=0)
    standard_error = samples.std(axis=0, ddof=1) / np.sqrt(runs)
    exact = derive(game).field_fn(STATE[None, :])[0]
    predicted = exact + _variance_bias(batch)
    assert np.all(np.abs(mean - predicted) <= 5 * standard_error + 1e-12)
    # The bias is seen: the unbiased estimator's expectation is excluded.
    assert np.max(np.abs(mean - exact) / standard_error) > 10


def test_a_game_files_penalty_terms_enter_every_minibatch(tmp_path: object) -> None:
    """A ``penalty`` in the parameters is the same on every batch: with data that is a point
    mass, the minibatch field equals the deterministic one, penalty included, and differs
    from the field of the same file without the penalty by the penalty's own gradient."""
    from pathlib import Path

    from gandyn.games.files import load_game_file

    text = """
name = "dirac-anchored"
[generator]
parameters = ["theta"]
sample = "theta"
penalty = "0.3 * theta**2"
[discriminator]
parameters = ["psi"]
logit = "psi * x"
penalty = "0.2 * psi**4"
[data]
points = ["c"]
[parameters]
c = { value = 0.4 }
"""
    folder = Path(str(tmp_path))
    with_terms, without = folder / "anchored.toml", folder / "plain.toml"
    with_terms.write_text(text)
    without.write_text("\n".join(line for line in text.splitlines()
                                 if not line.startswith("penalty")))
    x = np.array([[1.0, 0.5], [-0.3, 2.0], [0.7, -1.2]])
    game = make_game(load_game_file(with_terms), "non-saturating")
    plain = make_game(load_game_file(without), "non-saturating")
    got = MinibatchField(game, 4, seed=2)(x)
    np.testing.assert_allclose(got, derive(game).field_fn(x), rtol=1e-12, atol=1e-14)
    # F = -grad: the anchor 0.3 theta**2 adds -0.6 theta, the penalty 0.2 psi**4 adds -0.8 psi**3.
    expected_shift = np.stack([-0.6 * x[:, 0], -0.8 * x[:, 1] ** 3], axis=1)
    np.testing.assert_allclose(got - MinibatchField(plain, 4, seed=2)(x), expected_shift,
                               rtol=1e-12, atol=1e-14)
