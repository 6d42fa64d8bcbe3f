"""A safe parser for the arithmetic expressions users type (game files, ``--at`` values).

Text from a game file or the command line is never handed to :func:`eval`,
:func:`sympy.sympify` or :func:`sympy.parsing.sympy_parser.parse_expr`: all of
those evaluate Python code, so ``__import__('os').system(...)`` would run.
Instead the text is parsed by :func:`ast.parse` (which only builds a syntax
tree and executes nothing) and the tree is walked here, node by node, building
the sympy expression from an allow-list:

* integer and float literals (complex numbers, strings, booleans are refused);
* the names of the symbols the caller supplies, and the constants ``pi`` and
  ``E`` (Euler's number);
* ``+ - * / **`` and unary ``+ -``, with parentheses (``^`` is refused with a
  hint to use ``**``);
* calls with one positional argument of ``exp log sqrt sin cos tanh abs``,
  the sympy spellings ``Abs`` and ``sign``, ``DiracDelta`` (which derivatives
  of ``Abs`` contain), and gandyn's activations ``softplus sigmoid
  log_sigmoid relu step`` (:data:`gandyn.symbolic.functions.FUNCTIONS`);
* the quadrature nodes ``GaussHermite(f, u, order)`` and
  ``GaussLegendre(f, u, order)`` of :mod:`gandyn.symbolic.expectations`, where the
  name ``u`` is bound inside ``f`` and ``order`` is an integer literal.

Anything else (attribute access, subscripts, lambdas, comprehensions,
keyword arguments, unknown names, ...) raises :class:`~gandyn.errors.SpecError`
with a one-line message such as::

    expression 'os.system(1)' in [generator] sample: attribute access is not allowed

The printed form of a gandyn expression parses back to the identical
expression when its symbols are supplied (``str`` then ``parse_expression``
is a round trip): ``2`` becomes ``Integer(2)`` and ``1/2`` the
``Rational(1, 2)`` (integer arithmetic stays exact); a float literal ``0.5``
becomes ``Float('0.5', 17)``, the form :mod:`gandyn.symbolic.expectations` gives
quadrature weights; and a chain ``a*b/c`` or ``a + b - c`` is built as one
``Mul`` or ``Add``, as sympy built the printed expression (pairwise
evaluation would distribute ``2*(a + b)`` before the next factor arrives).
A Float that sympy computed as a product of two others may print with fewer
digits than it holds; it then parses back to a Float equal to 17 digits.
"""

from __future__ import annotations

import ast
import difflib
import math
from collections.abc import Callable, Mapping
from typing import Any

import sympy as sp

from gandyn.errors import SpecError
from gandyn.symbolic.expectations import QUADRATURES
from gandyn.symbolic.functions import FUNCTIONS, NUMPY_NAMESPACE
from gandyn.symbolic.limits import (
    MAX_DEPTH,
    MAX_EXPONENT,
    MAX_FLOAT,
    MAX_FUNCTION_NESTING,
    MAX_LENGTH,
    MAX_NODES,
)
from gandyn.symbolic.model import real_symbol

__all__ = [
    "CONSTANTS",
    "EXPRESSION_FUNCTIONS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "MAX_QUADRATURE_ORDER",
    "check_constants_at",
    "check_size",
    "parse_expression",
    "parse_number",
]

#: A power of exact numbers is computed exactly by sympy; ``9**9**9`` would
#: take minutes and gigabytes. Refuse results estimated above this many bits.
_MAX_POWER_BITS = 100_000
_MAX_EXPONENT = 1_000_000

#: Named constants. Symbols the caller supplies take precedence.
CONSTANTS: dict[str, sp.Expr] = {"pi": sp.pi, "E": sp.E}

#: Callable names -> (sympy function, allowed numbers of arguments).
EXPRESSION_FUNCTIONS: dict[str, tuple[Callable[..., sp.Expr], tuple[int, ...]]] = {
    "exp": (sp.exp, (1,)),
    "log": (sp.log, (1,)),
    "sqrt": (sp.sqrt, (1,)),
    "sin": (sp.sin, (1,)),
    "cos": (sp.cos, (1,)),
    "tanh": (sp.tanh, (1,)),
    "abs": (sp.Abs, (1,)),
    # sympy's printed names, so that printed expressions parse back.
    "Abs": (sp.Abs, (1,)),
    "sign": (sp.sign, (1,)),
    # Derivatives of Abs and sign print as DiracDelta(x) or DiracDelta(x, k).
    "DiracDelta": (sp.DiracDelta, (1, 2)),
    **{name: (func, (1,)) for name, func in FUNCTIONS.items()},
}

