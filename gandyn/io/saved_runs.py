"""Saved runs read back: the inverse of :func:`gandyn.io.trajectory_files.write_trajectory`.

``gandyn simulate --out run.csv|run.npz|run.json`` writes a
:class:`~gandyn.dynamics.trajectory.Trajectory` with its metadata (the spec that made
it, the gandyn version, the names of the columns, how each run ended);
:func:`read_run` reads such a file back, with its sidecar ``run.csv.meta.json``
(or ``run.meta.json``, the name earlier versions gave it) where the format
needs one, and checks that the two describe the same runs.

* NPZ: the arrays are read as stored (``float64`` and ``bool``), so the round
  trip is exact; the metadata is the ``meta`` entry inside the file. A
  sidecar, when present, must hold the same metadata.
* CSV: every number is written with :func:`repr`, the shortest text that
  reads back to the same ``float64``, so the round trip is exact as well for
  the columns the CSV has (a logged loss that is not one of
  :data:`gandyn.io.trajectory_files.CSV_LOSSES` is not written and cannot be read back). The
  metadata is in the sidecar; without it the runs are read as not diverged,
  with unknown method, and only the losses that are not ``nan`` throughout.
* JSON: the metadata and the arrays in one document; a non-finite number is
  stored as ``null`` and read back as ``nan``.

Every malformed input raises :class:`~gandyn.errors.SpecError` with one line
that names the file and the problem.

:func:`rebuild_field` derives the game a run's spec names again (derivations
are cached), for the vector field behind a phase portrait.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gandyn.dynamics.trajectory import Trajectory
from gandyn.errors import GandynError, SpecError
from gandyn.files import decode_text, legacy_sidecar_path, read_input, sidecar_path
from gandyn.io.trajectory_files import CSV_LOSSES, FORMATS

if TYPE_CHECKING:
    from gandyn.derivation.field import VectorField

__all__ = [
    "FieldUnavailable",
    "SavedRun",
    "parse_runs",
    "read_run",
    "read_trajectory",
    "rebuild_field",
    "select_runs",
]

_ARRAYS = ("step", "t", "x", "logged", "diverged", "diverged_at", "state_names", "logged_names")
_META_KEYS = ("spec", "method", "measure", "state_names", "logged_names", "n_runs", "diverged",
              "diverged_at", "message")


class FieldUnavailable(GandynError):  # noqa: N818  (a condition the caller reports, not a bug)
    """The run's vector field cannot be rebuilt (no spec, or the game file is gone)."""


@dataclass(frozen=True)
class SavedRun:
    """A run read from disk.

    Attributes
    ----------
    path
        The run file.
    trajectory
        The runs, as :func:`gandyn.io.trajectory_files.write_trajectory` was given them.
    meta
        The stored metadata (``spec``, ``gandyn_version``, ``method``, ...), in
        the order it was written, or ``None`` (a CSV without its sidecar).
    meta_path
        Where the metadata came from: the sidecar, or the run file itself
        (NPZ, JSON); ``None`` without metadata.
    """

    path: Path
    trajectory: Trajectory
    meta: dict[str, Any] | None
    meta_path: Path | None

    @property
    def spec(self) -> dict[str, Any] | None:
        """The stored run spec as plain data (:meth:`gandyn.runs.spec.RunSpec.to_dict`, or the
        flat form of earlier versions: :meth:`~gandyn.runs.spec.RunSpec.from_dict` reads both)."""
        return None if self.meta is None else self.meta["spec"]


