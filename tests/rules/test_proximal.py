"""The proximal point step, against the bilinear game's closed form and finite differences.

On f = theta psi (the bilinear game with a = b = 0) the field is linear, F(x) = J x with
J = [[0, -1], [1, 0]], so the implicit step x' = x + h J x' is x' = (I - h J)^-1 x exactly:
the iterates are x_k = (I - h J)^-k x_0, and the map's eigenvalues 1 / (1 -+ i h) have modulus
1 / sqrt(1 + h^2) (Rockafellar 1976; Mokhtari, Ozdaglar and Pattathil 2020, Sec. 3).
"""

from __future__ import annotations

import numpy as np
import pytest

from gandyn.derivation.field import derive
from gandyn.equilibria.maps import map_stability
from gandyn.games.game import make_game
from gandyn.rules.base import FieldFunctions
from gandyn.rules.registry import make_rule
from gandyn.runs.build import simulate


@pytest.mark.parametrize("h", [0.1, 0.5, 2.0])
def test_the_iterates_are_the_closed_form_on_the_bilinear_game(h: float) -> None:
    result = simulate(game="bilinear", optimizer="proximal", lr=h, steps=40,
                      starts=[{"theta": 1.0, "psi": 0.5}])
    step = np.linalg.inv(np.eye(2) - h * np.array([[0.0, -1.0], [1.0, 0.0]]))
    expected = [np.linalg.matrix_power(step, k) @ [1.0, 0.5] for k in range(41)]
    np.testing.assert_allclose(result.trajectory.x[0], expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("h", [0.1, 0.5, 2.0])
def test_the_spectral_radius_is_one_over_sqrt_one_plus_h_squared(h: float) -> None:
    vf = derive(make_game("bilinear"))
    rule = make_rule("proximal", h, h)
    stability = map_stability(rule, FieldFunctions.of(vf), np.zeros(2))
    assert stability.spectral_radius == pytest.approx(1 / np.sqrt(1 + h * h), rel=1e-12)


def test_the_map_jacobian_is_the_finite_difference_one_on_the_dirac_gan() -> None:
    vf = derive(make_game("dirac", "non-saturating", [("r1", {"gamma": 0.4})]))
    field = FieldFunctions.of(vf)
    rule = make_rule("proximal", 0.3, 0.7)
    x = np.array([[0.6, -0.4]])
    analytic = rule.map_jacobian(field, x, {}, 1)[0]
    eps = 1e-6
    numeric = np.empty((2, 2))
    for j in range(2):
        shift = np.zeros((1, 2))
        shift[0, j] = eps
        ahead = rule.step(field, x + shift, {}, 1).x[0]
        behind = rule.step(field, x - shift, {}, 1).x[0]
        numeric[:, j] = (ahead - behind) / (2 * eps)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-7, atol=1e-9)
    # the step solves its implicit equation
    y = rule.step(field, x, {}, 1).x
    np.testing.assert_allclose(y, x + np.array([0.3, 0.7]) * field.field(y), atol=1e-13)


def test_the_rule_takes_no_settings() -> None:
    with pytest.raises(ValueError, match="takes no settings"):
        make_rule("proximal", 0.1, 0.1, beta=0.5)
