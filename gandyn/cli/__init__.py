"""The command line: one module per command, each a thin layer over one library call.

:mod:`gandyn.cli.app` holds the group, its one-line error handling and
:func:`main`; the shared options are in :mod:`gandyn.cli.options`.
"""

from gandyn.cli.app import cli, main

__all__ = ["cli", "main"]
