"""Derived expressions printed as scalar Python functions that numba compiles.

The numpy path (:class:`gandyn.derivation.numeric.NumericFunction`) evaluates a
list of expressions through :func:`sympy.lambdify` with common subexpressions
eliminated (``cse=True``) and :data:`gandyn.symbolic.functions.NUMPY_NAMESPACE`.
Here the same expressions go through the same elimination and the same printer
(:class:`sympy.printing.numpy.NumPyPrinter` with lambdify's settings), so the
compiled code performs the same floating-point operations in the same order:
on the same libm, the two paths agree bit for bit. The printed text names only
the functions of :data:`SCALAR_HELPERS` (scalar forms of gandyn's stable
functions, written here with numpy's own formulas) and numpy's elementary
functions of :data:`NUMPY_NAMES`; any other name makes the expression
:class:`UnsupportedError` and the caller stays on numpy.

The text is made only from sympy expressions that already went through
gandyn's parsers; no user text is printed or executed.

References
----------
.. [1] Harris et al. (2020). Array programming with NumPy. Nature 585
   (``logaddexp``, whose ``npy_logaddexp`` formula the scalar ``softplus`` repeats).
.. [2] Virtanen et al. (2020). SciPy 1.0: fundamental algorithms for
   scientific computing in Python. Nature Methods 17 (``expit`` and
   ``log_expit``, repeated by ``sigmoid`` and ``log_sigmoid``).
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from typing import Any

import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from gandyn.symbolic.expectations import expand_quadrature
from gandyn.symbolic.functions import NUMPY_NAMESPACE

__all__ = ["NUMPY_NAMES", "SCALAR_HELPERS", "UnsupportedError", "scalar_function"]


class UnsupportedError(Exception):
    """The compiled backend cannot take this case; the message says why (numpy is used)."""


#: numpy's elementwise functions the printer may name; numba compiles them on scalars
#: to the same libm calls numpy makes.
NUMPY_NAMES: tuple[str, ...] = (
    "exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "sin", "cos", "tan", "arcsin",
    "arccos", "arctan", "arctan2", "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh",
    "pi", "e", "inf", "nan", "maximum", "minimum",
)

#: Scalar forms of :data:`gandyn.symbolic.functions.NUMPY_NAMESPACE`, as source text. Each
#: repeats the formula numpy or scipy apply elementwise (see the module's references).
SCALAR_HELPERS: dict[str, str] = {
    "softplus": '''
@njit(cache=True)
def softplus(x):
    # numpy's npy_logaddexp(0, x)
    if x == 0.0:
        return 0.0 + LOGE2
    tmp = 0.0 - x
    if tmp > 0:
        return 0.0 + log1p(exp(-tmp))
    elif tmp <= 0:
        return x + log1p(exp(tmp))
    return tmp
''',
    "sigmoid": '''
@njit(cache=True)
def sigmoid(x):
    # scipy.special.expit
    return 1.0 / (1.0 + exp(-x))
''',
    "log_sigmoid": '''
@njit(cache=True)
def log_sigmoid(x):
    # scipy.special.log_expit
    if x < 0:
        return x - log1p(exp(x))
    return -log1p(exp(-x))
''',
    "relu": '''
@njit(cache=True)
def relu(x):
    # numpy.maximum(x, 0.0): NaN propagates
    if x >= 0.0 or x != x:
        return x
    return 0.0
''',
    "step": '''
@njit(cache=True)
def step(x):
    # numpy.heaviside(x, 0.0)
    if x != x:
        return x
    if x > 0.0:
        return 1.0
    return 0.0
''',
    "sign": '''
@njit(cache=True)
def sign(x):
    # numpy.sign: NaN stays NaN
    if x > 0.0:
        return 1.0
    if x < 0.0:
        return -1.0
    return x
''',
    "DiracDelta": '''
@njit(cache=True)
def DiracDelta(x, *args):
    # dropped, as autodiff drops it (gandyn.symbolic.functions)
    return 0.0
''',
    "fast_softplus": '''
@njit(cache=True)
def fast_softplus(x):
    # gandyn.arrays.fast_softplus
    return maximum(x, 0.0) + log1p(exp(-abs(x)))
''',
    "abs": "",  # Python's builtin: fabs
}

if set(SCALAR_HELPERS) - {"abs", "fast_softplus"} != set(NUMPY_NAMESPACE):
    raise ImportError("gandyn.dynamics.kernels.printing lacks a scalar form of a function of "
                      "NUMPY_NAMESPACE")


class _ScalarPrinter(NumPyPrinter):
    """lambdify's numpy printer, with ``Max``/``Min`` as nested calls numba compiles.

    Integers and rationals are printed as the floats numpy turns them into
    (``2*x`` computes ``2.0*x`` on a float array, ``(1/3)`` is Python's
    correctly rounded quotient): the values are the same, and numba types an
    expression of floats alone several times faster than one that mixes integers.
    """

    def _print_Integer(self, expr: Any) -> str:
        return repr(float(expr.p)) if abs(expr.p) < 2**53 else str(super()._print_Integer(expr))

    def _print_Rational(self, expr: Any) -> str:
        if max(abs(expr.p), expr.q) < 2**53:
            return f"({float(expr.p) / float(expr.q)!r})"
        return str(super()._print_Rational(expr))

    def _print_Max(self, expr: Any) -> str:
        # numpy's reduce(maximum, [a, b, c]) is maximum(maximum(a, b), c)
        text = str(self._print(expr.args[0]))
        for arg in expr.args[1:]:
            text = f"maximum({text}, {self._print(arg)})"
        return text

    def _print_Min(self, expr: Any) -> str:
        text = str(self._print(expr.args[0]))
        for arg in expr.args[1:]:
            text = f"minimum({text}, {self._print(arg)})"
        return text


def _printer(rename: dict[str, str] | None = None) -> _ScalarPrinter:
    # The settings sympy.lambdify passes to its printer for modules=[namespace, "numpy"].
    functions = {name: name for name in NUMPY_NAMESPACE}
    functions.update(rename or {})
    return _ScalarPrinter({"fully_qualified_modules": False, "inline": True,
                           "allow_unknown_functions": True, "user_functions": functions})


def _check_names(text: str, allowed: set[str]) -> None:
    """Refuse printed code that names anything but arguments, temporaries and known functions."""
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Name) and node.id not in allowed:
            raise UnsupportedError(f"the expression uses {node.id!r}, which the compiled backend "
                              "does not implement")
        if isinstance(node, ast.Attribute | ast.Subscript | ast.Lambda | ast.ListComp):
            raise UnsupportedError("the printed expression is not a plain arithmetic expression")


def scalar_function(name: str, exprs: Sequence[sp.Expr], args: Sequence[sp.Symbol],
                    rename: dict[str, str] | None = None) -> str:
    """Source of ``def name(*args)`` returning the tuple of ``exprs`` as the numpy path has them.

    Parameters
    ----------
    name
        The function's name in the generated module.
    exprs
        The expressions (quadrature nodes are written out as the numpy path does).
    args
        The state symbols, then the hyper-parameter symbols, in the numpy path's order.
    rename
        Functions printed under another helper's name (``softplus`` as
        ``fast_softplus``, as the sweep's monitored losses are evaluated).

    Raises
    ------
    UnsupportedError
        An expression names a function the compiled backend does not implement.
    """
    flat = [expand_quadrature(sp.sympify(e)) for e in exprs]
    # As sympy.lambdify(..., cse=True) does: one elimination over the list.
    cses, reduced = sp.cse(flat, list=False)
    printer = _printer(rename)
    # The symbols keep their names: the printed order of a sum follows them, and with
    # it the order of the additions.
    arg_names = [printer.doprint(s) for s in args]
    if not all(a.isidentifier() for a in arg_names):
        raise UnsupportedError("a symbol's name is not a Python identifier")
    lines = [f"def {name}({', '.join(arg_names)}):"]
    temporaries: set[str] = set()
    for symbol, expr in cses:
        text = printer.doprint(expr)
        lines.append(f"    {symbol} = {text}")
        temporaries.add(str(symbol))
    values = [printer.doprint(e) for e in reduced]
    # A constant entry is a number: a float, so that the tuple is homogeneous.
    values = [f"float({v})" if not (sp.sympify(e).free_symbols) else v
              for v, e in zip(values, reduced, strict=True)]
    lines.append(f"    return ({', '.join(values)}{',' if len(values) == 1 else ''})")
    text = "\n".join(lines) + "\n"
    allowed = {*arg_names, *temporaries, *NUMPY_NAMES, *SCALAR_HELPERS, "float", name}
    _check_names(text, allowed)
    return text
