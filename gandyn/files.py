"""Files written whole or not at all: the writer every output of gandyn goes through.

Outputs never overwrite what the user has unless asked (``force``), never
follow a symbolic link, and every target is checked before any work starts
(:func:`output_path`, :func:`check_writable`). :func:`write_files` writes each
file to a temporary file beside it and then gives it its name, so an
interrupted run (even ``kill -9``) never leaves a truncated file under a
final name, and two runs writing the same name cannot both succeed. The
bytes are reproducible (zip entries carry a fixed date), so that equal
results give identical files. Each output has its own sidecar names
(:func:`sidecar_path`, :func:`figure_paths`).
This module sits below every layer that writes (sweeps' chunk files, runs,
figures); :mod:`gandyn.io` builds the run formats on it.
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import stat
import sys
import tempfile
import zipfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from gandyn.errors import InputFileError, OutputExistsError, SpecError

__all__ = ["FIGURE_FORMATS", "INPUT_LIMIT", "TEMPORARY_SUFFIX", "ZIP_DATE", "check_writable",
           "decode_text", "figure_paths", "legacy_sidecar_path", "npz_bytes", "output_path",
           "read_input", "replace_file", "shareable_name", "sidecar_path", "stdin_format",
           "write_files"]


def output_path(path: str | os.PathLike[str], *, option: str,
                formats: Sequence[str] | None = None) -> Path:
    """``path`` as an output file name, or one line saying why it cannot be one.

    Checks the name alone (no file system access), so that a command refuses
    an empty name, a folder name (ending in ``/``) or an unknown extension
    before any work starts.

    Parameters
    ----------
    path
        The name the user gave.
    option
        The parameter that gave it (``"out"``, ``"plot"``), named between
        backticks in the message (the command line shows it as its flag).
    formats
        The extensions accepted (``(".csv", ".npz")``), or ``None`` for any.

    Raises
    ------
    SpecError
        An empty name, a folder name, or an extension not in ``formats``.
    """
    name = os.fspath(path)
    if not name.strip():
        raise SpecError(f"`{option}`: empty file name")
    if name == "-":  # commands that can print their output take "-" before calling this
        raise SpecError(f"`{option}` -: this output is written as files (with its sidecars), "
                        "not to standard output; give a file name")
    if name.endswith((os.sep, "/")) or Path(name).name in ("", ".", ".."):
        raise SpecError(f"`{option}` {name}: names a folder; give a file name")
    target = Path(name)
    if formats is not None and target.suffix.lower() not in formats:
        raise SpecError(f"`{option}` {name}: unknown format {target.suffix or '(none)'!r} "
                        f"(use {', '.join(formats)})")
    return target


def _probe_folder(folder: Path) -> str | None:
    """Why files cannot be created in ``folder``, or ``None`` if they can.

    Creating (and removing) a file is the only test that sees everything:
    permissions, a read-only mount, a full inode table, an administrator
    (for whom permission bits do not count).
    """
    try:
        descriptor, name = tempfile.mkstemp(dir=folder, prefix=".gandyn-probe-")
    except OSError as exc:
        return exc.strerror or str(exc)
    os.close(descriptor)
    with contextlib.suppress(OSError):
        os.unlink(name)
    return None


def check_writable(paths: Sequence[str | os.PathLike[str]], force: bool) -> None:
    """Raise before any work if one of ``paths`` cannot be written.

    Refused: an empty name; a target that is a folder; a target that exists
    or is a symbolic link (even a dangling one), unless ``force``; a folder
    that does not exist, is not a folder, or does not let files be created.

    Raises
    ------
    OutputExistsError
        A target exists (or is a link) and ``force`` is false.
    SpecError
        Anything else above; nothing has been written.
    """
    probed: dict[Path, str | None] = {}
    for given in paths:
        if not os.fspath(given):
            raise SpecError("cannot write a file with an empty name")
        path = Path(given)
        if path.is_symlink():
            if not force:
                raise OutputExistsError(f"refusing to write {path}: it is a symbolic link "
                                        "(use `force` to replace the link itself)")
        elif path.is_dir():
            raise SpecError(f"cannot write {path}: it is a folder")
        elif path.exists() and not force:
            raise OutputExistsError(f"refusing to overwrite {path} (use `force`)")
        folder = path.parent
        if folder not in probed:
            if not folder.exists():
                raise SpecError(f"cannot write {path}: folder {folder} does not exist")
            if not folder.is_dir():
                raise SpecError(f"cannot write {path}: {folder} is not a folder")
            probed[folder] = _probe_folder(folder)
        reason = probed[folder]
        if reason is not None:
            raise SpecError(f"cannot write {path}: cannot create files in {folder} ({reason})")


def _temporary_beside(path: Path) -> tuple[int, Path]:
    """An open, new, empty file in ``path``'s folder, named after it and hidden.

    Created with ``O_EXCL`` and ``O_NOFOLLOW`` and mode ``0o666`` less the
    umask, the mode an ordinary ``open`` would give the final file.
    """
    stem = path.name[:180]  # the temporary name must stay within NAME_MAX (255)
    flags = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
             | getattr(os, "O_BINARY", 0))
    while True:
        candidate = path.with_name(f".{stem}.{secrets.token_hex(6)}{TEMPORARY_SUFFIX}")
        try:
            return os.open(candidate, flags, 0o666), candidate
        except FileExistsError:  # a name taken by chance: draw another
            continue


#: What :func:`write_files` writes into a file: its bytes, or a function that writes them
#: into the open temporary file (so that a large output is streamed, never held whole).
Content = bytes | Callable[[BinaryIO], None]


def _write_temporary(path: Path, content: Content) -> Path:
    """``content`` in a complete, flushed temporary file beside ``path``; its name."""
    descriptor, temporary = _temporary_beside(path)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            if callable(content):
                content(handle)
            else:
                handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())  # whole on disk before it takes the final name
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return temporary


def _place(temporary: Path, path: Path, force: bool) -> None:
    """Give the complete ``temporary`` the name ``path``; it no longer exists after.

    With ``force``, :func:`os.replace` swaps the name in one step (a symbolic
    link there is replaced itself, never followed). Without, :func:`os.link`
    makes the name only if it is free, atomically, whatever another process
    does at the same moment; on a file system without hard links the name is
    reserved with an exclusive create, then replaced.
    """
    if force:
        os.replace(temporary, path)
        return
    try:
        os.link(temporary, path)
    except FileExistsError:
        raise
    except OSError:  # no hard links here (FAT, some network file systems)
        reserved = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL
                           | getattr(os, "O_NOFOLLOW", 0), 0o666)
        os.close(reserved)
        os.replace(temporary, path)
        return
    os.unlink(temporary)


def _sync_folder(folder: Path) -> None:
    """Make the new names in ``folder`` durable (POSIX; elsewhere a no-op)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def write_files(contents: Mapping[Path, Content], force: bool) -> list[Path]:
    """Write prepared file contents whole or not at all, refusing to overwrite unless ``force``.

    Each file is written to a temporary file in its target folder, flushed to
    disk, and only then given its final name, so that an interruption at any
    moment (even ``kill -9``) leaves under the final name either what was
    there before or the complete new file, never a truncated one. Without
    ``force`` the name is taken only if it is free at that very moment (see
    :func:`_place`): of two processes writing the same files, one writes
    them all and the other gets :class:`OutputExistsError`, and the files it
    had already placed in this call are removed again. A symbolic link under
    a final name is refused without ``force`` and replaced itself (never the
    file it points to) with it. Temporary files are removed on any error.

    A content may be a function that writes into the open temporary file: a
    large output is then streamed into it in pieces. The files are written in
    the order given, so a later function may use what an earlier one computed
    (a run's sidecar, its divergence once the run is written).

    Returns
    -------
    list of Path
        The files written, in order.

    Raises
    ------
    OutputExistsError
        A target exists (or appeared since :func:`check_writable`) and
        ``force`` is false.
    SpecError
        The disk refused (the reason in one line).
    """
    check_writable(list(contents), force)
    written: list[Path] = []
    created: list[Path] = []  # placed by this call where nothing was: undone on failure
    try:
        for path, content in contents.items():
            existed = path.exists() or path.is_symlink()
            temporary = _write_temporary(path, content)
            try:
                _place(temporary, path, force)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise
            if not existed:
                created.append(path)
            written.append(path)
    except FileExistsError:  # appeared since the check: another writer has it
        _undo(created)
        raise OutputExistsError(f"refusing to overwrite {path} (use `force`); another "
                                "process wrote it meanwhile") from None
    except IsADirectoryError:
        _undo(created)
        raise SpecError(f"cannot write {path}: it is a folder") from None
    except OSError as exc:
        _undo(created)
        raise SpecError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        _undo(created)
        raise
    for folder in {path.parent for path in written}:
        _sync_folder(folder)
    return written


