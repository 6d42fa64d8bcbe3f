"""`gandyn` alone prints its help (not an error), as does a command group alone."""

from __future__ import annotations

from collections.abc import Callable

import pytest

Invoke = Callable[..., tuple[int, str, str]]


@pytest.mark.parametrize(("args", "usage"), [((), "Usage: gandyn [OPTIONS] COMMAND"),
                                              (("figure",), "Usage: gandyn figure [OPTIONS]")])
def test_no_command_prints_the_help(invoke: Invoke, args: tuple[str, ...], usage: str) -> None:
    code, stdout, stderr = invoke(*args)
    assert code == 0 and stderr == ""
    assert stdout.startswith(usage)
    assert "\n  simulate" in stdout or "\n  costs" in stdout  # the commands, one per line


def test_an_unknown_command_is_still_an_error(invoke: Invoke) -> None:
    code, _, stderr = invoke("simulat")
    assert code == 2 and stderr.startswith("error:") and len(stderr.splitlines()) == 1
