"""Files written whole or not at all: the writer every output of gandyn goes through.

Outputs never overwrite what the user has unless asked (``force``), every
target is checked before anything is written, and the bytes are reproducible
(zip entries carry a fixed date), so that equal results give identical files.
This module sits below every layer that writes (sweeps' chunk files, runs,
figures); :mod:`gandyn.io` builds the run formats on it.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gandyn.errors import OutputExistsError, SpecError

__all__ = ["ZIP_DATE", "check_writable", "figure_paths", "npz_bytes", "sidecar_path",
           "write_files"]


def check_writable(paths: Sequence[Path], force: bool) -> None:
    """Raise before writing anything if a target exists (without force) or its folder is missing."""
    for path in paths:
        if path.exists() and not force:
            raise OutputExistsError(f"refusing to overwrite {path} (use `force`)")
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
            raise OutputExistsError(f"refusing to overwrite {path} (use `force`)") from None
        except OSError as exc:
            raise SpecError(f"cannot write {path}: {exc.strerror or exc}") from None
        written.append(path)
    return written


def sidecar_path(path: Path) -> Path:
    """``run.csv`` -> ``run.meta.json``."""
    return path.with_name(path.stem + ".meta.json")


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
