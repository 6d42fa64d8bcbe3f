"""Animate a trajectory: the state moving through the phase plane, the losses alongside.

The animation is the simulation figure (:func:`~gandyn.plotting.simulation_figure`:
the field's streamlines, every run's path, the equilibria, and the losses of
the first run) with the paths faded to a guide, and three moving artists on
top: a point per run at the current state, a trail behind it that fades out
over the last records, and a vertical cursor on the loss panel at the current
step. It is written with :mod:`matplotlib.animation` (a
:class:`~matplotlib.animation.FuncAnimation` on a figure made without pyplot):
``.gif`` with :class:`~matplotlib.animation.PillowWriter`, ``.mp4`` with
:class:`~matplotlib.animation.FFMpegWriter` when ffmpeg is installed.

A GIF is byte-reproducible: the frames are rendered by Agg, the layout is
fixed after the first frame (so no axes shift as the step label changes), and
Pillow writes no timestamps. An MP4 depends on the installed ffmpeg.

Beside the animation, as beside every gandyn figure, ``anim.gif.json`` holds
the metadata (with the frame rate and the record each frame shows) and
``anim.gif.data.npz`` the arrays it shows (:func:`~gandyn.plotting.simulation_data`
plus ``frame_records``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

import matplotlib
import numpy as np
from matplotlib.animation import FFMpegWriter, FuncAnimation, PillowWriter, writers
from matplotlib.artist import Artist
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.text import Text

from gandyn.errors import OutputExistsError, SpecError
from gandyn.files import figure_paths, write_files
from gandyn.jsondata import json_bytes, plain
from gandyn.plotting.figures import portrait_axes, portrait_grid, valid_until
from gandyn.plotting.save import write_npz
from gandyn.plotting.simulation import Layout, simulation_data, simulation_figure
from gandyn.plotting.style import CYCLE, PALETTE, output_rc, paper_style

if TYPE_CHECKING:
    from gandyn.derivation.field import VectorField
    from gandyn.dynamics.trajectory import Trajectory

__all__ = [
    "ANIMATION_FORMATS",
    "DEFAULT_FRAMES",
    "TrajectoryAnimation",
    "animate_trajectory",
    "animation_figure",
    "check_animation_path",
    "frame_records",
]

#: Animation formats by extension.
ANIMATION_FORMATS: Final = (".gif", ".mp4")
#: Frames drawn when none are asked for (or every record, if there are fewer).
DEFAULT_FRAMES: Final = 100
#: The most frames an animation may have.
MAX_FRAMES: Final = 2000
#: Frame rates a GIF can show: its frame delay is in hundredths of a second, and
#: browsers slow delays under 2/100 s down to 1/10 s.
MAX_FPS: Final = 50
#: Resolution of the frames (a 7.0 in two-column figure: 700 pixels wide).
ANIMATION_DPI: Final = 100
#: Opacity of the full paths behind the moving point.
GUIDE_ALPHA: Final = 0.25


def check_animation_path(path: str | os.PathLike[str]) -> str:
    """The format of an animation file (``gif`` or ``mp4``), or a one-line error.

    Raises
    ------
    SpecError
        Another extension, or ``.mp4`` without ffmpeg.
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in ANIMATION_FORMATS:
        raise SpecError(f"cannot write animation {target}: unknown extension "
                        f"{target.suffix or '(none)'!r} (allowed: {', '.join(ANIMATION_FORMATS)})")
    if suffix == ".mp4" and not writers.is_available("ffmpeg"):
        raise SpecError(f"cannot write {target}: MP4 needs ffmpeg, which is not installed "
                        "(install it, or write a .gif)")
    return suffix[1:]


