"""``gandyn analyze``: the JSON contract, published stability facts and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from gandyn.cli import cli


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["analyze", *args], prog_name="gandyn",
                                catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def analyze_json(*args: str) -> dict:
    code, out, err = run(*args, "--json")
    assert code == 0, err
    return json.loads(out)


def test_help() -> None:
    code, out, _ = run("--help")
    assert code == 0 and "Usage:" in out


@pytest.mark.parametrize("gamma", [0.1, 0.3, 0.8])
def test_r1_dirac_contract_and_learning_rate_bound(gamma: float) -> None:
    # Mescheder et al. (2018), Sec. 4.1: eigenvalues -gamma/2 +- i sqrt(1/4 - gamma^2/4) for
    # gamma < 1; simultaneous steps map them to 1 + h lambda, inside the unit circle iff
    # h < -2 Re(lambda) / |lambda|^2 = gamma / (1/4) = 4 gamma.
    data = analyze_json("--reg", f"r1:gamma={gamma}", "--optimizer", "simgd", "--lr", "0.1")
    assert data["zero_sum"] is True
    (eq,) = data["equilibria"]
    for key in ("point", "kind", "eigenvalues", "stability", "nash", "nash_reason",
                "local_minimax", "local_minimax_reason", "map_eigenvalues", "spectral_radius",
                "map_stability", "stable_lr"):
        assert key in eq, key
    assert eq["kind"] == "isolated" and eq["point"] == {"theta": 0.0, "psi": 0.0}
    assert eq["stability"] == "stable"
    omega = ((1 - gamma**2) / 4) ** 0.5
    got = list(np.sort_complex([complex(re, im) for re, im in eq["eigenvalues"]]))
    expected = [complex(-gamma / 2, -omega), complex(-gamma / 2, omega)]
    assert got == pytest.approx(expected)
    assert eq["stable_lr"][1] == pytest.approx(4 * gamma, rel=1e-6)
    assert eq["nash"] == "undecided"  # cost_g'' in theta vanishes at psi = 0
    assert "cost_g in theta is singular" in eq["nash_reason"]
    # Jin, Netrapalli and Jordan (2020), Prop. 19: V_pp = -gamma < 0, Schur 1/(4 gamma) > 0
    assert eq["local_minimax"] == "yes" and "Prop. 19" in eq["local_minimax_reason"]
    assert eq["map_stability"] == "stable"


def test_line_of_equilibria_is_one_set() -> None:
    data = analyze_json("--loss", "lsgan", "--box", "theta=-2:2,psi=-2:2")
    sets = [e for e in data["equilibria"] if e["kind"] == "set"]
    assert len(sets) == 1 and sets[0]["equation"] == "psi = 0"
    assert all(s["psi"] == 0 for s in sets[0]["samples"])
    assert data["equilibria"][0]["local_minimax"] is None  # not zero-sum
    assert data["equilibria"][0]["local_minimax_reason"] is None


def test_bilinear_pure_nash_and_zero_gap() -> None:
    data = analyze_json("--game", "bilinear", "--box", "theta=-1:1,psi=-1:1",
                        "--grid-points", "21")
    assert data["pure_nash"] == [{"theta": 0.0, "psi": 0.0}]
    assert data["duality_gap"] == pytest.approx(0.0, abs=1e-12)


def test_stable_but_not_nash_is_flagged() -> None:
    # cost_g = theta psi - 0.05 theta^2: G's own Hessian is -0.1 < 0 (not Nash) while the flow
    # Jacobian [[0.1, -1], [1, -1]] has trace -0.9 and determinant 0.9 (stable): Mazumdar,
    # Ratliff and Sastry (2020).
    data = analyze_json("--game", "bilinear", "--param", "a=-0.1", "--param", "b=1")
    (eq,) = data["equilibria"]
    assert eq["stability"] == "stable" and eq["nash"] == "not-nash"
    assert eq["flags"] == ["stable but not Nash"]


def test_eigenvalue_path_collision_at_gamma_one() -> None:
    data = analyze_json("--reg", "r1", "--path", "gamma_r1=0:2:101")
    events = data["path"]["events"]
    assert [e["kind"] for e in events] == ["collision"]
    assert events[0]["value"] == pytest.approx(1.0)
    assert len(data["path"]["eigenvalues"]) == 101


@pytest.mark.parametrize(("args", "fragment"), [
    (["--box", "theta=-1:1"], "psi"),
    (["--box", "theta=1:-1,psi=0:1"], "low < high"),
    (["--box", "theta=-1"], "name=low:high"),
    (["--path", "gamma=0:1:5"], "unknown hyper-parameter"),
    (["--param", "c=0", "--path", "c=0:1:5"], "not stationary along the path"),
    (["--beta", "0.5"], "needs --optimizer"),
    (["--optimizer", "simgd", "--beta", "0.5"], "does not take 'beta'"),
])
def test_bad_input_is_one_line(args: list[str], fragment: str) -> None:
    code, _, err = run(*args)
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], err


@pytest.mark.parametrize("gamma", [0.5, 2.0])
def test_consensus_spectrum(gamma: float) -> None:
    # Mescheder, Nowozin and Geiger (2017), Sec. 3: consensus turns the Jacobian J of the flow
    # into J - gamma J^T J. On the Dirac-GAN J = [[0, 1/2], [-1/2, 0]] and J^T J = I/4, so the
    # eigenvalues move from +-i/2 to -gamma/4 +- i/2.
    data = analyze_json("--reg", f"consensus:gamma={gamma}", "--box", "theta=-1:1,psi=-1:1",
                        "--grid-points", "11")
    (eq,) = data["equilibria"]
    got = list(np.sort_complex([complex(re, im) for re, im in eq["eigenvalues"]]))
    assert got == pytest.approx([complex(-gamma / 4, -0.5), complex(-gamma / 4, 0.5)])
    assert eq["stability"] == "stable"


def test_local_minimax_point_that_is_not_nash() -> None:
    # f = theta psi - theta^2/4 for G, D's cost -theta psi + psi^2/2 (zero-sum up to terms of one
    # player): D's Hessian 1 > 0 and the Schur complement -1/2 + 1/1 = 1/2 > 0 make (0, 0) a strict
    # local minimax (Jin, Netrapalli and Jordan 2020, Prop. 18), but G's own Hessian -1/2 < 0 means
    # it is not a Nash equilibrium.
    data = analyze_json("--game", "bilinear", "--param", "a=-0.5", "--param", "b=1")
    (eq,) = data["equilibria"]
    assert eq["local_minimax"] == "yes" and eq["nash"] == "not-nash"


def test_without_a_closed_form_the_start_is_searched_and_nothing_found_is_said() -> None:
    # sympy skipped: the default box around the start (1, 1) still finds the Dirac-GAN's
    # equilibrium (0, 0) numerically.
    code, out, _ = run("--solve-timeout", "0")
    assert code == 0
    assert "equilibrium 1: theta = 0, psi = 0 (numeric)" in out
    assert "searched the box theta=-2:4, psi=-2:4 around the game's start" in out
    # a point-mass generator against a quadratic logit: D separates it from two data
    # points ever better, so F never vanishes (Arora et al. 2017, Sec. 4)
    code, out, _ = run("--game", "two-point:logit=quadratic")
    assert code == 0
    assert "note: no stationary point found; give --box to search elsewhere" in out


def test_zero_learning_rate_is_refused() -> None:
    code, _, err = run("--optimizer", "simgd", "--lr", "0")
    assert code == 2 and err.strip() == ("error: Invalid value for '--lr': must be a finite "
                                         "number > 0 and <= 1000000, not 0")


def test_param_path_syntax_and_figure(tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = analyze_json("--reg", "r1", "--param", "gamma_r1=0:2:51")
    assert data["path"]["parameter"] == "gamma_r1" and len(data["path"]["values"]) == 51
    outputs = []
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        code, _, err = run("--reg", "r1", "--param", "gamma_r1=0:2:51", "--plot",
                           str(tmp_path / folder / "path.png"))
        assert code == 0, err
        outputs.append([(tmp_path / folder / n).read_bytes()
                        for n in ("path.png", "path.png.json", "path.png.data.npz")])
    assert outputs[0] == outputs[1]  # reproducible byte for byte
    code, _, err = run("--reg", "r1", "--param", "gamma_r1=0:2:51", "--plot",
                       str(tmp_path / "a" / "path.png"))
    assert code == 1 and "refusing to overwrite" in err


def test_plot_needs_a_path(tmp_path) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run("--plot", str(tmp_path / "x.png"))
    assert code != 0 and "give --path" in err


@pytest.mark.parametrize("args", [["--reg", "r1:gamma=0.3"], ["--game", "bilinear", "--param",
                                                            "a=1", "--param", "b=0.5"]])
def test_simgd_closed_form_agrees_with_the_numeric_scan(args: list[str]) -> None:
    from gandyn.derivation.field import derive
    from gandyn.equilibria import stable_lr_range
    from gandyn.games.game import make_game

    data = analyze_json(*args, "--optimizer", "simgd")
    (eq,) = data["equilibria"]
    assert eq["stable_lr_method"].startswith("closed form")
    params = dict(p.split("=") for p in args[args.index("--param") + 1::2]) if "--param" in args \
        else {}
    regularizers = [(name, {k: float(v) for k, v in (s.split("=") for s in rest.split(",") if s)})
                    for name, _, rest in (text.partition(":")
                                          for text in data["spec"]["regularizers"])]
    game = make_game(data["spec"]["game"], None, regularizers,
                     params={k: float(v) for k, v in params.items()})
    numeric = stable_lr_range(derive(game), "simgd", np.zeros(2))
    assert numeric is not None
    assert eq["stable_lr"][1] == pytest.approx(numeric[1], rel=1e-8)


def test_path_errors_name_the_option() -> None:
    # The library says "parameter path ..."; the command line names its option.
    code, _, err = run("--param", "c=0", "--path", "c=0:1:5")
    assert code != 0 and err.startswith("error: --path c: the equilibrium")
    # no stationary point anywhere (D separates a point mass from two data points ever
    # better), so not even the default search around the start finds one
    code, _, err = run("--game", "two-point:logit=quadratic", "--path", "a=0.5:1:5")
    assert code != 0
    assert err.strip() == "error: --path needs an isolated equilibrium (none was found)"


def test_spec_and_dump_spec_round_trip(tmp_path: Path, invoke: Any) -> None:
    # The spec --dump-spec writes, read back with --spec, analyzes the same game and rule.
    args = ("--reg", "r1:gamma=0.3", "--loss", "non-saturating", "--optimizer", "momentum",
            "--beta", "0.5", "--lr", "0.05")
    code, toml_text, err = invoke("analyze", *args, "--dump-spec")
    assert code == 0, err
    (tmp_path / "a.toml").write_text(toml_text)
    direct = analyze_json(*args)
    from_file = analyze_json("--spec", str(tmp_path / "a.toml"))
    assert from_file["equilibria"] == direct["equilibria"]
    assert from_file["spec"]["regularizers"] == ["r1:gamma=0.3"]
    assert from_file["optimizer"] == {"name": "momentum", "lr_g": 0.05, "lr_d": 0.05,
                                      "settings": {"beta": 0.5}}
    # a flag given on the command line overrides the file
    faster = analyze_json("--spec", str(tmp_path / "a.toml"), "--lr", "0.2")
    assert faster["optimizer"]["lr_g"] == 0.2


def test_spec_from_a_run_sidecar_and_a_flow(tmp_path: Path, invoke: Any,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = invoke("simulate", "--optimizer", "flow", "--reg", "r1:gamma=0.3",
                          "--steps", "20", "--out", "run.csv")
    assert code == 0, err
    data = analyze_json("--spec", "run.csv.meta.json")
    # the flow is analyzed by its eigenvalues, with no map
    assert "optimizer" not in data and data["spec"]["optimizer"] is None
    assert data["spec"]["regularizers"] == ["r1:gamma=0.3"]
    assert data["equilibria"][0]["stability"] == "stable"


def test_bad_spec_file_is_one_line(tmp_path: Path, invoke: Any) -> None:
    (tmp_path / "bad.toml").write_text("[rule]\nname = 'nope'\n")
    code, _, err = invoke("analyze", "--spec", str(tmp_path / "bad.toml"))
    assert code == 1
    assert err.startswith("error: ") and "nope" in err and len(err.strip().splitlines()) == 1
