"""From a :class:`~gandyn.explain.logformats.base.Table` of named columns to a TrainingLog.

:func:`build_log` decides which column is which canonical series (the user's
``columns`` first, then the network ``pair``, then the names of
:mod:`gandyn.explain.logformats.names`), derives the step from the log's own
counters (:func:`derive_step`), keeps every other numeric column as an extra
series, and lets :func:`~gandyn.explain.logformats.base.assemble` drop and count
the unusable rows.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping

import numpy as np

from gandyn.arrays import Array
from gandyn.explain.logformats.base import LogError, Table, TrainingLog, assemble, one_line
from gandyn.explain.logformats.names import (
    canonical_of,
    counter_role,
    find_pairs,
    normalize_key,
)

__all__ = ["EXPECTED_KEYS", "build_log", "derive_step"]

#: What a log must hold, in words, for the messages that find nothing.
EXPECTED_KEYS = ("a generator and a discriminator loss under a known name (Loss_D/Loss_G, "
                 "d_loss/g_loss, D loss/G loss, D_real/D_fake/G_GAN, errD/errG, "
                 "Discriminator_loss/Generator_loss, critic loss, d1/d2/g, ...)")

_LIST_MAX = 20


def _name_list(names: list[str]) -> str:
    shown = ", ".join(one_line(n) for n in names[:_LIST_MAX])
    return shown + (", ..." if len(names) > _LIST_MAX else "")


def _find_column(names: list[str], wanted: str, label: str, what: str) -> int:
    if wanted in names:
        return names.index(wanted)
    folded = [i for i, n in enumerate(names) if n.casefold() == wanted.casefold()]
    if len(folded) == 1:
        return folded[0]
    close = difflib.get_close_matches(wanted, names, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise LogError(f"log {label}: {what} {one_line(wanted)!r} not in the log "
                   f"({what}s: {_name_list(names)}){hint}")


def _choose_pair(names: list[str], pair: str | None, label: str,
                 taken: set[int]) -> tuple[dict[str, int], str | None]:
    """Canonical -> column of the chosen network pair, and the pair's name."""
    pairs = find_pairs(n for i, n in enumerate(names) if i not in taken)
    if not pairs:
        if pair is not None:
            raise LogError(f"log {label}: `pair` {one_line(pair)!r} given, but the log holds "
                           "the losses of one network pair (pairs are suffixes such as "
                           "CycleGAN's D_A/G_A and D_B/G_B)")
        return {}, None
    listing = "; ".join(f"{s} ({v['d']}, {v['g']})" for s, v in pairs.items())
    if pair is None:
        raise LogError(f"log {label}: the log holds the losses of several networks, "
                       f"pairs {listing}; choose one with `pair` (one of "
                       f"{', '.join(pairs)})")
    matches = [s for s in pairs if s.casefold() == pair.strip().casefold()]
    if not matches:
        raise LogError(f"log {label}: no pair {one_line(pair)!r} in the log (pairs {listing})")
    chosen = pairs[matches[0]]
    return {"d_total": names.index(chosen["d"]), "g_loss": names.index(chosen["g"])}, matches[0]


def derive_step(table: Table, counters: Mapping[str, int]) -> tuple[Array, str]:
    """The step of every row from the log's counters, and how it was obtained.

    Parameters
    ----------
    table
        The columns read.
    counters
        Column name -> index of every counter column, in the log's order.

    Returns
    -------
    numpy.ndarray, str
        In order of preference: a counter that increases strictly (a global
        step); ``epoch * I + i`` for an in-epoch counter printed as ``i/I``;
        ``epoch * L + i`` for one printed without its total, ``L`` estimated as
        the largest ``i`` plus the smallest increase of ``i`` within an epoch;
        the epoch itself; else the row index 0, 1, ...
    """
    n = table.n_rows
    roles = {name: table.kinds.get(name) or counter_role(name) for name in counters}
    steps = [c for c in counters if roles[c] == "step"]
    epochs = [c for c in counters if roles[c] == "epoch"]
    if steps and epochs:
        epoch = table.values[:, counters[epochs[0]]]
        total = table.totals.get(steps[0])
        if total is not None and bool(np.all(np.isfinite(total))) and bool(
                np.all(np.isfinite(epoch))):
            return _compose(table, counters, steps[0], epochs[0])
    for name in steps:
        values = table.values[:, counters[name]]
        finite = values[np.isfinite(values)]
        if finite.size == n and (n < 2 or bool(np.all(np.diff(finite) > 0))):
            return values.copy(), name
    if steps and epochs:
        return _compose(table, counters, steps[0], epochs[0])
    for name in epochs:
        values = table.values[:, counters[name]]
        if np.all(np.isfinite(values)) and (n < 2 or bool(np.all(np.diff(values) > 0))):
            return values.copy(), name
    if steps:
        return table.values[:, counters[steps[0]]].copy(), steps[0]
    return np.arange(n, dtype=np.float64), "row index"


