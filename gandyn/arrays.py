"""Array types and the numerically stable numpy functions every layer shares.

One definition of each, so that a fix reaches every caller:

* :data:`Array`, :data:`BoolArray`, :data:`ComplexArray`: the float64, bool
  and complex128 arrays of gandyn's type hints;
* :func:`softplus`, :func:`sigmoid`, :func:`log_sigmoid`: the logistic
  functions in the forms that stay finite and accurate at logits of +-1000
  (``log(1 + e^x)`` through ``logaddexp``, scipy's ``expit`` and ``log_expit``);
  :func:`fast_softplus`, the same softplus several times faster, for loops that
  evaluate it at every step (the sweep's logged losses);
* :func:`moving_average`: the centred running mean that the loss analysis
  uses to split a series into trend and fluctuation.

References
----------
.. [1] Machler (2012). Accurately Computing log(1 - exp(-|a|)). Rmpfr
   vignette (why ``log(1 + e^x)`` must not be written literally).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["Array", "BoolArray", "ComplexArray", "fast_softplus", "log_sigmoid",
           "moving_average", "sigmoid", "softplus"]

Array = np.ndarray[Any, np.dtype[np.float64]]
BoolArray = np.ndarray[Any, np.dtype[np.bool_]]
ComplexArray = np.ndarray[Any, np.dtype[np.complex128]]


def softplus(x: Any) -> Any:
    """``log(1 + e^x)``, finite for every finite ``x`` (``np.logaddexp(0, x)``)."""
    return np.logaddexp(0.0, x)


def fast_softplus(x: Any) -> Any:
    """``log(1 + e^x)`` as ``max(x, 0) + log1p(exp(-|x|))``.

    Finite for every finite ``x`` (logits of +-1000 included) and equal to
    :func:`softplus` to within a few ulp, but several times faster than
    ``np.logaddexp``: a sweep evaluates the logged losses at every step of its
    windows.
    """
    with np.errstate(over="ignore"):
        return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def sigmoid(x: Any) -> Any:
    """``1 / (1 + e^-x)`` without overflow (:func:`scipy.special.expit`)."""
    from scipy.special import expit

    return expit(x)


def log_sigmoid(x: Any) -> Any:
    """``log sigmoid(x) = -softplus(-x)`` without cancellation (:func:`scipy.special.log_expit`)."""
    from scipy.special import log_expit

    return log_expit(x)


def moving_average(x: Array, window: int) -> Array:
    """Means of every run of ``window`` consecutive values (``len(x) - window + 1`` of them)."""
    kernel = np.full(window, 1.0 / window)
    return np.convolve(x, kernel, mode="valid")
