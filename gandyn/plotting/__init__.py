"""Publication figures of simulations: panels, the paper style, reproducible saving.

Importing this subpackage imports matplotlib (``import gandyn`` does not).
Nothing here uses pyplot, shows a window or changes matplotlib's global
state: figures are :class:`matplotlib.figure.Figure` objects and the style
is applied with the :func:`paper_style` context manager.

Examples
--------
>>> from gandyn.plotting import plot_simulation
>>> plot_simulation(traj, field, "fig.pdf", metadata={"spec": spec})  # doctest: +SKIP
[PosixPath('fig.pdf'), PosixPath('fig.json'), PosixPath('fig.data.npz')]
"""

from __future__ import annotations

from gandyn.plotting.figures import (
    field_grid,
    loss_curves,
    loss_label,
    phase_portrait,
    state_label,
)
from gandyn.plotting.save import (
    DEFAULT_DPI,
    FORMATS,
    OutputExistsError,
    save_figure,
    sidecar_paths,
    write_npz,
)
from gandyn.plotting.simulation import (
    LAYOUTS,
    plot_simulation,
    simulation_data,
    simulation_figure,
)
from gandyn.plotting.style import (
    CYCLE,
    LOSS_STYLE,
    ONE_COLUMN,
    ONE_COLUMN_TALL,
    PALETTE,
    TWO_COLUMN,
    LossStyle,
    output_rc,
    paper_figure,
    paper_style,
    style_path,
)

__all__ = [
    "CYCLE",
    "DEFAULT_DPI",
    "FORMATS",
    "LAYOUTS",
    "LOSS_STYLE",
    "ONE_COLUMN",
    "ONE_COLUMN_TALL",
    "PALETTE",
    "TWO_COLUMN",
    "LossStyle",
    "OutputExistsError",
    "field_grid",
    "loss_curves",
    "loss_label",
    "output_rc",
    "paper_figure",
    "paper_style",
    "phase_portrait",
    "plot_simulation",
    "save_figure",
    "sidecar_paths",
    "simulation_data",
    "simulation_figure",
    "state_label",
    "style_path",
    "write_npz",
]
