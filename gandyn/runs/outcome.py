"""What a run's summary needs of every run, without its records: :class:`RunSummary`.

A run of many starts holds ``runs x records x values`` numbers; the summary
``gandyn simulate`` prints and its ``--json`` need of each run only its start,
its final state, its divergence and the range of each logged loss. A
:class:`RunSummary` holds those ``(runs, values)`` arrays. It is made from a
whole trajectory (:meth:`RunSummary.of`) or joined from the summaries of the
chunks of runs a run over the memory budget is simulated in
(:meth:`RunSummary.join`, :mod:`gandyn.runs.chunked`), with the same result.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from gandyn.arrays import Array, BoolArray

if TYPE_CHECKING:
    from gandyn.dynamics.trajectory import Trajectory

__all__ = ["RunSummary"]

#: The divergence count in a simulator's message (``3 of 100 runs diverged``).
_COUNT = re.compile(r"\d+ of \d+ runs diverged|no run diverged")


@dataclass(frozen=True)
class RunSummary:
    """Per run: start, final state, divergence and the range of each logged loss.

    Attributes
    ----------
    state_names, logged_names, method, measure
        As in :class:`~gandyn.dynamics.trajectory.Trajectory`.
    message
        How the simulation ended, counting the divergence of every run.
    n_records
        Records of each run.
    start, final
        The first and last recorded states, ``(B, n)``.
    diverged, diverged_at
        ``(B,)``, as in the trajectory.
    low, high
        Each logged loss's ``nanmin`` and ``nanmax`` over the records, ``(B, k)``
        (an infinite value counts; NaN where every record is NaN).
    finite_min, finite_max, finite_final
        The smallest, largest and last finite value of each logged loss,
        ``(B, k)``; NaN where none is finite.
    """

    state_names: tuple[str, ...]
    logged_names: tuple[str, ...]
    method: dict[str, Any]
    measure: str
    message: str
    n_records: int
    start: Array
    final: Array
    diverged: BoolArray
    diverged_at: Array
    low: Array
    high: Array
    finite_min: Array
    finite_max: Array
    finite_final: Array

    @property
    def n_runs(self) -> int:
        """Number of runs."""
        return int(self.start.shape[0])

    @classmethod
    def of(cls, traj: Trajectory) -> RunSummary:
        """The summary of every run of ``traj``."""
        logged = np.asarray(traj.logged, dtype=np.float64)  # (B, n_t, k)
        finite = np.isfinite(logged)
        any_finite = finite.any(axis=1)
        with warnings.catch_warnings():  # a loss NaN throughout is a result, not a warning
            warnings.simplefilter("ignore", RuntimeWarning)
            low = np.nanmin(logged, axis=1) if logged.shape[1] else _nan(logged)
            high = np.nanmax(logged, axis=1) if logged.shape[1] else _nan(logged)
        finite_min = np.where(any_finite, np.where(finite, logged, np.inf).min(axis=1), np.nan)
        finite_max = np.where(any_finite, np.where(finite, logged, -np.inf).max(axis=1), np.nan)
        last = logged.shape[1] - 1 - np.argmax(finite[:, ::-1], axis=1)  # (B, k)
        final_values = np.take_along_axis(logged, last[:, None, :], axis=1)[:, 0]
        return cls(
            state_names=tuple(traj.state_names), logged_names=tuple(traj.logged_names),
            method=dict(traj.method), measure=str(traj.measure), message=traj.message,
            n_records=int(traj.x.shape[1]),
            start=np.array(traj.x[:, 0], dtype=np.float64),
            final=np.array(traj.x[:, -1], dtype=np.float64),
            diverged=np.array(traj.diverged, dtype=bool),
            diverged_at=np.array(traj.diverged_at, dtype=np.float64),
            low=low, high=high, finite_min=finite_min, finite_max=finite_max,
            finite_final=np.where(any_finite, final_values, np.nan))

    @classmethod
    def join(cls, parts: Sequence[RunSummary]) -> RunSummary:
        """The summary of the runs of ``parts`` in order, as one simulation of them all.

        The message is that of the first part with the divergence count of
        every run (and a stop a later part reports, such as a solver's).
        """
        first = parts[0]

        def stacked(name: str) -> Any:
            return np.concatenate([getattr(part, name) for part in parts])

        diverged = stacked("diverged")
        n_div, total = int(diverged.sum()), len(diverged)
        counted = f"{n_div} of {total} runs diverged" if n_div else "no run diverged"
        messages = [_COUNT.sub(counted, part.message, count=1) for part in parts]
        message = max(messages, key=len)  # a stop is added to the message: the longest
        return cls(
            state_names=first.state_names, logged_names=first.logged_names,
            method=first.method, measure=first.measure, message=message,
            n_records=first.n_records, start=stacked("start"), final=stacked("final"),
            diverged=diverged, diverged_at=stacked("diverged_at"), low=stacked("low"),
            high=stacked("high"), finite_min=stacked("finite_min"),
            finite_max=stacked("finite_max"), finite_final=stacked("finite_final"))

    def loss_index(self, name: str) -> int:
        """The column of the logged loss ``name``."""
        return self.logged_names.index(name)


def _nan(logged: Array) -> Array:
    return np.full((logged.shape[0], logged.shape[2]), np.nan)
