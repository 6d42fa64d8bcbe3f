"""Shell completion: option values complete from the catalogues, without loading sympy.

Completion goes through click's own machinery (:class:`click.shell_completion.ShellComplete`,
the same object ``_GANDYN_COMPLETE=bash_complete gandyn`` drives), and once through the
real entry point as bash calls it.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from click.shell_completion import ShellComplete

from gandyn.cli import cli


def completions(args: list[str], incomplete: str) -> list[str]:
    complete = ShellComplete(cli, {}, "gandyn", "_GANDYN_COMPLETE")
    return [item.value for item in complete.get_completions(args, incomplete)]


@pytest.mark.parametrize(("args", "incomplete", "expected"), [
    (["simulate", "--loss"], "non", ["non-saturating"]),
    (["derive", "--loss"], "", ["minimax", "non-saturating", "maximum-likelihood",
                                "wasserstein", "least-squares", "hinge", "relativistic"]),
    (["simulate", "--loss"], "m", ["minimax", "maximum-likelihood"]),
    (["simulate", "--log-loss"], "non", ["non-saturating"]),
    (["simulate", "--reg"], "d", ["dragan"]),
    (["analyze", "--loss"], "wg", ["wgan"]),  # no name starts so: the alias
    (["derive", "--game"], "di", ["dirac"]),
    (["sweep", "--game"], "two", ["two-point", "two-point-bump"]),
    (["simulate", "--reg"], "r", ["r1", "r2"]),
    (["explain", "--reg"], "wg", ["wgan-gp"]),
    (["simulate", "--reg"], "r1:", []),  # settings are not guessed
    (["simulate", "--optimizer"], "alt", ["altgd", "altmomentum"]),
    (["sweep", "--optimizer"], "s", ["simgd", "sga", "sos"]),
    (["simulate", "--style"], "i", ["iclr", "icml", "ieee"]),
    (["figure", "costs", "--style"], "sl", ["slides"]),
    (["plot", "run.npz", "--style"], "ne", ["neurips"]),
    (["figure", "nash-map", "--game"], "hide", ["hide-and-seek"]),
], ids=lambda value: " ".join(value) if isinstance(value, list) else repr(value))
def test_option_values_complete(args: list[str], incomplete: str,
                                expected: list[str]) -> None:
    assert completions(args, incomplete) == expected


def test_every_command_taking_a_game_completes_it() -> None:
    for command in ("derive", "simulate", "analyze", "explain", "sweep"):
        assert completions([command, "--loss"], "least") == ["least-squares"], command
        assert completions([command, "--game"], "bil") == ["bilinear"], command


def test_the_names_are_the_registries() -> None:
    from gandyn.cli.options import VENUE_NAMES
    from gandyn.games.game import GAMES
    from gandyn.games.losses import LOSSES
    from gandyn.games.names import GAME_NAMES, LOSS_NAMES, REGULARIZER_NAMES
    from gandyn.games.regularizers import REGULARIZERS
    from gandyn.plotting.style import VENUES

    for names, registry in ((LOSS_NAMES, LOSSES), (REGULARIZER_NAMES, REGULARIZERS),
                            (GAME_NAMES, GAMES)):
        assert dict(names) == {entry.name: tuple(entry.aliases) for entry in registry}
    assert list(VENUE_NAMES) == list(VENUES)


def test_completion_through_the_entry_point_loads_no_sympy() -> None:
    # what bash runs on <TAB>: the script prints one "type,value" line per completion
    code = ("import runpy, sys\n"
            "try:\n"
            "    runpy.run_module('gandyn', run_name='__main__')\n"
            "except SystemExit:\n"
            "    pass\n"
            "heavy = [m for m in ('sympy', 'numpy', 'matplotlib', 'scipy') if m in sys.modules]\n"
            "print('heavy', heavy)\n")
    env = {**os.environ, "_GANDYN_COMPLETE": "bash_complete",
           "COMP_WORDS": "gandyn simulate --loss non", "COMP_CWORD": "3"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, check=False)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines == ["plain,non-saturating", "heavy []"]


def test_the_bash_script_is_available() -> None:
    env = {**os.environ, "_GANDYN_COMPLETE": "bash_source"}
    proc = subprocess.run([sys.executable, "-m", "gandyn"], capture_output=True, text=True,
                          env=env, check=False)
    assert proc.returncode == 0
    assert "_GANDYN_COMPLETE=bash_complete" in proc.stdout
    assert "complete " in proc.stdout  # registers the function with bash
