"""Shared pytest configuration.

The mathematical tests of the symbolic core (``test_functions.py`` ...
``test_derive.py``) are self-contained: each compares gandyn with an
independent reference (closed forms by hand, published values, scipy/mpmath
numerics or central finite differences).
"""

from __future__ import annotations

from collections.abc import Iterator

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
