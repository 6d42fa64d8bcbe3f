"""An update rule at an equilibrium: the rule checked, its map linearized, its stable rates.

Every call into :mod:`gandyn.rules` made by the equilibrium analysis is here:
:func:`check_rule` refuses a rule that cannot be built, :func:`rule_stability`
linearizes the rule's map at a point (via :func:`gandyn.equilibria.maps.map_stability`
and :func:`gandyn.equilibria.maps.stable_lr_range`) and :func:`map_jacobian`
gives the map's Jacobian with a hyper-parameter changed, for eigenvalue paths.

References
----------
.. [1] Mescheder, Nowozin and Geiger (2017). The Numerics of GANs. NeurIPS,
   Sec. 3 and Lemma 4 (discrete maps; stable step sizes of simultaneous
   gradient descent).
"""

from __future__ import annotations

import math

import numpy as np

from gandyn.arrays import Array, ComplexArray
from gandyn.derivation.field import VectorField
from gandyn.equilibria.maps import map_stability, stable_lr_range
from gandyn.equilibria.records import RuleChoice, RuleStability
from gandyn.errors import SpecError, UnknownNameError
from gandyn.rules.base import FieldFunctions, UpdateRule
from gandyn.rules.registry import RULES, SETTING_NAMES, make_rule

__all__ = ["check_rule", "map_jacobian", "rule_stability"]

#: Method of ``stable_lr`` when Lemma 4 of Mescheder, Nowozin and Geiger (2017) gives it.
CLOSED_FORM_METHOD = "closed form: h < min -2 Re(lambda)/|lambda|^2"
#: Method of ``stable_lr`` when it is scanned (:func:`gandyn.equilibria.maps.stable_lr_range`).
SCAN_METHOD = "numeric scan of the spectral radius"


def check_rule(rule: RuleChoice) -> None:
    """Refuse a rule with an unknown name, settings it does not take or non-positive rates.

    Raises
    ------
    gandyn.errors.UnknownNameError
        For a name that is not an update rule.
    gandyn.errors.SpecError
        For a setting the rule does not take, or a learning rate that is not
        positive and finite.
    """
    if rule.name not in RULES:
        raise UnknownNameError("update rule", rule.name, RULES)
    for key in rule.settings:
        if key not in SETTING_NAMES[rule.name]:
            raise SpecError(f"optimizer {rule.name!r} does not take {key!r}")
    if not (rule.lr_g > 0 and rule.lr_d > 0 and math.isfinite(rule.lr_g)
            and math.isfinite(rule.lr_d)):
        raise SpecError("learning rates must be positive")


def _field(vf: VectorField, params: dict[str, float] | None = None) -> FieldFunctions:
    """The numeric game a rule receives, hyper-parameters overridden by ``params``."""
    return FieldFunctions.of(vf, params)


def _rule(rule: RuleChoice) -> UpdateRule:
    """The update rule a choice names, with its rates and settings."""
    return make_rule(rule.name, rule.lr_g, rule.lr_d, **dict(rule.settings))


def _simgd_closed_form(eigenvalues: ComplexArray) -> tuple[float, float] | None:
    """Stable step sizes of simultaneous GD with equal rates, from the flow's eigenvalues.

    Simultaneous steps map each eigenvalue ``lambda`` of ``dF/dx`` to ``1 + h
    lambda``, inside the unit circle for every one iff each has a negative
    real part and ``h < -2 Re(lambda) / |lambda|**2`` (Mescheder, Nowozin and
    Geiger 2017, Lemma 4). ``None`` when some ``Re(lambda) >= 0``.
    """
    if len(eigenvalues) == 0 or np.any(eigenvalues.real >= 0):
        return None
    return 0.0, float(np.min(-2.0 * eigenvalues.real / np.abs(eigenvalues) ** 2))


def rule_stability(vf: VectorField, rule: RuleChoice, x: Array,
                   flow_eigenvalues: ComplexArray) -> RuleStability:
    """The rule's map linearized at the fixed point ``x`` and the rates where it is stable.

    Parameters
    ----------
    vf
        The derived game.
    rule
        The update rule (checked by :func:`check_rule`).
    x
        The point, in state order.
    flow_eigenvalues
        Eigenvalues of ``dF/dx`` at ``x``: simultaneous GD with equal rates
        has its stable rates in closed form; other rules are scanned at the
        ratio ``lr_d / lr_g`` of ``rule``.
    """
    mapped = map_stability(_rule(rule), _field(vf), x)
    closed = (_simgd_closed_form(flow_eigenvalues)
              if rule.name == "simgd" and rule.lr_g == rule.lr_d else None)
    stable_lr: tuple[float, float] | None
    if closed is not None:
        stable_lr, method = closed, CLOSED_FORM_METHOD
    else:
        interval = stable_lr_range(vf, rule.name, x, settings=dict(rule.settings),
                                   lr_ratio=rule.lr_d / rule.lr_g)
        stable_lr = None if interval is None else (float(interval[0]), float(interval[1]))
        method = SCAN_METHOD
    return RuleStability(tuple(complex(z) for z in mapped.eigenvalues),
                         float(mapped.spectral_radius), mapped.stability, stable_lr, method)


def map_jacobian(vf: VectorField, rule: RuleChoice, x: Array, params: dict[str, float]) -> Array:
    """The Jacobian of the rule's map at the fixed point ``x``, hyper-parameters ``params``.

    Buffers take their fixed-point values and step-dependent maps (Adam) are
    taken late in training, as :func:`gandyn.equilibria.maps.map_stability` does.
    """
    made, field = _rule(rule), _field(vf, params)
    z = x[None, :]
    jac: Array = made.map_jacobian(field, z, made.init_buffers(z), 10**6)[0]
    return jac
