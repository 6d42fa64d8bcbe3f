"""SGA's sign alignment (Balduzzi et al. 2018, Algorithm 1): the sign by hand, the map Jacobian.

Independent references
----------------------
* The linear game ``cost_g = a theta^2/2 + theta psi``, ``cost_d = a psi^2/2 - theta psi``
  (gandyn's ``bilinear`` with ``a = b``) by hand: ``xi = H x`` with
  ``H = [[a, 1], [-1, a]]``, antisymmetric part ``A = [[0, 1], [-1, 0]]``, so
  ``grad H = H^T xi = H^T H x = (a^2 + 1) x``, ``<xi, grad H> = (a^2 + 1) a |x|^2``,
  ``A^T xi = (theta - a psi, a theta + psi)`` and ``<A^T xi, grad H> = (a^2 + 1) |x|^2``.
  The alignment's sign is therefore ``sign(a (a^2 + 1)^2 |x|^4 / 2 + eps)`` (``d = 2``):
  for ``a < 0`` (a fixed point that repels the flow) it is ``+1`` inside the circle
  ``|x|^4 = 2 eps / (|a| (a^2 + 1)^2)`` and ``-1`` outside.
  With ``lambda = -1`` the adjusted direction is ``(H - A^T H) x`` with
  ``A^T H = [[1, -a], [a, 1]]``, eigenvalues ``(a - 1) +- i (1 + a)``; with ``+1``,
  ``(H + A^T H) x``, eigenvalues ``(a + 1) +- i (1 - a)``.
* Central finite differences of ``step`` for ``map_jacobian`` on the Dirac-GAN
  (minimax and non-saturating) and the Gaussian game, at states away from the switch.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from gandyn.derivation.field import VectorField, derive
from gandyn.errors import SpecError
from gandyn.games.game import make_game
from gandyn.rules import FieldFunctions, SymplecticGradientAdjustment, make_rule


@functools.cache
def derived(name: str, loss: str | None = None, **params: float) -> VectorField:
    options = {"order": 4} if name == "gaussian" else None
    return derive(make_game(name, loss, params=params or None, options=options))


@pytest.mark.parametrize("a", [-0.5, -1.5, 0.4])
@pytest.mark.parametrize("radius", [0.3, 0.7, 1.2, 3.0])
def test_aligned_sign_and_step_by_hand(a: float, radius: float) -> None:
    eps, h = 0.1, 0.05
    ff = FieldFunctions.of(derived("bilinear", a=a, b=a))
    rule = make_rule("sga", h, h, lam=0.8, align=1, align_eps=eps)
    assert isinstance(rule, SymplecticGradientAdjustment)
    angles = np.linspace(0.1, 6.0, 5)
    x = radius * np.stack([np.cos(angles), np.sin(angles)], axis=-1)
    sign = np.sign(a * (a * a + 1) ** 2 * radius**4 / 2 + eps)
    np.testing.assert_array_equal(rule.weight(ff, x), np.full(5, 0.8 * sign))
    hess = np.array([[a, 1.0], [-1.0, a]])
    at_h = np.array([[1.0, -a], [a, 1.0]])
    direction = (hess + 0.8 * sign * at_h) @ x.T
    np.testing.assert_allclose(rule.step(ff, x, {}, 1).x, x - h * direction.T, rtol=1e-13,
                               atol=1e-15)
    # dF/dx is constant: the map is linear in x on each side of the switch
    np.testing.assert_allclose(rule.map_jacobian(ff, x, {}, 1),
                               np.broadcast_to(np.eye(2) - h * (hess + 0.8 * sign * at_h),
                                               (5, 2, 2)), rtol=1e-13, atol=1e-15)


def test_far_from_a_repelling_point_the_aligned_rule_moves_away() -> None:
    # a = -0.5: the fixed-lambda map contracts toward the repelling point everywhere
    # (eigenvalues 1 - h (0.5 +- 1.5 i)); outside the switch circle the aligned map's
    # eigenvalues 1 - h (-1.5 -+ 0.5 i) have modulus > 1, so it is pushed away.
    a, h = -0.5, 0.1
    ff = FieldFunctions.of(derived("bilinear", a=a, b=a))
    x = np.array([[2.0, 1.0]])
    aligned = make_rule("sga", h, h, align=1).map_jacobian(ff, x, {}, 1)[0]
    fixed = make_rule("sga", h, h).map_jacobian(ff, x, {}, 1)[0]
    assert max(abs(np.linalg.eigvals(aligned))) == pytest.approx(
        abs(1 - h * (a - 1) + 1j * h * (1 + a)), rel=1e-12)
    assert max(abs(np.linalg.eigvals(aligned))) > 1 > max(abs(np.linalg.eigvals(fixed)))


def test_without_alignment_and_at_fixed_points_lambda_is_lam() -> None:
    ff = FieldFunctions.of(derived("dirac", "non-saturating"))
    x = np.random.default_rng(2).normal(size=(4, 2))
    fixed = make_rule("sga", 0.1, 0.1, lam=0.6)
    np.testing.assert_array_equal(fixed.weight(ff, x), np.full(4, 0.6))
    # at the equilibrium xi = 0, so the sign is that of eps: lambda = |lam|
    aligned = make_rule("sga", 0.1, 0.1, lam=-0.6, align=1)
    np.testing.assert_array_equal(aligned.weight(ff, np.zeros((1, 2))), [0.6])


# The Gaussian game's third derivatives take seconds to derive: kept for the slow run.
@pytest.mark.parametrize(("game", "loss"), [("dirac", "minimax"), ("dirac", "non-saturating"),
                                            pytest.param("gaussian", None,
                                                         marks=pytest.mark.slow)])
def test_map_jacobian_matches_finite_differences(game: str, loss: str | None) -> None:
    vf = derived(game, loss, **({"c": 0.7} if game == "dirac" else {"mu": 0.3, "sigma": 0.9}))
    ff = FieldFunctions.of(vf)
    rule = make_rule("sga", 0.13, 0.29, lam=0.7, align=1, align_eps=0.01)
    assert isinstance(rule, SymplecticGradientAdjustment)
    rng = np.random.default_rng(17)
    n = len(vf.game.state_symbols)
    x = rng.normal(scale=0.8 if n == 5 else 2.5, size=(12, n))
    if n == 5:
        x[:, 1] = rng.uniform(0.5, 1.5, size=12)
    eps = 1e-6
    signs = rule.weight(ff, x)
    columns = []
    for j in range(n):
        dx = np.zeros(n)
        dx[j] = eps
        # finite differences only where the sign holds on the stencil
        np.testing.assert_array_equal(rule.weight(ff, x + dx), signs)
        np.testing.assert_array_equal(rule.weight(ff, x - dx), signs)
        columns.append((rule.step(ff, x + dx, {}, 1).x - rule.step(ff, x - dx, {}, 1).x)
                       / (2 * eps))
    np.testing.assert_allclose(rule.map_jacobian(ff, x, {}, 1), np.stack(columns, axis=-1),
                               rtol=1e-6, atol=1e-8)
    assert set(np.unique(signs)) == {-0.7, 0.7}  # both branches of the sign are checked


def test_settings_are_checked() -> None:
    for bad in ({"align": 2}, {"align_eps": -0.1}, {"align_eps": float("nan")}):
        with pytest.raises(SpecError, match="optimizer 'sga': align"):
            make_rule("sga", 0.1, 0.1, **bad)
