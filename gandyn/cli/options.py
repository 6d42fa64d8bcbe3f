"""Options shared by several commands, and the game they describe."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from gandyn.games.game import Game

__all__ = ["build_game", "game_options", "rule_settings_options"]


def game_options(func: Any) -> Any:
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


def rule_settings_options(func: Any) -> Any:
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
