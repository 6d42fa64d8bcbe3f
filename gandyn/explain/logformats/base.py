"""What every log reader shares: the :class:`TrainingLog`, its errors, and the cleaning step.

Every reader of :mod:`gandyn.explain.logformats` turns its input into a
:class:`Table` (named numeric columns, one row per record, with a mask of the
cells the log left blank) and hands it to :func:`gandyn.explain.logformats.assign.build_log`,
which names the columns and calls :func:`assemble`: the one place where rows
with blank, NaN or infinite losses and a diverged tail are dropped and
counted, so that every format reports them the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from gandyn.arrays import Array
from gandyn.errors import GandynError

__all__ = [
    "CANONICAL",
    "LOSS_SERIES",
    "MIN_RECORDS",
    "LogError",
    "MissingSeriesError",
    "Table",
    "TrainingLog",
    "assemble",
    "one_line",
]

#: Canonical names a log can provide, ``step`` first.
CANONICAL = ("step", "d_real", "d_fake", "g_loss", "d_x", "d_gz", "d_total", "d_gz_after")

#: The canonical series that decide whether a row is usable (all but ``step``).
LOSS_SERIES = CANONICAL[1:]

#: Fewest usable records a log must hold.
MIN_RECORDS = 3


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


def one_line(text: str) -> str:
    """``text`` with its line breaks folded, for a one-line message."""
    return " ".join(text.split()) if ("\n" in text or "\r" in text) else text


@dataclass(frozen=True, eq=False)
class TrainingLog:
    """The losses of one training run, under gandyn's canonical names.

    Attributes
    ----------
    step : numpy.ndarray
        Step of each record (float), in the log's own iterations where it
        prints them; see :func:`gandyn.explain.logs.read_log`.
    source_format : str
        One of :data:`gandyn.explain.logs.FORMATS`.
    columns_used : dict of str to str
        Canonical name -> the column, key or tag of the log it came from; for
        ``step`` this may also be ``"row index"``, ``"running index"`` or a
        composition such as ``"epoch * 938 + Batch"``.
    n_rows : int
        Number of usable records (the length of every array).
    d_real, d_fake, g_loss, d_x, d_gz, d_total, d_gz_after : numpy.ndarray or None
        The logged quantities (see :mod:`gandyn.explain.logs`), None when absent.
    extra : dict of str to numpy.ndarray
        The other numeric series of the log (L1, cycle, identity, gradient
        penalty, timing, ...), under their names in the log, over the same rows;
        never mistaken for the canonical losses. NaN where the log has no value.
    skipped : dict of str to int
        What was left out, and how much: ``"rows with NaN"``, ``"rows with an
        infinite value"``, ``"rows with a blank cell"``, ``"rows of the diverged
        tail"``, ``"lines that are not log records"``, ... (only non-zero counts).
    pair : str or None
        The network pair chosen in a log of several (CycleGAN's ``A`` or ``B``).
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
    extra: dict[str, Array] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    pair: str | None = None

    def series(self) -> dict[str, Array]:
        """Return the quantities present (all but ``step``), in canonical order.

        Returns
        -------
        dict of str to numpy.ndarray
            Canonical name -> array, for every field that is not None.
        """
        out: dict[str, Array] = {}
        for name in LOSS_SERIES:
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out

    def skipped_text(self) -> str:
        """The skipped counts in words (``"skipped 12 rows with NaN"``), or ``""``."""
        if not self.skipped:
            return ""
        return "skipped " + ", ".join(f"{n} {what}" for what, n in self.skipped.items())


@dataclass
class Table:
    """Named numeric columns read from a log, before their names are interpreted.

    Attributes
    ----------
    names
        Column names as the log spells them (a header cell, a printed key, a
        JSON key, a TensorBoard tag).
    values
        ``(rows, len(names))`` floats; NaN where ``blank``.
    blank
        ``(rows, len(names))`` booleans: the log has no value there (an empty
        cell, a key absent from that line, a tag not logged at that step).
    fmt
        The format read (:data:`gandyn.explain.logs.FORMATS`).
    skipped
        Counts of what the reader already left out (non-record lines, ...).
    totals
        For counters printed as ``i/I``: column name -> the ``I`` of each row.
    kinds
        Column name -> ``"epoch"`` or ``"step"`` for columns the reader knows are
        counters whatever their name (the PyTorch DCGAN example's ``[e/E][i/I]``).
    """

    names: list[str]
    values: Array
    blank: np.ndarray
    fmt: str
    skipped: dict[str, int] = field(default_factory=dict)
    totals: dict[str, Array] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)

    @property
    def n_rows(self) -> int:
        """Number of records."""
        return int(self.values.shape[0])

    def column(self, name: str) -> Array:
        """The values of column ``name``."""
        return self.values[:, self.names.index(name)]


