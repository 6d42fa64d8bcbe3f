"""``gandyn plot``: draw or animate a saved run without simulating it again.

The run file (``gandyn simulate --out run.csv|run.npz|run.json``) holds the
trajectory and the spec that made it; the vector field behind the phase
portrait is derived again from that spec (derivations are cached), and the
figure is the one ``gandyn simulate --plot`` draws: for a run saved as NPZ,
the same files byte for byte.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from gandyn import __version__
from gandyn.cli.options import FILE, style_option
from gandyn.cli.portrait import portrait_options, resolve_axes, resolve_portrait
from gandyn.runs.spec import shareable_spec

__all__ = ["plot"]


@click.command()
@click.argument("run_file", metavar="RUN", type=FILE)
@click.option("--plot", "plot_path", type=FILE, default=None,
              help="Draw the phase portrait and loss curves to .pdf, .svg or .png "
                   "(with FIG.json and FIG.data.npz beside it, e.g. fig.pdf.json).")
@click.option("--animate", "anim_path", type=FILE, default=None,
              help="Animate the run to .gif (Pillow) or .mp4 (needs ffmpeg).")
@click.option("--layout", type=click.Choice(["one-column", "two-column"]), default="two-column",
              show_default=True, help="Figure size.")
@click.option("--runs", "runs_spec", default=None, metavar="I,J,...",
              help="Draw only these runs, in this order; the losses shown are the first one's "
                   "(default: every run, the losses of run 0).")
@click.option("--frames", type=click.IntRange(min=1, max=2000), default=None,
              help="--animate: number of frames, spread evenly over the records "
                   "(default 100, or every record if there are fewer).")
@click.option("--fps", type=click.IntRange(min=1, max=50), default=20, show_default=True,
              help="--animate: frames per second (a GIF stores each frame's delay in "
                   "hundredths of a second, rounded down).")
@portrait_options
@style_option
@click.option("--json", "as_json", is_flag=True,
              help="Print what was drawn and written as JSON.")
@click.option("--force", is_flag=True, help="Overwrite existing output files.")
def plot(run_file: str, plot_path: str | None, anim_path: str | None, layout: str,
         runs_spec: str | None, frames: int | None, fps: int, axes_spec: str | None,
         slice_spec: str | None, style: str, as_json: bool, force: bool) -> None:
    """Draw or animate a run saved by `gandyn simulate --out`, without simulating again.

    \b
    The vector field is derived again from the spec stored with the run (for
    run.csv, in the sidecar run.csv.meta.json); without it the paths are drawn alone.
    \b
    Examples:
      gandyn plot run.npz --plot run.pdf
      gandyn plot run.csv --plot fig.png --runs 2,0 --layout one-column
      gandyn plot run.npz --animate run.gif --frames 120 --fps 24
      gandyn plot gaussian.npz --plot g.pdf --axes theta_mu,psi_1 --slice-at psi_0=0,psi_2=0
      gandyn plot run.npz --plot fig.pdf --style icml --json
    """
    from gandyn.cli.output import progress, warn, wrote
    from gandyn.errors import SpecError
    from gandyn.files import (
        FIGURE_FORMATS,
        check_writable,
        figure_paths,
        legacy_sidecar_path,
        output_path,
        sidecar_path,
    )

    if plot_path is None and anim_path is None:
        raise SpecError("nothing to draw: give --plot FIG (.pdf, .svg, .png) and/or "
                        "--animate ANIM (.gif, .mp4)")
    if anim_path is None and (frames is not None or _given("fps")):
        raise SpecError("--frames and --fps set up an animation: give --animate ANIM")
    targets: list[Path] = []
    if plot_path is not None:
        targets += list(figure_paths(output_path(plot_path, option="plot",
                                                 formats=FIGURE_FORMATS)).values())
    if anim_path is not None:
        from gandyn.plotting.animation import check_animation_path

        check_animation_path(output_path(anim_path, option="animate"))
        targets += list(figure_paths(anim_path).values())
    stdin = run_file == "-"
    source = Path(run_file)
    inputs = set() if stdin else {source.resolve(), sidecar_path(source).resolve(),
                                  legacy_sidecar_path(source).resolve()}
    for target in targets:
        if target.resolve() in inputs:
            raise SpecError(f"{target} would overwrite the run being drawn; choose another name")
    clashes = sorted({str(p) for p in targets if targets.count(p) > 1})
    if clashes:
        raise SpecError(f"--plot and --animate would both write {clashes[0]}; choose other names")
    check_writable(targets, force)  # before any work, so nothing is half-written

    from gandyn.io.saved_runs import (
        FieldUnavailable,
        parse_runs,
        read_run,
        rebuild_field,
        select_runs,
    )

    saved = _read_stdin_run() if stdin else read_run(source)
    traj = saved.trajectory
    resolve_axes(axes_spec, traj.state_names)  # names checked before the field is derived
    if runs_spec is not None:
        traj = select_runs(traj, parse_runs(runs_spec, traj.n_runs))
    try:
        field = rebuild_field(saved)
    except FieldUnavailable as exc:
        field = None
        warn(("the run on standard input holds no spec (a CSV keeps it in its sidecar)"
              if stdin else str(exc)) + ": drawing without the vector field")
    points: list[list[float]] = []
    if field is not None:
        from gandyn.derivation.stationary import closed_form_equilibria, isolated_points

        points = isolated_points(closed_form_equilibria(field), traj.state_names)
    # What `simulate --plot` stores, so that the same run gives the same files.
    meta: dict[str, Any] = {"gandyn_version": __version__, "spec": None if saved.spec is None
                            else shareable_spec(saved.spec)}
    if runs_spec is not None:
        meta["runs"] = parse_runs(runs_spec, saved.trajectory.n_runs)
    if style != "default":  # as `simulate --plot --style` stores it
        meta["style"] = style
    x_axis = "time" if traj.method.get("optimizer") == "flow" else "step"
    from gandyn.plotting.figures import valid_until

    portrait = resolve_portrait(
        axes_spec, slice_spec, traj.state_names,
        n_theta=None if field is None else len(field.game.theta), equilibria=points,
        last_state=traj.x[0, max(valid_until(traj, 0) - 1, 0)])
    if axes_spec is not None or portrait.slice_at is not None:
        meta["portrait"] = portrait.to_dict(traj.state_names)
    written: list[Path] = []
    n_frames = 0
    from gandyn.plotting import venue_style

    with venue_style(style):
        if plot_path is not None:
            from gandyn.plotting import plot_simulation

            written += plot_simulation(traj, field, plot_path, metadata=meta,
                                       layout=layout,  # type: ignore[arg-type]  # click.Choice
                                       force=force, equilibria=points,
                                       x=x_axis,  # type: ignore[arg-type]
                                       axes=portrait.axes, slice_at=portrait.slice_at,
                                       slice_name=portrait.slice_name)
        if anim_path is not None:
            from gandyn.plotting.animation import animate_trajectory, frame_records

            n_frames = len(frame_records(len(traj.step), frames))
            with progress(n_frames, "animating", json_output=as_json) as bar:
                written += animate_trajectory(
                    traj, field, anim_path, metadata=meta,
                    layout=layout,  # type: ignore[arg-type]
                    frames=frames, fps=fps, force=force, equilibria=points,
                    x=x_axis,  # type: ignore[arg-type]
                    axes=portrait.axes, slice_at=portrait.slice_at,
                    slice_name=portrait.slice_name,
                    progress=bar.reach if bar.shown else None)
    wrote(written)
    if as_json:
        import json

        click.echo(json.dumps({
            "run": run_file,
            "runs": (parse_runs(runs_spec, saved.trajectory.n_runs) if runs_spec is not None
                     else list(range(saved.trajectory.n_runs))),
            "state_names": list(traj.state_names),
            "n_records": len(traj.step),
            "x": x_axis,
            "vector_field": field is not None,
            "equilibria": points,
            "layout": layout,
            "style": style,
            "plot": None if plot_path is None else str(plot_path),
            "animation": None if anim_path is None else {"file": str(anim_path),
                                                          "frames": n_frames, "fps": fps},
            "files": [str(p) for p in written],
        }, indent=2))


def _given(name: str) -> bool:
    from click.core import ParameterSource

    ctx = click.get_current_context()
    return ctx.get_parameter_source(name) is ParameterSource.COMMANDLINE


def _read_stdin_run() -> Any:
    """A run piped in (``gandyn simulate --out - | gandyn plot - ...``), told by its content.

    The readers of :mod:`gandyn.io.saved_runs` take a file with an extension,
    so the bytes go to a private temporary file named after their format
    (:func:`gandyn.files.stdin_format`: NPZ, JSON, else CSV).
    """
    import tempfile

    from gandyn.files import read_input, stdin_format
    from gandyn.io.saved_runs import read_run
    from gandyn.io.trajectory_files import FORMATS

    data = read_input("-", what="run")
    with tempfile.TemporaryDirectory(prefix="gandyn-stdin-") as folder:
        path = Path(folder) / ("stdin" + stdin_format(data, FORMATS))
        path.write_bytes(data)
        return read_run(path)
