"""Outputs are written whole or not at all, never over another writer's file, never through a link.

The guarantees of :func:`gandyn.files.write_files` checked one by one: an
interruption at any point leaves the old file or the complete new one (the
temporary file is removed on an error, and a killed child leaves the final
name untouched), a name that appears between the check and the write is not
overwritten, a symbolic link is refused or replaced itself, and the names are
checked before any work.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import gandyn.files
from gandyn.errors import GandynError, OutputExistsError, SpecError
from gandyn.files import (
    TEMPORARY_SUFFIX,
    check_writable,
    figure_paths,
    legacy_sidecar_path,
    output_path,
    sidecar_path,
    write_files,
)

ROOT = Path(__file__).resolve().parents[2]


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_new_files_are_written_and_no_temporary_is_left(tmp_path: Path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "a.csv.meta.json"
    assert write_files({a: b"1,2\n", b: b"{}\n"}, force=False) == [a, b]
    assert a.read_bytes() == b"1,2\n" and b.read_bytes() == b"{}\n"
    assert _names(tmp_path) == ["a.csv", "a.csv.meta.json"]


def test_new_files_get_the_usual_permissions(tmp_path: Path) -> None:
    # A temporary file made by mkstemp is 0600; the final file must have what open() gives.
    mask = os.umask(0o022)
    try:
        (target,) = write_files({tmp_path / "x.txt": b"x"}, force=False)
    finally:
        os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o644


def test_an_error_while_writing_keeps_the_old_file_and_removes_the_temporary(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "run.csv"
    target.write_bytes(b"old\n")

    def full_disk(descriptor: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(gandyn.files.os, "fsync", full_disk)
    with pytest.raises(SpecError) as info:
        write_files({target: b"new\n" * 1000}, force=True)
    assert str(info.value) == f"cannot write {target}: No space left on device"
    assert target.read_bytes() == b"old\n"
    assert _names(tmp_path) == ["run.csv"]


def test_a_name_taken_meanwhile_is_not_overwritten(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # Another process creates the second file between our check and our write: we must not
    # replace it, and the first file this call had already placed is taken back.
    first, second = tmp_path / "run.csv", tmp_path / "run.csv.meta.json"
    real = gandyn.files._write_temporary

    def racing(path: Path, content: bytes) -> Path:
        if path == second:
            second.write_bytes(b"the other writer's\n")
        return real(path, content)

    monkeypatch.setattr(gandyn.files, "_write_temporary", racing)
    with pytest.raises(OutputExistsError) as info:
        write_files({first: b"ours\n", second: b"ours too\n"}, force=False)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"refusing to overwrite {second}")
    assert second.read_bytes() == b"the other writer's\n"
    assert not first.exists()  # ours, placed first, removed again: no half set of files
    assert _names(tmp_path) == ["run.csv.meta.json"]


def test_without_hard_links_the_name_is_still_taken_exclusively(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_links(source: object, target: object) -> None:
        raise OSError(1, "Operation not permitted")  # as on FAT or some network shares

    monkeypatch.setattr(gandyn.files.os, "link", no_links)
    target = tmp_path / "run.csv"
    write_files({target: b"new\n"}, force=False)
    assert target.read_bytes() == b"new\n" and _names(tmp_path) == ["run.csv"]
    temporary = gandyn.files._write_temporary(target, b"x")
    with pytest.raises(FileExistsError):  # the exclusive create fails: the name is taken
        gandyn.files._place(temporary, target, force=False)
    assert target.read_bytes() == b"new\n"


@pytest.mark.parametrize("dangling", [True, False])
def test_a_symbolic_link_is_refused_without_force(tmp_path: Path, dangling: bool) -> None:
    pointed = tmp_path / "precious.txt"
    if not dangling:
        pointed.write_bytes(b"precious\n")
    link = tmp_path / "run.csv"
    link.symlink_to(pointed)
    with pytest.raises(OutputExistsError, match="it is a symbolic link"):
        write_files({link: b"new\n"}, force=False)
    with pytest.raises(OutputExistsError, match="symbolic link"):
        check_writable([link], force=False)
    assert link.is_symlink()
    assert pointed.exists() != dangling  # a dangling link was not followed to create a file


@pytest.mark.parametrize("dangling", [True, False])
def test_with_force_the_link_itself_is_replaced(tmp_path: Path, dangling: bool) -> None:
    pointed = tmp_path / "precious.txt"
    if not dangling:
        pointed.write_bytes(b"precious\n")
    link = tmp_path / "run.csv"
    link.symlink_to(pointed)
    write_files({link: b"new\n"}, force=True)
    assert not link.is_symlink() and link.read_bytes() == b"new\n"
    if dangling:
        assert not pointed.exists()
    else:
        assert pointed.read_bytes() == b"precious\n"


def test_a_folder_under_the_name_is_refused(tmp_path: Path) -> None:
    (tmp_path / "run.csv").mkdir()
    for force in (False, True):
        with pytest.raises(SpecError, match="it is a folder"):
            write_files({tmp_path / "run.csv": b"x"}, force=force)


def test_a_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="does not exist"):
        check_writable([tmp_path / "nowhere" / "run.csv"], force=True)


def _unwritable_folder(tmp_path: Path) -> Path:
    """A folder this process cannot create files in, whoever runs the tests."""
    if os.name == "posix" and os.geteuid() != 0:
        folder = tmp_path / "read-only"
        folder.mkdir()
        folder.chmod(0o555)
        return folder
    for candidate in (Path("/sys"), Path("/proc")):  # kernel file systems refuse new files
        if candidate.is_dir():
            try:
                os.close(os.open(candidate / "gandyn-probe", os.O_CREAT | os.O_WRONLY, 0o600))
            except OSError:
                return candidate
            os.unlink(candidate / "gandyn-probe")
    pytest.skip("no folder here refuses new files to this user")


def test_a_read_only_folder_is_refused_before_writing(tmp_path: Path) -> None:
    folder = _unwritable_folder(tmp_path)
    with pytest.raises(SpecError) as info:
        check_writable([folder / "run.csv"], force=True)
    message = str(info.value)
    assert message.startswith(f"cannot write {folder / 'run.csv'}: cannot create files in")
    assert "\n" not in message


@pytest.mark.parametrize(("name", "message"), [
    ("", "`out`: empty file name"),
    ("   ", "`out`: empty file name"),
    ("runs/", "`out` runs/: names a folder; give a file name"),
    ("..", "`out` ..: names a folder; give a file name"),
    ("run.txt", "`out` run.txt: unknown format '.txt' (use .csv, .npz)"),
    ("run", "`out` run: unknown format '(none)' (use .csv, .npz)"),
])
def test_output_names_are_checked_without_touching_the_disk(name: str, message: str) -> None:
    with pytest.raises(SpecError) as info:
        output_path(name, option="out", formats=(".csv", ".npz"))
    assert str(info.value) == message


def test_every_output_has_its_own_sidecars() -> None:
    outputs = [Path("run.csv"), Path("run.npz"), Path("gan.png"), Path("gan.pdf")]
    names = set(outputs)
    for path in outputs[:2]:
        names.add(sidecar_path(path))
    for path in outputs[2:]:
        paths = figure_paths(path)
        names |= {paths["json"], paths["data"]}
    assert len(names) == len(outputs) * 2 + 2  # 4 outputs, 2 + 4 sidecars: no two share one
    assert sidecar_path("run.csv") == Path("run.csv.meta.json")
    assert figure_paths("gan.png")["json"] == Path("gan.png.json")
    assert legacy_sidecar_path("run.csv") == Path("run.meta.json")


# --- killed children --------------------------------------------------------------------------

#: A child that writes one file through write_files and stops (SIGSTOP-free: it sleeps) at
#: a chosen point, so that the parent can kill it there with SIGKILL.
_CHILD = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    import gandyn.files as files

    target, stage, force = Path(sys.argv[1]), sys.argv[2], sys.argv[3] == "force"
    content = b"new " * 250_000  # 1 MB

    def announce_and_wait():
        print("ready", flush=True)
        time.sleep(60)

    if stage == "mid-write":  # half the bytes in the temporary file, then killed
        real_fdopen = os.fdopen
        class Half:
            def __init__(self, handle): self.handle = handle
            def __enter__(self): return self
            def __exit__(self, *exc): return self.handle.__exit__(*exc)
            def write(self, data):
                self.handle.write(data[: len(data) // 2]); self.handle.flush()
                announce_and_wait()
            def flush(self): self.handle.flush()
            def fileno(self): return self.handle.fileno()
        files.os.fdopen = lambda fd, mode: Half(real_fdopen(fd, mode))
    elif stage == "before-rename":  # the temporary file complete, not yet renamed
        real_place = files._place
        def waiting(temporary, path, force):
            announce_and_wait()
            real_place(temporary, path, force)
        files._place = waiting
    files.write_files({target: content}, force)
    print("ready", flush=True)
""")


