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
from typing import Any, cast

import numpy as np

from gandyn.arrays import Array, BoolArray
from gandyn.rules.base import FieldFunctions, StepResult, UpdateRule

__all__ = ["StepLoop", "outside_ball"]

IntArray = np.ndarray[Any, np.dtype[np.intp]]


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
        Initial states ``(B, n)``; the loop never writes into them.
    max_norm
        A run whose ``max |x_i|`` exceeds this, or that becomes non-finite,
        diverges (a start outside the ball diverges at step 0).
    project
        Applied to the state after every step (WGAN weight clipping).

    Attributes
    ----------
    x, buffers
        The current states ``(B, n)`` and the rule's buffers (diverged runs
        frozen at their last good state), as views valid until the next step.
    last
        The last step's :class:`~gandyn.rules.base.StepResult`, before masking
        (its ``seen_by_d``, ``seen_by_g`` are what a training loop logs).
    diverged, diverged_at
        ``(B,)``: whether each run diverged, and the step at which (NaN if not).

    Notes
    -----
    Iterate :meth:`run` inside ``np.errstate(all="ignore")``: a diverging run
    overflows, and that is a result.

    The loop holds states and buffers coordinate-first, ``(n, B)``, in two
    sets that the rule's in-place step
    (:meth:`~gandyn.rules.base.UpdateRule.advance`) alternates: no state is
    copied or allocated per step. While no run has diverged, a step costs the
    rule's step and two reductions (the batch's largest and smallest entry).
    A run that diverges is frozen (its state kept apart) and its slot set to
    zero, which the field maps to finite values, so that the check stays two
    reductions; once the frozen runs reach an eighth of the work, the loop
    drops them: it goes on with the live runs only (the rule and the field
    restricted to them, :meth:`~gandyn.rules.base.FieldFunctions.subset`). A
    field that cannot be restricted (a plain callable, a stochastic one) keeps
    every slot.
    """

    def __init__(self, rule: UpdateRule, field: FieldFunctions, x0: Array, *, max_norm: float,
                 project: Callable[[Array], Array] | None = None) -> None:
        self.rule = rule
        self.field = field
        self.max_norm = float(max_norm)
        self.project = project
        x0 = np.asarray(x0, dtype=np.float64)
        batch, n = x0.shape
        self._batch = batch
        self._current = np.array(x0.T, order="C")  # a copy: the loop writes into its sets
        self._next = np.empty_like(self._current)
        self._buffers = {name: np.ascontiguousarray(np.asarray(value, dtype=np.float64).T)
                         for name, value in rule.init_buffers(x0).items()}
        self._next_buffers = {name: np.empty_like(v) for name, v in self._buffers.items()}
        # the work: every run, until diverged runs are dropped
        self._rule = rule
        self._field = field
        self._runs: IntArray | None = None  # the runs in the work (None: all, in order)
        self._dead = np.zeros(0, dtype=np.intp)  # slots of the work whose run diverged
        self._frozen_x = np.zeros((n, batch))  # the diverged runs' states and buffers
        self._frozen_buffers = {name: np.zeros((n, batch)) for name in self._buffers}
        self.diverged: BoolArray = outside_ball(x0, self.max_norm)
        self.diverged_at: Array = np.where(self.diverged, 0.0, np.nan)
        self.any_diverged = bool(self.diverged.any())
        self._last: StepResult | None = None
        self._views: dict[str, Any] = {}
        if self.any_diverged:
            self._freeze(np.flatnonzero(self.diverged))

    @property
    def all_diverged(self) -> bool:
        """Whether every run has diverged (nothing is left to step)."""
        return self.any_diverged and bool(self.diverged.all())

    # -- the full batch, as the callers see it -------------------------------------------------

    def _full(self, work: Array, frozen: Array) -> Array:
        """``(B, n)``: the work's rows for live runs, the frozen ones for diverged runs."""
        if self._runs is None and not self._dead.size:
            return work.T
        full = frozen.copy()
        live = self._live_slots()
        runs = self._runs if self._runs is not None else np.arange(self._batch)
        full[:, runs[live]] = work[:, live]
        return full.T

    def _live_slots(self) -> Any:
        if not self._dead.size:
            return slice(None)
        live = np.ones(self._current.shape[1], dtype=bool)
        live[self._dead] = False
        return live

    @property
    def x(self) -> Array:
        """The current states ``(B, n)``."""
        cached = self._views.get("x")
        if cached is None:
            cached = self._views["x"] = self._full(self._current, self._frozen_x)
        return cast(Array, cached)

    @property
    def work(self) -> tuple[Array, IntArray | None]:
        """The states being stepped, coordinate-first ``(n, W)``, and the runs they hold.

        ``runs`` is ``None`` while the work holds every run in order (``W = B``);
        once the loop drops diverged runs it is the runs' indices, a new array at
        each drop (compare it by identity to see the layout change). A run that
        diverged since the last drop still has a slot here, holding zeros. A
        caller that follows only the live runs reads this instead of :attr:`x`,
        which copies every run's state once any has diverged. Valid until the
        next step.
        """
        return self._current, self._runs

    @property
    def buffers(self) -> dict[str, Array]:
        """The rule's current buffers, each ``(B, n)``."""
        cached = self._views.get("buffers")
        if cached is None:
            cached = self._views["buffers"] = {
                name: self._full(value, self._frozen_buffers[name])
                for name, value in self._buffers.items()}
        return cast(dict[str, Array], cached)

    @property
    def last(self) -> StepResult | None:
        """The last step's result, ``(B, n)`` arrays (a diverged run's rows: its frozen state)."""
        result = self._last
        if result is None or (self._runs is None and not self._dead.size):
            return result
        cached = self._views.get("last")
        if cached is None:
            def full(value: Array) -> Array:
                return self._full(np.ascontiguousarray(value.T), self._frozen_x)

            cached = self._views["last"] = StepResult(
                full(result.x), {k: full(v) for k, v in result.buffers.items()},
                full(result.seen_by_d), full(result.seen_by_g))
        return cast(StepResult, cached)

    # -- stepping ------------------------------------------------------------------------------

    def run(self, steps: int) -> Iterator[int]:
        """Take steps ``1..steps``, yielding each ``k`` once its state is in place.

        Stops early, after yielding the step, once every run has diverged.
        """
        project = self.project
        max_norm = self.max_norm
        # With a finite bound, ``largest <= max_norm`` already refuses inf and NaN.
        bound_finite = math.isfinite(max_norm)
        for k in range(1, steps + 1):
            new, new_buffers = self._next, self._next_buffers
            self._last = self._rule.advance(self._field, self._current, self._buffers, k, new,
                                            new_buffers)
            self._views.clear()
            if project is not None:
                np.copyto(new, np.asarray(project(new.T)).T)
            if self._dead.size:  # diverged runs' slots stay at zero, inside the ball
                new[:, self._dead] = 0.0
                for value in new_buffers.values():
                    value[:, self._dead] = 0.0
            largest, smallest = new.max(), new.min()
            if (largest <= max_norm and -smallest <= max_norm
                    and (bound_finite or (math.isfinite(largest) and math.isfinite(smallest)))):
                self._swap()
            else:
                self._mask(k)
            yield k
            if self.all_diverged:
                return

    def _swap(self) -> None:
        self._current, self._next = self._next, self._current
        self._buffers, self._next_buffers = self._next_buffers, self._buffers

    def _mask(self, k: int) -> None:
        """Freeze the runs that left the ball at step ``k`` (at their state before it)."""
        new = self._next
        with np.errstate(invalid="ignore"):
            bad_slots = np.flatnonzero(~np.all(np.abs(new) <= self.max_norm, axis=0)
                                       | ~np.all(np.isfinite(new), axis=0))
        runs = self._runs[bad_slots] if self._runs is not None else bad_slots
        self.diverged_at[runs] = k
        self.diverged[runs] = True
        self.any_diverged = True
        # the step's values of the others stand; the diverged keep the state before it
        new[:, bad_slots] = self._current[:, bad_slots]
        for name, value in self._next_buffers.items():
            value[:, bad_slots] = self._buffers[name][:, bad_slots]
        self._swap()
        self._freeze(runs, bad_slots)

    def _freeze(self, runs: IntArray, slots: IntArray | None = None) -> None:
        """Keep the states of ``runs`` (in the work's ``slots``) apart; zero or drop their slots."""
        slots = runs if slots is None else slots
        self._frozen_x[:, runs] = self._current[:, slots]
        for name, value in self._buffers.items():
            self._frozen_buffers[name][:, runs] = value[:, slots]
        self._dead = np.union1d(self._dead, slots)
        if not self.all_diverged and 8 * self._dead.size >= self._current.shape[1]:
            self._drop()
        if self._dead.size:
            self._current[:, self._dead] = 0.0
            for value in self._buffers.values():
                value[:, self._dead] = 0.0

    def _drop(self) -> None:
        """Go on with the live runs only, if the rule and the field can be restricted to them."""
        live = np.ones(self._current.shape[1], dtype=bool)
        live[self._dead] = False
        field = self.field.subset(self._live_runs(live))
        if field is None:
            return
        runs = self._live_runs(live)
        last = self.last  # the step's result in the layout it was computed in
        self._views.clear()
        if last is not None:
            self._views["last"] = last
        self._rule = self.rule.subset(runs)
        self._field = field
        self._runs = runs
        self._current = np.ascontiguousarray(self._current[:, live])
        self._next = np.empty_like(self._current)
        self._buffers = {k: np.ascontiguousarray(v[:, live]) for k, v in self._buffers.items()}
        self._next_buffers = {k: np.empty_like(v) for k, v in self._buffers.items()}
        self._dead = np.zeros(0, dtype=np.intp)

    def _live_runs(self, live: BoolArray) -> IntArray:
        return self._runs[live] if self._runs is not None else np.flatnonzero(live)
