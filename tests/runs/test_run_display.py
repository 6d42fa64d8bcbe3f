"""A run in a notebook: the trajectory as rows (numpy, pandas), its HTML view, short reprs."""

from __future__ import annotations

import csv
import dataclasses
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gandyn.errors import MissingDependencyError
from gandyn.io.trajectory_files import write_trajectory
from gandyn.runs.build import simulate
from gandyn.tables import MAX_HTML_ROWS

HOSTILE = "<script>alert('x')</script>"


@pytest.fixture(scope="module")
def result() -> Any:
    return simulate(loss="non-saturating", optimizer="altgd", lr=0.2, steps=40,
                    regularizers=[("r1", {"gamma": 0.3})],
                    starts=[{"theta": 1.0, "psi": 1.0}, {"theta": -0.5, "psi": 2.0}])


def test_to_numpy_is_the_saved_csv(result: Any, tmp_path: Path) -> None:
    table = result.to_numpy()
    # the rows gandyn simulate --out run.csv writes, read back by the csv module
    (path, *_) = write_trajectory(result.trajectory, tmp_path / "run.csv", {})
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(table.dtype.names) == list(rows[0])
    assert table.size == len(rows) == 2 * 41
    for name in table.dtype.names:
        np.testing.assert_array_equal(table[name], [float(r[name]) for r in rows])


def test_to_numpy_reshapes_to_the_trajectory(result: Any) -> None:
    traj = result.trajectory
    table = traj.to_numpy()
    shape = traj.x.shape[:2]
    np.testing.assert_array_equal(table["run"].reshape(shape), [[0] * 41, [1] * 41])
    np.testing.assert_array_equal(table["t"].reshape(shape)[1], traj.t)
    for name in traj.state_names:
        np.testing.assert_array_equal(table[name].reshape(shape), traj.coordinate(name))
    for name in traj.logged_names:
        np.testing.assert_array_equal(table[name].reshape(shape), traj.loss(name))


def test_per_run_clocks_give_each_run_its_times(result: Any) -> None:
    # a rule with per-run rates records t as (B, n_t): each run on its own clock
    traj = result.trajectory
    clocks = dataclasses.replace(traj, t=np.stack([traj.t, 2.0 * traj.t]))
    np.testing.assert_array_equal(clocks.to_numpy()["t"], np.concatenate([traj.t, 2.0 * traj.t]))


def test_to_dataframe(result: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pandas")
    frame = result.to_dataframe()
    table = result.to_numpy()
    assert list(frame.columns) == list(table.dtype.names)
    for name in table.dtype.names:
        np.testing.assert_array_equal(frame[name].to_numpy(), table[name])
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'gandyn\[pandas\]'"):
        result.to_dataframe()


def test_html_shows_the_spec_and_each_run(result: Any, read_html: Callable[[str], Any]) -> None:
    parsed = read_html(result._repr_html_())
    spec = parsed.fields("spec")
    assert spec["method"] == "altgd" and float(spec["lr_g"]) == 0.2
    assert spec["regularizers"] == "r1:gamma=0.3" and int(spec["steps"]) == 40
    traj = result.trajectory
    header, *rows = parsed.table("runs (end: the last record)")
    assert len(rows) == 2
    for run, row in enumerate(rows):
        cells = dict(zip(header, row, strict=True))
        assert int(cells["run"]) == run
        for i, name in enumerate(traj.state_names):
            assert float(cells[f"{name} start"]) == pytest.approx(traj.x[run, 0, i], rel=1e-5)
            assert float(cells[f"{name} end"]) == pytest.approx(traj.x[run, -1, i], rel=1e-5)
        for name in traj.logged_names:
            assert float(cells[f"{name} end"]) == pytest.approx(traj.loss(name)[run, -1],
                                                                rel=1e-5)
        assert cells["diverged at"] == ""


def test_html_escapes_names_and_limits_rows(result: Any, read_html: Callable[[str], Any]) -> None:
    traj = result.trajectory
    many = simulate(steps=3, starts=[{"theta": 0.1 * k} for k in range(MAX_HTML_ROWS + 5)])
    assert f"{MAX_HTML_ROWS} of {MAX_HTML_ROWS + 5} rows shown." in read_html(
        many.trajectory._repr_html_()).paragraphs
    hostile = dataclasses.replace(traj, logged_names=(HOSTILE, *traj.logged_names[1:]),
                                  method={**traj.method, HOSTILE: HOSTILE})
    page = hostile._repr_html_()
    assert "<script" not in page
    parsed = read_html(page)
    assert f"{HOSTILE} end" in parsed.table("runs (end: the last record)")[0]
    assert parsed.fields("method")[HOSTILE] == HOSTILE


def test_reprs_are_one_short_line(result: Any) -> None:
    for text in (repr(result), repr(result.trajectory)):
        assert "\n" not in text and len(text) < 250 and "array" not in text
    assert repr(result).startswith("RunResult(dirac / non-saturating + r1:gamma=0.3 / altgd: "
                                   "2 runs x 41 records")
