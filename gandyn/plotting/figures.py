r"""Figure panels: functions that draw data on a given Axes and return it.

Each function takes the data (a :class:`~gandyn.dynamics.trajectory.Trajectory`, a
:class:`~gandyn.derivation.field.VectorField`) and an :class:`~matplotlib.axes.Axes`,
draws, and returns the Axes; none creates a figure, shows one or changes
global state. Use them inside :func:`gandyn.plotting.paper_style`.

State coordinates are labelled with their symbols as mathtext (``theta`` ->
:math:`\theta`, ``psi_1`` -> :math:`\psi_1`, ``theta_mu`` ->
:math:`\theta_\mu`); parameters are dimensionless.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import FancyArrowPatch

from gandyn.arrays import Array
from gandyn.errors import SpecError
from gandyn.plotting.style import (
    LOSS_STYLE,
    PALETTE,
    LossStyle,
    note_fontsize,
    run_style,
    series_style,
)

if TYPE_CHECKING:
    from gandyn.derivation.field import VectorField
    from gandyn.dynamics.trajectory import Trajectory

__all__ = [
    "EQUILIBRIUM_MARKERS",
    "field_grid",
    "loss_curves",
    "loss_label",
    "phase_portrait",
    "portrait_axes",
    "portrait_grid",
    "projection_note",
    "state_label",
    "zero_level_lines",
]


#: Streamplot background: light enough that trajectories stand out.
STREAM_COLOR = "#B8B8B8"
#: Grid points per axis at which the field is evaluated for the streamplot.
GRID_POINTS = 41

_GREEK = frozenset({
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi",
    "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi",
    "Psi", "Omega",
})
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)*")


def _math_part(part: str) -> str:
    if part in _GREEK:
        return "\\" + part
    if len(part) == 1 or part.isdigit():
        return part
    return r"\mathrm{" + part + "}"


def state_label(name: str) -> str:
    r"""The mathtext label of a state coordinate.

    ``theta`` -> ``$\theta$``, ``psi_1`` -> ``$\psi_1$``, ``theta_mu`` ->
    ``$\theta_\mu$``, ``psi_1_2`` -> ``$\psi_{1,2}$``. A name that is not an
    identifier is returned as plain text (with ``$`` escaped).
    """
    if not _IDENTIFIER.fullmatch(name):
        return name.replace("$", r"\$")
    base, *subs = name.split("_")
    label = _math_part(base)
    if subs:
        sub = ",".join(_math_part(s) for s in subs)
        single = len(subs) == 1 and (len(sub) == 1 or subs[0] in _GREEK)
        label += f"_{sub}" if single else "_{" + sub + "}"
    return f"${label}$"


def loss_label(name: str) -> str:
    """The mathtext label of a logged loss (:data:`LOSS_STYLE`), or ``name`` itself."""
    style = LOSS_STYLE.get(name)
    return style.label if style is not None else state_label(name)


def _check_run(traj: Trajectory, run: int) -> None:
    if not -traj.n_runs <= run < traj.n_runs:
        raise SpecError(f"run {run} is out of range: the trajectory has {traj.n_runs} run(s)")


def _check_state_index(names: Sequence[str], index: int, what: str) -> None:
    n = len(names)
    if not 0 <= index < n:
        raise SpecError(
            f"{what} {index} is out of range: the state has {n} coordinates "
            f"({', '.join(names)})"
        )


def valid_until(traj: Trajectory, run: int) -> int:
    """Number of records of ``run`` before its divergence (all of them if it did not).

    The record at the divergence itself holds the frozen (discrete) or
    out-of-bounds (flow) state, not a step of the dynamics, and is left out.
    """
    if not traj.diverged[run] or not np.isfinite(traj.diverged_at[run]):
        return len(traj.step)
    clock = traj.t if traj.method.get("optimizer") == "flow" else traj.step
    return max(1, int(np.searchsorted(clock, traj.diverged_at[run], side="left")))


def _limits(values: Array, given: tuple[float, float] | None) -> tuple[float, float]:
    if given is not None:
        lo, hi = float(given[0]), float(given[1])
        if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
            raise SpecError(f"axis limits must be finite and increasing, got {given}")
        return lo, hi
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return -1.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    span = hi - lo
    if span <= 1e-12 * max(1.0, abs(lo), abs(hi)):
        half = max(1.0, abs(lo)) * 0.5
        return lo - half, hi + half
    return lo - 0.08 * span, hi + 0.08 * span


def field_grid(
    field: VectorField,
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    *,
    points: int = GRID_POINTS,
    params: Mapping[str, float] | None = None,
) -> dict[str, Array]:
    """The 2-D flow field ``F = -xi`` on a regular grid (the data behind a streamplot).

    ``xlim`` and ``ylim`` are the ranges of the first and the second state
    coordinate (``theta`` and ``psi``), in the state's order.

    Returns
    -------
    dict
        ``grid_x`` ``(points,)``, ``grid_y`` ``(points,)`` and ``field_u``,
        ``field_v`` ``(points, points)`` with ``field_u[i, j] = F_0(grid_x[j],
        grid_y[i])`` (non-finite values are NaN).
    """
    n = len(field.game.state_symbols)
    if n != 2:
        raise SpecError(f"a streamplot needs a 2-D state; this game's state has {n} coordinates")
    gx = np.linspace(xlim[0], xlim[1], points)
    gy = np.linspace(ylim[0], ylim[1], points)
    mesh = np.stack(np.meshgrid(gx, gy, indexing="xy"), axis=-1)
    with np.errstate(all="ignore"):
        values = np.asarray(field.field_fn(mesh, params), dtype=np.float64)
    values = np.where(np.isfinite(values), values, np.nan)
    return {"grid_x": gx, "grid_y": gy, "field_u": values[..., 0], "field_v": values[..., 1]}


def _arrow_at_midpoint(
    ax: Axes, xs: Array, ys: Array, spans: tuple[float, float], color: str
) -> None:
    """An arrow head on the path at half its length (measured in axes units)."""
    dx = np.diff(xs) / spans[0]
    dy = np.diff(ys) / spans[1]
    seg = np.hypot(dx, dy)
    seg = np.where(np.isfinite(seg), seg, 0.0)
    total = float(seg.sum())
    if total < 1e-3:  # the run barely moves: an arrow would point nowhere in particular
        return
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    k = int(np.searchsorted(cum, 0.5 * total))
    k = min(max(k, 1), len(xs) - 1)
    frac = (0.5 * total - cum[k - 1]) / seg[k - 1] if seg[k - 1] > 0 else 1.0
    head = (xs[k - 1] + frac * (xs[k] - xs[k - 1]), ys[k - 1] + frac * (ys[k] - ys[k - 1]))
    # the tail sits a hair behind the head along the segment: only the direction matters
    eps = 1e-3 / max(seg[k - 1], 1e-12)
    tail = (head[0] - eps * (xs[k] - xs[k - 1]), head[1] - eps * (ys[k] - ys[k - 1]))
    ax.add_patch(FancyArrowPatch(
        tail, head, arrowstyle="-|>", mutation_scale=8, color=color, linewidth=0.0,
        shrinkA=0.0, shrinkB=0.0, zorder=3,
    ))


#: Grid points per axis of a quiver field (arrows need more room than streamlines).
QUIVER_POINTS = 17

#: How each flow class of :func:`gandyn.equilibria.flow_stability` is marked:
#: ``(marker, face colour, label)``; filled is stable, open is not.
EQUILIBRIUM_MARKERS: dict[str, tuple[str, str, str]] = {
    "stable node": ("o", PALETTE["black"], "stable node"),
    "stable focus": ("o", PALETTE["black"], "stable focus"),
    "unstable node": ("o", "white", "unstable node"),
    "unstable focus": ("o", "white", "unstable focus"),
    "saddle": ("X", PALETTE["black"], "saddle"),
    "centre": ("s", "white", "centre"),
    "marginal": ("D", "0.6", "marginal"),
}

#: Colours of the two nullclines (where one player's update vanishes).
NULLCLINE_COLORS = (PALETTE["orange"], PALETTE["reddish_purple"])


def zero_level_lines(gx: Array, gy: Array, values: Array) -> Array:
    """The zero level set of ``values[i, j] = f(gx[j], gy[i])`` as an ``(m, 2)`` polyline.

    Pieces are separated by rows of NaN (one :class:`~matplotlib.lines.Line2D`
    draws them all). Marching squares by :mod:`contourpy`, the engine behind
    :meth:`~matplotlib.axes.Axes.contour`; cells with a non-finite value are
    left out.
    """
    import contourpy

    z = np.ma.masked_invalid(values)
    generator = contourpy.contour_generator(gx, gy, z, line_type="Separate")
    pieces = [np.asarray(piece, dtype=np.float64) for piece in generator.lines(0.0)]
    if not pieces:
        return np.empty((0, 2))
    gap = np.full((1, 2), np.nan)
    joined: list[Array] = []
    for piece in pieces:
        joined.extend([piece, gap])
    return np.concatenate(joined[:-1])


def _flow_on_axes(
    field: VectorField, x_index: int, xl: tuple[float, float], yl: tuple[float, float],
    points: int, params: Mapping[str, float] | None,
) -> tuple[Array, Array, Array, Array]:
    """Grid and field components in axis order (``u`` along x, ``v`` along y)."""
    if x_index == 0:
        grid = field_grid(field, xl, yl, points=points, params=params)
        return grid["grid_x"], grid["grid_y"], grid["field_u"], grid["field_v"]
    # psi on the horizontal axis: transpose the grid of the state order
    grid = field_grid(field, yl, xl, points=points, params=params)
    return grid["grid_y"], grid["grid_x"], grid["field_v"].T, grid["field_u"].T


def portrait_axes(names: Sequence[str], field: VectorField | None,
                  axes: tuple[int, int] | None = None) -> tuple[int, int]:
    """The state coordinates a phase portrait puts on its x and y axes.

    ``axes`` if given (checked); otherwise the first coordinate against the
    first discriminator coordinate (``len(field.game.theta)``; without a
    field, the first coordinate named ``psi...``, else 1).
    """
    if axes is None:
        if field is not None:
            y_index = len(field.game.theta)
        else:
            psi = [i for i, name in enumerate(names) if name.startswith("psi")]
            y_index = psi[0] if psi else 1
        axes = (0, y_index)
    x_index, y_index = axes
    _check_state_index(names, x_index, "x_index")
    _check_state_index(names, y_index, "y_index")
    if x_index == y_index:
        raise SpecError(f"x_index and y_index are both {x_index}: choose two coordinates")
    return x_index, y_index


def _slice_on_axes(
    field: VectorField, x_index: int, y_index: int, xl: tuple[float, float],
    yl: tuple[float, float], slice_at: Array, points: int,
    params: Mapping[str, float] | None,
) -> tuple[Array, Array, Array, Array]:
    """The field's two shown components on the plane through ``slice_at`` (axis order)."""
    gx = np.linspace(xl[0], xl[1], points)
    gy = np.linspace(yl[0], yl[1], points)
    mesh = np.broadcast_to(np.asarray(slice_at, dtype=np.float64),
                           (points, points, slice_at.size)).copy()
    mx, my = np.meshgrid(gx, gy, indexing="xy")
    mesh[..., x_index] = mx
    mesh[..., y_index] = my
    with np.errstate(all="ignore"):
        values = np.asarray(field.field_fn(mesh, params), dtype=np.float64)
    values = np.where(np.isfinite(values), values, np.nan)
    return gx, gy, values[..., x_index], values[..., y_index]


