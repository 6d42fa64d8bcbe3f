"""A run over the memory budget, simulated in chunks of runs: :func:`run_chunked`.

A batch of starts whose records would not fit in the memory budget
(:func:`gandyn.limits.run_chunk`) is simulated a chunk of runs at a time,
each chunk by the same simulators as a whole batch (``simulate_rule``,
``simulate_flow``). Each chunk's trajectory is handed to a sink (the file
writers of :mod:`gandyn.io.trajectory_files` append it to the output file)
and then dropped; what is kept is what the summary and the figure need: a
:class:`~gandyn.runs.outcome.RunSummary` of every run and the records of a
few runs for the figure (:func:`figure_runs`).

The runs of a discrete rule and of the fixed-step ``rk4`` flow do not depend
on the other runs of their batch, so the chunks give the very records of the
whole batch. An adaptive flow method (``RK45``, ...) chooses its steps for the
whole stacked system, so each chunk takes its own steps: the records agree
with the whole batch's within the tolerances, not bit for bit. Minibatch
runs share their draws across the batch and are never split
(:func:`gandyn.limits.check_run_memory`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from gandyn.runs.build import Built, RunResult, _simulate
from gandyn.runs.outcome import RunSummary

if TYPE_CHECKING:
    from gandyn.dynamics.trajectory import Trajectory

__all__ = ["MAX_FIGURE_RUNS", "chunk_size", "figure_runs", "run_chunked", "simulate_chunks"]

#: Runs a streamed run keeps for its figure: the phase portrait of more paths is a blot.
MAX_FIGURE_RUNS = 64


def chunk_size(built: Built) -> int:
    """Runs per chunk: every run when their records fit in the budget (one chunk).

    See :func:`gandyn.limits.run_chunk`; a minibatch run is always one chunk.
    """
    from gandyn.limits import run_chunk

    spec = built.spec
    n_runs = int(built.x0.shape[0])
    if spec.minibatch is not None:
        return n_runs
    flow = spec.flow_settings() if spec.rule.name == "flow" else {}
    return run_chunk(n_runs=n_runs, n_state=int(built.x0.shape[1]),
                     n_logged=len(built.field.logged_names), steps=spec.steps,
                     every=spec.every, n_eval=int(flow["n_eval"]) if flow else None,
                     max_memory=built.max_memory)


def figure_runs(n_runs: int, chunk: int) -> tuple[int, ...]:
    """The runs a streamed run keeps for its figure: evenly spaced, run 0 first.

    At most :data:`MAX_FIGURE_RUNS`, and at most ``chunk`` (their records take
    no more memory than one chunk's).
    """
    count = max(1, min(n_runs, MAX_FIGURE_RUNS, chunk))
    return tuple(int(i) for i in np.unique(np.linspace(0, n_runs - 1, count).round()))


def simulate_chunks(built: Built, chunk: int,
                    progress: Callable[[int], None] | None = None) -> Iterator[Trajectory]:
    """The trajectories of ``built``'s runs, ``chunk`` runs at a time, in order."""
    for first in range(0, int(built.x0.shape[0]), chunk):
        part = replace(built, x0=built.x0[first:first + chunk])
        yield _simulate(part, progress)


def run_chunked(built: Built, chunk: int, sink: Callable[[Trajectory], None] | None = None,
                progress: Callable[[int], None] | None = None) -> RunResult:
    """Simulate ``built`` ``chunk`` runs at a time, handing each chunk to ``sink``.

    Parameters
    ----------
    built
        The run (:func:`gandyn.runs.build.build`, with ``streamed=True`` for a
        batch over the budget).
    chunk
        Runs per chunk (:func:`chunk_size`).
    sink
        Called with each chunk's trajectory, in the order of the runs (e.g. a
        writer appending it to a file); ``None``: the records are dropped.
    progress
        Called with the number of steps done since the last call, for every
        chunk (the total is ``steps`` times the number of chunks).

    Returns
    -------
    RunResult
        Its ``summary`` covers every run; its ``trajectory`` holds only the
        runs of :func:`figure_runs`, listed in ``kept_runs``.
    """
    n_runs = int(built.x0.shape[0])
    kept = figure_runs(n_runs, chunk)
    summaries: list[RunSummary] = []
    pieces: list[Trajectory] = []
    for index, traj in enumerate(simulate_chunks(built, chunk, progress)):
        first = index * chunk
        if sink is not None:
            sink(traj)
        summaries.append(RunSummary.of(traj))
        mine = [run - first for run in kept if first <= run < first + traj.n_runs]
        if mine:
            pieces.append(_select(traj, mine))
        del traj  # the chunk's records go once it is written
    summary = RunSummary.join(summaries)
    figure = pieces[0] if len(pieces) == 1 else replace(
        pieces[0],
        x=np.concatenate([p.x for p in pieces]),
        logged=np.concatenate([p.logged for p in pieces]),
        diverged=np.concatenate([p.diverged for p in pieces]),
        diverged_at=np.concatenate([p.diverged_at for p in pieces]))
    figure = replace(figure, message=summary.message)
    return RunResult(built.spec, built.field, figure, summary=summary, kept_runs=kept)


def _select(traj: Trajectory, runs: list[int]) -> Trajectory:
    """``traj`` with only ``runs`` (copies: the chunk's arrays can then be freed)."""
    t = traj.t if np.ndim(traj.t) == 1 else traj.t[runs]
    return replace(traj, t=np.array(t), x=traj.x[runs].copy(), logged=traj.logged[runs].copy(),
                   diverged=traj.diverged[runs].copy(), diverged_at=traj.diverged_at[runs].copy())
