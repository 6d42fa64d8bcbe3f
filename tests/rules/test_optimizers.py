"""Update rules: linearizations by finite differences, closed forms, published values.

Independent references used below
---------------------------------
* Central finite differences of ``step`` on the extended state ``z = (x, buffers)``
  for every rule's ``map_jacobian``.
* The bilinear game ``cost_g = theta*psi``, ``cost_d = -theta*psi``: its flow
  field is ``F = (-psi, theta)``, i.e. ``F(z) = i z`` for ``z = theta + i psi``.
  Every rule with equal rates then is a recursion in one complex number whose
  characteristic polynomial is derived by hand in each test.
* Mescheder, Geiger and Nowozin (2018), Which Training Methods for GANs do
  actually Converge?, ICML ("M18"), Sec. 2.2: on the Dirac-GAN at its
  equilibrium simultaneous GD has eigenvalues ``1 +- i h f'(0)`` (Lemma 2.3)
  and alternating GD with ``n_d``/``n_g`` steps ``1 - a^2/2 +- sqrt((1 -
  a^2/2)^2 - 1)``, ``a = sqrt(n_g n_d) h f'(0)`` (Lemma 2.4), with ``f'(0) = 1/2``.
* Adam and heavy ball re-implemented from the PyTorch documentation of
  ``torch.optim.Adam`` and ``torch.optim.SGD`` (scalar loops, gradients by hand).
"""

from __future__ import annotations

import functools
import math
import zlib
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gandyn.derivation.field import VectorField, derive
from gandyn.errors import SpecError, UnknownNameError
from gandyn.games.game import make_game
from gandyn.rules import (
    RULES,
    FieldFunctions,
    SymplecticGradientAdjustment,
    UpdateRule,
    make_rule,
)

LR_G, LR_D = 0.13, 0.29  # distinct rates catch row/column mix-ups in the rate scaling

GAME_SETUPS: dict[str, tuple[str, tuple[tuple[str, float], ...], tuple[tuple[str, int], ...]]] = {
    "dirac": ("dirac", (("c", 0.7),), ()),
    "bilinear": ("bilinear", (("a", 0.3), ("b", -0.4)), ()),
    "gaussian": ("gaussian", (("mu", 0.3), ("sigma", 0.9)), (("order", 4),)),
}


@functools.cache
def vector_field(game: str, params: tuple[tuple[str, float], ...] = (),
                 options: tuple[tuple[str, int], ...] = ()) -> VectorField:
    return derive(make_game(game, options=dict(options) or None, params=dict(params) or None))


def functions_of(vf: VectorField) -> FieldFunctions:
    return FieldFunctions(vf.field_fn, vf.jacobian_fn, len(vf.game.theta))


def setup_game(key: str) -> tuple[VectorField, FieldFunctions]:
    vf = vector_field(*GAME_SETUPS[key])
    return vf, functions_of(vf)


def random_states(key: str, rng: np.random.Generator, batch: int) -> np.ndarray:
    if key == "gaussian":  # (theta_mu, theta_sigma, psi_0, psi_1, psi_2), sigma away from 0
        x = rng.normal(scale=0.5, size=(batch, 5))
        x[:, 1] = rng.uniform(0.5, 1.5, size=batch)
        return x
    return rng.normal(size=(batch, 2))


def stepped(rule: UpdateRule, ff: FieldFunctions, z: np.ndarray, n: int, k: int) -> np.ndarray:
    x, buffers = rule.unpack(z, n)
    result = rule.step(ff, x, buffers, k)
    return rule.pack(result.x, result.buffers)


