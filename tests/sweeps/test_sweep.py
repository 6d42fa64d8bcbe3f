"""The sweep engine (gandyn.sweeps): axes, per-cell rates and hyper-parameters, the linear
prediction against closed forms, verdicts against it away from the boundary, determinism,
workers and resume.

References for the closed forms:

* Dirac-GAN with R1 (Mescheder, Geiger and Nowozin 2018, Sec. 2.2 and 4.1; gandyn's real-logit
  convention, minimax loss, data at ``c``): at the equilibrium ``(c, 0)`` the flow's Jacobian is
  ``J = [[0, 1/2], [-1/2, -(gamma + c^2/2)]]`` (``sigma(0) = 1/2``, ``sigma'(0) = 1/4``; the data
  term ``c sigma(-c psi)`` and ``-theta sigma(theta psi)`` each add ``-c^2/4`` to ``dF_psi/dpsi``).
  Simultaneous steps ``x' = x + diag(h_g, h_d) F(x)`` have the map Jacobian ``I + diag(h_g, h_d) J``
  (Mescheder, Nowozin and Geiger 2017, Sec. 3).
* Bilinear game ``cost_g = theta psi = -cost_d``: ``F = (-psi, theta)``, so with
  ``z = theta + i psi`` simultaneous steps are ``z' = (1 + i h) z``:
  ``|z_K| = |z_0| (1 + h^2)^(K/2)`` and the spectral radius is ``sqrt(1 + h^2) > 1`` for
  every ``h`` (Gidel et al. 2019, Sec. 3).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gandyn.derivation.field import derive
from gandyn.dynamics.discrete import simulate_rule
from gandyn.equilibria import map_stability
from gandyn.errors import GandynError, SpecError
from gandyn.games.game import make_game
from gandyn.rules import FieldFunctions, make_rule
from gandyn.runs.spec import RegularizerSpec
from gandyn.sweeps import (
    VERDICTS,
    AxisSpec,
    SweepPlan,
    SweepResult,
    SweepSpec,
    merge_sweep,
    prepare_chunk_dir,
    run_sweep,
)
from gandyn.sweeps import make_plan as plan_of
from gandyn.symbolic.option_text import parse_axis, parse_named_values


def make_plan(**given: Any) -> SweepPlan:
    """The plan of the command line's values: option text parsed as ``gandyn sweep`` does."""
    values = dict(given)
    if "regularizers" in values:
        parsed = [parse_named_values(text, "--reg") for text in values["regularizers"]]
        values["regularizers"] = [RegularizerSpec(name, tuple(settings.items()))
                                  for name, settings in parsed]
    if "axes" in values:
        values["axes"] = [AxisSpec(*parse_axis(text)) for text in values["axes"]]
    if "start" in values:
        values["starts"] = [values.pop("start")]
    return plan_of(merge_sweep(SweepSpec(), **values))


def rho_2x2(trace: np.ndarray, det: np.ndarray) -> np.ndarray:
    """Largest modulus of the roots of ``l^2 - trace l + det``."""
    disc = trace.astype(complex) ** 2 - 4 * det
    roots = np.stack([(trace + np.sqrt(disc)) / 2, (trace - np.sqrt(disc)) / 2])
    return np.abs(roots).max(axis=0)


def dirac_rho(h_g: np.ndarray, h_d: np.ndarray, gamma: np.ndarray, c: float = 0.0) -> np.ndarray:
    g = gamma + c * c / 2
    # I + diag(h_g, h_d) [[0, 1/2], [-1/2, -g]] = [[1, h_g/2], [-h_d/2, 1 - h_d g]]
    return rho_2x2(2 - h_d * g, (1 - h_d * g) + h_g * h_d / 4)


def same(a: SweepResult, b: SweepResult) -> None:
    np.testing.assert_array_equal(a.verdict, b.verdict)
    for key in a.measures:
        np.testing.assert_array_equal(a.measures[key], b.measures[key], err_msg=key)
    for key in a.axis_values:
        np.testing.assert_array_equal(a.axis_values[key], b.axis_values[key])


# --- axes ---------------------------------------------------------------------------------------


