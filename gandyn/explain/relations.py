"""``d_fake`` and ``g_loss`` as sympy functions of the fake logit ``l`` and of ``p``.

:func:`logit_relations` returns a :class:`LogitRelations`: the two losses in
``l`` and in ``p = sigmoid(l)``, their difference, their slopes and the
first-order law ``std(g_loss)/std(d_fake) ~ exp(-l) = (1 - p)/p``
(non-saturating) or ``1`` (minimax), with printable forms and a paragraph of
text. :func:`_canonical` names the generator losses the package covers.

References
----------
.. [1] Goodfellow (2016). NIPS 2016 Tutorial: Generative Adversarial
   Networks. arXiv:1701.00160, Sec. 3.2.
.. [4] Ku (1966). Notes on the use of propagation of error
   formulas. J. Res. NBS 70C(4).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import sympy as sp

from gandyn.symbolic.functions import softplus

__all__ = ["LogitRelations", "logit_relations"]

_ALIASES: dict[str, str] = {
    "non-saturating": "non-saturating",
    "ns": "non-saturating",
    "nsgan": "non-saturating",
    "minimax": "minimax",
    "saturating": "minimax",
}


def _canonical(loss: str) -> str:
    try:
        return _ALIASES[loss.lower()]
    except KeyError:
        raise ValueError(
            f"loss {loss!r} is not supported here; use one of "
            f"{sorted(set(_ALIASES.values()))} (aliases {sorted(_ALIASES)})"
        ) from None



@dataclass(frozen=True)
class LogitRelations:
    """``d_fake`` and ``g_loss`` as functions of the fake logit ``l`` (and of ``p``).

    Attributes
    ----------
    loss
        ``"non-saturating"`` or ``"minimax"``.
    logit, p
        The symbols ``l`` (the discriminator's logit on a fake sample) and
        ``p = sigmoid(l)`` (positive; ``0 < p < 1`` is implied).
    d_fake, g_loss
        The losses as functions of ``l`` (gandyn's ``softplus``).
    d_fake_p, g_loss_p
        The same as functions of ``p``.
    difference
        ``d_fake - g_loss`` simplified (``l`` for the non-saturating loss,
        ``2 softplus(l)`` for the minimax one).
    dd_dl, dg_dl
        Slopes in the logit: ``sigmoid(l)`` and ``-sigmoid(-l)`` (non-saturating).
    dd_dp, dg_dp
        Slopes in ``p``: ``1/(1-p)`` and ``-1/p`` (non-saturating).
    std_ratio_l, std_ratio_p
        The first-order law ``std(g_loss)/std(d_fake) ~ |dg/dl| / |dd/dl|``:
        ``exp(-l) = (1-p)/p`` (non-saturating) or ``1`` (minimax).
    strings
        Short printable forms of all of the above.
    """

    loss: str
    logit: sp.Symbol
    p: sp.Symbol
    d_fake: sp.Expr
    g_loss: sp.Expr
    d_fake_p: sp.Expr
    g_loss_p: sp.Expr
    difference: sp.Expr
    dd_dl: sp.Expr
    dg_dl: sp.Expr
    dd_dp: sp.Expr
    dg_dp: sp.Expr
    std_ratio_l: sp.Expr
    std_ratio_p: sp.Expr
    strings: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, str]:
        """The printable forms (JSON-able)."""
        return {"loss": self.loss, **dict(self.strings)}

    def to_text(self) -> str:
        """A paragraph explaining the two curves, ready to paste."""
        if self.loss == "minimax":
            return (
                "Write l for the discriminator's logit on a fake sample and p = D(G(z)) = "
                "sigmoid(l). The discriminator's fake loss is d_fake = softplus(l) = "
                "-log(1 - p); with the minimax (saturating) generator loss, g_loss = "
                "-softplus(l) = -d_fake exactly. The two curves are mirror images: "
                "std(g_loss)/std(d_fake) = 1 at every step, so one cannot oscillate while "
                "the other stays flat. If they look different in a log, they were not "
                "measured on the same fake batch or with the same discriminator."
            )
        return (
            "Write l for the discriminator's logit on a fake sample and p = D(G(z)) = "
            "sigmoid(l). Both curves are functions of the same l: d_fake = softplus(l) = "
            "-log(1 - p) and, for the non-saturating generator loss, g_loss = softplus(-l) "
            "= -log p; their difference is exactly d_fake - g_loss = l. Their slopes are "
            "d d_fake/dl = p and d g_loss/dl = -(1 - p) (in p: 1/(1 - p) and -1/p). A "
            "small fluctuation of l therefore moves the two curves in the ratio "
            "std(g_loss)/std(d_fake) ~ (1 - p)/p = exp(-l). This is a linearization, "
            "exact only in the limit of small fluctuations of l about a fixed mean. When "
            "the discriminator wins (p -> 0, l very negative) d_fake ~ p is pinned near 0 "
            "and changes with slope p, so it looks flat, while g_loss ~ -l follows every "
            "change of l with slope close to 1: the same oscillation of l shows up "
            "exp(-l) times larger in g_loss (for p = 0.02, about 49 times). Neither "
            "function is oscillatory; the oscillation comes from the training dynamics "
            "of l, and the two losses merely scale it differently."
        )


def logit_relations(loss: str = "non-saturating") -> LogitRelations:
    """The relations between ``d_fake`` and ``g_loss`` in logit space.

    Parameters
    ----------
    loss
        ``"non-saturating"`` (aliases ``ns``, ``nsgan``) or ``"minimax"``
        (alias ``saturating``).

    Returns
    -------
    LogitRelations
        sympy expressions (in ``l`` through :class:`gandyn.symbolic.functions.softplus`
        and :class:`gandyn.symbolic.functions.sigmoid`, and in ``p``) and printable strings.

    Notes
    -----
    The ratio law is first-order error propagation [4]_: for ``l_t = m + dl_t``
    with small ``dl_t``, ``g(l_t) - g(m) ~ g'(m) dl_t`` and
    ``d(l_t) - d(m) ~ d'(m) dl_t``, so the ratio of the standard deviations is
    ``|g'(m)| / |d'(m)|``. Second-order terms (``g''(m) dl^2 / 2``) make it
    inexact for large fluctuations.

    References
    ----------
    .. [1] Goodfellow (2016). NIPS 2016 Tutorial: Generative Adversarial
       Networks. arXiv:1701.00160, Sec. 3.2.
    .. [4] Ku (1966). Notes on the use of propagation of error
       formulas. J. Res. NBS 70C(4).
    """
    name = _canonical(loss)
    l = sp.Symbol("l", real=True)  # noqa: E741  (the paper's name for the logit)
    p = sp.Symbol("p", positive=True)
    d_fake = softplus(l)
    d_fake_p = -sp.log(1 - p)
    dd_dl = sp.diff(d_fake, l)
    dd_dp = sp.diff(d_fake_p, p)
    if name == "non-saturating":
        g_loss: sp.Expr = softplus(-l)
        g_loss_p: sp.Expr = -sp.log(p)
        difference: sp.Expr = l
        ratio_l: sp.Expr = sp.exp(-l)
        ratio_p: sp.Expr = (1 - p) / p
        g_str, gp_str, diff_str = "softplus(-l)", "-log(p)", "l"
        dg_str, dgp_str, ratio_str = "-(1 - p) = -sigmoid(-l)", "-1/p", "(1 - p)/p = exp(-l)"
    else:
        g_loss = -softplus(l)
        g_loss_p = sp.log(1 - p)
        difference = 2 * softplus(l)
        ratio_l = sp.S.One
        ratio_p = sp.S.One
        g_str, gp_str, diff_str = "-softplus(l)", "log(1 - p)", "2*softplus(l)"
        dg_str, dgp_str, ratio_str = "-p = -sigmoid(l)", "-1/(1 - p)", "1 (exactly)"
    strings = {
        "p": "sigmoid(l) = D(G(z))",
        "d_fake": "softplus(l) = -log(1 - p)",
        "g_loss": f"{g_str} = {gp_str}",
        "difference": f"d_fake - g_loss = {diff_str}",
        "dd_dl": "p = sigmoid(l)",
        "dg_dl": dg_str,
        "dd_dp": "1/(1 - p)",
        "dg_dp": dgp_str,
        "std_ratio": f"std(g_loss)/std(d_fake) ~ {ratio_str} (first order in the "
        "fluctuation of l)",
    }
    return LogitRelations(
        loss=name, logit=l, p=p, d_fake=d_fake, g_loss=g_loss, d_fake_p=d_fake_p,
        g_loss_p=g_loss_p, difference=difference, dd_dl=dd_dl, dg_dl=sp.diff(g_loss, l),
        dd_dp=dd_dp, dg_dp=sp.diff(g_loss_p, p), std_ratio_l=ratio_l, std_ratio_p=ratio_p,
        strings=strings,
    )

