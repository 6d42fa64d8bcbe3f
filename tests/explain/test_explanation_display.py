"""An explanation in a notebook: its HTML view, escaped, and its series as tables."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gandyn.errors import MissingDependencyError
from gandyn.explain.from_log import explain_log

#: A column name a log may carry; it must reach the notebook as text, never as markup.
HOSTILE = "<script>alert('g')</script>"


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray[Any, Any]]:
    """A CSV log under a file name with markup characters: d_fake = softplus(l),
    g_loss = softplus(-l) of a slowly moving logit with noise, and the logit."""
    rng = np.random.default_rng(3)
    logit = -2.0 + 0.8 * np.sin(np.arange(200) / 7.0) + 0.1 * rng.standard_normal(200)
    path = tmp_path_factory.mktemp("log") / "run <b>&amp; 'x'.csv"
    lines = [f"step,d_fake,{HOSTILE}"]
    lines += [f"{k},{math.log1p(math.exp(v))!r},{math.log1p(math.exp(-v))!r}"
              for k, v in enumerate(logit)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, logit


@pytest.fixture(scope="module")
def explanation(written: tuple[Path, np.ndarray[Any, Any]]) -> Any:
    return explain_log(written[0], columns={"g_loss": HOSTILE})


def test_to_numpy_returns_the_series_of_the_file(explanation: Any,
                                                 written: tuple[Path, Any]) -> None:
    _, logit = written
    table = explanation.to_numpy()
    assert table.dtype.names == ("step", "d_fake", "g_loss")
    np.testing.assert_array_equal(table["step"], np.arange(200.0))
    np.testing.assert_array_equal(table["d_fake"], explanation.d_fake)
    np.testing.assert_array_equal(table["g_loss"], explanation.g_loss)
    # read back from the file's text: d_fake - g_loss is the logit (exact for one logit)
    np.testing.assert_allclose(table["d_fake"] - table["g_loss"], logit, rtol=0, atol=1e-12)


def test_to_dataframe_holds_the_same_rows(explanation: Any) -> None:
    pytest.importorskip("pandas")
    frame = explanation.to_dataframe()
    table = explanation.to_numpy()
    assert list(frame.columns) == list(table.dtype.names)
    for name in table.dtype.names:
        np.testing.assert_array_equal(frame[name].to_numpy(), table[name])


def test_to_dataframe_without_pandas(explanation: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'gandyn\[pandas\]'"):
        explanation.to_dataframe()
    assert explanation.to_numpy().size == 200  # numpy needs nothing


def test_html_shows_the_numbers_escaped(explanation: Any,
                                        read_html: Callable[[str], Any]) -> None:
    page = explanation._repr_html_()
    assert "<script" not in page and "<b>" not in page
    parsed = read_html(page)
    assert parsed.paragraphs == ["Explanation", explanation.headline()]
    source = parsed.fields("source")
    assert source["path"] == explanation.source["path"] == "run <b>&amp; 'x'.csv"
    assert f"g_loss = {HOSTILE}" in source["columns"]
    report = explanation.report
    says = parsed.fields("what the pair says")
    assert float(says["mean D(G(z))"]) == pytest.approx(report.mean_p, rel=1e-5)
    assert float(says["mean fake logit"]) == pytest.approx(report.mean_l, rel=1e-5)
    assert int(says["steps"]) == report.n == 200
    assert says["verdict"] == report.verdict and says["judged by"] == report.judged_by
    assert float(says["discriminator winning (p < 0.3)"]) == pytest.approx(
        report.regime_fractions["discriminator winning"], rel=1e-5)
    measured = parsed.fields("measured std(g_loss)/std(d_fake)")
    assert {k: float(v) for k, v in measured.items()} == pytest.approx(
        report.std_ratio_measured, rel=1e-5)
    header, *rows = parsed.table("predicted std(g_loss)/std(d_fake)")
    assert header == ["estimator", "predicted ratio", "measured/predicted - 1"]
    assert {r[0]: float(r[1]) for r in rows} == pytest.approx(report.std_ratio_predicted,
                                                              rel=1e-5)


def test_repr_is_one_short_line(explanation: Any) -> None:
    text = repr(explanation)
    assert "\n" not in text and len(text) < 200 and "array" not in text
