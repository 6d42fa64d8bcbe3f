"""Unrolled GAN: the generator steps on its cost after ``k`` look-ahead discriminator steps.

The discriminator's look-ahead ``psi_0 = psi``, ``psi_{i+1} = psi_i - eta
d cost_d(theta, psi_i) / d psi`` (Metz et al. 2017, Sec. 2.2) makes ``psi_k`` a
function of ``(theta, psi)``. The generator follows the total derivative of its
cost at the unrolled point, back-propagated through the ``k`` steps::

    g = d/dtheta cost_g(theta, psi_k(theta, psi))
      = grad_theta cost_g(theta, psi_k) + (d psi_k / d theta)^T grad_psi cost_g(theta, psi_k)

(Metz et al. 2017, Sec. 2.3, the gradient through the unrolling), while the
discriminator takes its ordinary step at ``(theta, psi)``; the look-ahead steps
are discarded. ``k = 0`` is simultaneous gradient descent. For a non-zero-sum
game (the non-saturating loss) the generator's own cost is unrolled through the
discriminator's own steps; for minimax it is Metz et al.'s surrogate ``f_K``.

The sensitivity ``S_i = d psi_i / dx`` follows the chain
``S_{i+1} = S_i + eta M_i T_i`` with ``M_i`` the discriminator's rows of
``dF/dx`` at ``y_i = (theta, psi_i)`` and ``T_i = d y_i / dx = [[I, 0], [S_i]]``.
The map's Jacobian differentiates this chain once more: it needs the third
derivatives of the discriminator's cost (the game's ``jacobian_derivative``) and
``d^2 cost_g / d psi dx`` (the game's ``cross_jacobian``).

References
----------
.. [1] Metz, Poole, Pfau and Sohl-Dickstein (2017). Unrolled Generative
   Adversarial Networks. ICLR, Sec. 2.2 (the unrolled surrogate objective and
   its parameter updates) and Sec. 2.3 (its gradient through the unrolling).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gandyn.arrays import Array
from gandyn.rules.base import FieldFunctions, Setting, StepResult, UpdateRule, identity_batch

__all__ = ["UnrolledGAN"]


def _optional_rate(value: Any) -> float | None:
    """``None`` (the discriminator's rate), or the look-ahead rate as a float."""
    return None if value is None else float(value)


class UnrolledGAN(UpdateRule):
    """Unrolled GAN: the generator's gradient through ``unroll`` discriminator look-ahead steps.

    Settings: ``unroll`` (the number ``k`` of look-ahead steps, 0 to 100) and
    ``unroll_lr`` (their step size ``eta``; default the discriminator's rate
    ``lr_d``, as Metz et al. unroll the discriminator's own optimizer).
    """

    name = "unrolled"
    title = "unrolled GAN"
    reference = ("Metz, Poole, Pfau and Sohl-Dickstein (2017), Unrolled Generative Adversarial "
                 "Networks, ICLR, Sec. 2.2-2.3")
    settings = (
        Setting("unroll", 5, "unrolled discriminator look-ahead steps k (0: simgd)", int),
        Setting("unroll_lr", None, "step size of the look-ahead steps (default: lr_d)",
                _optional_rate),
    )
    unroll: int
    unroll_lr: float | None

    def check_settings(self, **settings: Any) -> None:
        unroll = settings["unroll"]
        if isinstance(unroll, bool) or not float(unroll).is_integer() or not 0 <= unroll <= 100:
            raise ValueError(f"unroll must be an integer from 0 to 100, not {unroll!r}")
        rate = settings["unroll_lr"]
        if rate is not None and not (np.isfinite(rate) and rate > 0):
            raise ValueError(f"unroll_lr must be positive and finite, not {rate!r}")

    def _eta(self, field: FieldFunctions, x: Array) -> Array:
        """The look-ahead step size per discriminator coordinate: ``(n_psi,)`` or ``(B, n_psi)``."""
        if self.unroll_lr is not None:
            return np.full(x.shape[-1] - field.n_theta, self.unroll_lr)
        return np.asarray(self.rates(field, x)[..., field.n_theta:])

    def _unroll(self, field: FieldFunctions, x: Array, *,
                second: bool) -> tuple[Array, Array, Array | None]:
        """``y_k = (theta, psi_k)``, ``S_k = d psi_k / dx`` and, if ``second``, ``dS_k/dx``.

        ``dS_k/dx`` has entry ``[b, a, j, l] = d^2 psi_k,a / dx_j dx_l``.
        """
        batch, n = x.shape
        nt = field.n_theta
        eta = self._eta(field, x)
        y = np.array(x, dtype=np.float64)
        sens = np.zeros((batch, n - nt, n))
        sens[:, :, nt:] = np.eye(n - nt)
        second_sens = np.zeros((batch, n - nt, n, n)) if second else None
        derivative = (field.needs("jacobian_derivative", "the unrolled GAN's map Jacobian")
                      if second else None)
        for _ in range(self.unroll):
            jac_d = field.jacobian(y)[:, nt:, :]  # M_i: the discriminator's rows of dF/dx
            tangent = np.concatenate([identity_batch(batch, n)[:, :nt, :], sens], axis=1)  # T_i
            if second_sens is not None and derivative is not None:
                # d(M_i T_i)/dx_l = sum_p dM/dy_p T_pl T + M dT/dx_l, dT/dx_l = [0; dS_i/dx_l].
                d_jac = derivative(y)[:, nt:, :, :]
                second_sens = second_sens + eta[..., :, None, None] * (
                    np.einsum("bamp,bpl,bmj->bajl", d_jac, tangent, tangent)
                    + np.einsum("bam,bmjl->bajl", jac_d[:, :, nt:], second_sens))
            sens = sens + eta[..., :, None] * (jac_d @ tangent)
            y[:, nt:] = y[:, nt:] + eta * field.field(y)[:, nt:]
        return y, sens, second_sens

    def generator_gradient(self, field: FieldFunctions, x: Array) -> Array:
        """``d/dtheta cost_g(theta, psi_k(theta, psi))``: ``(B, n_theta)``."""
        nt = field.n_theta
        y, sens, _ = self._unroll(field, x, second=False)
        own = -field.field(y)[:, :nt]
        if self.unroll == 0:
            return own
        cross = field.needs("cross_gradient", "the unrolled GAN")(y)[:, nt:]  # grad_psi cost_g
        result: Array = own + np.einsum("bat,ba->bt", sens[:, :, :nt], cross)
        return result

    def step(self, field: FieldFunctions, x: Array, buffers: dict[str, Array],
             k: int) -> StepResult:
        nt = field.n_theta
        h = self.rates(field, x)
        direction = np.array(field.field(x))
        direction[:, :nt] = -self.generator_gradient(field, x)
        return StepResult(x + h * direction, {}, x, x)

    def map_jacobian(self, field: FieldFunctions, x: Array, buffers: dict[str, Array],
                     k: int) -> Array:
        batch, n = x.shape
        nt = field.n_theta
        h = self.rates(field, x)
        y, sens, second_sens = self._unroll(field, x, second=self.unroll > 0)
        tangent = np.concatenate([identity_batch(batch, n)[:, :nt, :], sens], axis=1)
        # d/dx grad_theta cost_g(y_k) = -(dF/dx)(y_k)[theta rows] T_k
        d_gradient = -(field.jacobian(y)[:, :nt, :] @ tangent)
        if self.unroll > 0 and second_sens is not None:
            cross = field.needs("cross_gradient", "the unrolled GAN")(y)[:, nt:]
            d_cross = field.needs("cross_jacobian", "the unrolled GAN's map Jacobian")(y)[:, nt:, :]
            # d/dx [P^T c_psi(y_k)], P = S_k[:, :theta]: the change of P, then of c_psi.
            d_gradient = d_gradient + np.einsum("batl,ba->btl", second_sens[:, :, :nt, :], cross)
            d_gradient = d_gradient + np.einsum("bat,bal->btl", sens[:, :, :nt],
                                                d_cross @ tangent)
        # the generator's rows: I - h d_gradient; the discriminator's: its gradient step at x
        d_direction = np.array(field.jacobian(x))
        d_direction[:, :nt, :] = -d_gradient
        return identity_batch(batch, n) + h[..., :, None] * d_direction
