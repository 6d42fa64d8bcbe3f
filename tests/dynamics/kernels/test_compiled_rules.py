"""The compiled steps of omd, unrolled, proximal, lola and sos, and weight clipping in the loop.

The numpy path (:func:`gandyn.dynamics.discrete.simulate_rule` with
``backend='numpy'``, the rules of :mod:`gandyn.rules`) is the reference. omd,
LOLA, SOS and weight clipping repeat its operations in order: equal bit for
bit. The unrolled GAN's sensitivities (numpy's ``@`` and ``einsum``) and the
proximal step's Newton solves (LAPACK's ``solve`` against the kernel's own LU
factorization) are the same mathematics rounded differently: equal to 1e-12
relative. Two checks do not lean on the numpy path: ``unroll=0`` is
simultaneous gradient descent (Metz et al. 2017, Sec. 2.2, ``k = 0``), and the
proximal step contracts the bilinear game's rotation by exactly
``1 / sqrt(1 + h^2)`` per step (Mokhtari, Ozdaglar and Pattathil 2020, Sec. 3).

Every kernel compiled here is shared by the tests of the module (numba's
cost is the compilation, about five seconds a kernel); the Gaussian game's
kernels, several times larger, are in the slow set.
"""

from __future__ import annotations

import ast
import re
from typing import Any

import numpy as np
import pytest

pytest.importorskip("numba")

from kernel_comparison import assert_same_trajectory as _assert_same
from kernel_comparison import run_with_backend as _run

from gandyn.derivation.field import derive
from gandyn.dynamics.kernels import simulate
from gandyn.dynamics.kernels.steps import STEP_WRITERS, step_code
from gandyn.dynamics.projection import WeightClip
from gandyn.errors import SpecError
from gandyn.games.game import make_game
from gandyn.rules import FieldFunctions, make_rule
from gandyn.rules.unrolled import UnrolledGAN

#: The rules this module covers, with settings that exercise their branches.
CASES: dict[str, dict[str, Any]] = {
    "omd": {},
    "unrolled": {"unroll": 3},
    "unrolled:rate": {"unroll": 2, "unroll_lr": 0.2},
    "proximal": {},
    "lola": {},
    "lola:rate": {"lola_eta": 0.15},
    # b = 1: the shaping fades (p2 = |xi|^2 < 1) near the equilibrium; a discriminator
    # ten times faster than the generator makes <-alpha chi, xi_0> negative (p1 < 1) at
    # two of the starts (in a zero-sum game with one rate it is |alpha chi|^2 >= 0)
    "sos": {"sos_a": 0.3, "sos_b": 1.0},
}
#: The discriminator's rate per case (the generator's rates are per run).
LR_D: dict[str, float] = {"sos": 1.0}
#: Rules whose compiled step rounds differently from numpy's reductions or solves.
ROUNDED = ("unrolled", "proximal")


def _dirac_starts() -> np.ndarray:
    rng = np.random.default_rng(1)
    x0 = rng.normal(scale=0.6, size=(24, 2))
    x0[0] = (30.0, 10.0)  # logit psi * theta = 300: the stable forms must stay finite
    x0[1] = (3.0, 4.0)  # leaves the small ball below within a few steps under every rule
    x0[2] = (np.nan, 0.0)  # diverged at step 0
    x0[3:5] = ((0.9, 1.5), (1.0, 2.6))  # SOS's p1 < 1 there (see CASES)
    return x0


@pytest.fixture(scope="module")
def dirac() -> Any:
    # the command line's default game (dirac, minimax): its kernels serve the CLI test too
    return derive(make_game("dirac", "minimax", params={"c": 0.7}))


def _rule(case: str, rates: Any) -> Any:
    return make_rule(case.partition(":")[0], rates, LR_D.get(case, 0.3), **CASES[case])


