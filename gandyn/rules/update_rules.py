"""Update rules: the discrete maps that training uses, each with its linearization.

Every rule advances a batch of states ``x`` of shape ``(B, n)`` (``n =
n_theta + n_psi``) with per-player learning rates (two time scales): the
generator's parameters move with ``lr_g`` and the discriminator's with
``lr_d``. A rule may carry auxiliary buffers (momentum, Adam's moments, the
previous gradient); the rule's *extended state* is ``z = (x, buffers...)``
and :meth:`UpdateRule.map_jacobian` returns ``dz'/dz`` of one step, the
matrix whose spectral radius decides local stability.

All rules use the game's flow field ``F = -xi`` and its Jacobian
``dF/dx`` (:mod:`gandyn.derive.field`); a gradient-descent step is ``x + h F(x)``.

References
----------
.. [1] Mescheder, Nowozin and Geiger (2017). The Numerics of GANs. NeurIPS
   (simultaneous and alternating gradient descent as discrete maps).
.. [2] Gidel et al. (2019). Negative Momentum for Improved Game Dynamics.
   AISTATS (heavy ball with beta < 0; alternating steps).
.. [3] Kingma and Ba (2015). Adam. ICLR; PyTorch ``torch.optim.Adam``
   (bias-corrected moments, ``eps`` added outside the square root).
.. [4] Daskalakis et al. (2018). Training GANs with Optimism. ICLR (OGDA).
.. [5] Korpelevich (1976). The extragradient method; Gidel et al. (2019).
   A Variational Inequality Perspective on GANs. ICLR.
.. [6] Balduzzi et al. (2018). The Mechanics of n-Player Differentiable
   Games. ICML (symplectic gradient adjustment).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from gandyn.arrays import Array

if TYPE_CHECKING:
    from gandyn.derive.field import VectorField

__all__ = [
    "RULES",
    "Adam",
    "AlternatingGD",
    "AlternatingMomentum",
    "Extragradient",
    "FieldFunctions",
    "Momentum",
    "OptimisticGD",
    "SimultaneousGD",
    "SymplecticGradientAdjustment",
    "UpdateRule",
    "make_rule",
]



@dataclass(frozen=True)
class FieldFunctions:
    """The numeric game a rule needs: ``F(x)``, ``dF/dx`` and the split of the state.

    Attributes
    ----------
    field
        ``F``: ``(B, n) -> (B, n)``.
    jacobian
        ``dF/dx``: ``(B, n) -> (B, n, n)``.
    n_theta
        The first ``n_theta`` coordinates are the generator's.
    jacobian_derivative
        ``d(dF/dx)/dx``: ``(B, n) -> (B, n, n, n)``, entry ``[b, i, j, k]`` the
        derivative of ``dF_i/dx_j`` in ``x_k``. Only SGA's map Jacobian needs it.
    """

    field: Callable[[Array], Array]
    jacobian: Callable[[Array], Array]
    n_theta: int
    jacobian_derivative: Callable[[Array], Array] | None = None

    @classmethod
    def of(cls, vf: VectorField) -> FieldFunctions:
        """The numeric functions of a derived game, at its hyper-parameter values.

        The third derivatives are compiled only if a rule asks for them (SGA's
        linearization), since they are costly for the larger games.
        """
        return cls(vf.field_fn, vf.jacobian_fn, len(vf.game.theta),
                   lambda x: vf.jacobian_derivative_fn(x))

    def mask(self, n: int, player: str) -> Array:
        """1 on the coordinates of ``player`` (``"g"`` or ``"d"``), 0 elsewhere."""
        m = np.zeros(n)
        if player == "g":
            m[: self.n_theta] = 1.0
        else:
            m[self.n_theta :] = 1.0
        return m


@dataclass
class StepResult:
    """One step of a batch: the new state and buffers, and what each player saw.

    ``seen_by_d`` and ``seen_by_g`` are the states at which the
    discriminator's and the generator's gradients were taken in this step
    (they differ for alternating updates); a training loop logs its losses
    there.
    """

    x: Array
    buffers: dict[str, Array]
    seen_by_d: Array
    seen_by_g: Array


class UpdateRule(ABC):
    """A discrete update rule with per-player learning rates.

    Parameters
    ----------
    game
        The numeric field and Jacobian.
    lr_g, lr_d
        Learning rates of the generator and the discriminator.
    """

    name: ClassVar[str]
    title: ClassVar[str]
    reference: ClassVar[str]
    buffer_names: ClassVar[tuple[str, ...]] = ()
    #: The players move in turn, so the map depends on which coordinates are whose.
    alternating: ClassVar[bool] = False

    def __init__(self, game: FieldFunctions, lr_g: float, lr_d: float) -> None:
        if not (np.isfinite(lr_g) and np.isfinite(lr_d)) or lr_g <= 0 or lr_d <= 0:
            raise ValueError("learning rates must be positive and finite")
        self.game = game
        self.lr_g = float(lr_g)
        self.lr_d = float(lr_d)
        self._rates: dict[int, Array] = {}

    def rates(self, n: int) -> Array:
        """The per-coordinate step sizes ``h`` (``lr_g`` on theta, ``lr_d`` on psi)."""
        cached = self._rates.get(n)
        if cached is None:
            cached = np.full(n, self.lr_d)
            cached[: self.game.n_theta] = self.lr_g
            cached.flags.writeable = False
            self._rates[n] = cached
        return cached

    def init_buffers(self, x0: Array) -> dict[str, Array]:
        """Buffers at step 0 (none for memoryless rules)."""
        return {}

    @abstractmethod
    def step(self, x: Array, buffers: dict[str, Array], k: int) -> StepResult:
        """Advance the batch ``x`` by one step; ``k`` counts steps from 1."""

    @abstractmethod
    def map_jacobian(self, x: Array, buffers: dict[str, Array], k: int) -> Array:
        """``dz'/dz`` of step ``k`` at extended state ``z = (x, buffers)``: ``(B, m, m)``."""

    # Helpers for the extended state, ordered as (x, *buffer_names).
    def pack(self, x: Array, buffers: dict[str, Array]) -> Array:
        """The extended state ``z`` of shape ``(B, m)``."""
        return np.concatenate([x, *(buffers[b] for b in self.buffer_names)], axis=-1)

    def unpack(self, z: Array, n: int) -> tuple[Array, dict[str, Array]]:
        """Inverse of :meth:`pack`."""
        parts = np.split(z, [n * (i + 1) for i in range(len(self.buffer_names))], axis=-1)
        return parts[0], dict(zip(self.buffer_names, parts[1:], strict=True))