def _kill_child_at(target: Path, stage: str, force: bool) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(target), stage,
                              "force" if force else "new"], stdout=subprocess.PIPE, env=env)
    assert child.stdout is not None
    deadline = time.monotonic() + 60
    assert child.stdout.readline().strip() == b"ready" and time.monotonic() < deadline
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")
@pytest.mark.parametrize("stage", ["mid-write", "before-rename"])
def test_a_child_killed_while_writing_leaves_the_old_file(tmp_path: Path, stage: str) -> None:
    target = tmp_path / "run.csv"
    target.write_bytes(b"old\n")
    _kill_child_at(target, stage, force=True)
    assert target.read_bytes() == b"old\n"
    leftovers = [n for n in _names(tmp_path) if n != "run.csv"]
    # What a kill may leave: one hidden temporary file, never anything under the final name.
    assert len(leftovers) == 1 and leftovers[0].startswith(".run.csv.")
    assert leftovers[0].endswith(TEMPORARY_SUFFIX)


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")
def test_a_child_killed_while_writing_a_new_file_leaves_no_file(tmp_path: Path) -> None:
    target = tmp_path / "run.csv"
    _kill_child_at(target, "mid-write", force=False)
    assert not target.exists()


def test_errors_are_gandyn_errors(tmp_path: Path) -> None:
    # The command line turns these into one line; a Python caller can catch them together.
    with pytest.raises(GandynError):
        write_files({tmp_path / "nowhere" / "x": b""}, force=False)