_OPERATORS: dict[type[ast.operator], str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.Pow: "**",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitAnd: "&",
    ast.BitXor: "^",
}

# Why a node type is refused, phrased for a user who typed it.
_REFUSED: dict[type[ast.AST], str] = {
    ast.Attribute: "attribute access is not allowed",
    ast.Subscript: "subscripts are not allowed",
    ast.Lambda: "lambda is not allowed",
    ast.IfExp: "conditional expressions (a if b else c) are not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed",
    ast.List: "lists are not allowed",
    ast.Tuple: "tuples are not allowed",
    ast.Set: "sets are not allowed",
    ast.Dict: "dictionaries are not allowed",
    ast.Compare: "comparisons are not allowed",
    ast.BoolOp: "'and' and 'or' are not allowed",
    ast.NamedExpr: "assignments (:=) are not allowed",
    ast.JoinedStr: "strings are not allowed",
    ast.FormattedValue: "strings are not allowed",
    ast.Starred: "starred arguments are not allowed",
    ast.Await: "'await' is not allowed",
    ast.Yield: "'yield' is not allowed",
    ast.YieldFrom: "'yield' is not allowed",
    ast.Slice: "slices are not allowed",
}

#: Largest quadrature order accepted in ``GaussHermite(f, u, order)``.
MAX_QUADRATURE_ORDER = 1000

_NOT_FINITE = (sp.S.NaN, sp.S.ComplexInfinity, sp.S.Infinity, sp.S.NegativeInfinity)


