"""A study's ``--out`` folder: refused before the study runs if it holds files (unless
``--force``), and no file in it is overwritten without ``--force``."""

from __future__ import annotations

from pathlib import Path

import pytest

from gandyn.study import Study


def _main(tmp_path: Path, *argv: str) -> tuple[int, list[str]]:
    ran: list[str] = []

    def run(study: Study) -> None:
        ran.append("ran")
        study.check("one is one", True)
        study.write_text("result.txt", "computed\n")

    with pytest.raises(SystemExit) as info:
        Study.main(run, slug="demo", claim="a demo", argv=list(argv))
        raise SystemExit(0)
    code = info.value.code
    return (code if isinstance(code, int) else 1), ran


def test_a_new_folder_is_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "new"
    code, ran = _main(tmp_path, "--out", str(out))
    assert code == 0 and ran == ["ran"]
    assert sorted(p.name for p in out.iterdir()) == ["claims.json", "result.txt"]


def test_a_folder_with_files_is_refused_before_the_study_runs(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "result.txt").write_text("precious\n")
    code, ran = _main(tmp_path, "--out", str(tmp_path))
    assert code == 2 and ran == []  # nothing computed
    err = capsys.readouterr().err
    assert err == (f"error: refusing to write into {tmp_path}: it holds files (use --force to "
                   "replace them, or a new folder)\n")
    assert (tmp_path / "result.txt").read_text() == "precious\n"
    code, ran = _main(tmp_path, "--out", str(tmp_path), "--force")
    assert code == 0 and ran == ["ran"]
    assert (tmp_path / "result.txt").read_text() == "computed\n"


def test_an_empty_out_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, ran = _main(tmp_path, "--out", "")
    assert code == 2 and ran == []
    assert capsys.readouterr().err == "error: --out: empty folder name\n"


def test_a_file_appearing_during_the_study_is_not_overwritten(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"

    def run(study: Study) -> None:
        (out / "result.txt").write_text("another process\n")
        study.check("one is one", True)
        study.write_text("result.txt", "computed\n")

    with pytest.raises(SystemExit) as info:
        Study.main(run, slug="demo", claim="a demo", argv=["--out", str(out)])
    assert info.value.code == 2
    assert "refusing to overwrite" in capsys.readouterr().err
    assert (out / "result.txt").read_text() == "another process\n"
