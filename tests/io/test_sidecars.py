"""Each saved run has its own sidecar; the names of earlier versions are still read; inputs are
regular UTF-8 files or a one-line error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gandyn.dynamics.trajectory import Trajectory
from gandyn.errors import InputFileError
from gandyn.io.saved_runs import read_run
from gandyn.io.trajectory_files import write_trajectory
from gandyn.runs.build import simulate
from gandyn.runs.spec import RunSpec
from gandyn.runs.spec_files import load_spec


def _run(lr: float) -> tuple[Trajectory, dict[str, Any]]:
    spec = RunSpec.from_dict({"steps": 12, "rule": {"name": "simgd", "lr_g": lr, "lr_d": lr}},
                             "test")
    result = simulate(spec)
    return result.trajectory, result.spec.to_dict()


def test_csv_and_npz_of_one_stem_keep_their_own_sidecars(tmp_path: Path) -> None:
    # Two different runs written as run.csv and run.npz in one folder: before, both wrote
    # run.meta.json and the second broke the first.
    slow, fast = _run(0.05), _run(0.3)
    write_trajectory(slow[0], tmp_path / "run.csv", slow[1])
    write_trajectory(fast[0], tmp_path / "run.npz", fast[1])
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "run.csv", "run.csv.meta.json", "run.npz", "run.npz.meta.json"]
    csv, npz = read_run(tmp_path / "run.csv"), read_run(tmp_path / "run.npz")
    assert csv.spec is not None and npz.spec is not None
    assert csv.spec["rule"]["lr_g"] == 0.05 and npz.spec["rule"]["lr_g"] == 0.3
    np.testing.assert_array_equal(csv.trajectory.x, slow[0].x)
    np.testing.assert_array_equal(npz.trajectory.x, fast[0].x)


def test_the_sidecar_name_of_earlier_versions_is_still_read(tmp_path: Path) -> None:
    traj, spec = _run(0.1)
    write_trajectory(traj, tmp_path / "run.csv", spec)
    (tmp_path / "run.csv.meta.json").rename(tmp_path / "run.meta.json")  # as 0.1 wrote it
    saved = read_run(tmp_path / "run.csv")
    assert saved.meta_path == tmp_path / "run.meta.json"
    assert saved.trajectory.method == traj.method and saved.spec == spec
    assert load_spec(tmp_path / "run.meta.json").to_dict() == spec


def test_the_new_sidecar_name_wins_over_the_old(tmp_path: Path) -> None:
    traj, spec = _run(0.1)
    write_trajectory(traj, tmp_path / "run.csv", spec)
    (tmp_path / "run.meta.json").write_text("{not json")  # a stale old sidecar is not read
    assert read_run(tmp_path / "run.csv").meta_path == tmp_path / "run.csv.meta.json"


def test_a_sidecar_that_is_a_folder_is_one_line(tmp_path: Path) -> None:
    traj, spec = _run(0.1)
    write_trajectory(traj, tmp_path / "run.csv", spec)
    (tmp_path / "run.csv.meta.json").unlink()
    (tmp_path / "run.csv.meta.json").mkdir()
    with pytest.raises(InputFileError) as info:
        read_run(tmp_path / "run.csv")
    assert str(info.value) == (f"cannot read sidecar {tmp_path / 'run.csv.meta.json'}: it is a "
                               "folder; give a regular file, or - for standard input")
    with pytest.raises(InputFileError, match="it is a folder"):
        load_spec(tmp_path / "run.csv.meta.json")


def test_a_spec_file_that_is_not_utf8_names_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "spec.toml"
    before = b"steps = 10\n# caf"
    path.write_bytes(before + b"\xe9\n")  # Latin-1, not UTF-8
    with pytest.raises(InputFileError) as info:
        load_spec(path)
    assert str(info.value) == (f"spec file {path} is not UTF-8 text: byte 0xe9 at offset "
                               f"{len(before)}")


def test_a_run_that_is_not_utf8_names_the_byte(tmp_path: Path) -> None:
    traj, spec = _run(0.1)
    path = tmp_path / "run.csv"
    write_trajectory(traj, path, spec)
    data = path.read_bytes()
    path.write_bytes(data[:40] + b"\xff" + data[41:])
    with pytest.raises(InputFileError, match="is not UTF-8 text: byte 0xff at offset 40"):
        read_run(path)


def test_a_figure_sidecar_is_a_spec(tmp_path: Path) -> None:
    _, spec = _run(0.1)
    side = tmp_path / "fig.pdf.json"
    side.write_text(json.dumps({"gandyn_version": "0.2", "spec": spec}))
    assert load_spec(side).to_dict() == spec
