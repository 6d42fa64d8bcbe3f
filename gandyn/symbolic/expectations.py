"""Distributions of the random variables of a game, and exact symbolic expectations.

An expectation is taken one random variable at a time and stays a sympy
expression in the players' parameters and the hyper-parameters:

* a weighted set of points gives the weighted sum (exact);
* a normal or uniform variable gives the closed form whenever the integrand
  is a polynomial in that variable (its moments are known exactly);
* otherwise a Gauss quadrature of a chosen order (Gauss-Hermite for normal,
  Gauss-Legendre for uniform variables) replaces the integral by a weighted
  sum over fixed nodes. The rule is exact for polynomials of degree
  ``2 * order - 1`` and is the *same* deterministic discretisation in every
  derivative, so the derived gradients are the exact gradients of the
  discretised game. The sum is kept as an unexpanded node
  ``GaussHermite(f(u), u, order)`` (``u`` bound, standard normal), which
  prints compactly and is differentiated under the sum;
  :func:`expand_quadrature` writes out the weighted sum for numeric code.

For numpy code, :func:`vectorize_quadrature` turns each node into a call that
sums its integrand over an array of nodes, and :class:`FusedQuadrature`
evaluates all the calls of a set of expressions that share a rule at once, each
subexpression their integrands share (the sigmoid of a logit over the nodes)
computed once, to the same bits as the calls alone.

The order may be left to be chosen (:data:`AUTO_ORDER`): :func:`choose_order`
evaluates expressions numerically at a few representative states, without
expanding them, at successive orders ``n`` and ``2 n`` until they change by
less than a stated tolerance (:data:`DEFAULT_QUADRATURE_TOLERANCE`), and
:func:`with_order` writes the chosen order into every node left open.

References
----------
.. [1] Golub and Welsch (1969). Calculation of Gauss quadrature
   rules. Mathematics of Computation 23(106), 221-230.
.. [2] Abramowitz and Stegun (1964). Handbook of Mathematical
   Functions, 25.4.46 (Gauss-Hermite) and 25.4.29 (Gauss-Legendre).
.. [3] Davis and Rabinowitz (1984). Methods of Numerical Integration,
   2nd ed., Sec. 6.2 (the difference of two rules as an error estimate).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp
from sympy.printing.numpy import NumPyPrinter

__all__ = [
    "AUTO_ORDER",
    "AUTO_ORDERS",
    "DEFAULT_QUADRATURE_ORDER",
    "DEFAULT_QUADRATURE_TOLERANCE",
    "QUADRATURES",
    "Distribution",
    "FusedQuadrature",
    "GaussHermite",
    "GaussLegendre",
    "Normal",
    "OrderChoice",
    "PointMasses",
    "SubstitutingPrinter",
    "Uniform",
    "check_order",
    "choose_order",
    "evaluate_at_order",
    "expand_quadrature",
    "expect",
    "fuse_quadrature",
    "lambdify_settings",
    "open_orders",
    "quadrature_symbols",
    "vectorize_quadrature",
    "with_order",
]

#: Quadrature order used when a regularizer or a game file does not choose one.
DEFAULT_QUADRATURE_ORDER = 12

#: The order of a rule left to :func:`choose_order` (``order=auto``): a node
#: ``GaussHermite(f, u, 0)`` is a placeholder that is never expanded.
AUTO_ORDER = 0

#: Tolerance :func:`choose_order` meets by default: the largest change of any
#: expression between order ``n`` and ``2 n`` (relative above magnitude 1).
DEFAULT_QUADRATURE_TOLERANCE = 1e-9

#: The orders ``n`` :func:`choose_order` tries, each compared with ``2 n``
#: (the largest, 192, stays below :data:`gandyn.limits.MAX_QUADRATURE_ORDER`).
AUTO_ORDERS = (8, 12, 16, 24, 32, 48, 64, 96)


def check_order(order: object, rule: str, *, auto: bool = False) -> None:
    """Refuse a quadrature order outside ``1 .. MAX_QUADRATURE_ORDER``, before any node is made.

    numpy's Gauss-Hermite rule loses its outermost weights to underflow from
    order 371 and returns NaN from 372 (see :data:`gandyn.limits.MAX_QUADRATURE_ORDER`);
    a larger order would silently turn every expectation into NaN.

    With ``auto``, :data:`AUTO_ORDER` (an order still to be chosen) is accepted too.

    Raises
    ------
    gandyn.errors.SpecError
        For an order that is not an integer in range.
    """
    from gandyn.errors import SpecError
    from gandyn.limits import MAX_QUADRATURE_ORDER

    if auto and not isinstance(order, bool) and order == AUTO_ORDER:
        return
    if isinstance(order, bool) or not isinstance(order, int | np.integer) or not (
            1 <= int(order) <= MAX_QUADRATURE_ORDER):
        raise SpecError(f"{rule} quadrature order must be an integer from 1 to "
                        f"{MAX_QUADRATURE_ORDER}, not {order!r} (above it the weights underflow "
                        "double precision or the derivation takes minutes)")


@dataclass(frozen=True)
class PointMasses:
    """A discrete distribution: ``points[i]`` with probability ``weights[i]``.

    Points and weights may be symbolic (``-a`` and ``a``, say). Weights must
    sum to one; :func:`point_masses` checks that for numeric weights.
    """

    points: tuple[sp.Expr, ...]
    weights: tuple[sp.Expr, ...]

    def describe(self) -> str:
        """One line such as ``points -a (1/2), a (1/2)``."""
        if len(self.points) == 1:
            return f"point mass at {self.points[0]}"
        pairs = ", ".join(f"{p} ({w})" for p, w in zip(self.points, self.weights, strict=True))
        return f"points {pairs}"


@dataclass(frozen=True)
class Normal:
    """A normal variable ``N(mean, std**2)``; ``order`` nodes of Gauss-Hermite when needed."""

    mean: sp.Expr
    std: sp.Expr
    order: int = DEFAULT_QUADRATURE_ORDER

    def __post_init__(self) -> None:
        check_order(self.order, "Gauss-Hermite", auto=True)

    def describe(self) -> str:
        """One line such as ``normal N(mu, sigma**2)``."""
        return (f"normal N({self.mean}, ({self.std})**2), Gauss-Hermite order "
                f"{_order_text(self.order)}")


@dataclass(frozen=True)
class Uniform:
    """A uniform variable on ``[low, high]``; ``order`` nodes of Gauss-Legendre when needed."""

    low: sp.Expr
    high: sp.Expr
    order: int = DEFAULT_QUADRATURE_ORDER

    def __post_init__(self) -> None:
        check_order(self.order, "Gauss-Legendre", auto=True)

    def describe(self) -> str:
        """One line such as ``uniform U(0, 1)``."""
        return (f"uniform U({self.low}, {self.high}), Gauss-Legendre order "
                f"{_order_text(self.order)}")


def _order_text(order: int) -> str:
    return "auto" if order == AUTO_ORDER else str(order)


Distribution = PointMasses | Normal | Uniform


def point_masses(points: Iterable[object], weights: Iterable[object] | None = None) -> PointMasses:
    """Build a :class:`PointMasses`, with equal weights when none are given.

    Raises
    ------
    ValueError
        If the lengths differ, there are no points, or numeric weights are
        negative or do not sum to one.
    """
    # strict: numbers and sympy objects only, never text (which sympify would evaluate).
    pts = tuple(sp.sympify(p, strict=True) for p in points)
    if not pts:
        raise ValueError("a discrete distribution needs at least one point")
    if weights is None:
        ws = tuple(sp.Rational(1, len(pts)) for _ in pts)
    else:
        ws = tuple(
            sp.nsimplify(w) if isinstance(w, float) else sp.sympify(w, strict=True)
            for w in weights
        )
    if len(ws) != len(pts):
        raise ValueError(f"{len(pts)} points but {len(ws)} weights")
    if all(w.is_number for w in ws):
        if any(float(w) < 0 for w in ws):
            raise ValueError("weights must be non-negative")
        if abs(float(sum(ws)) - 1.0) > 1e-9:
            raise ValueError(f"weights must sum to 1, not {float(sum(ws)):g}")
    return PointMasses(pts, ws)


def _float(value: float) -> sp.Float:
    # repr() gives the shortest decimal that round-trips the double, so the
    # printed expression parses back to the identical Float.
    return sp.Float(repr(float(value)), 17)


@functools.cache
def _hermite_rule(order: int) -> tuple[tuple[sp.Expr, ...], tuple[sp.Expr, ...]]:
    """Nodes and weights of ``E[f(u)]`` for ``u ~ N(0, 1)`` (probabilists' Hermite)."""
    check_order(order, "Gauss-Hermite")
    nodes, weights = np.polynomial.hermite_e.hermegauss(order)
    weights = weights / np.sqrt(2.0 * np.pi)
    # Symmetrise: the rule is exactly symmetric; forcing it keeps E[u] = 0 exact.
    nodes = 0.5 * (nodes - nodes[::-1])
    weights = 0.5 * (weights + weights[::-1])
    return (
        tuple(sp.S.Zero if n == 0 else _float(n) for n in nodes),
        tuple(_float(w) for w in weights),
    )


@functools.cache
def _legendre_rule(order: int) -> tuple[tuple[sp.Expr, ...], tuple[sp.Expr, ...]]:
    """Nodes and weights of ``E[f(u)]`` for ``u ~ U(0, 1)``."""
    check_order(order, "Gauss-Legendre")
    nodes, weights = np.polynomial.legendre.leggauss(order)
    nodes = 0.5 * (nodes - nodes[::-1])
    weights = 0.5 * (weights + weights[::-1])
    return (
        tuple(_float(0.5 + 0.5 * n) for n in nodes),
        tuple(_float(0.5 * w) for w in weights),
    )


def _standard_normal_moment(k: int) -> sp.Integer:
    """``E[u**k]`` for ``u ~ N(0, 1)``: 0 for odd ``k``, ``(k - 1)!!`` for even ``k``."""
    return sp.S.Zero if k % 2 else sp.factorial2(k - 1)


def _uniform_moment(k: int) -> sp.Rational:
    """``E[u**k]`` for ``u ~ U(0, 1)``."""
    return sp.Rational(1, k + 1)


def _polynomial_expectation(expr: sp.Expr, u: sp.Symbol, moment: object) -> sp.Expr:
    poly = sp.Poly(sp.expand(expr), u)
    total = sp.S.Zero
    for (k,), coeff in poly.terms():
        total += coeff * moment(k)  # type: ignore[operator]
    return total


class _Quadrature(sp.Function):
    """``E[f(u)]`` by a fixed Gauss rule, kept unexpanded: ``Rule(f, u, order)``.

    ``u`` is a bound variable (it is not among ``free_symbols``). Derivatives
    go inside (the rule's nodes and weights do not depend on any parameter),
    so a derivation differentiates one integrand instead of ``order`` terms,
    and the printed expression stays readable. :func:`expand_quadrature`
    replaces the node by the weighted sum for numeric work.
    """

    nargs = 3
    _rule: Any = None

    @classmethod
    def eval(cls, f: sp.Expr, u: sp.Symbol, order: sp.Integer) -> sp.Expr | None:
        if not f.has(u):
            return f  # the weights sum to one
        # The rule is linear: split sums and pull out factors free of u, so
        # that derivatives print as sums of short expectations.
        if isinstance(f, sp.Add):
            return sp.Add(*(cls(term, u, order) for term in f.args))
        if isinstance(f, sp.Mul):
            outside = [a for a in f.args if not a.has(u)]
            if outside:
                inside = [a for a in f.args if a.has(u)]
                return sp.Mul(*outside) * cls(sp.Mul(*inside), u, order)
        return None

    @property
    def free_symbols(self) -> set[sp.Basic]:
        f, u, _ = self.args
        return set(f.free_symbols) - {u}

    def _eval_derivative(self, s: sp.Symbol) -> sp.Expr:
        f, u, order = self.args
        return self.func(sp.diff(f, s), u, order)

    def _eval_is_extended_real(self) -> bool | None:
        return self.args[0].is_extended_real  # type: ignore[no-any-return]

    def expanded(self) -> sp.Expr:
        """The weighted sum over the rule's nodes."""
        f, u, order = self.args
        nodes, weights = type(self)._rule(int(order))
        return sp.Add(*(w * f.xreplace({u: n}) for n, w in zip(nodes, weights, strict=True)))

    def doit(self, **hints: Any) -> sp.Expr:
        f = self.args[0].doit(**hints) if hints.get("deep", True) else self.args[0]
        return self.func(f, *self.args[1:]).expanded()

    def _eval_evalf(self, prec: int) -> Any:
        return self.expanded()._eval_evalf(prec)

    # Code printers (lambdify without cse) see the weighted sum; lambdify
    # with cse must be given expand_quadrature(expr), as gandyn.derivation.field does,
    # so that no subexpression holding the bound variable is hoisted out.
    def _numpycode(self, printer: Any) -> str:
        return str(printer._print(self.expanded()))

    _pythoncode = _numpycode
    _lambdacode = _numpycode
    _mpmathcode = _numpycode


class GaussHermite(_Quadrature):
    r"""``GaussHermite(f, u, n)``: ``E[f(u)]`` for ``u ~ N(0, 1)`` by ``n``-point Gauss-Hermite."""

    _rule = staticmethod(lambda order: _hermite_rule(order))

    def _latex(self, printer: Any) -> str:
        f, u, order = self.args
        return (rf"\mathbb{{E}}^{{\mathrm{{GH}}_{{{order}}}}}_{{{printer._print(u)}\sim"
                rf"\mathcal{{N}}(0,1)}}\left[{printer._print(f)}\right]")


class GaussLegendre(_Quadrature):
    r"""``GaussLegendre(f, u, n)``: ``E[f(u)]``, ``u ~ U(0, 1)``, ``n``-point Gauss-Legendre."""

    _rule = staticmethod(lambda order: _legendre_rule(order))

    def _latex(self, printer: Any) -> str:
        f, u, order = self.args
        return (rf"\mathbb{{E}}^{{\mathrm{{GL}}_{{{order}}}}}_{{{printer._print(u)}\sim"
                rf"\mathcal{{U}}(0,1)}}\left[{printer._print(f)}\right]")


#: Name -> quadrature node class, for parsers that read expressions back.
QUADRATURES: dict[str, type[_Quadrature]] = {
    "GaussHermite": GaussHermite,
    "GaussLegendre": GaussLegendre,
}


def expand_quadrature(expr: sp.Expr) -> sp.Expr:
    """Replace every quadrature node (innermost first) by its weighted sum."""
    result = sp.sympify(expr)
    while result.has(GaussHermite, GaussLegendre):
        result = result.replace(
            lambda e: isinstance(e, _Quadrature)
            and not e.args[0].has(GaussHermite, GaussLegendre),
            lambda e: e.expanded(),
        )
    return result


def quadrature_symbols(expr: sp.Expr) -> set[sp.Symbol]:
    """The bound node variables of the quadratures in ``expr``."""
    return {q.args[1] for q in sp.sympify(expr).atoms(GaussHermite, GaussLegendre)}


def _expect_one(expr: sp.Expr, var: sp.Symbol, dist: Distribution) -> sp.Expr:
    if not expr.has(var):
        return expr
    if isinstance(dist, PointMasses):
        return sp.Add(
            *(w * expr.xreplace({var: p}) for p, w in zip(dist.points, dist.weights, strict=True))
        )
    # Integrate term by term, so that the polynomial part of a sum stays exact
    # even when another term needs quadrature. The standardized variable is
    # named after the random one, so that nested rules never share a name.
    u = sp.Symbol(f"u_{var.name}", real=True)
    total = sp.S.Zero
    for term in sp.Add.make_args(expr):
        if not term.has(var):
            total += term
            continue
        if isinstance(dist, Normal):
            shifted = term.xreplace({var: dist.mean + dist.std * u})
            moment = _standard_normal_moment
        else:
            shifted = term.xreplace({var: dist.low + (dist.high - dist.low) * u})
            moment = _uniform_moment
        if shifted.is_polynomial(u):
            total += _polynomial_expectation(shifted, u, moment)
        else:
            node = GaussHermite if isinstance(dist, Normal) else GaussLegendre
            total += node(shifted, u, sp.Integer(dist.order))
    return total


def collapse_normals(
    sample: sp.Expr, variables: Mapping[sp.Symbol, Distribution], name: str
) -> tuple[sp.Expr, dict[sp.Symbol, Distribution]]:
    """Replace an affine combination of independent normal variables by one normal.

    ``a + sum_i b_i v_i`` with ``v_i ~ N(m_i, s_i**2)`` independent has the law
    ``N(a + sum_i b_i m_i, sum_i b_i**2 s_i**2)``, so one Gauss-Hermite rule
    replaces nested ones (``order`` nodes instead of ``order**k``). The
    coefficients may contain other random variables (such as the mixing
    weight of an interpolate): the identity holds conditionally on them.

    Parameters
    ----------
    sample
        The expression to simplify.
    variables
        All random variables; the normal ones in ``sample`` must not be used
        by any other expression the result is combined with.
    name
        Name of the new standard normal variable.

    Returns
    -------
    tuple
        The new sample and the new variable mapping (the collapsed variables
        removed, the new one added). Unchanged if fewer than two normal
        variables occur or ``sample`` is not affine in them.
    """
    normals = [v for v, d in variables.items() if isinstance(d, Normal) and sample.has(v)]
    if len(normals) < 2:
        return sample, dict(variables)
    poly = sp.Poly(sp.expand(sample), *normals)
    if poly.total_degree() > 1:
        return sample, dict(variables)
    mean = sample.xreplace({v: variables[v].mean for v in normals})  # type: ignore[union-attr]
    variance = sp.S.Zero
    for v in normals:
        dist = variables[v]
        assert isinstance(dist, Normal)
        variance += poly.coeff_monomial(v) ** 2 * dist.std**2
    # A given order wins over an open one (a regularizer's order=12 merged with the
    # Gaussian game's open rule stays 12); the merged rule is open only if all were.
    given = [variables[v].order for v in normals  # type: ignore[union-attr]
             if variables[v].order != AUTO_ORDER]  # type: ignore[union-attr]
    order = max(given) if given else AUTO_ORDER
    new = sp.Symbol(name, real=True)
    remaining = {v: d for v, d in variables.items() if v not in normals}
    remaining[new] = Normal(sp.S.Zero, sp.S.One, order)
    return mean + sp.sqrt(variance) * new, remaining


def expect(expr: sp.Expr, variables: Mapping[sp.Symbol, Distribution]) -> sp.Expr:
    """Expectation of ``expr`` over independent random ``variables``.

    Parameters
    ----------
    expr
        A sympy expression in the random variables and any other symbols.
    variables
        Each random variable and its distribution; variables that ``expr``
        does not contain are skipped.

    Returns
    -------
    sympy.Expr
        The expectation, exact for discrete variables and for polynomial
        integrands, a Gauss quadrature of the variable's order otherwise.
    """
    result = sp.sympify(expr)
    for var, dist in variables.items():
        result = _expect_one(result, var, dist)
    return result


# --- choosing the order --------------------------------------------------------------------------


def open_orders(expr: sp.Expr) -> bool:
    """Whether ``expr`` holds a quadrature node whose order is still to be chosen."""
    return any(int(q.args[2]) == AUTO_ORDER
               for q in sp.sympify(expr).atoms(GaussHermite, GaussLegendre))


def with_order(expr: sp.Expr, order: int) -> sp.Expr:
    """``expr`` with every node of order :data:`AUTO_ORDER` given ``order`` (others kept)."""
    check_order(order, "Gauss")
    chosen = sp.Integer(order)
    return sp.sympify(expr).replace(
        lambda e: isinstance(e, _Quadrature) and int(e.args[2]) == AUTO_ORDER,
        lambda e: e.func(e.args[0], e.args[1], chosen),
    )


@functools.cache
def _numeric_rule(kind: str, order: int) -> tuple[np.ndarray, np.ndarray]:
    """The rule of :func:`_hermite_rule` or :func:`_legendre_rule` as float arrays."""
    rule = _hermite_rule if kind == "GaussHermite" else _legendre_rule
    nodes, weights = rule(order)
    return (np.array([float(n) for n in nodes]), np.array([float(w) for w in weights]))


def _outermost(expr: sp.Basic) -> list[_Quadrature]:
    """The quadrature nodes of ``expr`` that no other node contains."""
    found: list[_Quadrature] = []

    def walk(e: sp.Basic) -> None:
        if isinstance(e, _Quadrature):
            if e not in found:
                found.append(e)
            return
        for arg in e.args:
            walk(arg)

    walk(expr)
    return found


@functools.cache
def _compiled(expr: sp.Expr, names: tuple[sp.Symbol, ...]) -> tuple[Any, tuple[_Quadrature, ...]]:
    """``expr`` with its outermost nodes as extra arguments, lambdified for numpy."""
    from gandyn.symbolic.functions import NUMPY_NAMESPACE

    nodes = tuple(_outermost(expr))
    holders = [sp.Dummy(f"q{i}") for i in range(len(nodes))]
    outer = expr.xreplace(dict(zip(nodes, holders, strict=True)))
    fn = sp.lambdify([*names, *holders], outer, modules=[NUMPY_NAMESPACE, "numpy"])
    return fn, nodes


def _evaluate(expr: sp.Expr, values: dict[sp.Symbol, np.ndarray], order: int) -> np.ndarray:
    """``expr`` at broadcastable ``values``, nodes of open order summed with ``order`` nodes.

    Each node adds a trailing axis for its own nodes and sums it away, so a
    nested rule costs ``order**depth`` integrand values but no symbolic
    expansion (which is what makes the search cheap at order 192).
    """
    names = tuple(sorted(values, key=lambda s: s.name))
    fn, nodes = _compiled(expr, names)
    inner_values = []
    for node in nodes:
        f, u, stored = node.args
        n = order if int(stored) == AUTO_ORDER else int(stored)
        points, weights = _numeric_rule(type(node).__name__, n)
        widened = {s: np.asarray(v)[..., None] for s, v in values.items()}
        widened[u] = points
        integrand = np.asarray(_evaluate(f, widened, order), dtype=np.float64)
        shape = np.broadcast_shapes(integrand.shape, points.shape)
        inner_values.append(np.broadcast_to(integrand, shape) @ weights)
    with np.errstate(over="ignore", under="ignore"):
        result = fn(*(values[s] for s in names), *inner_values)
    return np.asarray(result, dtype=np.float64)


def evaluate_at_order(exprs: Iterable[sp.Expr], values: Mapping[sp.Symbol, object],
                      order: int) -> np.ndarray:
    """Evaluate ``exprs`` with every open node at ``order`` nodes, without expanding them.

    Parameters
    ----------
    exprs
        Expressions whose free symbols all have ``values``.
    values
        Symbol -> number or 1-D array (one entry per point; all of one length).
    order
        The order of the nodes of order :data:`AUTO_ORDER`; other nodes keep their own.

    Returns
    -------
    numpy.ndarray
        ``(len(exprs), n_points)`` (``n_points`` 1 for scalar values).
    """
    check_order(order, "Gauss")
    arrays = {s: np.atleast_1d(np.asarray(v, dtype=np.float64)) for s, v in values.items()}
    points = max((a.shape[0] for a in arrays.values()), default=1)
    rows = [np.broadcast_to(_evaluate(sp.sympify(e), arrays, order), (points,))
            for e in exprs]
    return np.array(rows, dtype=np.float64).reshape(len(rows), points)


@dataclass(frozen=True)
class OrderChoice:
    """The order :func:`choose_order` chose, and the evidence.

    Attributes
    ----------
    order
        The order used.
    tolerance
        The tolerance asked for.
    change
        The largest change (relative above magnitude 1) of any expression at
        any point between ``order`` and ``2 * order``: the estimate of the
        error at ``order``.
    met
        Whether ``change <= tolerance``; when not, ``order`` is the largest tried.
    points
        How many states were checked.
    """

    order: int
    tolerance: float
    change: float
    met: bool
    points: int

    def describe(self) -> str:
        """One line such as ``Gauss order 64 (auto: change 3e-11 <= 1e-09 at 3 states)``."""
        verdict = "<=" if self.met else "> (not met)"
        return (f"Gauss order {self.order} (auto: change {self.change:.2g} {verdict} "
                f"tolerance {self.tolerance:g} at {self.points} state(s))")

    def to_dict(self) -> dict[str, object]:
        """Plain data for JSON and sidecars (a change that is not finite is ``None``)."""
        change = self.change if math.isfinite(self.change) else None
        return {"order": self.order, "tolerance": self.tolerance, "change": change,
                "met": self.met, "points": self.points}


def choose_order(exprs: Iterable[sp.Expr], values: Mapping[sp.Symbol, object],
                 tolerance: float = DEFAULT_QUADRATURE_TOLERANCE,
                 orders: Iterable[int] = AUTO_ORDERS) -> OrderChoice:
    """The smallest order ``n`` whose expressions change by at most ``tolerance`` at ``2 n``.

    Gauss rules converge quickly for smooth integrands, so the difference
    between ``n`` and ``2 n`` nodes estimates the error of ``n`` nodes [3]_.
    The change is measured on every expression at every point, absolute for
    values of magnitude up to 1 and relative above.

    Parameters
    ----------
    exprs
        The expressions to make accurate (a game's costs and gradients).
    values
        Symbol -> value or 1-D array of values: the representative states and
        the hyper-parameters.
    tolerance
        The largest change accepted (positive).
    orders
        The orders tried, increasing; each is compared with twice itself.

    Returns
    -------
    OrderChoice
        When no order meets the tolerance, the last comparison's larger
        order, with ``met`` false (the caller warns).
    """
    from gandyn.errors import SpecError
    from gandyn.limits import MAX_QUADRATURE_ORDER

    if not (isinstance(tolerance, float | int) and np.isfinite(tolerance) and tolerance > 0):
        raise SpecError(f"`quad_tol` must be a positive number, not {tolerance!r}")
    exprs = list(exprs)
    cache: dict[int, np.ndarray] = {}

    def at(n: int) -> np.ndarray:
        if n not in cache:
            cache[n] = evaluate_at_order(exprs, values, n)
        return cache[n]

    change = np.inf
    n = upper = 0
    for n in orders:
        upper = min(2 * n, MAX_QUADRATURE_ORDER)
        low, high = at(n), at(upper)
        scale = np.maximum(1.0, np.abs(high))
        with np.errstate(invalid="ignore"):
            diffs = np.abs(low - high) / scale
        change = float(np.max(diffs)) if diffs.size else 0.0
        if np.isnan(change):
            change = np.inf
        if change <= tolerance:
            return OrderChoice(n, float(tolerance), change, True, _count(at(n)))
    return OrderChoice(upper, float(tolerance), change, False, _count(at(n)))


def _count(array: np.ndarray) -> int:
    return int(array.shape[1]) if array.ndim == 2 else 1


# --- numeric code without writing the sums out ---------------------------------------------------

#: Name -> numpy function of every quadrature node :func:`vectorize_quadrature` has made; the
#: names are added to :data:`gandyn.symbolic.functions.NUMPY_NAMESPACE`, where lambdify finds them.
_VECTORIZED: dict[tuple[sp.Basic, ...], sp.Expr] = {}

#: Call name -> (node class, integrand, bound variable, order) of each entry of :data:`_VECTORIZED`.
_BY_NAME: dict[str, tuple[type[_Quadrature], sp.Expr, sp.Symbol, int]] = {}


def _vectorized_node(node: _Quadrature) -> sp.Expr:
    """A call ``gandyn_quadrature_k(a, b, ...)`` of the node's free symbols, registered for numpy.

    The call sums the integrand over a trailing axis of the rule's nodes, so
    numeric code evaluates the integrand once on an array instead of once
    per node in a sum of ``order`` symbolic copies; the bound variable is not
    among the call's arguments, so common-subexpression elimination cannot
    hoist it out of the sum.
    """
    from gandyn.symbolic.functions import NUMPY_NAMESPACE

    f, u, order = node.args
    key = (type(node), f, u, order)
    if key in _VECTORIZED:
        return _VECTORIZED[key]
    args = sorted(f.free_symbols - {u}, key=lambda s: s.name)
    inner = vectorize_quadrature(f)  # nested rules first: their names are then registered
    integrand = sp.lambdify([u, *args], inner, modules=[NUMPY_NAMESPACE, "numpy"])
    points, weights = _numeric_rule(type(node).__name__, int(order))

    def weighted_sum(*values: Any) -> Any:
        widened = [np.asarray(v, dtype=np.float64)[..., None] for v in values]
        with np.errstate(over="ignore", under="ignore"):
            out = np.asarray(integrand(points, *widened), dtype=np.float64)
        out = np.broadcast_to(out, np.broadcast_shapes(out.shape, points.shape))
        # Node by node, elementwise: a state's value does not depend on the batch it is in
        # (a matrix product may sum in another order for another shape).
        total = np.zeros(out.shape[:-1])
        for k, weight in enumerate(weights):
            total = total + weight * out[..., k]
        return total

    name = f"gandyn_quadrature_{len(_VECTORIZED)}"
    NUMPY_NAMESPACE[name] = weighted_sum
    call = sp.Function(name, real=True)(*args) if args else sp.Float(weighted_sum())
    _VECTORIZED[key] = call
    _BY_NAME[name] = (type(node), f, u, int(order))
    return call


def vectorize_quadrature(expr: sp.Expr) -> sp.Expr:
    """``expr`` for numpy code: each quadrature node a call that sums over an array of nodes.

    The numeric counterpart of :func:`expand_quadrature`: lambdified with
    :data:`gandyn.symbolic.functions.NUMPY_NAMESPACE` it gives the same
    numbers (up to rounding) while its code, and the time to make it, does
    not grow with the order. Only for numpy code; symbolic work and other
    printers take :func:`expand_quadrature`.
    """
    result = sp.sympify(expr)
    if isinstance(result, _Quadrature):
        return _vectorized_node(result)
    if not result.has(GaussHermite, GaussLegendre):
        return result
    # Outermost nodes first: a node's integrand, with its own nested nodes, goes whole into
    # the call (rebuilding a node from a changed integrand could split it into a sum).
    return result.func(*(vectorize_quadrature(a) for a in result.args))


# --- the quadrature calls of several expressions at once -----------------------------------------


def lambdify_settings(modules: Iterable[object]) -> dict[str, Any]:
    """The settings :func:`sympy.lambdify` gives its numpy printer for ``modules``.

    A printer made with them prints what lambdify's own would (the functions of
    the namespaces by their names), so code printed through a subclass differs
    only where the subclass says.
    """
    user_functions: dict[str, str] = {}
    for module in list(modules)[::-1]:
        if isinstance(module, dict):
            user_functions.update({name: name for name in module})
    return {"fully_qualified_modules": False, "inline": True, "allow_unknown_functions": True,
            "user_functions": user_functions}


class SubstitutingPrinter(NumPyPrinter):
    """lambdify's numpy printer that prints given subexpressions as names.

    Wherever the printer would print one of ``names``' expressions it prints
    the name instead; the text around it is what it makes of the original
    expression (the order of a sum's terms and of a product's factors is decided
    on the expression, not on the printed pieces). So when each name holds the
    value of its expression printed alone, the code does the same floating-point
    operations as the expressions printed whole, each named one once.

    With ``keep_top``, the expression :meth:`doprint` is given is printed whole
    even if it has a name (it is that name's definition).
    """

    def __init__(self, settings: dict[str, Any], names: Mapping[sp.Basic, sp.Symbol],
                 keep_top: bool = False) -> None:
        super().__init__(settings)
        self._names = dict(names)
        self._keep_top = keep_top
        self._top: object = None

    def doprint(self, expr: Any, assign_to: Any = None) -> Any:
        """Print ``expr`` (a subexpression's definition when ``keep_top``)."""
        self._top = expr
        return super().doprint(expr, assign_to)

    def _print(self, expr: Any, **kwargs: Any) -> str:
        if isinstance(expr, sp.Basic) and not expr.is_Atom:
            name = self._names.get(expr)
            if name is not None and not (self._keep_top and expr == self._top):
                return str(super()._print(name))
        return str(super()._print(expr, **kwargs))


def _repeated_subexpressions(exprs: Sequence[sp.Basic]) -> list[sp.Basic]:
    """The compound subexpressions that occur more than once in ``exprs``, each after its parts.

    Like the tree search of :func:`sympy.cse` without its rewriting (no products
    or sums are split into new groupings, which would change the rounding).
    """
    seen: set[sp.Basic] = set()
    repeated: set[sp.Basic] = set()

    def count(e: sp.Basic) -> None:
        if e.is_Atom or not e.args:
            return
        if e in seen:
            repeated.add(e)
            return
        seen.add(e)
        for a in e.args:
            count(a)

    for e in exprs:
        count(e)
    ordered: list[sp.Basic] = []
    visited: set[sp.Basic] = set()

    def post(e: sp.Basic) -> None:
        if e.is_Atom or not e.args or e in visited:
            return
        visited.add(e)
        for a in e.args:
            post(a)
        if e in repeated:
            ordered.append(e)

    for e in exprs:
        post(e)
    return ordered


#: The most node values (states times nodes) :class:`FusedQuadrature` puts in one array: the
#: integrands' arrays of a chunk of states then stay in a processor's cache (256 KiB here).
FUSED_CHUNK_ELEMENTS = 32768


@dataclass(frozen=True)
class _Group:
    """The calls of one rule: their integrands' code, and where each input comes from."""

    function: Any
    points: np.ndarray
    weights: np.ndarray
    positions: tuple[int, ...]  # the calls' places in FusedQuadrature.calls
    inputs: tuple[tuple[str, Any], ...]  # ("nodes", None), ("argument", i) or ("number", v)


class FusedQuadrature:
    """The quadrature calls of :func:`vectorize_quadrature` in a set of expressions, at once.

    Calls whose rules have the same nodes and weights (the same kind and order)
    form a group: their integrands are evaluated by one function in which each
    subexpression that occurs more than once (the sigmoid of a logit over the
    nodes, shared by every entry of a field) is computed once, then summed
    together. Each call's value is bit for bit the one the call computes alone:
    the integrands are printed as they are there (:class:`SubstitutingPrinter`),
    evaluated on the same numbers (the nodes along a leading axis instead of a
    trailing one: elementwise operations do not depend on it), and each is
    summed node by node, ``total = total + w_k f(u_k)`` from ``k = 0``, as
    ``weighted_sum`` of :func:`_vectorized_node` and the compiled kernels
    (:mod:`gandyn.dynamics.kernels.printing`) do.

    Attributes
    ----------
    calls
        The calls evaluated here, in the order of the results.
    arguments
        The symbols the calls' arguments name, by name: the inputs of :meth:`__call__`.
    """

    def __init__(self, calls: Sequence[sp.Expr]) -> None:
        from gandyn.symbolic.functions import NUMPY_NAMESPACE

        rules: dict[tuple[str, int], list[tuple[sp.Expr, sp.Expr, sp.Symbol]]] = {}
        for call in calls:
            kind, integrand, bound, order = _BY_NAME[str(call.func)]
            rules.setdefault((kind.__name__, order), []).append((call, integrand, bound))
        accepted: list[sp.Expr] = []
        pending: list[tuple[str, int, list[tuple[sp.Expr, sp.Expr, sp.Symbol]],
                            dict[sp.Symbol, sp.Expr], list[sp.Symbol]]] = []
        for (kind_name, order), members in rules.items():
            binding: dict[sp.Symbol, sp.Expr] = {}
            bounds: list[sp.Symbol] = []
            kept = []
            for call, integrand, bound in members:
                own = _binding(call, integrand, bound)
                if own is None or bound in binding or any(s in bounds for s in own) or any(
                        binding.get(s, value) != value for s, value in own.items()):
                    continue  # left to the call's own function
                binding.update(own)
                if bound not in bounds:
                    bounds.append(bound)
                kept.append((call, integrand, bound))
                accepted.append(call)
            if kept:
                pending.append((kind_name, order, kept, binding, bounds))
        self.calls: tuple[sp.Expr, ...] = tuple(accepted)
        self.arguments: tuple[sp.Symbol, ...] = tuple(sorted(
            {s for c in accepted for a in c.args for s in a.free_symbols},
            key=lambda s: s.name))
        modules: list[Any] = [NUMPY_NAMESPACE, "numpy"]
        groups = []
        for kind_name, order, kept, binding, bounds in pending:
            symbols = sorted(binding, key=lambda s: s.name)
            integrands = [vectorize_quadrature(f) for _, f, _ in kept]
            shared = _repeated_subexpressions(integrands)
            names = {e: sp.Symbol(f"_gandyn_shared_{i}") for i, e in enumerate(shared)}
            printer = SubstitutingPrinter(lambdify_settings(modules), names, keep_top=True)
            definitions = [(names[e], e) for e in shared]
            function = sp.lambdify(
                [*sorted(bounds, key=lambda s: s.name), *symbols], integrands,
                modules=modules, printer=printer,
                cse=lambda exprs, d=definitions, n=names: (d, [n.get(e, e) for e in exprs]))
            inputs: list[tuple[str, Any]] = [("nodes", None)] * len(bounds)
            for s in symbols:
                value = binding[s]
                inputs.append(("argument", self.arguments.index(value)) if value.is_Symbol
                              else ("number", np.float64(float(value))))
            points, weights = _numeric_rule(kind_name, order)
            groups.append(_Group(function, points, weights,
                                 tuple(accepted.index(call) for call, _, _ in kept),
                                 tuple(inputs)))
        self._groups = tuple(groups)

    def __call__(self, *values: Any) -> list[np.ndarray]:
        """Each call's value at ``values`` of :attr:`arguments` (broadcast together).

        The states go through in chunks of at most :data:`FUSED_CHUNK_ELEMENTS` node values
        per array, so that the integrands' arrays stay in the processor's cache instead of
        streaming ``order`` times the batch through memory for each operation (each value
        is computed elementwise, so the chunks do not change it).
        """
        arrays = [np.asarray(v, dtype=np.float64) for v in values]
        batch = np.broadcast_shapes(*(a.shape for a in arrays))
        size = math.prod(batch)
        flat = [a.reshape(()) if a.size == 1 and size != 1 else
                np.broadcast_to(a, batch).reshape(size) for a in arrays]
        sums: list[np.ndarray] = [np.empty(0)] * len(self.calls)
        with np.errstate(over="ignore", under="ignore"):
            for group in self._groups:
                totals = np.empty((len(group.positions), size))
                chunk = max(1, FUSED_CHUNK_ELEMENTS // len(group.points))
                nodes = group.points.reshape(-1, 1)
                weights = group.weights.reshape(-1, 1)
                for start in range(0, size, chunk):
                    part = slice(start, start + chunk)
                    inputs = [nodes if kind == "nodes" else
                              (flat[i] if flat[i].ndim == 0 else flat[i][part])
                              if kind == "argument" else i for kind, i in group.inputs]
                    self._sum_chunk(group, weights, inputs, totals[:, part])
                for j, position in enumerate(group.positions):
                    sums[position] = totals[j].reshape(batch)
        return sums

    @staticmethod
    def _sum_chunk(group: _Group, weights: np.ndarray, inputs: list[Any],
                   totals: np.ndarray) -> None:
        """The group's weighted sums at a chunk of states, into ``totals`` ``(calls, n)``."""
        outs = group.function(*inputs)
        # w_k f_j(u_k) for every node k and call j, the nodes first: each node's terms
        # are one contiguous block, added to the totals in one operation.
        terms = np.empty((len(group.points), *totals.shape))
        for j, out in enumerate(outs):
            np.multiply(weights, out, out=terms[:, j])
        totals[...] = 0.0
        # Node by node from k = 0, as each call alone sums (see the class's description).
        for term in terms:
            totals += term


def _binding(call: sp.Expr, integrand: sp.Expr,
             bound: sp.Symbol) -> dict[sp.Symbol, sp.Expr] | None:
    """The integrand's symbols and the call's arguments for them (symbols or numbers), or None."""
    symbols = sorted(integrand.free_symbols - {bound}, key=lambda s: s.name)
    if len(symbols) != len(call.args):
        return None
    own = dict(zip(symbols, call.args, strict=True))
    if any(not (v.is_Symbol or v.is_number) or v == bound for v in own.values()):
        return None
    return own


def fuse_quadrature(exprs: Iterable[sp.Expr]) -> FusedQuadrature | None:
    """The :class:`FusedQuadrature` of the calls :func:`vectorize_quadrature` put in ``exprs``.

    None when ``exprs`` has no call that can be fused (one whose argument is
    neither a symbol nor a number keeps its own function).
    """
    calls: set[sp.Expr] = set()
    for e in exprs:
        calls |= {c for c in sp.sympify(e).atoms(sp.Function) if str(c.func) in _BY_NAME}
    fused = FusedQuadrature(sorted(calls, key=sp.default_sort_key)) if calls else None
    return fused if fused is not None and fused.calls else None
