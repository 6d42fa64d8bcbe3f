"""The ``gandyn`` command line.

The CLI only parses options, builds the game, calls the library and writes
output. Heavy modules (sympy, numpy) are imported inside the commands so that
``gandyn --help`` stays fast. Bad input prints one ``error:`` line on stderr
and exits with status 2 (usage) or 1 (everything else); set ``GANDYN_DEBUG=1``
to see the traceback of an unexpected failure.
"""

from __future__ import annotations

import os
import re
import sys
import warnings
from collections.abc import Sequence
from typing import Any, TextIO

import click

from gandyn import __version__
from gandyn.errors import GandynWarning

__all__ = ["main"]


#: Raised by click 8.2 and later for a group called without a command (click 8.1
#: printed the help itself).
_NO_ARGS: type[click.UsageError] | None = getattr(click.exceptions, "NoArgsIsHelpError", None)


class _Group(click.Group):
    """A click group whose errors are one line, never a traceback."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             **extra: Any) -> Any:
        try:
            with warnings.catch_warnings():
                # gandyn's own warnings are one "warning: ..." line each (silenced by -q),
                # shown once per kind however many runs raise them.
                warnings.simplefilter("default", GandynWarning)
                warnings.showwarning = _show_warning
                rv = super().main(args=args, prog_name=prog_name, complete_var=complete_var,
                                  standalone_mode=False, **extra)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            click.echo("error: aborted", err=True)
            sys.exit(130)
        except click.ClickException as exc:
            if _NO_ARGS is not None and isinstance(exc, _NO_ARGS) and exc.ctx is not None:
                click.echo(exc.ctx.get_help())  # `gandyn` alone asks for the help: no error
                sys.exit(0)
            click.echo(f"error: {_one_line(exc.format_message())}", err=True)
            sys.exit(exc.exit_code)
        except Exception as exc:
            from gandyn.errors import GandynError

            if isinstance(exc, GandynError):
                click.echo(f"error: {_one_line(in_flag_terms(str(exc)))}", err=True)
                sys.exit(1)
            if os.environ.get("GANDYN_DEBUG"):
                raise
            click.echo(
                f"error: internal error ({type(exc).__name__}: {_one_line(str(exc))}); "
                "rerun with GANDYN_DEBUG=1 for details and please report it",
                err=True,
            )
            sys.exit(1)
        if isinstance(rv, int) and rv:
            sys.exit(rv)
        sys.exit(0)


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: TextIO | None = None, line: str | None = None) -> None:
    """Show a :class:`GandynWarning` as a ``warning:`` line; others as Python would."""
    if issubclass(category, GandynWarning):
        from gandyn.cli.output import warn

        warn(_one_line(str(message)))
    else:
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def _one_line(message: str) -> str:
    return " ".join(message.split())


_FIELD = re.compile(r"`([a-z][a-z0-9]*(?:_[a-z0-9]+)*)`")


def in_flag_terms(message: str) -> str:
    """A library error in the command line's terms: each `` `field` `` becomes ``--field``.

    The library names the parameter or spec field at fault between backticks
    (``"`max_norm` must be positive"``), which reads as the keyword to a Python
    caller; on the command line the same value is the flag ``--max-norm``.
    """
    return _FIELD.sub(lambda m: "--" + m.group(1).replace("_", "-"), message)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gandyn")
@click.option("-q", "--quiet", is_flag=True,
              help="Print only the result: no 'wrote' lines, warnings or progress bars "
                   "(errors are still printed).")
@click.option("-v", "--verbose", is_flag=True,
              help="Also print details on stderr: the derivation cache's hits and misses, "
                   "the wall time.")
@click.option("--backend", type=click.Choice(["auto", "numpy", "compiled"]), default=None,
              help="How discrete rules are iterated: compiled (numba; pip install "
                   "'gandyn[fast]'), numpy, or auto (compiled for large runs when numba is "
                   "installed). Default: $GANDYN_BACKEND, else auto.")
@click.pass_context
def cli(ctx: click.Context, quiet: bool, verbose: bool, backend: str | None) -> None:
    """gandyn: analytical simulator of GAN loss dynamics.

    Derive every player's cost, gradient, vector field, Jacobian and Hessian
    for low-dimensional GAN games, losses and regularizers; simulate, analyze,
    sweep and explain them; draw the figures.

    \b
    Results go to stdout; 'wrote PATH' lines, warnings and progress bars to
    stderr. Global options come before the command: gandyn -q simulate ...
    """
    from gandyn.cli.output import QUIET, VERBOSE, set_verbosity

    if quiet and verbose:
        raise click.UsageError("--quiet and --verbose contradict each other; give one")
    set_verbosity(ctx, QUIET if quiet else VERBOSE if verbose else 0)
    if backend is not None:  # the environment carries it to a sweep's worker processes too
        from gandyn.dynamics.kernels import check_backend

        os.environ["GANDYN_BACKEND"] = check_backend(backend)


@cli.result_callback()
def _succeeded(result: Any, quiet: bool, verbose: bool, backend: str | None) -> Any:
    from gandyn.cli.output import finished

    finished()
    return result



def _register() -> None:
    from gandyn.cli.analyze import analyze
    from gandyn.cli.derive import derive
    from gandyn.cli.explain import explain
    from gandyn.cli.explore import explore
    from gandyn.cli.figure import figure
    from gandyn.cli.list import list_command
    from gandyn.cli.plot import plot
    from gandyn.cli.simulate import simulate
    from gandyn.cli.sweep import sweep

    for command in (derive, simulate, analyze, explain, sweep, plot, figure, explore,
                    list_command):
        cli.add_command(command)


_register()


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``gandyn`` console script."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="gandyn")
