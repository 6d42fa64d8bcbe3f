r"""One combined discriminator loss: what ``(d_loss, g_loss)`` can and cannot tell.

Most training loops print one discriminator loss, ``d_loss = d_real +
d_fake`` (the PyTorch DCGAN example's ``Loss_D``) or their mean (PyTorch-GAN's
``(real_loss + fake_loss) / 2``), beside the generator's ``g_loss``.

What the pair tells, for the non-saturating loss with one discriminator:
``g_loss = mean softplus(-l_i)`` fixes an effective ``p = exp(-g_loss)``,
hence (for one logit) ``d_fake = -log(1 - p)``, hence ``d_real = d_loss -
d_fake``. With a spread of fake logits Jensen's inequality makes that
``d_fake`` a lower bound and ``d_real`` an upper bound.

What it cannot tell: whether ``d_fake`` and ``g_loss`` describe the same
``D(G(z))`` (there is only one measurement of ``p``), how widely the logits
spread, or whether ``d_loss`` moves through its fake or its real part.

The swing, to first order in the logits: a fluctuation ``dl`` of the fake
logit and ``dr`` of the real logit move
``g_loss`` by ``-(1 - p) dl`` and ``d_loss`` by ``c (p dl - (1 - q) dr)``,
``q = D(x)``, ``c = 1`` for a sum and ``1/2`` for a mean. So

.. math:: \frac{\operatorname{std}(g)}{\operatorname{std}(d_{loss})}
   = \frac{(1 - p)\,\sigma_l}{c\sqrt{p^2\sigma_l^2 + (1 - q)^2\sigma_r^2
     - 2p(1 - q)\rho\,\sigma_l\sigma_r}},

which is ``(1 - p)/(c p)`` when the real part is flat (``sigma_r = 0``) and
smaller when it moves independently (``rho = 0``). :func:`analyze_combined`
reports the measured ratio, the share of ``d_loss``'s swing its inferred fake
part carries, and, when ``D(x)`` and ``D(G(z))`` are logged (the DCGAN
example), the per-step prediction from the logits they imply.

References
----------
.. [1] Goodfellow (2016). NIPS 2016 Tutorial: Generative Adversarial
   Networks. arXiv:1701.00160, Sec. 3.2.
.. [2] Inkawhich (2018). DCGAN Tutorial. PyTorch tutorials (``Loss_D`` is
   ``errD_real + errD_fake``).
.. [4] Ku (1966). Notes on the use of propagation of error formulas.
   J. Res. NBS 70C(4).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from gandyn.arrays import Array
from gandyn.explain.smoothing import running_mean
from gandyn.jsondata import plain

__all__ = ["D_LOSS_KINDS", "CombinedReport", "analyze_combined"]

#: How a combined discriminator loss is formed from its real and fake parts.
D_LOSS_KINDS: dict[str, float] = {"sum": 1.0, "mean": 0.5}

#: Largest and least probability used in a logit (a printed 0 or 1 stays finite).
_P_CLIP = 1e-12


def _detrended(x: Array, window: int) -> Array:
    half = window // 2
    return x[half: x.size - half] - running_mean(x, window)


def _logit(p: Array) -> Array:
    q = np.clip(p, _P_CLIP, 1.0 - _P_CLIP)
    return np.asarray(np.log(q) - np.log1p(-q))


def _std_ratio(num: Array, den: Array) -> float:
    s_den = float(np.std(den))
    s_num = float(np.std(num))
    if s_den > 0:
        return s_num / s_den
    return math.inf if s_num > 0 else math.nan


@dataclass(frozen=True)
class CombinedReport:
    """What a ``(d_loss, g_loss)`` pair says, with the swing of one against the other.

    Attributes
    ----------
    kind
        ``"sum"`` (``d_loss = d_real + d_fake``) or ``"mean"`` (their half-sum).
    n, window
        Steps and the detrending window.
    mean_p
        Mean over steps of ``exp(-g_loss)``, the effective ``D(G(z))``.
    mean_d_fake, mean_d_real
        Means of the inferred parts (``d_fake`` a lower bound, ``d_real`` an
        upper bound when the fake logits spread).
    std_ratio_measured
        ``std(g_loss)/std(d_loss)``: ``raw``, ``detrended`` and ``diff``.
    fake_share
        ``std(c * d_fake)/std(d_loss)`` of the detrended series, with ``d_fake``
        from the logged ``D(G(z))`` that ``d_loss`` saw, else from ``g_loss``;
        above 1 when the real part moves against the fake part.
    std_ratio_predicted
        ``"fake-part-only"``: ``rms((1-P) dl)/rms(c P dl)``, the ratio if the
        real part were flat (an upper bound when the real part moves
        independently); ``"per-step"`` when ``D(x)`` and ``D(G(z))`` are
        logged: ``rms((1-P_g) dl_g)/rms(c (P dl - (1-Q) dr))`` with the
        detrended logits those probabilities imply and ``P``, ``Q`` their
        local (moving-average) means.
    relative_error
        ``measured/predicted - 1`` (detrended) for each prediction.
    """

    kind: str
    n: int
    window: int
    mean_p: float
    mean_d_fake: float
    mean_d_real: float
    std_ratio_measured: dict[str, float]
    fake_share: float
    std_ratio_predicted: dict[str, float]
    relative_error: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dictionary (non-finite numbers become ``None``)."""
        converted: dict[str, Any] = plain({
            "kind": self.kind, "n": self.n, "window": self.window, "mean_p": self.mean_p,
            "mean_d_fake": self.mean_d_fake, "mean_d_real": self.mean_d_real,
            "std_ratio_measured": self.std_ratio_measured, "fake_share": self.fake_share,
            "std_ratio_predicted": self.std_ratio_predicted,
            "relative_error": self.relative_error})
        return converted

    def to_text(self) -> str:
        """A paragraph: what the pair tells, what it cannot, and the swing."""
        c = "d_real + d_fake" if self.kind == "sum" else "(d_real + d_fake)/2"
        m = self.std_ratio_measured
        text = (
            f"The log has one discriminator loss, d_loss = {c}. With the non-saturating loss "
            f"and one discriminator, g_loss fixes p = exp(-g_loss) (mean {self.mean_p:.3g}), "
            f"hence d_fake = -log(1 - p) (mean {self.mean_d_fake:.3g}) and d_real = the rest "
            f"(mean {self.mean_d_real:.3g}); when the fake logits spread within a batch these "
            "are a lower and an upper bound. The pair cannot tell whether d_fake and g_loss "
            "describe the same D(G(z)), how widely the logits spread, or whether d_loss moves "
            f"through its real or its fake part. g_loss swings {m['detrended']:.3g} times as "
            f"much as d_loss (after removing a {self.window}-step moving average; "
            f"{m['diff']:.3g} on step-to-step differences). "
            f"The fake part's swing is {100 * self.fake_share:.0f}% of d_loss's; if the "
            "real part were flat the first-order law would give "
            f"{self.std_ratio_predicted['fake-part-only']:.3g}. A real part that moves on its "
            "own lowers the ratio; one that moves against the fake part raises it (a shift of "
            "the discriminator's bias moves the real and the fake logit together, so the two "
            "parts of d_loss cancel, and the fake part then swings more than d_loss itself)."
        )
        per_step = self.std_ratio_predicted.get("per-step")
        if per_step is not None and math.isfinite(per_step):
            text += (
                f" From the logged D(x) and D(G(z)) the per-step law predicts {per_step:.3g} "
                f"(relative error {100 * self.relative_error['per-step']:+.0f}%)."
            )
        return text


