"""Every command checks its outputs before it works, and never loses or half-writes a file.

* fail before work: a bad output (missing or read-only folder, empty name, unknown extension,
  existing file or symbolic link without ``--force``) is refused in one line before the
  simulation, sweep, analysis or drawing runs (the work is replaced by a function that fails
  the test if called);
* concurrency: two processes writing the same ``--out`` without ``--force``: exactly one
  succeeds, the other exits 1 with one line, and the files on disk are the winner's;
* kills: a ``gandyn`` child killed with SIGKILL at random moments leaves under the final name
  the old file or the complete new one (the bytes an uninterrupted run writes);
* ``sweep --resume`` after SIGKILL, with a stray temporary file and a damaged chunk, writes
  the same bytes as an uninterrupted sweep.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gandyn.cli import cli
from gandyn.io.saved_runs import read_run

ROOT = Path(__file__).resolve().parents[2]
POSIX = pytest.mark.skipif(os.name != "posix", reason="SIGKILL and symbolic links are POSIX")


def _forbid(monkeypatch: pytest.MonkeyPatch, target: Any, name: str) -> None:
    def work(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"{name} ran although an output was bad")

    monkeypatch.setattr(target, name, work)


def _patch_work(command: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Replace the expensive part of ``command`` by a function that fails the test."""
    if command == "simulate":
        import gandyn.runs.build

        _forbid(monkeypatch, gandyn.runs.build, "run")
    elif command == "sweep":
        import gandyn.sweeps

        _forbid(monkeypatch, gandyn.sweeps, "run_sweep")
        _forbid(monkeypatch, gandyn.sweeps, "prepare_chunk_dir")
    elif command == "analyze":
        import gandyn.cli.analyze

        _forbid(monkeypatch, gandyn.cli.analyze, "_run")
    elif command == "explain":
        import gandyn.cli.explain

        _forbid(monkeypatch, gandyn.cli.explain, "simulate")
    elif command == "figure":
        import gandyn.cli.figure

        _forbid(monkeypatch, gandyn.cli.figure, "_draw_and_save")
    elif command == "plot":
        import gandyn.io.saved_runs

        _forbid(monkeypatch, gandyn.io.saved_runs, "read_run")


#: Each command with the arguments before its output option, and that option.
COMMANDS: dict[str, tuple[list[str], str, str]] = {
    "simulate --out": (["simulate", "--steps", "5"], "--out", ".csv"),
    "simulate --plot": (["simulate", "--steps", "5"], "--plot", ".png"),
    "sweep --out": (["sweep", "--steps", "5", "--axis", "lr=0.1:0.2:2"], "--out", ".csv"),
    "sweep --plot": (["sweep", "--steps", "5", "--axis", "lr=0.1:0.2:2"], "--plot", ".png"),
    "analyze --plot": (["analyze", "--reg", "r1", "--path", "gamma_r1=0:1:3"], "--plot", ".png"),
    "explain --plot": (["explain", "--steps", "20"], "--plot", ".png"),
    "plot --plot": (["plot", "run.npz"], "--plot", ".png"),
    "figure --out": (["figure", "costs"], "--out", ".png"),
}


def _unwritable_folder(tmp_path: Path) -> Path:
    if os.name == "posix" and os.geteuid() != 0:
        folder = tmp_path / "read-only"
        folder.mkdir()
        folder.chmod(0o555)
        return folder
    for candidate in (Path("/sys"), Path("/proc")):
        if candidate.is_dir() and not os.access(candidate, os.W_OK):
            return candidate
        if candidate.is_dir():
            try:
                os.close(os.open(candidate / "gandyn-probe", os.O_CREAT | os.O_WRONLY, 0o600))
            except OSError:
                return candidate
            os.unlink(candidate / "gandyn-probe")
    pytest.skip("no folder here refuses new files to this user")


