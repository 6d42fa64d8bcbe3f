"""The explain text says what the log reader left out, with the reader's own counts."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path


def test_the_text_counts_the_rows_left_out(invoke: Callable[..., tuple[int, str, str]],
                                           tmp_path: Path) -> None:
    rows = ["d_fake,g_loss"]
    blank = nan = 0
    for i in range(240):
        logit = -1.0 + 0.3 * math.sin(0.7 * i)
        d, g = math.log1p(math.exp(logit)), math.log1p(math.exp(-logit))
        if i % 19 == 5:
            rows.append(f"{d},")
            blank += 1
        elif i % 23 == 7:
            rows.append(f"nan,{g}")
            nan += 1
        else:
            rows.append(f"{d},{g}")
    log = tmp_path / "train.csv"
    log.write_text("\n".join(rows) + "\n")
    code, out, err = invoke("explain", "--log", str(log))
    assert code == 0, err
    last = out.strip().split("\n\n")[-1].replace("\n", " ")
    used = 240 - blank - nan
    assert last == (f"Read {used} records from train.csv (csv); left out: rows with a blank "
                    f"cell: {blank}; rows with NaN: {nan}.")


def test_a_clean_log_has_no_left_out_paragraph(invoke: Callable[..., tuple[int, str, str]],
                                               tmp_path: Path) -> None:
    rows = ["d_fake,g_loss"] + [
        f"{math.log1p(math.exp(-1 + 0.2 * math.cos(i)))},"
        f"{math.log1p(math.exp(1 - 0.2 * math.cos(i)))}" for i in range(120)]
    log = tmp_path / "clean.csv"
    log.write_text("\n".join(rows) + "\n")
    code, out, err = invoke("explain", "--log", str(log))
    assert code == 0, err
    assert "left out" not in out
