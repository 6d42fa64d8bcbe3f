"""``gandyn explain --log`` on runs saved by ``gandyn simulate --out``: one start at a time,
with the loss of the run's sidecar.

The reference is the simulation itself: explaining a saved run gives the same report as
explaining its trajectory in memory (the analysis of a log of the same series), and the
loss comes from the spec stored beside the run, not from the default.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from gandyn.cli import cli


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), prog_name="gandyn")
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("runs")
    code, out = _run("simulate", "--loss", "minimax", "--steps", "400",
                     "--x0", "theta=0.5,psi=0.3", "--x0", "theta=-0.4,psi=0.2",
                     "--out", str(folder / "two.npz"))
    assert code == 0, out
    code, out = _run("simulate", "--loss", "minimax", "--steps", "400",
                     "--x0", "theta=0.5,psi=0.3", "--out", str(folder / "one.csv"))
    assert code == 0, out
    return folder


def test_each_start_is_explained_with_the_sidecar_loss(saved: Path) -> None:
    code, out = _run("explain", "--log", str(saved / "two.npz"), "--json")
    assert code == 0, out
    documents = json.loads(out)
    assert isinstance(documents, list) and len(documents) == 2
    for run, doc in enumerate(documents):
        assert doc["source"]["run"] == run and doc["source"]["kind"] == "saved run"
        assert doc["source"]["loss_from"] == "the run's spec"
        # The stored spec says minimax: g_loss = -d_fake, ratio exactly 1.
        assert doc["relations"]["loss"] == "minimax"
        assert doc["std_ratio_measured"]["raw"] == pytest.approx(1.0, rel=1e-9)
    assert documents[0]["std"] != documents[1]["std"]


def test_csv_with_sidecar_and_text_output(saved: Path) -> None:
    code, out = _run("explain", "--log", str(saved / "one.csv"))
    assert code == 0, out
    first = out.split("\n")[0]
    assert first.startswith("Over iterations 0 to 400")
    assert "minimax" in out
    # --loss overrides the sidecar's loss; a wrong one meets the minimax g_loss, which is
    # negative, and is refused in one line rather than explained.
    code, out = _run("explain", "--log", str(saved / "one.csv"), "--json", "--loss", "minimax")
    assert code == 0, out
    assert json.loads(out)["source"]["loss_from"] == "--loss"
    code, out = _run("explain", "--log", str(saved / "one.csv"), "--loss", "ns")
    assert code != 0 and "is negative" in out and len(out.strip().splitlines()) == 1