def _bad_output(case: str, suffix: str, tmp_path: Path) -> tuple[str, str]:
    """An output name of the kind ``case`` and the start of the error it must give."""
    if case == "missing folder":
        return str(tmp_path / "nowhere" / f"out{suffix}"), "error: cannot write"
    if case == "read-only folder":
        return (str(_unwritable_folder(tmp_path) / f"out{suffix}"),
                "error: cannot write")
    if case == "empty name":
        return "", "error: --"
    if case == "unknown extension":
        return str(tmp_path / "out.txt"), "error: --"
    if case == "existing file":
        (tmp_path / f"out{suffix}").write_text("precious\n")
        return str(tmp_path / f"out{suffix}"), "error: refusing to overwrite"
    assert case == "symbolic link"
    (tmp_path / f"out{suffix}").symlink_to(tmp_path / "elsewhere")
    return str(tmp_path / f"out{suffix}"), "error: refusing to write"


@POSIX
@pytest.mark.parametrize("case", ["missing folder", "read-only folder", "empty name",
                                  "unknown extension", "existing file", "symbolic link"])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_bad_output_is_refused_before_the_work(command: str, case: str, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    args, option, suffix = COMMANDS[command]
    monkeypatch.chdir(tmp_path)
    if args[0] == "plot":
        (tmp_path / "run.npz").write_bytes(b"never read")
    name, start = _bad_output(case, suffix, tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    _patch_work(args[0], monkeypatch)
    result = CliRunner().invoke(cli, [*args, option, name], prog_name="gandyn")
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(start) and result.stderr.count("\n") == 1, result.stderr
    assert "internal error" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written or created
    if case == "symbolic link":
        assert not (tmp_path / "elsewhere").exists()


# --- child processes ----------------------------------------------------------------------------


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
            "MPLBACKEND": "Agg"}


def _gandyn(*args: str, cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "gandyn", *args], cwd=cwd, env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@POSIX
def test_two_runs_to_one_out_one_wins_the_other_says_so(tmp_path: Path) -> None:
    # Different learning rates, so that the files on disk tell whose they are.
    rates = ("0.1", "0.2")
    children = [_gandyn("simulate", "--steps", "2000", "--lr", lr, "--out", "run.csv",
                        cwd=tmp_path) for lr in rates]
    results = [(child.wait(timeout=600), child.stderr.read().decode())  # type: ignore[union-attr]
               for child in children]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 1], results
    winner = next(i for i, (code, _) in enumerate(results) if code == 0)
    loser_err = results[1 - winner][1]
    assert loser_err.startswith(f"error: refusing to overwrite {'run.csv'}")
    assert loser_err.count("\n") == 1
    saved = read_run(tmp_path / "run.csv")  # the data and the sidecar agree ...
    assert saved.spec is not None  # ... and are the winner's
    assert saved.spec["rule"]["lr_g"] == float(rates[winner])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.csv", "run.csv.meta.json"]


def _killed_at_random(args: list[str], cwd: Path, rng: random.Random, shortest: float,
                      longest: float) -> None:
    child = _gandyn(*args, cwd=cwd)
    time.sleep(rng.uniform(shortest, longest))
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=60)


def _timed(args: list[str], cwd: Path) -> float:
    start = time.monotonic()
    child = _gandyn(*args, cwd=cwd)
    assert child.wait(timeout=600) == 0, child.stderr.read()  # type: ignore[union-attr]
    return time.monotonic() - start


KILLED = {
    "simulate": (["simulate", "--steps", "4000", "--grid", "theta=-1:1:3", "--out", "run.npz",
                  "--plot", "run.png", "--force"], ["run.npz", "run.npz.meta.json", "run.png",
                                                    "run.png.json", "run.png.data.npz"]),
    "sweep": (["sweep", "--reg", "r1", "--axis", "lr=0.05:1:6:log", "--axis", "gamma=0:1:3",
               "--steps", "300", "--chunk-size", "3", "--out", "map.csv", "--plot", "map.png",
               "--force"], ["map.csv", "map.csv.meta.json", "map.png", "map.png.json",
                            "map.png.data.npz"]),
    "plot": (["plot", "source.npz", "--plot", "fig.pdf", "--force"],
             ["fig.pdf", "fig.pdf.json", "fig.pdf.data.npz"]),
}


