"""The structure of a GAN game before a loss is chosen.

A :class:`GanModel` says how real and generated samples arise from random
variables and how the discriminator scores a sample:

* ``real_sample`` is an expression in the data's random variables (``x``
  drawn from the data distribution, possibly plus instance noise);
* ``fake_sample`` is the generator ``G_theta(z)`` (plus noise), an expression
  in ``theta`` and the latent random variables;
* ``logit`` is the discriminator's real-logit ``s_psi(x)`` in the input symbol.

Losses turn this into costs (:mod:`gandyn.games.game`); regularizers may change
the samples (instance noise) or read the logit's input gradient (R1, R2).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import sympy as sp

from gandyn.symbolic.expectations import Distribution, collapse_normals, expect

__all__ = ["GanModel", "Parameter", "real_symbol"]


def real_symbol(name: str) -> sp.Symbol:
    """The one kind of symbol gandyn uses: real, no other assumptions.

    Keeping a single assumption set means a printed expression parses back to
    an identical expression with ``Symbol(name, real=True)``.
    """
    return sp.Symbol(name, real=True)


@dataclass(frozen=True)
class Parameter:
    """A hyper-parameter that stays symbolic in the derivation.

    Attributes
    ----------
    symbol
        The sympy symbol in the expressions.
    value
        The value used when expressions are evaluated.
    doc
        What it means.
    """

    symbol: sp.Symbol
    value: float
    doc: str

    @property
    def name(self) -> str:
        """The symbol's name, as ``--param`` spells it."""
        return str(self.symbol.name)


@dataclass(frozen=True)
class GanModel:
    """Samples, discriminator and random variables of a GAN game.

    Attributes
    ----------
    theta, psi
        The generator's and the discriminator's parameters.
    x
        The discriminator's input symbol, used in ``logit``.
    logit
        ``s_psi(x)``, the discriminator's real-logit.
    real_sample, fake_sample
        The data sample and the generated sample as expressions in
        ``random`` variables (and ``theta`` for the generated one).
    random
        Independent random variables with their distributions.
    """

    theta: tuple[sp.Symbol, ...]
    psi: tuple[sp.Symbol, ...]
    x: sp.Symbol
    logit: sp.Expr
    real_sample: sp.Expr
    fake_sample: sp.Expr
    random: tuple[tuple[sp.Symbol, Distribution], ...]

    @property
    def variables(self) -> Mapping[sp.Symbol, Distribution]:
        """The random variables as a mapping."""
        return dict(self.random)

    def logit_at(self, sample: sp.Expr) -> sp.Expr:
        """The discriminator's logit at ``sample``."""
        return self.logit.xreplace({self.x: sample})

    def input_gradient_at(self, sample: sp.Expr) -> sp.Expr:
        """``d s_psi / dx`` evaluated at ``sample`` (the data are one-dimensional)."""
        return sp.diff(self.logit, self.x).xreplace({self.x: sample})

    @property
    def real_logit(self) -> sp.Expr:
        """``r = s_psi(x)`` for a data sample ``x``."""
        return self.logit_at(self.real_sample)

    @property
    def fake_logit(self) -> sp.Expr:
        """``l = s_psi(G_theta(z))``."""
        return self.logit_at(self.fake_sample)

    def expect(self, expr: sp.Expr) -> sp.Expr:
        """Expectation over all of the model's random variables."""
        return expect(expr, self.variables)

    def with_noise(self, real_noise: sp.Expr, fake_noise: sp.Expr,
                   new_random: tuple[tuple[sp.Symbol, Distribution], ...]) -> GanModel:
        """A copy whose samples have ``real_noise`` and ``fake_noise`` added.

        A sample that becomes a sum of several normal variables is rewritten
        with one normal variable of the summed variance (exact in law, and
        one quadrature rule instead of nested ones).
        """
        variables = dict(self.random + new_random)
        real, variables = collapse_normals(self.real_sample + real_noise, variables, "u_real")
        fake, variables = collapse_normals(self.fake_sample + fake_noise, variables, "u_fake")
        return replace(self, real_sample=real, fake_sample=fake, random=tuple(variables.items()))
