r"""The time-scale figure: a stationary point's eigenvalues as the discriminator speeds up.

The real parts of the eigenvalues of ``J_tau = diag(I, tau I) dF/dx`` against
the ratio ``tau = lr_D / lr_G`` (log axis): the point is stable where every
real part is below zero (shaded), and each critical ratio
(:func:`gandyn.equilibria.timescales.critical_ratios`) is a dotted line
labelled with its value. The real parts grow like ``tau`` for the
discriminator's fast eigenvalues, so the vertical axis is symmetric-log.

References
----------
.. [1] Fiez and Ratliff (2021). Local convergence analysis of gradient
   descent ascent with finite timescale separation. ICLR (stability as a
   function of the timescale ratio).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.axes import Axes

from gandyn.equilibria.timescales import critical_ratios, time_scale_jacobian
from gandyn.errors import SpecError
from gandyn.plotting.style import PALETTE, note_fontsize, series_style

__all__ = ["time_scale_axes", "time_scale_data"]

#: The shading of the stable ratios (light, behind the curves).
STABLE_SHADE = "#E3EEF7"


def time_scale_data(jacobian: Any, n_theta: int, ratio_range: tuple[float, float] = (1e-3, 1e3),
                    points: int = 400) -> dict[str, np.ndarray[Any, Any]]:
    """The numbers behind the figure.

    Returns
    -------
    dict
        ``tau`` ``(points,)`` (log-spaced), ``eigenvalues_real`` and
        ``eigenvalues_imag`` ``(points, n)`` (each row sorted by real part),
        ``stable`` ``(points,)`` and ``critical_ratios``.
    """
    low, high = ratio_range
    if not (0 < low < high and np.isfinite(high)):
        raise SpecError(f"the ratio range must satisfy 0 < low < high < inf, not {ratio_range}")
    if not 2 <= points <= 100_000:
        raise SpecError(f"points must be from 2 to 100000, not {points}")
    jac = np.asarray(jacobian, dtype=np.float64)
    taus = np.logspace(np.log10(low), np.log10(high), points)
    eig = np.array([np.sort_complex(np.linalg.eigvals(time_scale_jacobian(jac, n_theta, t)))
                    for t in taus])
    scale = np.array([np.linalg.norm(time_scale_jacobian(jac, n_theta, t), 2) for t in taus])
    return {
        "tau": taus,
        "eigenvalues_real": eig.real,
        "eigenvalues_imag": eig.imag,
        "stable": np.all(eig.real < -1e-10 * scale[:, None], axis=1),
        "critical_ratios": np.array(critical_ratios(jac, n_theta, (low, high))),
    }


def _stable_spans(taus: np.ndarray[Any, Any], stable: np.ndarray[Any, Any]
                  ) -> list[tuple[float, float]]:
    spans, start = [], None
    for t, s in zip(taus, stable, strict=True):
        if s and start is None:
            start = float(t)
        elif not s and start is not None:
            spans.append((start, float(t)))
            start = None
    if start is not None:
        spans.append((start, float(taus[-1])))
    return spans


def time_scale_axes(ax: Axes, data: dict[str, np.ndarray[Any, Any]]) -> Axes:
    """Draw :func:`time_scale_data` on ``ax``."""
    taus, real = data["tau"], data["eigenvalues_real"]
    for low, high in _stable_spans(taus, data["stable"]):
        ax.axvspan(low, high, color=STABLE_SHADE, zorder=0, linewidth=0,
                   label="stable" if low == _stable_spans(taus, data["stable"])[0][0] else None)
    n = real.shape[1]
    for k in range(n):
        style = series_style(k, n).kwargs()
        ax.plot(taus, real[:, k], **style, markevery=0.1, markersize=3, zorder=2,
                label=rf"$\mathrm{{Re}}\,\lambda_{{{k + 1}}}$")
    ax.axhline(0.0, color="0.4", linewidth=0.8, zorder=1)
    for tau in data["critical_ratios"]:
        ax.axvline(tau, color=PALETTE["black"], linewidth=0.8, linestyle=":", zorder=3)
        ax.annotate(rf"$\tau^* = {tau:.4g}$", (tau, 1.0), xycoords=("data", "axes fraction"),
                    xytext=(3, -3), textcoords="offset points", ha="left", va="top",
                    fontsize=note_fontsize())
    ax.set_xscale("log")
    finite = np.abs(real[np.isfinite(real)])
    largest = float(np.max(finite)) if finite.size and np.max(finite) > 0 else 1.0
    # Linear within three decades of the largest real part, logarithmic beyond: the
    # crossing of zero stays visible and the fast eigenvalues (growing like tau) fit.
    ax.set_yscale("symlog", linthresh=10.0 ** np.floor(np.log10(largest) - 3), linscale=0.5)
    ax.set_xlim(taus[0], taus[-1])
    ax.set_xlabel(r"ratio of learning rates $\tau = \eta_D / \eta_G$")
    ax.set_ylabel(r"$\mathrm{Re}\,\lambda(J_\tau)$")
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=min(n + 1, 4), frameon=False,
              fontsize=note_fontsize(), borderaxespad=0.2)
    return ax
