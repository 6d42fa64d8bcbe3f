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

A run over the memory budget is streamed (:func:`stream_trajectory`): each chunk of runs
is appended to a temporary file beside the output as it is simulated, and the file takes
its name once complete. The bytes are those :func:`write_trajectory` writes for the whole
run: CSV rows run by run; in the NPZ, ``x`` is written chunk by chunk (the run axis is
first, so chunks of runs are contiguous in C order) and ``logged``, which comes after it,
is spilled to an unnamed temporary file and copied in. JSON, one document, is not streamed.
"""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np

from gandyn import __version__
from gandyn.dynamics.trajectory import Trajectory
from gandyn.errors import SpecError
from gandyn.files import ZIP_DATE, npz_bytes, output_path, sidecar_path, write_files
from gandyn.jsondata import plain

if TYPE_CHECKING:
    from gandyn.runs.build import RunResult
    from gandyn.runs.outcome import RunSummary

__all__ = ["CSV_LOSSES", "FORMATS", "csv_blocks", "csv_header", "stream_trajectory",
           "trajectory_csv", "trajectory_meta", "write_trajectory"]

#: Loss columns of a CSV, in order.
CSV_LOSSES = ("d_real", "d_fake", "g_loss", "d_x", "d_gz")
FORMATS = (".csv", ".npz", ".json")


def trajectory_meta(traj: Trajectory | RunSummary, spec: dict[str, Any]) -> dict[str, Any]:
    """The provenance stored with a run: spec, version, names, divergence.

    From the run's trajectory, or from the summary of a run streamed in chunks
    (the same values).
    """
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
    return csv_header(traj) + "".join(csv_blocks(traj))


def csv_header(traj: Trajectory) -> str:
    """The CSV's first line: ``run,step,t``, the state's names and :data:`CSV_LOSSES`."""
    return ",".join(["run", "step", "t", *traj.state_names, *CSV_LOSSES]) + "\n"


#: Rows formatted at a time: the text of a chunk of runs is never held whole.
_CSV_BLOCK = 256


def csv_blocks(traj: Trajectory, first_run: int = 0) -> Iterator[str]:
    """The CSV rows of ``traj`` (no header) in blocks of text, its runs numbered from ``first_run``.

    Every value is written with ``repr``, so that it reads back as the same double.
    """
    columns = [traj.logged_names.index(n) if n in traj.logged_names else None for n in CSV_LOSSES]
    records = len(traj.t) if np.ndim(traj.t) == 1 else traj.t.shape[1]
    steps = [int(s) for s in traj.step]
    lines: list[str] = []
    for run in range(traj.n_runs):
        times = traj.t if np.ndim(traj.t) == 1 else traj.t[run]
        for i in range(records):
            losses = [repr(float(traj.logged[run, i, c])) if c is not None else "nan"
                      for c in columns]
            lines.append(",".join([str(first_run + run), str(steps[i]), repr(float(times[i])),
                                   *(repr(float(v)) for v in traj.x[run, i]), *losses]))
            if len(lines) >= _CSV_BLOCK:
                yield "\n".join(lines) + "\n"
                lines = []
    if lines:
        yield "\n".join(lines) + "\n"


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


#: Bytes copied at a time from the spill file into the NPZ.
_COPY_BLOCK = 2**16


def _zip_info(name: str, size: int) -> zipfile.ZipInfo:
    """The entry :func:`gandyn.files.npz_bytes` writes for ``name``, of ``size`` bytes."""
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.create_system = 3
    info.external_attr = 0o644 << 16
    info.compress_type = zipfile.ZIP_STORED
    info.file_size = size  # as writestr sets it: the header (ZIP64 or not) depends on it
    return info


def _npy_header(shape: tuple[int, ...]) -> bytes:
    """The ``.npy`` header :func:`numpy.lib.format.write_array` writes for float64 ``shape``."""
    buffer = io.BytesIO()
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(np.float64)),
              "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue()


class _NpzChunks:
    """Writes an NPZ run chunk by chunk into ``handle``, as :func:`npz_bytes` would whole."""

    def __init__(self, handle: BinaryIO, n_runs: int, folder: Path) -> None:
        self.archive = zipfile.ZipFile(handle, mode="w", compression=zipfile.ZIP_STORED)
        self.n_runs, self.folder = n_runs, folder
        self.x_member: Any = None
        self.spill: Any = None
        self.logged_shape: tuple[int, ...] = ()
        self.first: Trajectory | None = None

    def _member(self, name: str, value: np.ndarray[Any, Any]) -> None:
        entry = io.BytesIO()
        np.lib.format.write_array(entry, np.ascontiguousarray(value), allow_pickle=False)
        self.archive.writestr(_zip_info(f"{name}.npy", len(entry.getvalue())), entry.getvalue())

    def add(self, traj: Trajectory) -> None:
        if self.first is None:
            if np.ndim(traj.t) != 1:
                raise SpecError("a run with a clock per run cannot be streamed: lower "
                                "the number of runs or raise `max_memory`")
            self.first = traj
            self._member("step", traj.step)
            self._member("t", traj.t)
            shape = (self.n_runs, *traj.x.shape[1:])
            header = _npy_header(shape)
            size = len(header) + 8 * int(np.prod(shape))
            self.x_member = self.archive.open(_zip_info("x.npy", size), mode="w")
            self.x_member.write(header)
            self.logged_shape = (self.n_runs, *traj.logged.shape[1:])
            # Unnamed (removed by the system once closed, even if the process dies); closed
            # by :meth:`release`, which the writer calls whatever happens.
            self.spill = tempfile.TemporaryFile(dir=self.folder)  # noqa: SIM115
        self.x_member.write(np.ascontiguousarray(traj.x, dtype=np.float64).data.cast("B"))
        self.spill.write(np.ascontiguousarray(traj.logged, dtype=np.float64).data.cast("B"))

    def release(self) -> None:
        """Close the spill file (if open); idempotent."""
        if self.spill is not None:
            self.spill.close()

    def abandon(self) -> None:
        """Close the archive after a failure (the temporary file it wrote is removed)."""
        with contextlib.suppress(Exception):
            if self.x_member is not None and not self.x_member.closed:
                self.x_member.close()
        with contextlib.suppress(Exception):
            self.archive.close()

    def close(self, summary: RunSummary, meta_text: str) -> None:
        assert self.first is not None  # a run has at least one chunk
        self.x_member.close()
        header = _npy_header(self.logged_shape)
        size = len(header) + 8 * int(np.prod(self.logged_shape))
        with self.archive.open(_zip_info("logged.npy", size), mode="w") as member:
            member.write(header)
            self.spill.seek(0)
            while block := self.spill.read(_COPY_BLOCK):
                member.write(block)
        self.release()
        self._member("diverged", np.asarray(summary.diverged, dtype=np.bool_))
        self._member("diverged_at", np.asarray(summary.diverged_at, dtype=np.float64))
        self._member("state_names", np.array(summary.state_names))
        self._member("logged_names", np.array(summary.logged_names))
        self._member("meta", np.array(meta_text))
        self.archive.close()


def stream_trajectory(produce: Callable[[Callable[[Trajectory], None]], RunResult],
                      path: str | Path, spec: dict[str, Any], *, n_runs: int,
                      force: bool = False) -> tuple[list[Path], RunResult]:
    """Write a run chunk by chunk to ``path`` (``.csv`` or ``.npz``) as it is simulated.

    Parameters
    ----------
    produce
        Runs the simulation, handing each chunk's trajectory, in the order of
        the runs, to the function it is given, and returns the run's result
        (:func:`gandyn.runs.chunked.run_chunked` with that function as ``sink``).
    path, spec, force
        As for :func:`write_trajectory`; the files are the same, byte for byte.
    n_runs
        Runs in the batch (the NPZ's ``x`` is sized before its first chunk).

    Returns
    -------
    tuple
        The files written, and the result ``produce`` returned.

    Raises
    ------
    SpecError
        For a ``.json`` output (one document, not streamed: write ``.csv`` or ``.npz``).
    """
    target = output_path(path, option="out", formats=FORMATS)
    suffix = target.suffix.lower()
    if suffix == ".json":
        raise SpecError("a JSON run is one document, held whole in memory: over the memory "
                        "budget write `out` as .csv or .npz (streamed), or raise `max_memory`")
    done: dict[str, Any] = {}

    def meta_text(summary: RunSummary) -> str:
        if "meta" not in done:  # once: the NPZ holds it and the sidecar is it
            done["meta"] = json.dumps(trajectory_meta(summary, spec), indent=2) + "\n"
        return str(done["meta"])

    def write_run(handle: BinaryIO) -> None:
        if suffix == ".csv":
            def sink(traj: Trajectory) -> None:
                if "header" not in done:
                    handle.write(csv_header(traj).encode())
                    done["header"] = True
                first = done.get("runs", 0)
                for block in csv_blocks(traj, first_run=first):
                    handle.write(block.encode())
                done["runs"] = first + traj.n_runs

            done["result"] = produce(sink)
        else:
            chunks = _NpzChunks(handle, n_runs, target.parent)
            try:
                done["result"] = produce(chunks.add)
                summary = done["result"].run_summary()
                chunks.close(summary, meta_text(summary))
            except BaseException:
                chunks.abandon()
                raise
            finally:
                chunks.release()

    def write_sidecar(handle: BinaryIO) -> None:
        handle.write(meta_text(done["result"].run_summary()).encode())

    written = write_files({target: write_run, sidecar_path(target): write_sidecar}, force)
    return written, done["result"]
