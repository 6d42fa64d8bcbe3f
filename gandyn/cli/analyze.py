"""``gandyn analyze``: equilibria, their stability and Nash type."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from gandyn import __version__
from gandyn.cli.options import (
    FILE,
    Ranged,
    build_game,
    game_options,
    game_values,
    given_on_command_line,
    given_values,
    max_memory_option,
    rule_settings_options,
    spec_options,
    style_option,
)
from gandyn.rules.names import RULE_NAMES
from gandyn.runs.spec import shareable_spec

if TYPE_CHECKING:
    from gandyn.equilibria.nash_existence import NashExistence
    from gandyn.equilibria.records import Analysis, AnalysisSpec
    from gandyn.runs.spec import RunSpec

__all__ = ["analyze"]


def _parse_box(texts: Sequence[str]) -> dict[str, tuple[float, float]]:
    from gandyn.symbolic.option_text import parse_ranges

    return {key: (low, high)
            for key, (low, high, _) in parse_ranges(texts, "--box", count=False).items()}


def _run(spec: AnalysisSpec, lr_g: float, lr_d: float, solve_timeout: float,
         max_memory: int | None = None) -> Analysis:
    """Build the game ``spec`` describes, parse its texts and analyze it.

    Everything an analysis needs apart from the learning rates and the sympy
    timeout comes from ``spec``, so a spec read from a file can be run the
    same way.
    """
    from gandyn.derivation.field import derive as derive_field
    from gandyn.equilibria import PathError, RuleChoice
    from gandyn.equilibria import analyze as analyze_field
    from gandyn.errors import SpecError
    from gandyn.symbolic.option_text import parse_range

    game = build_game(spec.game, spec.game_file, spec.loss, spec.regularizers, spec.params)
    rule = None
    if spec.optimizer is not None:
        rule = RuleChoice(spec.optimizer, lr_g, lr_d, spec.settings)
    elif spec.settings:
        raise SpecError(f"--{next(iter(spec.settings)).replace('_', '-')} needs --optimizer")
    path = (None if spec.path is None
            else parse_range(spec.path, "--path", count=True, min_count=2))
    try:
        return analyze_field(derive_field(game), box=spec.box, rule=rule, path=path,
                             solve_timeout=solve_timeout, n_starts=spec.n_starts, seed=spec.seed,
                             grid_points=spec.grid_points, spec=spec, tau=spec.tau,
                             max_memory=max_memory)
    except PathError as error:
        raise SpecError(f"--path {error.reason}") from None


def _run_spec(spec_file: str | None, game_spec: str, game_file: str | None,
              loss_name: str | None, reg_specs: tuple[str, ...], param_specs: tuple[str, ...],
              optimizer: str | None, lr: float, lr_g: float | None, lr_d: float | None,
              settings: dict[str, Any]) -> RunSpec:
    """The game and rule of ``--spec`` (or the defaults) with the options given over them."""
    from gandyn.runs.spec import RunSpec, merge
    from gandyn.runs.spec_files import load_spec

    given = given_on_command_line()
    values = game_values(given, game_spec, game_file, loss_name, reg_specs, param_specs)
    values.update(given_values(given, optimizer=optimizer, lr=lr, lr_g=lr_g, lr_d=lr_d))
    if settings:
        values["settings"] = settings
    spec = merge(load_spec(spec_file) if spec_file is not None else RunSpec(), **values)
    spec.check()
    return spec


def _from_run_spec(run_spec: RunSpec, asked: AnalysisSpec) -> tuple[AnalysisSpec, float, float]:
    """The analysis of ``run_spec``'s game and rule, with the rest of what was ``asked``.

    The JSON echoes the game as the command line spells it, so the structured
    parts are written back as option text.
    """
    from dataclasses import replace

    from gandyn.symbolic.option_text import format_named

    game, rule = run_spec.game, run_spec.rule
    spec = replace(
        asked, game=format_named(game.name, dict(game.options)), game_file=game.file,
        loss=game.loss,
        regularizers=tuple(format_named(r.name, dict(r.settings)) for r in game.regularizers),
        params=tuple(f"{k}={v!r}" for k, v in game.params),
        optimizer=None if rule.name == "flow" else rule.name,
        settings={} if rule.name == "flow" else dict(rule.settings))
    return spec, rule.lr_g, rule.lr_d


def _nash_existence(analysis: Analysis, points: int) -> NashExistence:
    """``--nash``: the pure verdict, dynamics and discretized game on the analysis's box.

    Without ``--box`` the box is the default one around the game's start
    (:func:`gandyn.equilibria.classification.default_box`). A Wasserstein game
    of a point-mass generator and point data is also solved against the
    nonparametric 1-Lipschitz critic.
    """
    from gandyn.equilibria.classification import default_box
    from gandyn.equilibria.lipschitz_critic import critic_game_of
    from gandyn.equilibria.nash_existence import game_in_box, nash_existence

    spec = analysis.spec
    box = analysis.box if analysis.box is not None else default_box(analysis.field)
    n_starts = spec.n_starts if spec is not None else 64
    seed = spec.seed if spec is not None else 0
    game = game_in_box(analysis.field, box)
    return nash_existence(game, n_starts=n_starts, seed=seed, points=points,
                          critic=critic_game_of(analysis.field.game, box))


@click.command()
@game_options
@click.option("--box", "box_specs", multiple=True, metavar="SYM=LOW:HIGH,...",
              help="Search box for numeric root finding and the global Nash analysis, "
                   "e.g. --box theta=-3:3,psi=-3:3 (every state symbol).")
@click.option("--optimizer", default=None,
              type=click.Choice(RULE_NAMES),
              help="Also linearize this update rule's map at each equilibrium.")
@click.option("--lr", type=Ranged("lr"), default=0.1, show_default=True,
              help="Learning rate of both.")
@click.option("--lr-g", type=Ranged("lr_g"), default=None, help="Generator's learning rate.")
@click.option("--lr-d", type=Ranged("lr_d"), default=None, help="Discriminator's learning rate.")
@rule_settings_options
@click.option("--path", "path_spec", default=None, metavar="NAME=LOW:HIGH:N",
              help="Eigenvalues at the first isolated equilibrium along a hyper-parameter, "
                   "e.g. --path gamma_r1=0:2:101.")
@click.option("--tau", type=Ranged("tau"), default=None,
              help="Ratio lr_d / lr_g at which each equilibrium's two-time-scale flow is "
                   "classified (default: --lr-d / --lr-g, 1 when equal); the critical ratios "
                   "where stability changes are listed whatever it is.")
@click.option("--n-starts", type=Ranged("n_starts"), default=64, show_default=True,
              help="Starting points of the numeric root finding in the box.")
@click.option("--grid-points", type=Ranged("grid_points"), default=101,
              show_default=True, help="Grid points per axis of the global Nash analysis.")
@click.option("--seed", type=Ranged("seed"), default=0, show_default=True,
              help="Seed of the starts.")
@click.option("--solve-timeout", type=Ranged("solve_timeout"), default=5.0, show_default=True,
              help="Seconds sympy may spend on closed-form stationary points (0 skips).")
@click.option("--nash", is_flag=True,
              help="Also decide whether a pure Nash equilibrium exists in the box, with any "
                   "number of parameters per player: the Nikaido-Isoda gap, best-response "
                   "dynamics and the discretized game's mixed equilibrium.")
@click.option("--nash-grid", type=click.IntRange(2, 201), default=9, show_default=True,
              help="With --nash: grid points per axis of each player's box in the "
                   "discretized game.")
@click.option("--json", "as_json", is_flag=True, help="Print the stable JSON contract.")
@click.option("--plot", type=FILE, default=None,
              help="With a path: draw the eigenvalues over the parameter (.pdf, .svg, .png).")
@style_option
@click.option("--force", is_flag=True, help="Overwrite existing output files.")
@max_memory_option
@spec_options("the game and the update rule (a flow analyzes no map)",
              "the game and the rule as a spec")
def analyze(game_spec: str, game_file: str | None, loss_name: str | None,
            reg_specs: tuple[str, ...], param_specs: tuple[str, ...],
            box_specs: tuple[str, ...], optimizer: str | None, lr: float, lr_g: float | None,
            lr_d: float | None, path_spec: str | None, tau: float | None, n_starts: int,
            grid_points: int, seed: int, solve_timeout: float, nash: bool, nash_grid: int,
            as_json: bool,
            plot: str | None, style: str, force: bool, max_memory: int, spec_file: str | None,
            dump_spec: bool, **rule_options: Any) -> None:
    """Find equilibria; classify stability (flow and update rule) and Nash type.

    \b
    Examples:
      gandyn analyze --game dirac --reg r1:gamma=0.3 --optimizer simgd --lr 0.1
      gandyn analyze --game dirac --loss lsgan --box theta=-2:2,psi=-2:2 --json
      gandyn analyze --game dirac --reg r1 --path gamma_r1=0:2:101
      gandyn analyze --game-file examples/zero-sum-value.toml --tau 2
      gandyn analyze --game-file examples/hide-and-seek-2d.toml --nash \\
        --box theta_1=-1:1,theta_2=-1:1,psi_1=-1:1,psi_2=-1:1
    """
    import json

    from gandyn.equilibria.records import AnalysisSpec
    from gandyn.errors import SpecError
    from gandyn.report.equilibria import analysis_text

    # "--param NAME=LOW:HIGH:N" is a path, as "--path" spells it.
    paths = [p for p in param_specs if ":" in p]
    param_specs = tuple(p for p in param_specs if ":" not in p)
    if len(paths) + (path_spec is not None) > 1:
        raise SpecError("give one parameter path (--path or --param NAME=LOW:HIGH:N)")
    path_spec = path_spec or (paths[0] if paths else None)
    if plot is not None:
        if path_spec is None:
            raise SpecError("--plot draws a parameter path: give --path NAME=LOW:HIGH:N")
        from gandyn.files import FIGURE_FORMATS, check_writable, figure_paths, output_path

        check_writable(list(figure_paths(output_path(plot, option="plot",
                                                     formats=FIGURE_FORMATS)).values()), force)
    settings = {k: v for k, v in rule_options.items() if v is not None}
    spec = AnalysisSpec(
        game=game_spec, game_file=game_file, loss=loss_name, regularizers=reg_specs,
        params=param_specs, box=_parse_box(box_specs) if box_specs else None,
        optimizer=optimizer, settings=settings, path=path_spec, n_starts=n_starts, seed=seed,
        grid_points=grid_points)
    rate_g, rate_d = lr if lr_g is None else lr_g, lr if lr_d is None else lr_d
    if spec_file is not None or dump_spec:
        run_spec = _run_spec(spec_file, game_spec, game_file, loss_name, reg_specs, param_specs,
                             optimizer, lr, lr_g, lr_d, settings)
        if dump_spec:
            from gandyn.runs.spec_files import spec_toml

            click.echo(spec_toml(run_spec), nl=False)
            return
        spec, rate_g, rate_d = _from_run_spec(run_spec, spec)
    from dataclasses import replace

    spec = replace(spec, tau=rate_d / rate_g if tau is None else tau)
    result = _run(spec, rate_g, rate_d, solve_timeout, max_memory)
    existence = _nash_existence(result, nash_grid) if nash else None
    if as_json:
        data = result.to_dict()
        if existence is not None:
            data["nash_existence"] = existence.to_dict()
        click.echo(json.dumps(data, indent=2))
    else:
        from gandyn.report.equilibria import nash_existence_text

        click.echo(analysis_text(result) + ("" if existence is None
                                            else "\n\n" + nash_existence_text(existence)))
    if plot is not None and result.path is not None:
        from gandyn.cli.output import wrote
        from gandyn.plotting import venue_style
        from gandyn.plotting.eigenvalue_paths import plot_eigenvalue_path

        meta = {"gandyn_version": __version__, "spec": shareable_spec(spec.to_dict()),
                **({} if style == "default" else {"style": style})}
        with venue_style(style):
            wrote(plot_eigenvalue_path(result.path.to_dict(), plot, metadata=meta, force=force))
