"""Discrete update rules linearized at a fixed point: spectral radius, stable rates.

:func:`map_stability` decides local stability of one update rule from the
spectral radius of its map's Jacobian (:class:`MapStability`): stable below 1,
unstable above, marginal on the unit circle (:func:`map_class`, within
:data:`MAP_MARGINAL_TOL`);
:func:`stable_lr_range` scans and bisects the learning rates where it holds.

References
----------
.. [1] Mescheder, Nowozin and Geiger (2017). The Numerics of GANs. NeurIPS,
   Sec. 3 (discrete maps: stable when the spectral radius is below one).
.. [2] Gidel et al. (2019). Negative Momentum for Improved Game Dynamics.
   AISTATS (momentum maps on the extended state).
.. [3] Bailey, Gidel and Piliouras (2020). Finite Regret and Cycles with
   Fixed Step-Size via Alternating Gradient Descent-Ascent. COLT (alternating
   steps on bilinear games: bounded, recurrent orbits).
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

__all__ = ["MAP_CLASSES", "MAP_MARGINAL_TOL", "MapStability", "map_class", "map_stability",
           "stable_lr_range"]


#: A spectral radius within this of 1 (``|rho - 1| <= MAP_MARGINAL_TOL``) is *on* the unit
#: circle: the linear test is inconclusive ("marginal"). Eigenvalues of a map near the identity
#: are computed to a few ``1e-16``; a tolerance of ``1e-10`` also leaves rates as small as
#: ``1e-5`` of simultaneous steps on a rotation (``rho = sqrt(1 + h^2)``) marginal, where
#: ``rho - 1`` is below ``1e-10`` and the growth shows only after ``1e10`` steps.
MAP_MARGINAL_TOL = 1e-10

#: The classes of a map at a fixed point, by its spectral radius.
MAP_CLASSES = ("stable", "marginal", "unstable")


def map_class(spectral_radius: Any) -> Any:
    """``"stable"``, ``"marginal"`` or ``"unstable"`` for each spectral radius (``"unknown"``: NaN).

    ``rho < 1 - MAP_MARGINAL_TOL`` is stable (locally exponentially stable),
    ``rho > 1 + MAP_MARGINAL_TOL`` unstable, and a radius within
    :data:`MAP_MARGINAL_TOL` of 1 marginal: an eigenvalue on the unit circle,
    where the linearization cannot decide (the nonlinear terms, or a Jordan
    block, do). Alternating gradient steps on the bilinear game are marginal
    for every ``h < 2``: their map has determinant 1 and orbits stay bounded
    (Bailey, Gidel and Piliouras 2020). A scalar gives a ``str``, an array an
    array of ``str``.
    """
    rho = np.asarray(spectral_radius, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        names = np.where(np.isnan(rho), "unknown",
                         np.where(rho < 1.0 - MAP_MARGINAL_TOL, "stable",
                                  np.where(rho > 1.0 + MAP_MARGINAL_TOL, "unstable",
                                           "marginal")))
    return str(names) if names.ndim == 0 else names


@dataclass(frozen=True)
class MapStability:
    """A discrete update rule linearized at a fixed point.

    Attributes
    ----------
    eigenvalues
        Eigenvalues of the map's Jacobian on the extended state, sorted.
    spectral_radius
        Their largest modulus.
    stability
        ``"stable"``, ``"marginal"`` or ``"unstable"`` (:func:`map_class`).
    """

    eigenvalues: ComplexArray
    spectral_radius: float
    stability: str

    @property
    def stable(self) -> bool:
        """``spectral_radius < 1 - MAP_MARGINAL_TOL`` (locally exponentially stable)."""
        return self.stability == "stable"

    @property
    def inconclusive(self) -> bool:
        """The radius is 1 within :data:`MAP_MARGINAL_TOL`: the linear test cannot decide."""
        return self.stability == "marginal"


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
    return MapStability(eig, radius, map_class(radius))


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
    first stable run are refined by bisection (to a relative ``1e-12``) on
    where the spectral radius crosses 1. A rate whose map is marginal (radius
    1 within :data:`MAP_MARGINAL_TOL`, as alternating steps on a rotation) is
    not stable.

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

    def radius(lr: float) -> float:
        rule = make_rule(rule_name, lr, lr * lr_ratio, **extra)
        return map_stability(rule, game, x, k=k).spectral_radius

    def stable(lr: float) -> bool:
        return bool(map_class(radius(lr)) == "stable")

    def boundary(inside: float, outside: float) -> float:
        # invariant: radius(inside) < 1 <= radius(outside); the ends of a stable interval are
        # where the radius crosses 1 itself, not 1 - MAP_MARGINAL_TOL
        for _ in range(200):
            if abs(outside - inside) <= 1e-12 * max(abs(inside), abs(outside)):
                break
            mid = math.sqrt(inside * outside)
            if radius(mid) < 1.0:
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
