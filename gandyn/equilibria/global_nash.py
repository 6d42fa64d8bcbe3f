"""The global Nash picture of a game on a box: :func:`global_nash` gives a :class:`GlobalNash`.

The game discretized on a grid (:mod:`gandyn.equilibria.grid_nash`): its pure
Nash equilibria, for zero-sum games the min-max and max-min values with their
duality gap, and a mixed equilibrium when no pure one exists.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from gandyn.derivation.field import VectorField
from gandyn.equilibria.grid_nash import (
    best_responses,
    minimax_values,
    mixed_equilibrium,
    payoff_grid,
    pure_nash,
)
from gandyn.equilibria.records import GlobalNash, MixedNash

__all__ = ["NOT_ONE_PARAMETER_NOTE", "global_nash", "grid_game_applies"]

#: The note an analysis gives when the game is not one of one parameter per player.
NOT_ONE_PARAMETER_NOTE = ("the global Nash analysis on a grid needs one parameter per player; "
                          "only the local analysis was done (--nash searches games with "
                          "several parameters per player)")


def grid_game_applies(vf: VectorField) -> bool:
    """Whether the grid analysis applies: one generator and one discriminator parameter."""
    return len(vf.game.theta) == 1 and len(vf.game.psi) == 1


def global_nash(vf: VectorField, box: Mapping[str, tuple[float, float]],
                grid_points: int) -> GlobalNash:
    """Pure Nash equilibria on the grid, zero-sum values and a mixed equilibrium.

    Parameters
    ----------
    vf
        The derived game, with one parameter per player (:func:`grid_game_applies`).
    box
        ``{symbol: (low, high)}`` for both parameters.
    grid_points
        Grid points per axis.

    Raises
    ------
    gandyn.errors.SpecError
        For a game with other than one parameter per player or a bad box
        (:func:`gandyn.equilibria.grid_nash.payoff_grid`).
    """
    grid = payoff_grid(vf, box, grid_points)
    responses = best_responses(grid)
    pure = tuple(pure_nash(grid))
    on_boundary = (bool(np.any(responses.d_on_boundary)), bool(np.any(responses.g_on_boundary)))
    if not vf.game.zero_sum:
        return GlobalNash(grid_points, pure, *on_boundary)
    values = minimax_values(grid)
    mixed = None
    if not pure:
        solved = mixed_equilibrium(grid)
        theta_support = set(solved.theta_support.tolist())
        psi_support = set(solved.psi_support.tolist())
        mixed = MixedNash(
            float(solved.value),
            tuple((float(v), float(p)) for v, p in zip(grid.theta, solved.p, strict=True)
                  if v in theta_support),
            tuple((float(v), float(q)) for v, q in zip(grid.psi, solved.q, strict=True)
                  if v in psi_support),
        )
    return GlobalNash(grid_points, pure, *on_boundary, duality_gap=float(values.duality_gap),
                      min_max=float(values.min_max), max_min=float(values.max_min), mixed=mixed)
