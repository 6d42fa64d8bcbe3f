"""gandyn.tables: structured arrays, DataFrames without a hard pandas dependency, escaped HTML."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from gandyn.errors import GandynError, MissingDependencyError
from gandyn.tables import (
    MAX_HTML_ROWS,
    PANDAS_HINT,
    cell_text,
    dataframe,
    html_block,
    html_fields,
    html_table,
    structured,
)

HOSTILE = "<script>alert('x & \"y\"')</script>"


def test_structured_keeps_names_order_and_dtypes() -> None:
    table = structured({"run": np.array([0, 0, 1]), "t": [0.0, 0.5, 0.0],
                        "verdict": np.array(["converged", "cycling", "diverged"])})
    assert table.dtype.names == ("run", "t", "verdict")
    assert table["run"].dtype == np.int64 and table["t"].dtype == np.float64
    assert table["verdict"].tolist() == ["converged", "cycling", "diverged"]
    with pytest.raises(ValueError, match="one length"):
        structured({"a": [1, 2], "b": [1.0]})


def test_dataframe_without_pandas_is_one_line_naming_the_extra(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # "import pandas" now raises ImportError
    with pytest.raises(MissingDependencyError) as caught:
        dataframe({"a": [1.0]}, "a run")
    message = str(caught.value)
    assert "\n" not in message and PANDAS_HINT in message and "a run" in message
    assert isinstance(caught.value, GandynError)


def test_dataframe_with_pandas_has_the_columns() -> None:
    pandas = pytest.importorskip("pandas")
    frame = dataframe({"x": np.arange(3.0), "name": np.array(["a", "b", "c"])}, "a run")
    assert isinstance(frame, pandas.DataFrame)
    assert list(frame.columns) == ["x", "name"]
    assert frame["x"].tolist() == [0.0, 1.0, 2.0]


def test_import_gandyn_and_its_tables_load_no_pandas() -> None:
    code = ("import sys, gandyn\n"
            "result = gandyn.simulate(steps=3)\n"
            "result.to_numpy(); result._repr_html_()\n"
            "print('pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(("value", "text"), [
    (None, ""), (True, "yes"), (np.bool_(False), "no"), (3, "3"), (np.int64(-2), "-2"),
    (0.1234567891, "0.123457"), (-0.0, "0"), (float("nan"), "nan"), (float("inf"), "inf"),
    (complex(-0.15, -0.47697), "-0.15 - 0.47697i"), (complex(0, 0.5), "0 + 0.5i"),
    ({"theta": 0.0, "psi": 1.5}, "theta = 0, psi = 1.5"), ((1, 2.5), "1, 2.5"),
])
def test_cell_text(value: Any, text: str) -> None:
    assert cell_text(value) == text


def test_every_text_is_escaped(read_html: Callable[[str], Any]) -> None:
    page = html_block(HOSTILE, html_fields([(HOSTILE, HOSTILE)], caption=HOSTILE),
                      html_table([[HOSTILE, 1.5]], [HOSTILE, "x"], caption="rows"),
                      note=HOSTILE)
    assert "<script" not in page and "&lt;script&gt;" in page
    parsed = read_html(page)  # only the allowed elements: the hostile one stayed text
    assert parsed.fields(HOSTILE) == {HOSTILE: HOSTILE}
    assert parsed.table("rows") == [[HOSTILE, "x"], [HOSTILE, "1.5"]]
    assert parsed.paragraphs == [HOSTILE, HOSTILE]


def test_long_tables_say_how_many_rows_they_show(read_html: Callable[[str], Any]) -> None:
    rows = [[i] for i in range(40)]
    page = html_block("t", html_table(rows, ["i"], caption="c"))
    parsed = read_html(page)
    assert len(parsed.table("c")) == 1 + MAX_HTML_ROWS
    assert f"{MAX_HTML_ROWS} of 40 rows shown." in parsed.paragraphs
