"""The limits every input is checked against: each value's range and the memory budget.

Two kinds of limit, each declared once here and used by both the command line
(:mod:`gandyn.cli.options` turns a range into the option's type) and the
library (:meth:`gandyn.runs.spec.RunSpec.check`, :func:`gandyn.equilibria.analyze`,
the sweep plan), so that both refuse the same values:

* :data:`RANGES`: the values a parameter may take (``seed`` from 0 to
  ``2**32 - 1``, learning rates positive and finite, ...). :func:`check_value`
  raises :class:`~gandyn.errors.SpecError` naming the parameter between
  backticks (the command line shows it as its flag).
* the memory budget: :func:`check_memory` compares an estimate of the bytes a
  command will allocate with ``max_memory`` (default :data:`DEFAULT_MAX_MEMORY`)
  *before* anything is allocated, and refuses in one line naming what is too
  large and the limit. The estimates (:func:`trajectory_bytes`, ...) count the
  arrays that grow with the request: float64 values at 8 bytes each, times a
  small factor for the working copies the computation makes (see each
  function). They are estimates, not measurements: they cover the arrays
  that grow with the request (not the interpreter and its libraries), at
  least as large as those arrays (``tests/runs/test_limits.py`` checks a
  run's recorded arrays against :func:`trajectory_bytes`).

A float64 takes 8 bytes; numpy seeds (``SeedSequence``) are non-negative integers.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from gandyn.errors import SpecError

__all__ = [
    "DEFAULT_MAX_MEMORY",
    "KEPT_PER_RUN",
    "MAX_QUADRATURE_ORDER",
    "RANGES",
    "STREAM_SHARE",
    "Range",
    "check_memory",
    "check_run_memory",
    "check_value",
    "format_bytes",
    "minibatch_bytes",
    "parse_memory",
    "path_bytes",
    "run_chunk",
    "starts_bytes",
    "sweep_bytes",
    "trajectory_bytes",
]

#: The memory budget when none is given: 2 GiB, which a laptop survives.
DEFAULT_MAX_MEMORY = 2 * 1024**3

#: A run whose records would not fit in the budget is simulated in chunks of runs, each
#: taking at most this fraction of the budget (:func:`run_chunk`): the chunk's records, the
#: copies its writer makes and what is kept of every run stay together within the budget.
STREAM_SHARE = 0.25

#: Bytes a streamed run keeps of each run whatever its records: its summary (start, final
#: state, divergence, loss ranges: about 250 bytes for the Dirac-GAN) and its start in the
#: spec the sidecar records, with the JSON text made of it (about 1.4 KB measured by
#: ``benchmarks/bench_memory.py``).
KEPT_PER_RUN = 2048

#: Largest Gauss quadrature order. numpy's Gauss-Hermite weights ``exp(-x**2 / 2)`` of the
#: outermost node fall below the smallest normal double (about 2.2e-308) at order 371 and the
#: rule returns NaN from order 372; each node also adds a term to every derivative, so an order
#: in the hundreds already takes minutes to derive. 200 keeps every weight a normal double and
#: a derivation within about a minute.
MAX_QUADRATURE_ORDER = 200

#: Bytes of one float64 value.
_FLOAT = 8


@dataclass(frozen=True)
class Range:
    """The values a parameter may take.

    Attributes
    ----------
    low, high
        Bounds (``None``: unbounded on that side, but always finite).
    integer
        Whether the value must be an integer.
    low_open
        Whether ``low`` itself is excluded (``lr > 0``).
    """

    low: float | None = None
    high: float | None = None
    integer: bool = False
    low_open: bool = False

    def describe(self) -> str:
        """The range in words: ``an integer from 0 to 4294967295``, ``a finite number > 0``."""
        kind = "an integer" if self.integer else "a finite number"
        if self.low is not None and self.high is not None and not self.low_open:
            return f"{kind} from {_show(self.low)} to {_show(self.high)}"
        parts = []
        if self.low is not None:
            parts.append(f"{'>' if self.low_open else '>='} {_show(self.low)}")
        if self.high is not None:
            parts.append(f"<= {_show(self.high)}")
        return f"{kind} {' and '.join(parts)}".rstrip()

    def contains(self, value: object) -> bool:
        """Whether ``value`` (a number) lies in the range."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if self.integer and not (isinstance(value, int) or float(value).is_integer()):
            return False
        if not math.isfinite(value):
            return False
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return self.high is None or value <= self.high


