"""Running means in time linear in the series, whatever the window.

The analysis splits a logged series into a slow trend (a centred moving
average) and a fast fluctuation. A window that grows with the log (``n // 20``
steps by default) makes a convolution cost ``O(n * window) = O(n^2)``: a
200 000-row log took minutes. :func:`running_mean` uses cumulative sums, so
every window costs two subtractions.

References
----------
.. [1] Higham (2002). Accuracy and Stability of Numerical Algorithms, 2nd ed.
   SIAM, Sec. 4.2 (the error of recursive summation grows with the magnitude
   of the partial sums, hence the centring below).
"""

from __future__ import annotations

import numpy as np

from gandyn.arrays import Array

__all__ = ["running_mean"]


def running_mean(x: Array, window: int) -> Array:
    """Means of every run of ``window`` consecutive values (``len(x) - window + 1`` of them).

    Equal to ``np.convolve(x, np.ones(window) / window, mode="valid")`` but in
    ``O(n)`` time. The series is centred on its mean before summing, so the
    partial sums stay of the size of the fluctuations and the rounding error of
    each mean is about ``n * eps * std(x)`` rather than ``n * eps * |mean(x)|``
    [1]_.

    Parameters
    ----------
    x
        A 1-D series.
    window
        Number of values per mean, ``1 <= window <= len(x)``.

    Returns
    -------
    numpy.ndarray
        The ``len(x) - window + 1`` means.

    References
    ----------
    .. [1] Higham (2002). Accuracy and Stability of Numerical Algorithms,
       Sec. 4.2.
    """
    values = np.asarray(x, dtype=np.float64)
    if not 1 <= window <= values.size:
        raise ValueError(f"window {window} must be between 1 and the length {values.size}")
    centre = float(np.mean(values))
    sums = np.empty(values.size + 1)
    sums[0] = 0.0
    np.cumsum(values - centre, out=sums[1:])
    means: Array = (sums[window:] - sums[:-window]) / window + centre
    return means
