"""Real training logs of public GAN projects (tests/data/logs/, sources in SOURCES.md).

Each log is read with automatic detection only (and ``pair`` where the log
holds two networks), and checked against its own text: the series found, the
values of chosen records as printed, the step in the log's own iterations,
and what was skipped.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from gandyn.explain.logs import LogError, read_log

DATA = Path(__file__).resolve().parents[1] / "data" / "logs"


def numbers(line: str, key: str) -> float:
    """The number after ``key`` in a printed line, read independently of gandyn."""
    match = re.search(re.escape(key) + r"\s*[:=]?\s*([-+0-9.eE]+)", line)
    assert match is not None, (key, line)
    return float(match.group(1))


def record_lines(path: Path, marker: str) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if marker in line]


def test_cyclegan_loss_log_needs_a_pair_and_reads_each() -> None:
    path = DATA / "cyclegan" / "loss_log.txt"
    with pytest.raises(LogError, match=r"several networks, pairs A \(D_A, G_A\); "
                                       r"B \(D_B, G_B\); choose one with `pair`"):
        read_log(path)
    lines = record_lines(path, "D_A:")
    for pair in ("A", "B"):
        log = read_log(path, pair=pair)
        assert log.source_format == "printed" and log.pair == pair
        assert log.n_rows == len(lines) == 41
        assert log.columns_used["d_total"] == f"D_{pair}"
        assert log.columns_used["g_loss"] == f"G_{pair}"
        assert log.d_real is None and log.d_fake is None
        for k in (0, 17, 40):
            assert log.d_total is not None and log.g_loss is not None
            assert log.d_total[k] == numbers(lines[k], f"D_{pair}:")
            assert log.g_loss[k] == numbers(lines[k], f"G_{pair}:")
            # cycle and identity losses are extras, never mistaken for d or g.
            assert log.extra[f"cycle_{pair}"][k] == numbers(lines[k], f"cycle_{pair}:")
            assert log.extra[f"idt_{pair}"][k] == numbers(lines[k], f"idt_{pair}:")
        # The other network's losses stay, as extras.
        other = "B" if pair == "A" else "A"
        assert f"D_{other}" in log.extra and f"G_{other}" in log.extra
        # The header line is the one line that is not a record.
        assert log.skipped == {"lines that are not log records": 1}
        # iters restart every epoch: the step grows through the epochs.
        assert np.all(np.diff(log.step) > 0)
        assert "epoch" in log.columns_used["step"] and "iters" in log.columns_used["step"]
    with pytest.raises(LogError, match="no pair 'C'"):
        read_log(path, pair="C")


def test_pix2pix_parts_of_the_discriminator_loss_in_a_restarted_run() -> None:
    path = DATA / "pix2pix-restarted" / "loss_log.txt"
    lines = record_lines(path, "G_GAN:")
    log = read_log(path)
    assert log.source_format == "printed" and log.n_rows == len(lines) == 117
    assert log.columns_used["d_real"] == "D_real" and log.columns_used["d_fake"] == "D_fake"
    assert log.columns_used["g_loss"] == "G_GAN" and log.d_total is None
    for k in (0, 8, 116):
        assert log.d_real is not None and log.d_fake is not None and log.g_loss is not None
        assert log.d_real[k] == numbers(lines[k], "D_real:")
        assert log.d_fake[k] == numbers(lines[k], "D_fake:")
        assert log.g_loss[k] == numbers(lines[k], "G_GAN:")
        assert log.extra["G_L1"][k] == numbers(lines[k], "G_L1:")
    # The second header starts the epochs again: the order of the records is all that is sure.
    np.testing.assert_array_equal(log.step, np.arange(117))
    assert log.columns_used["step"].startswith("running index (epoch * ")
    assert log.columns_used["step"].endswith("does not increase: a restarted run?)")
    assert log.skipped == {"lines that are not log records": 3}


def test_chainer_log_json_array() -> None:
    path = DATA / "chainer-gan" / "log"
    records = json.loads(path.read_text(encoding="utf-8"))
    log = read_log(path)
    assert log.source_format == "jsonl" and log.n_rows == len(records) == 40
    np.testing.assert_array_equal(log.step, [r["iteration"] for r in records])
    np.testing.assert_array_equal(log.g_loss, [r["loss_gen"] for r in records])
    np.testing.assert_array_equal(log.d_total, [r["loss_dis"] for r in records])
    assert log.columns_used == {"step": "iteration", "g_loss": "loss_gen",
                                "d_total": "loss_dis"}
    np.testing.assert_array_equal(log.extra["elapsed_time"],
                                  [r["elapsed_time"] for r in records])


def test_keras_fit_output_takes_the_epoch_from_the_line_before() -> None:
    path = DATA / "keras-io-dcgan" / "fit_output.txt"
    lines = record_lines(path, "d_loss:")
    log = read_log(path)
    assert log.source_format == "printed" and log.n_rows == len(lines) == 25
    np.testing.assert_array_equal(log.step, np.arange(1, 26))
    assert log.columns_used["step"] == "Epoch (from the line before)"
    for k in (0, 12, 24):
        assert log.d_total is not None and log.g_loss is not None
        assert log.d_total[k] == numbers(lines[k], "d_loss:")
        assert log.g_loss[k] == numbers(lines[k], "g_loss:")
    assert log.skipped == {"lines that are not log records": 25}  # the 'Epoch n/30' lines


def test_dcgan_tensorflow_epoch_and_batch_counters() -> None:
    path = DATA / "dcgan-tensorflow" / "issue-175.txt"
    log = read_log(path)
    # Epoch: [14] [ 398/1093]: the step is 14 * 1093 + 398.
    np.testing.assert_array_equal(log.step, 14 * 1093 + np.arange(398, 402))
    assert log.columns_used["step"] == "Epoch * 1093 + [i/I]"
    lines = record_lines(path, "Epoch:")
    assert log.d_total is not None and log.g_loss is not None
    np.testing.assert_array_equal(log.d_total, [numbers(x, "d_loss:") for x in lines])
    np.testing.assert_array_equal(log.g_loss, [numbers(x, "g_loss:") for x in lines])
    # The [Sample] evaluation carries no counters: another kind of record, counted.
    assert log.skipped == {"records without the log's counters": 1}

    path = DATA / "dcgan-tensorflow" / "issue-276.txt"
    log = read_log(path)
    assert log.n_rows == 13
    np.testing.assert_array_equal(log.step, np.arange(8, 21))  # epochs 2..5 of 4 batches
    assert log.skipped == {"lines that are not log records": 13}  # the 'in train ' lines
    assert log.g_loss is not None and np.all(log.g_loss == 0.0)


def test_bmsg_gan_global_batch_counter() -> None:
    path = DATA / "bmsg-gan" / "issue-2.txt"
    lines = record_lines(path, "d_loss:")
    log = read_log(path)
    assert log.n_rows == 18
    np.testing.assert_array_equal(log.step, [numbers(x, "batch:") for x in lines])
    assert log.d_total is not None and log.d_total[4] == 0.261001
    assert log.g_loss is not None and log.g_loss[16] == 41.753380


def test_neural_colorization_keeps_the_total_generator_loss_apart() -> None:
    log = read_log(DATA / "neural-colorization" / "issue-13.txt")
    assert log.columns_used == {"step": "row index", "g_loss": "G GAN Loss",
                                "d_total": "D loss"}
    assert log.g_loss is not None and np.all(log.g_loss == 0.0)
    np.testing.assert_array_equal(log.extra["G total loss"][:2], [16.745750, 17.254082])


def test_basicsr_losses_are_the_l_keys_not_the_outputs() -> None:
    path = DATA / "spsr-basicsr" / "issue-8.txt"
    lines = record_lines(path, "INFO")
    log = read_log(path)
    # iter is printed with a thousands separator: 8,600.
    np.testing.assert_array_equal(log.step, [8600, 8700, 8800])
    assert log.columns_used["d_real"] == "l_d_real"
    assert log.columns_used["d_fake"] == "l_d_fake"
    assert log.columns_used["g_loss"] == "l_g_gan"
    assert log.d_fake is not None
    np.testing.assert_array_equal(log.d_fake, [numbers(x, "l_d_fake:") for x in lines])
    # D_real / D_fake are the discriminator's mean outputs (negative here): extras.
    np.testing.assert_array_equal(log.extra["D_real"], [numbers(x, " D_real:") for x in lines])


def test_per_epoch_print_of_a_tutorial() -> None:
    path = DATA / "gan-tutorial-blog" / "issue-11753.txt"
    lines = record_lines(path, "Loss_D")
    log = read_log(path)
    # 'Loss_D' without the DCGAN example's [e/E][i/I] prefix: a generic printed log.
    assert log.source_format == "printed"
    np.testing.assert_array_equal(log.step, np.arange(21, 42))
    assert log.d_total is not None
    np.testing.assert_array_equal(log.d_total, [numbers(x, "Loss_D:") for x in lines])