def _show(bound: float) -> str:
    exponent = math.log10(abs(bound)) if bound else 0.0
    if abs(bound) >= 1e7 and exponent.is_integer():
        return f"{'-' if bound < 0 else ''}1e{int(exponent)}"  # 1e12, not 1000000000000
    if float(bound).is_integer() and abs(bound) < 1e16:
        return str(int(bound))
    return f"{bound:g}"


_POSITIVE = Range(0.0, None, low_open=True)
_RATE = Range(0.0, 1e6, low_open=True)
_FINITE = Range(-1e12, 1e12)

#: Each parameter's range, by its name in the library (the option is ``--`` + the name with
#: ``-`` for ``_``). Where a size is bounded by memory instead, the range only keeps the value
#: an integer that numpy can hold; :func:`check_memory` does the rest.
RANGES: dict[str, Range] = {
    # runs
    "lr": _RATE,
    "lr_g": _RATE,
    "lr_d": _RATE,
    "tau": _RATE,
    "steps": Range(0, 10**9, integer=True),
    "every": Range(1, 10**12, integer=True),
    "max_norm": Range(0.0, 1e300, low_open=True),
    "clip": Range(0.0, 1e300, low_open=True),
    "batch_size": Range(1, 10**9, integer=True),
    "batch_size_g": Range(1, 10**9, integer=True),
    "seed": Range(0, 2**32 - 1, integer=True),
    # rule settings (their meaning: gandyn.rules)
    "beta": Range(-1e3, 1e3),
    "beta1": Range(0.0, 1.0),
    "beta2": Range(0.0, 1.0),
    "eps": Range(0.0, 1.0, low_open=True),
    "lam": Range(-1e6, 1e6),
    "d_steps": Range(1, 10_000, integer=True),
    "g_steps": Range(1, 10_000, integer=True),
    "align": Range(0, 1, integer=True),
    "align_eps": Range(0.0, 1e6),
    "unroll": Range(0, 100, integer=True),
    "unroll_lr": _RATE,
    "lola_eta": _RATE,
    "sos_a": Range(0.0, 1.0, low_open=True),
    "sos_b": Range(0.0, 1e12, low_open=True),
    # the flow
    "t_end": Range(0.0, 1e9, low_open=True),
    "n_eval": Range(2, 10**12, integer=True),
    "rtol": Range(1e-13, 1.0),  # scipy raises a smaller rtol to 100 eps, with a warning
    "atol": Range(0.0, 1.0, low_open=True),
    "step_size": Range(0.0, 1e9, low_open=True),
    # analysis
    "solve_timeout": Range(0.0, 3600.0),
    "n_starts": Range(1, 100_000, integer=True),
    "grid_points": Range(3, 2001, integer=True),
    "box": _FINITE,
    "params": _FINITE,
    "path_count": Range(2, 10**12, integer=True),
    # sweeps
    "tol": Range(0.0, 1e300, low_open=True),
    "growth": Range(0.0, 1e6),
    "window": Range(3, 10**12, integer=True),
    "chunk_size": Range(1, 10**7, integer=True),
    "workers": Range(1, 1024, integer=True),
    "axis_count": Range(1, 10**12, integer=True),
    # explain
    "explain_steps": Range(10, 10**9, integer=True),
    # the budget itself: at least 1 MiB
    "max_memory": Range(2**20, 2**50, integer=True),
}


def check_value(name: str, value: object, *, what: str | None = None) -> None:
    """Raise :class:`~gandyn.errors.SpecError` unless ``value`` lies in ``RANGES[name]``.

    Parameters
    ----------
    name
        The key of :data:`RANGES`.
    value
        The value given.
    what
        The parameter's name in the message (default ``name``), between backticks.
    """
    allowed = RANGES[name]
    if not allowed.contains(value):
        shown = value if not isinstance(value, float) else f"{value:g}"
        raise SpecError(f"`{what or name}` must be {allowed.describe()}, not {shown}")


_UNITS = {"": 1, "B": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
_MEMORY = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?(?:[eE][0-9]+)?)\s*([KMGT]?)(?:I?B)?\s*$",
                     re.IGNORECASE)


