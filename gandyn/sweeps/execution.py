"""Running a sweep: chunk by chunk, here, in local workers or on Dask.

Cells are processed in chunks (:func:`gandyn.sweeps.chunk.simulate_chunk`).
Chunks run in this process, in local worker processes
(:class:`concurrent.futures.ProcessPoolExecutor`) or on a Dask distributed
cluster; a cell's result does not depend on where its chunk ran. With a chunk
folder (:func:`prepare_chunk_dir`), each finished chunk is written there at
once, tagged with the plan's digest, and an interrupted sweep resumes from
the chunks it finished. What a worker runs (:func:`_chunk_task` on a
:class:`~gandyn.sweeps.plan.SweepPlan`) is defined at module level, so it
pickles by reference.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, cast

import numpy as np

from gandyn.arrays import Array
from gandyn.errors import SpecError
from gandyn.sweeps.chunk import VERDICTS, simulate_chunk
from gandyn.sweeps.plan import SweepPlan, SweepSpec, make_plan
from gandyn.tables import Tabular

__all__ = ["SweepResult", "prepare_chunk_dir", "run_sweep", "sweep"]


@dataclass(frozen=True)
class SweepResult(Tabular):
    """The cells of a finished sweep.

    Attributes
    ----------
    plan
        The sweep.
    axis_values
        Per axis (command-line name), each cell's value, ``(n_cells,)``.
    verdict
        Codes into :data:`VERDICTS`, ``(n_cells,)``.
    measures
        ``decided_at``, ``distance``, ``g_loss_amplitude``, ``d_fake_amplitude``,
        ``spectral_radius``, each ``(n_cells,)``.
    execution
        How it ran (workers, scheduler, chunks reused by a resume).
    """

    plan: SweepPlan
    axis_values: dict[str, Array]
    verdict: np.ndarray[Any, np.dtype[np.uint8]]
    measures: dict[str, np.ndarray[Any, Any]]
    execution: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        # Millions of cells: the axes and the verdict counts say what a sweep found.
        counts = ", ".join(f"{name} {int(np.sum(self.verdict == code))}"
                           for code, name in enumerate(VERDICTS))
        axes = ", ".join(f"{name} ({len(np.unique(values))})"
                         for name, values in self.axis_values.items())
        return f"SweepResult({self.verdict.size} cells over {axes}: {counts})"

    @property
    def verdict_names(self) -> np.ndarray[Any, np.dtype[np.str_]]:
        """The verdicts as strings."""
        return cast("np.ndarray[Any, np.dtype[np.str_]]", np.array(VERDICTS)[self.verdict])

    @property
    def linear(self) -> np.ndarray[Any, np.dtype[np.str_]]:
        """The linear prediction per cell: ``stable``, ``marginal``, ``unstable`` or ``unknown``.

        From the spectral radius by :func:`gandyn.equilibria.maps.map_class`:
        ``marginal`` is a radius within
        :data:`~gandyn.equilibria.maps.MAP_MARGINAL_TOL` of 1, where the
        linear test is inconclusive; ``unknown`` a cell without one (NaN).
        """
        from gandyn.equilibria.maps import map_class

        names: np.ndarray[Any, np.dtype[np.str_]] = np.asarray(
            map_class(np.asarray(self.measures["spectral_radius"], dtype=np.float64)).reshape(-1))
        return names

    def counts(self) -> dict[str, int]:
        """Cells per verdict."""
        return {name: int(np.sum(self.verdict == i)) for i, name in enumerate(VERDICTS)}

    def agreement(self) -> tuple[int, int]:
        """``(agreeing, compared)``: cells whose verdict matches the linear prediction.

        ``stable`` (``rho < 1``) matches ``converged``; ``unstable`` matches
        ``cycling`` or ``diverged``; cells without a prediction and
        ``marginal`` cells (the linear test is inconclusive there) are not
        compared.
        """
        linear = self.linear
        known = (linear != "unknown") & (linear != "marginal")
        match = (linear == "stable") == (self.verdict == 0)
        return int(np.sum(match & known)), int(np.sum(known))

    def summary(self) -> dict[str, Any]:
        """Counts and agreement, for the sidecar and the printed summary."""
        agree, compared = self.agreement()
        return {"counts": self.counts(), "agree_with_linear": agree,
                "compared_with_linear": compared,
                "marginal_linear": int(np.sum(self.linear == "marginal"))}

    table_name: ClassVar[str] = "a sweep"

    def _columns(self) -> dict[str, np.ndarray[Any, Any]]:
        """One row per cell: the columns of ``gandyn sweep --out map.csv``."""
        columns: dict[str, np.ndarray[Any, Any]] = dict(self.axis_values)
        columns["verdict"] = self.verdict_names
        columns["decided_at"] = np.asarray(self.measures["decided_at"]).astype(np.int64)
        for name in ("distance", "g_loss_amplitude", "d_fake_amplitude", "spectral_radius"):
            columns[name] = self.measures[name]
        columns["linear"] = self.linear
        return columns

    def to_numpy(self) -> np.ndarray[Any, Any]:
        """The cells as one structured array, a row per cell (the first axis varies slowest).

        Fields: one per axis under its command-line name, ``verdict``
        (``converged``, ``cycling``, ``diverged``), ``decided_at``,
        ``distance``, ``g_loss_amplitude``, ``d_fake_amplitude``,
        ``spectral_radius`` and ``linear`` (``stable``, ``marginal``,
        ``unstable``, ``unknown``): the columns of ``gandyn sweep --out map.csv``.
        """
        from gandyn.tables import structured

        return structured(self._columns())

    def _repr_html_(self) -> str:
        """The notebook's view: what was swept, the verdict counts, the linear prediction."""
        from gandyn.tables import html_block, html_fields, html_table

        plan = self.plan
        game = plan.game
        fields: list[tuple[str, Any]] = [
            ("game", game.file or game.name), ("loss", game.loss or "the game's default"),
            ("regularizers", [r.name + "".join(f":{k}={v}" for k, v in r.settings)
                              for r in game.regularizers]),
            ("params", dict(game.params)), ("update rule", plan.optimizer),
            ("lr_g", plan.lr_g), ("lr_d", plan.lr_d), ("settings", dict(plan.settings)),
            ("start", dict(plan.start)), ("steps", plan.steps), ("cells", plan.n_cells),
            ("equilibrium", dict(plan.equilibrium) or None),
            ("equilibrium source", plan.equilibrium_source)]
        axes = html_table([[a.name, a.low, a.high, a.count, "log" if a.log else "linear"]
                           for a in plan.axes], ["axis", "low", "high", "count", "spacing"],
                          caption="axes")
        counts = self.counts()
        agree, compared = self.agreement()
        verdicts = [*counts.items(), ("agrees with the linear prediction",
                                      f"{agree} of {compared}")]
        return html_block(f"SweepResult: {plan.n_cells} cells",
                          html_fields(fields, caption="sweep"), axes,
                          html_fields(verdicts, caption="verdicts"))


