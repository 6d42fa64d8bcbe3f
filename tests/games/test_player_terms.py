"""Terms in one player's cost: the Nagarajan-Kolter penalty, anchors, and game-file penalties.

References
----------
* Nagarajan and Kolter (2017), Gradient descent GAN optimization is locally
  stable, NeurIPS, Sec. 5: the generator descends ``V + eta |grad_psi V|^2``.
  On the Dirac-GAN (data at 0, ``f'(0) = 1/2``) the flow Jacobian at the origin
  becomes ``[[-eta/2, 1/2], [-1/2, 0]]`` (derived in the test), with
  eigenvalues ``-eta/4 +- sqrt(eta^2/16 - 1/4)``: a stable focus for any
  ``eta > 0`` where the plain game has a centre.
* An anchor ``gamma/2 theta^2`` on the bilinear game is the catalogue's own
  parameter ``a = gamma`` (Gidel et al. 2019, Sec. 5).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from gandyn.derivation.field import derive
from gandyn.errors import GameFileError, SpecError
from gandyn.games.files import load_game_file
from gandyn.games.game import make_game
from gandyn.games.regularizers import apply_values, get_regularizer


def _reg(name: str, **values: float):  # type: ignore[no-untyped-def]
    return apply_values(get_regularizer(name), values)


@pytest.mark.parametrize("eta", [0.2, 1.0, 3.0])
def test_nagarajan_kolter_makes_the_dirac_gan_a_stable_focus(eta: float) -> None:
    # cost_d = softplus(psi theta) + log 2 (c = 0): d cost_d / d psi = theta sigmoid(psi theta),
    # so cost_g gains eta theta^2 sigmoid(psi theta)^2, whose theta-theta second derivative at
    # the origin is 2 eta / 4: J_tt = -eta / 2; the other entries are the plain game's.
    vf = derive(make_game("dirac", "minimax", [_reg("nagarajan-kolter", eta=eta)]))
    jac = vf.jacobian_fn(np.zeros(2))
    np.testing.assert_allclose(jac, [[-eta / 2, 0.5], [-0.5, 0.0]], atol=1e-14)
    root = np.sqrt(complex(eta**2 / 16 - 0.25))
    expected = np.sort_complex(np.array([-eta / 4 - root, -eta / 4 + root]))
    np.testing.assert_allclose(np.sort_complex(np.linalg.eigvals(jac)), expected, atol=1e-12)
    assert not vf.game.zero_sum  # the penalty is in the generator's cost only


def test_the_penalty_matches_finite_differences_of_the_discriminators_gradient() -> None:
    eta = 0.7
    plain = derive(make_game("dirac", "non-saturating", params={"c": 0.5}))
    penalized = derive(make_game("dirac", "non-saturating", [_reg("nk", eta=eta)],
                                 params={"c": 0.5}))
    x, step = np.array([0.3, -0.8]), np.array([0.0, 1e-6])
    grad_psi = -(plain.costs_fn(x + step)[1] - plain.costs_fn(x - step)[1]) / (2 * step[1])
    extra = penalized.costs_fn(x)[0] - plain.costs_fn(x)[0]
    assert extra == pytest.approx(eta * grad_psi**2, rel=1e-8)


def test_an_anchor_on_the_bilinear_game_is_its_parameter_a() -> None:
    anchored = derive(make_game("bilinear", None, [_reg("anchor-g", gamma=0.4),
                                                   _reg("anchor-d", gamma=0.3)]))
    reference = derive(make_game("bilinear").with_params({"a": 0.4, "b": 0.3}))
    points = np.array([[0.3, -1.2], [2.0, 0.5], [-0.7, 0.1]])
    np.testing.assert_allclose(anchored.field_fn(points), reference.field_fn(points),
                               atol=1e-14)


def test_player_terms_are_refused_with_minibatches() -> None:
    from gandyn.derivation.per_sample import sample_terms

    with pytest.raises(SpecError, match="not supported with minibatches"):
        sample_terms(make_game("dirac", "minimax", [_reg("anchor-g")]))


GAME = """
[generator]
parameters = ["theta"]
sample = "theta"
penalty = "lam * theta**2 / 2"

