"""A helper the explore tests share (not a test module; pytest puts this folder on ``sys.path``)."""

from __future__ import annotations

import numpy as np


def assert_same_eigenvalues(got: list[complex], want: np.ndarray, atol: float) -> None:
    """Match each eigenvalue of ``want`` to its nearest in ``got``, within ``atol``.

    Sorting both would pair a conjugate pair crosswise where rounding splits their real parts.
    """
    left = list(got)
    assert len(left) == len(want)
    for w in want:
        nearest = min(left, key=lambda g: abs(g - w))
        assert abs(nearest - w) <= atol, (got, want)
        left.remove(nearest)