def parse_memory(text: str | int) -> int:
    """A memory size in bytes: ``2147483648``, ``512M``, ``4G``, ``1.5GiB`` (powers of 1024).

    Raises
    ------
    SpecError
        For text that is not a size, or a size outside ``RANGES["max_memory"]``.
    """
    if isinstance(text, int) and not isinstance(text, bool):
        size = text
    else:
        match = _MEMORY.match(str(text))
        if match is None:
            raise SpecError(f"`max_memory` must be a size such as 512M or 4G, not {text!r}")
        number, unit = match.groups()
        size = int(float(number) * _UNITS[unit.upper()])
    if not RANGES["max_memory"].contains(size):
        raise SpecError(f"`max_memory` must be from 1M to 1024T, not {text!r}")
    return size


def format_bytes(size: float) -> str:
    """``size`` in the largest binary unit that keeps it at least 1: ``3.0 GiB``."""
    for unit, factor in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if size >= factor:
            return f"{size / factor:.3g} {unit}"
    return f"{int(size)} B"


def check_memory(estimate: float, max_memory: int | None, what: str, *options: str) -> None:
    """Refuse a request whose estimated memory is over the budget, before allocating it.

    Parameters
    ----------
    estimate
        Bytes the request would allocate (from the estimates of this module).
    max_memory
        The budget in bytes (``None``: :data:`DEFAULT_MAX_MEMORY`).
    what
        What is too large, e.g. ``"1 run x 100000001 records x 5 values"``.
    *options
        The parameters to change, e.g. ``steps``; named between backticks.

    Raises
    ------
    SpecError
        One line naming ``option``, the estimate and the budget.
    """
    budget = DEFAULT_MAX_MEMORY if max_memory is None else max_memory
    if estimate > budget:
        change = " or ".join(f"`{option}`" for option in options)
        raise SpecError(f"{what} needs about {format_bytes(estimate)}, over the memory budget "
                        f"of {format_bytes(budget)}: reduce {change} or raise `max_memory`")


def trajectory_bytes(n_runs: int, n_records: int, n_state: int, n_logged: int) -> float:
    """Bytes of a recorded trajectory: states and logged values of every run at every record.

    ``n_runs * n_records * (n_state + n_logged)`` float64 values, doubled for the
    copy a batch makes when it is assembled (the recorded list stacked into
    one array), plus the time and step columns.
    """
    values = float(n_runs) * float(n_records) * (n_state + n_logged)
    return 2.0 * _FLOAT * values + 2.0 * _FLOAT * n_records


def starts_bytes(n_starts: int, n_state: int) -> float:
    """Bytes of ``n_starts`` starting states held as Python records before they become an array.

    A start is a tuple of ``(name, value)`` pairs: about 64 bytes a pair and
    120 a start in CPython, plus the float64 array they become.
    """
    return float(n_starts) * (120.0 + (64.0 + _FLOAT) * n_state)


def minibatch_bytes(n_runs: int, batch_d: int, batch_g: int, n_state: int) -> float:
    """Bytes of one minibatch step: every sample of every run, for both players.

    Each sample holds its random draws, the per-sample gradient terms of every
    parameter, the logged terms and the temporaries of evaluating them: counted
    as ``n_state + 8`` float64 values a sample.
    """
    return _FLOAT * float(n_runs) * (batch_d + batch_g) * (n_state + 8)


def _records(steps: int, every: int, n_eval: int | None) -> int:
    return n_eval if n_eval is not None else steps // every + 1


