"""Explain a training log: read it, clean it, apply its format's conventions, analyse the pair.

:func:`explain_log` is the library form of ``gandyn explain --log``: it reads
the log (:func:`gandyn.explain.logs.read_log`) and hands it to
:func:`explain_training_log`, which

* drops the records with a blank, NaN or infinite value in a series it uses
  (counted in the source, never an internal error);
* refuses values that the loss cannot produce (a negative cross-entropy, a
  probability outside ``[0, 1]``), naming the quantity and the step, so that a
  wrong ``--loss`` or a wrong column never yields conclusions;
* obtains ``d_fake`` (logged, estimated from a logged ``D(G(z))``, or, for a
  log with one combined discriminator loss, inferred from ``g_loss``, which
  leaves the law untested: :mod:`gandyn.explain.combined` then explains the
  swing of ``g_loss`` against that loss);
* takes the batch sizes and the measured-before-update pairing from the
  format's :class:`~gandyn.explain.conventions.LogConventions` unless given;
* returns an :class:`~gandyn.explain.explanation.Explanation`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from gandyn.arrays import Array
from gandyn.explain.combined import D_LOSS_KINDS, analyze_combined
from gandyn.explain.conventions import SAMPLED_TOLERANCE, conventions_for
from gandyn.explain.explanation import ExplainError, Explanation, relations_for
from gandyn.explain.logs import MissingSeriesError, TrainingLog, read_log
from gandyn.explain.series import analyze_series
from gandyn.files import shareable_name

__all__ = ["estimate_d_fake", "explain_log", "explain_training_log"]

#: How the source names the ``D(G(z))`` that ``d_fake`` was estimated from.
_ESTIMATED_FROM = {"d_gz_after": "after D's update", "d_gz": "as logged"}

#: Largest ``D(G(z))`` used in ``-log(1 - D(G(z)))``: a printed 1.0 stays finite.
_LARGEST_P = 1.0 - 1e-12

#: The canonical series the analysis uses (extra series such as an L1 loss are not).
_LOSS_SERIES = ("d_real", "d_fake", "g_loss", "d_x", "d_gz", "d_total", "d_gz_after")
#: Series that are probabilities (discriminator outputs averaged over a batch).
_PROBABILITIES = ("d_x", "d_gz", "d_gz_after")
#: Series that are cross-entropies, hence ``>= 0``, for the cross-entropy losses.
_CROSS_ENTROPIES = ("d_real", "d_fake", "d_total")
#: Rounding allowed below 0 or outside [0, 1] (printed values have a few decimals).
_PRINT_SLACK = 1e-6


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


def _finite_rows(series: Mapping[str, Array]) -> Array:
    keep = np.ones(next(iter(series.values())).size, dtype=bool)
    for values in series.values():
        keep &= np.isfinite(values)
    return keep


def _check_ranges(series: Mapping[str, Array], steps: Array, loss: str, label: str) -> None:
    """Refuse values the loss cannot produce, naming the first one and its step."""
    def refuse(name: str, index: int, what: str) -> None:
        raise ExplainError(
            f"log {label}: {name} = {series[name][index]:g} at step {steps[index]:g} {what}; "
            f"no conclusion is drawn (is --loss {loss} right, and is that column {name}?)")

    for name in _PROBABILITIES:
        if name in series:
            bad = np.nonzero((series[name] < -_PRINT_SLACK) | (series[name] > 1 + _PRINT_SLACK))[0]
            if bad.size:
                refuse(name, int(bad[0]), "is outside [0, 1], the range of a probability")
    for name in (*_CROSS_ENTROPIES, "g_loss"):
        if name not in series:
            continue
        values = series[name]
        if name == "g_loss" and loss == "minimax":
            bad = np.nonzero(values > _PRINT_SLACK)[0]
            what = "is positive, but the minimax generator loss log(1 - D(G(z))) is <= 0"
        else:
            bad = np.nonzero(values < -_PRINT_SLACK)[0]
            what = "is negative, but a cross-entropy is >= 0"
        if bad.size:
            refuse(name, int(bad[0]), what)


def explain_log(path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]], *,
                columns: Mapping[str, str] | None = None,
                fmt: str | None = None, pattern: str | None = None, pair: str | None = None,
                loss: str = "non-saturating",
                batch_sizes: tuple[int, int] | None = None,
                measured_before_update: bool | None = None, window: int | None = None,
                tol: float | None = None, d_loss: str = "sum") -> Explanation:
    """Explain the ``(d_fake, g_loss)`` pair of a training log.

    Parameters
    ----------
    path
        The log, in any format of :func:`gandyn.explain.logs.read_log` (several
        files of one run are merged on their step).
    columns, fmt, pattern, pair
        Column overrides, a forced format, a template for the record lines and
        the network pair, as for :func:`gandyn.explain.logs.read_log`.
    loss, batch_sizes, measured_before_update, window, tol, d_loss
        As for :func:`explain_training_log`.

    Returns
    -------
    Explanation

    Raises
    ------
    ExplainError
        For an unsupported loss, or values the loss cannot produce.
    LogError
        If the log cannot be read (see :func:`~gandyn.explain.logs.read_log`);
        :class:`~gandyn.explain.logs.MissingSeriesError` if it holds no
        generator loss, or no discriminator loss of any kind.
    """
    relations_for(loss)
    paths = [path] if isinstance(path, str | os.PathLike) else list(path)
    # The label goes into the report's source, which figures' sidecars carry: no
    # absolute paths (see gandyn.files.shareable_name).
    label = ", ".join(shareable_name(p) for p in paths)
    log = read_log(paths if len(paths) != 1 else paths[0], columns=columns, fmt=fmt,
                   pattern=pattern, pair=pair)
    return explain_training_log(log, label=label, loss=loss, batch_sizes=batch_sizes,
                                measured_before_update=measured_before_update, window=window,
                                tol=tol, d_loss=d_loss)


def explain_training_log(log: TrainingLog, *, label: str = "<log>",
                         loss: str = "non-saturating",
                         batch_sizes: tuple[int, int] | None = None,
                         measured_before_update: bool | None = None,
                         window: int | None = None, tol: float | None = None,
                         d_loss: str = "sum") -> Explanation:
    """Explain a :class:`~gandyn.explain.logs.TrainingLog` already read.

    Parameters
    ----------
    log
        The log's series under their canonical names.
    label
        How messages and the source name the log (its path).
    loss
        The generator loss: ``"non-saturating"`` or ``"minimax"`` (or an alias).
    batch_sizes
        ``(m_d, m_g)`` of independent minibatches behind ``d_fake`` and
        ``g_loss``; default: the format's convention.
    measured_before_update
        Pair ``g_loss[k]`` with ``d_fake[k + 1]``; default: the format's convention.
    window
        Moving-average window of the detrending (default: see
        :func:`gandyn.explain.analyze_series`).
    tol
        Consistency tolerance in loss units; default
        :data:`~gandyn.explain.conventions.SAMPLED_TOLERANCE`.
    d_loss
        How a combined discriminator loss (``d_total``) is formed: ``"sum"``
        (``d_real + d_fake``, the PyTorch DCGAN example) or ``"mean"`` (their
        half-sum, PyTorch-GAN).

    Returns
    -------
    Explanation
        Its source counts the records skipped for blank, NaN or infinite
        values (``skipped_rows``) and names the log's iterations (``first_step``,
        ``last_step``).
    """
    relations = relations_for(loss)
    if d_loss not in D_LOSS_KINDS:
        raise ExplainError(f"`d_loss` must be one of {', '.join(D_LOSS_KINDS)}, not {d_loss!r}")
    if log.g_loss is None:
        raise MissingSeriesError(f"log {label}: no generator loss column", "g_loss")
    conventions = conventions_for(log.source_format)
    used = {name: np.asarray(getattr(log, name), dtype=np.float64) for name in _LOSS_SERIES
            if getattr(log, name) is not None}
    keep = _finite_rows(used)
    skipped = int(keep.size - np.count_nonzero(keep))
    used = {name: values[keep] for name, values in used.items()}
    steps = np.asarray(log.step, dtype=np.float64)[keep]
    if steps.size < 3:
        raise ExplainError(f"log {label}: {steps.size} usable records after skipping {skipped} "
                           "with blank, NaN or infinite values (need d_fake or D(G(z)) or a "
                           "discriminator loss, and g_loss, on the same rows)")
    _check_ranges(used, steps, relations.loss, label)
    source: dict[str, Any] = {"kind": "log", "path": label, "format": log.source_format,
                              "rows": log.n_rows, "columns": log.columns_used,
                              "skipped_rows": skipped, "first_step": float(steps[0]),
                              "last_step": float(steps[-1])}
    if log.skipped:
        source["skipped"] = dict(log.skipped)
    if log.pair is not None:
        source["pair"] = log.pair
    g = used["g_loss"]
    d_gz_check = used.get("d_gz")
    d_fake_from = "logged"
    if "d_fake" in used:
        d_fake = used["d_fake"]
    elif any(name in used for name in conventions.d_fake_estimated_from):
        cleaned = _with_series(log, used)
        d_fake, source["d_fake"] = estimate_d_fake(cleaned, label)
        d_gz_check = None  # d_gz then defines d_fake and cannot check it
        d_fake_from = "d_gz"
    elif "d_total" in used and relations.loss == "non-saturating":
        d_fake = -np.log1p(-np.clip(np.exp(-g), 0.0, _LARGEST_P))
        source["d_fake"] = ("inferred from g_loss as -log(1 - exp(-g_loss)): the log has one "
                            "combined discriminator loss")
        d_fake_from = "g_loss"
    else:
        raise MissingSeriesError(f"log {label}: neither d_fake nor D(G(z)) is logged", "d_fake")
    if batch_sizes is None and conventions.batch_sizes is not None:
        batch_sizes = conventions.batch_sizes
        source["batch_sizes"] = conventions.batch_sizes_note
    if measured_before_update is None:
        measured_before_update = conventions.measured_before_update
    source["measured_before_update"] = measured_before_update
    report = analyze_series(d_fake, g, d_real=used.get("d_real"), d_gz=d_gz_check, loss=loss,
                            window=window, tol=SAMPLED_TOLERANCE if tol is None else tol,
                            batch_sizes=batch_sizes,
                            measured_before_update=measured_before_update,
                            d_fake_from=d_fake_from)
    combined = None
    if "d_total" in used and relations.loss == "non-saturating":
        source["d_loss"] = d_loss
        combined = analyze_combined(used["d_total"], g, kind=d_loss, window=report.window,
                                    d_x=used.get("d_x"), d_gz=used.get("d_gz"),
                                    d_gz_after=used.get("d_gz_after"))
    pair_steps = steps
    if measured_before_update:
        pair_steps, d_fake, g = steps[1:], d_fake[1:], g[:-1]
    return Explanation(source=source, relations=relations, report=report, dynamics=None,
                       steps=np.asarray(pair_steps), d_fake=np.asarray(d_fake),
                       g_loss=np.asarray(g), combined=combined)


def _with_series(log: TrainingLog, used: Mapping[str, Array]) -> TrainingLog:
    """``log`` with its loss series replaced by the cleaned ones (same format and columns)."""
    return replace(log, d_real=used.get("d_real"), d_fake=used.get("d_fake"),
                   g_loss=used.get("g_loss"), d_x=used.get("d_x"), d_gz=used.get("d_gz"),
                   d_total=used.get("d_total"), d_gz_after=used.get("d_gz_after"))
