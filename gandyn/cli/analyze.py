"""``gandyn analyze``: equilibria, their stability and Nash type."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from gandyn import __version__
from gandyn.cli.options import build_game, game_options, rule_settings_options
from gandyn.run.methods import UPDATE_RULES

__all__ = ["analyze"]


def _parse_box(texts: Sequence[str]) -> dict[str, tuple[float, float]]:
    from gandyn.symbolic.option_text import parse_ranges

    return {key: (low, high)
            for key, (low, high, _) in parse_ranges(texts, "--box", count=False).items()}


@click.command()
@game_options
@click.option("--box", "box_specs", multiple=True, metavar="SYM=LOW:HIGH,...",
              help="Search box for numeric root finding and the global Nash analysis, "
                   "e.g. --box theta=-3:3,psi=-3:3 (every state symbol).")
@click.option("--optimizer", default=None,
              type=click.Choice(UPDATE_RULES),
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
        from gandyn.files import check_writable, figure_paths

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
