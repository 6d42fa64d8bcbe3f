"""Generated kernel modules on disk, named by the hash of their text, imported once.

A kernel module (:mod:`gandyn.dynamics.kernels.source`) is written to
``<cache>/kernels/kernel_<hash>.py`` in gandyn's cache folder
(``GANDYN_CACHE_DIR``, see :mod:`gandyn.derivation.field`; with the cache off, a
temporary folder of the process), where the hash covers the module's text and
the versions of numba and gandyn: the text already holds the expressions, the
rule and its structural settings. numba's own cache (``cache=True``) keeps the
machine code beside it in ``__pycache__``, so a second process loads the
compiled loop instead of compiling it again.

References
----------
.. [1] Lam, Pitrou and Seibert (2015). Numba: a LLVM-based Python JIT
   compiler. LLVM-HPC workshop (its documentation's "Notes on caching"
   describes the on-disk cache of ``@njit(cache=True)`` functions).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["kernel_folder", "load_kernel", "numba_version"]

_LOADED: dict[str, Callable[..., Any]] = {}
_LOCK = threading.Lock()
_TEMPORARY: list[str] = []


def numba_version() -> str | None:
    """numba's version, or ``None`` when it is not installed (nothing is imported then)."""
    from importlib import metadata

    try:
        return metadata.version("numba")
    except metadata.PackageNotFoundError:
        return None


def kernel_folder() -> Path:
    """Where kernel modules are written: ``<cache>/kernels``, or a temporary folder."""
    from gandyn.derivation.field import _cache_dir

    folder = _cache_dir()
    if folder is None:
        if not _TEMPORARY:
            _TEMPORARY.append(tempfile.mkdtemp(prefix="gandyn-kernels-"))
        return Path(_TEMPORARY[0])
    return folder / "kernels"


@functools.lru_cache(maxsize=1)
def _generator_fingerprint() -> str:
    # The generated text follows from the expressions and from the code that writes it:
    # a kernel written by another version of that code must not be reused.
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def load_kernel(description: str, make_source: Callable[[], str], name: str = "run"
                ) -> tuple[Callable[..., Any], str]:
    """The function ``name`` of the module that ``make_source`` writes, and the module's key.

    ``description`` names everything the text depends on (the expressions in
    ``srepr`` form, the rule and its structure); with the versions of gandyn,
    numba and sympy and the generator's own source it makes the key, so that a
    module on disk is reused without printing the expressions again. The module
    is written once (atomically: concurrent processes may race) and imported
    once per process.
    """
    import sympy

    from gandyn import __version__

    key = hashlib.sha256("\n".join([__version__, numba_version() or "", sympy.__version__,
                                    _generator_fingerprint(), description]).encode()
                         ).hexdigest()[:24]
    with _LOCK:
        cached = _LOADED.get(key)
        if cached is not None:
            return cached, key
        folder = kernel_folder()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"kernel_{key}.py"
        if not path.exists():
            source = make_source()
            handle, temporary = tempfile.mkstemp(dir=folder, suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(source)
            os.replace(temporary, path)
        spec = importlib.util.spec_from_file_location(f"gandyn_kernel_{key}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        # numba's cache finds the module again by name when it loads compiled code
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        function: Callable[..., Any] = getattr(module, name)
        _LOADED[key] = function
        return function, key
