"""Optimistic mirror descent: its relation to extragradient and OGDA, the bilinear closed form.

Independent references
----------------------
* Mertikopoulos et al. (2019)'s OMD step written out with the Euclidean prox-mapping
  ``P_x(y) = argmin_x' <y, x - x'> + |x' - x|^2 / 2 = x + y`` on an unconstrained space,
  ``X_{n+1/2} = X_n - h V(X_n)``, ``X_{n+1} = X_n - h V(X_{n+1/2})`` with ``V = xi``: it
  must be gandyn's ``extragradient`` step.
* OGDA's recursion (Daskalakis et al. 2018): the single-call OMD's extrapolated points
  satisfy ``y_{n+1} = x_{n+1} + h F(y_n) = y_n - h F(y_{n-1}) + 2 h F(y_n)`` (Gidel et al.
  2019), so they are ``ogda``'s iterates from ``y_0`` with previous point ``y_{-1} = x_0``.
* The bilinear game in one complex number (``F(z) = i z``, ``z = theta + i psi``): with the
  stored field ``g_n = F(y_{n-1})`` the step is ``x' = (1 + i h) x + i h^2 g``,
  ``g' = i x + i h g``, whose characteristic polynomial is
  ``lambda^2 - (1 + 2 i h) lambda + i h`` (OGDA's). Its roots are
  ``((1 + 2 i h) +- sqrt(1 - 4 h^2)) / 2``: for ``h <= 1/2`` the larger modulus is
  ``sqrt((1 + sqrt(1 - 4 h^2)) / 2) < 1``; for ``h > 1/2`` it is
  ``sqrt(1/4 + (h + sqrt(4 h^2 - 1) / 2)^2)``.
* Central finite differences of ``step`` on the extended state ``(x, y_prev)``.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from gandyn.derivation.field import VectorField, derive
from gandyn.equilibria.maps import map_stability
from gandyn.games.game import make_game
from gandyn.rules import FieldFunctions, make_rule

LR_G, LR_D = 0.13, 0.29


@functools.cache
def derived(name: str, loss: str | None = None, **params: float) -> VectorField:
    options = {"order": 4} if name == "gaussian" else None
    return derive(make_game(name, loss, params=params or None, options=options))


GAMES = {
    "dirac-minimax": lambda: derived("dirac", "minimax", c=0.7),
    "dirac-ns": lambda: derived("dirac", "non-saturating", c=0.7),
    "gaussian": lambda: derived("gaussian", mu=0.3, sigma=0.9),
}


@pytest.mark.parametrize("game", list(GAMES))
def test_map_jacobian_matches_finite_differences(game: str) -> None:
    vf = GAMES[game]()
    ff = FieldFunctions.of(vf)
    n = len(vf.game.state_symbols)
    rng = np.random.default_rng(n + len(game))
    x = rng.normal(scale=0.6, size=(5, n))
    if n == 5:
        x[:, 1] = rng.uniform(0.5, 1.5, size=5)
    rule = make_rule("omd", LR_G, LR_D)
    buffers = {"extrapolated": x + rng.normal(scale=0.3, size=x.shape)}
    z = rule.pack(x, buffers)

    def stepped(zz: np.ndarray) -> np.ndarray:
        xx, bb = rule.unpack(zz, n)
        result = rule.step(ff, xx, bb, 2)
        return rule.pack(result.x, result.buffers)

    eps = 1e-6
    columns = []
    for j in range(2 * n):
        dz = np.zeros(2 * n)
        dz[j] = eps
        columns.append((stepped(z + dz) - stepped(z - dz)) / (2 * eps))
    np.testing.assert_allclose(rule.map_jacobian(ff, x, buffers, 2), np.stack(columns, axis=-1),
                               rtol=1e-6, atol=1e-8)


def test_mertikopoulos_omd_with_the_euclidean_mirror_map_is_extragradient() -> None:
    vf = derived("dirac", "non-saturating", c=0.7)
    ff = FieldFunctions.of(vf)
    x = np.random.default_rng(1).normal(size=(6, 2))
    h = np.array([LR_G, LR_D])

    def prox(at: np.ndarray, y: np.ndarray) -> np.ndarray:  # Euclidean: P_x(y) = x + y
        return at + y

    def xi(at: np.ndarray) -> np.ndarray:
        return -vf.field_fn(at)

    half = prox(x, -h * xi(x))
    by_hand = prox(x, -h * xi(half))
    np.testing.assert_allclose(make_rule("extragradient", LR_G, LR_D).step(ff, x, {}, 1).x,
                               by_hand, rtol=1e-15, atol=1e-15)


def test_the_extrapolated_points_are_ogdas_iterates() -> None:
    ff = FieldFunctions.of(derived("dirac", "non-saturating", c=0.7))
    x0 = np.random.default_rng(2).normal(size=(3, 2))
    omd, ogda = make_rule("omd", LR_G, LR_D), make_rule("ogda", LR_G, LR_D)
    x, buffers = x0, omd.init_buffers(x0)
    extrapolated = []
    for k in range(1, 41):
        result = omd.step(ff, x, buffers, k)
        x, buffers = result.x, result.buffers
        extrapolated.append(buffers["extrapolated"])
    z, previous = extrapolated[0], {"previous": x0}
    for k in range(1, 40):
        result = ogda.step(ff, z, previous, k)
        z, previous = result.x, result.buffers
        np.testing.assert_allclose(z, extrapolated[k], rtol=1e-12, atol=1e-14)


def bilinear_radius(h: float) -> float:
    """The larger root modulus of ``lambda^2 - (1 + 2ih) lambda + ih`` (docstring above)."""
    if h <= 0.5:
        return float(np.sqrt((1 + np.sqrt(1 - 4 * h * h)) / 2))
    return float(np.sqrt(0.25 + (h + np.sqrt(4 * h * h - 1) / 2) ** 2))


@pytest.mark.parametrize("h", [0.05, 0.3, 0.5, 0.7, 1.2])
def test_bilinear_spectral_radius_is_the_closed_form(h: float) -> None:
    ff = FieldFunctions.of(derived("bilinear"))
    radius = map_stability(make_rule("omd", h, h), ff, np.zeros(2)).spectral_radius
    assert radius == pytest.approx(bilinear_radius(h), rel=1e-9)
    assert (radius < 1) == (h + np.sqrt(max(4 * h * h - 1, 0.0)) / 2 < np.sqrt(3) / 2)


def test_the_first_step_is_an_extragradient_step() -> None:
    ff = FieldFunctions.of(derived("dirac", "minimax", c=0.7))
    x = np.random.default_rng(3).normal(size=(4, 2))
    omd = make_rule("omd", LR_G, LR_D)
    first = omd.step(ff, x, omd.init_buffers(x), 1)
    np.testing.assert_array_equal(
        first.x, make_rule("extragradient", LR_G, LR_D).step(ff, x, {}, 1).x)
