"""``gandyn explore``: one self-contained file, written atomically, and one-line errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from gandyn.cli import cli
from gandyn.games.losses import LOSSES
from gandyn.games.regularizers import REGULARIZERS


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["explore", *args], prog_name="gandyn",
                                catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def page_data(path: Path) -> dict[str, object]:
    text = path.read_text(encoding="utf-8")
    found = re.search(r'<script id="gandyn-data" type="application/json">(.*?)</script>', text,
                      re.S)
    assert found is not None
    data: dict[str, object] = json.loads(found.group(1))
    return data


def test_the_page_is_one_self_contained_file(tmp_path: Path) -> None:
    target = tmp_path / "bilinear.html"
    code, out, err = run("--game", "bilinear", "--optimizer", "ogda", "--lr", "0.3",
                         "--out", str(target))
    assert code == 0, err
    assert out == "" and err == f"wrote {target}\n"  # every "wrote" line on stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bilinear.html"]
    text = target.read_text(encoding="utf-8")
    # Nothing loaded from elsewhere: no external scripts, styles or addresses.
    assert not re.search(r"<script[^>]+src=|<link[^>]+stylesheet|https?://", text)
    assert str(tmp_path) not in text
    data = page_data(target)
    assert data["defaults"] == {"loss": "-", "regularizer": "none", "rule": "ogda",
                                "lrG": 0.3, "lrD": 0.3, "steps": 1000}
    # Without a discriminator only the regularizers that need no data apply (consensus, ...).
    assert data["regularizers"] == ["none", *(r.name for r in REGULARIZERS
                                              if not r.needs_model)]
    assert "consensus" in data["regularizers"] and "r1" not in data["regularizers"]


def test_existing_files_are_kept_without_force(tmp_path: Path) -> None:
    target = tmp_path / "page.html"
    target.write_text("mine", encoding="utf-8")
    code, _, err = run("--game", "bilinear", "--out", str(target))
    assert code == 1
    assert err.count("\n") == 1 and err.startswith("error: ") and "--force" in err
    assert target.read_text(encoding="utf-8") == "mine"
    code, _, err = run("--game", "bilinear", "--out", str(target), "--force")
    assert code == 0, err
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


@pytest.mark.parametrize(("args", "status", "says"), [
    (("--game", "bilinear"), 2, "Missing option '--out'"),
    (("--game", "nope", "--out", "p.html"), 1, "unknown game 'nope'"),
    (("--loss", "nope", "--out", "p.html"), 1, "unknown loss 'nope'"),
    (("--game", "gaussian", "--out", "p.html"), 1, "has 5 parameters"),
    (("--game", "bilinear", "--out", "p.txt"), 1, "unknown format '.txt'"),
    (("--game", "bilinear", "--x0", "phi=1", "--out", "p.html"), 1, "--x0 names 'phi'"),
    (("--game", "bilinear", "--steps", "200000", "--out", "p.html"), 1, "--steps must lie"),
    (("--optimizer", "newton", "--out", "p.html"), 2, "Invalid value for '--optimizer'"),
    (("--offer-reg", "r9", "--out", "p.html"), 1, "unknown regularizer 'r9'"),
])
def test_bad_input_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                               args: tuple[str, ...], status: int, says: str) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run(*args)
    assert code == status
    assert err.count("\n") == 1 and err.startswith("error: ") and says in err, err
    assert list(tmp_path.iterdir()) == []


def test_offer_reg_narrows_the_choices(tmp_path: Path) -> None:
    target = tmp_path / "dirac.html"
    code, _, err = run("--loss", "wgan", "--reg", "consensus", "--offer-reg", "r2",
                       "--out", str(target))
    assert code == 0, err
    data = page_data(target)
    assert data["regularizers"] == ["consensus", "none", "r2"]
    assert data["defaults"]["loss"] == "wasserstein"


@pytest.mark.slow
def test_the_default_page_offers_every_loss_and_regularizer(tmp_path: Path) -> None:
    target = tmp_path / "dirac.html"
    code, _, err = run("--loss", "ns", "--reg", "r1:gamma=0.3", "--out", str(target))
    assert code == 0, err
    data = page_data(target)
    assert data["losses"] == ["non-saturating", *(n for n in LOSSES.names()
                                                   if n != "non-saturating")]
    assert data["regularizers"] == ["r1", "none",
                                    *(r.name for r in REGULARIZERS if r.name != "r1")]
    assert len(data["variantParams"]) == len(LOSSES) * (len(REGULARIZERS) + 1)
    assert {"name": "gamma_r1", "value": 0.3, "doc": "r1: penalty weight",
            "nonNegative": True} in data["parameters"]
    assert {"name": "c", "value": 0.0, "doc": "location of the data's point mass",
            "nonNegative": False} in data["parameters"]
    assert target.stat().st_size < 2 * 2**20