def _chunk_path(folder: Path, index: int) -> Path:
    return folder / f"chunk-{index:06d}.npz"


def _write_chunk(folder: Path, index: int, arrays: Mapping[str, np.ndarray[Any, Any]],
                 digest: str) -> None:
    from gandyn.files import npz_bytes, replace_file

    # atomic: a run killed while writing leaves a stray temporary file, never half a chunk
    replace_file(_chunk_path(folder, index), npz_bytes({**arrays, "digest": np.array(digest)}))


def _read_chunk(folder: Path, index: int, digest: str, size: int
                ) -> dict[str, np.ndarray[Any, Any]] | None:
    """The arrays of a finished chunk, or ``None`` if it is missing, damaged or another sweep's."""
    path = _chunk_path(folder, index)
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None  # a damaged chunk is simulated again
    saved = arrays.pop("digest", np.array([""])).reshape(-1)
    if saved.size != 1 or str(saved[0]) != digest:
        return None
    expected = {"verdict", "decided_at", "distance", "g_loss_amplitude", "d_fake_amplitude",
                "spectral_radius"}
    if not expected <= set(arrays) or any(arrays[k].shape != (size,) for k in expected):
        return None
    return arrays


def _remove_leftovers(folder: Path) -> None:
    """Remove the temporary files a killed run left in the chunk folder."""
    from gandyn.files import TEMPORARY_SUFFIX

    for leftover in folder.glob(f"*{TEMPORARY_SUFFIX}"):
        with contextlib.suppress(OSError):
            leftover.unlink()


