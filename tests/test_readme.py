"""README examples run as tests, and CI runs exactly the README's test command."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from gandyn.cli import cli

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def gandyn(command: str) -> tuple[int, str]:
    args = shlex.split(command)
    assert args[0] == "gandyn"
    result = CliRunner().invoke(cli, args[1:], prog_name="gandyn")
    return result.exit_code, result.stdout


def test_readme_opens_with_install_and_run_then_install_and_test() -> None:
    first, second = code_blocks("bash")[:2]
    assert first.strip().startswith("python -m pip install . && gandyn ")
    assert second.strip().startswith("python -m pip install -e '.[test]' && python -m pytest")


def test_main_job_command_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = code_blocks("bash")[0].strip()
    command = first.split("&&", 1)[1].strip()
    monkeypatch.chdir(tmp_path)
    code, out = gandyn(command)
    assert code == 0
    assert "no run diverged" in out
    figure = shlex.split(command)[shlex.split(command).index("--plot") + 1]
    written = {p.name for p in tmp_path.iterdir()}
    stem = Path(figure).stem
    assert written == {figure, f"{stem}.json", f"{stem}.data.npz"}


def test_ci_runs_exactly_the_readme_test_command() -> None:
    test_command = code_blocks("bash")[1].strip()
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_command in ci


def test_console_examples_show_real_output() -> None:
    for block in code_blocks("console"):
        lines = block.rstrip("\n").splitlines()
        assert lines[0].startswith("$ ")
        code, out = gandyn(lines[0][2:])
        assert code == 0
        shown = [line for line in lines[1:] if line.strip() and line.strip() != "..."]
        for line in shown:
            assert line in out.splitlines(), line
