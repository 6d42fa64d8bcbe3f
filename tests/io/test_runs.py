"""gandyn.io.saved_runs: saved runs read back exactly, malformed files refused in one line.

The references are the trajectories themselves (a round trip must give back
what was written, bit for bit) and, for the rebuilt vector field, the
Dirac-GAN's field in closed form (Mescheder, Geiger and Nowozin 2018, Sec. 2.2).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gandyn.dynamics.trajectory import Trajectory
from gandyn.errors import InputFileError, SpecError
from gandyn.io.saved_runs import (
    FieldUnavailable,
    parse_runs,
    read_run,
    read_trajectory,
    rebuild_field,
    select_runs,
)
from gandyn.io.trajectory_files import write_trajectory
from gandyn.runs.build import simulate


def _simulate(**changes: Any) -> tuple[Trajectory, dict[str, Any]]:
    result = simulate(**{"loss": "non-saturating", "steps": 40, "every": 3, **changes})
    return result.trajectory, result.spec.to_dict()


def _assert_same(a: Trajectory, b: Trajectory) -> None:
    assert a.state_names == b.state_names
    assert a.logged_names == b.logged_names
    for name in ("step", "t", "x", "logged", "diverged", "diverged_at"):
        left, right = getattr(a, name), getattr(b, name)
        assert left.dtype == right.dtype, name
        assert left.shape == right.shape, name
        # bit for bit: the same float64 values, NaN where NaN was written
        assert np.array_equal(left, right, equal_nan=left.dtype.kind == "f"), name
    assert a.method == b.method
    assert a.measure == b.measure
    assert a.message == b.message


@pytest.fixture(scope="module")
def two_runs() -> tuple[Trajectory, dict[str, Any]]:
    # An irrational learning rate and start make every value use all 17 digits.
    return _simulate(lr_g=0.1 * np.pi, lr_d=0.1 * np.e, regularizers=[("r1", {"gamma": 0.3})],
                     starts=[{"theta": 1 / 3, "psi": np.sqrt(2)}, {"theta": -0.7, "psi": 0.2}])


@pytest.mark.parametrize("suffix", [".npz", ".csv", ".json"])
def test_round_trip_is_exact(tmp_path: Path, two_runs: tuple[Trajectory, dict[str, Any]],
                             suffix: str) -> None:
    traj, spec = two_runs
    path = tmp_path / f"run{suffix}"
    write_trajectory(traj, path, spec)
    saved = read_run(path)
    # CSV numbers are written with repr(), the shortest text that parses back to the same
    # float64, so the CSV round trip is exact too (for the losses a CSV has columns for;
    # the Dirac-GAN logs all five).
    _assert_same(saved.trajectory, traj)
    assert saved.spec == json.loads(json.dumps(spec))
    assert saved.meta is not None and saved.meta["gandyn_version"]
    assert saved.meta_path == (path if suffix != ".csv" else tmp_path / "run.csv.meta.json")
    _assert_same(read_trajectory(path), traj)


def test_round_trip_of_the_flow_and_of_minibatches(tmp_path: Path) -> None:
    flow, spec = _simulate(optimizer="flow", settings={"n_eval": 31, "t_end": 7.0})
    write_trajectory(flow, tmp_path / "flow.npz", spec)
    _assert_same(read_trajectory(tmp_path / "flow.npz"), flow)
    assert read_trajectory(tmp_path / "flow.npz").method["rates"] == [1.0, 1.0]
    noisy, spec = _simulate(game="gaussian", game_options={"order": 4}, optimizer="adam",
                            lr_g=0.01, lr_d=0.01, batch_size=8, seed=3, measure="loop")
    write_trajectory(noisy, tmp_path / "noisy.csv", spec)
    _assert_same(read_trajectory(tmp_path / "noisy.csv"), noisy)


def test_round_trip_keeps_divergence(tmp_path: Path) -> None:
    # Wasserstein Dirac-GAN under simultaneous steps spirals out (Mescheder et al. 2018,
    # Lemma 2.3: the eigenvalues of its map lie outside the unit circle).
    traj, spec = _simulate(loss="wasserstein", lr_g=0.6, lr_d=0.6, steps=60, every=1,
                           max_norm=5.0,
                           starts=[{"theta": 1.0, "psi": 1.0}, {"theta": 0.0, "psi": 0.0}])
    assert traj.diverged.tolist() == [True, False]
    for suffix in (".npz", ".csv", ".json"):
        path = tmp_path / f"d{suffix}"  # d.csv and d.npz each have their own sidecar
        write_trajectory(traj, path, spec)
        back = read_trajectory(path)
        _assert_same(back, traj)
        assert np.isnan(back.diverged_at[1]) and back.diverged_at[0] == traj.diverged_at[0]


def test_metadata_keeps_the_written_order(tmp_path: Path,
                                          two_runs: tuple[Trajectory, dict[str, Any]]) -> None:
    traj, spec = two_runs
    write_trajectory(traj, tmp_path / "run.npz", spec)
    saved = read_run(tmp_path / "run.npz")
    assert saved.spec is not None
    assert list(saved.spec) == list(spec)
    assert list(saved.trajectory.method) == list(traj.method)


def test_csv_without_sidecar(tmp_path: Path) -> None:
    # The bilinear game has direct costs: no d_x, d_gz (written as nan). Without the
    # sidecar the reader keeps the losses that are not nan throughout.
    traj, spec = _simulate(game="bilinear", loss=None)
    assert traj.logged_names == ("d_real", "d_fake", "g_loss")
    path = tmp_path / "b.csv"
    write_trajectory(traj, path, spec)
    (tmp_path / "b.csv.meta.json").unlink()
    saved = read_run(path)
    assert saved.meta is None and saved.meta_path is None and saved.spec is None
    back = saved.trajectory
    assert back.logged_names == traj.logged_names
    np.testing.assert_array_equal(back.x, traj.x)
    np.testing.assert_array_equal(back.logged, traj.logged)
    assert back.method == {} and back.measure == "state" and not back.diverged.any()
    with pytest.raises(FieldUnavailable, match=r"no b\.csv\.meta\.json beside b\.csv"):
        rebuild_field(saved)


def test_npz_without_meta_uses_the_sidecar(tmp_path: Path,
                                           two_runs: tuple[Trajectory, dict[str, Any]]) -> None:
    traj, spec = two_runs
    path = tmp_path / "run.npz"
    write_trajectory(traj, path, spec)
    with np.load(path) as archive:
        arrays = {k: archive[k] for k in archive.files if k != "meta"}
    np.savez(path, **arrays)  # type: ignore[arg-type]
    saved = read_run(path)
    assert saved.meta_path == tmp_path / "run.npz.meta.json"
    _assert_same(saved.trajectory, traj)


def test_rebuilt_field_is_the_dirac_field_in_closed_form(tmp_path: Path) -> None:
    # Non-saturating Dirac-GAN with R1 (gamma) and data at c: with l = psi theta,
    #   dtheta/dt = psi sigmoid(-l),
    #   dpsi/dt   = c sigmoid(-c psi) - theta sigmoid(l) - gamma psi.
    traj, spec = _simulate(regularizers=[("r1", {"gamma": 0.3})], params={"c": 0.5})
    write_trajectory(traj, tmp_path / "run.csv", spec)
    field = rebuild_field(read_run(tmp_path / "run.csv"))
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, (50, 2))
    theta, psi = x[:, 0], x[:, 1]

    def sig(v: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-v))

    expected = np.stack([psi * sig(-psi * theta),
                         0.5 * sig(-0.5 * psi) - theta * sig(psi * theta) - 0.3 * psi], axis=-1)
    np.testing.assert_allclose(field.field_fn(x), expected, rtol=1e-12, atol=1e-14)


def test_game_file_found_beside_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = Path(__file__).resolve().parents[2] / "examples" / "custom-dirac.toml"
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "custom.toml").write_text(source.read_text())
    monkeypatch.chdir(runs)
    traj, spec = _simulate(game_file="custom.toml")
    write_trajectory(traj, runs / "run.npz", spec)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    field = rebuild_field(read_run(runs / "run.npz"))
    assert field.game.name == "custom-dirac"
    (runs / "custom.toml").unlink()
    with pytest.raises(FieldUnavailable, match=r"game file custom\.toml"):
        rebuild_field(read_run(runs / "run.npz"))


def test_select_and_parse_runs(two_runs: tuple[Trajectory, dict[str, Any]]) -> None:
    traj, _ = two_runs
    assert parse_runs("1, 0", 2) == [1, 0]
    chosen = select_runs(traj, [1])
    assert chosen.n_runs == 1
    np.testing.assert_array_equal(chosen.x[0], traj.x[1])
    np.testing.assert_array_equal(chosen.logged[0], traj.logged[1])
    np.testing.assert_array_equal(chosen.step, traj.step)
    for text, fragment in [("2", "out of range"), ("a", "not a run number"),
                           ("0,0", "given twice"), ("-1", "out of range")]:
        with pytest.raises(SpecError, match=fragment):
            parse_runs(text, 2)


# --- malformed input: one line each -------------------------------------------------------------


def _written(tmp_path: Path, traj: Trajectory, spec: dict[str, Any], suffix: str,
             stem: str = "run") -> Path:
    path = tmp_path / f"{stem}{suffix}"
    write_trajectory(traj, path, spec)
    return path


def _edit_csv(path: Path, line: int, column: int, value: str) -> None:
    lines = path.read_text().splitlines()
    cells = lines[line - 1].split(",")
    cells[column] = value
    lines[line - 1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")


def _edit_meta(path: Path, key: str, value: Any) -> None:
    meta = json.loads(path.read_text())
    meta[key] = value
    path.write_text(json.dumps(meta))


def _cases() -> list[tuple[str, str, Any]]:
    return [
        ("csv", "non-numeric", lambda p: _edit_csv(p, 3, 4, "abc")),
        ("csv", "header", lambda p: _edit_csv(p, 1, 2, "time")),
        ("csv", "header-state", lambda p: _edit_csv(p, 1, 3, "phi")),
        ("csv", "columns", lambda p: p.write_text(p.read_text() + "0,1,2\n")),
        ("csv", "grouped", lambda p: p.write_text(
            "\n".join([p.read_text().splitlines()[0], *sorted(p.read_text().splitlines()[1:],
                                                              key=lambda r: r.split(",")[1])])
            + "\n")),
        ("csv", "empty", lambda p: p.write_text("")),
        ("csv", "sidecar-names", lambda p: _edit_meta(_side(p),
                                                      "state_names", ["theta", "phi"])),
        ("csv", "sidecar-runs", lambda p: (
            _edit_meta(_side(p), "n_runs", 3),
            _edit_meta(_side(p), "diverged", [False] * 3),
            _edit_meta(_side(p), "diverged_at", [None] * 3))),
        ("csv", "sidecar-json", lambda p: _side(p).write_text("{oops")),
        ("csv", "sidecar-keys", lambda p: _side(p).write_text("{}")),
        ("npz", "not-zip", lambda p: p.write_bytes(b"not a zip file")),
        ("npz", "missing-array", lambda p: _rewrite_npz(p, drop="logged")),
        ("npz", "strings", lambda p: _rewrite_npz(p, x=np.array([[["a", "b"]]]))),
        ("npz", "shape", lambda p: _rewrite_npz(p, t=np.zeros(3))),
        ("npz", "sidecar-differs", lambda p: _edit_meta(_side(p),
                                                        "message", "edited")),
        ("json", "not-json", lambda p: p.write_text("[1, 2")),
        ("json", "nan-text", lambda p: p.write_text(
            p.read_text().replace('"x": [[[', '"x": [[["one", ', 1))),
    ]


def _side(path: Path) -> Path:
    return path.with_name(path.name + ".meta.json")


def _rewrite_npz(path: Path, drop: str | None = None, **replace: Any) -> None:
    with np.load(path) as archive:
        arrays = {k: archive[k] for k in archive.files if k != drop}
    arrays.update(replace)
    with zipfile.ZipFile(path, "w") as out:
        for key, value in arrays.items():
            with out.open(f"{key}.npy", "w") as handle:
                np.lib.format.write_array(handle, np.asarray(value))


EXPECTED = {
    "non-numeric": r"run\.csv line 3: 'abc' in column 'psi' is not a number",
    "header": "the header must be run,step,t",
    "columns": "line 32: 3 columns, the header has 10",  # 2 runs x 15 records + header
    "grouped": "grouped by run",
    "empty": "empty file",
    "header-state": r"run\.(csv|npz)\.meta\.json does not match the run: state theta, psi "
                    "but the data have phi, psi",
    "sidecar-names": r"run\.(csv|npz)\.meta\.json does not match the run: state theta, phi",
    "sidecar-runs": r"run\.(csv|npz)\.meta\.json does not match the run: 3 run\(s\)",
    "sidecar-json": r"run\.(csv|npz)\.meta\.json: not valid JSON",
    "sidecar-keys": "metadata without 'spec'",
    "not-zip": "not an .npz archive",
    "missing-array": "no 'logged' array",
    "strings": "'x' must hold numbers",
    "shape": r"'t' has shape \(3,\), expected \(15,\)",
    "sidecar-differs": r"run\.(csv|npz)\.meta\.json does not match the metadata stored in",
    "not-json": "not valid JSON",
    "nan-text": "'x' must hold numbers only",
}


@pytest.mark.parametrize(("fmt", "name", "damage"), _cases(), ids=[c[1] for c in _cases()])
def test_malformed_runs_are_refused(tmp_path: Path, two_runs: tuple[Trajectory, dict[str, Any]],
                                    fmt: str, name: str, damage: Any) -> None:
    traj, spec = two_runs
    path = _written(tmp_path, traj, spec, f".{fmt}")
    damage(path)
    with pytest.raises(SpecError, match=EXPECTED[name]) as info:
        read_run(path)
    assert "\n" not in str(info.value)


def test_unknown_extension_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"unknown format '\.txt' \(use \.csv, \.npz, \.json\)"):
        read_run(tmp_path / "run.txt")
    with pytest.raises(InputFileError, match="no such file"):
        read_run(tmp_path / "run.npz")
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(InputFileError, match="is a folder"):
        read_run(tmp_path / "dir.csv")


def test_unknown_names_in_the_stored_spec(tmp_path: Path,
                                          two_runs: tuple[Trajectory, dict[str, Any]]) -> None:
    traj, spec = two_runs
    path = _written(tmp_path, traj, {**spec, "game": {**spec["game"], "loss": "non-saturatin"}},
                    ".csv")
    with pytest.raises(SpecError, match="the stored spec: unknown loss 'non-saturatin'"):
        rebuild_field(read_run(path))
    other = {**spec["game"], "name": "gaussian", "regularizers": []}
    path = _written(tmp_path, traj, {**spec, "game": other}, ".npz", stem="other")
    with pytest.raises(SpecError, match="its game has the state theta_mu"):
        rebuild_field(read_run(path))


def test_a_sidecar_of_the_earlier_flat_form_still_rebuilds_its_field(tmp_path: Path) -> None:
    # Runs saved before specs were structured hold option text in a flat table.
    traj, _ = _simulate(regularizers=[("r1", {"gamma": 0.3})], params={"c": 0.5})
    earlier = {"game": "dirac", "game_file": None, "loss": "non-saturating",
               "regularizers": ["r1:gamma=0.3"], "params": {"c": 0.5}, "optimizer": "simgd",
               "lr_g": 0.1, "lr_d": 0.1, "settings": {}, "steps": 40, "every": 3,
               "measure": "state", "max_norm": 1e6, "clip": None, "batch_size": None,
               "batch_size_g": None, "seed": 0, "starts": [{"theta": 1.0, "psi": 1.0}]}
    write_trajectory(traj, tmp_path / "run.csv", earlier)
    saved = read_run(tmp_path / "run.csv")
    field = rebuild_field(saved)
    assert [r.name for r in field.game.regularizers] == ["r1"]
    assert dict((p.name, p.value) for p in field.game.params) == {"c": 0.5, "gamma_r1": 0.3}
