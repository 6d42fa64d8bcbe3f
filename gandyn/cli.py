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
from typing import TYPE_CHECKING, Any

import click

from gandyn import __version__

if TYPE_CHECKING:
    from gandyn.games import Game

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
    """Build the game the options describe (shared by every command)."""
    from gandyn.errors import SpecError
    from gandyn.games import make_game
    from gandyn.options import parse_assignments, parse_named
    from gandyn.regularizers import apply_values, get_regularizer

    regularizers = []
    for spec in reg_specs:
        name, settings = parse_named(spec, "--reg")
        regularizers.append(apply_values(get_regularizer(name), settings))
    params = parse_assignments(param_specs, "--param")
    if game_file is not None:
        from gandyn.custom import load_game_file

        if game_spec != "dirac":
            raise SpecError("give either --game or --game-file, not both")
        definition = load_game_file(game_file)
        game = make_game(definition, loss_name, regularizers)
    else:
        name, settings = parse_named(game_spec, "--game")
        game = make_game(name, loss_name, regularizers, options=settings)
    return game.with_params(params) if params else game


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
    from gandyn.derive import derive as derive_field
    from gandyn.errors import SpecError
    from gandyn.options import parse_assignments
    from gandyn.render import Derivation, to_json, to_latex, to_text
    from gandyn.stationary import find_stationary_points

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


# --- list ---------------------------------------------------------------------------------------


@cli.command(name="list")
@click.argument("what", required=False,
                type=click.Choice(["losses", "regularizers", "games", "all"]), default="all")
@click.option("--json", "as_json", is_flag=True, help="Print the catalogues as JSON.")
def list_command(what: str, as_json: bool) -> None:
    """List the catalogues of losses, regularizers and games with their references."""
    from gandyn.catalogue import catalogue_json, catalogue_text

    click.echo(catalogue_json(what) if as_json else catalogue_text(what))


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``gandyn`` console script."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="gandyn")
