"""The names training loops give their losses and counters, and how gandyn maps them.

A key of a log (a printed ``D loss``, a CSV header ``errD_fake``, a JSON key
``Loss/G/loss``, a TensorBoard tag ``loss/d``) is compared after
:func:`normalize_key`: lower case, runs of spaces and hyphens as one ``_``.
The tables below were gathered from the training output of public GAN code
(the PyTorch DCGAN example, pytorch-CycleGAN-and-pix2pix, eriklindernoren's
PyTorch-GAN and Keras-GAN, DCGAN-tensorflow, StarGAN, the WGAN-GP code,
StyleGAN2-ADA's ``stats.jsonl``, keras.io's GAN examples); tests/data/logs/
keeps excerpts of real logs with their sources.

A combined discriminator loss (``Loss_D``, ``d_loss``, ``D loss``, a critic
loss) is ``d_total``: the sum or the mean of the real and the fake part,
depending on the loop; the reader does not guess which.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

__all__ = [
    "ALIASES",
    "COUNTER_ALIASES",
    "PAIR_BASES",
    "canonical_of",
    "counter_role",
    "find_pairs",
    "is_loss_key",
    "normalize_key",
    "pair_side",
]

#: Keys recognised for each canonical name, normalized (see :func:`normalize_key`).
ALIASES: Mapping[str, tuple[str, ...]] = {
    "d_real": ("d_real", "d_loss_real", "loss_d_real", "errd_real", "d1", "d_real_loss",
               "dis_real_loss", "real_loss", "loss_real", "d/loss_real", "loss_d/real",
               "discriminator_real_loss", "d_loss_r", "l_d_real"),
    "d_fake": ("d_fake", "d_loss_fake", "loss_d_fake", "errd_fake", "d2", "d_fake_loss",
               "dis_fake_loss", "fake_loss", "loss_fake", "d/loss_fake", "loss_d/fake",
               "discriminator_fake_loss", "d_loss_f", "l_d_fake"),
    "g_loss": ("g_loss", "loss_g", "lossg", "gloss", "errg", "g", "gen", "gen_loss", "loss_gen",
               "generator_loss", "loss_generator", "generator", "g_cost", "gen_cost", "g_gan",
               "loss_g_gan", "g_gan_loss", "l_g_gan", "loss_g_fake", "g_adv", "g_loss_adv",
               "g/loss", "loss/g/loss", "g/loss_fake",
               "loss/g", "train/g_loss", "train/loss_g"),
    "d_x": ("d_x", "d(x)", "dx", "real_score", "d_x_mean"),
    "d_gz": ("d_gz", "d(g(z))", "dgz", "fake_score", "d_g_z", "d_gz_before"),
    "d_total": ("d_total", "d_loss", "loss_d", "lossd", "dloss", "errd", "d", "dis", "disc",
                "dis_loss", "loss_dis", "disc_loss", "loss_disc", "discriminator_loss",
                "loss_discriminator", "discriminator", "d_cost", "disc_cost", "critic_loss",
                "loss_critic", "critic", "c_loss", "critic_cost", "d/loss", "loss/d/loss",
                "loss/d", "train/d_loss", "train/loss_d", "d_loss_total", "total_d_loss"),
    "d_gz_after": ("d_gz_after",),
}

#: Keys of counters: ``epoch``, or a ``step`` (an iteration, batch or tick counter, global
#: or within an epoch; the reader finds out which from the values).
COUNTER_ALIASES: Mapping[str, tuple[str, ...]] = {
    "epoch": ("epoch", "epochs", "ep", "epoch_idx", "progress/epoch"),
    "step": ("step", "steps", "global_step", "iter", "iters", "iteration", "iterations", "it",
             "itr", "niter", "n_iter", "total_iters", "total_steps", "batch", "batches",
             "batch_idx", "tick", "progress/tick", "kimg", "progress/kimg", "i", "n", "idx",
             "epoch_step", "trainer/global_step", "_step"),
}

#: Keys that name one network's loss when followed by a suffix (CycleGAN's ``D_A``,
#: ``G_B``): the discriminator's and the generator's bases.
PAIR_BASES: Mapping[str, tuple[str, ...]] = {
    "d": ("d", "loss_d", "d_loss", "dis", "disc", "critic"),
    "g": ("g", "loss_g", "g_loss", "gen"),
}

_CANONICAL_OF = {alias: name for name, aliases in ALIASES.items() for alias in aliases}
_COUNTER_OF = {alias: role for role, aliases in COUNTER_ALIASES.items() for alias in aliases}
_PAIR_BASE_OF = {alias: side for side, aliases in PAIR_BASES.items() for alias in aliases}
_SEPARATORS = re.compile(r"[\s\-]+")


def normalize_key(key: str) -> str:
    """Lower case, spaces and hyphens as one ``_``, no ``_`` at the ends."""
    return _SEPARATORS.sub("_", key.strip().casefold()).strip("_")


def canonical_of(key: str) -> str | None:
    """The canonical name a key stands for, or None.

    A key of several words whose whole is unknown is tried without its leading
    words (``Training D loss`` -> ``D loss``; ``train disc cost`` -> ``disc
    cost``), and a tag path by its last part (``train/loss_D``,
    ``Loss/Discriminator``), but never down to a one- or two-letter alias.
    """
    norm = normalize_key(key)
    if norm in _CANONICAL_OF:
        return _CANONICAL_OF[norm]
    if "/" in norm:  # a tag path: train/loss_D, Loss/Discriminator
        last = norm.rpartition("/")[2]
        if len(last) > 2 and last in _CANONICAL_OF:
            return _CANONICAL_OF[last]
    words = key.split()
    for start in range(1, len(words)):
        tail = normalize_key(" ".join(words[start:]))
        if len(tail) > 2 and tail in _CANONICAL_OF:
            return _CANONICAL_OF[tail]
    return None


def counter_role(key: str) -> str | None:
    """``"epoch"`` or ``"step"`` for a counter's key, else None."""
    return _COUNTER_OF.get(normalize_key(key))


def pair_side(key: str) -> str | None:
    """``"d"`` or ``"g"`` for a key shaped like one network's loss (``D_A``, ``G_B``), else None."""
    base, sep, suffix = normalize_key(key).rpartition("_")
    if not sep or not suffix:
        return None
    return _PAIR_BASE_OF.get(base)


def is_loss_key(key: str) -> bool:
    """Whether a key names a canonical series or one network's loss (``D_A``)."""
    return canonical_of(key) is not None or (counter_role(key) is None
                                              and pair_side(key) is not None)


def find_pairs(keys: Iterable[str]) -> dict[str, dict[str, str]]:
    """The networks whose losses a log holds side by side, by suffix.

    Parameters
    ----------
    keys
        The log's keys.

    Returns
    -------
    dict of str to dict
        Suffix as printed (``"A"``) -> ``{"d": key, "g": key}`` for every
        suffix that has both a discriminator key (``D_A``) and a generator key
        (``G_A``); keys that are aliases themselves (``D_real``, ``G_GAN``) never
        form pairs.
    """
    sides: dict[str, dict[str, str]] = {}
    spelled: dict[str, str] = {}
    for key in keys:
        if canonical_of(key) is not None or counter_role(key) is not None:
            continue
        side = pair_side(key)
        if side is None:
            continue
        suffix = normalize_key(key).rpartition("_")[2]
        sides.setdefault(suffix, {}).setdefault(side, key)
        spelled.setdefault(suffix, key.strip()[len(key.strip()) - len(suffix):])
    return {spelled[s]: v for s, v in sides.items() if set(v) == {"d", "g"}}
