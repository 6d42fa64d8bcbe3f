"""The command line: help, good runs, the JSON contract and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sympy as sp
from click.testing import CliRunner

from gandyn.cli import cli
from gandyn.symbolic.functions import FUNCTIONS


def run(*args: str) -> tuple[int, str, str]:
    """Invoke the CLI in-process; return (exit code, stdout, stderr)."""
    result = CliRunner().invoke(cli, list(args), prog_name="gandyn", catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def derive_json(*args: str) -> dict:
    code, out, err = run("derive", "--format", "json", *args)
    assert code == 0, err
    return json.loads(out)


def parse(text: str, names: list[str]) -> sp.Expr:
    local = {n: sp.Symbol(n, real=True) for n in names}
    return sp.parse_expr(text, local_dict={**local, **FUNCTIONS})


@pytest.mark.parametrize("args", [[], ["derive"], ["list"]])
def test_help_of_every_command(args: list[str]) -> None:
    code, out, _ = run(*args, "--help")
    assert code == 0
    assert "Usage:" in out


def test_version() -> None:
    code, out, _ = run("--version")
    assert code == 0 and "gandyn" in out


def test_dirac_json_contract_and_mescheder_eigenvalues() -> None:
    # Mescheder et al. (2018), Sec. 2.2: the Dirac-GAN's Jacobian at the
    # equilibrium has eigenvalues +-i f'(0) with f'(0) = 1/2.
    data = derive_json("--game", "dirac", "--at", "theta=0,psi=0")
    for key in ("game", "loss", "regularizers", "symbols", "cost_g", "cost_d", "grad_g",
                "grad_d", "field", "jacobian", "hessian_g", "hessian_d", "stationary_points",
                "at", "jacobian_at", "eigenvalues"):
        assert key in data, key
    assert data["game"] == "dirac" and data["loss"] == "minimax"
    assert data["symbols"] == {"theta": ["theta"], "psi": ["psi"]}
    np.testing.assert_allclose(data["jacobian_at"], [[0.0, 0.5], [-0.5, 0.0]], atol=1e-15)
    np.testing.assert_allclose(sorted(data["eigenvalues"]), [[0.0, -0.5], [0.0, 0.5]], atol=1e-12)
    assert data["stationary_points"] == [{"theta": "0", "psi": "0"}]


def test_json_expressions_read_back_to_the_derived_ones() -> None:
    from gandyn.derivation.field import derive
    from gandyn.games.game import make_game
    from gandyn.games.regularizers import apply_values, get_regularizer

    data = derive_json("--game", "dirac", "--loss", "ns", "--reg", "r1:gamma=0.5")
    names = ["theta", "psi", "c", "gamma_r1"]
    r1 = apply_values(get_regularizer("r1"), {"gamma": 0.5})
    vf = derive(make_game("dirac", "non-saturating", [r1]))
    for text, expr in zip(data["field"], vf.field, strict=True):
        assert parse(text, names) == expr
    for i in range(2):
        for j in range(2):
            assert parse(data["jacobian"][i][j], names) == vf.jacobian[i, j]
    assert parse(data["cost_d"], names) == vf.game.cost_d
    assert data["params"] == {"c": 0.0, "gamma_r1": 0.5}
    assert data["regularizers"] == [{"name": "r1", "params": {"gamma_r1": 0.5}, "options": {}}]


@pytest.mark.parametrize("gamma", [0.3, 1.0, 2.5])
def test_r1_eigenvalues_match_closed_form(gamma: float) -> None:
    # Mescheder et al. (2018), Sec. 4.1 (R1 on the Dirac-GAN): the eigenvalues
    # at the equilibrium are -gamma/2 +- sqrt(gamma^2/4 - f'(0)^2), f'(0) = 1/2.
    data = derive_json("--reg", f"r1:gamma={gamma}", "--at", "theta=0,psi=0")
    expected = np.roots([1.0, gamma, 0.25])
    got = np.array([complex(re, im) for re, im in data["eigenvalues"]])
    np.testing.assert_allclose(np.sort_complex(got), np.sort_complex(expected), atol=1e-12)


def test_param_and_bilinear_jacobian() -> None:
    data = derive_json("--game", "bilinear", "--param", "a=1", "--param", "b=0.5",
                       "--at", "theta=0.3,psi=-2")
    # F = -(psi + a theta, -theta + b psi): dF/dx = [[-a, -1], [1, -b]].
    np.testing.assert_allclose(data["jacobian_at"], [[-1.0, -1.0], [1.0, -0.5]])
    assert data["loss"] is None


def test_substitute_removes_hyper_parameters() -> None:
    data = derive_json("--reg", "r1:gamma=0.3", "--substitute")
    assert all("gamma_r1" not in f for f in data["field"])
    symbolic = derive_json("--reg", "r1:gamma=0.3")
    assert any("gamma_r1" in f for f in symbolic["field"])


def test_line_of_stationary_points_and_shifted_data() -> None:
    # Least squares on the Dirac-GAN with c = 0: F = (psi*(1 - psi*theta), -psi*theta**2)
    # vanishes on the whole line psi = 0.
    data = derive_json("--loss", "lsgan")
    assert {"theta": "theta", "psi": "0"} in data["stationary_points"]
    shifted = derive_json("--param", "c=1")
    assert shifted["stationary_points"] == [{"theta": "1", "psi": "0"}]


def test_text_and_latex_formats() -> None:
    code, out, _ = run("derive", "--game", "dirac", "--at", "theta=1/2,psi=-1")
    assert code == 0
    for heading in ("logged losses", "costs", "gradient flow", "Jacobian dF/dx",
                    "Hessian of cost_g", "stationary points", "eigenvalues"):
        assert heading in out
    code, out, _ = run("derive", "--format", "latex")
    assert code == 0 and r"\begin{align*}" in out and r"\operatorname{sigmoid}" in out


def test_gaussian_game_derives_with_options() -> None:
    data = derive_json("--game", "gaussian:order=4", "--loss", "wasserstein",
                       "--at", "theta_mu=0,theta_sigma=1,psi_0=0,psi_1=0,psi_2=0")
    assert data["options"] == {"order": 4}
    assert len(data["field"]) == 5
    assert all(np.isfinite(v) for row in data["jacobian_at"] for v in row)


def test_list_text_and_json() -> None:
    code, out, _ = run("list")
    assert code == 0
    for name in ("minimax", "non-saturating", "wasserstein", "least-squares", "hinge",
                 "relativistic", "r1", "r2", "wgan-gp", "consensus", "instance-noise",
                 "dirac", "bilinear", "gaussian", "two-point"):
        assert name in out
    code, out, _ = run("list", "losses", "--json")
    records = json.loads(out)["losses"]
    assert {r["name"] for r in records} >= {"minimax", "hinge"}
    assert all(r["reference"] for r in records)


BAD_INPUTS = [
    (["derive", "--game", "diracc"], "did you mean 'dirac'"),
    (["derive", "--loss", "minmax"], "did you mean 'minimax'"),
    (["derive", "--reg", "r3"], "unknown regularizer"),
    (["derive", "--reg", "r1:gama=1"], "no parameter 'gama'"),
    (["derive", "--reg", "r1:gamma=abc"], "gamma"),
    (["derive", "--reg", "r1", "--reg", "r1"], "more than once"),
    (["derive", "--param", "c"], "key=value"),
    (["derive", "--param", "c=abc"], "c"),
    (["derive", "--param", "zeta=1"], "unknown parameter"),
    (["derive", "--at", "theta=0"], "missing psi"),
    (["derive", "--at", "theta=0,psi=0,phi=1"], "phi"),
    (["derive", "--game", "bilinear", "--loss", "ns"], "does not apply"),
    (["derive", "--game", "bilinear", "--reg", "r1"], "needs a discriminator"),
    (["derive", "--game", "gaussian:order=0"], "at least 1"),
    (["derive", "--game", "two-point:logit=cubic"], "one of"),
    (["derive", "--game", "dirac:order=3"], "no option"),
    (["derive", "--game-file", "does-not-exist.toml"], "does-not-exist.toml"),
    (["derive", "--format", "pdf"], "pdf"),
    (["list", "lossess"], "lossess"),
]


@pytest.mark.parametrize(("args", "fragment"), BAD_INPUTS)
def test_bad_input_is_one_clear_line(args: list[str], fragment: str) -> None:
    code, out, err = run(*args)
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert fragment in lines[0]
    assert "Traceback" not in err + out


def test_bad_input_through_the_real_entry_point() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "gandyn", "derive", "--loss", "non-saturatin"],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        "error: unknown loss 'non-saturatin'; did you mean 'non-saturating' or 'saturating'? "
        "(known: hinge, "
        "least-squares, lsgan, maximum-likelihood, minimax, ml, mle, non-saturating, ns, "
        "nsgan, relativistic, relativistic-pairing, rpgan, saturating, wasserstein, wgan)"
    )


def test_bad_game_file_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[generator]\nparameters = ["theta"]\nsample = "__import__(\'os\')"\n')
    code, _, err = run("derive", "--game-file", str(bad))
    assert code != 0
    assert len(err.strip().splitlines()) == 1 and "bad.toml" in err


def test_import_gandyn_is_light() -> None:
    code = ("import sys, gandyn; heavy = [m for m in ('sympy', 'numpy', 'matplotlib', 'scipy') "
            "if m in sys.modules]; print(heavy)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"


def test_derive_json_is_the_derivation_record() -> None:
    from gandyn.games.game import make_game
    from gandyn.report.derivation import derivation, to_dict

    game = make_game("dirac", None, [('r1', {'gamma': 0.3})])
    record = derivation(game, at={"theta": 0.0, "psi": 0.0})
    assert json.loads(json.dumps(to_dict(record))) == derive_json(
        "--reg", "r1:gamma=0.3", "--at", "theta=0,psi=0")


def test_derivation_refuses_a_bad_point() -> None:
    from gandyn.errors import UnknownNameError
    from gandyn.games.game import make_game
    from gandyn.report.derivation import PointError, derivation

    game = make_game("dirac", None, [])
    with pytest.raises(PointError, match="missing psi") as caught:
        derivation(game, at={"theta": 0.0}, solve_timeout=0)
    assert str(caught.value) == "at: missing psi (the state is theta, psi)"
    with pytest.raises(UnknownNameError, match="phi"):
        derivation(game, at={"theta": 0.0, "psi": 0.0, "phi": 1.0}, solve_timeout=0)
    code, _, err = run("derive", "--at", "theta=0")
    assert code != 0 and err.strip() == "error: --at: missing psi (the state is theta, psi)"


def test_list_json_is_the_catalogue_records() -> None:
    from gandyn.errors import UnknownNameError
    from gandyn.report.catalogue import catalogue_records

    code, out, _ = run("list", "games", "--json")
    assert code == 0 and json.loads(out) == catalogue_records("games")
    assert set(catalogue_records()) == {"losses", "regularizers", "games"}
    with pytest.raises(UnknownNameError, match="catalogue"):
        catalogue_records("lossess")


def test_library_errors_name_fields_and_the_command_line_names_flags(invoke: Any) -> None:
    from gandyn.cli.app import in_flag_terms
    from gandyn.errors import SpecError
    from gandyn.runs.build import simulate

    with pytest.raises(SpecError, match=r"^`max_norm` must be a finite number > 0 and "
                                        r"<= 1e300, not -1$"):
        simulate(max_norm=-1.0)
    assert in_flag_terms("`steps` must be >= 0 and `every` >= 1") == \
        "--steps must be >= 0 and --every >= 1"
    code, _, err = invoke("simulate", "--steps", "100000000")
    assert code == 1 and err.startswith("error: 1 run x 100000001 records")
    assert err.endswith("reduce --steps or --every or raise --max-memory\n")