def central_differences(fn: Any, z: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """``d fn / dz`` of a batched map ``(B, m) -> (B, p)``: ``(B, p, m)``."""
    columns = []
    for j in range(z.shape[-1]):
        dz = np.zeros(z.shape[-1])
        dz[j] = eps
        columns.append((fn(z + dz) - fn(z - dz)) / (2 * eps))
    return np.stack(columns, axis=-1)


def with_fd_third_derivatives(ff: FieldFunctions) -> FieldFunctions:
    """``ff`` whose ``d(dF/dx)/dx`` is central differences of its Jacobian: ``[b, i, j, k]``."""
    def derivative(x: np.ndarray, eps: float = 1e-5) -> np.ndarray:
        columns = []
        for k in range(x.shape[-1]):
            dx = np.zeros(x.shape[-1])
            dx[k] = eps
            columns.append((ff.jacobian(x + dx) - ff.jacobian(x - dx)) / (2 * eps))
        return np.stack(columns, axis=-1)

    return FieldFunctions(ff.field, ff.jacobian, ff.n_theta, derivative)


# (id, rule name, settings, step number k)
RULE_CASES: list[tuple[str, str, dict[str, Any], int]] = [
    ("simgd", "simgd", {}, 1),
    ("altgd-d", "altgd", {}, 1),
    ("altgd-g-d2", "altgd", {"first": "g", "d_steps": 2}, 1),
    ("altgd-d-d2-g3", "altgd", {"first": "d", "d_steps": 2, "g_steps": 3}, 1),
    ("momentum", "momentum", {"beta": 0.7}, 4),
    ("momentum-negative", "momentum", {"beta": -0.5}, 4),
    ("altmomentum", "altmomentum", {"beta": -0.5}, 1),
    ("altmomentum-g-positive", "altmomentum", {"beta": 0.6, "first": "g"}, 3),
    ("adam", "adam", {}, 5),
    ("adam-k2", "adam", {"beta1": 0.5, "beta2": 0.9, "eps": 1e-3}, 2),
    ("ogda", "ogda", {}, 3),
    ("extragradient", "extragradient", {}, 1),
    ("sga", "sga", {"lam": 0.7}, 1),
]


def random_buffers(rule: UpdateRule, x: np.ndarray, rng: np.random.Generator) -> dict:
    buffers = {}
    for name in rule.buffer_names:
        if name == "v":  # Adam's second moment: positive, away from 0
            buffers[name] = rng.uniform(0.05, 1.0, size=x.shape)
        elif name == "previous":
            buffers[name] = x + rng.normal(scale=0.3, size=x.shape)
        else:
            buffers[name] = rng.normal(size=x.shape)
    return buffers


@pytest.mark.parametrize("game_key", list(GAME_SETUPS))
@pytest.mark.parametrize(("name", "settings_", "k"), [c[1:] for c in RULE_CASES],
                         ids=[c[0] for c in RULE_CASES])
def test_map_jacobian_matches_finite_differences(
    game_key: str, name: str, settings_: dict[str, Any], k: int
) -> None:
    _, ff = setup_game(game_key)
    rng = np.random.default_rng(zlib.crc32(f"{game_key}-{name}-{k}-{settings_}".encode()))
    rule = make_rule(name, LR_G, LR_D, **settings_)
    if isinstance(rule, SymplecticGradientAdjustment):
        ff = with_fd_third_derivatives(ff)
    x = random_states(game_key, rng, 6)
    n = x.shape[-1]
    buffers = random_buffers(rule, x, rng)
    z = rule.pack(x, buffers)
    assert z.shape == (6, n * (1 + len(rule.buffer_names)))
    expected = central_differences(lambda zz: stepped(rule, ff, zz, n, k), z)
    actual = rule.map_jacobian(ff, x, buffers, k)
    tol = 1e-4 if name == "sga" else 1e-6  # SGA's third derivatives are themselves differences
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol)


@settings(max_examples=25, deadline=None)
@given(
    theta=st.floats(-3, 3), psi=st.floats(-3, 3),
    lr_g=st.floats(0.01, 1.0), lr_d=st.floats(0.01, 1.0),
    first=st.sampled_from(["d", "g"]), d_steps=st.integers(1, 3), g_steps=st.integers(1, 2),
)
def test_altgd_map_jacobian_hypothesis(theta: float, psi: float, lr_g: float, lr_d: float,
                                       first: str, d_steps: int, g_steps: int) -> None:
    _, ff = setup_game("dirac")
    rule = make_rule("altgd", lr_g, lr_d, first=first, d_steps=d_steps, g_steps=g_steps)
    x = np.array([[theta, psi]])
    expected = central_differences(lambda z: stepped(rule, ff, z, 2, 1), x)
    np.testing.assert_allclose(rule.map_jacobian(ff, x, {}, 1), expected, rtol=1e-6, atol=1e-6)


@settings(max_examples=25, deadline=None)
@given(
    x=st.lists(st.floats(-2, 2), min_size=5, max_size=5),
    m=st.lists(st.floats(-1, 1), min_size=5, max_size=5),
    v=st.lists(st.floats(0.01, 2), min_size=5, max_size=5),
    k=st.integers(1, 30),
)
def test_adam_map_jacobian_hypothesis(x: list[float], m: list[float], v: list[float],
                                      k: int) -> None:
    _, ff = setup_game("gaussian")
    rule = make_rule("adam", LR_G, LR_D, beta1=0.8, beta2=0.95)
    xs = np.array([x])
    xs[0, 1] = 1.0 + 0.25 * xs[0, 1]
    buffers = {"m": np.array([m]), "v": np.array([v])}
    z = rule.pack(xs, buffers)
    expected = central_differences(lambda zz: stepped(rule, ff, zz, 5, k), z)
    np.testing.assert_allclose(rule.map_jacobian(ff, xs, buffers, k), expected, rtol=1e-5,
                               atol=1e-6)


# --- the bilinear game in closed form ---------------------------------------------------------

