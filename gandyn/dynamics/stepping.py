"""The one step loop: iterate an update rule on a batch, freezing the runs that diverge.

:func:`gandyn.dynamics.discrete.simulate_rule` (and through it the minibatch
mode) and the sweep's chunks (:mod:`gandyn.sweeps.chunk`) all advance their
batches with :class:`StepLoop`; each reads what it records from the loop's
state after every step.

Divergence is a result, not a crash: a run whose state becomes non-finite or
leaves the ball ``|x|_inf <= max_norm`` is frozen at its last good state (its
buffers too) and marked diverged with the step at which that happened; the
others go on.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from gandyn.arrays import Array, BoolArray
from gandyn.rules.base import FieldFunctions, StepResult, UpdateRule

__all__ = ["StepLoop", "outside_ball"]


def outside_ball(x: Array, max_norm: float) -> BoolArray:
    """Per run (all axes but the last): non-finite, or ``max_i |x_i| > max_norm``."""
    # Fast path: one reduction over the whole batch (NaN propagates through max).
    # Row-wise reductions over a short last axis are slow in numpy.
    with np.errstate(invalid="ignore"):
        largest = np.max(np.abs(x)) if x.size else 0.0
    if np.isfinite(largest) and largest <= max_norm:
        return np.zeros(x.shape[:-1], dtype=bool)
    with np.errstate(invalid="ignore"):
        bad: BoolArray = ~np.all(np.isfinite(x), axis=-1) | (
            np.max(np.abs(x), axis=-1) > max_norm
        )
    return bad


class StepLoop:
    """An update rule iterated on a batch of states, with divergence masking.

    Parameters
    ----------
    rule
        The update rule (its rates and settings).
    field
        The numeric game.
    x0
        Initial states ``(B, n)``, used as given (no copy, so a caller may
        choose their memory layout; the loop never writes into them).
    max_norm
        A run whose ``max |x_i|`` exceeds this, or that becomes non-finite,
        diverges (a start outside the ball diverges at step 0).
    project
        Applied to the state after every step (WGAN weight clipping).

    Attributes
    ----------
    x, buffers
        The current states and the rule's buffers (diverged runs frozen).
    last
        The last step's :class:`~gandyn.rules.base.StepResult`, before masking
        (its ``seen_by_d``, ``seen_by_g`` are what a training loop logs).
    diverged, diverged_at
        ``(B,)``: whether each run diverged, and the step at which (NaN if not).

    Notes
    -----
    Iterate :meth:`run` inside ``np.errstate(all="ignore")``: a diverging run
    overflows, and that is a result. While no run has diverged, a step costs
    the rule's step and one reduction over the batch.
    """

    def __init__(self, rule: UpdateRule, field: FieldFunctions, x0: Array, *, max_norm: float,
                 project: Callable[[Array], Array] | None = None) -> None:
        self.rule = rule
        self.field = field
        self.max_norm = float(max_norm)
        self.project = project
        self.x = x0
        self.buffers = rule.init_buffers(x0)
        self.diverged: BoolArray = outside_ball(x0, self.max_norm)
        self.diverged_at: Array = np.where(self.diverged, 0.0, np.nan)
        self.any_diverged = bool(self.diverged.any())
        self.last: StepResult | None = None

    @property
    def all_diverged(self) -> bool:
        """Whether every run has diverged (nothing is left to step)."""
        return self.any_diverged and bool(self.diverged.all())

    def run(self, steps: int) -> Iterator[int]:
        """Take steps ``1..steps``, yielding each ``k`` once its state is in place.

        Stops early, after yielding the step, once every run has diverged.
        """
        rule, field, project = self.rule, self.field, self.project
        max_norm = self.max_norm
        # With a finite bound, ``largest <= max_norm`` already refuses inf and NaN.
        bound_finite = math.isfinite(max_norm)
        for k in range(1, steps + 1):
            result = rule.step(field, self.x, self.buffers, k)
            self.last = result
            new = result.x if project is None else project(result.x)
            largest: Any = np.max(np.abs(new)) if new.size else 0.0
            if (not self.any_diverged and largest <= max_norm
                    and (bound_finite or math.isfinite(largest))):
                self.x, self.buffers = new, result.buffers
            else:
                self._mask(k, new, result.buffers)
            yield k
            if self.any_diverged and bool(self.diverged.all()):
                return

    def _mask(self, k: int, new: Array, buffers: dict[str, Array]) -> None:
        """Mark the runs that left the ball at step ``k``; keep the others' new state."""
        bad = outside_ball(new, self.max_norm) & ~self.diverged
        if bad.any():
            self.diverged_at[bad] = k
            self.diverged |= bad
            self.any_diverged = True
        if self.any_diverged:  # freeze diverged runs; otherwise no copy is needed
            keep = ~self.diverged[:, None]
            self.x = np.where(keep, new, self.x)
            self.buffers = {name: np.where(keep, value, self.buffers[name])
                            for name, value in buffers.items()}
        else:
            self.x, self.buffers = new, buffers
