"""What a logged ``(d_fake, g_loss)`` pair says about ``D(G(z))`` and the ratio law.

:func:`analyze_series` recovers ``p = D(G(z))`` and the fake logit ``l`` from
each loss, checks that the two losses can describe one batch of fake logits
(the exact facts of :mod:`gandyn.explain.batch`), measures the spread ratio
``std(g_loss)/std(d_fake)`` with the estimators named in
:data:`SPREAD_ESTIMATORS` and compares it with the first-order predictions
named in :data:`PREDICTED_ESTIMATORS`; the result is a :class:`SeriesReport`.

References
----------
.. [1] Goodfellow (2016). NIPS 2016 Tutorial: Generative Adversarial
   Networks. arXiv:1701.00160, Sec. 3.2.
.. [4] Ku (1966). Notes on the use of propagation of error
   formulas. J. Res. NBS 70C(4).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gandyn.arrays import Array
from gandyn.errors import SpecError
from gandyn.explain.batch import (
    _jensen_excess,
    _normal_nodes,
    _sigmoid,
    _spread_moments,
    logit_spread_model,
)
from gandyn.explain.relations import _canonical
from gandyn.explain.smoothing import running_mean as moving_average
from gandyn.jsondata import plain

__all__ = ["JUDGED_BY", "LAW_RTOL", "PREDICTED_ESTIMATORS", "SPREAD_ESTIMATORS", "SPREAD_NOTE",
           "SeriesReport", "analyze_series", "judge_law", "ratio_relative_se"]


#: Names of the spread estimators used by :func:`analyze_series`.
SPREAD_ESTIMATORS: tuple[str, ...] = ("raw", "detrended", "diff")
#: Names of the predicted-ratio estimators used by :func:`analyze_series`.
PREDICTED_ESTIMATORS: tuple[str, ...] = ("mean-p", "per-step", "per-step-diff",
                                          "local-mean-p", "nonlinear")
#: Which measured ratio each prediction is compared with.
_PAIRING: dict[str, str] = {"mean-p": "detrended", "per-step": "detrended",
                            "local-mean-p": "detrended", "nonlinear": "detrended",
                            "per-step-diff": "diff", "sampling": "diff",
                            "sampling-spread": "diff"}
#: The prediction the verdict judges, by how the two losses were sampled: ``"shared"`` (one
#: fake batch and one discriminator for both), ``"independent"`` (independent minibatches).
#: Chosen on the real-log corpus of docs/explain-calibration.md.
JUDGED_BY: dict[str, str] = {"shared": "local-mean-p", "independent": "sampling-spread"}
#: Relative tolerance of the verdict (docs/explain-calibration.md).
LAW_RTOL = 0.25
#: Fewest records on which the verdict compares two spreads.
MIN_STEPS_FOR_VERDICT = 50
#: Largest fraction of records with a loss printed as exactly 0 before the verdict abstains.
MAX_SATURATED_FRACTION = 0.1
#: Moving-block bootstrap resamples for the standard error of a measured ratio.
_N_BOOT = 200
#: A spread of fake logits (within a batch) above which the text names it as a cause.
SPREAD_NOTE = 0.25


def _inverse_softplus(y: Array) -> Array:
    """``x`` with ``softplus(x) = y`` (``y > 0``), accurate for tiny and for large ``y``.

    ``log(expm1(y))`` keeps full relative precision for tiny ``y`` (where
    ``expm1(y) ~ y``); for ``y > 1`` the form ``y + log(-expm1(-y))`` avoids
    the overflow of ``expm1``. Values ``y <= 0`` (impossible for a softplus,
    but possible after rounding in a log) give ``-inf``.
    """
    y = np.asarray(y, dtype=np.float64)
    out = np.full(y.shape, -np.inf)
    pos = y > 0
    small = pos & (y <= 1.0)
    large = y > 1.0
    out[small] = np.log(np.expm1(y[small]))
    out[large] = y[large] + np.log(-np.expm1(-y[large]))
    return out


def _as_series(x: Any, name: str) -> Array:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D series, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains non-finite values")
    return arr


def _detrend(x: Array, window: int) -> Array:
    """``x`` minus its centred moving average, on the ``n - window + 1`` central steps."""
    half = window // 2
    return x[half: len(x) - half] - moving_average(x, window)


def _ratio(num: float, den: float) -> float:
    if den > 0:
        return num / den
    return math.inf if num > 0 else math.nan


def _corr(a: Array, b: Array) -> float:
    if a.size < 2 or np.std(a) == 0 or np.std(b) == 0:
        return math.nan
    return float(np.corrcoef(a, b)[0, 1])


@dataclass(frozen=True)
class SeriesReport:
    """What a ``(d_fake, g_loss)`` pair says about ``D(G(z))`` and the ratio law.

    Attributes
    ----------
    loss
        The generator loss assumed.
    n, window
        Number of steps and the moving-average window used for detrending.
    mean_p, mean_l
        Means over the steps of ``p`` and ``l`` recovered from the losses.
    regime_fractions
        Fraction of steps with ``p < low`` (``"discriminator winning"``),
        ``low <= p <= high`` (``"balanced"``) and ``p > high`` (``"generator winning"``).
    thresholds
        ``(low, high)``.
    std
        ``std[loss][estimator]`` for ``loss`` in ``d_fake, g_loss`` and the
        estimators ``raw`` (plain), ``detrended`` (after removing a centred moving
        average of ``window`` steps; only the central ``n - window + 1`` steps
        where the average is complete) and ``diff`` (of step-to-step differences).
    std_ratio_measured
        ``std(g_loss)/std(d_fake)`` for each of those estimators.
    std_ratio_predicted
        ``"mean-p"``: ``(1 - mean p)/mean p``; ``"per-step"``:
        ``sqrt(mean(((1-p_t) dl_t)^2)) / sqrt(mean((p_t dl_t)^2))`` with ``dl_t``
        the detrended fluctuation of ``l``; ``"per-step-diff"``: the same with
        ``dl_t`` the step-to-step difference of ``l`` and ``p_t`` at the midpoints.
        For the minimax loss all three are 1.
    relative_error
        ``measured/predicted - 1`` for each predictor, against the measured
        estimator it linearizes (``detrended`` for ``mean-p`` and ``per-step``,
        ``diff`` for ``per-step-diff``).
    consistent
        Whether ``d_fake`` and ``g_loss`` (and ``d_gz`` when given) describe the
        same ``D(G(z))``; when ``False`` the law is not tested.
    consistency
        The numbers behind ``consistent``.
    reason
        Why the pair is inconsistent (empty when consistent).
    law_holds
        ``True`` when :attr:`verdict` is ``"holds"``, ``False`` when it is
        ``"fails"``, ``None`` when it is ``"undecided"``.
    estimators
        The names of the spread and prediction estimators used.
    mean_p_real
        ``mean(exp(-d_real))`` (the mean ``D(x)`` implied by ``d_real``) if given.
    mean_p_model
        Non-saturating loss: the mean ``D(G(z))`` of normal fake logits whose
        mean and spread reproduce both losses
        (:func:`gandyn.explain.batch.logit_spread_model`);
        with a spread of logits it is closer to the true batch mean than
        ``mean_p``, which is recovered from one loss as if all logits were equal.
    verdict, verdict_reason
        ``"holds"``, ``"fails"`` or ``"undecided"``, and why (see
        :func:`judge_law`).
    judged_by, law_rtol
        The prediction the verdict compares with the measured ratio (see
        :data:`JUDGED_BY`) and the tolerance.
    measured_relative_se
        Relative standard error of the measured ratio the verdict uses
        (moving-block bootstrap over the steps).
    """

    loss: str
    n: int
    window: int
    mean_p: float
    mean_l: float
    regime_fractions: dict[str, float]
    thresholds: tuple[float, float]
    std: dict[str, dict[str, float]]
    std_ratio_measured: dict[str, float]
    std_ratio_predicted: dict[str, float]
    relative_error: dict[str, float]
    consistent: bool
    consistency: dict[str, float]
    reason: str
    law_holds: bool | None
    estimators: dict[str, tuple[str, ...]]
    mean_p_real: float | None = None
    mean_p_model: float | None = None
    verdict: str = "undecided"
    verdict_reason: str = ""
    judged_by: str = ""
    law_rtol: float = math.nan
    measured_relative_se: float = math.nan

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dictionary (non-finite numbers become ``None``)."""
        return {
            "loss": self.loss,
            "n": self.n,
            "window": self.window,
            "mean_p": plain(self.mean_p),
            "mean_l": plain(self.mean_l),
            "regime_fractions": plain(self.regime_fractions),
            "thresholds": plain(self.thresholds),
            "std": plain(self.std),
            "std_ratio_measured": plain(self.std_ratio_measured),
            "std_ratio_predicted": plain(self.std_ratio_predicted),
            "relative_error": plain(self.relative_error),
            "consistent": self.consistent,
            "consistency": plain(self.consistency),
            "reason": self.reason,
            "law_holds": self.law_holds,
            "estimators": plain(self.estimators),
            "mean_p_real": plain(self.mean_p_real),
            "mean_p_model": plain(self.mean_p_model),
            "verdict": self.verdict,
            "verdict_reason": self.verdict_reason,
            "judged_by": self.judged_by,
            "law_rtol": plain(self.law_rtol),
            "measured_relative_se": plain(self.measured_relative_se),
        }

    def to_text(self, span: str | None = None) -> str:
        """A paragraph with the numbers.

        ``span`` names the stretch of the log in its own iterations (for example
        ``"iterations 0 to 377"``); default: the number of records.
        """
        low, high = self.thresholds
        rf = self.regime_fractions
        m, pr = self.std_ratio_measured, self.std_ratio_predicted
        text = (
            f"Over {span or f'{self.n} steps'} the losses imply a mean D(G(z)) = {self.mean_p:.4g} "
            f"(mean fake logit {self.mean_l:.4g}); the discriminator is winning "
            f"(p < {low:g}) {100 * rf['discriminator winning']:.1f}% of the time, balanced "
            f"{100 * rf['balanced']:.1f}%, the generator winning (p > {high:g}) "
            f"{100 * rf['generator winning']:.1f}%. Measured std(g_loss)/std(d_fake): "
            f"{m['raw']:.4g} raw, {m['detrended']:.4g} after removing a centred "
            f"{self.window}-step moving average, {m['diff']:.4g} on step-to-step "
            f"differences. "
        )
        if not self.consistent:
            return text + (
                "The two losses do not describe the same D(G(z)) "
                f"({self.reason}), so the first-order law std(g_loss)/std(d_fake) ~ "
                "(1 - p)/p cannot be tested on this pair."
            )
        if self.mean_p_model is not None and abs(self.mean_p_model - self.mean_p) > 0.02:
            text += (
                f"The fake logits spread within a batch: normal logits that reproduce both "
                f"losses have a mean D(G(z)) of {self.mean_p_model:.4g}, not {self.mean_p:.4g}. "
            )
        sampling = pr.get("sampling")
        if sampling is not None:
            text += (
                f"The losses come from independent minibatches, so their step-to-step "
                f"differences are mostly sampling noise, whose ratio the law predicts as "
                f"sqrt(m_d/m_g) (1 - p)/p = {sampling:.4g} with one logit per batch "
                f"(relative error {100 * self.relative_error['sampling']:+.1f}%) and "
                f"{pr['sampling-spread']:.4g} per sample, sqrt(m_d/m_g) sd(softplus(-l)) / "
                f"sd(softplus(l)) over that spread (relative error "
                f"{100 * self.relative_error['sampling-spread']:+.1f}%), against "
                f"{m['diff']:.4g} measured; the batch sizes scale the fast part of the ratio, "
                "not the slow one. "
            )
        if self.loss == "minimax":
            return text + (
                "With the minimax generator loss g_loss = -d_fake on one batch, the ratio is "
                "exactly 1."
            )
        judged = self.judged_by
        if judged in pr and judged not in ("sampling", "sampling-spread"):
            text += (
                f"The first-order law predicts {pr[judged]:.4g} with the slopes p and 1 - p "
                f"averaged over each fluctuation about the local trend ({judged}, relative "
                f"error {100 * self.relative_error[judged]:+.1f}%), {pr['mean-p']:.4g} from the "
                f"mean p alone ({100 * self.relative_error['mean-p']:+.1f}%) and "
                f"{pr['per-step']:.4g} with each step's own slopes "
                f"({100 * self.relative_error['per-step']:+.1f}%). Each step's own p is "
                "correlated with its fluctuation (a high logit has a high p), which biases the "
                "per-step weights when the logit moves by more than about one unit; averaged "
                "slopes are the regression slopes of the two losses on the logit (Stein's "
                "lemma) and do not suffer from it; the mean-p prediction is biased whenever p "
                "moves over the log, because (1 - p)/p is a nonlinear function of p. "
            )
        if self.verdict == "holds":
            text += ("The law holds on this series: g_loss swings about (1 - p)/p times as "
                     "much as d_fake.")
        elif self.verdict == "undecided":
            text += f"Whether the law holds is undecided: {self.verdict_reason}."
        else:
            text += "The prediction misses the measured ratio: "
            spread = self.consistency.get("max_implied_logit_spread", 0.0)
            if spread >= SPREAD_NOTE:
                text += (
                    f"the fake logits spread across the batch (d_fake + g_loss implies a spread "
                    f"of up to {spread:.2g} in l), and then the two losses weigh different "
                    "samples, d_fake those the discriminator finds real (weight p) and g_loss "
                    "those it rejects (weight 1 - p); the single-p law holds only when all "
                    "logits move together."
                )
            else:
                text += "the fluctuations of the logit are too large for the linearization."
        return text


