"""Period and damping: a logged series against the linearized flow.

:func:`dynamics_prediction` takes the eigenvalues of the flow's Jacobian at an
equilibrium and a uniformly sampled series, and compares the period the
eigenvalue with the largest imaginary part predicts (and its half, for a
series quadratic in the deviation) with the measured one.

References
----------
.. [3] Mescheder, Geiger and Nowozin (2018). Which Training
   Methods for GANs do actually Converge? ICML, Sec. 2.2 and 4.1 (Dirac-GAN,
   eigenvalues ``-gamma/2 +- sqrt(gamma^2/4 - 1/4)`` with R1).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from gandyn.arrays import Array
from gandyn.explain.smoothing import running_mean as moving_average

__all__ = ["dynamics_prediction"]



def _fft_period(t: Array, y: Array) -> float:
    dt = float(t[1] - t[0])
    spec = np.abs(np.fft.rfft(y - np.mean(y)))
    freqs = np.fft.rfftfreq(y.size, dt)
    if spec.size < 2:
        return math.nan
    k = int(np.argmax(spec[1:])) + 1
    return 1.0 / float(freqs[k])


def _upward_crossings(t: Array, y: Array) -> Array:
    idx = np.nonzero((y[:-1] < 0) & (y[1:] >= 0))[0]
    # Linear interpolation between the samples around each crossing.
    frac = -y[idx] / (y[idx + 1] - y[idx])
    return np.asarray(t[idx] + frac * (t[idx + 1] - t[idx]), dtype=np.float64)


def dynamics_prediction(
    jacobian_eigenvalues: Sequence[complex] | np.ndarray[Any, Any],
    t: Sequence[float] | Array,
    series: Sequence[float] | Array,
) -> dict[str, Any]:
    """Compare a series' oscillation with the one the linearized flow predicts.

    Parameters
    ----------
    jacobian_eigenvalues
        Eigenvalues of ``dF/dx`` at the equilibrium (``F = -xi``, as from
        :func:`gandyn.equilibria.flow_stability`).
    t
        Uniformly spaced times of the series.
    series
        A logged quantity (a loss such as ``g_loss``, or a coordinate).

    Returns
    -------
    dict
        ``omega`` (``|Im lambda|`` of the eigenvalue with the largest imaginary
        part), ``damping`` (``-Re lambda`` of it), ``predicted_period``
        (``2 pi / omega``, the period of the parameters), ``measured_period``
        (from upward zero crossings of the series minus its one-period moving
        average; FFT peak as fall-back), ``fft_period``, ``method``,
        ``harmonic`` (``1`` or ``2``: which of ``2 pi/omega`` and ``pi/omega``
        the measured period is closer to), ``predicted_loss_period`` and
        ``relative_error`` (measured vs the period of that harmonic), ``note``.

    Notes
    -----
    Near the equilibrium the parameters oscillate like ``exp(Re(lambda) t)
    cos(omega t)``. A loss oscillates at the same frequency when it is
    first-order in the deviation of the parameters; when the first-order term
    vanishes it oscillates at ``2 omega``. For the non-saturating Dirac-GAN
    with data at ``c = 0`` the fake logit is ``l = psi * theta``, a product of
    two deviations in quadrature, so the losses oscillate at ``2 omega`` (half
    the parameter period) and their amplitude decays at ``2 * damping``; with
    ``c != 0`` the logit ``psi * theta ~ c psi`` is first order and the losses
    follow the parameter frequency.

    References
    ----------
    .. [3] Mescheder, Geiger and Nowozin (2018). Which Training
       Methods for GANs do actually Converge? ICML, Sec. 2.2 and 4.1.
    """
    eig = np.asarray(jacobian_eigenvalues, dtype=np.complex128).ravel()
    tt = np.asarray(t, dtype=np.float64).ravel()
    y = np.asarray(series, dtype=np.float64).ravel()
    if tt.shape != y.shape or tt.size < 8:
        raise ValueError("t and series must be 1-D of the same length (at least 8 points)")
    if eig.size == 0:
        raise ValueError("no eigenvalues given")
    dts = np.diff(tt)
    if not np.allclose(dts, dts[0], rtol=1e-6, atol=0.0) or dts[0] <= 0:
        raise ValueError("t must be increasing and uniformly spaced")
    k = int(np.argmax(np.abs(eig.imag)))
    omega = float(abs(eig[k].imag))
    damping = float(-eig[k].real)
    predicted = 2 * math.pi / omega if omega > 0 else math.inf

    fft_period = _fft_period(tt, y)
    method = "fft"
    measured = fft_period
    if math.isfinite(fft_period):
        w = round(fft_period / float(dts[0]))
        if 3 <= w < y.size // 2:
            half = w // 2
            resid = y[half: half + y.size - w + 1] - moving_average(y, w)
            crossings = _upward_crossings(tt[half: half + resid.size], resid)
            if crossings.size >= 3:
                measured = float((crossings[-1] - crossings[0]) / (crossings.size - 1))
                method = "zero-crossings"
    result: dict[str, Any] = {
        "eigenvalue": complex(eig[k]),
        "omega": omega,
        "damping": damping,
        "predicted_period": predicted,
        "measured_period": measured,
        "fft_period": fft_period,
        "method": method,
    }
    if math.isfinite(predicted) and math.isfinite(measured):
        errors = {h: measured / (predicted / h) - 1.0 for h in (1, 2)}
        harmonic = min(errors, key=lambda h: abs(errors[h]))
        result.update(
            harmonic=harmonic,
            predicted_loss_period=predicted / harmonic,
            relative_error=errors[harmonic],
            relative_errors=errors,
        )
        result["note"] = (
            "the series oscillates at the parameter frequency omega"
            if harmonic == 1
            else "the series oscillates at 2*omega (half the parameter period): it is "
            "quadratic in the deviation, e.g. the Dirac-GAN logit psi*theta with c = 0"
        )
    else:
        result.update(harmonic=None, predicted_loss_period=predicted,
                      relative_error=math.nan, relative_errors={},
                      note="no oscillation predicted or measured")
    return result
