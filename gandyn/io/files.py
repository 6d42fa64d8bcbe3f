"""Trajectories in and out: CSV, NPZ and JSON, each with the spec that made it.

Layout of a saved run (``--out run.csv|run.npz|run.json``):

* CSV: one row per run and recorded step, columns
  ``run,step,t,<theta symbols>,<psi symbols>,d_real,d_fake,g_loss,d_x,d_gz``
  (a loss the game does not define is written as ``nan``), plus a sidecar
  ``run.meta.json`` with the spec, the gandyn version, and per-run
  divergence;
* NPZ: the arrays of :class:`~gandyn.dynamics.trajectory.Trajectory` under their names,
  plus ``meta`` (the same JSON as a string), no sidecar needed but one is
  written too for symmetry;
* JSON: everything in one document (``meta`` and the arrays as lists).

Nothing is overwritten unless ``force`` is true; every target is checked
before anything is written.
"""

from __future__ import annotations

import csv
import io
import json
import os
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gandyn import __version__
from gandyn.dynamics.trajectory import Trajectory
from gandyn.errors import OutputExistsError, SpecError
from gandyn.jsondata import plain

__all__ = [
    "CSV_LOSSES",
    "OutputExistsError",
    "check_writable",
    "figure_paths",
    "npz_bytes",
    "write_files",
    "write_trajectory",
]

#: Loss columns of a CSV, in order.
CSV_LOSSES = ("d_real", "d_fake", "g_loss", "d_x", "d_gz")
FORMATS = (".csv", ".npz", ".json")


def check_writable(paths: Sequence[Path], force: bool) -> None:
    """Raise before writing anything if a target exists (without force) or its folder is missing."""
    for path in paths:
        if path.exists() and not force:
            raise OutputExistsError(f"refusing to overwrite {path} (use --force)")
        if not path.parent.exists():
            raise SpecError(f"cannot write {path}: folder {path.parent} does not exist")


def write_files(contents: Mapping[Path, bytes], force: bool) -> list[Path]:
    """Write prepared file contents, refusing to overwrite unless ``force``.

    Everything is rendered to memory first and checked with
    :func:`check_writable`, so a failure here means a file appeared in the
    meantime or the disk refused: each file is opened exclusively (``xb``)
    without ``force``.

    Returns
    -------
    list of Path
        The files written, in order.
    """
    written: list[Path] = []
    for path, content in contents.items():
        try:
            with open(path, "wb" if force else "xb") as handle:
                handle.write(content)
        except FileExistsError:  # appeared since the check
            raise OutputExistsError(f"refusing to overwrite {path} (use --force)") from None
        except OSError as exc:
            raise SpecError(f"cannot write {path}: {exc.strerror or exc}") from None
        written.append(path)
    return written


def sidecar_path(path: Path) -> Path:
    """``run.csv`` -> ``run.meta.json``."""
    return path.with_name(path.stem + ".meta.json")


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


def _csv_text(traj: Trajectory) -> str:
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


#: The date stamped on every zip entry, so that equal data give identical bytes.
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def npz_bytes(arrays: Mapping[str, np.ndarray[Any, Any]]) -> bytes:
    """The bytes of an uncompressed ``.npz`` of ``arrays``, reproducible byte for byte.

    Like :func:`numpy.savez` (``numpy.load`` reads it), in the given order,
    but every zip entry carries the fixed date :data:`ZIP_DATE` and fixed
    permissions instead of the current time.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, mode="w", compression=zipfile.ZIP_STORED) as archive:
        for key, value in arrays.items():
            entry = io.BytesIO()
            np.lib.format.write_array(entry, np.ascontiguousarray(value), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=ZIP_DATE)
            info.create_system = 3  # Unix, whatever the platform writing it
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_STORED
            archive.writestr(info, entry.getvalue())
    return buffer.getvalue()


def figure_paths(path: str | os.PathLike[str]) -> dict[str, Path]:
    """The files a figure ``path`` produces: ``figure``, ``json`` (``<stem>.json``) and
    ``data`` (``<stem>.data.npz``)."""
    p = Path(path)
    return {"figure": p, "json": p.with_name(p.stem + ".json"),
            "data": p.with_name(p.stem + ".data.npz")}


def write_trajectory(traj: Trajectory, path: str | Path, spec: dict[str, Any],
                     force: bool = False) -> list[Path]:
    """Write ``traj`` to ``path`` (format by extension) with its metadata.

    Returns
    -------
    list of Path
        The files written.
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in FORMATS:
        raise SpecError(f"--out {target}: unknown format {suffix or '(none)'!r} "
                        f"(use {', '.join(FORMATS)})")
    meta = trajectory_meta(traj, spec)
    # Insertion order, not sorted keys: `gandyn plot` puts the spec and method back into a
    # figure's metadata, byte for byte as `simulate --plot` wrote them.
    meta_text = json.dumps(meta, indent=2) + "\n"
    if suffix == ".json":
        check_writable([target], force)
        document = {"meta": meta, **plain(_arrays(traj))}
        target.write_text(json.dumps(document) + "\n")
        return [target]
    sidecar = sidecar_path(target)
    check_writable([target, sidecar], force)
    if suffix == ".csv":
        target.write_text(_csv_text(traj))
    else:
        arrays = _arrays(traj)
        arrays["meta"] = np.array(meta_text)
        target.write_bytes(npz_bytes(arrays))
    sidecar.write_text(meta_text)
    return [target, sidecar]
