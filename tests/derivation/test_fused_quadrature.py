"""The quadrature calls of a numeric function evaluated together (``FusedQuadrature``).

Two kinds of check: the fused evaluation gives bit for bit what the calls give
separately (``sympy.lambdify`` of the same expressions, as the code was before
fusion and as the compiled kernels repeat it), and the expectations it sums
agree with an independent numerical integral (``scipy.integrate.quad`` against
the normal density) to the accuracy the quadrature order was chosen for.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import sympy as sp
from scipy import integrate, special

from gandyn.derivation.field import VectorField, derive
from gandyn.derivation.numeric import NumericFunction
from gandyn.games.game import make_game
from gandyn.symbolic import expectations
from gandyn.symbolic.expectations import (
    GaussHermite,
    GaussLegendre,
    expand_quadrature,
    fuse_quadrature,
    vectorize_quadrature,
)
from gandyn.symbolic.functions import NUMPY_NAMESPACE, sigmoid


@pytest.fixture(scope="module")
def gaussian() -> VectorField:
    return derive(make_game("gaussian", "minimax"))


def _states(count: int, seed: int = 4) -> np.ndarray:
    """Coordinate-first states of the Gaussian game (theta_mu, theta_sigma, psi_0..2)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(scale=0.6, size=(5, count))
    x[1] += 1.0
    return x


def _separate(fn: NumericFunction, rows: np.ndarray, params: dict[str, Any] | None) -> list[Any]:
    """The entries as plain ``lambdify(cse=True)`` evaluates them: each call its own integrand."""
    if params:
        args = [*fn.state, *fn.param_symbols]
        values = fn._arguments(params)
        flat = fn._flat
    else:
        args = [*fn.state, *fn._free]
        values = list(fn._free_values)
        flat = [e.xreplace(fn._exact) for e in fn._flat]
    plain = sp.lambdify(args, flat, modules=fn._modules, cse=True)
    with np.errstate(over="ignore", under="ignore"):
        return list(plain(*rows, *values))


def _assert_bitwise(fused: list[Any], separate: list[Any], batch: tuple[int, ...]) -> None:
    assert len(fused) == len(separate)
    for a, b in zip(fused, separate, strict=True):
        a, b = np.broadcast_to(a, batch), np.broadcast_to(b, batch)
        # the same bits, including the sign of zero and NaN where both have one
        assert np.array_equal(a.view(np.int64), b.view(np.int64))


@pytest.mark.parametrize("which", ["field_fn", "jacobian_fn", "logged_fn"])
def test_fused_equals_separate_calls_bit_for_bit(gaussian: VectorField, which: str) -> None:
    fn = getattr(gaussian, which)
    rows = _states(257)
    with np.errstate(over="ignore", under="ignore"):
        fused = fn.entries(rows)
    _assert_bitwise(fused, _separate(fn, rows, None), (257,))


def test_fused_with_values_per_run_bit_for_bit(gaussian: VectorField) -> None:
    # the general code: mu and sigma are arguments (here one value per run), not literals
    fn = gaussian.field_fn
    rows = _states(64, seed=5)
    params = {"mu": np.linspace(-1.0, 1.0, 64), "sigma": 1.5}
    with np.errstate(over="ignore", under="ignore"):
        fused = fn.entries(rows, params)
    _assert_bitwise(fused, _separate(fn, rows, params), (64,))