def _eye(batch: int, n: int) -> Array:
    return np.broadcast_to(np.eye(n), (batch, n, n)).copy()


class SimultaneousGD(UpdateRule):
    """Simultaneous gradient descent: ``x' = x + h F(x)``; ``dx'/dx = I + H dF/dx``."""

    name = "simgd"
    title = "simultaneous gradient descent"
    reference = "Mescheder, Nowozin and Geiger (2017), The Numerics of GANs, NeurIPS, Sec. 2"

    def step(self, x: Array, buffers: dict[str, Array], k: int) -> StepResult:
        h = self.rates(x.shape[-1])
        return StepResult(x + h * self.game.field(x), {}, x, x)

    def map_jacobian(self, x: Array, buffers: dict[str, Array], k: int) -> Array:
        n = x.shape[-1]
        return _eye(x.shape[0], n) + self.rates(n)[..., None] * self.game.jacobian(x)


class AlternatingGD(UpdateRule):
    """Alternating gradient descent: one player's steps, then the other's on the new state.

    Parameters
    ----------
    first
        ``"d"`` (the discriminator moves first, as in most training loops) or ``"g"``.
    d_steps, g_steps
        Consecutive steps of each player per iteration.
    """

    name = "altgd"
    title = "alternating gradient descent"
    alternating = True
    reference = (
        "Gidel et al. (2019), Negative Momentum for Improved Game Dynamics, AISTATS, Sec. 3; "
        "Goodfellow et al. (2014), Algorithm 1 (k discriminator steps)"
    )

    def __init__(self, game: FieldFunctions, lr_g: float, lr_d: float, first: str = "d",
                 d_steps: int = 1, g_steps: int = 1) -> None:
        super().__init__(game, lr_g, lr_d)
        if first not in ("d", "g"):
            raise ValueError("first must be 'd' or 'g'")
        if d_steps < 1 or g_steps < 1:
            raise ValueError("d_steps and g_steps must be at least 1")
        self.first, self.d_steps, self.g_steps = first, int(d_steps), int(g_steps)

    def _schedule(self) -> list[str]:
        d, g = ["d"] * self.d_steps, ["g"] * self.g_steps
        return d + g if self.first == "d" else g + d

    def step(self, x: Array, buffers: dict[str, Array], k: int) -> StepResult:
        n = x.shape[-1]
        h = self.rates(n)
        seen: dict[str, Array] = {}
        for player in self._schedule():
            seen.setdefault(player, x)
            x = x + self.game.mask(n, player) * h * self.game.field(x)
        return StepResult(x, {}, seen["d"], seen["g"])

    def map_jacobian(self, x: Array, buffers: dict[str, Array], k: int) -> Array:
        n = x.shape[-1]
        h = self.rates(n)
        total = _eye(x.shape[0], n)
        for player in self._schedule():
            partial = _eye(x.shape[0], n) + (self.game.mask(n, player) * h)[..., None] * (
                self.game.jacobian(x)
            )
            total = partial @ total
            x = x + self.game.mask(n, player) * h * self.game.field(x)
        return total


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
    buffer_names = ("velocity",)

    def __init__(self, game: FieldFunctions, lr_g: float, lr_d: float, beta: float = 0.9) -> None:
        super().__init__(game, lr_g, lr_d)
        if not -1.0 < beta < 1.0:
            raise ValueError("momentum beta must lie in (-1, 1)")
        self.beta = float(beta)

    def init_buffers(self, x0: Array) -> dict[str, Array]:
        return {"velocity": np.zeros_like(x0)}

    def step(self, x: Array, buffers: dict[str, Array], k: int) -> StepResult:
        v = self.beta * buffers["velocity"] + self.game.field(x)
        return StepResult(x + self.rates(x.shape[-1]) * v, {"velocity": v}, x, x)

    def map_jacobian(self, x: Array, buffers: dict[str, Array], k: int) -> Array:
        b, n = x.shape
        jac = self.game.jacobian(x)
        h = self.rates(n)[..., None]
        eye = _eye(b, n)
        top = np.concatenate([eye + h * jac, self.beta * h * eye], axis=-1)
        bottom = np.concatenate([jac, self.beta * eye], axis=-1)
        return np.concatenate([top, bottom], axis=-2)


