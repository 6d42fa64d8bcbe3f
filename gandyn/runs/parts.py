"""The parts of a run spec: the game, a regularizer, the method, the minibatch mode.

Each part is a frozen record of values (never option text), with ``to_dict``
for spec files and sidecars; :mod:`gandyn.runs.spec` puts them together into a
:class:`~gandyn.runs.spec.RunSpec`, and :mod:`gandyn.runs.spec_data` reads them
back from plain data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["GameSpec", "MinibatchSpec", "RegularizerSpec", "RuleSpec", "Setting", "pairs"]

#: A setting's value: a number, or a word such as ``first = "g"`` or ``method = "RK45"``.
Setting = int | float | str

def pairs(value: Mapping[str, Any] | Sequence[tuple[str, Any]]) -> tuple[tuple[str, Any], ...]:
    """``(key, value)`` pairs of a mapping or of pairs, keys as strings, order kept."""
    items = value.items() if isinstance(value, Mapping) else value
    return tuple((str(k), v) for k, v in items)


@dataclass(frozen=True)
class RegularizerSpec:
    """A regularizer by catalogue name with its settings (``gamma``, ...)."""

    name: str
    settings: tuple[tuple[str, Setting], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "settings", pairs(self.settings))

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON and TOML."""
        return {"name": self.name, "settings": dict(self.settings)}


@dataclass(frozen=True)
class GameSpec:
    """The game of a run, as for ``gandyn derive``.

    Attributes
    ----------
    name, options
        A catalogue game and its structural options (``order``, ``logit``).
    file
        A custom game in TOML or JSON instead of a catalogue game (``name``
        then stays ``dirac`` and ``options`` empty).
    loss
        The GAN loss, ``None`` for the game's default.
    regularizers
        Applied in order.
    params
        Hyper-parameter values by symbol name (``c``, ``gamma_r1``).
    log_loss
        The loss whose terms are logged, when it differs from the one that
        trains (``None``: the training loss); see :func:`gandyn.games.game.make_game`.
    """

    name: str = "dirac"
    options: tuple[tuple[str, int | str], ...] = ()
    file: str | None = None
    loss: str | None = None
    regularizers: tuple[RegularizerSpec, ...] = ()
    params: tuple[tuple[str, float], ...] = ()
    log_loss: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "options", pairs(self.options))
        object.__setattr__(self, "params", pairs(self.params))
        object.__setattr__(self, "regularizers", tuple(
            r if isinstance(r, RegularizerSpec) else RegularizerSpec(*r)
            for r in self.regularizers))

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON and TOML."""
        data = {"name": self.name, "options": dict(self.options), "file": self.file,
                "loss": self.loss, "regularizers": [r.to_dict() for r in self.regularizers],
                "params": dict(self.params)}
        if self.log_loss is not None:  # only when set: specs without it read as before
            data["log_loss"] = self.log_loss
        return data


@dataclass(frozen=True)
class RuleSpec:
    """The method: ``flow`` or a discrete update rule, its learning rates and settings.

    The flow is ``dx/dt = F`` on the generator's coordinates and
    ``(lr_d / lr_g) F`` on the discriminator's, with time on the generator's
    clock: discrete step ``k`` sits at ``t = k * lr_g``. Settings are kept
    sorted by name.
    """

    name: str = "simgd"
    lr_g: float = 0.1
    lr_d: float = 0.1
    settings: tuple[tuple[str, Setting], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "settings", tuple(sorted(pairs(self.settings))))

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON and TOML."""
        return {"name": self.name, "lr_g": self.lr_g, "lr_d": self.lr_d,
                "settings": dict(self.settings)}


@dataclass(frozen=True)
class MinibatchSpec:
    """Stochastic mode (:mod:`gandyn.dynamics.minibatch`).

    Fresh seeded minibatches of ``batch_size`` data/sample pairs for the
    discriminator and ``batch_size_g`` latent samples (default ``batch_size``)
    for the generator at every step, instead of exact expectations.
    """

    batch_size: int
    batch_size_g: int | None = None
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON and TOML."""
        return {"batch_size": self.batch_size, "batch_size_g": self.batch_size_g,
                "seed": self.seed}