def _portrait_flow(
    field: VectorField, names: Sequence[str], x_index: int, y_index: int,
    xl: tuple[float, float], yl: tuple[float, float], slice_at: Array | None, points: int,
    params: Mapping[str, float] | None,
) -> tuple[Array, Array, Array, Array] | None:
    """Grid and shown field components in axis order, or ``None`` when no field is drawn."""
    if len(names) == 2:
        return _flow_on_axes(field, x_index, xl, yl, points, params)
    if slice_at is None:
        return None
    return _slice_on_axes(field, x_index, y_index, xl, yl, slice_at, points, params)


def _checked_slice(names: Sequence[str], slice_at: Sequence[float] | Array | None
                   ) -> Array | None:
    if slice_at is None:
        return None
    values = np.asarray(slice_at, dtype=np.float64).reshape(-1)
    if values.size != len(names):
        raise SpecError(f"slice_at has {values.size} values for a state of {len(names)} "
                        f"coordinates ({', '.join(names)})")
    if not np.all(np.isfinite(values)):
        raise SpecError("slice_at must be finite")
    return values


def projection_note(names: Sequence[str], x_index: int, y_index: int,
                    slice_at: Array | None, slice_name: str | None = None) -> str:
    """What a portrait of a state with more than two coordinates shows, in words.

    The paths are projections onto the two shown coordinates; the field, if
    drawn, is the slice through ``slice_at``: exact only where the hidden
    coordinates have those values.
    """
    hidden = [i for i in range(len(names)) if i not in (x_index, y_index)]
    shown = f"{state_label(names[x_index])}, {state_label(names[y_index])}"
    if slice_at is None:
        return f"paths projected onto ({shown}); field not drawn"
    fixed = ", ".join(f"{state_label(names[i])} = {slice_at[i]:.3g}" for i in hidden)
    where = f" ({slice_name})" if slice_name else ""
    return f"paths projected onto ({shown}); field at {fixed}{where}"


