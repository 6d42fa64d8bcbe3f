"""Tables: CSV/TSV logs and the CSV exports of TensorBoard, Weights & Biases and MLflow.

``csv`` / ``tsv``
    a header row then one row per record (the delimiter of the header
    decides), as a training loop or pandas writes them; blank cells are kept
    as blanks (the record is skipped and counted if a loss is blank).
``wandb-csv``
    a Weights & Biases panel export: ``Step``, ``<run> - d_loss``,
    ``<run> - d_loss__MIN``, ``<run> - d_loss__MAX``; the ``<run> - `` prefix
    is dropped and the ``__MIN``/``__MAX`` envelopes are left out.
``tensorboard-csv``
    TensorBoard's download of one scalar, ``Wall time,Step,Value``; the tag is
    the file's name (``run-train-tag-loss_D.csv`` -> ``loss_D``).
``mlflow-csv`` / ``mlflow``
    one MLflow metric: a CSV with ``step`` and ``value`` (and ``timestamp``)
    columns, or the file MLflow's file store keeps for it
    (``mlruns/<experiment>/<run>/metrics/<metric>``, lines ``timestamp value
    step``); the metric is the file's name.

Several of these files of one run (``--log d.csv --log g.csv``) are merged on
their step column by :func:`merge_tables`; a step logged in some files and
not others leaves blanks, skipped and counted like any blank.

Numbers are parsed by numpy's compiled text reader when the table is clean
(every cell numeric), by the csv module otherwise.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from pathlib import PurePath

import numpy as np

from gandyn.explain.logformats.base import LogError, Table, one_line
from gandyn.explain.logformats.names import counter_role

__all__ = ["header_of", "looks_mlflow_store", "looks_table", "merge_tables", "read_mlflow_store",
           "read_table", "tag_of"]

_NUMERIC = re.compile(r"\s*[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?\s*$"
                      r"|\s*[-+]?(?:nan|inf|infinity)\s*$", re.IGNORECASE)
_WANDB_ENVELOPE = re.compile(r"__(?:MIN|MAX|step)$")
_MLFLOW_LINE = re.compile(r"^\d+ \S+ -?\d+$")


def _content_lines(lines: Sequence[str], n: int) -> list[tuple[int, str]]:
    out = []
    for index, line in enumerate(lines):
        if line.strip() and not line.lstrip().startswith("#"):
            out.append((index, line))
            if len(out) >= n:
                break
    return out


def header_of(lines: Sequence[str]) -> tuple[int, str] | None:
    """The index and delimiter of a table's header, or None when the text is no table.

    A header is the first line that is neither blank nor a ``#`` comment, with
    at least two cells, not all numeric, followed by a row with the same number
    of cells, most of them numeric.
    """
    first = _content_lines(lines, 3)
    if len(first) < 2:
        return None
    index, header = first[0]
    delimiter = "\t" if "\t" in header else ","
    names = next(csv.reader([header], delimiter=delimiter), [])
    if len(names) < 2 or all(_NUMERIC.match(c) for c in names):
        return None
    row = next(csv.reader([first[1][1]], delimiter=delimiter), [])
    if len(row) != len(names):
        return None
    numeric = sum(1 for c in row if _NUMERIC.match(c) or not c.strip())
    return (index, delimiter) if numeric * 2 > len(row) else None


def looks_table(lines: Sequence[str]) -> bool:
    """Whether the text is a CSV/TSV table (see :func:`header_of`)."""
    return header_of(lines) is not None


def looks_mlflow_store(lines: Sequence[str]) -> bool:
    """Whether every line is ``timestamp value step`` (an MLflow file-store metric)."""
    content = [line for line in lines[:200] if line.strip()]
    return bool(content) and all(_MLFLOW_LINE.match(line.strip()) for line in content)


def tag_of(path: str) -> str:
    """The scalar a per-scalar export's file name names (``run-x-tag-loss_D.csv`` -> ``loss_D``)."""
    stem = PurePath(path).name
    for suffix in (".csv", ".tsv", ".txt"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
    return stem.rpartition("-tag-")[2] if "-tag-" in stem else stem


def _parse_columns(rows: list[list[str]], names: list[str], header_line: int, label: str,
                   wanted: Callable[[str], bool]) -> tuple[list[int], np.ndarray, np.ndarray]:
    """The numeric columns of ``rows``: their indexes, values and blank masks."""
    width = len(names)
    for k, row in enumerate(rows):
        if len(row) != width:
            raise LogError(f"log {label}: row {k + 1} (line {header_line + k + 2}): "
                           f"{len(row)} fields, but the header has {width}")
    kept: list[int] = []
    columns: list[np.ndarray] = []
    blanks: list[np.ndarray] = []
    for j in range(width):
        cells = [row[j].strip() for row in rows]
        blank = np.fromiter((c == "" for c in cells), dtype=bool, count=len(cells))
        try:
            values = np.array(["nan" if c == "" else c for c in cells], dtype=np.float64)
        except ValueError:
            if not wanted(names[j]):
                continue  # a text column (a run's name, a date): not a series
            for k, cell in enumerate(cells):
                if cell and not _NUMERIC.match(cell):
                    raise LogError(f"log {label}: row {k + 1} (line {header_line + k + 2}): "
                                   f"non-numeric value {one_line(cell)!r} for column "
                                   f"{names[j]!r}") from None
            raise
        kept.append(j)
        columns.append(values)
        blanks.append(blank)
    n = len(rows)
    values = np.column_stack(columns) if columns else np.empty((n, 0))
    blank = np.column_stack(blanks) if blanks else np.empty((n, 0), dtype=bool)
    return kept, values, blank


def _fast(body: str, delimiter: str, width: int) -> np.ndarray | None:
    """Every cell numeric and present: numpy's compiled reader, else None."""
    try:
        values = np.loadtxt(io.StringIO(body), delimiter=delimiter, comments="#", ndmin=2,
                            dtype=np.float64)
    except ValueError:
        return None
    return values if values.shape[1] == width else None


def read_table(text: str, label: str, *, wanted: Callable[[str], bool],
               tag: str | None = None) -> Table:
    """Read a CSV/TSV table or one of the exports of the module docstring.

    Parameters
    ----------
    text
        The whole file.
    label
        The log's name, for messages.
    wanted
        Whether a column name matters (a loss, a counter, a column the user
        named): such a column with text in it is an error, any other text column
        is left out.
    tag
        The series' name for a per-tag export (from its file name).

    Raises
    ------
    LogError
        On a ragged row, text in a wanted column, or a per-tag export without a tag.
    """
    head = text[:65536].split("\n", 64)[:64]
    found = header_of(head)
    if found is None:
        raise LogError(f"log {label}: not a CSV/TSV table (expected a header row, then rows "
                       "of numbers)")
    header_at, delimiter = found
    names = [n.strip() for n in next(csv.reader([head[header_at]], delimiter=delimiter))]
    body_start = 0
    for _ in range(header_at + 1):  # past the header line, without copying the text
        newline = text.find("\n", body_start)
        body_start = len(text) if newline < 0 else newline + 1
    fmt = "tsv" if delimiter == "\t" else "csv"
    values = _fast(text[body_start:], delimiter, len(names))
    if values is not None:
        blank = np.zeros(values.shape, dtype=bool)
        kept = list(range(len(names)))
    else:
        body_lines = text[body_start:].splitlines()
        rows = [r for r in csv.reader(body_lines, delimiter=delimiter)
                if any(c.strip() for c in r) and not r[0].lstrip().startswith("#")]
        kept, values, blank = _parse_columns(rows, names, header_at, label, wanted)
    names = [names[j] for j in kept]
    names, values, blank, fmt = _exports(names, values, blank, fmt, label, tag)
    return Table(names=names, values=values, blank=blank, fmt=fmt)


def _exports(names: list[str], values: np.ndarray, blank: np.ndarray, fmt: str, label: str,
             tag: str | None) -> tuple[list[str], np.ndarray, np.ndarray, str]:
    """Recognise the exports of TensorBoard, W&B and MLflow by their columns."""
    lowered = [n.casefold() for n in names]
    if set(lowered) in ({"wall time", "step", "value"}, {"step", "value", "timestamp"},
                        {"step", "value"}):
        if tag is None:
            raise LogError(f"log {label}: a one-scalar export (columns {', '.join(names)}) "
                           "names its scalar only in its file name; give it as a file named "
                           "after the scalar (e.g. d_loss.csv)")
        kind = "tensorboard-csv" if "wall time" in lowered else "mlflow-csv"
        keep = [k for k, n in enumerate(lowered) if n in ("step", "value")]
        renamed = ["Step" if lowered[k] == "step" else tag for k in keep]
        return renamed, values[:, keep], blank[:, keep], kind
    envelopes = [k for k, n in enumerate(names) if _WANDB_ENVELOPE.search(n)]
    runs = {n.rpartition(" - ")[0] for n in names if " - " in n}
    if envelopes or (runs and any(counter_role(n) for n in names)):
        keep = [k for k in range(len(names)) if k not in envelopes]
        if len(runs) > 1:
            raise LogError(f"log {label}: a Weights & Biases export of several runs "
                           f"({', '.join(sorted(runs))}); export one run, or name the "
                           "columns with `columns`")
        renamed = [names[k].rpartition(" - ")[2] if " - " in names[k] else names[k]
                   for k in keep]
        return renamed, values[:, keep], blank[:, keep], "wandb-csv"
    return names, values, blank, fmt


def read_mlflow_store(text: str, label: str, tag: str) -> Table:
    """Read one metric file of MLflow's file store (``timestamp value step`` lines)."""
    try:
        data = np.loadtxt(io.StringIO(text), ndmin=2, dtype=np.float64)
    except ValueError as exc:
        raise LogError(f"log {label}: not an MLflow metric file ({one_line(str(exc))})") from None
    if data.shape[1] != 3:
        raise LogError(f"log {label}: not an MLflow metric file (expected 'timestamp value "
                       "step' lines)")
    values = data[:, [2, 1]]
    return Table(names=["step", tag], values=values, blank=np.zeros(values.shape, dtype=bool),
                 fmt="mlflow")


def merge_tables(tables: Sequence[Table], labels: Sequence[str], label: str) -> Table:
    """Merge the tables of one run's files on their step columns.

    The rows are the union of the steps, in increasing order; a series not
    logged at a step is blank there. Within one file a step logged twice (a
    resumed run) keeps its last value, and the earlier ones are counted.

    Raises
    ------
    LogError
        If a table has no step column, or two files hold series of the same name.
    """
    steps: list[np.ndarray] = []
    parts: list[tuple[list[str], np.ndarray, np.ndarray]] = []
    skipped: dict[str, int] = {}
    duplicates = 0
    seen: set[str] = set()
    for table, name in zip(tables, labels, strict=True):
        step_columns = [k for k, n in enumerate(table.names) if counter_role(n) == "step"]
        if not step_columns:
            raise LogError(f"log {name}: no step column, so it cannot be aligned with the "
                           f"other logs (columns: {', '.join(table.names)})")
        k = step_columns[0]
        step = table.values[:, k]
        keep = ~np.isnan(step)
        others = [j for j in range(len(table.names)) if j != k]
        # The last value of a repeated step wins, as when a resumed run rewrites it.
        order = np.argsort(step[keep], kind="stable")
        s = step[keep][order]
        last = np.append(s[1:] != s[:-1], True)
        duplicates += int((~last).sum())
        values = table.values[keep][order][last][:, others]
        blank = table.blank[keep][order][last][:, others]
        names = [table.names[j] for j in others]
        for series_name in names:
            if series_name in seen:
                raise LogError(f"log {label}: two of the logs hold a series named "
                               f"{series_name!r}")
            seen.add(series_name)
        steps.append(s[last])
        parts.append((names, values, blank))
        for what, count in table.skipped.items():
            skipped[what] = skipped.get(what, 0) + count
    if duplicates:
        skipped["records of a step logged again (the last one kept)"] = duplicates
    union = np.unique(np.concatenate(steps)) if steps else np.empty(0)
    n = union.size
    all_names = ["step"]
    columns = [union]
    blanks = [np.zeros(n, dtype=bool)]
    for step_values, (names, values, blank) in zip(steps, parts, strict=True):
        rows = np.searchsorted(union, step_values)
        for j, name in enumerate(names):
            column = np.full(n, np.nan)
            column[rows] = values[:, j]
            missing = np.ones(n, dtype=bool)
            missing[rows] = blank[:, j]
            all_names.append(name)
            columns.append(column)
            blanks.append(missing)
    fmt = tables[0].fmt if len({t.fmt for t in tables}) == 1 else "csv"
    return Table(names=all_names, values=np.column_stack(columns), blank=np.column_stack(blanks),
                 fmt=fmt, skipped=skipped)
