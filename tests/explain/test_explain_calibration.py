"""The verdict on the real-log corpus of tests/data/real_logs (docs/explain-calibration.md).

Every log was printed by training code gandyn's authors did not write (named with its
source, commit and command line in tests/data/real_logs/SOURCES.md and manifest.json).
The expected verdicts follow from how each loop measured its losses, not from gandyn's
output: a d_fake and a g_loss measured on the same batch by the same discriminator must
satisfy the law ("holds"); a pair measured across the discriminator's update, a log with
one combined discriminator loss, or a log printed below its resolution cannot test it
("undecided").

Every log is read by :func:`gandyn.explain.logs.read_log` as ``gandyn explain --log``
reads it (PyTorch-GAN's ``[D loss: ...] [G loss: ...]`` lines as printed lines).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gandyn.explain.explanation import ExplainError
from gandyn.explain.from_log import explain_training_log
from gandyn.explain.logs import TrainingLog, read_log

CORPUS = Path(__file__).resolve().parents[1] / "data" / "real_logs"
MANIFEST: list[dict[str, Any]] = json.loads((CORPUS / "manifest.json").read_text())["logs"]


def load(entry: dict[str, Any], variant: str) -> TrainingLog:
    path = CORPUS / entry["file"]
    log = read_log(path)
    if variant == "before-update":
        # Keep only D(G(z)) before the update, as errD_fake saw it.
        return TrainingLog(step=log.step, source_format=log.source_format,
                           columns_used=log.columns_used, n_rows=log.n_rows,
                           d_total=log.d_total, g_loss=log.g_loss, d_x=log.d_x, d_gz=log.d_gz)
    return log


CASES = [(entry, variant) for entry in MANIFEST for variant in entry["variants"]]


def test_manifest_and_sources_cover_every_log() -> None:
    files = {p.name for p in CORPUS.iterdir() if p.suffix == ".txt"}
    assert files == {entry["file"] for entry in MANIFEST}
    sources = (CORPUS / "SOURCES.md").read_text()
    for entry in MANIFEST:
        assert entry["file"] in sources
        assert entry["project"] in sources
        for key in ("loss", "batch_size", "batchnorm", "format", "licence"):
            assert key in entry
        for variant in entry["variants"]:
            assert variant["order"] in ("same batch and D", "independent batches",
                                        "before-after update")


@pytest.mark.parametrize(("entry", "variant"), CASES,
                         ids=[f"{e['file']}:{v['name']}" for e, v in CASES])
def test_verdict_on_real_log(entry: dict[str, Any], variant: dict[str, Any]) -> None:
    log = load(entry, variant["name"])
    if variant["expected_verdict"] == "refused":
        with pytest.raises(ExplainError, match="cross-entropy"):
            explain_training_log(log, loss=entry["loss"], d_loss=entry["d_loss"])
        return
    explanation = explain_training_log(log, label=entry["file"], loss=entry["loss"],
                                       d_loss=entry["d_loss"])
    report = explanation.report
    assert report.verdict == variant["expected_verdict"], report.verdict_reason
    if report.verdict == "holds":
        # The judged prediction is within the tolerance and the text says so in one line.
        assert abs(report.relative_error[report.judged_by]) <= report.law_rtol
        assert explanation.to_text().split("\n")[0].endswith("the logit law explains it.")
    if report.verdict == "undecided" and "noisy" in variant["why"]:
        # Abstaining for noise, not for a miss: the judged prediction is within tolerance.
        assert "standard error" in report.verdict_reason
        assert abs(report.relative_error[report.judged_by]) <= report.law_rtol
    if entry["d_loss"] and log.d_total is not None:
        assert explanation.combined is not None


def test_the_judged_estimator_beats_the_per_step_one_on_the_corpus() -> None:
    # The calibration's claim: on every same-batch-same-D log the averaged slopes
    # (local-mean-p) predict the measured ratio within the tolerance, while each step's
    # own slopes (per-step, the estimator judged before) miss by more on most of them.
    errors = {"local-mean-p": [], "per-step": []}
    for entry, variant in CASES:
        if variant["order"] != "same batch and D" or entry["format"] != "pytorch-dcgan":
            continue
        report = explain_training_log(load(entry, variant["name"])).report
        if report.n < 100:
            continue
        for name, values in errors.items():
            values.append(abs(report.relative_error[name]))
    assert len(errors["local-mean-p"]) >= 3
    assert max(errors["local-mean-p"]) <= 0.25
    assert sum(e > 0.25 for e in errors["per-step"]) > len(errors["per-step"]) / 2
