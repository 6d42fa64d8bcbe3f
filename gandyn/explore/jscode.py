"""JavaScript from gandyn's sympy expressions: sympy's code printer, stable helpers, CSE.

The page evaluates the same expressions gandyn lambdifies for numpy, printed by
sympy's :class:`~sympy.printing.jscode.JavascriptCodePrinter` (never copied by
hand). gandyn's activation functions print as calls to helpers defined in
:data:`JS_HELPERS`, which follow the numpy forms of :mod:`gandyn.arrays`
(``logaddexp``, ``expit``, ``log_expit``) branch for branch, so that logits of
+-1000 stay finite and the page agrees with numpy to rounding. Every symbol is
renamed to ``s0, s1, ...`` before printing, so a game's symbol names can never
clash with JavaScript's words, and common subexpressions are shared as in
:class:`gandyn.derivation.field.NumericFunction` (``cse=True``).

References
----------
.. [1] Meurer et al. (2017). SymPy: symbolic computing in Python. PeerJ Computer
   Science 3:e103 (code printers, common subexpression elimination).
.. [2] Virtanen et al. (2020). SciPy 1.0. Nature Methods 17 (``expit``,
   ``log_expit``: the stable forms the helpers reproduce).
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp
from sympy.printing.jscode import JavascriptCodePrinter

from gandyn.errors import SpecError
from gandyn.symbolic.expectations import expand_quadrature

__all__ = ["JS_HELPERS", "JS_NAMES", "js_function"]

#: gandyn's sympy functions -> the JavaScript helper each prints as.
JS_NAMES: dict[str, str] = {
    "softplus": "gdSoftplus",
    "sigmoid": "gdSigmoid",
    "log_sigmoid": "gdLogSigmoid",
    "relu": "gdRelu",
    "step": "gdStep",
    "sign": "Math.sign",
    "DiracDelta": "gdZero",
}

#: The helpers, each the branch structure of its numpy form in gandyn.arrays /
#: gandyn.symbolic.functions (np.logaddexp(0, x), scipy's expit and log_expit,
#: np.maximum(x, 0), np.heaviside(x, 0); DiracDelta vanishes almost everywhere).
JS_HELPERS = """\
function gdSoftplus(x) { return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))); }
function gdSigmoid(x) {
  if (x >= 0) { return 1 / (1 + Math.exp(-x)); }
  const e = Math.exp(x); return e / (1 + e);
}
function gdLogSigmoid(x) {
  if (x < 0) { return x - Math.log1p(Math.exp(x)); }
  return -Math.log1p(Math.exp(-x));
}
function gdRelu(x) { return Math.max(x, 0); }
function gdStep(x) { return x > 0 ? 1 : 0; }
function gdZero(x) { return 0; }
"""


class _Printer(JavascriptCodePrinter):
    """The JavaScript printer with gandyn's functions as the stable helpers."""

    def __init__(self) -> None:
        super().__init__({"user_functions": dict(JS_NAMES), "strict": True})

    def _print_Pow(self, expr: sp.Pow) -> str:
        # x**2 as x*x, as numpy computes a square (np.square), so both round alike.
        if expr.exp == 2:
            base = self.parenthesize(expr.base, 100)
            return f"{base}*{base}"
        return str(super()._print_Pow(expr))


def js_function(name: str, exprs: Sequence[sp.Expr], state: Sequence[sp.Symbol],
                params: Sequence[sp.Symbol]) -> str:
    """A JavaScript function ``name(x, p)`` that returns the list ``exprs`` at ``x``.

    Parameters
    ----------
    name
        The function's name in the page.
    exprs
        Expressions in the state and the parameters (quadrature nodes are
        written out here, as for numpy).
    state
        The symbols of ``x[0], x[1], ...``.
    params
        The symbols read from the object ``p`` by name (``p["gamma_r1"]``).

    Returns
    -------
    str
        The function's source.

    Raises
    ------
    SpecError
        An expression with a function the page cannot evaluate, or a free
        symbol that is neither state nor parameter.
    """
    expanded = [expand_quadrature(sp.sympify(e)) for e in exprs]
    known = [*state, *params]
    renamed = {s: sp.Symbol(f"s{i}", real=True) for i, s in enumerate(known)}
    free = set().union(*(e.free_symbols for e in expanded)) - set(known)
    if free:
        raise SpecError("the page cannot evaluate expressions in "
                        f"{', '.join(sorted(str(s) for s in free))}")
    replaced = [e.xreplace(renamed) for e in expanded]
    shared, reduced = sp.cse(replaced, symbols=sp.numbered_symbols("t"))
    printer = _Printer()
    lines = [f"function {name}(x, p) {{"]
    lines += [f"  const {renamed[s]} = x[{i}];" for i, s in enumerate(state)]
    lines += [f"  const {renamed[s]} = p[{str(s.name)!r}];" for s in params]
    try:
        lines += [f"  const {sym} = {printer.doprint(value)};" for sym, value in shared]
        values = [printer.doprint(e) for e in reduced]
    except Exception as exc:  # sympy's PrintMethodNotImplementedError names the function
        raise SpecError(f"the page cannot evaluate this game in JavaScript: {exc}") from None
    lines.append("  return [" + ", ".join(values) + "];")
    lines.append("}")
    return "\n".join(lines)