# --- metadata ------------------------------------------------------------------------------------


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _parse_meta(text: str, where: str) -> dict[str, Any]:
    try:
        meta = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SpecError(f"{where}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    _check_meta(meta, where)
    result: dict[str, Any] = meta
    return result


def _is_number(value: Any) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


def _check_meta(meta: Any, where: str) -> None:
    """Raise unless ``meta`` has what :func:`gandyn.io.trajectory_files.trajectory_meta` writes."""
    if not isinstance(meta, dict):
        raise SpecError(f"{where}: the metadata must be a JSON object")
    missing = [key for key in _META_KEYS if key not in meta]
    if missing:
        raise SpecError(f"{where}: metadata without {missing[0]!r}; "
                        "is it a file gandyn simulate --out wrote?")
    for key in ("state_names", "logged_names"):
        names = meta[key]
        if not (isinstance(names, list) and names and all(isinstance(n, str) for n in names)):
            raise SpecError(f"{where}: {key!r} must be a non-empty list of names")
    n_runs = meta["n_runs"]
    if isinstance(n_runs, bool) or not isinstance(n_runs, int) or n_runs < 1:
        raise SpecError(f"{where}: 'n_runs' must be a positive integer")
    diverged, diverged_at = meta["diverged"], meta["diverged_at"]
    if not (isinstance(diverged, list) and len(diverged) == n_runs
            and all(isinstance(d, bool) for d in diverged)):
        raise SpecError(f"{where}: 'diverged' must list {n_runs} true/false values")
    if not (isinstance(diverged_at, list) and len(diverged_at) == n_runs
            and all(_is_number(d) for d in diverged_at)):
        raise SpecError(f"{where}: 'diverged_at' must list {n_runs} numbers or nulls")
    if not isinstance(meta["method"], dict):
        raise SpecError(f"{where}: 'method' must be an object")
    if meta["measure"] not in ("state", "loop"):
        raise SpecError(f"{where}: 'measure' must be 'state' or 'loop'")
    if not isinstance(meta["message"], str):
        raise SpecError(f"{where}: 'message' must be a string")
    spec = meta["spec"]
    if not isinstance(spec, dict):
        raise SpecError(f"{where}: 'spec' must be an object")
    from gandyn.runs.spec import RunSpec

    RunSpec.from_dict(spec, f"{where}: spec")  # the current form or an earlier one


def _text(path: Path, what: str) -> str:
    """The text of an input file (:func:`gandyn.files.read_input`, UTF-8 checked)."""
    return decode_text(read_input(path, what=what), what=what, name=str(path))


def _sidecar_of(path: Path) -> Path | None:
    """The sidecar beside ``path``: ``run.csv.meta.json``, else the ``run.meta.json`` earlier
    versions wrote; ``None`` if neither is there."""
    for side in (sidecar_path(path), legacy_sidecar_path(path)):
        if side.exists() or side.is_symlink():
            return side
    return None


def _read_sidecar(path: Path) -> tuple[Path, dict[str, Any]] | None:
    side = _sidecar_of(path)
    if side is None:
        return None
    return side, _parse_meta(_text(side, "sidecar"), str(side))


def _floats(values: Any, where: str) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Numbers (``null`` read as ``nan``) as float64, or a one-line error."""
    try:
        array = np.array(values, dtype=object)
        # numpy would also turn "1.5" and true into numbers: only JSON numbers and null pass
        if not set(map(type, array.ravel().tolist())) <= {int, float, type(None)}:
            raise TypeError
        return np.array(array, dtype=np.float64)  # None -> nan
    except (TypeError, ValueError):
        raise SpecError(f"{where} must hold numbers only") from None


# --- the three formats ---------------------------------------------------------------------------


def _from_arrays(arrays: Mapping[str, Any], where: str) -> Trajectory:
    """A trajectory from the arrays of a run file, with every shape checked."""
    missing = [key for key in _ARRAYS if key not in arrays]
    if missing:
        raise SpecError(f"{where}: no {missing[0]!r} array; is it a file gandyn simulate --out "
                        "wrote?")
    numeric = {}
    for key in ("step", "t", "x", "logged", "diverged_at"):
        value = arrays[key]
        if isinstance(value, np.ndarray) and value.dtype.kind in "fiu":
            numeric[key] = value if value.dtype == np.float64 else value.astype(np.float64)
        elif isinstance(value, np.ndarray) and value.dtype.kind not in "O":
            raise SpecError(f"{where}: {key!r} must hold numbers, not {value.dtype}")
        else:
            numeric[key] = _floats(value, f"{where}: {key!r}")
    diverged = np.asarray(arrays["diverged"])
    if diverged.dtype != np.bool_:
        if diverged.dtype == object and all(isinstance(d, bool) for d in diverged.ravel()):
            diverged = diverged.astype(np.bool_)
        else:
            raise SpecError(f"{where}: 'diverged' must hold true/false values")
    names = {}
    for key in ("state_names", "logged_names"):
        value = np.asarray(arrays[key])
        if value.ndim != 1 or value.size == 0 or not all(isinstance(v, str) for v in
                                                         value.tolist()):
            raise SpecError(f"{where}: {key!r} must be a non-empty list of names")
        names[key] = tuple(str(v) for v in value.tolist())
    x, logged, step, t = numeric["x"], numeric["logged"], numeric["step"], numeric["t"]
    n, k = len(names["state_names"]), len(names["logged_names"])
    if x.ndim != 3 or x.shape[2] != n or x.shape[0] < 1 or x.shape[1] < 1:
        raise SpecError(f"{where}: 'x' has shape {x.shape}, expected (runs, records, {n})")
    runs, records = x.shape[:2]
    expected = {"logged": (runs, records, k), "step": (records,), "t": (records,),
                "diverged": (runs,), "diverged_at": (runs,)}
    actual = {"logged": logged.shape, "step": step.shape, "t": t.shape,
              "diverged": diverged.shape, "diverged_at": numeric["diverged_at"].shape}
    for key, shape in expected.items():
        if actual[key] != shape:
            raise SpecError(f"{where}: {key!r} has shape {actual[key]}, expected {shape}")
    return Trajectory(state_names=names["state_names"], logged_names=names["logged_names"],
                      step=step, t=t, x=x, logged=logged, diverged=diverged,
                      diverged_at=numeric["diverged_at"])


def _with_meta(traj: Trajectory, meta: dict[str, Any], where: str) -> Trajectory:
    """``traj`` with the method, measure and message of ``meta``, after checking they agree."""
    if tuple(meta["state_names"]) != traj.state_names:
        raise SpecError(f"{where} does not match the run: state {', '.join(meta['state_names'])} "
                        f"but the data have {', '.join(traj.state_names)}")
    if tuple(meta["logged_names"]) != traj.logged_names:
        raise SpecError(f"{where} does not match the run: losses "
                        f"{', '.join(meta['logged_names'])} but the data have "
                        f"{', '.join(traj.logged_names)}")
    if meta["n_runs"] != traj.n_runs or list(traj.diverged) != meta["diverged"]:
        raise SpecError(f"{where} does not match the run: {meta['n_runs']} run(s) and their "
                        f"divergence recorded, the data have {traj.n_runs}")
    return replace(traj, method=dict(meta["method"]), measure=meta["measure"],
                   message=meta["message"])


def _read_npz(path: Path) -> tuple[Trajectory, dict[str, Any] | None]:
    where = str(path)
    content = io.BytesIO(read_input(path, what="run"))
    if not zipfile.is_zipfile(content):  # np.load would try to unpickle it
        raise SpecError(f"cannot read {path}: not an .npz archive")
    content.seek(0)
    try:
        with np.load(content, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise SpecError(f"cannot read {path}: {_one_line(str(exc)) or type(exc).__name__}"
                        ) from None
    traj = _from_arrays(arrays, where)
    if "meta" not in arrays:
        return traj, None
    meta_array = arrays["meta"]
    # one string; gandyn.files.npz_bytes stores it with shape (1,) (np.ascontiguousarray)
    if meta_array.size != 1 or meta_array.ndim > 1 or meta_array.dtype.kind != "U":
        raise SpecError(f"{where}: 'meta' must be one JSON string")
    return traj, _parse_meta(str(meta_array.reshape(())), f"{where} (meta)")


def _read_json(path: Path) -> tuple[Trajectory, dict[str, Any]]:
    where = str(path)
    text = _text(path, "run")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SpecError(f"{where}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(document, dict) or "meta" not in document:
        raise SpecError(f"{where}: not a run file (a JSON object with 'meta' and the arrays)")
    _check_meta(document["meta"], f"{where} (meta)")
    arrays = {key: document[key] for key in _ARRAYS if key in document}
    for key in ("state_names", "logged_names"):
        if key in arrays and isinstance(arrays[key], list):
            arrays[key] = np.array(arrays[key], dtype=object)
    if "diverged" in arrays:
        arrays["diverged"] = np.array(arrays["diverged"], dtype=object)
    return _from_arrays(arrays, where), document["meta"]


def _read_csv(path: Path, meta: dict[str, Any] | None, meta_where: str) -> Trajectory:
    where = str(path)
    text = _text(path, "run")
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise SpecError(f"cannot read {path}: {exc}") from None
    if not rows:
        raise SpecError(f"{where}: empty file")
    header = rows[0]
    if (len(header) < 3 + 1 + len(CSV_LOSSES) or header[:3] != ["run", "step", "t"]
            or tuple(header[-len(CSV_LOSSES):]) != CSV_LOSSES):
        raise SpecError(f"{where}: the header must be run,step,t,<state>,"
                        f"{','.join(CSV_LOSSES)}; found {','.join(header)}")
    state_names = tuple(header[3:-len(CSV_LOSSES)])
    body = rows[1:]
    if not body:
        raise SpecError(f"{where}: no data rows")
    values = np.empty((len(body), len(header)))
    for i, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise SpecError(f"{where} line {i}: {len(row)} columns, the header has {len(header)}")
        for j, text in enumerate(row):
            try:
                values[i - 2, j] = float(text)
            except ValueError:
                raise SpecError(f"{where} line {i}: {text!r} in column {header[j]!r} is not a "
                                "number") from None
    run = values[:, 0]
    n_runs = int(np.max(run)) + 1 if np.all(np.isfinite(run)) else 0
    if not (np.all(run == np.round(run)) and np.min(run) == 0 and n_runs >= 1
            and len(body) % n_runs == 0):
        raise SpecError(f"{where}: column 'run' must number the runs 0, 1, ... with the same "
                        "number of rows each")
    records = len(body) // n_runs
    table = values.reshape(n_runs, records, len(header))
    if not np.all(table[:, :, 0] == np.arange(n_runs)[:, None]):
        raise SpecError(f"{where}: rows must be grouped by run (all rows of run 0, then run 1, "
                        "...), each with the same number of rows")
    step, t = table[0, :, 1], table[0, :, 2]
    same = np.array_equal(table[:, :, 1], np.broadcast_to(step, table[:, :, 1].shape)) and \
        np.array_equal(table[:, :, 2], np.broadcast_to(t, table[:, :, 2].shape), equal_nan=True)
    if not same:
        raise SpecError(f"{where}: every run must have the same steps and times")
    n = len(state_names)
    losses = {name: table[:, :, 3 + n + i] for i, name in enumerate(CSV_LOSSES)}
    if meta is not None:
        absent = [name for name in meta["logged_names"] if name not in losses]
        if absent:
            raise SpecError(f"{meta_where} does not match the run: it lists the loss "
                            f"{absent[0]!r}, which a CSV has no column for")
        logged_names = tuple(meta["logged_names"])
    else:
        # Without the sidecar: the losses a game defines are those not written as nan.
        logged_names = tuple(name for name in CSV_LOSSES if not np.all(np.isnan(losses[name])))
        if not logged_names:
            raise SpecError(f"{where}: every loss column is nan")
    diverged = np.zeros(n_runs, dtype=np.bool_)
    diverged_at = np.full(n_runs, np.nan)
    if meta is not None and len(meta["diverged"]) == n_runs:
        diverged = np.array(meta["diverged"], dtype=np.bool_)
        diverged_at = _floats(meta["diverged_at"], f"{meta_where}: 'diverged_at'")
    return Trajectory(
        state_names=state_names, logged_names=logged_names,
        step=np.ascontiguousarray(step), t=np.ascontiguousarray(t),
        x=np.ascontiguousarray(table[:, :, 3:3 + n]),
        logged=np.stack([losses[name] for name in logged_names], axis=-1),
        diverged=diverged, diverged_at=diverged_at,
    )


def read_run(path: str | Path) -> SavedRun:
    """Read a run written by ``gandyn simulate --out`` (:mod:`gandyn.io.trajectory_files`).

    Parameters
    ----------
    path
        ``run.csv`` (with its sidecar ``run.csv.meta.json``, or ``run.meta.json``
        as earlier versions named it, if present), ``run.npz`` or ``run.json``.

    Returns
    -------
    SavedRun
        The trajectory and the stored metadata.

    Raises
    ------
    SpecError
        Unknown extension, malformed data (wrong columns or shapes, text where
        numbers belong), or a sidecar that does not match the data.
    InputFileError
        The file or its sidecar is missing, not a regular file, too large, or
        not UTF-8 text where text is expected.
    """
    source = Path(path)
    suffix = source.suffix.lower()
    if suffix not in FORMATS:
        raise SpecError(f"cannot read run {source}: unknown format {suffix or '(none)'!r} "
                        f"(use {', '.join(FORMATS)})")
    if suffix == ".json":
        traj, stored = _read_json(source)
        return SavedRun(source, _with_meta(traj, stored, f"{source} (meta)"), stored, source)
    side = _read_sidecar(source)
    meta: dict[str, Any] | None
    meta_path: Path | None
    if suffix == ".npz":
        traj, meta = _read_npz(source)
        meta_path = source if meta is not None else None
        if side is not None:
            if meta is not None and side[1] != meta:
                raise SpecError(f"{side[0]} does not match the metadata stored in {source}")
            if meta is None:
                meta, meta_path = side[1], side[0]
    else:
        meta, meta_path = (side[1], side[0]) if side is not None else (None, None)
        traj = _read_csv(source, meta, str(meta_path))
    if meta is None:
        return SavedRun(source, traj, None, None)
    return SavedRun(source, _with_meta(traj, meta, str(meta_path)), meta, meta_path)


def read_trajectory(path: str | Path) -> Trajectory:
    """The :class:`~gandyn.dynamics.trajectory.Trajectory` in ``path`` (see :func:`read_run`)."""
    return read_run(path).trajectory


# --- selecting runs, rebuilding the field --------------------------------------------------------


def parse_runs(text: str, n_runs: int) -> list[int]:
    """``"0,3,5"`` -> ``[0, 3, 5]``: run indices, each in ``range(n_runs)``, no repeats."""
    chosen: list[int] = []
    for item in text.split(","):
        item = item.strip()
        try:
            index = int(item)
        except ValueError:
            raise SpecError(f"`runs`: {item!r} is not a run number (give e.g. 0,2,5)") from None
        if not 0 <= index < n_runs:
            raise SpecError(f"`runs`: run {index} is out of range: the file has {n_runs} run(s) "
                            f"(0..{n_runs - 1})")
        if index in chosen:
            raise SpecError(f"`runs`: run {index} given twice")
        chosen.append(index)
    return chosen


def select_runs(traj: Trajectory, runs: Sequence[int]) -> Trajectory:
    """The runs ``runs`` of ``traj``, in that order."""
    index = np.asarray(list(runs), dtype=np.intp)
    if index.size == 0:
        raise SpecError("no run selected")
    return replace(traj, x=traj.x[index], logged=traj.logged[index],
                   diverged=traj.diverged[index], diverged_at=traj.diverged_at[index])


def _game_file(run: SavedRun, name: str) -> Path:
    """The custom game file a spec names: as given, else beside the run file."""
    given = Path(name)
    for candidate in (given, run.path.parent / given):
        if candidate.is_file():
            return candidate
    raise FieldUnavailable(f"the game file {name} of the stored spec is not found "
                           f"(nor beside {run.path.name})")


def rebuild_field(run: SavedRun) -> VectorField:
    """Derive the game the run's stored spec names (derivations are cached).

    Raises
    ------
    FieldUnavailable
        No metadata (a CSV without its sidecar), or the spec's custom game
        file is not found: the caller may draw without the field.
    SpecError
        The spec names something gandyn does not know, or a game whose state
        differs from the run's.
    """
    from gandyn.derivation.field import derive
    from gandyn.runs.build import build_game_part
    from gandyn.runs.spec import RunSpec

    if run.meta is None:
        raise FieldUnavailable(f"no {sidecar_path(run.path).name} beside {run.path.name}")
    where = str(run.meta_path)
    part = RunSpec.from_dict(run.meta["spec"], f"{where}: the stored spec").game
    if part.file is not None:
        part = replace(part, file=str(_game_file(run, part.file)))
    try:
        game = build_game_part(part)
    except GandynError as exc:
        raise SpecError(f"{where}: the stored spec: {exc}") from None
    names = tuple(s.name for s in game.state_symbols)
    if names != run.trajectory.state_names:
        raise SpecError(f"{where} does not match the run: its game has the state "
                        f"{', '.join(names)}, the data {', '.join(run.trajectory.state_names)}")
    field: VectorField = derive(game)
    return field
