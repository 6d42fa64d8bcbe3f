"""``gandyn sweep``: files, one-line errors, interruption and --resume, workers and Dask."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import gandyn.sweeps.execution
from gandyn.cli import cli

BASE = ("--reg", "r1", "--axis", "lr=0.05:2:5:log", "--axis", "gamma=0:1:4", "--steps", "200",
        "--chunk-size", "6")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["sweep", *args], prog_name="gandyn")
    return result.exit_code, result.stdout, result.stderr


def rows(path: Path) -> list[dict[str, str]]:
    with open(path) as handle:
        return list(csv.DictReader(handle))


def test_marginal_linear_prediction_in_files(tmp_path: Path) -> None:
    # altgd on the bilinear game: map determinant 1, eigenvalues on the unit circle for h < 2
    # (Bailey, Gidel and Piliouras 2020): the linear column says "marginal", the summary says
    # the cells are not compared.
    target = tmp_path / "alt.csv"
    code, out, err = run("--game", "bilinear", "--optimizer", "altgd", "--axis", "lr=0.5:2.5:3",
                         "--steps", "200", "--out", str(target))
    assert code == 0, err
    assert [r["linear"] for r in rows(target)] == ["marginal", "marginal", "unstable"]
    assert "2 cells marginal (spectral radius 1 within 1e-10" in out
    meta = json.loads((tmp_path / "alt.csv.meta.json").read_text())
    assert meta["marginal_linear"] == 2 and meta["compared_with_linear"] == 1
    assert "marginal" in meta["measure_notes"]["linear"]


def test_help() -> None:
    code, out, _ = run("--help")
    assert code == 0
    assert "--axis" in out and "--resume" in out and "--scheduler" in out


def test_csv_npz_and_sidecar(tmp_path: Path) -> None:
    target = tmp_path / "map.csv"
    code, out, err = run(*BASE, "--out", str(target))
    assert code == 0, err
    assert "dirac / minimax / simgd: 20 cells (lr 5, gamma 4), 200 steps" in out
    table = rows(target)
    assert list(table[0]) == ["lr", "gamma", "verdict", "decided_at", "distance",
                              "g_loss_amplitude", "d_fake_amplitude", "spectral_radius", "linear"]
    assert len(table) == 20
    assert {r["verdict"] for r in table} <= {"converged", "cycling", "diverged"}
    # one row per cell, first axis slowest
    assert [float(r["gamma"]) for r in table[:4]] == pytest.approx([0, 1 / 3, 2 / 3, 1])
    assert float(table[4]["lr"]) > float(table[3]["lr"])
    # the linear column follows the radius: Dirac + R1 closed form rho^2 = 1 - h gamma + h^2/4
    # (complex pair, gamma < 1) at the cell lr = 0.05, gamma = 1/3
    h, gamma = 0.05, 1 / 3
    assert float(table[1]["spectral_radius"]) == pytest.approx(
        np.sqrt(1 - h * gamma + h * h / 4), rel=1e-12)
    assert table[1]["linear"] == "stable" and table[0]["linear"] == "unstable"
    meta = json.loads((tmp_path / "map.csv.meta.json").read_text())
    assert meta["columns"][:3] == ["lr", "gamma", "verdict"]
    assert meta["shape"] == [5, 4] and meta["plan"]["axes"][1]["target"] == "gamma_r1"
    assert sum(meta["counts"].values()) == 20
    assert not (tmp_path / "map.csv.chunks").exists()  # removed once the sweep is complete
    npz = tmp_path / "cells.npz"
    code, _, err = run(*BASE, "--out", str(npz))
    assert code == 0, err
    with np.load(npz, allow_pickle=False) as data:
        np.testing.assert_array_equal(data["verdict"], [r["verdict"] for r in table])
        np.testing.assert_array_equal(data["spectral_radius"],
                                      [float(r["spectral_radius"]) for r in table])
        np.testing.assert_array_equal(data["lr"], [float(r["lr"]) for r in table])


@pytest.mark.parametrize("axis, message", [
    ("lr=1:0.1:5", "error: --axis lr: empty range"),
    ("gamma=0:1:0", "error: --axis gamma: empty range"),
    ("gama=0:1:3", "error: unknown --axis name 'gama'; did you mean 'gamma_r1'"),
    ("lr=0:1:5:log", "error: --axis lr: a log axis cannot reach or cross zero"),
    ("gamma=-1:1:5:log", "error: --axis gamma: a log axis cannot reach or cross zero"),
    ("lr:0.1:1:5", "error: --axis: 'lr:0.1:1:5' is not of the form"),
])
def test_bad_axes_give_one_line(axis: str, message: str) -> None:
    code, _, err = run("--reg", "r1", "--axis", axis)
    assert code == 1
    assert err.startswith(message), err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_refuses_to_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "map.csv"
    target.write_text("precious\n")
    code, _, err = run(*BASE, "--out", str(target))
    assert code == 1 and "refusing to overwrite" in err
    assert target.read_text() == "precious\n"
    code, _, err = run(*BASE, "--out", str(target), "--force")
    assert code == 0, err


def test_plot_one_and_two_axes(tmp_path: Path) -> None:
    code, _, err = run(*BASE, "--plot", str(tmp_path / "map.png"))
    assert code == 0, err
    with np.load(tmp_path / "map.png.data.npz") as data:
        assert data["verdict"].shape == (20,)
    code, _, err = run("--game", "bilinear", "--axis", "lr=0.05:1:6:log", "--steps", "100",
                       "--plot", str(tmp_path / "line.svg"))
    assert code == 0, err
    assert (tmp_path / "line.svg").read_text().startswith("<?xml")
    # no linear prediction on a line of equilibria: the final distances are drawn instead
    code, _, err = run("--loss", "least-squares", "--axis", "lr=0.05:0.5:4:log", "--steps",
                       "50", "--plot", str(tmp_path / "ls.png"))
    assert code == 0, err
    code, _, err = run(*BASE, "--axis", "theta=0:1:2", "--plot", str(tmp_path / "three.png"))
    assert code == 1 and "one or two axes" in err


def test_interrupted_sweep_keeps_chunks_and_resumes(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    reference = tmp_path / "reference.csv"
    assert run(*BASE, "--out", str(reference))[0] == 0
    target = tmp_path / "map.csv"
    original = gandyn.sweeps.execution._chunk_task
    calls: list[int] = []

    def interrupted(plan: gandyn.sweeps.SweepPlan, index: int) -> object:
        calls.append(index)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return original(plan, index)

    monkeypatch.setattr(gandyn.sweeps.execution, "_chunk_task", interrupted)
    code, _, err = run(*BASE, "--out", str(target))
    assert code == 130
    assert "interrupted: 2 of 4 chunks kept" in err and "--resume" in err
    assert not target.exists()
    assert len(list((tmp_path / "map.csv.chunks").glob("chunk-*.npz"))) == 2
    monkeypatch.setattr(gandyn.sweeps.execution, "_chunk_task", original)
    code, _, err = run(*BASE, "--out", str(target))
    assert code == 1 and "holds an unfinished sweep: --resume completes it" in err
    code, _, err = run(*BASE, "--out", str(target), "--steps", "201", "--resume")
    assert code == 1 and "chunks of another sweep" in err
    code, _, err = run(*BASE, "--out", str(target), "--resume")
    assert code == 0, err
    assert target.read_bytes() == reference.read_bytes()
    meta = json.loads((tmp_path / "map.csv.meta.json").read_text())
    assert meta["execution"]["chunks_reused"] == 2


def test_workers_give_identical_files(tmp_path: Path) -> None:
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    assert run(*BASE, "--out", str(one))[0] == 0
    code, _, err = run(*BASE, "--out", str(two), "--workers", "2")
    assert code == 0, err
    assert one.read_bytes() == two.read_bytes()


def test_dask_cluster_gives_identical_files(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    local = tmp_path / "local.csv"
    assert run(*BASE, "--out", str(local))[0] == 0
    # a worker in this process, reached over TCP on loopback as a remote scheduler would be
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  protocol="tcp", host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        remote = tmp_path / "dask.csv"
        code, _, err = run(*BASE, "--out", str(remote), "--scheduler", cluster.scheduler_address)
        assert code == 0, err
    assert remote.read_bytes() == local.read_bytes()
    meta = json.loads((tmp_path / "dask.csv.meta.json").read_text())
    assert meta["execution"]["scheduler"].startswith("tcp://127.0.0.1")


@pytest.mark.slow
def test_local_dask_cluster_of_two_processes(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    local, dask = tmp_path / "local.npz", tmp_path / "dask.npz"
    assert run(*BASE, "--out", str(local))[0] == 0
    code, _, err = run(*BASE, "--out", str(dask), "--scheduler", "local", "--workers", "2")
    assert code == 0, err
    with np.load(local) as a, np.load(dask) as b:
        for key in a.files:
            if key != "meta":  # the sidecar records how it ran
                np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_altmomentum_sweep_over_beta_matches_its_bilinear_boundary() -> None:
    # On the bilinear game alternating heavy ball converges exactly for -1 + h/2 < beta < 0
    # (tests/test_optimizers.py); the sweep's linear column must say so cell by cell.
    import numpy as np

    from gandyn.sweeps import AxisSpec, SweepSpec, make_plan, merge_sweep, run_sweep

    plan = make_plan(merge_sweep(SweepSpec(), game="bilinear", optimizer="altmomentum", lr=0.2,
                                 steps=50, axes=[AxisSpec("beta", -0.99, 0.5, 31)],
                                 starts=[{"theta": 1.0, "psi": 1.0}]))
    result = run_sweep(plan)
    beta = result.axis_values["beta"]
    rho = result.measures["spectral_radius"]
    inside = (beta > -0.9 + 1e-9) & (beta < -1e-9)
    assert inside.any() and (~inside).any()
    assert np.all(rho[inside] < 1) and np.all(rho[~inside] >= 1 - 1e-12)


def test_sweep_spec_dump_round_trip_and_overrides(tmp_path: Path) -> None:
    code, dumped, err = run("--reg", "r1:gamma=0.5", "--x0", "theta=0.1",
                              "--axis", "lr=0.05:2:3:log", "--steps", "60", "--dump-spec")
    assert code == 0, err
    assert "[[axes]]" in dumped and "window = 30" in dumped and "gamma = 0.5" in dumped
    spec = tmp_path / "sweep.toml"
    spec.write_text(dumped)
    code, again, err = run("--spec", str(spec), "--dump-spec")
    assert code == 0 and again == dumped, err
    code, changed, err = run("--spec", str(spec), "--steps", "90", "--axis", "gamma=0:1:2",
                               "--dump-spec")
    assert code == 0, err
    assert "steps = 90" in changed and 'name = "gamma"' in changed and '"lr"' not in changed
    # window was resolved (30) into the file: the file keeps it.
    assert "window = 30" in changed
    # The same sweep from flags and from the file writes the same cells.
    for name, args in (("flags.csv", ["--reg", "r1:gamma=0.5", "--x0", "theta=0.1",
                                      "--axis", "lr=0.05:2:3:log", "--steps", "60"]),
                       ("file.csv", ["--spec", str(spec)])):
        code, _, err = run(*args, "--out", str(tmp_path / name))
        assert code == 0, err
    assert (tmp_path / "flags.csv").read_bytes() == (tmp_path / "file.csv").read_bytes()
    # A sweep's sidecar is a spec file too.
    code, from_sidecar, err = run("--spec", str(tmp_path / "file.csv.meta.json"), "--dump-spec")
    assert code == 0 and from_sidecar == dumped, err


@pytest.mark.parametrize(("text", "fragment"), [
    ("axes = 3\n", "spec file bad.toml: axes must be a list of tables"),
    ("[[axes]]\nname = 'lr'\nlow = 0.1\nhigh = 1.0\n", "axes[0]: count must be an integer"),
    ("tol = 'small'\n", "spec file bad.toml: tol must be a number"),
    ("every = 2\n", "unknown setting in spec file bad.toml 'every'"),
    ("[[axes]]\nname = 'lr'\nlow = 0.0\nhigh = 1.0\ncount = 3\nlog = true\n",
     "a log axis cannot reach or cross zero"),
])
def test_bad_sweep_spec_file(tmp_path: Path, text: str, fragment: str) -> None:
    spec = tmp_path / "bad.toml"
    spec.write_text(text)
    code, _, err = run("--spec", str(spec))
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], err


def test_a_sweep_of_the_flow_by_rk4_steps_from_the_command_line(tmp_path: Path) -> None:
    """``--optimizer flow --method rk4``: each cell is RK4 with step ``lr`` on the bilinear
    rotation ``x' = (-psi, theta)``, whose map is ``R(J h)`` with ``J``'s eigenvalues ``+-i``:
    the spectral radius is ``|R(ih)| = |1 - h^2/2 + h^4/24 + i (h - h^3/6)|``."""
    out = tmp_path / "flow.csv"
    code, _, err = run("--game", "bilinear", "--optimizer", "flow", "--method", "rk4",
                       "--axis", "lr=0.5:3:6", "--steps", "40", "--out", str(out))
    assert code == 0, err
    cells = rows(out)
    h = np.array([float(c["lr"]) for c in cells])
    stability = np.abs(1 - h**2 / 2 + h**4 / 24 + 1j * (h - h**3 / 6))
    np.testing.assert_allclose([float(c["spectral_radius"]) for c in cells], stability,
                               rtol=1e-9)
    # Above h = 2 sqrt(2), |R(ih)| > 1: those cells diverge or grow; below it none diverges.
    for cell, radius in zip(cells, stability, strict=True):
        assert (cell["linear"] == "stable") == (radius < 1)
    code, _, err = run("--game", "bilinear", "--optimizer", "flow", "--axis", "lr=0.5:3:6")
    assert code != 0 and "--method rk4" in err and len(err.strip().splitlines()) == 1


def test_a_sweep_of_lola_uses_the_cross_derivatives_per_cell(tmp_path: Path) -> None:
    """LOLA on the bilinear game ``f = theta psi`` with the look-ahead at each player's own rate
    ``h``: the map is ``x' = (1 - 2 h^2) x + h A x`` with ``A`` a quarter rotation, so its
    eigenvalues are ``1 - 2 h^2 -+ i h`` and ``rho(h) = sqrt((1 - 2 h^2)^2 + h^2)`` (derived in
    tests/rules/test_opponent.py); each cell's spectral radius must be that. Sweeps refused
    these rules before their numeric game carried the cross derivatives."""
    out = tmp_path / "lola.csv"
    code, _, err = run("--game", "bilinear", "--optimizer", "lola", "--axis", "lr=0.1:1.1:5",
                       "--steps", "60", "--out", str(out))
    assert code == 0, err
    cells = rows(out)
    h = np.array([float(c["lr"]) for c in cells])
    np.testing.assert_allclose([float(c["spectral_radius"]) for c in cells],
                               np.sqrt((1 - 2 * h**2) ** 2 + h**2), rtol=1e-9)
