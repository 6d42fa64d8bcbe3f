"""gandyn: an analytical simulator of GAN loss dynamics.

``import gandyn`` is light: the symbolic engine (sympy) loads on first use of
one of the names below.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "make_game": "gandyn.games",
    "get_game": "gandyn.games",
    "GAMES": "gandyn.games",
    "Game": "gandyn.games",
    "LOSSES": "gandyn.losses",
    "Loss": "gandyn.losses",
    "get_loss": "gandyn.losses",
    "REGULARIZERS": "gandyn.regularizers",
    "get_regularizer": "gandyn.regularizers",
    "apply_values": "gandyn.regularizers",
    "derive": "gandyn.derive",
    "VectorField": "gandyn.derive",
    "GandynError": "gandyn.errors",
}

__all__ = ["__version__", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'gandyn' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
