"""Simulation: flows against closed-form orbits and conserved quantities, rules against
closed-form iterations, divergence bookkeeping, logging as a training loop does.

Closed forms used below (bilinear game, ``F = (-psi - a theta, theta - b psi)``):

* ``a = b = 0``: ``dx/dt = F`` is a rotation, ``x(t) = R(t) x0`` with
  ``R(t) = [[cos t, -sin t], [sin t, cos t]]``;
* ``a = b = r``: ``x(t) = exp(-r t) R(t) x0``;
* rates ``(r_g, r_d)`` with ``a = b = 0``: ``w = sqrt(r_g r_d)``,
  ``theta(t) = theta0 cos wt - (r_g/w) psi0 sin wt``,
  ``psi(t) = psi0 cos wt + (r_d/w) theta0 sin wt``;
* simultaneous GD with step ``h``: ``z_k = (1 + i h)^k z0`` for ``z = theta + i psi``.

Dirac-GAN, minimax, ``c = 0`` (Mescheder et al. 2018, ICML, Sec. 2.2):
``F = (psi s, -theta s)`` with ``s = sigmoid(psi theta)``, so
``d/dt (theta^2 + psi^2) = 2 s (theta psi - psi theta) = 0``.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import pytest
from scipy.special import expit

from gandyn.derivation.field import VectorField, derive
from gandyn.dynamics.discrete import simulate_rule
from gandyn.dynamics.flow import simulate_flow
from gandyn.dynamics.trajectory import Trajectory
from gandyn.games.game import make_game
from gandyn.rules import FieldFunctions, make_rule


@functools.cache
def vector_field(game: str, params: tuple[tuple[str, float], ...] = (),
                 options: tuple[tuple[str, int], ...] = (), loss: str | None = None) -> VectorField:
    return derive(make_game(game, loss, options=dict(options) or None,
                            params=dict(params) or None))


def functions_of(vf: VectorField) -> FieldFunctions:
    return FieldFunctions(vf.field_fn, vf.jacobian_fn, len(vf.game.theta))


def names(vf: VectorField) -> dict[str, tuple[str, ...]]:
    return {"state_names": tuple(s.name for s in vf.game.state_symbols),
            "logged_names": vf.logged_names}


def flow(vf: VectorField, x0: np.ndarray, **kwargs: Any) -> Trajectory:
    return simulate_flow(vf.field_fn, vf.jacobian_fn, vf.logged_fn, x0, **names(vf), **kwargs)


def rotation(t: np.ndarray, x0: np.ndarray) -> np.ndarray:
    """``R(t) x0`` for every time: ``(n_t, 2)``."""
    c, s = np.cos(t), np.sin(t)
    return np.stack([c * x0[0] - s * x0[1], s * x0[0] + c * x0[1]], axis=-1)


# --- flows --------------------------------------------------------------------------------------

def test_flow_dirac_conserves_radius() -> None:
    vf = vector_field("dirac", (("c", 0.0),))
    x0 = np.random.default_rng(0).normal(size=(4, 2))
    traj = flow(vf, x0, t_end=20.0, n_eval=101, rtol=1e-10, atol=1e-12)
    assert traj.x.shape == (4, 101, 2)
    assert traj.logged.shape == (4, 101, len(vf.logged_names))
    radius = np.sum(traj.x**2, axis=-1)
    np.testing.assert_allclose(radius, np.repeat(np.sum(x0**2, axis=-1)[:, None], 101, 1),
                               rtol=1e-7)
    assert not traj.diverged.any() and np.isnan(traj.diverged_at).all()
    # the runs really move: the orbit is not a fixed point
    assert np.all(np.ptp(traj.coordinate("theta"), axis=1) > 0.1 * np.sqrt(radius[:, 0]))
    # d_fake = softplus(l) with the fake logit l = psi * theta, recomputed by hand
    logit = traj.coordinate("psi") * traj.coordinate("theta")
    np.testing.assert_allclose(traj.loss("d_fake"), np.logaddexp(0.0, logit), rtol=1e-12)
    np.testing.assert_allclose(traj.loss("d_gz"), expit(logit), rtol=1e-12)


def test_flow_bilinear_is_an_exact_rotation() -> None:
    vf = vector_field("bilinear", (("a", 0.0), ("b", 0.0)))
    x0 = np.array([[1.0, 0.0], [0.3, -2.0], [-1.5, 0.7]])
    traj = flow(vf, x0, t_end=3 * math.pi, n_eval=61, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(traj.t, np.linspace(0, 3 * math.pi, 61))
    for run in range(3):
        np.testing.assert_allclose(traj.x[run], rotation(traj.t, x0[run]), atol=1e-8)


@pytest.mark.parametrize("method", ["RK45", "Radau"])
def test_flow_bilinear_damped_decays_like_exp(method: str) -> None:
    vf = vector_field("bilinear", (("a", 1.0), ("b", 1.0)))
    x0 = np.array([[2.0, -1.0], [0.0, 0.5]])
    traj = flow(vf, x0, t_end=5.0, n_eval=51, method=method, rtol=1e-10, atol=1e-12)
    for run in range(2):
        expected = np.exp(-traj.t)[:, None] * rotation(traj.t, x0[run])
        np.testing.assert_allclose(traj.x[run], expected, atol=1e-7)
    norms = np.linalg.norm(traj.x, axis=-1)
    np.testing.assert_allclose(norms, np.outer(np.linalg.norm(x0, axis=-1), np.exp(-traj.t)),
                               rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("method", ["RK45", "Radau"])
def test_flow_two_time_scales(method: str) -> None:
    vf = vector_field("bilinear", (("a", 0.0), ("b", 0.0)))
    r_g, r_d = 0.25, 4.0
    w = math.sqrt(r_g * r_d)
    x0 = np.array([[1.0, 0.5], [-0.2, 1.3]])
    traj = flow(vf, x0, t_end=6.0, n_eval=31, rates=np.array([r_g, r_d]), method=method,
                rtol=1e-10, atol=1e-12)
    t = traj.t
    for run, (th0, ps0) in enumerate(x0):
        theta = th0 * np.cos(w * t) - (r_g / w) * ps0 * np.sin(w * t)
        psi = ps0 * np.cos(w * t) + (r_d / w) * th0 * np.sin(w * t)
        np.testing.assert_allclose(traj.x[run], np.stack([theta, psi], -1), atol=1e-7)
    # the invariant theta^2/r_g + psi^2/r_d of the two-time-scale rotation
    energy = traj.x[..., 0] ** 2 / r_g + traj.x[..., 1] ** 2 / r_d
    np.testing.assert_allclose(energy, np.repeat(energy[:, :1], len(t), 1), rtol=1e-7)
    assert traj.method["rates"] == [r_g, r_d]


@pytest.mark.parametrize(("game", "params", "options", "loss"), [
    ("dirac", (("c", 1.0),), (), "non-saturating"),
    ("gaussian", (("mu", 0.5), ("sigma", 0.8)), (("order", 4),), "minimax"),
])
def test_flow_rk45_and_radau_agree(game: str, params: Any, options: Any, loss: str) -> None:
    vf = vector_field(game, params, options, loss)
    rng = np.random.default_rng(1)
    n = len(vf.game.state_symbols)
    x0 = rng.normal(scale=0.5, size=(3, n))
    if game == "gaussian":
        x0[:, 1] = 1.0 + 0.2 * x0[:, 1]
    kwargs: dict[str, Any] = {"t_end": 4.0, "n_eval": 21, "rtol": 1e-10, "atol": 1e-12}
    explicit = flow(vf, x0, method="RK45", **kwargs)
    implicit = flow(vf, x0, method="Radau", **kwargs)
    np.testing.assert_allclose(explicit.x, implicit.x, atol=1e-7)
    np.testing.assert_allclose(explicit.logged, implicit.logged, atol=1e-7)
    assert implicit.method["method"] == "Radau" and implicit.method["solver_success"]


def test_flow_divergence_is_a_result() -> None:
    # a = b = -1: x(t) = exp(t) R(t) x0. From (1, 0) max|x_i| = e^t max(|cos t|, |sin t|)
    # first exceeds 10 near t = 2.514; the small run stays small.
    vf = vector_field("bilinear", (("a", -1.0), ("b", -1.0)))
    x0 = np.array([[1.0, 0.0], [1e-3, 0.0]])
    max_norm = 10.0
    traj = flow(vf, x0, t_end=4.0, n_eval=81, max_norm=max_norm, rtol=1e-10, atol=1e-12)
    fine = np.linspace(0.0, 4.0, 400_001)
    crossing = fine[np.argmax(np.exp(fine) * np.maximum(abs(np.cos(fine)), abs(np.sin(fine)))
                             > max_norm)]
    assert traj.diverged.tolist() == [True, False]
    # the exit time itself (bisection on the solver's dense output), not the next grid time
    assert traj.diverged_at[0] == pytest.approx(crossing, abs=2e-5)
    assert np.isnan(traj.diverged_at[1])
    # frozen on the boundary, not carried to exp(4)
    assert np.max(np.abs(traj.x[0, -1])) == pytest.approx(max_norm, rel=1e-6)
    expected = np.exp(traj.t)[:, None] * rotation(traj.t, x0[1])
    np.testing.assert_allclose(traj.x[1], expected, rtol=1e-7, atol=1e-12)
    assert "1 of 2 runs diverged" in traj.message


def test_flow_jacobian_given_to_implicit_solver_is_that_of_the_rhs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Radau converges even with a wrong Newton matrix, so check the matrix itself: the
    # Jacobian handed to solve_ivp must be the derivative of the right-hand side handed with
    # it (central differences), rates included, for the whole batch as one system.
    import scipy.integrate

    captured: dict[str, Any] = {}
    original = scipy.integrate.Radau

    def spy(fun: Any, t0: float, y0: Any, t_bound: float, **kwargs: Any) -> Any:
        captured.update(fun=fun, jac=kwargs.get("jac"))
        return original(fun, t0, y0, t_bound, **kwargs)

    monkeypatch.setattr(scipy.integrate, "Radau", spy)
    vf = vector_field("gaussian", (("mu", 0.5),), (("order", 4),))
    x0 = np.random.default_rng(3).normal(scale=0.5, size=(2, 5))
    x0[:, 1] = 1.0
    rates = np.array([0.5, 0.7, 2.0, 3.0, 1.5])
    flow(vf, x0, t_end=0.1, n_eval=3, rates=rates, method="Radau")
    assert captured["jac"] is not None
    y = x0.ravel() + 0.1
    eps = 1e-6
    expected = np.stack([(captured["fun"](0.0, y + eps * e) - captured["fun"](0.0, y - eps * e))
                         / (2 * eps) for e in np.eye(y.size)], axis=-1)
    np.testing.assert_allclose(captured["jac"](0.0, y).toarray(), expected, rtol=1e-6,
                               atol=1e-7)


def test_flow_rejects_bad_times() -> None:
    vf = vector_field("bilinear")
    with pytest.raises(ValueError):
        flow(vf, np.zeros((1, 2)), t_end=0.0)
    with pytest.raises(ValueError):
        flow(vf, np.zeros((1, 2)), t_end=1.0, n_eval=1)


# --- discrete rules -----------------------------------------------------------------------------

def run_rule(vf: VectorField, name: str, x0: np.ndarray, steps: int, lr_g: float, lr_d: float,
             settings: dict[str, Any] | None = None, **kwargs: Any) -> Trajectory:
    rule = make_rule(name, lr_g, lr_d, **(settings or {}))
    return simulate_rule(rule, functions_of(vf), vf.logged_fn, x0, steps, **names(vf), **kwargs)


def test_simulate_rule_shapes_every_and_closed_form() -> None:
    vf = vector_field("bilinear", (("a", 0.0), ("b", 0.0)))
    h = 0.2
    x0 = np.array([[1.0, 0.5], [-0.3, 0.2], [0.0, 1.0]])
    traj = run_rule(vf, "simgd", x0, 10, h, h, every=3)
    np.testing.assert_array_equal(traj.step, [0, 3, 6, 9, 10])
    np.testing.assert_allclose(traj.t, h * traj.step)
    assert traj.x.shape == (3, 5, 2) and traj.logged.shape == (3, 5, 3)
    assert traj.n_runs == 3 and traj.logged_names == ("d_real", "d_fake", "g_loss")
    z = (1 + 1j * h) ** traj.step[None, :] * (x0[:, 0] + 1j * x0[:, 1])[:, None]
    np.testing.assert_allclose(traj.coordinate("theta"), z.real, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(traj.coordinate("psi"), z.imag, rtol=1e-13, atol=1e-15)
    # logged at the recorded state: cost_d = -theta psi, cost_g = theta psi (a = b = 0)
    np.testing.assert_allclose(traj.loss("g_loss"), z.real * z.imag, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(traj.loss("d_fake"), -z.real * z.imag, rtol=1e-12, atol=1e-15)
    assert not traj.diverged.any() and traj.method["optimizer"] == "simgd"
    assert traj.measure == "state"

    exact = run_rule(vf, "simgd", x0, 9, h, h, every=3)  # the last step is on the grid
    np.testing.assert_array_equal(exact.step, [0, 3, 6, 9])
    zero = run_rule(vf, "simgd", x0, 0, h, h)
    np.testing.assert_array_equal(zero.step, [0])
    np.testing.assert_array_equal(zero.x[:, 0], x0)


def bilinear_simgd_orbit(z0: complex, h: float, steps: int) -> list[complex]:
    return [(1 + 1j * h) ** k * z0 for k in range(steps + 1)]


def first_exit(orbit: list[complex], max_norm: float) -> int | None:
    for k, z in enumerate(orbit):
        if max(abs(z.real), abs(z.imag)) > max_norm:
            return k
    return None


def test_simulate_rule_divergence_freezes_and_records_the_step() -> None:
    # simgd on a = b = 0 with h = 1: z_k = (1 + i)^k z0, |z| grows by sqrt(2) per step.
    vf = vector_field("bilinear", (("a", 0.0), ("b", 0.0)))
    h, steps, max_norm = 1.0, 20, 50.0
    x0 = np.array([[3.0, 4.0], [1e-3, 2e-3], [0.5, -0.2]])
    orbits = [bilinear_simgd_orbit(complex(*row), h, steps) for row in x0]
    exits = [first_exit(o, max_norm) for o in orbits]
    assert exits[0] is not None and exits[2] is not None and exits[1] is None
    assert exits[0] < exits[2]

    traj = run_rule(vf, "simgd", x0, steps, h, h, max_norm=max_norm)  # must not raise
    assert traj.diverged.tolist() == [True, False, True]
    assert traj.diverged_at[0] == exits[0] and traj.diverged_at[2] == exits[2]
    assert np.isnan(traj.diverged_at[1])
    for run, (orbit, exit_step) in enumerate(zip(orbits, exits, strict=True)):
        for k in range(steps + 1):
            z = orbit[k] if exit_step is None or k < exit_step else orbit[exit_step - 1]
            np.testing.assert_allclose(traj.x[run, k], [z.real, z.imag], rtol=1e-12)
            theta, psi = z.real, z.imag
            np.testing.assert_allclose(traj.logged[run, k], [0.0, -theta * psi, theta * psi],
                                       rtol=1e-12, atol=1e-15)
    assert np.max(np.abs(traj.x)) <= max_norm
    assert "2 of 3 runs diverged" in traj.message


@pytest.mark.parametrize("every", [1, 3, 5])
def test_simulate_rule_all_diverged_keeps_logged_consistent(every: int) -> None:
    # When every run has diverged the loop stops early; the remaining rows must repeat the
    # frozen state and the losses at that state, as they do while other runs go on.
    vf = vector_field("bilinear", (("a", 0.0), ("b", 0.0)))
    h, steps, max_norm = 1.0, 20, 50.0
    x0 = np.array([[3.0, 4.0]])
    orbit = bilinear_simgd_orbit(complex(3.0, 4.0), h, steps)
    exit_step = first_exit(orbit, max_norm)
    assert exit_step is not None
    traj = run_rule(vf, "simgd", x0, steps, h, h, max_norm=max_norm, every=every)
    assert traj.diverged_at[0] == exit_step
    for slot, k in enumerate(traj.step.astype(int)):
        z = orbit[k] if k < exit_step else orbit[exit_step - 1]
        np.testing.assert_allclose(traj.x[0, slot], [z.real, z.imag], rtol=1e-12)
        np.testing.assert_allclose(traj.logged[0, slot], vf.logged_fn(traj.x[0, slot]),
                                   rtol=1e-12)
    # the same run inside a batch with a run that does not diverge
    batch = run_rule(vf, "simgd", np.array([[3.0, 4.0], [1e-3, 0.0]]), steps, h, h,
                     max_norm=max_norm, every=every)
    np.testing.assert_allclose(batch.x[0], traj.x[0], rtol=1e-14)
    np.testing.assert_allclose(batch.logged[0], traj.logged[0], rtol=1e-14)


def test_simulate_rule_non_finite_state_diverges() -> None:
    # x' = x + 10 x^2 from x = 1 overflows to inf after a few steps (python floats by hand).
    game = FieldFunctions(lambda x: 10.0 * x * x, lambda x: (20.0 * x)[..., None], 1)
    rule = make_rule("simgd", 1.0, 1.0)
    value, k = 1.0, 0
    while math.isfinite(value):
        value, k = value + 10.0 * value * value, k + 1
    traj = simulate_rule(rule, game, lambda x: x.copy(), np.array([[1.0]]), 30, max_norm=np.inf,
                         state_names=("theta",), logged_names=("g_loss",))
    assert traj.diverged[0] and traj.diverged_at[0] == k
    assert np.all(np.isfinite(traj.x))


def test_measure_loop_altgd_logs_what_each_player_saw() -> None:
    # Dirac-GAN minimax with data at c: cost_d = softplus(-c psi) + softplus(theta psi),
    # cost_g = -softplus(theta psi). D first: psi1 = psi0 + lr_d (c sigmoid(-c psi0)
    # - theta0 sigmoid(theta0 psi0)); then theta1 = theta0 + lr_g psi1 sigmoid(theta0 psi1).
    c, lr_g, lr_d = 0.8, 0.2, 0.5
    vf = vector_field("dirac", (("c", c),))
    x0 = np.array([[0.7, -0.4], [-1.2, 0.9]])
    loop = run_rule(vf, "altgd", x0, 2, lr_g, lr_d, measure="loop")
    state = run_rule(vf, "altgd", x0, 2, lr_g, lr_d, measure="state")
    assert loop.measure == "loop"
    np.testing.assert_allclose(loop.x, state.x, rtol=0, atol=0)
    names_ = vf.logged_names
    g_col = names_.index("g_loss")
    d_cols = [i for i, name in enumerate(names_) if name != "g_loss"]

    x = x0.copy()
    for k in (1, 2):
        theta0, psi0 = x[:, 0], x[:, 1]
        psi1 = psi0 + lr_d * (c * expit(-c * psi0) - theta0 * expit(theta0 * psi0))
        after_d = np.stack([theta0, psi1], axis=-1)
        theta1 = theta0 + lr_g * psi1 * expit(theta0 * psi1)
        x_next = np.stack([theta1, psi1], axis=-1)
        np.testing.assert_allclose(loop.x[:, k], x_next, rtol=1e-13)
        expected_d = vf.logged_fn(x)[:, d_cols]
        np.testing.assert_allclose(loop.logged[:, k, d_cols], expected_d, rtol=1e-13)
        np.testing.assert_allclose(loop.loss("d_fake")[:, k],
                                   np.logaddexp(0, theta0 * psi0), rtol=1e-13)
        np.testing.assert_allclose(loop.loss("d_real")[:, k],
                                   np.logaddexp(0, -c * psi0), rtol=1e-13)
        np.testing.assert_allclose(loop.logged[:, k, g_col], vf.logged_fn(after_d)[:, g_col],
                                   rtol=1e-13)
        np.testing.assert_allclose(loop.loss("g_loss")[:, k],
                                   -np.logaddexp(0, theta0 * psi1), rtol=1e-13)
        np.testing.assert_allclose(state.logged[:, k], vf.logged_fn(x_next), rtol=1e-13)
        x = x_next
    # step 0 is logged at the initial state in both modes
    np.testing.assert_allclose(loop.logged[:, 0], vf.logged_fn(x0), rtol=1e-14)


@pytest.mark.parametrize(("game", "params", "options", "name", "settings", "kwargs"), [
    ("gaussian", (("mu", 0.5),), (("order", 4),), "adam", {}, {"measure": "loop"}),
    ("dirac", (("c", 0.6),), (), "altgd", {"d_steps": 2, "first": "g"},
     {"measure": "loop", "every": 4}),
    ("dirac", (("c", 0.6),), (), "momentum", {"beta": -0.3}, {"every": 3}),
    ("bilinear", (("a", 0.0), ("b", 0.0)), (), "ogda", {}, {"every": 3, "max_norm": 20.0}),
    ("bilinear", (("a", 0.0), ("b", 0.0)), (), "simgd", {}, {"every": 4, "max_norm": 20.0}),
])
def test_batch_equals_runs_one_at_a_time(game: str, params: Any, options: Any, name: str,
                                         settings: dict[str, Any],
                                         kwargs: dict[str, Any]) -> None:
    vf = vector_field(game, params, options)
    rng = np.random.default_rng(2)
    n = len(vf.game.state_symbols)
    x0 = rng.normal(size=(4, n))
    if game == "gaussian":
        x0[:, 1] = 1.0 + 0.2 * x0[:, 1]
    if game == "bilinear":
        x0[0] = [8.0, 6.0]  # diverges under lr 0.6 while the others stay below 20
        x0[1:] *= 0.02
    lr_g, lr_d = (0.6, 0.6) if game == "bilinear" else (0.1, 0.15)
    batch = run_rule(vf, name, x0, 30, lr_g, lr_d, settings, **kwargs)
    if game == "bilinear":
        assert batch.diverged.tolist() == [True, False, False, False]
    for run in range(4):
        single = run_rule(vf, name, x0[run : run + 1], 30, lr_g, lr_d, settings, **kwargs)
        np.testing.assert_allclose(batch.x[run], single.x[0], rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(batch.logged[run], single.logged[0], rtol=1e-13, atol=1e-15)
        assert batch.diverged[run] == single.diverged[0]
        np.testing.assert_array_equal(batch.diverged_at[run], single.diverged_at[0])
        np.testing.assert_array_equal(batch.step, single.step)


def test_project_is_applied_after_every_step() -> None:
    # Weight clipping to [-1, 1] on the expanding simgd spiral, iterated by hand.
    vf = vector_field("bilinear", (("a", 0.0), ("b", 0.0)))
    h = 0.5
    x0 = np.array([[0.9, 0.3], [-0.2, 0.1]])
    traj = run_rule(vf, "simgd", x0, 30, h, h, project=lambda x: np.clip(x, -1.0, 1.0))
    step = np.array([[1.0, -h], [h, 1.0]])  # x' = (I + h J) x with J = [[0, -1], [1, 0]]
    x = x0.copy()
    for k in range(1, 31):
        x = np.clip(x @ step.T, -1.0, 1.0)
        np.testing.assert_allclose(traj.x[:, k], x, rtol=1e-13, atol=1e-15)
    assert np.max(np.abs(traj.x)) <= 1.0
    assert np.any(np.abs(traj.x) == 1.0)  # the clip was active
    assert not traj.diverged.any()


def test_simulate_rule_rejects_bad_arguments() -> None:
    vf = vector_field("bilinear")
    for x0, steps, every in [(np.zeros((1, 2)), -1, 1), (np.zeros((1, 2)), 3, 0),
                             (np.zeros(2), 3, 1)]:
        with pytest.raises(ValueError):
            run_rule(vf, "simgd", x0, steps, 0.1, 0.1, every=every)


# --- per-run rates, the record's repr ----------------------------------------------------------

@pytest.mark.parametrize(("name", "settings"), [("simgd", {}), ("altgd", {"first": "g"}),
                                                ("momentum", {"beta": -0.3}), ("adam", {}),
                                                ("ogda", {}), ("extragradient", {})])
def test_per_run_rates_give_the_trajectories_of_separate_scalar_runs(
        name: str, settings: dict[str, Any]) -> None:
    # One batch whose runs each have their own rates against one simulation per run; the
    # large rates make some runs diverge at different steps, so the freezing is compared too.
    vf = vector_field("dirac", (("c", 0.3),), loss="non-saturating")
    x0 = np.array([[0.5, -0.2], [1.0, 1.0], [-0.3, 0.8], [2.0, -1.0]])
    lr_g = np.array([0.1, 0.7, 3.0, 40.0])
    lr_d = np.array([0.3, 0.05, 3.0, 60.0])
    batched = simulate_rule(make_rule(name, lr_g, lr_d, **settings), functions_of(vf),
                            vf.logged_fn, x0, 60, every=7, max_norm=20.0, measure="loop",
                            **names(vf))
    assert batched.t.shape == (4, len(batched.step))
    assert batched.method["lr_g"] == lr_g.tolist()
    for b in range(4):
        single = run_rule(vf, name, x0[b:b + 1], 60, float(lr_g[b]), float(lr_d[b]), settings,
                          every=7, max_norm=20.0, measure="loop")
        np.testing.assert_array_equal(batched.x[b], single.x[0])
        np.testing.assert_array_equal(batched.logged[b], single.logged[0])
        np.testing.assert_array_equal(batched.t[b], single.t)
        assert batched.diverged[b] == single.diverged[0]
        np.testing.assert_array_equal(batched.diverged_at[b], single.diverged_at[0])


def test_a_start_outside_the_ball_diverges_at_step_zero() -> None:
    vf = vector_field("bilinear", (("a", 0.0), ("b", 0.0)))
    traj = run_rule(vf, "simgd", np.array([[100.0, 0.0], [0.1, 0.0]]), 5, 0.1, 0.1,
                    max_norm=50.0)
    assert traj.diverged.tolist() == [True, False]
    assert traj.diverged_at[0] == 0
    np.testing.assert_array_equal(traj.x[0], np.broadcast_to([100.0, 0.0], (6, 2)))


def test_trajectory_repr_is_short() -> None:
    vf = vector_field("bilinear", (("a", 0.0), ("b", 0.0)))
    x0 = np.random.default_rng(0).normal(size=(500, 2))
    traj = run_rule(vf, "simgd", x0, 2000, 1.0, 1.0, max_norm=1e3)
    text = repr(traj)
    assert len(text) < 200 and "\n" not in text
    assert text == ("Trajectory(500 runs x 2001 records, method='simgd', measure='state', "
                    f"state=(theta, psi), logged=(d_real, d_fake, g_loss), "
                    f"diverged={int(traj.diverged.sum())} of 500)")
    assert str(traj) == text
