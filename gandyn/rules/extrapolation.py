"""Rules that look ahead: optimistic gradient descent, extragradient, optimistic mirror descent.

Three relatives, all with the Euclidean geometry of an unconstrained parameter space:

* ``extragradient`` extrapolates with a fresh gradient, ``y = x + h F(x)``, and
  steps from ``x`` with the gradient there, ``x' = x + h F(y)``: two field
  evaluations per step. This is also the optimistic mirror descent (OMD) of
  Mertikopoulos et al. (2019), whose extrapolation ``X_{n+1/2}`` takes a fresh
  gradient at ``X_n``: with the Euclidean mirror map and no constraint its prox
  steps are plain gradient steps, so their OMD *is* ``extragradient`` (tested).
* ``omd`` is optimistic mirror descent in its single-call form: the
  extrapolation reuses the gradient of the previous extrapolated point,
  ``y_n = x_n + h F(y_{n-1})``, ``x_{n+1} = x_n + h F(y_n)``: one new field
  evaluation per step (Rakhlin and Sridharan 2013, with the last gradient as the
  predictable sequence; Gidel et al. 2019, "extrapolation from the past").
* ``ogda`` is ``x' = x + 2 h F(x) - h F(x_prev)``. Substituting ``x_n = y_n +
  h F(y_{n-1})`` shows that ``omd``'s extrapolated points ``y_n`` follow exactly
  ``ogda``'s recursion (Gidel et al. 2019): the two share their linearization's
  spectrum, but ``omd`` records ``x_n`` (and logs its losses at ``y_n``), ``ogda``
  the ``y_n`` sequence itself.

References
----------
.. [1] Daskalakis et al. (2018). Training GANs with Optimism. ICLR (OGDA).
.. [2] Korpelevich (1976). The extragradient method for finding saddle points
   and other problems. Matecon 12; Gidel et al. (2019). A Variational
   Inequality Perspective on Generative Adversarial Networks. ICLR, Sec. 3
   (extrapolation, and extrapolation from the past).
.. [3] Mertikopoulos et al. (2019). Optimistic Mirror Descent in Saddle-Point
   Problems: Going the Extra (Gradient) Mile. ICLR (OMD with a fresh
   extrapolation gradient).
.. [4] Rakhlin and Sridharan (2013). Optimization, Learning, and Games with
   Predictable Sequences. NeurIPS (optimistic mirror descent; Mirror-Prox and
   the one-gradient variant as choices of the predictable sequence).
"""

from __future__ import annotations

import numpy as np

from gandyn.arrays import Array
from gandyn.rules.base import (
    FieldFunctions,
    StepResult,
    UpdateRule,
    add_scaled_rows,
    evaluate_rows,
    field_rows,
    identity_batch,
)

__all__ = ["Extragradient", "OptimisticGD", "OptimisticMirrorDescent"]


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

    def advance(self, field: FieldFunctions, x: Array, buffers: dict[str, Array], k: int,
                out: Array, out_buffers: dict[str, Array]) -> StepResult:
        (before,) = self.scratch(x, 1)
        evaluate_rows(field.field, x, out)
        evaluate_rows(field.field, buffers["previous"], before)
        out *= 2
        out -= before
        out *= self.rate_rows(field.n_theta, x.shape[0])
        out += x  # x + h (2 F(x) - F(previous)), the roundings of step()
        np.copyto(out_buffers["previous"], x)
        return StepResult(out.T, {"previous": out_buffers["previous"].T}, x.T, x.T)

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

    def advance(self, field: FieldFunctions, x: Array, buffers: dict[str, Array], k: int,
                out: Array, out_buffers: dict[str, Array]) -> StepResult:
        (y,) = self.scratch(x, 1)
        h = self.rate_rows(field.n_theta, x.shape[0])
        add_scaled_rows(x, h, field_rows(field.field, x), y)  # y = x + h F(x)
        add_scaled_rows(x, h, field_rows(field.field, y), out)  # x + h F(y)
        return StepResult(out.T, {}, y.T, y.T)

    def map_jacobian(self, field: FieldFunctions, x: Array, buffers: dict[str, Array],
                     k: int) -> Array:
        n = x.shape[-1]
        h = self.rates(field, x)[..., None]
        y = x + h[..., 0] * field.field(x)
        eye = identity_batch(x.shape[0], n)
        return eye + h * (field.jacobian(y) @ (eye + h * field.jacobian(x)))


class OptimisticMirrorDescent(UpdateRule):
    """Single-call optimistic mirror descent: ``y = x + h F(y_prev)``, ``x' = x + h F(y)``.

    The extrapolation reuses the field at the previous extrapolated point
    (module docstring); the first step uses ``y_prev = x0``, so it is an
    extragradient step. Extended state ``(x, y_prev)``. Both players' update
    gradients are taken at ``y``, the state a loop's logged losses describe.
    """

    name = "omd"
    title = "optimistic mirror descent (single call, Euclidean)"
    reference = (
        "Rakhlin and Sridharan (2013), Optimization, Learning, and Games with Predictable "
        "Sequences, NeurIPS; Gidel et al. (2019), ICLR, Sec. 3 (extrapolation from the past); "
        "Mertikopoulos et al. (2019), ICLR (OMD; its fresh-gradient form is extragradient)"
    )
    buffer_names = ("extrapolated",)

    def init_buffers(self, x0: Array) -> dict[str, Array]:
        return {"extrapolated": x0.copy()}

    def step(self, field: FieldFunctions, x: Array, buffers: dict[str, Array],
             k: int) -> StepResult:
        h = self.rates(field, x)
        y = x + h * field.field(buffers["extrapolated"])
        return StepResult(x + h * field.field(y), {"extrapolated": y}, y, y)

    def map_jacobian(self, field: FieldFunctions, x: Array, buffers: dict[str, Array],
                     k: int) -> Array:
        # y = x + H F(y_prev): dy/dx = I, dy/dy_prev = H J(y_prev); x' = x + H F(y).
        b, n = x.shape
        h = self.rates(field, x)
        previous = buffers["extrapolated"]
        y = x + h * field.field(previous)
        eye = identity_batch(b, n)
        dy_dprev = h[..., :, None] * field.jacobian(previous)
        jac_y = h[..., :, None] * field.jacobian(y)
        top = np.concatenate([eye + jac_y, jac_y @ dy_dprev], axis=-1)
        bottom = np.concatenate([eye, dy_dprev], axis=-1)
        return np.concatenate([top, bottom], axis=-2)
