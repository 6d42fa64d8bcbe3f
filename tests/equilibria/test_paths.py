"""Eigenvalue paths over a hyper-parameter, against closed forms."""

from __future__ import annotations

import numpy as np
import pytest

from gandyn.derivation.field import derive
from gandyn.equilibria.eigenvalue_paths import eigenvalue_path, match_eigenvalues
from gandyn.games.game import make_game
from gandyn.games.regularizers import apply_values, get_regularizer


def r1_dirac():
    return derive(make_game("dirac", "minimax", [apply_values(get_regularizer("r1"), {})]))


def test_r1_dirac_flow_path_matches_mescheder() -> None:
    # Mescheder et al. (2018), Sec. 4.1: eigenvalues -gamma/2 +- sqrt(gamma^2/4 - 1/4)
    # at the Dirac-GAN equilibrium; complex for gamma < 1, a double root at gamma = 1.
    vf = r1_dirac()
    gammas = np.linspace(0.0, 2.0, 101)
    path = eigenvalue_path(lambda g: vf.jacobian_fn(np.zeros(2), {"gamma_r1": g}),
                           "gamma_r1", gammas)
    expected = np.array([np.sort_complex(np.roots([1.0, g, 0.25]).astype(complex))
                         for g in gammas])
    got = np.sort_complex(path.eigenvalues)
    np.testing.assert_allclose(got, np.sort_complex(expected), atol=1e-6)
    assert [e.kind for e in path.events] == ["collision"]
    assert path.events[0].value == pytest.approx(1.0)


def test_map_path_leaves_the_unit_circle_where_the_closed_form_says() -> None:
    # simgd with step h maps the eigenvalues to 1 + h*lambda; with lambda above,
    # |1 + h lambda|^2 = 1 - h gamma + h^2/4 < 1 iff gamma > h/4.
    vf, h = r1_dirac(), 0.5
    path = eigenvalue_path(
        lambda g: np.eye(2) + h * vf.jacobian_fn(np.zeros(2), {"gamma_r1": g}),
        "gamma_r1", np.linspace(0.0, 0.5, 201), reference="map")
    crossings = [e.value for e in path.events if e.kind == "unit-circle"]
    assert crossings == [pytest.approx(h / 4, abs=1e-3)]


def test_paths_are_followed_continuously() -> None:
    previous = np.array([1 + 1j, 1 - 1j, -2 + 0j])
    current = np.array([-2.1 + 0j, 1.1 - 1j, 1.1 + 1j])
    np.testing.assert_array_equal(match_eigenvalues(previous, current),
                                  [1.1 + 1j, 1.1 - 1j, -2.1 + 0j])


def test_bad_path_values() -> None:
    with pytest.raises(ValueError, match="increasing"):
        eigenvalue_path(lambda g: np.eye(2), "g", [1.0, 0.5])
