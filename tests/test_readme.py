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
    assert written == {figure, f"{figure}.json", f"{figure}.data.npz"}


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


def test_python_api_examples_run_as_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    # The README's "Python API" section is a doctest: every >>> line runs and prints what the
    # README shows (from the repository's folder, so that examples/ is found).
    import doctest

    section = README.split("## Python API", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```pycon\n(.*?)```", section, flags=re.S)
    assert len(blocks) >= 4
    monkeypatch.chdir(ROOT)
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    test = parser.get_doctest("\n".join(blocks), {}, "README Python API", "README.md", 0)
    assert len(test.examples) >= 20
    result = runner.run(test, out=lambda text: pytest.fail(text))
    assert result.failed == 0 and result.attempted == len(test.examples)


def test_every_api_name_is_documented_and_loads() -> None:
    import gandyn

    section = README.split("## Python API", 1)[1].split("\n## ", 1)[0]
    for name in ("make_game", "derive", "RunSpec", "run", "simulate", "analyze", "explain_log",
                 "sweep"):
        assert f"gandyn.{name}" in section, name
    for name in gandyn.__all__:
        assert getattr(gandyn, name) is not None, name
    # the functions are not shadowed by the subpackages their names would otherwise collide with
    assert callable(gandyn.derive) and callable(gandyn.run) and callable(gandyn.sweep)


def test_readme_spec_example_is_what_dump_spec_writes(tmp_path: Path) -> None:
    from gandyn.runs.build import build
    from gandyn.runs.spec_files import load_spec, spec_toml

    (example,) = code_blocks("toml")[:1]
    (tmp_path / "run.toml").write_text(example)
    written = spec_toml(build(load_spec(tmp_path / "run.toml")).spec)
    assert written.split("\n", 1)[1] == example  # after the header comment


def test_result_objects_print_short_reprs(monkeypatch: pytest.MonkeyPatch) -> None:
    # A notebook shows an object's repr: it must say what the object is, never dump arrays.
    import gandyn

    monkeypatch.chdir(ROOT)
    explanation = gandyn.explain_log("examples/logs/keras-gan.txt")
    sweep = gandyn.sweep(gandyn.SweepSpec(run=gandyn.RunSpec(steps=60),
                                          axes=(gandyn.AxisSpec("lr", 0.05, 1.0, 40),)))
    run = gandyn.simulate(steps=2000, starts=[{"theta": 1.0}, {"theta": 0.5}])
    for obj in (explanation, sweep, run.trajectory, run.spec.game, run.field):
        text = repr(obj)
        assert len(text) < 300 and "array(" not in text and "\n" not in text, text
    assert repr(sweep).startswith("SweepResult(40 cells over lr (40)")
    assert "2 runs x 2001 records" in repr(run.trajectory)
