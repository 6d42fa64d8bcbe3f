"""The explore page's printed JavaScript, kept on disk beside the derivations.

Printing one combination (expanding quadratures, common subexpression
elimination, the JavaScript printer) costs far more than deriving it, so each
variant's printed code is kept as a text entry of the derivation cache
(:func:`gandyn.derivation.cache.store_text`, ``explore-js-<key>.txt`` in
``GANDYN_CACHE_DIR``; an empty value turns it off). The key is a SHA-256 of
everything the code is a function of: the costs and the players' parameters
(what :func:`gandyn.derivation.field.derive` keys a derivation by), the
logged losses, the state and hyper-parameter symbols in the order they are
printed, the versions of gandyn and sympy (whose printer and CSE write the
code) and the source of every module that derives or prints it. Hyper-parameter
*values* are not part of it: the code leaves them symbolic and the page's
sliders set them, so games that differ only in values share an entry.

References
----------
.. [1] Meurer et al. (2017). SymPy: symbolic computing in Python. PeerJ Computer
   Science 3:e103 (``srepr``: the exact text of an expression, assumptions included).
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import sympy as sp

from gandyn.derivation import cache
from gandyn.derivation.field import _cache_dir
from gandyn.games.game import Game

__all__ = ["CODE_KIND", "cached_code", "code_key"]

#: The prefix of the page's entries in the cache folder.
CODE_KIND = "explore-js"
#: Reports the page cache's hits and misses (``gandyn -v`` shows them).
_LOG = logging.getLogger(__name__)


#: The modules that derive, expand or print a page's code, by their files under ``gandyn/``
#: (read as files, not imported: ``variants`` imports this module).
_PRINTING_SOURCES = ("symbolic/functions.py", "symbolic/expectations.py",
                     "derivation/differentiate.py", "derivation/field.py",
                     "derivation/player_derivatives.py", "explore/jscode.py",
                     "explore/variants.py", "explore/codecache.py")


@functools.lru_cache(maxsize=1)
def _source_fingerprint() -> str:
    # Code written by a development checkout whose version number did not change must not be
    # reused after any module that derives, expands or prints it changes.
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for relative in _PRINTING_SOURCES:
        digest.update((package / relative).read_bytes())
    return digest.hexdigest()


def code_key(game: Game, logged: Sequence[sp.Expr], state: Sequence[sp.Symbol],
             params: Sequence[sp.Symbol]) -> str:
    """The cache key of the code printed for ``game`` (see the module's description)."""
    from gandyn import __version__

    parts = [game.cost_g, game.cost_d, sp.Tuple(*game.theta), sp.Tuple(*game.psi),
             sp.Tuple(*logged), sp.Tuple(*state), sp.Tuple(*params)]
    text = "\n".join([CODE_KIND, __version__, sp.__version__, _source_fingerprint(),
                      *(sp.srepr(p) for p in parts)])
    return hashlib.sha256(text.encode()).hexdigest()


def cached_code(key: str, make: Callable[[], str], name: str = "") -> str:
    """The code of ``key`` from the cache, or ``make()`` (then stored)."""
    folder = _cache_dir()
    if folder is not None:
        found = cache.load_text(folder, CODE_KIND, key)
        if found is not None:
            _LOG.info("page code of %s: read from the cache (%s-%s.txt)", name, CODE_KIND,
                      key[:12])
            return found
    code = make()
    if folder is not None:
        cache.store_text(folder, CODE_KIND, key, code)
    return code
