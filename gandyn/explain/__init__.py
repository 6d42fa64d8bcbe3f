r"""Why ``g_loss`` swings while ``d_fake`` stays flat: the logit-space explanation.

The two curves every GAN tutorial plots for the fake batch are two functions
of *one* number per step, the discriminator's logit ``l`` on a fake sample
(``p = D(G(z)) = sigmoid(l)``, conventions of docs/architecture.md):

* ``d_fake(l) = softplus(l) = -log(1 - p)``,
* ``g_loss(l) = softplus(-l) = -log p`` (non-saturating) or ``-softplus(l)`` (minimax).

For the non-saturating loss ``d_fake - g_loss = l`` *exactly*. Their slopes
are ``d d_fake/dl = p`` and ``d g_loss/dl = -(1 - p)``, so a small fluctuation
``dl`` of the logit moves the two curves in the ratio

.. math:: \frac{\operatorname{std}(g)}{\operatorname{std}(d)}
          \approx \frac{1 - p}{p} = e^{-l},

a first-order (linearized) law, exact only in the limit of small fluctuations
of ``l`` about a fixed mean. When the discriminator wins (``p -> 0``),
``d_fake ~ p`` is pinned near zero while ``g_loss ~ -l`` follows every change
of ``l`` with slope about one: the generator's curve oscillates and the
discriminator's fake curve looks flat, although both are driven by the same
oscillation. For the minimax loss ``g_loss = -d_fake`` and the ratio is 1.

This package gives the relations symbolically (:func:`logit_relations`),
measures them on a pair of logged series (:func:`analyze_series`) and compares
the period of a logged series with the one the flow's Jacobian predicts
(:func:`dynamics_prediction`). Its two entry points explain a whole training
log (:func:`explain_log`, with the log format's conventions) or an already
simulated run (:func:`explain_run`); both return an :class:`Explanation`
whose ``to_dict()`` and ``to_text()`` are what ``gandyn explain`` prints.

The modules, each depending only on those above it:

:mod:`gandyn.explain.smoothing`
    :func:`~gandyn.explain.smoothing.running_mean`: centred running means in
    time linear in the series (cumulative sums), whatever the window.
:mod:`gandyn.explain.batch`
    The exact facts of one batch of fake logits (numpy only): the Jensen
    excess of ``d_fake + g_loss`` over its single-logit value, and the normal
    spread-of-logits model that reproduces both losses, with its moments.
:mod:`gandyn.explain.relations`
    :func:`logit_relations` and :class:`LogitRelations`: ``d_fake`` and
    ``g_loss`` as sympy expressions in ``l`` and ``p``, their slopes and the
    first-order ratio law; the loss names the package covers.
:mod:`gandyn.explain.series`
    :func:`analyze_series` and :class:`SeriesReport`: the consistency check,
    the measured and the predicted spread ratios of a logged pair, and the
    names of their estimators.
:mod:`gandyn.explain.catalogue`
    :func:`~gandyn.explain.catalogue.loss_relation`: ``d_fake`` and ``g_loss``
    of every loss of the catalogue (minimax, non-saturating, Wasserstein,
    least squares, hinge; label smoothing) in the discriminator's output, their
    slopes and the first-order ratio.
:mod:`gandyn.explain.combined`
    :func:`~gandyn.explain.combined.analyze_combined`: what one combined
    discriminator loss ``d_loss`` and ``g_loss`` can and cannot tell, and the
    swing of one against the other.
:mod:`gandyn.explain.dynamics`
    :func:`dynamics_prediction`: the measured period of a series against the
    one the flow's Jacobian predicts.
:mod:`gandyn.explain.logs`
    :func:`~gandyn.explain.logs.read_log`: a training log in any common
    format (printed lines of any loop, CSV/TSV and the exports of TensorBoard,
    W&B and MLflow, JSON lines, TensorBoard event files) as arrays under
    canonical names, with the readers in :mod:`gandyn.explain.logformats`.
:mod:`gandyn.explain.conventions`
    :class:`LogConventions` per log format (independent batch sizes,
    measured before the update, where ``d_fake`` comes from) with their
    sources, and the consistency tolerances.
:mod:`gandyn.explain.explanation`
    :class:`Explanation`: the record both entry points return, its JSON
    document and its text; :class:`ExplainError`.
:mod:`gandyn.explain.from_log`
    :func:`explain_log` and :func:`~gandyn.explain.from_log.explain_training_log`
    (cleaning, range checks, ``d_fake`` logged, estimated or inferred).
:mod:`gandyn.explain.from_run`
    :func:`explain_run`, for a trajectory, its vector field and its model
    handed over by the caller (the run layer sits above this package).

References
----------
.. [1] Goodfellow et al. (2014). Generative Adversarial Nets. NeurIPS
   (the minimax and the non-saturating generator losses).
.. [2] Goodfellow (2016). NIPS 2016 Tutorial: Generative Adversarial
   Networks. arXiv:1701.00160, Sec. 3.2 (costs as functions of the logit).
.. [3] Mescheder, Geiger and Nowozin (2018). Which Training
   Methods for GANs do actually Converge? ICML, Sec. 2.2 and 4.1 (Dirac-GAN,
   eigenvalues ``-gamma/2 +- sqrt(gamma^2/4 - 1/4)`` with R1).
.. [4] Ku (1966). Notes on the use of propagation of error formulas.
   J. Res. NBS 70C(4) (first-order propagation of a fluctuation).
"""

from __future__ import annotations

from gandyn.explain.conventions import LOG_CONVENTIONS, LogConventions, conventions_for
from gandyn.explain.dynamics import dynamics_prediction
from gandyn.explain.explanation import ExplainError, Explanation
from gandyn.explain.from_log import explain_log
from gandyn.explain.from_run import DivergedRunError, explain_run
from gandyn.explain.relations import LogitRelations, logit_relations
from gandyn.explain.series import SeriesReport, analyze_series

__all__ = [
    "LOG_CONVENTIONS",
    "DivergedRunError",
    "ExplainError",
    "Explanation",
    "LogConventions",
    "LogitRelations",
    "SeriesReport",
    "analyze_series",
    "conventions_for",
    "dynamics_prediction",
    "explain_log",
    "explain_run",
    "logit_relations",
]
