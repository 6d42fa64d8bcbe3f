"""One table of the update methods, by name: the discrete rules and the gradient flow.

Like scipy's table of ``solve_ivp`` methods, :data:`METHODS` maps each name to
the class that implements it (the flow's entry declares its settings; the
integration is :func:`gandyn.dynamics.flow.simulate_flow`). Every entry
declares its settings (name, default, meaning) on the class, so the lists of
settings that the command line and the specs accept derive from here.
:data:`gandyn.rules.names.METHOD_NAMES` holds the same names without numpy; the
module checks at import that the two agree.
"""

from __future__ import annotations

from typing import Any

from gandyn.errors import SpecError, UnknownNameError
from gandyn.rules.adam import Adam
from gandyn.rules.base import Setting, UpdateRule
from gandyn.rules.extrapolation import Extragradient, OptimisticGD, OptimisticMirrorDescent
from gandyn.rules.flow import GradientFlow
from gandyn.rules.gradient import AlternatingGD, SimultaneousGD
from gandyn.rules.momentum import AlternatingMomentum, Momentum
from gandyn.rules.names import METHOD_NAMES, RULE_NAMES
from gandyn.rules.opponent import LOLA, StableOpponentShaping
from gandyn.rules.proximal import ProximalPoint
from gandyn.rules.sga import SymplecticGradientAdjustment
from gandyn.rules.unrolled import UnrolledGAN

__all__ = ["METHODS", "RULES", "SETTING_NAMES", "make_rule", "method_settings"]

#: The discrete update rules by name, in the order of :data:`~gandyn.rules.names.RULE_NAMES`.
RULES: dict[str, type[UpdateRule]] = {
    rule.name: rule
    for rule in (SimultaneousGD, AlternatingGD, Momentum, AlternatingMomentum, Adam, OptimisticGD,
                 Extragradient, SymplecticGradientAdjustment, ProximalPoint, UnrolledGAN,
                 LOLA, StableOpponentShaping, OptimisticMirrorDescent)
}
#: Every method by name: the flow, then the discrete rules.
METHODS: dict[str, type[UpdateRule] | type[GradientFlow]] = {GradientFlow.name: GradientFlow,
                                                             **RULES}

if tuple(RULES) != RULE_NAMES or tuple(METHODS) != METHOD_NAMES:
    raise ImportError("gandyn.rules.names does not list the methods of gandyn.rules.registry: "
                      f"{METHOD_NAMES} != {tuple(METHODS)}")


#: The names of the settings each method declares, for checks that need only the names.
SETTING_NAMES: dict[str, tuple[str, ...]] = {
    name: tuple(setting.name for setting in method.settings) for name, method in METHODS.items()
}


def method_settings(name: str) -> tuple[Setting, ...]:
    """The settings method ``name`` declares (``flow`` or a discrete rule).

    Raises
    ------
    UnknownNameError
        For a name not in :data:`METHODS`.
    """
    if name not in METHODS:
        raise UnknownNameError("optimizer", name, METHODS)
    return METHODS[name].settings


def make_rule(name: str, lr_g: Any, lr_d: Any, **settings: Any) -> UpdateRule:
    """The discrete rule called ``name`` with its rates and settings.

    Parameters
    ----------
    name
        A key of :data:`RULES`.
    lr_g, lr_d
        Positive learning rates: numbers, or arrays ``(B,)`` with one rate per run.
    **settings
        Among the settings the rule declares.

    Raises
    ------
    UnknownNameError
        For a name not in :data:`RULES`.
    SpecError
        For a rate or a setting the rule refuses (one line, naming the rule).
    """
    if name not in RULES:
        raise UnknownNameError("update rule", name, RULES)
    try:
        return RULES[name](lr_g, lr_d, **settings)
    except (TypeError, ValueError) as exc:
        raise SpecError(f"optimizer {name!r}: {exc}") from None
