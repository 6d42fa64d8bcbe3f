"""Read the losses a real GAN training loop printed or wrote.

:func:`read_log` turns a training log into a :class:`TrainingLog`: one float
array per logged quantity, under gandyn's canonical names (the same names
:mod:`gandyn.io.trajectory_files` writes for simulated runs):

``d_real``
    discriminator loss on a real batch, ``-log D(x)`` for the BCE loss;
``d_fake``
    discriminator loss on a fake batch, ``-log(1 - D(G(z)))``;
``g_loss``
    generator loss (usually the non-saturating ``-log D(G(z))``);
``d_x``
    mean discriminator output on real data, a probability;
``d_gz``
    mean discriminator output on generated data, a probability (for the
    PyTorch DCGAN example: as seen by D's loss, before D's update);
``d_total``
    the total discriminator loss ``d_real + d_fake`` (PyTorch ``Loss_D``);
``d_gz_after``
    ``D(G(z))`` after D's update, as seen by G's loss (PyTorch DCGAN only).

Formats (detected from the content when ``fmt`` is None):

``csv`` / ``tsv``
    a header row then one row per record, comma or tab separated (the
    delimiter of the header decides); column names are matched
    case-insensitively against :data:`COLUMN_ALIASES`; ``columns`` overrides.
``keras``
    the lines printed by Jason Brownlee's Keras GAN examples,
    ``>1, d1=0.693, d2=0.696 g=0.692, a1=50, a2=0`` or
    ``>12, 3/234, d1=..., d2=..., g=...``: ``d1`` is the loss on a real batch,
    ``d2`` on a fake batch, ``g`` the generator loss; ``a1``/``a2`` are
    accuracies (percent) and are checked but not kept.
``pytorch-dcgan``
    the lines of the PyTorch DCGAN tutorial,
    ``[0/5][0/1583]  Loss_D: 1.7836  Loss_G: 5.0988  D(x): 0.5927  D(G(z)): 0.6316 / 0.0081``.

Every problem raises :class:`LogError`, whose message is one line naming the
file.
"""

from __future__ import annotations

import csv
import difflib
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gandyn.arrays import Array
from gandyn.errors import GandynError

__all__ = [
    "CANONICAL",
    "COLUMN_ALIASES",
    "FORMATS",
    "LogError",
    "MissingSeriesError",
    "TrainingLog",
    "read_log",
    "unknown_canonical",
]


#: Values of ``fmt`` and of :attr:`TrainingLog.source_format`.
FORMATS = ("csv", "tsv", "keras", "pytorch-dcgan")

#: Canonical names a log can provide, ``step`` first.
CANONICAL = ("step", "d_real", "d_fake", "g_loss", "d_x", "d_gz", "d_total", "d_gz_after")

#: Header names recognised (case-insensitively) for each canonical name.
#: ``a1``/``a2`` (Keras accuracies, in percent) are deliberately absent.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "step": ("step", "iter", "iteration", "epoch_step", "batch", "n", "i"),
    "d_real": ("d_real", "d_loss_real", "loss_d_real", "errD_real", "d1", "d_real_loss",
               "dis_real_loss"),
    "d_fake": ("d_fake", "d_loss_fake", "loss_d_fake", "errD_fake", "d2", "d_fake_loss",
               "dis_fake_loss"),
    "g_loss": ("g_loss", "loss_g", "errG", "g", "gen_loss", "generator_loss"),
    "d_x": ("d_x", "D(x)", "dx", "real_score"),
    "d_gz": ("d_gz", "D(G(z))", "dgz", "fake_score"),
    "d_total": ("d_total", "d_loss", "loss_d", "errD", "dis_loss", "discriminator_loss"),
    "d_gz_after": ("d_gz_after",),
}

MIN_RECORDS = 3
_HEADER_LIST_MAX = 20

_EXPECTED = ("expected a CSV/TSV header with d_real/d_fake/g_loss columns, "
             "Keras '>N, d1=..., d2=... g=...' lines or "
             "PyTorch DCGAN '[e/E][i/I] Loss_D: ... Loss_G: ...' lines")
_EXPECTED_KERAS = "expected Keras lines like '>1, d1=0.693, d2=0.696 g=0.692, a1=50, a2=0'"
_EXPECTED_DCGAN = ("expected PyTorch DCGAN lines like '[0/5][0/1583] Loss_D: 1.78 Loss_G: 5.10 "
                   "D(x): 0.59 D(G(z)): 0.63 / 0.01'")


class LogError(GandynError, ValueError):
    """A training log that cannot be read, recognised or parsed (one-line message)."""