def bilinear(a: float = 0.0, b: float = 0.0) -> FieldFunctions:
    return functions_of(vector_field("bilinear", (("a", a), ("b", b))))


def as_complex(x: np.ndarray) -> np.ndarray:
    return x[..., 0] + 1j * x[..., 1]


def spectral_radius(m: np.ndarray) -> np.ndarray:
    return np.max(np.abs(np.linalg.eigvals(m)), axis=-1)


def test_bilinear_field_is_a_rotation() -> None:
    # cost_g = theta psi + a theta^2/2, cost_d = -theta psi + b psi^2/2:
    # F = -(psi + a theta, -theta + b psi), dF/dx = [[-a, -1], [1, -b]].
    x = np.random.default_rng(0).normal(size=(5, 2))
    ff = bilinear(0.3, -0.4)
    theta, psi = x[:, 0], x[:, 1]
    np.testing.assert_allclose(ff.field(x), np.stack([-psi - 0.3 * theta, theta + 0.4 * psi], 1))
    np.testing.assert_allclose(ff.jacobian(x), np.broadcast_to([[-0.3, -1], [1, 0.4]], (5, 2, 2)))


@pytest.mark.parametrize("h", [0.05, 0.3, 1.0])
def test_simgd_bilinear_spirals_out_by_sqrt_one_plus_h2(h: float) -> None:
    # z' = z + h i z = (1 + i h) z: the norm grows by exactly |1 + i h| = sqrt(1 + h^2).
    ff = bilinear()
    rule = make_rule("simgd", h, h)
    x = np.random.default_rng(1).normal(size=(4, 2))
    z0 = as_complex(x)
    for k in range(1, 31):
        x = rule.step(ff, x, {}, k).x
        np.testing.assert_allclose(as_complex(x), (1 + 1j * h) ** k * z0, rtol=1e-12)
    np.testing.assert_allclose(spectral_radius(rule.map_jacobian(ff, x, {}, 1)),
                               math.sqrt(1 + h * h), rtol=1e-13)


def altgd_invariant(x: np.ndarray, h_g: float, h_d: float, first: str) -> np.ndarray:
    """The quadratic invariant of alternating GD on the bilinear game.

    D first (psi' = psi + h_d theta, theta' = theta - h_g psi'):
    ``theta'^2/h_g + psi'^2/h_d + theta' psi' = theta' theta/h_g + psi'^2/h_d``
    (using ``theta'/h_g + psi' = theta/h_g``) ``= theta^2/h_g + psi'(psi'/h_d - theta)``
    ``= theta^2/h_g + psi^2/h_d + theta psi`` (using ``psi'/h_d - theta = psi/h_d``).
    G first, by the same two substitutions: ``theta^2/h_g + psi^2/h_d - theta psi``.
    Positive definite iff ``h_g h_d < 4``, so the iterates stay on an ellipse.
    """
    sign = 1.0 if first == "d" else -1.0
    theta, psi = x[..., 0], x[..., 1]
    return theta**2 / h_g + psi**2 / h_d + sign * theta * psi


@pytest.mark.parametrize("first", ["d", "g"])
@pytest.mark.parametrize(("h_g", "h_d"), [(0.1, 0.1), (0.9, 1.6), (1.9, 1.9), (0.3, 0.05)])
def test_altgd_bilinear_conserves_modified_energy(first: str, h_g: float, h_d: float) -> None:
    ff = bilinear()
    rule = make_rule("altgd", h_g, h_d, first=first)
    x = np.random.default_rng(2).normal(size=(4, 2))
    energy = altgd_invariant(x, h_g, h_d, first)
    q = np.array([[1 / h_g, 0.5], [0.5, 1 / h_d]])
    bound = np.sqrt(energy / np.linalg.eigvalsh(q)[0])  # |x| on the ellipse x^T Q x = E
    for k in range(1, 2001):
        x = rule.step(ff, x, {}, k).x
    np.testing.assert_allclose(altgd_invariant(x, h_g, h_d, first), energy, rtol=1e-10)
    assert np.all(np.linalg.norm(x, axis=-1) <= bound * (1 + 1e-9))


@pytest.mark.parametrize("h", [0.1, 0.5, 1.0, 1.9])
def test_altgd_bilinear_spectral_radius_is_one_below_two(h: float) -> None:
    # D first: theta' = (1 - h^2) theta - h psi, psi' = h theta + psi;
    # det = 1, trace = 2 - h^2 in (-2, 2): a conjugate pair on the unit circle.
    ff = bilinear()
    rule = make_rule("altgd", h, h)
    x = np.random.default_rng(3).normal(size=(3, 2))
    jac = rule.map_jacobian(ff, x, {}, 1)
    np.testing.assert_allclose(jac, np.broadcast_to([[1 - h * h, -h], [h, 1]], (3, 2, 2)),
                               atol=1e-15)
    np.testing.assert_allclose(spectral_radius(jac), 1.0, rtol=1e-12)


