"""The catalogue of GAN losses, written in logit form.

Convention (docs/architecture.md, "Conventions"): the discriminator outputs a *real-logit*
``s(x)``; ``D(x) = sigmoid(s(x))`` is the probability that ``x`` is real.
Every loss is given per sample as a function of the real logit ``r = s(x)``
(``x`` a data sample) and the fake logit ``l = s(G(z))``:

* ``d_real``, ``d_fake``: the two terms of the discriminator's loss, as a
  training loop logs them; the discriminator's cost is ``E[d_real + d_fake]``;
* ``g_loss``: the generator's loss as logged; the generator's cost is ``E[g_loss]``;
* ``output``: what a loop prints as ``D(.)`` for a logit (the probability
  ``sigmoid(s)`` for cross-entropy losses, the raw score otherwise).

Each player *minimizes* its own cost. For cross-entropy losses
``d_real = softplus(-r) = -log D(x)`` and ``d_fake = softplus(l) = -log(1 - D(G(z)))``.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from gandyn.games.registry import Registry
from gandyn.symbolic.functions import relu, sigmoid, softplus

__all__ = ["FAKE_LOGIT", "LOSSES", "REAL_LOGIT", "Loss", "get_loss"]

#: The discriminator's logit on a data sample.
REAL_LOGIT = sp.Symbol("r", real=True)
#: The discriminator's logit on a generated sample.
FAKE_LOGIT = sp.Symbol("l", real=True)
_S = sp.Symbol("s", real=True)

_r, _l = REAL_LOGIT, FAKE_LOGIT


@dataclass(frozen=True)
class Loss:
    """A GAN loss: the logged terms per sample as expressions in ``r`` and ``l``.

    Attributes
    ----------
    name, aliases
        Registry names.
    title
        A short human name.
    d_real, d_fake, g_loss
        Per-sample logged terms in :data:`REAL_LOGIT` and :data:`FAKE_LOGIT`.
    output
        What a loop reports as ``D`` for a logit, an expression in ``s``.
    zero_sum
        True when ``cost_d == -cost_g`` up to terms no player controls.
    reference
        Where the loss was introduced.
    note
        What is special about the loss in gandyn's conventions.
    """

    name: str
    aliases: tuple[str, ...]
    title: str
    d_real: sp.Expr
    d_fake: sp.Expr
    g_loss: sp.Expr
    output: sp.Expr
    zero_sum: bool
    reference: str
    note: str = ""

    @property
    def cost_d(self) -> sp.Expr:
        """The discriminator's per-sample cost ``d_real + d_fake``."""
        return self.d_real + self.d_fake

    @property
    def cost_g(self) -> sp.Expr:
        """The generator's per-sample cost, equal to ``g_loss``."""
        return self.g_loss

    def output_of(self, logit: sp.Expr) -> sp.Expr:
        """What a loop prints as ``D(.)`` for the given logit."""
        return self.output.xreplace({_S: logit})


LOSSES: Registry[Loss] = Registry("loss")

_GOODFELLOW = (
    "Goodfellow et al. (2014), Generative Adversarial Nets, NeurIPS, eq. (1); "
    "Goodfellow (2016), NIPS tutorial, arXiv:1701.00160, Sec. 3.2"
)

LOSSES.add(
    Loss(
        name="minimax",
        aliases=("saturating",),
        title="minimax (saturating) GAN",
        d_real=softplus(-_r),
        d_fake=softplus(_l),
        g_loss=-softplus(_l),
        output=sigmoid(_S),
        zero_sum=True,
        reference=_GOODFELLOW,
        note=(
            "g_loss = log(1 - D(G(z))) = -d_fake: the generator maximizes the "
            "discriminator's loss"
        ),
    )
)
LOSSES.add(
    Loss(
        name="non-saturating",
        aliases=("ns", "nsgan"),
        title="non-saturating GAN",
        d_real=softplus(-_r),
        d_fake=softplus(_l),
        g_loss=softplus(-_l),
        output=sigmoid(_S),
        zero_sum=False,
        reference=_GOODFELLOW,
        note="g_loss = -log D(G(z)); d_fake - g_loss = l exactly",
    )
)
LOSSES.add(
    Loss(
        name="maximum-likelihood",
        aliases=("ml", "mle"),
        title="maximum-likelihood generator cost",
        d_real=softplus(-_r),
        d_fake=softplus(_l),
        g_loss=-sp.exp(_l) / 2,
        output=sigmoid(_S),
        zero_sum=False,
        reference=(
            "Goodfellow (2014), On distinguishability criteria for estimating generative "
            "models, arXiv:1412.6515; Goodfellow (2016), NIPS tutorial, arXiv:1701.00160, "
            "Sec. 3.2.3 and Fig. 16"
        ),
        note=(
            "g_loss = -exp(l)/2 = -D/(2(1 - D)): with an optimal discriminator the "
            "generator's expected gradient is that of maximum likelihood; the cost is "
            "unbounded below as D(G(z)) -> 1 (it overflows for l > 709)"
        ),
    )
)
LOSSES.add(
    Loss(
        name="wasserstein",
        aliases=("wgan",),
        title="Wasserstein GAN",
        d_real=-_r,
        d_fake=_l,
        g_loss=-_l,
        output=_S,
        zero_sum=True,
        reference="Arjovsky, Chintala and Bottou (2017), Wasserstein GAN, ICML, eq. (3)",
        note="the discriminator is a critic; Lipschitz control by wgan-gp or --clip",
    )
)
LOSSES.add(
    Loss(
        name="least-squares",
        aliases=("lsgan",),
        title="least-squares GAN (a=0, b=1, c=1)",
        d_real=(_r - 1) ** 2 / 2,
        d_fake=_l**2 / 2,
        g_loss=(_l - 1) ** 2 / 2,
        output=_S,
        zero_sum=False,
        reference="Mao et al. (2017), Least Squares Generative Adversarial Networks, ICCV, eq. (2)",
        note="the discriminator's raw output is regressed to 1 on data and 0 on samples",
    )
)
LOSSES.add(
    Loss(
        name="hinge",
        aliases=(),
        title="hinge GAN",
        d_real=relu(1 - _r),
        d_fake=relu(1 + _l),
        g_loss=-_l,
        output=_S,
        zero_sum=False,
        reference=(
            "Lim and Ye (2017), Geometric GAN, arXiv:1705.02894; "
            "Miyato et al. (2018), Spectral Normalization for GANs, ICLR, eq. (16)"
        ),
        note="relu'(0) is taken as 0, as automatic differentiation does",
    )
)
LOSSES.add(
    Loss(
        name="relativistic",
        aliases=("rpgan", "relativistic-pairing"),
        title="relativistic pairing GAN",
        d_real=softplus(_l - _r) / 2,
        d_fake=softplus(_l - _r) / 2,
        g_loss=softplus(_r - _l),
        output=sigmoid(_S),
        zero_sum=False,
        reference=(
            "Jolicoeur-Martineau (2019), The relativistic discriminator, ICLR, eq. (9)-(10); "
            "Huang et al. (2024), The GAN is dead; long live the GAN!, NeurIPS, eq. (2)"
        ),
        note=(
            "each real sample is paired with an independent fake; the discriminator's loss "
            "softplus(l - r) does not split into a real and a fake part, so half of it is "
            "logged as d_real and half as d_fake"
        ),
    )
)


def get_loss(name: str) -> Loss:
    """Return the loss called ``name`` (aliases accepted)."""
    return LOSSES.get(name)
