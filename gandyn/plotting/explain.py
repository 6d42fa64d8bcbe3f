r"""The figure of ``gandyn explain --plot``: the two losses, their regimes and the law.

Top panel: ``d_fake`` and ``g_loss`` over the steps, the background shaded by
regime (discriminator winning, balanced, generator winning, from
``p = 1 - exp(-d_fake)``), and the first-order prediction of ``g_loss`` from
``d_fake`` (dashed): its slow trend plus ``-(1 - p_t)/p_t`` times the fast part
of ``d_fake``, the law ``d g_loss = -(1 - p)/p d d_fake`` of
:func:`gandyn.explain.logit_relations`. Bottom panel: ``p = D(G(z))``.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes

from gandyn.plotting.save import save_figure
from gandyn.plotting.style import (
    LOSS_STYLE,
    ONE_COLUMN_TALL,
    PALETTE,
    note_fontsize,
    paper_figure,
    paper_style,
)

__all__ = [
    "explain_axes",
    "plot_explanation",
    "predicted_g_envelope",
    "predicted_g_loss",
    "shade_regimes",
]

_REGIME_SHADES = {"discriminator winning": "#d9d9d9", "balanced": "#ffffff",
                  "generator winning": "#f0e6cc"}


def _moving_average_same(x: np.ndarray[Any, Any], window: int) -> np.ndarray[Any, Any]:
    """Centred moving average with the window shrunk at both ends."""
    half = window // 2
    cumsum = np.concatenate([[0.0], np.cumsum(x)])
    idx = np.arange(len(x))
    lo, hi = np.maximum(idx - half, 0), np.minimum(idx + half + 1, len(x))
    averaged: np.ndarray[Any, Any] = (cumsum[hi] - cumsum[lo]) / (hi - lo)
    return averaged


def shade_regimes(axes: Sequence[Axes], x: np.ndarray[Any, Any], p: np.ndarray[Any, Any],
                  thresholds: tuple[float, float] = (0.3, 0.7)) -> list[str]:
    """Shade the background of ``axes`` by regime of ``p = D(G(z))`` along ``x``.

    Discriminator winning (``p < low``) grey, balanced white, generator winning
    (``p > high``) sand: one span per run of equal regime, behind the data.

    Returns
    -------
    list of str
        The regimes shown, in the order discriminator winning, balanced,
        generator winning (for a legend).
    """
    regime = np.where(p < thresholds[0], 0, np.where(p > thresholds[1], 2, 1))
    names = list(_REGIME_SHADES)
    edges = np.concatenate([[0], np.flatnonzero(np.diff(regime)) + 1, [len(x)]])
    half_step = 0.5 * (x[1] - x[0]) if len(x) > 1 else 0.5
    for a, b in itertools.pairwise(edges):
        color = _REGIME_SHADES[names[int(regime[a])]]
        for ax in axes:
            ax.axvspan(x[a] - half_step, x[b - 1] + half_step, color=color, linewidth=0,
                       zorder=0)
    return [names[r] for r in sorted({int(r) for r in regime})]


def predicted_g_loss(d_fake: np.ndarray[Any, Any], g_loss: np.ndarray[Any, Any],
                     window: int) -> np.ndarray[Any, Any]:
    """First-order prediction of the non-saturating ``g_loss`` from ``d_fake``.

    ``g_trend + (-(1 - p_t)/p_t) * (d_fake - d_trend)``, with ``p_t`` from
    ``d_fake`` and trends by a centred moving average of ``window`` steps.
    """
    p = -np.expm1(-d_fake)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = -(1.0 - p) / p
    fast = d_fake - _moving_average_same(d_fake, window)
    prediction: np.ndarray[Any, Any] = _moving_average_same(g_loss, window) + slope * fast
    return prediction


def predicted_g_envelope(d_fake: np.ndarray[Any, Any], g_loss: np.ndarray[Any, Any],
                         window: int, ratio: float) -> tuple[np.ndarray[Any, Any],
                                                             np.ndarray[Any, Any]]:
    """The band ``g_trend +- 2 * ratio * sd_local(d_fake's fast part)``.

    For losses measured on independent minibatches, whose fast parts are
    independent sampling noise: the law predicts the *size* of ``g_loss``'s
    fluctuations (``ratio`` times those of ``d_fake``), not their values step
    by step. ``sd_local`` is a centred moving root mean square of ``window`` steps.
    """
    fast = d_fake - _moving_average_same(d_fake, window)
    sd_local = np.sqrt(np.maximum(_moving_average_same(fast**2, window), 0.0))
    trend = _moving_average_same(g_loss, window)
    return trend - 2.0 * ratio * sd_local, trend + 2.0 * ratio * sd_local


def explain_axes(ax_losses: Axes, ax_p: Axes, step: np.ndarray[Any, Any],
                 d_fake: np.ndarray[Any, Any], g_loss: np.ndarray[Any, Any], *,
                 window: int, thresholds: tuple[float, float] = (0.3, 0.7),
                 sampling_ratio: float | None = None) -> None:
    """Draw the losses with regimes and the predicted ``g_loss`` on two Axes.

    With ``sampling_ratio`` (losses on independent minibatches) the prediction
    is the envelope of :func:`predicted_g_envelope` and the regimes follow the
    moving average of ``p`` (per step, sampling noise would flip them back and
    forth); otherwise the prediction is :func:`predicted_g_loss`, step by step.
    """
    p = -np.expm1(-d_fake)
    p_regime = p if sampling_ratio is None else _moving_average_same(p, window)
    shown = shade_regimes((ax_losses, ax_p), step, p_regime, thresholds)
    style_d, style_g = LOSS_STYLE["d_fake"], LOSS_STYLE["g_loss"]
    ax_losses.plot(step, d_fake, color=style_d.color, linestyle=style_d.linestyle,
                   label=style_d.label)
    ax_losses.plot(step, g_loss, color=style_g.color, linestyle=style_g.linestyle,
                   label=style_g.label)
    if sampling_ratio is None:
        ax_losses.plot(step, predicted_g_loss(d_fake, g_loss, window), color=PALETTE["black"],
                       linestyle=(0, (2, 2)), linewidth=0.8,
                       label=r"$g_\mathrm{loss}$ predicted from $d_\mathrm{fake}$")
    else:
        lo, hi = predicted_g_envelope(d_fake, g_loss, window, sampling_ratio)
        for edge, label in ((lo, r"$g_\mathrm{loss}$ envelope predicted from $d_\mathrm{fake}$"),
                            (hi, None)):
            ax_losses.plot(step, edge, color=PALETTE["black"], linestyle=(0, (2, 2)),
                           linewidth=0.8, label=label)
    ax_losses.set_ylabel("loss (nats)")
    for name in shown:
        ax_losses.fill_between([], [], [], color=_REGIME_SHADES[name], label=name,
                               edgecolor="0.6", linewidth=0.4)
    # Above the axes, so it never covers a curve, whatever the data.
    ax_losses.legend(loc="lower left", bbox_to_anchor=(0.0, 1.01), ncols=2, frameon=False,
                     fontsize=note_fontsize(), borderaxespad=0.0)
    ax_p.plot(step, p, color=PALETTE["reddish_purple"])
    for level in thresholds:
        ax_p.axhline(level, color="0.5", linewidth=0.6, linestyle=":")
    ax_p.set_ylim(0.0, 1.0)
    ax_p.set_ylabel(r"$p = D(G(z))$")
    ax_p.set_xlabel("step")
    for ax in (ax_losses, ax_p):
        ax.set_xlim(step[0], step[-1])


def plot_explanation(step: np.ndarray[Any, Any], d_fake: np.ndarray[Any, Any],
                     g_loss: np.ndarray[Any, Any], target: str | os.PathLike[str], *,
                     window: int, metadata: Mapping[str, Any],
                     thresholds: tuple[float, float] = (0.3, 0.7),
                     sampling_ratio: float | None = None,
                     force: bool = False) -> list[Path]:
    """Draw and save the explanation figure with its data and metadata (one column).

    ``sampling_ratio``: see :func:`explain_axes`.
    """
    with paper_style():
        fig = paper_figure(ONE_COLUMN_TALL)
        top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [2.0, 1.0]})
        explain_axes(top, bottom, step, d_fake, g_loss, window=window, thresholds=thresholds,
                     sampling_ratio=sampling_ratio)
        data = {"step": np.asarray(step, dtype=np.float64),
                "d_fake": np.asarray(d_fake, dtype=np.float64),
                "g_loss": np.asarray(g_loss, dtype=np.float64),
                "p": -np.expm1(-np.asarray(d_fake, dtype=np.float64))}
        if sampling_ratio is None:
            data["g_loss_predicted"] = predicted_g_loss(d_fake, g_loss, window)
        else:
            data["g_loss_envelope_low"], data["g_loss_envelope_high"] = predicted_g_envelope(
                d_fake, g_loss, window, sampling_ratio)
        return save_figure(fig, target, metadata=metadata, data=data, force=force)
