"""Two printouts whose loops are known, read strictly: the Keras tutorial's and PyTorch DCGAN's.

Their conventions (:mod:`gandyn.explain.conventions`) depend on knowing the
loop behind the numbers, so these lines are recognised exactly and a
malformed one is an error, not a skipped line.

``keras``
    the lines printed by Jason Brownlee's Keras GAN examples,
    ``>1, d1=0.693, d2=0.696 g=0.692, a1=50, a2=0`` or
    ``>12, 3/234, d1=..., d2=..., g=...``: ``d1`` is the loss on a real batch,
    ``d2`` on a fake batch, ``g`` the generator loss; ``a1``/``a2`` are
    accuracies (percent) and are checked but not kept.
``pytorch-dcgan``
    the lines of the PyTorch DCGAN example,
    ``[0/5][0/1583]  Loss_D: 1.7836  Loss_G: 5.0988  D(x): 0.5927  D(G(z)): 0.6316 / 0.0081``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from gandyn.arrays import Array
from gandyn.explain.logformats.base import MIN_RECORDS, LogError, TrainingLog, assemble, one_line

__all__ = ["count_dcgan_lines", "count_keras_lines", "read_dcgan", "read_keras"]

_EXPECTED_KERAS = "expected Keras lines like '>1, d1=0.693, d2=0.696 g=0.692, a1=50, a2=0'"
_EXPECTED_DCGAN = ("expected PyTorch DCGAN lines like '[0/5][0/1583] Loss_D: 1.78 Loss_G: 5.10 "
                   "D(x): 0.59 D(G(z)): 0.63 / 0.01'")

_NUM = r"[^\s,/\[\]]+"
_KERAS_LIKE = re.compile(r"^\s*>\s*\d")
_KERAS = re.compile(
    r"^\s*>\s*(?P<n>\d+)\s*,\s*(?:(?P<j>\d+)\s*/\s*(?P<b>\d+)\s*,\s*)?(?P<rest>.*?)\s*$")
_KERAS_PAIR = re.compile(r"\s*,?\s*(?P<key>[A-Za-z]\w*)\s*=\s*(?P<value>[^\s,]+)")
_DCGAN_LIKE = re.compile(r"^\s*\[\s*\d+\s*/\s*\d+\s*\]\s*\[\s*\d+\s*/\s*\d+\s*\]")
_DCGAN = re.compile(
    r"^\s*\[\s*(?P<e>\d+)\s*/\s*(?P<E>\d+)\s*\]\s*\[\s*(?P<i>\d+)\s*/\s*(?P<I>\d+)\s*\]"
    rf"\s*Loss_D:\s*(?P<d_total>{_NUM})\s+Loss_G:\s*(?P<g_loss>{_NUM})"
    rf"(?:\s+D\(x\):\s*(?P<d_x>{_NUM}))?"
    rf"(?:\s+D\(G\(z\)\):\s*(?P<d_gz>{_NUM})\s*/\s*(?P<d_gz_after>{_NUM}))?\s*$")


def count_keras_lines(lines: Sequence[str]) -> int:
    """How many lines start like the Keras tutorial's (``>N``)."""
    return sum(1 for line in lines if _KERAS_LIKE.match(line))


def count_dcgan_lines(lines: Sequence[str]) -> int:
    """How many lines start like the PyTorch DCGAN example's (``[e/E][i/I]``) and hold Loss_D."""
    return sum(1 for line in lines if _DCGAN_LIKE.match(line) and "Loss_D" in line)


