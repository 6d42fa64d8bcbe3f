"""The record of a simulation: :class:`Trajectory`, a batch of runs on a common grid.

Made by :func:`gandyn.dynamics.discrete.simulate_rule` (discrete update rules),
:func:`gandyn.dynamics.flow.simulate_flow` (the gradient flow) and
:func:`gandyn.dynamics.minibatch.simulate_minibatch` (minibatch gradients).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from gandyn.arrays import Array

__all__ = ["Measure", "Trajectory"]

Measure = Literal["state", "loop"]


@dataclass(frozen=True, repr=False)
class Trajectory:
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

    def __repr__(self) -> str:
        # Shapes and names only: the arrays can hold millions of numbers.
        runs, records = (self.x.shape[0], self.x.shape[1]) if self.x.ndim == 3 else (0, 0)
        return (f"Trajectory({runs} runs x {records} records, "
                f"method={self.method.get('optimizer', '?')!r}, measure={self.measure!r}, "
                f"state=({', '.join(self.state_names)}), "
                f"logged=({', '.join(self.logged_names)}), "
                f"diverged={int(np.count_nonzero(self.diverged))} of {runs})")