def prepare_chunk_dir(folder: Path, plan: SweepPlan, *, resume: bool, force: bool) -> None:
    """Create (or check, for ``resume``) the folder that keeps finished chunks.

    A resume tolerates what a killed run leaves behind: temporary files are
    removed, a damaged chunk is simulated again (:func:`run_sweep`), and a
    folder killed before its plan was written is taken as empty.

    Raises
    ------
    SpecError
        The folder holds a sweep and neither ``resume`` nor ``force`` is set, or
        ``resume`` is set and the folder holds another sweep's chunks.
    """
    from gandyn.files import replace_file

    marker = folder / "plan.json"
    plan_text = json.dumps({"digest": plan.digest(), "plan": plan.to_dict()},
                           indent=2, sort_keys=True) + "\n"
    if folder.exists() or folder.is_symlink():
        if folder.is_symlink() or not folder.is_dir():
            raise SpecError(f"cannot keep chunks in {folder}: it is not a directory")
        if resume:
            _remove_leftovers(folder)
            if not marker.exists() and not any(folder.glob("chunk-*.npz")):
                replace_file(marker, plan_text.encode())  # killed before the plan was written
                return
            try:
                saved = json.loads(marker.read_text(encoding="utf-8")).get("digest")
            except (OSError, ValueError, AttributeError):
                saved = None
            if saved != plan.digest():
                raise SpecError(f"`resume`: {folder} holds the chunks of another sweep (the "
                                "options differ); rerun with the same options, or `force`")
            return
        if not force:
            raise SpecError(f"{folder} holds an unfinished sweep: `resume` completes it, "
                            "`force` starts over")
        shutil.rmtree(folder)
    elif resume:
        raise SpecError(f"`resume`: no unfinished sweep in {folder}")
    try:
        folder.mkdir()  # exclusive: of two sweeps to one --out, the second stops here
    except FileExistsError:
        raise SpecError(f"{folder} holds an unfinished sweep (another sweep started it just "
                        "now): `resume` completes it, `force` starts over") from None
    except OSError as exc:
        raise SpecError(f"cannot keep chunks in {folder}: {exc.strerror or exc}") from None
    replace_file(marker, plan_text.encode())


def _chunk_task(plan: SweepPlan, index: int) -> tuple[int, dict[str, np.ndarray[Any, Any]]]:
    return index, simulate_chunk(plan, index)


def _local_results(plan: SweepPlan, todo: Sequence[int], workers: int
                   ) -> Iterator[tuple[int, dict[str, np.ndarray[Any, Any]]]]:
    if workers <= 1 or len(todo) <= 1:
        for index in todo:
            yield _chunk_task(plan, index)
        return
    from concurrent.futures import ProcessPoolExecutor, as_completed

    executor = ProcessPoolExecutor(max_workers=workers)
    try:
        futures = [executor.submit(_chunk_task, plan, index) for index in todo]
        for future in as_completed(futures):
            yield future.result()
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def _dask_results(plan: SweepPlan, todo: Sequence[int], scheduler: str, workers: int
                  ) -> Iterator[tuple[int, dict[str, np.ndarray[Any, Any]]]]:
    import importlib

    try:
        # typed as Any: distributed ships without complete annotations
        distributed: Any = importlib.import_module("distributed")
    except ImportError:
        raise SpecError("`scheduler` needs Dask: pip install 'gandyn[dask]'") from None
    cluster = None
    if scheduler == "local":
        cluster = distributed.LocalCluster(n_workers=max(1, workers), threads_per_worker=1,
                               processes=True, host="127.0.0.1", dashboard_address=None)
        client = distributed.Client(cluster)
    else:
        try:
            client = distributed.Client(scheduler, timeout=30)
        except (OSError, TimeoutError, ValueError) as exc:
            raise SpecError(f"`scheduler` {scheduler}: cannot connect ({exc})") from None
    try:
        futures = client.map(_chunk_task, [plan] * len(todo), list(todo), pure=False)
        for future in distributed.as_completed(futures):
            yield future.result()
            future.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _axis_column(plan: SweepPlan, j: int) -> Array:
    """Axis ``j``'s value at every cell, without index arrays for the whole grid."""
    shape = plan.shape
    inner = math.prod(shape[j + 1 :])
    outer = math.prod(shape[:j])
    return cast(Array, np.tile(np.repeat(plan.axes[j].values, inner), outer))


