"""The sympy activations: derivative rules, stable numerics, printing.

References used below are independent of gandyn: sympy's own ``exp``/``log``
calculus (after ``rewrite(sp.exp)``) for the derivative rules, and mpmath at
50 significant digits for the values at extreme logits.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from gandyn.symbolic.functions import (
    FUNCTIONS,
    NUMPY_NAMESPACE,
    log_sigmoid,
    relu,
    sigmoid,
    softplus,
    step,
)

x = sp.Symbol("x", real=True)
SMOOTH = (softplus, sigmoid, log_sigmoid)
EXTREME_LOGITS = np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0])


def _stable(expr: sp.Expr) -> object:
    return sp.lambdify(x, expr, modules=[NUMPY_NAMESPACE, "numpy"])


# --- derivative rules against the exp/log forms ---------------------------------------------


@pytest.mark.parametrize("f", SMOOTH, ids=lambda f: f.__name__)
@pytest.mark.parametrize("order", [1, 2, 3])
def test_derivatives_match_exp_rewrite(f: type[sp.Function], order: int) -> None:
    ours = sp.diff(f(x), x, order)
    reference = sp.diff(f(x).rewrite(sp.exp), x, order)
    assert sp.simplify(ours.rewrite(sp.exp) - reference) == 0
    # and numerically, in case simplify were too lenient
    for value in (-3.7, -0.4, 0.0, 1.3, 5.2):
        assert float(ours.rewrite(sp.exp).subs(x, value)) == pytest.approx(
            float(reference.subs(x, value)), rel=1e-12, abs=1e-15
        )


def test_derivative_rules_are_written_without_one_minus_sigmoid() -> None:
    # sigmoid' = sigmoid(x) * sigmoid(-x): two expits keep full relative
    # precision where 1 - sigmoid(x) rounds to zero.
    assert sp.diff(sigmoid(x), x) == sigmoid(x) * sigmoid(-x)
    assert sp.diff(softplus(x), x) == sigmoid(x)
    assert sp.diff(log_sigmoid(x), x) == sigmoid(-x)


def test_chain_rule_against_central_differences() -> None:
    a = sp.Symbol("a", real=True)
    expr = softplus(a * x**2 - 1) + log_sigmoid(sp.sin(x)) * sigmoid(a * x)
    derivative = sp.lambdify((x, a), sp.diff(expr, x), modules=[NUMPY_NAMESPACE, "numpy"])
    value = sp.lambdify((x, a), expr, modules=[NUMPY_NAMESPACE, "numpy"])
    h = 1e-6
    for x0, a0 in [(0.3, 1.5), (-1.2, 0.7), (2.0, -0.4)]:
        fd = (value(x0 + h, a0) - value(x0 - h, a0)) / (2 * h)
        assert derivative(x0, a0) == pytest.approx(fd, rel=1e-7, abs=1e-9)


def test_relu_and_step_follow_autodiff_conventions() -> None:
    # relu' = step, step' = 0, and step(0) = relu'(0) = 0 as in PyTorch/JAX.
    assert sp.diff(relu(x), x) == step(x)
    assert sp.diff(step(x), x) == 0
    reference = sp.diff(sp.Max(0, x), x)  # sympy: Heaviside(x)
    for value in (-2.5, -1e-3, 1e-3, 0.8):
        assert float(step(sp.Float(value))) == float(reference.subs(x, value))
        assert float(relu(sp.Float(value))) == max(value, 0.0)
    assert step(sp.S.Zero) == 0
    assert relu(sp.S.Zero) == 0
    assert _stable(step(x))(0.0) == 0.0
    assert _stable(sp.diff(relu(x), x))(np.array([-1.0, 0.0, 2.0])).tolist() == [0.0, 0.0, 1.0]


def test_special_values_and_limits() -> None:
    assert softplus(0) == sp.log(2)
    assert sigmoid(0) == sp.Rational(1, 2)
    assert log_sigmoid(0) == -sp.log(2)
    for f in SMOOTH:
        form = f(x).rewrite(sp.exp)
        assert f(sp.oo) == sp.limit(form, x, sp.oo)
        assert f(-sp.oo) == sp.limit(form, x, -sp.oo)


def test_sign_assumptions_are_true_facts() -> None:
    # softplus > 0, sigmoid > 0, log_sigmoid < 0 on the real line.
    assert softplus(x).is_positive
    assert sigmoid(x).is_positive
    assert log_sigmoid(x).is_negative
    assert softplus(x).is_real and sigmoid(x).is_real and log_sigmoid(x).is_real


# --- stable numerics --------------------------------------------------------------------------

def _mp_reference(name: str, t: float) -> float:
    with mpmath.workdps(50):
        return _mp_reference_50(name, mpmath.mpf(t))


def _mp_reference_50(name: str, t: mpmath.mpf) -> float:
    e = mpmath.exp(-t)
    values = {
        "softplus": mpmath.log1p(mpmath.exp(t)),
        "sigmoid": 1 / (1 + e),
        "log_sigmoid": -mpmath.log1p(e),
        "softplus'": 1 / (1 + e),
        "sigmoid'": e / (1 + e) ** 2,
        "log_sigmoid'": e / (1 + e),
        "sigmoid''": e * (e - 1) / (1 + e) ** 3,
    }
    return float(values[name])


@pytest.mark.parametrize(
    ("name", "expr"),
    [
        ("softplus", softplus(x)),
        ("sigmoid", sigmoid(x)),
        ("log_sigmoid", log_sigmoid(x)),
        ("softplus'", sp.diff(softplus(x), x)),
        ("sigmoid'", sp.diff(sigmoid(x), x)),
        ("log_sigmoid'", sp.diff(log_sigmoid(x), x)),
        ("sigmoid''", sp.diff(sigmoid(x), x, 2)),
    ],
)
def test_lambdified_values_at_extreme_logits(name: str, expr: sp.Expr) -> None:
    # underflow to 0 is the correct float64 answer; overflow or NaN is not
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        values = np.asarray(_stable(expr)(EXTREME_LOGITS), dtype=float)
    assert np.all(np.isfinite(values))
    reference = np.array([_mp_reference(name, t) for t in EXTREME_LOGITS])
    # atol 1e-300: values such as exp(-1000) underflow to 0 in float64.
    np.testing.assert_allclose(values, reference, rtol=1e-13, atol=1e-300)


def test_headline_extreme_values() -> None:
    assert _stable(softplus(x))(1000.0) == 1000.0
    assert _stable(softplus(x))(-1000.0) == 0.0
    assert _stable(log_sigmoid(x))(-1000.0) == -1000.0
    d_sigmoid = _stable(sp.diff(sigmoid(x), x))(1000.0)
    assert d_sigmoid == 0.0 and not math.isnan(d_sigmoid)
    # the naive form really does fail there: the namespace is what matters
    naive = sp.lambdify(x, sp.log(1 - 1 / (1 + sp.exp(-x))), modules="numpy")
    with np.errstate(all="ignore"):
        assert not np.isfinite(naive(np.float64(1000.0)))


@settings(max_examples=50, deadline=None)
@given(t=st.floats(-700, 700, allow_nan=False))
def test_logit_identities_hold_numerically(t: float) -> None:
    sp_ = NUMPY_NAMESPACE["softplus"]
    sg = NUMPY_NAMESPACE["sigmoid"]
    ls = NUMPY_NAMESPACE["log_sigmoid"]
    # softplus(t) - softplus(-t) = t and sigmoid(t) + sigmoid(-t) = 1
    assert sp_(t) - sp_(-t) == pytest.approx(t, rel=1e-12, abs=1e-12)
    assert sg(t) + sg(-t) == pytest.approx(1.0, rel=1e-15)
    assert ls(t) == pytest.approx(-sp_(-t), rel=1e-13, abs=1e-300)
    assert sp_(t) == pytest.approx(_mp_reference("softplus", t), rel=1e-13, abs=1e-300)


# --- printing -----------------------------------------------------------------------------------


def test_str_and_latex() -> None:
    assert str(softplus(x)) == "softplus(x)"
    assert str(log_sigmoid(-x)) == "log_sigmoid(-x)"
    assert sp.latex(softplus(x)) == r"\operatorname{softplus}\left(x\right)"
    assert sp.latex(sigmoid(x)) == r"\operatorname{sigmoid}\left(x\right)"
    assert sp.latex(log_sigmoid(x)) == r"\log\operatorname{sigmoid}\left(x\right)"
    assert sp.latex(relu(x)) == r"\operatorname{relu}\left(x\right)"
    assert sp.latex(step(x)) == r"\operatorname{step}\left(x\right)"


def _parse(text: str, names: set[str]) -> sp.Expr:
    local = {**FUNCTIONS, **{n: sp.Symbol(n, real=True) for n in names}}
    return sp.parse_expr(text, local_dict=local)


def test_round_trip_through_str() -> None:
    theta, psi, c = sp.symbols("theta psi c", real=True)
    exprs = [
        softplus(-psi * c) + softplus(psi * theta),
        sp.diff(softplus(psi * theta) + log_sigmoid(-psi * c), psi, 2),
        relu(1 - psi * c) + relu(1 + psi * theta) * step(theta),
        sigmoid(psi * theta) * sigmoid(-psi * theta) / 2,
    ]
    for expr in exprs:
        back = _parse(str(expr), {s.name for s in expr.free_symbols})
        assert back == expr
        assert sp.srepr(back) == sp.srepr(expr)


# --- the numpy forms themselves (gandyn.arrays) -------------------------------------------------


def test_numpy_sigmoid_is_accurate_across_the_whole_range() -> None:
    # 1 / (1 + exp(-x)) with numpy's exp: within a few ulp of mpmath wherever the true value
    # is a normal double, exactly 0 below (the overflowing exp), exactly 1 far right.
    from gandyn.arrays import sigmoid as np_sigmoid

    grid = np.concatenate([np.linspace(-708.0, 40.0, 4001), [-1e-300, 0.0, 1e-300]])
    with np.errstate(over="raise", invalid="raise"):
        values = np_sigmoid(grid)
    reference = np.array([_mp_reference("sigmoid", t) for t in grid])
    np.testing.assert_allclose(values, reference, rtol=4 * 2.0**-52, atol=0)
    tails = np_sigmoid(np.array([-np.inf, -1000.0, -746.0, 37.5, 1000.0, np.inf]))
    assert tails.tolist() == [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]
    assert np.isnan(np_sigmoid(np.array([np.nan])))[0]


def test_numpy_forms_leave_their_input_alone_and_take_scalars() -> None:
    # the forms compute in place on their own temporaries: never on the caller's array
    from gandyn import arrays

    for f, name in ((arrays.sigmoid, "sigmoid"), (arrays.softplus, "softplus"),
                    (arrays.log_sigmoid, "log_sigmoid")):
        given_x = np.array([-1000.0, -3.0, 0.0, 2.5, 1000.0])
        kept = given_x.copy()
        values = f(given_x)
        assert np.array_equal(given_x, kept)
        scalars = [float(f(float(t))) for t in kept]
        assert scalars == values.tolist()
        for t, value in zip(kept, values, strict=True):
            assert value == pytest.approx(_mp_reference(name, t), rel=1e-15, abs=1e-300)
    assert arrays.softplus(np.array([3, -2])).dtype == np.float64  # integer input is promoted
