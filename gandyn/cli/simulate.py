"""``gandyn simulate``: the flow or a discrete update rule, with the three losses."""

from __future__ import annotations

from typing import Any

import click

from gandyn import __version__
from gandyn.cli.options import (
    FILE,
    Ranged,
    complete_loss,
    game_options,
    max_memory_option,
    rule_settings_options,
    spec_options,
    style_option,
)
from gandyn.cli.portrait import portrait_options, resolve_portrait
from gandyn.rules.names import METHOD_NAMES
from gandyn.runs.spec import RunSpec, shareable_spec

__all__ = ["simulate"]

#: The library's defaults, shown in the help (the command passes on only what was given).
_DEFAULT = RunSpec()


@click.command()
@game_options
@click.option("--log-loss", "log_loss", default=None, metavar="NAME",
              shell_complete=complete_loss,
              help="Log this loss's d_real, d_fake and g_loss while --loss trains (books "
                   "train with one generator loss and plot another).")
@click.option("--optimizer", default=_DEFAULT.rule.name, show_default=True,
              type=click.Choice(METHOD_NAMES),
              help="Update rule, or the continuous gradient flow.")
@click.option("--lr", type=Ranged("lr"), default=_DEFAULT.rule.lr_g, show_default=True,
              help="Learning rate of both players.")
@click.option("--lr-g", type=Ranged("lr_g"), default=None,
              help="Generator's learning rate (overrides --lr).")
@click.option("--lr-d", type=Ranged("lr_d"), default=None,
              help="Discriminator's learning rate (overrides --lr).")
@click.option("--steps", type=Ranged("steps"), default=_DEFAULT.steps, show_default=True,
              help="Iterations of a discrete rule.")
@click.option("--every", type=Ranged("every"), default=_DEFAULT.every, show_default=True,
              help="Record every k-th step.")
@click.option("--x0", "x0_specs", multiple=True, metavar="SYM=VALUE,...",
              help="A starting state, repeatable; symbols left out take the game's default.")
@click.option("--grid", "grid_specs", multiple=True, metavar="SYM=LOW:HIGH:N,...",
              help="Starting states on a grid (all combinations), e.g. theta=-2:2:41,psi=-2:2:41.")
@click.option("--measure", type=click.Choice(["state", "loop"]), default=None,
              help="Losses at the recorded state, or as a training loop logs them "
                   "(default: state; loop with --batch-size).")
@click.option("--batch-size", type=Ranged("batch_size"), default=None,
              help="Stochastic mode: fresh minibatches of this many data/sample pairs for the "
                   "discriminator at every step instead of exact expectations.")
@click.option("--batch-size-g", type=Ranged("batch_size_g"), default=None,
              help="Stochastic mode: latent samples per generator step (default --batch-size).")
@click.option("--seed", type=Ranged("seed"), default=0, show_default=True,
              help="Seed of the minibatches; the same seed gives identical output.")
@click.option("--max-norm", type=Ranged("max_norm"), default=_DEFAULT.max_norm, show_default=True,
              help="A run whose largest |parameter| exceeds this has diverged.")
@click.option("--clip", type=Ranged("clip"), default=_DEFAULT.clip,
              help="Clip the discriminator's parameters to [-c, c] after each step (WGAN).")
@rule_settings_options
@click.option("--t-end", type=Ranged("t_end"), default=None,
              help="flow: final time (default: steps x lr, the discrete rule's horizon).")
@click.option("--n-eval", type=Ranged("n_eval"), default=None,
              help="flow: recorded times (default 201).")
@click.option("--method",
              type=click.Choice(["RK45", "RK23", "DOP853", "Radau", "BDF", "LSODA", "rk4"]),
              default=None, help="flow: solve_ivp method (default RK45), or rk4: classic "
                                 "Runge-Kutta with fixed steps of --step-size.")
@click.option("--rtol", type=Ranged("rtol"), default=None,
              help="flow: relative tolerance (default 1e-8).")
@click.option("--atol", type=Ranged("atol"), default=None,
              help="flow: absolute tolerance (default 1e-10).")
@click.option("--step-size", type=Ranged("step_size"), default=None,
              help="flow, --method rk4: the fixed step (default 0.01), shortened so that a "
                   "whole number of steps falls between recorded times.")
@click.option("--out", type=FILE, default=None,
              help="Write the run to .csv, .npz or .json (CSV and NPZ with a sidecar "
                   "OUT.meta.json); - prints the CSV on stdout (no sidecar).")
@click.option("--plot", type=FILE, default=None,
              help="Draw the phase portrait and loss curves to .pdf, .svg or .png.")
@click.option("--layout", type=click.Choice(["one-column", "two-column"]), default="two-column",
              show_default=True, help="Figure size for --plot.")