@POSIX
@pytest.mark.slow
@pytest.mark.parametrize("command", list(KILLED))
def test_killed_at_random_moments_leaves_old_or_complete_files(command: str,
                                                               tmp_path: Path) -> None:
    args, outputs = KILLED[command]
    work = tmp_path / "work"
    work.mkdir()
    if command == "plot":
        assert _timed(["simulate", "--steps", "400", "--out", "source.npz"], work) > 0
    # The complete new files: what an uninterrupted run writes (runs are deterministic).
    reference = tmp_path / "reference"
    reference.mkdir()
    for name in work.iterdir():
        (reference / name.name).write_bytes(name.read_bytes())
    seconds = _timed(args, reference)
    new = {name: (reference / name).read_bytes() for name in outputs}
    old = {name: b"old " + name.encode() for name in outputs}
    rng = random.Random(17)
    for _ in range(4):
        for name in outputs:
            (work / name).write_bytes(old[name])
        # delays over the second half of the run and a little past its end, where the files
        # are written
        _killed_at_random(args, work, rng, seconds * 0.5, seconds * 1.1)
        for name in outputs:
            assert (work / name).read_bytes() in (old[name], new[name]), name
        for leftover in work.iterdir():
            if leftover.name.endswith(".tmp"):  # what a kill may leave: hidden temporaries
                assert leftover.name.startswith(".")
                leftover.unlink()
            elif leftover.is_dir():  # the chunks of a killed sweep
                assert leftover.name == "map.csv.chunks"


def _wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@POSIX
def test_sweep_resume_after_kill_is_byte_identical(tmp_path: Path) -> None:
    args = ["sweep", "--reg", "r1", "--axis", "lr=0.05:1:4:log", "--axis", "gamma=0:1:4",
            "--steps", "200", "--chunk-size", "2"]
    reference = tmp_path / "reference"
    reference.mkdir()
    assert _timed([*args, "--out", "map.csv"], reference) > 0
    work = tmp_path / "work"
    work.mkdir()
    chunks = work / "map.csv.chunks"
    child = _gandyn(*args, "--out", "map.csv", cwd=work)
    # Killed once at least two of its eight chunks are on disk (and before it finishes).
    finished = _wait_for(lambda: len(list(chunks.glob("chunk-*.npz"))) >= 2, 300)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=60)
    if not finished or not chunks.is_dir():
        pytest.skip("the sweep finished before it could be killed")
    done = sorted(chunks.glob("chunk-*.npz"))
    assert not (work / "map.csv").exists()
    # What a kill can leave besides: a temporary file, and (on a crash of the disk or an
    # older gandyn) a truncated chunk. Both are tolerated: removed, and simulated again.
    (chunks / ".chunk-000007.npz.0123456789ab.tmp").write_bytes(b"half a chunk")
    done[0].write_bytes(done[0].read_bytes()[:100])
    code = subprocess.run([sys.executable, "-m", "gandyn", *args, "--out", "map.csv",
                           "--resume"], cwd=work, env=_env(), capture_output=True,
                          timeout=600, check=False)
    assert code.returncode == 0, code.stderr
    assert (work / "map.csv").read_bytes() == (reference / "map.csv").read_bytes()
    resumed = json.loads((work / "map.csv.meta.json").read_text())
    uninterrupted = json.loads((reference / "map.csv.meta.json").read_text())
    assert resumed["execution"]["chunks_reused"] == len(done) - 1  # the damaged one redone
    resumed.pop("execution"), uninterrupted.pop("execution")
    assert resumed == uninterrupted
    assert not chunks.exists()
