"""The exceptions gandyn raises for bad input.

Every error a user can cause derives from :class:`GandynError`; the command
line prints its message as one line and exits non-zero, without a traceback.

Messages speak the library's terms: a parameter or spec field at fault is
named between backticks (``"`max_norm` must be positive"``), which the command
line shows as its flag (``--max-norm``, :func:`gandyn.cli.app.in_flag_terms`).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["GameFileError", "GandynError", "GandynWarning", "InputFileError",
           "MissingDependencyError", "OutputExistsError", "SpecError", "UnknownNameError"]


class GandynError(Exception):
    """Base class of the errors caused by input (names, values, files)."""


class GandynWarning(UserWarning):
    """A choice gandyn carries out but a user should know about (``warning: ...`` on the CLI)."""


class SpecError(GandynError, ValueError):
    """A malformed option value such as ``--param gamma`` or ``--at theta=x``."""


class GameFileError(GandynError, ValueError):
    """A custom game file that cannot be read, parsed or validated."""


class InputFileError(GandynError, ValueError):
    """An input file that is not a regular file, is too large, or is not the text it should be."""


class OutputExistsError(GandynError, FileExistsError):
    """An output file exists and ``--force`` was not given: nothing was written."""


class MissingDependencyError(GandynError, ImportError):
    """An optional package a feature needs is not installed; the message says what to install."""


class UnknownNameError(GandynError, KeyError):
    """A name that is not in a catalogue; the message suggests the closest ones."""

    def __init__(self, kind: str, name: str, known: Iterable[str]) -> None:
        known = sorted(set(known))
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        message = f"unknown {kind} {name!r}{hint} (known: {', '.join(known)})"
        super().__init__(message)
        self.kind = kind
        self.name = name
        self.message = message

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return self.message
