r"""Each loss's generator cost as a function of ``D(G(z))``: which costs saturate.

The generator's cost of one sample depends only on the discriminator's logit
``l`` on it (:mod:`gandyn.games.losses`), and for the cross-entropy losses
``D(G(z)) = p = sigmoid(l)``. Goodfellow's NIPS 2016 tutorial (Figure 16)
plots these costs over ``p``: the minimax cost ``log(1 - p)`` is flat where
the discriminator rejects the sample (``p -> 0``), the non-saturating
``-log p`` is steep there.

Nothing is retyped here: each curve is the loss's own ``g_loss`` expression
from :data:`gandyn.games.losses.LOSSES` evaluated at ``l = logit(p)``, and its
gradient is sympy's derivative ``d g_loss / d l`` of that expression, both
lambdified with the stable numpy functions of :mod:`gandyn.symbolic.functions`. A
loss *saturates* when that gradient vanishes as ``l -> -oo`` (the limit is
taken by sympy): the gradient that reaches the generator's parameters is
``d g_loss/d l * d l/d theta``, so a saturating cost stops teaching a
generator whose samples the discriminator rejects confidently.

References
----------
.. [1] Goodfellow (2016). NIPS 2016 Tutorial: Generative Adversarial
   Networks. arXiv:1701.00160, Sec. 3.2.6 and Figure 16.
.. [2] Goodfellow et al. (2014). Generative Adversarial Nets. NeurIPS, Sec. 3
   (the non-saturating heuristic: "early in learning ... log(1 - D(G(z)))
   saturates").
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

import numpy as np
import sympy as sp
from matplotlib.axes import Axes
from scipy.special import logit as np_logit

from gandyn.arrays import Array
from gandyn.errors import SpecError
from gandyn.games.losses import FAKE_LOGIT, REAL_LOGIT, Loss, get_loss
from gandyn.plotting.style import LOSS_STYLE, PALETTE, RUN_COLORS, note_fontsize
from gandyn.symbolic.functions import NUMPY_NAMESPACE, sigmoid

__all__ = [
    "DEFAULT_COST_LOSSES",
    "GeneratorCost",
    "generator_cost",
    "generator_costs",
    "generator_costs_data",
]


#: The losses of Goodfellow's Figure 16 that gandyn has (his third, the
#: maximum-likelihood cost ``-exp(l)/2``, is not a training loss of gandyn).
DEFAULT_COST_LOSSES: tuple[str, ...] = ("minimax", "non-saturating")
#: Points on ``(0, 1)`` (or on the logit range) of each curve.
COST_POINTS = 399


@dataclass(frozen=True, eq=False)
class GeneratorCost:
    """One loss's generator cost per sample as a function of the fake logit.

    Attributes
    ----------
    loss
        The loss.
    cost, gradient
        ``g_loss`` and ``d g_loss / d l`` as sympy expressions in
        :data:`gandyn.games.losses.FAKE_LOGIT` (a real logit, if ``g_loss`` has
        one, is fixed at ``real_logit``).
    probability_output
        The loss reports ``D = sigmoid(logit)``, so its cost is a function of
        the probability ``D(G(z))``.
    saturating_limit
        ``lim_{l -> -oo} d g_loss / d l`` (sympy; ``nan`` when it has none).
    real_logit
        The value of the real logit ``r`` used for losses that pair samples.
    """

    loss: Loss
    cost: sp.Expr
    gradient: sp.Expr
    probability_output: bool
    saturating_limit: float
    real_logit: float

    @property
    def saturates(self) -> bool:
        """The gradient with respect to the logit vanishes as ``D(G(z)) -> 0``."""
        return self.saturating_limit == 0.0

    @functools.cached_property
    def _cost_fn(self) -> Any:
        return sp.lambdify([FAKE_LOGIT], self.cost, modules=[NUMPY_NAMESPACE, "numpy"])

    @functools.cached_property
    def _gradient_fn(self) -> Any:
        return sp.lambdify([FAKE_LOGIT], self.gradient, modules=[NUMPY_NAMESPACE, "numpy"])

    def cost_at_logit(self, logit: Any) -> Array:
        """``g_loss`` at fake logits ``l`` (stable at ``|l|`` of 1000)."""
        l_values = np.asarray(logit, dtype=np.float64)
        return np.broadcast_to(np.asarray(self._cost_fn(l_values), dtype=np.float64),
                               l_values.shape).copy()

    def gradient_at_logit(self, logit: Any) -> Array:
        """``d g_loss / d l`` at fake logits ``l``."""
        l_values = np.asarray(logit, dtype=np.float64)
        return np.broadcast_to(np.asarray(self._gradient_fn(l_values), dtype=np.float64),
                               l_values.shape).copy()

    def cost_at_probability(self, p: Any) -> Array:
        """``g_loss`` at ``D(G(z)) = p``, i.e. at ``l = logit(p)``."""
        return self.cost_at_logit(np_logit(np.asarray(p, dtype=np.float64)))

    def gradient_at_probability(self, p: Any) -> Array:
        """``d g_loss / d p = (d g_loss / d l) / (p (1 - p))`` at ``D(G(z)) = p``."""
        p_values = np.asarray(p, dtype=np.float64)
        return self.gradient_at_logit(np_logit(p_values)) / (p_values * (1.0 - p_values))


@functools.cache
def _generator_cost(name: str, real_logit: float) -> GeneratorCost:
    loss = get_loss(name)
    cost = loss.g_loss.xreplace({REAL_LOGIT: sp.Float(real_logit) if real_logit else sp.S.Zero})
    gradient = sp.diff(cost, FAKE_LOGIT)
    probability = sp.simplify(loss.output_of(FAKE_LOGIT) - sigmoid(FAKE_LOGIT)) == 0
    try:
        # The custom functions rewrite to exponentials, whose limits sympy knows.
        limit = sp.limit(gradient.rewrite(sp.exp), FAKE_LOGIT, -sp.oo)
        value = float(limit) if limit.is_finite else float("nan")
    except (TypeError, ValueError, NotImplementedError):  # pragma: no cover - sympy gave up
        value = float("nan")
    return GeneratorCost(loss, cost, gradient, bool(probability), value + 0.0, float(real_logit))


def generator_cost(name: str, *, real_logit: float = 0.0) -> GeneratorCost:
    """The generator cost of loss ``name`` (aliases accepted), derived from its definition.

    Parameters
    ----------
    name
        A loss of :data:`gandyn.games.losses.LOSSES`.
    real_logit
        The real logit ``r`` for losses whose ``g_loss`` pairs a real and a
        fake sample (relativistic); ignored by the others.
    """
    return _generator_cost(get_loss(name).name, float(real_logit))


def generator_costs(
    ax: Axes,
    losses: Sequence[str] = DEFAULT_COST_LOSSES,
    *,
    x: Literal["probability", "logit"] = "probability",
    quantity: Literal["cost", "gradient"] = "cost",
    points: int = COST_POINTS,
    logit_range: tuple[float, float] = (-10.0, 10.0),
    real_logit: float = 0.0,
    legend: bool = True,
) -> Axes:
    r"""Draw each loss's generator cost (or its gradient) against ``D(G(z))`` or the logit.

    Saturating costs (:attr:`GeneratorCost.saturates`) are dashed and
    labelled "saturates"; the others are solid.

    Parameters
    ----------
    ax
        Where to draw.
    losses
        Loss names, in legend order (default: minimax and non-saturating, as
        in Goodfellow 2016, Figure 16).
    x
        ``probability``: ``D(G(z)) = sigmoid(l)`` on ``(0, 1)`` (only for
        losses whose discriminator outputs a probability); ``logit``: the
        fake logit ``l`` on ``logit_range`` (any loss).
    quantity
        ``cost``: ``g_loss``; ``gradient``: its derivative with respect to the
        horizontal variable (``d g_loss / d p`` or ``d g_loss / d l``).
    points
        Points per curve; with ``x = probability`` they sit at the midpoints
        ``(k + 1/2) / points`` of ``(0, 1)``, so no curve is evaluated at 0 or 1.
    logit_range
        The range of ``l`` for ``x = logit``.
    real_logit
        ``r`` for the relativistic loss.
    legend
        Draw a legend.

    Returns
    -------
    Axes

    Raises
    ------
    SpecError
        Unknown loss or option, or ``x = probability`` for a loss whose
        discriminator reports a raw score (Wasserstein, least squares, hinge).

    References
    ----------
    Goodfellow (2016), NIPS 2016 Tutorial: GANs, arXiv:1701.00160, Figure 16.
    """
    if x not in ("probability", "logit"):
        raise SpecError(f"x must be 'probability' or 'logit', got {x!r}")
    if quantity not in ("cost", "gradient"):
        raise SpecError(f"quantity must be 'cost' or 'gradient', got {quantity!r}")
    if isinstance(points, bool) or int(points) < 2:
        raise SpecError(f"points must be an integer >= 2, got {points!r}")
    if not losses:
        raise SpecError("give at least one loss")
    curves = [generator_cost(name, real_logit=real_logit) for name in losses]
    if x == "probability":
        raw = [c.loss.name for c in curves if not c.probability_output]
        if raw:
            raise SpecError(
                f"loss {raw[0]!r} reports a raw score, not a probability D(G(z)); "
                "draw it with x='logit'"
            )
        grid: Array = (np.arange(int(points), dtype=np.float64) + 0.5) / int(points)
    else:
        lo, hi = (float(v) for v in logit_range)
        if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
            raise SpecError(f"logit_range must be finite and increasing, got {logit_range}")
        grid = np.linspace(lo, hi, int(points))
    colors = _cost_colors([curve.loss.name for curve in curves])
    drawn: list[Array] = []
    for k, curve in enumerate(curves):
        if x == "probability":
            y = (curve.cost_at_probability(grid) if quantity == "cost"
                 else curve.gradient_at_probability(grid))
        else:
            y = curve.cost_at_logit(grid) if quantity == "cost" else curve.gradient_at_logit(grid)
        label = curve.loss.name + (" (saturates)" if curve.saturates else "")
        ax.plot(grid, y, color=colors[k],
                linestyle="--" if curve.saturates else "-", label=label)
        drawn.append(np.asarray(y, dtype=np.float64))
    _clip_unbounded(ax, np.concatenate(drawn))
    ax.axhline(0.0, color=PALETTE["black"], linewidth=0.5, zorder=0)
    if x == "probability":
        ax.set_xlim(0.0, 1.0)
        ax.set_xlabel(r"$D(G(z)) = \sigma(l)$")
    else:
        ax.set_xlim(grid[0], grid[-1])
        ax.set_xlabel(r"fake logit $l$")
    variable = "D(G(z))" if x == "probability" else "l"
    ax.set_ylabel(r"generator cost $J^{(G)}$" if quantity == "cost"
                  else rf"$\partial J^{{(G)}} / \partial {variable}$")
    if legend:
        ax.legend(loc="best")
    return ax


def _clip_unbounded(ax: Axes, values: Array) -> None:
    """Keep the curves readable when one cost is unbounded (the maximum-likelihood cost).

    When the values' full range is more than 5 times that of their central 96 %,
    the vertical axis shows the central range with a margin, as Goodfellow
    (2016, Fig. 16) does, and says that it is clipped.
    """
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return
    low, high = (float(v) for v in np.percentile(finite, [2.0, 98.0]))
    span = high - low
    if span <= 0 or float(finite.max() - finite.min()) <= 5 * span:
        return
    ax.set_ylim(low - 0.25 * span, high + 0.25 * span)
    ax.text(1.0, 1.02, "axis clipped: a cost is unbounded", transform=ax.transAxes,
            ha="right", va="bottom", fontsize=note_fontsize())


#: The generator costs that are logged losses keep that loss's colour: the
#: minimax cost ``log(1 - D(G(z)))`` is ``-d_fake`` and the non-saturating
#: cost is ``g_loss`` (:data:`gandyn.plotting.style.LOSS_STYLE`).
_COST_AS_LOSS: Final = {"minimax": "d_fake", "non-saturating": "g_loss"}


def _cost_colors(losses: Sequence[str]) -> list[str]:
    """Colours of the cost curves: the logged loss a cost equals, else run colours in turn."""
    others = iter(RUN_COLORS * len(losses))
    return [LOSS_STYLE[_COST_AS_LOSS[name]].color if name in _COST_AS_LOSS else next(others)
            for name in losses]


def generator_costs_data(
    losses: Sequence[str] = DEFAULT_COST_LOSSES,
    *,
    points: int = COST_POINTS,
    real_logit: float = 0.0,
) -> dict[str, Array]:
    """The arrays behind :func:`generator_costs` over ``D(G(z))``, for a ``.data.npz``.

    ``p`` ``(points,)``, the logit ``l = logit(p)``, and per loss
    ``cost_<name>``, ``dcost_dl_<name>`` and ``saturates_<name>`` (a 0-d bool).
    """
    p: Array = (np.arange(int(points), dtype=np.float64) + 0.5) / int(points)
    data: dict[str, Array] = {"p": p, "logit": np_logit(p)}
    for name in losses:
        curve = generator_cost(name, real_logit=real_logit)
        key = curve.loss.name.replace("-", "_")
        data[f"cost_{key}"] = curve.cost_at_probability(p)
        data[f"dcost_dl_{key}"] = curve.gradient_at_logit(np_logit(p))
        data[f"saturates_{key}"] = np.asarray(curve.saturates)
    return data
