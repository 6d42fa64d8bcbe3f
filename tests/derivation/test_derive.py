"""Vector fields, Jacobians and Hessians: hand derivations, published values, finite differences.

Published references
--------------------
Mescheder, Geiger and Nowozin (2018), Which Training Methods for GANs do
actually Converge?, ICML ("M18" below): the Dirac-GAN (Sec. 2.2), its
Jacobian's eigenvalues ``+-i f'(0)`` at the equilibrium (Lemma 2.2) and those
of the R1-regularized game, ``-gamma/2 +- sqrt(gamma^2/4 - f'(0)^2)``
(Sec. 4.1), with ``f(t) = -log(1 + exp(-t))`` so ``f'(0) = 1/2`` (``f(t) = t``
and ``f'(0) = 1`` for the WGAN).
"""

from __future__ import annotations

import functools

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.special import expit

from gandyn.derivation.field import NumericFunction, VectorField, derive
from gandyn.games.game import GAMES, make_game
from gandyn.games.losses import LOSSES
from gandyn.games.regularizers import apply_values, get_regularizer
from gandyn.symbolic.expectations import expand_quadrature
from gandyn.symbolic.functions import relu, sigmoid, step

theta, psi, c = sp.symbols("theta psi c", real=True)

# hyper-parameter values away from degenerate defaults (c = 0, a = b = 0, mu = 0)
PARAMS = {
    "dirac": {"c": 0.7},
    "bilinear": {"a": 0.3, "b": -0.2},
    "two-point": {"a": 1.3},
    "gaussian": {"mu": 0.3, "sigma": 0.9},
    "hide-and-seek": {},
    "two-point-bump": {"a": 1.3, "w": 0.8},
}
OPTIONS = {"gaussian": {"order": 4}}


def _reg(name: str, **values: object) -> object:
    return apply_values(get_regularizer(name), values)  # type: ignore[arg-type]


# (id, game, loss, game options, regularizers as (name, values) pairs)
Case = tuple[str, str | None, tuple[tuple[str, str | int], ...], tuple[tuple[str, tuple], ...]]

CASES: dict[str, Case] = {}
for _game in GAMES.names():
    _direct = GAMES.get(_game).define().model is None
    for _loss in (LOSSES.names() if not _direct else [None]):
        _opts = tuple(OPTIONS.get(_game, {}).items())
        if _game == "two-point":
            _opts = (("logit", "quadratic"),)
        CASES[f"{_game}-{_loss or 'direct'}"] = (_game, _loss, _opts, ())
CASES.update(
    {
        "dirac-minimax+r1": ("dirac", "minimax", (), (("r1", (("gamma", 0.6),)),)),
        "gaussian-ns+r1": ("gaussian", "non-saturating", (("order", 4),), (("r1", ()),)),
        "dirac-ns+consensus": ("dirac", "non-saturating", (), (("consensus", ()),)),
        "bilinear+consensus": ("bilinear", None, (), (("consensus", (("gamma", 0.4),)),)),
        "two-point-wgan+gp": (
            "two-point", "wasserstein", (("logit", "quadratic"),), (("wgan-gp", (("order", 3),)),)
        ),
        "gaussian-wgan+gp": (
            "gaussian", "wasserstein", (("order", 3),), (("wgan-gp", (("order", 3),)),)
        ),
        "dirac-hinge+noise": (
            "dirac", "hinge", (), (("instance-noise", (("order", 4), ("sigma", 0.3))),)
        ),
        "two-point-rpgan+r2": (
            "two-point", "relativistic", (("logit", "affine"),), (("r2", (("gamma", 2.0),)),)
        ),
    }
)


@functools.cache
def field_of(case: str) -> VectorField:
    game, loss, options, regs = CASES[case]
    regularizers = [_reg(name, **dict(values)) for name, values in regs]
    built = make_game(
        game, loss, regularizers, options=dict(options) or None, params=PARAMS[game]  # type: ignore[arg-type]
    )
    return derive(built)