class MissingSeriesError(LogError):
    """A log that lacks a quantity the analysis needs.

    Attributes
    ----------
    name
        The canonical name of the missing quantity (``"g_loss"``, ``"d_fake"``).
    """

    def __init__(self, message: str, name: str) -> None:
        super().__init__(message)
        self.name = name


@dataclass(frozen=True, eq=False)
class TrainingLog:
    """The losses of one training run, under gandyn's canonical names.

    Attributes
    ----------
    step : numpy.ndarray
        Step of each record (float); see :func:`read_log` for how it is derived.
    source_format : str
        One of :data:`FORMATS`.
    columns_used : dict of str to str
        Canonical name -> the column (or field) of the file it came from; for
        ``step`` this may be ``"row index"`` or ``"running index"``.
    n_rows : int
        Number of records (the length of every array).
    d_real, d_fake, g_loss, d_x, d_gz, d_total, d_gz_after : numpy.ndarray or None
        The logged quantities (see the module docstring), None when absent.
    """

    step: Array
    source_format: str
    columns_used: dict[str, str]
    n_rows: int
    d_real: Array | None = None
    d_fake: Array | None = None
    g_loss: Array | None = None
    d_x: Array | None = None
    d_gz: Array | None = None
    d_total: Array | None = None
    d_gz_after: Array | None = None

    def series(self) -> dict[str, Array]:
        """Return the quantities present (all but ``step``), in canonical order.

        Returns
        -------
        dict of str to numpy.ndarray
            Canonical name -> array, for every field that is not None.
        """
        out: dict[str, Array] = {}
        for name in CANONICAL[1:]:
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