def test_altgd_bilinear_unstable_above_two() -> None:
    h = 2.5  # trace 2 - h^2 < -2: real eigenvalues, one outside the unit circle
    ff = bilinear()
    jac = make_rule("altgd", h, h).map_jacobian(ff, np.zeros((1, 2)), {}, 1)
    t = 2 - h * h
    assert spectral_radius(jac)[0] == pytest.approx((-t + math.sqrt(t * t - 4)) / 2, rel=1e-12)
    assert spectral_radius(jac)[0] > 1


@pytest.mark.parametrize("h", [0.05, 0.2, 0.5, 0.9])
def test_extragradient_bilinear_contracts(h: float) -> None:
    # M = I + hJ(I + hJ) with J^2 = -I: M = (1 - h^2) I + hJ, eigenvalues 1 - h^2 +- i h,
    # radius sqrt((1 - h^2)^2 + h^2) < 1 for 0 < h < 1 (Gidel et al. 2019, A Variational
    # Inequality Perspective on GANs, ICLR, Sec. 3.2; Mokhtari, Ozdaglar and Pattathil 2020,
    # A Unified Analysis of Extra-gradient and Optimistic Gradient Methods, AISTATS, Sec. 3).
    ff = bilinear()
    rule = make_rule("extragradient", h, h)
    x = np.random.default_rng(4).normal(size=(3, 2))
    jac = rule.map_jacobian(ff, x, {}, 1)
    eig = np.sort_complex(np.linalg.eigvals(jac[0]))
    np.testing.assert_allclose(eig, [1 - h * h - 1j * h, 1 - h * h + 1j * h], atol=1e-14)
    radius = math.sqrt((1 - h * h) ** 2 + h * h)
    assert radius < 1
    z0 = as_complex(x)
    for k in range(1, 201):
        x = rule.step(ff, x, {}, k).x
    np.testing.assert_allclose(as_complex(x), (1 - h * h + 1j * h) ** 200 * z0,
                               rtol=1e-11, atol=1e-300)
    np.testing.assert_allclose(np.abs(as_complex(x)), radius**200 * np.abs(z0), rtol=1e-11)


@pytest.mark.parametrize("h", [0.05, 0.2, 0.5])
def test_ogda_bilinear_converges(h: float) -> None:
    # z_{k+1} = z_k + 2 i h z_k - i h z_{k-1}: characteristic polynomial
    # lam^2 - (1 + 2 i h) lam + i h; the real 4x4 map has these roots and their conjugates
    # (Daskalakis et al. 2018, Training GANs with Optimism, ICLR; Mokhtari et al. 2020).
    ff = bilinear()
    rule = make_rule("ogda", h, h)
    rng = np.random.default_rng(5)
    x = rng.normal(size=(3, 2))
    roots = np.roots([1, -(1 + 2j * h), 1j * h])
    expected = np.sort_complex(np.concatenate([roots, roots.conj()]))
    jac = rule.map_jacobian(ff, x, {"previous": x}, 2)
    np.testing.assert_allclose(np.sort_complex(np.linalg.eigvals(jac[0])), expected, atol=1e-12)
    assert np.max(np.abs(roots)) < 1

    buffers = rule.init_buffers(x)
    z0 = z_prev = z = as_complex(x)  # the first step is a plain gradient step (x_prev = x0)
    for k in range(1, 2001):
        result = rule.step(ff, x, buffers, k)
        x, buffers = result.x, result.buffers
        z, z_prev = z + 2j * h * z - 1j * h * z_prev, z
        np.testing.assert_allclose(as_complex(x), z, rtol=1e-10, atol=1e-14)
    radius = np.max(np.abs(roots))
    assert np.all(np.abs(z) <= 10 * radius**2000 * np.abs(z0) + 1e-290)


@pytest.mark.parametrize("beta", [-0.9, -0.5, -0.1, 0.5])
@pytest.mark.parametrize("h", [0.1, 0.5])
def test_momentum_bilinear_simultaneous_diverges(beta: float, h: float) -> None:
    # x_{k+1} - x_k = beta (x_k - x_{k-1}) + h F(x_k): lam^2 - (1 + beta + i h) lam + beta.
    # Simultaneous heavy ball diverges on the bilinear game whatever the sign of beta
    # (Gidel et al. 2019, Negative Momentum for Improved Game Dynamics, AISTATS: negative
    # momentum helps only with alternating updates).
    ff = bilinear()
    rule = make_rule("momentum", h, h, beta=beta)
    x = np.random.default_rng(6).normal(size=(1, 2))
    jac = rule.map_jacobian(ff, x, {"velocity": np.zeros_like(x)}, 1)
    roots = np.roots([1, -(1 + beta + 1j * h), beta])
    expected = np.sort_complex(np.concatenate([roots, roots.conj()]))
    np.testing.assert_allclose(np.sort_complex(np.linalg.eigvals(jac[0])), expected, atol=1e-12)
    assert spectral_radius(jac)[0] > 1


