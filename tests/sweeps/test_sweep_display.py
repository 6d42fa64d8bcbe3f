"""A sweep in a notebook: its cells as rows (numpy, pandas) and its HTML view, escaped."""

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
from gandyn.runs.spec import GameSpec, RunSpec
from gandyn.sweeps.axes import AxisSpec
from gandyn.sweeps.execution import sweep
from gandyn.sweeps.output import MEASURES, write_sweep
from gandyn.sweeps.plan import SweepSpec

HOSTILE = "<script>alert('x')</script>"


@pytest.fixture(scope="module")
def result() -> Any:
    return sweep(SweepSpec(
        run=RunSpec(game=GameSpec(regularizers=[("r1", {"gamma": 0.3})]), steps=300,
                    starts=({"theta": 0.1, "psi": 0.1},)),
        axes=(AxisSpec("lr", 0.05, 2.0, 4, log=True), AxisSpec("gamma", 0.1, 0.5, 2))))


def test_to_numpy_is_the_saved_csv(result: Any, tmp_path: Path) -> None:
    table = result.to_numpy()
    assert list(table.dtype.names) == ["lr", "gamma", "verdict", *MEASURES]
    (path, *_) = write_sweep(result, tmp_path / "map.csv", {})
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == list(table.dtype.names) and len(rows) == table.size == 8
    for name in table.dtype.names:
        column = [r[name] for r in rows]
        if table[name].dtype.kind == "U":
            assert table[name].tolist() == column
        else:
            np.testing.assert_array_equal(table[name], np.array(column, dtype=float))


def test_to_dataframe(result: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pandas")
    frame = result.to_dataframe()
    table = result.to_numpy()
    assert list(frame.columns) == list(table.dtype.names)
    assert frame["verdict"].tolist() == result.verdict_names.tolist()
    np.testing.assert_array_equal(frame["spectral_radius"].to_numpy(),
                                  result.measures["spectral_radius"])
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'gandyn\[pandas\]'"):
        result.to_dataframe()


def test_html_shows_the_counts_and_axes(result: Any, read_html: Callable[[str], Any]) -> None:
    parsed = read_html(result._repr_html_())
    verdicts = parsed.fields("verdicts")
    assert {k: int(verdicts[k]) for k in result.counts()} == result.counts()
    agree, compared = result.agreement()
    assert verdicts["agrees with the linear prediction"] == f"{agree} of {compared}"
    header, *axes = parsed.table("axes")
    assert header == ["axis", "low", "high", "count", "spacing"]
    assert axes == [["lr", "0.05", "2", "4", "log"], ["gamma", "0.1", "0.5", "2", "linear"]]
    assert int(parsed.fields("sweep")["cells"]) == 8


def test_html_escapes_axis_names(result: Any, read_html: Callable[[str], Any]) -> None:
    plan = dataclasses.replace(result.plan, axes=(
        dataclasses.replace(result.plan.axes[0], name=HOSTILE), *result.plan.axes[1:]))
    page = dataclasses.replace(result, plan=plan)._repr_html_()
    assert "<script" not in page
    assert read_html(page).table("axes")[1][0] == HOSTILE


def test_repr_is_one_short_line(result: Any) -> None:
    text = repr(result)
    assert "\n" not in text and len(text) < 200 and "array" not in text
