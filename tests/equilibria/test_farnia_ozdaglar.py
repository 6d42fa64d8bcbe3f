"""Wasserstein GANs without a pure Nash equilibrium, after Farnia and Ozdaglar (2020).

What we could read of the paper (Farnia and Ozdaglar, "Do GANs always have
Nash equilibria?", ICML 2020; arXiv 2002.09124, "GANs May Have No Nash
Equilibria") is its abstract: GAN zero-sum games may have no (local) Nash
equilibria, and the optimal generator of a Wasserstein GAN gives a *proximal*
equilibrium. The body (its theorems, their numbers and its examples) was not
reachable from here, so nothing below cites a theorem or an equation of
theirs: the games and their verdicts are **our derivation**, in the setting
the abstract names (a GAN whose generator cannot represent the data).

The games (``examples/wgan-quadratic-critic.toml``,
``examples/wgan-gaussian-affine.toml``, loss ``wasserstein``): a quadratic
critic ``D(x) = psi_1 x + psi_2 x**2`` on ``|psi_k| <= 1``, which sees the
first two moments only, and the value ``V = E D(x_data) - E D(G(z))``
(D maximizes, G minimizes).

**Two-point data, translation generator.** Data ``+-a``, ``G(z) = z +
theta`` with ``z ~ N(0, 1)``: ``E x = 0``, ``E x**2 = a**2``, ``E G = theta``,
``E G**2 = 1 + theta**2``, so with ``c2 = a**2 - 1``

``V = -psi_1 theta + psi_2 (c2 - theta**2)``.

* D's best response is ``psi = (-sign theta, sign(c2 - theta**2))``, so
  ``max_psi V = |theta| + |c2 - theta**2|`` and, on ``theta in [-R, R]``
  with ``R >= c``, ``min max = min(c2, c)`` for ``a > 1`` (``c = sqrt c2``;
  the function is concave on ``[0, c]`` and increasing after it), at
  ``theta = 0`` when ``c2 <= 1`` and ``theta = +-c`` when ``c2 >= 1``.
* ``max min = 0``: for ``psi_2 > 0`` G goes to an end of the box, for
  ``psi_2 < 0`` to ``theta = -psi_1 / (2 psi_2)``, each worth at most 0 to D,
  and ``psi = 0`` is worth 0.
* Hence for ``a > 1`` the duality gap ``min(c2, c) > 0``: **no pure Nash
  equilibrium**, and every state's Nikaido-Isoda gap is at least that.
  Directly: at an equilibrium G's best response to ``psi`` needs ``psi_2 <=
  0``, so ``|theta| >= c``, so ``psi_1 = -sign theta``, and G's best
  response to that has the opposite sign of ``theta``.
* The generator's mixed strategy ``(delta_{-c} + delta_c) / 2`` has mean 0
  and ``E theta**2 = c2``, so ``V = 0`` for every ``psi``: mixed value 0, and
  every optimal mixture has those two moments (else D earns ``|E theta| +
  |c2 - E theta**2| > 0``).
* For ``a <= 1`` (``c2 <= 0``), ``(theta, psi) = (0, (0, -1))`` is a pure
  equilibrium of value ``-c2 = 1 - a**2``: D's payoff ``psi_2 c2`` is largest
  at ``psi_2 = -1`` whatever ``psi_1``, and against ``psi = (0, -1)`` G's cost
  ``theta**2 - c2`` is least at 0. The generator still cannot represent the
  data; the critic cannot tell.

**Gaussian data, affine generator.** Data ``N(0, s**2)``, ``G(z) = theta_1 +
theta_2 z``: ``V = -psi_1 theta_1 + psi_2 (s**2 - theta_1**2 - theta_2**2)``;
at ``theta = (0, s)`` V is 0 for every ``psi``, and against ``psi = 0`` every
``theta`` is a best response: a pure equilibrium, as expected when the
generator can reproduce the data.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from gandyn.cli import cli
from gandyn.derivation.field import VectorField, derive
from gandyn.equilibria.nash_existence import game_in_box, nash_existence
from gandyn.games.files import load_game_file
from gandyn.games.game import make_game

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TWO_POINT = EXAMPLES / "wgan-quadratic-critic.toml"
GAUSSIAN = EXAMPLES / "wgan-gaussian-affine.toml"
BOX = {"theta": (-2.0, 2.0), "psi_1": (-1.0, 1.0), "psi_2": (-1.0, 1.0)}


def wgan(path: Path) -> VectorField:
    return derive(make_game(load_game_file(path), "wasserstein"))


def test_value_is_the_moment_formula() -> None:
    vf = wgan(TWO_POINT)
    assert vf.game.zero_sum
    rng = np.random.default_rng(0)
    x = rng.uniform(-2.0, 2.0, size=(50, 3))
    for a in (0.8, 1.25):
        costs = np.asarray(vf.costs_fn(x, {"a": a}))
        theta, psi_1, psi_2 = x.T
        V = -psi_1 * theta + psi_2 * (a**2 - 1 - theta**2)
        assert -costs[:, 1] == pytest.approx(V, abs=1e-12)
        # f_G + f_D depends on psi alone (E D(x_data)): the game is zero-sum.
        total = costs[:, 0] + costs[:, 1]
        assert total == pytest.approx(-(psi_1 * 0.0 + psi_2 * a**2), abs=1e-12)


@pytest.mark.parametrize("a", [1.25, 1.5])
def test_no_pure_equilibrium_when_the_data_are_wider_than_the_noise(a: float) -> None:
    c2 = a**2 - 1
    min_max = min(c2, math.sqrt(c2))
    result = nash_existence(game_in_box(wgan(TWO_POINT), BOX, {"a": a}), n_starts=4, points=9)
    pure = result.pure
    assert pure.verdict == "none-found"
    assert pure.gap >= min_max - 1e-9
    assert pure.values is not None
    assert pure.values.min_max == pytest.approx(min_max, abs=1e-6)
    assert abs(pure.values.theta["theta"]) == pytest.approx(0.0 if c2 <= 1 else math.sqrt(c2),
                                                            abs=1e-4)
    assert pure.values.max_min == pytest.approx(0.0, abs=1e-9)
    assert result.dynamics.outcome == "cycle"
    disc = result.discretized
    assert disc.pure_equilibria == 0 and disc.verified
    assert disc.value == pytest.approx(0.0, abs=1e-9)
    thetas = np.array([s["theta"] for s, _ in disc.theta_support])
    weights = np.array([p for _, p in disc.theta_support])
    assert weights @ thetas == pytest.approx(0.0, abs=1e-9)
    assert weights @ thetas**2 == pytest.approx(c2, abs=1e-9)


def test_pure_equilibrium_when_the_data_are_narrower() -> None:
    a = 0.8
    result = nash_existence(game_in_box(wgan(TWO_POINT), BOX, {"a": a}), n_starts=4, points=5)
    assert result.pure.verdict == "exists"
    assert list(result.pure.point.values()) == pytest.approx([0.0, 0.0, -1.0], abs=1e-6)
    assert result.discretized.value == pytest.approx(1 - a**2, abs=1e-9)


def test_realizable_gaussian_game_has_a_pure_equilibrium() -> None:
    box = {"theta_1": (-2.0, 2.0), "theta_2": (0.5, 2.0), "psi_1": (-1.0, 1.0),
           "psi_2": (-1.0, 1.0)}
    s = 1.25
    result = nash_existence(game_in_box(wgan(GAUSSIAN), box, {"s": s}), n_starts=4, points=3)
    assert result.pure.verdict == "exists"
    assert list(result.pure.point.values()) == pytest.approx([0.0, s, 0.0, 0.0], abs=1e-6)


def test_cli_gives_the_verdict_and_the_mixed_value() -> None:
    result = CliRunner().invoke(cli, [
        "analyze", "--game-file", str(TWO_POINT), "--loss", "wasserstein", "--nash",
        "--nash-grid", "5", "--n-starts", "4", "--box", "theta=-2:2,psi_1=-1:1,psi_2=-1:1",
        "--json"], prog_name="gandyn")
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)["nash_existence"]
    assert record["zero_sum"] is True
    assert record["pure"]["verdict"] == "none-found"
    assert record["pure"]["gap"] >= 1.25**2 - 1 - 1e-9
    mixed = record["discretized"]["mixed"]
    assert mixed["method"] == "linear-program" and mixed["verified"] is True
    assert abs(mixed["value"]) < 1e-9