def test_momentum_matches_pytorch_sgd_reference() -> None:
    # torch.optim.SGD docs (dampening 0, nesterov False): b_t = mu b_{t-1} + g_t (b_1 = g_1),
    # p_t = p_{t-1} - lr b_t; with gradients by hand on the quadratic game a = 1, b = 0.5.
    a, b, mu, lr_g, lr_d = 1.0, 0.5, -0.4, 0.05, 0.2
    ff = bilinear(a, b)
    rule = make_rule("momentum", lr_g, lr_d, beta=mu)
    starts = [(1.0, -0.5), (-2.0, 0.3)]
    x = np.array(starts)
    buffers = rule.init_buffers(x)
    for k in range(1, 51):
        result = rule.step(ff, x, buffers, k)
        x, buffers = result.x, result.buffers
    for row, (theta, psi) in zip(x, starts, strict=True):
        buf_t = buf_p = 0.0
        for t in range(1, 51):
            g_t, g_p = psi + a * theta, -theta + b * psi
            buf_t = g_t if t == 1 else mu * buf_t + g_t
            buf_p = g_p if t == 1 else mu * buf_p + g_p
            theta, psi = theta - lr_g * buf_t, psi - lr_d * buf_p
        np.testing.assert_allclose(row, [theta, psi], rtol=1e-12)


def torch_adam_reference(start: tuple[float, float], a: float, b: float, lr: tuple[float, float],
                         beta1: float, beta2: float, eps: float, steps: int) -> list[float]:
    """torch.optim.Adam's documented algorithm (amsgrad False, no weight decay), by hand.

    g_t = grad; m_t = b1 m + (1 - b1) g_t; v_t = b2 v + (1 - b2) g_t^2;
    m_hat = m_t / (1 - b1^t); v_hat = v_t / (1 - b2^t);
    p_t = p_{t-1} - lr m_hat / (sqrt(v_hat) + eps).
    Each player has its own optimizer (learning rate); both gradients at the same state.
    """
    p = list(start)
    m, v = [0.0, 0.0], [0.0, 0.0]
    for t in range(1, steps + 1):
        theta, psi = p
        grads = (psi + a * theta, -theta + b * psi)  # d cost_g/d theta, d cost_d/d psi
        for i, g in enumerate(grads):
            m[i] = beta1 * m[i] + (1 - beta1) * g
            v[i] = beta2 * v[i] + (1 - beta2) * g * g
            m_hat = m[i] / (1 - beta1**t)
            v_hat = v[i] / (1 - beta2**t)
            p[i] = p[i] - lr[i] * m_hat / (math.sqrt(v_hat) + eps)
    return p


@pytest.mark.parametrize(("beta1", "beta2", "eps"), [(0.9, 0.999, 1e-8), (0.5, 0.9, 1e-2),
                                                      (0.0, 0.99, 1e-8)])
def test_adam_matches_pytorch_reference(beta1: float, beta2: float, eps: float) -> None:
    a, b, lr_g, lr_d, steps = 1.0, 0.5, 0.01, 0.05, 50
    ff = bilinear(a, b)
    rule = make_rule("adam", lr_g, lr_d, beta1=beta1, beta2=beta2, eps=eps)
    starts = [(1.0, -0.5), (-2.0, 0.3), (0.2, 3.0)]
    x = np.array(starts)
    buffers = rule.init_buffers(x)
    for k in range(1, steps + 1):
        result = rule.step(ff, x, buffers, k)
        x, buffers = result.x, result.buffers
    for row, start in zip(x, starts, strict=True):
        expected = torch_adam_reference(start, a, b, (lr_g, lr_d), beta1, beta2, eps, steps)
        np.testing.assert_allclose(row, expected, rtol=1e-12, atol=1e-14)


def test_adam_first_step_moves_each_coordinate_by_its_rate() -> None:
    # Kingma and Ba (2015), Sec. 2.1: at t = 1, m_hat = g and v_hat = g^2, so the step is
    # lr * g / (|g| + eps), i.e. lr * sign(g) up to eps.
    ff = bilinear(1.0, 0.5)
    rule = make_rule("adam", 0.01, 0.05)
    x = np.array([[1.0, -0.5], [-2.0, 0.3]])
    xi = -ff.field(x)
    moved = rule.step(ff, x, rule.init_buffers(x), 1).x - x
    np.testing.assert_allclose(moved, -np.array([0.01, 0.05]) * np.sign(xi), rtol=1e-7)


