"""gandyn: an analytical simulator of GAN loss dynamics.

The documented Python API. Each name loads its layer on first use, so
``import gandyn`` itself loads no sympy, numpy or matplotlib.

Games and their derivatives
    :func:`make_game`, :class:`Game`, :func:`derive`, :class:`VectorField`,
    and the catalogues :data:`GAMES`, :data:`LOSSES`, :data:`REGULARIZERS`.
Runs
    :class:`RunSpec` (with its parts :class:`GameSpec`, :class:`RuleSpec`,
    :class:`RegularizerSpec`, :class:`MinibatchSpec`), :func:`run`,
    :func:`simulate` (keywords over the defaults), :func:`load_spec`, and the
    :class:`Trajectory` a run returns; :func:`read_run` reads a saved run back.
Equilibria
    :func:`analyze` with :class:`RuleChoice`.
Loss curves
    :func:`explain_log` (a training log) and :func:`explain_run` (a simulated run).
Convergence maps
    :class:`SweepSpec`, :class:`AxisSpec` and :func:`sweep`.
Errors
    :class:`GandynError`, the base of every error a user can cause.

The README's "Python API" section shows them at work.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    # games and derivatives
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
    "derive": "gandyn.derivation.field",
    "VectorField": "gandyn.derivation.field",
    # runs
    "RunSpec": "gandyn.runs.spec",
    "GameSpec": "gandyn.runs.spec",
    "RuleSpec": "gandyn.runs.spec",
    "RegularizerSpec": "gandyn.runs.spec",
    "MinibatchSpec": "gandyn.runs.spec",
    "build": "gandyn.runs.build",
    "run": "gandyn.runs.build",
    "simulate": "gandyn.runs.build",
    "load_spec": "gandyn.runs.spec_files",
    "Trajectory": "gandyn.dynamics.trajectory",
    "read_run": "gandyn.io.saved_runs",
    # equilibria
    "analyze": "gandyn.equilibria.classification",
    "RuleChoice": "gandyn.equilibria.records",
    # loss curves
    "explain_log": "gandyn.explain.from_log",
    "explain_run": "gandyn.explain.from_run",
    # convergence maps
    "SweepSpec": "gandyn.sweeps.plan",
    "AxisSpec": "gandyn.sweeps.axes",
    "sweep": "gandyn.sweeps.execution",
    # errors
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