def replace_file(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` whole or not at all, replacing what is there.

    For files gandyn keeps for itself (a sweep's chunks and plan): no checks,
    but the same temporary file and atomic rename as :func:`write_files`.
    """
    temporary = _write_temporary(path, content)
    try:
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _undo(created: Sequence[Path]) -> None:
    for path in created:
        with contextlib.suppress(OSError):
            os.unlink(path)


#: The figure formats every ``--plot`` writes, by extension (the figure writer,
#: :mod:`gandyn.plotting.save`, uses this tuple; commands check a name against it
#: before any work, without importing matplotlib).
FIGURE_FORMATS: tuple[str, ...] = (".pdf", ".svg", ".png")

#: The ending of the temporary files :func:`write_files` writes beside their target
#: (``.run.csv.3f2a9c1b7d4e.tmp``); one left behind means a writer was killed.
TEMPORARY_SUFFIX = ".tmp"


def shareable_name(path: str | os.PathLike[str]) -> str:
    """How an output records an input's path without revealing private folders.

    A figure or sidecar may travel with a double-blind submission, so it must
    not name a home directory. A relative path is kept as given; an absolute
    one becomes relative to the working directory when it lies below it, and
    its bare file name otherwise. ``-`` (standard input) stays ``-``.

    Parameters
    ----------
    path
        The input's path as the user gave it.

    Returns
    -------
    str
        A path with no absolute prefix.
    """
    text = os.fspath(path)
    if text == "-" or not os.path.isabs(text):
        return text
    try:
        return Path(text).relative_to(Path.cwd()).as_posix()
    except ValueError:
        return Path(text).name


def sidecar_path(path: str | os.PathLike[str]) -> Path:
    """The metadata sidecar of an output file: ``run.csv`` -> ``run.csv.meta.json``.

    Named after the whole file name, so that ``run.csv`` and ``run.npz`` in one
    folder each keep their own.
    """
    p = Path(path)
    return p.with_name(p.name + ".meta.json")


def legacy_sidecar_path(path: str | os.PathLike[str]) -> Path:
    """The sidecar name earlier versions wrote (``run.csv`` -> ``run.meta.json``), still read."""
    p = Path(path)
    return p.with_name(p.stem + ".meta.json")


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
    """The files a figure ``path`` produces: ``figure``, ``json`` (``fig.pdf.json``) and
    ``data`` (``fig.pdf.data.npz``).

    The sidecars are named after the whole file name, so that ``fig.pdf`` and
    ``fig.png`` drawn apart in one folder do not share them.
    """
    p = Path(path)
    return {"figure": p, "json": p.with_name(p.name + ".json"),
            "data": p.with_name(p.name + ".data.npz")}


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


def stdin_format(data: bytes, formats: Sequence[str]) -> str:
    """The format of an input read from standard input (``-``), which has no extension.

    Told from the first bytes: a zip archive (``PK\\x03\\x04``) is ``.npz``, a
    document whose first non-blank character is ``{`` is ``.json`` (every
    JSON input gandyn reads is an object); anything else is the text format
    among ``formats`` (``.toml`` for specs and game files, ``.csv`` for runs).

    Parameters
    ----------
    data
        The bytes read.
    formats
        The extensions the reader accepts, e.g. ``(".toml", ".json")``.

    Returns
    -------
    str
        One of ``formats``; the last one if nothing else fits (its reader then
        reports what is wrong with the content).
    """
    if data.startswith(b"PK\x03\x04") and ".npz" in formats:
        return ".npz"
    if data.lstrip()[:1] == b"{" and ".json" in formats:
        return ".json"
    for text_format in (".toml", ".csv"):
        if text_format in formats:
            return text_format
    return formats[-1]


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
