"""Reading real training logs (gandyn.explain.logs): formats, detection, overrides, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gandyn.errors import GandynError
from gandyn.explain.logs import LogError, TrainingLog, read_log

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "logs"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def eq(a: np.ndarray | None, b: list[float]) -> None:
    assert a is not None
    np.testing.assert_array_equal(a, np.asarray(b, dtype=np.float64))


KERAS = """Using TensorFlow backend.
>1, d1=0.693, d2=0.696 g=0.692, a1=50, a2=0
>2, d1=0.600, d2=0.700 g=0.800, a1=51, a2=3
1/1 [==============================] - 0s 20ms/step
>Saved: generator_model_002.h5
>3, d1=0.500, d2=0.710 g=0.900, a1=60, a2=10
"""

DCGAN = """Starting Training Loop...
[0/5][0/1583]\tLoss_D: 1.7836\tLoss_G: 5.0988\tD(x): 0.5927\tD(G(z)): 0.6316 / 0.0081
[0/5][50/1583]\tLoss_D: 0.1563\tLoss_G: 7.2000\tD(x): 0.9500\tD(G(z)): 0.0800 / 0.0010
[1/5][0/1583]\tLoss_D: 0.5000\tLoss_G: 3.0000\tD(x): 0.7000\tD(G(z)): 0.2000 / 0.1000
"""


def test_keras_brownlee_lines(tmp_path: Path) -> None:
    log = read_log(write(tmp_path, "train.txt", KERAS))
    assert isinstance(log, TrainingLog)
    assert log.source_format == "keras" and log.n_rows == 3
    eq(log.step, [1, 2, 3])
    eq(log.d_real, [0.693, 0.6, 0.5])
    eq(log.d_fake, [0.696, 0.7, 0.71])
    eq(log.g_loss, [0.692, 0.8, 0.9])
    # a1/a2 are accuracies, never mapped to the probabilities d_x/d_gz.
    assert log.d_x is None and log.d_gz is None and log.d_total is None
    assert log.columns_used == {"step": ">N", "d_real": "d1", "d_fake": "d2", "g_loss": "g"}
    assert list(log.series()) == ["d_real", "d_fake", "g_loss"]


def test_keras_epoch_batch_variant_and_repeats(tmp_path: Path) -> None:
    text = "".join(f">{e}, {j}/3, d1={e}.{j}, d2=0.5, g=0.25\n" for e in (1, 2) for j in (1, 2, 3))
    log = read_log(write(tmp_path, "k.txt", text))
    eq(log.step, [1, 2, 3, 4, 5, 6])
    eq(log.d_real, [1.1, 1.2, 1.3, 2.1, 2.2, 2.3])
    assert log.columns_used["step"] == ">N, j/B"
    # Without a1/a2, and with >N repeating per epoch: a running index.
    text = ">1, d1=0.1, d2=0.2 g=0.3\n>1, d1=0.4, d2=0.5 g=0.6\n>2, d1=0.7, d2=0.8 g=0.9\n"
    log = read_log(write(tmp_path, "r.txt", text))
    eq(log.step, [1, 2, 3])
    eq(log.g_loss, [0.3, 0.6, 0.9])
    assert log.columns_used["step"] == "running index"


def test_pytorch_dcgan_lines(tmp_path: Path) -> None:
    log = read_log(write(tmp_path, "dcgan.log", DCGAN))
    assert log.source_format == "pytorch-dcgan" and log.n_rows == 3
    eq(log.step, [0, 50, 1583])
    eq(log.d_total, [1.7836, 0.1563, 0.5])
    eq(log.g_loss, [5.0988, 7.2, 3.0])
    eq(log.d_x, [0.5927, 0.95, 0.7])
    eq(log.d_gz, [0.6316, 0.08, 0.2])
    eq(log.d_gz_after, [0.0081, 0.001, 0.1])
    assert log.d_real is None and log.d_fake is None


def test_csv_aliases_case_insensitive_and_row_index(tmp_path: Path) -> None:
    text = ("ErrD_real, ERRD_FAKE ,errG,D(x),D(G(z)),a1\n"
            "1,2,3,0.5,0.4,50\n4,5,6,0.6,0.3,60\n7,,9,0.7,0.2,70\n10,11,12,0.8,0.1,80\n")
    log = read_log(write(tmp_path, "run.csv", text))
    assert log.source_format == "csv" and log.n_rows == 3
    # The row with a blank d_fake is left out and counted; the row index stays the file's.
    eq(log.step, [0, 1, 3])
    assert log.skipped == {"rows with a blank cell": 1}
    eq(log.d_real, [1, 4, 10])
    eq(log.d_fake, [2, 5, 11])
    eq(log.g_loss, [3, 6, 12])
    eq(log.d_x, [0.5, 0.6, 0.8])
    eq(log.d_gz, [0.4, 0.3, 0.1])
    # a1 (an accuracy) is no canonical series: an extra one, over the same rows.
    eq(log.extra["a1"], [50, 60, 80])
    assert log.columns_used == {"step": "row index", "d_real": "ErrD_real",
                                "d_fake": "ERRD_FAKE", "g_loss": "errG", "d_x": "D(x)",
                                "d_gz": "D(G(z))"}


def test_tsv_with_step_column_and_comments(tmp_path: Path) -> None:
    text = ("# my run\niter\td_loss_real\td_loss_fake\tgen_loss\n"
            "10\t1\t2\t3\n20\t4\t5\t6\n\n30\t7\t8\t9\n")
    log = read_log(write(tmp_path, "run.tsv", text))
    assert log.source_format == "tsv"
    eq(log.step, [10, 20, 30])
    eq(log.g_loss, [3, 6, 9])
    assert log.columns_used["step"] == "iter"


def test_forced_format(tmp_path: Path) -> None:
    path = write(tmp_path, "x.txt", KERAS)
    assert read_log(path, fmt="keras").n_rows == 3
    with pytest.raises(LogError, match="no PyTorch DCGAN log lines"):
        read_log(path, fmt="pytorch-dcgan")
    with pytest.raises(LogError, match="unknown format 'kears'; did you mean 'keras'"):
        read_log(path, fmt="kears")


def test_column_overrides(tmp_path: Path) -> None:
    text = "it,lossA,lossB,lossC\n1,0.1,0.2,0.3\n2,0.4,0.5,0.6\n3,0.7,0.8,0.9\n"
    path = write(tmp_path, "run.csv", text)
    with pytest.raises(LogError, match="no recognised losses"):
        read_log(path)
    log = read_log(path, columns={"d_fake": "lossB", "g_loss": "LOSSC", "step": "it"})
    eq(log.step, [1, 2, 3])
    eq(log.d_fake, [0.2, 0.5, 0.8])
    eq(log.g_loss, [0.3, 0.6, 0.9])
    assert log.d_real is None
    assert log.columns_used == {"step": "it", "d_fake": "lossB", "g_loss": "lossC"}
    eq(log.extra["lossA"], [0.1, 0.4, 0.7])
    # An override wins over an alias, and frees the aliased column.
    text = "errD_fake,errD_fake_smoothed,errG\n1,2,3\n4,5,6\n7,8,9\n"
    log = read_log(write(tmp_path, "o.csv", text), columns={"d_fake": "errD_fake_smoothed"})
    eq(log.d_fake, [2, 5, 8])


def one_line_error(path: Path, **kwargs: object) -> str:
    with pytest.raises(LogError) as info:
        read_log(path, **kwargs)  # type: ignore[arg-type]
    message = str(info.value)
    assert "\n" not in message and "\r" not in message
    assert message.startswith(f"log {path}: ")
    assert isinstance(info.value, GandynError) and isinstance(info.value, ValueError)
    return message


def test_errors_are_one_line_and_name_the_file(tmp_path: Path) -> None:
    csv = write(tmp_path, "run.csv", "step,errD_fake,errG\n1,2,3\n4,5,6\n7,8,9\n")
    msg = one_line_error(csv, columns={"d_fake": "errD_fak"})
    assert "column 'errD_fak' not in the log (columns: step, errD_fake, errG)" in msg
    assert msg.endswith("did you mean 'errD_fake'?")
    msg = one_line_error(csv, columns={"d_fak": "errD_fake"})
    assert "unknown canonical name 'd_fak'; did you mean 'd_fake'" in msg
    assert "only 2 usable rows (need at least 3)" in one_line_error(
        write(tmp_path, "short.csv", "d_real,d_fake\n1,2\n3,4\n"))
    assert "only 2 Keras log lines" in one_line_error(
        write(tmp_path, "short.txt", ">1, d1=1, d2=2 g=3\n>2, d1=1, d2=2 g=3\n"))
    msg = one_line_error(write(tmp_path, "bad.csv", "d_real,g_loss\n1,2\n3,oops\n5,6\n"))
    assert "row 2 (line 3): non-numeric value 'oops' for column 'g_loss'" in msg
    assert "line 2: non-numeric value 'x' for d2" in one_line_error(
        write(tmp_path, "bad.txt", ">1, d1=1, d2=2 g=3\n>2, d1=1, d2=x g=3\n>3, d1=1, d2=2 g=3\n"))
    assert "line 2: malformed log line" in one_line_error(
        write(tmp_path, "mal.txt", ">1, d1=1, d2=2 g=3\n>2, d1=1 g=3\n>3, d1=1, d2=2 g=3\n"))
    assert "line 1: malformed log line" in one_line_error(
        write(tmp_path, "mal.log", "[0/5][0/9]\tLoss_D: 1.0\n" + DCGAN))
    assert "row 2 (line 3): 2 fields, but the header has 3" in one_line_error(
        write(tmp_path, "ragged.csv", "d_real,d_fake,g_loss\n1,2,3\n1,2\n1,2,3\n"))
    msg = one_line_error(write(tmp_path, "train.txt", "hello\nworld\n"))
    assert msg.startswith(f"log {tmp_path / 'train.txt'}: no recognised losses (expected a "
                          "generator and a discriminator loss under a known name (Loss_D/Loss_G")
    assert "`pattern`" in msg
    assert one_line_error(write(tmp_path, "empty.csv", " \n\n")).endswith("empty file")
    assert "the other formats, but this is a keras printout" in one_line_error(
        write(tmp_path, "k.txt", KERAS), columns={"d_real": "d1"})
    multi = write(tmp_path, "two.csv", "d_real,errD_real,g\n1,2,3\n1,2,3\n1,2,3\n")
    assert "both look like d_real" in one_line_error(multi)


@pytest.mark.parametrize(("name", "fmt", "fields"), [
    ("keras-gan.txt", "keras", {"d_real", "d_fake", "g_loss"}),
    ("dcgan-pytorch.txt", "pytorch-dcgan", {"d_total", "g_loss", "d_x", "d_gz", "d_gz_after"}),
    ("losses.csv", "csv", {"d_real", "d_fake", "g_loss", "d_x", "d_gz"}),
])
def test_examples_load(name: str, fmt: str, fields: set[str]) -> None:
    log = read_log(EXAMPLES / name)
    assert log.source_format == fmt and log.n_rows >= 20
    assert set(log.series()) == fields
    assert np.all(np.diff(log.step) > 0)
    for values in log.series().values():
        assert values.shape == (log.n_rows,) and np.all(np.isfinite(values))
