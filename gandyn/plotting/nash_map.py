r"""The best-response (Nash) map of a one-parameter-per-player game on a grid.

Draws a :class:`gandyn.equilibria.grid_nash.PayoffGrid` as a heat map over ``(theta, psi)``
with both players' best responses (:func:`gandyn.equilibria.grid_nash.best_responses`: every
grid cell where a player's own cost is minimal against the other's
parameter), the pure Nash equilibria where the two meet
(:func:`gandyn.equilibria.grid_nash.pure_nash`), and, for zero-sum games, G's min-max
strategy, D's max-min strategy (:func:`gandyn.equilibria.grid_nash.minimax_values`) and the
support of a mixed equilibrium (:func:`gandyn.equilibria.grid_nash.mixed_equilibrium`).
Nothing is recomputed here that :mod:`gandyn.equilibria.grid_nash` computes.

References
----------
.. [1] von Neumann (1928). Zur Theorie der Gesellschaftsspiele. Math. Ann. 100
   (the minimax theorem).
.. [2] Hsieh, Liu and Cevher (2019). Finding Mixed Nash Equilibria of
   Generative Adversarial Networks. ICML (GANs without pure equilibria).
.. [3] Farnia and Ozdaglar (2020). Do GANs always have Nash equilibria? ICML.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from matplotlib import patheffects
from matplotlib.axes import Axes

from gandyn.arrays import Array
from gandyn.equilibria.grid_nash import (
    PayoffGrid,
    best_responses,
    minimax_values,
    mixed_equilibrium,
    pure_nash,
    zero_sum_payoff,
)
from gandyn.errors import SpecError
from gandyn.plotting.figures import state_label
from gandyn.plotting.style import PALETTE, note_fontsize

__all__ = ["best_response_path", "is_zero_sum", "nash_map", "nash_map_data"]


D_COLOR = PALETTE["vermillion"]
G_COLOR = PALETTE["sky_blue"]
NASH_COLOR = PALETTE["yellow"]
#: White lines and text get a thin black outline: visible on every colour of the map.
_OUTLINE = [patheffects.withStroke(linewidth=1.8, foreground=PALETTE["black"])]


def is_zero_sum(grid: PayoffGrid, tol: float | None = None) -> bool:
    """Whether ``cost_d + cost_g`` splits into a function of each player on the grid."""
    try:
        zero_sum_payoff(grid, tol)
    except SpecError:
        return False
    return True


def best_response_path(grid: PayoffGrid, theta0: float, steps: int, *,
                       tol: float | None = None) -> Array:
    """Alternating best responses on the grid, starting from G at ``theta0``.

    D answers ``theta`` with its smallest best response ``psi*(theta)``, then
    G answers ``psi`` with ``theta*(psi)``, ``steps`` times each.

    Returns
    -------
    ndarray
        ``(2 steps + 1, 2)`` points ``(theta, psi)``: ``(theta0, psi_1)``,
        ``(theta_1, psi_1)``, ``(theta_1, psi_2)``, ... (``theta0`` is
        rounded to the nearest grid value). A fixed point of the path is a
        pure Nash equilibrium.
    """
    if isinstance(steps, bool) or int(steps) < 1:
        raise SpecError(f"steps must be a positive integer, got {steps!r}")
    responses = best_responses(grid, tol)
    i = int(np.argmin(np.abs(grid.theta - float(theta0))))
    points: list[tuple[float, float]] = []
    for _ in range(int(steps)):
        j = int(np.argmax(responses.d_best[i]))
        points.append((float(grid.theta[i]), float(grid.psi[j])))
        i = int(np.argmax(responses.g_best[:, j]))
        points.append((float(grid.theta[i]), float(grid.psi[j])))
    j = int(np.argmax(responses.d_best[i]))
    points.append((float(grid.theta[i]), float(grid.psi[j])))
    return np.array(points, dtype=np.float64)


def _payoff(grid: PayoffGrid, payoff: str, zero_sum: bool,
            tol: float | None) -> tuple[Array, str]:
    if payoff == "auto":
        payoff = "value" if zero_sum else "cost_g"
    if payoff == "value":
        if not zero_sum:
            raise SpecError(f"game {grid.game or '(grid)'!r} is not zero-sum on this box: "
                            "it has no single payoff; show cost_g or cost_d")
        return zero_sum_payoff(grid, tol), r"$V$ (D maximizes, G minimizes)"
    if payoff == "cost_g":
        return grid.cost_g, r"$\mathrm{cost}_G$"
    if payoff == "cost_d":
        return grid.cost_d, r"$\mathrm{cost}_D$"
    raise SpecError(f"payoff must be 'auto', 'value', 'cost_g' or 'cost_d', got {payoff!r}")


def nash_map(
    ax: Axes,
    grid: PayoffGrid,
    *,
    payoff: Literal["auto", "value", "cost_g", "cost_d"] = "auto",
    tol: float | None = None,
    minimax: bool = True,
    mixed: bool = True,
    path: Any = None,
    colorbar: bool = True,
    legend: bool = True,
) -> Axes:
    r"""Draw the payoff, both best responses, Nash points and (zero-sum) the mixed equilibrium.

    Parameters
    ----------
    ax
        Where to draw (``theta`` across, ``psi`` up).
    grid
        From :func:`gandyn.equilibria.grid_nash.payoff_grid`.
    payoff
        The heat map: ``value`` (the zero-sum payoff ``V`` of
        :func:`gandyn.equilibria.grid_nash.zero_sum_payoff`), ``cost_g`` or ``cost_d``;
        ``auto`` takes ``value`` for zero-sum grids, else ``cost_g``.
    tol
        Tie tolerance for best responses (default the grid's).
    minimax
        Zero-sum grids: a vertical line at G's min-max ``theta`` and a
        horizontal one at D's max-min ``psi``, labelled with the upper and lower values.
    mixed
        Zero-sum grids: circles on the support of a mixed equilibrium ``p x q``,
        area proportional to ``p_i q_j``.
    path
        Points ``(k, 2)`` of ``(theta, psi)`` to connect, e.g.
        :func:`best_response_path`.
    colorbar, legend
        Add a colour bar to the figure; draw a legend above the axes.

    Returns
    -------
    Axes
        With, in order: the heat map (a ``QuadMesh``), D's best responses,
        G's best responses, the pure Nash points (if any), then the
        min-max/max-min lines, the mixed support and the path when drawn.
        Without a pure Nash point the axes say so.
    """
    zero_sum = is_zero_sum(grid, tol)
    values, label = _payoff(grid, payoff, zero_sum, tol)
    responses = best_responses(grid, tol)
    mesh = ax.pcolormesh(grid.theta, grid.psi, values.T, shading="nearest", cmap="cividis",
                         rasterized=True, zorder=0)
    # marker area in points^2: about half a cell of a 200 pt wide panel, at least visible
    cells = max(len(grid.theta), len(grid.psi))
    size = float(np.clip((120.0 / cells) ** 2, 2.0, 16.0))
    di, dj = np.nonzero(responses.d_best)
    ax.scatter(grid.theta[di], grid.psi[dj], s=size, marker="o", color=D_COLOR, linewidths=0,
               zorder=3, label=r"D's best response $\psi^*(\theta)$")
    gi, gj = np.nonzero(responses.g_best)
    ax.scatter(grid.theta[gi], grid.psi[gj], s=size, marker="s", color=G_COLOR, linewidths=0,
               zorder=3, label=r"G's best response $\theta^*(\psi)$")
    nash = pure_nash(grid, tol)
    if nash:
        ax.scatter([p[grid.theta_name] for p in nash], [p[grid.psi_name] for p in nash], s=60,
                   marker="*", color=NASH_COLOR, edgecolors=PALETTE["black"], linewidths=0.6,
                   zorder=6, label="pure Nash")
    # the heat map fills the axes: a note inside would cover data, so it goes above them
    note = None if nash else "no pure Nash equilibrium"
    if zero_sum and minimax:
        mm = minimax_values(grid, tol)
        ax.axvline(mm.theta_minmax, color="white", linestyle=(0, (4, 2)), linewidth=0.8,
                   zorder=4, path_effects=_OUTLINE,
                   label=rf"min-max $\theta$ (upper value {mm.min_max:.3g})")
        ax.axhline(mm.psi_maxmin, color="white", linestyle=(0, (1, 1.5)), linewidth=0.9,
                   zorder=4, path_effects=_OUTLINE,
                   label=rf"max-min $\psi$ (lower value {mm.max_min:.3g})")
    if zero_sum and mixed:
        eq = mixed_equilibrium(grid, tol)
        pi = np.flatnonzero(eq.p > 1e-9)
        qj = np.flatnonzero(eq.q > 1e-9)
        ii, jj = np.meshgrid(pi, qj, indexing="ij")
        weight = (eq.p[ii] * eq.q[jj]).ravel()
        ax.scatter(grid.theta[ii].ravel(), grid.psi[jj].ravel(), s=160.0 * weight,
                   facecolors="none", edgecolors=PALETTE["orange"], linewidths=1.4, zorder=5,
                   clip_on=False, label=f"mixed equilibrium (value {eq.value:.3g})")
    if path is not None:
        pts = np.asarray(path, dtype=np.float64).reshape(-1, 2)
        ax.plot(pts[:, 0], pts[:, 1], color=PALETTE["reddish_purple"], linewidth=1.0, marker="o",
                markersize=2.5, markeredgecolor="white", markeredgewidth=0.4,
                zorder=4, clip_on=False, label="best-response iteration")
    ax.set_xlim(grid.theta[0], grid.theta[-1])
    ax.set_ylim(grid.psi[0], grid.psi[-1])
    ax.set_xlabel(state_label(grid.theta_name) + " (generator)")
    ax.set_ylabel(state_label(grid.psi_name) + " (discriminator)")
    if colorbar and ax.figure is not None:
        bar = ax.figure.colorbar(mesh, ax=ax)
        bar.set_label(label)
    if legend:  # one column: two columns of these labels are wider than a one-column panel
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=1, borderaxespad=0.2,
                  fontsize=note_fontsize(), title=note, title_fontsize=note_fontsize(),
                  alignment="left")
    elif note:
        ax.text(0.0, 1.02, note, transform=ax.transAxes, ha="left", va="bottom",
                fontsize=note_fontsize())
    return ax


def nash_map_data(grid: PayoffGrid, tol: float | None = None) -> dict[str, np.ndarray[Any, Any]]:
    """The arrays behind :func:`nash_map`, for a ``.data.npz``.

    ``theta``, ``psi``, ``cost_g``, ``cost_d``, ``d_best``, ``g_best``,
    ``pure_nash`` ``(k, 2)``; for zero-sum grids also ``payoff`` (``V``),
    ``min_max``, ``max_min``, ``mixed_p``, ``mixed_q`` and ``mixed_value``.
    """
    responses = best_responses(grid, tol)
    nash = pure_nash(grid, tol)
    data: dict[str, np.ndarray[Any, Any]] = {
        "theta": grid.theta,
        "psi": grid.psi,
        "cost_g": grid.cost_g,
        "cost_d": grid.cost_d,
        "d_best": responses.d_best,
        "g_best": responses.g_best,
        "pure_nash": np.array([[p[grid.theta_name], p[grid.psi_name]] for p in nash],
                              dtype=np.float64).reshape(-1, 2),
    }
    if is_zero_sum(grid, tol):
        mm = minimax_values(grid, tol)
        eq = mixed_equilibrium(grid, tol)
        data.update(payoff=eq.payoff, min_max=np.asarray(mm.min_max),
                    max_min=np.asarray(mm.max_min), mixed_p=eq.p, mixed_q=eq.q,
                    mixed_value=np.asarray(eq.value))
    return data
