"""TensorBoard event files (``events.out.tfevents.*``) and folders of them.

The records are read by TensorBoard's own loader
(``tensorboard.backend.event_processing.event_file_loader``), an optional
dependency (``pip install 'gandyn[tensorboard]'``): no protobuf is parsed
here. Scalars written the old way (``simple_value``, as ``tensorboardX`` and
``torch.utils.tensorboard`` write them) and the new way (a scalar tensor, as
``tf.summary.scalar`` writes it) are both read. Every scalar tag becomes a
series; the rows are the union of the steps, a tag not logged at a step is
blank there; a step logged twice keeps its last value (TensorBoard shows the
same). In a folder of several runs (sub-folders with their own event files)
the tags are prefixed with the run's folder.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import numpy as np

from gandyn.explain.logformats.base import LogError, Table

__all__ = ["EVENT_MAGIC", "INSTALL_HINT", "SEARCH_LIMIT", "event_files", "looks_event_file",
           "read_tensorboard"]

#: What the first record of every event file holds (its ``file_version``).
EVENT_MAGIC = b"brain.Event:"
INSTALL_HINT = "pip install 'gandyn[tensorboard]'"


def looks_event_file(head: bytes) -> bool:
    """Whether the first bytes of a file are those of a TensorBoard event file."""
    return EVENT_MAGIC in head[:128]


#: Most entries looked at in a folder before the search for event files gives up: a log
#: folder holds a few runs, not a home directory.
SEARCH_LIMIT = 100_000


def event_files(folder: Path, label: str) -> list[Path]:
    """The event files under ``folder`` (symbolic links to folders not followed), sorted.

    Raises
    ------
    LogError
        If the folder holds more than :data:`SEARCH_LIMIT` entries.
    """
    found = []
    seen = 0
    for root, dirs, files in os.walk(folder):
        seen += len(dirs) + len(files)
        if seen > SEARCH_LIMIT:
            raise LogError(f"log {label}: more than {SEARCH_LIMIT} entries in the folder; give "
                           "the folder of the run's event files")
        for name in files:
            if "tfevents" in name:
                path = Path(root) / name
                try:
                    if stat.S_ISREG(os.stat(path).st_mode):
                        found.append(path)
                except OSError:
                    continue
    return sorted(found)


def _loader() -> Any:
    try:
        from tensorboard.backend.event_processing import event_file_loader
        from tensorboard.util import tensor_util
    except ImportError:
        return None
    return event_file_loader, tensor_util


def _scalar(value: Any, tensor_util: Any) -> float | None:
    if value.HasField("simple_value"):
        return float(value.simple_value)
    if value.HasField("tensor"):
        try:
            array = tensor_util.make_ndarray(value.tensor)
        except (ValueError, TypeError):
            return None
        if array.size == 1 and array.dtype.kind in "fiu":
            return float(array.reshape(()))
    return None


def read_tensorboard(path: Path, label: str) -> Table:
    """Read the scalars of an event file or a folder of them.

    Raises
    ------
    LogError
        Without the ``tensorboard`` package (one line naming the extra), for a
        folder without event files, a damaged file, or no scalars.
    """
    modules = _loader()
    if modules is None:
        raise LogError(f"log {label}: reading TensorBoard event files needs the tensorboard "
                       f"package: {INSTALL_HINT}")
    event_file_loader, tensor_util = modules
    files = event_files(path, label) if path.is_dir() else [path]
    if not files:
        raise LogError(f"log {label}: a folder without TensorBoard event files "
                       "(events.out.tfevents.*)")
    runs = {f.parent for f in files}
    series: dict[str, dict[float, float]] = {}
    repeated = 0
    for file in files:
        prefix = ""
        if len(runs) > 1:
            prefix = file.parent.relative_to(path).as_posix() + "/"
        try:
            for event in event_file_loader.EventFileLoader(str(file)).Load():
                if not event.HasField("summary"):
                    continue
                for value in event.summary.value:
                    number = _scalar(value, tensor_util)
                    if number is None:
                        continue
                    by_step = series.setdefault(prefix + value.tag, {})
                    repeated += float(event.step) in by_step
                    by_step[float(event.step)] = number
        except Exception as exc:  # the loader's own errors (DataLossError, ...) vary by version
            raise LogError(f"log {label}: cannot read the event file {file.name} "
                           f"({type(exc).__name__})") from None
    if not series:
        raise LogError(f"log {label}: the event files hold no scalars")
    steps = np.unique(np.fromiter((s for v in series.values() for s in v), dtype=np.float64))
    names = ["step", *series]
    values = np.full((steps.size, len(names)), np.nan)
    blank = np.ones((steps.size, len(names)), dtype=bool)
    values[:, 0] = steps
    blank[:, 0] = False
    for j, by_step in enumerate(series.values(), start=1):
        rows = np.searchsorted(steps, np.fromiter(by_step, dtype=np.float64))
        values[rows, j] = np.fromiter(by_step.values(), dtype=np.float64)
        blank[rows, j] = False
    skipped = {"records of a step logged again (the last one kept)": repeated} if repeated else {}
    return Table(names=names, values=values, blank=blank, fmt="tensorboard", skipped=skipped)