def ratio_relative_se(num: Array, den: Array, block: int, seed: int = 0) -> float:
    """Relative standard error of ``rms(num)/rms(den)`` by a moving-block bootstrap.

    The two centred series (detrended fluctuations or step-to-step
    differences, paired step by step) are cut into consecutive blocks of
    ``block`` steps, which keeps their short-range correlation [5]_; blocks are
    resampled with replacement, ``_N_BOOT`` times, from their sums of squares,
    so the cost is linear in the series.

    References
    ----------
    .. [5] Kunsch (1989). The jackknife and the bootstrap for general
       stationary observations. Ann. Statist. 17(3).
    """
    n_blocks = num.size // block
    if n_blocks < 4:
        return math.inf
    cut = n_blocks * block
    s_num = np.sum((num[:cut] ** 2).reshape(n_blocks, block), axis=1)
    s_den = np.sum((den[:cut] ** 2).reshape(n_blocks, block), axis=1)
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, n_blocks, size=(_N_BOOT, n_blocks))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.sqrt(s_num[pick].sum(axis=1) / s_den[pick].sum(axis=1))
    full = math.sqrt(float(s_num.sum()) / float(s_den.sum())) if s_den.sum() > 0 else math.nan
    if not (math.isfinite(full) and full > 0 and np.all(np.isfinite(ratios))):
        return math.inf
    return float(np.std(ratios) / full)