@functools.cache
def kinks_of(case: str) -> NumericFunction | None:
    """The arguments of every non-smooth function in the costs (relu, step, Abs, sign)."""
    vf = field_of(case)
    # Kinks inside a quadrature node sit at each of its nodes: write the sums out.
    exprs = [expand_quadrature(e) for e in (vf.game.cost_g, vf.game.cost_d, *vf.field)]
    args = {
        atom.args[0]
        for e in exprs
        for atom in e.atoms(relu, step, sp.Abs, sp.sign)
    }
    if not args:
        return None
    return NumericFunction(sorted(args, key=str), vf.game.state_symbols, vf.game.param_values)


def _central(f: NumericFunction, x: np.ndarray, h: float) -> np.ndarray:
    """d f_i / d x_j by central differences, one batched call each way; shape (m, n)."""
    steps = np.eye(x.size) * h
    return ((f(x + steps) - f(x - steps)) / (2 * h)).reshape(x.size, -1).T


def _state(case: str) -> st.SearchStrategy[np.ndarray]:
    n = len(field_of(case).game.state_symbols)
    return st.lists(st.floats(-1.5, 1.5), min_size=n, max_size=n).map(np.array)


def _avoid_kinks(case: str, x: np.ndarray, h: float) -> None:
    # relu, step and |.| are not differentiable at 0: a central difference whose
    # stencil straddles a kink measures a jump, not a derivative. Keep the
    # stencil (the arguments move by at most ~|grad| h) well clear of every kink.
    kinks = kinks_of(case)
    if kinks is not None:
        assume(np.min(np.abs(kinks(x))) > 1e-3)


H = 1e-6


@pytest.mark.parametrize("case", list(CASES))
def test_field_is_minus_each_players_gradient(case: str) -> None:
    vf = field_of(case)
    n_theta = len(vf.game.theta)

    @settings(max_examples=25, deadline=None)
    @given(x=_state(case))
    def check(x: np.ndarray) -> None:
        _avoid_kinks(case, x, H)
        d_costs = _central(vf.costs_fn, x, H)  # rows: cost_g, cost_d
        expected = -np.concatenate([d_costs[0, :n_theta], d_costs[1, n_theta:]])
        got = vf.field_fn(x)
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7 * (1 + np.abs(got).max()))

    check()


@pytest.mark.parametrize("case", list(CASES))
def test_jacobian_vs_central_differences(case: str) -> None:
    vf = field_of(case)

    @settings(max_examples=25, deadline=None)
    @given(x=_state(case))
    def check(x: np.ndarray) -> None:
        # For hinge the field contains step(.), piecewise constant: its derivative
        # is 0 away from the kinks, which _avoid_kinks keeps out of the stencil.
        _avoid_kinks(case, x, H)
        fd = _central(vf.field_fn, x, H)
        got = vf.jacobian_fn(x)
        np.testing.assert_allclose(got, fd, rtol=1e-5, atol=1e-6 * (1 + np.abs(fd).max()))

    check()


@pytest.mark.parametrize("case", list(CASES))
def test_hessians_vs_central_differences_of_gradients(case: str) -> None:
    vf = field_of(case)
    state, values = vf.game.state_symbols, vf.game.param_values
    grad_g = NumericFunction(list(vf.grad_g), state, values)
    grad_d = NumericFunction(list(vf.grad_d), state, values)
    hess_g = NumericFunction(vf.hessian_g, state, values)
    hess_d = NumericFunction(vf.hessian_d, state, values)
    n_theta = len(vf.game.theta)

    @settings(max_examples=25, deadline=None)
    @given(x=_state(case))
    def check(x: np.ndarray) -> None:
        _avoid_kinks(case, x, H)
        fd_g = _central(grad_g, x, H)[:, :n_theta]
        fd_d = _central(grad_d, x, H)[:, n_theta:]
        for got, fd in ((hess_g(x), fd_g), (hess_d(x), fd_d)):
            np.testing.assert_allclose(got, fd, rtol=1e-5, atol=1e-6 * (1 + np.abs(fd).max()))
            np.testing.assert_allclose(got, got.T, rtol=1e-12, atol=1e-12)

    check()


# --- hand derivations ---------------------------------------------------------------------------


def _zero(expr: sp.Expr) -> bool:
    return sp.simplify(sp.expand(expr).rewrite(sp.exp)) == 0


def test_dirac_minimax_field_by_hand() -> None:
    # cost_g = -softplus(psi theta), cost_d = softplus(-psi c) + softplus(psi theta)
    vf = derive(make_game("dirac", "minimax"))
    hand = (psi * sigmoid(psi * theta), c * sigmoid(-c * psi) - theta * sigmoid(psi * theta))
    assert all(_zero(f - h) for f, h in zip(vf.field, hand, strict=True))


