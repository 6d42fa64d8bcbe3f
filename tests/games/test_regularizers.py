"""Regularizers as terms added to the costs, against hand-derived penalties.

The Dirac-GAN (Mescheder et al. 2018, Sec. 2.2) has the logit ``s(x) = psi*x``
whose input gradient is ``psi`` everywhere, so every gradient penalty has a
closed form there; the Gaussian game's penalties are checked against
``sympy.integrate`` and ``scipy.integrate.quad``.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from scipy import integrate, stats

from gandyn.derivation.field import NumericFunction
from gandyn.errors import SpecError, UnknownNameError
from gandyn.games.game import make_game
from gandyn.games.regularizers import REGULARIZERS, apply_values, get_regularizer
from gandyn.symbolic.functions import sigmoid

theta, psi, c = sp.symbols("theta psi c", real=True)
psi_0, psi_1, psi_2 = sp.symbols("psi_0 psi_1 psi_2", real=True)
theta_mu, theta_sigma, mu, sigma = sp.symbols("theta_mu theta_sigma mu sigma", real=True)


def reg(name: str, **values: object) -> object:
    return apply_values(get_regularizer(name), values)  # type: ignore[arg-type]


def sym(name: str) -> sp.Symbol:
    return sp.Symbol(name, real=True)


def added(game: str, loss: str | None, r: object, options: dict | None = None) -> tuple:
    """(cost_g, cost_d) of the regularized game minus those of the plain game."""
    plain = make_game(game, loss, options=options)
    regularized = make_game(game, loss, [r], options=options)  # type: ignore[list-item]
    return regularized.cost_g - plain.cost_g, regularized.cost_d - plain.cost_d


# --- gradient penalties -----------------------------------------------------------------------


@pytest.mark.parametrize("loss", ["minimax", "non-saturating", "hinge"])
@pytest.mark.parametrize("name", ["r1", "r2"])
def test_r1_r2_on_dirac(name: str, loss: str) -> None:
    # Mescheder et al. (2018), eq. (9)/(10): gamma/2 E[|grad_x D(x)|^2]; grad_x(psi x) = psi.
    dg, dd = added("dirac", loss, reg(name, gamma=0.7))
    assert dg == 0
    assert sp.expand(dd - sym(f"gamma_{name}") / 2 * psi**2) == 0


def test_r1_on_gaussian_is_exact() -> None:
    # s(x) = psi_0 + psi_1 x + psi_2 x^2, s'(x) = psi_1 + 2 psi_2 x, x ~ N(mu, sigma^2)
    _, dd = added("gaussian", "minimax", reg("r1"), {"order": 4})
    expected = sym("gamma_r1") / 2 * (
        psi_1**2 + 4 * psi_1 * psi_2 * mu + 4 * psi_2**2 * (mu**2 + sigma**2)
    )
    assert sp.expand(dd - expected) == 0
    assert not dd.atoms(sp.Float)


def test_r2_on_gaussian_is_exact() -> None:
    # evaluated at G(z) = theta_mu + theta_sigma z, z ~ N(0, 1)
    _, dd = added("gaussian", "non-saturating", reg("r2"), {"order": 4})
    expected = sym("gamma_r2") / 2 * (
        psi_1**2 + 4 * psi_1 * psi_2 * theta_mu + 4 * psi_2**2 * (theta_mu**2 + theta_sigma**2)
    )
    assert sp.expand(dd - expected) == 0


def test_r1_on_two_point_quadratic() -> None:
    a = sym("a")
    _, dd = added("two-point", "minimax", reg("r1"), {"logit": "quadratic"})
    expected = sym("gamma_r1") / 2 * (
        ((psi_1 - 2 * psi_2 * a) ** 2 + (psi_1 + 2 * psi_2 * a) ** 2) / 2
    )
    assert sp.expand(dd - expected) == 0


@pytest.mark.parametrize("loss", ["wasserstein", "minimax"])
def test_wgan_gp_on_dirac(loss: str) -> None:
    # Gulrajani et al. (2017), eq. (3): lambda E[(|grad_x D(x_hat)| - 1)^2]; grad = psi.
    dg, dd = added("dirac", loss, reg("wgan-gp", gamma=10, target=1))
    assert dg == 0
    expected = sym("gamma_gp") * (sp.Abs(psi) - sym("target_gp")) ** 2
    assert sp.expand(dd - expected) == 0


def test_wgan_gp_on_two_point_affine_is_exact() -> None:
    _, dd = added("two-point", "wasserstein", reg("gp"), {"logit": "affine"})
    expected = sym("gamma_gp") * (sp.Abs(psi_1) - sym("target_gp")) ** 2
    assert sp.expand(dd - expected) == 0
    assert not dd.atoms(sp.Float)


def test_wgan_gp_quadratic_part_on_gaussian_is_exact() -> None:
    # With target 0 the penalty is gamma E[s'(x_hat)^2], a polynomial: its
    # expectation must be exact even with a one-point Gauss-Legendre rule.
    e = sym("e")
    _, dd = added("gaussian", "wasserstein", reg("gp", order=1), {"order": 2})
    got = sp.expand(dd.subs(sym("target_gp"), 0))
    # by hand: x_hat | e ~ N(e mu + (1-e) theta_mu, e^2 sigma^2 + (1-e)^2 theta_sigma^2)
    mean = e * mu + (1 - e) * theta_mu
    var = e**2 * sigma**2 + (1 - e) ** 2 * theta_sigma**2
    inner = (psi_1 + 2 * psi_2 * mean) ** 2 + 4 * psi_2**2 * var
    expected = sym("gamma_gp") * sp.integrate(sp.expand(inner), (e, 0, 1))
    assert sp.expand(got - expected) == 0
    assert not got.atoms(sp.Float)


def test_wgan_gp_on_gaussian_vs_quad() -> None:
    point = {"theta_mu": 0.4, "theta_sigma": 0.7, "psi_0": 0.2, "psi_1": 0.9, "psi_2": -0.3}
    values = {"mu": 0.1, "sigma": 1.2, "gamma_gp": 10.0, "target_gp": 1.0}

    def conditional(e: float) -> float:
        # s'(x_hat) | e is normal; E|g| is the folded-normal mean.
        m = e * values["mu"] + (1 - e) * point["theta_mu"]
        v = e**2 * values["sigma"] ** 2 + (1 - e) ** 2 * point["theta_sigma"] ** 2
        mg = point["psi_1"] + 2 * point["psi_2"] * m
        sg = abs(2 * point["psi_2"]) * np.sqrt(v)
        e_abs = sg * np.sqrt(2 / np.pi) * np.exp(-(mg**2) / (2 * sg**2)) + mg * (
            1 - 2 * stats.norm.cdf(-mg / sg)
        )
        return mg**2 + sg**2 - 2 * values["target_gp"] * e_abs + values["target_gp"] ** 2

    reference = values["gamma_gp"] * integrate.quad(conditional, 0, 1, epsabs=1e-13)[0]
    game = make_game("gaussian", "wasserstein", [reg("gp", order=8)], options={"order": 8})
    plain = make_game("gaussian", "wasserstein", options={"order": 8})
    penalty = NumericFunction(game.cost_d - plain.cost_d, game.state_symbols, game.param_values)
    got = float(penalty(np.array([point[s.name] for s in game.state_symbols]), values))
    # |g| has a kink, so Gauss quadrature converges only algebraically
    # (0.1 % at order 8); a wrong interpolate or factor is off by far more.
    assert got == pytest.approx(reference, rel=5e-3)


# --- consensus ------------------------------------------------------------------------------------


def test_consensus_on_dirac_adds_half_squared_xi_to_both() -> None:
    # Mescheder, Nowozin and Geiger (2017), Sec. 3: L = |xi|^2 / 2 added to both costs.
    # Minimax Dirac-GAN by hand: cost_g = -softplus(psi theta),
    # cost_d = softplus(-psi c) + softplus(psi theta).
    xi = (-psi * sigmoid(psi * theta), -c * sigmoid(-c * psi) + theta * sigmoid(psi * theta))
    extra = sym("gamma_cons") / 2 * (xi[0] ** 2 + xi[1] ** 2)
    dg, dd = added("dirac", "minimax", reg("consensus", gamma=0.5))
    assert sp.expand(dg - extra) == 0
    assert sp.expand(dd - extra) == 0


def test_consensus_on_bilinear_field() -> None:
    # xi = A x with A = [[a, 1], [-1, b]]; consensus gives xi + gamma A^T A x, so the
    # flow's Jacobian is -(A + gamma A^T A) (Mescheder et al. 2017, Sec. 3).
    from gandyn.derivation.field import derive

    a, b, g = sym("a"), sym("b"), sym("gamma_cons")
    game = make_game("bilinear", regularizers=[reg("consensus")])
    A = sp.Matrix([[a, 1], [-1, b]])
    assert sp.expand(derive(game).jacobian - (-(A + g * A.T * A))) == sp.zeros(2, 2)


def test_consensus_acts_after_penalties() -> None:
    # its xi must include the R1 term psi * gamma_r1
    game = make_game("dirac", "wasserstein", [reg("consensus"), reg("r1")])
    xi = (-psi, -c + theta + sym("gamma_r1") * psi)
    extra = sym("gamma_cons") / 2 * (xi[0] ** 2 + xi[1] ** 2)
    assert sp.expand(game.cost_g - (-psi * theta + extra)) == 0


# --- instance noise ------------------------------------------------------------------------------


@pytest.mark.parametrize("noise", [0.1, 0.5, 1.0])
def test_instance_noise_on_dirac_vs_quad(noise: float) -> None:
    # minimax cost_d = E[softplus(-psi (c + s e))] + E[softplus(psi (theta + s e'))]
    game = make_game("dirac", "minimax", [reg("instance-noise", sigma=noise)], params={"c": -0.3})
    costs = NumericFunction([game.cost_g, game.cost_d], game.state_symbols, game.param_values)
    t0, p0, c0 = 0.5, 0.8, -0.3

    def smoothed(f: object, loc: float) -> float:
        return integrate.quad(
            lambda eps: f(loc + noise * eps) * stats.norm.pdf(eps),  # type: ignore[operator]
            -np.inf, np.inf, epsabs=1e-13, epsrel=1e-12,
        )[0]

    d_real = smoothed(lambda xx: np.logaddexp(0, -p0 * xx), c0)
    d_fake = smoothed(lambda xx: np.logaddexp(0, p0 * xx), t0)
    cost_g, cost_d = costs(np.array([t0, p0]))
    assert cost_d == pytest.approx(d_real + d_fake, rel=1e-9)
    assert cost_g == pytest.approx(-d_fake, rel=1e-9)


def test_instance_noise_on_gaussian_convolves_the_laws() -> None:
    # data N(mu, sigma^2) + noise N(0, s^2) = N(mu, sigma^2 + s^2), likewise for G(z)
    s_n = 0.4
    game = make_game("gaussian", "non-saturating", [reg("noise", sigma=s_n)], options={"order": 20})
    logged = dict(game.logged)
    values = {"mu": 0.3, "sigma": 0.8}
    point = {"theta_mu": -0.2, "theta_sigma": 0.6, "psi_0": 0.1, "psi_1": 0.5, "psi_2": -0.2}
    x0 = np.array([point[s.name] for s in game.state_symbols])

    def logit(xx: np.ndarray) -> np.ndarray:
        return point["psi_0"] + point["psi_1"] * xx + point["psi_2"] * xx**2

    def normal_mean(f: object, m: float, sd: float) -> float:
        return integrate.quad(
            lambda xx: f(xx) * stats.norm.pdf(xx, m, sd),  # type: ignore[operator]
            -np.inf, np.inf, epsabs=1e-13,
        )[0]

    real_sd = np.hypot(values["sigma"], s_n)
    fake_sd = np.hypot(point["theta_sigma"], s_n)
    references = {
        "d_real": normal_mean(lambda xx: np.logaddexp(0, -logit(xx)), values["mu"], real_sd),
        "d_fake": normal_mean(lambda xx: np.logaddexp(0, logit(xx)), point["theta_mu"], fake_sd),
        "g_loss": normal_mean(lambda xx: np.logaddexp(0, -logit(xx)), point["theta_mu"], fake_sd),
    }
    for name, reference in references.items():
        fn = NumericFunction(logged[name], game.state_symbols, game.param_values)
        assert float(fn(x0, values)) == pytest.approx(reference, rel=1e-8), name


def test_zero_instance_noise_is_no_noise() -> None:
    noisy = make_game("dirac", "non-saturating", [reg("noise", sigma=0.0)])
    plain = make_game("dirac", "non-saturating")
    f = NumericFunction([noisy.cost_g, noisy.cost_d], noisy.state_symbols, noisy.param_values)
    g = NumericFunction([plain.cost_g, plain.cost_d], plain.state_symbols, plain.param_values)
    x = np.random.default_rng(3).normal(size=(10, 2))
    np.testing.assert_allclose(f(x, {"c": 0.7}), g(x, {"c": 0.7}), rtol=1e-13)


# --- parameters, options and errors ------------------------------------------------------------


def test_hyper_parameters_become_game_parameters() -> None:
    game = make_game("dirac", "minimax", [reg("r1", gamma="0.25"), reg("gp", target=2)])
    values = {p.name: p.value for p in game.params}
    assert values == {"c": 0.0, "gamma_r1": 0.25, "gamma_gp": 10.0, "target_gp": 2.0}
    assert make_game(
        "dirac", "minimax", [reg("r1")], params={"gamma_r1": 3.0}
    ).param_values[sym("gamma_r1")] == 3.0


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("r1", {"gamma": "abc"}),
        ("r1", {"gamma": "inf"}),
        ("r1", {"beta": 1.0}),
        ("consensus", {"order": 3}),
        ("wgan-gp", {"order": 0}),
        ("wgan-gp", {"order": "2.5"}),
        ("instance-noise", {"order": 0}),
        ("instance-noise", {"sigma": "nan?"}),
    ],
)
def test_bad_values_raise_spec_error(name: str, values: dict) -> None:
    with pytest.raises(SpecError):
        apply_values(get_regularizer(name), values)


def test_unknown_key_message_lists_the_parameters() -> None:
    with pytest.raises(SpecError, match="gamma, order, target"):
        apply_values(get_regularizer("wgan-gp"), {"lambda": 10})


@pytest.mark.parametrize("name", ["r1", "r2", "wgan-gp", "instance-noise"])
def test_model_regularizers_on_bilinear_raise(name: str) -> None:
    with pytest.raises(SpecError, match="needs a discriminator"):
        make_game("bilinear", regularizers=[reg(name)])


def test_same_regularizer_twice_raises() -> None:
    with pytest.raises(SpecError, match="more than once"):
        make_game("dirac", "minimax", [reg("r1"), reg("r1", gamma=2)])


def test_aliases_and_unknown_names() -> None:
    assert get_regularizer("gp").name == "wgan-gp"
    assert get_regularizer("noise").name == "instance-noise"
    assert get_regularizer("co").name == "consensus"
    with pytest.raises(UnknownNameError, match="did you mean 'r1'"):
        get_regularizer("r11")


@pytest.mark.parametrize("name", REGULARIZERS.names())
def test_every_regularizer_cites_a_paper(name: str) -> None:
    assert any(str(year) in get_regularizer(name).reference for year in range(1950, 2030))
