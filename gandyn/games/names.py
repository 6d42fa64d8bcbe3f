"""The names of the catalogues' losses, regularizers and games, without sympy.

Shell completion (``gandyn simulate --loss non<TAB>``) and help texts need the
names while the command line starts, long before a game is built; importing
:mod:`gandyn.games.losses` would load sympy for them. The names and aliases
are therefore listed here as well, in registration order, and a test
(``tests/cli/test_completion.py``) keeps them equal to the registries of
:mod:`gandyn.games.losses`, :mod:`gandyn.games.regularizers` and
:mod:`gandyn.games.game`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

__all__ = ["GAME_NAMES", "LOSS_NAMES", "REGULARIZER_NAMES"]

#: Loss name -> its aliases (:data:`gandyn.games.losses.LOSSES`).
LOSS_NAMES: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType({
    "minimax": ("saturating",),
    "non-saturating": ("ns", "nsgan"),
    "maximum-likelihood": ("ml", "mle"),
    "wasserstein": ("wgan",),
    "least-squares": ("lsgan",),
    "hinge": (),
    "relativistic": ("rpgan", "relativistic-pairing"),
})

#: Regularizer name -> its aliases (:data:`gandyn.games.regularizers.REGULARIZERS`).
REGULARIZER_NAMES: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType({
    "r1": (),
    "r2": (),
    "wgan-gp": ("gp", "gradient-penalty"),
    "dragan": (),
    "consensus": ("co",),
    "nagarajan-kolter": ("nk", "gradient-norm-g"),
    "anchor-g": ("weight-decay-g",),
    "anchor-d": ("weight-decay-d",),
    "instance-noise": ("noise",),
})

#: Game name -> its aliases (:data:`gandyn.games.game.GAMES`).
GAME_NAMES: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType({
    "dirac": ("dirac-gan",),
    "bilinear": (),
    "gaussian": ("gauss", "1d-gaussian"),
    "two-point": ("twopoint",),
    "hide-and-seek": ("hide-seek",),
    "two-point-bump": ("bump",),
})
