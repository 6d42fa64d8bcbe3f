"""Symplectic gradient adjustment (fixed ``lambda``, no sign alignment).

References
----------
.. [1] Balduzzi et al. (2018). The Mechanics of n-Player Differentiable Games.
   ICML, Algorithm 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gandyn.arrays import Array
from gandyn.rules.base import FieldFunctions, Setting, StepResult, UpdateRule, identity_batch

__all__ = ["SymplecticGradientAdjustment"]


class SymplecticGradientAdjustment(UpdateRule):
    """Symplectic gradient adjustment: ``x' = x - h (xi + lam A^T xi)``.

    ``xi = -F`` and ``A`` is the antisymmetric part of ``d xi / dx``. Its map's
    Jacobian needs third derivatives of the costs: the game's
    ``jacobian_derivative`` (from
    :attr:`gandyn.derivation.field.VectorField.jacobian_derivative_fn`).
    """

    name = "sga"
    title = "symplectic gradient adjustment"
    reference = (
        "Balduzzi et al. (2018), The Mechanics of n-Player Differentiable Games, ICML, "
        "Algorithm 1 (fixed lambda, no sign alignment)"
    )
    settings = (Setting("lam", 1.0, "weight of the adjustment A^T xi, finite"),)
    lam: float

    def check_settings(self, **settings: Any) -> None:
        if not np.isfinite(settings["lam"]):
            raise ValueError("lam must be finite")

    def adjusted_field(self, field: FieldFunctions, x: Array) -> Array:
        """``-(xi + lam A^T xi)``, the direction SGA follows."""
        xi = -field.field(x)
        jac_xi = -field.jacobian(x)
        antisym = 0.5 * (jac_xi - np.swapaxes(jac_xi, -1, -2))
        adjusted: Array = xi + self.lam * np.einsum("bji,bj->bi", antisym, xi)
        return -adjusted

    def step(self, field: FieldFunctions, x: Array, buffers: dict[str, Array],
             k: int) -> StepResult:
        h = self.rates(field, x)
        return StepResult(x + h * self.adjusted_field(field, x), {}, x, x)

    def adjusted_field_jacobian(self, field: FieldFunctions, x: Array) -> Array:
        """``d/dx`` of :meth:`adjusted_field`: ``-(J_xi + lam (dA^T/dx xi + A^T J_xi))``."""
        if field.jacobian_derivative is None:
            raise ValueError("SGA's map Jacobian needs the adjusted field's Jacobian "
                             "(third derivatives of the costs)")
        xi = -field.field(x)
        jac_xi = -field.jacobian(x)  # [b, i, j] = d xi_i / d x_j
        d_jac_xi = -field.jacobian_derivative(x)  # [b, i, j, k] = d^2 xi_i / dx_j dx_k
        antisym = 0.5 * (jac_xi - np.swapaxes(jac_xi, -1, -2))
        d_antisym = 0.5 * (d_jac_xi - np.swapaxes(d_jac_xi, 1, 2))
        # adj_i = xi_i + lam sum_j A_ji xi_j, so
        # d adj_i / dx_k = J_ik + lam sum_j (dA_ji/dx_k xi_j + A_ji J_jk).
        d_adj = jac_xi + self.lam * (
            np.einsum("bjik,bj->bik", d_antisym, xi) + np.einsum("bji,bjk->bik", antisym, jac_xi)
        )
        result: Array = -d_adj
        return result

    def map_jacobian(self, field: FieldFunctions, x: Array, buffers: dict[str, Array],
                     k: int) -> Array:
        n = x.shape[-1]
        return (identity_batch(x.shape[0], n)
                + self.rates(field, x)[..., None] * self.adjusted_field_jacobian(field, x))
