"""NumericFunction: hyper-parameters written into the code, the coordinate-first forms."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import sympy as sp

from gandyn.derivation.numeric import NumericFunction

theta, psi, c = sp.symbols("theta psi c", real=True)


def _dirac_field() -> list[sp.Expr]:
    # the minimax Dirac-GAN's flow (Mescheder, Nowozin and Geiger 2018, Sec. 2)
    from gandyn.symbolic.functions import sigmoid

    return [psi * sigmoid(psi * theta), c * sigmoid(-c * psi) - theta * sigmoid(psi * theta)]


def _closed_form(x: np.ndarray, cv: float) -> np.ndarray:
    th, ps = x[..., 0], x[..., 1]
    s = 1.0 / (1.0 + np.exp(-ps * th))
    return np.stack([ps * s, cv / (1.0 + np.exp(cv * ps)) - th * s], axis=-1)


def test_an_integer_value_is_written_in_and_drops_a_vanishing_term() -> None:
    fn = NumericFunction(_dirac_field(), (theta, psi), {c: 0.0})
    x = np.random.default_rng(1).normal(size=(50, 2)) * 3
    np.testing.assert_allclose(fn(x), _closed_form(x, 0.0), rtol=1e-15, atol=0)
    # one sigmoid per call: the data term c sigmoid(-c psi) is not in the code at c = 0
    source = inspect.getsource(fn._compiled_fixed())
    assert source.count("sigmoid(") == 1
    # a call that gives values uses the general code, with c an argument
    np.testing.assert_allclose(fn(x, {"c": 0.7}), _closed_form(x, 0.7), rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(fn(x, {"c": 0.0}), fn(x), rtol=1e-15, atol=0)


def test_a_non_integer_value_stays_an_argument_to_the_last_bit() -> None:
    # a literal in generated code has 15 digits; the value must keep its 17
    value = 0.1234567890123456789
    fn = NumericFunction([c * theta], (theta,), {c: value})
    assert fn(np.array([[1.0]]))[0, 0] == value
    assert fn(np.array([[1.0]]), {"c": 1 / 3})[0, 0] == 1 / 3


def test_coordinate_first_forms_match_the_call() -> None:
    fn = NumericFunction(_dirac_field(), (theta, psi), {c: 2.0})
    x = np.random.default_rng(2).normal(size=(40, 2))
    rows = np.ascontiguousarray(x.T)
    out = np.empty((2, 40))
    fn.into(rows, out)
    assert np.array_equal(out.T, fn(x))
    per_run = np.linspace(0.5, 1.5, 40)
    bound = fn.bound({"c": per_run})
    bound.into(rows, out)
    np.testing.assert_allclose(out.T, _closed_form(x, per_run), rtol=1e-14, atol=1e-300)
    # a subset of the runs keeps their own values
    runs = np.array([3, 17, 39])
    part = bound.subset(runs)
    np.testing.assert_allclose(part(x[runs]), _closed_form(x[runs], per_run[runs]), rtol=1e-14)
    with pytest.raises(KeyError):
        fn(x, {"nope": 1.0})


def test_a_value_sympy_cannot_simplify_is_left_to_numpy() -> None:
    # 1/c at c = 0 is zoo for sympy; numpy's 1/0.0 = inf is what the general code gives
    fn = NumericFunction([theta / c, c * theta], (theta,), {c: 0.0})
    with np.errstate(divide="ignore"):
        values = fn(np.array([[1.0], [-2.0]]))
    assert values[:, 0].tolist() == [np.inf, -np.inf]
    assert values[:, 1].tolist() == [0.0, 0.0]
