"""``gandyn derive``: costs, gradients, the vector field, its Jacobian and Hessians."""

from __future__ import annotations

import click

from gandyn.cli.options import build_game, game_options

__all__ = ["derive"]


@click.command()
@game_options
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
    from gandyn.derive.field import derive as derive_field
    from gandyn.derive.stationary import find_stationary_points
    from gandyn.errors import SpecError
    from gandyn.report.derivation import Derivation, to_json, to_latex, to_text
    from gandyn.symbolic.option_text import parse_assignments

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
