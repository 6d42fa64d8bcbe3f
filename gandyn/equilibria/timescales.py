"""Two time scales: the flow ``dx/dt = diag(I, tau I) F(x)`` and the ratio where stability changes.

Training with a discriminator learning rate ``tau`` times the generator's
(TTUR, Heusel et al. 2017; tau-GDA, Jin, Netrapalli and Jordan 2020) is, in
the limit of small steps, the flow

    d theta / dt = F_theta(x),    d psi / dt = tau F_psi(x),

whose Jacobian at a stationary point is ``J_tau = diag(I, tau I) J`` with
``J = dF/dx`` (the diagonal matrix is constant, so it multiplies the whole
Jacobian). This module classifies the point for one ``tau`` and finds every
*critical ratio* in a range: a ``tau`` where the spectral abscissa
``max Re eig(J_tau)`` changes sign, so that the point turns stable or
unstable. It also states the limits: as ``tau -> infinity`` the point is
stable when the follower's block ``J_pp`` and the Schur complement
``J_tt - J_tp J_pp^{-1} J_pt`` are both Hurwitz (every eigenvalue in the open
left half-plane), which for a zero-sum game is the strict local minimax
condition (Jin, Netrapalli and Jordan 2020, Thm. 28; Fiez and Ratliff 2021,
Thm. 1: a differential Stackelberg equilibrium is stable for every ``tau``
above a finite ``tau*``); as ``tau -> 0`` the roles swap.

The critical ratios are found on the spectral abscissa, which is continuous
in ``tau``: sampled on a logarithmic grid, each sign change refined by
Brent's method. A zero eigenvalue of ``J`` stays one of ``J_tau`` for every
``tau > 0`` (``det J_tau = tau^{n_psi} det J``), so such a point is
marginal for every ratio and has no critical ratio.

References
----------
.. [1] Heusel, Ramsauer, Unterthiner, Nessler and Hochreiter (2017). GANs
   trained by a two time-scale update rule converge to a local Nash
   equilibrium. NeurIPS.
.. [2] Jin, Netrapalli and Jordan (2020). What is local optimality in
   nonconvex-nonconcave minimax optimization? ICML, Sec. 5 and Thm. 28
   (tau-GDA as tau -> infinity).
.. [3] Fiez and Ratliff (2021). Local convergence analysis of gradient
   descent ascent with finite timescale separation. ICLR, Thm. 1 and 2.
.. [4] Brent (1973). Algorithms for Minimization without Derivatives, Ch. 4.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import brentq

from gandyn.arrays import Array
from gandyn.equilibria.flow import FlowStability, flow_stability
from gandyn.errors import SpecError

__all__ = ["DEFAULT_RATIO_RANGE", "TimeScales", "critical_ratios", "limit_stability",
           "time_scale_jacobian", "time_scales"]

#: The ratios searched for critical values by default: six decades either side of 1.
DEFAULT_RATIO_RANGE = (1e-6, 1e6)
#: Grid points per decade of ``tau`` at which the spectral abscissa is sampled.
_POINTS_PER_DECADE = 24
#: A spectral abscissa within this (relative to ``||J_tau||``) of zero is on the axis.
_AXIS_RTOL = 1e-10


def time_scale_jacobian(jacobian: Array, n_theta: int, tau: float) -> Array:
    """``diag(I, tau I) J``: the Jacobian of the flow with the discriminator ``tau`` times faster.

    Parameters
    ----------
    jacobian
        ``J = dF/dx`` at the point, ``(n, n)``, generator coordinates first.
    n_theta
        The number of generator coordinates.
    tau
        The ratio of the discriminator's learning rate to the generator's (> 0).
    """
    jac = np.asarray(jacobian, dtype=np.float64)
    if jac.ndim != 2 or jac.shape[0] != jac.shape[1]:
        raise SpecError(f"the Jacobian must be a square matrix, not of shape {jac.shape}")
    if not 0 < n_theta < jac.shape[0]:
        raise SpecError(f"n_theta must be from 1 to {jac.shape[0] - 1}, not {n_theta}")
    if not (np.isfinite(tau) and tau > 0):
        raise SpecError(f"`tau` must be a positive finite ratio, not {tau!r}")
    scaled = jac.copy()
    scaled[n_theta:] *= tau
    return scaled


def _abscissa(jacobian: Array, n_theta: int, tau: float) -> float:
    """``max Re eig(J_tau) / ||J_tau||``: its sign is the stability, its scale bounded."""
    scaled = time_scale_jacobian(jacobian, n_theta, tau)
    norm = float(np.linalg.norm(scaled, 2))
    if norm == 0.0:
        return 0.0
    return float(np.max(np.linalg.eigvals(scaled).real)) / norm


def _hurwitz(matrix: Array) -> bool | None:
    """Every eigenvalue in the open left half-plane: True; one in the right: False; else None."""
    if matrix.size == 0:
        return True
    real = np.linalg.eigvals(matrix).real
    tol = _AXIS_RTOL * max(1.0, float(np.linalg.norm(matrix, 2)))
    if np.any(real > tol):
        return False
    return True if np.all(real < -tol) else None


def limit_stability(jacobian: Array, n_theta: int) -> dict[str, bool | None]:
    """Stability of the time-scale flow in the limits ``tau -> infinity`` and ``tau -> 0``.

    For ``tau -> infinity`` the discriminator equilibrates first: the
    eigenvalues of ``J_tau`` split into ``tau eig(J_pp)`` and, to leading
    order, ``eig(J_tt - J_tp J_pp^{-1} J_pt)`` (a singular perturbation
    argument; [2]_, Thm. 28, [3]_, Thm. 1). The point is stable for all large
    ``tau`` when both matrices are Hurwitz and unstable when either has an
    eigenvalue with positive real part. For ``tau -> 0`` the generator's
    block ``J_tt`` and the Schur complement ``J_pp - J_pt J_tt^{-1} J_tp``
    play these roles.

    Returns
    -------
    dict
        ``{"fast_discriminator": ..., "fast_generator": ...}``, each ``True``
        (stable in that limit), ``False`` (unstable) or ``None`` (a block is
        singular or has an eigenvalue on the imaginary axis: undecided).

    References
    ----------
    .. [2] Jin, Netrapalli and Jordan (2020). ICML, Thm. 28.
    .. [3] Fiez and Ratliff (2021). ICLR, Thm. 1.
    """
    jac = np.asarray(jacobian, dtype=np.float64)
    t, p = slice(0, n_theta), slice(n_theta, jac.shape[0])

    def limit(fast: slice, slow: slice) -> bool | None:
        block = jac[fast, fast]
        fast_stable = _hurwitz(block)
        if fast_stable is not True:
            return fast_stable
        schur = jac[slow, slow] - jac[slow, fast] @ np.linalg.solve(block, jac[fast, slow])
        return _hurwitz(schur)

    return {"fast_discriminator": limit(p, t), "fast_generator": limit(t, p)}


def critical_ratios(jacobian: Array, n_theta: int,
                    ratio_range: tuple[float, float] = DEFAULT_RATIO_RANGE) -> list[float]:
    """Every ratio ``tau`` in ``ratio_range`` where the time-scale flow changes stability.

    The spectral abscissa of ``J_tau`` (divided by ``||J_tau||``, which keeps
    its sign) is sampled at 24 points per decade; each sign change is
    refined by Brent's method to a relative tolerance of about 1e-12. Two
    changes closer than a grid cell can be missed; for the 2-D case the
    closed form is ``tau* = -J_tt / J_pp`` when ``det J > 0``.

    Returns
    -------
    list of float
        The critical ratios, increasing; empty when stability does not
        change in the range.
    """
    low, high = (float(v) for v in ratio_range)
    if not (0 < low < high and np.isfinite(high)):
        raise SpecError(f"the ratio range must satisfy 0 < low < high < inf, not {ratio_range}")
    decades = np.log10(high) - np.log10(low)
    grid = np.logspace(np.log10(low), np.log10(high),
                       max(2, int(np.ceil(decades * _POINTS_PER_DECADE)) + 1))
    values = np.array([_abscissa(jacobian, n_theta, tau) for tau in grid])
    signs = np.where(values > _AXIS_RTOL, 1, np.where(values < -_AXIS_RTOL, -1, 0))
    found: list[float] = []
    for i in range(len(grid) - 1):
        if signs[i] * signs[i + 1] < 0:
            # In log tau, so that Brent's bracket is well scaled over many decades.
            root = brentq(lambda s: _abscissa(jacobian, n_theta, float(np.exp(s))),
                          np.log(grid[i]), np.log(grid[i + 1]), xtol=1e-14, rtol=1e-13)
            found.append(float(np.exp(root)))
    return found


@dataclass(frozen=True)
class TimeScales:
    """A stationary point under two time scales.

    Attributes
    ----------
    tau
        The ratio analyzed (discriminator learning rate / generator learning rate).
    flow
        The classification of ``J_tau`` (:class:`~gandyn.equilibria.flow.FlowStability`).
    critical
        The critical ratios in ``ratio_range`` (:func:`critical_ratios`).
    ratio_range
        Where they were searched.
    limits
        :func:`limit_stability`.
    """

    tau: float
    flow: FlowStability
    critical: tuple[float, ...]
    ratio_range: tuple[float, float]
    limits: dict[str, bool | None]

    def stable_ratios(self) -> str:
        """The ratios with a stable point, in words (``"tau > 1"``, ``"no tau in [1e-06, 1e+06]"``).

        Each interval between critical ratios is classified at its geometric middle.
        """
        edges = [self.ratio_range[0], *self.critical, self.ratio_range[1]]
        stable = []
        for a, b in itertools.pairwise(edges):
            middle = float(np.sqrt(a * b))
            if self.flow_at(middle).stability == "stable":
                stable.append((a, b))
        if not stable:
            return f"no tau in [{self.ratio_range[0]:g}, {self.ratio_range[1]:g}]"
        parts = []
        for a, b in stable:
            lower = a if a != self.ratio_range[0] else None
            upper = b if b != self.ratio_range[1] else None
            if lower is None and upper is None:
                parts.append(f"every tau in [{a:g}, {b:g}]")
            elif lower is None:
                parts.append(f"tau < {upper:.6g}")
            elif upper is None:
                parts.append(f"tau > {lower:.6g}")
            else:
                parts.append(f"{lower:.6g} < tau < {upper:.6g}")
        return " or ".join(parts)

    def flow_at(self, tau: float) -> FlowStability:
        """The classification at another ratio (the Jacobian is kept)."""
        return flow_stability(time_scale_jacobian(self._jacobian, self._n_theta, tau))

    # The Jacobian and split, kept for :meth:`flow_at` (not part of the record's data).
    _jacobian: Array = field(default_factory=lambda: np.zeros((0, 0)), compare=False,
                             repr=False)
    _n_theta: int = field(default=0, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for the JSON output."""
        return {"tau": self.tau, "stability": self.flow.stability, "flow_class": self.flow.kind,
                "critical_ratios": list(self.critical), "ratio_range": list(self.ratio_range),
                "stable_for": self.stable_ratios(),
                "limit_fast_discriminator": self.limits["fast_discriminator"],
                "limit_fast_generator": self.limits["fast_generator"]}


def time_scales(jacobian: Array, n_theta: int, tau: float = 1.0,
                ratio_range: tuple[float, float] = DEFAULT_RATIO_RANGE) -> TimeScales:
    """Classify a stationary point for the ratio ``tau`` and find where the verdict changes.

    Parameters
    ----------
    jacobian
        ``J = dF/dx`` at the point (gandyn's ``F = -xi``), generator first.
    n_theta
        The number of generator coordinates.
    tau
        The ratio ``lr_d / lr_g`` to classify at.
    ratio_range
        Where critical ratios are searched.

    Returns
    -------
    TimeScales
    """
    jac = np.asarray(jacobian, dtype=np.float64)
    flow = flow_stability(time_scale_jacobian(jac, n_theta, tau))
    return TimeScales(tau=float(tau), flow=flow,
                      critical=tuple(critical_ratios(jac, n_theta, ratio_range)),
                      ratio_range=(float(ratio_range[0]), float(ratio_range[1])),
                      limits=limit_stability(jac, n_theta), _jacobian=jac, _n_theta=n_theta)
