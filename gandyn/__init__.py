"""gandyn: an analytical simulator of GAN loss dynamics.

``import gandyn`` is light: the symbolic engine (sympy) loads on first use of
one of the names below.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "make_game": "gandyn.games.game",
    "get_game": "gandyn.games.game",
    "GAMES": "gandyn.games.game",
    "Game": "gandyn.games.game",
    "LOSSES": "gandyn.games.losses",
    "Loss": "gandyn.games.losses",
    "get_loss": "gandyn.games.losses",
    "REGULARIZERS": "gandyn.games.regularizers",
    "get_regularizer": "gandyn.games.regularizers",
    "apply_values": "gandyn.games.regularizers",
    "derive": "gandyn.derive.field",
    "VectorField": "gandyn.derive.field",
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
