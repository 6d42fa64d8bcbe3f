"""Two time scales and Stackelberg equilibria, against closed forms.

* 2-D: ``J_tau = [[a, b], [tau c, tau d]]`` has trace ``a + tau d`` and
  determinant ``tau det J``; with ``det J > 0`` the point is stable exactly
  for ``a + tau d < 0``, so the critical ratio is ``tau* = -a / d``.
* n-D: the critical ratio is where a Routh-Hurwitz determinant of the
  characteristic polynomial of ``J_tau`` changes sign, computed with sympy
  as an independent reference (Gantmacher 1959, Ch. XV).
* The bilinear game with own quadratic costs ``a theta^2/2`` and
  ``b psi^2/2`` (Gidel et al. 2019, Sec. 5), zero-sum with value
  ``V = theta psi + a theta^2/2 - b psi^2/2``: the origin is a strict local
  minimax point iff ``b > 0`` and ``a + 1/b > 0`` (Jin, Netrapalli and
  Jordan 2020, Prop. 19). With the leader minimizing ``V`` along the
  follower's response ``psi = theta / b`` the leader's cost is
  ``(a + 1/b) theta^2 / 2``: the same condition (Fiez, Chasnov and Ratliff
  2020, Def. 4).
* The Dirac-GAN with the non-saturating loss and R1 (weight gamma) at the
  origin: the generator's own Hessian is 0 (the Nash test is undecided), the leader's
  Hessian along the best response is ``1 / (2 gamma)`` (derived by hand in
  the test's comment), so the point is a differential Stackelberg equilibrium.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import sympy as sp

from gandyn.equilibria.stackelberg import stackelberg_type
from gandyn.equilibria.timescales import (
    critical_ratios,
    limit_stability,
    time_scale_jacobian,
    time_scales,
)
from gandyn.errors import SpecError


@pytest.mark.parametrize(("a", "b", "c", "d"), [
    (0.5, -1.0, 1.0, -1.0), (2.0, 3.0, -1.0, -0.25), (0.01, 1.0, -2.0, -3.0),
])
def test_the_two_dimensional_critical_ratio_is_minus_a_over_d(a: float, b: float, c: float,
                                                              d: float) -> None:
    jac = np.array([[a, b], [c, d]])
    assert np.linalg.det(jac) > 0
    found = critical_ratios(jac, 1)
    assert found == pytest.approx([-a / d], rel=1e-10)
    result = time_scales(jac, 1, tau=2 * (-a / d))
    assert result.flow.stability == "stable"
    assert time_scales(jac, 1, tau=0.5 * (-a / d)).flow.stability == "unstable"
    assert result.stable_ratios() == f"tau > {-a / d:.6g}"
    assert result.limits == {"fast_discriminator": True, "fast_generator": False}


def _routh_hurwitz_critical(jac: np.ndarray, n_theta: int) -> list[float]:
    """Positive tau where a Hurwitz minor of det(s I - J_tau) vanishes and stability changes."""
    tau, s = sp.symbols("tau s", positive=True)
    n = jac.shape[0]
    scale = sp.diag(*([1] * n_theta + [tau] * (n - n_theta)))
    matrix = scale * sp.Matrix(jac.tolist()).applyfunc(lambda v: sp.nsimplify(v, rational=True))
    poly = sp.Poly((s * sp.eye(n) - matrix).det(), s)
    coeffs = poly.all_coeffs()  # a0 s^n + a1 s^(n-1) + ... + an
    hurwitz = sp.zeros(n, n)
    for i in range(n):
        for j in range(n):
            k = 2 * (j + 1) - (i + 1)
            if 0 <= k <= n:
                hurwitz[i, j] = coeffs[k]
    candidates = set()
    for k in range(1, n + 1):
        minor = sp.factor(hurwitz[:k, :k].det())
        for root in sp.Poly(sp.numer(sp.together(minor)), tau).nroots(n=15, maxsteps=500):
            if abs(sp.im(root)) < 1e-20 and sp.re(root) > 0:
                candidates.add(float(sp.re(root)))

    def stable(t: float) -> bool:
        return bool(np.max(np.linalg.eigvals(time_scale_jacobian(jac, n_theta, t)).real) < 0)

    return sorted(t for t in candidates if stable(t * (1 - 1e-6)) != stable(t * (1 + 1e-6)))


def test_a_coupled_four_dimensional_point_matches_routh_hurwitz() -> None:
    # Generator (2 coordinates) with an unstable own block, discriminator (2) damped;
    # the coupling makes the Schur complement stable: stable for large tau only.
    jac = np.array([
        [0.3, 0.1, -1.0, 0.2],
        [0.0, 0.2, 0.3, -0.8],
        [1.0, -0.3, -1.0, 0.1],
        [-0.2, 0.8, 0.0, -0.7],
    ])
    expected = _routh_hurwitz_critical(jac, 2)
    assert expected, "the example must change stability"
    assert critical_ratios(jac, 2) == pytest.approx(expected, rel=1e-9)
    assert limit_stability(jac, 2)["fast_discriminator"] is True


def test_a_zero_eigenvalue_has_no_critical_ratio_and_a_rotation_stays_marginal() -> None:
    singular = np.array([[1.0, 2.0], [0.5, 1.0]])
    assert critical_ratios(singular, 1) == []
    rotation = np.array([[0.0, -1.0], [1.0, 0.0]])  # f = theta psi: eigenvalues +-i sqrt(tau)
    result = time_scales(rotation, 1, tau=10.0)
    assert result.critical == () and result.flow.stability == "marginal"
    np.testing.assert_allclose(np.sort(result.flow.eigenvalues.imag), [-np.sqrt(10), np.sqrt(10)])
    assert result.limits == {"fast_discriminator": None, "fast_generator": None}


def test_bad_ratios_are_refused() -> None:
    jac = np.eye(2)
    with pytest.raises(SpecError, match="tau"):
        time_scale_jacobian(jac, 1, 0.0)
    with pytest.raises(SpecError, match="ratio range"):
        critical_ratios(jac, 1, (10.0, 1.0))


def _bilinear(a: float, b: float):  # type: ignore[no-untyped-def]
    from gandyn.derivation.field import derive
    from gandyn.games.game import make_game

    return derive(make_game("bilinear").with_params({"a": a, "b": b}))


@pytest.mark.parametrize(("a", "b", "minimax"), [
    (-0.5, 1.0, True), (-2.0, 1.0, False), (0.3, 2.0, True), (1.0, -1.0, False),
    (-0.9, 1.0, True), (-1.1, 1.0, False),
])
def test_stackelberg_equals_local_minimax_on_the_zero_sum_bilinear_game(a: float, b: float,
                                                                        minimax: bool) -> None:
    from gandyn.equilibria.local_optimality import local_minimax

    vf = _bilinear(a, b)
    verdict = stackelberg_type(vf, {"theta": 0.0, "psi": 0.0})
    assert (verdict.verdict == "differential-stackelberg") is minimax
    result = local_minimax(vf, {"theta": 0.0, "psi": 0.0})
    assert result is not None and result.verdict == ("yes" if minimax else "no")
    if b > 0:  # the leader's Hessian along the response is the Schur complement a + 1/b
        assert verdict.leader_hessian_eigenvalues == pytest.approx((a + 1 / b,), rel=1e-12)


def test_the_bilinear_critical_ratio_is_the_closed_form() -> None:
    # J = [[-a, -1], [1, -b]]: with a = -0.5, b = 1, det J = 0.5 > 0 and tau* = -J_tt/J_pp = 0.5.
    vf = _bilinear(-0.5, 1.0)
    jac = vf.jacobian_fn(np.zeros(2))
    assert critical_ratios(jac, 1) == pytest.approx([0.5], rel=1e-10)


@pytest.mark.parametrize("gamma", [0.25, 1.0, 3.0])
def test_the_dirac_gan_with_r1_is_stackelberg_but_nash_undecided(gamma: float) -> None:
    from gandyn.derivation.field import derive
    from gandyn.equilibria.local_optimality import nash_type
    from gandyn.games.game import make_game
    from gandyn.games.regularizers import apply_values, get_regularizer

    r1 = apply_values(get_regularizer("r1"), {"gamma": gamma})
    vf = derive(make_game("dirac", "non-saturating", [r1]))
    origin = {"theta": 0.0, "psi": 0.0}
    # f_G = softplus(-psi theta): f_G,tt = f_G,pp = 0, f_G,tp = -1/2 at the origin;
    # f_D = softplus(psi theta) + softplus(-psi c) + gamma psi^2 / 2 (c = 0): f_D,pp = gamma,
    # f_D,pt = 1/2; Dr = -1/(2 gamma); D2g = 2 (-1/2)(-1/(2 gamma)) = 1/(2 gamma).
    verdict = stackelberg_type(vf, origin)
    assert verdict.verdict == "differential-stackelberg"
    assert verdict.leader_hessian_eigenvalues == pytest.approx((1 / (2 * gamma),), rel=1e-12)
    assert nash_type(vf, origin).verdict == "undecided"  # f_G,tt = 0: second order cannot decide


def test_a_point_off_the_best_response_is_not_stackelberg() -> None:
    vf = _bilinear(-0.5, 1.0)
    verdict = stackelberg_type(vf, {"theta": 1.0, "psi": 0.0})  # F_psi = theta - b psi = 1
    assert verdict.verdict == "not-stackelberg" and "discriminator" in verdict.reason


def _general_sum(k: float):  # type: ignore[no-untyped-def]
    """f_G = k theta^2 + theta psi + psi, f_D = (psi - theta^2)^2 / 2: the response is curved."""
    from gandyn.derivation.field import derive
    from gandyn.games.game import GameDefinition, make_game
    from gandyn.symbolic.model import real_symbol

    theta, psi = real_symbol("theta"), real_symbol("psi")
    definition = GameDefinition(
        name="curved-response", title="general-sum game with a curved best response",
        reference="test", theta=(theta,), psi=(psi,), params=(),
        direct_costs=(k * theta**2 + theta * psi + psi, (psi - theta**2) ** 2 / 2))
    return derive(make_game(definition))


@pytest.mark.parametrize("k", [-0.5, -1.5, 0.25])
def test_a_curved_best_response_enters_the_leaders_hessian(k: float) -> None:
    # r(theta) = theta^2, so g(theta) = f_G(theta, r(theta)) = (k + 1) theta^2 + theta^3 and
    # D2g(0) = 2 (k + 1). The term f_G,psi D2r = 1 * 2 is what the second derivatives at the
    # point alone (2 k) miss: k = -0.5 is a Stackelberg equilibrium only because of it.
    vf = _general_sum(k)
    assert not vf.game.zero_sum
    verdict = stackelberg_type(vf, {"theta": 0.0, "psi": 0.0})
    assert verdict.leader_hessian_eigenvalues == pytest.approx((2 * (k + 1),), rel=1e-6)
    assert (verdict.verdict == "differential-stackelberg") is (k > -1)
    assert "central differences" in verdict.reason


def test_analyze_reports_stackelberg_and_the_critical_ratio(
        invoke: Callable[..., tuple[int, str, str]]) -> None:
    # The bilinear game with a = -0.5, b = 1: tau* = -a/b = 0.5, Stackelberg (a + 1/b > 0).
    import json

    code, out, err = invoke("analyze", "--game", "bilinear", "--param", "a=-0.5,b=1",
                            "--tau", "0.25", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["spec"]["tau"] == 0.25
    origin = data["equilibria"][0]
    assert origin["stackelberg"] == "differential-stackelberg"
    scales = origin["time_scales"]
    assert scales["critical_ratios"] == pytest.approx([0.5], rel=1e-10)
    assert scales["tau"] == 0.25 and scales["stability"] == "unstable"
    assert scales["stable_for"] == "tau > 0.5"
    code, out, err = invoke("analyze", "--game", "bilinear", "--param", "a=-0.5,b=1",
                            "--optimizer", "simgd", "--lr-g", "0.1", "--lr-d", "0.3")
    assert code == 0, err
    assert "at tau = 3: stable" in out and "Stackelberg (generator leads): " in out


def test_analyze_refuses_a_bad_ratio(invoke: Callable[..., tuple[int, str, str]]) -> None:
    code, _, err = invoke("analyze", "--tau", "0")
    assert code == 2 and "--tau" in err and err.count("\n") == 1