class AlternatingMomentum(UpdateRule):
    """Heavy ball with alternating updates: each player's momentum step on the latest state.

    Per player ``p`` in turn (``first`` moves first), as a loop that steps one
    PyTorch SGD-with-momentum optimizer and then the other:
    ``v_p' = beta v_p + F_p(x)``, ``x_p' = x_p + h_p v_p'``, where ``x`` already
    holds the other player's new parameters. With ``beta = 0`` it is
    :class:`AlternatingGD`; on the bilinear game negative ``beta`` makes it
    converge where simultaneous momentum of any ``beta`` cannot (Gidel et al.
    2019). Extended state ``(x, v)``.
    """

    name = "altmomentum"
    title = "alternating heavy-ball momentum"
    alternating = True
    reference = ("Gidel et al. (2019), Negative Momentum for Improved Game Dynamics, AISTATS, "
                 "Sec. 3 (alternating updates, negative momentum)")
    buffer_names = ("velocity",)

    def __init__(self, game: FieldFunctions, lr_g: float, lr_d: float, beta: float = -0.5,
                 first: str = "d") -> None:
        super().__init__(game, lr_g, lr_d)
        if not -1.0 < beta < 1.0:
            raise ValueError("momentum beta must lie in (-1, 1)")
        if first not in ("d", "g"):
            raise ValueError("first must be 'd' or 'g'")
        self.beta, self.first = float(beta), first

    def init_buffers(self, x0: Array) -> dict[str, Array]:
        return {"velocity": np.zeros_like(x0)}

    def _order(self) -> tuple[str, str]:
        return ("d", "g") if self.first == "d" else ("g", "d")

    def step(self, x: Array, buffers: dict[str, Array], k: int) -> StepResult:
        n = x.shape[-1]
        h = self.rates(n)
        v = buffers["velocity"]
        seen: dict[str, Array] = {}
        for player in self._order():
            seen[player] = x
            m = self.game.mask(n, player)
            v = v + m * ((self.beta - 1.0) * v + self.game.field(x))
            x = x + m * h * v
        return StepResult(x, {"velocity": v}, seen["d"], seen["g"])

    def map_jacobian(self, x: Array, buffers: dict[str, Array], k: int) -> Array:
        # Each half step maps (x, v) -> (x + M h v', v') with v' = (I + M (beta - 1)) v + M F(x):
        # dv'/dx = M J, dv'/dv = I + M (beta - 1), dx'/dx = I + M h J, dx'/dv = M h beta.
        b, n = x.shape
        h = self.rates(n)
        v = buffers.get("velocity", np.zeros_like(x))
        eye = _eye(b, n)
        total = _eye(b, 2 * n)
        for player in self._order():
            m = self.game.mask(n, player)
            jac = self.game.jacobian(x)
            mh = np.broadcast_to(m * h, (b, n))
            top = np.concatenate([eye + mh[..., None] * jac, (self.beta * mh)[..., None] * eye],
                                 axis=-1)
            keep = (1.0 + m * (self.beta - 1.0))[:, None]  # dv'/dv: beta on p's coordinates
            bottom = np.concatenate([m[:, None] * jac, keep * eye], axis=-1)
            total = np.concatenate([top, bottom], axis=-2) @ total
            v = v + m * ((self.beta - 1.0) * v + self.game.field(x))
            x = x + m * h * v
        return total


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
    buffer_names = ("m", "v")

    def __init__(self, game: FieldFunctions, lr_g: float, lr_d: float, beta1: float = 0.9,
                 beta2: float = 0.999, eps: float = 1e-8) -> None:
        super().__init__(game, lr_g, lr_d)
        if not (0.0 <= beta1 < 1.0 and 0.0 <= beta2 < 1.0):
            raise ValueError("Adam's beta1 and beta2 must lie in [0, 1)")
        if not eps > 0:
            raise ValueError("Adam's eps must be positive")
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)

    def init_buffers(self, x0: Array) -> dict[str, Array]:
        return {"m": np.zeros_like(x0), "v": np.zeros_like(x0)}

    def step(self, x: Array, buffers: dict[str, Array], k: int) -> StepResult:
        g = -self.game.field(x)
        m = self.beta1 * buffers["m"] + (1 - self.beta1) * g
        v = self.beta2 * buffers["v"] + (1 - self.beta2) * g * g
        c1, c2 = 1 - self.beta1**k, 1 - self.beta2**k
        x_new = x - self.rates(x.shape[-1]) * (m / c1) / (np.sqrt(v / c2) + self.eps)
        return StepResult(x_new, {"m": m, "v": v}, x, x)

    def map_jacobian(self, x: Array, buffers: dict[str, Array], k: int) -> Array:
        b, n = x.shape
        g = -self.game.field(x)
        dg = -self.game.jacobian(x)  # dg/dx
        m = self.beta1 * buffers["m"] + (1 - self.beta1) * g
        v = self.beta2 * buffers["v"] + (1 - self.beta2) * g * g
        c1, c2 = 1 - self.beta1**k, 1 - self.beta2**k
        h = self.rates(n)
        root = np.sqrt(v / c2)
        denom = root + self.eps
        # x' = x - h * (m/c1) / denom; partial derivatives of x' in m' and v' (diagonal).
        dx_dm = -h / (c1 * denom)
        with np.errstate(divide="ignore", invalid="ignore"):
            dx_dv = np.where(root > 0, h * (m / c1) / denom**2 / (2 * c2 * root), 0.0)
        eye = _eye(b, n)
        dm_dx = (1 - self.beta1) * dg
        dv_dx = (1 - self.beta2) * 2 * g[:, :, None] * dg
        dx_dx = eye + dx_dm[:, :, None] * dm_dx + dx_dv[:, :, None] * dv_dx
        dx_dmold = dx_dm[:, :, None] * self.beta1 * eye
        dx_dvold = dx_dv[:, :, None] * self.beta2 * eye
        top = np.concatenate([dx_dx, dx_dmold, dx_dvold], axis=-1)
        mid = np.concatenate([dm_dx, self.beta1 * eye, np.zeros_like(eye)], axis=-1)
        bottom = np.concatenate([dv_dx, np.zeros_like(eye), self.beta2 * eye], axis=-1)
        return np.concatenate([top, mid, bottom], axis=-2)


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

    def step(self, x: Array, buffers: dict[str, Array], k: int) -> StepResult:
        h = self.rates(x.shape[-1])
        x_new = x + h * (2 * self.game.field(x) - self.game.field(buffers["previous"]))
        return StepResult(x_new, {"previous": x}, x, x)

    def map_jacobian(self, x: Array, buffers: dict[str, Array], k: int) -> Array:
        b, n = x.shape
        h = self.rates(n)[..., None]
        eye = _eye(b, n)
        top = np.concatenate(
            [eye + 2 * h * self.game.jacobian(x), -h * self.game.jacobian(buffers["previous"])],
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

    def step(self, x: Array, buffers: dict[str, Array], k: int) -> StepResult:
        h = self.rates(x.shape[-1])
        y = x + h * self.game.field(x)
        return StepResult(x + h * self.game.field(y), {}, y, y)

    def map_jacobian(self, x: Array, buffers: dict[str, Array], k: int) -> Array:
        n = x.shape[-1]
        h = self.rates(n)[..., None]
        y = x + h[..., 0] * self.game.field(x)
        eye = _eye(x.shape[0], n)
        return eye + h * (self.game.jacobian(y) @ (eye + h * self.game.jacobian(x)))


class SymplecticGradientAdjustment(UpdateRule):
    """Symplectic gradient adjustment: ``x' = x - h (xi + lam A^T xi)``.

    ``xi = -F`` and ``A`` is the antisymmetric part of ``d xi / dx``. Its map's
    Jacobian needs third derivatives of the costs: the game's
    ``jacobian_derivative`` (from :attr:`gandyn.derive.field.VectorField.jacobian_derivative_fn`),
    or an ``adjusted_jacobian`` given directly.
    """

    name = "sga"
    title = "symplectic gradient adjustment"
    reference = (
        "Balduzzi et al. (2018), The Mechanics of n-Player Differentiable Games, ICML, "
        "Algorithm 1 (fixed lambda, no sign alignment)"
    )

    def __init__(self, game: FieldFunctions, lr_g: float, lr_d: float, lam: float = 1.0,
                 adjusted_jacobian: Callable[[Array], Array] | None = None) -> None:
        super().__init__(game, lr_g, lr_d)
        if not np.isfinite(lam):
            raise ValueError("lam must be finite")
        self.lam = float(lam)
        self.adjusted_jacobian = adjusted_jacobian

    def adjusted_field(self, x: Array) -> Array:
        """``-(xi + lam A^T xi)``, the direction SGA follows."""
        xi = -self.game.field(x)
        jac_xi = -self.game.jacobian(x)
        antisym = 0.5 * (jac_xi - np.swapaxes(jac_xi, -1, -2))
        adjusted: Array = xi + self.lam * np.einsum("bji,bj->bi", antisym, xi)
        return -adjusted

    def step(self, x: Array, buffers: dict[str, Array], k: int) -> StepResult:
        h = self.rates(x.shape[-1])
        return StepResult(x + h * self.adjusted_field(x), {}, x, x)

    def adjusted_field_jacobian(self, x: Array) -> Array:
        """``d/dx`` of :meth:`adjusted_field`: ``-(J_xi + lam (dA^T/dx xi + A^T J_xi))``."""
        if self.adjusted_jacobian is not None:
            return self.adjusted_jacobian(x)
        if self.game.jacobian_derivative is None:
            raise ValueError("SGA's map Jacobian needs the adjusted field's Jacobian "
                             "(third derivatives of the costs)")
        xi = -self.game.field(x)
        jac_xi = -self.game.jacobian(x)  # [b, i, j] = d xi_i / d x_j
        d_jac_xi = -self.game.jacobian_derivative(x)  # [b, i, j, k] = d^2 xi_i / dx_j dx_k
        antisym = 0.5 * (jac_xi - np.swapaxes(jac_xi, -1, -2))
        d_antisym = 0.5 * (d_jac_xi - np.swapaxes(d_jac_xi, 1, 2))
        # adj_i = xi_i + lam sum_j A_ji xi_j, so
        # d adj_i / dx_k = J_ik + lam sum_j (dA_ji/dx_k xi_j + A_ji J_jk).
        d_adj = jac_xi + self.lam * (
            np.einsum("bjik,bj->bik", d_antisym, xi) + np.einsum("bji,bjk->bik", antisym, jac_xi)
        )
        result: Array = -d_adj
        return result

    def map_jacobian(self, x: Array, buffers: dict[str, Array], k: int) -> Array:
        n = x.shape[-1]
        return _eye(x.shape[0], n) + self.rates(n)[..., None] * self.adjusted_field_jacobian(x)


RULES: dict[str, type[UpdateRule]] = {
    rule.name: rule
    for rule in (SimultaneousGD, AlternatingGD, Momentum, AlternatingMomentum, Adam, OptimisticGD,
                 Extragradient, SymplecticGradientAdjustment)
}


def make_rule(name: str, game: FieldFunctions, lr_g: float, lr_d: float,
              **settings: Any) -> UpdateRule:
    """Build the rule called ``name`` with its settings."""
    from gandyn.errors import SpecError, UnknownNameError

    if name not in RULES:
        raise UnknownNameError("update rule", name, RULES)
    try:
        return RULES[name](game, lr_g, lr_d, **settings)
    except (TypeError, ValueError) as exc:
        raise SpecError(f"optimizer {name!r}: {exc}") from None
