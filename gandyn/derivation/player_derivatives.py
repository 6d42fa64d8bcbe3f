"""Each player's derivatives of the *other* player's cost: what opponent-aware rules need.

The vector field (:mod:`gandyn.derivation.field`) holds each player's gradient of
its own cost, ``xi = (d cost_g / d theta, d cost_d / d psi)``, and its Jacobian.
Rules that look through the opponent's learning step need more: the
generator's cost differentiated in the discriminator's parameters (unrolled
GANs, Metz et al. 2017, Sec. 2.2-2.3: the generator's gradient through the
unrolled discriminator), and the discriminator's cost in the generator's
parameters (LOLA's shaping term, Foerster et al. 2018, Sec. 3.2; the ``chi`` of
Letcher et al. 2019, Algorithm 1).
Both are gathered in one *cross gradient*, ordered as the state ``x = (theta, psi)``::

    c = (d cost_d / d theta, d cost_g / d psi)

each coordinate's derivative of the cost of the player that does *not* own it,
and its Jacobian ``dc/dx``. With the field's Jacobian ``dF/dx`` these give every
second derivative of both costs (``d^2 cost_g / d psi^2`` and
``d^2 cost_d / d theta^2`` only here).

The expressions are differentiated on first use and compiled once per derived
game (:func:`player_derivatives` keeps one :class:`PlayerDerivatives` per
:class:`~gandyn.derivation.field.VectorField` while that field lives).

References
----------
.. [1] Metz, Poole, Pfau and Sohl-Dickstein (2017). Unrolled Generative
   Adversarial Networks. ICLR, Sec. 2.2-2.3.
.. [2] Foerster et al. (2018). Learning with Opponent-Learning Awareness.
   AAMAS, Sec. 3.2.
.. [3] Letcher et al. (2019). Stable Opponent Shaping in Differentiable Games.
   ICLR, Sec. 3 and Algorithm 1 (``chi = diag(H_o^T grad L)``).
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Mapping
from typing import Any

import sympy as sp

from gandyn.arrays import Array
from gandyn.derivation.field import VectorField
from gandyn.derivation.numeric import NumericFunction

__all__ = ["PlayerDerivatives", "player_derivatives"]


class PlayerDerivatives:
    """The cross gradient ``c = (d cost_d/d theta, d cost_g/d psi)`` of a game and ``dc/dx``.

    Parameters
    ----------
    vf
        The derived game; only its costs, symbols and hyper-parameter values are read.
    """

    def __init__(self, vf: VectorField) -> None:
        self.game = vf.game
        # The game's own differentiator: the cross terms share the costs' pieces
        # (the logit, the sigmoid) with the gradients already derived.
        self._diff = vf.differentiator.diff

    @functools.cached_property
    def cross_gradient(self) -> tuple[sp.Expr, ...]:
        """``c``: ``d cost_d / d theta`` on theta's coordinates, ``d cost_g / d psi`` on psi's."""
        game = self.game
        return (tuple(self._diff(game.cost_d, t) for t in game.theta)
                + tuple(self._diff(game.cost_g, p) for p in game.psi))

    @functools.cached_property
    def cross_jacobian(self) -> sp.ImmutableMatrix:
        """``dc/dx``: entry ``[i, j]`` is ``d c_i / d x_j``."""
        state = self.game.state_symbols
        return sp.ImmutableMatrix([[self._diff(c, s) for s in state] for c in self.cross_gradient])

    def _compile(self, exprs: Any) -> NumericFunction:
        return NumericFunction(exprs, self.game.state_symbols, self.game.param_values)

    @functools.cached_property
    def cross_gradient_fn(self) -> NumericFunction:
        """Numeric :attr:`cross_gradient`: ``(..., n) -> (..., n)``."""
        return self._compile(list(self.cross_gradient))

    @functools.cached_property
    def cross_jacobian_fn(self) -> NumericFunction:
        """Numeric :attr:`cross_jacobian`: ``(..., n) -> (..., n, n)``."""
        return self._compile(self.cross_jacobian)

    def cross_gradient_at(self, x: Any, params: Mapping[str, Any] | None = None) -> Array:
        """``c(x)``, hyper-parameters overridden by ``params`` (numbers or arrays ``(B,)``)."""
        return self.cross_gradient_fn(x, params)

    def cross_jacobian_at(self, x: Any, params: Mapping[str, Any] | None = None) -> Array:
        """``dc/dx`` at ``x``, hyper-parameters overridden by ``params``."""
        return self.cross_jacobian_fn(x, params)


_KEPT: weakref.WeakKeyDictionary[VectorField, PlayerDerivatives] = weakref.WeakKeyDictionary()


def player_derivatives(vf: VectorField) -> PlayerDerivatives:
    """The :class:`PlayerDerivatives` of ``vf``, made once while ``vf`` lives."""
    kept = _KEPT.get(vf)
    if kept is None:
        kept = _KEPT[vf] = PlayerDerivatives(vf)
    return kept
