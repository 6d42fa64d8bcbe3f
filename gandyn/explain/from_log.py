"""Explain a training log: read it, apply its format's conventions, analyse the pair.

:func:`explain_log` is the library form of ``gandyn explain --log``: it reads
the log (:func:`gandyn.explain.logs.read_log`), obtains ``d_fake`` (logged, or
estimated from a logged ``D(G(z))``), takes the batch sizes and the
measured-before-update pairing from the format's
:class:`~gandyn.explain.conventions.LogConventions` unless given, and returns
an :class:`~gandyn.explain.explanation.Explanation`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from gandyn.arrays import Array
from gandyn.explain.conventions import SAMPLED_TOLERANCE, conventions_for
from gandyn.explain.explanation import Explanation, relations_for
from gandyn.explain.logs import MissingSeriesError, TrainingLog, read_log
from gandyn.explain.series import analyze_series

__all__ = ["estimate_d_fake", "explain_log"]

#: How the source names the ``D(G(z))`` that ``d_fake`` was estimated from.
_ESTIMATED_FROM = {"d_gz_after": "after D's update", "d_gz": "as logged"}

#: Largest ``D(G(z))`` used in ``-log(1 - D(G(z)))``: a printed 1.0 stays finite.
_LARGEST_P = 1.0 - 1e-12


def estimate_d_fake(log: TrainingLog, label: str) -> tuple[Array, str]:
    """``d_fake = -log(1 - D(G(z)))`` from a logged ``D(G(z))``, and how it was obtained.

    The fields are tried in the order of the format's
    :attr:`~gandyn.explain.conventions.LogConventions.d_fake_estimated_from`.
    The logged ``D(G(z))`` is a batch mean, and ``-log(1 - mean D)`` is not the
    mean of ``-log(1 - D)`` (Jensen's inequality): the estimate is an
    effective value.

    Raises
    ------
    MissingSeriesError
        If the log holds none of those fields.
    """
    for name in conventions_for(log.source_format).d_fake_estimated_from:
        p = getattr(log, name)
        if p is not None:
            d_fake = -np.log1p(-np.clip(p, 0.0, _LARGEST_P))
            return d_fake, (f"estimated as -log(1 - D(G(z))) from the logged mean D(G(z)) "
                            f"{_ESTIMATED_FROM[name]}")
    raise MissingSeriesError(f"log {label}: neither d_fake nor D(G(z)) is logged", "d_fake")


def explain_log(path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]], *,
                columns: Mapping[str, str] | None = None,
                fmt: str | None = None, pattern: str | None = None, pair: str | None = None,
                loss: str = "non-saturating",
                batch_sizes: tuple[int, int] | None = None,
                measured_before_update: bool | None = None, window: int | None = None,
                tol: float | None = None) -> Explanation:
    """Explain the ``(d_fake, g_loss)`` pair of a training log.

    Parameters
    ----------
    path
        The log, in any format of :func:`gandyn.explain.logs.read_log` (several
        files of one run are merged on their step).
    columns, fmt, pattern, pair
        Column overrides, a forced format, a template for the record lines and
        the network pair, as for :func:`gandyn.explain.logs.read_log`.
    loss
        The generator loss: ``"non-saturating"`` or ``"minimax"`` (or an alias).
    batch_sizes
        ``(m_d, m_g)`` of independent minibatches behind ``d_fake`` and
        ``g_loss``; default: the format's convention (64, 128 for a Keras
        printout, none otherwise).
    measured_before_update
        Pair ``g_loss[k]`` with ``d_fake[k + 1]``; default: the format's
        convention (a Keras printout was, the others were not).
    window
        Moving-average window of the detrending (default: see
        :func:`gandyn.explain.analyze_series`).
    tol
        Consistency tolerance in loss units; default
        :data:`~gandyn.explain.conventions.SAMPLED_TOLERANCE` (a log's losses
        are batch means).

    Returns
    -------
    Explanation

    Raises
    ------
    ExplainError
        For an unsupported loss.
    LogError
        If the log cannot be read (see :func:`~gandyn.explain.logs.read_log`);
        :class:`~gandyn.explain.logs.MissingSeriesError` if it holds no
        generator loss, or neither ``d_fake`` nor ``D(G(z))``.
    """
    relations = relations_for(loss)
    paths = [path] if isinstance(path, str | os.PathLike) else list(path)
    label = ", ".join(os.fspath(p) for p in paths)
    log = read_log(paths if len(paths) != 1 else paths[0], columns=columns, fmt=fmt,
                   pattern=pattern, pair=pair)
    if log.g_loss is None:
        raise MissingSeriesError(f"log {label}: no generator loss column", "g_loss")
    conventions = conventions_for(log.source_format)
    source: dict[str, Any] = {"kind": "log", "path": label, "format": log.source_format,
                              "rows": log.n_rows, "columns": log.columns_used}
    if log.skipped:
        source["skipped"] = dict(log.skipped)
    if log.pair is not None:
        source["pair"] = log.pair
    d_fake, d_gz_check = log.d_fake, log.d_gz
    if d_fake is None:
        d_fake, source["d_fake"] = estimate_d_fake(log, label)
        # d_gz then defines d_fake and cannot check it.
        d_gz_check = None
    if batch_sizes is None and conventions.batch_sizes is not None:
        batch_sizes = conventions.batch_sizes
        source["batch_sizes"] = conventions.batch_sizes_note
    if measured_before_update is None:
        measured_before_update = conventions.measured_before_update
    source["measured_before_update"] = measured_before_update
    report = analyze_series(d_fake, log.g_loss, d_real=log.d_real, d_gz=d_gz_check, loss=loss,
                            window=window, tol=SAMPLED_TOLERANCE if tol is None else tol,
                            batch_sizes=batch_sizes,
                            measured_before_update=measured_before_update)
    steps, g_loss = log.step, log.g_loss
    if measured_before_update:
        steps, d_fake, g_loss = steps[1:], d_fake[1:], g_loss[:-1]
    return Explanation(source=source, relations=relations, report=report, dynamics=None,
                       steps=np.asarray(steps), d_fake=np.asarray(d_fake),
                       g_loss=np.asarray(g_loss))
