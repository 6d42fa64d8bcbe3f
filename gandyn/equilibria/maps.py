"""Discrete update rules linearized at a fixed point: spectral radius, stable rates.

:func:`map_stability` decides local stability of one update rule from the
spectral radius of its map's Jacobian (:class:`MapStability`);
:func:`stable_lr_range` scans and bisects the learning rates where it holds.

References
----------
.. [1] Mescheder, Nowozin and Geiger (2017). The Numerics of GANs. NeurIPS,
   Sec. 3 (discrete maps: stable when the spectral radius is below one).
.. [2] Gidel et al. (2019). Negative Momentum for Improved Game Dynamics.
   AISTATS (momentum maps on the extended state).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from gandyn.arrays import ComplexArray
from gandyn.derivation.field import VectorField
from gandyn.errors import SpecError
from gandyn.rules.base import FieldFunctions, UpdateRule
from gandyn.rules.registry import make_rule

__all__ = ["MapStability", "map_stability", "stable_lr_range"]


#: A map is stable when its spectral radius is below ``1 - _MAP_MARGIN``.
_MAP_MARGIN = 1e-12


@dataclass(frozen=True)
class MapStability:
    """A discrete update rule linearized at a fixed point.

    Attributes
    ----------
    eigenvalues
        Eigenvalues of the map's Jacobian on the extended state, sorted.
    spectral_radius
        Their largest modulus.
    stable
        ``spectral_radius < 1 - 1e-12`` (locally exponentially stable).
    """

    eigenvalues: ComplexArray
    spectral_radius: float
    stable: bool


def map_stability(rule: UpdateRule, field: FieldFunctions, point_vector: Any, *,
                  k: int = 10**6) -> MapStability:
    """Local stability of ``rule`` at a fixed point ``x*`` of the flow (``F(x*) = 0``).

    The extended state's buffers take their fixed-point values, which are
    those of :meth:`~gandyn.rules.base.UpdateRule.init_buffers` at ``x*``:
    zero velocity (momentum), zero moments (Adam), ``previous = x*`` (OGDA).
    The map's Jacobian is ``rule.map_jacobian`` there (Mescheder, Nowozin and
    Geiger 2017, Sec. 3; Gidel et al. 2019).

    Adam: at a fixed point both moments vanish, so the step near it is
    ``h (m/c1) / (sqrt(v/c2) + eps)`` with a denominator of ``eps`` -- the
    linearization scales like ``h / eps`` -- and the bias corrections ``c1 =
    1 - beta1**k``, ``c2 = 1 - beta2**k`` make the map depend on the step
    ``k``. The analysis uses a large step (``k = 10**6`` by default), where the
    corrections are 1: the late-training map.

    Parameters
    ----------
    rule
        An update rule from :func:`gandyn.rules.registry.make_rule`.
    field
        The numeric game (:meth:`gandyn.rules.base.FieldFunctions.of` a derived game).
    point_vector
        The fixed point, shape ``(n,)``, in ``game.state_symbols`` order.
    k
        The step at which a step-dependent map (Adam) is linearized.

    Returns
    -------
    MapStability
        Eigenvalues, spectral radius and the verdict.
    """
    x = np.asarray(point_vector, dtype=np.float64).reshape(1, -1)
    buffers = rule.init_buffers(x)
    jac = rule.map_jacobian(field, x, buffers, k)[0]
    eig = np.sort_complex(np.linalg.eigvals(jac).astype(np.complex128))
    radius = float(np.max(np.abs(eig)))
    return MapStability(eig, radius, radius < 1.0 - _MAP_MARGIN)


def stable_lr_range(
    vf: VectorField,
    rule_name: str,
    point_vector: Any,
    *,
    settings: Mapping[str, Any] | None = None,
    lr_ratio: float = 1.0,
    lr_max: float = 10.0,
    n: int = 400,
    lr_min: float | None = None,
    k: int = 10**6,
) -> tuple[float, float] | None:
    """The first interval of learning rates on which ``rule_name`` is locally stable.

    ``lr_g = lr`` and ``lr_d = lr * lr_ratio``; ``lr`` is scanned on ``n``
    log-spaced values from ``lr_min`` (default ``1e-5 lr_max``) to
    ``lr_max``, :func:`map_stability` decides each, and both ends of the
    first stable run are refined by bisection (to a relative ``1e-12``).

    Parameters
    ----------
    vf
        The derived game.
    rule_name
        An update rule name (:data:`gandyn.rules.registry.RULES`).
    point_vector
        A fixed point ``x*`` (``F(x*) = 0``), in state order.
    settings
        The rule's settings (``beta``, ``first``, ...).
    lr_ratio
        ``lr_d / lr_g``.
    lr_max, n, lr_min
        The scanned range and the number of scanned rates.
    k
        Step for step-dependent maps (Adam), see :func:`map_stability`.

    Returns
    -------
    tuple of float or None
        ``(low, high)``. ``low = 0.0`` when the rule is already stable at
        ``lr_min``: read it as "stable for every small rate the scan saw",
        not a proof below ``lr_min``. ``high = lr_max`` when still stable
        there. ``None`` when no scanned rate is stable.
    """
    if not (lr_max > 0 and lr_ratio > 0 and n >= 2):
        raise SpecError("stable_lr_range needs lr_max > 0, lr_ratio > 0 and n >= 2")
    low_end = 1e-5 * lr_max if lr_min is None else float(lr_min)
    if not 0 < low_end < lr_max:
        raise SpecError(f"lr_min must lie in (0, lr_max); got {low_end}")
    game = FieldFunctions.of(vf)
    extra = dict(settings or {})
    x = np.asarray(point_vector, dtype=np.float64)

    def stable(lr: float) -> bool:
        rule = make_rule(rule_name, lr, lr * lr_ratio, **extra)
        return map_stability(rule, game, x, k=k).stable

    def boundary(inside: float, outside: float) -> float:
        # invariant: stable(inside), not stable(outside)
        for _ in range(200):
            if abs(outside - inside) <= 1e-12 * max(abs(inside), abs(outside)):
                break
            mid = math.sqrt(inside * outside)
            if stable(mid):
                inside = mid
            else:
                outside = mid
        return inside

    grid = np.geomspace(low_end, lr_max, n)
    flags = [stable(float(lr)) for lr in grid]
    if not any(flags):
        return None
    first = flags.index(True)
    low = 0.0 if first == 0 else boundary(float(grid[first]), float(grid[first - 1]))
    last = first
    while last + 1 < n and flags[last + 1]:
        last += 1
    high = lr_max if last == n - 1 else boundary(float(grid[last]), float(grid[last + 1]))
    return low, high
