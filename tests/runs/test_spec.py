"""The run spec: plain-data and file round trips, earlier forms, merging, defaults."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from gandyn.cli import cli
from gandyn.errors import GandynError, SpecError
from gandyn.rules.names import METHOD_NAMES as METHODS
from gandyn.rules.names import RULE_NAMES as UPDATE_RULES
from gandyn.runs.build import build, run
from gandyn.runs.spec import (
    GameSpec,
    MinibatchSpec,
    RegularizerSpec,
    RuleSpec,
    RunSpec,
    merge,
)
from gandyn.runs.spec_files import load_spec, spec_toml
from gandyn.sweeps import AxisSpec, SweepSpec, load_sweep_spec, merge_sweep, sweep_spec_toml

# --- round trips ---------------------------------------------------------------------------------

names = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
floats = st.floats(allow_nan=False, allow_infinity=False, width=64)
settings_values = st.one_of(st.integers(-10**6, 10**6), floats, names)


@st.composite
def run_specs(draw: st.DrawFn) -> RunSpec:
    regularizers = tuple(
        RegularizerSpec(draw(names), tuple(draw(st.dictionaries(names, settings_values,
                                                                max_size=2)).items()))
        for _ in range(draw(st.integers(0, 2))))
    game = GameSpec(
        name=draw(names),
        options=tuple(draw(st.dictionaries(names, st.one_of(st.integers(0, 99), names),
                                           max_size=2)).items()),
        file=draw(st.none() | st.just("games/custom game.toml")),
        loss=draw(st.none() | names), regularizers=regularizers,
        params=tuple(draw(st.dictionaries(names, floats, max_size=3)).items()))
    rule = RuleSpec(draw(st.sampled_from(METHODS)), draw(floats), draw(floats),
                    tuple(draw(st.dictionaries(names, settings_values, max_size=3)).items()))
    minibatch = draw(st.none() | st.builds(MinibatchSpec, st.integers(1, 512),
                                            st.none() | st.integers(1, 512),
                                            st.integers(0, 2**31)))
    starts = tuple(tuple(draw(st.dictionaries(names, floats, max_size=3)).items())
                   for _ in range(draw(st.integers(0, 3))))
    return RunSpec(game=game, rule=rule, steps=draw(st.integers(0, 10**6)),
                   every=draw(st.integers(1, 100)),
                   measure=draw(st.sampled_from([None, "state", "loop"])),
                   max_norm=draw(floats), clip=draw(st.none() | floats), minibatch=minibatch,
                   starts=starts)


@settings(max_examples=60, deadline=None)
@given(run_specs())
def test_dict_json_and_toml_round_trips(spec: RunSpec) -> None:
    import tomllib

    assert RunSpec.from_dict(spec.to_dict()) == spec
    assert RunSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec
    assert RunSpec.from_dict(tomllib.loads(spec_toml(spec))) == spec


def test_spec_files_round_trip(tmp_path: Path) -> None:
    spec = RunSpec(game=GameSpec("gaussian", (("order", 8),), loss="non-saturating",
                                 regularizers=(RegularizerSpec("r1", (("gamma", 0.3),)),),
                                 params=(("c", 0.5),)),
                   rule=RuleSpec("adam", 0.01, 0.02, (("beta1", 0.5),)), steps=30,
                   minibatch=MinibatchSpec(16, seed=3), starts=((("theta_mu", 0.5),),))
    (tmp_path / "a.toml").write_text(spec_toml(spec))
    (tmp_path / "a.json").write_text(json.dumps(spec.to_dict()))
    assert load_spec(tmp_path / "a.toml") == spec
    assert load_spec(tmp_path / "a.json") == spec


# --- the forms of earlier versions ---------------------------------------------------------------

OLD_FLAT = {
    "game": "gaussian:order=8", "game_file": None, "loss": "non-saturating",
    "regularizers": ["r1:gamma=0.3", "consensus"], "params": {"c": 0.5}, "optimizer": "altgd",
    "lr_g": 0.2, "lr_d": 0.1, "settings": {"d_steps": 2, "first": "g"}, "steps": 30,
    "every": 3, "measure": "state", "max_norm": 1000.0, "clip": None, "batch_size": None,
    "batch_size_g": None, "seed": 0, "starts": [{"theta_mu": 1.0, "theta_sigma": 1.5}],
}
NEW = RunSpec(
    game=GameSpec("gaussian", (("order", 8),), loss="non-saturating",
                  regularizers=(RegularizerSpec("r1", (("gamma", 0.3),)),
                                RegularizerSpec("consensus")),
                  params=(("c", 0.5),)),
    rule=RuleSpec("altgd", 0.2, 0.1, (("d_steps", 2), ("first", "g"))), steps=30, every=3,
    measure="state", max_norm=1000.0, starts=((("theta_mu", 1.0), ("theta_sigma", 1.5)),))


def test_earlier_spec_files_and_sidecars_read_as_the_new_form(tmp_path: Path) -> None:
    old_toml = """game = "gaussian:order=8"
