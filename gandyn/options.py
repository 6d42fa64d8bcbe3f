"""Parse the compact option syntax of the command line.

* ``NAME`` or ``NAME:key=value,key=value`` names a catalogue entry with
  settings (``--reg r1:gamma=0.3``, ``--game gaussian:order=8``);
* ``key=value,key=value`` assigns numbers (``--at theta=0,psi=1/2``);
* ``key=value`` assigns one number (``--param c=1``).

Numbers may be arithmetic such as ``1/2`` or ``-pi/4``; they are parsed
against an allow-list, never evaluated.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from gandyn.errors import SpecError

__all__ = ["parse_assignments", "parse_named", "parse_number_value"]

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def parse_number_value(text: str, where: str) -> float:
    """A finite number written as a literal or simple arithmetic."""
    from gandyn.expressions import parse_number

    return parse_number(text.strip(), where=where)


def _split_pairs(text: str, where: str) -> list[tuple[str, str]]:
    pairs = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            raise SpecError(f"{where}: empty item in {text!r} (expected key=value,key=value)")
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise SpecError(f"{where}: {item!r} is not of the form key=value")
        if not _KEY.match(key):
            raise SpecError(f"{where}: {key!r} is not a valid name")
        pairs.append((key, value))
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise SpecError(f"{where}: {key!r} given twice")
        seen.add(key)
    return pairs


def parse_named(text: str, where: str) -> tuple[str, dict[str, str]]:
    """Split ``name:key=value,...`` into the name and raw string settings."""
    name, sep, rest = text.partition(":")
    name = name.strip()
    if not name:
        raise SpecError(f"{where}: missing name in {text!r}")
    if not sep:
        return name, {}
    if not rest.strip():
        raise SpecError(f"{where}: nothing after ':' in {text!r} (expected {name}:key=value)")
    return name, dict(_split_pairs(rest, where))


def parse_assignments(texts: Iterable[str], where: str) -> dict[str, float]:
    """Merge ``key=value[,key=value]`` texts into name -> number."""
    values: dict[str, float] = {}
    for text in texts:
        for key, raw in _split_pairs(text, where):
            if key in values:
                raise SpecError(f"{where}: {key!r} given twice")
            values[key] = parse_number_value(raw, f"{where} {key}")
    return values
