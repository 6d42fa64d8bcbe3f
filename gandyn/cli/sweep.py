"""``gandyn sweep``: convergence maps over learning rates, hyper-parameters and starts.

The command parses options, builds a :class:`gandyn.sweeps.SweepPlan`, runs it
(:func:`gandyn.sweeps.run_sweep`) and writes the cells; the engine and the
verdict rules are documented in :mod:`gandyn.sweeps.chunk`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from gandyn import __version__
from gandyn.cli.options import (
    FILE,
    Ranged,
    game_options,
    max_memory_option,
    rule_settings_options,
    spec_options,
    style_option,
)
from gandyn.limits import RANGES
from gandyn.rules.names import FLOW, RULE_NAMES
from gandyn.runs.spec import RunSpec, shareable_spec

__all__ = ["sweep"]

#: The most iterations per cell (the run range's bound, an integer as click's IntRange wants).
_MAX_STEPS = int(RANGES["steps"].high or 10**9)

_RULES = [*RULE_NAMES, FLOW]
#: The library's defaults, shown in the help (the command passes on only what was given).
_DEFAULT = RunSpec()


@click.command(name="sweep")
@game_options
@click.option("--optimizer", default=_DEFAULT.rule.name, show_default=True,
              type=click.Choice(_RULES), help="Update rule (flow: with --method rk4).")
@click.option("--lr", type=Ranged("lr"), default=_DEFAULT.rule.lr_g, show_default=True,
              help="Learning rate of both players (where no axis sets it).")
@click.option("--lr-g", type=Ranged("lr_g"), default=None, help="Generator's learning rate.")
@click.option("--lr-d", type=Ranged("lr_d"), default=None, help="Discriminator's learning rate.")
@click.option("--steps", type=click.IntRange(min=3, max=_MAX_STEPS),
              default=_DEFAULT.steps, show_default=True,
              help="Iterations per cell.")
@click.option("--x0", "x0_spec", default=None, metavar="SYM=VALUE,...",
              help="The start (symbols left out take the game's default; axes override it).")
@click.option("--axis", "axis_specs", multiple=True,
              metavar="NAME=LOW:HIGH:COUNT[:log]",
              help="An axis, repeatable: lr, lr_g, lr_d, a state symbol (start), a "
                   "hyper-parameter (gamma_r1, or gamma when unique) or a rule setting "
                   "(beta, d_steps, ...), e.g. --axis lr_d=0.01:1:50:log --axis gamma=0:2:41.")
@rule_settings_options
@click.option("--method", type=click.Choice(["rk4"]), default=None,
              help="--optimizer flow: the flow by classic Runge-Kutta steps of --lr (the only "
                   "method a sweep can take: an adaptive solver has no step to map).")
@click.option("--equilibrium", "equilibrium_spec", default=None, metavar="SYM=VALUE,...",
              help="The reference equilibrium (default: the game's closed form nearest the "
                   "start); give fewer symbols for a line of equilibria.")
@click.option("--tol", type=Ranged("tol"), default=1e-3, show_default=True,
              help="Converged: distance to the equilibrium below this through the last "
                   "third of the final window.")
@click.option("--window", type=Ranged("window"), default=None,
              help="Final window, in steps, over which the trend and loss amplitudes are "
                   "measured (default half of --steps).")
@click.option("--growth", type=Ranged("growth"), default=0.05, show_default=True,
              help="Largest distance over each third of the window / over the third before, "
                   "both above 1 + growth: diverging; both below 1/(1 + growth): converging.")
@click.option("--max-norm", type=Ranged("max_norm"), default=_DEFAULT.max_norm, show_default=True,
              help="A run whose largest |parameter| exceeds this has diverged.")
@click.option("--chunk-size", type=Ranged("chunk_size"), default=16384, show_default=True,
              help="Cells simulated together (memory is proportional to it).")
@click.option("--workers", type=Ranged("workers"), default=1, show_default=True,
              help="Local worker processes (with --scheduler local: Dask workers).")
@click.option("--scheduler", default=None, metavar="ADDRESS|local",
              help="Run the chunks on a Dask distributed cluster (needs the dask extra).")
@click.option("--out", type=FILE, default=None,
              help="Write the cells to .csv or .npz (with a sidecar OUT.meta.json); finished "
                   "chunks are kept in OUT.chunks/ until the sweep completes; - prints the "
                   "CSV on stdout (no sidecar).")
@click.option("--resume", is_flag=True,
              help="Complete an interrupted sweep to --out, reusing its finished chunks.")
@click.option("--plot", type=FILE, default=None,
              help="Draw the map (one or two axes) with the linear stability boundary "
                   "(.pdf, .svg, .png).")
@style_option
@click.option("--json", "as_json", is_flag=True,
              help="Print the summary as JSON: axes, verdict counts, agreement with the "
                   "linear prediction, files written.")
@click.option("--force", is_flag=True, help="Overwrite existing output files.")
@max_memory_option
@spec_options("the sweep (a run spec with [[axes]], or a sweep's .meta.json)",
              "the resolved sweep spec")
def _sweep(game_spec: str, game_file: str | None, loss_name: str | None,
           reg_specs: tuple[str, ...], param_specs: tuple[str, ...], optimizer: str, lr: float,
           lr_g: float | None, lr_d: float | None, steps: int, x0_spec: str | None,
           axis_specs: tuple[str, ...], method: str | None, equilibrium_spec: str | None,
           tol: float,
           window: int | None, growth: float, max_norm: float, chunk_size: int, workers: int,
           scheduler: str | None, out: str | None, resume: bool, plot: str | None, style: str,
           as_json: bool, force: bool, max_memory: int, spec_file: str | None, dump_spec: bool,
           **rule_options: Any) -> None:
    """Map where training converges: simulate a grid of cells and classify each one.

    Every cell is a run of the update rule; its verdict is converged, cycling or
    diverged (rules in the .meta.json sidecar and in gandyn.sweeps.chunk), beside the
    linear prediction: the spectral radius of the rule's map at the equilibrium.

    \b
    Examples:
      gandyn sweep --reg r1 --axis lr=0.01:2:50:log --axis gamma=0:2:41 --out map.csv
      gandyn sweep --game bilinear --axis lr=0.01:1:20:log --plot bilinear.pdf
      gandyn sweep --axis theta=-2:2:41 --axis psi=-2:2:41 --reg r1:gamma=0.3 --workers 2
      gandyn sweep --axis lr=0.01:1:20:log --out - --json > /dev/null
      gandyn sweep --game bilinear --optimizer flow --method rk4 --axis lr=0.1:3:30
    """
    import shutil

    from gandyn.cli.options import game_values, given_on_command_line, given_values
    from gandyn.cli.output import info, progress, wrote
    from gandyn.errors import SpecError
    from gandyn.files import check_writable, output_path, sidecar_path
    from gandyn.sweeps import (
        FORMATS,
        AxisSpec,
        SweepSpec,
        load_sweep_spec,
        make_plan,
        merge_sweep,
        prepare_chunk_dir,
        run_sweep,
        summary_text,
        sweep_spec_toml,
        write_sweep,
    )
    from gandyn.symbolic.option_text import parse_assignments, parse_axis

    given = given_on_command_line()
    # Each value: the command line if given there, else the spec file, else the library default.
    values = game_values(given, game_spec, game_file, loss_name, reg_specs, param_specs)
    values.update(given_values(given, optimizer=optimizer, lr=lr, lr_g=lr_g, lr_d=lr_d,
                               steps=steps, tol=tol, window=window, growth=growth,
                               max_norm=max_norm, chunk_size=chunk_size))
    settings = {key: value for key, value in rule_options.items() if value is not None}
    if method is not None:
        settings["method"] = method
    if settings:
        values["settings"] = settings
    if x0_spec:
        values["starts"] = [parse_assignments([x0_spec], "--x0")]
    if axis_specs:
        values["axes"] = [AxisSpec(*parse_axis(text)) for text in axis_specs]
    if equilibrium_spec:
        values["equilibrium"] = parse_assignments([equilibrium_spec], "--equilibrium")
    base = load_sweep_spec(spec_file) if spec_file is not None else SweepSpec()
    given_spec = merge_sweep(base, **values)
    plan = make_plan(given_spec, max_memory=max_memory)
    spec = plan.spec(given_spec)
    if dump_spec:
        click.echo(sweep_spec_toml(spec), nl=False)
        return
    to_stdout = out == "-"
    if resume and (out is None or to_stdout):
        raise SpecError("--resume completes the sweep written to --out: give --out FILE")
    if to_stdout and as_json:
        raise SpecError("--out - prints the cells' CSV on stdout, --json the summary: "
                        "give one of them, or --out FILE with --json")
    targets: list[Path] = []
    if out is not None and not to_stdout:
        target = output_path(out, option="out", formats=FORMATS)
        targets += [target, sidecar_path(target)]
    if plot is not None:
        if len(plan.axes) > 2:
            raise SpecError(f"--plot draws one or two axes, not {len(plan.axes)}")
        from gandyn.files import FIGURE_FORMATS, figure_paths

        targets += list(figure_paths(output_path(plot, option="plot",
                                                 formats=FIGURE_FORMATS)).values())
    # --resume may replace what the killed sweep it completes had begun to write.
    check_writable(targets, force or resume)
    chunk_dir = None
    if out is not None and not to_stdout:
        chunk_dir = Path(out).with_name(Path(out).name + ".chunks")
        prepare_chunk_dir(chunk_dir, plan, resume=resume, force=force)

    # A bar on an interactive stderr only: logs and pipes get no carriage-return noise.
    with progress(plan.n_chunks, f"sweep: {plan.n_cells} cells", json_output=as_json) as bar:
        try:
            result = run_sweep(plan, chunk_dir=chunk_dir, workers=workers,
                               scheduler=scheduler, progress=bar.reach)
        except KeyboardInterrupt:
            if chunk_dir is not None:
                # not an informational line: it says where the work is kept, so never silenced
                click.echo(f"\ninterrupted: {bar.position} of {plan.n_chunks} chunks kept in "
                           f"{chunk_dir}; rerun with --resume to complete", err=True)
            raise click.exceptions.Abort() from None
    written: list[Path] = []
    if out is not None and not to_stdout:
        written += write_sweep(result, out, shareable_spec(spec.to_dict()), force=force or resume)
        if chunk_dir is not None:
            shutil.rmtree(chunk_dir, ignore_errors=True)
    if plot is not None:
        from gandyn.plotting import venue_style
        from gandyn.plotting.sweep import plot_sweep

        meta = {"gandyn_version": __version__, "spec": shareable_spec(spec.to_dict()),
                **result.summary(), **({} if style == "default" else {"style": style})}
        with venue_style(style):
            written += plot_sweep(result, plot, metadata=meta, force=force or resume)
    wrote(written)
    if to_stdout:
        from gandyn.sweeps.output import sweep_csv

        click.echo(sweep_csv(result), nl=False)
        info(summary_text(result))  # stdout holds the CSV alone
    elif as_json:
        import json

        from gandyn.sweeps.output import summary_dict

        click.echo(json.dumps({**summary_dict(result), "files": [str(p) for p in written],
                               "spec": shareable_spec(spec.to_dict())}, indent=2))
    else:
        click.echo(summary_text(result))


#: The command, typed for the group in :mod:`gandyn.cli.app`.
sweep: click.Command = _sweep
