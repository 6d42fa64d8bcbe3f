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
    a combined discriminator loss (PyTorch ``Loss_D``, ``d_loss``, ``D loss``,
    a critic loss): the sum or the mean of ``d_real`` and ``d_fake``, as the
    loop computes it;
``d_gz_after``
    ``D(G(z))`` after D's update, as seen by G's loss (PyTorch DCGAN only).

Every other numeric series of the log (L1, cycle, identity, penalties,
timing) is kept in :attr:`TrainingLog.extra`; rows with a blank, NaN or
infinite loss and a diverged tail are left out and counted in
:attr:`TrainingLog.skipped`.

Formats, told apart by their content (:data:`FORMATS`; ``fmt`` forces one):

``printed``
    ``key: value`` lines of any training loop (:mod:`~gandyn.explain.logformats.printed`),
    with several networks' losses chosen by ``pair``;
``pattern``
    the lines matching a user's template (``pattern``);
``keras`` / ``pytorch-dcgan``
    the Keras tutorial's and the PyTorch DCGAN example's printouts, read
    strictly (:mod:`~gandyn.explain.logformats.printouts`);
``csv`` / ``tsv`` / ``wandb-csv`` / ``tensorboard-csv`` / ``mlflow-csv`` / ``mlflow``
    tables and the exports of TensorBoard, Weights & Biases and MLflow
    (:mod:`~gandyn.explain.logformats.tables`);
``jsonl``
    JSON lines or a JSON array, with StyleGAN's statistics objects
    (:mod:`~gandyn.explain.logformats.jsonlines`);
``tensorboard``
    event files and folders of them (:mod:`~gandyn.explain.logformats.tensorboard`;
    needs the ``tensorboard`` extra).

Every problem raises :class:`LogError` (or the
:class:`~gandyn.errors.InputFileError` of :func:`gandyn.files.read_input` for
a file that cannot be read), whose message is one line naming the file.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from gandyn.errors import InputFileError
from gandyn.explain.logformats.assign import EXPECTED_KEYS, build_log
from gandyn.explain.logformats.base import (
    CANONICAL,
    MIN_RECORDS,
    LogError,
    MissingSeriesError,
    Table,
    TrainingLog,
    one_line,
)
from gandyn.explain.logformats.jsonlines import looks_json, read_json
from gandyn.explain.logformats.names import ALIASES, COUNTER_ALIASES, counter_role, is_loss_key
from gandyn.explain.logformats.printed import looks_printed, read_printed, read_template
from gandyn.explain.logformats.printouts import (
    count_dcgan_lines,
    count_keras_lines,
    read_dcgan,
    read_keras,
)
from gandyn.explain.logformats.tables import (
    looks_mlflow_store,
    looks_table,
    merge_tables,
    read_mlflow_store,
    read_table,
    tag_of,
)
from gandyn.explain.logformats.tensorboard import looks_event_file, read_tensorboard
from gandyn.files import INPUT_LIMIT

__all__ = [
    "CANONICAL",
    "COLUMN_ALIASES",
    "FORCIBLE",
    "FORMATS",
    "LOG_LIMIT",
    "MIN_RECORDS",
    "LogError",
    "MissingSeriesError",
    "TrainingLog",
    "read_log",
    "unknown_canonical",
]

#: Values of :attr:`TrainingLog.source_format`; all but ``pattern`` can be forced with ``fmt``.
FORMATS = ("csv", "tsv", "keras", "pytorch-dcgan", "printed", "pattern", "jsonl", "tensorboard",
           "tensorboard-csv", "wandb-csv", "mlflow-csv", "mlflow")

#: Formats ``fmt`` can force (the exports are recognised inside ``csv``).
FORCIBLE = ("csv", "tsv", "keras", "pytorch-dcgan", "printed", "jsonl", "tensorboard", "mlflow")

