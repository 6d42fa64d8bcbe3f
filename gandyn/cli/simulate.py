"""``gandyn simulate``: the flow or a discrete update rule, with the three losses."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from gandyn import __version__
from gandyn.cli.option_strings import UPDATE_RULES
from gandyn.cli.options import build_game, game_options, rule_settings_options

__all__ = ["simulate"]


@click.command()
@game_options
@click.option("--optimizer", default="simgd", show_default=True,
              type=click.Choice(["flow", *UPDATE_RULES]),
              help="Update rule, or the continuous gradient flow.")
@click.option("--lr", type=float, default=0.1, show_default=True,
              help="Learning rate of both players.")
@click.option("--lr-g", type=float, default=None,
              help="Generator's learning rate (overrides --lr).")
@click.option("--lr-d", type=float, default=None,
              help="Discriminator's learning rate (overrides --lr).")
@click.option("--steps", type=click.IntRange(min=0), default=1000, show_default=True,
              help="Iterations of a discrete rule.")
@click.option("--every", type=click.IntRange(min=1), default=1, show_default=True,
              help="Record every k-th step.")
@click.option("--x0", "x0_specs", multiple=True, metavar="SYM=VALUE,...",
              help="A starting state, repeatable; symbols left out take the game's default.")
@click.option("--grid", "grid_specs", multiple=True, metavar="SYM=LOW:HIGH:N,...",
              help="Starting states on a grid (all combinations), e.g. theta=-2:2:41,psi=-2:2:41.")
@click.option("--measure", type=click.Choice(["state", "loop"]), default=None,
              help="Losses at the recorded state, or as a training loop logs them "
                   "(default: state; loop with --batch-size).")
@click.option("--batch-size", type=int, default=None,
              help="Stochastic mode: fresh minibatches of this many data/sample pairs for the "
                   "discriminator at every step instead of exact expectations.")
@click.option("--batch-size-g", type=int, default=None,
              help="Stochastic mode: latent samples per generator step (default --batch-size).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the minibatches; the same seed gives identical output.")
@click.option("--max-norm", type=float, default=1e6, show_default=True,
              help="A run whose largest |parameter| exceeds this has diverged.")
@click.option("--clip", type=float, default=None,
              help="Clip the discriminator's parameters to [-c, c] after each step (WGAN).")
@rule_settings_options
@click.option("--t-end", type=float, default=None,
              help="flow: final time (default: steps x lr, the discrete rule's horizon).")
@click.option("--n-eval", type=int, default=None, help="flow: recorded times (default 201).")
@click.option("--method", type=click.Choice(["RK45", "RK23", "DOP853", "Radau", "BDF", "LSODA"]),
              default=None, help="flow: solve_ivp method (default RK45).")
@click.option("--rtol", type=float, default=None, help="flow: relative tolerance (default 1e-8).")
@click.option("--atol", type=float, default=None, help="flow: absolute tolerance (default 1e-10).")
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Write the run to .csv, .npz or .json (with a .meta.json sidecar).")
@click.option("--plot", type=click.Path(dir_okay=False), default=None,
              help="Draw the phase portrait and loss curves to .pdf, .svg or .png.")
@click.option("--layout", type=click.Choice(["one-column", "two-column"]), default="two-column",
              show_default=True, help="Figure size for --plot.")
@click.option("--force", is_flag=True, help="Overwrite existing output files.")
@click.option("--spec", "spec_file", type=click.Path(dir_okay=False), default=None,
              help="Read the simulation from a TOML/JSON spec (as --dump-spec writes it); "
                   "options given on the command line override it.")
@click.option("--dump-spec", is_flag=True,
              help="Print the resolved spec as TOML and exit without simulating.")
def simulate(game_spec: str, game_file: str | None, loss_name: str | None,
             reg_specs: tuple[str, ...], param_specs: tuple[str, ...], optimizer: str,
             lr: float, lr_g: float | None, lr_d: float | None, steps: int, every: int,
             x0_specs: tuple[str, ...], grid_specs: tuple[str, ...], measure: str | None,
             batch_size: int | None, batch_size_g: int | None, seed: int, max_norm: float,
             clip: float | None, out: str | None, plot: str | None, layout: str, force: bool,
             spec_file: str | None, dump_spec: bool, **rule_options: Any) -> None:
    """Simulate the gradient flow or a discrete update rule and record the three losses.

    \b
    Examples:
      gandyn simulate --loss minimax
      gandyn simulate --game gaussian --loss ns --batch-size 64 --seed 1 --out run.csv
      gandyn simulate --optimizer altgd --lr 0.2 --steps 500 --out run.csv --plot run.pdf
      gandyn simulate --optimizer flow --t-end 50 --grid theta=-2:2:5,psi=-2:2:5
    """
    from click.core import ParameterSource

    from gandyn.cli.option_strings import parse_assignments
    from gandyn.errors import SpecError
    from gandyn.run.spec import (
        SimulationSpec,
        load_spec,
        parse_grid,
        run_simulation,
        spec_to_toml,
        starting_points,
    )

    ctx = click.get_current_context()

    def given(name: str) -> bool:
        return ctx.get_parameter_source(name) is ParameterSource.COMMANDLINE

    base = load_spec(spec_file) if spec_file is not None else SimulationSpec()
    from_file = spec_file is not None
    # Each value: the command line if given there, else the spec file, else the default.
    if from_file and not given("game_spec"):
        game_spec = base.game
    if from_file and not given("game_file"):
        game_file = base.game_file
    if from_file and not given("loss_name"):
        loss_name = base.loss
    if from_file and not given("reg_specs"):
        reg_specs = base.regularizers
    params = (dict(base.params) if from_file and not given("param_specs")
              else parse_assignments(param_specs, "--param"))
    if from_file and not given("optimizer"):
        optimizer = base.optimizer
    rate_g = lr if lr_g is None else lr_g
    rate_d = lr if lr_d is None else lr_d
    if from_file:
        rate_g = rate_g if given("lr") or given("lr_g") else base.lr_g
        rate_d = rate_d if given("lr") or given("lr_d") else base.lr_d
    for name, value in (("--lr-g", rate_g), ("--lr-d", rate_d)):
        if not (value > 0 and value < float("inf")):
            raise SpecError(f"{name} must be a positive number, not {value:g}")
    if from_file:
        steps = steps if given("steps") else base.steps
        every = every if given("every") else base.every
        max_norm = max_norm if given("max_norm") else base.max_norm
        clip = clip if given("clip") else base.clip
        batch_size = batch_size if given("batch_size") else base.batch_size
        batch_size_g = batch_size_g if given("batch_size_g") else base.batch_size_g
        seed = seed if given("seed") else base.seed
        measure = measure if given("measure") else base.measure
    settings = dict(base.settings) if from_file else {}
    settings.update({k: v for k, v in rule_options.items() if v is not None})
    if optimizer == "flow" and "t_end" not in settings:
        settings["t_end"] = steps * rate_g
    # Starting points need the game's symbols and defaults: build once here.
    param_texts = [f"{k}={v!r}" for k, v in params.items()]
    game = build_game(game_spec, game_file, loss_name, reg_specs, param_texts)
    if from_file and base.starts and not (x0_specs or grid_specs):
        starts = starting_points(game.default_start, [dict(s) for s in base.starts], {})
    else:
        x0 = [parse_assignments([text], "--x0") for text in x0_specs]
        starts = starting_points(game.default_start, x0, parse_grid(grid_specs))
    spec = SimulationSpec(
        game=game_spec, game_file=game_file, loss=loss_name, regularizers=tuple(reg_specs),
        params=tuple(params.items()), optimizer=optimizer, lr_g=rate_g, lr_d=rate_d,
        settings=tuple(sorted(settings.items())), steps=steps, every=every,
        measure=measure or ("loop" if batch_size is not None else "state"),
        max_norm=max_norm, clip=clip, batch_size=batch_size, batch_size_g=batch_size_g,
        seed=seed, starts=tuple(tuple(s.items()) for s in starts),
    )
    if dump_spec:
        click.echo(spec_to_toml(spec), nl=False)
        return
    from gandyn.files import check_writable, figure_paths, sidecar_path

    targets = []
    if out is not None:
        out_path = Path(out)
        targets += [out_path] if out_path.suffix.lower() == ".json" else [
            out_path, sidecar_path(out_path)]
    if plot is not None:
        plot_path = Path(plot)
        targets += list(figure_paths(plot_path).values())
    clashes = sorted({str(p) for p in targets if targets.count(p) > 1})
    if clashes:
        raise SpecError(f"--out and --plot would both write {clashes[0]}; choose other names")
    check_writable(targets, force)  # before any work, so nothing is half-written
    # A progress bar only for a person watching a terminal, never in logs or pipes.
    if sys.stderr.isatty() and optimizer != "flow" and steps * len(starts) >= 200_000:
        with click.progressbar(length=steps, label="simulating", file=sys.stderr) as bar:
            result = run_simulation(spec, progress=bar.update, game=game)
    else:
        result = run_simulation(spec, game=game)
    traj = result.trajectory
    from gandyn.derive.stationary import closed_form_equilibria, isolated_points
    from gandyn.report.simulation import summarize

    points = closed_form_equilibria(result.field)
    click.echo(summarize(result, points))
    if traj.diverged.any():
        n = int(traj.diverged.sum())
        click.echo(f"warning: {n} of {traj.n_runs} runs diverged (see the summary)", err=True)
    written = []
    if out is not None:
        from gandyn.io.trajectory_files import write_trajectory

        written += write_trajectory(traj, out, spec.to_dict(), force=force)
    if plot is not None:
        from gandyn.plotting import plot_simulation

        meta = {"gandyn_version": __version__, "spec": spec.to_dict()}
        written += plot_simulation(traj, result.field, plot, metadata=meta,
                                   layout=layout,  # type: ignore[arg-type]  # click.Choice
                                   force=force,
                                   equilibria=isolated_points(points, traj.state_names),
                                   x="time" if optimizer == "flow" else "step")
    for path in written:
        click.echo(f"wrote {path}")
