"""The global Nash picture of a game on a box: :func:`global_nash` gives a :class:`GlobalNash`.

The game discretized on a grid (:mod:`gandyn.equilibria.grid_nash`): its pure
Nash equilibria, for zero-sum games the min-max and max-min values with their
duality gap, and a mixed equilibrium when no pure one exists: for zero-sum games
by linear programming (:func:`gandyn.equilibria.grid_nash.mixed_equilibrium`),
for general-sum games, a bimatrix game, by Lemke-Howson with its deviation
check (:func:`gandyn.equilibria.bimatrix.bimatrix_equilibrium`), as
``analyze --nash`` solves its discretized game
(:func:`gandyn.equilibria.nash_existence.solve_discretized`).

References
----------
.. [1] Lemke and Howson (1964). Equilibrium points of bimatrix games. J. SIAM
   12(2), 413-423.
.. [2] von Stengel (2002). Computing equilibria for two-person games. In
   Handbook of Game Theory with Economic Applications, vol. 3, ch. 45,
   Elsevier, Sec. 2 (the Lemke-Howson algorithm and degenerate games).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from gandyn.arrays import Array
from gandyn.derivation.field import VectorField
from gandyn.equilibria.bimatrix import MAX_STRATEGIES, bimatrix_equilibrium
from gandyn.equilibria.grid_nash import (
    SUPPORT_THRESHOLD,
    PayoffGrid,
    best_responses,
    minimax_values,
    mixed_equilibrium,
    payoff_grid,
    pure_nash,
)
from gandyn.equilibria.records import GlobalNash, MixedNash

__all__ = ["NOT_ONE_PARAMETER_NOTE", "general_sum_mixed", "global_nash", "grid_game_applies"]

#: The note an analysis gives when the game is not one of one parameter per player.
NOT_ONE_PARAMETER_NOTE = ("the global Nash analysis on a grid needs one parameter per player; "
                          "only the local analysis was done (--nash searches games with "
                          "several parameters per player)")


def grid_game_applies(vf: VectorField) -> bool:
    """Whether the grid analysis applies: one generator and one discriminator parameter."""
    return len(vf.game.theta) == 1 and len(vf.game.psi) == 1


def _support(values: Array, weights: Array) -> tuple[tuple[float, float], ...]:
    """``(grid value, probability)`` for every value played above :data:`SUPPORT_THRESHOLD`."""
    return tuple((float(v), float(w)) for v, w in zip(values, weights, strict=True)
                 if w > SUPPORT_THRESHOLD)


def general_sum_mixed(grid: PayoffGrid) -> tuple[MixedNash | None, str | None]:
    """A checked mixed equilibrium of a general-sum grid game, or why none was computed.

    The grid game is the bimatrix game ``(cost_g, cost_d)``: the generator
    picks a row (a ``theta``), the discriminator a column (a ``psi``).
    Lemke-Howson (:func:`gandyn.equilibria.bimatrix.bimatrix_equilibrium`)
    finds one equilibrium and checks it: the gain of each player's best pure
    deviation, at most ``tol`` when :attr:`MixedNash.verified`. Games with
    more than :data:`gandyn.equilibria.bimatrix.MAX_STRATEGIES` strategies
    together are skipped, as ``analyze --nash`` skips them.

    Returns
    -------
    mixed, skipped
        The equilibrium (``method`` ``"lemke-howson"``, no ``value``) and
        ``None``; or ``None`` and the reason.
    """
    m, n = grid.cost_g.shape
    if m + n > MAX_STRATEGIES:
        return None, (f"{m} + {n} strategies exceed the {MAX_STRATEGIES} Lemke-Howson takes; "
                      "give fewer points (--grid-points)")
    found = bimatrix_equilibrium(grid.cost_g, grid.cost_d)
    mixed = MixedNash(None, _support(grid.theta, found.p), _support(grid.psi, found.q),
                      method="lemke-howson", cost_g=found.cost_g, cost_d=found.cost_d,
                      deviation_gains=(found.gain_g, found.gain_d), tol=found.tol)
    return mixed, None


def global_nash(vf: VectorField, box: Mapping[str, tuple[float, float]],
                grid_points: int) -> GlobalNash:
    """Pure Nash equilibria on the grid, zero-sum values and a mixed equilibrium.

    The mixed equilibrium is sought only when the grid has no pure one: by
    linear programming for a zero-sum game, by Lemke-Howson for a
    general-sum one (:func:`general_sum_mixed`).

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
        general, skipped = general_sum_mixed(grid) if not pure else (None, None)
        return GlobalNash(grid_points, pure, *on_boundary, mixed=general, general_sum=True,
                          mixed_skipped=skipped)
    values = minimax_values(grid)
    mixed = None
    if not pure:
        solved = mixed_equilibrium(grid)
        mixed = MixedNash(float(solved.value), _support(grid.theta, solved.p),
                          _support(grid.psi, solved.q))
    return GlobalNash(grid_points, pure, *on_boundary, duality_gap=float(values.duality_gap),
                      min_max=float(values.min_max), max_min=float(values.max_min), mixed=mixed)