@pytest.mark.parametrize("case", list(CASES))
def test_rule_repeats_the_numpy_path_on_the_dirac_gan(dirac: Any, case: str) -> None:
    # per-run rates; every step recorded, then the final step only; losses as a training
    # loop logs them (at the states each player's gradient saw); runs diverging
    x0 = _dirac_starts()
    rule = _rule(case, np.linspace(0.05, 0.5, len(x0)))
    rtol = 1e-12 if rule.name in ROUNDED else 0.0
    for every in (1, 17):
        options = {"every": every, "max_norm": 20.0, "measure": "loop"}
        expected = _run(dirac, rule, x0, 17, "numpy", **options)
        got = _run(dirac, rule, x0, 17, "compiled", **options)
        assert got.method["backend"] == "compiled"
        assert got.diverged[2] and got.diverged_at[2] == 0
        assert expected.diverged.sum() >= 2, "the test should see runs diverge"
        assert np.isfinite(got.logged[0]).all()
        _assert_same(expected, got, rtol)


def test_sos_case_reaches_both_of_its_shaping_weights(dirac: Any) -> None:
    # the comparison above is only as good as the branches it passes through: along the
    # numpy trajectories SOS's p1 < 1 (the shaping would undo LookAhead) and p2 = |xi|^2
    # (near the equilibrium) must both decide the weight somewhere
    x0 = _dirac_starts()
    rule = _rule("sos", np.linspace(0.05, 0.5, len(x0)))
    traj = _run(dirac, rule, x0, 17, "numpy", every=1, max_norm=20.0)
    on_p1 = on_p2 = 0
    for k in range(17):  # the states steps 1..17 started from, of the runs still going
        p1, p2, _, _ = rule._parts(rule._terms(FieldFunctions.of(dirac), traj.x[:, k],
                                               derivatives=False))
        going = ~(traj.diverged_at <= k)
        on_p1 += int(np.sum((p1 < 1) & (p1 < p2) & going))
        on_p2 += int(np.sum((p2 < 1) & (p2 < p1) & going))
    assert on_p1 >= 1 and on_p2 >= 1, (on_p1, on_p2)


def test_unrolling_no_step_is_simultaneous_gradient_descent(dirac: Any) -> None:
    # Metz et al. (2017), Sec. 2.2: with k = 0 the generator's surrogate is its own cost
    x0 = _dirac_starts()
    rates = np.linspace(0.05, 0.5, len(x0))
    options = {"every": 1, "max_norm": 20.0, "measure": "loop"}
    unrolled = _run(dirac, make_rule("unrolled", rates, 0.3, unroll=0), x0, 17, "compiled",
                    **options)
    plain = _run(dirac, make_rule("simgd", rates, 0.3), x0, 17, "numpy", **options)
    assert unrolled.method["backend"] == "compiled"
    assert np.array_equal(unrolled.x, plain.x, equal_nan=True)
    assert np.array_equal(unrolled.diverged_at, plain.diverged_at, equal_nan=True)


@pytest.mark.slow  # a kernel of its own game
def test_proximal_step_contracts_the_bilinear_rotation(bilinear_field: Any) -> None:
    # F = (-psi, theta): the implicit step solves (I - h A) x' = x, |x'| = |x| / sqrt(1 + h^2)
    rng = np.random.default_rng(4)
    x0 = rng.normal(size=(8, 2))
    rates = np.linspace(0.1, 0.8, 8)
    traj = _run(bilinear_field, make_rule("proximal", rates, rates), x0, 12, "compiled")
    assert traj.method["backend"] == "compiled"
    radius = np.linalg.norm(traj.x, axis=-1)
    expected = np.linalg.norm(x0, axis=-1)[:, None] * (1 + rates[:, None] ** 2) ** (
        -traj.step / 2)
    np.testing.assert_allclose(radius, expected, rtol=1e-12)


