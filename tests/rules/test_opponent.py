"""LOLA and SOS: hand-written objectives, the bilinear and tandem games by hand, finite differences.

Independent references
----------------------
* LOLA's gradient as the derivative of each player's first-order look-ahead
  objective (Foerster et al. 2018, Sec. 3.2), written out for the non-saturating
  Dirac-GAN from its costs and differentiated by central differences::

      V_g(theta, psi) = cost_g + d cost_g/d psi * (-alpha_d d cost_d/d psi),  d/dtheta,
      V_d(theta, psi) = cost_d + d cost_d/d theta * (-alpha_g d cost_g/d theta),  d/dpsi.

* The bilinear game ``cost_g = theta psi = -cost_d`` by hand: ``xi = (psi, -theta)``,
  ``H = H_o = [[0, 1], [-1, 0]]``, ``c = (-psi, theta)``; with ``alpha = h`` LookAhead's term
  is ``h H xi = -h x`` and the shaping term ``h H^T c = -h x`` too, so
  ``xi_LOLA = xi + 2 h x``: the map ``I - h [[2h, 1], [-1, 2h]]`` has eigenvalues
  ``1 - 2h^2 -+ i h``, modulus ``sqrt((1 - 2h^2)^2 + h^2)``. SOS: ``<-alpha chi, xi_0> =
  h^2 |x|^2 >= 0`` so ``p1 = 1``, and ``|xi| = |x|``, so ``p = |x|^2`` inside ``|x| < b``
  (``xi_p = xi + h x + h |x|^2 x``) and ``p = 1`` (LOLA) outside; at the equilibrium its map
  is LookAhead's, modulus ``sqrt((1 - h^2)^2 + h^2)``.
* The tandem game of Letcher et al. (2019), ``L_1 = (x + y)^2 - 2x``,
  ``L_2 = (x + y)^2 - 2y``, with hand derivatives: ``xi = s (1, 1)``, ``s = 2u - 2``,
  ``u = x + y``, ``H_o = [[0, 2], [2, 0]]``, ``c = 2u (1, 1)``. With ``alpha = h``:
  ``xi_LOLA = ((1 - 2h) s - 4 h u) (1, 1)``, zero at ``u = (1 - 2h) / (1 - 4h)``, not on the
  line of fixed points ``u = 1`` of the game (LOLA's "arrogance"); SOS's ``p`` vanishes
  there (``p2 = |xi|^2``), so it stops on ``u = 1``.
* Central finite differences of ``step`` for ``map_jacobian`` on the tandem game, the
  Dirac-GAN (minimax; non-saturating with R1) and the Gaussian game, covering all three
  branches of SOS's ``p``.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from gandyn.derivation.field import VectorField, derive
from gandyn.equilibria.maps import map_stability
from gandyn.errors import SpecError
from gandyn.games.game import make_game
from gandyn.rules import LOLA, FieldFunctions, StableOpponentShaping, make_rule

LR_G, LR_D = 0.13, 0.29


@functools.cache
def derived(name: str, loss: str | None = None, r1: float = 0.0, **params: float) -> VectorField:
    regs = [("r1", {"gamma": r1})] if r1 else []
    options = {"order": 4} if name == "gaussian" else None
    return derive(make_game(name, loss, regs, params=params or None, options=options))


def tandem() -> FieldFunctions:
    """The tandem game with its derivatives by hand (module docstring)."""
    def field(x: np.ndarray) -> np.ndarray:
        s = 2 * (x[:, 0] + x[:, 1]) - 2
        return -np.stack([s, s], axis=-1)

    def jacobian(x: np.ndarray) -> np.ndarray:
        return np.broadcast_to(-2.0 * np.ones((2, 2)), (x.shape[0], 2, 2)).copy()

    def cross(x: np.ndarray) -> np.ndarray:
        u = 2 * (x[:, 0] + x[:, 1])
        return np.stack([u, u], axis=-1)

    def cross_jacobian(x: np.ndarray) -> np.ndarray:
        return np.broadcast_to(2.0 * np.ones((2, 2)), (x.shape[0], 2, 2)).copy()

    return FieldFunctions(field, jacobian, 1, lambda x: np.zeros((x.shape[0], 2, 2, 2)), cross,
                          cross_jacobian)


GAMES = {
    "tandem": tandem,
    "dirac-minimax": lambda: FieldFunctions.of(derived("dirac", "minimax", c=0.7)),
    "dirac-ns-r1": lambda: FieldFunctions.of(derived("dirac", "non-saturating", 0.3, c=0.7)),
    "gaussian": lambda: FieldFunctions.of(derived("gaussian", mu=0.3, sigma=0.9)),
}


def states(game: str, rng: np.random.Generator, batch: int) -> np.ndarray:
    if game == "gaussian":
        x = rng.normal(scale=0.8, size=(batch, 5))
        x[:, 1] = rng.uniform(0.5, 1.5, size=batch)
        return x
    return rng.normal(size=(batch, 2))


def central_differences(rule: LOLA, ff: FieldFunctions, x: np.ndarray,
                        eps: float = 1e-6) -> np.ndarray:
    columns = []
    for j in range(x.shape[-1]):
        dx = np.zeros(x.shape[-1])
        dx[j] = eps
        columns.append((rule.step(ff, x + dx, {}, 1).x - rule.step(ff, x - dx, {}, 1).x)
                       / (2 * eps))
    return np.stack(columns, axis=-1)


CASES = [("lola", {}), ("lola", {"lola_eta": 0.2}), ("sos", {}), ("sos", {"sos_b": 3.0}),
         ("sos", {"sos_a": 0.2, "lola_eta": 0.4})]


def _check_against_finite_differences(game: str) -> set[str]:
    """Every case of ``CASES`` on ``game``; the branches of SOS's ``p`` the states took."""
    branches: set[str] = set()
    ff = GAMES[game]()
    for name, settings in CASES:
        rule = make_rule(name, LR_G, LR_D, **settings)
        assert isinstance(rule, LOLA | StableOpponentShaping)
        x = states(game, np.random.default_rng(len(game) + len(settings)), 8)
        np.testing.assert_allclose(rule.map_jacobian(ff, x, {}, 1),
                                   central_differences(rule, ff, x), rtol=1e-6, atol=1e-8,
                                   err_msg=f"{game} {name} {settings}")
        if isinstance(rule, StableOpponentShaping):
            p1, p2, _, _ = rule._parts(rule._terms(ff, x, derivatives=False))
            branches |= {"p2" if b <= a and b < 1 else "p1" if a < 1 else "1"
                         for a, b in zip(p1, p2, strict=True)}
    return branches


