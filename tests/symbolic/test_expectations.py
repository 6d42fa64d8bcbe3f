"""Expectations: exact for point masses and polynomials, Gauss quadrature otherwise.

References: closed-form moments written by hand (and sympy.stats, an
independent implementation), and ``scipy.integrate.quad`` for integrals with
no closed form.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import sympy.stats as sps
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, special, stats

from gandyn.symbolic.expectations import (
    Normal,
    PointMasses,
    Uniform,
    collapse_normals,
    expect,
    point_masses,
)
from gandyn.symbolic.functions import NUMPY_NAMESPACE, sigmoid, softplus, step

x, z, u, e = sp.symbols("x z u e", real=True)
a, b, mu, s, w = sp.symbols("a b mu s w", real=True)
ZERO, ONE = sp.S.Zero, sp.S.One


def _numeric(expr: sp.Expr, symbols: tuple[sp.Symbol, ...]) -> object:
    return sp.lambdify(symbols, expr, modules=[NUMPY_NAMESPACE, "numpy"])


def _value(expr: sp.Expr) -> float:
    """A constant expression's value (gandyn's functions have no evalf, so lambdify)."""
    return float(sp.lambdify((), expr, modules=[NUMPY_NAMESPACE, "numpy"])())


def _normal_quad(f: object, mean: float, std: float) -> float:
    value, _ = integrate.quad(
        lambda t: f(t) * stats.norm.pdf(t, mean, std),  # type: ignore[operator]
        -np.inf, np.inf, epsabs=1e-14, epsrel=1e-13,
    )
    return float(value)


# --- point masses -------------------------------------------------------------------------------


def test_point_masses_are_exact_weighted_sums() -> None:
    dist = point_masses([a, -b], [w, 1 - w])
    got = expect(softplus(x * mu) + x**3, {x: dist})
    expected = w * (softplus(a * mu) + a**3) + (1 - w) * (softplus(-b * mu) - b**3)
    assert sp.expand(got - expected) == 0


def test_point_masses_default_to_equal_rational_weights() -> None:
    dist = point_masses([-a, a])
    assert dist.weights == (sp.Rational(1, 2), sp.Rational(1, 2))
    assert sp.expand(expect(x**2, {x: dist}) - a**2) == 0
    assert expect(x, {x: dist}) == 0
    # floats become exact rationals, so costs stay exact
    assert point_masses([0, 1], [0.25, 0.75]).weights == (sp.Rational(1, 4), sp.Rational(3, 4))


@pytest.mark.parametrize(
    ("points", "weights"),
    [([], None), ([0, 1], [1]), ([0, 1], [0.7, 0.7]), ([0, 1], [-0.5, 1.5])],
)
def test_point_masses_reject_invalid_distributions(points: list, weights: list | None) -> None:
    with pytest.raises(ValueError):
        point_masses(points, weights)


def test_variables_not_in_the_expression_are_skipped() -> None:
    assert expect(mu + 1, {x: Normal(ZERO, ONE), z: PointMasses((a,), (ONE,))}) == mu + 1


# --- normal variables -------------------------------------------------------------------------


def test_normal_fourth_moment_closed_form() -> None:
    got = expect(x**4, {x: Normal(mu, s)})
    assert sp.expand(got - (mu**4 + 6 * mu**2 * s**2 + 3 * s**4)) == 0
    assert not got.atoms(sp.Float)


@pytest.mark.parametrize("k", range(9))
def test_normal_moments_match_sympy_stats(k: int) -> None:
    # sympy.stats integrates the density: an independent implementation.
    m, sd = sp.Symbol("m", real=True), sp.Symbol("sd", positive=True)
    reference = sps.E(sps.Normal("X", m, sd) ** k)
    got = expect(x**k, {x: Normal(m, sd)})
    assert sp.simplify(got - reference) == 0
    assert not got.atoms(sp.Float)


def test_normal_moments_match_scipy() -> None:
    for k in range(1, 7):
        got = float(expect(x**k, {x: Normal(sp.Float(0.7), sp.Float(1.3))}))
        assert got == pytest.approx(stats.norm(0.7, 1.3).moment(k), rel=1e-12)


def test_polynomial_part_stays_exact_beside_a_quadrature() -> None:
    got = expect(x**2 + softplus(x), {x: Normal(mu, s, 4)})
    quad_part = expect(softplus(x), {x: Normal(mu, s, 4)})
    assert sp.expand(got - quad_part - (mu**2 + s**2)) == 0


_GH_SOFTPLUS = _numeric(expect(softplus(a + b * u), {u: Normal(ZERO, ONE, 12)}), (a, b))


@settings(max_examples=40, deadline=None)
@given(
    a0=st.floats(-3.0, 3.0),
    b0=st.floats(-1.0, 1.0),
)
def test_gauss_hermite_softplus_vs_quad(a0: float, b0: float) -> None:
    got = _GH_SOFTPLUS(a0, b0)  # type: ignore[operator]
    reference = _normal_quad(lambda t: np.logaddexp(0.0, a0 + b0 * t), 0.0, 1.0)
    # order 12; the measured worst case on this box is 3e-8 relative
    assert got == pytest.approx(reference, rel=2e-7)


def test_gauss_hermite_converges_with_order() -> None:
    reference = _normal_quad(lambda t: np.logaddexp(0.0, -2.0 + 2.0 * t), 0.0, 1.0)
    errors = []
    for order in (4, 8, 16, 32):
        value = _value(expect(softplus(-2 + 2 * u), {u: Normal(ZERO, ONE, order)}))
        errors.append(abs(value - reference))
    assert errors == sorted(errors, reverse=True)
    assert errors[-1] < 1e-5 * reference


def test_gauss_hermite_with_symbolic_mean_and_std() -> None:
    got = _numeric(expect(sigmoid(x), {x: Normal(mu, s, 40)}), (mu, s))
    for m0, s0 in [(0.0, 1.0), (1.2, 0.4), (-0.5, 1.5)]:
        reference = _normal_quad(special.expit, m0, s0)
        assert got(m0, s0) == pytest.approx(reference, rel=1e-7)  # type: ignore[operator]


@pytest.mark.parametrize("order", [2, 3, 5])
def test_gauss_hermite_degree_of_exactness(order: int) -> None:
    # Abramowitz and Stegun 25.4.46: an n-point rule is exact up to degree 2n - 1.
    # step(u + 100) is 1 at every node, so this forces the quadrature path.
    for k in range(2 * order + 1):
        value = float(expect(step(u + 100) * u**k, {u: Normal(ZERO, ONE, order)}))
        exact = float(sp.factorial2(k - 1)) if k % 2 == 0 else 0.0
        if k <= 2 * order - 1:
            assert value == pytest.approx(exact, abs=1e-12, rel=1e-12)
        else:
            assert value != pytest.approx(exact, rel=1e-6)


def test_nested_normals_vs_quad_of_the_sum() -> None:
    # x ~ N(0.5, 0.6^2), z ~ N(-0.2, 0.8^2) independent: x + z ~ N(0.3, 1).
    dists = {
        x: Normal(sp.Float(0.5), sp.Float(0.6), 12),
        z: Normal(sp.Float(-0.2), sp.Float(0.8), 12),
    }
    got = _value(expect(softplus(x + z), dists))
    assert got == pytest.approx(_normal_quad(lambda t: np.logaddexp(0, t), 0.3, 1.0), rel=1e-7)


def test_point_mass_and_normal_mixed() -> None:
    dists = {
        x: point_masses([-1, 2], [sp.Rational(1, 3), sp.Rational(2, 3)]),
        z: Normal(ZERO, ONE, 40),
    }
    got = _value(expect(softplus(x * z + x), dists))
    reference = sum(
        wt * _normal_quad(lambda t, p=p: np.logaddexp(0, p * t + p), 0.0, 1.0)
        for p, wt in [(-1.0, 1 / 3), (2.0, 2 / 3)]
    )
    assert got == pytest.approx(reference, rel=1e-6)


# --- uniform variables --------------------------------------------------------------------------


def test_uniform_polynomial_exact() -> None:
    lo, hi = sp.symbols("lo hi", real=True)
    got = expect(x**3 - 2 * x, {x: Uniform(lo, hi)})
    expected = (hi**4 - lo**4) / (4 * (hi - lo)) - (hi + lo)
    assert sp.simplify(got - expected) == 0
    assert not got.atoms(sp.Float)


_GL_SOFTPLUS = _numeric(expect(softplus(a + b * u), {u: Uniform(-ONE, 2 * ONE, 12)}), (a, b))


@settings(max_examples=30, deadline=None)
@given(a0=st.floats(-3.0, 3.0), b0=st.floats(-3.0, 3.0))
def test_gauss_legendre_softplus_vs_quad(a0: float, b0: float) -> None:
    got = _GL_SOFTPLUS(a0, b0)  # type: ignore[operator]
    reference, _ = integrate.quad(
        lambda t: np.logaddexp(0.0, a0 + b0 * t) / 3.0, -1.0, 2.0, epsabs=1e-14, epsrel=1e-13
    )
    assert got == pytest.approx(reference, rel=2e-7)


@pytest.mark.parametrize("order", [2, 4])
def test_gauss_legendre_degree_of_exactness(order: int) -> None:
    # Abramowitz and Stegun 25.4.29: exact up to degree 2n - 1; E[u^k] = 1/(k+1) on U(0, 1).
    for k in range(2 * order + 1):
        value = float(expect(step(u + 100) * u**k, {u: Uniform(ZERO, ONE, order)}))
        if k <= 2 * order - 1:
            assert value == pytest.approx(1.0 / (k + 1), rel=1e-13)
        else:
            assert value != pytest.approx(1.0 / (k + 1), rel=1e-8)


# --- collapsing sums of normals ------------------------------------------------------------------


def test_collapse_normals_preserves_the_law() -> None:
    variables = {x: Normal(mu, s, 12), z: Normal(ZERO, ONE, 12)}
    sample = a + b * x + z / 2
    collapsed, remaining = collapse_normals(sample, variables, "v")
    v = sp.Symbol("v", real=True)
    assert set(remaining) == {v}
    assert remaining[v] == Normal(ZERO, ONE, 12)
    # mean and variance of the collapsed sample, by hand
    assert sp.expand(expect(collapsed, remaining) - (a + b * mu)) == 0
    variance = expect(collapsed**2, remaining) - expect(collapsed, remaining) ** 2
    assert sp.expand(variance - (b**2 * s**2 + sp.Rational(1, 4))) == 0
    # and the law itself, through a non-polynomial function
    values = {a: 0.3, b: -0.7, mu: 0.4, s: 0.6}
    ref = _normal_quad(lambda t: np.logaddexp(0, t), 0.3 - 0.7 * 0.4, np.hypot(0.7 * 0.6, 0.5))
    after = _value(expect(softplus(collapsed), remaining).subs(values))
    before = _value(expect(softplus(sample), variables).subs(values))
    assert after == pytest.approx(ref, rel=1e-6)
    assert before == pytest.approx(ref, rel=1e-6)


def test_collapse_with_coefficients_that_are_random() -> None:
    # e x + (1 - e) z with e ~ U(0, 1): conditionally on e a normal (WGAN-GP interpolates).
    variables = {
        x: Normal(ONE, sp.Rational(1, 2), 16),
        z: Normal(ZERO, ONE, 16),
        e: Uniform(ZERO, ONE, 16),
    }
    collapsed, remaining = collapse_normals(e * x + (1 - e) * z, variables, "v")
    assert e in remaining and x not in remaining and z not in remaining
    got = _value(expect(softplus(collapsed), remaining))

    def inner(t: float) -> float:
        return _normal_quad(lambda y: np.logaddexp(0, y), t, float(np.hypot(t / 2, 1 - t)))

    reference, _ = integrate.quad(inner, 0.0, 1.0, epsabs=1e-12)
    assert got == pytest.approx(reference, rel=1e-6)


def test_collapse_leaves_non_affine_or_single_normals_alone() -> None:
    variables = {x: Normal(ZERO, ONE), z: Normal(ZERO, ONE)}
    for sample in (x * z, x**2 + z, a + x):
        same, remaining = collapse_normals(sample, variables, "v")
        assert same == sample
        assert remaining == variables
