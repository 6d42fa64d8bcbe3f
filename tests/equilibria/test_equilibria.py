"""Equilibria and their stability against closed forms derived by hand.

Independent references used below
---------------------------------
* Mescheder, Geiger and Nowozin (2018), Which Training Methods for GANs do
  actually Converge?, ICML ("M18"), Sec. 2.2 and 4.1: the Dirac-GAN
  (data at c = 0, generator at theta, logit psi*x) has its equilibrium at
  (0, 0) with flow eigenvalues ``+- i f'(0) = +- i/2`` (a centre: linear
  analysis is inconclusive), and with R1 ``-gamma/2 +- sqrt(gamma^2/4 - 1/4)``.
* The bilinear game ``cost_g = theta*psi + a theta^2/2``,
  ``cost_d = -theta*psi + b psi^2/2``: flow ``F = (-a theta - psi, theta - b psi)``,
  Jacobian ``[[-a, -1], [1, -b]]``, Hessians ``a`` and ``b``. With ``a = b = 0``
  and ``z = theta + i psi`` the flow is ``F(z) = i z``: simultaneous GD
  multiplies ``z`` by ``1 + i h`` (modulus ``sqrt(1 + h^2) > 1``), extragradient
  by ``1 + i h (1 + i h) = 1 - h^2 + i h`` (modulus^2 ``(1 - h^2)^2 + h^2 < 1``
  iff ``0 < h < 1``), OGDA has characteristic polynomial
  ``l^2 - (1 + 2 i h) l + i h`` (Daskalakis et al. 2018, eq. (3)).
* Ratliff, Burden and Sastry (2016), On the characterization of local Nash
  equilibria in continuous games, IEEE TAC: differential Nash iff both own
  Hessians are positive definite. Jin, Netrapalli and Jordan (2020), ICML,
  Prop. 19: strict local minimax iff ``V_pp < 0`` and ``V_tt - V_tp V_pp^-1 V_pt > 0``.
* Mazumdar, Ratliff and Sastry (2020), On gradient-based learning in
  continuous games, SIAM J. Math. Data Sci.: the flow can be stable at a
  point that is not a Nash equilibrium.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from gandyn.derivation.field import VectorField, derive
from gandyn.equilibria import (
    find_equilibria,
    flow_stability,
    local_minimax,
    map_stability,
    nash_type,
    stable_lr_range,
)
from gandyn.errors import SpecError
from gandyn.games.game import make_game
from gandyn.games.regularizers import apply_values, get_regularizer
from gandyn.rules import FieldFunctions, UpdateRule, make_rule

ORIGIN = {"theta": 0.0, "psi": 0.0}
BOX = {"theta": (-2.0, 2.0), "psi": (-2.0, 2.0)}


def _dirac(loss: str, gamma: float | None = None) -> VectorField:
    regs = [] if gamma is None else [apply_values(get_regularizer("r1"), {"gamma": gamma})]
    return derive(make_game("dirac", loss, regs))


def _bilinear(a: float = 0.0, b: float = 0.0) -> VectorField:
    return derive(make_game("bilinear", params={"a": a, "b": b}))


def _rule(name: str, h: float, **settings: float) -> UpdateRule:
    return make_rule(name, h, h, **settings)


def _field(vf: VectorField) -> FieldFunctions:
    return FieldFunctions(vf.field_fn, vf.jacobian_fn, len(vf.game.theta))


# --- find_equilibria ---------------------------------------------------------------------------


def test_dirac_minimax_isolated_equilibrium() -> None:
    # M18 Sec. 2.2: F = (psi s(psi theta), -theta s(psi theta)) vanishes only at (0, 0);
    # the numeric search in the box finds it again and drops it as sympy's.
    found = find_equilibria(_dirac("minimax"), BOX, n_starts=16)
    assert len(found) == 1
    (eq,) = found
    assert eq.kind == "isolated" and eq.source == "sympy"
    assert eq.point == pytest.approx(ORIGIN, abs=1e-12)


def test_dirac_minimax_centre_is_inconclusive() -> None:
    # M18 Sec. 2.2: dF/dx(0, 0) = [[0, 1/2], [-1/2, 0]], eigenvalues +- i/2.
    vf = _dirac("minimax")
    result = flow_stability(vf.jacobian_fn(np.zeros(2)))
    np.testing.assert_allclose(result.eigenvalues, [-0.5j, 0.5j], atol=1e-15)
    assert (result.stability, result.kind, result.inconclusive) == ("marginal", "centre", True)


@pytest.mark.parametrize(
    ("gamma", "kind"), [(0.3, "stable focus"), (2.0, "stable node")]
)
def test_dirac_r1_stable(gamma: float, kind: str) -> None:
    # M18 Sec. 4.1: eigenvalues -gamma/2 +- sqrt(gamma^2/4 - 1/4); gamma = 2: -1 +- sqrt(0.75).
    result = flow_stability(_dirac("minimax", gamma).jacobian_fn(np.zeros(2)))
    root = np.sqrt(complex(gamma**2 / 4 - 0.25))
    np.testing.assert_allclose(
        result.eigenvalues, np.sort_complex(np.array([-gamma / 2 - root, -gamma / 2 + root])),
        atol=1e-12,
    )
    assert (result.stability, result.kind, result.inconclusive) == ("stable", kind, False)
    if gamma == 2.0:
        np.testing.assert_allclose(result.eigenvalues.real, [-1 - math.sqrt(0.75),
                                                             -1 + math.sqrt(0.75)])


def test_least_squares_line_from_sympy() -> None:
    # Least squares (c = 0): F = (-psi (psi theta - 1), -psi theta^2). psi = 0 zeroes both;
    # psi != 0 needs theta = 0 (second) and then psi*theta = 1 (first): impossible.
    found = find_equilibria(_dirac("least-squares"), BOX, n_starts=32)
    assert len(found) == 1  # the numeric roots all lie on sympy's line
    (line,) = found
    assert (line.kind, line.equation, line.source, line.point) == ("set", "psi = 0", "sympy", None)
    thetas = [s["theta"] for s in line.samples]
    assert all(s["psi"] == 0.0 for s in line.samples)
    assert min(thetas) == -2.0 and max(thetas) == 2.0 and len(set(thetas)) >= 5


def test_least_squares_line_without_box_uses_unit_interval() -> None:
    (line,) = find_equilibria(_dirac("least-squares"))
    assert [s["theta"] for s in line.samples][0::8] == [-1.0, 1.0]


@pytest.mark.parametrize("how", ["timeout", "flag"])
def test_least_squares_line_from_numeric_search(how: str) -> None:
    # Same line, sympy off: dF/dx(theta, 0) = [[0, 1], [0, -theta^2]] has the null
    # direction (1, 0) along the line, so the roots are one set, not many points.
    vf = _dirac("least-squares")
    if how == "timeout":
        found = find_equilibria(vf, BOX, n_starts=32, timeout=0.0)
    else:
        found = find_equilibria(vf, BOX, n_starts=32, use_sympy=False)
    assert len(found) == 1
    (line,) = found
    assert (line.kind, line.equation, line.source) == ("set", "psi = 0", "numeric")
    assert len(line.samples) >= 3
    for s in line.samples:
        assert abs(s["psi"]) < 1e-9 and -2.0 <= s["theta"] <= 2.0


def test_numeric_isolated_point() -> None:
    # Bilinear, a = b = 1: J = [[-1, -1], [1, -1]] is invertible, only root (0, 0).
    found = find_equilibria(_bilinear(1.0, 1.0), BOX, n_starts=8, use_sympy=False)
    assert len(found) == 1
    assert found[0].kind == "isolated" and found[0].source == "numeric"
    assert found[0].point == pytest.approx(ORIGIN, abs=1e-9)


@pytest.mark.parametrize(
    "box",
    [{"theta": (-1.0, 1.0)}, {"theta": (-1.0, 1.0), "psi": (1.0, -1.0)},
     {"theta": (-1.0, 1.0), "psi": (-1.0, 1.0), "phi": (0.0, 1.0)}],
)
def test_bad_box_is_a_spec_error(box: dict[str, tuple[float, float]]) -> None:
    with pytest.raises(SpecError) as info:
        find_equilibria(_bilinear(), box, use_sympy=False)
    assert "\n" not in str(info.value)


# --- flow_stability on hand-made spectra -------------------------------------------------------


@pytest.mark.parametrize(
    ("matrix", "stability", "kind"),
    [
        ([[1.0, 0.0], [0.0, -1.0]], "unstable", "saddle"),
        ([[1.0, 0.0], [0.0, 2.0]], "unstable", "unstable node"),
        ([[1.0, -1.0], [1.0, 1.0]], "unstable", "unstable focus"),
        ([[-1.0, 0.0], [0.0, 0.0]], "marginal", "marginal"),
        ([[0.0, 0.0], [0.0, 0.0]], "marginal", "marginal"),
        ([[-0.5, 1.0], [0.0, -0.5]], "stable", "stable node"),  # defective double eigenvalue
    ],
)
def test_flow_stability_classes(matrix: list[list[float]], stability: str, kind: str) -> None:
    result = flow_stability(np.array(matrix))
    assert (result.stability, result.kind) == (stability, kind)
    assert result.inconclusive == (stability == "marginal")


def test_bilinear_centre() -> None:
    # a = b = 0: J = [[0, -1], [1, 0]], eigenvalues +- i.
    result = flow_stability(_bilinear().jacobian_fn(np.zeros(2)))
    np.testing.assert_allclose(result.eigenvalues, [-1j, 1j])
    assert result.kind == "centre" and result.inconclusive


# --- Nash and minimax --------------------------------------------------------------------------


def test_nash_types_by_hand() -> None:
    # Bilinear: d^2 cost_g/d theta^2 = a, d^2 cost_d/d psi^2 = b.
    # a = b = 0: both Hessians vanish, the second-order test cannot decide.
    assert nash_type(_bilinear(), ORIGIN).verdict == "undecided"
    assert nash_type(_bilinear(1.0, 1.0), ORIGIN).verdict == "differential-nash"
    assert nash_type(_bilinear(-1.0, 1.0), ORIGIN).verdict == "not-nash"
    # Dirac non-saturating, c = 0: cost_g = softplus(-psi theta), so
    # d^2 cost_g/d theta^2 = psi^2 s'(psi theta) = 0 at psi = 0; cost_d = log 2 +
    # softplus(psi theta), d^2 cost_d/d psi^2 = theta^2 s'(psi theta) = 0 at theta = 0.
    assert nash_type(_dirac("non-saturating"), ORIGIN).verdict == "undecided"
    # With R1, D's Hessian is gamma > 0 but G's stays 0: still undecided, and the reason says
    # whose Hessian is singular.
    with_r1 = nash_type(_dirac("minimax", 0.3), ORIGIN)
    assert with_r1.verdict == "undecided" and "cost_g in theta is singular" in with_r1.reason
    # Not a stationary point: F(1, 1) = (-2, 0) for a = b = 1.
    moved = nash_type(_bilinear(1.0, 1.0), {"theta": 1.0, "psi": 1.0})
    assert moved.verdict == "not-nash" and "not stationary" in moved.reason


def test_local_minimax() -> None:
    # Non-saturating is not zero-sum (cost_g + cost_d has the term softplus(-l) + softplus(l)).
    assert local_minimax(_dirac("non-saturating"), ORIGIN) is None
    # Minimax, c = 0: V = -cost_d, V_pp = -theta^2 s' = 0 at the origin: not strict.
    # The second-order test cannot decide (Prop. 18 and 19 both need V_pp < 0): undecided.
    assert _minimax(_dirac("minimax")) == "undecided"
    # With R1: V_pp = -gamma, V_tt = 0, V_tp = d^2 cost_g / d theta d psi = -s(0) = -1/2:
    # Schur complement 0 - (-1/2)(-1/gamma)(-1/2) = 1/(4 gamma) > 0.
    assert _minimax(_dirac("minimax", 0.3)) == "yes"
    # Bilinear a = b = 0: V = theta psi, V_pp = 0: the second-order test is inconclusive (the
    # origin is in fact a non-strict local minimax point: V(0, psi) = 0 and
    # max_{|psi'| <= r} theta psi' = r |theta| >= 0).
    assert _minimax(_bilinear()) == "undecided"


def _minimax(vf: VectorField, point: dict[str, float] = ORIGIN) -> str:
    result = local_minimax(vf, point)
    assert result is not None
    return result.verdict


def test_stable_but_not_nash() -> None:
    # Mazumdar, Ratliff and Sastry (2020): a = -0.1, b = 1. J = [[0.1, -1], [1, -1]],
    # trace -0.9, det 0.9 > 0, discriminant 0.81 - 3.6 < 0: a stable focus with
    # eigenvalues -0.45 +- i sqrt(0.9 - 0.2025); G's own Hessian a = -0.1 < 0: not Nash.
    vf = _bilinear(-0.1, 1.0)
    (eq,) = find_equilibria(vf, BOX, n_starts=8)
    assert eq.point == pytest.approx(ORIGIN, abs=1e-12)
    result = flow_stability(vf.jacobian_fn(np.zeros(2)))
    imag = math.sqrt(0.9 - 0.45**2)
    np.testing.assert_allclose(result.eigenvalues, [-0.45 - 1j * imag, -0.45 + 1j * imag])
    assert result.kind == "stable focus"
    assert nash_type(vf, ORIGIN).verdict == "not-nash"
    # Zero-sum (cost_g + cost_d = a theta^2/2 + b psi^2/2): V_tt = -0.1, V_pp = -1, V_tp = 1,
    # Schur -0.1 + 1 = 0.9 > 0: a strict local minimax point that is not a Nash equilibrium.
    assert _minimax(vf) == "yes"


# --- discrete maps -----------------------------------------------------------------------------


@pytest.mark.parametrize("h", [1e-3, 0.1, 1.0, 5.0])
def test_simgd_bilinear_radius(h: float) -> None:
    vf = _bilinear()
    result = map_stability(_rule("simgd", h), _field(vf), np.zeros(2))
    assert result.spectral_radius == pytest.approx(math.sqrt(1 + h * h), rel=1e-12)
    assert not result.stable
    np.testing.assert_allclose(result.eigenvalues, [1 - 1j * h, 1 + 1j * h])


def test_simgd_bilinear_never_stable() -> None:
    assert stable_lr_range(_bilinear(), "simgd", np.zeros(2), n=50) is None


@pytest.mark.parametrize("h", [0.2, 0.9, 1.5])
def test_extragradient_bilinear_radius(h: float) -> None:
    result = map_stability(_rule("extragradient", h), _field(_bilinear()), np.zeros(2))
    assert result.spectral_radius == pytest.approx(math.sqrt((1 - h * h) ** 2 + h * h), rel=1e-12)
    assert result.stable == (h < 1)


def test_extragradient_bilinear_range() -> None:
    got = stable_lr_range(_bilinear(), "extragradient", np.zeros(2))
    assert got is not None
    assert got[0] == 0.0
    assert got[1] == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("gamma", [0.1, 0.3, 0.8])
def test_dirac_r1_simgd_range(gamma: float) -> None:
    # Eigenvalues of I + h J are 1 + h lam, lam = -gamma/2 +- i sqrt(1/4 - gamma^2/4),
    # |lam|^2 = 1/4, so
    # |1 + h lam|^2 = 1 - h gamma + h^2/4 < 1 iff h < 4 gamma.
    got = stable_lr_range(_dirac("minimax", gamma), "simgd", np.zeros(2))
    assert got is not None
    assert got[0] == 0.0
    assert got[1] == pytest.approx(4 * gamma, rel=1e-9)


def test_two_time_scale_ratio() -> None:
    # Dirac + R1, lr_d = 2 lr_g = 2h: J = [[0, 1/2], [-1/2, -gamma]], map I + diag(h, 2h) J has
    # trace 2 - 2 h gamma and det (1 - 2 h gamma) + h^2/2. Complex pair for small h: radius^2 = det
    # < 1 iff h < 4 gamma; check the boundary against the closed form numerically.
    gamma = 0.3
    got = stable_lr_range(_dirac("minimax", gamma), "simgd", np.zeros(2), lr_ratio=2.0)
    assert got is not None
    h = got[1]
    assert h == pytest.approx(4 * gamma, rel=1e-9)
    tr, det = 2 - 2 * h * gamma, (1 - 2 * h * gamma) + h * h / 2
    assert tr * tr < 4 * det  # still the complex-pair regime at the boundary


def test_ogda_bilinear_matches_characteristic_polynomial() -> None:
    # Daskalakis et al. (2018): z' = z + 2 i h z - i h z_prev; the real 4x4 map has the roots
    # of l^2 - (1 + 2 i h) l + i h and their conjugates.
    h = 0.1
    result = map_stability(_rule("ogda", h), _field(_bilinear()), np.zeros(2))
    roots = np.roots([1.0, -(1 + 2j * h), 1j * h])
    expected = np.sort_complex(np.concatenate([roots, roots.conj()]))
    np.testing.assert_allclose(result.eigenvalues, expected, atol=1e-12)
    assert result.stable


def test_momentum_and_adam_buffers() -> None:
    # Heavy ball at a fixed point: v = 0, extended Jacobian [[I + h(J), b h I], [J, b I]].
    vf = _dirac("minimax", 0.3)
    rule = _rule("momentum", 0.01, beta=0.5)
    result = map_stability(rule, _field(vf), np.zeros(2))
    assert result.eigenvalues.shape == (4,) and result.stable
    adam = map_stability(_rule("adam", 1e-3), _field(vf), np.zeros(2))
    assert adam.eigenvalues.shape == (6,) and np.isfinite(adam.spectral_radius)


def test_kink_of_the_field_at_a_point_is_flagged() -> None:
    # WGAN-GP on the Dirac-GAN: cost_d holds gamma (|psi| - 1)^2, so F_psi jumps by
    # 4 gamma across psi = 0 (Mescheder et al. 2018, Sec. 3: WGAN-GP does not converge there).
    # The numeric Jacobian drops the DiracDelta and looks like a stable focus: it must not
    # decide stability.
    from gandyn.derivation.field import derive
    from gandyn.equilibria import analyze, nonsmooth_at
    from gandyn.games.game import make_game

    vf = derive(make_game("dirac", "wasserstein", [('wgan-gp', {'gamma': 0.35})]))
    assert nonsmooth_at(vf, {"theta": 0.0, "psi": 0.0}) == ["sign(psi)"]
    assert nonsmooth_at(vf, {"theta": 0.0, "psi": 0.3}) == []
    field = vf.field_fn
    jump = field(np.array([0.0, 1e-9]))[1] - field(np.array([0.0, -1e-9]))[1]
    assert jump == pytest.approx(4 * 0.35, rel=1e-6)
    origin = next(e for e in analyze(vf).equilibria if e.point == {"theta": 0.0, "psi": 0.0})
    assert origin.inconclusive and origin.nonsmooth == ("sign(psi)",)
    smooth = derive(make_game("dirac", "non-saturating", [('r1', {'gamma': 0.3})]))
    assert nonsmooth_at(smooth, {"theta": 0.0, "psi": 0.0}) == []