def test_map_jacobians_match_finite_differences_on_every_branch() -> None:
    branches: set[str] = set()
    for game in ("tandem", "dirac-minimax", "dirac-ns-r1"):
        branches |= _check_against_finite_differences(game)
    assert branches == {"1", "p1", "p2"}


@pytest.mark.slow  # the Gaussian game's third derivatives take seconds to derive
def test_map_jacobians_match_finite_differences_on_the_gaussian_game() -> None:
    _check_against_finite_differences("gaussian")


def test_lola_is_the_gradient_of_the_hand_written_look_ahead_objectives() -> None:
    # Non-saturating Dirac-GAN with data at c: cost_g = softplus(-psi theta),
    # cost_d = softplus(-c psi) + softplus(psi theta).
    c, alpha_g, alpha_d = 0.7, 0.13, 0.29

    def sigmoid(t: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-t))

    def cost_g(t: np.ndarray, p: np.ndarray) -> np.ndarray:
        return np.logaddexp(0.0, -p * t)

    def cost_d(t: np.ndarray, p: np.ndarray) -> np.ndarray:
        return np.logaddexp(0.0, -c * p) + np.logaddexp(0.0, p * t)

    def look_ahead_g(t: np.ndarray, p: np.ndarray) -> np.ndarray:
        dg_dpsi = -t * sigmoid(-p * t)
        dd_dpsi = -c * sigmoid(-c * p) + t * sigmoid(p * t)
        return cost_g(t, p) + dg_dpsi * (-alpha_d * dd_dpsi)

    def look_ahead_d(t: np.ndarray, p: np.ndarray) -> np.ndarray:
        dd_dtheta = p * sigmoid(p * t)
        dg_dtheta = -p * sigmoid(-p * t)
        return cost_d(t, p) + dd_dtheta * (-alpha_g * dg_dtheta)

    x = np.random.default_rng(4).normal(size=(6, 2))
    t, p, eps = x[:, 0], x[:, 1], 1e-6
    expected = np.stack([
        (look_ahead_g(t + eps, p) - look_ahead_g(t - eps, p)) / (2 * eps),
        (look_ahead_d(t, p + eps) - look_ahead_d(t, p - eps)) / (2 * eps)], axis=-1)
    rule = make_rule("lola", alpha_g, alpha_d)
    assert isinstance(rule, LOLA)
    ff = FieldFunctions.of(derived("dirac", "non-saturating", c=c))
    np.testing.assert_allclose(rule.adjusted_gradient(ff, x), expected, rtol=1e-7, atol=1e-9)