def judge_law(measured: float, predicted: float, relative_se: float, rtol: float
              ) -> tuple[str, str]:
    """``("holds" | "fails" | "undecided", reason)`` for one measured and one predicted ratio.

    ``holds`` when the relative error is within ``rtol`` and the measured
    ratio is known to better than ``rtol`` (one standard error); ``fails``
    when the error exceeds ``rtol`` by more than two standard errors;
    ``undecided`` otherwise, so that a noisy measurement never gives a
    confident verdict either way.
    """
    if not (math.isfinite(measured) and math.isfinite(predicted) and predicted > 0):
        return "undecided", (f"the measured ({measured:.3g}) or predicted ({predicted:.3g}) "
                             "ratio is not a finite positive number")
    err = measured / predicted - 1.0
    se = relative_se
    if abs(err) <= rtol and se <= rtol:
        return "holds", (f"measured {measured:.3g} against predicted {predicted:.3g} "
                         f"({100 * err:+.0f}%, within {100 * rtol:.0f}%; the measured ratio "
                         f"is known to {100 * se:.0f}%)")
    if abs(err) > rtol + 2 * se:
        return "fails", (f"measured {measured:.3g} against predicted {predicted:.3g} "
                         f"({100 * err:+.0f}%, beyond {100 * rtol:.0f}% by more than two "
                         f"standard errors of {100 * se:.0f}%)")
    return "undecided", (f"measured {measured:.3g} against predicted {predicted:.3g} "
                         f"({100 * err:+.0f}%) with a standard error of {100 * se:.0f}%: too "
                         f"few steps to tell a miss from the {100 * rtol:.0f}% tolerance")


