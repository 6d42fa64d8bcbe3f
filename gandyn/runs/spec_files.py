"""Spec files: a spec as TOML, and reading specs from TOML, JSON and sidecars.

:func:`spec_toml` writes what ``--dump-spec`` prints; :func:`read_spec_data`
reads a ``.toml`` or ``.json`` spec file, or the spec inside a run sidecar
(``run.csv.meta.json``, or ``run.meta.json`` as earlier versions named it; a
``run.json``) or a figure sidecar (``fig.pdf.json``, earlier ``fig.json``), which
hold ``{"gandyn_version": ..., "spec": {...}}``; :func:`load_spec` turns it into
a :class:`~gandyn.runs.spec.RunSpec`. Errors are one line naming the file.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gandyn.errors import SpecError
from gandyn.runs.spec import RunSpec

__all__ = ["load_spec", "read_spec_data", "spec_toml", "toml_document"]

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(name: str) -> str:
    return name if _BARE_KEY.match(name) else _string(name)


def _string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return repr(value)
    if isinstance(value, float):
        if math.isfinite(value):
            return repr(value)
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()
                               if v is not None) + "}"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _is_tables(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


def _table(data: Mapping[str, Any], name: str, lines: list[str]) -> None:
    """Scalars of ``data`` first, then its tables and arrays of tables (TOML needs that order)."""
    for key, value in data.items():
        if value is None or isinstance(value, Mapping) or _is_tables(value):
            continue
        lines.append(f"{_key(key)} = {_value(value)}")
    for key, value in data.items():
        path = f"{name}.{_key(key)}" if name else _key(key)
        if isinstance(value, Mapping):
            if any(v is not None for v in value.values()):
                lines += ["", f"[{path}]"]
                _table(value, path, lines)
        elif _is_tables(value):
            for item in value:
                lines += ["", f"[[{path}]]"]
                _table(item, path, lines)


def toml_document(data: Mapping[str, Any], header: str) -> str:
    """``data`` (plain data; ``None`` left out) as a TOML document under a comment line."""
    lines = [f"# {header}"]
    _table(data, "", lines)
    return "\n".join(lines) + "\n"


def spec_toml(spec: RunSpec) -> str:
    """The spec as a TOML document that :func:`load_spec` reads back to the same spec."""
    from gandyn import __version__

    return toml_document(spec.to_dict(),
                         f"gandyn {__version__} simulation spec (gandyn simulate --spec FILE)")


def read_spec_data(path: str | Path) -> tuple[dict[str, Any], str]:
    """The plain data of a spec file or sidecar, and the name errors should use.

    Returns
    -------
    data, where
        The spec's table (the ``spec`` of a sidecar) and ``spec file NAME``.

    Raises
    ------
    SpecError
        The file is neither ``.toml`` nor ``.json``, or is not a table.
    InputFileError
        The file is missing, not a regular file (a folder, a FIFO), too large,
        or not UTF-8 text.
    """
    import json
    import tomllib

    from gandyn.files import decode_text, read_input, stdin_format

    source = Path(path)
    where = f"spec file {source.name}"
    suffix = source.suffix.lower()
    if str(path) != "-" and suffix not in (".toml", ".json"):
        raise SpecError(f"{where}: use a .toml or .json file")
    # A regular file only, of bounded size, UTF-8 (the byte offset named if not).
    raw = read_input(source if str(path) != "-" else "-", what="spec file")
    if str(path) == "-":  # standard input has no extension: JSON if it starts with {
        suffix = stdin_format(raw, (".json", ".toml"))
    text = decode_text(raw, what="spec file", name=str(source))
    try:
        if suffix == ".toml":
            data: Any = tomllib.loads(text)
        else:
            data = json.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{where}: syntax error: {exc}") from None
    except json.JSONDecodeError as exc:
        raise SpecError(f"{where}: syntax error: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(data, dict):
        raise SpecError(f"{where}: the top level must be a table of settings")
    if isinstance(data.get("meta"), dict) and "spec" in data["meta"]:  # run.json
        data = data["meta"]
    if "gandyn_version" in data and "spec" in data:  # a run or figure sidecar
        data = data["spec"]
        if not isinstance(data, dict):
            raise SpecError(f"{where}: spec must be a table of settings")
    return data, where


def load_spec(path: str | Path) -> RunSpec:
    """Read a run spec: ``--dump-spec`` TOML, JSON, a sidecar, or the form of earlier versions.

    Raises
    ------
    SpecError
        One line naming the file and the field.
    """
    data, where = read_spec_data(path)
    return RunSpec.from_dict(data, where)
