"""The game catalogue: costs against hand derivations and numerical integrals."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import sympy.stats as sps
from scipy import integrate, stats

from gandyn.derivation.field import NumericFunction
from gandyn.errors import SpecError, UnknownNameError
from gandyn.games.game import GAMES, LOGGED_TERMS, get_game, make_game
from gandyn.games.losses import LOSSES
from gandyn.symbolic.expectations import QUADRATURES, quadrature_symbols
from gandyn.symbolic.functions import FUNCTIONS, relu, sigmoid, softplus

theta, psi, c, a, b = sp.symbols("theta psi c a b", real=True)
psi_0, psi_1, psi_2 = sp.symbols("psi_0 psi_1 psi_2", real=True)
theta_mu, theta_sigma, mu, sigma = sp.symbols("theta_mu theta_sigma mu sigma", real=True)
FAST = {"gaussian": {"order": 4}}


def _value(expr: sp.Expr, game: object, x: dict[str, float], params: dict | None = None) -> float:
    fn = NumericFunction(expr, game.state_symbols, game.param_values)  # type: ignore[attr-defined]
    state = np.array([x[s.name] for s in game.state_symbols])  # type: ignore[attr-defined]
    return float(fn(state, params))


# --- the catalogue builds ---------------------------------------------------------------------


@pytest.mark.parametrize("loss", LOSSES.names())
@pytest.mark.parametrize("name", GAMES.names())
def test_every_game_builds_with_every_loss(name: str, loss: str) -> None:
    if get_game(name).define().model is None:  # direct costs: bilinear, hide-and-seek
        with pytest.raises(SpecError, match="does not apply"):
            make_game(name, loss)
        return
    game = make_game(name, loss, options=FAST.get(name))
    assert game.loss is not None and game.loss.name == loss
    assert tuple(n for n, _ in game.logged) == LOGGED_TERMS
    assert game.cost_d.has(*game.psi)
    assert game.cost_g.has(*game.theta)
    free = game.cost_g.free_symbols | game.cost_d.free_symbols
    assert free <= set(game.state_symbols) | set(game.param_values)


def test_bilinear_costs() -> None:
    # Gidel et al. (2019), Sec. 5: G minimizes theta psi + a theta^2/2,
    # D minimizes -theta psi + b psi^2/2
    game = make_game("bilinear")
    assert game.loss is None
    assert sp.expand(game.cost_g - (theta * psi + a * theta**2 / 2)) == 0
    assert sp.expand(game.cost_d - (-theta * psi + b * psi**2 / 2)) == 0


@pytest.mark.parametrize("name", GAMES.names())
def test_symbols_are_documented(name: str) -> None:
    entry = get_game(name)
    logits = ("linear", "affine", "quadratic")
    options = [{"logit": v} for v in logits] if name == "two-point" else [{}]
    for option in options:
        definition = entry.define(option)
        documented = {
            part.strip() for names, _ in definition.symbol_docs for part in names.split(",")
        }
        needed = {s.name for s in definition.theta + definition.psi}
        assert needed <= documented, needed - documented
        assert all(doc for _, doc in definition.symbol_docs)
        # hyper-parameters carry their own doc (bilinear documents a, b only there)
        for p in definition.params:
            assert p.doc, p.name
    assert any(str(year) in entry.reference for year in range(2014, 2025))


# --- costs by hand --------------------------------------------------------------------------------


def test_dirac_costs_by_hand() -> None:
    # data at c, generator at theta, logit psi x (Mescheder et al. 2018, Sec. 2.2)
    minimax = make_game("dirac", "minimax")
    assert sp.expand(minimax.cost_d - (softplus(-psi * c) + softplus(psi * theta))) == 0
    assert sp.expand(minimax.cost_g + softplus(psi * theta)) == 0
    ns = make_game("dirac", "non-saturating")
    assert sp.expand(ns.cost_g - softplus(-psi * theta)) == 0
    wgan = make_game("dirac", "wasserstein")
    assert sp.expand(wgan.cost_d - (-psi * c + psi * theta)) == 0
    hinge = make_game("dirac", "hinge")
    assert sp.expand(hinge.cost_d - (relu(1 - psi * c) + relu(1 + psi * theta))) == 0
    logged = dict(minimax.logged)
    assert logged["d_x"] == sigmoid(psi * c)
    assert logged["d_gz"] == sigmoid(psi * theta)


@pytest.mark.parametrize(
    ("logit", "psis", "s"),
    [
        ("linear", ("psi",), lambda p, x: p[0] * x),
        ("affine", ("psi_0", "psi_1"), lambda p, x: p[0] + p[1] * x),
        ("quadratic", ("psi_0", "psi_1", "psi_2"), lambda p, x: p[0] + p[1] * x + p[2] * x**2),
    ],
)
def test_two_point_options(logit: str, psis: tuple[str, ...], s: object) -> None:
    game = make_game("two-point", "minimax", options={"logit": logit})
    assert tuple(p.name for p in game.psi) == psis
    # data at -a and +a with probability 1/2 each
    expected_d = (
        (softplus(-s(game.psi, -a)) + softplus(-s(game.psi, a))) / 2  # type: ignore[operator]
        + softplus(s(game.psi, theta))  # type: ignore[operator]
    )
    assert sp.expand(game.cost_d - expected_d) == 0
    assert game.param_values == {a: 1.0}


def test_two_point_bad_option() -> None:
    with pytest.raises(SpecError, match="linear, affine, quadratic"):
        make_game("two-point", "minimax", options={"logit": "cubic"})
    with pytest.raises(SpecError, match="no option"):
        make_game("two-point", "minimax", options={"order": 3})
    with pytest.raises(SpecError, match="at least 1"):
        make_game("gaussian", "minimax", options={"order": 0})
    with pytest.raises(SpecError, match="integer"):
        make_game("gaussian", "minimax", options={"order": "many"})


def _s(x: sp.Expr) -> sp.Expr:
    return psi_0 + psi_1 * x + psi_2 * x**2


def test_gaussian_wasserstein_is_an_exact_closed_form() -> None:
    # E[s(x)] for x ~ N(mu, sigma^2): psi_0 + psi_1 mu + psi_2 (mu^2 + sigma^2)
    game = make_game("gaussian", "wasserstein")  # default (high) order: must not matter
    e_real = psi_0 + psi_1 * mu + psi_2 * (mu**2 + sigma**2)
    e_fake = psi_0 + psi_1 * theta_mu + psi_2 * (theta_mu**2 + theta_sigma**2)
    assert sp.expand(game.cost_d - (-e_real + e_fake)) == 0
    assert sp.expand(game.cost_g + e_fake) == 0
    assert not (game.cost_d.atoms(sp.Float) | game.cost_g.atoms(sp.Float))


def test_gaussian_least_squares_matches_sympy_stats() -> None:
    # sympy.stats integrates the normal density: an independent implementation
    game = make_game("gaussian", "least-squares", options={"order": 2})
    m, sd = sp.Symbol("m", real=True), sp.Symbol("sd", positive=True)
    X = sps.Normal("X", m, sd)
    # d_real = E[(s(x) - 1)^2 / 2] on data, g_loss the same on G(z), d_fake = E[s^2 / 2]
    half_square = sps.E(sp.expand((_s(X) - 1) ** 2 / 2))
    d_fake = sps.E(sp.expand(_s(X) ** 2 / 2)).subs({m: theta_mu, sd: theta_sigma})
    d_real = half_square.subs({m: mu, sd: sigma})
    assert sp.expand(game.cost_d - d_real - d_fake) == 0
    assert sp.expand(game.cost_g - half_square.subs({m: theta_mu, sd: theta_sigma})) == 0
    assert not game.cost_d.atoms(sp.Float)


def test_gaussian_minimax_high_order_vs_quad() -> None:
    game = make_game("gaussian", "minimax", options={"order": 40})
    x = {"theta_mu": 0.3, "theta_sigma": 0.8, "psi_0": 0.2, "psi_1": -0.7, "psi_2": 0.15}
    params = {"mu": -0.4, "sigma": 1.1}

    def logit(t: float) -> float:
        return x["psi_0"] + x["psi_1"] * t + x["psi_2"] * t**2

    def expect_normal(f: object, m: float, sd: float) -> float:
        return integrate.quad(
            lambda t: f(t) * stats.norm.pdf(t, m, sd),  # type: ignore[operator]
            -np.inf, np.inf, epsabs=1e-14, epsrel=1e-13,
        )[0]

    d_real = expect_normal(lambda t: np.logaddexp(0, -logit(t)), params["mu"], params["sigma"])
    d_fake = expect_normal(lambda t: np.logaddexp(0, logit(t)), x["theta_mu"], x["theta_sigma"])
    assert _value(game.cost_d, game, x, params) == pytest.approx(d_real + d_fake, rel=1e-9)
    assert _value(game.cost_g, game, x, params) == pytest.approx(-d_fake, rel=1e-9)
    logged = dict(game.logged)
    d_x = expect_normal(lambda t: 1 / (1 + np.exp(-logit(t))), params["mu"], params["sigma"])
    assert _value(logged["d_x"], game, x, params) == pytest.approx(d_x, rel=1e-9)


# --- properties -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("loss", "expected"),
    [("minimax", True), ("wasserstein", True), ("non-saturating", False), ("hinge", False)],
)
def test_zero_sum_on_dirac(loss: str, expected: bool) -> None:
    game = make_game("dirac", loss)
    assert game.zero_sum is expected
    # independent check: zero-sum up to terms a player does not control iff the
    # mixed partial d^2(cost_d + cost_g)/(d theta d psi) vanishes (finite differences)
    total = NumericFunction(game.cost_d + game.cost_g, game.state_symbols, {c: 0.4})
    h = 1e-4
    mixed = []
    # hinge couples the players only where 1 + l < 0, so include such points
    for t0, p0 in [(0.3, -0.8), (-1.1, 1.5), (2.0, -1.3)]:
        corners = np.array([[t0 + h, p0 + h], [t0 + h, p0 - h], [t0 - h, p0 + h], [t0 - h, p0 - h]])
        f = total(corners)
        mixed.append((f[0] - f[1] - f[2] + f[3]) / (4 * h * h))
    assert bool(np.allclose(mixed, 0.0, atol=1e-5)) is expected


@pytest.mark.parametrize("name", ["dirac", "two-point", "gaussian"])
def test_zero_sum_agrees_with_the_loss_catalogue(name: str) -> None:
    for loss in LOSSES.names():
        assert make_game(name, loss, options=FAST.get(name)).zero_sum is LOSSES.get(loss).zero_sum


def test_bilinear_is_zero_sum_and_consensus_breaks_it() -> None:
    from gandyn.games.regularizers import apply_values, get_regularizer

    assert make_game("bilinear").zero_sum
    consensus = apply_values(get_regularizer("consensus"), {})
    assert not make_game("dirac", "minimax", [consensus]).zero_sum


def test_with_params_and_unknown_param() -> None:
    game = make_game("dirac", "minimax")
    moved = game.with_params({"c": 2.5})
    assert moved.param_values == {c: 2.5}
    assert game.param_values == {c: 0.0}
    assert moved.cost_d == game.cost_d
    assert make_game("dirac", "minimax", params={"c": 2.5}) == moved
    with pytest.raises(UnknownNameError, match="did you mean 'c'"):
        game.with_params({"cc": 1.0})
    with pytest.raises(UnknownNameError):
        make_game("gaussian", "wasserstein", params={"sigma_data": 1.0})


def test_game_names_aliases_and_errors() -> None:
    assert get_game("dirac-gan").name == "dirac"
    assert get_game("gauss").name == "gaussian"
    assert get_game("TwoPoint").name == "two-point"
    with pytest.raises(UnknownNameError, match="did you mean 'dirac'"):
        make_game("diract", "minimax")


def test_definition_with_options_raises() -> None:
    definition = get_game("dirac").define()
    assert make_game(definition, "minimax").cost_d == make_game("dirac", "minimax").cost_d
    with pytest.raises(SpecError):
        make_game(definition, "minimax", options={"order": 3})


def test_state_order_is_theta_then_psi() -> None:
    game = make_game("gaussian", "wasserstein")
    assert [s.name for s in game.state_symbols] == [
        "theta_mu", "theta_sigma", "psi_0", "psi_1", "psi_2",
    ]


# --- printing round trip of whole games ----------------------------------------------------------


def _parse(expr: sp.Expr) -> sp.Expr:
    # Every symbol is real, the bound variables of quadrature nodes included.
    names = [s.name for s in expr.free_symbols | quadrature_symbols(expr)]
    local = {**FUNCTIONS, **QUADRATURES, **{n: sp.Symbol(n, real=True) for n in names}}
    return sp.parse_expr(str(expr), local_dict=local)


@pytest.mark.parametrize("loss", LOSSES.names())
def test_exact_game_costs_round_trip_through_str(loss: str) -> None:
    game = make_game("two-point", loss, options={"logit": "quadratic"})
    for expr in (game.cost_g, game.cost_d):
        assert _parse(expr) == expr


def test_quadrature_game_costs_round_trip_numerically() -> None:
    # Floats re-parse at the precision of their printed digits, so the parsed
    # expression is equal in value (to double precision), not in structure.
    game = make_game("gaussian", "non-saturating", options={"order": 4})
    x = {"theta_mu": 0.3, "theta_sigma": 0.8, "psi_0": 0.2, "psi_1": -0.7, "psi_2": 0.15}
    for expr in (game.cost_g, game.cost_d):
        assert _value(_parse(expr), game, x) == pytest.approx(_value(expr, game, x), rel=1e-14)


def test_game_and_field_reprs_are_short_and_name_the_game() -> None:
    from gandyn.derivation.field import derive
    from gandyn.games.game import make_game

    game = make_game("gaussian", "non-saturating", options={"order": "20"})
    text = repr(game)
    assert text.startswith("Game('gaussian', loss='non-saturating'")
    assert "theta_mu" in text and "GaussHermite" not in text and len(text) < 200
    field_text = repr(derive(make_game("dirac")))
    assert field_text.endswith("F has 2 components") and len(field_text) < 200