class _RefusedError(Exception):
    """Internal: why the walk stopped; :func:`parse_expression` adds the context."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _show(text: str, limit: int = 60) -> str:
    """``repr`` of ``text`` shortened for a one-line message (repr escapes newlines)."""
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return repr(text)


def _prefix(text: str, where: str) -> str:
    """``expression '<text>' in <where>`` (``where`` omitted when it is the default)."""
    shown = f"expression {_show(text)}"
    return shown if where == "expression" else f"{shown} in {where}"


def _where(node: ast.AST) -> str:
    """`` (column N)`` for a node that does not start the text, for messages."""
    col = getattr(node, "col_offset", None)
    return f" (column {col + 1})" if col else ""


class _Builder:
    """Walks an :mod:`ast` tree, building the sympy expression from the allow-list."""

    def __init__(self, text: str, symbols: Mapping[str, sp.Symbol]) -> None:
        self.text = text
        self.symbols = symbols

    # -- helpers --------------------------------------------------------------------------------

    def _segment(self, node: ast.AST) -> str:
        segment = ast.get_source_segment(self.text, node)
        return segment if segment is not None else ""

    def _refuse(self, reason: str, node: ast.AST) -> _RefusedError:
        return _RefusedError(reason + _where(node))

    def _allowed_names(self) -> str:
        names = ", ".join(sorted(self.symbols)) or "none"
        return f"allowed names: {names}; constants: pi, E; functions: {_function_names()}"

    # -- the walk -------------------------------------------------------------------------------

    def build(self, node: ast.AST, depth: int = 0) -> sp.Expr:
        expr = self._build(node, depth)
        if not isinstance(node, ast.Constant | ast.Name) and not expr.free_symbols:
            # A constant: sympy keeps it exact and evaluates it again in every
            # derivative, so one beyond double precision is refused here.
            _check_finite(expr, self._segment(node) or str(expr))
        return expr

    def _build(self, node: ast.AST, depth: int) -> sp.Expr:
        if depth > MAX_DEPTH:
            raise self._refuse(f"nested more than {MAX_DEPTH} levels deep (limit MAX_DEPTH)",
                               node)
        if isinstance(node, ast.Constant):
            return self._constant(node)
        if isinstance(node, ast.Name):
            return self._name(node)
        if isinstance(node, ast.BinOp):
            return self._binop(node, depth)
        if isinstance(node, ast.UnaryOp):
            return self._unary(node, depth)
        if isinstance(node, ast.Call):
            return self._call(node, depth)
        reason = _REFUSED.get(type(node), f"{type(node).__name__} expressions are not allowed")
        raise self._refuse(reason, node)

    def _constant(self, node: ast.Constant) -> sp.Expr:
        value = node.value
        # bool is a subclass of int: test it first.
        if isinstance(value, bool):
            raise self._refuse("booleans are not allowed", node)
        if isinstance(value, int):
            if abs(value) > MAX_FLOAT:
                raise self._refuse(_too_large(f"the integer {_show(self._segment(node), 30)}"),
                                   node)
            return sp.Integer(value)
        if isinstance(value, float):
            if not math.isfinite(value):
                raise self._refuse(f"number {self._segment(node)} is out of range", node)
            # Keep the literal's own digits (up to 17 significant ones), not the
            # double nearest to it: a 17-digit printed sympy Float then parses
            # back to the identical Float.
            literal = self._segment(node).replace("_", "") or repr(value)
            return sp.Float(literal, 17)
        if isinstance(value, complex):
            raise self._refuse("complex numbers are not allowed", node)
        if isinstance(value, str | bytes):
            raise self._refuse("strings are not allowed", node)
        raise self._refuse(f"{value!r} is not allowed", node)

    def _name(self, node: ast.Name) -> sp.Expr:
        name = node.id
        if name.startswith("__"):
            raise self._refuse(f"name {name!r} is not allowed", node)
        if name in self.symbols:
            return self.symbols[name]
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name in EXPRESSION_FUNCTIONS:
            raise self._refuse(f"{name!r} is a function; call it as {name}(...)", node)
        close = difflib.get_close_matches(name, [*self.symbols, *CONSTANTS], n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise _RefusedError(
            f"name {name!r} is not allowed{_where(node)}{hint} ({self._allowed_names()})"
        )

    def _binop(self, node: ast.BinOp, depth: int) -> sp.Expr:
        self._check_operator(node)
        if isinstance(node.op, ast.Pow):
            base = self.build(node.left, depth + 1)
            exponent = self.build(node.right, depth + 1)
            self._check_power_size(node, base, exponent)
            if not base.free_symbols and not exponent.free_symbols:
                # Predict the value in floating point before sympy computes it exactly.
                _check_finite(sp.Pow(base, exponent, evaluate=False), self._segment(node))
            return base**exponent
        # Walk the left spine of a chain of operators of equal precedence
        # (a + b - c + ...) iteratively, so a long flat sum does not count as
        # deep nesting nor recurse once per term.
        additive = isinstance(node.op, ast.Add | ast.Sub)
        group = (ast.Add, ast.Sub) if additive else (ast.Mult, ast.Div)
        chain: list[ast.BinOp] = [node]
        left = node.left
        while isinstance(left, ast.BinOp) and isinstance(left.op, group):
            chain.append(left)
            left = left.left
        # Combine the whole chain in one Add or Mul, as sympy builds the
        # expressions it prints: evaluating (2*(a + b))*c pairwise would
        # distribute the 2 over the sum and give a different tree.
        operands = [self.build(left, depth + 1)]
        if not additive and isinstance(left, ast.UnaryOp) and isinstance(left.op, ast.USub):
            # The printer writes Mul(-1/2, a + b, c) as "-(a + b)*c/2"; negating
            # (a + b) first would distribute the sign over the sum, so the sign
            # joins the product's coefficient instead.
            operands = [sp.S.NegativeOne, self.build(left.operand, depth + 2)]
        for op_node in reversed(chain):
            right = self.build(op_node.right, depth + 1)
            if isinstance(op_node.op, ast.Sub):
                right = -right
            elif isinstance(op_node.op, ast.Div):
                # Pow(b, -1), as sympy's a / b does: 1/2 becomes Rational(1, 2).
                right = right**-1
            operands.append(right)
        return sp.Add(*operands) if additive else sp.Mul(*operands)

    def _check_operator(self, node: ast.BinOp) -> None:
        if isinstance(node.op, ast.Add | ast.Sub | ast.Mult | ast.Div | ast.Pow):
            return
        symbol = _OPERATORS.get(type(node.op), type(node.op).__name__)
        if isinstance(node.op, ast.BitXor):
            raise self._refuse("'^' is not allowed; use ** for powers", node)
        raise self._refuse(f"operator {symbol!r} is not allowed", node)

    def _check_power_size(self, node: ast.BinOp, base: sp.Expr, exponent: sp.Expr) -> None:
        # sympy evaluates a power of two numbers at once, exactly for rationals:
        # 9**9**9 or 2.0**10**20000 would run for minutes. Symbolic powers stay
        # unevaluated and cost nothing.
        if exponent.is_Rational and base.free_symbols:
            assert isinstance(exponent, sp.Rational)
            if max(abs(int(exponent.p)), int(exponent.q)) > MAX_EXPONENT:
                raise self._refuse(_exponent_message(exponent), node)
            return
        if not (base.is_Number and exponent.is_Number) or base in (0, 1, -1):
            return
        assert isinstance(base, sp.Number) and isinstance(exponent, sp.Number)
        if abs(exponent) > _MAX_EXPONENT:
            raise self._refuse("the power is too large to compute", node)
        if base.is_Rational and exponent.is_Rational:
            assert isinstance(base, sp.Rational)
            bits = max(abs(int(base.p)).bit_length(), int(base.q).bit_length())
            if bits * abs(exponent) > _MAX_POWER_BITS:
                raise self._refuse("the power is too large to compute", node)

    def _unary(self, node: ast.UnaryOp, depth: int) -> sp.Expr:
        if isinstance(node.op, ast.USub):
            return -self.build(node.operand, depth + 1)
        if isinstance(node.op, ast.UAdd):
            return self.build(node.operand, depth + 1)
        spelled = {ast.Not: "not", ast.Invert: "~"}.get(type(node.op), type(node.op).__name__)
        raise self._refuse(f"operator {spelled!r} is not allowed", node)

    def _call(self, node: ast.Call, depth: int) -> sp.Expr:
        if not isinstance(node.func, ast.Name):
            if isinstance(node.func, ast.Attribute):
                raise self._refuse("attribute access is not allowed", node.func)
            raise self._refuse("only named functions can be called", node)
        name = node.func.id
        entry = EXPRESSION_FUNCTIONS.get(name)
        if entry is None and name not in QUADRATURES:
            known = [*EXPRESSION_FUNCTIONS, *QUADRATURES]
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise _RefusedError(
                f"function {name!r} is not allowed{_where(node)}{hint} "
                f"(allowed functions: {_function_names()})"
            )
        if node.keywords:
            raise self._refuse(f"{name}() takes no keyword arguments", node)
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise self._refuse("starred arguments are not allowed", arg)
        if entry is None:
            return self._quadrature(node, name, depth)
        func, arities = entry
        if len(node.args) not in arities:
            wanted = "exactly one argument" if arities == (1,) else (
                " or ".join(str(a) for a in arities) + " arguments"
            )
            raise self._refuse(f"{name}() takes {wanted} ({len(node.args)} given)", node)
        args = [self.build(arg, depth + 1) for arg in node.args]
        if len(args) == 1 and not args[0].free_symbols and func in _FLOAT_FUNCTIONS:
            # exp(exp(exp(E))) is built in no time, but sympy then evaluates it
            # to ever higher precision: predict the value in floating point first.
            _check_finite(func(args[0], evaluate=False), self._segment(node))
        if func is sp.DiracDelta and len(args) == 2 and not (
            args[1].is_Integer and args[1] >= 0
        ):
            raise self._refuse("DiracDelta()'s second argument must be an integer >= 0", node)
        return func(*args)

    def _quadrature(self, node: ast.Call, name: str, depth: int) -> sp.Expr:
        """``GaussHermite(f, u, order)``: ``u`` is bound inside ``f`` only.

        gandyn prints expectations without a closed form this way
        (:mod:`gandyn.symbolic.expectations`); ``u`` names the standardized variable
        and need not be among the caller's symbols.
        """
        usage = f"{name}(f, u, order) takes an integrand, a variable name and an integer order"
        if len(node.args) != 3:
            raise self._refuse(f"{usage} ({len(node.args)} arguments given)", node)
        integrand, variable, order = node.args
        if not isinstance(variable, ast.Name) or variable.id.startswith("__") or (
            variable.id in CONSTANTS or variable.id in EXPRESSION_FUNCTIONS
            or variable.id in QUADRATURES
        ):
            raise self._refuse(f"{usage}: the second argument must be a plain name", variable)
        if not (
            isinstance(order, ast.Constant)
            and type(order.value) is int
            and 1 <= order.value <= MAX_QUADRATURE_ORDER
        ):
            raise self._refuse(
                f"{usage}: the order must be an integer from 1 to {MAX_QUADRATURE_ORDER}", order
            )
        bound = real_symbol(variable.id)
        inner = _Builder(self.text, {**self.symbols, variable.id: bound})
        f = inner.build(integrand, depth + 1)
        return QUADRATURES[name](f, bound, sp.Integer(order.value))


# -- limits on the work an expression asks for --------------------------------------------------


def _too_large(what: str, exact: bool = True) -> str:
    why = "; sympy would carry it exactly into every derivative" if exact else ""
    return f"{what} is beyond double precision (limit MAX_FLOAT, about {MAX_FLOAT:.1e}){why}"


def _exponent_message(exponent: sp.Rational) -> str:
    return (f"the exponent {exponent} is too large (numerator and denominator at most "
            f"{MAX_EXPONENT}, limit MAX_EXPONENT): derivatives and expectations of such "
            "powers grow without bound")


class _NoFloatValueError(Exception):
    """Internal: an expression with no value in floating point (a domain error, a free symbol)."""


class _OverflowFoundError(Exception):
    """Internal: a subexpression beyond double precision."""

    def __init__(self, expr: sp.Expr) -> None:
        super().__init__(str(expr))
        self.expr = expr


def _strict_float(expr: sp.Expr, values: Mapping[sp.Basic, float]) -> float:
    """The value of ``expr`` in double precision, every intermediate checked finite.

    Symbols take their ``values``. Raises :class:`_OverflowFoundError` naming
    the first subexpression beyond double precision, or
    :class:`_NoFloatValueError` if there is no real value to compute.
    """
    if expr in values:
        return values[expr]
    try:
        if expr.is_Number or expr.is_NumberSymbol:
            value = float(expr)
        elif expr.is_Add:
            value = math.fsum(_strict_float(a, values) for a in expr.args)
        elif expr.is_Mul:
            value = math.prod(_strict_float(a, values) for a in expr.args)
        elif expr.is_Pow:
            base, exponent = (_strict_float(a, values) for a in expr.args)
            value = float(math.pow(base, exponent))
        elif expr.func in _FLOAT_FUNCTIONS and len(expr.args) == 1:
            value = _FLOAT_FUNCTIONS[expr.func](_strict_float(expr.args[0], values))
        else:
            raise _NoFloatValueError(str(expr))
    except OverflowError:
        raise _OverflowFoundError(expr) from None
    except (ValueError, ZeroDivisionError, TypeError):
        raise _NoFloatValueError(str(expr)) from None
    if math.isnan(value):
        raise _NoFloatValueError(str(expr))
    if math.isinf(value):
        raise _OverflowFoundError(expr)
    return value


def _check_finite(expr: sp.Expr, shown: str) -> None:
    """Refuse a constant beyond double precision (the walk adds the context)."""
    try:
        _strict_float(expr, {})
    except _OverflowFoundError as err:
        what = f"the constant {_show(shown or str(err.expr), 40)}"
        raise _RefusedError(_too_large(what)) from None
    except _NoFloatValueError:
        return  # no real value (sqrt(-1)): not a size problem; other checks decide


_NESTING_FUNCTIONS = (sp.exp, sp.log, sp.sin, sp.cos, sp.tanh, *FUNCTIONS.values())


def _nests(expr: sp.Basic) -> bool:
    """Whether ``expr`` adds a level of transcendental or root nesting."""
    if isinstance(expr, _NESTING_FUNCTIONS):
        return not isinstance(expr, FUNCTIONS["relu"] | FUNCTIONS["step"])
    return bool(expr.is_Pow and not expr.exp.is_Integer)


def _nesting(expr: sp.Basic, memo: dict[int, int]) -> int:
    found = memo.get(id(expr))
    if found is None:
        inner = max((_nesting(a, memo) for a in expr.args), default=0)
        found = memo[id(expr)] = inner + (1 if _nests(expr) else 0)
    return found


def check_size(expr: sp.Expr, *, max_nodes: int | None = MAX_NODES) -> None:
    """Refuse an expression beyond the limits of :mod:`gandyn.symbolic.limits`.

    Checks the node count (``max_nodes``; ``None``: no limit), the numeric
    exponents of powers of non-numbers (``MAX_EXPONENT``; sympy may have
    merged ``(theta**10)**10`` or ``x*x*...*x``) and the nesting of
    transcendental functions and roots (``MAX_FUNCTION_NESTING``).

    Raises
    ------
    SpecError
        Naming the limit.
    """
    try:
        _check_size(expr, max_nodes)
    except _RefusedError as err:
        raise SpecError(err.reason) from None


def _check_size(expr: sp.Expr, max_nodes: int | None) -> None:
    for count, sub in enumerate(sp.preorder_traversal(expr), start=1):
        if max_nodes is not None and count > max_nodes:
            raise _RefusedError(
                f"more than {max_nodes} operations and symbols (limit MAX_NODES); "
                "split it with hyper-parameters or simplify it")
        if sub.is_Pow and sub.exp.is_Rational and sub.base.free_symbols:
            exponent = sub.exp
            if max(abs(int(exponent.p)), int(exponent.q)) > MAX_EXPONENT:
                raise _RefusedError(_exponent_message(exponent))
    depth = _nesting(expr, {})
    if depth > MAX_FUNCTION_NESTING:
        raise _RefusedError(
            f"transcendental functions, roots and symbolic powers are nested {depth} deep "
            f"(at most {MAX_FUNCTION_NESTING}, limit MAX_FUNCTION_NESTING): their "
            "derivatives grow with every level and their values overflow")


def check_constants_at(expr: sp.Expr, values: Mapping[sp.Symbol, float]) -> str | None:
    """Why ``expr`` cannot be evaluated exactly at ``values`` (a data point), or ``None``.

    sympy substitutes a data point into the logit exactly: ``exp(exp(x))`` at
    ``x = 1000`` becomes a constant of about ``10**(10**433)`` digits that it
    then evaluates in every derivative, without end. Every subexpression
    whose symbols all have ``values`` is computed in double precision here;
    one beyond it is reported (with the limit), other symbols stay free.
    """
    stack = [expr]
    while stack:
        sub = stack.pop()
        if sub.free_symbols <= set(values):
            try:
                _strict_float(sub, values)
            except _OverflowFoundError as err:
                return _too_large(f"the value of {_show(str(err.expr), 40)}", exact=False)
            except _NoFloatValueError:
                stack.extend(sub.args)
            continue
        stack.extend(sub.args)
    return None


def _function_names() -> str:
    return ", ".join(sorted([*EXPRESSION_FUNCTIONS, *QUADRATURES]))


def parse_expression(
    text: str,
    symbols: Mapping[str, sp.Symbol],
    *,
    where: str = "expression",
    max_length: int | None = MAX_LENGTH,
) -> sp.Expr:
    """Parse ``text`` into a sympy expression without evaluating any code.

    Parameters
    ----------
    text
        The expression, in Python syntax: ``psi * sigmoid(-c*psi) + 1/2``.
    symbols
        The names the expression may use and their symbols; they take
        precedence over the constants ``pi`` and ``E``.
    where
        Where the text comes from, for error messages (``"[generator] sample"``).
    max_length
        Longest text accepted; ``None`` for no limit (for text gandyn printed
        itself, which may be long).

    Returns
    -------
    sympy.Expr
        The expression. Integers are exact (``1/2`` is ``Rational(1, 2)``)
        and float literals become 17-digit sympy Floats.

    Raises
    ------
    SpecError
        With a one-line message ``expression '<text>' in <where>: <reason>``
        for a syntax error (with its column), a construct outside the
        allow-list, an unknown name or function, a wrong number of arguments,
        text too long or too deeply nested, or a result that is infinite or
        undefined (``1/0``).
    """
    if not isinstance(text, str):
        raise SpecError(f"{where}: expected an expression as text, not {type(text).__name__}")
    # Line breaks and tabs become spaces: eval-mode parsing would refuse a
    # break outside parentheses ("unexpected indent"), and a multi-line TOML
    # string is then read as one line. Leading spaces are refused by the
    # parser too, so strip; columns in messages refer to the text shown.
    text = text.replace("\r", " ").replace("\n", " ").replace("\t", " ").strip()
    prefix = _prefix(text, where)
    if not text:
        raise SpecError(f"{prefix}: the expression is empty")
    if max_length is not None and len(text) > max_length:
        raise SpecError(f"{prefix}: longer than {max_length} characters ({len(text)})")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as err:
        # Python 3.11 reports an unexpected end of input at offset 0.
        at = (
            f" at column {err.offset}"
            if err.offset and err.offset <= len(text)
            else " at the end of the expression"
        )
        raise SpecError(f"{prefix}: syntax error{at}: {err.msg}") from None
    except ValueError as err:
        # Python 3.11 reports null bytes as ValueError rather than SyntaxError.
        raise SpecError(f"{prefix}: {str(err).splitlines()[0]}") from None
    except (RecursionError, MemoryError):
        raise SpecError(f"{prefix}: nested too deeply") from None
    try:
        expr = _Builder(text, symbols).build(tree.body)
    except _RefusedError as err:
        raise SpecError(f"{prefix}: {err.reason}") from None
    except RecursionError:
        raise SpecError(f"{prefix}: nested too deeply") from None
    try:
        _check_size(expr, MAX_NODES if max_length is not None else None)
    except _RefusedError as err:
        raise SpecError(f"{prefix}: {err.reason}") from None
    if expr.has(*_NOT_FINITE):
        raise SpecError(f"{prefix}: the value is infinite or undefined (division by zero?)")
    return expr


def parse_number(text: str, where: str) -> float:
    """Parse a numeric expression with no symbols, such as ``1/2``, ``-pi/4`` or ``1e-3``.

    Parameters
    ----------
    text
        The expression; may use ``pi``, ``E`` and the allowed functions.
    where
        Where the text comes from, for error messages (``"--at theta"``).

    Returns
    -------
    float
        The finite real value.

    Raises
    ------
    SpecError
        If the text does not parse (see :func:`parse_expression`), or its
        value is not a finite real number.
    """
    expr = parse_expression(text, {}, where=where)
    prefix = _prefix(text.strip(), where)
    if expr.has(sp.I):
        # sympy already reduced sqrt(-1) or log(-2) to an imaginary value.
        raise SpecError(f"{prefix}: not a real number (value {_show(str(expr))})")
    try:
        value = _to_float(expr)
    except _RefusedError as err:
        raise SpecError(f"{prefix}: {err.reason}") from None
    if not math.isfinite(value):
        raise SpecError(f"{prefix}: the value is not a finite number ({value})")
    return value


def _float_functions() -> dict[object, Callable[[float], float]]:
    functions: dict[object, Callable[[float], float]] = {
        sp.exp: math.exp,
        sp.log: math.log,
        sp.sin: math.sin,
        sp.cos: math.cos,
        sp.tanh: math.tanh,
        sp.Abs: abs,
        sp.sign: lambda v: float((v > 0) - (v < 0)),
        sp.DiracDelta: lambda v: 0.0,
    }
    for name, func in FUNCTIONS.items():
        functions[func] = _as_float(NUMPY_NAMESPACE[name])
    return functions


def _as_float(numeric: Callable[[float], Any]) -> Callable[[float], float]:
    """Wrap a numpy function of :data:`NUMPY_NAMESPACE` to return a Python float."""

    def call(value: float) -> float:
        return float(numeric(value))

    return call


_FLOAT_FUNCTIONS = _float_functions()
_QUADRATURE_CLASSES = frozenset(QUADRATURES.values())


def _to_float(expr: sp.Expr) -> float:
    """Evaluate a numeric expression in double precision.

    ``float(expr)`` would call sympy's adaptive-precision ``evalf``, which
    does not know gandyn's activations and can run for minutes on
    ``sin(exp(exp(100)))``; here every operation is one float operation, an
    overflow is ``inf`` and a domain error is reported.
    """
    try:
        if expr.is_Number or expr.is_NumberSymbol:
            return float(expr)
        if expr.is_Add:
            return math.fsum(_to_float(a) for a in expr.args)
        if expr.is_Mul:
            return math.prod(_to_float(a) for a in expr.args)
        if expr.is_Pow:
            base, exponent = (_to_float(a) for a in expr.args)
            return float(math.pow(base, exponent))
        if expr.func in _QUADRATURE_CLASSES:
            return _to_float(expr.expanded())
        func = _FLOAT_FUNCTIONS.get(expr.func)
        if func is not None and len(expr.args) == 1:
            return func(_to_float(expr.args[0]))
    except OverflowError:
        return math.inf
    except (ValueError, ZeroDivisionError):
        raise _RefusedError(
            f"{_show(str(expr))} has no real value in floating point (domain error)"
        ) from None
    raise _RefusedError(f"cannot evaluate {_show(str(expr))} to a number")
