"""A run over the memory budget is simulated in chunks of runs and streamed to its file.

The reference is the same run held whole (a budget it fits in): the streamed
files must hold the same bytes (CSV, NPZ and their sidecars), the summary and
its JSON the same text. A failure while streaming leaves nothing under the
user's name and no temporary file; the peak of traced memory of a streamed
run stays within its budget while the run's records are many times larger.
"""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from gandyn.cli import cli

GRID = ["--grid", "theta=-2:2:12,psi=-2:2:10", "--lr", "0.3", "--steps", "400"]


def _simulate(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["simulate", *args], prog_name="gandyn",
                                catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("run", [
    GRID,
    # the fixed-step flow: every run independent of the others, like a discrete rule
    ["--grid", "theta=-2:2:12,psi=-2:2:10", "--optimizer", "flow", "--method", "rk4",
     "--step-size", "0.05", "--t-end", "20", "--n-eval", "401"],
], ids=["simgd", "flow-rk4"])
@pytest.mark.parametrize("suffix", [".csv", ".npz"])
def test_a_streamed_run_writes_the_bytes_of_a_run_held_whole(tmp_path: Path, run: list[str],
                                                            suffix: str) -> None:
    whole, streamed = tmp_path / f"whole{suffix}", tmp_path / f"streamed{suffix}"
    code, text_whole, _ = _simulate(*run, "--out", str(whole))
    assert code == 0
    # 120 runs x 401 records x 7 values take about 5 MiB as the budget counts them.
    code, text_streamed, err = _simulate(*run, "--out", str(streamed), "--max-memory", "1M")
    assert code == 0, err
    assert streamed.read_bytes() == whole.read_bytes()
    meta = Path(f"{streamed}.meta.json").read_bytes()
    assert meta == Path(f"{whole}.meta.json").read_bytes()
    assert text_streamed == text_whole
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [whole.name, streamed.name, f"{whole.name}.meta.json", f"{streamed.name}.meta.json"])


def test_a_streamed_run_prints_the_same_csv_and_json_summary(tmp_path: Path) -> None:
    code, csv_whole, _ = _simulate(*GRID, "--out", "-")
    code2, csv_streamed, _ = _simulate(*GRID, "--out", "-", "--max-memory", "1M")
    assert code == code2 == 0 and csv_streamed == csv_whole
    _, json_whole, _ = _simulate(*GRID, "--json")
    _, json_streamed, _ = _simulate(*GRID, "--json", "--max-memory", "1M")
    assert json.loads(json_streamed) == json.loads(json_whole)
    assert len(json.loads(json_whole)["runs"]) == 120


def test_a_streamed_figure_draws_a_few_evenly_spaced_runs(tmp_path: Path) -> None:
    from gandyn.runs.chunked import MAX_FIGURE_RUNS, figure_runs

    figure = tmp_path / "fig.png"
    code, _, err = _simulate(*GRID, "--plot", str(figure), "--max-memory", "1M")
    assert code == 0, err
    meta = json.loads(Path(f"{figure}.json").read_text())
    data = np.load(f"{figure}.data.npz")
    runs = meta["metadata"]["runs"]
    assert runs[0] == 0 and runs[-1] == 119 and np.all(np.diff(runs) > 0)
    assert data["x"].shape[0] == len(runs) and 2 < len(runs) <= MAX_FIGURE_RUNS
    assert np.ptp(np.diff(runs)) <= 1  # evenly spaced, to the nearest run
    assert tuple(runs) == figure_runs(120, len(runs))


def test_an_adaptive_flow_in_chunks_agrees_within_its_tolerances() -> None:
    from gandyn.runs.build import build, run
    from gandyn.runs.chunked import chunk_size, run_chunked
    from gandyn.runs.spec import RunSpec, merge

    starts = [{"theta": float(a), "psi": 1.0} for a in np.linspace(-2.0, 2.0, 40)]
    spec = merge(RunSpec(), optimizer="flow", starts=starts,
                 settings={"t_end": 10.0, "n_eval": 1601})
    whole = run(build(spec)).trajectory
    built = build(spec, max_memory="1M", streamed=True)
    chunk = chunk_size(built)
    assert 1 <= chunk < 40
    kept: list[np.ndarray] = []
    result = run_chunked(built, chunk, lambda traj: kept.append(traj.x))
    np.testing.assert_allclose(np.concatenate(kept), whole.x, rtol=1e-6, atol=1e-7)
    assert result.run_summary().n_runs == 40


