"""The ``gandyn`` command line.

The CLI only parses options, builds the game, calls the library and writes
output. Heavy modules (sympy, numpy) are imported inside the commands so that
``gandyn --help`` stays fast. Bad input prints one ``error:`` line on stderr
and exits with status 2 (usage) or 1 (everything else); set ``GANDYN_DEBUG=1``
to see the traceback of an unexpected failure.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from gandyn import __version__
from gandyn.cli.option_strings import UPDATE_RULES

if TYPE_CHECKING:
    from gandyn.games.game import Game

__all__ = ["main"]


class _Group(click.Group):
    """A click group whose errors are one line, never a traceback."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             **extra: Any) -> Any:
        try:
            rv = super().main(args=args, prog_name=prog_name, complete_var=complete_var,
                              standalone_mode=False, **extra)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            click.echo("error: aborted", err=True)
            sys.exit(130)
        except click.ClickException as exc:
            click.echo(f"error: {_one_line(exc.format_message())}", err=True)
            sys.exit(exc.exit_code)
        except Exception as exc:
            from gandyn.errors import GandynError

            if isinstance(exc, GandynError):
                click.echo(f"error: {_one_line(str(exc))}", err=True)
                sys.exit(1)
            if os.environ.get("GANDYN_DEBUG"):
                raise
            click.echo(
                f"error: internal error ({type(exc).__name__}: {_one_line(str(exc))}); "
                "rerun with GANDYN_DEBUG=1 for details and please report it",
                err=True,
            )
            sys.exit(1)
        if isinstance(rv, int) and rv:
            sys.exit(rv)
        sys.exit(0)


def _one_line(message: str) -> str:
    return " ".join(message.split())


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gandyn")
def cli() -> None:
    """gandyn: analytical simulator of GAN loss dynamics.

    Derive every player's cost, gradient, vector field, Jacobian and Hessian
    for low-dimensional GAN games, losses and regularizers.
    """


# --- shared game options -------------------------------------------------------------------

