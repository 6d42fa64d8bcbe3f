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

#: The discrete update rules of :mod:`gandyn.rules`, in the order help texts list them
#: (kept here, free of numpy, so that the command line can offer them without importing it).
UPDATE_RULES: tuple[str, ...] = ("simgd", "altgd", "momentum", "altmomentum", "adam", "ogda",
                                 "extragradient", "sga")

__all__ = ["parse_assignments", "parse_named", "parse_number_value", "parse_range",
           "parse_ranges"]

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def parse_number_value(text: str, where: str) -> float:
    """A finite number written as a literal or simple arithmetic."""
    from gandyn.symbolic.expressions import parse_number

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


def parse_range(item: str, where: str, *, count: bool,
                min_count: int = 1) -> tuple[str, float, float, int]:
    """``name=low:high`` (or ``name=low:high:count``) -> ``(name, low, high, count)``.

    Without ``count`` the range must have ``low < high`` and ``count`` is 2;
    with it, ``count >= min_count`` and ``low < high`` unless ``count`` is 1.
    """
    key, sep, rest = item.partition("=")
    key = key.strip()
    parts = rest.split(":")
    form = "name=low:high:count" if count else "name=low:high"
    if not sep or not key or len(parts) != (3 if count else 2):
        raise SpecError(f"{where}: {item.strip()!r} is not of the form {form}")
    low = parse_number_value(parts[0], f"{where} {key} low")
    high = parse_number_value(parts[1], f"{where} {key} high")
    n = 2
    if count:
        try:
            n = int(parts[2])
        except ValueError:
            raise SpecError(f"{where} {key}: count must be an integer, not {parts[2]!r}") from None
    if n < min_count or (n > 1 and not low < high):
        need = f"low < high and count >= {min_count}" if count else "low < high"
        raise SpecError(f"{where} {key}: need {need}")
    return key, low, high, n


def parse_ranges(texts: Iterable[str], where: str, *, count: bool,
                 min_count: int = 1) -> dict[str, tuple[float, float, int]]:
    """Merge ``name=low:high[:count],...`` texts into ``name -> (low, high, count)``."""
    ranges: dict[str, tuple[float, float, int]] = {}
    for text in texts:
        for item in text.split(","):
            key, low, high, n = parse_range(item, where, count=count, min_count=min_count)
            if key in ranges:
                raise SpecError(f"{where}: {key!r} given twice")
            ranges[key] = (low, high, n)
    return ranges