[discriminator]
parameters = ["psi"]
logit = "psi * x"
penalty = "psi**4"

[data]
points = [0.0]

[parameters]
lam = 0.25
"""


def test_a_game_file_penalty_is_added_to_that_players_cost(tmp_path: Path) -> None:
    path = tmp_path / "g.toml"
    path.write_text(GAME)
    game = make_game(load_game_file(path), "minimax")
    plain = make_game("dirac", "minimax")
    theta, psi = game.theta[0], game.psi[0]
    lam = next(p.symbol for p in game.params if p.name == "lam")
    rename = {plain.theta[0]: theta, plain.psi[0]: psi}
    c = next(p.symbol for p in plain.params if p.name == "c")
    base_g = plain.cost_g.xreplace(rename).subs(c, 0)
    base_d = plain.cost_d.xreplace(rename).subs(c, 0)
    assert sp.simplify(game.cost_g - base_g - lam * theta**2 / 2) == 0
    assert sp.simplify(game.cost_d - base_d - psi**4) == 0


@pytest.mark.parametrize(("text", "message"), [
    (GAME.replace('penalty = "psi**4"', 'penalty = "psi * x"'), "name 'x' is not allowed"),
    ('[generator]\nparameters = ["theta"]\ncost = "theta * psi"\npenalty = "theta**2"\n'
     '[discriminator]\nparameters = ["psi"]\ncost = "-theta * psi"\n', "write the term in the"),
])
def test_bad_penalties_are_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "g.toml"
    path.write_text(text)
    with pytest.raises(GameFileError) as info:
        load_game_file(path)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_the_command_line_takes_the_new_regularizers(
        invoke: Callable[..., tuple[int, str, str]]) -> None:
    code, out, err = invoke("analyze", "--reg", "nk:eta=1", "--json")
    assert code == 0, err
    import json

    origin = json.loads(out)["equilibria"][0]
    assert origin["point"] == {"theta": 0.0, "psi": 0.0}
    assert origin["stability"] == "stable" and origin["flow_class"] == "stable focus"


@pytest.mark.parametrize(("psi_1", "psi_2"), [(3.0, 0.05), (-2.0, 0.1)])
def test_dragan_penalizes_the_gradient_at_perturbed_data(psi_1: float, psi_2: float) -> None:
    # Kodali et al. (2017), Sec. 4: gamma E[(|ds/dx(x + sigma e)| - k)^2], x ~ N(0, 1) the data,
    # e ~ N(0, 1). With the Gaussian game's logit s(x) = psi_0 + psi_1 x + psi_2 x^2 the gradient
    # y = psi_1 + 2 psi_2 (x + sigma e) is normal, mean psi_1, sd 2|psi_2| sqrt(1 + sigma^2);
    # E|y| is the folded normal's mean. Far from y = 0 the quadrature is exact (a quadratic).
    from scipy.stats import norm

    gamma, k, sigma = 2.0, 1.0, 0.5
    plain = derive(make_game("gaussian", "non-saturating"))
    penalized = derive(make_game("gaussian", "non-saturating",
                                 [_reg("dragan", gamma=gamma, target=k, sigma=sigma)]))
    x = np.array([0.3, 1.2, 0.1, psi_1, psi_2])
    added = penalized.costs_fn(x)[1] - plain.costs_fn(x)[1]
    m, sd = psi_1, 2 * abs(psi_2) * np.sqrt(1 + sigma**2)
    mean_abs = sd * np.sqrt(2 / np.pi) * np.exp(-m * m / (2 * sd * sd)) + m * (
        1 - 2 * norm.cdf(-m / sd))
    assert added == pytest.approx(gamma * (m * m + sd * sd - 2 * k * mean_abs + k * k),
                                  rel=1e-12)
    assert penalized.costs_fn(x)[0] == plain.costs_fn(x)[0]  # the generator's cost is untouched


def test_dragan_runs_with_minibatches() -> None:
    from gandyn.runs.build import simulate

    result = simulate(game="gaussian", loss="non-saturating",
                      regularizers=[("dragan", {"gamma": 1.0})], batch_size=8, seed=3,
                      lr=0.02, steps=30)
    assert result.trajectory.x.shape == (1, 31, 5) and not bool(result.trajectory.diverged[0])