def check_run_memory(*, n_runs: int, n_state: int, n_logged: int, steps: int, every: int,
                     flow_method: str | None = None, n_eval: int | None = None,
                     batch: tuple[int, int] | None = None,
                     max_memory: int | None = None, streamed: bool = False) -> None:
    """Refuse a run whose arrays would not fit in ``max_memory``, naming the option to change.

    A discrete rule records ``steps // every + 1`` states and logged values of
    every run; the flow records ``n_eval`` (and LSODA, which takes a dense
    Jacobian of the whole batch, ``3 (n_runs n_state)**2`` values); a minibatch
    run draws :func:`minibatch_bytes` at every step.

    With ``streamed`` (the records go to a file, :mod:`gandyn.runs.chunked`),
    a batch over the budget is simulated in chunks of runs (:func:`run_chunk`):
    only one run's records must fit in :data:`STREAM_SHARE` of the budget. A
    minibatch run is never split (its draws are shared by the batch, so its
    chunks would draw other samples): its records must fit whole.
    """
    sizes = f"{n_runs} run{'s' if n_runs != 1 else ''}"
    records = _records(steps, every, n_eval)
    options: tuple[str, ...]
    if n_eval is not None:
        what, options = f"{sizes} x {n_eval} recorded times", ("n_eval",)
    else:
        what = f"{sizes} x {records} records x {n_state + n_logged} values"
        options = ("steps", "every") if n_runs == 1 else ("steps", "every", "x0", "grid")
    if streamed and batch is None and n_runs > 1:
        budget = DEFAULT_MAX_MEMORY if max_memory is None else max_memory
        check_memory(2.0 * KEPT_PER_RUN * n_runs, budget,
                     f"the summary and metadata of {sizes}", "x0", "grid")
        one = trajectory_bytes(1, records, n_state, n_logged)
        share = STREAM_SHARE * (budget - KEPT_PER_RUN * n_runs)
        if one > share:
            change = " or ".join(f"`{option}`" for option in options[:2])
            raise SpecError(
                f"one run's {records} records need about {format_bytes(one)}, over the "
                f"{format_bytes(share)} a chunk of a streamed run may take (a quarter of "
                f"the memory budget left beside the runs' summaries): reduce {change} or "
                "raise `max_memory`")
    else:
        check_memory(trajectory_bytes(n_runs, records, n_state, n_logged), max_memory, what,
                     *options)
    if n_eval is not None and flow_method == "LSODA":
        dense = 3.0 * _FLOAT * float(n_runs * n_state) ** 2
        check_memory(dense, max_memory, f"LSODA's dense Jacobian of {sizes}", "method")
    if batch is not None:
        check_memory(minibatch_bytes(n_runs, batch[0], batch[1], n_state), max_memory,
                     f"minibatches of {batch[0]} and {batch[1]} samples for {sizes}",
                     "batch_size")


def run_chunk(*, n_runs: int, n_state: int, n_logged: int, steps: int, every: int,
              n_eval: int | None = None, max_memory: int | None = None) -> int:
    """Runs per chunk of a run: all of them if their records fit in the budget.

    Otherwise as many as fit in :data:`STREAM_SHARE` of what the budget leaves
    beside what is kept of every run (:data:`KEPT_PER_RUN`); at least one
    (:func:`check_run_memory` with ``streamed`` refuses a run of which one
    alone does not fit).
    """
    budget = DEFAULT_MAX_MEMORY if max_memory is None else max_memory
    records = _records(steps, every, n_eval)
    if trajectory_bytes(n_runs, records, n_state, n_logged) <= budget:
        return n_runs
    one = trajectory_bytes(1, records, n_state, n_logged)
    share = STREAM_SHARE * max(0.0, budget - KEPT_PER_RUN * float(n_runs))
    return max(1, min(n_runs, int(share // one)))


def sweep_bytes(n_cells: int, n_axes: int, chunk_size: int, n_state: int) -> float:
    """Bytes of a sweep: its result columns for every cell and one chunk being simulated.

    Each cell keeps its axis values, a verdict, the step it was decided at and
    five measurements (``n_axes + 7`` values), doubled for the table written
    out; a chunk holds per cell its state, rates, settings and the running
    measures of the final window, counted as ``n_state + 32`` values, twice
    (the state before and after a step).
    """
    result = 2.0 * _FLOAT * float(n_cells) * (n_axes + 7)
    chunk = 2.0 * _FLOAT * float(chunk_size) * (n_state + 32)
    return result + chunk


def path_bytes(count: int, n_state: int) -> float:
    """Bytes of an eigenvalue path: ``count`` values, each with its ``n x n`` matrix.

    Per value: the parameter, the matrix (``n**2`` floats), its ``n`` complex
    eigenvalues and the sorted copy that follows each branch (``n**2 + 4 n + 1``
    float64 values), twice for the working copies.
    """
    return 2.0 * _FLOAT * float(count) * (n_state**2 + 4 * n_state + 1)
