"""Array types and the numerically stable numpy functions every layer shares.

One definition of each, so that a fix reaches every caller:

* :data:`Array`, :data:`BoolArray`, :data:`ComplexArray`: the float64, bool
  and complex128 arrays of gandyn's type hints;
* :func:`softplus`, :func:`sigmoid`, :func:`log_sigmoid`: the logistic
  functions in forms that stay finite and accurate at logits of +-1000, built
  on numpy's ``exp`` and ``log1p`` (one ``exp`` per element, no scipy call):
  ``softplus(x) = max(x, 0) + log1p(exp(-|x|))``, ``sigmoid(x) = 1 / (1 +
  exp(-x))`` (the formula of scipy's ``expit``, to the bit) and
  ``log_sigmoid(x) = -softplus(-x)``; :func:`fast_softplus` is the same
  softplus under its former name;
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
    """``log(1 + e^x)`` as ``max(x, 0) + log1p(exp(-|x|))``, finite for every finite ``x``.

    ``exp`` only sees ``-|x| <= 0``, so it cannot overflow, and ``log1p`` keeps
    the relative precision of the small term (Machler 2012); the result agrees
    with ``np.logaddexp(0, x)`` to a few ulp and costs a fraction of it.
    """
    a = np.abs(x, dtype=np.float64)
    if not isinstance(a, np.ndarray):
        return np.maximum(x, 0.0) + np.log1p(np.exp(-a))
    # in place: one temporary for the whole evaluation
    np.negative(a, out=a)
    np.exp(a, out=a)
    np.log1p(a, out=a)
    return np.add(a, np.maximum(x, 0.0), out=a)


#: The same function (the sweep's logged losses used it before :func:`softplus` became it).
fast_softplus = softplus


def sigmoid(x: Any) -> Any:
    """``1 / (1 + e^-x)`` with one numpy ``exp`` per element, finite for every ``x``.

    For ``x < -709`` the ``exp`` overflows to ``inf`` and ``1 / (1 + inf) = 0``,
    the limit (the true value is below the smallest normal double), so no
    branch is needed; elsewhere the three roundings keep the result within
    about one ulp. It is the formula scipy's ``expit`` evaluates, and equals it
    to the bit where both use the same ``exp``.
    """
    with np.errstate(over="ignore"):
        t = np.exp(np.negative(x))
    if isinstance(t, np.ndarray):
        t += 1.0
        return np.reciprocal(t, out=t)
    return 1.0 / (1.0 + t)


def log_sigmoid(x: Any) -> Any:
    """``log sigmoid(x) = -softplus(-x)``, without cancellation at any ``x``."""
    return -softplus(np.negative(x))


def moving_average(x: Array, window: int) -> Array:
    """Means of every run of ``window`` consecutive values (``len(x) - window + 1`` of them)."""
    kernel = np.full(window, 1.0 / window)
    return np.convolve(x, kernel, mode="valid")