def test_dirac_non_saturating_field_by_hand() -> None:
    vf = derive(make_game("dirac", "non-saturating"))
    hand = (psi * sigmoid(-psi * theta), c * sigmoid(-c * psi) - theta * sigmoid(psi * theta))
    assert all(_zero(f - h) for f, h in zip(vf.field, hand, strict=True))


def test_dirac_wasserstein_field_is_a_rotation() -> None:
    vf = derive(make_game("dirac", "wasserstein"))
    assert vf.field == (psi, c - theta)
    assert vf.jacobian == sp.Matrix([[0, 1], [-1, 0]])


def test_bilinear_jacobian_exact() -> None:
    a, b = sp.symbols("a b", real=True)
    vf = derive(make_game("bilinear"))
    assert vf.jacobian == sp.Matrix([[-a, -1], [1, -b]])
    assert vf.hessian_g == sp.Matrix([[a]])
    assert vf.hessian_d == sp.Matrix([[b]])


# --- published values --------------------------------------------------------------------------


@pytest.mark.parametrize("loss", ["minimax", "non-saturating"])
def test_dirac_equilibrium_eigenvalues_are_pm_i_over_2(loss: str) -> None:
    # M18, Lemma 2.2: eigenvalues +-f'(0) i with f'(0) = 1/2 (c = 0, state (0, 0)).
    vf = derive(make_game("dirac", loss))
    half = sp.Rational(1, 2)
    assert vf.jacobian.subs({theta: 0, psi: 0, c: 0}) == sp.Matrix([[0, half], [-half, 0]])
    eig = np.linalg.eigvals(vf.jacobian_fn(np.zeros(2)))
    np.testing.assert_allclose(sorted(eig, key=np.imag), [-0.5j, 0.5j], atol=1e-15)


def test_dirac_wgan_eigenvalues_are_pm_i() -> None:
    # M18, Lemma 2.2 with f(t) = t: f'(0) = 1
    eig = np.linalg.eigvals(derive(make_game("dirac", "wasserstein")).jacobian_fn(np.zeros(2)))
    np.testing.assert_allclose(sorted(eig, key=np.imag), [-1j, 1j], atol=1e-15)


@pytest.mark.parametrize("penalty", ["r1", "r2"])
@pytest.mark.parametrize("loss", ["minimax", "non-saturating"])
@pytest.mark.parametrize("gamma", [0.1, 0.5, 0.99, 1.0, 1.5, 3.0])
def test_regularized_dirac_eigenvalues(gamma: float, loss: str, penalty: str) -> None:
    # M18, Sec. 4.1: -gamma/2 +- sqrt(gamma^2/4 - f'(0)^2), f'(0) = 1/2; real for gamma >= 1.
    vf = derive(make_game("dirac", loss, [_reg(penalty)]))
    J = vf.jacobian_fn(np.zeros(2), {f"gamma_{penalty}": gamma})
    got = np.sort_complex(np.linalg.eigvals(J))
    root = np.sqrt(complex(gamma**2 / 4 - 0.25))
    expected = np.sort_complex(np.array([-gamma / 2 - root, -gamma / 2 + root]))
    np.testing.assert_allclose(got, expected, atol=1e-7)
    assert np.all(got.real < 0)  # the regularized flow is locally convergent
    if gamma > 1:
        assert np.all(np.abs(got.imag) < 1e-12)