def portrait_grid(
    field: VectorField, names: Sequence[str], xlim: tuple[float, float],
    ylim: tuple[float, float], *, axes: tuple[int, int] | None = None,
    slice_at: Sequence[float] | Array | None = None,
    params: Mapping[str, float] | None = None,
) -> dict[str, np.ndarray[Any, Any]] | None:
    """The data behind a phase portrait's field, for the figure's sidecar.

    For a 2-D state shown in its own order this is :func:`field_grid`
    (``xlim``, ``ylim`` the ranges of the first and second coordinate).
    Otherwise ``xlim``/``ylim`` are the shown axes' ranges and the result adds
    ``axes`` (the two coordinates' indices) and, for a state of more than two
    coordinates, ``slice_at`` (the full state the slice passes through);
    ``field_u``/``field_v`` are the components along the x and y axes.
    ``None`` when no field is drawn (more than two coordinates, no slice).
    """
    x_index, y_index = portrait_axes(names, field, axes)
    if len(names) == 2 and (x_index, y_index) == (0, 1):
        return field_grid(field, xlim, ylim, params=params)
    values = _checked_slice(names, slice_at)
    flow = _portrait_flow(field, names, x_index, y_index, xlim, ylim, values, GRID_POINTS,
                          params)
    if flow is None:
        return None
    gx, gy, u, v = flow
    data: dict[str, np.ndarray[Any, Any]] = {
        "grid_x": gx, "grid_y": gy, "field_u": u, "field_v": v,
        "axes": np.array([x_index, y_index], dtype=np.int64)}
    if values is not None and len(names) > 2:
        data["slice_at"] = values
    return data