def test_chunks_and_batch_shapes_do_not_change_a_bit(gaussian: VectorField,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # chunks of 3 states (96 nodes each), a batch of 7 x 5 states and per-run values of 5
    monkeypatch.setattr(expectations, "FUSED_CHUNK_ELEMENTS", 3 * 96)
    fn = gaussian.field_fn
    rows = _states(35, seed=6).reshape(5, 7, 5)
    params = {"mu": np.linspace(-0.5, 0.5, 5), "sigma": 0.8}
    with np.errstate(over="ignore", under="ignore"):
        fused = fn.entries(rows, params)
    _assert_bitwise(fused, _separate(fn, rows, params), (7, 5))


def test_the_sigmoid_over_the_nodes_is_evaluated_once_per_logit(
        gaussian: VectorField, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    original = NUMPY_NAMESPACE["sigmoid"]

    def counted(x: Any) -> Any:
        calls.append(np.shape(x))
        return original(x)

    monkeypatch.setitem(NUMPY_NAMESPACE, "sigmoid", counted)
    fn = NumericFunction(gaussian.field, gaussian.game.state_symbols, gaussian.game.param_values)
    fn.entries(_states(10))
    # eight expectations of the field, two logits: the generated and the real samples'
    assert calls == [(96, 10), (96, 10)]


def _normal_expectation(f: Any, mean: float, std: float) -> float:
    value, _ = integrate.quad(
        lambda z: f(mean + std * z) * np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi),
        -np.inf, np.inf, epsabs=1e-13, epsrel=1e-12)
    return float(value)


def _sigmoid(z: float) -> float:
    return float(special.expit(z))


def _softplus(z: float) -> float:
    return float(np.logaddexp(0.0, z))


def test_field_and_losses_agree_with_scipy_quad(gaussian: VectorField) -> None:
    """The minimax Gaussian game at ``mu = 0, sigma = 1``, integrated independently.

    Generator ``x = theta_mu + theta_sigma z``, ``z ~ N(0, 1)``; discriminator
    logit ``D(x) = psi_0 + psi_1 x + psi_2 x^2``; data ``N(0, 1)``. The minimax
    value is ``V = E_data[log s(D)] + E_z[log(1 - s(D(G(z))))]`` (Goodfellow et
    al. 2014, eq. 1); the field is ``(-dV/dtheta, dV/dpsi)``, with ``d/dx log(1 -
    s(D)) = -s(D) D'`` and ``d/dD log s(D) = s(-D)``.
    """
    state = np.array([0.3, 1.2, -0.2, 0.4, -0.15])
    t_mu, t_sigma, p0, p1, p2 = state

    def logit(x: float) -> float:
        return float(p0 + p1 * x + p2 * x * x)

    def fake(f: Any) -> float:
        return _normal_expectation(f, t_mu, t_sigma)

    def real(f: Any) -> float:
        return _normal_expectation(f, 0.0, 1.0)

    def slope(x: float) -> float:
        return float(p1 + 2.0 * p2 * x)

    expected_field = [
        fake(lambda x: slope(x) * _sigmoid(logit(x))),
        fake(lambda x: slope(x) * (x - t_mu) / t_sigma * _sigmoid(logit(x))),
        real(lambda x: _sigmoid(-logit(x))) - fake(lambda x: _sigmoid(logit(x))),
        real(lambda x: x * _sigmoid(-logit(x))) - fake(lambda x: x * _sigmoid(logit(x))),
        real(lambda x: x * x * _sigmoid(-logit(x))) - fake(lambda x: x * x * _sigmoid(logit(x))),
    ]
    np.testing.assert_allclose(gaussian.field_fn(state), expected_field, rtol=0, atol=1e-9)
    d_fake = fake(lambda x: _softplus(logit(x)))
    expected_logged = {
        "d_real": real(lambda x: _softplus(-logit(x))),
        "d_fake": d_fake,
        "g_loss": -d_fake,
        "d_x": real(lambda x: _sigmoid(logit(x))),
        "d_gz": fake(lambda x: _sigmoid(logit(x))),
    }
    logged = dict(zip(gaussian.logged_names, gaussian.logged_fn(state), strict=True))
    for name, value in expected_logged.items():
        assert logged[name] == pytest.approx(value, abs=1e-9), name


def test_calls_that_cannot_be_fused_keep_their_own_evaluation() -> None:
    a, b, c = sp.symbols("a b c", real=True)
    u = sp.Symbol("u_test_fused", real=True)
    v = sp.Symbol("v_test_fused", real=True)
    shared = GaussHermite(sigmoid(a + b * u), u, 20)
    other = GaussHermite(u * sigmoid(a + b * u), u, 20)
    legendre = GaussLegendre(sigmoid(a + b * v), v, 20)
    # an argument that is an expression, not a symbol or a number: those calls are left alone
    odd = (other - legendre).xreplace({a: a + c})
    exprs = [vectorize_quadrature(shared + 2 * other), vectorize_quadrature(other - legendre)]
    exprs[1] = exprs[1].xreplace({a: a + c})
    fused = fuse_quadrature(exprs)
    assert fused is not None
    assert {str(call.func) for call in fused.calls} == {
        str(vectorize_quadrature(shared).func), str(vectorize_quadrature(other).func)}
    fn = NumericFunction([shared + 2 * other, odd], [a, b, c], {})
    rows = np.array([[0.3, -1.0, 2.0], [1.5, 0.2, -0.7], [0.1, 0.4, -0.2]])
    for entry, expr in zip(fn.entries(rows), (shared + 2 * other, odd), strict=True):
        # the weighted sums written out symbolically: the same rule, summed another way
        written = sp.lambdify([a, b, c], expand_quadrature(expr),
                              modules=[NUMPY_NAMESPACE, "numpy"])
        np.testing.assert_allclose(entry, written(*rows), rtol=1e-13, atol=1e-15)