def run_sweep(
    plan: SweepPlan,
    *,
    chunk_dir: str | os.PathLike[str] | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SweepResult:
    """Simulate every cell of ``plan``, chunk by chunk.

    Parameters
    ----------
    plan
        From :func:`make_plan`.
    chunk_dir
        A folder prepared by :func:`prepare_chunk_dir`: each finished chunk is
        written there at once, and chunks already there are reused (resume).
    workers
        Local worker processes (1: in this process). With ``scheduler``, the
        number of workers of a ``local`` Dask cluster.
    scheduler
        ``None``; ``local`` (a Dask cluster on this machine); or the address
        of a Dask scheduler, such as ``tcp://10.0.0.1:8786``.
    progress
        Called after every finished chunk with ``(done, total)`` chunks.

    Returns
    -------
    SweepResult
        Identical whatever ``workers``, ``scheduler`` and interruptions.
    """
    if workers < 1:
        raise SpecError("`workers` must be at least 1")
    digest = plan.digest()
    folder = Path(chunk_dir) if chunk_dir is not None else None
    # The per-cell results are filled in place as chunks finish: memory is the results
    # plus the chunks in flight, never a second copy of the results.
    n = plan.n_cells
    columns: dict[str, np.ndarray[Any, Any]] = {
        "verdict": np.empty(n, dtype=np.uint8), "decided_at": np.empty(n, dtype=np.int64),
        **{key: np.empty(n) for key in ("distance", "g_loss_amplitude", "d_fake_amplitude",
                                        "spectral_radius")}}
    done: set[int] = set()

    def store(index: int, arrays: Mapping[str, np.ndarray[Any, Any]]) -> None:
        first, stop = plan.chunk_cells(index)
        for key, column in columns.items():
            column[first:stop] = arrays[key]
        done.add(index)

    if folder is not None:
        for index in range(plan.n_chunks):
            first, stop = plan.chunk_cells(index)
            found = _read_chunk(folder, index, digest, stop - first)
            if found is not None:
                store(index, found)
    reused = len(done)
    todo = [i for i in range(plan.n_chunks) if i not in done]
    if progress is not None and reused:
        progress(reused, plan.n_chunks)
    results = (_dask_results(plan, todo, scheduler, workers) if scheduler is not None
               else _local_results(plan, todo, workers))
    for index, arrays in results:
        if folder is not None:
            _write_chunk(folder, index, arrays, digest)
        store(index, arrays)
        if progress is not None:
            progress(len(done), plan.n_chunks)
    verdict = columns.pop("verdict")
    axis_values = {axis.name: _axis_column(plan, j) for j, axis in enumerate(plan.axes)}
    execution = {"workers": workers, "scheduler": scheduler, "chunks": plan.n_chunks,
                 "chunks_reused": reused}
    return SweepResult(plan, axis_values, verdict, columns, execution)


def sweep(spec: SweepSpec, *, chunk_dir: str | os.PathLike[str] | None = None, workers: int = 1,
          scheduler: str | None = None, max_memory: int | str | None = None) -> SweepResult:
    """Plan the sweep ``spec`` against its game and simulate every cell.

    The Python spelling of ``gandyn sweep``: :func:`~gandyn.sweeps.plan.make_plan`
    (with the memory budget ``max_memory``, bytes or text such as ``"512M"``)
    then :func:`run_sweep` with the same chunk folder, workers and scheduler.
    """
    from gandyn.limits import check_value, parse_memory

    check_value("workers", workers)
    budget = None if max_memory is None else parse_memory(max_memory)
    return run_sweep(make_plan(spec, max_memory=budget), chunk_dir=chunk_dir, workers=workers,
                     scheduler=scheduler)
