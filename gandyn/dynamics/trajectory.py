"""The record of a simulation: :class:`Trajectory`, a batch of runs on a common grid.

Made by :func:`gandyn.dynamics.discrete.simulate_rule` (discrete update rules),
:func:`gandyn.dynamics.flow.simulate_flow` (the gradient flow) and
:func:`gandyn.dynamics.minibatch.simulate_minibatch` (minibatch gradients).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np

from gandyn.arrays import Array
from gandyn.tables import Tabular

if TYPE_CHECKING:
    from gandyn.rules.base import UpdateRule

__all__ = ["Measure", "Trajectory", "rule_trajectory"]

Measure = Literal["state", "loop"]


@dataclass(frozen=True, repr=False)
class Trajectory(Tabular):
    """A batch of simulated runs.

    Attributes
    ----------
    state_names, logged_names
        Names of the state coordinates (theta..., psi...) and logged losses.
    step
        Recorded step numbers, ``(n_t,)`` (for the flow: the index on the time grid).
    t
        Recorded times, ``(n_t,)``: for discrete rules ``step * lr_g`` (the
        generator's clock), for the flow the integration time. A rule with
        per-run rates gives every run its own clock: ``(B, n_t)``.
    x
        States, ``(B, n_t, n)``; rows after a run diverged repeat its last good state.
    logged
        Logged losses, ``(B, n_t, k)`` in the order of ``logged_names``.
    diverged
        ``(B,)``: whether each run diverged.
    diverged_at
        ``(B,)``: the step (discrete) or time (flow) of divergence, NaN if none.
    method
        The update rule or ``flow``, with its settings.
    measure
        ``state`` (losses at the recorded state) or ``loop`` (as a training loop logs them).
    message
        One line on how the simulation ended.
    """

    state_names: tuple[str, ...]
    logged_names: tuple[str, ...]
    step: Array
    t: Array
    x: Array
    logged: Array
    diverged: np.ndarray[Any, np.dtype[np.bool_]]
    diverged_at: Array
    method: dict[str, Any] = field(default_factory=dict)
    measure: Measure = "state"
    message: str = ""

    @property
    def n_runs(self) -> int:
        """Number of runs in the batch."""
        return int(self.x.shape[0])

    def loss(self, name: str) -> Array:
        """The logged loss ``name`` as ``(B, n_t)``."""
        return self.logged[..., self.logged_names.index(name)]

    def coordinate(self, name: str) -> Array:
        """The state coordinate ``name`` as ``(B, n_t)``."""
        return self.x[..., self.state_names.index(name)]

    table_name: ClassVar[str] = "a trajectory"

    def _columns(self) -> dict[str, np.ndarray[Any, Any]]:
        """One row per run and record, run by run: the columns of a saved CSV run."""
        runs, records = self.x.shape[0], self.x.shape[1]
        t = np.broadcast_to(self.t, (runs, records)) if self.t.ndim == 1 else self.t
        columns: dict[str, np.ndarray[Any, Any]] = {
            "run": np.repeat(np.arange(runs, dtype=np.int64), records),
            "step": np.tile(np.asarray(self.step).astype(np.int64), runs),
            "t": np.asarray(t, dtype=np.float64).reshape(-1),
        }
        for i, name in enumerate(self.state_names):
            columns[name] = self.x[..., i].reshape(-1)
        for i, name in enumerate(self.logged_names):
            columns[name] = self.logged[..., i].reshape(-1)
        return columns

    def to_numpy(self) -> np.ndarray[Any, Any]:
        """The runs as one structured array, a row per run and record (run by run).

        Fields ``run``, ``step``, ``t``, then the state coordinates and the
        logged losses under their names, as ``gandyn simulate --out run.csv``
        writes them; ``table[name]`` is ``x`` or ``logged`` flattened over
        ``(run, record)``.
        """
        from gandyn.tables import structured

        return structured(self._columns())

    def _repr_html_(self) -> str:
        """The notebook's view: the method, then each run's start, end and last losses."""
        from gandyn.tables import MAX_HTML_ROWS, html_block, html_fields, html_table

        runs, records = self.x.shape[0], self.x.shape[1]
        header = ["run", *(f"{s} start" for s in self.state_names),
                  *(f"{s} end" for s in self.state_names),
                  *(f"{name} end" for name in self.logged_names), "diverged at"]
        rows = [[run, *self.x[run, 0], *self.x[run, -1], *self.logged[run, -1],
                 float(self.diverged_at[run]) if self.diverged[run] else None]
                for run in range(min(runs, MAX_HTML_ROWS))]
        title = (f"Trajectory: {runs} runs x {records} records, "
                 f"{self.method.get('optimizer', '?')}, measure {self.measure}")
        return html_block(title, html_fields(self.method.items(), caption="method"),
                          html_table(rows, header, caption="runs (end: the last record)",
                                     total=runs),
                          note=self.message or None)

    def __repr__(self) -> str:
        # Shapes and names only: the arrays can hold millions of numbers.
        runs, records = (self.x.shape[0], self.x.shape[1]) if self.x.ndim == 3 else (0, 0)
        return (f"Trajectory({runs} runs x {records} records, "
                f"method={self.method.get('optimizer', '?')!r}, measure={self.measure!r}, "
                f"state=({', '.join(self.state_names)}), "
                f"logged=({', '.join(self.logged_names)}), "
                f"diverged={int(np.count_nonzero(self.diverged))} of {runs})")


def _plain_rate(rate: Any) -> Any:
    return rate if isinstance(rate, float) else [float(r) for r in rate]


def rule_trajectory(rule: UpdateRule, steps: int, record_steps: list[int], xs: Array, ls: Array,
                    diverged: Any, diverged_at: Array, *, measure: Measure,
                    state_names: tuple[str, ...], logged_names: tuple[str, ...],
                    **method: Any) -> Trajectory:
    """The :class:`Trajectory` of ``steps`` of ``rule``, whichever loop recorded it.

    ``xs`` and ``ls`` hold the states and logged losses at ``record_steps``;
    ``method`` adds entries to the record of what ran (the backend). Step ``k``
    sits at ``t = k * lr_g``, on each run's own clock for per-run rates.
    """
    batch = len(diverged)
    n_div = int(np.sum(diverged))
    message = (f"{steps} steps; {n_div} of {batch} runs diverged" if n_div
               else f"{steps} steps; no run diverged")
    step_arr = np.array(record_steps, dtype=np.float64)
    clock = step_arr * rule.lr_g if isinstance(rule.lr_g, float) else (
        rule.lr_g[:, None] * step_arr)
    return Trajectory(
        state_names=state_names,
        logged_names=logged_names,
        step=step_arr,
        t=clock,
        x=xs,
        logged=ls,
        diverged=diverged,
        diverged_at=diverged_at,
        method={"optimizer": rule.name, "lr_g": _plain_rate(rule.lr_g),
                "lr_d": _plain_rate(rule.lr_d), **method},
        measure=measure,
        message=message,
    )