def _rms_ratio(num: Array, den: Array) -> float:
    r_den = float(np.sqrt(np.mean(den**2)))
    r_num = float(np.sqrt(np.mean(num**2)))
    if r_den > 0:
        return r_num / r_den
    return math.inf if r_num > 0 else math.nan


def analyze_combined(d_loss: Array, g_loss: Array, *, kind: str = "sum", window: int,
                     d_x: Array | None = None, d_gz: Array | None = None,
                     d_gz_after: Array | None = None) -> CombinedReport:
    """Explain the swing of ``g_loss`` against a combined ``d_loss`` (non-saturating loss).

    Parameters
    ----------
    d_loss, g_loss
        The logged series (finite, same length, at least ``window + 2``).
    kind
        ``"sum"`` or ``"mean"`` (:data:`D_LOSS_KINDS`).
    window
        Odd detrending window.
    d_x, d_gz
        Logged mean ``D(x)`` and ``D(G(z))`` as ``d_loss`` saw them; both are
        needed for the per-step prediction.
    d_gz_after
        Logged mean ``D(G(z))`` as ``g_loss`` saw it (after the discriminator's
        update, in the DCGAN example); default: ``exp(-g_loss)``.

    Returns
    -------
    CombinedReport

    References
    ----------
    .. [4] Ku (1966). Notes on the use of propagation of error formulas.
       J. Res. NBS 70C(4).
    """
    if kind not in D_LOSS_KINDS:
        raise ValueError(f"kind must be one of {sorted(D_LOSS_KINDS)}, got {kind!r}")
    c = D_LOSS_KINDS[kind]
    d = np.asarray(d_loss, dtype=np.float64)
    g = np.asarray(g_loss, dtype=np.float64)
    n = d.size
    p_g = np.exp(-g)
    # The fake part of d_loss: from the D(G(z)) that d_loss saw when it is logged, else from
    # g_loss (one logit, the same discriminator).
    p_fake = p_g if d_gz is None else np.asarray(d_gz, dtype=np.float64)
    d_fake = -np.log1p(-np.clip(p_fake, 0.0, 1.0 - _P_CLIP))
    d_real = d / c - d_fake
    dd, dg, dfk = (_detrended(x, window) for x in (d, g, c * d_fake))
    measured = {"raw": _std_ratio(g, d), "detrended": _std_ratio(dg, dd),
                "diff": _std_ratio(np.diff(g), np.diff(d))}
    fake_share = _std_ratio(dfk, dd)
    # Slopes averaged over each fluctuation about the local trend (the moving average of p),
    # as for the pair d_fake, g_loss (gandyn.explain.series, "local-mean-p").
    p_after = p_g if d_gz_after is None else np.asarray(d_gz_after, dtype=np.float64)
    dl_after = _detrended(_logit(p_after), window)
    pa = running_mean(p_after, window)
    predicted = {"fake-part-only": _rms_ratio((1 - pa) * dl_after, c * pa * dl_after)}
    if d_x is not None and d_gz is not None:
        q = np.asarray(d_x, dtype=np.float64)
        dl_before = _detrended(_logit(p_fake), window)
        dr = _detrended(_logit(q), window)
        pb, qc = running_mean(p_fake, window), running_mean(q, window)
        predicted["per-step"] = _rms_ratio((1 - pa) * dl_after,
                                           c * (pb * dl_before - (1 - qc) * dr))
    relative = {k: (measured["detrended"] / v - 1.0) if v and math.isfinite(v) else math.nan
                for k, v in predicted.items()}
    return CombinedReport(kind=kind, n=n, window=window, mean_p=float(np.mean(p_g)),
                          mean_d_fake=float(np.mean(d_fake)), mean_d_real=float(np.mean(d_real)),
                          std_ratio_measured=measured, fake_share=fake_share,
                          std_ratio_predicted=predicted, relative_error=relative)