def test_weight_clipping_runs_in_the_loop(dirac: Any) -> None:
    # clipped after every step as numpy's step loop projects, before the max-norm check
    x0 = _dirac_starts()
    rule = make_rule("omd", np.linspace(0.05, 0.5, len(x0)), 0.3)
    clip = WeightClip(0.5, 1)
    options = {"every": 1, "max_norm": 20.0, "measure": "loop", "project": clip}
    expected = _run(dirac, rule, x0, 17, "numpy", **options)
    got = _run(dirac, rule, x0, 17, "compiled", **options)
    assert got.method["backend"] == "compiled"
    _assert_same(expected, got)
    psi = got.x[~got.diverged][:, 1:, 1]
    assert (np.abs(psi) <= 0.5).all() and (np.abs(psi) == 0.5).any()
    # a projection the loop does not know, or clipping of another split, stays on numpy
    for other in (lambda x: np.clip(x, -1, 1), WeightClip(0.5, 0)):
        fallen = _run(dirac, rule, x0, 3, "auto", project=other)
        assert fallen.method["backend"] == "numpy"
        assert "weight clipping" in fallen.method["backend_reason"]
        with pytest.raises(SpecError, match="weight clipping"):
            _run(dirac, rule, x0, 3, "compiled", project=other)


def test_cli_clip_runs_compiled(invoke: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
                                ) -> None:
    import json

    monkeypatch.setenv("GANDYN_BACKEND", "auto")
    written = {}
    for backend in ("compiled", "numpy"):
        target = tmp_path / f"{backend}.json"
        code, _, err = invoke("--backend", backend, "simulate", "--optimizer", "omd",
                              "--lr", "0.3", "--clip", "0.4", "--steps", "40", "--every", "3",
                              "--measure", "loop", "--out", str(target))
        assert code == 0, err
        written[backend] = json.loads(target.read_text())
    assert written["compiled"]["meta"]["method"]["backend"] == "compiled"
    assert np.array_equal(np.array(written["compiled"]["x"]), np.array(written["numpy"]["x"]))
    assert written["compiled"]["logged"] == written["numpy"]["logged"]
    assert np.abs(np.array(written["numpy"]["x"])[:, 1:, 1]).max() == 0.4  # clipped


