"""Rules that look ahead: optimistic gradient descent and extragradient.

References
----------
.. [1] Daskalakis et al. (2018). Training GANs with Optimism. ICLR (OGDA).
.. [2] Korpelevich (1976). The extragradient method for finding saddle points
   and other problems. Matecon 12; Gidel et al. (2019). A Variational
   Inequality Perspective on Generative Adversarial Networks. ICLR.
"""

from __future__ import annotations

import numpy as np

from gandyn.arrays import Array
from gandyn.rules.base import FieldFunctions, StepResult, UpdateRule, identity_batch

__all__ = ["Extragradient", "OptimisticGD"]


class OptimisticGD(UpdateRule):
    """Optimistic gradient descent: ``x' = x + 2 h F(x) - h F(x_prev)``.

    The first step uses ``x_prev = x0`` (a plain gradient step). Extended
    state ``(x, x_prev)``.
    """

    name = "ogda"
    title = "optimistic gradient descent-ascent"
    reference = "Daskalakis et al. (2018), Training GANs with Optimism, ICLR, eq. (3)"
    buffer_names = ("previous",)

    def init_buffers(self, x0: Array) -> dict[str, Array]:
        return {"previous": x0.copy()}

    def step(self, field: FieldFunctions, x: Array, buffers: dict[str, Array],
             k: int) -> StepResult:
        h = self.rates(field, x)
        x_new = x + h * (2 * field.field(x) - field.field(buffers["previous"]))
        return StepResult(x_new, {"previous": x}, x, x)

    def map_jacobian(self, field: FieldFunctions, x: Array, buffers: dict[str, Array],
                     k: int) -> Array:
        b, n = x.shape
        h = self.rates(field, x)[..., None]
        eye = identity_batch(b, n)
        top = np.concatenate(
            [eye + 2 * h * field.jacobian(x), -h * field.jacobian(buffers["previous"])],
            axis=-1,
        )
        bottom = np.concatenate([eye, np.zeros_like(eye)], axis=-1)
        return np.concatenate([top, bottom], axis=-2)


class Extragradient(UpdateRule):
    """Extragradient: ``y = x + h F(x)``, ``x' = x + h F(y)``.

    Both players' update gradients are taken at the extrapolated point ``y``,
    so that is the state a loop's logged losses describe (``measure='loop'``).
    """

    name = "extragradient"
    title = "extragradient"
    reference = (
        "Korpelevich (1976), The extragradient method; Gidel et al. (2019), A Variational "
        "Inequality Perspective on GANs, ICLR, Sec. 3.2"
    )

    def step(self, field: FieldFunctions, x: Array, buffers: dict[str, Array],
             k: int) -> StepResult:
        h = self.rates(field, x)
        y = x + h * field.field(x)
        return StepResult(x + h * field.field(y), {}, y, y)

    def map_jacobian(self, field: FieldFunctions, x: Array, buffers: dict[str, Array],
                     k: int) -> Array:
        n = x.shape[-1]
        h = self.rates(field, x)[..., None]
        y = x + h[..., 0] * field.field(x)
        eye = identity_batch(x.shape[0], n)
        return eye + h * (field.jacobian(y) @ (eye + h * field.jacobian(x)))
