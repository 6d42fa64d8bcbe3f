"""The catalogues of losses, regularizers and games as plain data and as text.

:func:`catalogue_records` gives the entries (``gandyn list --json`` prints
them as JSON), :func:`catalogue_text` renders them for a reader.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gandyn.games.game import GAMES
from gandyn.games.losses import LOSSES
from gandyn.games.regularizers import REGULARIZERS

__all__ = ["CATALOGUES", "catalogue_records", "catalogue_text"]

#: The catalogues, in the order they are listed.
CATALOGUES = ("losses", "regularizers", "games")


def catalogue_records(what: str = "all") -> dict[str, list[dict[str, Any]]]:
    """The entries of catalogue ``what`` (one of :data:`CATALOGUES`, or ``all``) as plain data.

    Raises
    ------
    gandyn.errors.UnknownNameError
        For another ``what``.
    """
    if what != "all" and what not in CATALOGUES:
        from gandyn.errors import UnknownNameError

        raise UnknownNameError("catalogue", what, (*CATALOGUES, "all"))
    losses = [
        {
            "name": loss.name,
            "aliases": list(loss.aliases),
            "title": loss.title,
            "d_real": str(loss.d_real),
            "d_fake": str(loss.d_fake),
            "g_loss": str(loss.g_loss),
            "zero_sum": loss.zero_sum,
            "note": loss.note,
            "reference": loss.reference,
        }
        for loss in LOSSES
    ]
    regularizers = [
        {
            "name": reg.name,
            "aliases": list(reg.aliases),
            "title": reg.title,
            "stage": reg.stage,
            "formula": reg.formula,
            "params": {
                h.name: {"symbol": reg.symbol(h.name).name, "default": h.default, "doc": h.doc}
                for h in reg.hyper_parameters
            },
            "options": {o.name: {"default": o.default, "doc": o.doc} for o in reg.options},
            "reference": reg.reference,
        }
        for reg in REGULARIZERS
    ]
    games = []
    for entry in GAMES:
        definition = entry.define()
        games.append(
            {
                "name": entry.name,
                "aliases": list(entry.aliases),
                "title": entry.title,
                "summary": entry.summary,
                "symbols": {
                    "theta": [s.name for s in definition.theta],
                    "psi": [s.name for s in definition.psi],
                },
                "params": {p.name: {"default": p.value, "doc": p.doc} for p in definition.params},
                "options": {
                    o.name: {"default": o.default, "doc": o.doc, "choices": list(o.choices)}
                    for o in entry.options
                },
                "symbol_docs": dict(definition.symbol_docs),
                "reference": entry.reference,
            }
        )
    records: dict[str, list[dict[str, Any]]] = {
        "losses": losses, "regularizers": regularizers, "games": games}
    return records if what == "all" else {what: records[what]}


def _aliases(record: dict[str, Any]) -> str:
    return f" (aliases: {', '.join(record['aliases'])})" if record["aliases"] else ""


def catalogue_text(records: Mapping[str, list[dict[str, Any]]]) -> str:
    """Catalogue entries (from :func:`catalogue_records`) for a reader."""
    lines: list[str] = []
    if "losses" in records:
        lines.append("losses (per sample; r = s(x) on data, l = s(G(z)) on samples):")
        for r in records["losses"]:
            lines.append(f"  {r['name']}{_aliases(r)}: {r['title']}")
            lines.append(f"      d_real = {r['d_real']}, d_fake = {r['d_fake']}, "
                         f"g_loss = {r['g_loss']}")
            if r["note"]:
                lines.append(f"      {r['note']}")
            lines.append(f"      reference: {r['reference']}")
    if "regularizers" in records:
        if lines:
            lines.append("")
        lines.append("regularizers (--reg NAME:key=value,...):")
        for r in records["regularizers"]:
            lines.append(f"  {r['name']}{_aliases(r)}: {r['title']}")
            lines.append(f"      {r['formula']}")
            settings = [f"{k}={v['default']:g} (symbol {v['symbol']}; {v['doc']})"
                        for k, v in r["params"].items()]
            settings += [f"{k}={v['default']} ({v['doc']})" for k, v in r["options"].items()]
            lines.append("      settings: " + "; ".join(settings))
            lines.append(f"      reference: {r['reference']}")
    if "games" in records:
        if lines:
            lines.append("")
        lines.append("games (--game NAME[:key=value,...]):")
        for r in records["games"]:
            lines.append(f"  {r['name']}{_aliases(r)}: {r['summary']}")
            for names, doc in r["symbol_docs"].items():
                lines.append(f"      {names}: {doc}")
            if r["params"]:
                lines.append("      hyper-parameters (--param): " + ", ".join(
                    f"{k}={v['default']:g}" for k, v in r["params"].items()))
            for k, v in r["options"].items():
                choices = f", one of {'/'.join(v['choices'])}" if v["choices"] else ""
                lines.append(f"      option {k}={v['default']}{choices}: {v['doc']}")
            lines.append(f"      reference: {r['reference']}")
        lines.append("  custom: a TOML or JSON file given with --game-file "
                     "(see docs/custom-games.md)")
    return "\n".join(lines)
