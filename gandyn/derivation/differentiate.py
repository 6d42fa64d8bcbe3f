"""Many derivatives of expressions that share subexpressions, each piece differentiated once.

A game's Jacobian holds ``n**2`` derivatives of ``n`` gradient entries, and
those entries repeat the same pieces: the discriminator's logit, a sum over
all parameters, appears inside every ``sigmoid`` of every entry. sympy's
:func:`sympy.diff` differentiates every occurrence anew and, per call, walks
the whole expression again to find its free symbols and to dispatch the
derivative (most of its time for a 32-parameter game). :class:`Differentiator`
applies the same rules (sum, product, power and chain rules, with each
function's own ``fdiff``) over the expression graph instead, remembering for
every subexpression its free symbols and its derivative in each variable, so a
piece shared by many entries is differentiated once per variable.

Anything whose class defines its own derivative (``Abs``, ``sign``,
quadrature nodes, unevaluated derivatives) is handed to sympy unchanged, so
the rules of every function stay in one place, its class.

References
----------
.. [1] Griewank and Walther (2008). Evaluating Derivatives: Principles and
   Techniques of Algorithmic Differentiation, 2nd ed. SIAM, Ch. 3 (forward mode
   over a computational graph; each intermediate is differentiated once).
.. [2] Meurer et al. (2017). SymPy: symbolic computing in Python. PeerJ
   Computer Science 3:e103 (``Expr.diff`` and ``Function.fdiff``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp
from sympy.core.function import ArgumentIndexError

__all__ = ["Differentiator", "Direction"]

#: A direction of differentiation: ``(symbol, component)`` pairs.
Direction = tuple[tuple[sp.Symbol, sp.Expr], ...]


class Differentiator:
    """Symbolic derivatives with every subexpression's derivative remembered.

    One instance serves all the derivatives of one game: the gradients, then
    the Jacobian and Hessians of those gradients, reuse what was found before.
    The results are the expressions :func:`sympy.diff` gives, built by the
    same rules and the same constructors (equal, not always identical in
    the order of their arguments).
    """

    def __init__(self) -> None:
        self._symbols: dict[sp.Basic, frozenset[sp.Basic]] = {}
        self._derivatives: dict[tuple[sp.Basic, Direction], sp.Expr] = {}

    def symbols(self, expr: sp.Basic) -> frozenset[sp.Basic]:
        """Every symbol under ``expr`` (bound ones too: a superset of its free symbols)."""
        found = self._symbols.get(expr)
        if found is not None:
            return found
        # Iterative post-order walk: deep expressions need no recursion.
        stack: list[tuple[sp.Basic, bool]] = [(expr, False)]
        while stack:
            node, children_done = stack.pop()
            if node in self._symbols:
                continue
            if isinstance(node, sp.Symbol):
                self._symbols[node] = frozenset((node,))
            elif not node.args:
                self._symbols[node] = frozenset()
            elif children_done:
                self._symbols[node] = frozenset().union(*(self._symbols[a] for a in node.args))
            else:
                stack.append((node, True))
                stack.extend((a, False) for a in node.args if a not in self._symbols)
        return self._symbols[expr]

    def diff(self, expr: sp.Expr, variable: sp.Symbol) -> sp.Expr:
        """``d expr / d variable``."""
        return self.directional(expr, ((variable, sp.S.One),))

    def directional(self, expr: sp.Expr, direction: Direction) -> sp.Expr:
        """The derivative of ``expr`` along ``direction``: ``sum_s v_s d expr / d s``.

        ``direction`` pairs symbols with their components ``v_s`` (symbols
        left out have component 0); ``((x, 1),)`` is ``d / dx``. With
        symbolic components, one expression (of about the size of ``expr``)
        holds a whole Jacobian-vector product.
        """
        key = (expr, direction)
        found = self._derivatives.get(key)
        if found is not None:
            return found
        symbols = self.symbols(expr)
        if not any(s in symbols for s, _ in direction):
            result: sp.Expr = sp.S.Zero
        elif isinstance(expr, sp.Symbol):
            result = dict(direction).get(expr, sp.S.Zero)
        elif isinstance(expr, sp.Add):
            result = sp.Add(*(self.directional(a, direction) for a in expr.args))
        elif isinstance(expr, sp.Mul):
            result = self._product(expr.args, direction)
        elif isinstance(expr, sp.Pow):
            base, exponent = expr.args
            d_base = self.directional(base, direction)
            d_exponent = self.directional(exponent, direction)
            # Pow's own rule: x**y * (y' log x + x' y / x); sympy folds the
            # second term into y x**(y-1) x' when y is constant.
            result = expr * (d_exponent * sp.log(base) + d_base * exponent / base)
        elif isinstance(expr, sp.Function) and (
            type(expr)._eval_derivative is sp.Function._eval_derivative
        ):
            result = self._chain(expr, direction)
        else:  # a class with its own rule
            result = sp.Add(*(v * sp.diff(expr, s) for s, v in direction if s in symbols))
        self._derivatives[key] = result
        return result

    def _product(self, factors: Sequence[sp.Basic], direction: Direction) -> sp.Expr:
        terms = []
        for i, factor in enumerate(factors):
            d_factor = self.directional(factor, direction)
            if d_factor != 0:
                terms.append(sp.Mul(*factors[:i], d_factor, *factors[i + 1:]))
        return sp.Add(*terms)

    def _chain(self, call: sp.Function, direction: Direction) -> sp.Expr:
        terms = []
        for index, argument in enumerate(call.args, start=1):
            d_argument = self.directional(argument, direction)
            if d_argument != 0:
                try:
                    outer = call.fdiff(index)
                except ArgumentIndexError:  # what sympy's own rule falls back to
                    outer = sp.Function.fdiff(call, index)
                terms.append(outer * d_argument)
        return sp.Add(*terms)
