"""The output of a sweep: the JSON sidecar, CSV and NPZ files, the printed summary.

A file holds one row (CSV) or array entry (NPZ) per cell: a column per axis,
the verdict, then :data:`MEASURES`. The sidecar ``map.csv.meta.json``
(:func:`sweep_meta`) records the spec, the plan and its digest, the verdict
rules with their thresholds (:mod:`gandyn.sweeps.chunk`), the counts, the
agreement with the linear prediction and how the sweep ran.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gandyn.equilibria.maps import MAP_MARGINAL_TOL
from gandyn.sweeps.chunk import VERDICTS, _engine

if TYPE_CHECKING:
    from gandyn.sweeps.execution import SweepResult

__all__ = ["FORMATS", "MEASURES", "summary_dict", "summary_text", "sweep_csv", "sweep_meta",
           "write_sweep"]

#: The file formats of a sweep's cells, by extension.
FORMATS: tuple[str, ...] = (".csv", ".npz")

#: The measures recorded per cell, in output order after the axes and the verdict.
MEASURES: tuple[str, ...] = ("decided_at", "distance", "g_loss_amplitude",
                             "d_fake_amplitude", "spectral_radius", "linear")


def sweep_meta(result: SweepResult, spec: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON sidecar of a sweep: spec, plan, verdict rules, counts, provenance."""
    from gandyn import __version__
    from gandyn.jsondata import plain

    plan = result.plan
    g = 1 + plan.growth
    rules = [  # the first that applies decides
        f"diverged: max |x_i| above max_norm = {plan.max_norm:g}, or non-finite",
        f"converged: distance to the equilibrium below tol = {plan.tol:g} at every step of "
        f"the last third of the final window (window = {plan.window} steps)",
        f"diverged: r_1 and r_2 > {g:g}, r_j = the largest distance over the window's "
        "third j + 1 divided by the largest over its third j",
        f"converged: r_1 and r_2 < 1/{g:g} and the run ends closer to the equilibrium "
        "than it started",
        "cycling: otherwise (bounded, neither shrinking nor growing)",
    ]
    notes = {
        "decided_at": "first step from which the verdict holds: the step that left the "
                      "max-norm ball, else the first step from which the run stays on the "
                      "side of the tolerance ball where it ends",
        "linear": "spectral radius of the map's Jacobian at the equilibrium (buffers at their "
                  f"fixed-point values): stable below 1, unstable above, marginal within "
                  f"{MAP_MARGINAL_TOL:g} of 1 (the linear test is inconclusive; not compared "
                  "with the verdict), unknown without an isolated equilibrium",
        "amplitude": "half the range of the loss over the last third of the final window",
    }
    meta: dict[str, Any] = plain({
        "gandyn_version": __version__,
        "kind": "sweep",
        "spec": dict(spec),
        "plan": plan.to_dict(),
        "digest": plan.digest(),
        "columns": [*result.axis_values, "verdict", *MEASURES],
        "shape": list(plan.shape),
        "n_cells": plan.n_cells,
        "verdicts": list(VERDICTS),
        "verdict_rules": rules,
        "measure_notes": notes,
        **result.summary(),
        "execution": result.execution,
    })
    return meta


def _csv_lines(result: SweepResult) -> Iterator[str]:
    names = [*result.axis_values, "verdict", *MEASURES]
    yield ",".join(names) + "\n"
    verdicts = result.verdict_names
    linear = result.linear
    axes = [result.axis_values[n] for n in result.axis_values]
    m = result.measures
    for i in range(len(verdicts)):
        row = [repr(float(a[i])) for a in axes]
        row.append(str(verdicts[i]))
        row.append(str(int(m["decided_at"][i])))
        row += [repr(float(m[k][i])) for k in ("distance", "g_loss_amplitude",
                                                 "d_fake_amplitude", "spectral_radius")]
        row.append(str(linear[i]))
        yield ",".join(row) + "\n"