def test_mescheder_sign_convention_is_pinned() -> None:
    # M18 eq. (1): L(theta, psi') = E_z[f(D(G(z)))] + E_x[f(-D(x))], f(t) = -log(1 + exp(-t)),
    # D_psi'(x) = psi' x, D maximizes L and G minimizes it; their D scores *fakeness*,
    # so psi' = -psi. Their field is v = (-grad_theta L, grad_psi' L).
    pp = sp.Symbol("psi_prime", real=True)

    def f(t: sp.Expr) -> sp.Expr:
        return -sp.log(1 + sp.exp(-t))

    L = f(pp * theta) + f(-pp * c)
    v = (-sp.diff(L, theta), sp.diff(L, pp))
    game = make_game("dirac", "minimax")
    vf = derive(game)
    to_ours = {pp: -psi}

    # our D's cost is minus their objective, read at psi' = -psi
    assert _zero(game.cost_d + L.xreplace(to_ours))
    # their psi' moves opposite to our psi: dtheta/dt agrees, dpsi'/dt = -dpsi/dt
    assert _zero(vf.field[0] - v[0].xreplace(to_ours))
    assert _zero(vf.field[1] + v[1].xreplace(to_ours))

    # numerically too, at points away from the origin
    v_fn = sp.lambdify((theta, pp, c), v, modules="numpy")
    rng = np.random.default_rng(7)
    for t0, p0, c0 in rng.uniform(-2, 2, size=(10, 3)):
        ours = vf.field_fn(np.array([t0, p0]), {"c": c0})
        theirs = np.array(v_fn(t0, -p0, c0))
        np.testing.assert_allclose(ours, theirs * np.array([1.0, -1.0]), rtol=1e-12, atol=1e-15)


# --- extreme logits ----------------------------------------------------------------------------

def _dirac_reference(loss: str, t0: float, p0: float, c0: float) -> dict[str, np.ndarray]:
    """Hand-derived Dirac-GAN quantities evaluated with mpmath at 50 digits."""
    with mpmath.workdps(50):
        return _dirac_reference_50(loss, mpmath.mpf(t0), mpmath.mpf(p0), mpmath.mpf(c0))


def _dirac_reference_50(
    loss: str, t: mpmath.mpf, p: mpmath.mpf, cc: mpmath.mpf
) -> dict[str, np.ndarray]:

    def sig(u: mpmath.mpf) -> mpmath.mpf:
        return 1 / (1 + mpmath.exp(-u))

    def softplus_(u: mpmath.mpf) -> mpmath.mpf:
        return mpmath.log1p(mpmath.exp(u))

    lo, re = p * t, p * cc  # fake and real logits
    dsig = sig(lo) * sig(-lo)
    dsig_r = sig(re) * sig(-re)
    if loss == "minimax":
        g_loss = -softplus_(lo)
        f_theta = p * sig(lo)
        j_row0 = [p * p * dsig, sig(lo) + p * t * dsig]
    else:
        g_loss = softplus_(-lo)
        f_theta = p * sig(-lo)
        j_row0 = [-p * p * dsig, sig(-lo) - p * t * dsig]
    f_psi = cc * sig(-re) - t * sig(lo)
    j_row1 = [-sig(lo) - t * p * dsig, -cc * cc * dsig_r - t * t * dsig]
    as_float = np.vectorize(float)
    return {
        "logged": as_float([softplus_(-re), softplus_(lo), g_loss]),
        "field": as_float([f_theta, f_psi]),
        "jacobian": as_float([j_row0, j_row1]),
    }


@pytest.mark.parametrize("loss", ["minimax", "non-saturating"])
@pytest.mark.parametrize(
    ("t0", "p0", "c0"),
    [(1000.0, 1.0, 0.0), (1000.0, -1.0, 0.0), (-1000.0, 1.0, 0.0), (-1000.0, -1.0, 0.0),
     (0.5, 1.0, 1000.0), (0.5, 1.0, -1000.0), (30.0, 1.0, -30.0)],
)
def test_extreme_logits_are_finite_and_exact(loss: str, t0: float, p0: float, c0: float) -> None:
    vf = derive(make_game("dirac", loss))
    x, params = np.array([t0, p0]), {"c": c0}
    ref = _dirac_reference(loss, t0, p0, c0)
    logged = vf.logged(x, params)
    got = {
        "logged": np.array([logged["d_real"], logged["d_fake"], logged["g_loss"]]),
        "field": vf.field_fn(x, params),
        "jacobian": vf.jacobian_fn(x, params),
    }
    for name, value in got.items():
        assert np.all(np.isfinite(value)), name
        # atol 1e-300: terms like 1000 exp(-1000) underflow to 0 in float64
        np.testing.assert_allclose(value, ref[name], rtol=1e-12, atol=1e-300, err_msg=name)