def frame_records(n_records: int, frames: int | None = None) -> np.ndarray[Any, np.dtype[np.intp]]:
    """The record shown by each frame: ``frames`` records evenly spread from first to last.

    With ``frames`` at least ``n_records`` (or ``None`` and few records) every
    record is one frame. The indices increase strictly: rounding an evenly
    spaced sequence with spacing of at least one never repeats a value.
    """
    if n_records < 1:
        raise SpecError("the trajectory has no records to animate")
    count = min(DEFAULT_FRAMES, n_records) if frames is None else frames
    if isinstance(count, bool) or not isinstance(count, int | np.integer) or count < 1:
        raise SpecError(f"frames must be a positive integer, got {frames!r}")
    if count > MAX_FRAMES:
        raise SpecError(f"frames must be at most {MAX_FRAMES}, got {count}")
    if count >= n_records:
        return np.arange(n_records, dtype=np.intp)
    return np.round(np.linspace(0, n_records - 1, int(count))).astype(np.intp)


@dataclass(frozen=True)
class TrajectoryAnimation:
    """An animation figure and the artists its frames move.

    Attributes
    ----------
    figure
        The figure (phase portrait and loss panel of
        :func:`~gandyn.plotting.simulation_figure`).
    records
        The record index each frame shows, ``(n_frames,)``.
    points
        One point per run at the current state (offsets ``(B, 2)``).
    trail
        The fading trail: the segments of the last ``trail_records`` records of
        every run, more transparent the older they are.
    cursor
        The vertical line on the loss panel at the current step (or time) of
        the first run (held at its last good record once it has diverged).
    label
        The phase panel's title, ``step k`` (or ``t = ...`` for the flow).
    trail_records
        Records in each trail.
    update
        ``update(frame)`` moves the artists to frame ``frame`` and returns them.
    """

    figure: Figure
    records: np.ndarray[Any, np.dtype[np.intp]]
    points: PathCollection
    trail: LineCollection
    cursor: Line2D
    label: Text
    trail_records: int
    update: Callable[[int], tuple[Artist, ...]]


