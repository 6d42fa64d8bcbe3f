"""The explore page's code cache: a cached page is the cold page, byte for byte; new inputs miss.

The reference is a page built with the cache off (``GANDYN_CACHE_DIR=""``), which
derives and prints every combination; a page built from the cache must be the same
bytes without deriving or printing anything, and inputs whose code differs (another
regularizer, another game) must be printed anew.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gandyn.derivation import cache
from gandyn.explore import variants
from gandyn.explore.codecache import CODE_KIND
from gandyn.explore.page import explore_page
from gandyn.runs.parts import GameSpec


@pytest.fixture
def printed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The keys of the combinations derived and printed (cache misses), in order."""
    keys: list[str] = []
    real: Callable[..., str] = variants._variant_code

    def spy(game: Any, *args: Any) -> str:
        keys.append(game.name)
        return real(game, *args)

    monkeypatch.setattr(variants, "_variant_code", spy)
    return keys


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.glob(f"{CODE_KIND}-*.txt"))


def _page(monkeypatch: pytest.MonkeyPatch, folder: Path | None, **options: Any) -> str:
    monkeypatch.setenv("GANDYN_CACHE_DIR", "" if folder is None else str(folder))
    part = options.pop("part", GameSpec(name="bilinear"))
    return explore_page(part, regularizers=options.pop("regularizers", ("consensus",)),
                        **options)


def test_a_cached_page_is_the_cold_page_byte_for_byte(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, printed: list[str]) -> None:
    folder = tmp_path / "cache"
    cold = _page(monkeypatch, None)
    misses = len(printed)
    assert misses == 2  # none and consensus, both derived with the cache off
    assert _page(monkeypatch, folder) == cold
    assert len(printed) == 2 * misses and len(_entries(folder)) == misses
    warm = _page(monkeypatch, folder)
    assert len(printed) == 2 * misses  # nothing derived or printed again
    assert warm.encode() == cold.encode()


def test_other_inputs_miss_and_values_alone_hit(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, printed: list[str]) -> None:
    folder = tmp_path / "cache"
    _page(monkeypatch, folder)
    assert len(printed) == 2
    # Another regularizer: only the new combination is printed.
    _page(monkeypatch, folder, regularizers=("consensus", "anchor-g"))
    assert len(printed) == 3 and len(_entries(folder)) == 3
    # Another game with the same regularizers: its costs differ, so every entry misses.
    other = GameSpec(name="hide-and-seek")
    assert _page(monkeypatch, folder, part=other) == _page(monkeypatch, None, part=other)
    assert len(printed) == 3 + 2 + 2
    # Another value of a hyper-parameter leaves the code symbolic: a hit, and the page
    # (whose data carry the value) is the one built cold.
    valued = GameSpec(name="bilinear", params=(("a", 0.25),))
    before = len(printed)
    from_cache = _page(monkeypatch, folder, part=valued)
    assert len(printed) == before
    assert from_cache == _page(monkeypatch, None, part=valued)
    assert '"value": 0.25' in from_cache


def test_a_damaged_entry_is_printed_again(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, printed: list[str]) -> None:
    folder = tmp_path / "cache"
    cold = _page(monkeypatch, folder)
    damaged = _entries(folder)[0]
    data = bytearray(damaged.read_bytes())
    data[-3] ^= 0x01  # one bit of the body: the checksum no longer matches
    damaged.write_bytes(bytes(data))
    assert _page(monkeypatch, folder) == cold
    assert len(printed) == 3  # the damaged one again, the other from the cache
    key = damaged.name.removeprefix(f"{CODE_KIND}-").removesuffix(".txt")
    assert cache.load_text(folder, CODE_KIND, key) is not None  # written over


def test_text_entries_are_checked_like_derivations(tmp_path: Path) -> None:
    assert cache.store_text(tmp_path, "explore-js", "k1", "const a = 1;\n")
    assert cache.load_text(tmp_path, "explore-js", "k1") == "const a = 1;\n"
    # Another key's entry copied over this one's name is refused (the key is in the header).
    path = cache.text_entry_path(tmp_path, "explore-js", "k2")
    path.write_bytes(cache.text_entry_path(tmp_path, "explore-js", "k1").read_bytes())
    assert cache.load_text(tmp_path, "explore-js", "k2") is None
    # A truncated entry is refused, and no temporary file is left behind by the writes.
    whole = cache.text_entry_path(tmp_path, "explore-js", "k1")
    whole.write_bytes(whole.read_bytes()[:-1])
    assert cache.load_text(tmp_path, "explore-js", "k1") is None
    assert not list(tmp_path.glob(".*.tmp"))
    with pytest.raises(ValueError, match="kind"):
        cache.text_entry_path(tmp_path, "derive", "k1")
