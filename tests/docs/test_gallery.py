"""The figure gallery (docs/gallery.md) matches the commands that make it."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from PIL import Image

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "make_gallery.py"


def _gallery() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_gallery", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while defining
    spec.loader.exec_module(module)
    return module


def test_the_page_is_what_the_script_writes() -> None:
    gallery = _gallery()
    assert gallery.main(["--check"]) == 0
    text = gallery.PAGE.read_text(encoding="utf-8")
    for entry in gallery.ENTRIES:  # every figure is shown with the command that made it
        assert f"figures/gallery/{entry.name}.png" in text and entry.command in text


def test_the_check_fails_on_a_stale_page(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    gallery = _gallery()
    stale = tmp_path / "gallery.md"
    stale.write_text(gallery.page().replace("gandyn figure costs", "gandyn figure cost"))
    monkeypatch.setattr(gallery, "PAGE", stale)
    assert gallery.main(["--check"]) == 1


@pytest.mark.slow
def test_every_command_makes_its_figure(tmp_path: Path) -> None:
    gallery = _gallery()
    gallery.make_images(tmp_path)
    for entry in gallery.ENTRIES:
        with Image.open(tmp_path / f"{entry.name}.png") as image:
            assert image.size[0] > 500
