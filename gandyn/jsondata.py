"""Plain JSON data from gandyn's values: the one converter every writer uses.

Sidecars, JSON contracts and reports hold numpy scalars and arrays, complex
eigenvalues, paths and non-finite floats; JSON has none of those. :func:`plain`
turns them into JSON's own types the same way everywhere, so that a number
reads back identically whichever file it was written to.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from typing import Any

from gandyn.errors import SpecError

__all__ = ["json_bytes", "plain"]


def plain(value: Any, where: str = "") -> Any:
    """``value`` as plain JSON data.

    numpy scalars become Python numbers, arrays nested lists, complex numbers
    ``[re, im]`` pairs, non-finite floats ``null`` (JSON has no NaN), paths
    strings; mappings keep their (string) keys and tuples become lists.

    Raises
    ------
    SpecError
        For a mapping key that is not a string or a value of any other type,
        naming where in ``value`` it sits.
    """
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, complex):
        return [plain(value.real, where), plain(value.imag, where)]
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy is a dependency
        np = None  # type: ignore[assignment]
    if np is not None:
        if isinstance(value, np.generic):
            return plain(value.item(), where)
        if isinstance(value, np.ndarray):
            return plain(value.tolist(), where)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise SpecError(f"key {key!r} at {where or 'top level'} is not a string")
            out[key] = plain(item, f"{where}.{key}" if where else key)
        return out
    if isinstance(value, list | tuple):
        return [plain(item, f"{where}[{i}]") for i, item in enumerate(value)]
    raise SpecError(
        f"value at {where or 'top level'} of type {type(value).__name__} cannot be written as JSON"
    )


def json_bytes(obj: Any) -> bytes:
    """Indented JSON, no NaN, one trailing newline: the reproducible bytes of a sidecar."""
    return (json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode()
