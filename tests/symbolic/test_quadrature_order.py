"""Gauss quadrature orders: accurate up to the limit, refused above it.

References: the moments of the standard normal, ``E[u^(2k)] = (2k - 1)!!``
(Abramowitz and Stegun 1964, 26.2.11), and numpy's physicists' Gauss-Hermite
rule ``hermgauss`` (nodes ``sqrt(2)`` times ours), an independent routine.
"""

from __future__ import annotations

import math

import numpy as np
import pytest


def _double_factorial(n: int) -> int:
    return math.prod(range(n, 0, -2)) if n > 0 else 1


@pytest.mark.parametrize("order", [12, 100, 200])
def test_gauss_hermite_moments_are_exact_up_to_the_limit(order: int) -> None:
    from gandyn.symbolic.expectations import _hermite_rule

    nodes, weights = (np.array([float(v) for v in part]) for part in _hermite_rule(order))
    assert np.all(weights > np.finfo(float).tiny)  # every weight a normal double
    for k in range(0, min(order, 25)):
        moment = float(np.sum(weights * nodes ** (2 * k)))
        assert moment == pytest.approx(_double_factorial(2 * k - 1), rel=1e-11)
    physicists, _ = np.polynomial.hermite.hermgauss(order)
    assert np.allclose(np.sort(nodes), np.sort(physicists) * math.sqrt(2.0), rtol=1e-12)


@pytest.mark.parametrize("order", [-1, 201, 400, 20000])
def test_orders_outside_the_limit_are_refused_before_any_node(order: int) -> None:
    import sympy as sp

    from gandyn.errors import SpecError
    from gandyn.limits import MAX_QUADRATURE_ORDER
    from gandyn.symbolic.expectations import Normal, Uniform

    for make in (Normal, Uniform):
        with pytest.raises(SpecError, match=f"from 1 to {MAX_QUADRATURE_ORDER}"):
            make(sp.S.Zero, sp.S.One, order)


def test_the_open_order_is_a_placeholder_never_expanded() -> None:
    """Order 0 (``auto``) is accepted by a distribution but no rule of 0 nodes exists."""
    import sympy as sp

    from gandyn.errors import SpecError
    from gandyn.symbolic.expectations import AUTO_ORDER, GaussHermite, Normal, expand_quadrature

    assert Normal(sp.S.Zero, sp.S.One, AUTO_ORDER).order == AUTO_ORDER
    u = sp.Symbol("u", real=True)
    with pytest.raises(SpecError, match="from 1 to"):
        expand_quadrature(GaussHermite(sp.exp(sp.sin(u)), u, sp.Integer(AUTO_ORDER)))


def test_numpy_rule_fails_just_above_the_limits_reason() -> None:
    """Why the limit: numpy's rule gives NaN weights from order 372 (the issue's NaN runs)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, weights = np.polynomial.hermite_e.hermegauss(400)
    assert not np.all(np.isfinite(weights))


def test_the_catalogue_option_is_refused_in_one_line(invoke: object) -> None:
    code, _, err = invoke("derive", "--game", "gaussian:order=20000")  # type: ignore[operator]
    assert code == 1 and err == "error: game 'gaussian': option order must be at most 200\n"
