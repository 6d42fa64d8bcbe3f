"""Heavy-ball momentum, simultaneous and alternating (as PyTorch's SGD implements it).

References
----------
.. [1] Polyak (1964). Some methods of speeding up the convergence of iteration
   methods. USSR Computational Mathematics and Mathematical Physics 4(5).
.. [2] Gidel et al. (2019). Negative Momentum for Improved Game Dynamics.
   AISTATS (heavy ball with beta < 0; alternating steps).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from gandyn.arrays import Array
from gandyn.errors import GandynWarning
from gandyn.rules.base import (
    FieldFunctions,
    Setting,
    StepResult,
    UpdateRule,
    evaluate_rows,
    identity_batch,
)
from gandyn.rules.gradient import check_first

__all__ = ["AlternatingMomentum", "Momentum"]


def _check_beta(beta: Any) -> None:
    """Refuse a non-finite beta; warn outside (-1, 1), where no fixed point can be stable.

    The heavy ball's map on ``(x, v)`` has determinant ``beta**n`` for ``n``
    parameters (simultaneous: ``det [[I + hJ, beta h I], [J, beta I]] =
    beta**n det(I + hJ - hJ)``; each alternating half step likewise), so for
    ``|beta| >= 1`` the product of its eigenvalues has modulus at least 1 and
    some eigenvalue lies on or outside the unit circle. Such runs are allowed,
    to be seen diverge or cycle.
    """
    if not math.isfinite(beta):
        raise ValueError(f"momentum beta must be finite, not {beta}")
    if not -1.0 < beta < 1.0:
        warnings.warn(GandynWarning(
            "momentum beta outside (-1, 1): the map's determinant is beta**n, so no fixed "
            "point is asymptotically stable (runs may diverge or cycle)"), stacklevel=2)


class Momentum(UpdateRule):
    """Heavy ball as PyTorch's SGD implements it: ``v' = beta v + F(x)``, ``x' = x + h v'``.

    ``v`` is minus PyTorch's momentum buffer; ``beta`` may be negative
    (Gidel et al. 2019). Extended state ``(x, v)``.
    """

    name = "momentum"
    title = "heavy-ball momentum"
    reference = (
        "Polyak (1964); Gidel et al. (2019), Negative Momentum for Improved Game Dynamics, "
        "AISTATS, eq. (5)"
    )
    settings = (Setting("beta", 0.9, "momentum coefficient, usually in (-1, 1) (outside: a "
                                     "warning); negative allowed"),)
    buffer_names = ("velocity",)
    beta: float

    def check_settings(self, **settings: Any) -> None:
        _check_beta(settings["beta"])

    def init_buffers(self, x0: Array) -> dict[str, Array]:
        return {"velocity": np.zeros_like(x0)}

    def step(self, field: FieldFunctions, x: Array, buffers: dict[str, Array],
             k: int) -> StepResult:
        v = self.beta * buffers["velocity"] + field.field(x)
        return StepResult(x + self.rates(field, x) * v, {"velocity": v}, x, x)

    def advance(self, field: FieldFunctions, x: Array, buffers: dict[str, Array], k: int,
                out: Array, out_buffers: dict[str, Array]) -> StepResult:
        v = out_buffers["velocity"]
        evaluate_rows(field.field, x, out)
        np.multiply(buffers["velocity"], self.beta, out=v)
        v += out  # v' = beta v + F(x)
        np.multiply(v, self.rate_rows(field.n_theta, x.shape[0]), out=out)
        out += x  # x + h v'
        return StepResult(out.T, {"velocity": v.T}, x.T, x.T)

    def map_jacobian(self, field: FieldFunctions, x: Array, buffers: dict[str, Array],
                     k: int) -> Array:
        b, n = x.shape
        jac = field.jacobian(x)
        h = self.rates(field, x)[..., None]
        eye = identity_batch(b, n)
        top = np.concatenate([eye + h * jac, self.beta * h * eye], axis=-1)
        bottom = np.concatenate([jac, self.beta * eye], axis=-1)
        return np.concatenate([top, bottom], axis=-2)


class AlternatingMomentum(UpdateRule):
    """Heavy ball with alternating updates: each player's momentum step on the latest state.

    Per player ``p`` in turn (``first`` moves first), as a loop that steps one
    PyTorch SGD-with-momentum optimizer and then the other:
    ``v_p' = beta v_p + F_p(x)``, ``x_p' = x_p + h_p v_p'``, where ``x`` already
    holds the other player's new parameters. With ``beta = 0`` it is
    :class:`gandyn.rules.gradient.AlternatingGD`; on the bilinear game negative
    ``beta`` makes it converge where simultaneous momentum of any ``beta`` cannot
    (Gidel et al. 2019). Extended state ``(x, v)``.
    """

    name = "altmomentum"
    title = "alternating heavy-ball momentum"
    alternating = True
    reference = ("Gidel et al. (2019), Negative Momentum for Improved Game Dynamics, AISTATS, "
                 "Sec. 3 (alternating updates, negative momentum)")
    settings = (
        Setting("beta", -0.5, "momentum coefficient, usually in (-1, 1) (outside: a "
                              "warning); negative allowed"),
        Setting("first", "d", "the player that moves first: d or g", str),
    )
    buffer_names = ("velocity",)
    beta: float
    first: str

    def check_settings(self, **settings: Any) -> None:
        _check_beta(settings["beta"])
        check_first(settings["first"])

    def init_buffers(self, x0: Array) -> dict[str, Array]:
        return {"velocity": np.zeros_like(x0)}

    def _order(self) -> tuple[str, str]:
        return ("d", "g") if self.first == "d" else ("g", "d")

    def step(self, field: FieldFunctions, x: Array, buffers: dict[str, Array],
             k: int) -> StepResult:
        n = x.shape[-1]
        h = self.rates(field, x)
        v = buffers["velocity"]
        seen: dict[str, Array] = {}
        for player in self._order():
            seen[player] = x
            m = field.mask(n, player)
            v = v + m * ((self.beta - 1.0) * v + field.field(x))
            x = x + m * h * v
        return StepResult(x, {"velocity": v}, seen["d"], seen["g"])

    def map_jacobian(self, field: FieldFunctions, x: Array, buffers: dict[str, Array],
                     k: int) -> Array:
        # Each half step maps (x, v) -> (x + M h v', v') with v' = (I + M (beta - 1)) v + M F(x):
        # dv'/dx = M J, dv'/dv = I + M (beta - 1), dx'/dx = I + M h J, dx'/dv = M h beta.
        b, n = x.shape
        h = self.rates(field, x)
        v = buffers.get("velocity", np.zeros_like(x))
        eye = identity_batch(b, n)
        total = identity_batch(b, 2 * n)
        for player in self._order():
            m = field.mask(n, player)
            jac = field.jacobian(x)
            mh = np.broadcast_to(m * h, (b, n))
            top = np.concatenate([eye + mh[..., None] * jac, (self.beta * mh)[..., None] * eye],
                                 axis=-1)
            keep = (1.0 + m * (self.beta - 1.0))[:, None]  # dv'/dv: beta on p's coordinates
            bottom = np.concatenate([m[:, None] * jac, keep * eye], axis=-1)
            total = np.concatenate([top, bottom], axis=-2) @ total
            v = v + m * ((self.beta - 1.0) * v + field.field(x))
            x = x + m * h * v
        return total
