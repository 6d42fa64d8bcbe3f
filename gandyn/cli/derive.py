"""``gandyn derive``: costs, gradients, the vector field, its Jacobian and Hessians."""

from __future__ import annotations

import click

from gandyn.cli.options import Ranged, build_game, game_options

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
@click.option("--solve-timeout", type=Ranged("solve_timeout"), default=5.0, show_default=True,
              help="Seconds sympy may spend on closed-form stationary points (0 skips).")
@click.option("--matrices/--no-matrices", default=None,
              help="Print the symbolic Jacobian and Hessians (default: text and LaTeX up to "
                   "10 parameters, JSON always).")
def derive(game_spec: str, game_file: str | None, loss_name: str | None,
           reg_specs: tuple[str, ...], param_specs: tuple[str, ...], at_specs: tuple[str, ...],
           fmt: str, substitute: bool, solve_timeout: float, matrices: bool | None) -> None:
    """Print costs, gradients, the vector field F = -xi, its Jacobian and the Hessians.

    \b
    Examples:
      gandyn derive --game dirac --loss non-saturating --at theta=0,psi=0
      gandyn derive --game dirac --reg r1:gamma=0.3 --format json
      gandyn derive --game gaussian:order=8 --loss wasserstein --format latex
      gandyn derive --game-file big.toml --no-matrices --solve-timeout 0

    The Jacobian and Hessians of a game with more than 10 parameters are
    derived and printed only with --matrices (JSON holds them always).
    """
    from gandyn.errors import SpecError
    from gandyn.report.derivation import PointError, derivation, to_json, to_latex, to_text
    from gandyn.symbolic.option_text import parse_assignments

    game = build_game(game_spec, game_file, loss_name, reg_specs, param_specs)
    at = parse_assignments(at_specs, "--at") if at_specs else None
    if matrices is None and fmt == "json":
        matrices = True  # the contract is complete unless told otherwise; programs skip keys
    try:
        result = derivation(game, at=at, substitute=substitute, solve_timeout=solve_timeout,
                            matrices=matrices)
    except PointError as error:
        raise SpecError(f"--at: {error.reason}") from None
    render = {"text": to_text, "latex": to_latex, "json": to_json}[fmt]
    click.echo(render(result))
