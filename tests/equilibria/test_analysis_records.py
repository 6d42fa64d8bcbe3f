"""Analysis records: ``to_dict`` is the CLI's JSON; bad structured input is refused."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from gandyn.cli import cli
from gandyn.derivation.field import VectorField, derive
from gandyn.equilibria import (
    AnalysisSpec,
    Equilibrium,
    PathError,
    RuleChoice,
    analyze,
)
from gandyn.errors import GandynError, SpecError, UnknownNameError
from gandyn.games.game import make_game
from gandyn.report.equilibria import analysis_text


def _cli(*args: str) -> str:
    result = CliRunner().invoke(cli, ["analyze", *args], prog_name="gandyn",
                                catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def _field(loss: str | None = None, regs: tuple[Any, ...] = (), game: str = "dirac",
           params: dict[str, float] | None = None) -> VectorField:
    return derive(make_game(game, loss, list(regs), params=params))


def _roundtrip(data: dict[str, Any]) -> Any:
    return json.loads(json.dumps(data))


def test_rule_analysis_to_dict_is_the_cli_json() -> None:
    rule = RuleChoice("simgd", 0.1, 0.1)
    spec = AnalysisSpec(regularizers=("r1:gamma=0.3",), optimizer="simgd")
    analysis = analyze(_field(regs=(("r1", {"gamma": 0.3}),)), rule=rule, spec=spec)
    out = _cli("--reg", "r1:gamma=0.3", "--optimizer", "simgd", "--lr", "0.1", "--json")
    assert _roundtrip(analysis.to_dict()) == json.loads(out)
    # and the text report is what the command prints
    text = _cli("--reg", "r1:gamma=0.3", "--optimizer", "simgd", "--lr", "0.1")
    assert analysis_text(analysis) + "\n" == text


def test_set_and_global_nash_to_dict_is_the_cli_json() -> None:
    box = {"theta": (-2.0, 2.0), "psi": (-2.0, 2.0)}
    spec = AnalysisSpec(loss="lsgan", box=box, grid_points=21)
    analysis = analyze(_field(loss="lsgan"), box=box, grid_points=21, spec=spec)
    cli_data = json.loads(_cli("--loss", "lsgan", "--box", "theta=-2:2,psi=-2:2",
                               "--grid-points", "21", "--json"))
    assert _roundtrip(analysis.to_dict()) == cli_data
    # one record, one JSON entry
    sets = [e for e in analysis.equilibria if e.kind == "set"]
    assert len(sets) == 1 and sets[0].equation == "psi = 0"
    for record, entry in zip(analysis.equilibria, cli_data["equilibria"], strict=True):
        assert isinstance(record, Equilibrium)
        assert _roundtrip(record.to_dict()) == entry
    assert analysis.global_nash is not None
    assert {k: cli_data[k] for k in analysis.global_nash.to_dict()} == _roundtrip(
        analysis.global_nash.to_dict())


def test_mixed_equilibrium_to_dict_is_the_cli_json() -> None:
    # Hide-and-seek has no pure equilibrium on the box: a mixed one is reported.
    box = {"theta": (-2.0, 2.0), "psi": (-2.0, 2.0)}
    analysis = analyze(_field(game="hide-and-seek"), box=box, grid_points=21,
                       spec=AnalysisSpec(game="hide-and-seek", box=box, grid_points=21))
    cli_data = json.loads(_cli("--game", "hide-and-seek", "--box", "theta=-2:2,psi=-2:2",
                               "--grid-points", "21", "--json"))
    assert analysis.global_nash is not None and analysis.global_nash.mixed is not None
    assert _roundtrip(analysis.to_dict()) == cli_data


def test_path_to_dict_is_the_cli_json() -> None:
    # Mescheder et al. (2018), Sec. 4.1: with R1 the Dirac-GAN's eigenvalues meet at gamma = 1.
    analysis = analyze(_field(regs=("r1",)), path=("gamma_r1", 0.0, 2.0, 21),
                       spec=AnalysisSpec(regularizers=("r1",), path="gamma_r1=0:2:21"))
    cli_data = json.loads(_cli("--reg", "r1", "--path", "gamma_r1=0:2:21", "--json"))
    assert _roundtrip(analysis.to_dict()) == cli_data
    assert analysis.path is not None
    assert [e.kind for e in analysis.path.path.events] == ["collision"]
    assert analysis.path.path.events[0].value == pytest.approx(1.0)


def test_rule_settings_are_sorted_and_read_only() -> None:
    rule = RuleChoice("adam", 1e-3, 1e-3, {"eps": 1e-6, "beta1": 0.5})
    assert list(rule.settings) == ["beta1", "eps"]
    with pytest.raises(TypeError):
        rule.settings["eps"] = 1.0  # type: ignore[index]


@pytest.mark.parametrize(("kwargs", "error", "fragment"), [
    ({"rule": RuleChoice("simgd", 0.0, 0.1)}, SpecError, "learning rates must be positive"),
    ({"rule": RuleChoice("simgd", 0.1, float("nan"))}, SpecError, "must be positive"),
    ({"rule": RuleChoice("nope", 0.1, 0.1)}, UnknownNameError, "update rule"),
    ({"rule": RuleChoice("simgd", 0.1, 0.1, {"beta": 0.5})}, SpecError, "does not take 'beta'"),
    ({"box": {"theta": (-1.0, 1.0)}}, SpecError, "missing psi"),
    ({"box": {"theta": (1.0, -1.0), "psi": (0.0, 1.0)}}, SpecError, "low < high"),
    ({"path": ("gamma", 0.0, 1.0, 5)}, UnknownNameError, "hyper-parameter"),
    ({"path": ("gamma_r1", 0.0, 1.0, 1)}, SpecError, "at least two values"),
    ({"path": ("gamma_r1", 1.0, 0.0, 5)}, SpecError, "low < high"),
    ({"n_starts": 0}, SpecError, "n_starts"),
    ({"grid_points": 1}, SpecError, "grid_points"),
])
def test_bad_structured_input_is_refused(kwargs: dict[str, Any], error: type[GandynError],
                                         fragment: str) -> None:
    with pytest.raises(error, match=fragment) as caught:
        analyze(_field(regs=("r1",)), **kwargs)
    assert isinstance(caught.value, GandynError)


def test_a_path_that_moves_the_equilibrium_is_refused() -> None:
    # On the Dirac-GAN the equilibrium is theta = c: a path of c moves it.
    with pytest.raises(PathError, match="not stationary along the path") as caught:
        analyze(_field(params={"c": 0.0}), path=("c", 0.0, 1.0, 5))
    assert caught.value.reason.startswith("c: the equilibrium")
    assert str(caught.value).startswith("parameter path c:")


def test_a_path_needs_an_isolated_equilibrium() -> None:
    # Two data points against a point-mass generator and a quadratic logit: F never vanishes,
    # so neither sympy nor the default search around the start finds an equilibrium.
    from gandyn.derivation.field import derive
    from gandyn.games.game import make_game

    vf = derive(make_game("two-point", "minimax", options={"logit": "quadratic"}))
    with pytest.raises(PathError, match="needs an isolated equilibrium"):
        analyze(vf, path=("a", 0.5, 1.0, 5))


def test_equilibrium_record_flags_follow_its_verdicts() -> None:
    # cost_g = theta psi - 0.05 theta^2: stable for the flow, not Nash (Mazumdar, Ratliff and
    # Sastry 2020); see tests/cli/test_analyze_cli.py for the Jacobian.
    (eq,) = analyze(_field(game="bilinear", params={"a": -0.1, "b": 1.0})).equilibria
    assert eq.stability == "stable" and eq.nash == "not-nash"
    assert eq.flags == ["stable but not Nash"]
    assert np.allclose(sorted(z.real for z in eq.eigenvalues), [-0.45, -0.45])
