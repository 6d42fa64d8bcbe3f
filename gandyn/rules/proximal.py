"""The proximal point method: the implicit step ``x' = x + H F(x')``.

Each player moves along the field evaluated at the point it moves *to*: the
backward Euler step of the gradient flow. On a bilinear game, where gradient
descent spirals out, it contracts every step by ``1 / sqrt(1 + h^2 s^2)``
for each singular value ``s`` of the coupling (Rockafellar 1976; Mokhtari,
Ozdaglar and Pattathil 2020, Sec. 3, who read extragradient and optimistic
steps as approximations of it). The implicit equation is solved by Newton's
method with the exact Jacobian, started from the explicit step.

References
----------
.. [1] Rockafellar (1976). Monotone operators and the proximal point
   algorithm. SIAM J. Control Optim. 14(5).
.. [2] Mokhtari, Ozdaglar and Pattathil (2020). A unified analysis of
   extra-gradient and optimistic gradient methods for saddle point problems:
   proximal point approach. AISTATS.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from gandyn.arrays import Array
from gandyn.rules.base import FieldFunctions, StepResult, UpdateRule, identity_batch

__all__ = ["ProximalPoint"]

#: Newton's iterations for the implicit equation, and when a run's iterate has converged:
#: its change below ``_NEWTON_TOL * max(1, |x'|)`` in every coordinate.
_NEWTON_STEPS = 50
_NEWTON_TOL = 1e-13


class ProximalPoint(UpdateRule):
    """The proximal point (implicit) step ``x' = x + H F(x')``; ``dx'/dx = (I - H J(x'))^-1``.

    Newton's method runs per run until its iterate settles (at most 50
    iterations); a step that does not converge is left at the last iterate,
    and a run whose iterate is not finite is reported diverged.
    """

    name: ClassVar[str] = "proximal"
    title: ClassVar[str] = "proximal point (implicit) step"
    reference: ClassVar[str] = (
        "Rockafellar (1976), Monotone operators and the proximal point algorithm, SIAM J. "
        "Control Optim.; Mokhtari, Ozdaglar and Pattathil (2020), AISTATS, Sec. 3"
    )
    def _solve(self, field: FieldFunctions, x: Array) -> Array:
        """``y`` with ``y = x + H F(y)``, by Newton's method from the explicit step."""
        h = self.rates(field, x)
        eye = identity_batch(x.shape[0], x.shape[-1])
        y = x + h * field.field(x)
        active = np.ones(x.shape[0], dtype=bool)
        with np.errstate(all="ignore"):
            for _ in range(_NEWTON_STEPS):
                residual = y - x - h * field.field(y)
                system = eye - h[..., :, None] * field.jacobian(y)
                change = np.linalg.solve(system, residual[..., None])[..., 0]
                # Each run stops on its own, so a run's result does not depend on the
                # batch it is stepped in.
                y = np.where(active[:, None], y - change, y)
                settled = np.all(np.abs(change) <= _NEWTON_TOL * np.maximum(1.0, np.abs(y)),
                                 axis=-1)
                active &= ~settled
                if not active.any():
                    break
        return np.asarray(y)

    def step(self, field: FieldFunctions, x: Array, buffers: dict[str, Array],
             k: int) -> StepResult:
        y = self._solve(field, x)
        # Both players' gradients are taken at the point they move to.
        return StepResult(y, {}, y, y)

    def map_jacobian(self, field: FieldFunctions, x: Array, buffers: dict[str, Array],
                     k: int) -> Array:
        # Implicit differentiation of y - x - H F(y) = 0: (I - H J(y)) dy/dx = I.
        y = self._solve(field, x)
        h = self.rates(field, x)
        system = identity_batch(x.shape[0], x.shape[-1]) - h[..., :, None] * field.jacobian(y)
        result: Array = np.asarray(np.linalg.inv(system), dtype=np.float64)
        return result
