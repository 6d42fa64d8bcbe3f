"""Publication figures: panels that draw gandyn data on an Axes, the paper style, saving.

Importing this subpackage imports matplotlib (``import gandyn`` does not).
Nothing here uses pyplot, shows a window or changes matplotlib's global
state: figures are :class:`matplotlib.figure.Figure` objects and the style
is applied with the :func:`paper_style` context manager.

Examples
--------
>>> from gandyn.plotting import plot_simulation
>>> plot_simulation(traj, field, "fig.pdf", metadata={"spec": spec})  # doctest: +SKIP
[PosixPath('fig.pdf'), PosixPath('fig.pdf.json'), PosixPath('fig.pdf.data.npz')]
"""

from __future__ import annotations

from gandyn.plotting.animation import animate_trajectory
from gandyn.plotting.costs import (
    DEFAULT_COST_LOSSES,
    GeneratorCost,
    generator_cost,
    generator_costs,
    generator_costs_data,
)
from gandyn.plotting.eigenvalue_paths import eigenvalue_path_axes, plot_eigenvalue_path
from gandyn.plotting.figures import (
    EQUILIBRIUM_MARKERS,
    field_grid,
    loss_curves,
    loss_label,
    phase_portrait,
    state_label,
    zero_level_lines,
)
from gandyn.plotting.nash_map import (
    best_response_path,
    nash_map,
    nash_map_data,
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
from gandyn.plotting.spectrum import (
    REGION_RULES,
    eigenvalue_plane,
    map_eigenvalues,
    map_radius_grid,
    region_radius,
    scaled_eigenvalues,
    spectrum_data,
    stability_map,
)
from gandyn.plotting.style import (
    CYCLE,
    LOSS_STYLE,
    ONE_COLUMN,
    ONE_COLUMN_TALL,
    PALETTE,
    RUN_COLORS,
    SERIES_COLORS,
    TWO_COLUMN,
    VENUES,
    LossStyle,
    SeriesStyle,
    Venue,
    active_venue,
    figure_size,
    note_fontsize,
    output_rc,
    paper_figure,
    paper_style,
    run_style,
    series_style,
    style_path,
    venue_style,
)

__all__ = [
    "CYCLE",
    "DEFAULT_COST_LOSSES",
    "DEFAULT_DPI",
    "EQUILIBRIUM_MARKERS",
    "FORMATS",
    "LAYOUTS",
    "LOSS_STYLE",
    "ONE_COLUMN",
    "ONE_COLUMN_TALL",
    "PALETTE",
    "REGION_RULES",
    "RUN_COLORS",
    "SERIES_COLORS",
    "TWO_COLUMN",
    "VENUES",
    "GeneratorCost",
    "LossStyle",
    "OutputExistsError",
    "SeriesStyle",
    "Venue",
    "active_venue",
    "animate_trajectory",
    "best_response_path",
    "eigenvalue_path_axes",
    "eigenvalue_plane",
    "field_grid",
    "figure_size",
    "generator_cost",
    "generator_costs",
    "generator_costs_data",
    "loss_curves",
    "loss_label",
    "map_eigenvalues",
    "map_radius_grid",
    "nash_map",
    "nash_map_data",
    "note_fontsize",
    "output_rc",
    "paper_figure",
    "paper_style",
    "phase_portrait",
    "plot_eigenvalue_path",
    "plot_simulation",
    "region_radius",
    "run_style",
    "save_figure",
    "scaled_eigenvalues",
    "series_style",
    "sidecar_paths",
    "simulation_data",
    "simulation_figure",
    "spectrum_data",
    "stability_map",
    "state_label",
    "style_path",
    "venue_style",
    "write_npz",
    "zero_level_lines",
]
