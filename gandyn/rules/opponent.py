"""Opponent shaping: LOLA and Stable Opponent Shaping (SOS).

Each player differentiates its cost through the opponent's anticipated
gradient step. With ``xi = (d cost_g/d theta, d cost_d/d psi)`` (``= -F``), the
game Hessian ``H = d xi / dx``, ``H_o`` its off-diagonal blocks (one player's
gradient differentiated in the other's parameters) and the cross gradient
``c = (d cost_d/d theta, d cost_g/d psi)``
(:mod:`gandyn.derivation.player_derivatives`), the generator's first-order
expansion of ``cost_g(theta, psi - alpha_psi d cost_d/d psi)``, differentiated in
``theta``, is its row of (Letcher et al. 2019, Sec. 3 and Algorithm 1; Foerster et
al. 2018, Sec. 3.2)::

    xi_LOLA = xi - H_o (alpha xi) - H_o^T (alpha c)
            = xi_0 - alpha chi,      xi_0 = xi - H_o (alpha xi)  (LookAhead)

and the discriminator's row likewise. ``alpha`` holds on each coordinate the
look-ahead rate of the player who owns it: the players' own learning rates by
default (so a player anticipates the step its opponent really takes; with equal
rates this is the papers' single ``alpha``), or ``lola_eta`` for both. The last
term, ``alpha chi = H_o^T (alpha c)``, is the *shaping* term: a player's push on the
opponent's next step. In a zero-sum game ``c = -xi`` and ``H_o^T = -H_o``, so
``alpha chi = H_o (alpha xi)`` and LOLA doubles LookAhead's correction.

SOS (Letcher et al. 2019, Algorithm 1) scales the shaping term by ``p`` in
``[0, 1]``: ``xi_p = xi_0 - p alpha chi`` with ``p = min(p1, p2)``, where ``p1 = 1``
if ``<-alpha chi, xi_0> >= 0`` and otherwise ``min(1, -a |xi_0|^2 / <-alpha chi,
xi_0>)`` (the shaping may not reverse more than a fraction ``a`` of LookAhead's
descent), and ``p2 = |xi|^2`` if ``|xi| < b``, else 1 (the shaping fades near
fixed points, where SOS becomes LookAhead and keeps its local convergence).

Both map Jacobians need the third derivatives of the costs (the game's
``jacobian_derivative``) and ``dc/dx`` (``cross_jacobian``); SOS's ``p`` is
differentiated on the branch it takes (the map is not differentiable where the
branch switches).

References
----------
.. [1] Foerster et al. (2018). Learning with Opponent-Learning Awareness.
   AAMAS, Sec. 3.2 (the LOLA gradient with the opponent's naive step).
.. [2] Letcher, Foerster, Balduzzi, Rocktaeschel and Whiteson (2019). Stable
   Opponent Shaping in Differentiable Games. ICLR, Sec. 3 (LookAhead, LOLA as
   ``xi_0 - alpha chi``, ``chi = diag(H_o^T grad L)``) and Algorithm 1 (SOS).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from gandyn.arrays import Array
from gandyn.rules.base import FieldFunctions, Setting, StepResult, UpdateRule, identity_batch

__all__ = ["LOLA", "StableOpponentShaping"]


def _optional_rate(value: Any) -> float | None:
    """``None`` (each player's own rate), or the look-ahead rate as a float."""
    return None if value is None else float(value)


_LOLA_ETA = Setting("lola_eta", None, "the opponent's anticipated step size (default: each "
                                      "player's own rate)", _optional_rate)


class _Terms:
    """``xi``, LookAhead's ``H_o (alpha xi)``, the shaping ``H_o^T (alpha c)``, and derivatives."""

    def __init__(self, field: FieldFunctions, x: Array, alpha: Array, rule: str, *,
                 derivatives: bool) -> None:
        n = x.shape[-1]
        owner = np.arange(n) < field.n_theta
        off = (owner[:, None] != owner[None, :]).astype(np.float64)  # H_o's blocks
        self.xi: Array = -np.asarray(field.field(x))
        self.hessian: Array = -np.asarray(field.jacobian(x))  # H, [b, i, j] = d xi_i / dx_j
        hessian_o = self.hessian * off
        cross = field.needs("cross_gradient", rule)(x)
        self.look: Array = np.einsum("bij,bj->bi", hessian_o, alpha * self.xi)
        self.shaping: Array = np.einsum("bji,bj->bi", hessian_o, alpha * cross)
        if not derivatives:
            return
        d_hessian = -np.asarray(field.needs("jacobian_derivative", rule + "'s map Jacobian")(x))
        d_hessian_o = d_hessian * off[:, :, None]
        d_cross = field.needs("cross_jacobian", rule + "'s map Jacobian")(x)
        # d look_i/dx_k = sum_j off_ij (dH_ij/dx_k alpha_j xi_j + H_ij alpha_j H_jk)
        self.d_look: Array = (np.einsum("bijk,bj->bik", d_hessian_o, alpha * self.xi)
                       + hessian_o @ (alpha[..., :, None] * self.hessian))
        # d shaping_i/dx_k = sum_j off_ji (dH_ji/dx_k alpha_j c_j + H_ji alpha_j dc_j/dx_k)
        self.d_shaping: Array = (np.einsum("bjik,bj->bik", d_hessian_o, alpha * cross)
                          + np.swapaxes(hessian_o, -1, -2) @ (alpha[..., :, None] * d_cross))


class _OpponentShaping(UpdateRule):
    """What LOLA and SOS share: the look-ahead rates and the step along ``-xi_p``."""

    lola_eta: float | None
    #: The rule's name in error messages.
    what: ClassVar[str]

    def check_settings(self, **settings: Any) -> None:
        rate = settings["lola_eta"]
        if rate is not None and not (np.isfinite(rate) and rate > 0):
            raise ValueError(f"lola_eta must be positive and finite, not {rate!r}")

    def _alpha(self, field: FieldFunctions, x: Array) -> Array:
        if self.lola_eta is not None:
            return np.full(x.shape, self.lola_eta)
        return np.broadcast_to(self.rates(field, x), x.shape)

    def _terms(self, field: FieldFunctions, x: Array, *, derivatives: bool) -> _Terms:
        return _Terms(field, x, self._alpha(field, x), self.what, derivatives=derivatives)

    def shaping_weight(self, terms: _Terms) -> Array:
        """``p`` per run, ``(B,)``: 1 for LOLA."""
        return np.ones(terms.xi.shape[0])

    def shaping_weight_gradient(self, terms: _Terms) -> Array:
        """``dp/dx``, ``(B, n)``: 0 for LOLA."""
        return np.zeros_like(terms.xi)

    def adjusted_gradient(self, field: FieldFunctions, x: Array) -> Array:
        """``xi_p = xi - H_o (alpha xi) - p H_o^T (alpha c)``, the direction of descent."""
        terms = self._terms(field, x, derivatives=False)
        result: Array = terms.xi - terms.look - self.shaping_weight(terms)[:, None] * terms.shaping
        return result

    def step(self, field: FieldFunctions, x: Array, buffers: dict[str, Array],
             k: int) -> StepResult:
        return StepResult(x - self.rates(field, x) * self.adjusted_gradient(field, x), {}, x, x)

    def map_jacobian(self, field: FieldFunctions, x: Array, buffers: dict[str, Array],
                     k: int) -> Array:
        terms = self._terms(field, x, derivatives=True)
        weight = self.shaping_weight(terms)
        d_adjusted = (terms.hessian - terms.d_look - weight[:, None, None] * terms.d_shaping
                      - terms.shaping[:, :, None] * self.shaping_weight_gradient(terms)[:, None, :])
        result: Array = identity_batch(*x.shape) - self.rates(field, x)[..., :, None] * d_adjusted
        return result


class LOLA(_OpponentShaping):
    """Learning with opponent-learning awareness: ``x' = x - h xi_LOLA`` (module docstring)."""

    name = "lola"
    title = "learning with opponent-learning awareness"
    what = "LOLA"
    reference = ("Foerster et al. (2018), Learning with Opponent-Learning Awareness, AAMAS, "
                 "Sec. 3.2; Letcher et al. (2019), Stable Opponent Shaping, ICLR, Sec. 3")
    settings = (_LOLA_ETA,)


class StableOpponentShaping(_OpponentShaping):
    """Stable opponent shaping: ``x' = x - h (xi_0 - p alpha chi)`` (module docstring).

    Settings ``sos_a`` (in (0, 1), default 0.5) and ``sos_b`` (positive,
    default 0.1), the ``a`` and ``b`` of Algorithm 1 (their defaults those of the
    authors' reference implementation), and ``lola_eta``.
    """

    name = "sos"
    title = "stable opponent shaping"
    what = "SOS"
    reference = ("Letcher, Foerster, Balduzzi, Rocktaeschel and Whiteson (2019), Stable "
                 "Opponent Shaping in Differentiable Games, ICLR, Algorithm 1")
    settings = (
        _LOLA_ETA,
        Setting("sos_a", 0.5, "SOS's a in (0, 1): how much of LookAhead's descent the "
                              "shaping may undo"),
        Setting("sos_b", 0.1, "SOS's b > 0: below |xi| = b the shaping fades as |xi|^2"),
    )
    sos_a: float
    sos_b: float

    def check_settings(self, **settings: Any) -> None:
        super().check_settings(**settings)
        if not 0 < settings["sos_a"] < 1:
            raise ValueError(f"sos_a must lie in (0, 1), not {settings['sos_a']!r}")
        if not (np.isfinite(settings["sos_b"]) and settings["sos_b"] > 0):
            raise ValueError(f"sos_b must be positive and finite, not {settings['sos_b']!r}")

    def _parts(self, terms: _Terms) -> tuple[Array, Array, Array, Array]:
        """``p1``, ``p2``, ``xi_0`` and ``<-alpha chi, xi_0>``, per run."""
        xi0 = terms.xi - terms.look
        dot = -np.einsum("bi,bi->b", terms.shaping, xi0)
        norm0 = np.einsum("bi,bi->b", xi0, xi0)
        with np.errstate(divide="ignore", invalid="ignore"):
            p1 = np.where(dot >= 0, 1.0, np.minimum(1.0, -self.sos_a * norm0 / dot))
        norm = np.einsum("bi,bi->b", terms.xi, terms.xi)
        p2 = np.where(norm < self.sos_b**2, norm, 1.0)
        return p1, p2, xi0, dot

    def shaping_weight(self, terms: _Terms) -> Array:
        p1, p2, _, _ = self._parts(terms)
        weight: Array = np.minimum(p1, p2)
        return weight

    def shaping_weight_gradient(self, terms: _Terms) -> Array:
        p1, p2, xi0, dot = self._parts(terms)
        # p2 = |xi|^2 on its branch: d/dx = 2 H^T xi
        d_p2 = 2.0 * np.einsum("bji,bj->bi", terms.hessian, terms.xi)
        # p1 = -a |xi0|^2 / dot on its branch, dot = -<shaping, xi0>
        d_xi0 = terms.hessian - terms.d_look
        d_norm0 = 2.0 * np.einsum("bik,bi->bk", d_xi0, xi0)
        d_dot = -(np.einsum("bik,bi->bk", terms.d_shaping, xi0)
                  + np.einsum("bik,bi->bk", d_xi0, terms.shaping))
        with np.errstate(divide="ignore", invalid="ignore"):
            d_p1 = -self.sos_a * (d_norm0 / dot[:, None]
                                  - (np.einsum("bi,bi->b", xi0, xi0) / dot**2)[:, None] * d_dot)
        on_p2 = (p2 <= p1) & (p2 < 1.0)
        on_p1 = ~on_p2 & (p1 < 1.0)
        result: Array = np.where(on_p2[:, None], d_p2, np.where(on_p1[:, None], d_p1, 0.0))
        return result
