"""``gandyn explore``: write the interactive page of a two-parameter game to one HTML file."""

from __future__ import annotations

import click

from gandyn.cli.options import FILE, Ranged, game_options
from gandyn.explore.names import PAGE_RULES

__all__ = ["explore"]

#: Extensions of the page.
PAGE_FORMATS = (".html", ".htm")


@click.command()
@game_options
@click.option("--optimizer", type=click.Choice(PAGE_RULES), default="simgd", show_default=True,
              help="The update rule the page starts with (the page offers all of these).")
@click.option("--lr", type=Ranged("lr"), default=0.1, show_default=True,
              help="Learning rate of both players the page starts with.")
@click.option("--lr-g", type=Ranged("lr_g"), default=None,
              help="Generator's learning rate (overrides --lr).")
@click.option("--lr-d", type=Ranged("lr_d"), default=None,
              help="Discriminator's learning rate (overrides --lr).")
@click.option("--steps", type=Ranged("steps"), default=1000, show_default=True,
              help="Steps the page computes (at most 100000).")
@click.option("--x0", "x0_spec", default=None, metavar="SYM=VALUE,...",
              help="The start (default: the game's); a click on the portrait changes it.")
@click.option("--offer-reg", "offered", multiple=True, metavar="NAME",
              help="Offer only these regularizers (repeatable) beside none and those of --reg "
                   "(default: every one that applies; fewer build faster).")
@click.option("--out", type=FILE, required=True, help="The page to write (.html).")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def explore(game_spec: str, game_file: str | None, loss_name: str | None,
            reg_specs: tuple[str, ...], param_specs: tuple[str, ...], optimizer: str,
            lr: float, lr_g: float | None, lr_d: float | None, steps: int,
            x0_spec: str | None, offered: tuple[str, ...], out: str, force: bool) -> None:
    """Write a self-contained interactive page: portrait, rules, losses, logit, spectra.

    The page offers every catalogue loss and regularizer for the game; its field,
    Jacobian and losses are derived by gandyn and printed as JavaScript, and it
    needs no server and no network.

    \b
    Examples:
      gandyn explore --loss non-saturating --out dirac.html
      gandyn explore --game bilinear --optimizer ogda --lr 0.3 --out bilinear.html
    """
    from gandyn.cli.options import game_part
    from gandyn.explore.page import explore_page
    from gandyn.files import check_writable, output_path, write_files
    from gandyn.symbolic.option_text import parse_assignments

    path = output_path(out, option="out", formats=PAGE_FORMATS)
    start = parse_assignments([x0_spec], "--x0") if x0_spec is not None else None
    part = game_part(game_spec, game_file, loss_name, reg_specs, param_specs)
    check_writable([path], force)  # before the derivations, so nothing is half-done
    html = explore_page(part, rule=optimizer, lr_g=lr if lr_g is None else lr_g,
                        lr_d=(lr if lr_g is None else lr_g) if lr_d is None else lr_d,
                        steps=steps, start=start, regularizers=offered or None)
    from gandyn.cli.output import wrote

    wrote(write_files({path: html.encode("utf-8")}, force))
