"""The loss catalogue against the textbook forms in probability space.

Every reference below is written from the paper with ``D = 1/(1 + exp(-s))``
the probability that a sample is real (or the raw critic score ``s`` for the
losses that use one), independently of gandyn's logit-form functions.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from gandyn.errors import GandynError, UnknownNameError
from gandyn.games.losses import FAKE_LOGIT, LOSSES, REAL_LOGIT, get_loss
from gandyn.symbolic.functions import NUMPY_NAMESPACE

R, L = REAL_LOGIT, FAKE_LOGIT


def _D(s: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-s))


# name -> (d_real, d_fake, g_loss) as functions of the real logit r and the fake
# logit f, straight from the papers
TEXTBOOK = {
    # Goodfellow et al. (2014), eq. (1): D maximizes log D(x) + log(1 - D(G(z))),
    # G minimizes log(1 - D(G(z))).
    "minimax": (
        lambda r, f: -np.log(_D(r)),
        lambda r, f: -np.log(1 - _D(f)),
        lambda r, f: np.log(1 - _D(f)),
    ),
    # Goodfellow et al. (2014), Sec. 3: G maximizes log D(G(z)) instead.
    "non-saturating": (
        lambda r, f: -np.log(_D(r)),
        lambda r, f: -np.log(1 - _D(f)),
        lambda r, f: -np.log(_D(f)),
    ),
    # Goodfellow (2016), Sec. 3.2.3: D as in eq. (1); G minimizes
    # -1/2 E_z exp(sigmoid^-1(D(G(z)))) = -1/2 D / (1 - D).
    "maximum-likelihood": (
        lambda r, f: -np.log(_D(r)),
        lambda r, f: -np.log(1 - _D(f)),
        lambda r, f: -0.5 * _D(f) / (1 - _D(f)),
    ),
    # Arjovsky et al. (2017), eq. (3): the critic maximizes E[f(x)] - E[f(G(z))].
    "wasserstein": (lambda r, f: -r, lambda r, f: f, lambda r, f: -f),
    # Mao et al. (2017), eq. (2) with a = 0, b = 1, c = 1.
    "least-squares": (
        lambda r, f: 0.5 * (r - 1) ** 2,
        lambda r, f: 0.5 * (f - 0) ** 2,
        lambda r, f: 0.5 * (f - 1) ** 2,
    ),
    # Lim and Ye (2017); Miyato et al. (2018), eq. (16):
    # D minimizes E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))], G minimizes -E[D(G(z))].
    "hinge": (
        lambda r, f: np.maximum(0.0, 1 - r),
        lambda r, f: np.maximum(0.0, 1 + f),
        lambda r, f: -f,
    ),
    # Jolicoeur-Martineau (2019), RpGAN: D minimizes -log sigmoid(C(x_r) - C(x_f)),
    # G minimizes -log sigmoid(C(x_f) - C(x_r)); gandyn logs half of D's loss each.
    "relativistic": (
        lambda r, f: -0.5 * np.log(_D(r - f)),
        lambda r, f: -0.5 * np.log(_D(r - f)),
        lambda r, f: -np.log(_D(f - r)),
    ),
}

TERMS = ("d_real", "d_fake", "g_loss")


def test_catalogue_is_covered() -> None:
    assert set(LOSSES.names()) == set(TEXTBOOK)


def _compile(expr: sp.Expr, stable: bool) -> object:
    if stable:
        return sp.lambdify((R, L), expr, modules=[NUMPY_NAMESPACE, "numpy"])
    # plain numpy after rewriting every activation to exp/log/Max
    plain = expr.rewrite(sp.exp).rewrite(sp.Max)
    return sp.lambdify((R, L), plain, modules="numpy")


@pytest.mark.parametrize("name", sorted(TEXTBOOK))
@pytest.mark.parametrize("stable", [False, True], ids=["exp-form", "stable"])
@settings(max_examples=30, deadline=None)
@given(
    rr=st.floats(-12.0, 12.0, allow_nan=False),
    ll=st.floats(-12.0, 12.0, allow_nan=False),
)
def test_logged_terms_match_textbook(name: str, stable: bool, rr: float, ll: float) -> None:
    loss = get_loss(name)
    for term, reference in zip(TERMS, TEXTBOOK[name], strict=True):
        got = float(_compile(getattr(loss, term), stable)(rr, ll))  # type: ignore[operator]
        assert got == pytest.approx(float(reference(rr, ll)), rel=1e-9, abs=1e-11), term


@pytest.mark.parametrize("name", sorted(TEXTBOOK))
def test_costs_are_the_textbook_objectives(name: str) -> None:
    loss = get_loss(name)
    d_real, d_fake, g_loss = TEXTBOOK[name]
    cost_d = sp.lambdify((R, L), loss.cost_d, modules=[NUMPY_NAMESPACE, "numpy"])
    cost_g = sp.lambdify((R, L), loss.cost_g, modules=[NUMPY_NAMESPACE, "numpy"])
    rng = np.random.default_rng(1)
    for rr, ll in rng.uniform(-6, 6, size=(20, 2)):
        assert cost_d(rr, ll) == pytest.approx(d_real(rr, ll) + d_fake(rr, ll), rel=1e-10)
        assert cost_g(rr, ll) == pytest.approx(g_loss(rr, ll), rel=1e-10, abs=1e-12)


def test_cross_entropy_terms_are_softplus_of_the_logit() -> None:
    # -log D(x) = log(1 + exp(-r)), -log(1 - D) = log(1 + exp(l)), exactly
    for name in ("minimax", "non-saturating"):
        loss = get_loss(name)
        assert sp.simplify(loss.d_real.rewrite(sp.exp) - sp.log(1 + sp.exp(-R))) == 0
        assert sp.simplify(loss.d_fake.rewrite(sp.exp) - sp.log(1 + sp.exp(L))) == 0


def test_non_saturating_identity_d_fake_minus_g_loss_is_the_logit() -> None:
    # -log(1 - D) + log D = log(D / (1 - D)) = l: the identity behind the
    # oscillating g_loss (the question in README.md).
    loss = get_loss("non-saturating")
    assert sp.simplify((loss.d_fake - loss.g_loss).rewrite(sp.exp) - L) == 0
    gap = sp.lambdify(L, loss.d_fake - loss.g_loss, modules=[NUMPY_NAMESPACE, "numpy"])
    logits = np.array([-1000.0, -30.0, -1.5, 0.0, 2.5, 30.0, 1000.0])
    np.testing.assert_allclose(gap(logits), logits, rtol=1e-14, atol=1e-14)


def test_minimax_generator_loss_is_minus_d_fake() -> None:
    loss = get_loss("minimax")
    assert loss.g_loss + loss.d_fake == 0


@pytest.mark.parametrize("name", sorted(TEXTBOOK))
def test_zero_sum_flag_matches_the_definition(name: str) -> None:
    # Zero-sum up to terms G does not control: d(cost_d + cost_g)/dl = 0 for
    # every logit pair. Checked by central differences of the textbook forms.
    d_real, d_fake, g_loss = TEXTBOOK[name]

    def total(rr: float, ll: float) -> float:
        return float(d_real(rr, ll) + d_fake(rr, ll) + g_loss(rr, ll))

    h = 1e-5
    slopes = [
        (total(rr, ll + h) - total(rr, ll - h)) / (2 * h)
        for rr in (-1.3, 0.4, 2.2)
        for ll in (-3.1, -0.6, 0.7, 2.9)
    ]
    assert get_loss(name).zero_sum == bool(np.allclose(slopes, 0.0, atol=1e-7))


def test_output_is_probability_or_score() -> None:
    s = sp.Symbol("s", real=True)
    for name in ("minimax", "non-saturating", "relativistic"):
        out = get_loss(name).output_of(s)
        assert sp.simplify(out.rewrite(sp.exp) - 1 / (1 + sp.exp(-s))) == 0
    for name in ("wasserstein", "least-squares", "hinge"):
        assert get_loss(name).output_of(s) == s


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("saturating", "minimax"),
        ("ns", "non-saturating"),
        ("nsgan", "non-saturating"),
        ("Non_Saturating", "non-saturating"),
        ("wgan", "wasserstein"),
        ("lsgan", "least-squares"),
        ("rpgan", "relativistic"),
        ("HINGE", "hinge"),
    ],
)
def test_aliases_resolve(alias: str, canonical: str) -> None:
    assert get_loss(alias).name == canonical
    assert alias in LOSSES


def test_unknown_loss_suggests_the_closest_name() -> None:
    with pytest.raises(UnknownNameError, match=r"did you mean 'minimax'") as info:
        get_loss("minmax")
    assert isinstance(info.value, GandynError) and isinstance(info.value, KeyError)
    assert "\n" not in str(info.value)
    assert str(info.value).startswith("unknown loss 'minmax'")


def test_unknown_loss_without_close_match_lists_known() -> None:
    with pytest.raises(UnknownNameError) as info:
        get_loss("zzzzzz")
    assert "did you mean" not in str(info.value)
    assert "minimax" in str(info.value)


@pytest.mark.parametrize("name", sorted(TEXTBOOK))
def test_every_loss_cites_a_paper(name: str) -> None:
    reference = get_loss(name).reference
    assert any(str(year) in reference for year in range(2014, 2025))


@pytest.mark.parametrize(("mu", "s"), [(0.7, 1.0), (-0.4, 1.3), (1.1, 0.8)])
def test_maximum_likelihood_cost_gives_the_kl_gradient_at_the_optimal_discriminator(
        mu: float, s: float) -> None:
    # Goodfellow (2014), arXiv:1412.6515, and Goodfellow (2016), Sec. 3.2.3: with the optimal
    # discriminator, whose logit is l*(x) = log p_data(x) - log p_g(x), the expected gradient
    # of -E_z exp(l*(G(z))) / 2 is half the gradient of KL(p_data || p_g). For p_data = N(0, 1)
    # and p_g = N(mu, s^2), l* is the Gaussian game's quadratic logit with
    # psi = (mu^2/(2 s^2) + log s, -mu/s^2, 1/(2 s^2) - 1/2), and
    # KL = log s + (1 + mu^2)/(2 s^2) - 1/2.
    from gandyn.derivation.field import derive
    from gandyn.games.game import make_game

    vf = derive(make_game("gaussian", "maximum-likelihood", options={"order": 40}))
    state = np.array([mu, s, mu**2 / (2 * s * s) + np.log(s), -mu / s**2, 1 / (2 * s * s) - 0.5])
    grad_kl = np.array([mu / s**2, 1 / s - (1 + mu**2) / s**3])
    np.testing.assert_allclose(vf.field_fn(state)[:2], -0.5 * grad_kl, rtol=1e-10, atol=1e-12)


def test_a_maximum_likelihood_run_that_overflows_is_reported_diverged() -> None:
    # theta = psi = 30 puts the fake logit at 900, beyond exp's double range (709.78).
    from gandyn.runs.build import simulate

    result = simulate(loss="maximum-likelihood", starts=[{"theta": 30.0, "psi": 30.0}],
                      steps=10)
    assert bool(result.trajectory.diverged[0])
