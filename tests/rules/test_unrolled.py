"""The unrolled GAN: its map Jacobian, its generator gradient and the bilinear game in closed form.

Independent references
----------------------
* Central finite differences of ``step`` for ``map_jacobian`` (Dirac-GAN with the
  minimax and the non-saturating loss, with R1, the Gaussian game, a bilinear game
  with self-terms).
* The generator's gradient against central differences of a hand-written unrolled
  objective of the Dirac-GAN: ``cost_g(theta, psi_k(theta))`` with the look-ahead
  steps written out from the costs (Metz et al. 2017, Sec. 2.2), no gandyn derivative.
* The bilinear game ``cost_g = theta psi``, ``cost_d = -theta psi``, by hand. The
  look-ahead steps ``psi_{i+1} = psi_i - eta d cost_d/d psi = psi_i + eta theta`` give
  ``psi_k = psi + k eta theta``, so the unrolled objective is
  ``theta (psi + k eta theta)`` with theta-derivative ``psi + 2 k eta theta``. With both
  rates ``h`` the step is linear::

      theta' = theta - h (psi + 2 k eta theta),   psi' = psi + h theta,
      M = [[1 - 2 k eta h, -h], [h, 1]],  tr M = 2 - 2 k eta h,  det M = 1 - 2 k eta h + h^2.

  For ``eta = h`` the discriminant of ``lambda^2 - tr lambda + det`` is
  ``4 h^2 (k^2 h^2 - 1)``: for ``k h < 1`` the eigenvalues are complex with modulus
  ``sqrt(det) = sqrt(1 - (2k - 1) h^2)`` (below 1 for every ``k >= 1``, where
  simultaneous GD, ``k = 0``, has ``sqrt(1 + h^2)``); for ``k h >= 1`` they are real,
  ``1 - k h^2 +- h sqrt(k^2 h^2 - 1)``.
* The Dirac-GAN at its equilibrium (``c = 0``, Mescheder et al. 2018, Sec. 2.2): both
  losses have ``d^2 cost_g / dtheta dpsi = -f'(0) = -1/2`` and
  ``d^2 cost_d / dpsi dtheta = 1/2`` there (the rest vanishes), which is the bilinear
  game with ``theta -> -theta`` scaled by ``1/2``; repeating the computation above gives
  ``tr = 2 - 2 k eta h / 4``, ``det = 1 - 2 k eta h / 4 + h^2 / 4``: the bilinear game's
  map at rate ``h / 2`` and look-ahead ``eta / 2``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import pytest

from gandyn.derivation.field import VectorField, derive
from gandyn.equilibria.maps import map_stability
from gandyn.errors import SpecError
from gandyn.games.game import make_game
from gandyn.rules import FieldFunctions, UnrolledGAN, make_rule
from gandyn.runs.build import simulate

LR_G, LR_D = 0.13, 0.29


@functools.cache
def derived(name: str, loss: str | None = None, r1: float = 0.0, **params: float) -> VectorField:
    regs = [("r1", {"gamma": r1})] if r1 else []
    options = {"order": 4} if name == "gaussian" else None
    return derive(make_game(name, loss, regs, params=params or None, options=options))


def central_differences(fn: Callable[[np.ndarray], np.ndarray], x: np.ndarray,
                        eps: float = 1e-6) -> np.ndarray:
    columns = []
    for j in range(x.shape[-1]):
        dx = np.zeros(x.shape[-1])
        dx[j] = eps
        columns.append((fn(x + dx) - fn(x - dx)) / (2 * eps))
    return np.stack(columns, axis=-1)


GAMES = {
    "dirac-minimax": lambda: derived("dirac", "minimax", c=0.7),
    "dirac-ns-r1": lambda: derived("dirac", "non-saturating", 0.4),
    "gaussian": lambda: derived("gaussian", mu=0.3, sigma=0.9),
    "bilinear-ab": lambda: derived("bilinear", a=0.3, b=-0.4),
}


def states(vf: VectorField, rng: np.random.Generator, batch: int) -> np.ndarray:
    n = len(vf.game.state_symbols)
    x = rng.normal(scale=0.6, size=(batch, n))
    if n == 5:  # the Gaussian game: theta_sigma away from 0
        x[:, 1] = rng.uniform(0.5, 1.5, size=batch)
    return x


# The Gaussian game's third derivatives take seconds to derive: kept for the slow run.
@pytest.mark.parametrize("game", [pytest.param(g, marks=pytest.mark.slow) if g == "gaussian" else g
                                  for g in GAMES])
@pytest.mark.parametrize(("unroll", "unroll_lr"), [(1, None), (3, None), (2, 0.4)])
def test_map_jacobian_matches_finite_differences(game: str, unroll: int,
                                                 unroll_lr: float | None) -> None:
    vf = GAMES[game]()
    ff = FieldFunctions.of(vf)
    rule = make_rule("unrolled", LR_G, LR_D, unroll=unroll, unroll_lr=unroll_lr)
    x = states(vf, np.random.default_rng(unroll + 7 * len(game)), 4)
    expected = central_differences(lambda xx: rule.step(ff, xx, {}, 1).x, x)
    np.testing.assert_allclose(rule.map_jacobian(ff, x, {}, 1), expected, rtol=1e-6, atol=1e-8)


def test_generator_gradient_is_the_derivative_of_the_hand_written_unrolled_objective() -> None:
    # Dirac-GAN, non-saturating, data at c: cost_g = softplus(-psi theta),
    # cost_d = softplus(-c psi) + softplus(psi theta), so d cost_d / d psi =
    # -c sigmoid(-c psi) + theta sigmoid(psi theta).
    c, eta, k = 0.7, 0.35, 4

    def sigmoid(t: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-t))

    def unrolled_cost(theta: np.ndarray, psi: np.ndarray) -> np.ndarray:
        for _ in range(k):
            psi = psi - eta * (-c * sigmoid(-c * psi) + theta * sigmoid(psi * theta))
        return np.logaddexp(0.0, -psi * theta)

    vf = derived("dirac", "non-saturating", c=c)
    rule = make_rule("unrolled", 0.1, 0.2, unroll=k, unroll_lr=eta)
    assert isinstance(rule, UnrolledGAN)
    x = np.random.default_rng(3).normal(size=(5, 2))
    eps = 1e-6
    by_hand = (unrolled_cost(x[:, 0] + eps, x[:, 1]) - unrolled_cost(x[:, 0] - eps, x[:, 1])) / (
        2 * eps)
    gradient = rule.generator_gradient(FieldFunctions.of(vf), x)
    np.testing.assert_allclose(gradient[:, 0], by_hand, rtol=1e-7, atol=1e-9)
    # the discriminator takes its ordinary step at (theta, psi)
    step = rule.step(FieldFunctions.of(vf), x, {}, 1).x
    np.testing.assert_allclose(step[:, 1], x[:, 1] + 0.2 * vf.field_fn(x)[:, 1], rtol=1e-14)
    np.testing.assert_allclose(step[:, 0], x[:, 0] - 0.1 * by_hand, rtol=1e-7, atol=1e-9)


def bilinear_radius(k: int, h: float) -> float:
    """Spectral radius of the unrolled map on ``theta psi`` with ``eta = h`` (docstring above)."""
    if k * h < 1:
        return float(np.sqrt(1 - (2 * k - 1) * h * h))
    root = h * np.sqrt(k * k * h * h - 1)
    return float(max(abs(1 - k * h * h + root), abs(1 - k * h * h - root)))


@pytest.mark.parametrize("k", [0, 1, 2, 5])
@pytest.mark.parametrize("h", [0.05, 0.3, 0.9, 1.5])
def test_bilinear_spectral_radius_is_the_closed_form(k: int, h: float) -> None:
    vf = derived("bilinear")
    radius = map_stability(make_rule("unrolled", h, h, unroll=k), FieldFunctions.of(vf),
                           np.zeros(2)).spectral_radius
    assert radius == pytest.approx(bilinear_radius(k, h), rel=1e-12)


@pytest.mark.parametrize(("k", "h", "eta"), [(1, 0.2, 0.2), (3, 0.4, 0.1), (2, 1.2, 0.5)])
def test_bilinear_iterates_are_powers_of_the_hand_map(k: int, h: float, eta: float) -> None:
    result = simulate(game="bilinear", optimizer="unrolled", lr=h, steps=30,
                      settings={"unroll": k, "unroll_lr": eta},
                      starts=[{"theta": 1.0, "psi": -0.5}])
    hand = np.array([[1 - 2 * k * eta * h, -h], [h, 1.0]])
    expected = [np.linalg.matrix_power(hand, t) @ [1.0, -0.5] for t in range(31)]
    np.testing.assert_allclose(result.trajectory.x[0], expected, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("loss", ["minimax", "non-saturating"])
@pytest.mark.parametrize(("k", "h"), [(1, 0.2), (3, 0.6), (2, 1.5)])
def test_dirac_gan_at_its_equilibrium_is_the_bilinear_map_at_half_the_rate(loss: str, k: int,
                                                                            h: float) -> None:
    vf = derived("dirac", loss)
    radius = map_stability(make_rule("unrolled", h, h, unroll=k), FieldFunctions.of(vf),
                           np.zeros(2)).spectral_radius
    half = np.array([[1 - 2 * k * (h / 2) * (h / 2), -h / 2], [h / 2, 1.0]])
    assert radius == pytest.approx(max(abs(np.linalg.eigvals(half))), rel=1e-12)


def test_no_unrolling_is_simultaneous_gradient_descent() -> None:
    vf = derived("dirac", "non-saturating", 0.4)
    ff = FieldFunctions.of(vf)
    x = np.random.default_rng(5).normal(size=(4, 2))
    unrolled, simgd = make_rule("unrolled", LR_G, LR_D, unroll=0), make_rule("simgd", LR_G, LR_D)
    np.testing.assert_array_equal(unrolled.step(ff, x, {}, 1).x, simgd.step(ff, x, {}, 1).x)
    np.testing.assert_array_equal(unrolled.map_jacobian(ff, x, {}, 1),
                                  simgd.map_jacobian(ff, x, {}, 1))


def test_settings_are_checked_and_cross_derivatives_required() -> None:
    for bad in ({"unroll": -1}, {"unroll": 1.5}, {"unroll": 101}, {"unroll_lr": 0.0}):
        with pytest.raises(SpecError, match="optimizer 'unrolled': unroll"):
            make_rule("unrolled", 0.1, 0.1, **bad)
    vf = derived("dirac", "minimax")
    bare = FieldFunctions(vf.field_fn, vf.jacobian_fn, 1)
    with pytest.raises(ValueError, match="the unrolled GAN needs the game's cross gradient"):
        make_rule("unrolled", 0.1, 0.1, unroll=2).step(bare, np.ones((1, 2)), {}, 1)


def test_command_line_runs_the_unrolled_gan(tmp_path: object) -> None:
    from click.testing import CliRunner

    from gandyn.cli.app import cli

    result = CliRunner().invoke(cli, ["simulate", "--game", "bilinear", "--optimizer", "unrolled",
                                      "--unroll", "2", "--unroll-lr", "0.1", "--lr", "0.2",
                                      "--steps", "5", "--dump-spec"])
    assert result.exit_code == 0, result.output
    assert 'name = "unrolled"' in result.output
    assert "unroll = 2" in result.output and "unroll_lr = 0.1" in result.output
    bad = CliRunner().invoke(cli, ["simulate", "--optimizer", "unrolled", "--unroll", "-1"])
    assert bad.exit_code == 2 and "--unroll" in bad.output