def test_headline_extreme_values() -> None:
    # a fake logit of +1000: d_fake = softplus(1000) = 1000, and D(G(z)) = 1
    vf = derive(make_game("dirac", "non-saturating"))
    logged = vf.logged(np.array([1000.0, 1.0]))
    assert logged["d_fake"] == 1000.0 and logged["g_loss"] == 0.0 and logged["d_gz"] == 1.0
    assert vf.field_fn(np.array([1000.0, 1.0])).tolist() == [0.0, -1000.0]


@pytest.mark.parametrize("case", [k for k in CASES if "+" not in k])
def test_every_game_is_finite_at_huge_states(case: str) -> None:
    vf = field_of(case)
    n = len(vf.game.state_symbols)
    signs = np.array([[1.0] * n, [-1.0] * n, [(-1.0) ** i for i in range(n)]])
    x = np.concatenate([1000.0 * signs, 30.0 * signs])
    if vf.game.loss is not None and vf.game.loss.name == "maximum-likelihood":
        # -exp(l)/2 exceeds double precision for l > 709: its true value is not a finite
        # double, and its gradient exp(l) dl/dtheta is inf or inf * 0 there. The
        # discriminator's side stays finite and the generator's cost overflows with the
        # right sign (-inf); a run that gets there is reported diverged (below).
        assert np.all(np.isfinite(vf.costs_fn(x)[:, 1]))
        logged = vf.logged(x)
        assert np.all(np.isfinite(logged["d_real"])) and np.all(np.isfinite(logged["d_fake"]))
        g_cost = vf.costs_fn(x)[:, 0]
        assert not np.any(np.isnan(g_cost)) and not np.any(g_cost == np.inf)
        return
    for fn in (vf.costs_fn, vf.logged_fn, vf.field_fn, vf.jacobian_fn):
        assert np.all(np.isfinite(fn(x)))


# --- numeric interface --------------------------------------------------------------------------


def test_batched_shapes_and_values() -> None:
    vf = field_of("gaussian-minimax")
    n = 5
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(3, 4, n))
    assert vf.field_fn(x).shape == (3, 4, n)
    assert vf.jacobian_fn(x).shape == (3, 4, n, n)
    assert vf.costs_fn(x).shape == (3, 4, 2)
    assert vf.logged(x)["g_loss"].shape == (3, 4)
    assert vf.field_fn(x[0, 0]).shape == (n,)
    assert vf.jacobian_fn(x[0, 0]).shape == (n, n)
    assert vf.costs_fn(x[0, 0]).shape == (2,)
    # batched equals point by point
    for i, j in [(0, 0), (2, 3), (1, 2)]:
        np.testing.assert_array_equal(vf.field_fn(x)[i, j], vf.field_fn(x[i, j]))
        np.testing.assert_array_equal(vf.jacobian_fn(x)[i, j], vf.jacobian_fn(x[i, j]))


def test_constant_entries_are_broadcast() -> None:
    vf = derive(make_game("bilinear", params={"a": 0.5, "b": 2.0}))
    J = vf.jacobian_fn(np.zeros((7, 2)))
    assert J.shape == (7, 2, 2)
    np.testing.assert_array_equal(J, np.broadcast_to([[-0.5, -1.0], [1.0, -2.0]], (7, 2, 2)))


def test_param_override_by_name() -> None:
    vf = derive(make_game("dirac", "minimax"))
    t0, p0, c0 = 0.4, -1.2, 2.0
    got = vf.field_fn(np.array([t0, p0]), params={"c": c0})
    hand = [p0 * expit(p0 * t0), c0 * expit(-c0 * p0) - t0 * expit(p0 * t0)]
    np.testing.assert_allclose(got, hand, rtol=1e-14)
    # the default (c = 0) is untouched by the override
    np.testing.assert_allclose(vf.field_fn(np.array([t0, p0]))[1], -t0 * expit(p0 * t0), rtol=1e-14)
    with pytest.raises(KeyError, match="gamma"):
        vf.field_fn(np.array([t0, p0]), params={"gamma": 1.0})
    with pytest.raises(ValueError, match="theta, psi"):
        vf.field_fn(np.zeros(3))


def test_derivations_are_shared_across_parameter_values() -> None:
    game = make_game("dirac", "minimax")
    first, second = derive(game), derive(game.with_params({"c": 1.5}))
    assert first.jacobian is second.jacobian
    assert second.field_fn(np.array([0.0, 0.0]))[1] == pytest.approx(1.5 * 0.5)
