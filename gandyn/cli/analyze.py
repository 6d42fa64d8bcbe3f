"""``gandyn analyze``: equilibria, their stability and Nash type."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from gandyn import __version__
from gandyn.cli.options import build_game, game_options, rule_settings_options
from gandyn.rules.names import RULE_NAMES

if TYPE_CHECKING:
    from gandyn.equilibria.records import Analysis, AnalysisSpec

__all__ = ["analyze"]


def _parse_box(texts: Sequence[str]) -> dict[str, tuple[float, float]]:
    from gandyn.symbolic.option_text import parse_ranges

    return {key: (low, high)
            for key, (low, high, _) in parse_ranges(texts, "--box", count=False).items()}


def _run(spec: AnalysisSpec, lr_g: float, lr_d: float, solve_timeout: float) -> Analysis:
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
                             grid_points=spec.grid_points, spec=spec)
    except PathError as error:
        raise SpecError(f"--path {error.reason}") from None


@click.command()
@game_options
@click.option("--box", "box_specs", multiple=True, metavar="SYM=LOW:HIGH,...",
              help="Search box for numeric root finding and the global Nash analysis, "
                   "e.g. --box theta=-3:3,psi=-3:3 (every state symbol).")
@click.option("--optimizer", default=None,
              type=click.Choice(RULE_NAMES),
              help="Also linearize this update rule's map at each equilibrium.")
@click.option("--lr", type=float, default=0.1, show_default=True, help="Learning rate of both.")
@click.option("--lr-g", type=float, default=None, help="Generator's learning rate.")
@click.option("--lr-d", type=float, default=None, help="Discriminator's learning rate.")
@rule_settings_options
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
        from gandyn.files import check_writable, figure_paths

        check_writable(list(figure_paths(Path(plot)).values()), force)
    spec = AnalysisSpec(
        game=game_spec, game_file=game_file, loss=loss_name, regularizers=reg_specs,
        params=param_specs, box=_parse_box(box_specs) if box_specs else None,
        optimizer=optimizer, settings={k: v for k, v in rule_options.items() if v is not None},
        path=path_spec, n_starts=n_starts, seed=seed, grid_points=grid_points)
    # (a --spec FILE option would read an AnalysisSpec here; --dump-spec would print this one.)
    result = _run(spec, lr if lr_g is None else lr_g, lr if lr_d is None else lr_d,
                  solve_timeout)
    click.echo(json.dumps(result.to_dict(), indent=2) if as_json else analysis_text(result))
    if plot is not None and result.path is not None:
        from gandyn.plotting.eigenvalue_paths import plot_eigenvalue_path

        meta = {"gandyn_version": __version__, "spec": spec.to_dict()}
        for written in plot_eigenvalue_path(result.path.to_dict(), plot, metadata=meta,
                                            force=force):
            click.echo(f"wrote {written}", err=as_json)
