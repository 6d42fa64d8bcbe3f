"""Verdicts that must say "undecided" or "marginal" where the tests cannot decide.

Independent references used below
---------------------------------
* Mescheder, Geiger and Nowozin (2018), Which Training Methods for GANs do actually
  Converge?, ICML ("M18"), Sec. 2.2 and 3: the Dirac-GAN (data at ``c = 0``, generator at
  ``theta``, logit ``psi x``). With the Wasserstein loss and WGAN-GP (weight ``gamma``, target
  1) gandyn's costs are ``cost_g = -psi theta`` and ``cost_d = gamma (|psi| - 1)^2 + psi theta``
  (closed form, checked below against the derived costs), so ``F = (psi, -theta - 2 gamma psi
  + 2 gamma sign(psi))``: ``F_psi`` jumps by ``4 gamma`` across ``psi = 0``. On ``psi = 0`` with
  ``sign(0) = 0``, ``F = (0, -theta)``: only the origin is a zero. From above, ``F+ = (0,
  2 gamma - theta)``, from below ``F- = (0, -2 gamma - theta)``: for ``|theta| < 2 gamma`` both
  sides leave the line (an escaping sliding region in Filippov's sense; Filippov 1988, Ch. 2),
  and at ``theta = +-2 gamma`` one side's field vanishes on the line. At the origin
  ``cost_d(0, psi) - cost_d(0, 0) = gamma (psi^2 - 2 |psi|) < 0`` for small ``psi != 0``: the
  discriminator's cost has a strict local *maximum* there, so the origin is neither a Nash
  equilibrium nor local minimax (the discriminator can improve).
* Jin, Netrapalli and Jordan (2020), What is local optimality in nonconvex-nonconcave minimax
  optimization?, ICML: Prop. 18 (necessary: ``V_pp <= 0``, and with ``V_pp < 0`` the Schur
  complement ``V_tt - V_tp V_pp^-1 V_pt >= 0``), Prop. 19 (sufficient: ``V_pp < 0`` and Schur
  ``> 0``). Where ``V_pp`` or the Schur complement is singular the second-order test is
  inconclusive. The second derivatives are recomputed here by central differences of ``V``
  written in plain Python, independently of gandyn's derivation.
* Ratliff, Burden and Sastry (2016), IEEE TAC 61(8): differential Nash iff both own Hessians
  are positive definite; a negative eigenvalue of one fails the necessary condition.
* Bailey, Gidel and Piliouras (2020), Finite Regret and Cycles with Fixed Step-Size via
  Alternating Gradient Descent-Ascent, COLT; Gidel et al. (2019), Negative Momentum for Improved
  Game Dynamics, AISTATS, Sec. 3: alternating steps on the bilinear game ``f = theta psi`` keep
  their orbits bounded. With ``F = (-psi, theta)`` and the discriminator first, ``psi' = psi +
  h theta``, ``theta' = theta - h psi'``: the map Jacobian is ``[[1 - h^2, -h], [h, 1]]``
  (``[[1, -h], [h, 1 - h^2]]`` with the generator first), determinant 1 and trace ``2 - h^2``:
  both eigenvalues on the unit circle for ``0 < h <= 2``, and radius ``|t|/2 + sqrt(t^2/4 - 1)``
  (``t = 2 - h^2``) above 1 for ``h > 2``. Simultaneous steps have radius ``sqrt(1 + h^2)``,
  extragradient ``sqrt((1 - h^2)^2 + h^2) < 1`` for ``0 < h < 1``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
import sympy as sp

from gandyn.derivation.field import VectorField, derive
from gandyn.equilibria import (
    MapStability,
    RuleChoice,
    analyze,
    local_minimax,
    map_stability,
    nash_type,
    nonsmooth_at,
)
from gandyn.equilibria.local_optimality import _one_sided
from gandyn.equilibria.maps import MAP_MARGINAL_TOL, map_class
from gandyn.equilibria.smoothness import field_on_switch, switching_point
from gandyn.games.game import GameDefinition, make_game
from gandyn.rules import FieldFunctions, make_rule
from gandyn.symbolic.expressions import real_symbol

ORIGIN = {"theta": 0.0, "psi": 0.0}


def _direct(cost_g: Callable[[sp.Symbol, sp.Symbol], sp.Expr],
            cost_d: Callable[[sp.Symbol, sp.Symbol], sp.Expr]) -> VectorField:
    theta, psi = real_symbol("theta"), real_symbol("psi")
    definition = GameDefinition(name="test", title="test game", reference="closed form",
                                theta=(theta,), psi=(psi,), params=(),
                                direct_costs=(cost_g(theta, psi), cost_d(theta, psi)))
    return derive(make_game(definition))


def _wgan_gp(gamma: float) -> VectorField:
    return derive(make_game("dirac", "wasserstein", [("wgan-gp", {"gamma": gamma})]))


# --- kinks: the Dirac-GAN with WGAN-GP (M18) ------------------------------------------------------


def test_wgan_gp_costs_are_the_closed_form() -> None:
    gamma = 0.35
    vf = _wgan_gp(gamma)
    for theta, psi in [(0.0, 0.0), (0.3, -0.2), (-1.0, 0.7)]:
        got = vf.costs_fn(np.array([theta, psi]))
        assert got[0] == pytest.approx(-psi * theta, abs=1e-12)
        assert got[1] == pytest.approx(gamma * (abs(psi) - 1) ** 2 + psi * theta, rel=1e-9)


@pytest.mark.parametrize("gamma", [0.35, 10.0])
def test_wgan_gp_origin_is_neither_nash_nor_minimax(gamma: float) -> None:
    vf = _wgan_gp(gamma)
    assert nonsmooth_at(vf, ORIGIN) == ["sign(psi)"]
    # One-sided: cost_d(0, +-h) - cost_d(0, 0) = gamma (h^2 - 2h): slope -2 gamma, curvature
    # 2 gamma on both sides (M18's game, closed form above).
    rays = {r.direction: r for r in _one_sided(vf, np.zeros(2), 1)}
    for side in ("+psi", "-psi"):
        assert rays[side].slope == pytest.approx(-2 * gamma, rel=1e-6)
        assert rays[side].curvature == pytest.approx(2 * gamma, rel=1e-4)
        assert rays[side].change == "falls"
    nash = nash_type(vf, ORIGIN)
    assert nash.verdict == "not-nash" and "cost_d decreases" in nash.reason
    minimax = local_minimax(vf, ORIGIN)
    assert minimax is not None and minimax.verdict == "no"
    assert "not being twice differentiable" in minimax.reason


def test_wgan_gp_switching_line_candidates_are_not_equilibria() -> None:
    gamma = 0.35
    analysis = analyze(_wgan_gp(gamma), box={"theta": (-3.0, 3.0), "psi": (-3.0, 3.0)})
    points = [e.point for e in analysis.equilibria]
    assert points == [ORIGIN]  # the only zero of F on psi = 0 under sign(0) = 0
    (origin,) = analysis.equilibria
    assert origin.nash == "not-nash" and origin.local_minimax == "no"
    # The root finder's candidates beside the jump, at theta = +-2 gamma: F = (0, -theta) there.
    dropped = sorted(analysis.switching, key=lambda c: c.point["theta"])
    assert [c.point["theta"] for c in dropped] == pytest.approx([-2 * gamma, 2 * gamma],
                                                                rel=1e-6)
    for check in dropped:
        assert check.point["psi"] == pytest.approx(0.0, abs=1e-15)
        assert check.field == pytest.approx((0.0, -check.point["theta"]), abs=1e-9)
        assert not check.equilibrium and check.sliding == "one-sided"
    data = analysis.to_dict()
    assert [d["sliding"] for d in data["switching_points"]] == ["one-sided", "one-sided"]
    assert sum("not an equilibrium of gandyn's field" in n for n in data["notes"]) == 2


@pytest.mark.parametrize(("theta", "sliding"), [(0.3, "escaping"), (-0.5, "escaping"),
                                                (1.5, None), (-2.0, None)])
def test_wgan_gp_sliding_region(theta: float, sliding: str | None) -> None:
    # F+ = (0, 2 gamma - theta), F- = (0, -2 gamma - theta): 0 between them iff |theta| <= 2 gamma,
    # and then F+ points up (away) and F- down (away): escaping.
    gamma = 0.35
    vf = _wgan_gp(gamma)
    check = switching_point(vf, {"theta": theta, "psi": 0.0})
    assert check is not None and not check.equilibrium
    assert check.field == pytest.approx((0.0, -theta), abs=1e-12)
    assert check.sliding == sliding
    # the one-sided fields of the closed form, against gandyn's field just off the line
    above = vf.field_fn(np.array([theta, 1e-9]))[1]
    below = vf.field_fn(np.array([theta, -1e-9]))[1]
    assert (above, below) == pytest.approx((2 * gamma - theta, -2 * gamma - theta), abs=1e-8)


def test_attracting_sliding_mode() -> None:
    # cost_g = theta^2/2 - theta sign(psi)^2, cost_d = |psi|: F = (sign(psi)^2 - theta,
    # -sign(psi)). Off the line F+- = (1 - theta, -+1) point onto psi = 0 from both sides;
    # at theta = 1 the Filippov combination (F+ + F-)/2 = (1 - theta, 0) vanishes, while gandyn's
    # field on the line, sign(0) = 0, is (-1, 0).
    vf = _direct(lambda t, p: t**2 / 2 - t * sp.sign(p) ** 2, lambda t, p: sp.Abs(p))
    np.testing.assert_allclose(field_on_switch(vf, {"theta": 1.0, "psi": 0.0}), [-1.0, 0.0])
    check = switching_point(vf, {"theta": 1.0, "psi": 0.0})
    assert check is not None and not check.equilibrium and check.sliding == "attracting"
    # at theta = 0.5 the sliding field (1 - theta, 0) is not zero: no sliding equilibrium
    other = switching_point(vf, {"theta": 0.5, "psi": 0.0})
    assert other is not None and other.sliding is None
    # a smooth point is no switching point at all
    assert switching_point(vf, {"theta": 1.0, "psi": 0.5}) is None


def test_sharp_saddle_is_a_local_nash_and_minimax_point() -> None:
    # cost_g = |theta| + theta psi, cost_d = |psi| - theta psi (zero-sum: the sum is |theta| +
    # |psi|). V = -cost_d + |theta| = |theta| + theta psi - |psi|: V(theta, 0) = |theta| has a
    # strict minimum, V(0, psi) = -|psi| a strict maximum: a local Nash (saddle) point, hence
    # local minimax (Jin et al. 2020, Sec. 3). Each own cost rises with slope 1 on both sides.
    vf = _direct(lambda t, p: sp.Abs(t) + t * p, lambda t, p: sp.Abs(p) - t * p)
    assert vf.game.zero_sum
    for player in (0, 1):
        for ray in _one_sided(vf, np.zeros(2), player):
            assert ray.slope == pytest.approx(1.0, rel=1e-6) and ray.change == "rises"
    assert nash_type(vf, ORIGIN).verdict == "local-nash"
    minimax = local_minimax(vf, ORIGIN)
    assert minimax is not None and minimax.verdict == "yes"


def test_kink_with_a_flat_player_is_undecided() -> None:
    # cost_g = theta^3 (slope and curvature 0 at 0: one-sided second-order checks cannot see that
    # it has no minimum), cost_d = |psi| (a sharp minimum): undecided, not yes or no.
    vf = _direct(lambda t, p: t**3, lambda t, p: sp.Abs(p))
    nash = nash_type(vf, ORIGIN)
    assert nash.verdict == "undecided" and "cost_g is flat" in nash.reason
    minimax = local_minimax(vf, ORIGIN)
    assert minimax is not None and minimax.verdict == "undecided"


# --- degenerate smooth points (Jin, Netrapalli and Jordan 2020) -----------------------------------


def _second_derivatives(value: Callable[[float, float], float], h: float = 1e-3
                        ) -> tuple[float, float, float]:
    """``V_tt``, ``V_tp``, ``V_pp`` at the origin by central differences."""
    v_tt = (value(h, 0) - 2 * value(0, 0) + value(-h, 0)) / h**2
    v_pp = (value(0, h) - 2 * value(0, 0) + value(0, -h)) / h**2
    v_tp = (value(h, h) - value(h, -h) - value(-h, h) + value(-h, -h)) / (4 * h * h)
    return v_tt, v_tp, v_pp


MINIMAX_CASES = [
    # (V(theta, psi), expected local minimax verdict, expected Nash verdict)
    (lambda t, p: t**2 - p**2, "yes", "differential-nash"),
    (lambda t, p: -t**2 + p**2, "no", "not-nash"),
    (lambda t, p: t**4 - p**4, "undecided", "undecided"),  # all second derivatives vanish
    (lambda t, p: t**3, "undecided", "undecided"),  # f = x^3: not a minimum, test blind to it
    (lambda t, p: -t**2 / 2 + t * p - p**2 / 2, "undecided", "not-nash"),  # Schur = 0
    (lambda t, p: -t**2 + t * p - p**2 / 2, "no", "not-nash"),  # Schur = -1 < 0
    (lambda t, p: t * p, "undecided", "undecided"),  # bilinear: V_pp = 0
]


@pytest.mark.parametrize(("value", "minimax_verdict", "nash_verdict"), MINIMAX_CASES)
def test_second_order_verdicts(value: Callable[[float, float], float], minimax_verdict: str,
                               nash_verdict: str) -> None:
    # G minimizes V, D maximizes it: cost_g = V, cost_d = -V.
    vf = _direct(lambda t, p: value(t, p), lambda t, p: -value(t, p))
    minimax = local_minimax(vf, ORIGIN)
    assert minimax is not None and minimax.verdict == minimax_verdict
    assert nash_type(vf, ORIGIN).verdict == nash_verdict
    # The verdict follows from the finite-difference Hessian blocks (Prop. 18 and 19).
    # Quartic terms leave O(h^2) = 1e-6 in the differences: zero below 1e-4.
    v_tt, v_tp, v_pp = _second_derivatives(value)
    if v_pp > 1e-4:
        expected = "no"
    elif v_pp > -1e-4:
        expected = "undecided"
    else:
        schur = v_tt - v_tp * v_tp / v_pp
        expected = "yes" if schur > 1e-4 else ("no" if schur < -1e-4 else "undecided")
    assert minimax.verdict == expected
    if minimax.verdict == "undecided":
        assert "singular" in minimax.reason and "inconclusive" in minimax.reason


def test_undecided_reaches_the_analysis_json() -> None:
    vf = _direct(lambda t, p: t**4 - p**4, lambda t, p: p**4 - t**4)
    (eq,) = [e for e in analyze(vf).equilibria if e.point == ORIGIN]
    data = eq.to_dict()
    assert data["nash"] == "undecided" and data["local_minimax"] == "undecided"
    assert "second-order test is inconclusive" in data["nash_reason"]
    assert "second-order test is inconclusive" in data["local_minimax_reason"]
    assert data["flags"] == []  # an undecided point is not flagged as "stable but not Nash"


# --- maps on the unit circle ----------------------------------------------------------------------


def _bilinear() -> VectorField:
    return derive(make_game("bilinear"))


def _map(name: str, h: float, **settings: object) -> MapStability:
    vf = _bilinear()
    return map_stability(make_rule(name, h, h, **settings), FieldFunctions.of(vf), np.zeros(2))


@pytest.mark.parametrize("h", [0.05, 0.1, 0.5, 1.0, 1.5, 1.9])
@pytest.mark.parametrize("first", ["d", "g"])
def test_altgd_bilinear_is_marginal(h: float, first: str) -> None:
    vf = _bilinear()
    rule = make_rule("altgd", h, h, first=first)
    z = np.zeros((1, 2))
    jac = rule.map_jacobian(FieldFunctions.of(vf), z, rule.init_buffers(z), 1)[0]
    closed = ([[1 - h * h, -h], [h, 1.0]] if first == "d" else [[1.0, -h], [h, 1 - h * h]])
    np.testing.assert_allclose(jac, closed, atol=1e-15)
    assert np.linalg.det(jac) == pytest.approx(1.0, abs=1e-14)
    result = map_stability(rule, FieldFunctions.of(vf), np.zeros(2))
    assert abs(result.spectral_radius - 1.0) <= MAP_MARGINAL_TOL
    assert result.stability == "marginal" and result.inconclusive and not result.stable
    # bounded orbit (Bailey et al. 2020): |M^k x0| <= cond(V) |x0| with M = V diag(l) V^-1, |l| = 1
    eigvals, vectors = np.linalg.eig(np.asarray(closed))
    np.testing.assert_allclose(np.abs(eigvals), 1.0, atol=1e-13)
    bound = np.linalg.cond(vectors) * math.sqrt(2)
    x = np.array([1.0, 1.0])
    for _ in range(5000):
        x = jac @ x
        assert np.linalg.norm(x) <= bound * (1 + 1e-9)


@pytest.mark.parametrize("h", [2.5, 3.0])
def test_altgd_bilinear_beyond_two_is_unstable(h: float) -> None:
    t = 2 - h * h
    result = _map("altgd", h)
    assert result.spectral_radius == pytest.approx(abs(t) / 2 + math.sqrt(t * t / 4 - 1),
                                                   rel=1e-12)
    assert result.stability == "unstable"


@pytest.mark.parametrize("h", [1e-3, 0.1, 1.0])
def test_simgd_and_extragradient_bilinear_classes(h: float) -> None:
    simgd = _map("simgd", h)
    assert simgd.spectral_radius == pytest.approx(math.sqrt(1 + h * h), rel=1e-12)
    assert simgd.stability == "unstable"
    if h < 1:
        extra = _map("extragradient", h)
        assert extra.spectral_radius == pytest.approx(math.sqrt((1 - h * h) ** 2 + h * h),
                                                      rel=1e-12)
        assert extra.stability == "stable"


def test_map_class_boundaries() -> None:
    radii = np.array([1 - 2 * MAP_MARGINAL_TOL, 1 - MAP_MARGINAL_TOL / 2, 1.0,
                      1 + MAP_MARGINAL_TOL / 2, 1 + 2 * MAP_MARGINAL_TOL, np.nan])
    assert map_class(radii).tolist() == ["stable", "marginal", "marginal", "marginal",
                                         "unstable", "unknown"]
    assert map_class(1.0) == "marginal"


def test_dirac_gan_altgd_is_marginal_in_analyze() -> None:
    # M18, Sec. 2.2: the unregularized Dirac-GAN's flow Jacobian at the origin is a rotation
    # [[0, f'(0)], [-f'(0), 0]]; alternating steps give a map of determinant 1 whose eigenvalues
    # lie on the unit circle for small h (the orbits stay bounded, M18 Fig. 2).
    vf = derive(make_game("dirac", "minimax"))
    analysis = analyze(vf, rule=RuleChoice("altgd", 0.2, 0.2))
    (eq,) = analysis.equilibria
    assert eq.rule is not None
    assert eq.rule.spectral_radius == pytest.approx(1.0, abs=1e-12)
    assert eq.rule.stability == "marginal"
    assert analysis.to_dict()["equilibria"][0]["map_stability"] == "marginal"
    jac = vf.jacobian_fn(np.zeros(2))
    assert jac[0, 0] == 0 and jac[1, 1] == 0 and jac[0, 1] == -jac[1, 0]
