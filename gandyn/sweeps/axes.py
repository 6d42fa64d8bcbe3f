"""The axes of a sweep: which values each cell takes.

A sweep is a grid of *cells*, the product of one or more axes (``lr_d`` on
``0.01:1:50:log``, ``gamma`` on ``0:2:41``, ``theta`` on ``-2:2:21``, ...).
An axis sets a learning rate (``lr``, ``lr_g``, ``lr_d``), an initial
coordinate, a hyper-parameter of the game (``gamma`` for ``gamma_r1`` when
unique) or a setting of the update rule. The command line parses the text
``name=low:high:count[:log]`` (:func:`gandyn.symbolic.option_text.parse_axis`);
here an axis is an :class:`AxisSpec`, resolved against the game into an
:class:`Axis`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, cast

import numpy as np

from gandyn.arrays import Array
from gandyn.errors import SpecError

if TYPE_CHECKING:
    from gandyn.games.game import Game

__all__ = ["LR_AXES", "Array", "Axis", "AxisKind", "AxisSpec", "resolve_axis"]


#: Names of the learning-rate axes.
LR_AXES = ("lr", "lr_g", "lr_d")

AxisKind = Literal["lr", "state", "param", "setting"]


@dataclass(frozen=True)
class Axis:
    """One axis of a sweep: ``count`` values from ``low`` to ``high``.

    Attributes
    ----------
    name
        The name as given on the command line (the output column).
    kind
        ``lr`` (a learning rate), ``state`` (an initial coordinate), ``param``
        (a hyper-parameter of the game) or ``setting`` (of the update rule).
    target
        What it sets: ``lr``, ``lr_g`` or ``lr_d``; the state symbol; the
        hyper-parameter's symbol name (``gamma`` resolves to ``gamma_r1``);
        the rule setting.
    low, high, count
        The range; ``count = 1`` is the single value ``low``.
    log
        Geometric instead of linear spacing.
    """

    name: str
    kind: AxisKind
    target: str
    low: float
    high: float
    count: int
    log: bool = False

    @property
    def values(self) -> Array:
        """The axis values, ``(count,)``."""
        if self.count == 1:
            return np.array([self.low])
        if self.log:
            return cast(Array, np.geomspace(self.low, self.high, self.count))
        return cast(Array, np.linspace(self.low, self.high, self.count))

    @property
    def text(self) -> str:
        """The axis as the command line writes it."""
        spec = f"{self.name}={self.low!r}:{self.high!r}:{self.count}"
        return spec + (":log" if self.log else "")


@dataclass(frozen=True)
class AxisSpec:
    """An axis as given: ``count`` values of ``name`` from ``low`` to ``high``.

    ``name`` is a learning rate, a state symbol, a hyper-parameter (``gamma``
    for ``gamma_r1`` when unique) or a rule setting; :func:`resolve_axis` finds
    which against the game.
    """

    name: str
    low: float
    high: float
    count: int
    log: bool = False

    def to_dict(self) -> dict[str, object]:
        """Plain data for JSON and TOML."""
        return {"name": self.name, "low": self.low, "high": self.high, "count": self.count,
                "log": self.log}

    def check(self) -> None:
        """Raise :class:`SpecError` for an empty range or a log axis reaching zero."""
        where = f"--axis {self.name}"
        if self.count < 1 or (self.count > 1 and not self.low < self.high):
            raise SpecError(f"{where}: empty range {self.low!r}:{self.high!r}:{self.count} "
                            "(need low < high and count >= 1)")
        if self.log and not (self.low * self.high > 0):
            raise SpecError(f"{where}: a log axis cannot reach or cross zero "
                            f"({self.low:g} to {self.high:g}); use a positive range or linear "
                            "spacing")


def resolve_axis(given: AxisSpec, game: Game, optimizer: str) -> Axis:
    """What ``given`` sets in ``game`` under ``optimizer``, checked."""
    from gandyn.errors import UnknownNameError
    from gandyn.rules.registry import SETTING_NAMES as RULE_SETTINGS

    given.check()
    name, low, high, count, log = given.name, given.low, given.high, given.count, given.log
    states = [s.name for s in game.state_symbols]
    params = [p.name for p in game.params]
    settings = [s for s in RULE_SETTINGS.get(optimizer, ()) if s != "first"]
    kind: AxisKind
    if name in LR_AXES:
        kind, target = "lr", name
        if not (low > 0 and high > 0):
            raise SpecError(f"`axis` {name}: learning rates must be positive "
                            f"({low:g} to {high:g})")
    elif name in states:
        kind, target = "state", name
    elif name in params:
        kind, target = "param", name
    elif name in settings:
        kind, target = "setting", name
    else:
        # ``gamma`` for ``gamma_r1``: a regularizer's setting by its short name, when unique.
        matches = [p for p in params if p.startswith(name + "_")]
        if len(matches) > 1:
            raise SpecError(f"`axis` {name}: ambiguous, it could be {' or '.join(matches)}")
        if not matches:
            if name == "first":
                raise SpecError("`axis` first: which player moves first is a choice, not a "
                                "number; run one sweep with `first` d and one with `first` g")
            other = sorted({s for rule, names in RULE_SETTINGS.items() if rule != optimizer
                            for s in names})
            if name in other:
                raise SpecError(f"`axis` {name}: optimizer {optimizer!r} does not take "
                                f"{name!r}")
            known = [*LR_AXES, *states, *params, *settings]
            raise UnknownNameError("`axis` name", name, known)
        kind, target = "param", matches[0]
    if kind == "setting" and target in ("d_steps", "g_steps"):
        values = Axis(name, kind, target, low, high, count, log).values
        if np.any(values < 1) or np.any(values != np.round(values)):
            raise SpecError(f"`axis` {name}: {target} takes whole numbers >= 1")
    return Axis(name, kind, target, float(low), float(high), int(count), log)
