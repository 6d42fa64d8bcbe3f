r"""The convergence map of ``gandyn sweep --plot``.

Each cell is coloured by its simulated verdict (Okabe-Ito: converged bluish
green, cycling orange, diverged vermillion) and the linear prediction is
overlaid: for two axes, the contour ``rho = 1`` of the spectral radius of the
rule's map at the equilibrium (the linear stability boundary); for one axis,
``rho`` itself as a line with the verdicts as markers on it and ``rho = 1``
dashed. Cells inside the boundary are predicted to converge (Mescheder,
Nowozin and Geiger 2017, Sec. 3).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from gandyn.plotting.figures import state_label
from gandyn.plotting.save import save_figure
from gandyn.plotting.style import ONE_COLUMN, PALETTE, paper_figure, paper_style

if TYPE_CHECKING:
    from gandyn.sweeps import SweepResult

__all__ = ["VERDICT_COLORS", "plot_sweep", "sweep_axes"]

#: Colour of each verdict (Okabe-Ito), in the order of :data:`gandyn.sweeps.VERDICTS`.
VERDICT_COLORS: tuple[str, ...] = (PALETTE["bluish_green"], PALETTE["orange"],
                                   PALETTE["vermillion"])



#: Learning-rate axes by name; everything else is a symbol (state, hyper-parameter, setting).
_RATE_LABELS = {"lr": r"learning rate $h$", "lr_g": r"generator's learning rate $h_G$",
                "lr_d": r"discriminator's learning rate $h_D$"}


def _axis_label(name: str) -> str:
    return _RATE_LABELS.get(name) or state_label(name)


def _edges(values: np.ndarray[Any, Any], log: bool) -> np.ndarray[Any, Any]:
    """Cell edges around ``values`` (midpoints, geometric on a log axis)."""
    if len(values) == 1:
        v = float(values[0])
        return np.array([v / 1.5, v * 1.5]) if log and v > 0 else np.array([v - 0.5, v + 0.5])
    t = np.log(np.abs(values)) if log else values
    mid = 0.5 * (t[1:] + t[:-1])
    edges = np.concatenate([[2 * t[0] - mid[0]], mid, [2 * t[-1] - mid[-1]]])
    return np.sign(values[0]) * np.exp(edges) if log else edges


def _legend(ax: Axes, present: np.ndarray[Any, Any], boundary: bool) -> None:
    from gandyn.sweeps import VERDICTS

    handles: list[Any] = [Patch(facecolor=VERDICT_COLORS[i], label=VERDICTS[i])
                          for i in range(len(VERDICTS)) if present[i]]
    if boundary:
        handles.append(Line2D([], [], color="black", linestyle="--", label=r"$\rho = 1$"))
    # above the Axes: a map has no empty corner to hold it
    ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.0, 1.01), ncol=len(handles),
              frameon=False, borderaxespad=0.0, handlelength=1.2, columnspacing=0.8)


def sweep_axes(ax: Axes, result: SweepResult) -> Axes:
    """Draw a sweep of one or two axes on ``ax`` and return it.

    Parameters
    ----------
    ax
        The Axes.
    result
        A finished sweep (:func:`gandyn.sweeps.run_sweep`) with one or two axes.
    """
    from gandyn.errors import SpecError

    plan = result.plan
    axes = plan.axes
    codes = result.verdict.astype(np.int64)
    rho = np.asarray(result.measures["spectral_radius"], dtype=np.float64)
    present = np.bincount(codes, minlength=3) > 0
    finite = rho[np.isfinite(rho)]
    crosses = finite.size > 0 and finite.min() < 1.0 < finite.max()
    if len(axes) == 1:
        axis = axes[0]
        x = axis.values
        known = finite.size > 0
        y = rho if known else np.asarray(result.measures["distance"], dtype=np.float64)
        if known:
            ax.plot(x, y, color="black", linewidth=0.8, zorder=1)
            ax.axhline(1.0, color="black", linestyle="--", linewidth=0.8)
        for i, color in enumerate(VERDICT_COLORS):
            mask = codes == i
            if mask.any():
                ax.scatter(x[mask], y[mask], s=12, color=color, zorder=2, linewidths=0)
        ax.set_ylabel(r"spectral radius $\rho$" if known else "final distance")
        if not known:
            ax.set_yscale("log")
        ax.set_xlabel(_axis_label(axis.name))
        if axis.log:
            ax.set_xscale("log")
        _legend(ax, present, known)
        return ax
    if len(axes) != 2:
        raise SpecError(f"a sweep map draws one or two axes, not {len(axes)}")
    first, second = axes
    grid = codes.reshape(plan.shape).T  # rows: the second axis (y)
    cmap = ListedColormap(list(VERDICT_COLORS))
    ax.pcolormesh(_edges(first.values, first.log), _edges(second.values, second.log), grid,
                  cmap=cmap, vmin=-0.5, vmax=2.5, shading="flat", rasterized=True)
    if crosses and first.count > 1 and second.count > 1:
        ax.contour(first.values, second.values, rho.reshape(plan.shape).T, levels=[1.0],
                   colors="black", linestyles="--", linewidths=1.0)
    ax.set_xlabel(_axis_label(first.name))
    ax.set_ylabel(_axis_label(second.name))
    if first.log:
        ax.set_xscale("log")
    if second.log:
        ax.set_yscale("log")
    _legend(ax, present, crosses)
    return ax


def plot_sweep(result: SweepResult, target: str | os.PathLike[str], *,
               metadata: Mapping[str, Any], force: bool = False) -> list[Path]:
    """Draw and save the map of ``result`` with its data and metadata.

    Returns
    -------
    list of Path
        The files written (:func:`gandyn.plotting.save_figure`).
    """
    with paper_style():
        fig = paper_figure(ONE_COLUMN)
        sweep_axes(fig.add_subplot(), result)
        data: dict[str, Any] = {f"axis_{name}": np.asarray(v, dtype=np.float64)
                                for name, v in result.axis_values.items()}
        data["verdict"] = result.verdict.astype(np.int64)
        data["spectral_radius"] = np.asarray(result.measures["spectral_radius"],
                                             dtype=np.float64)
        return save_figure(fig, target, metadata=metadata, data=data, force=force)
