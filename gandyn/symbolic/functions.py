"""Symbolic activation functions with derivative rules and stable numpy code.

GAN losses are written in *logit form*: every cross-entropy term is a
``softplus`` (or ``log_sigmoid``) of the discriminator's logit, never a
``log`` of a probability. sympy then differentiates these functions with the
rules below and never produces ``log(1 - 1/(1 + exp(-x)))``, which overflows
or loses all precision at large logits. When lambdified with
:data:`NUMPY_NAMESPACE`, the expressions become ``np.logaddexp``,
``scipy.special.expit`` and ``scipy.special.log_expit``, so a logit of
``+-1000`` gives finite, correct losses and gradients.

The piecewise-linear ``relu`` (hinge loss) and its derivative ``step`` follow
the convention of automatic differentiation: ``step(0) = 0`` and the
derivative of ``step`` is zero (the Dirac delta at the kink is dropped, which
is what a training framework computes almost everywhere).

References
----------
.. [1] Goodfellow (2016). NIPS 2016 Tutorial: Generative Adversarial
   Networks. arXiv:1701.00160, Sec. 3.2 (costs as functions of the logit).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp
from sympy.core.function import ArgumentIndexError

from gandyn import arrays

__all__ = [
    "FUNCTIONS",
    "NUMPY_NAMESPACE",
    "log_sigmoid",
    "relu",
    "sigmoid",
    "softplus",
    "step",
]


class _ElementaryEvalf:
    """``evalf`` through the closed form, so ``float(softplus(2))`` works."""

    def _eval_evalf(self, prec: int) -> Any:
        # mpmath works at arbitrary precision: log(1 + exp(1000)) is no problem there.
        return self.rewrite(sp.exp)._eval_evalf(prec)  # type: ignore[attr-defined]


class softplus(_ElementaryEvalf, sp.Function):  # noqa: N801  (sympy functions are lower case)
    r"""``softplus(x) = log(1 + exp(x))``; its derivative is ``sigmoid(x)``.

    ``softplus(l)`` is the cross-entropy of a fake sample with logit ``l``
    labelled fake, and ``softplus(-l)`` that of the sample labelled real.
    """

    nargs = 1

    @classmethod
    def eval(cls, x: sp.Expr) -> sp.Expr | None:
        if x.is_zero:
            return sp.log(2)
        if x is sp.S.Infinity:
            return sp.S.Infinity
        if x is sp.S.NegativeInfinity:
            return sp.S.Zero
        return None

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        if argindex != 1:
            raise ArgumentIndexError(self, argindex)
        return sigmoid(self.args[0])

    def _eval_rewrite_as_exp(self, x: sp.Expr, **kwargs: Any) -> sp.Expr:
        return sp.log(1 + sp.exp(x))

    def _eval_rewrite_as_log(self, x: sp.Expr, **kwargs: Any) -> sp.Expr:
        return sp.log(1 + sp.exp(x))

    def _eval_is_extended_real(self) -> bool | None:
        return self.args[0].is_extended_real  # type: ignore[no-any-return]

    def _eval_is_positive(self) -> bool | None:
        return self.args[0].is_finite and self.args[0].is_extended_real  # type: ignore[no-any-return]

    def _latex(self, printer: Any) -> str:
        return r"\operatorname{softplus}\left(" + str(printer._print(self.args[0])) + r"\right)"


class sigmoid(_ElementaryEvalf, sp.Function):  # noqa: N801
    r"""The logistic function ``1 / (1 + exp(-x))``, so ``D(x) = sigmoid(s(x))``.

    Its derivative is written ``sigmoid(x) * sigmoid(-x)`` rather than
    ``sigmoid(x) * (1 - sigmoid(x))``: the product of two expits keeps full
    relative precision at large ``|x|`` where ``1 - sigmoid(x)`` rounds to 0.
    """

    nargs = 1

    @classmethod
    def eval(cls, x: sp.Expr) -> sp.Expr | None:
        if x.is_zero:
            return sp.Rational(1, 2)
        if x is sp.S.Infinity:
            return sp.S.One
        if x is sp.S.NegativeInfinity:
            return sp.S.Zero
        return None

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        if argindex != 1:
            raise ArgumentIndexError(self, argindex)
        x = self.args[0]
        return sigmoid(x) * sigmoid(-x)

    def _eval_rewrite_as_exp(self, x: sp.Expr, **kwargs: Any) -> sp.Expr:
        return 1 / (1 + sp.exp(-x))

    def _eval_is_extended_real(self) -> bool | None:
        return self.args[0].is_extended_real  # type: ignore[no-any-return]

    def _eval_is_positive(self) -> bool | None:
        return self.args[0].is_finite and self.args[0].is_extended_real  # type: ignore[no-any-return]

    def _latex(self, printer: Any) -> str:
        # not \sigma: games name a data scale sigma, and the two must stay apart
        return r"\operatorname{sigmoid}\left(" + str(printer._print(self.args[0])) + r"\right)"


class log_sigmoid(_ElementaryEvalf, sp.Function):  # noqa: N801
    r"""``log_sigmoid(x) = log(sigmoid(x)) = -softplus(-x)``; derivative ``sigmoid(-x)``."""

    nargs = 1

    @classmethod
    def eval(cls, x: sp.Expr) -> sp.Expr | None:
        if x.is_zero:
            return -sp.log(2)
        if x is sp.S.Infinity:
            return sp.S.Zero
        if x is sp.S.NegativeInfinity:
            return sp.S.NegativeInfinity
        return None

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        if argindex != 1:
            raise ArgumentIndexError(self, argindex)
        return sigmoid(-self.args[0])

    def _eval_rewrite_as_exp(self, x: sp.Expr, **kwargs: Any) -> sp.Expr:
        return -sp.log(1 + sp.exp(-x))

    def _eval_is_extended_real(self) -> bool | None:
        return self.args[0].is_extended_real  # type: ignore[no-any-return]

    def _eval_is_negative(self) -> bool | None:
        return self.args[0].is_finite and self.args[0].is_extended_real  # type: ignore[no-any-return]

    def _latex(self, printer: Any) -> str:
        return r"\log\operatorname{sigmoid}\left(" + str(printer._print(self.args[0])) + r"\right)"


class step(sp.Function):  # noqa: N801
    r"""Heaviside step with the autodiff conventions ``step(0) = 0``, ``step' = 0``."""

    nargs = 1

    @classmethod
    def eval(cls, x: sp.Expr) -> sp.Expr | None:
        if x.is_positive:
            return sp.S.One
        if x.is_nonpositive:
            return sp.S.Zero
        return None

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        if argindex != 1:
            raise ArgumentIndexError(self, argindex)
        # The distributional derivative (a Dirac delta) is dropped: zero almost
        # everywhere, as automatic differentiation computes it.
        return sp.S.Zero

    def _eval_rewrite_as_Heaviside(self, x: sp.Expr, **kwargs: Any) -> sp.Expr:
        return sp.Heaviside(x, 0)

    def _latex(self, printer: Any) -> str:
        return r"\operatorname{step}\left(" + str(printer._print(self.args[0])) + r"\right)"


