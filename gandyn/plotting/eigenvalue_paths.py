r"""The eigenvalue-path figure of ``gandyn analyze --path ... --plot``.

Two panels over the swept hyper-parameter: the real parts (flow: stable
below the zero line) or the moduli (a rule's map: stable below one), and the
imaginary parts (oscillation frequency); dotted vertical lines mark where
eigenvalues collide or stability changes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes

from gandyn.plotting.figures import state_label
from gandyn.plotting.save import save_figure
from gandyn.plotting.style import TWO_COLUMN, paper_figure, paper_style, series_style

__all__ = ["eigenvalue_path_axes", "plot_eigenvalue_path"]


def eigenvalue_path_axes(ax_stability: Axes, ax_frequency: Axes, path: Mapping[str, Any]) -> None:
    """Draw a path (the ``path`` record of ``gandyn analyze --json``) on two Axes."""
    values = np.asarray(path["values"], dtype=np.float64)
    eig = np.array([[complex(re, im) for re, im in row] for row in path["eigenvalues"]])
    flow = path["reference"] == "flow"
    label = state_label(str(path["parameter"]))
    for k in range(eig.shape[1]):
        style = series_style(k, eig.shape[1]).kwargs()
        y = eig[:, k].real if flow else np.abs(eig[:, k])
        ax_stability.plot(values, y, **style, markevery=0.1, markersize=3,
                          label=rf"$\lambda_{{{k + 1}}}$")
        ax_frequency.plot(values, eig[:, k].imag, **style, markevery=0.1, markersize=3)
    ax_stability.axhline(0.0 if flow else 1.0, color="0.4", linewidth=0.8, linestyle="-")
    ax_frequency.axhline(0.0, color="0.4", linewidth=0.8)
    for event in path["events"]:
        for ax in (ax_stability, ax_frequency):
            ax.axvline(event["value"], color="0.5", linewidth=0.8, linestyle=":")
    ax_stability.set_ylabel(r"$\mathrm{Re}\,\lambda$" if flow else r"$|\lambda|$")
    ax_frequency.set_ylabel(r"$\mathrm{Im}\,\lambda$")
    for ax in (ax_stability, ax_frequency):
        ax.set_xlabel(label)
        ax.set_xlim(values[0], values[-1])
    ax_stability.legend(loc="best", frameon=False)


def plot_eigenvalue_path(path: Mapping[str, Any], target: str | os.PathLike[str], *,
                         metadata: Mapping[str, Any], force: bool = False) -> list[Path]:
    """Draw and save the eigenvalue-path figure with its data and metadata."""
    with paper_style():
        fig = paper_figure(TWO_COLUMN)
        left, right = fig.subplots(1, 2)
        eigenvalue_path_axes(left, right, path)
        eig = np.array([[complex(re, im) for re, im in row] for row in path["eigenvalues"]])
        data = {
            "values": np.asarray(path["values"], dtype=np.float64),
            "eigenvalues_real": eig.real,
            "eigenvalues_imag": eig.imag,
            "event_values": np.array([e["value"] for e in path["events"]], dtype=np.float64),
            "event_kinds": np.array([e["kind"] for e in path["events"]], dtype=np.str_),
        }
        return save_figure(fig, target, metadata=metadata, data=data, force=force)