@portrait_options
@style_option
@click.option("--json", "as_json", is_flag=True,
              help="Print the summary as JSON: final states, losses, divergence, files written.")
@click.option("--force", is_flag=True, help="Overwrite existing output files.")
@max_memory_option
@spec_options("the simulation", "the resolved spec")
def simulate(game_spec: str, game_file: str | None, loss_name: str | None, log_loss: str | None,
             reg_specs: tuple[str, ...], param_specs: tuple[str, ...], optimizer: str,
             lr: float, lr_g: float | None, lr_d: float | None, steps: int, every: int,
             x0_specs: tuple[str, ...], grid_specs: tuple[str, ...], measure: str | None,
             batch_size: int | None, batch_size_g: int | None, seed: int, max_norm: float,
             clip: float | None, out: str | None, plot: str | None, layout: str,
             axes_spec: str | None, slice_spec: str | None, style: str, as_json: bool,
             force: bool, max_memory: int, spec_file: str | None, dump_spec: bool,
             **rule_options: Any) -> None:
    """Simulate the gradient flow or a discrete update rule and record the three losses.

    \b
    Examples:
      gandyn simulate --loss minimax
      gandyn simulate --game gaussian --loss ns --batch-size 64 --seed 1 --out run.csv
      gandyn simulate --optimizer altgd --lr 0.2 --steps 500 --out run.csv --plot run.pdf
      gandyn simulate --optimizer flow --t-end 50 --grid theta=-2:2:5,psi=-2:2:5
      gandyn simulate --game gaussian --plot g.pdf --axes theta_mu,psi_1 --slice-at psi_0=0
      gandyn simulate --steps 100 --out - | head
    """
    from gandyn.cli.options import game_values, given_on_command_line, given_values
    from gandyn.errors import SpecError
    from gandyn.runs.build import build, grid_starts, run
    from gandyn.runs.spec import merge
    from gandyn.runs.spec_files import load_spec, spec_toml
    from gandyn.symbolic.option_text import parse_assignments, parse_ranges

    given = given_on_command_line()
    # Each value: the command line if given there, else the spec file, else the library default.
    values = game_values(given, game_spec, game_file, loss_name, reg_specs, param_specs)
    if log_loss is not None:
        values["log_loss"] = log_loss
    values.update(given_values(given, optimizer=optimizer, lr=lr, lr_g=lr_g, lr_d=lr_d,
                               steps=steps, every=every, measure=measure,
                               batch_size=batch_size, batch_size_g=batch_size_g, seed=seed,
                               max_norm=max_norm, clip=clip))
    settings = {key: value for key, value in rule_options.items() if value is not None}
    if settings:
        values["settings"] = settings
    if x0_specs or grid_specs:
        values["starts"] = [*(parse_assignments([text], "--x0") for text in x0_specs),
                            *grid_starts(parse_ranges(grid_specs, "--grid", count=True),
                                        max_memory=max_memory)]
    base = load_spec(spec_file) if spec_file is not None else RunSpec()
    # Over the budget, the records go to --out in chunks of runs; a JSON document cannot.
    to_json_file = out is not None and out != "-" and out.lower().endswith(".json")
    try:
        built = build(merge(base, **values), max_memory=max_memory, streamed=not to_json_file)
    except SpecError as exc:
        if to_json_file and "memory budget" in str(exc):
            raise SpecError(f"{exc}; or write --out as .csv or .npz, which a run over the "
                            "budget streams in chunks (a .json run is one document)") from None
        raise
    spec = built.spec
    if dump_spec:
        click.echo(spec_toml(spec), nl=False)
        return
    from gandyn.cli.output import progress, warn, wrote
    from gandyn.files import FIGURE_FORMATS, check_writable, figure_paths, output_path, sidecar_path
    from gandyn.io.trajectory_files import FORMATS

    to_stdout = out == "-"
    if to_stdout and as_json:
        raise SpecError("--out - prints the run's CSV on stdout, --json the summary: "
                        "give one of them, or --out FILE with --json")
    targets = []
    if out is not None and not to_stdout:
        out_path = output_path(out, option="out", formats=FORMATS)
        targets += [out_path] if out_path.suffix.lower() == ".json" else [
            out_path, sidecar_path(out_path)]
    if plot is not None:
        plot_path = output_path(plot, option="plot", formats=FIGURE_FORMATS)
        targets += list(figure_paths(plot_path).values())
    clashes = sorted({str(p) for p in targets if targets.count(p) > 1})
    if clashes:
        raise SpecError(f"--out and --plot would both write {clashes[0]}; choose other names")
    state_names = [s.name for s in built.game.state_symbols]
    if plot is None and (axes_spec is not None or slice_spec is not None):
        raise SpecError("--axes and --slice-at choose what --plot draws: give --plot FIG")
    # The names are checked before the work; the slice's default needs the run.
    resolve_portrait(axes_spec, slice_spec, state_names, n_theta=len(built.game.theta),
                     equilibria=[], last_state=None)
    check_writable(targets, force)  # before any work, so nothing is half-written
    flow = spec.rule.name == "flow"
    # A bar only where a run takes seconds: many steps x runs, or minibatches at every step.
    batch = 1 if spec.minibatch is None else spec.minibatch.batch_size
    long_run = not flow and spec.steps * len(spec.starts) * batch >= 200_000
    from gandyn.runs.chunked import chunk_size

    n_runs, chunk = len(spec.starts), chunk_size(built)
    streamed = chunk < n_runs
    written: list[Any] = []
    with progress(spec.steps * -(-n_runs // chunk), "simulating", json_output=as_json,
                  show=None if long_run else False) as bar:
        advance = bar.advance if bar.shown else None
        if not streamed:
            result = run(built, progress=advance)
        else:
            result, written = _run_streamed(built, chunk, out, force, advance)
    traj = result.trajectory
    summary = result.run_summary()
    from gandyn.derivation.stationary import closed_form_equilibria, isolated_points
    from gandyn.report.simulation import summarize, summary_dict

    points = closed_form_equilibria(result.field)
    if summary.diverged.any():
        n = int(summary.diverged.sum())
        warn(f"{n} of {summary.n_runs} runs diverged (see the summary)")
    if out is not None and not to_stdout and not streamed:
        from gandyn.io.trajectory_files import write_trajectory

        written += write_trajectory(traj, out, shareable_spec(spec.to_dict()), force=force)
    if plot is not None:
        from gandyn.plotting import plot_simulation, venue_style
        from gandyn.plotting.figures import valid_until

        meta: dict[str, Any] = {"gandyn_version": __version__,
                                "spec": shareable_spec(spec.to_dict()), **_style_meta(style)}
        marked = isolated_points(points, traj.state_names)
        portrait = resolve_portrait(
            axes_spec, slice_spec, traj.state_names, n_theta=len(built.game.theta),
            equilibria=marked, last_state=traj.x[0, max(valid_until(traj, 0) - 1, 0)])
        if axes_spec is not None or portrait.slice_at is not None:
            meta["portrait"] = portrait.to_dict(traj.state_names)
        if result.kept_runs is not None:  # streamed: the figure draws a few runs
            meta["runs"] = list(result.kept_runs)
        with venue_style(style):
            written += plot_simulation(traj, result.field, plot, metadata=meta,
                                       layout=layout,  # type: ignore[arg-type]  # click.Choice
                                       force=force, equilibria=marked,
                                       x="time" if flow else "step", axes=portrait.axes,
                                       slice_at=portrait.slice_at,
                                       slice_name=portrait.slice_name)
    wrote(written)
    if to_stdout:
        from gandyn.cli.output import info
        from gandyn.io.trajectory_files import trajectory_csv

        if not streamed:  # a streamed run printed its rows as it went
            click.echo(trajectory_csv(traj), nl=False)
        info(summarize(result, points))  # stdout holds the CSV alone
    elif as_json:
        import json

        from gandyn.jsondata import plain

        document = {**summary_dict(result, points), "files": [str(p) for p in written],
                    "spec": shareable_spec(spec.to_dict())}
        click.echo(json.dumps(plain(document), indent=2))
    else:
        click.echo(summarize(result, points))


def _run_streamed(built: Any, chunk: int, out: str | None, force: bool,
                  advance: Any) -> tuple[Any, list[Any]]:
    """A run over the memory budget, ``chunk`` runs at a time: each chunk goes to ``--out``.

    Returns the result (every run's summary, the figure's runs) and the files written.
    """
    from gandyn.io.trajectory_files import csv_blocks, csv_header, stream_trajectory
    from gandyn.runs.chunked import run_chunked

    if out is None:
        return run_chunked(built, chunk, None, progress=advance), []
    if out == "-":
        printed = {"runs": 0}

        def print_rows(traj: Any) -> None:
            if printed["runs"] == 0:
                click.echo(csv_header(traj), nl=False)
            for block in csv_blocks(traj, first_run=printed["runs"]):
                click.echo(block, nl=False)
            printed["runs"] += traj.n_runs

        return run_chunked(built, chunk, print_rows, progress=advance), []
    written, result = stream_trajectory(
        lambda sink: run_chunked(built, chunk, sink, progress=advance), out,
        shareable_spec(built.spec.to_dict()), n_runs=len(built.spec.starts), force=force)
    return result, written


def _style_meta(style: str) -> dict[str, str]:
    """The venue in a figure's metadata; none for the default, whose files stay as they were."""
    return {} if style == "default" else {"style": style}
