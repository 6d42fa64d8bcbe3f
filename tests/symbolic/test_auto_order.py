"""The quadrature order chosen to a tolerance (``order=auto``), against closed forms.

References: Abramowitz and Stegun (1964), 7.4.6 (``E[cos(a u)] = exp(-a**2/2)`` for
``u ~ N(0, 1)``); ``E[1/(1 + v)] = log 2`` for ``v ~ U(0, 1)``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

from gandyn.symbolic.expectations import (
    AUTO_ORDER,
    AUTO_ORDERS,
    GaussHermite,
    GaussLegendre,
    Normal,
    Uniform,
    choose_order,
    evaluate_at_order,
    expand_quadrature,
    expect,
    open_orders,
    with_order,
)
from gandyn.symbolic.functions import NUMPY_NAMESPACE

A = sp.Symbol("a", real=True)
X = sp.Symbol("x", real=True)
Y = sp.Symbol("y", real=True)


def test_unexpanded_evaluation_equals_the_written_out_sum_for_nested_rules() -> None:
    """The numeric evaluation without expansion is the weighted sum sympy writes out."""
    expr = expect(sp.exp(sp.sin(A * X + Y)) + sp.cos(X),
                  {X: Normal(sp.S.Zero, sp.S.One, AUTO_ORDER),
                   Y: Uniform(sp.S.Zero, sp.S.One, AUTO_ORDER)})
    assert open_orders(expr)
    values = np.array([-0.7, 0.0, 1.3])
    got = evaluate_at_order([expr], {A: values}, 7)[0]
    written = sp.lambdify([A], expand_quadrature(with_order(expr, 7)),
                          modules=[NUMPY_NAMESPACE, "numpy"])
    assert np.allclose(got, [written(v) for v in values], rtol=1e-13, atol=1e-15)


def test_given_orders_are_kept() -> None:
    u = sp.Symbol("u", real=True)
    fixed = GaussHermite(sp.cos(A * u), u, sp.Integer(3))
    opened = GaussLegendre(sp.exp(A * u), u, sp.Integer(AUTO_ORDER))
    closed = with_order(fixed + opened, 5)
    assert {int(q.args[2]) for q in closed.atoms(GaussHermite, GaussLegendre)} == {3, 5}
    assert not open_orders(closed)


def test_the_chosen_order_meets_the_tolerance_against_closed_forms() -> None:
    normal = expect(sp.cos(A * X), {X: Normal(sp.S.Zero, sp.S.One, AUTO_ORDER)})
    uniform = expect(1 / (A + Y), {Y: Uniform(sp.S.Zero, sp.S.One, AUTO_ORDER)})
    a = np.array([0.5, 1.0, 3.0])
    choice = choose_order([normal, uniform], {A: a}, 1e-10)
    assert choice.met and choice.change <= 1e-10 and choice.points == 3
    got = evaluate_at_order([normal, uniform], {A: a}, choice.order)
    assert np.max(np.abs(got[0] - np.exp(-a**2 / 2))) <= 1e-10
    assert np.max(np.abs(got[1] - np.log((a + 1) / a))) <= 1e-10
    # The smallest such order: the one tried before it still changed by more.
    before = AUTO_ORDERS[AUTO_ORDERS.index(choice.order) - 1]
    low, high = (evaluate_at_order([normal, uniform], {A: a}, n) for n in (before, 2 * before))
    assert np.max(np.abs(low - high)) > 1e-10


def test_a_tolerance_no_order_meets_is_reported_not_met() -> None:
    # cos(a u) with a = 40 oscillates faster than 192 nodes resolve.
    normal = expect(sp.cos(A * X), {X: Normal(sp.S.Zero, sp.S.One, AUTO_ORDER)})
    choice = choose_order([normal], {A: 40.0}, 1e-12)
    assert not choice.met and choice.order == 2 * AUTO_ORDERS[-1]
    assert choice.change > 1e-12
    assert "not met" in choice.describe()


@pytest.mark.parametrize("tolerance", [0.0, -1e-9, math.nan, math.inf])
def test_a_tolerance_must_be_positive(tolerance: float) -> None:
    from gandyn.errors import SpecError

    with pytest.raises(SpecError, match="`quad_tol` must be a positive number"):
        choose_order([A], {A: 1.0}, tolerance)


def test_a_given_order_wins_when_normals_are_merged() -> None:
    """Data N(0, 1) open plus noise N(0, s**2) of order 12: one normal of order 12."""
    from gandyn.symbolic.expectations import collapse_normals

    s = sp.Symbol("s", positive=True)
    open_rule = Normal(sp.S.Zero, sp.S.One, AUTO_ORDER)
    _, mixed = collapse_normals(X + s * Y, {X: open_rule, Y: Normal(sp.S.Zero, sp.S.One, 12)}, "v")
    _, both_open = collapse_normals(X + s * Y, {X: open_rule, Y: open_rule}, "v")
    (merged,) = mixed.values()
    (still_open,) = both_open.values()
    assert merged.order == 12 and still_open.order == AUTO_ORDER  # type: ignore[union-attr]


def test_vectorized_nodes_give_the_written_out_sums_for_scalars_and_batches() -> None:
    """The numpy form of a node (one array of nodes) equals sympy's weighted sum."""
    from gandyn.symbolic.expectations import vectorize_quadrature

    expr = expect(sp.exp(sp.sin(A * X + Y)) + A * sp.cos(X) + sp.log(1 + Y**2) * X**2,
                  {X: Normal(sp.S.Zero, sp.S.One, 9), Y: Uniform(sp.S.Zero, sp.S.One, 7)})
    vector = sp.lambdify([A], vectorize_quadrature(expr), modules=[NUMPY_NAMESPACE, "numpy"],
                         cse=True)
    written = sp.lambdify([A], expand_quadrature(expr), modules=[NUMPY_NAMESPACE, "numpy"],
                          cse=True)
    batch = np.array([[-0.7, 0.0], [1.3, 2.5]])
    np.testing.assert_allclose(vector(batch), written(batch), rtol=1e-13, atol=1e-15)
    assert np.shape(vector(0.4)) == () and vector(0.4) == pytest.approx(written(0.4), rel=1e-13)
