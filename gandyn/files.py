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
import stat
import sys
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gandyn.errors import InputFileError, OutputExistsError, SpecError

__all__ = ["INPUT_LIMIT", "ZIP_DATE", "check_writable", "decode_text", "figure_paths",
           "npz_bytes", "read_input", "sidecar_path", "write_files"]


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


#: Largest input read whole (a spec, game file, sidecar or log), in bytes: far
#: above any real one (a 10^6-row loss log is about 40 MB), far below memory.
INPUT_LIMIT = 512 * 2**20


def _kind_of(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def read_input(path: str | os.PathLike[str], *, what: str, limit: int = INPUT_LIMIT) -> bytes:
    """The bytes of an input: a regular file, or standard input for ``-``.

    Anything else (a folder, a FIFO that would block, ``/dev/zero``, a socket)
    is refused before a byte is read, and so is a file larger than ``limit``:
    reading stops at ``limit + 1`` bytes, so neither an endless device nor a
    huge file costs more than that. The file is opened without blocking and
    checked on the open descriptor, so it cannot be swapped for a FIFO between
    the check and the read.

    Parameters
    ----------
    path
        The file, or ``"-"`` for standard input.
    what
        What the input is (``"log"``, ``"spec file"``), for the messages.
    limit
        Largest size accepted, in bytes.

    Raises
    ------
    InputFileError
        One line naming the file, what is wrong, and the limit where one applies.
    """
    name = os.fspath(path)
    if name == "-":
        data = sys.stdin.buffer.read(limit + 1)
        if len(data) > limit:
            raise InputFileError(f"{what} on standard input is larger than the limit of "
                                 f"{limit // 2**20} MiB")
        return data
    if not name:
        raise InputFileError(f"{what}: empty file name")
    try:
        descriptor = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise InputFileError(f"{what} {name}: no such file") from None
    except IsADirectoryError:
        raise InputFileError(f"{what} {name}: is a folder, not a file") from None
    except OSError as exc:
        raise InputFileError(f"cannot read {what} {name}: {exc.strerror or exc}") from None
    mode = os.fstat(descriptor).st_mode
    if not stat.S_ISREG(mode):
        os.close(descriptor)
        raise InputFileError(f"cannot read {what} {name}: it is {_kind_of(mode)}; "
                             "give a regular file, or - for standard input")
    with os.fdopen(descriptor, "rb") as handle:
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise InputFileError(f"cannot read {what} {name}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise InputFileError(f"{what} {name} is larger than the limit of {limit // 2**20} MiB")
    return data


def decode_text(data: bytes, *, what: str, name: str) -> str:
    """``data`` as UTF-8 text (a leading byte-order mark dropped), or one line saying where not.

    Raises
    ------
    InputFileError
        If ``data`` holds a NUL byte (binary, not text) or is not UTF-8; the
        message gives the byte offset.
    """
    nul = data.find(b"\0")
    if nul >= 0:
        raise InputFileError(f"{what} {name} is binary, not text (a NUL byte at offset {nul})")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputFileError(f"{what} {name} is not UTF-8 text: byte 0x{data[exc.start]:02x} "
                             f"at offset {exc.start}") from None
