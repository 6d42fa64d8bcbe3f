"""``gandyn list``: the catalogues of losses, regularizers and games."""

from __future__ import annotations

import click

__all__ = ["list_command"]


@click.command(name="list")
@click.argument("what", required=False,
                type=click.Choice(["losses", "regularizers", "games", "all"]), default="all")
@click.option("--json", "as_json", is_flag=True, help="Print the catalogues as JSON.")
def list_command(what: str, as_json: bool) -> None:
    """List the catalogues of losses, regularizers and games with their references."""
    import json

    from gandyn.report.catalogue import catalogue_records, catalogue_text

    records = catalogue_records(what)
    click.echo(json.dumps(records, indent=2) if as_json else catalogue_text(records))
