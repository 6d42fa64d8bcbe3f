"""JSON logs: one object per line (JSON lines), or one array of objects.

Each object is one record. Nested objects are flattened with ``/``
(``{"loss": {"d": 0.7}}`` -> ``loss/d``), except per-interval statistics
objects ``{"num": .., "mean": .., "std": ..}``, which stand for their mean:
this is how StyleGAN2-ADA and StyleGAN3 write ``stats.jsonl`` [1]_
(``{"Loss/G/loss": {"num": 32, "mean": 2.31, "std": 0.4}, "Progress/tick":
{...}, ...}``), and chainer's ``LogReport`` writes its ``log`` file as one
array of flat objects. Numbers, ``NaN``/``Infinity`` (Python's ``json``
spelling) and ``null`` (a blank) are read; strings, lists and booleans are
left out; a line that is not a JSON object (the partial last line of a killed
run) is skipped and counted.

References
----------
.. [1] Karras et al. (2020). Training Generative Adversarial Networks with
   Limited Data. NeurIPS; code NVlabs/stylegan2-ada-pytorch,
   ``torch_utils/training_stats.py`` (the ``num``/``mean``/``std`` objects) and
   ``training/training_loop.py`` (one object per tick in ``stats.jsonl``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from gandyn.explain.logformats.base import LogError, Table

__all__ = ["looks_json", "read_json"]

_STATISTICS = ("mean",)


def looks_json(text: str) -> bool:
    """Whether the text starts like a JSON object or an array of objects."""
    head = text.lstrip()[:2]
    return head.startswith("{") or (head.startswith("[") and head[1:2] in ("{", "\n", " ", ""))


def _flatten(record: Mapping[str, Any], prefix: str, out: dict[str, float | None]) -> None:
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, bool):
            continue
        if isinstance(value, int | float):
            out[name] = float(value)
        elif value is None:
            out[name] = None
        elif isinstance(value, dict):
            if "mean" in value and isinstance(value["mean"], int | float | None) \
                    and not isinstance(value["mean"], bool):
                mean = value["mean"]
                out[name] = None if mean is None else float(mean)
            else:
                _flatten(value, name + "/", out)


def _records(text: str) -> tuple[Iterable[Any], int]:
    """The parsed records and the count of lines that are not JSON."""
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError:
            data = None
        if isinstance(data, list):
            return data, 0
    records = []
    bad = 0
    for line in text.split("\n"):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except (json.JSONDecodeError, RecursionError):
            bad += 1
    return records, bad


def read_json(text: str, label: str) -> Table:
    """Read JSON lines or a JSON array of records (see the module docstring).

    Raises
    ------
    LogError
        If no record is a JSON object with a number in it.
    """
    records, bad = _records(text)
    names: dict[str, int] = {}
    rows: list[dict[str, float | None]] = []
    for record in records:
        if not isinstance(record, dict):
            bad += 1
            continue
        flat: dict[str, float | None] = {}
        _flatten(record, "", flat)
        if not flat:
            bad += 1
            continue
        for name in flat:
            names.setdefault(name, len(names))
        rows.append(flat)
    if not rows:
        raise LogError(f"log {label}: no JSON record holds a number")
    values = np.full((len(rows), len(names)), np.nan)
    blank = np.ones((len(rows), len(names)), dtype=bool)
    for i, flat in enumerate(rows):
        for name, value in flat.items():
            if value is not None:
                j = names[name]
                values[i, j] = value
                blank[i, j] = False
    skipped = {"lines that are not JSON records": bad} if bad else {}
    return Table(names=list(names), values=values, blank=blank, fmt="jsonl", skipped=skipped)
