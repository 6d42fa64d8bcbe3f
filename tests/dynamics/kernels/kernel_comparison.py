"""Helpers shared by the compiled-backend tests: one run per backend, and their comparison.

Not a test module (pytest collects ``test_*.py`` only); the kernel tests import it
from their own folder, which pytest puts on ``sys.path``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gandyn.dynamics.discrete import simulate_rule
from gandyn.rules import FieldFunctions


def run_with_backend(vf: Any, rule: Any, x0: np.ndarray, steps: int, backend: str,
                     **options: Any) -> Any:
    """``simulate_rule`` of ``rule`` on the derived game ``vf`` through ``backend``."""
    return simulate_rule(rule, FieldFunctions.of(vf), vf.logged_fn, x0, steps, backend=backend,
                         state_names=tuple(s.name for s in vf.game.state_symbols),
                         logged_names=vf.logged_names, **options)


def assert_same_trajectory(a: Any, b: Any, rtol: float = 0.0) -> None:
    """Two trajectories equal bit for bit (``rtol`` 0) or to ``rtol`` relative."""
    for name in ("x", "logged", "diverged_at", "t", "step"):
        left, right = getattr(a, name), getattr(b, name)
        if rtol == 0.0:
            assert np.array_equal(left, right, equal_nan=True), name
        else:
            np.testing.assert_allclose(left, right, rtol=rtol, atol=0.0, err_msg=name)
    assert np.array_equal(a.diverged, b.diverged)
    assert a.message == b.message and a.measure == b.measure
