"""Where the command line's messages go: results on stdout, everything else on stderr.

Every command prints its result (a summary, a table, a JSON document, a CSV
written to ``--out -``) on standard output and nothing else there, so that
``gandyn ... --json | jq`` and ``gandyn simulate --out - > run.csv`` work.
Informational lines (``wrote PATH``, warnings that are not errors, progress
bars) go to standard error through the functions here, which obey the
group's ``--quiet`` and ``--verbose``:

* ``--quiet`` (verbosity -1): no informational line, no warning, no bar;
* default (0): ``wrote PATH`` lines and warnings;
* ``--verbose`` (1): also details: the derivation cache's hits and misses
  (the ``gandyn`` logger's messages) and the command's wall time.

Errors are not informational: ``error: ...`` lines (:mod:`gandyn.cli.app`)
are printed whatever the verbosity.

References
----------
.. [1] IEEE and The Open Group (2018). The Open Group Base Specifications
   Issue 7 (POSIX.1-2017), Shell and Utilities, Sec. 1.4 Utility Description
   Defaults: "STDERR ... used only for diagnostic messages".
.. [2] Prasad, Firshman, Tashian and Parish (2020). Command Line Interface
   Guidelines, "Output". https://clig.dev
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from os import PathLike
from typing import Any, TextIO

import click

__all__ = [
    "QUIET",
    "VERBOSE",
    "Progress",
    "detail",
    "finished",
    "info",
    "progress",
    "set_verbosity",
    "verbosity",
    "wants_progress",
    "warn",
    "wrote",
]

#: Verbosity of ``--quiet`` and ``--verbose``; the default is 0.
QUIET = -1
VERBOSE = 1

#: The key of the verbosity in :attr:`click.Context.meta` (shared by a group and its commands).
_KEY = "gandyn/verbosity"
#: The key of the command's start time (``--verbose``).
_STARTED = "gandyn/started"


def verbosity() -> int:
    """The verbosity of the running command: :data:`QUIET`, 0 or :data:`VERBOSE`.

    0 outside a command (a function of the CLI called from Python).
    """
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return 0
    value = ctx.meta.get(_KEY, 0)
    return int(value)


def info(message: str) -> None:
    """An informational line on stderr, unless ``--quiet``."""
    if verbosity() > QUIET:
        click.echo(message, err=True)


def warn(message: str) -> None:
    """A warning that is not an error (``warning: ...``) on stderr, unless ``--quiet``."""
    info(f"warning: {message}")


def detail(message: str) -> None:
    """A detail on stderr, only with ``--verbose``."""
    if verbosity() >= VERBOSE:
        click.echo(message, err=True)


def wrote(paths: Iterable[str | PathLike[str]]) -> None:
    """One ``wrote PATH`` line on stderr for each file written, unless ``--quiet``."""
    for path in paths:
        info(f"wrote {path}")


class _EchoHandler(logging.Handler):
    """Library log records as detail lines on the stderr of the running command."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            click.echo(self.format(record), err=True)
        except Exception:  # a broken stderr must not break the command
            self.handleError(record)


def set_verbosity(ctx: click.Context, level: int) -> None:
    """Set the verbosity of ``ctx`` and the commands under it.

    With :data:`VERBOSE`, the ``gandyn`` logger's INFO messages (the
    derivation cache, ...) are shown on stderr while the command runs, and
    its wall time is printed when it ends.
    """
    ctx.meta[_KEY] = level
    if level < VERBOSE:
        return
    logger = logging.getLogger("gandyn")
    handler = _EchoHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    ctx.meta[_STARTED] = time.perf_counter()

    def close() -> None:
        logger.removeHandler(handler)
        logger.setLevel(previous)

    ctx.call_on_close(close)


def finished() -> None:
    """With ``--verbose``, the wall time of the command that has just succeeded."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None and verbosity() >= VERBOSE and _STARTED in ctx.meta:
        detail(f"done in {time.perf_counter() - ctx.meta[_STARTED]:.2f} s")


class Progress:
    """A progress bar that may be hidden: :meth:`advance` counts either way.

    Parameters
    ----------
    length
        The total the bar counts to (steps, chunks, frames).
    bar
        A :func:`click.progressbar` that shows the count, or ``None`` (hidden).
    """

    def __init__(self, length: int, bar: Any | None) -> None:
        self.length = length
        self.position = 0
        self._bar = bar

    @property
    def shown(self) -> bool:
        """Whether a bar is drawn."""
        return self._bar is not None

    def advance(self, steps: int = 1) -> None:
        """Count ``steps`` more done (never past :attr:`length`)."""
        steps = max(0, min(int(steps), self.length - self.position))
        self.position += steps
        if self._bar is not None and steps:
            self._bar.update(steps)

    def reach(self, done: int, total: int | None = None) -> None:
        """Move to ``done`` of the total (for callbacks that report a count, not a step)."""
        self.advance(done - self.position)


def wants_progress(*, json_output: bool = False, stream: TextIO | None = None) -> bool:
    """Whether a bar should be drawn: stderr is a terminal, no ``--quiet``, no ``--json``.

    A log file or a pipe never gets a bar's carriage returns, and a program
    reading ``--json`` never gets a bar on its terminal either.
    """
    target = sys.stderr if stream is None else stream
    return not json_output and verbosity() > QUIET and bool(getattr(target, "isatty", bool)())


@contextmanager
def progress(length: int, label: str, *, json_output: bool = False, show: bool | None = None,
             stream: TextIO | None = None) -> Iterator[Progress]:
    """A :class:`Progress` over ``length`` units, drawn on stderr when :func:`wants_progress`.

    Parameters
    ----------
    length
        The total.
    label
        Text before the bar (``simulating``, ``sweep: 220 cells``).
    json_output
        The command prints JSON: no bar.
    show
        Force the bar on or off (tests); default :func:`wants_progress`.
    stream
        Where the bar goes (default stderr).
    """
    target = sys.stderr if stream is None else stream
    if show is None:
        show = wants_progress(json_output=json_output, stream=target)
    if not show:
        yield Progress(length, None)
        return
    with click.progressbar(length=length, label=label, file=target, show_pos=True,
                           show_eta=True) as bar:
        yield Progress(length, bar)