# --- Dirac-GAN at its equilibrium (M18, Sec. 2.2) ---------------------------------------------

@pytest.mark.parametrize("h", [0.1, 0.5, 1.0])
def test_simgd_dirac_eigenvalues_mescheder_lemma_2_3(h: float) -> None:
    vf = vector_field("dirac", (("c", 0.0),))
    ff = functions_of(vf)
    rule = make_rule("simgd", h, h)
    jac = rule.map_jacobian(ff, np.zeros((1, 2)), {}, 1)
    eig = np.sort_complex(np.linalg.eigvals(jac[0]))
    np.testing.assert_allclose(eig, [1 - 0.5j * h, 1 + 0.5j * h], atol=1e-14)
    assert spectral_radius(jac)[0] == pytest.approx(math.sqrt(1 + h * h / 4), rel=1e-14)


@pytest.mark.parametrize(("h", "n_d", "n_g"), [(0.5, 1, 1), (1.0, 2, 1), (1.5, 3, 2),
                                               (3.0, 1, 1)])
def test_altgd_dirac_eigenvalues_mescheder_lemma_2_4(h: float, n_d: int, n_g: int) -> None:
    vf = vector_field("dirac", (("c", 0.0),))
    ff = functions_of(vf)
    rule = make_rule("altgd", h, h, d_steps=n_d, g_steps=n_g)
    jac = rule.map_jacobian(ff, np.zeros((1, 2)), {}, 1)
    alpha = math.sqrt(n_g * n_d) * h * 0.5
    centre = 1 - alpha**2 / 2
    root = np.sqrt(complex(centre**2 - 1))
    expected = np.sort_complex(np.array([centre - root, centre + root]))
    np.testing.assert_allclose(np.sort_complex(np.linalg.eigvals(jac[0])), expected, atol=1e-12)
    if alpha < 2:
        assert spectral_radius(jac)[0] == pytest.approx(1.0, rel=1e-12)
    else:
        assert spectral_radius(jac)[0] > 1


# --- symplectic gradient adjustment -------------------------------------------------------------

def sga_by_hand(x: np.ndarray, a: float, b: float, lam: float) -> np.ndarray:
    """``xi + lam A^T xi`` on the bilinear game (Balduzzi et al. 2018, Algorithm 1).

    ``xi = (psi + a theta, -theta + b psi)``, ``d xi/dx = [[a, 1], [-1, b]]``, so its
    antisymmetric part is ``A = [[0, 1], [-1, 0]]`` and ``A^T xi = (-xi_2, xi_1)
    = (theta - b psi, psi + a theta)``.
    """
    theta, psi = x[..., 0], x[..., 1]
    xi = np.stack([psi + a * theta, -theta + b * psi], axis=-1)
    at_xi = np.stack([theta - b * psi, psi + a * theta], axis=-1)
    return xi + lam * at_xi


