"""The log formats' conventions, applied by ``explain_log`` per format and overridable."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gandyn.explain import (
    LOG_CONVENTIONS,
    ExplainError,
    analyze_series,
    conventions_for,
    explain_log,
)
from gandyn.explain.conventions import EXACT_TOLERANCE, SAMPLED_TOLERANCE
from gandyn.explain.logs import FORMATS, MissingSeriesError, read_log

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "logs"


def test_every_format_has_conventions() -> None:
    assert set(LOG_CONVENTIONS) == set(FORMATS)
    for fmt in FORMATS:
        assert conventions_for(fmt).fmt == fmt
    # Brownlee's loop: a half batch of 64 fakes for D, 128 fresh latent points for G, and
    # train_on_batch's loss from before the update; the others share one batch, after it.
    keras = conventions_for("keras")
    assert keras.batch_sizes == (64, 128) and keras.measured_before_update
    for fmt in ("csv", "tsv", "pytorch-dcgan"):
        assert conventions_for(fmt).batch_sizes is None
        assert not conventions_for(fmt).measured_before_update
    assert conventions_for("pytorch-dcgan").d_fake_estimated_from[0] == "d_gz_after"
    assert EXACT_TOLERANCE < SAMPLED_TOLERANCE


def test_keras_printout_is_paired_and_independent() -> None:
    path = EXAMPLES / "keras-gan.txt"
    log = read_log(path)
    assert log.d_fake is not None and log.g_loss is not None
    explained = explain_log(path)
    source = explained.source
    assert source["format"] == "keras" and source["measured_before_update"] is True
    assert source["batch_sizes"].startswith("64,128")
    # g_loss[k] saw the discriminator that d_fake[k + 1] sees: one step fewer, shifted.
    np.testing.assert_array_equal(explained.d_fake, log.d_fake[1:])
    np.testing.assert_array_equal(explained.g_loss, log.g_loss[:-1])
    np.testing.assert_array_equal(explained.steps, log.step[1:])
    assert explained.report.n == log.n_rows - 1
    reference = analyze_series(log.d_fake, log.g_loss, d_real=log.d_real, tol=SAMPLED_TOLERANCE,
                               batch_sizes=(64, 128), measured_before_update=True)
    assert explained.report.to_dict() == reference.to_dict()
    # The sampling prediction carries the batch sizes' factor sqrt(m_d / m_g).
    assert "sampling" in explained.report.std_ratio_predicted


def test_keras_conventions_can_be_overridden() -> None:
    path = EXAMPLES / "keras-gan.txt"
    log = read_log(path)
    explained = explain_log(path, batch_sizes=(32, 32), measured_before_update=False)
    assert "batch_sizes" not in explained.source
    assert explained.source["measured_before_update"] is False
    assert explained.report.n == log.n_rows
    assert explained.d_fake.size == log.n_rows
    # The sampling law scales with sqrt(m_d / m_g): the batch sizes given are the ones used.
    wider = explain_log(path, batch_sizes=(64, 16), measured_before_update=False)
    assert wider.report.std_ratio_predicted["sampling"] == pytest.approx(
        2.0 * explained.report.std_ratio_predicted["sampling"], rel=1e-12)


def test_dcgan_d_fake_is_estimated_after_the_update() -> None:
    path = EXAMPLES / "dcgan-pytorch.txt"
    log = read_log(path)
    assert log.d_fake is None and log.d_gz_after is not None
    explained = explain_log(path)
    # -log(1 - D(G(z))) from the D(G(z)) printed after D's update (what errG saw).
    np.testing.assert_allclose(explained.d_fake, -np.log(1.0 - log.d_gz_after), rtol=1e-12)
    assert "after D's update" in explained.source["d_fake"]
    assert "batch_sizes" not in explained.source
    assert explained.source["measured_before_update"] is False
    # D(G(z)) defines d_fake here, so it cannot check it.
    assert "max_d_gz_outside" not in explained.report.consistency


def test_table_without_d_fake_uses_the_logged_d_gz(tmp_path: Path) -> None:
    t = np.arange(200)
    logit = -1.5 + 0.3 * np.sin(t / 8.0)
    p = 1.0 / (1.0 + np.exp(-logit))
    log = tmp_path / "p.csv"
    log.write_text("step,g_loss,d_gz\n" + "".join(
        f"{k},{float(np.logaddexp(0, -a))!r},{float(b)!r}\n"
        for k, a, b in zip(t, logit, p, strict=True)))
    explained = explain_log(log)
    assert explained.source["d_fake"].endswith("D(G(z)) as logged")
    np.testing.assert_allclose(explained.d_fake, np.logaddexp(0, logit), rtol=1e-9)
    # One logit per step: the two losses agree exactly.
    assert explained.report.consistent
    assert explained.report.consistency["max_jensen_excess"] < 1e-9


def test_table_with_d_fake_checks_the_logged_d_gz() -> None:
    explained = explain_log(EXAMPLES / "losses.csv")
    assert "d_fake" not in explained.source
    assert "max_d_gz_outside" in explained.report.consistency


def test_missing_series_and_loss_are_library_errors(tmp_path: Path) -> None:
    no_g = tmp_path / "no_g.csv"
    no_g.write_text("step,d_fake\n0,0.1\n1,0.2\n2,0.3\n")
    with pytest.raises(MissingSeriesError, match=r"no generator loss column$") as info:
        explain_log(no_g)
    assert info.value.name == "g_loss" and "--" not in str(info.value)
    no_d = tmp_path / "no_d.csv"
    no_d.write_text("step,g_loss\n0,0.1\n1,0.2\n2,0.3\n")
    with pytest.raises(MissingSeriesError, match="neither d_fake nor D") as info:
        explain_log(no_d)
    assert info.value.name == "d_fake"
    with pytest.raises(ExplainError, match="cross-entropy"):
        explain_log(EXAMPLES / "losses.csv", loss="wasserstein")
