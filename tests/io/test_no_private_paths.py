"""No output names a private folder: figures and sidecars travel with double-blind submissions.

Every command that writes is run with absolute input and output paths in a
folder that is not the working directory; no byte of any file it writes (PDF,
SVG and PNG metadata included) may hold that folder's path, and an input
below the working directory is recorded by its relative path.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from gandyn.files import shareable_name

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _log(path: Path) -> Path:
    # A non-saturating log with a logit near -1: both losses of the same D(G(z)).
    rows = ["d_fake,g_loss"]
    for i in range(200):
        logit = -1.0 + 0.3 * math.sin(0.7 * i) + 0.05 * math.cos(3.1 * i)
        rows.append(f"{math.log1p(math.exp(logit))},{math.log1p(math.exp(-logit))}")
    path.write_text("\n".join(rows) + "\n")
    return path


def _private_hits(folder: Path, private: str) -> list[str]:
    needle = private.encode()
    return [p.name for p in sorted(folder.rglob("*")) if p.is_file() and needle in p.read_bytes()]


def test_shareable_name_keeps_relative_paths_and_drops_private_folders(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert shareable_name("logs/run.txt") == "logs/run.txt"
    assert shareable_name("-") == "-"
    assert shareable_name(tmp_path / "logs" / "run.txt") == "logs/run.txt"
    private = tmp_path.parent / "someone" / "secret" / "run.txt"  # outside the cwd
    assert shareable_name(private) == "run.txt"


def test_no_written_file_holds_an_absolute_input_or_output_path(
        invoke: Callable[..., tuple[int, str, str]], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    private = tmp_path / "home" / "reviewer-2" / "paper"
    out = private / "out"
    out.mkdir(parents=True)
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    game = shutil.copy(EXAMPLES / "custom-dirac.toml", private / "game.toml")
    log = _log(private / "train_log.csv")
    commands = [
        ["simulate", "--game-file", str(game), "--loss", "non-saturating", "--steps", "60",
         "--out", str(out / "run.npz"), "--plot", str(out / "run.pdf")],
        ["simulate", "--steps", "40", "--out", str(out / "run.csv")],
        ["plot", str(out / "run.npz"), "--plot", str(out / "replot.svg")],
        ["explain", "--log", str(log), "--plot", str(out / "explain.png")],
        ["sweep", "--x0", "theta=0.1,psi=0.1", "--axis", "lr=0.05:0.5:3", "--steps", "50",
         "--out", str(out / "sweep.csv")],
        ["figure", "costs", "--out", str(out / "costs.pdf")],
        ["analyze", "--game-file", str(game), "--loss", "non-saturating", "--reg", "r1",
         "--path", "gamma_r1=0.1:1:5", "--plot", str(out / "path.pdf")],
    ]
    for args in commands:
        code, _, err = invoke(*args)
        assert code == 0, f"{args[0]}: {err}"
    written = sorted(p.name for p in out.iterdir())
    assert {"run.npz", "run.pdf", "run.csv", "replot.svg", "explain.png", "sweep.csv",
            "costs.pdf", "path.pdf"} <= set(written)
    assert _private_hits(out, str(private)) == []
    assert _private_hits(out, str(tmp_path)) == []


def test_an_input_below_the_working_directory_is_recorded_relative(
        invoke: Callable[..., tuple[int, str, str]], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "logs").mkdir()
    log = _log(tmp_path / "logs" / "train_log.csv")
    code, out, err = invoke("explain", "--log", str(log), "--json")
    assert code == 0, err
    assert '"path": "logs/train_log.csv"' in out
    assert str(tmp_path) not in out