@pytest.mark.parametrize(("a", "b", "lam"), [(0.0, 0.0, 1.0), (0.3, -0.4, 0.7), (-1.0, 2.0, 2.5)])
def test_sga_adjusted_field_and_step_by_hand(a: float, b: float, lam: float) -> None:
    ff = bilinear(a, b)
    rule = make_rule("sga", LR_G, LR_D, lam=lam)
    assert isinstance(rule, SymplecticGradientAdjustment)
    x = np.random.default_rng(7).normal(size=(5, 2))
    adjusted = sga_by_hand(x, a, b, lam)
    np.testing.assert_allclose(rule.adjusted_field(ff, x), -adjusted, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(rule.step(ff, x, {}, 1).x, x - np.array([LR_G, LR_D]) * adjusted,
                               rtol=1e-13)
    # d/dx of -(xi + lam A^T xi) = -([[a, 1], [-1, b]] + lam [[1, -b], [a, 1]])
    adj_jac = -(np.array([[a, 1.0], [-1.0, b]]) + lam * np.array([[1.0, -b], [a, 1.0]]))
    # dF/dx is constant on this game: its third derivatives vanish.
    ff = FieldFunctions(ff.field, ff.jacobian, ff.n_theta,
                        lambda xx: np.zeros((xx.shape[0], 2, 2, 2)))
    expected = central_differences(lambda z: stepped(rule, ff, z, 2, 1), x)
    np.testing.assert_allclose(rule.map_jacobian(ff, x, {}, 1), expected, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(rule.map_jacobian(ff, x, {}, 1),
                               np.broadcast_to(np.eye(2) + np.array([[LR_G], [LR_D]]) * adj_jac,
                                               (5, 2, 2)), rtol=1e-13)


def test_sga_adjusted_field_dirac_with_hand_derivatives() -> None:
    # Dirac-GAN, minimax, c = 0: F = (psi s, -theta s), s = sigmoid(psi theta); xi = -F and its
    # Jacobian by finite differences of this hand formula, independent of gandyn.
    def hand_field(x: np.ndarray) -> np.ndarray:
        s = 1 / (1 + np.exp(-x[..., 0] * x[..., 1]))
        return np.stack([x[..., 1] * s, -x[..., 0] * s], axis=-1)

    ff = functions_of(vector_field("dirac", (("c", 0.0),)))

    rule = make_rule("sga", 0.1, 0.1, lam=0.8)
    x = np.random.default_rng(8).normal(size=(6, 2))
    xi = -hand_field(x)
    jac_xi = -central_differences(hand_field, x, eps=1e-6)
    antisym = 0.5 * (jac_xi - np.swapaxes(jac_xi, -1, -2))
    expected = -(xi + 0.8 * np.einsum("bij,bi->bj", antisym, xi))  # (A^T xi)_j = A_ij xi_i
    np.testing.assert_allclose(rule.adjusted_field(ff, x), expected, rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize(("h", "lam"), [(0.1, 1.0), (0.3, 0.5)])
def test_sga_bilinear_converges(h: float, lam: float) -> None:
    # Adjusted flow on a = b = 0: -(xi + lam A^T xi) = (-psi - lam theta, theta - lam psi),
    # i.e. z' = (1 - h lam + i h) z: a contraction by sqrt((1 - h lam)^2 + h^2) per step
    # (Balduzzi et al. 2018, Sec. 3: SGA finds the equilibrium of Hamiltonian games).
    ff = bilinear()
    rule = make_rule("sga", h, h, lam=lam)
    x = np.random.default_rng(9).normal(size=(3, 2))
    z0 = as_complex(x)
    for k in range(1, 101):
        x = rule.step(ff, x, {}, k).x
    np.testing.assert_allclose(as_complex(x), (1 - h * lam + 1j * h) ** 100 * z0, rtol=1e-11)
    assert math.hypot(1 - h * lam, h) < 1


def test_sga_map_jacobian_needs_third_derivatives() -> None:
    ff = bilinear()
    rule = make_rule("sga", 0.1, 0.1)
    with pytest.raises(ValueError, match="third derivatives"):
        rule.map_jacobian(ff, np.zeros((1, 2)), {}, 1)


@pytest.mark.parametrize("game_key", ["dirac", "gaussian"])
def test_sga_map_jacobian_from_derived_third_derivatives(game_key: str) -> None:
    # With the game's third derivatives SGA's map Jacobian needs no help: it
    # must match central differences of the step.
    vf, ff = setup_game(game_key)
    full = FieldFunctions(ff.field, ff.jacobian, ff.n_theta, vf.jacobian_derivative_fn)
    rule = make_rule("sga", LR_G, LR_D, lam=0.7)
    rng = np.random.default_rng(11)
    x = random_states(game_key, rng, 4)
    n = x.shape[-1]
    expected = central_differences(lambda zz: stepped(rule, full, zz, n, 1), x)
    np.testing.assert_allclose(rule.map_jacobian(full, x, {}, 1), expected, rtol=1e-6, atol=1e-7)


# --- buffers and construction -------------------------------------------------------------------

def test_pack_unpack_round_trip() -> None:
    rng = np.random.default_rng(10)
    for name in RULES:
        rule = make_rule(name, LR_G, LR_D)
        x = random_states("gaussian", rng, 3)
        buffers = random_buffers(rule, x, rng)
        z = rule.pack(x, buffers)
        x2, buffers2 = rule.unpack(z, 5)
        np.testing.assert_array_equal(x2, x)
        assert buffers2.keys() == buffers.keys()
        for key, value in buffers.items():
            np.testing.assert_array_equal(buffers2[key], value)


def test_make_rule_unknown_name_suggests() -> None:
    with pytest.raises(UnknownNameError, match="did you mean 'adam'") as info:
        make_rule("adma", 0.1, 0.1)
    assert info.value.kind == "update rule"
    assert isinstance(info.value, KeyError)


@pytest.mark.parametrize(
    ("name", "lr_g", "lr_d", "settings_"),
    [
        ("momentum", 0.1, 0.1, {"beta": float("nan")}),
        ("altmomentum", 0.1, 0.1, {"beta": float("inf")}),
        ("simgd", 0.0, 0.1, {}),
        ("simgd", 0.1, -0.2, {}),
        ("simgd", float("nan"), 0.1, {}),
        ("simgd", 0.1, float("inf"), {}),
        ("altgd", 0.1, 0.1, {"d_steps": 0}),
        ("altgd", 0.1, 0.1, {"g_steps": 0}),
        ("altgd", 0.1, 0.1, {"first": "x"}),
        ("adam", 0.1, 0.1, {"beta1": 1.0}),
        ("adam", 0.1, 0.1, {"eps": 0.0}),
        ("simgd", 0.1, 0.1, {"beta": 0.5}),
        ("adam", 0.1, 0.1, {"momentum": 0.5}),
    ],
)
def test_make_rule_invalid_settings(name: str, lr_g: float, lr_d: float,
                                    settings_: dict[str, Any]) -> None:
    with pytest.raises(SpecError, match=f"optimizer '{name}'"):
        make_rule(name, lr_g, lr_d, **settings_)


# --- alternating momentum ---------------------------------------------------------------------

def _linear_map_by_steps(rule: UpdateRule, ff: FieldFunctions, n: int) -> np.ndarray:
    """The matrix of a rule that is linear in z (bilinear game), from its step on unit vectors."""
    m = n * (1 + len(rule.buffer_names))
    columns = []
    for j in range(m):
        z = np.zeros((1, m))
        z[0, j] = 1.0
        columns.append(stepped(rule, ff, z, n, 1)[0])
    return np.array(columns).T


def test_altmomentum_without_momentum_is_altgd() -> None:
    _, ff = setup_game("gaussian")
    rng = np.random.default_rng(3)
    x0 = random_states("gaussian", rng, 4)
    for first in ("d", "g"):
        heavy = make_rule("altmomentum", LR_G, LR_D, beta=0.0, first=first)
        plain = make_rule("altgd", LR_G, LR_D, first=first)
        x, buffers = x0, heavy.init_buffers(x0)
        y = x0
        for k in range(1, 21):
            result = heavy.step(ff, x, buffers, k)
            x, buffers = result.x, result.buffers
            y = plain.step(ff, y, {}, k).x
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("h", [0.2, 0.5, 1.0])
@pytest.mark.parametrize("first", ["d", "g"])
def test_altmomentum_bilinear_converges_exactly_for_negative_beta_above_h_over_2_minus_1(
        h: float, first: str) -> None:
    # Gidel et al. (2019), Sec. 3: on the bilinear game alternating steps with negative
    # momentum converge, while simultaneous momentum of any beta diverges. The linear map's
    # spectral radius is below 1 exactly for -1 + h/2 < beta < 0 (1 at beta = 0: altgd's
    # closed orbits). The matrix is built from the step on unit vectors, not map_jacobian.
    ff = bilinear()
    edge = -1.0 + h / 2.0

    def radius(beta: float) -> float:
        rule = make_rule("altmomentum", h, h, beta=beta, first=first)
        matrix = _linear_map_by_steps(rule, ff, 2)
        rho = float(np.max(np.abs(np.linalg.eigvals(matrix))))
        jac = rule.map_jacobian(ff, np.zeros((1, 2)), rule.init_buffers(np.zeros((1, 2))), 1)[0]
        np.testing.assert_allclose(jac, matrix, atol=1e-12)
        return rho

    for beta in (edge + 0.02, 0.5 * edge, -0.02):
        assert radius(beta) < 1.0 - 1e-6, beta
    for beta in (edge - 0.02, 0.02, 0.5):
        assert radius(beta) > 1.0 + 1e-6, beta
    assert radius(0.0) == pytest.approx(1.0, abs=1e-12)
    for beta in (-0.9, -0.5, -0.1, 0.5):
        simultaneous = make_rule("momentum", h, h, beta=beta)
        assert np.max(np.abs(np.linalg.eigvals(_linear_map_by_steps(simultaneous, ff, 2)))) > 1.0


@pytest.mark.parametrize("name", ["momentum", "altmomentum"])
@pytest.mark.parametrize("beta", [1.5, -1.0, 0.6, -0.4])
def test_momentum_beyond_the_unit_interval_warns_and_its_map_has_determinant_beta_to_the_n(
        name: str, beta: float) -> None:
    # The heavy ball's map on (x, v) has determinant beta**n (n parameters):
    # det [[I + hJ, beta h I], [J, beta I]] = beta**n det(I + hJ - hJ) for simultaneous steps,
    # and each alternating half step alike. For |beta| >= 1 no fixed point can be stable.
    from gandyn.derivation.field import derive
    from gandyn.errors import GandynWarning
    from gandyn.games.game import make_game
    from gandyn.rules.base import FieldFunctions

    if abs(beta) >= 1:
        with pytest.warns(GandynWarning, match=r"beta outside \(-1, 1\)"):
            rule = make_rule(name, 0.3, 0.2, beta=beta)
    else:
        rule = make_rule(name, 0.3, 0.2, beta=beta)
    field = FieldFunctions.of(derive(make_game("dirac", "non-saturating", [("r1", {})])))
    x = np.array([[0.4, -0.7]])
    buffers = {"velocity": np.array([[0.2, 0.1]])}
    det = np.linalg.det(rule.map_jacobian(field, x, buffers, 3)[0])
    assert det == pytest.approx(beta**2, rel=1e-10)