def _nonlinear_ratio(l_trend: Array, spread: float) -> float:
    """``std(softplus(-l))/std(softplus(l))`` for ``l = trend + N(0, spread^2)``, exactly.

    The first-order law ``(1 - p)/p`` linearizes both losses about the trend;
    for large fluctuations of the logit their curvature matters (``d_fake`` is
    convex and grows faster above the trend than it falls below). This
    evaluates the variances of the two losses over a normal fluctuation by
    Gauss-Hermite quadrature at every trend value (a few thousand, evenly
    strided), then the ratio of their root mean squares.
    """
    u, wts = _normal_nodes()
    stride = max(1, l_trend.size // 2000)
    logits = l_trend[::stride, None] + spread * u
    variances = []
    for sign in (-1.0, 1.0):
        values = np.logaddexp(0.0, sign * logits)
        mean = values @ wts
        variances.append(float(np.mean((values - mean[:, None]) ** 2 @ wts)))
    return _ratio(math.sqrt(variances[0]), math.sqrt(variances[1]))


def _recover(d_fake: Array, g_loss: Array, loss: str) -> tuple[Array, Array, Array, Array]:
    """``(p_from_d, p_from_g, l_from_d, l_from_g)``."""
    p_d = -np.expm1(-d_fake)  # 1 - exp(-d_fake)
    l_d = _inverse_softplus(d_fake)
    if loss == "non-saturating":
        p_g = np.exp(-g_loss)
        l_g = -_inverse_softplus(g_loss)
    else:
        p_g = -np.expm1(g_loss)  # g_loss = -d_fake
        l_g = _inverse_softplus(-g_loss)
    return p_d, p_g, l_d, l_g


def analyze_series(
    d_fake: Sequence[float] | Array,
    g_loss: Sequence[float] | Array,
    *,
    d_real: Sequence[float] | Array | None = None,
    d_gz: Sequence[float] | Array | None = None,
    loss: str = "non-saturating",
    window: int | None = None,
    thresholds: tuple[float, float] = (0.3, 0.7),
    tol: float = 1e-3,
    min_correlation: float = 0.99,
    law_rtol: float = LAW_RTOL,
    batch_sizes: tuple[int, int] | None = None,
    single_logit: bool = False,
    measured_before_update: bool = False,
    d_fake_from: str = "logged",
) -> SeriesReport:
    """Measure and explain the spreads of a logged ``(d_fake, g_loss)`` pair.

    Parameters
    ----------
    d_fake, g_loss
        1-D series of the same length (a training log or a simulation), the
        discriminator's loss on fakes and the generator's loss, per step.
    d_real
        Optional discriminator loss on real samples (only ``mean(exp(-d_real))`` is reported).
    d_gz
        Optional logged ``D(G(z))``; checked against the losses.
    loss
        ``"non-saturating"`` or ``"minimax"`` generator loss.
    window
        Moving-average window for detrending (made odd); default
        ``max(5, n // 20)``.
    thresholds
        ``(low, high)`` on ``p`` separating the three regimes.
    tol, min_correlation
        Consistency tolerance, in loss units, and (with ``single_logit``) the
        least correlation of the two recovered ``p`` series; see Notes.
    law_rtol
        Relative tolerance of the verdict (:func:`judge_law`).
    d_fake_from
        ``"logged"``, ``"d_gz"`` (estimated from a logged mean ``D(G(z))``) or
        ``"g_loss"`` (inferred from ``g_loss``, as for a log with one combined
        discriminator loss: the verdict is then ``"undecided"``).
    batch_sizes
        ``(m_d, m_g)`` when ``d_fake`` and ``g_loss`` are means over
        *independent* minibatches of these sizes (the Keras pattern: a fresh
        latent batch for the generator's step). Their sampling noise is then
        independent: the consistency check compares the moving-average trends
        of the two ``p`` series instead of every step, and the prediction
        ``sampling`` for the step-to-step ratio is added: a per-sample spread
        ``sigma`` of the logit gives noise of standard deviation about
        ``p sigma / sqrt(m_d)`` in ``d_fake`` and ``(1 - p) sigma / sqrt(m_g)``
        in ``g_loss``, so the noise-dominated ratio is
        ``sqrt(m_d / m_g) * rms(1 - p_t) / rms(p_t)``. With one batch for both
        losses (the PyTorch DCGAN example) leave it ``None``: the noise is
        shared and the ratio is ``(1 - p)/p``.
    single_logit
        Every fake sample has the same logit (a point-mass generator with
        exact expectations): ``d_fake`` and ``g_loss`` must then be exactly
        ``softplus(l)`` and ``softplus(-l)`` of one ``l``, a two-sided check.
    measured_before_update
        ``d_fake`` was measured before the discriminator's update and
        ``g_loss`` after it (a loop that logs each player's loss from its own
        training step, discriminator first): ``g_loss[k]`` then sees the
        discriminator that ``d_fake[k + 1]`` sees, and the two series are
        paired that way (one step fewer). The pair still differs by the
        generator's update.

    Returns
    -------
    SeriesReport

    Notes
    -----
    ``p`` is recovered from ``d_fake`` as ``1 - exp(-d_fake)`` and
    independently from ``g_loss`` as ``exp(-g_loss)``; ``l`` as
    ``log(expm1(d_fake))`` (stable for tiny ``d_fake``) and
    ``-log(expm1(g_loss))``. At each step the analysis uses the loss that
    determines ``l`` better: an error ``e`` in a loss gives an error
    ``e/p`` in ``l`` through ``d_fake`` and ``e/(1 - p)`` through ``g_loss``,
    so ``g_loss`` is used where ``p < 1/2`` and ``d_fake`` elsewhere.

    Logged losses are usually batch means (or expectations over ``z``) of
    per-sample losses, and ``p`` recovered from a mean is an effective value:
    ``exp(-g_loss) <= mean D(G(z)) <= 1 - exp(-d_fake)`` by Jensen's
    inequality, with a gap that grows with the spread of the fake logits. So
    the check does not ask the two ``p`` to agree. It uses two exact facts of
    one batch: ``d_fake - g_loss`` is the mean fake logit, and ``d_fake +
    g_loss`` can only exceed its single-logit value (:func:`gandyn.explain.batch._jensen_excess`).
    A pair is inconsistent when the excess is below ``-tol`` at some step (no
    set of logits gives such losses), when a logged ``d_gz`` lies outside the
    Jensen bracket, or, with ``single_logit``, when the excess exceeds ``tol``
    or the ``p`` series decorrelate. With independent batches the check runs
    on the moving-average trends. A mismatch that only lowers ``g_loss``'s
    ``D(G(z))`` looks like a spread of logits and passes unless ``d_gz`` is
    logged or the game has a single logit; the implied spread
    (``implied_logit_spread``) is reported so that a reader can judge it.

    References
    ----------
    .. [1] Goodfellow (2016). NIPS 2016 Tutorial: Generative Adversarial
       Networks. arXiv:1701.00160, Sec. 3.2.
    .. [4] Ku (1966). Notes on the use of propagation of error
       formulas. J. Res. NBS 70C(4).
    """
    name = _canonical(loss)
    d = _as_series(d_fake, "d_fake")
    g = _as_series(g_loss, "g_loss")
    if d.shape != g.shape:
        raise ValueError(f"d_fake and g_loss differ in length: {d.size} vs {g.size}")
    if measured_before_update:
        # g_loss[k] saw the discriminator after its step-k update, which d_fake first
        # sees at step k + 1: pair them.
        d, g = d[1:], g[:-1]
        if d_real is not None:
            d_real = _as_series(d_real, "d_real")[1:]
        if d_gz is not None:
            d_gz = _as_series(d_gz, "d_gz")[1:]
    n = d.size
    low, high = (float(thresholds[0]), float(thresholds[1]))
    if not 0.0 <= low <= high <= 1.0:
        raise ValueError(f"thresholds must satisfy 0 <= low <= high <= 1, got {thresholds}")
    w = max(5, n // 20) if window is None else int(window)
    if w % 2 == 0:
        w += 1
    if w < 3 or n < w + 2:
        # A SpecError (a ValueError) so that the command line reports it in one line.
        raise SpecError(f"need at least window + 2 = {w + 2} steps (window {w}), got {n}: "
                        "lower --window or give a longer run")

    p_d, p_g, l_d, l_g = _recover(d, g, name)

    # --- consistency: do both losses describe one D(G(z))?
    consistency: dict[str, float] = {"tol": tol, "min_correlation": min_correlation}
    reasons: list[str] = []
    independent = batch_sizes is not None
    if independent:
        m_d, m_g = (int(batch_sizes[0]), int(batch_sizes[1]))  # type: ignore[index]
        if m_d < 1 or m_g < 1:
            raise ValueError(f"batch sizes must be positive, got {batch_sizes}")
        # Independent batches: every step differs by sampling noise, so only the
        # trends (population means) must agree.
        consistency["trend_window"] = float(w)
        d_c, g_c = moving_average(d, w), moving_average(g, w)
    else:
        d_c, g_c = d, g
    if name == "non-saturating":
        excess = _jensen_excess(d_c, g_c)
        consistency["min_jensen_excess"] = float(np.min(excess))
        consistency["max_jensen_excess"] = float(np.max(excess))
        if not np.min(excess) >= -tol:
            reasons.append(
                f"d_fake + g_loss falls {-np.min(excess):.3g} below the least value one set of "
                f"fake logits allows (tol {tol:g})")
        if single_logit and not np.max(excess) <= tol:
            reasons.append(
                f"d_fake + g_loss exceeds the single-logit value by {np.max(excess):.3g} "
                f"(tol {tol:g})")
        # The spread of the fake logits within a batch that the excess implies
        # (second order: excess ~ p (1 - p) var(l)).
        p_mid = _sigmoid(d_c - g_c)
        var_l = np.maximum(excess, 0.0) / np.maximum(p_mid * (1.0 - p_mid), 1e-300)
        consistency["implied_logit_spread"] = float(np.sqrt(np.mean(var_l)))
        consistency["max_implied_logit_spread"] = float(np.sqrt(np.max(var_l)))
    else:
        # minimax: g_loss = -d_fake exactly on one batch.
        gap = np.abs(d_c + g_c)
        consistency["max_abs_diff_loss"] = float(np.max(gap))
        if not np.max(gap) < tol:
            reasons.append(f"max |d_fake + g_loss| {np.max(gap):.3g} >= tol {tol:g}")
    pd_c, pg_c = (moving_average(p_d, w), moving_average(p_g, w)) if independent else (p_d, p_g)
    consistency["max_abs_diff_p"] = float(np.max(np.abs(pd_c - pg_c)))
    corr = _corr(pd_c, pg_c)
    consistency["correlation_p"] = corr
    if single_logit and not math.isnan(corr) and corr <= min_correlation:
        reasons.append(f"p correlation {corr:.4f} <= {min_correlation:g}")
    if d_gz is not None:
        gz = _as_series(d_gz, "d_gz")
        if gz.shape != d.shape:
            raise ValueError("d_gz must have the same length as d_fake")
        if independent:
            gz = moving_average(gz, w)
        # The batch mean of D(G(z)) lies between the two effective values (Jensen):
        # exp(-g_loss) <= mean p <= 1 - exp(-d_fake), with equality for one logit.
        lo, hi = np.minimum(pg_c, pd_c), np.maximum(pg_c, pd_c)
        outside = float(np.max(np.maximum(lo - gz, gz - hi)))
        consistency["max_d_gz_outside"] = outside
        consistency["correlation_d_gz"] = _corr(pd_c, gz)
        if not outside < tol:
            reasons.append(f"the logged d_gz lies {outside:.3g} outside the range the losses "
                           f"allow (tol {tol:g})")
    consistent = not reasons
    reason = "; ".join(reasons)
    if reasons:
        reason += (
            " (were the losses measured on different batches, before and after an update, "
            "or with BatchNorm in different modes?)"
        )

    # --- a normal spread of logits that reproduces both losses (trends for independent
    # batches, which are smooth: every few steps suffice).
    mean_p_model: float | None = None
    spread_sd_d = spread_sd_g = np.zeros(0)
    if name == "non-saturating":
        stride = max(1, w // 5) if independent else max(1, d_c.size // 500)
        m_t, s_t = logit_spread_model(d_c[::stride], g_c[::stride])
        p_model, spread_sd_d, spread_sd_g = _spread_moments(m_t, s_t)
        mean_p_model = float(np.mean(p_model))

    # --- p and l per step, each from the better-conditioned loss.
    use_g = p_g < 0.5 if name == "non-saturating" else np.zeros(n, dtype=bool)
    p = np.where(use_g, p_g, p_d)
    l_t = np.where(use_g, l_g, l_d)
    finite_l = l_t[np.isfinite(l_t)]
    mean_l = float(np.mean(finite_l)) if finite_l.size else math.nan
    mean_p = float(np.mean(p))
    regime_fractions = {
        "discriminator winning": float(np.mean(p < low)),
        "balanced": float(np.mean((p >= low) & (p <= high))),
        "generator winning": float(np.mean(p > high)),
    }

    # --- measured spreads.
    std: dict[str, dict[str, float]] = {}
    for label, series in (("d_fake", d), ("g_loss", g)):
        std[label] = {
            "raw": float(np.std(series)),
            "detrended": float(np.std(_detrend(series, w))),
            "diff": float(np.std(np.diff(series))),
        }
    measured = {e: _ratio(std["g_loss"][e], std["d_fake"][e]) for e in SPREAD_ESTIMATORS}

    # --- predicted ratios.
    if name == "minimax":
        predicted = dict.fromkeys(PREDICTED_ESTIMATORS, 1.0)
        if batch_sizes is not None:
            # g_loss = -d_fake per sample: the spreads are equal whatever the logits
            predicted["sampling"] = predicted["sampling-spread"] = math.sqrt(
                batch_sizes[0] / batch_sizes[1])
    else:
        predicted = {"mean-p": _ratio(1.0 - mean_p, mean_p)}
        if np.all(np.isfinite(l_t)):
            half = w // 2
            dl = _detrend(l_t, w)
            pc = p[half: n - half]
            predicted["per-step"] = _ratio(
                float(np.sqrt(np.mean(((1 - pc) * dl) ** 2))),
                float(np.sqrt(np.mean((pc * dl) ** 2))),
            )
            ddl = np.diff(l_t)
            pm = 0.5 * (p[1:] + p[:-1])
            predicted["per-step-diff"] = _ratio(
                float(np.sqrt(np.mean(((1 - pm) * ddl) ** 2))),
                float(np.sqrt(np.mean((pm * ddl) ** 2))),
            )
            # Linearized about the local trend, with the slopes averaged over the
            # fluctuation rather than taken at each step's own p: for a normal fluctuation
            # of l, the regression slopes of d_fake and g_loss on l are E[p] and -E[1 - p]
            # (Stein's lemma), whatever its size. p_t and dl_t are correlated (a step with
            # a high logit has a high p), which biases the per-step weights when the
            # fluctuations are large.
            p_local = moving_average(p, w)
            predicted["local-mean-p"] = _ratio(
                float(np.sqrt(np.mean(((1 - p_local) * dl) ** 2))),
                float(np.sqrt(np.mean((p_local * dl) ** 2))),
            )
            l_trend = moving_average(l_t, w)
            predicted["nonlinear"] = _nonlinear_ratio(l_trend, float(np.std(dl)))
        else:
            predicted["per-step"] = predicted["per-step-diff"] = math.nan
            predicted["local-mean-p"] = predicted["nonlinear"] = math.nan
        if batch_sizes is not None:
            scale = math.sqrt(batch_sizes[0] / batch_sizes[1])
            predicted["sampling"] = scale * _ratio(
                float(np.sqrt(np.mean((1 - p) ** 2))), float(np.sqrt(np.mean(p**2))))
            # Per sample, not per batch mean: with logits spread across a batch the
            # noise of each mean is sd(softplus(+-l)) / sqrt(m), which the single-p law
            # (p from a batch mean) misjudges; spread from the trends' Jensen excess.
            predicted["sampling-spread"] = scale * _ratio(
                float(np.sqrt(np.mean(spread_sd_g**2))), float(np.sqrt(np.mean(spread_sd_d**2))))
    relative_error = {
        k: (measured[_PAIRING[k]] / v - 1.0) if v and math.isfinite(v) else math.nan
        for k, v in predicted.items()
    }
    # --- the verdict: one prediction against its measured ratio, with that ratio's noise.
    judged_by = JUDGED_BY["independent" if batch_sizes is not None else "shared"]
    pairing = _PAIRING[judged_by]
    if pairing == "diff":
        num, den = np.diff(g), np.diff(d)
    else:
        num, den = _detrend(g, w), _detrend(d, w)
    num, den = num - np.mean(num), den - np.mean(den)
    relative_se = ratio_relative_se(num, den, block=max(1, min(w, n // 20)))
    # Losses printed as exactly 0 (a D(G(z)) printed as 0.0000 or 1.0000) are below the
    # print's resolution: their swing is not measured.
    saturated = float(np.mean((d == 0.0) | (g == 0.0)))
    if n < MIN_STEPS_FOR_VERDICT:
        verdict, verdict_reason = "undecided", (
            f"only {n} records: too few to measure a ratio of two spreads (at least "
            f"{MIN_STEPS_FOR_VERDICT} are needed)")
    elif saturated > MAX_SATURATED_FRACTION:
        verdict, verdict_reason = "undecided", (
            f"d_fake or g_loss is exactly 0 on {100 * saturated:.0f}% of the records (a "
            "D(G(z)) printed as 0 or 1): below the print's resolution its swing is not "
            "measured")
    elif not (std["d_fake"][pairing] > 0 and std["g_loss"][pairing] > 0):
        verdict, verdict_reason = "undecided", (
            "d_fake or g_loss does not move: there is no swing to explain")
    elif d_fake_from == "g_loss":
        verdict, verdict_reason = "undecided", (
            "d_fake was inferred from g_loss, so their ratio follows the law by construction; "
            "a log with d_fake or D(G(z)) can test it")
    elif not consistent:
        verdict, verdict_reason = "undecided", (
            "the two losses do not describe one D(G(z)), so the law cannot be tested on them")
    else:
        verdict, verdict_reason = judge_law(measured[pairing], predicted[judged_by],
                                            relative_se, law_rtol)
    law_holds: bool | None = {"holds": True, "fails": False}.get(verdict)

    mean_p_real = None
    if d_real is not None:
        dr = _as_series(d_real, "d_real")
        mean_p_real = float(np.mean(np.exp(-dr)))

    return SeriesReport(
        loss=name, n=n, window=w, mean_p=mean_p, mean_l=mean_l,
        regime_fractions=regime_fractions, thresholds=(low, high), std=std,
        std_ratio_measured=measured, std_ratio_predicted=predicted,
        relative_error=relative_error, consistent=consistent, consistency=consistency,
        reason=reason, law_holds=law_holds,
        estimators={"spread": SPREAD_ESTIMATORS,
                    "predicted": tuple(predicted)},
        mean_p_real=mean_p_real, mean_p_model=mean_p_model,
        verdict=verdict, verdict_reason=verdict_reason, judged_by=judged_by,
        law_rtol=law_rtol, measured_relative_se=relative_se,
    )

