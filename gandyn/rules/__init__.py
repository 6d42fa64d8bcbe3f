"""Update rules: the discrete maps of training, each with its linearization.

A rule holds its learning rates and settings only; the numeric game
(:class:`FieldFunctions`) is passed to every call, so one rule object serves any
game, and per-run rates (arrays of shape ``(B,)``) give every run of a batch its own.

* :mod:`gandyn.rules.base`: :class:`UpdateRule`, :class:`StepResult`,
  :class:`FieldFunctions`, :class:`Setting`;
* :mod:`gandyn.rules.gradient` (simgd, altgd), :mod:`gandyn.rules.momentum`
  (momentum, altmomentum), :mod:`gandyn.rules.adam`,
  :mod:`gandyn.rules.extrapolation` (ogda, extragradient, omd), :mod:`gandyn.rules.sga`,
  :mod:`gandyn.rules.proximal`, :mod:`gandyn.rules.unrolled`,
  :mod:`gandyn.rules.opponent` (lola, sos);
* :mod:`gandyn.rules.flow`: the continuous gradient flow's declared settings;
* :mod:`gandyn.rules.registry`: :data:`RULES`, :data:`METHODS`, :func:`make_rule`;
* :mod:`gandyn.rules.names`: the method names, free of numpy (for the command line).

The names below are imported on first use, so that importing this package
(and :mod:`gandyn.rules.names`) does not import numpy.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from gandyn.rules.names import FLOW, METHOD_NAMES, RULE_NAMES

__all__ = [
    "FLOW",
    "LOLA",
    "METHODS",
    "METHOD_NAMES",
    "RULES",
    "RULE_NAMES",
    "Adam",
    "AlternatingGD",
    "AlternatingMomentum",
    "Extragradient",
    "FieldFunctions",
    "GradientFlow",
    "Momentum",
    "OptimisticGD",
    "OptimisticMirrorDescent",
    "Setting",
    "SimultaneousGD",
    "StableOpponentShaping",
    "StepResult",
    "SymplecticGradientAdjustment",
    "UnrolledGAN",
    "UpdateRule",
    "make_rule",
]

_HOMES = {
    "FieldFunctions": "base", "Setting": "base", "StepResult": "base", "UpdateRule": "base",
    "SimultaneousGD": "gradient", "AlternatingGD": "gradient",
    "Momentum": "momentum", "AlternatingMomentum": "momentum",
    "Adam": "adam",
    "OptimisticGD": "extrapolation", "Extragradient": "extrapolation",
    "OptimisticMirrorDescent": "extrapolation",
    "SymplecticGradientAdjustment": "sga",
    "UnrolledGAN": "unrolled",
    "LOLA": "opponent", "StableOpponentShaping": "opponent",
    "GradientFlow": "flow",
    "RULES": "registry", "METHODS": "registry", "make_rule": "registry",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"gandyn.rules.{home}"), name)
