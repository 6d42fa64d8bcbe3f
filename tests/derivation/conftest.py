"""Fixtures shared by the derivation tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gandyn.derivation import field


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty disk cache of derivations, with the in-memory one cleared around the test."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("GANDYN_CACHE_DIR", str(folder))
    field._derivatives.cache_clear()
    yield folder
    field._derivatives.cache_clear()
