"""Gradient descent on the game, simultaneous and alternating.

References
----------
.. [1] Mescheder, Nowozin and Geiger (2017). The Numerics of GANs. NeurIPS
   (simultaneous and alternating gradient descent as discrete maps).
.. [2] Gidel et al. (2019). Negative Momentum for Improved Game Dynamics.
   AISTATS (alternating steps).
.. [3] Goodfellow et al. (2014). Generative Adversarial Nets. NeurIPS,
   Algorithm 1 (k discriminator steps per generator step).
"""

from __future__ import annotations

from typing import Any

from gandyn.arrays import Array
from gandyn.rules.base import (
    FieldFunctions,
    Setting,
    StepResult,
    UpdateRule,
    add_scaled_rows,
    field_rows,
    identity_batch,
)

__all__ = ["AlternatingGD", "SimultaneousGD", "check_first"]


def check_first(first: Any) -> None:
    """Refuse a first mover other than ``"d"`` or ``"g"``."""
    if first not in ("d", "g"):
        raise ValueError("first must be 'd' or 'g'")


class SimultaneousGD(UpdateRule):
    """Simultaneous gradient descent: ``x' = x + h F(x)``; ``dx'/dx = I + H dF/dx``."""

    name = "simgd"
    title = "simultaneous gradient descent"
    reference = "Mescheder, Nowozin and Geiger (2017), The Numerics of GANs, NeurIPS, Sec. 2"

    def step(self, field: FieldFunctions, x: Array, buffers: dict[str, Array],
             k: int) -> StepResult:
        h = self.rates(field, x)
        return StepResult(x + h * field.field(x), {}, x, x)

    def advance(self, field: FieldFunctions, x: Array, buffers: dict[str, Array], k: int,
                out: Array, out_buffers: dict[str, Array]) -> StepResult:
        add_scaled_rows(x, self.rate_rows(field.n_theta, x.shape[0]), field_rows(field.field, x),
                        out)
        return StepResult(out.T, {}, x.T, x.T)

    def map_jacobian(self, field: FieldFunctions, x: Array, buffers: dict[str, Array],
                     k: int) -> Array:
        n = x.shape[-1]
        return identity_batch(x.shape[0], n) + self.rates(field, x)[..., None] * field.jacobian(x)


class AlternatingGD(UpdateRule):
    """Alternating gradient descent: one player's steps, then the other's on the new state.

    Settings: ``first`` (``"d"``, the discriminator moves first as in most
    training loops, or ``"g"``), ``d_steps`` and ``g_steps`` (consecutive steps
    of each player per iteration).
    """

    name = "altgd"
    title = "alternating gradient descent"
    alternating = True
    reference = (
        "Gidel et al. (2019), Negative Momentum for Improved Game Dynamics, AISTATS, Sec. 3; "
        "Goodfellow et al. (2014), Algorithm 1 (k discriminator steps)"
    )
    settings = (
        Setting("first", "d", "the player that moves first: d or g", str),
        Setting("d_steps", 1, "consecutive discriminator steps per iteration", int),
        Setting("g_steps", 1, "consecutive generator steps per iteration", int),
    )
    first: str
    d_steps: int
    g_steps: int

    def check_settings(self, **settings: Any) -> None:
        check_first(settings["first"])
        if settings["d_steps"] < 1 or settings["g_steps"] < 1:
            raise ValueError("d_steps and g_steps must be at least 1")

    def _schedule(self) -> list[str]:
        d, g = ["d"] * self.d_steps, ["g"] * self.g_steps
        return d + g if self.first == "d" else g + d

    def step(self, field: FieldFunctions, x: Array, buffers: dict[str, Array],
             k: int) -> StepResult:
        n = x.shape[-1]
        h = self.rates(field, x)
        seen: dict[str, Array] = {}
        for player in self._schedule():
            seen.setdefault(player, x)
            x = x + field.mask(n, player) * h * field.field(x)
        return StepResult(x, {}, seen["d"], seen["g"])

    def map_jacobian(self, field: FieldFunctions, x: Array, buffers: dict[str, Array],
                     k: int) -> Array:
        n = x.shape[-1]
        h = self.rates(field, x)
        total = identity_batch(x.shape[0], n)
        for player in self._schedule():
            partial = identity_batch(x.shape[0], n) + (field.mask(n, player) * h)[..., None] * (
                field.jacobian(x)
            )
            total = partial @ total
            x = x + field.mask(n, player) * h * field.field(x)
        return total