def sweep_csv(result: SweepResult) -> str:
    """The CSV text of a sweep's cells, as ``--out map.csv`` writes it (``--out -`` prints it)."""
    return "".join(_csv_lines(result))


def write_sweep(result: SweepResult, path: str | os.PathLike[str], spec: Mapping[str, Any],
                force: bool = False) -> list[Path]:
    """Write a sweep to ``.csv`` or ``.npz`` with its sidecar (``map.csv.meta.json``).

    One row (CSV) or array entry (NPZ) per cell: a column per axis under its
    command-line name, ``verdict`` (``converged``, ``cycling``, ``diverged``),
    then :data:`MEASURES` (``linear`` is ``stable``, ``marginal``,
    ``unstable`` or ``unknown``). The NPZ also holds ``meta`` (the sidecar's JSON).

    Both files are written whole or not at all, and not over existing files
    unless ``force`` (:func:`gandyn.files.write_files`).

    Returns
    -------
    list of Path
        The files written.
    """
    from gandyn.files import npz_bytes, output_path, sidecar_path, write_files

    target = output_path(path, option="out", formats=FORMATS)
    meta_text = json.dumps(sweep_meta(result, spec), indent=2, sort_keys=True) + "\n"
    if target.suffix.lower() == ".csv":
        content = sweep_csv(result).encode()
    else:
        arrays: dict[str, np.ndarray[Any, Any]] = dict(result.axis_values)
        arrays["verdict"] = result.verdict_names
        arrays.update({k: result.measures[k] for k in MEASURES if k != "linear"})
        arrays["linear"] = result.linear
        arrays["meta"] = np.array(meta_text)
        content = npz_bytes(arrays)
    return write_files({target: content, sidecar_path(target): meta_text.encode()}, force)


def summary_text(result: SweepResult) -> str:
    """A few lines: what was swept, the verdict counts, the agreement with the linear map."""
    plan = result.plan
    game = _engine(plan).vf.game
    loss = game.loss.name if game.loss is not None else "direct costs"
    axes = ", ".join(f"{a.name} {a.count}" for a in plan.axes)
    counts = result.counts()
    agree, compared = result.agreement()
    lines = [
        f"{game.name} / {loss} / {plan.optimizer}: {plan.n_cells} cells ({axes}), "
        f"{plan.steps} steps",
        "verdicts: " + ", ".join(f"{name} {counts[name]}" for name in VERDICTS),
    ]
    marginal = int(np.sum(result.linear == "marginal"))
    marginal_text = (f"; {marginal} {'cell' if marginal == 1 else 'cells'} marginal "
                     f"(spectral radius 1 within "
                     f"{MAP_MARGINAL_TOL:g}: the linear test is inconclusive)" if marginal else "")
    if compared:
        lines.append(f"linear prediction (spectral radius < 1: converged) agrees on {agree} "
                     f"of {compared} cells{marginal_text}")
    elif marginal:
        lines.append(f"linear prediction: inconclusive{marginal_text}")
    else:
        lines.append("linear prediction: none (no isolated equilibrium)")
    return "\n".join(lines)


def summary_dict(result: SweepResult) -> dict[str, Any]:
    """The summary of :func:`summary_text` as JSON-able data (``gandyn sweep --json``).

    Returns
    -------
    dict
        ``game``, ``loss`` (``None`` for direct costs), ``optimizer``,
        ``steps``, ``n_cells``, ``axes`` (each axis's ``name``, ``low``,
        ``high``, ``count``, ``log``), ``counts`` (cells per verdict),
        ``agree_with_linear`` and ``compared_with_linear``.
    """
    from gandyn.jsondata import plain

    plan = result.plan
    game = _engine(plan).vf.game
    document: dict[str, Any] = plain({
        "game": game.name,
        "loss": game.loss.name if game.loss is not None else None,
        "optimizer": plan.optimizer,
        "steps": plan.steps,
        "n_cells": plan.n_cells,
        "axes": [{"name": a.name, "low": a.low, "high": a.high, "count": a.count,
                  "log": a.log} for a in plan.axes],
        **result.summary(),
    })
    return document
