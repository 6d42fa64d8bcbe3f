"""The gradient flow linearized at a stationary point: node, focus, saddle, centre.

:func:`flow_stability` classifies a stationary point of ``dx/dt = F(x)`` from
the eigenvalues of ``dF/dx`` there (:class:`FlowStability`).

References
----------
.. [1] Mescheder, Nowozin and Geiger (2017). The Numerics of GANs. NeurIPS,
   Sec. 3 (flow stability from the Jacobian's eigenvalues).
.. [6] Hirsch, Smale and Devaney (2013). Differential Equations, Dynamical
   Systems, and an Introduction to Chaos, 3rd ed., Ch. 4 and 8
   (classification of linear planar systems; linearization).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from gandyn.arrays import Array, ComplexArray

__all__ = ["FlowStability", "flow_stability"]


#: Real parts within this (relative to ``||J||``) of zero touch the imaginary axis.
_AXIS_RTOL = 1e-10
#: Imaginary parts below this (relative) are zero: a defective (repeated)
#: eigenvalue is computed only to about ``sqrt(machine epsilon)``.
_IMAG_RTOL = 1e-7


@dataclass(frozen=True)
class FlowStability:
    """The gradient flow linearized at a stationary point.

    Attributes
    ----------
    eigenvalues
        Eigenvalues of ``dF/dx``, sorted by real then imaginary part.
    stability
        ``"stable"`` (every real part negative: locally asymptotically stable),
        ``"unstable"`` (some real part positive) or ``"marginal"`` (none
        positive, some on the imaginary axis).
    kind
        ``"stable node"``, ``"stable focus"``, ``"unstable node"``,
        ``"unstable focus"``, ``"saddle"`` (real parts of both signs),
        ``"centre"`` (every eigenvalue purely imaginary and non-zero) or
        ``"marginal"`` (any other spectrum touching the imaginary axis).
    inconclusive
        ``True`` when the stability is ``"marginal"``: linearization cannot
        decide (the nonlinear terms do).
    """

    eigenvalues: ComplexArray
    stability: Literal["stable", "unstable", "marginal"]
    kind: Literal[
        "stable node", "stable focus", "unstable node", "unstable focus", "saddle", "centre",
        "marginal",
    ]
    inconclusive: bool


def flow_stability(jacobian: Array) -> FlowStability:
    """Classify a stationary point of ``dx/dt = F(x)`` from ``dF/dx`` there.

    Lyapunov's indirect method ([6]_, Ch. 8; [1]_, Sec. 3): every eigenvalue
    with a negative real part gives local asymptotic stability, one with a
    positive real part instability, and a spectrum touching the imaginary axis
    (``|Re| <= 1e-10 ||J||``) without a positive real part is inconclusive.
    Node or focus follows the planar classification ([6]_, Ch. 4): complex
    eigenvalues (``|Im| > 1e-7 max|lambda|``; a repeated eigenvalue is only
    computed to about ``sqrt(eps)``) make a focus.

    Parameters
    ----------
    jacobian
        ``dF/dx`` at the point, shape ``(n, n)`` (gandyn's ``F = -xi``, not ``xi``).

    Returns
    -------
    FlowStability
        Eigenvalues and their classification.

    References
    ----------
    .. [1] Mescheder, Nowozin and Geiger (2017). The Numerics of GANs. NeurIPS, Sec. 3.
    .. [6] Hirsch, Smale and Devaney (2013). Differential Equations, Dynamical
       Systems, and an Introduction to Chaos, 3rd ed.
    """
    jac = np.asarray(jacobian, dtype=np.float64)
    if jac.ndim != 2 or jac.shape[0] != jac.shape[1]:
        raise ValueError(f"jacobian must be a square matrix, got shape {jac.shape}")
    eig = np.sort_complex(np.linalg.eigvals(jac).astype(np.complex128))
    norm = float(np.linalg.norm(jac, 2)) if jac.size else 0.0
    axis_tol = _AXIS_RTOL * norm
    imag_tol = _IMAG_RTOL * max(norm, float(np.max(np.abs(eig))) if eig.size else 0.0)
    re, im = eig.real, eig.imag
    positive, negative = re > axis_tol, re < -axis_tol
    complex_pair = bool(np.any(np.abs(im) > imag_tol))
    stability: Literal["stable", "unstable", "marginal"]
    kind: Literal[
        "stable node", "stable focus", "unstable node", "unstable focus", "saddle", "centre",
        "marginal",
    ]
    if np.any(positive):
        stability = "unstable"
        if np.any(negative):
            kind = "saddle"
        else:
            kind = "unstable focus" if np.any(np.abs(im[positive]) > imag_tol) else "unstable node"
    elif np.all(negative):
        stability = "stable"
        kind = "stable focus" if complex_pair else "stable node"
    else:
        stability = "marginal"
        on_axis = ~negative
        kind = "centre" if np.all(on_axis) and np.all(np.abs(im) > imag_tol) else "marginal"
    return FlowStability(eig, stability, kind, stability == "marginal")