def _game_options(func: Any) -> Any:
    options = [
        click.option("--game", "game_spec", default="dirac", show_default=True,
                     metavar="NAME[:key=value,...]",
                     help="Catalogue game and its options, e.g. gaussian:order=8 "
                          "(see `gandyn list games`)."),
        click.option("--game-file", type=click.Path(dir_okay=False), default=None,
                     help="A custom game in TOML or JSON (see docs/custom-games.md); "
                          "replaces --game."),
        click.option("--loss", "loss_name", default=None, metavar="NAME",
                     help="GAN loss (default minimax; see `gandyn list losses`)."),
        click.option("--reg", "reg_specs", multiple=True, metavar="NAME[:key=value,...]",
                     help="Regularizer, repeatable, e.g. --reg r1:gamma=0.3 "
                          "(see `gandyn list regularizers`)."),
        click.option("--param", "param_specs", multiple=True, metavar="NAME=VALUE",
                     help="Hyper-parameter value by symbol name, repeatable, e.g. --param c=1."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def build_game(game_spec: str, game_file: str | None, loss_name: str | None,
               reg_specs: Sequence[str], param_specs: Sequence[str]) -> Game:
    """Build the game the shared options describe."""
    from gandyn.cli.option_strings import parse_assignments
    from gandyn.run.spec import build_game as build

    game: Game = build(game_spec, game_file, loss_name, reg_specs,
                       parse_assignments(param_specs, "--param"))
    return game


def _rule_settings_options(func: Any) -> Any:
    """The settings of the update rules, shared by simulate and analyze."""
    options = [
        click.option("--beta", type=float, default=None,
                     help="momentum, altmomentum: beta (may be negative; altmomentum default "
                          "-0.5)."),
        click.option("--beta1", type=float, default=None, help="adam: beta1 (default 0.9)."),
        click.option("--beta2", type=float, default=None, help="adam: beta2 (default 0.999)."),
        click.option("--eps", type=float, default=None, help="adam: eps (default 1e-8)."),
        click.option("--first", type=click.Choice(["d", "g"]), default=None,
                     help="altgd, altmomentum: which player moves first (default d)."),
        click.option("--d-steps", type=int, default=None,
                     help="altgd: discriminator steps per iteration."),
        click.option("--g-steps", type=int, default=None,
                     help="altgd: generator steps per iteration."),
        click.option("--lam", type=float, default=None,
                     help="sga: adjustment weight lambda (default 1)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


# --- derive -------------------------------------------------------------------------------------


@cli.command()
@_game_options
@click.option("--at", "at_specs", multiple=True, metavar="SYM=VALUE,...",
              help="Evaluate the Jacobian and its eigenvalues at this state, "
                   "e.g. --at theta=0,psi=0.")
@click.option("--format", "fmt", type=click.Choice(["text", "latex", "json"]), default="text",
              show_default=True, help="Output format; json is a stable contract.")
@click.option("--substitute", is_flag=True,
              help="Print expressions with the hyper-parameter values substituted.")
@click.option("--solve-timeout", type=click.FloatRange(min=0.0), default=5.0, show_default=True,
              help="Seconds sympy may spend on closed-form stationary points (0 skips).")
def derive(game_spec: str, game_file: str | None, loss_name: str | None,
           reg_specs: tuple[str, ...], param_specs: tuple[str, ...], at_specs: tuple[str, ...],
           fmt: str, substitute: bool, solve_timeout: float) -> None:
    """Print costs, gradients, the vector field F = -xi, its Jacobian and the Hessians.

    \b
    Examples:
      gandyn derive --game dirac --loss non-saturating --at theta=0,psi=0
      gandyn derive --game dirac --reg r1:gamma=0.3 --format json
      gandyn derive --game gaussian:order=8 --loss wasserstein --format latex
    """
    from gandyn.cli.option_strings import parse_assignments
    from gandyn.derive.field import derive as derive_field
    from gandyn.derive.stationary import find_stationary_points
    from gandyn.errors import SpecError
    from gandyn.report.derivation import Derivation, to_json, to_latex, to_text

    game = build_game(game_spec, game_file, loss_name, reg_specs, param_specs)
    at = parse_assignments(at_specs, "--at") if at_specs else None
    if at is not None:
        names = [s.name for s in game.state_symbols]
        unknown = [k for k in at if k not in names]
        if unknown:
            from gandyn.errors import UnknownNameError

            raise UnknownNameError(f"state symbol of game {game.name!r}", unknown[0], names)
        missing = [n for n in names if n not in at]
        if missing:
            raise SpecError(f"--at: missing {', '.join(missing)} (the state is {', '.join(names)})")
    field = derive_field(game)
    stationary = find_stationary_points(field, solve_timeout) if solve_timeout > 0 else None
    result = Derivation(field, stationary, at, substitute)
    render = {"text": to_text, "latex": to_latex, "json": to_json}[fmt]
    click.echo(render(result))


# --- simulate -----------------------------------------------------------------------------------


@cli.command()
@_game_options
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
@_rule_settings_options
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
    from gandyn.io.files import check_writable, figure_paths, sidecar_path

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
    from gandyn.report.simulation import equilibria, isolated_points, summarize

    points = equilibria(result.field)
    click.echo(summarize(result, points))
    if traj.diverged.any():
        n = int(traj.diverged.sum())
        click.echo(f"warning: {n} of {traj.n_runs} runs diverged (see the summary)", err=True)
    written = []
    if out is not None:
        from gandyn.io.files import write_trajectory

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


# --- analyze ------------------------------------------------------------------------------------


def _parse_box(texts: Sequence[str]) -> dict[str, tuple[float, float]]:
    from gandyn.cli.option_strings import parse_ranges

    return {key: (low, high)
            for key, (low, high, _) in parse_ranges(texts, "--box", count=False).items()}


@cli.command()
@_game_options
@click.option("--box", "box_specs", multiple=True, metavar="SYM=LOW:HIGH,...",
              help="Search box for numeric root finding and the global Nash analysis, "
                   "e.g. --box theta=-3:3,psi=-3:3 (every state symbol).")
@click.option("--optimizer", default=None,
              type=click.Choice(UPDATE_RULES),
              help="Also linearize this update rule's map at each equilibrium.")
@click.option("--lr", type=float, default=0.1, show_default=True, help="Learning rate of both.")
@click.option("--lr-g", type=float, default=None, help="Generator's learning rate.")
@click.option("--lr-d", type=float, default=None, help="Discriminator's learning rate.")
@_rule_settings_options
@click.option("--path", "path_spec", default=None, metavar="NAME=LOW:HIGH:N",
              help="Eigenvalues at the first isolated equilibrium along a hyper-parameter, "
                   "e.g. --path gamma_r1=0:2:101.")
@click.option("--n-starts", type=click.IntRange(min=1), default=64, show_default=True,
              help="Starting points of the numeric root finding in the box.")
@click.option("--grid-points", type=click.IntRange(min=3, max=2001), default=101,
              show_default=True, help="Grid points per axis of the global Nash analysis.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the starts.")
@click.option("--solve-timeout", type=click.FloatRange(min=0.0), default=5.0, show_default=True,
              help="Seconds sympy may spend on closed-form stationary points (0 skips).")
@click.option("--json", "as_json", is_flag=True, help="Print the stable JSON contract.")
@click.option("--plot", type=click.Path(dir_okay=False), default=None,
              help="With a path: draw the eigenvalues over the parameter (.pdf, .svg, .png).")
@click.option("--force", is_flag=True, help="Overwrite existing output files.")
def analyze(game_spec: str, game_file: str | None, loss_name: str | None,
            reg_specs: tuple[str, ...], param_specs: tuple[str, ...],
            box_specs: tuple[str, ...], optimizer: str | None, lr: float, lr_g: float | None,
            lr_d: float | None, path_spec: str | None, n_starts: int, grid_points: int,
            seed: int, solve_timeout: float, as_json: bool, plot: str | None, force: bool,
            **rule_options: Any) -> None:
    """Find equilibria; classify stability (flow and update rule) and Nash type.

    \b
    Examples:
      gandyn analyze --game dirac --reg r1:gamma=0.3 --optimizer simgd --lr 0.1
      gandyn analyze --game dirac --loss lsgan --box theta=-2:2,psi=-2:2 --json
      gandyn analyze --game dirac --reg r1 --path gamma_r1=0:2:101
    """
    import json

    from gandyn.derive.field import derive as derive_field
    from gandyn.equilibria.analysis import RuleChoice, to_dict, to_text
    from gandyn.equilibria.analysis import analyze as run_analysis
    from gandyn.errors import SpecError

    # "--param NAME=LOW:HIGH:N" is a path, as "--path" spells it.
    paths = [p for p in param_specs if ":" in p]
    param_specs = tuple(p for p in param_specs if ":" not in p)
    if len(paths) + (path_spec is not None) > 1:
        raise SpecError("give one parameter path (--path or --param NAME=LOW:HIGH:N)")
    path_spec = path_spec or (paths[0] if paths else None)
    if plot is not None:
        if path_spec is None:
            raise SpecError("--plot draws a parameter path: give --path NAME=LOW:HIGH:N")
        from gandyn.io.files import check_writable, figure_paths

        target = Path(plot)
        check_writable(list(figure_paths(target).values()), force)
    game = build_game(game_spec, game_file, loss_name, reg_specs, param_specs)
    vf = derive_field(game)
    box = _parse_box(box_specs) if box_specs else None
    rule = None
    settings = {k: v for k, v in rule_options.items() if v is not None}
    if optimizer is not None:
        from gandyn.run.spec import RULE_SETTINGS

        for key in settings:
            if key not in RULE_SETTINGS[optimizer]:
                raise SpecError(f"optimizer {optimizer!r} does not take {key!r}")
        rate_g = lr if lr_g is None else lr_g
        rate_d = lr if lr_d is None else lr_d
        if not (rate_g > 0 and rate_d > 0):
            raise SpecError("learning rates must be positive")
        rule = RuleChoice(optimizer, rate_g, rate_d, tuple(sorted(settings.items())))
    elif settings:
        raise SpecError(f"--{next(iter(settings)).replace('_', '-')} needs --optimizer")
    result = run_analysis(vf, box=box, rule=rule, timeout=solve_timeout, n_starts=n_starts,
                          seed=seed, grid_points=grid_points)
    if path_spec is not None:
        from dataclasses import replace

        from gandyn.equilibria.analysis import parameter_path

        result = replace(result, path=parameter_path(result, path_spec))
    spec = {"game": game_spec, "game_file": game_file, "loss": loss_name,
            "regularizers": list(reg_specs), "params": list(param_specs),
            "box": {k: list(v) for k, v in (box or {}).items()}, "optimizer": optimizer,
            "settings": settings, "path": path_spec, "n_starts": n_starts, "seed": seed,
            "grid_points": grid_points}
    click.echo(json.dumps(to_dict(result, spec), indent=2) if as_json else to_text(result))
    if plot is not None and result.path is not None:
        from gandyn.plotting.eigenvalue_paths import plot_eigenvalue_path

        meta = {"gandyn_version": __version__, "spec": spec}
        for written in plot_eigenvalue_path(result.path, plot, metadata=meta, force=force):
            click.echo(f"wrote {written}", err=as_json)


# --- explain ------------------------------------------------------------------------------------


@cli.command()
@_game_options
@click.option("--log", "log_file", type=click.Path(dir_okay=False), default=None,
              help="Explain a real training log (CSV/TSV, the Keras tutorial's or the PyTorch "
                   "DCGAN example's printout) instead of a simulation.")
@click.option("--columns", "columns_spec", default=None, metavar="NAME=COLUMN,...",
              help="Column names of the log, e.g. d_fake=errD_fake,g_loss=errG.")
@click.option("--log-format", type=click.Choice(["csv", "tsv", "keras", "pytorch-dcgan"]),
              default=None, help="Force the log's format (default: detected).")
@click.option("--optimizer", default="simgd", show_default=True,
              type=click.Choice([r for r in UPDATE_RULES if r != "sga"]),
              help="Simulation: the update rule.")
@click.option("--lr", type=float, default=0.1, show_default=True, help="Simulation: learning rate.")
@click.option("--steps", type=click.IntRange(min=10), default=2000, show_default=True,
              help="Simulation: iterations.")
@click.option("--x0", "x0_specs", multiple=True, metavar="SYM=VALUE,...",
              help="Simulation: the starting state (default: the game's).")
@click.option("--batch-size", type=int, default=None,
              help="Simulation: minibatches of this size, to add sampling noise.")
@click.option("--seed", type=int, default=0, show_default=True, help="Simulation: the seed.")
@click.option("--batch-sizes", "batch_sizes_spec", default=None, metavar="M_D,M_G",
              help="The log's d_fake and g_loss are means over independent minibatches of "
                   "these sizes (default for the Keras tutorial's loop: 64,128; none for the "
                   "PyTorch DCGAN example, which reuses one fake batch).")
@click.option("--measured-before-update/--measured-after-update", "before_update", default=None,
              help="Log: d_fake was measured before the discriminator's update and g_loss "
                   "after it (pairs g_loss[k] with d_fake[k+1]); default: before for the "
                   "Keras printout, after otherwise (the DCGAN printout's D(G(z)) after D's "
                   "update is used).")
@click.option("--window", type=click.IntRange(min=3), default=None,
              help="Steps of the moving average that removes the slow trend.")
@click.option("--tol", type=float, default=None,
              help="Largest gap between the D(G(z)) that d_fake and g_loss imply before the pair "
                   "is called inconsistent (default 1e-3 for a point-mass generator with exact "
                   "expectations, else 0.05: means over a spread of logits differ by Jensen's "
                   "inequality).")
@click.option("--json", "as_json", is_flag=True, help="Print the stable JSON contract.")
@click.option("--plot", type=click.Path(dir_okay=False), default=None,
              help="Draw the losses with the regimes shaded and g_loss predicted from d_fake "
                   "(.pdf, .svg, .png; non-saturating loss).")
@click.option("--force", is_flag=True, help="Overwrite existing output files.")
def explain(game_spec: str, game_file: str | None, loss_name: str | None,
            reg_specs: tuple[str, ...], param_specs: tuple[str, ...], log_file: str | None,
            columns_spec: str | None, log_format: str | None, optimizer: str, lr: float,
            steps: int, x0_specs: tuple[str, ...], batch_size: int | None, seed: int,
            batch_sizes_spec: str | None, before_update: bool | None, window: int | None,
            tol: float | None, as_json: bool, plot: str | None, force: bool) -> None:
    """Explain why g_loss swings while d_fake stays flat, in logit space.

    \b
    With l the discriminator's logit on a fake and p = D(G(z)) = sigmoid(l):
      d_fake = softplus(l) = -log(1 - p),  g_loss = softplus(-l) = -log p,
      d_fake - g_loss = l exactly, and to first order in the fluctuation of l
      std(g_loss) / std(d_fake) = (1 - p) / p = exp(-l).
    \b
    Examples:
      gandyn explain --game gaussian --loss ns --batch-size 32 --steps 3000
      gandyn explain --log examples/logs/keras-gan.txt
      gandyn explain --log run.csv --columns d_fake=errD_fake,g_loss=errG --json
    """
    import json

    import numpy as np

    from gandyn.errors import SpecError
    from gandyn.explain import analyze_series, dynamics_prediction, logit_relations

    loss = loss_name or "non-saturating"
    try:
        relations = logit_relations(loss)
    except ValueError:
        raise SpecError(f"explain covers the cross-entropy losses non-saturating and minimax, "
                        f"not {loss!r}") from None
    if plot is not None:
        if relations.loss != "non-saturating":
            raise SpecError("--plot draws the non-saturating law; use --loss non-saturating")
        from gandyn.io.files import check_writable, figure_paths

        target = Path(plot)
        check_writable(list(figure_paths(target).values()), force)
    batch_sizes: tuple[int, int] | None = None
    if batch_sizes_spec is not None:
        try:
            m_d, m_g = (int(v) for v in batch_sizes_spec.split(","))
        except ValueError:
            raise SpecError(f"--batch-sizes: {batch_sizes_spec!r} is not of the form M_D,M_G "
                            "(two positive integers)") from None
        if m_d < 1 or m_g < 1:
            raise SpecError("--batch-sizes: batch sizes must be positive")
        batch_sizes = (m_d, m_g)
    source: dict[str, Any]
    dynamics = None
    if log_file is not None:
        from gandyn.explain.logs import parse_columns, read_log

        log = read_log(log_file, columns=parse_columns(columns_spec) if columns_spec else None,
                       fmt=log_format)
        if log.g_loss is None:
            raise SpecError(f"log {log_file}: no generator loss column (give --columns g_loss=...)")
        d_fake = log.d_fake
        source = {"kind": "log", "path": log_file, "format": log.source_format,
                  "rows": log.n_rows, "columns": log.columns_used}
        d_gz_check = log.d_gz
        if d_fake is None:
            # The DCGAN example prints D(G(z)) before D's update (what errD_fake saw) and
            # after it (what errG sees): take the second, so that both losses describe the
            # same discriminator. -log(1 - mean D) is not the mean of -log(1 - D) (Jensen).
            seen_by_g = log.d_gz_after if log.d_gz_after is not None else log.d_gz
            if seen_by_g is None:
                raise SpecError(f"log {log_file}: neither d_fake nor D(G(z)) is logged")
            d_fake = -np.log1p(-np.clip(seen_by_g, 0.0, 1.0 - 1e-12))
            d_gz_check = None
            which = "after D's update" if log.d_gz_after is not None else "as logged"
            source["d_fake"] = (f"estimated as -log(1 - D(G(z))) from the logged mean D(G(z)) "
                                f"{which}")
        if batch_sizes is None and log.source_format == "keras":
            # Brownlee's loop: half batches of 64 real and 64 fake for D, then 128 fresh
            # latent points for G: independent samples.
            batch_sizes = (64, 128)
            source["batch_sizes"] = "64,128 (the Keras tutorial's loop; --batch-sizes changes it)"
        if before_update is None:
            # Keras' train_on_batch returns the loss of the batch before applying its
            # gradients, and the loop trains D first: g[k] sees D after d2[k]'s update.
            before_update = log.source_format == "keras"
        source["measured_before_update"] = before_update
        report = analyze_series(d_fake, log.g_loss, d_real=log.d_real, d_gz=d_gz_check, loss=loss,
                                window=window, tol=0.05 if tol is None else tol,
                                batch_sizes=batch_sizes, measured_before_update=before_update)
        steps_axis, d_fake_series, g_loss_series = log.step, d_fake, log.g_loss
        if before_update:
            steps_axis, d_fake_series, g_loss_series = (
                steps_axis[1:], d_fake_series[1:], g_loss_series[:-1])
    else:
        from gandyn.run.spec import SimulationSpec, run_simulation, starting_points

        if before_update is not None:
            raise SpecError("--measured-before-update/--measured-after-update describe a log; "
                            "a simulation records what each player's gradient saw")
        game = build_game(game_spec, game_file, loss_name or "non-saturating", reg_specs,
                          param_specs)
        if lr <= 0:
            raise SpecError("--lr must be positive")
        from gandyn.cli.option_strings import parse_assignments

        starts = starting_points(game.default_start,
                                 [parse_assignments([t], "--x0") for t in x0_specs], {})[:1]
        params = parse_assignments(param_specs, "--param")
        spec = SimulationSpec(
            game=game_spec, game_file=game_file, loss=loss, regularizers=tuple(reg_specs),
            params=tuple(params.items()), optimizer=optimizer, lr_g=lr, lr_d=lr, steps=steps,
            measure="loop", batch_size=batch_size, seed=seed,
            starts=tuple(tuple(s.items()) for s in starts))
        result = run_simulation(spec, game=game)
        traj = result.trajectory
        if traj.diverged[0]:
            raise SpecError(f"the simulation diverged at step {traj.diverged_at[0]:g}; "
                            "use a smaller --lr")
        series = {name: traj.loss(name)[0] for name in traj.logged_names}
        # One fake logit (a point-mass generator, exact expectations) makes the pair exactly
        # consistent; a spread of logits over z only raises d_fake + g_loss (Jensen), which
        # the check allows; independent minibatches agree only in their trends.
        model = game.definition.model
        random = {v for v, _ in model.random} if model is not None else set()
        single_logit = (model is not None and batch_size is None
                        and not (model.fake_sample.free_symbols & random))
        default_tol = 1e-3 if batch_size is None else 0.05
        if batch_size is not None:
            if batch_sizes is not None:
                raise SpecError("--batch-sizes describes a log; a simulation takes --batch-size")
            # gandyn's minibatch mode draws independent batches for the two players.
            batch_sizes = (batch_size, batch_size)
        report = analyze_series(series["d_fake"], series["g_loss"], d_real=series["d_real"],
                                d_gz=series.get("d_gz"), loss=loss, window=window,
                                tol=default_tol if tol is None else tol, batch_sizes=batch_sizes,
                                single_logit=single_logit)
        source = {"kind": "simulation", "spec": spec.to_dict()}
        steps_axis, d_fake_series, g_loss_series = traj.step, series["d_fake"], series["g_loss"]
        from gandyn.report.simulation import equilibria, isolated_points

        points = isolated_points(equilibria(result.field), traj.state_names)
        if points:
            eigenvalues = np.linalg.eigvals(result.field.jacobian_fn(np.array(points[0])))
            if np.any(np.abs(eigenvalues.imag) > 1e-12):
                dynamics = dynamics_prediction(eigenvalues, traj.t, series["g_loss"])
                dynamics["equilibrium"] = dict(zip(traj.state_names, points[0], strict=True))
    written: list[Path] = []
    if plot is not None:
        from gandyn.plotting.explain import plot_explanation

        written = plot_explanation(
            np.asarray(steps_axis), np.asarray(d_fake_series), np.asarray(g_loss_series), plot,
            window=report.window, thresholds=report.thresholds,
            sampling_ratio=report.std_ratio_predicted.get("sampling-spread"),
            metadata={"gandyn_version": __version__, "source": source}, force=force)
    for path in written:
        click.echo(f"wrote {path}", err=True)
    if as_json:
        data = {"gandyn_version": __version__, "source": source, **report.to_dict(),
                "relations": relations.to_dict(), "dynamics": dynamics}
        def plain(value: Any) -> Any:
            # numpy scalars and complex eigenvalues as JSON numbers and [re, im] pairs
            if isinstance(value, complex | np.complexfloating):
                return [float(value.real), float(value.imag)]
            if isinstance(value, np.ndarray):
                return value.tolist()
            return float(value)

        click.echo(json.dumps(data, indent=2, default=plain))
        return
    click.echo(relations.to_text())
    click.echo("")
    click.echo(report.to_text())
    if dynamics is not None:
        click.echo("")
        click.echo(
            f"Dynamics: at the equilibrium the flow's eigenvalues predict oscillations of "
            f"angular frequency {dynamics['omega']:.4g} and damping {dynamics['damping']:.4g}, "
            f"a period of {dynamics['predicted_loss_period']:.4g} in the losses; measured "
            f"{dynamics['measured_period']:.4g} (relative error "
            f"{dynamics['relative_error']:.2g}). {dynamics.get('note', '')}".rstrip())


# --- list ---------------------------------------------------------------------------------------


@cli.command(name="list")
@click.argument("what", required=False,
                type=click.Choice(["losses", "regularizers", "games", "all"]), default="all")
@click.option("--json", "as_json", is_flag=True, help="Print the catalogues as JSON.")
def list_command(what: str, as_json: bool) -> None:
    """List the catalogues of losses, regularizers and games with their references."""
    from gandyn.report.catalogue import catalogue_json, catalogue_text

    click.echo(catalogue_json(what) if as_json else catalogue_text(what))


# Commands kept in their own modules; they import the shared options above.
from gandyn.cli.plot import plot as _plot  # noqa: E402
from gandyn.cli.sweep import sweep as _sweep  # noqa: E402

cli.add_command(_plot)
cli.add_command(_sweep)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``gandyn`` console script."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="gandyn")
