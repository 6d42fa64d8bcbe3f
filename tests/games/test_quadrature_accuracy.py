"""The Gaussian game's quadrature order, chosen to a tolerance, against independent integrals.

At the optimal discriminator ``D* = p_data / (p_data + p_g)`` the minimax value is
``V(D*, G) = 2 JSD(p_data || p_g) - log 4`` (Goodfellow et al. 2014, Theorem 1), and by the
envelope theorem the generator's gradient there is the derivative of that value. The
Jensen-Shannon divergence is integrated here with ``scipy.integrate.quad`` to 1e-13 and
differentiated by a five-point stencil, independently of gandyn's Gauss rules.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import sympy as sp
from scipy import integrate, stats

from gandyn.errors import GandynWarning
from gandyn.games.game import make_game
from gandyn.symbolic.expectations import GaussHermite, expand_quadrature
from gandyn.symbolic.functions import NUMPY_NAMESPACE


def _jsd(mean: float, std: float) -> float:
    """JSD of N(0, 1) (the data at the defaults) and N(mean, std**2), by adaptive quadrature."""
    def integrand(x: float) -> float:
        p, q = stats.norm.pdf(x), stats.norm.pdf(x, mean, std)
        m = (p + q) / 2
        return 0.5 * ((p * math.log(p / m) if p > 0 else 0.0)
                      + (q * math.log(q / m) if q > 0 else 0.0))

    value, _ = integrate.quad(integrand, -30.0, 30.0, points=[0.0, mean], epsabs=1e-14,
                              epsrel=1e-13, limit=400)
    return float(value)


def _value(mean: float, std: float) -> float:
    return 2.0 * _jsd(mean, std) - math.log(4.0)


def _optimal_psi(mean: float, std: float) -> tuple[float, float, float]:
    """The logit ``log p_data - log p_g`` of N(0, 1) against N(mean, std**2), as psi."""
    return (mean**2 / (2 * std**2) + math.log(std), -mean / std**2, -0.5 + 1 / (2 * std**2))


def _numeric(game: object, exprs: list[sp.Expr]) -> object:
    state = game.state_symbols  # type: ignore[attr-defined]
    values = game.param_values  # type: ignore[attr-defined]
    return sp.lambdify(state, [expand_quadrature(e.xreplace(values)) for e in exprs],
                       modules=[NUMPY_NAMESPACE, "numpy"])


@pytest.fixture(scope="module")
def game() -> object:
    return make_game("gaussian", "minimax")


def test_the_chosen_order_meets_the_tolerance_in_the_value_at_the_optimal_discriminator(
        game: object) -> None:
    choice = game.quadrature  # type: ignore[attr-defined]
    assert choice is not None and choice.met and choice.tolerance == 1e-9
    orders = {int(q.args[2]) for q in game.cost_d.atoms(GaussHermite)}  # type: ignore[attr-defined]
    assert orders == {choice.order}
    value = _numeric(game, [-game.cost_d])  # type: ignore[attr-defined]
    mean, std = 1.0, 1.5  # the game's start, a probe of the choice
    got = value(mean, std, *_optimal_psi(mean, std))[0]  # type: ignore[operator]
    assert abs(got - _value(mean, std)) <= 1e-9


def test_the_chosen_order_meets_the_tolerance_in_the_gradient_at_the_optimal_discriminator(
        game: object) -> None:
    theta = game.theta  # type: ignore[attr-defined]
    gradient = _numeric(game, [sp.diff(game.cost_g, t) for t in theta])  # type: ignore[attr-defined]
    mean, std, h = 1.0, 1.5, 1e-2
    got = np.array(gradient(mean, std, *_optimal_psi(mean, std)))  # type: ignore[operator]

    def stencil(f: object) -> float:
        return float((-f(2 * h) + 8 * f(h) - 8 * f(-h) + f(-2 * h)) / (12 * h))  # type: ignore[operator]

    expected = np.array([stencil(lambda d: _value(mean + d, std)),
                         stencil(lambda d: _value(mean, std + d))])
    # The stencil's own error is about h**4 * V''''' / 30 ~ 1e-10 here.
    assert np.max(np.abs(got - expected)) <= 2e-9


def test_the_former_default_of_12_nodes_was_off_where_the_issue_says() -> None:
    """Issue #13: 12 nodes are off by about 6e-3 in V(D*, G) at G = N(2, 0.5**2)."""
    fixed = make_game("gaussian", "minimax", options={"order": 12})
    assert fixed.quadrature is None
    value = _numeric(fixed, [-fixed.cost_d])
    error = value(2.0, 0.5, *_optimal_psi(2.0, 0.5))[0] - _value(2.0, 0.5)  # type: ignore[operator]
    assert 5e-3 < abs(error) < 7e-3


def test_a_tolerance_no_order_meets_warns_and_uses_the_largest_order() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        game = make_game("gaussian", "minimax", options={"tol": "1e-16"})
    assert game.quadrature is not None and not game.quadrature.met
    assert any(issubclass(w.category, GandynWarning) and "`quad_tol`" in str(w.message)
               for w in caught)
    orders = {int(q.args[2]) for q in game.cost_d.atoms(GaussHermite)}
    assert orders == {game.quadrature.order}


def test_a_looser_tolerance_takes_fewer_nodes(game: object) -> None:
    loose = make_game("gaussian", "minimax", quad_tol=1e-4)
    assert loose.quadrature is not None and loose.quadrature.met
    assert loose.quadrature.order < game.quadrature.order  # type: ignore[attr-defined]


@pytest.mark.parametrize("raw", ["0", "-1e-9", "nan", "many"])
def test_the_tolerance_option_is_checked(raw: str) -> None:
    from gandyn.errors import SpecError

    with pytest.raises(SpecError, match="option tol must be a positive number"):
        make_game("gaussian", "minimax", options={"tol": raw})