def animation_figure(
    traj: Trajectory,
    field: VectorField | None,
    *,
    layout: Layout = "two-column",
    frames: int | None = None,
    trail: int | None = None,
    equilibria: Sequence[Sequence[float]] | np.ndarray[Any, Any] = (),
    x: Literal["step", "time"] = "step",
    params: Mapping[str, float] | None = None,
    axes: tuple[int, int] | None = None,
    slice_at: Sequence[float] | np.ndarray[Any, Any] | None = None,
    slice_name: str | None = None,
) -> TrajectoryAnimation:
    """Build the animation figure (call inside :func:`~gandyn.plotting.paper_style`).

    Parameters
    ----------
    traj
        The runs; every run moves in the phase portrait, the first one's
        losses are drawn.
    field
        The game's derivatives (the streamplot, for a 2-D state), or ``None``.
    layout
        As for :func:`~gandyn.plotting.simulation_figure`.
    frames
        Number of frames (default: :data:`DEFAULT_FRAMES` or every record);
        see :func:`frame_records`.
    trail
        Records in the trail behind each point (default a tenth of the
        records, at least 2).
    equilibria, x, params, axes, slice_at, slice_name
        As for :func:`~gandyn.plotting.simulation_figure`.

    Returns
    -------
    TrajectoryAnimation
        Frame ``j`` shows record ``records[j]``: each run's state
        ``traj.x[r, records[j]]`` (held at its last good record once it has
        diverged) and the cursor at ``traj.step[records[j]]`` (or ``t``) of
        the first run.
    """
    records = frame_records(len(traj.step), frames)
    n_records = len(traj.step)
    length = max(2, n_records // 10) if trail is None else trail
    if isinstance(length, bool) or not isinstance(length, int) or length < 1:
        raise SpecError(f"trail must be a positive number of records, got {trail!r}")
    fig = simulation_figure(traj, field, layout=layout, equilibria=equilibria, x=x,
                            params=params, axes=axes, slice_at=slice_at, slice_name=slice_name)
    phase, losses = fig.axes[0], fig.axes[1]
    # The full paths stay as a faint guide; the moving point and its trail carry the eye.
    for artist in [*phase.lines, *phase.patches]:
        artist.set_alpha(GUIDE_ALPHA)
    # The coordinates the phase portrait shows (its default: theta and the first psi).
    x_index, y_index = portrait_axes(traj.state_names, field, axes)
    last_good = np.array([valid_until(traj, r) - 1 for r in range(traj.n_runs)])
    plane = traj.x[:, :, [x_index, y_index]]
    colors = np.array([to_rgba(CYCLE[r % len(CYCLE)]) for r in range(traj.n_runs)])
    clock = traj.step if x == "step" else traj.t
    flow = traj.method.get("optimizer") == "flow"

    trail_artist = LineCollection([], linewidths=1.6, capstyle="round", zorder=5)
    phase.add_collection(trail_artist, autolim=False)
    points = phase.scatter(plane[:, 0, 0], plane[:, 0, 1], s=28, c=colors, marker="o",
                           edgecolors="white", linewidths=0.6, zorder=6)
    cursor = losses.axvline(float(clock[0]), color=PALETTE["black"], linewidth=0.8, zorder=5)
    label = phase.set_title("", loc="left")

    def update(frame: int) -> tuple[Artist, ...]:
        record = int(records[frame])
        shown = np.minimum(record, last_good)
        points.set_offsets(plane[np.arange(traj.n_runs), shown])
        segments, segment_colors = [], []
        for r in range(traj.n_runs):
            start = max(0, int(shown[r]) - length)
            path = plane[r, start:int(shown[r]) + 1]
            m = len(path) - 1
            if m < 1:
                continue
            segments += list(np.stack([path[:-1], path[1:]], axis=1))
            fade = np.array(colors[r][None, :].repeat(m, axis=0))
            fade[:, 3] = np.arange(1, m + 1) / m  # oldest segment faintest
            segment_colors.append(fade)
        trail_artist.set_segments(segments)
        rgba: Any = np.concatenate(segment_colors) if segment_colors else np.empty((0, 4))
        trail_artist.set_color(rgba)
        # the loss panel shows the first run, and stops where it diverged
        cursor.set_xdata([float(clock[shown[0]])] * 2)
        label.set_text(f"$t = {traj.t[record]:.4g}$" if flow
                       else f"step {int(traj.step[record])}")
        return points, trail_artist, cursor, label

    update(len(records) - 1)  # the longest label, for the layout
    # Lay the figure out once and keep it: the axes must not shift from frame to frame.
    fig.draw_without_rendering()
    fig.set_layout_engine("none")
    update(0)
    return TrajectoryAnimation(fig, records, points, trail_artist, cursor, label, length, update)


def _render(anim: TrajectoryAnimation, fmt: str, fps: int, dpi: int, description: str,
            progress: Callable[[int, int], None] | None = None) -> bytes:
    """The bytes of the animation file, rendered in a temporary folder."""
    movie = FuncAnimation(anim.figure, anim.update, frames=len(anim.records), blit=False,
                          repeat=False, cache_frame_data=False)
    with tempfile.TemporaryDirectory(prefix="gandyn-animation-") as folder:
        target = Path(folder) / f"animation.{fmt}"
        writer: PillowWriter | FFMpegWriter
        if fmt == "gif":
            writer = PillowWriter(fps=fps)
        else:
            writer = FFMpegWriter(fps=fps, metadata={"comment": description})
        rc: Any = output_rc()
        with matplotlib.rc_context(rc):
            # matplotlib calls progress_callback(frame, total) before each frame
            movie.save(str(target), writer=writer, dpi=dpi,
                       progress_callback=None if progress is None
                       else lambda frame, _total: progress(frame + 1, len(anim.records)))
        return target.read_bytes()


def animate_trajectory(
    traj: Trajectory,
    field: VectorField | None,
    path: str | os.PathLike[str],
    *,
    metadata: Mapping[str, Any],
    layout: Layout = "two-column",
    frames: int | None = None,
    fps: int = 20,
    trail: int | None = None,
    dpi: int = ANIMATION_DPI,
    force: bool = False,
    equilibria: Sequence[Sequence[float]] | np.ndarray[Any, Any] = (),
    x: Literal["step", "time"] = "step",
    params: Mapping[str, float] | None = None,
    axes: tuple[int, int] | None = None,
    slice_at: Sequence[float] | np.ndarray[Any, Any] | None = None,
    slice_name: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Path]:
    """Write an animation of ``traj`` with its metadata and data beside it.

    Parameters
    ----------
    traj, field
        The runs and the game's derivatives (or ``None``: no streamlines).
    path
        ``anim.gif`` (Pillow) or ``anim.mp4`` (ffmpeg); ``anim.gif.json`` and
        ``anim.gif.data.npz`` are written beside it.
    metadata
        The run spec and gandyn version (JSON-able), as for
        :func:`~gandyn.plotting.save_figure`.
    layout, frames, trail, equilibria, x, params, axes, slice_at, slice_name
        See :func:`animation_figure`.
    fps
        Frames per second, 1 to :data:`MAX_FPS`.
    dpi
        Pixels per inch of the frames.
    force
        Overwrite existing files (otherwise nothing is written if one exists).
    progress
        Called as ``progress(done, total)`` as each frame is rendered (a
        progress bar; rendering takes 0.1-0.2 s a frame).

    Returns
    -------
    list of Path
        The files written: the animation, its JSON sidecar, its data.

    Raises
    ------
    SpecError
        Unknown extension, MP4 without ffmpeg, a missing folder, bad settings.
    OutputExistsError
        A target exists and ``force`` is false.
    """
    fmt = check_animation_path(path)
    if isinstance(fps, bool) or not isinstance(fps, int) or not 1 <= fps <= MAX_FPS:
        raise SpecError(f"fps must be an integer from 1 to {MAX_FPS}, got {fps!r}")
    if isinstance(dpi, bool) or not isinstance(dpi, int) or dpi <= 0:
        raise SpecError(f"dpi must be a positive integer, got {dpi!r}")
    paths = figure_paths(path)
    target, side, data_path = paths["figure"], paths["json"], paths["data"]
    if not target.parent.is_dir():
        raise SpecError(f"cannot write {target}: folder {target.parent} does not exist")
    existing = [p for p in (target, side, data_path) if p.exists() or p.is_symlink()]
    if existing and not force:
        raise OutputExistsError(
            f"refusing to overwrite {', '.join(str(p) for p in existing)} (use `force`)")
    meta = dict(metadata)
    meta.setdefault("trajectory", {  # as plot_simulation records it
        "method": dict(traj.method),
        "measure": traj.measure,
        "message": traj.message,
        "n_runs": traj.n_runs,
        "n_records": len(traj.step),
    })
    meta = plain(meta)
    with paper_style():
        anim = animation_figure(traj, field, layout=layout, frames=frames, trail=trail,
                                equilibria=equilibria, x=x, params=params, axes=axes,
                                slice_at=slice_at, slice_name=slice_name)
        grid = None
        if field is not None:
            phase = anim.figure.axes[0]
            grid = portrait_grid(field, traj.state_names, phase.get_xlim(), phase.get_ylim(),
                                 axes=axes, slice_at=slice_at, params=params)
        data = simulation_data(traj, equilibria, grid)
        data["frame_records"] = np.asarray(anim.records, dtype=np.int64)
        arrays = {k: np.asarray(v) for k, v in data.items()}
        width, height = (float(v) for v in anim.figure.get_size_inches())
        sidecar: dict[str, Any] = {
            "metadata": meta,
            "animation": {
                "file": target.name,
                "format": fmt,
                "frames": len(anim.records),
                "fps": fps,
                "frame_records": [int(r) for r in anim.records],
                "trail_records": anim.trail_records,
                "width_in": round(width, 6),
                "height_in": round(height, 6),
                "dpi": dpi,
                "matplotlib_version": matplotlib.__version__,
                "numpy_version": np.__version__,
            },
            "data": {
                "file": data_path.name,
                "arrays": {k: {"shape": list(a.shape), "dtype": a.dtype.str}
                           for k, a in arrays.items()},
            },
        }
        description = f"gandyn animation; metadata in {side.name}"
        contents = {target: _render(anim, fmt, fps, dpi, description, progress),
                    side: json_bytes(sidecar), data_path: write_npz(arrays)}
    return write_files(contents, force)

