"""Closed-form stationary points are kept in the derivation cache and read back exactly."""

from __future__ import annotations

from pathlib import Path

import pytest

from gandyn.derivation import stationary
from gandyn.derivation.field import derive
from gandyn.games.game import make_game


def test_a_second_solve_is_read_from_the_cache(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GANDYN_CACHE_DIR", str(tmp_path))
    vf = derive(make_game("dirac", "minimax", [("r1", {"gamma": 0.3})]))
    first = stationary.find_stationary_points(vf)
    assert first.status == "solved" and len(first.points) == 1
    assert list(tmp_path.iterdir())

    def no_solver(*args: object, **kwargs: object) -> None:
        raise AssertionError("the solver ran although the result was cached")

    monkeypatch.setattr(stationary.mp, "get_context", no_solver)
    second = stationary.find_stationary_points(vf)
    assert second == first


def test_a_damaged_entry_is_solved_again(tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GANDYN_CACHE_DIR", str(tmp_path))
    vf = derive(make_game("bilinear").with_params({"a": 1.0, "b": 2.0}))
    first = stationary.find_stationary_points(vf)
    entries = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    for entry in entries:
        data = bytearray(entry.read_bytes())
        data[len(data) // 2] ^= 0xFF
        entry.write_bytes(bytes(data))
    again = stationary.find_stationary_points(vf)
    assert again == first and again.status == "solved"