class relu(sp.Function):  # noqa: N801
    r"""``relu(x) = max(0, x)`` with derivative ``step(x)`` (used by the hinge loss)."""

    nargs = 1

    @classmethod
    def eval(cls, x: sp.Expr) -> sp.Expr | None:
        if x.is_nonnegative:
            return x
        if x.is_nonpositive:
            return sp.S.Zero
        return None

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        if argindex != 1:
            raise ArgumentIndexError(self, argindex)
        return step(self.args[0])

    def _eval_rewrite_as_Max(self, x: sp.Expr, **kwargs: Any) -> sp.Expr:
        return sp.Max(0, x)

    def _latex(self, printer: Any) -> str:
        return r"\operatorname{relu}\left(" + str(printer._print(self.args[0])) + r"\right)"


def _np_relu(x: Any) -> Any:
    return np.maximum(x, 0.0)


def _np_step(x: Any) -> Any:
    return np.heaviside(x, 0.0)


def _np_sign(x: Any) -> Any:
    return np.sign(x)


def _np_dirac_delta(x: Any, *args: Any) -> Any:
    # sympy differentiates Abs and sign into DiracDelta terms; they vanish
    # almost everywhere and autodiff drops them too.
    return np.zeros_like(np.asarray(x, dtype=float))


#: Name -> sympy function, for parsers that read gandyn expressions back
#: (the quadrature nodes are in :data:`gandyn.symbolic.expectations.QUADRATURES`).
FUNCTIONS: dict[str, type[sp.Function]] = {
    "softplus": softplus,
    "sigmoid": sigmoid,
    "log_sigmoid": log_sigmoid,
    "relu": relu,
    "step": step,
}

#: Namespace passed first to :func:`sympy.lambdify` so that the functions
#: above become numerically stable numpy calls.
NUMPY_NAMESPACE: dict[str, Any] = {
    "softplus": arrays.softplus,
    "sigmoid": arrays.sigmoid,
    "log_sigmoid": arrays.log_sigmoid,
    "relu": _np_relu,
    "step": _np_step,
    "sign": _np_sign,
    "DiracDelta": _np_dirac_delta,
}