def test_a_failure_while_streaming_leaves_nothing(tmp_path: Path) -> None:
    from gandyn.io.trajectory_files import stream_trajectory
    from gandyn.runs.build import build
    from gandyn.runs.chunked import chunk_size, run_chunked
    from gandyn.runs.spec import RunSpec, merge

    starts = [{"theta": float(a)} for a in np.linspace(-2.0, 2.0, 50)]
    built = build(merge(RunSpec(), steps=1000, starts=starts), max_memory="1M", streamed=True)
    chunk = chunk_size(built)

    class StopStreamingError(Exception):
        pass

    for suffix in (".csv", ".npz"):
        seen: list[int] = []

        def failing(sink: object, seen: list[int] = seen) -> object:
            def after_two(traj: object) -> None:
                seen.append(1)
                if len(seen) == 3:
                    raise StopStreamingError
                sink(traj)  # type: ignore[operator]

            return run_chunked(built, chunk, after_two)

        with pytest.raises(StopStreamingError):
            stream_trajectory(failing, tmp_path / f"run{suffix}", built.spec.to_dict(),
                              n_runs=50)
        assert list(tmp_path.iterdir()) == []  # no partial file, no temporary, no sidecar
    # An existing file is kept: refused without force, before any work.
    existing = tmp_path / "run.csv"
    existing.write_text("mine\n")
    code, _, err = _simulate(*GRID, "--out", str(existing), "--max-memory", "1M")
    assert code != 0 and "refusing to overwrite" in err and existing.read_text() == "mine\n"


@pytest.mark.slow  # 25 chunks of 400 steps under tracemalloc: tens of seconds
def test_the_peak_of_a_streamed_run_stays_within_its_budget(tmp_path: Path) -> None:
    from dataclasses import replace

    from gandyn.io.trajectory_files import stream_trajectory
    from gandyn.runs.build import build
    from gandyn.runs.chunked import chunk_size, run_chunked
    from gandyn.runs.spec import RunSpec, merge

    budget = 2 * 2**20
    starts = [{"theta": float(a), "psi": float(b)}
              for a in np.linspace(-2, 2, 20) for b in np.linspace(-2, 2, 10)]
    built = build(merge(RunSpec(), steps=400, starts=starts), max_memory=budget, streamed=True)
    run_chunked(replace(built, x0=built.x0[:1]), 1)  # first calls (caches) outside the measure
    records = 200 * 401 * 7 * 8  # the bytes of x and logged the NPZ holds: 4.5 MB
    chunk = chunk_size(built)
    assert chunk < 200 / 10
    for suffix in (".npz", ".csv"):
        tracemalloc.start()
        stream_trajectory(lambda sink: run_chunked(built, chunk, sink),
                          tmp_path / f"run{suffix}", built.spec.to_dict(), n_runs=200)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert peak < budget < records / 2, (suffix, peak)
    saved = np.load(tmp_path / "run.npz")
    assert saved["x"].shape == (200, 401, 2) and saved["logged"].shape == (200, 401, 5)


@pytest.mark.parametrize(("args", "fragment"), [
    # one run alone over a quarter of the budget: chunks of runs cannot help
    (["--steps", "200000", "--x0", "theta=1", "--x0", "theta=2", "--max-memory", "4M"],
     "a chunk of a streamed run may take"),
    # minibatches share their draws across the batch: never split
    ([*GRID, "--batch-size", "4", "--max-memory", "1M"], "raise --max-memory"),
    # a JSON document is held whole
    ([*GRID, "--out", "run.json", "--max-memory", "1M"], "write --out as .csv or .npz"),
])
def test_what_cannot_be_streamed_is_refused_in_one_line(args: list[str], fragment: str,
                                                       tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = _simulate(*args)
    assert code != 0 and out == ""
    assert fragment in err and len(err.strip().splitlines()) == 1, err
    assert list(tmp_path.iterdir()) == []