def read_log(path: str | os.PathLike[str], *, columns: Mapping[str, str] | None = None,
             fmt: str | None = None) -> TrainingLog:
    """Read a GAN training log into a :class:`TrainingLog`.

    Parameters
    ----------
    path : str or path-like
        The log file (UTF-8 text).
    columns : mapping of str to str, optional
        Canonical name -> column name in a CSV/TSV header, overriding the
        automatic recognition for those names.
        Only valid for CSV/TSV logs.
    fmt : str, optional
        Force a format, one of :data:`FORMATS`; detected from the content when None
        (PyTorch DCGAN lines, then Keras lines, else CSV/TSV).

    Returns
    -------
    TrainingLog
        The records, at least three.

    Raises
    ------
    LogError
        If the file is missing, unreadable, empty, binary, in no recognised
        format, has fewer than three records, a malformed log line, a
        non-numeric value, or ``columns`` names an unknown canonical name or a
        column not in the header. The message is one line naming the file.

    Notes
    -----
    ``step``: the CSV/TSV step column if one is recognised, else the row index
    (0, 1, ...); Keras ``>N`` (or ``(N-1)*B + j`` for ``>N, j/B``), falling
    back to a running index 1, 2, ... when that does not increase strictly;
    PyTorch ``e*I + i`` from ``[e/E][i/I]``, falling back to 0, 1, ... likewise.
    Empty CSV/TSV cells are read as NaN.
    """
    label = str(path)
    if fmt is not None and fmt not in FORMATS:
        close = difflib.get_close_matches(fmt, FORMATS, n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise LogError(f"log {label}: unknown format {_one_line(fmt)!r}{hint} "
                       f"(known: {', '.join(FORMATS)})")
    if columns is not None:
        for name in columns:
            if name not in CANONICAL:
                raise LogError(f"log {label}: {unknown_canonical(name)}")
    lines = _read_lines(Path(path), label)
    if fmt is None:
        fmt = _detect(lines)
    if columns and fmt in ("keras", "pytorch-dcgan"):
        raise LogError(f"log {label}: column overrides apply to CSV/TSV logs only, "
                       f"but this is a {fmt} log")
    if fmt == "keras":
        return _read_keras(lines, label)
    if fmt == "pytorch-dcgan":
        return _read_dcgan(lines, label)
    if fmt is None:
        if not columns:
            raise LogError(f"log {label}: no recognised losses ({_EXPECTED})")
        fmt = "tsv" if "\t" in _first_content_line(lines) else "csv"
    return _read_table(lines, label, fmt, dict(columns or {}))


# --- reading and detection -------------------------------------------------------------


def _one_line(text: str) -> str:
    return " ".join(text.split()) if ("\n" in text or "\r" in text) else text


def unknown_canonical(name: str) -> str:
    """Why ``name`` is not a canonical name, with the closest ones (one line)."""
    close = difflib.get_close_matches(name, CANONICAL, n=2, cutoff=0.5)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return (f"unknown canonical name {_one_line(name)!r}{hint} "
            f"(known: {', '.join(CANONICAL)})")


def _read_lines(path: Path, label: str) -> list[str]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise LogError(f"log {label}: no such file") from None
    except IsADirectoryError:
        raise LogError(f"log {label}: is a folder, not a log file") from None
    except OSError as exc:
        raise LogError(f"log {label}: cannot read it ({_one_line(exc.strerror or str(exc))})"
                       ) from None
    if b"\x00" in data:
        raise LogError(f"log {label}: binary file, not a text log")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise LogError(f"log {label}: not UTF-8 text (binary file?)") from None
    if not text.strip():
        raise LogError(f"log {label}: empty file")
    return text.splitlines()


_NUM = r"[^\s,/\[\]]+"
_KERAS_LIKE = re.compile(r"^\s*>\s*\d")
_KERAS = re.compile(
    r"^\s*>\s*(?P<n>\d+)\s*,\s*(?:(?P<j>\d+)\s*/\s*(?P<b>\d+)\s*,\s*)?(?P<rest>.*?)\s*$")
_KERAS_PAIR = re.compile(r"\s*,?\s*(?P<key>[A-Za-z]\w*)\s*=\s*(?P<value>[^\s,]+)")
_DCGAN_LIKE = re.compile(r"^\s*\[\s*\d+\s*/\s*\d+\s*\]\s*\[\s*\d+\s*/\s*\d+\s*\]|Loss_D\s*:")
_DCGAN = re.compile(
    r"^\s*\[\s*(?P<e>\d+)\s*/\s*(?P<E>\d+)\s*\]\s*\[\s*(?P<i>\d+)\s*/\s*(?P<I>\d+)\s*\]"
    rf"\s*Loss_D:\s*(?P<d_total>{_NUM})\s+Loss_G:\s*(?P<g_loss>{_NUM})"
    rf"(?:\s+D\(x\):\s*(?P<d_x>{_NUM}))?"
    rf"(?:\s+D\(G\(z\)\):\s*(?P<d_gz>{_NUM})\s*/\s*(?P<d_gz_after>{_NUM}))?\s*$")


def _detect(lines: Sequence[str]) -> str | None:
    n_dcgan = sum(1 for line in lines if _DCGAN_LIKE.search(line))
    n_keras = sum(1 for line in lines if _KERAS_LIKE.match(line))
    if n_dcgan or n_keras:
        return "pytorch-dcgan" if n_dcgan >= n_keras else "keras"
    header = _first_content_line(lines)
    delimiter = "\t" if "\t" in header else ","
    names = [h.strip() for h in next(csv.reader([header], delimiter=delimiter), [])]
    if _recognise(names, {}, "")[1]:
        return "tsv" if delimiter == "\t" else "csv"
    return None


def _first_content_line(lines: Sequence[str]) -> str:
    for line in lines:
        if line.strip() and not line.lstrip().startswith("#"):
            return line
    return ""


def _number(text: str, label: str, where: str, what: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise LogError(f"log {label}: {where}: non-numeric value {_one_line(text)!r} "
                       f"for {what}") from None


def _steps(raw: list[float], start: int) -> tuple[Array, bool]:
    """The raw steps if they increase strictly, else a running index from ``start``."""
    arr = np.asarray(raw, dtype=np.float64)
    if arr.size < 2 or bool(np.all(np.diff(arr) > 0)):
        return arr, False
    return np.arange(start, start + arr.size, dtype=np.float64), True


def _too_few(label: str, n: int, what: str) -> LogError:
    return LogError(f"log {label}: only {n} {what} (need at least {MIN_RECORDS})")


# --- Keras (Brownlee) --------------------------------------------------------------------


def _read_keras(lines: Sequence[str], label: str) -> TrainingLog:
    records: list[tuple[int, int | None, int | None]] = []  # (N, j, B) per line
    values: dict[str, list[float]] = {"d_real": [], "d_fake": [], "g_loss": []}
    keys = {"d1": "d_real", "d2": "d_fake", "g": "g_loss"}
    for number, line in enumerate(lines, start=1):
        if not _KERAS_LIKE.match(line):
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
    columns_used = {"step": step_name, "d_real": "d1", "d_fake": "d2", "g_loss": "g"}
    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in values.items()}
    return _build(step, "keras", columns_used, count, arrays)


def _build(step: Array, fmt: str, columns_used: dict[str, str], n_rows: int,
           arrays: Mapping[str, Array]) -> TrainingLog:
    return TrainingLog(step=step, source_format=fmt, columns_used=columns_used, n_rows=n_rows,
                       d_real=arrays.get("d_real"), d_fake=arrays.get("d_fake"),
                       g_loss=arrays.get("g_loss"), d_x=arrays.get("d_x"),
                       d_gz=arrays.get("d_gz"), d_total=arrays.get("d_total"),
                       d_gz_after=arrays.get("d_gz_after"))


# --- PyTorch DCGAN -----------------------------------------------------------------------


def _read_dcgan(lines: Sequence[str], label: str) -> TrainingLog:
    fields = ("d_total", "g_loss", "d_x", "d_gz", "d_gz_after")
    names = {"d_total": "Loss_D", "g_loss": "Loss_G", "d_x": "D(x)",
             "d_gz": "D(G(z))", "d_gz_after": "D(G(z)) after '/'"}
    values: dict[str, list[float]] = {f: [] for f in fields}
    raw_steps: list[float] = []
    present: dict[str, bool] = {}
    for number, line in enumerate(lines, start=1):
        if not _DCGAN_LIKE.search(line):
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
    columns_used = {"step": "running index" if running else "[e/E][i/I]"}
    arrays: dict[str, Array] = {}
    for field in fields:
        if present.get(field):
            arrays[field] = np.asarray(values[field], dtype=np.float64)
            columns_used[field] = names[field]
    return _build(step, "pytorch-dcgan", columns_used, count, arrays)


# --- CSV / TSV -----------------------------------------------------------------------------


def _header_list(names: Sequence[str]) -> str:
    shown = ", ".join(_one_line(n) for n in names[:_HEADER_LIST_MAX])
    return shown + (", ..." if len(names) > _HEADER_LIST_MAX else "")


def _recognise(names: Sequence[str], overrides: Mapping[str, str],
               label: str) -> tuple[dict[str, int], bool]:
    """Canonical name -> column index; the flag says whether any quantity was found."""
    mapping: dict[str, int] = {}
    for canonical, column in overrides.items():
        if column in names:
            index = names.index(column)
        else:
            folded = [i for i, n in enumerate(names) if n.casefold() == column.casefold()]
            if len(folded) != 1:
                close = difflib.get_close_matches(column, names, n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise LogError(f"log {label}: column {_one_line(column)!r} not in the header "
                               f"(columns: {_header_list(names)}){hint}")
            index = folded[0]
        mapping[canonical] = index
    taken = set(mapping.values())
    for canonical, aliases in COLUMN_ALIASES.items():
        if canonical in mapping:
            continue
        folded_aliases = {a.casefold() for a in aliases}
        hits = [i for i, n in enumerate(names)
                if i not in taken and n.casefold() in folded_aliases]
        if len(hits) > 1 and label:
            both = " and ".join(repr(names[i]) for i in hits)
            raise LogError(f"log {label}: columns {both} both look like {canonical}; "
                           f"choose one with `columns` {canonical}=NAME")
        if hits:
            mapping[canonical] = hits[0]
            taken.add(hits[0])
    return mapping, any(c != "step" for c in mapping)


def _read_table(lines: Sequence[str], label: str, fmt: str,
                overrides: dict[str, str]) -> TrainingLog:
    header_at = next((k for k, line in enumerate(lines)
                      if line.strip() and not line.lstrip().startswith("#")), None)
    if header_at is None:
        raise LogError(f"log {label}: empty file (only comments)")
    delimiter = "\t" if fmt == "tsv" else ","
    rows = list(csv.reader(lines[header_at:], delimiter=delimiter))
    names = [n.strip() for n in rows[0]]
    mapping, found = _recognise(names, overrides, label)
    if not found:
        raise LogError(f"log {label}: no recognised loss columns in the {fmt.upper()} header "
                       f"(columns: {_header_list(names)}); expected e.g. d_real, d_fake, g_loss, "
                       "or name them with `columns` d_fake=COLUMN,...")
    data: dict[str, list[float]] = {c: [] for c in mapping}
    n_rows = 0
    for offset, row in enumerate(rows[1:], start=1):
        if not any(cell.strip() for cell in row):
            continue
        line_no = header_at + offset + 1
        n_rows += 1
        where = f"row {n_rows} (line {line_no})"
        if len(row) != len(names):
            raise LogError(f"log {label}: {where}: {len(row)} fields, but the header has "
                           f"{len(names)}")
        for canonical, index in mapping.items():
            cell = row[index].strip()
            value = math.nan if cell == "" else _number(
                cell, label, where, f"column {names[index]!r}")
            data[canonical].append(value)
    if n_rows < MIN_RECORDS:
        raise _too_few(label, n_rows, "rows" if n_rows != 1 else "row")
    arrays = {c: np.asarray(v, dtype=np.float64) for c, v in data.items()}
    columns_used = {c: names[i] for c, i in mapping.items()}
    if "step" in arrays:
        step = arrays.pop("step")
    else:
        step = np.arange(n_rows, dtype=np.float64)
        columns_used = {"step": "row index", **columns_used}
    ordered = {c: columns_used[c] for c in CANONICAL if c in columns_used}
    return _build(step, fmt, ordered, n_rows, arrays)
