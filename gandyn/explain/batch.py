"""The exact facts of one batch of fake logits, and a normal model of their spread.

On one batch of fake logits ``l_i`` the two logged losses are means,
``d_fake = mean softplus(l_i)`` and (non-saturating) ``g_loss = mean
softplus(-l_i)``. Two facts hold exactly whatever the logits: ``d_fake -
g_loss = mean(l_i)``, and ``d_fake + g_loss`` can only exceed its value for a
single logit (:func:`_jensen_excess`, Jensen's inequality for the convex
``softplus(l) + softplus(-l)``). :func:`logit_spread_model` finds the normal
``N(m, s^2)`` logits that reproduce both losses and :func:`_spread_moments`
gives the mean ``D(G(z))`` and the per-sample spreads of the two losses under
that model. Expectations over the normal use Gauss-Hermite quadrature.

References
----------
.. [1] Goodfellow (2016). NIPS 2016 Tutorial: Generative Adversarial
   Networks. arXiv:1701.00160, Sec. 3.2 (costs as functions of the logit).
"""

from __future__ import annotations

import math

import numpy as np

from gandyn.arrays import Array

__all__ = ["logit_spread_model"]


#: Gauss-Hermite order of the expectations over a normal spread of logits.
_SPREAD_NODES = 40


def _sigmoid(x: Array) -> Array:
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * x)))


def _jensen_excess(d_fake: Array, g_loss: Array) -> Array:
    """How far ``d_fake + g_loss`` exceeds its value for a single fake logit.

    On one batch of fake logits ``l_i``, ``d_fake - g_loss = mean(l_i)``
    exactly (``softplus(l) - softplus(-l) = l``), and ``f = softplus(l) +
    softplus(-l)`` is convex, so Jensen's inequality gives
    ``d_fake + g_loss = mean f(l_i) >= f(mean l_i)``: the excess is zero for a
    single logit, positive when the logits spread (about ``p (1 - p) var(l)``)
    and cannot be negative. ``f(m) = |m| + 2 log1p(exp(-|m|))``, so the excess
    is ``2 min(d, g) - 2 log1p(exp(-|d - g|))``, free of cancellation.
    """
    return np.asarray(2.0 * np.minimum(d_fake, g_loss)
                      - 2.0 * np.log1p(np.exp(-np.abs(d_fake - g_loss))))


def _normal_nodes() -> tuple[Array, Array]:
    """Probabilists' Gauss-Hermite nodes and weights of ``E f(u)``, ``u ~ N(0, 1)``."""
    u, w = np.polynomial.hermite_e.hermegauss(_SPREAD_NODES)
    return u, w / math.sqrt(2.0 * math.pi)


def logit_spread_model(d_fake: Array, g_loss: Array) -> tuple[Array, Array]:
    """Mean and spread of normal fake logits that give these batch-mean losses.

    For logits ``l ~ N(m, s^2)`` within a batch, ``d_fake - g_loss = m``
    exactly and ``d_fake + g_loss = E[softplus(l) + softplus(-l)]`` grows
    strictly with ``s`` (the function is convex); ``s`` is found by bisection
    on that excess (:func:`_jensen_excess`). A negative excess (noise, or an
    inconsistent pair) gives ``s = 0``.

    Parameters
    ----------
    d_fake, g_loss
        Batch means (or their trends) of the two losses, same shape.

    Returns
    -------
    m, s
        Mean and standard deviation of the logits, per step.
    """
    m = np.asarray(d_fake - g_loss, dtype=np.float64)
    target = np.maximum(_jensen_excess(d_fake, g_loss), 0.0)
    u, w = _normal_nodes()

    def excess(s: Array) -> Array:
        logits = m[..., None] + s[..., None] * u
        pair = np.logaddexp(0.0, logits) + np.logaddexp(0.0, -logits)
        f_m = np.logaddexp(0.0, m) + np.logaddexp(0.0, -m)
        return np.asarray(pair @ w - f_m)

    low = np.zeros_like(m)
    high = np.full_like(m, 1.0)
    for _ in range(60):  # grow the bracket: the excess grows about linearly in s for large s
        short = excess(high) < target
        if not short.any():
            break
        high = np.where(short, 2.0 * high, high)
    for _ in range(50):
        mid = 0.5 * (low + high)
        below = excess(mid) < target
        low, high = np.where(below, mid, low), np.where(below, high, mid)
    return m, 0.5 * (low + high)


def _spread_moments(m: Array, s: Array) -> tuple[Array, Array, Array]:
    """``E sigmoid(l)``, ``sd softplus(l)``, ``sd softplus(-l)`` for ``l ~ N(m, s^2)``.

    A vanishing spread gives the first-order limits ``p s`` and ``(1 - p) s``
    of the two standard deviations; their ratio stays ``(1 - p)/p``.
    """
    u, w = _normal_nodes()
    s_eff = np.maximum(s, 1e-6)  # keeps the ratio at its s -> 0 limit
    logits = m[..., None] + s_eff[..., None] * u
    mean_p = _sigmoid(logits) @ w
    sd = []
    for sign in (1.0, -1.0):
        values = np.logaddexp(0.0, sign * logits)
        mean = values @ w
        sd.append(np.sqrt(np.maximum((values - mean[..., None]) ** 2 @ w, 0.0)))
    return np.asarray(mean_p), sd[0], sd[1]