def test_parse_axis_linear_and_log() -> None:
    assert parse_axis("lr_d=0.01:1:50:log") == ("lr_d", 0.01, 1.0, 50, True)
    assert parse_axis("gamma=0:2:41") == ("gamma", 0.0, 2.0, 41, False)
    assert parse_axis("theta=-1/2:1/2:3:lin") == ("theta", -0.5, 0.5, 3, False)
    plan = make_plan(regularizers=["r1"], axes=["lr=0.01:1:3:log", "gamma=0:2:5"], steps=10)
    np.testing.assert_allclose(plan.axes[0].values, [0.01, 0.1, 1.0], rtol=1e-15)
    np.testing.assert_allclose(plan.axes[1].values, [0, 0.5, 1, 1.5, 2])
    assert plan.axes[1].target == "gamma_r1" and plan.axes[1].kind == "param"
    assert plan.shape == (3, 5) and plan.n_cells == 15


@pytest.mark.parametrize("text, message", [
    ("lr=1:0.5:10", "empty range"),
    ("lr=0.1:1:0", "empty range"),
    ("gamma=-1:1:5:log", "log axis cannot reach or cross zero"),
    ("gamma=0:1:5:log", "log axis cannot reach or cross zero"),
    ("lr=0.1:1", "not of the form"),
    ("lr=0.1:1:5:cubic", "spacing must be log or lin"),
])
def test_bad_axes(text: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        parse_axis(text)


def test_axis_names_are_checked_against_the_game() -> None:
    with pytest.raises(GandynError, match="unknown `axis` name 'gama'"):
        make_plan(regularizers=["r1"], axes=["gama=0:1:3"])
    with pytest.raises(SpecError, match="does not take 'beta'"):
        make_plan(axes=["beta=0:0.5:3"])
    with pytest.raises(SpecError, match="learning rates must be positive"):
        make_plan(axes=["lr=-1:1:3"])
    with pytest.raises(SpecError, match="already set"):
        make_plan(axes=["lr=0.1:1:3", "lr_d=0.1:1:3"])
    with pytest.raises(SpecError, match="whole numbers"):
        make_plan(optimizer="altgd", axes=["d_steps=1:2:3"])


# --- the linear prediction against closed forms --------------------------------------------------


def test_dirac_r1_spectral_radius_closed_form() -> None:
    # gamma = 1 (a double, defective eigenvalue, computed only to ~sqrt(eps)) is not on the grid.
    plan = make_plan(regularizers=["r1"], axes=["lr=0.01:3:9:log", "gamma=0:2:6"], steps=4)
    result = run_sweep(plan)
    h, gamma = result.axis_values["lr"], result.axis_values["gamma"]
    np.testing.assert_allclose(result.measures["spectral_radius"], dirac_rho(h, h, gamma),
                               rtol=1e-12)


def test_two_time_scales_and_data_location_closed_form() -> None:
    # lr_g and lr_d on their own axes; c moves the equilibrium to (c, 0), found per cell.
    plan = make_plan(regularizers=["r1:gamma=0.2"],
                     axes=["lr_g=0.05:1:4:log", "lr_d=0.05:2:5:log", "c=-1:1:3"], steps=4)
    result = run_sweep(plan)
    v = result.axis_values
    expected = dirac_rho(v["lr_g"], v["lr_d"], np.full_like(v["c"], 0.2), c=v["c"])
    np.testing.assert_allclose(result.measures["spectral_radius"], expected, rtol=1e-10)


def test_settings_axes_match_map_stability() -> None:
    # Rule settings vary by group; each cell's radius equals the scalar analysis of that cell.
    vf = derive(make_game("dirac", None, [('r1', {'gamma': 0.5})]))
    game = FieldFunctions.of(vf)
    momentum = run_sweep(make_plan(regularizers=["r1:gamma=0.5"], optimizer="momentum",
                                   axes=["beta=-0.5:0.5:3", "lr=0.1:0.5:2"], steps=4))
    altgd = run_sweep(make_plan(regularizers=["r1:gamma=0.5"], optimizer="altgd",
                                axes=["d_steps=1:3:3", "lr=0.1:0.5:2"], steps=4))
    for result, key in ((momentum, "beta"), (altgd, "d_steps")):
        for value, lr, rho in zip(result.axis_values[key], result.axis_values["lr"],
                                  result.measures["spectral_radius"], strict=True):
            setting = int(value) if key == "d_steps" else float(value)
            rule = make_rule(result.plan.optimizer, lr, lr, **{key: setting})
            assert rho == pytest.approx(map_stability(rule, game, np.zeros(2)).spectral_radius,
                                        rel=1e-12)


def test_bilinear_always_diverges_with_the_closed_form_growth() -> None:
    # Over a third of the default window (66 steps) |z| grows by (1 + h^2)^33 >= 1.086 for
    # h >= 0.05: above 1 + growth (1.05), so even the slowest cell is seen diverging.
    steps = 400
    plan = make_plan(game="bilinear", axes=["lr=0.05:0.5:12:log"], steps=steps)
    result = run_sweep(plan)
    h = result.axis_values["lr"]
    np.testing.assert_allclose(result.measures["spectral_radius"], np.sqrt(1 + h * h),
                               rtol=1e-14)
    assert set(result.verdict_names) == {"diverged"}
    # Runs that stayed in the max-norm ball: |z_K| = |z_0| (1 + h^2)^(K/2) from (1, 1).
    inside = np.sqrt(2) * (1 + h * h) ** (steps / 2) < 1e6
    assert inside.sum() >= 6
    np.testing.assert_allclose(result.measures["distance"][inside],
                               np.sqrt(2) * (1 + h[inside] ** 2) ** (steps / 2), rtol=1e-9)
    assert result.agreement() == (12, 12)


# --- simulated verdicts ---------------------------------------------------------------------------


def test_verdicts_agree_with_linear_prediction_away_from_the_boundary() -> None:
    # Start near the equilibrium, where the linearization governs: every cell whose radius is
    # clearly below 1 converges, every one clearly above does not.
    plan = make_plan(regularizers=["r1"], start={"theta": 0.05, "psi": 0.05},
                     axes=["lr=0.05:3:25:log", "gamma=0:2:21"], steps=2000)
    result = run_sweep(plan)
    rho = result.measures["spectral_radius"]
    converged = result.verdict == 0
    below, above = rho < 0.99, rho > 1.01
    assert below.sum() > 200 and above.sum() > 50
    assert converged[below].all()
    assert not converged[above].any()


def test_cells_match_independent_simulations() -> None:
    # Each cell equals gandyn.dynamics.discrete.simulate_rule on the game with that cell's values.
    steps = 300
    plan = make_plan(regularizers=["r1"], loss="non-saturating",
                     axes=["lr_d=0.05:0.8:3:log", "gamma=0.1:1:3", "theta=-1:1:2"],
                     steps=steps, window=100, chunk_size=7)
    result = run_sweep(plan)
    for cell in range(plan.n_cells):
        v = {k: float(a[cell]) for k, a in result.axis_values.items()}
        vf = derive(make_game("dirac", "non-saturating", ['r1'], params={"gamma_r1": v["gamma"]}))
        rule = make_rule("simgd", 0.1, v["lr_d"])
        x0 = np.array([[v["theta"], 1.0]])
        traj = simulate_rule(rule, FieldFunctions.of(vf), vf.logged_fn, x0, steps,
                             state_names=("theta", "psi"), logged_names=vf.logged_names)
        final = traj.x[0, -1]
        assert result.measures["distance"][cell] == pytest.approx(np.hypot(*final), rel=1e-12)
        last_third = steps - 100 + 1 + (2 * 100) // 3  # of the final window of 100 steps
        window = traj.loss("g_loss")[0, last_third:]
        assert result.measures["g_loss_amplitude"][cell] == pytest.approx(
            0.5 * (window.max() - window.min()), rel=1e-9, abs=1e-15)
        d_fake = traj.loss("d_fake")[0, last_third:]
        assert result.measures["d_fake_amplitude"][cell] == pytest.approx(
            0.5 * (d_fake.max() - d_fake.min()), rel=1e-9, abs=1e-15)
        radius = map_stability(rule, FieldFunctions.of(vf), np.zeros(2)).spectral_radius
        assert result.measures["spectral_radius"][cell] == pytest.approx(radius, rel=1e-12)


def test_cells_among_diverging_ones_match_independent_simulations() -> None:
    # simgd on the minimax Dirac-GAN spirals out at |1 + i h / 2| per step (Mescheder, Nowozin
    # and Geiger 2018, Sec. 3): with a small ball, the large rates leave it mid-run, the step
    # loop drops them from its work, and the others' measures must not notice.
    steps, window, bound = 240, 90, 3.0
    plan = make_plan(axes=["lr=0.02:1.5:5:log", "theta=-1.5:1.5:6"], steps=steps,
                     window=window, max_norm=bound, chunk_size=30)
    result = run_sweep(plan)
    left = result.verdict_names == "diverged"
    assert left.sum() >= 8 and (~left).sum() >= 8
    vf = derive(make_game("dirac", "minimax", []))
    last_third = steps - window + 1 + (2 * window) // 3
    for cell in range(plan.n_cells):
        lr, theta = float(result.axis_values["lr"][cell]), float(result.axis_values["theta"][cell])
        traj = simulate_rule(make_rule("simgd", lr, lr), FieldFunctions.of(vf), vf.logged_fn,
                             np.array([[theta, 1.0]]), steps, max_norm=bound,
                             state_names=("theta", "psi"), logged_names=vf.logged_names)
        assert result.measures["distance"][cell] == pytest.approx(np.hypot(*traj.x[0, -1]),
                                                                  rel=1e-15)
        if traj.diverged[0]:
            assert left[cell] and result.measures["decided_at"][cell] == traj.diverged_at[0]
            assert math.isnan(result.measures["g_loss_amplitude"][cell])
            continue
        assert not left[cell]
        for name in ("g_loss", "d_fake"):
            seen = traj.loss(name)[0, last_third:]
            assert result.measures[f"{name}_amplitude"][cell] == pytest.approx(
                0.5 * (seen.max() - seen.min()), rel=1e-12, abs=1e-15)


def test_spectral_radius_solved_once_per_run_of_equal_matrices() -> None:
    from gandyn.sweeps.chunk import _radius_of_distinct

    rng = np.random.default_rng(3)
    distinct = rng.normal(size=(9, 3, 3))
    jac = np.concatenate([np.repeat(distinct[:4], 5, axis=0), distinct[4:], distinct[:2],
                          -0.0 * distinct[:1], 0.0 * distinct[:1]])
    expected = [np.max(np.abs(np.linalg.eigvals(m))) for m in jac]  # each cell alone
    np.testing.assert_array_equal(_radius_of_distinct(jac), expected)
    np.testing.assert_array_equal(_radius_of_distinct(jac[:1]), expected[:1])


def test_decided_at_and_divergence_step() -> None:
    # simgd on the bilinear game from (1, 1): |z_k| = sqrt(2) (1 + h^2)^(k/2) first exceeds
    # max_norm (an inf-norm bound, |theta| or |psi|) at a step we can compute from the orbit.
    h, bound = 0.5, 50.0
    plan = make_plan(game="bilinear", axes=[f"lr={h}:1:2"], steps=100, max_norm=bound)
    result = run_sweep(plan)
    z = (1 + 1j) * (1 + 1j * h) ** np.arange(101)
    first = int(np.argmax(np.maximum(abs(z.real), abs(z.imag)) > bound))
    assert result.verdict_names[0] == "diverged"
    assert result.measures["decided_at"][0] == first
    # frozen at the last good state, losses not measured
    assert result.measures["distance"][0] == pytest.approx(abs(z[first - 1]), rel=1e-12)
    assert math.isnan(result.measures["g_loss_amplitude"][0])
    # Dirac + R1 converging from (1, 1): decided when it enters the tolerance ball for good.
    conv = run_sweep(make_plan(regularizers=["r1:gamma=1"], axes=["lr=0.5:1:2"], steps=400,
                               tol=1e-6))
    assert conv.verdict_names[0] == "converged"
    k = int(conv.measures["decided_at"][0])
    vf = derive(make_game("dirac", None, [('r1', {'gamma': 1.0})]))
    traj = simulate_rule(make_rule("simgd", 0.5, 0.5), FieldFunctions.of(vf),
                         vf.logged_fn, np.ones((1, 2)), 400, state_names=("theta", "psi"),
                         logged_names=vf.logged_names)
    dist = np.hypot(traj.x[0, :, 0], traj.x[0, :, 1])
    assert dist[k] < 1e-6 <= dist[k - 1] and (dist[k:] < 1e-6).all()


def test_line_of_equilibria_has_no_linear_prediction() -> None:
    # Least squares on the Dirac-GAN: every (theta, 0) is stationary; distance is |psi|.
    result = run_sweep(make_plan(loss="least-squares", axes=["lr=0.1:0.5:2"], steps=200))
    assert result.plan.equilibrium == (("psi", 0.0),)
    assert np.isnan(result.measures["spectral_radius"]).all()
    assert result.agreement() == (0, 0)
    vf = derive(make_game("dirac", "least-squares", []))
    for lr, distance in zip(result.axis_values["lr"], result.measures["distance"], strict=True):
        traj = simulate_rule(make_rule("simgd", lr, lr), FieldFunctions.of(vf), vf.logged_fn,
                             np.ones((1, 2)), 200, state_names=("theta", "psi"),
                             logged_names=vf.logged_names)
        assert distance == pytest.approx(abs(traj.x[0, -1, 1]), rel=1e-12)


# --- determinism, workers, resume ---------------------------------------------------------------


def _plan(**extra: object) -> object:
    options: dict[str, object] = {"steps": 200, "chunk_size": 7, **extra}
    return make_plan(regularizers=["r1"], axes=["lr=0.05:2:6:log", "gamma=0:1:5"],
                     **options)  # type: ignore[arg-type]


def test_deterministic_and_independent_of_chunking() -> None:
    plan = _plan()
    first = run_sweep(plan)  # type: ignore[arg-type]
    same(first, run_sweep(plan))  # type: ignore[arg-type]
    same(first, run_sweep(_plan(chunk_size=30)))  # type: ignore[arg-type]
    assert set(first.verdict_names) <= set(VERDICTS)


def test_two_workers_equal_one() -> None:
    plan = _plan()
    same(run_sweep(plan), run_sweep(plan, workers=2))  # type: ignore[arg-type]


class InterruptError(Exception):
    pass


def test_interrupted_sweep_resumes(tmp_path: Path) -> None:
    plan = _plan()
    reference = run_sweep(plan)  # type: ignore[arg-type]
    folder = tmp_path / "map.csv.chunks"
    prepare_chunk_dir(folder, plan, resume=False, force=False)  # type: ignore[arg-type]

    def stop_after_two(done: int, total: int) -> None:
        if done == 2:
            raise InterruptError

    with pytest.raises(InterruptError):
        run_sweep(plan, chunk_dir=folder, progress=stop_after_two)  # type: ignore[arg-type]
    assert len(list(folder.glob("chunk-*.npz"))) == 2
    with pytest.raises(SpecError, match="`resume` completes it"):
        prepare_chunk_dir(folder, plan, resume=False, force=False)  # type: ignore[arg-type]
    other = _plan(steps=201)
    with pytest.raises(SpecError, match="another sweep"):
        prepare_chunk_dir(folder, other, resume=True, force=False)  # type: ignore[arg-type]
    prepare_chunk_dir(folder, plan, resume=True, force=False)  # type: ignore[arg-type]
    calls: list[int] = []
    resumed = run_sweep(plan, chunk_dir=folder,  # type: ignore[arg-type]
                        progress=lambda done, total: calls.append(done))
    assert resumed.execution["chunks_reused"] == 2
    assert calls[0] == 2 and calls[-1] == plan.n_chunks  # type: ignore[attr-defined]
    same(reference, resumed)


# --- the batched building blocks ----------------------------------------------------------------


def test_fast_softplus_matches_logaddexp() -> None:
    from gandyn.arrays import fast_softplus

    x = np.concatenate([np.linspace(-1000, 1000, 20001), [0.0, -0.0, 1e-300, -745.2, 709.8]])
    np.testing.assert_allclose(fast_softplus(x), np.logaddexp(0.0, x), rtol=4e-16, atol=0)
    assert np.isfinite(fast_softplus(np.array([1000.0, -1000.0]))).all()


def test_per_run_hyper_parameters_and_rates_match_scalar_calls() -> None:
    # NumericFunction binds an array of values (one per run); every rule steps and linearizes
    # with per-run rates exactly as a rule built with that run's scalar rates.
    from gandyn.sweeps.chunk import _field_functions

    vf = derive(make_game("dirac", "non-saturating", ['r1']))
    rng = np.random.default_rng(3)
    x = rng.normal(size=(5, 2))
    gamma = np.array([0.0, 0.3, 1.0, 2.0, 5.0])
    lr = np.array([[0.1, 0.2], [0.05, 0.5], [0.3, 0.3], [1.0, 0.01], [0.2, 0.7]])
    batched = vf.field_fn(x, {"gamma_r1": gamma})
    batched_jac = vf.jacobian_fn(x, {"gamma_r1": gamma})
    settings = {"altgd": {"d_steps": 2}, "momentum": {"beta": -0.3}, "adam": {},
                "ogda": {}, "extragradient": {}, "sga": {"lam": 0.5}, "simgd": {}}
    batched_game = _field_functions(vf, {"gamma_r1": gamma})
    rules = {name: make_rule(name, lr[:, 0], lr[:, 1], **s) for name, s in settings.items()}
    for b in range(5):
        one = {"gamma_r1": float(gamma[b])}
        np.testing.assert_array_equal(batched[b], vf.field_fn(x[b:b + 1], one)[0])
        np.testing.assert_array_equal(batched_jac[b], vf.jacobian_fn(x[b:b + 1], one)[0])
        single = FieldFunctions.of(derive(make_game("dirac", "non-saturating", ['r1'], params=one)))
        for name, rule in rules.items():
            scalar = make_rule(name, lr[b, 0], lr[b, 1], **settings[name])
            buffers = rule.init_buffers(x)
            buffers = {k: v + 0.1 for k, v in buffers.items()}  # away from the start values
            step = rule.step(batched_game, x, buffers, 3)
            ref = scalar.step(single, x[b:b + 1], {k: v[b:b + 1] for k, v in buffers.items()}, 3)
            np.testing.assert_allclose(step.x[b], ref.x[0], rtol=1e-14, err_msg=name)
            jac = rule.map_jacobian(batched_game, x, buffers, 3)[b]
            ref_jac = scalar.map_jacobian(single, x[b:b + 1], {k: v[b:b + 1] for k, v in
                                                       buffers.items()}, 3)[0]
            np.testing.assert_allclose(jac, ref_jac, rtol=1e-12, atol=1e-15, err_msg=name)


def test_equilibrium_and_start_options() -> None:
    # A given equilibrium replaces the closed form; a start far from it is far from converged.
    plan = make_plan(regularizers=["r1:gamma=1"], start={"theta": 0.5}, steps=300,
                     axes=["lr=0.5:1:2"], equilibrium={"theta": 0.0, "psi": 0.0})
    assert dict(plan.start) == {"theta": 0.5, "psi": 1.0}
    assert plan.equilibrium_source == "given"
    assert run_sweep(plan).verdict_names.tolist() == ["converged", "converged"]
    # F(3, 0) = (0, -3 sigmoid(0)) = (0, -3/2): not stationary, refused
    with pytest.raises(SpecError, match=r"does not vanish there \(max \|F\| = 1.5\)"):
        make_plan(regularizers=["r1:gamma=1"], axes=["lr=0.5:1:2"],
                  equilibrium={"theta": 3.0, "psi": 0.0})
    with pytest.raises(GandynError, match="unknown state symbol 'phi'"):
        make_plan(axes=["lr=0.1:1:2"], equilibrium={"phi": 0.0})


def test_altgd_bilinear_is_marginal_below_two() -> None:
    # Alternating steps on the bilinear game (Bailey, Gidel and Piliouras 2020, COLT; Gidel et al.
    # 2019, Sec. 3): the map Jacobian [[1 - h^2, -h], [h, 1]] has determinant 1 and trace
    # t = 2 - h^2, so its eigenvalues lie on the unit circle for h <= 2 (bounded orbits) and its
    # radius is |t|/2 + sqrt(t^2/4 - 1) > 1 beyond. The linear test cannot decide on the circle:
    # those cells are "marginal" and not compared with the simulated verdict.
    plan = make_plan(game="bilinear", optimizer="altgd", axes=["lr=0.1:3:8"], steps=300)
    result = run_sweep(plan)
    h = result.axis_values["lr"]
    t = 2 - h * h
    inside = h < 2
    expected = np.where(inside, 1.0, np.abs(t) / 2 + np.sqrt(np.maximum(t * t / 4 - 1, 0)))
    np.testing.assert_allclose(result.measures["spectral_radius"], expected, rtol=1e-12)
    assert result.linear.tolist() == np.where(inside, "marginal", "unstable").tolist()
    # bounded orbits are neither shrinking nor growing; beyond h = 2 they grow
    assert set(result.verdict_names[inside]) == {"cycling"}
    assert set(result.verdict_names[~inside]) == {"diverged"}
    assert result.agreement() == (int((~inside).sum()), int((~inside).sum()))
    assert result.summary()["marginal_linear"] == int(inside.sum())