loss = "non-saturating"
regularizers = ["r1:gamma=0.3", "consensus"]
optimizer = "altgd"
lr_g = 0.2
lr_d = 0.1
steps = 30
every = 3
measure = "state"
max_norm = 1000.0
seed = 0

[params]
c = 0.5

[settings]
d_steps = 2
first = "g"

[[starts]]
theta_mu = 1.0
theta_sigma = 1.5
"""
    (tmp_path / "old.toml").write_text(old_toml)
    (tmp_path / "old.json").write_text(json.dumps(OLD_FLAT))
    (tmp_path / "run.meta.json").write_text(json.dumps(
        {"gandyn_version": "0.1.0", "spec": OLD_FLAT, "method": {}}))
    (tmp_path / "fig.json").write_text(json.dumps({"gandyn_version": "0.1.0",
                                                   "spec": NEW.to_dict()}))
    assert RunSpec.from_dict(OLD_FLAT) == NEW
    for name in ("old.toml", "old.json", "run.meta.json", "fig.json"):
        assert load_spec(tmp_path / name) == NEW, name
    # An exact run of an earlier version stored its unused seed: it stays exact.
    assert RunSpec.from_dict({**OLD_FLAT, "seed": 7}).minibatch is None
    stochastic = RunSpec.from_dict({**OLD_FLAT, "batch_size": 16, "seed": 7})
    assert stochastic.minibatch == MinibatchSpec(16, None, 7)


def test_earlier_sweep_sidecar_reads_as_the_new_form(tmp_path: Path) -> None:
    old = {"game": "dirac", "game_file": None, "loss": None, "regularizers": ["r1"],
           "params": {}, "optimizer": "simgd", "lr_g": 0.1, "lr_d": 0.1, "settings": {},
           "x0": {"theta": 0.1, "psi": 0.1}, "steps": 200,
           "axes": ["lr=0.05:2:6:log", "gamma=0:1:4"], "equilibrium": None, "tol": 0.001,
           "window": 100, "growth": 0.05, "max_norm": 1000000.0, "chunk_size": 16384}
    (tmp_path / "sw.meta.json").write_text(json.dumps({"gandyn_version": "0.1.0",
                                                       "kind": "sweep", "spec": old}))
    spec = load_sweep_spec(tmp_path / "sw.meta.json")
    assert spec.run.game == GameSpec(regularizers=(RegularizerSpec("r1"),))
    assert spec.run.starts == ((("theta", 0.1), ("psi", 0.1)),)
    assert spec.axes == (AxisSpec("lr", 0.05, 2.0, 6, True), AxisSpec("gamma", 0.0, 1.0, 4))
    assert spec.window == 100 and spec.run.steps == 200
    (tmp_path / "sw.toml").write_text(sweep_spec_toml(spec))
    assert load_sweep_spec(tmp_path / "sw.toml") == spec


@pytest.mark.parametrize(("data", "fragment"), [
    ({"steps": "many"}, "spec: steps must be an integer"),
    ({"rule": {"lr_g": "fast"}}, "spec: rule.lr_g must be a number"),
    ({"game": {"regularizers": [{"settings": {}}]}}, "game.regularizers[0].name must be"),
    ({"game": {"nam": "dirac"}}, "did you mean 'name'"),
    ({"starts": [{"theta": "a"}]}, "starts must be tables of numbers"),
    ({"regularizers": ["r1:"]}, "nothing after ':'"),
    ({"game": "dirac", "optimzer": "simgd"}, "did you mean 'optimizer'"),
])
def test_malformed_data_names_the_field(data: dict[str, object], fragment: str) -> None:
    with pytest.raises(GandynError) as info:
        RunSpec.from_dict(data)
    assert fragment in str(info.value) and "\n" not in str(info.value)


# --- merging and defaults ------------------------------------------------------------------------


def test_merge_lays_given_values_over_the_base() -> None:
    base = merge(RunSpec(), optimizer="momentum", settings={"beta": -0.2}, lr=0.3,
                 regularizers=[RegularizerSpec("r1", (("gamma", 0.3),))], batch_size=8,
                 seed=4, starts=[{"theta": 2.0}])
    assert base.rule == RuleSpec("momentum", 0.3, 0.3, (("beta", -0.2),))
    assert base.minibatch == MinibatchSpec(8, None, 4)
    changed = merge(base, lr_d=0.05, settings={"beta": 0.5}, batch_size_g=4, game="gaussian",
                    game_options={"order": 4})
    assert changed.rule == RuleSpec("momentum", 0.3, 0.05, (("beta", 0.5),))
    assert changed.minibatch == MinibatchSpec(8, 4, 4)
    assert changed.game.name == "gaussian" and dict(changed.game.options) == {"order": 4}
    assert changed.game.regularizers == base.game.regularizers
    assert changed.starts == base.starts
    # A name without options drops the base's options, as the option text did.
    assert merge(changed, game="gaussian").game.options == ()
    with pytest.raises(TypeError, match="unknown values stepz"):
        merge(base, stepz=3)


def test_defaults_derived_from_other_fields() -> None:
    assert RunSpec().with_defaults().measure == "state"
    assert RunSpec(minibatch=MinibatchSpec(4)).with_defaults().measure == "loop"
    flow = RunSpec(rule=RuleSpec("flow", lr_g=0.2), steps=50).with_defaults()
    assert dict(flow.rule.settings) == {"t_end": pytest.approx(10.0)}
    given = RunSpec(rule=RuleSpec("flow", settings=(("t_end", 3.0),))).with_defaults()
    assert dict(given.rule.settings) == {"t_end": 3.0}


def test_flow_integrates_to_steps_times_lr_g() -> None:
    result = run(RunSpec(rule=RuleSpec("flow", lr_g=0.05, lr_d=0.05), steps=40))
    assert result.trajectory.t[-1] == pytest.approx(40 * 0.05)


def test_build_completes_partial_starts_from_the_game_default() -> None:
    built = build(RunSpec(starts=((("psi", 0.25),), ())))
    np.testing.assert_array_equal(built.x0, [[1.0, 0.25], [1.0, 1.0]])
    assert built.spec.starts == ((("theta", 1.0), ("psi", 0.25)), (("theta", 1.0), ("psi", 1.0)))
    with pytest.raises(GandynError, match="unknown state symbol 'phi'"):
        build(RunSpec(starts=((("phi", 0.0),),)))
    with pytest.raises(SpecError, match="does not take 'beta'"):
        build(RunSpec(rule=RuleSpec("simgd", settings=(("beta", 0.5),))))


# --- every command default is the library's ------------------------------------------------------


def _cli(*args: str) -> None:
    result = CliRunner().invoke(cli, list(args), prog_name="gandyn", catch_exceptions=False)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("method", METHODS)
def test_simulate_defaults_are_the_librarys(tmp_path: Path, method: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _cli("simulate", "--optimizer", method, "--steps", "50", "--out", "x.npz")
    library = run(RunSpec(rule=RuleSpec(method), steps=50)).trajectory
    with np.load(tmp_path / "x.npz") as saved:
        for key in ("step", "t", "x", "logged", "diverged", "diverged_at"):
            expected = np.asarray(getattr(library, key))
            assert saved[key].tobytes() == expected.tobytes(), (method, key)
        stored = json.loads(str(saved["meta"].reshape(())))["spec"]
    assert RunSpec.from_dict(stored) == build(RunSpec(rule=RuleSpec(method), steps=50)).spec


@pytest.mark.parametrize("rule", ["simgd", "altgd"])
def test_sweep_defaults_are_the_librarys(tmp_path: Path, rule: str,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from gandyn.sweeps import make_plan, run_sweep

    monkeypatch.chdir(tmp_path)
    _cli("sweep", "--optimizer", rule, "--axis", "lr=0.05:0.5:3", "--steps", "50",
         "--out", "s.npz")
    spec = merge_sweep(SweepSpec(), optimizer=rule, steps=50,
                       axes=[AxisSpec("lr", 0.05, 0.5, 3)])
    plan = make_plan(spec)
    library = run_sweep(plan)
    with np.load(tmp_path / "s.npz") as saved:
        assert saved["verdict"].tobytes() == library.verdict_names.tobytes()
        for key, values in library.measures.items():
            assert saved[key].tobytes() == np.asarray(values).tobytes(), key
        meta = json.loads(str(saved["meta"].reshape(())))
    assert meta["digest"] == plan.digest()
    # The sweep sidecar sorts its keys: compare the specs as plain data.
    stored = SweepSpec.from_dict(meta["spec"]).to_dict()
    assert json.dumps(stored, sort_keys=True) == json.dumps(plan.spec(spec).to_dict(),
                                                            sort_keys=True)


def test_methods_table_lists_every_rule() -> None:
    from gandyn.rules.registry import RULES

    assert set(UPDATE_RULES) == set(RULES)
