"""Inputs are read only from regular files and standard input, in bounded memory."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest

from gandyn.errors import GandynError, InputFileError
from gandyn.files import decode_text, read_input


def test_a_regular_file_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "log.txt"
    path.write_bytes(b"d_fake,g_loss\n0.1,2.0\n")
    assert read_input(path, what="log") == b"d_fake,g_loss\n0.1,2.0\n"


def test_standard_input_is_read_for_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"a=1\n")))
    assert read_input("-", what="log") == b"a=1\n"


def test_standard_input_beyond_the_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"x" * 100)))
    with pytest.raises(InputFileError, match="larger than the limit"):
        read_input("-", what="log", limit=99)


@pytest.mark.parametrize(("make", "kind"), [
    (lambda p: p.mkdir(), "folder"),
    (lambda p: os.mkfifo(p), "pipe"),
])
def test_folders_and_pipes_are_refused_without_blocking(tmp_path: Path, make: object,
                                                        kind: str) -> None:
    path = tmp_path / "input"
    make(path)  # type: ignore[operator]
    with pytest.raises(InputFileError, match=kind):
        read_input(path, what="log")


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero here")
def test_an_endless_device_is_refused_before_reading() -> None:
    with pytest.raises(InputFileError, match="device"):
        read_input("/dev/zero", what="log")


def test_a_missing_file_and_an_empty_name_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="no such file"):
        read_input(tmp_path / "absent.csv", what="log")
    with pytest.raises(InputFileError, match="empty file name"):
        read_input("", what="log")


def test_a_file_beyond_the_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_bytes(b"1\n" * 600)
    read_input(path, what="log", limit=1200)  # exactly at the limit: accepted
    with pytest.raises(InputFileError, match="larger than the limit"):
        read_input(path, what="log", limit=1199)


def test_text_errors_name_the_byte_offset() -> None:
    assert decode_text("\ufeffa=1".encode(), what="log", name="x") == "a=1"
    with pytest.raises(InputFileError, match=r"byte 0xff at offset 3"):
        decode_text(b"a=1\xff", what="spec file", name="x")
    with pytest.raises(InputFileError, match=r"NUL byte at offset 2"):
        decode_text(b"ab\x00cd", what="log", name="x")
    assert issubclass(InputFileError, GandynError)