def _add(counts: dict[str, int], what: str, n: int) -> None:
    if n:
        counts[what] = counts.get(what, 0) + int(n)


def assemble(label: str, fmt: str, step: Array, step_name: str,
             series: Mapping[str, tuple[str, Array, np.ndarray]],
             extra: Mapping[str, Array], skipped: Mapping[str, int],
             pair: str | None = None) -> TrainingLog:
    """Drop and count the unusable rows, and build the :class:`TrainingLog`.

    Parameters
    ----------
    label
        The log's name, for messages.
    fmt
        The format read.
    step, step_name
        The step of every row and where it came from.
    series
        Canonical name -> (column name, values, blank mask).
    extra
        Other series by name, over the same rows.
    skipped
        Counts already made by the reader.
    pair
        The network pair chosen, if any.

    Returns
    -------
    TrainingLog
        Only the rows where every canonical series has a finite value; the
        trailing rows after the last such row are counted as the diverged tail
        when they hold a NaN or infinite value.

    Raises
    ------
    LogError
        If fewer than :data:`MIN_RECORDS` usable rows remain.
    """
    counts = dict(skipped)
    n = int(step.shape[0])
    blank = np.zeros(n, dtype=bool)
    nan = np.zeros(n, dtype=bool)
    inf = np.zeros(n, dtype=bool)
    for _column, values, missing in series.values():
        blank |= missing
        nan |= np.isnan(values) & ~missing
        inf |= np.isinf(values)
    bad = blank | nan | inf
    good = ~bad
    tail = np.zeros(n, dtype=bool)
    if n and bad[-1]:
        last_good = int(np.flatnonzero(good)[-1]) if good.any() else -1
        candidate = np.zeros(n, dtype=bool)
        candidate[last_good + 1:] = True
        # A tail is diverged when its values went NaN or infinite, not when it is only blank.
        if bool(np.any((nan | inf) & candidate)) and last_good >= 0:
            tail = candidate
    _add(counts, "rows of the diverged tail (NaN or infinite to the end)", int(tail.sum()))
    _add(counts, "rows with a blank cell", int((blank & ~tail).sum()))
    _add(counts, "rows with NaN", int((nan & ~blank & ~tail).sum()))
    _add(counts, "rows with an infinite value", int((inf & ~nan & ~blank & ~tail).sum()))
    kept = int(good.sum())
    if kept < MIN_RECORDS:
        what = "; ".join(f"{k}: {v}" for k, v in counts.items())
        detail = f" ({what})" if what else ""
        raise LogError(f"log {label}: only {kept} usable "
                       f"{'row' if kept == 1 else 'rows'} (need at least {MIN_RECORDS}){detail}")
    step = np.asarray(step, dtype=np.float64)[good]
    if step.size > 1 and not bool(np.all(np.diff(step) > 0)):
        # Restarts or repeated counters: the order of the records is all that is sure.
        step = np.arange(step.size, dtype=np.float64)
        step_name = f"running index ({step_name} does not increase: a restarted run?)"
    columns_used = {"step": step_name}
    arrays: dict[str, Array] = {}
    for name in LOSS_SERIES:
        if name in series:
            column, values, _missing = series[name]
            arrays[name] = np.ascontiguousarray(values[good], dtype=np.float64)
            columns_used[name] = column
    return TrainingLog(step=step, source_format=fmt, columns_used=columns_used, n_rows=kept,
                       extra={k: np.ascontiguousarray(v[good]) for k, v in extra.items()},
                       skipped=counts, pair=pair, **arrays)
