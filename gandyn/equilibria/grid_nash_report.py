"""The global Nash part of ``gandyn analyze`` as plain data.

See :mod:`gandyn.equilibria.grid_nash` for the grid game.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from gandyn.derive.field import VectorField

__all__ = ["global_nash_report"]


def global_nash_report(vf: VectorField, box: Mapping[str, tuple[float, float]],
                       grid_points: int) -> tuple[dict[str, Any] | None, str | None]:
    """Pure Nash equilibria on the grid, zero-sum values and a mixed equilibrium.

    Returns
    -------
    tuple
        The report (``pure_nash``, ``duality_gap``, ``min_max``, ``max_min``,
        ``mixed``, ``grid_points``, ``best_response_on_boundary``) or ``None``
        with a note when the analysis does not apply (players with more than
        one parameter).
    """
    from gandyn.equilibria.grid_nash import (
        best_responses,
        minimax_values,
        mixed_equilibrium,
        payoff_grid,
        pure_nash,
    )

    if len(vf.game.theta) != 1 or len(vf.game.psi) != 1:
        return None, ("the global Nash analysis on a grid needs one parameter per player; "
                      "only the local analysis was done")
    grid = payoff_grid(vf, box, grid_points)
    responses = best_responses(grid)
    report: dict[str, Any] = {
        "grid_points": grid_points,
        "pure_nash": pure_nash(grid),
        "best_response_on_boundary": {
            "discriminator": bool(np.any(responses.d_on_boundary)),
            "generator": bool(np.any(responses.g_on_boundary)),
        },
        "duality_gap": None,
        "min_max": None,
        "max_min": None,
        "mixed": None,
    }
    if vf.game.zero_sum:
        values = minimax_values(grid)
        report.update(duality_gap=float(values.duality_gap), min_max=float(values.min_max),
                      max_min=float(values.max_min))
        if not report["pure_nash"]:
            mixed = mixed_equilibrium(grid)
            report["mixed"] = {
                "value": float(mixed.value),
                "theta": [[float(v), float(p)] for v, p in zip(grid.theta, mixed.p, strict=True)
                          if v in set(mixed.theta_support.tolist())],
                "psi": [[float(v), float(q)] for v, q in zip(grid.psi, mixed.q, strict=True)
                        if v in set(mixed.psi_support.tolist())],
            }
    note = None
    if report["best_response_on_boundary"]["discriminator"] or \
            report["best_response_on_boundary"]["generator"]:
        note = ("some best responses lie on the box's boundary: the box may be too small, or "
                "best responses may not exist")
    return report, note
