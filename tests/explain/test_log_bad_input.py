"""Bad logs (issue #17): skipped and counted, or refused in one line, quickly and in bounded
memory; never an internal error."""

from __future__ import annotations

import os
import string
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gandyn.errors import GandynError, InputFileError
from gandyn.explain import logs
from gandyn.explain.logs import LogError, read_log


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_blank_nan_and_infinite_rows_are_skipped_and_counted(tmp_path: Path) -> None:
    text = ("step,d_fake,g_loss,L1\n"
            "0,0.7,0.7,3\n1,,0.8,3\n2,nan,0.9,3\n3,0.6,inf,3\n4,0.5,1.0,\n"
            "5,0.4,-inf,3\n6,0.45,1.1,3\n")
    log = read_log(write(tmp_path, "run.csv", text))
    np.testing.assert_array_equal(log.step, [0, 4, 6])
    np.testing.assert_array_equal(log.d_fake, [0.7, 0.5, 0.45])
    # An extra series' blank does not cost the row; it stays NaN there.
    assert np.isnan(log.extra["L1"][1])
    assert log.skipped == {"rows with a blank cell": 1, "rows with NaN": 1,
                           "rows with an infinite value": 2}
    assert log.skipped_text() == ("skipped 1 rows with a blank cell, 1 rows with NaN, "
                                  "2 rows with an infinite value")


def test_a_diverged_tail_is_counted_apart(tmp_path: Path) -> None:
    lines = [f"iter {k}: d_loss={0.7 - 0.01 * k} g_loss={0.7 + 0.01 * k}" for k in range(10)]
    lines += [f"iter {k}: d_loss=nan g_loss=nan" for k in range(10, 25)]
    log = read_log(write(tmp_path, "train.log", "\n".join(lines)))
    assert log.n_rows == 10 and log.step[-1] == 9
    assert log.skipped == {"rows of the diverged tail (NaN or infinite to the end)": 15}


def test_no_usable_rows_names_what_was_skipped(tmp_path: Path) -> None:
    text = "step,d_fake,g_loss\n" + "".join(f"{k},nan,{k}\n" for k in range(50))
    with pytest.raises(LogError) as info:
        read_log(write(tmp_path, "nan.csv", text))
    assert str(info.value).endswith("only 0 usable rows (need at least 3) (rows with NaN: 50)")


@pytest.mark.parametrize("text", ["", "\n\n  \n", "hello\nworld\n", "a,b,c\n1,2,3\n4,5,6\n7,8,9\n",
                                  "{\"x\": 1}\n{\"y\": 2}\n", "[1, 2, 3]\n",
                                  "loss: 0.5\nloss: 0.4\nloss: 0.3\n"])
def test_logs_without_losses_are_one_line_errors(tmp_path: Path, text: str) -> None:
    with pytest.raises(LogError) as info:
        read_log(write(tmp_path, "x.txt", text))
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"log {tmp_path / 'x.txt'}: ")


def test_fifo_device_folder_and_binary_are_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)  # nobody writes: reading it would block forever
    start = time.monotonic()
    with pytest.raises(InputFileError, match="a pipe"):
        read_log(fifo)
    assert time.monotonic() - start < 2
    if Path("/dev/zero").exists():
        with pytest.raises(InputFileError, match="a device"):
            read_log("/dev/zero")
    with pytest.raises(LogError, match="a folder without TensorBoard event files"):
        read_log(tmp_path)
    random_bytes = tmp_path / "model.pt"
    random_bytes.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(GandynError, match=r"binary|not UTF-8"):
        read_log(random_bytes)
    with pytest.raises(InputFileError, match="no such file"):
        read_log(tmp_path / "missing.log")


def test_a_log_over_the_limit_is_refused_before_it_is_read_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs, "LOG_LIMIT", 1000)
    path = write(tmp_path, "big.csv", "d_fake,g_loss\n" + "0.5,0.7\n" * 200)
    with pytest.raises(InputFileError, match="larger than the limit"):
        read_log(path)


def test_text_in_a_loss_column_names_the_row(tmp_path: Path) -> None:
    text = "d_fake,g_loss,run\n0.5,0.7,a\n0.5,oops,b\n0.5,0.7,c\n"
    with pytest.raises(LogError, match=r"row 2 \(line 3\): non-numeric value 'oops' for "
                                       "column 'g_loss'"):
        read_log(write(tmp_path, "t.csv", text))
    # A text column that is no series (a run's name) is left out.
    text = "d_fake,g_loss,run\n0.5,0.7,a\n0.5,0.8,b\n0.5,0.7,c\n"
    log = read_log(write(tmp_path, "u.csv", text))
    assert "run" not in log.extra and log.n_rows == 3


_ALPHABET = string.ascii_letters + string.digits + " \t,:=[]{}()/.-+_\"\r\n>|%#"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=_ALPHABET, max_size=400))
def test_any_text_gives_a_log_or_a_one_line_error(text: str) -> None:
    from tempfile import TemporaryDirectory

    with TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.log"
        path.write_text(text, encoding="utf-8")
        try:
            log = read_log(path)
        except GandynError as exc:
            assert "\n" not in str(exc)
            return
    assert log.n_rows >= 3
    for values in log.series().values():
        assert values.shape == (log.n_rows,) and np.all(np.isfinite(values))
