"""Shared pytest configuration and the objects many test modules use.

Tests mirror the package (``tests/<layer>/``). The mathematical tests compare
gandyn with an independent reference (closed forms by hand, published values,
scipy/mpmath numerics or central finite differences). Derived games that
several layers test against are session fixtures here, derived once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest


@pytest.fixture(autouse=True, scope="session")
def _fresh_derivation_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    # gandyn.derivation.field keeps derivations on disk keyed by the costs and the
    # package version, not by the derivative rules' source: a cache written by
    # an earlier checkout could hand the tests stale derivatives. Each session
    # starts from an empty folder (and leaves the user's ~/.cache alone).
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GANDYN_CACHE_DIR", str(tmp_path_factory.mktemp("gandyn-cache")))
        yield


@pytest.fixture(scope="session")
def dirac_field() -> Any:
    """The Dirac-GAN with the minimax loss (Mescheder et al. 2018, Sec. 2.2), derived."""
    from gandyn.derivation.field import derive
    from gandyn.games.game import make_game

    return derive(make_game("dirac", "minimax"))


@pytest.fixture(scope="session")
def bilinear_field() -> Any:
    """The bilinear game ``f = theta psi``, derived: the rotation ``F = (-psi, theta)``."""
    from gandyn.derivation.field import derive
    from gandyn.games.game import make_game

    return derive(make_game("bilinear"))


@pytest.fixture
def invoke() -> Callable[..., tuple[int, str, str]]:
    """Run ``gandyn ARGS...`` in-process: ``(exit code, stdout, stderr)``."""
    from click.testing import CliRunner

    from gandyn.cli import cli

    def run(*args: str) -> tuple[int, str, str]:
        result = CliRunner().invoke(cli, list(args), prog_name="gandyn")
        return result.exit_code, result.stdout, result.stderr

    return run
