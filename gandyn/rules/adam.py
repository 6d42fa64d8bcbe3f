"""Adam as PyTorch implements it, per coordinate with per-player learning rates.

References
----------
.. [1] Kingma and Ba (2015). Adam: A Method for Stochastic Optimization. ICLR,
   Algorithm 1; PyTorch ``torch.optim.Adam`` (bias-corrected moments, ``eps``
   added outside the square root).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gandyn.arrays import Array
from gandyn.rules.base import (
    FieldFunctions,
    Setting,
    StepResult,
    UpdateRule,
    evaluate_rows,
    identity_batch,
)

__all__ = ["Adam"]


class Adam(UpdateRule):
    """Adam as PyTorch implements it, per coordinate with per-player learning rates.

    With ``g = -F(x)``: ``m' = b1 m + (1 - b1) g``, ``v' = b2 v + (1 - b2) g**2``,
    ``x' = x - h (m'/c1) / (sqrt(v'/c2) + eps)`` with ``c1 = 1 - b1**k``,
    ``c2 = 1 - b2**k``. Extended state ``(x, m, v)``.
    """

    name = "adam"
    title = "Adam"
    reference = (
        "Kingma and Ba (2015), Adam, ICLR, Algorithm 1; as in torch.optim.Adam "
        "(eps outside the square root)"
    )
    settings = (
        Setting("beta1", 0.9, "decay of the first moment, in [0, 1)"),
        Setting("beta2", 0.999, "decay of the second moment, in [0, 1)"),
        Setting("eps", 1e-8, "added to the root of the second moment, positive"),
    )
    buffer_names = ("m", "v")
    beta1: float
    beta2: float
    eps: float

    def check_settings(self, **settings: Any) -> None:
        beta1, beta2 = settings["beta1"], settings["beta2"]
        if not (0.0 <= beta1 < 1.0 and 0.0 <= beta2 < 1.0):
            raise ValueError("Adam's beta1 and beta2 must lie in [0, 1)")
        if not settings["eps"] > 0:
            raise ValueError("Adam's eps must be positive")

    def init_buffers(self, x0: Array) -> dict[str, Array]:
        return {"m": np.zeros_like(x0), "v": np.zeros_like(x0)}

    def step(self, field: FieldFunctions, x: Array, buffers: dict[str, Array],
             k: int) -> StepResult:
        g = -field.field(x)
        m = self.beta1 * buffers["m"] + (1 - self.beta1) * g
        v = self.beta2 * buffers["v"] + (1 - self.beta2) * g * g
        c1, c2 = 1 - self.beta1**k, 1 - self.beta2**k
        x_new = x - self.rates(field, x) * (m / c1) / (np.sqrt(v / c2) + self.eps)
        return StepResult(x_new, {"m": m, "v": v}, x, x)

    def advance(self, field: FieldFunctions, x: Array, buffers: dict[str, Array], k: int,
                out: Array, out_buffers: dict[str, Array]) -> StepResult:
        # The operations of step() in its order, so the roundings are the same: with
        # f = F(x) and g = -f, (1 - b1) g = -((1 - b1) f) and (1 - b2) g g = (1 - b2) f f.
        work, root = self.scratch(x, 2)
        m, v = out_buffers["m"], out_buffers["v"]
        f = out
        evaluate_rows(field.field, x, f)
        np.multiply(f, 1 - self.beta1, out=work)
        np.multiply(buffers["m"], self.beta1, out=m)
        m -= work
        np.multiply(f, 1 - self.beta2, out=work)
        work *= f
        np.multiply(buffers["v"], self.beta2, out=v)
        v += work
        c1, c2 = 1 - self.beta1**k, 1 - self.beta2**k
        np.divide(v, c2, out=root)
        np.sqrt(root, out=root)
        root += self.eps
        np.divide(m, c1, out=work)
        work *= self.rate_rows(field.n_theta, x.shape[0])
        work /= root
        np.subtract(x, work, out=out)
        return StepResult(out.T, {"m": m.T, "v": v.T}, x.T, x.T)

    def map_jacobian(self, field: FieldFunctions, x: Array, buffers: dict[str, Array],
                     k: int) -> Array:
        b, n = x.shape
        g = -field.field(x)
        dg = -field.jacobian(x)  # dg/dx
        m = self.beta1 * buffers["m"] + (1 - self.beta1) * g
        v = self.beta2 * buffers["v"] + (1 - self.beta2) * g * g
        c1, c2 = 1 - self.beta1**k, 1 - self.beta2**k
        h = self.rates(field, x)
        root = np.sqrt(v / c2)
        denom = root + self.eps
        # x' = x - h * (m/c1) / denom; partial derivatives of x' in m' and v' (diagonal).
        dx_dm = -h / (c1 * denom)
        with np.errstate(divide="ignore", invalid="ignore"):
            dx_dv = np.where(root > 0, h * (m / c1) / denom**2 / (2 * c2 * root), 0.0)
        eye = identity_batch(b, n)
        dm_dx = (1 - self.beta1) * dg
        dv_dx = (1 - self.beta2) * 2 * g[:, :, None] * dg
        dx_dx = eye + dx_dm[:, :, None] * dm_dx + dx_dv[:, :, None] * dv_dx
        dx_dmold = dx_dm[:, :, None] * self.beta1 * eye
        dx_dvold = dx_dv[:, :, None] * self.beta2 * eye
        top = np.concatenate([dx_dx, dx_dmold, dx_dvold], axis=-1)
        mid = np.concatenate([dm_dx, self.beta1 * eye, np.zeros_like(eye)], axis=-1)
        bottom = np.concatenate([dv_dx, np.zeros_like(eye), self.beta2 * eye], axis=-1)
        return np.concatenate([top, mid, bottom], axis=-2)
