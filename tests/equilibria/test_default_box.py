"""Equilibria without --box: a numeric search around the game's start when sympy finds none.

The 1-D Gaussian GAN (Goodfellow et al. 2014, Sec. 4: the generator's global optimum is
p_g = p_data) has its equilibria where the generator matches N(0, 1), theta_mu = 0 and
theta_sigma = +-1, and the discriminator is constant, psi = 0. sympy finds no closed form
for its quadrature field; the default search must find both points and say where it looked.
"""

from __future__ import annotations

import numpy as np

from gandyn.derivation.field import derive
from gandyn.equilibria import analyze
from gandyn.equilibria.classification import default_box
from gandyn.games.game import make_game


def test_the_gaussian_gans_equilibria_are_found_without_a_box() -> None:
    vf = derive(make_game("gaussian", "non-saturating"))
    box = default_box(vf)
    assert box["theta_mu"] == (-2.0, 4.0) and box["psi_0"] == (-3.0, 3.0)
    result = analyze(vf, n_starts=32)
    points = sorted((tuple(e.point.values()) for e in result.equilibria if e.point),
                    key=lambda p: p[1])
    np.testing.assert_allclose(points, [(0, -1, 0, 0, 0), (0, 1, 0, 0, 0)], atol=1e-9)
    assert any("searched the box theta_mu=-2:4" in note for note in result.notes)


def test_a_closed_form_game_is_not_searched() -> None:
    result = analyze(derive(make_game("dirac", "minimax", [("r1", {"gamma": 0.5})])))
    assert [e.source for e in result.equilibria] == ["sympy"]
    assert not any("searched the box" in note for note in result.notes)