def test_in_a_zero_sum_game_the_shaping_term_is_lookaheads() -> None:
    # The minimax Dirac-GAN with data at c = 0 is zero-sum (cost_d = log 2 - cost_g); at
    # c != 0 cost_d has a term softplus(-c psi) that cost_g lacks, which changes
    # d cost_g / d psi and so the shaping term, though not the game's field.
    ff = FieldFunctions.of(derived("dirac", "minimax", c=0.0))
    rule = make_rule("lola", LR_G, LR_D)
    assert isinstance(rule, LOLA)
    terms = rule._terms(ff, np.random.default_rng(6).normal(size=(5, 2)), derivatives=False)
    np.testing.assert_allclose(terms.shaping, terms.look, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("h", [0.05, 0.3, 0.8])
def test_bilinear_lola_and_sos_in_closed_form(h: float) -> None:
    ff = FieldFunctions.of(derived("bilinear"))
    lola, sos = make_rule("lola", h, h), make_rule("sos", h, h, sos_b=0.5)
    origin = np.zeros(2)
    assert map_stability(lola, ff, origin).spectral_radius == pytest.approx(
        np.hypot(1 - 2 * h * h, h), rel=1e-12)
    assert map_stability(sos, ff, origin).spectral_radius == pytest.approx(
        np.hypot(1 - h * h, h), rel=1e-12)
    far = np.array([[0.6, -0.3], [-1.0, 2.0]])  # |x| > b: SOS is LOLA
    xi_far = np.stack([far[:, 1], -far[:, 0]], axis=-1)
    np.testing.assert_allclose(lola.step(ff, far, {}, 1).x, far - h * (xi_far + 2 * h * far),
                               rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(sos.step(ff, far, {}, 1).x, lola.step(ff, far, {}, 1).x,
                               rtol=1e-13)
    near = np.array([[0.2, 0.1], [-0.05, 0.3]])  # |x| < b: p = |x|^2
    xi_near = np.stack([near[:, 1], -near[:, 0]], axis=-1)
    p = np.sum(near**2, axis=-1, keepdims=True)
    np.testing.assert_allclose(sos.step(ff, near, {}, 1).x,
                               near - h * (xi_near + h * near + p * h * near), rtol=1e-13,
                               atol=1e-15)


def test_tandem_lola_stops_off_the_fixed_points_and_sos_on_them() -> None:
    h = 0.1
    ff = tandem()
    for name, settled in (("lola", (1 - 2 * h) / (1 - 4 * h)), ("sos", 1.0)):
        rule = make_rule(name, h, h)
        x = np.array([[0.0, 0.0], [1.5, -2.0], [2.0, 1.0]])
        for k in range(1, 400):
            x = rule.step(ff, x, {}, k).x
        np.testing.assert_allclose(x.sum(axis=-1), settled, rtol=1e-9, err_msg=name)


def test_settings_are_checked_and_cross_derivatives_required() -> None:
    for name, bad in (("lola", {"lola_eta": 0.0}), ("sos", {"sos_a": 1.0}),
                      ("sos", {"sos_b": 0.0}), ("sos", {"sos_a": -0.1})):
        with pytest.raises(SpecError, match=f"optimizer '{name}': (lola_eta|sos_a|sos_b)"):
            make_rule(name, 0.1, 0.1, **bad)
    vf = derived("dirac", "minimax")
    bare = FieldFunctions(vf.field_fn, vf.jacobian_fn, 1)
    with pytest.raises(ValueError, match="SOS needs the game's cross gradient"):
        make_rule("sos", 0.1, 0.1).step(bare, np.ones((1, 2)), {}, 1)


def test_command_line_takes_the_settings() -> None:
    from click.testing import CliRunner

    from gandyn.cli.app import cli

    result = CliRunner().invoke(cli, ["simulate", "--optimizer", "sos", "--sos-a", "0.3",
                                      "--sos-b", "0.5", "--lola-eta", "0.05", "--steps", "5",
                                      "--dump-spec"])
    assert result.exit_code == 0, result.output
    for line in ('name = "sos"', "sos_a = 0.3", "sos_b = 0.5", "lola_eta = 0.05"):
        assert line in result.output
    bad = CliRunner().invoke(cli, ["simulate", "--optimizer", "sos", "--sos-a", "2"])
    assert bad.exit_code == 2 and "--sos-a" in bad.output