def _draw_quiver(ax: Axes, gx: Array, gy: Array, u: Array, v: Array) -> None:
    """Unit arrows of the field's direction (length: 0.8 of a cell), magnitude dropped."""
    sx, sy = gx[-1] - gx[0], gy[-1] - gy[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        norm = np.hypot(u / sx, v / sy)
        du = np.where(norm > 0, u / sx / norm, 0.0)
        dv = np.where(norm > 0, v / sy / norm, 0.0)
    cell = 0.8 / (len(gx) - 1)
    mx, my = np.meshgrid(gx, gy, indexing="xy")
    ax.quiver(mx, my, np.ma.masked_invalid(du * cell * sx), np.ma.masked_invalid(dv * cell * sy),
              angles="xy", scale_units="xy", scale=1.0, color=STREAM_COLOR, width=0.004,
              headwidth=3.5, headlength=4.0, headaxislength=3.5, pivot="mid", zorder=0)


def phase_portrait(
    ax: Axes,
    field: VectorField | None,
    traj: Trajectory | None,
    *,
    x_index: int = 0,
    y_index: int | None = None,
    xlim: tuple[float, float] | None = None,
    ylim: tuple[float, float] | None = None,
    density: float = 1.0,
    equilibria: Sequence[Sequence[float]] | Array = (),
    params: Mapping[str, float] | None = None,
    field_style: Literal["stream", "quiver", "none"] = "stream",
    nullclines: bool = False,
    equilibrium_kinds: Sequence[str] | None = None,
    slice_at: Sequence[float] | Array | None = None,
    slice_name: str | None = None,
) -> Axes:
    """Draw the phase portrait: the flow field, nullclines, equilibria and every run's path.

    Parameters
    ----------
    ax
        Where to draw.
    field
        The game's derivatives; its flow field ``F = -xi`` is drawn (see
        ``field_style``) when the state is 2-D. ``None``: paths only.
    traj
        The runs; each is drawn in its own colour, with an open circle at the
        start and an arrow head at half its length; runs that diverged are
        dashed and stop at their last good state. ``None``: the field alone
        (then ``field``, ``xlim`` and ``ylim`` are required).
    x_index, y_index
        The state coordinates on the axes. ``y_index`` defaults to the first
        discriminator coordinate (``len(field.game.theta)``; without a field,
        the first coordinate named ``psi...``, else 1). For a state of more
        than two coordinates the paths are projected onto the two chosen
        coordinates, and a note above the axes says so.
    xlim, ylim
        Axis limits; by default the paths and equilibria with an 8 % margin.
    density
        The streamplot's density.
    equilibria
        Points ``(k, n)`` in state coordinates.
    params
        Hyper-parameter values for the field (the game's defaults otherwise).
    field_style
        ``stream`` (streamlines on a 41 x 41 grid), ``quiver`` (unit arrows of
        the direction on a 17 x 17 grid) or ``none``.
    nullclines
        Draw where each component of ``F`` vanishes (2-D states with a
        field): the ``theta``-nullcline ``F_theta = 0``, where the generator
        stands still, and the ``psi``-nullcline ``F_psi = 0``. Equilibria lie
        on both. Each is one line labelled ``nullcline of ...``.
    equilibrium_kinds
        One class per equilibrium, as :func:`gandyn.equilibria.flow_stability`
        names them (``stable focus``, ``saddle``, ``centre``, ...): each class
        gets its marker (:data:`EQUILIBRIUM_MARKERS`; filled is stable, open
        is not) and a legend label. ``None``: black stars labelled ``equilibrium``.
    slice_at
        For a state of more than two coordinates: a full state through which
        the field is drawn on the plane of the two shown coordinates (the
        hidden ones held at its values; the field there is exact only on that
        plane). ``None``: no field for such states.
    slice_name
        What ``slice_at`` is (``"the equilibrium"``), for the note.

    Returns
    -------
    Axes
    """
    if traj is None:
        if field is None or xlim is None or ylim is None:
            raise SpecError("a phase portrait without runs needs a field, xlim and ylim")
        names: tuple[str, ...] = tuple(s.name for s in field.game.state_symbols)
    else:
        names = traj.state_names
    n = len(names)
    if y_index is None:
        y_index = portrait_axes(names, field)[1]
    x_index, y_index = portrait_axes(names, field, (x_index, y_index))
    sliced = _checked_slice(names, slice_at)
    if field is not None and len(field.game.state_symbols) != n:
        raise SpecError(
            f"the field's state has {len(field.game.state_symbols)} coordinates "
            f"but the trajectory's has {n}"
        )
    if field_style not in ("stream", "quiver", "none"):
        raise SpecError(f"field_style must be 'stream', 'quiver' or 'none', got {field_style!r}")
    eq = np.asarray(equilibria, dtype=np.float64).reshape(-1, n) if len(equilibria) else (
        np.empty((0, n)))
    if equilibrium_kinds is not None:
        kinds = list(equilibrium_kinds)
        if len(kinds) != len(eq):
            raise SpecError(f"{len(kinds)} equilibrium kinds for {len(eq)} equilibria")
        unknown = sorted(set(kinds) - set(EQUILIBRIUM_MARKERS))
        if unknown:
            raise SpecError(f"unknown equilibrium kind {unknown[0]!r} "
                            f"(known: {', '.join(EQUILIBRIUM_MARKERS)})")

    paths = [] if traj is None else [traj.x[r, : valid_until(traj, r)]
                                     for r in range(traj.n_runs)]
    all_x = np.concatenate([p[:, x_index] for p in paths] + [eq[:, x_index]])
    all_y = np.concatenate([p[:, y_index] for p in paths] + [eq[:, y_index]])
    xl, yl = _limits(all_x, xlim), _limits(all_y, ylim)

    if field is not None and (n == 2 or sliced is not None):
        def flow(points: int) -> tuple[Array, Array, Array, Array]:
            drawn = _portrait_flow(field, names, x_index, y_index, xl, yl, sliced, points,
                                   params)
            assert drawn is not None  # a 2-D state, or a slice
            return drawn

        if field_style == "stream":
            gx, gy, u, v = flow(GRID_POINTS)
            ax.streamplot(
                gx, gy, np.ma.masked_invalid(u), np.ma.masked_invalid(v), density=density,
                color=STREAM_COLOR, linewidth=0.5, arrowsize=0.6, zorder=0,
            )
        elif field_style == "quiver":
            gx, gy, u, v = flow(QUIVER_POINTS)
            _draw_quiver(ax, gx, gy, u, v)
        if nullclines:
            # a finer grid than the streamlines': the level set is interpolated linearly
            gx, gy, u, v = flow(4 * GRID_POINTS - 3)
            for k, (comp, index) in enumerate(((u, x_index), (v, y_index))):
                line = zero_level_lines(gx, gy, comp)
                ax.plot(line[:, 0], line[:, 1], color=NULLCLINE_COLORS[k], linestyle=(0, (5, 2)),
                        linewidth=0.9, zorder=1,
                        label=f"nullcline of {state_label(names[index])}")

    spans = (xl[1] - xl[0], yl[1] - yl[0])
    for r, path in enumerate(paths):
        assert traj is not None
        style = run_style(r, len(paths))
        px, py = path[:, x_index], path[:, y_index]
        ax.plot(px, py, color=style.color, linestyle="--" if traj.diverged[r] else "-",
                marker=style.marker, markevery=0.125, markersize=3, linewidth=1.0,
                label=f"run {r}", zorder=2)
        ax.scatter([px[0]], [py[0]], s=16, marker="o", facecolors="white",
                   edgecolors=style.color, linewidths=0.9, zorder=4)
        if len(paths) > 1:  # a direct label at the start: no run is told by colour alone
            ax.annotate(str(r), (px[0], py[0]), xytext=(3, 3), textcoords="offset points",
                        fontsize=note_fontsize(), color=style.color, zorder=4)
        _arrow_at_midpoint(ax, px, py, spans, style.color)
    if len(eq) and equilibrium_kinds is None:
        ax.scatter(eq[:, x_index], eq[:, y_index], s=45, marker="*", color=PALETTE["black"],
                   edgecolors="white", linewidths=0.4, zorder=5, label="equilibrium")
    elif len(eq):
        kinds = list(equilibrium_kinds or ())
        for kind in dict.fromkeys(kinds):  # first-seen order, one artist per class
            rows = [i for i, k in enumerate(kinds) if k == kind]
            marker, face, label = EQUILIBRIUM_MARKERS[kind]
            ax.scatter(eq[rows, x_index], eq[rows, y_index], s=28, marker=marker,
                       facecolors=face, edgecolors=PALETTE["black"], linewidths=0.8, zorder=5,
                       label=label)

    ax.set_xlim(xl)
    ax.set_ylim(yl)
    ax.set_xlabel(state_label(names[x_index]))
    ax.set_ylabel(state_label(names[y_index]))
    if n > 2:  # the reader must know the picture is a projection (and where the field is cut)
        ax.text(0.0, 1.02, projection_note(names, x_index, y_index,
                                           sliced if field is not None else None, slice_name),
                transform=ax.transAxes, ha="left", va="bottom", fontsize=note_fontsize(),
                wrap=True)
    return ax


def loss_curves(
    ax: Axes,
    traj: Trajectory,
    *,
    run: int = 0,
    names: Sequence[str] = ("d_real", "d_fake", "g_loss"),
    x: Literal["step", "time"] = "step",
    ylabel: str = "loss",
    styles: Mapping[str, LossStyle] | None = None,
    legend: bool = True,
    regimes: tuple[float, float] | None = None,
) -> Axes:
    r"""Draw the logged losses of one run over steps (or time).

    Parameters
    ----------
    ax
        Where to draw.
    traj
        The runs.
    run
        Which run.
    names
        Logged losses to draw, in legend order.
    x
        ``step`` (the step number :math:`k`) or ``time`` (:math:`t`; for
        discrete rules ``t = k * lr_g``).
    ylabel
        The y-axis label, with the unit where one applies (``loss (nats)``
        for the logarithmic losses).
    styles
        Overrides of :data:`LOSS_STYLE` by loss name.
    legend
        Draw the legend in one row above the axes, where it covers no data.
    regimes
        ``(low, high)``: shade the background by regime of ``p = D(G(z))``
        recovered as ``1 - exp(-d_fake)`` (cross-entropy losses): discriminator
        winning below ``low``, generator winning above ``high``
        (:func:`gandyn.plotting.explain.shade_regimes`).

    Returns
    -------
    Axes

    Notes
    -----
    A run that diverged is drawn up to its last good record and its
    divergence marked by a dotted vertical line.
    """
    _check_run(traj, run)
    missing = [name for name in names if name not in traj.logged_names]
    if missing:
        raise SpecError(
            f"unknown logged loss {missing[0]!r} (logged: {', '.join(traj.logged_names)})"
        )
    if x not in ("step", "time"):
        raise SpecError(f"x must be 'step' or 'time', got {x!r}")
    run = run % traj.n_runs
    clock = traj.step if x == "step" else traj.t
    end = valid_until(traj, run)
    chosen = {**LOSS_STYLE, **(styles or {})}
    if regimes is not None:
        from gandyn.plotting.explain import shade_regimes

        if "d_fake" not in traj.logged_names:
            raise SpecError("regime shading needs the logged d_fake")
        p = -np.expm1(-traj.loss("d_fake")[run, :end])
        shade_regimes([ax], clock[:end], p, regimes)
    for i, name in enumerate(names):
        fallback = series_style(i, len(names))
        style = chosen.get(name) or LossStyle(fallback.color, fallback.linestyle,
                                              loss_label(name))
        ax.plot(clock[:end], traj.loss(name)[run, :end], color=style.color,
                linestyle=style.linestyle, label=style.label)
    first, last = float(clock[0]), float(clock[-1])
    if traj.diverged[run] and np.isfinite(traj.diverged_at[run]):
        flow = traj.method.get("optimizer") == "flow"
        native, other = (traj.t, traj.step) if flow else (traj.step, traj.t)
        at = float(traj.diverged_at[run])
        if (x == "time") != flow:
            at = float(np.interp(at, native, other))
        ax.axvline(at, color=PALETTE["black"], linestyle=":", linewidth=0.8, label="diverged")
        # nothing is recorded after the divergence: show the run, not the empty remainder
        last = min(last, at + 0.05 * (at - first))
    axis_name = "step $k$" if x == "step" else "time $t$"
    # The portrait beside it shows every run: say which one this is, under the axis where
    # it covers no data.
    ax.set_xlabel(axis_name + (f" (run {run})" if traj.n_runs > 1 else ""))
    ax.set_ylabel(ylabel)
    ax.set_xlim(first, last if last > first else first + 1.0)
    if legend:
        handles, _ = ax.get_legend_handles_labels()
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=len(handles),
                  borderaxespad=0.2, handlelength=2.4)
    return ax