def test_a_rule_that_changes_what_the_step_calls_stays_on_numpy(
        dirac: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    class Halved(UnrolledGAN):  # another rule under the same name: its step is not compiled
        def generator_gradient(self, field: Any, x: Any) -> Any:
            return 0.5 * super().generator_gradient(field, x)

    monkeypatch.setattr(simulate, "AUTO_MIN_RUN_STEPS", 1)
    traj = _run(dirac, Halved(0.1, 0.1), _dirac_starts(), 3, "auto")
    assert traj.method["backend"] == "numpy"
    assert "no compiled step" in traj.method["backend_reason"]


#: Names the generated runner and sweep loop use (``p{j}`` hyper-parameters, ``t{j}`` a
#: sweep's target, ``h{i}`` the rates...): a step that assigned one would change them.
_RUNNER_NAMES = re.compile(r"^((p|t|h|x|lo|hi|pk)\d+|b\d+_\d+|r|k|dead|slot|nxt|L|M|d2|now|"
                           r"inside|changed|c1|c2|X|BUF|HG|HD|PAR|cfg|C1S|C2S|XS|LS|DIV|"
                           r"DIV_AT|TARGET|INSIDE|CHANGED|PEAK|LOW|HIGH|max_norm|steps|every|"
                           r"k_first|k_last|tol2|first_window|third1|third2|one)$")


@pytest.mark.parametrize("name", sorted(STEP_WRITERS))
def test_steps_assign_none_of_the_runners_names(name: str) -> None:
    # the step writes its own names, the new state n{i}, buffers nb{j}_{i} and seen states
    for n, n_theta in ((2, 1), (5, 2)):
        step = step_code(make_rule(name, 0.1, 0.1), n, n_theta, clip=True)
        tree = ast.parse("\n".join(["def f():", *("    " + line for line in
                                                   (*step.start, *step.lines, *step.accept))]))
        stored = {node.id for node in ast.walk(tree)
                  if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
        clashes = {s for s in stored if _RUNNER_NAMES.match(s)}
        if name == "adam":
            clashes -= {"c1", "c2"}  # the runner loads them for Adam, which only reads them
        assert not clashes, clashes


# -- sweeps ------------------------------------------------------------------------------------

def _plan(optimizer: str, axes: list[str], **given: Any) -> Any:
    from gandyn.runs.spec import RegularizerSpec
    from gandyn.sweeps import AxisSpec, SweepSpec, merge_sweep
    from gandyn.sweeps import make_plan as plan_of
    from gandyn.symbolic.option_text import parse_axis

    spec = merge_sweep(SweepSpec(), optimizer=optimizer,
                       regularizers=[RegularizerSpec("r1", ())],
                       axes=[AxisSpec(*parse_axis(text)) for text in axes], **given)
    return plan_of(spec)


def _sweep_case(optimizer: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from gandyn.dynamics.kernels import sweep
    from gandyn.sweeps.chunk import simulate_chunk

    plan = _plan(optimizer, ["lr=0.05:1.2:5:log", "gamma=0:1.5:3", "theta=-1:1:2"], steps=60)
    monkeypatch.setenv("GANDYN_BACKEND", "numpy")
    expected = simulate_chunk(plan, 0)
    used: list[bool] = []
    original = sweep.sweep_statistics

    def spy(*args: Any, **kwargs: Any) -> Any:
        done = original(*args, **kwargs)
        used.append(done is not None)
        return done

    monkeypatch.setattr(sweep, "sweep_statistics", spy)
    monkeypatch.setenv("GANDYN_BACKEND", "compiled")
    got = simulate_chunk(plan, 0)
    assert used and all(used)
    verdicts = np.bincount(expected["verdict"], minlength=3)
    assert (verdicts > 0).sum() >= 2, f"the sweep should see several verdicts: {verdicts}"
    np.testing.assert_array_equal(got["verdict"], expected["verdict"])
    np.testing.assert_array_equal(got["decided_at"], expected["decided_at"])
    for key in ("distance", "g_loss_amplitude", "d_fake_amplitude", "spectral_radius"):
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-12, atol=0, err_msg=key)


def test_sweep_chunks_use_the_compiled_step(monkeypatch: pytest.MonkeyPatch) -> None:
    _sweep_case("omd", monkeypatch)


@pytest.mark.slow
@pytest.mark.parametrize("optimizer", ["unrolled", "proximal", "lola", "sos"])
def test_sweep_chunks_use_the_compiled_step_slow(optimizer: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    _sweep_case(optimizer, monkeypatch)


# -- the Gaussian game -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def gaussian() -> Any:
    return derive(make_game("gaussian", "minimax", params={"mu": 0.5, "sigma": 1.5}))


@pytest.mark.slow
@pytest.mark.parametrize("case", ["omd", "unrolled", "proximal", "lola", "sos"])
def test_rule_repeats_the_numpy_path_on_the_gaussian_game(gaussian: Any, case: str) -> None:
    # five coordinates, quadrature sums in every expression (the cross gradient's too)
    rng = np.random.default_rng(3)
    x0 = rng.normal(scale=0.3, size=(16, 5))
    x0[:, 1] += 1.0
    x0[0, 2] = 7.0  # outside the ball at step 0
    x0[1] *= 8.0  # leaves the ball under the faster rules
    rule = _rule(case, np.linspace(0.01, 0.6, 16))
    rtol = 1e-12 if rule.name in ROUNDED else 0.0
    for every in (1, 30):
        options = {"every": every, "max_norm": 6.0, "measure": "loop"}
        expected = _run(gaussian, rule, x0, 30, "numpy", **options)
        got = _run(gaussian, rule, x0, 30, "compiled", **options)
        assert got.method["backend"] == "compiled"
        assert expected.diverged[0] and expected.diverged_at[0] == 0
        _assert_same(expected, got, rtol)
