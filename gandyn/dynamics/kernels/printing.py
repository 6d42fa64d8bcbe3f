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

from gandyn.symbolic.expectations import vectorize_quadrature
from gandyn.symbolic.functions import FUNCTIONS, NUMPY_NAMESPACE

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

# (NUMPY_NAMESPACE also gains the vectorized quadrature sums of gandyn.symbolic.expectations
# at run time; this backend writes quadrature out instead, so only the functions count)
if set(SCALAR_HELPERS) - {"abs", "fast_softplus"} != set(FUNCTIONS) | {"sign", "DiracDelta"}:
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
    functions = {name: name for name in NUMPY_NAMESPACE if name in SCALAR_HELPERS}
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
    # As the numpy path: quadrature nodes become calls that sum over the rule's nodes
    # (printed below as loops), then one elimination over the list, as
    # sympy.lambdify(..., cse=True) does.
    flat = [vectorize_quadrature(sp.sympify(e)) for e in exprs]
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
    sums = _quadrature_sums([*flat], printer)
    allowed = {*arg_names, *temporaries, *NUMPY_NAMES, *SCALAR_HELPERS, "float", name, *sums}
    _check_names(text, allowed)
    return "".join(sums.values()) + "@njit(cache=True)\n" + text


def _quadrature_sums(exprs: Sequence[sp.Expr], printer: _ScalarPrinter) -> dict[str, str]:
    """Source of each quadrature call in ``exprs`` (nested ones first), by the call's name.

    numpy evaluates ``gandyn_quadrature_k(a, ...)`` as ``total = 0; total = total +
    w_q * f(u_q, a, ...)`` node by node (:func:`gandyn.symbolic.expectations.vectorize_quadrature`),
    with the integrand ``f`` printed without elimination; the loop below does the same.
    """
    from gandyn.symbolic import expectations

    nodes = {str(call.func): key for key, call in expectations._VECTORIZED.items()}
    found: dict[str, str] = {}
    pending = [e for e in exprs]
    while pending:
        expr = sp.sympify(pending.pop())
        for call in expr.atoms(sp.Function):
            name = str(call.func)
            if name in found or not name.startswith("gandyn_quadrature_"):
                continue
            if name not in nodes:
                raise UnsupportedError(f"the quadrature {name} is not registered")
            kind, integrand, variable, order = nodes[name]
            inner = expectations.vectorize_quadrature(integrand)
            arguments = [printer.doprint(a) for a in sorted(integrand.free_symbols - {variable},
                                                             key=lambda s: s.name)]
            bound = printer.doprint(variable)
            points, weights = expectations._numeric_rule(kind.__name__, int(order))
            body = printer.doprint(inner)
            allowed = {*arguments, bound, *NUMPY_NAMES, *SCALAR_HELPERS, "float"}
            allowed |= {str(c.func) for c in sp.sympify(inner).atoms(sp.Function)}
            if not (bound.isidentifier() and all(a.isidentifier() for a in arguments)):
                raise UnsupportedError("a symbol's name is not a Python identifier")
            _check_names(body, allowed)
            found[name] = (
                f"_P_{name} = np.array({[float(p) for p in points]!r})\n"
                f"_W_{name} = np.array({[float(w) for w in weights]!r})\n\n\n"
                "@njit(cache=True)\n"
                f"def {name}({', '.join(arguments)}):\n"
                "    total = 0.0\n"
                f"    for q in range({len(points)}):\n"
                f"        {bound} = _P_{name}[q]\n"
                f"        total = total + _W_{name}[q] * ({body})\n"
                "    return total\n\n\n")
            pending.append(sp.sympify(inner))
    # nested sums are used by the outer ones: define them first
    return dict(reversed(list(found.items())))
