"""Output streams: results on stdout, 'wrote' lines and warnings on stderr; -q, -v; progress.

The convention checked is POSIX's and the Command Line Interface Guidelines'
(clig.dev, "Output"): stdout carries the command's result alone, so that it
can be piped; messages about the work go to stderr and obey ``--quiet``.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import click
import pytest

Invoke = Callable[..., tuple[int, str, str]]


def wrote_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("wrote ")]


@pytest.mark.parametrize(("args", "outputs", "result"), [
    (["simulate", "--steps", "10", "--out", "run.csv", "--plot", "fig.png"],
     ["run.csv", "run.csv.meta.json", "fig.png", "fig.png.json", "fig.png.data.npz"],
     "dirac / minimax / simgd: 10 steps"),
    (["sweep", "--reg", "r1", "--x0", "theta=0.1,psi=0.1", "--axis", "lr=0.1:1:3",
      "--steps", "30", "--out", "map.csv"], ["map.csv", "map.csv.meta.json"], "verdicts:"),
    (["figure", "costs", "--out", "costs.svg"],
     ["costs.svg", "costs.svg.json", "costs.svg.data.npz"], None),  # the figure is the result
    (["analyze", "--reg", "r1", "--path", "gamma_r1=0:1:5", "--plot", "path.png"],
     ["path.png", "path.png.json", "path.png.data.npz"], "game: dirac"),
    (["explain", "--loss", "ns", "--steps", "200", "--x0", "theta=0.3,psi=0.3",
      "--plot", "why.png"], ["why.png", "why.png.json", "why.png.data.npz"], "d_fake"),
], ids=["simulate", "sweep", "figure", "analyze", "explain"])
def test_every_wrote_line_is_on_stderr(invoke: Invoke, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch, args: list[str],
                                       outputs: list[str], result: str | None) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = invoke(*args)
    assert code == 0, err
    assert wrote_lines(out) == []
    assert wrote_lines(err) == [f"wrote {name}" for name in outputs]
    assert all((tmp_path / name).is_file() for name in outputs)
    if result is None:
        assert out == ""
    else:
        assert result in out  # the result itself is still printed, on stdout


def test_quiet_leaves_the_result_alone(invoke: Invoke, tmp_path: Path) -> None:
    # one of the two runs diverges: a warning, not an error
    args = ["simulate", "--game", "bilinear", "--lr", "1", "--steps", "40", "--max-norm", "100",
            "--x0", "theta=1,psi=0", "--x0", "theta=0,psi=0"]
    code, loud_out, loud_err = invoke(*args, "--out", str(tmp_path / "a.csv"))
    assert code == 0 and "warning: 1 of 2 runs diverged" in loud_err
    code, out, err = invoke("-q", *args, "--out", str(tmp_path / "b.csv"))
    assert code == 0
    assert err == ""
    assert out == loud_out  # the same summary on stdout
    assert (tmp_path / "b.csv").read_bytes() == (tmp_path / "a.csv").read_bytes()


def test_quiet_still_prints_errors(invoke: Invoke) -> None:
    code, out, err = invoke("--quiet", "simulate", "--loss", "non-saturatin")
    assert code == 1 and out == ""
    assert err.startswith("error: unknown loss") and len(err.splitlines()) == 1


def test_quiet_and_verbose_contradict(invoke: Invoke) -> None:
    code, _, err = invoke("-q", "-v", "list")
    assert code == 2 and err.startswith("error:") and "--quiet" in err


def test_verbose_reports_the_derivation_cache_and_the_time(
        invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gandyn.derivation.field import _derivatives

    monkeypatch.setenv("GANDYN_CACHE_DIR", str(tmp_path / "cache"))
    _derivatives.cache_clear()  # no derivation kept in memory from other tests
    code, first_out, first = invoke("-v", "derive", "--loss", "hinge")
    assert code == 0, first
    assert "derivation of 'dirac': not in the cache, derived in" in first
    assert first.splitlines()[-1].startswith("done in ")
    assert list((tmp_path / "cache").glob("derive-*.json")), "the derivation was not stored"
    _derivatives.cache_clear()
    code, second_out, second = invoke("-v", "derive", "--loss", "hinge")
    assert code == 0, second
    assert "derivation of 'dirac': read from the cache (derive-" in second
    assert second_out == first_out  # details never reach stdout
    _derivatives.cache_clear()
    code, _, quiet = invoke("derive", "--loss", "hinge")
    assert code == 0 and quiet == ""  # without -v: no detail


def test_a_failed_command_reports_no_time(invoke: Invoke) -> None:
    code, _, err = invoke("-v", "derive", "--loss", "nope")
    assert code == 1
    assert err.splitlines()[-1].startswith("error: unknown loss")
    assert "done in" not in err


def test_no_progress_bar_without_a_terminal(invoke: Invoke) -> None:
    # long enough for a bar (steps x batch >= 200000), but stderr is captured, not a terminal
    code, out, err = invoke("simulate", "--game", "dirac", "--loss", "ns", "--batch-size",
                            "2000", "--steps", "120", "--seed", "1")
    assert code == 0, err
    assert err == ""
    assert "simulating" not in out + err and "%" not in err


def test_no_progress_bar_in_a_sweep_without_a_terminal(invoke: Invoke) -> None:
    code, _, err = invoke("sweep", "--axis", "lr=0.1:1:4", "--steps", "20",
                          "--chunk-size", "1")
    assert code == 0 and err == ""


class _Terminal(io.StringIO):
    """A stream that says it is a terminal, as a user's stderr does."""

    def isatty(self) -> bool:
        return True


def test_progress_helper_advances_and_draws_on_a_terminal() -> None:
    from gandyn.cli.output import progress

    stream = _Terminal()
    with progress(10, "working", stream=stream) as bar:
        assert bar.shown
        bar.advance(3)
        assert bar.position == 3
        bar.reach(8, 10)  # a callback reporting a count, not a step
        assert bar.position == 8
        bar.advance(5)  # never past the end
        assert bar.position == 10
    drawn = stream.getvalue()
    assert "working" in drawn and "10/10" in drawn


def test_progress_helper_counts_without_drawing_off_a_terminal() -> None:
    from gandyn.cli.output import progress, wants_progress

    stream = io.StringIO()
    assert not wants_progress(stream=stream)
    assert wants_progress(stream=_Terminal())
    assert not wants_progress(stream=_Terminal(), json_output=True)
    with progress(4, "working", stream=stream) as bar:
        assert not bar.shown
        bar.advance(2)
        assert bar.position == 2
    assert stream.getvalue() == ""


def test_quiet_hides_the_bar_even_on_a_terminal() -> None:
    from gandyn.cli.output import QUIET, set_verbosity, wants_progress

    with click.Context(click.Command("x")) as ctx:
        set_verbosity(ctx, QUIET)
        assert not wants_progress(stream=_Terminal())
        set_verbosity(ctx, 0)
        assert wants_progress(stream=_Terminal())


def test_the_animation_reports_each_frame(tmp_path: Path) -> None:
    import gandyn
    from gandyn.plotting.animation import animate_trajectory

    run = gandyn.simulate(loss="non-saturating", steps=20)
    calls: list[tuple[int, int]] = []
    animate_trajectory(run.trajectory, run.field, tmp_path / "a.gif", metadata={}, frames=4,
                       progress=lambda done, total: calls.append((done, total)))
    assert [done for done, _ in calls] == [1, 2, 3, 4]
    assert {total for _, total in calls} == {4}
