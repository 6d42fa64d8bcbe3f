"""``gandyn --backend``: the compiled run equals the numpy run; a missing numba is one line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("numba")


def _simulate(invoke: Callable[..., tuple[int, str, str]], backend: str, target: Path
              ) -> dict[str, object]:
    code, _, err = invoke("--backend", backend, "simulate", "--optimizer", "adam", "--lr", "0.05",
                          "--steps", "60", "--every", "7", "--measure", "loop",
                          "--out", str(target))
    assert code == 0, err
    return dict(json.loads(target.read_text()))


def test_compiled_and_numpy_runs_write_the_same_numbers(
        invoke: Callable[..., tuple[int, str, str]], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # the option sets GANDYN_BACKEND for the process: setenv restores its absence afterwards
    monkeypatch.setenv("GANDYN_BACKEND", "auto")
    compiled = _simulate(invoke, "compiled", tmp_path / "c.json")
    plain = _simulate(invoke, "numpy", tmp_path / "n.json")
    assert compiled["meta"]["method"]["backend"] == "compiled"  # type: ignore[index]
    assert "backend" not in plain["meta"]["method"]  # type: ignore[index]
    assert np.array_equal(np.array(compiled["x"]), np.array(plain["x"]))
    assert compiled["logged"] == plain["logged"]


def test_compiled_without_numba_is_one_line(invoke: Callable[..., tuple[int, str, str]],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from gandyn.dynamics.kernels import build

    monkeypatch.setenv("GANDYN_BACKEND", "auto")
    monkeypatch.setattr(build, "numba_version", lambda: None)
    code, out, err = invoke("--backend", "compiled", "simulate", "--steps", "3")
    assert code != 0 and out == ""
    assert err.strip().count("\n") == 0 and "numba" in err and "--backend" in err, err
