"""``--json`` of simulate, sweep and plot, and ``-`` for standard output.

Each JSON document is the whole of stdout (``json.loads`` of it succeeds) and
its values are checked against the files the same run wrote: the final state
is the run file's last row, the verdict counts are the cells' verdicts.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

Invoke = Callable[..., tuple[int, str, str]]


def test_simulate_json_matches_the_saved_run(invoke: Invoke, tmp_path: Path) -> None:
    target = tmp_path / "run.npz"
    code, out, err = invoke("simulate", "--loss", "ns", "--steps", "50", "--x0",
                            "theta=1,psi=1", "--x0", "theta=-0.5,psi=0.3", "--out",
                            str(target), "--json")
    assert code == 0, err
    document = json.loads(out)  # stdout is one JSON document and nothing else
    assert document["files"] == [str(target), f"{target}.meta.json"]
    assert document["n_runs"] == 2 and document["state_names"] == ["theta", "psi"]
    with np.load(target) as run:
        x, logged = run["x"], run["logged"]
        names = [str(n) for n in run["logged_names"]]
    for i, entry in enumerate(document["runs"]):
        assert [entry["start"][n] for n in ("theta", "psi")] == x[i, 0].tolist()
        assert [entry["final"][n] for n in ("theta", "psi")] == x[i, -1].tolist()
        g_loss = logged[i, :, names.index("g_loss")]
        assert entry["losses"]["g_loss"] == {"min": g_loss.min(), "max": g_loss.max(),
                                             "final": g_loss[-1]}
        assert entry["diverged"] is False and entry["diverged_at"] is None
        # the Dirac-GAN's equilibrium is the origin (Mescheder et al. 2018)
        assert entry["distance_to_equilibrium"] == pytest.approx(np.hypot(*x[i, -1]))
    assert document["equilibria"] == [{"theta": 0.0, "psi": 0.0}]
    assert document["spec"]["steps"] == 50
    assert "wrote" in err  # the files are still announced, on stderr


def test_simulate_json_reports_divergence(invoke: Invoke) -> None:
    code, out, _ = invoke("simulate", "--game", "bilinear", "--lr", "1", "--steps", "40",
                          "--max-norm", "100", "--x0", "theta=1,psi=0", "--x0",
                          "theta=0,psi=0", "--json")
    assert code == 0
    document = json.loads(out)
    assert document["n_diverged"] == 1
    first, second = document["runs"]
    # the bilinear game's simultaneous step of 1 is the map (theta, psi) -> (theta - psi,
    # psi + theta) (F = (-psi, theta)); iterated here by hand until a coordinate passes 100
    x, step = np.array([1.0, 0.0]), 0
    while np.abs(x).max() <= 100:
        x, step = np.array([x[0] - x[1], x[1] + x[0]]), step + 1
    assert first["diverged"] is True and first["diverged_at"] == step
    assert second["diverged"] is False and second["final"] == {"theta": 0.0, "psi": 0.0}


def test_simulate_out_dash_writes_the_csv_to_stdout(invoke: Invoke, tmp_path: Path) -> None:
    args = ["simulate", "--loss", "ns", "--steps", "30", "--grid", "theta=-1:1:3"]
    code, out, err = invoke(*args, "--out", "-")
    assert code == 0, err
    code, _, _ = invoke(*args, "--out", str(tmp_path / "run.csv"))
    assert code == 0
    assert out == (tmp_path / "run.csv").read_text()  # exactly the file, nothing else
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 3 * 31
    assert "dirac / non-saturating / simgd" in err  # the summary moved to stderr
    assert not list(Path.cwd().glob("-*"))  # no file called "-"
    code, out, err = invoke("-q", *args, "--out", "-")
    assert code == 0 and err == "" and out == (tmp_path / "run.csv").read_text()


def test_out_dash_and_json_both_want_stdout(invoke: Invoke) -> None:
    code, out, err = invoke("simulate", "--out", "-", "--json")
    assert code == 1 and out == ""
    assert err.startswith("error: --out - prints") and len(err.splitlines()) == 1


def test_sweep_json_counts_the_written_cells(invoke: Invoke, tmp_path: Path) -> None:
    target = tmp_path / "map.csv"
    code, out, err = invoke("sweep", "--reg", "r1", "--x0", "theta=0.1,psi=0.1", "--axis",
                            "lr=0.05:2:6:log", "--axis", "gamma=0:1:3", "--steps", "200",
                            "--out", str(target), "--json")
    assert code == 0, err
    document = json.loads(out)
    with target.open() as handle:
        rows = list(csv.DictReader(handle))
    assert document["n_cells"] == len(rows) == 18
    assert document["counts"] == {v: sum(r["verdict"] == v for r in rows)
                                  for v in ("converged", "cycling", "diverged")}
    # cells without a prediction or with an inconclusive (marginal) one are not compared
    compared = [r for r in rows if r["linear"] in ("stable", "unstable")]
    agree = sum((r["linear"] == "stable") == (r["verdict"] == "converged") for r in compared)
    assert (document["agree_with_linear"], document["compared_with_linear"]) == (
        agree, len(compared))
    assert document["marginal_linear"] == sum(r["linear"] == "marginal" for r in rows)
    assert [a["name"] for a in document["axes"]] == ["lr", "gamma"]
    assert document["axes"][0] == {"name": "lr", "low": 0.05, "high": 2.0, "count": 6,
                                   "log": True}
    assert document["files"] == [str(target), f"{target}.meta.json"]


def test_sweep_out_dash_is_the_csv(invoke: Invoke, tmp_path: Path) -> None:
    args = ["sweep", "--axis", "lr=0.1:1:4", "--steps", "30"]
    code, out, err = invoke(*args, "--out", "-")
    assert code == 0, err
    code, _, _ = invoke(*args, "--out", str(tmp_path / "map.csv"))
    assert code == 0
    assert out == (tmp_path / "map.csv").read_text()
    code, _, err = invoke(*args, "--out", "-", "--resume")
    assert code == 1 and "--resume" in err


def test_plot_json_says_what_was_drawn(invoke: Invoke, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = invoke("simulate", "--steps", "20", "--grid", "theta=-1:1:3",
                          "--out", "run.npz")
    assert code == 0, err
    code, out, err = invoke("plot", "run.npz", "--plot", "fig.png", "--runs", "2,0", "--json",
                            "--animate", "a.gif", "--frames", "3")
    assert code == 0, err
    document = json.loads(out)
    assert document["runs"] == [2, 0]
    assert document["files"] == ["fig.png", "fig.png.json", "fig.png.data.npz",
                                 "a.gif", "a.gif.json", "a.gif.data.npz"]
    assert document["animation"] == {"file": "a.gif", "frames": 3, "fps": 20}
    assert document["vector_field"] is True and document["x"] == "step"
    sidecar = json.loads(Path("fig.png.json").read_text())
    assert sidecar["metadata"]["runs"] == document["runs"]
    assert document["n_records"] == sidecar["metadata"]["trajectory"]["n_records"] == 21
    assert document["equilibria"] == [[0.0, 0.0]]


def stdin_invoke(args: list[str], data: bytes | str) -> tuple[int, str, str]:
    from click.testing import CliRunner

    from gandyn.cli import cli

    result = CliRunner().invoke(cli, args, input=data, prog_name="gandyn")
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("fmt", ["toml", "json"])
def test_spec_on_standard_input(invoke: Invoke, tmp_path: Path, fmt: str) -> None:
    args = ["--loss", "ns", "--steps", "25", "--lr", "0.3", "--x0", "theta=0.5,psi=-1"]
    if fmt == "toml":
        code, spec, err = invoke("simulate", *args, "--dump-spec")
    else:  # a run's JSON holds its spec
        code, _, err = invoke("simulate", *args, "--out", str(tmp_path / "run.json"))
        spec = (tmp_path / "run.json").read_text()
    assert code == 0, err
    code, piped, err = stdin_invoke(["simulate", "--spec", "-", "--json"], spec)
    assert code == 0, err
    code, direct, _ = invoke("simulate", *args, "--json")
    assert json.loads(piped) == json.loads(direct)


@pytest.mark.parametrize("name", ["custom-dirac.toml", "custom-gaussian-mixture.json"])
def test_game_file_on_standard_input(invoke: Invoke, name: str) -> None:
    path = Path(__file__).parents[2] / "examples" / name
    code, piped, err = stdin_invoke(["derive", "--game-file", "-", "--format", "json"],
                                    path.read_bytes())
    assert code == 0, err
    code, direct, _ = invoke("derive", "--game-file", str(path), "--format", "json")
    assert json.loads(piped) == json.loads(direct)


def test_plot_reads_a_piped_run(invoke: Invoke, tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, csv_text, _ = invoke("simulate", "--steps", "20", "--out", "-")
    assert code == 0
    code, out, err = stdin_invoke(["plot", "-", "--plot", "fig.png", "--json"], csv_text)
    assert code == 0, err
    assert json.loads(out)["vector_field"] is False  # a CSV's spec is in its sidecar
    assert err.startswith("warning: the run on standard input holds no spec")
    with np.load("fig.png.data.npz") as shown:
        rows = list(csv.DictReader(io.StringIO(csv_text)))
        np.testing.assert_array_equal(shown["x"][0, :, 0], [float(r["theta"]) for r in rows])
    code, _, err = invoke("simulate", "--steps", "20", "--out", "run.npz")
    assert code == 0, err
    code, out, err = stdin_invoke(["plot", "-", "--plot", "npz.png", "--json"],
                                  Path("run.npz").read_bytes())
    assert code == 0, err
    assert json.loads(out)["vector_field"] is True and "warning" not in err


@pytest.mark.parametrize("args", [
    ["simulate", "--plot", "-"],
    ["sweep", "--axis", "lr=0.1:1:3", "--plot", "-"],
    ["figure", "costs", "--out", "-"],
    ["explain", "--loss", "ns", "--plot", "-"],
], ids=["simulate", "sweep", "figure", "explain"])
def test_figures_cannot_go_to_stdout(invoke: Invoke, args: list[str]) -> None:
    code, out, err = invoke(*args)
    assert code == 1 and out == ""
    assert err.strip().endswith("-: this output is written as files (with its sidecars), not "
                                "to standard output; give a file name")
    assert len(err.splitlines()) == 1
