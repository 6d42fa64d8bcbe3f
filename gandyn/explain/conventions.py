"""How each kind of training log measured its losses: the conventions as data.

A logged ``(d_fake, g_loss)`` pair can only be explained together with how the
training loop produced it: whether the two losses are means over one shared
fake batch or over independent minibatches (and of which sizes), whether
``d_fake`` was measured before the discriminator's update while ``g_loss`` saw
the updated discriminator, and, when the log holds no ``d_fake`` at all, from
which logged ``D(G(z))`` it is estimated. :data:`LOG_CONVENTIONS` holds one
:class:`LogConventions` per format of :data:`gandyn.explain.logs.FORMATS`;
:func:`explain_log <gandyn.explain.from_log.explain_log>` applies them unless
the caller overrides them.

Where they come from:

``keras``
    Jason Brownlee's Keras GAN tutorials [1]_ train the discriminator on a half
    batch of real samples (printed as ``d1``) and a half batch of fakes
    (``d2``), then the generator through the composite model on a fresh batch
    of latent points (``g``): the printed ``d2`` and ``g`` are means over
    independent batches, 64 fakes and 128 latent points for the tutorials'
    batch of 128. Keras' ``Model.train_on_batch`` [2]_ returns the loss of the
    batch computed in the forward pass, before the gradients are applied, and
    the loop trains the discriminator first, so ``g[k]`` sees the discriminator
    after the update that produced ``d2[k]``: the one ``d2[k + 1]`` sees.
``pytorch-dcgan``
    The PyTorch DCGAN example [3]_ prints ``Loss_D`` (the sum of the real and
    the fake loss, so no ``d_fake``), ``Loss_G`` and ``D(G(z))`` twice: before
    the discriminator's update (what ``errD_fake`` saw) and after it (what
    ``errG`` sees). Both losses use one fake batch. ``d_fake`` is estimated as
    ``-log(1 - D(G(z)))`` from the second value, so that both losses describe
    the same discriminator; ``-log(1 - mean D)`` is not the mean of
    ``-log(1 - D)`` (Jensen's inequality), which the consistency tolerance
    allows for.
``csv`` / ``tsv`` and every other format of :data:`gandyn.explain.logs.FORMATS`
    Nothing is known about the loop: one batch, measured after the update;
    a missing ``d_fake`` is estimated like the DCGAN example's.

The consistency tolerances (in loss units) are data too: a run with exact
expectations has no sampling noise (:data:`EXACT_TOLERANCE`); a log or a
minibatch run is checked to :data:`SAMPLED_TOLERANCE`.

References
----------
.. [1] Brownlee (2019). How to Develop a GAN for Generating MNIST Handwritten
   Digits. Machine Learning Mastery (the ``train`` loop printing
   ``>%d, %d/%d, d1=%.3f, d2=%.3f g=%.3f``).
.. [2] Chollet et al. (2015). Keras. API reference, ``Model.train_on_batch``:
   "Runs a single gradient update on a single batch of data" and returns the
   scalar training loss of that batch.
.. [3] Inkawhich (2018). DCGAN Tutorial. PyTorch tutorials; PyTorch examples,
   ``dcgan/main.py``: prints ``Loss_D``, ``Loss_G``, ``D(x)`` and
   ``D(G(z)): D_G_z1 / D_G_z2``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "EXACT_TOLERANCE",
    "LOG_CONVENTIONS",
    "SAMPLED_TOLERANCE",
    "LogConventions",
    "conventions_for",
]

#: Consistency tolerance when the losses are exact expectations (no sampling noise): one
#: fake logit must give ``d_fake = softplus(l)`` and ``g_loss = softplus(-l)`` to rounding.
EXACT_TOLERANCE = 1e-3
#: Consistency tolerance for batch means (a log, or a minibatch run): means over a spread of
#: logits differ from a single logit's values by Jensen's inequality.
SAMPLED_TOLERANCE = 0.05


@dataclass(frozen=True)
class LogConventions:
    """How one log format measured ``d_fake`` and ``g_loss``.

    Attributes
    ----------
    fmt
        The log format (one of :data:`gandyn.explain.logs.FORMATS`).
    batch_sizes
        ``(m_d, m_g)`` when ``d_fake`` and ``g_loss`` are means over
        independent minibatches of these sizes; ``None`` when both come from
        one fake batch (their sampling noise is shared).
    batch_sizes_note
        How the explanation's ``source`` names those batch sizes (the wording
        of the JSON contract).
    measured_before_update
        ``d_fake`` was measured before the discriminator's update and
        ``g_loss`` after it, so ``g_loss[k]`` pairs with ``d_fake[k + 1]``.
    d_fake_estimated_from
        The logged ``D(G(z))`` fields, in order of preference, from which
        ``d_fake = -log(1 - D(G(z)))`` is estimated when the log has no
        ``d_fake``.
    """

    fmt: str
    batch_sizes: tuple[int, int] | None = None
    batch_sizes_note: str | None = None
    measured_before_update: bool = False
    d_fake_estimated_from: tuple[str, ...] = ()


# D(G(z)) after D's update first: it is what g_loss saw, so both losses then describe
# the same discriminator; the value before the update (what d_fake saw) is the fall-back.
_AFTER_UPDATE_FIRST = ("d_gz_after", "d_gz")

#: The conventions of every log format, by format name.
LOG_CONVENTIONS: Mapping[str, LogConventions] = MappingProxyType({
    "csv": LogConventions("csv", d_fake_estimated_from=_AFTER_UPDATE_FIRST),
    "tsv": LogConventions("tsv", d_fake_estimated_from=_AFTER_UPDATE_FIRST),
    # Brownlee's loop: half batches of 64 real and 64 fake for D, then 128 fresh latent
    # points for G (independent samples); train_on_batch returns the loss before its update.
    "keras": LogConventions(
        "keras", batch_sizes=(64, 128),
        batch_sizes_note="64,128 (the Keras tutorial's loop; --batch-sizes changes it)",
        measured_before_update=True, d_fake_estimated_from=_AFTER_UPDATE_FIRST),
    # One fake batch for both losses; Loss_D is the sum, so d_fake comes from the printed
    # D(G(z)) after D's update.
    "pytorch-dcgan": LogConventions("pytorch-dcgan", d_fake_estimated_from=_AFTER_UPDATE_FIRST),
    # The formats of any training loop (printed lines, JSON, TensorBoard and the exports):
    # nothing is known about the loop, as for a CSV.
    **{fmt: LogConventions(fmt, d_fake_estimated_from=_AFTER_UPDATE_FIRST)
       for fmt in ("printed", "pattern", "jsonl", "tensorboard", "tensorboard-csv",
                   "wandb-csv", "mlflow-csv", "mlflow")},
})


def conventions_for(fmt: str) -> LogConventions:
    """The :class:`LogConventions` of the log format ``fmt``.

    Raises
    ------
    KeyError
        For a format not in :data:`LOG_CONVENTIONS`.
    """
    return LOG_CONVENTIONS[fmt]
