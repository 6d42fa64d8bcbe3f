"""Trajectories in and out: CSV, NPZ and JSON, each with the spec that made it.

Layout of a saved run (``--out run.csv|run.npz|run.json``):

* CSV: one row per run and recorded step, columns
  ``run,step,t,<theta symbols>,<psi symbols>,d_real,d_fake,g_loss,d_x,d_gz``
  (a loss the game does not define is written as ``nan``), plus a sidecar
  ``run.csv.meta.json`` with the spec, the gandyn version, and per-run
  divergence;
* NPZ: the arrays of :class:`~gandyn.dynamics.trajectory.Trajectory` under their names,
  plus ``meta`` (the same JSON as a string), no sidecar needed but one is
  written too for symmetry;
* JSON: everything in one document (``meta`` and the arrays as lists).

Nothing is overwritten unless ``force`` is true, and every file is written whole or not
at all (:func:`gandyn.files.write_files`).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from gandyn import __version__
from gandyn.dynamics.trajectory import Trajectory
from gandyn.files import npz_bytes, output_path, sidecar_path, write_files
from gandyn.jsondata import plain

__all__ = ["CSV_LOSSES", "FORMATS", "trajectory_csv", "trajectory_meta", "write_trajectory"]

#: Loss columns of a CSV, in order.
CSV_LOSSES = ("d_real", "d_fake", "g_loss", "d_x", "d_gz")
FORMATS = (".csv", ".npz", ".json")


def trajectory_meta(traj: Trajectory, spec: dict[str, Any]) -> dict[str, Any]:
    """The provenance stored with a run: spec, version, names, divergence."""
    meta: dict[str, Any] = plain({
        "gandyn_version": __version__,
        "spec": spec,
        "method": traj.method,
        "measure": traj.measure,
        "state_names": list(traj.state_names),
        "logged_names": list(traj.logged_names),
        "n_runs": traj.n_runs,
        "diverged": traj.diverged,
        "diverged_at": traj.diverged_at,
        "message": traj.message,
    })
    return meta


def trajectory_csv(traj: Trajectory) -> str:
    """The CSV text of ``traj``, as ``--out run.csv`` writes it (``--out -`` prints it)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["run", "step", "t", *traj.state_names, *CSV_LOSSES])
    columns = [traj.logged_names.index(n) if n in traj.logged_names else None for n in CSV_LOSSES]
    for run in range(traj.n_runs):
        for i in range(len(traj.t)):
            losses = [repr(float(traj.logged[run, i, c])) if c is not None else "nan"
                      for c in columns]
            writer.writerow([run, int(traj.step[i]), repr(float(traj.t[i])),
                             *(repr(float(v)) for v in traj.x[run, i]), *losses])
    return buffer.getvalue()


def _arrays(traj: Trajectory) -> dict[str, np.ndarray[Any, Any]]:
    return {
        "step": traj.step,
        "t": traj.t,
        "x": traj.x,
        "logged": traj.logged,
        "diverged": traj.diverged,
        "diverged_at": traj.diverged_at,
        "state_names": np.array(traj.state_names),
        "logged_names": np.array(traj.logged_names),
    }


def write_trajectory(traj: Trajectory, path: str | Path, spec: dict[str, Any],
                     force: bool = False) -> list[Path]:
    """Write ``traj`` to ``path`` (format by extension) with its metadata.

    Returns
    -------
    list of Path
        The files written.
    """
    target = output_path(path, option="out", formats=FORMATS)
    suffix = target.suffix.lower()
    meta = trajectory_meta(traj, spec)
    # Insertion order, not sorted keys: `gandyn plot` puts the spec and method back into a
    # figure's metadata, byte for byte as `simulate --plot` wrote them.
    meta_text = json.dumps(meta, indent=2) + "\n"
    if suffix == ".json":
        document = {"meta": meta, **plain(_arrays(traj))}
        return write_files({target: (json.dumps(document) + "\n").encode()}, force)
    if suffix == ".csv":
        content = trajectory_csv(traj).encode()
    else:
        arrays = _arrays(traj)
        arrays["meta"] = np.array(meta_text)
        content = npz_bytes(arrays)
    return write_files({target: content, sidecar_path(target): meta_text.encode()}, force)
