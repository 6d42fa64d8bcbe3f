"""The simulation figure: phase portrait beside (or above) the loss curves of run 0."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from matplotlib.figure import Figure

from gandyn.errors import SpecError
from gandyn.plotting.figures import loss_curves, phase_portrait, portrait_axes, portrait_grid
from gandyn.plotting.save import save_figure
from gandyn.plotting.style import ONE_COLUMN_TALL, TWO_COLUMN, paper_figure, paper_style

if TYPE_CHECKING:
    from gandyn.derivation.field import VectorField
    from gandyn.dynamics.trajectory import Trajectory

__all__ = ["LAYOUTS", "plot_simulation", "run_parameters", "simulation_data", "simulation_figure"]

Layout = Literal["one-column", "two-column"]
LAYOUTS: tuple[str, ...] = ("one-column", "two-column")

#: Losses computed with logarithms (cross-entropy), whose values are in nats.
_LOG_LOSSES = frozenset({"minimax", "non-saturating", "relativistic"})


def _loss_axis_label(field: VectorField | None) -> str:
    loss = field.game.loss if field is not None else None
    if loss is not None and loss.name in _LOG_LOSSES:
        return "loss (nats)"
    return "loss"


def simulation_figure(
    traj: Trajectory,
    field: VectorField | None,
    *,
    layout: Layout = "two-column",
    equilibria: Sequence[Sequence[float]] | np.ndarray[Any, Any] = (),
    run: int = 0,
    x: Literal["step", "time"] = "step",
    xlim: tuple[float, float] | None = None,
    ylim: tuple[float, float] | None = None,
    params: Mapping[str, float] | None = None,
    axes: tuple[int, int] | None = None,
    slice_at: Sequence[float] | np.ndarray[Any, Any] | None = None,
    slice_name: str | None = None,
) -> Figure:
    """Build the simulation figure (call inside :func:`~gandyn.plotting.paper_style`).

    ``two-column``: a 7.0 in wide figure, phase portrait left, loss curves
    right. ``one-column``: 3.4 in wide, the two panels stacked. ``axes``
    (two state indices), ``slice_at`` and ``slice_name`` choose the
    portrait's coordinates and the slice of the field for states of more
    than two coordinates (see :func:`~gandyn.plotting.phase_portrait`).
    """
    if layout not in LAYOUTS:
        raise SpecError(f"unknown layout {layout!r} (known: {', '.join(LAYOUTS)})")
    if layout == "two-column":
        fig = paper_figure(TWO_COLUMN)
        left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.0, 1.35]})
    else:
        fig = paper_figure(ONE_COLUMN_TALL)
        left, right = fig.subplots(2, 1, gridspec_kw={"height_ratios": [1.15, 1.0]})
    x_index, y_index = portrait_axes(traj.state_names, field, axes)
    described = run_parameters(traj, field)
    phase_portrait(left, field, traj, x_index=x_index, y_index=y_index, equilibria=equilibria,
                   xlim=xlim, ylim=ylim, params=params, slice_at=slice_at,
                   slice_name=slice_name)
    loss_curves(right, traj, run=run, x=x, ylabel=_loss_axis_label(field))
    if described:
        # The step size and penalty weights a reader needs, under the axis (no data there).
        right.set_xlabel(f"{right.get_xlabel()}\n{described}")
    return fig


def _number(value: Any) -> str:
    return f"{float(value):.4g}"


def run_parameters(traj: Trajectory, field: VectorField | None) -> str:
    """The run's method, learning rates and regularizer weights in one line of mathtext.

    ``simgd, $\\eta_G = \\eta_D = 0.1$; r1: $\\gamma = 0.3$``: what a reader needs to
    reproduce the figure's dynamics; empty when the trajectory records no method.
    """
    method = dict(traj.method)
    name = method.get("optimizer")
    if not name:
        return ""
    parts = [str(name)]
    lr_g, lr_d = method.get("lr_g"), method.get("lr_d")
    rates = method.get("rates")
    if name == "flow" and isinstance(rates, list | tuple) and field is not None and rates:
        # The flow records its per-coordinate time scales: generator first.
        lr_g, lr_d = rates[0], rates[-1] if len(field.game.psi) else rates[0]
    if isinstance(lr_g, int | float) and isinstance(lr_d, int | float):
        if name == "flow":
            if lr_g != lr_d:
                parts[0] += rf", $\tau = \eta_D/\eta_G = {_number(lr_d / lr_g)}$"
        elif lr_g == lr_d:
            parts[0] += rf", $\eta_G = \eta_D = {_number(lr_g)}$"
        else:
            parts[0] += rf", $\eta_G = {_number(lr_g)}$, $\eta_D = {_number(lr_d)}$"
    if field is not None:
        values = {p.name: p.value for p in field.game.params}
        for reg in field.game.regularizers:
            settings = ", ".join(
                rf"${_symbol(key)} = {_number(values.get(f'{key}_{reg.regularizer.tag}', v))}$"
                for key, v in reg.values)
            parts.append(f"{reg.name}: {settings}" if settings else reg.name)
    return "; ".join(parts)


def _symbol(name: str) -> str:
    greek = {"gamma", "sigma", "eta", "lambda", "beta", "tau"}
    return "\\" + name if name in greek else name


def simulation_data(
    traj: Trajectory,
    equilibria: Sequence[Sequence[float]] | np.ndarray[Any, Any] = (),
    grid: Mapping[str, np.ndarray[Any, Any]] | None = None,
) -> dict[str, np.ndarray[Any, Any]]:
    """The arrays behind a simulation figure, in a fixed order.

    ``t``, ``step``, ``x`` ``(B, n_t, n)``, ``logged`` ``(B, n_t, k)``,
    ``diverged``, ``diverged_at``, ``state_names``, ``logged_names``; then
    ``equilibria`` ``(m, n)`` if any and the streamplot's grid
    (:func:`~gandyn.plotting.figures.field_grid`) if given.
    """
    n = len(traj.state_names)
    data: dict[str, np.ndarray[Any, Any]] = {
        "t": np.asarray(traj.t, dtype=np.float64),
        "step": np.asarray(traj.step, dtype=np.float64),
        "x": np.asarray(traj.x, dtype=np.float64),
        "logged": np.asarray(traj.logged, dtype=np.float64),
        "diverged": np.asarray(traj.diverged, dtype=np.bool_),
        "diverged_at": np.asarray(traj.diverged_at, dtype=np.float64),
        "state_names": np.array(traj.state_names, dtype=np.str_),
        "logged_names": np.array(traj.logged_names, dtype=np.str_),
    }
    if len(equilibria):
        data["equilibria"] = np.asarray(equilibria, dtype=np.float64).reshape(-1, n)
    if grid is not None:
        data.update({k: np.asarray(v) for k, v in grid.items()})
    return data


def plot_simulation(
    traj: Trajectory,
    field: VectorField | None,
    path: str | os.PathLike[str],
    *,
    metadata: Mapping[str, Any],
    layout: Layout = "two-column",
    force: bool = False,
    equilibria: Sequence[Sequence[float]] | np.ndarray[Any, Any] = (),
    also: Sequence[str] = (),
    dpi: int | None = None,
    x: Literal["step", "time"] = "step",
    xlim: tuple[float, float] | None = None,
    ylim: tuple[float, float] | None = None,
    params: Mapping[str, float] | None = None,
    axes: tuple[int, int] | None = None,
    slice_at: Sequence[float] | np.ndarray[Any, Any] | None = None,
    slice_name: str | None = None,
) -> list[Path]:
    """Draw and save the simulation figure with its metadata and data.

    Parameters
    ----------
    traj
        The runs: all are drawn in the phase portrait, run 0's losses on the right.
    field
        The game's derivatives (the streamplot, for a 2-D state), or ``None``.
    path
        The figure file (``.pdf``, ``.svg`` or ``.png``); see
        :func:`~gandyn.plotting.save_figure` for the sidecar files.
    metadata
        The run spec and gandyn version; the trajectory's method, measure and
        message are added under ``trajectory`` unless that key is given.
    layout
        ``two-column`` (side by side, 7.0 in) or ``one-column`` (stacked, 3.4 in).
    force
        Overwrite existing files.
    equilibria
        Points to mark in the phase portrait, ``(m, n)``.
    also, dpi
        Passed to :func:`~gandyn.plotting.save_figure`.
    x
        The loss curves' horizontal axis: ``step`` or ``time``.
    xlim, ylim, params
        Passed to :func:`~gandyn.plotting.phase_portrait`.
    axes, slice_at, slice_name
        The portrait's two state coordinates and, for states of more than two
        coordinates, the state the field's slice passes through; see
        :func:`simulation_figure`. The data file then holds ``axes`` and
        ``slice_at`` beside the grid (:func:`~gandyn.plotting.figures.portrait_grid`).

    Returns
    -------
    list of Path
        The files written.
    """
    meta = dict(metadata)
    meta.setdefault("trajectory", {
        "method": dict(traj.method),
        "measure": traj.measure,
        "message": traj.message,
        "n_runs": traj.n_runs,
        "n_records": len(traj.step),
    })
    with paper_style():
        fig = simulation_figure(traj, field, layout=layout, equilibria=equilibria, x=x,
                                xlim=xlim, ylim=ylim, params=params, axes=axes,
                                slice_at=slice_at, slice_name=slice_name)
        grid = None
        if field is not None:
            # the same limits and grid as the streamplot
            phase = fig.axes[0]
            grid = portrait_grid(field, traj.state_names, phase.get_xlim(), phase.get_ylim(),
                                 axes=axes, slice_at=slice_at, params=params)
        data = simulation_data(traj, equilibria, grid)
        return save_figure(fig, path, metadata=meta, data=data, force=force, also=also,
                           dpi=dpi)
