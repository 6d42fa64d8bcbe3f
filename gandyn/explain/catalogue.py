r"""The ratio law for every loss of the catalogue: ``d_fake`` and ``g_loss`` of one output.

For each loss the discriminator's loss on a fake sample and the generator's
loss are functions of *one* number per sample, the discriminator's output
``s`` on it: the logit ``l`` for the cross-entropy losses, the critic value
``c`` for Wasserstein and hinge, the raw score for least squares. A small
fluctuation ``ds`` moves them by ``d_fake'(s) ds`` and ``g_loss'(s) ds``, so
to first order

.. math:: \frac{\operatorname{std}(g)}{\operatorname{std}(d_{fake})}
   = \left|\frac{g'(s)}{d_{fake}'(s)}\right|,

and the two move together when the slopes have the same sign, in opposite
directions otherwise. :func:`loss_relation` derives both with sympy:

==============  ======================  =================  =================
loss            ``d_fake``, ``g_loss``  ratio              direction
==============  ======================  =================  =================
minimax         ``sp(l)``, ``-sp(l)``   ``1``              opposite
non-saturating  ``sp(l)``, ``sp(-l)``   ``(1 - p)/p``      opposite
wasserstein     ``c``, ``-c``           ``1`` (exactly)    opposite
least-squares   ``s^2``, ``(s-1)^2``    ``|s - 1|/|s|``    opposite (0<s<1)
hinge           ``relu(1+c)``, ``-c``   ``1`` (``c>-1``)   ``d_fake`` flat
==============  ======================  =================  =================

(``sp`` is softplus; for hinge, ``d_fake`` is flat where ``c < -1``.)

Notes on the variants the issue tracker asked about:

* Wasserstein with weight clipping or a gradient penalty: both the critic's
  fake term and ``g_loss`` are *linear* in the critic's output, so the ratio
  is 1 exactly (not only to first order) and the two curves are mirror images;
  the penalty and the real term enter only the critic's total loss.
* Least squares follows PyTorch's ``MSELoss`` (no factor 1/2; the ratio does
  not depend on it) with targets 0 (fake) and 1 (real) for the discriminator
  and 1 for the generator (Mao et al. 2017, the 0-1-1 coding).
* Hinge (Lim and Ye 2017; Miyato et al. 2018): on a batch, only the fakes
  inside the margin (``c > -1``) move ``d_fake``; if a fraction ``f`` of them
  are, the first-order ratio is ``1/f``, and once the critic rejects all
  fakes beyond the margin ``d_fake`` is exactly 0 and flat while ``g_loss``
  still swings.
* Label smoothing (a target ``t`` for the fakes in the discriminator's loss,
  ``u`` for the generator's; one-sided smoothing of the real label, e.g. 0.9,
  changes only ``d_real``): ``d_fake = (1 - t) softplus(l) + t softplus(-l)``
  and ``g_loss = u softplus(-l) + (1 - u) softplus(l)``; their slopes are
  ``p - t`` and ``p - u``, so the ratio is ``|p - u|/|p - t|`` and ``d_fake -
  g_loss = (u - t) l`` exactly. ``d_fake`` is flat where ``p = t``.
* Several discriminator steps per generator step: the slopes do not change;
  the law holds between a ``d_fake`` and a ``g_loss`` measured on the same
  discriminator and the same fakes (the last critic step's loss is measured
  before that step's update, so pair it with the ``g_loss`` that follows as
  for ``--measured-before-update``).
* Printed values that are already means over a window of ``k`` steps: both
  losses are averaged by the same linear operation, so to first order the
  ratio of their fluctuations keeps the same slopes (means of the per-step
  slopes); their sampling noise shrinks by ``sqrt(k)`` alike, and the spread
  of the logit *over the window* adds to the spread within a batch in the
  Jensen excess of ``d_fake + g_loss``.

References
----------
.. [1] Goodfellow et al. (2014). Generative Adversarial Nets. NeurIPS.
.. [2] Arjovsky, Chintala and Bottou (2017). Wasserstein GAN. ICML; Gulrajani
   et al. (2017). Improved Training of Wasserstein GANs. NeurIPS (gradient
   penalty).
.. [3] Mao et al. (2017). Least Squares Generative Adversarial Networks. ICCV,
   Eq. (9) (the 0-1-1 coding).
.. [4] Lim and Ye (2017). Geometric GAN. arXiv:1705.02894; Miyato et al.
   (2018). Spectral Normalization for GANs. ICLR, Eq. (17) (hinge loss).
.. [5] Salimans et al. (2016). Improved Techniques for Training GANs.
   NeurIPS, Sec. 3.4 (one-sided label smoothing).
.. [6] Ku (1966). Notes on the use of propagation of error formulas.
   J. Res. NBS 70C(4).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import sympy as sp

from gandyn.symbolic.functions import softplus

__all__ = ["CATALOGUE_LOSSES", "CATALOGUE_NOTES", "LossRelation", "loss_relation",
           "predicted_ratio"]

#: The losses :func:`loss_relation` covers.
CATALOGUE_LOSSES: tuple[str, ...] = ("minimax", "non-saturating", "wasserstein",
                                     "least-squares", "hinge")

#: One line per loss the log analysis does not cover: what its relation says.
CATALOGUE_NOTES: dict[str, str] = {
    "wasserstein": "the critic's fake term c and g_loss = -c are both linear in the critic's "
                   "output, so std(g_loss)/std(d_fake) is exactly 1 and the two move in "
                   "opposite directions, with clipping or a gradient penalty alike",
    "least-squares": "d_fake = s^2 and g_loss = (s - 1)^2, so to first order "
                     "std(g_loss)/std(d_fake) = |s - 1|/|s| with s the mean score on fakes",
    "hinge": "d_fake = relu(1 + c) and g_loss = -c: the ratio is 1/f with f the fraction of "
             "fakes inside the margin, and d_fake is flat once all are beyond it",
}

_ALIASES = {"saturating": "minimax", "ns": "non-saturating", "nsgan": "non-saturating",
            "wgan": "wasserstein", "wgan-gp": "wasserstein", "lsgan": "least-squares",
            "ls": "least-squares"}


@dataclass(frozen=True)
class LossRelation:
    """``d_fake`` and ``g_loss`` of one loss as functions of the discriminator's output.

    Attributes
    ----------
    loss
        The canonical loss name.
    output
        The symbol of the discriminator's output on a fake sample (``l``, ``c`` or ``s``).
    d_fake, g_loss
        The two losses of one sample.
    dd, dg
        Their slopes in the output.
    ratio
        ``|dg/dd|``, the first-order ratio ``std(g_loss)/std(d_fake)``.
    opposite
        Whether the two move in opposite directions (slopes of opposite sign)
        over the output's usual range.
    exact
        Whether the ratio holds exactly rather than to first order (both losses
        linear in the output).
    """

    loss: str
    output: sp.Symbol
    d_fake: sp.Expr
    g_loss: sp.Expr
    dd: sp.Expr
    dg: sp.Expr
    ratio: sp.Expr
    opposite: bool
    exact: bool


def _canonical(loss: str) -> str:
    name = _ALIASES.get(loss.lower(), loss.lower())
    if name not in CATALOGUE_LOSSES:
        raise ValueError(f"loss {loss!r} is not in the catalogue {list(CATALOGUE_LOSSES)}")
    return name


def loss_relation(loss: str, *, fake_target: float = 0.0,
                  generator_target: float = 1.0) -> LossRelation:
    """The relation of ``d_fake`` and ``g_loss`` for ``loss``, derived with sympy.

    Parameters
    ----------
    loss
        One of :data:`CATALOGUE_LOSSES` (or an alias: ``ns``, ``wgan``,
        ``wgan-gp``, ``lsgan``, ...).
    fake_target, generator_target
        Cross-entropy losses: the label of a fake in the discriminator's loss
        (0 unless smoothed) and in the generator's (1 for the non-saturating
        loss, unless smoothed). Ignored by the other losses.

    Returns
    -------
    LossRelation

    References
    ----------
    .. [6] Ku (1966). Notes on the use of propagation of error formulas.
       J. Res. NBS 70C(4).
    """
    name = _canonical(loss)
    exact = False
    if name in ("minimax", "non-saturating"):
        s = sp.Symbol("l", real=True)
        t = sp.nsimplify(fake_target)
        d_fake = (1 - t) * softplus(s) + t * softplus(-s)
        if name == "minimax":
            g_loss = -d_fake
        else:
            u = sp.nsimplify(generator_target)
            g_loss = u * softplus(-s) + (1 - u) * softplus(s)
        opposite = True
    elif name == "wasserstein":
        s = sp.Symbol("c", real=True)
        d_fake, g_loss = s, -s
        opposite, exact = True, True
    elif name == "least-squares":
        s = sp.Symbol("s", real=True)
        d_fake, g_loss = s**2, (s - 1) ** 2
        opposite = True
    else:
        s = sp.Symbol("c", real=True)
        d_fake = sp.Max(0, 1 + s)
        g_loss = -s
        opposite = True
    dd = sp.diff(d_fake, s)
    dg = sp.diff(g_loss, s)
    ratio = sp.simplify(sp.Abs(dg) / sp.Abs(dd)) if name != "hinge" else sp.Piecewise(
        (sp.S.One, s > -1), (sp.oo, True))
    return LossRelation(loss=name, output=s, d_fake=d_fake, g_loss=g_loss, dd=dd, dg=dg,
                        ratio=ratio, opposite=opposite, exact=exact)


def predicted_ratio(loss: str, output: float, *, fake_target: float = 0.0,
                    generator_target: float = 1.0) -> float:
    """The first-order ``std(g_loss)/std(d_fake)`` at one value of the output, numerically.

    For the cross-entropy losses ``output`` is the logit ``l``; ``p =
    sigmoid(l)`` and the ratio is ``|p - u|/|p - t|`` (non-saturating) or 1
    (minimax); Wasserstein 1; least squares ``|s - 1|/|s|``; hinge 1 inside
    the margin, infinite beyond it.
    """
    name = _canonical(loss)
    if name == "minimax" or name == "wasserstein":
        return 1.0
    if name == "non-saturating":
        p = 1.0 / (1.0 + math.exp(-output))
        den = abs(p - fake_target)
        return abs(p - generator_target) / den if den > 0 else math.inf
    if name == "least-squares":
        return abs(output - 1.0) / abs(output) if output != 0 else math.inf
    return 1.0 if output > -1.0 else math.inf