def _number(text: str, label: str, where: str, what: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise LogError(f"log {label}: {where}: non-numeric value {one_line(text)!r} "
                       f"for {what}") from None


def _steps(raw: list[float], start: int) -> tuple[Array, bool]:
    """The raw steps if they increase strictly, else a running index from ``start``."""
    arr = np.asarray(raw, dtype=np.float64)
    if arr.size < 2 or bool(np.all(np.diff(arr) > 0)):
        return arr, False
    return np.arange(start, start + arr.size, dtype=np.float64), True


def _too_few(label: str, n: int, what: str) -> LogError:
    return LogError(f"log {label}: only {n} {what} (need at least {MIN_RECORDS})")


def _finish(label: str, fmt: str, step: Array, step_name: str, columns: dict[str, str],
            arrays: dict[str, Array], skipped: dict[str, int]) -> TrainingLog:
    series = {name: (columns[name], values, np.zeros(values.shape, dtype=bool))
              for name, values in arrays.items()}
    return assemble(label, fmt, step, step_name, series, {}, skipped)


def read_keras(lines: Sequence[str], label: str) -> TrainingLog:
    """Read the Keras tutorial's printout (see the module docstring)."""
    records: list[tuple[int, int | None, int | None]] = []  # (N, j, B) per line
    values: dict[str, list[float]] = {"d_real": [], "d_fake": [], "g_loss": []}
    keys = {"d1": "d_real", "d2": "d_fake", "g": "g_loss"}
    others = 0
    for number, line in enumerate(lines, start=1):
        if not _KERAS_LIKE.match(line):
            others += bool(line.strip())
            continue
        where = f"line {number}"
        match = _KERAS.match(line)
        if match is None:
            raise LogError(f"log {label}: {where}: malformed log line ({_EXPECTED_KERAS})")
        rest = match.group("rest")
        pairs: dict[str, str] = {}
        pos = 0
        while pos < len(rest) and (pair := _KERAS_PAIR.match(rest, pos)) is not None:
            pairs[pair.group("key")] = pair.group("value")
            pos = pair.end()
        if (rest[pos:].strip(" ,") or not set(keys) <= set(pairs)
                or not set(pairs) <= {*keys, "a1", "a2"}):
            raise LogError(f"log {label}: {where}: malformed log line ({_EXPECTED_KERAS})")
        for key, canonical in keys.items():
            values[canonical].append(_number(pairs[key], label, where, key))
        for key in ("a1", "a2"):
            if key in pairs:
                _number(pairs[key], label, where, key)
        j, b = match.group("j"), match.group("b")
        records.append((int(match.group("n")), None if j is None else int(j),
                        None if b is None else int(b)))
    count = len(records)
    if count == 0:
        raise LogError(f"log {label}: no Keras log lines ({_EXPECTED_KERAS})")
    if count < MIN_RECORDS:
        raise _too_few(label, count, "Keras log lines")
    # '>N, j/B': N is the epoch (1-based in Brownlee's prints), j the batch in it.
    base = 1 if min(r[0] for r in records) >= 1 else 0
    raw = [float(n if j is None or b is None else (n - base) * b + j) for n, j, b in records]
    batched = any(r[1] is not None for r in records)
    step, running = _steps(raw, 1)
    step_name = "running index" if running else (">N, j/B" if batched else ">N")
    columns = {"d_real": "d1", "d_fake": "d2", "g_loss": "g"}
    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in values.items()}
    skipped = {"lines that are not log records": others} if others else {}
    return _finish(label, "keras", step, step_name, columns, arrays, skipped)


def read_dcgan(lines: Sequence[str], label: str) -> TrainingLog:
    """Read the PyTorch DCGAN example's printout (see the module docstring)."""
    fields = ("d_total", "g_loss", "d_x", "d_gz", "d_gz_after")
    names = {"d_total": "Loss_D", "g_loss": "Loss_G", "d_x": "D(x)",
             "d_gz": "D(G(z))", "d_gz_after": "D(G(z)) after '/'"}
    values: dict[str, list[float]] = {f: [] for f in fields}
    raw_steps: list[float] = []
    present: dict[str, bool] = {}
    others = 0
    for number, line in enumerate(lines, start=1):
        if not (_DCGAN_LIKE.match(line) or "Loss_D" in line):
            others += bool(line.strip())
            continue
        where = f"line {number}"
        match = _DCGAN.match(line)
        if match is None:
            raise LogError(f"log {label}: {where}: malformed log line ({_EXPECTED_DCGAN})")
        for field in fields:
            text = match.group(field)
            if field in present and present[field] != (text is not None):
                raise LogError(f"log {label}: {where}: {names[field]} is missing here "
                               "but present on other lines, or the reverse")
            present[field] = text is not None
            if text is not None:
                values[field].append(_number(text, label, where, names[field]))
        raw_steps.append(float(int(match.group("e")) * int(match.group("I"))
                               + int(match.group("i"))))
    count = len(raw_steps)
    if count == 0:
        raise LogError(f"log {label}: no PyTorch DCGAN log lines ({_EXPECTED_DCGAN})")
    if count < MIN_RECORDS:
        raise _too_few(label, count, "PyTorch DCGAN log lines")
    step, running = _steps(raw_steps, 0)
    columns: dict[str, str] = {}
    arrays: dict[str, Array] = {}
    for field in fields:
        if present.get(field):
            arrays[field] = np.asarray(values[field], dtype=np.float64)
            columns[field] = names[field]
    skipped = {"lines that are not log records": others} if others else {}
    return _finish(label, "pytorch-dcgan", step, "running index" if running else "[e/E][i/I]",
                   columns, arrays, skipped)