def _compose(table: Table, counters: Mapping[str, int], name: str,
             epoch_name: str) -> tuple[Array, str]:
    """``epoch * I + i`` (``I`` printed, or estimated) from an in-epoch counter."""
    i = table.values[:, counters[name]]
    epoch = table.values[:, counters[epoch_name]]
    total = table.totals.get(name)
    if total is not None and bool(np.all(np.isfinite(total))):
        size = float(total[0]) if bool(np.all(total == total[0])) else None
        how = (f"{epoch_name} * {size:g} + {name}" if size is not None
               else f"{epoch_name} * total + {name}")
        return epoch * total + i, how
    same_epoch = np.diff(epoch) == 0
    rises = np.diff(i)[same_epoch]
    rises = rises[rises > 0]
    length = float(np.max(i)) + (float(np.min(rises)) if rises.size else 1.0)
    return (epoch * length + i,
            f"{epoch_name} * {length:g} + {name} ({length:g}: the epoch's length estimated "
            "from the log)")


def _without_rows(table: Table, drop: np.ndarray, reason: str) -> Table:
    """``table`` without the rows of ``drop``, counted under ``reason``."""
    keep = ~drop
    skipped = dict(table.skipped)
    skipped[reason] = skipped.get(reason, 0) + int(drop.sum())
    return Table(names=table.names, values=table.values[keep], blank=table.blank[keep],
                 fmt=table.fmt, skipped=skipped,
                 totals={k: v[keep] for k, v in table.totals.items()}, kinds=table.kinds)


def build_log(table: Table, label: str, *, columns: Mapping[str, str] | None = None,
              pair: str | None = None) -> TrainingLog:
    """Name the columns of ``table`` and build the :class:`TrainingLog`.

    Parameters
    ----------
    table
        The columns a reader found.
    label
        The log's name, for messages.
    columns
        Canonical name -> column (key, tag) of the log, over the automatic names.
    pair
        The network pair to read in a log of several (a suffix such as ``A``).

    Raises
    ------
    LogError
        If a named column is not in the log, two columns look like the same
        series, the log holds several networks and no ``pair`` is given, or it
        holds no recognised loss.
    """
    names = table.names
    mapping: dict[str, int] = {}
    for canonical, wanted in (columns or {}).items():
        mapping[canonical] = _find_column(names, wanted, label, "column")
    taken = set(mapping.values())
    pair_map, chosen = _choose_pair(names, pair, label, taken)
    for canonical, index in pair_map.items():
        if canonical not in mapping:
            mapping[canonical] = index
            taken.add(index)
    counters: dict[str, int] = {}
    forced_step = (columns or {}).get("step")
    for index, name in enumerate(names):
        if index in taken:
            continue
        if name.endswith("#2"):
            base = name[:-2]
            if canonical_of(base) == "d_gz" and "d_gz_after" not in mapping:
                mapping["d_gz_after"] = index
                taken.add(index)
            continue
        if table.kinds.get(name) or counter_role(name):
            counters[name] = index
            taken.add(index)
            continue
        found = canonical_of(name)
        if found is None:
            continue
        canonical = found
        if canonical in mapping:
            if canonical in (columns or {}):
                continue  # the user chose this series' column; the alias stays an extra
            other = names[mapping[canonical]]
            if normalize_key(name) == "l_" + normalize_key(other):
                # BasicSR/ESRGAN print the losses as l_d_real, l_d_fake and the discriminator's
                # mean outputs as D_real, D_fake: the l_ twin is the loss.
                mapping[canonical] = index
                taken.discard(names.index(other))
                taken.add(index)
                continue
            if normalize_key(other) == "l_" + normalize_key(name):
                continue
            if normalize_key(other) != normalize_key(name):
                raise LogError(f"log {label}: columns {other!r} and {name!r} both look like "
                               f"{canonical}; choose one with `columns` {canonical}=NAME")
            continue
        mapping[canonical] = index
        taken.add(index)
    losses = {c: i for c, i in mapping.items() if c != "step"}
    if not losses:
        raise LogError(f"log {label}: no recognised losses among its "
                       f"{'keys' if table.fmt not in ('csv', 'tsv') else 'columns'} "
                       f"({_name_list([n for n in names if not n.endswith('#2')])}); expected "
                       f"{EXPECTED_KEYS}, or name them with `columns` (or `pattern`)")
    if counters and forced_step is None:
        # Records printed without the counters every other record has (DCGAN-tensorflow's
        # "[Sample] d_loss: ..." evaluations) are of another kind: leave them out, counted.
        counter_blank = np.asarray(table.blank[:, list(counters.values())].any(axis=1))
        if counter_blank.any() and not counter_blank.all():
            table = _without_rows(table, counter_blank, "records without the log's counters")
    if forced_step is not None:
        index = mapping.pop("step")
        step, step_name = table.values[:, index].copy(), names[index]
    else:
        step, step_name = derive_step(table, counters)
    series = {c: (names[i], table.values[:, i], table.blank[:, i]) for c, i in losses.items()}
    used = set(losses.values()) | set(counters.values()) | set(mapping.values())
    extra = {name: table.values[:, i] for i, name in enumerate(names)
             if i not in used and not name.endswith("#2")}
    return assemble(label, table.fmt, step, step_name, series, extra, table.skipped,
                    pair=chosen)