#: Largest log read, in bytes (:func:`gandyn.files.read_input` refuses larger ones before
#: reading past it).
LOG_LIMIT = INPUT_LIMIT

#: Names recognised (case-insensitively, blanks and hyphens as ``_``) for each canonical name.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {"step": COUNTER_ALIASES["step"], **ALIASES}

#: How much of a log's head detection reads.
_DETECT_CHARS = 1 << 20
_DETECT_LINES = 2000

_EXPECTED = (f"expected {EXPECTED_KEYS} in printed lines, a CSV/TSV header or JSON keys, "
             "the Keras tutorial's '>N, d1=..., d2=... g=...' lines, or TensorBoard event "
             "files; or describe the lines with `pattern` (e.g. 'Gen/Dis Loss: {g_loss}/{d_loss}')")


def unknown_canonical(name: str) -> str:
    """Why ``name`` is not a canonical name, with the closest ones (one line)."""
    close = difflib.get_close_matches(name, CANONICAL, n=2, cutoff=0.5)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return (f"unknown canonical name {one_line(name)!r}{hint} "
            f"(known: {', '.join(CANONICAL)})")


def read_log(path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]], *,
             columns: Mapping[str, str] | None = None, fmt: str | None = None,
             pattern: str | None = None, pair: str | None = None) -> TrainingLog:
    """Read a GAN training log into a :class:`TrainingLog`.

    Parameters
    ----------
    path : str, path-like, or a sequence of them
        The log: a file (UTF-8 text, or a TensorBoard event file), a folder of
        TensorBoard event files, or ``"-"`` for standard input. Several files of
        one run (per-scalar exports such as ``d_loss.csv`` and ``g_loss.csv``)
        are merged on their step column.
    columns : mapping of str to str, optional
        Canonical name -> column (key, tag) of the log, over the automatic
        recognition for those names. Not for the strict ``keras`` and
        ``pytorch-dcgan`` printouts.
    fmt : str, optional
        Force a format, one of :data:`FORCIBLE`; detected from the content
        when None.
    pattern : str, optional
        A template for the record lines, such as
        ``'Gen/Dis Loss: {g_loss}/{d_loss}'`` (see
        :func:`gandyn.explain.logformats.printed.compile_template`).
    pair : str, optional
        The network pair to read in a log of several (CycleGAN's ``A`` or ``B``).

    Returns
    -------
    TrainingLog
        At least :data:`MIN_RECORDS` usable records.

    Raises
    ------
    LogError
        If the log is in no recognised format, holds no recognised loss (the
        message names what was expected), fewer than three usable records, a
        malformed line of a strict printout, text in a loss column, or
        ``columns``, ``pattern`` or ``pair`` do not fit it. One line naming the file.
    gandyn.errors.InputFileError
        If a file cannot be read: missing, a FIFO or a device, larger than
        :data:`gandyn.files.INPUT_LIMIT`, binary, not UTF-8.

    Notes
    -----
    ``step`` is the log's own iteration counter where it prints one: a
    counter that increases (``step``, ``iter``, ``Iteration [i/N]``,
    ``Progress/tick``); ``epoch * I + i`` for an in-epoch counter ``i/I``
    (``[Epoch e/E] [Batch i/I]``, the DCGAN example's ``[e/E][i/I]``) or with
    ``I`` estimated from the log when it prints no total (CycleGAN's
    ``epoch: e, iters: i``); the epoch; else the record's index. Steps that
    do not increase (a restarted run) fall back to the running index.
    """
    paths = [path] if isinstance(path, str | os.PathLike) else list(path)
    if not paths:
        raise LogError("no log given")
    label = ", ".join(os.fspath(p) for p in paths)
    if fmt is not None and fmt not in FORCIBLE:
        close = difflib.get_close_matches(fmt, FORCIBLE, n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise LogError(f"log {label}: unknown format {one_line(fmt)!r}{hint} "
                       f"(known: {', '.join(FORCIBLE)})")
    for name in columns or {}:
        if name not in CANONICAL:
            raise LogError(f"log {label}: {unknown_canonical(name)}")
    if len(paths) > 1:
        if pattern is not None:
            raise LogError(f"log {label}: `pattern` reads one log, not several")
        names = [os.fspath(p) for p in paths]
        tables = []
        for name in names:
            table = _read_one(name, columns, fmt, None)
            if not isinstance(table, Table):
                raise LogError(f"log {name}: a {table.source_format} printout cannot be merged "
                               "with other logs; give it alone")
            tables.append(table)
        return build_log(merge_tables(tables, names, label), label, columns=columns, pair=pair)
    result = _read_one(os.fspath(paths[0]), columns, fmt, pattern)
    if isinstance(result, TrainingLog):
        if columns:
            raise LogError(f"log {label}: `columns` apply to the other formats, but this is a "
                           f"{result.source_format} printout, read as its loop prints it")
        if pair is not None:
            raise LogError(f"log {label}: `pair` applies to logs of several networks, but this "
                           f"is a {result.source_format} printout")
        return result
    return build_log(result, label, columns=columns, pair=pair)


def _read_one(name: str, columns: Mapping[str, str] | None, fmt: str | None,
              pattern: str | None) -> Table | TrainingLog:
    """One log as a :class:`Table`, or a strict printout's :class:`TrainingLog`."""
    from gandyn.files import decode_text, read_input

    if name != "-" and os.path.isdir(name):
        if fmt not in (None, "tensorboard"):
            raise LogError(f"log {name}: a folder; only TensorBoard logs are folders")
        return read_tensorboard(Path(name), name)
    data = read_input(name, what="log", limit=LOG_LIMIT)
    if (fmt is None and looks_event_file(data)) or fmt == "tensorboard":
        if name == "-":
            raise LogError("log -: TensorBoard event files are read from a file or a folder, "
                           "not standard input")
        return read_tensorboard(Path(name), name)
    try:
        text = decode_text(data, what="log", name=name)
    except InputFileError as exc:
        raise LogError(str(exc)) from None
    if not text.strip():
        raise LogError(f"log {name}: empty file")
    if pattern is not None:
        return read_template(text, name, pattern)
    if fmt is None:
        # The head of the log tells its format: detection costs nothing on a long log.
        fmt = _detect(text, text[:_DETECT_CHARS].splitlines()[:_DETECT_LINES])
    tag = None if name == "-" else tag_of(name)
    wanted_names = set((columns or {}).values())

    def wanted(column: str) -> bool:
        return column in wanted_names or is_loss_key(column) or counter_role(column) is not None

    if fmt == "keras":
        return read_keras(text.splitlines(), name)
    if fmt == "pytorch-dcgan":
        return read_dcgan(text.splitlines(), name)
    if fmt == "jsonl":
        return read_json(text, name)
    if fmt == "mlflow":
        if tag is None:
            raise LogError("log -: an MLflow metric file names its metric in its file name; "
                           "give the file")
        return read_mlflow_store(text, name, tag)
    if fmt in ("csv", "tsv"):
        return read_table(text, name, wanted=wanted, tag=tag)
    if fmt == "printed":
        try:
            return read_printed(text, name)
        except LogError:
            raise LogError(f"log {name}: no recognised losses ({_EXPECTED})") from None
    raise LogError(f"log {name}: no recognised losses ({_EXPECTED})")


def _detect(text: str, lines: list[str]) -> str | None:
    """The format of a text log, from its content."""
    if looks_json(text):
        return "jsonl"
    n_dcgan = count_dcgan_lines(lines)
    n_keras = count_keras_lines(lines)
    if n_dcgan or n_keras:
        return "pytorch-dcgan" if n_dcgan >= n_keras else "keras"
    if looks_mlflow_store(lines):
        return "mlflow"
    if looks_table(lines):
        return "csv"
    if looks_printed(lines):
        return "printed"
    return None
