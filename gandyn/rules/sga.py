"""Symplectic gradient adjustment, with a fixed ``lambda`` or with its sign alignment.

SGA follows ``xi + lambda A^T xi``, with ``xi`` the simultaneous gradient and
``A`` the antisymmetric part of the game Hessian ``H = d xi / dx`` (Balduzzi et
al. 2018, Algorithm 1). With the sign alignment (``align = 1``) the sign of
``lambda`` is chosen at every step so that
``lambda <xi, grad H> <A^T xi, grad H> >= 0``, ``grad H = H^T xi`` the gradient
of the Hamiltonian ``|xi|^2 / 2``: the adjustment then leans toward descending
``|xi|^2`` where ``xi`` itself does (near stable fixed points) and away where it
ascends (near unstable ones) (Balduzzi et al. 2018, Algorithm 1, its ``align``
branch; Letcher et al. 2019, Algorithm 1)::

    lambda = |lam| sign(<xi, H^T xi> <A^T xi, H^T xi> / d + eps)

with ``d`` the number of parameters and a small ``eps >= 0`` (default 0.1, the
default of a public TensorFlow implementation of Algorithm 1) that makes
``lambda`` positive where the product vanishes: at every fixed point, so the
linearization there is that of fixed-``lambda`` SGA with ``lam = |lam|``. The
sign is piecewise constant in ``x``, so the map's Jacobian is fixed-``lambda``
SGA's with the chosen ``lambda`` (away from the surface where the sign switches,
where the map is not differentiable).

References
----------
.. [1] Balduzzi et al. (2018). The Mechanics of n-Player Differentiable Games.
   ICML, Algorithm 1.
.. [2] Letcher et al. (2019). Differentiable Game Mechanics. JMLR 20(84),
   Algorithm 1 (SGA, with the alignment of its sign).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gandyn.arrays import Array
from gandyn.rules.base import FieldFunctions, Setting, StepResult, UpdateRule, identity_batch

__all__ = ["SymplecticGradientAdjustment"]


class SymplecticGradientAdjustment(UpdateRule):
    """Symplectic gradient adjustment: ``x' = x - h (xi + lambda A^T xi)``.

    ``xi = -F`` and ``A`` is the antisymmetric part of ``d xi / dx``;
    ``lambda = lam``, or with ``align = 1`` the aligned sign times ``|lam|``
    (module docstring). Its map's Jacobian needs third derivatives of the
    costs: the game's ``jacobian_derivative`` (from
    :attr:`gandyn.derivation.field.VectorField.jacobian_derivative_fn`).
    """

    name = "sga"
    title = "symplectic gradient adjustment"
    reference = (
        "Balduzzi et al. (2018), The Mechanics of n-Player Differentiable Games, ICML, "
        "Algorithm 1 (fixed lambda, or its sign aligned)"
    )
    settings = (
        Setting("lam", 1.0, "weight of the adjustment A^T xi, finite (aligned: its magnitude)"),
        Setting("align", 0, "1: align the sign of lambda (Balduzzi et al. 2018), 0: fixed lam",
                int),
        Setting("align_eps", 0.1, "epsilon of the sign alignment, >= 0"),
    )
    lam: float
    align: int
    align_eps: float

    def check_settings(self, **settings: Any) -> None:
        if not np.isfinite(settings["lam"]):
            raise ValueError("lam must be finite")
        if settings["align"] not in (0, 1):
            raise ValueError(f"align must be 0 or 1, not {settings['align']!r}")
        if not (np.isfinite(settings["align_eps"]) and settings["align_eps"] >= 0):
            raise ValueError(f"align_eps must be finite and >= 0, not {settings['align_eps']!r}")

    def weight(self, field: FieldFunctions, x: Array) -> Array:
        """``lambda`` per run, ``(B,)``: ``lam``, or ``|lam|`` times the aligned sign."""
        if not self.align:
            return np.full(x.shape[0], self.lam)
        xi = -field.field(x)
        jac_xi = -field.jacobian(x)  # H, [b, i, j] = d xi_i / d x_j
        antisym = 0.5 * (jac_xi - np.swapaxes(jac_xi, -1, -2))
        hamiltonian_gradient = np.einsum("bji,bj->bi", jac_xi, xi)  # H^T xi
        adjustment = np.einsum("bji,bj->bi", antisym, xi)  # A^T xi
        alignment = (np.einsum("bi,bi->b", xi, hamiltonian_gradient)
                     * np.einsum("bi,bi->b", adjustment, hamiltonian_gradient) / x.shape[-1])
        weight: Array = abs(self.lam) * np.sign(alignment + self.align_eps)
        return weight

    def adjusted_field(self, field: FieldFunctions, x: Array) -> Array:
        """``-(xi + lambda A^T xi)``, the direction SGA follows."""
        xi = -field.field(x)
        jac_xi = -field.jacobian(x)
        antisym = 0.5 * (jac_xi - np.swapaxes(jac_xi, -1, -2))
        weight = self.weight(field, x)[:, None]
        adjusted: Array = xi + weight * np.einsum("bji,bj->bi", antisym, xi)
        return -adjusted

    def step(self, field: FieldFunctions, x: Array, buffers: dict[str, Array],
             k: int) -> StepResult:
        h = self.rates(field, x)
        return StepResult(x + h * self.adjusted_field(field, x), {}, x, x)

    def adjusted_field_jacobian(self, field: FieldFunctions, x: Array) -> Array:
        """``d/dx`` of :meth:`adjusted_field`: ``-(J_xi + lambda (dA^T/dx xi + A^T J_xi))``.

        With the sign alignment ``lambda`` is constant near ``x`` (off the surface
        where its sign switches), so this is the map's derivative there too.
        """
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
        d_adj = jac_xi + self.weight(field, x)[:, None, None] * (
            np.einsum("bjik,bj->bik", d_antisym, xi) + np.einsum("bji,bjk->bik", antisym, jac_xi)
        )
        result: Array = -d_adj
        return result

    def map_jacobian(self, field: FieldFunctions, x: Array, buffers: dict[str, Array],
                     k: int) -> Array:
        n = x.shape[-1]
        return (identity_batch(x.shape[0], n)
                + self.rates(field, x)[..., None] * self.adjusted_field_jacobian(field, x))
