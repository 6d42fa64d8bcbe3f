"""Expressions compiled to numpy functions of a batch of states: :class:`NumericFunction`.

This is where derived expressions become numbers. The derivation
(:mod:`gandyn.derivation.field`) hands its expressions here; rules, dynamics
and equilibria call the functions on batches ``(..., n)``. The expectations of an
entry list are evaluated together, each rule's shared integrand pieces once
(:class:`gandyn.symbolic.expectations.FusedQuadrature`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import sympy as sp

from gandyn.arrays import Array
from gandyn.symbolic.expectations import (
    SubstitutingPrinter,
    fuse_quadrature,
    lambdify_settings,
    vectorize_quadrature,
)
from gandyn.symbolic.functions import NUMPY_NAMESPACE

__all__ = ["BoundFunction", "NumericFunction", "lambdify_batched"]


def _sigmoid_unguarded(x: Any) -> Any:
    """:func:`gandyn.arrays.sigmoid` without its own ``errstate``.

    The compiled code runs inside one set by its caller (:meth:`NumericFunction.__call__`,
    the step loops), and entering numpy's ``errstate`` costs about a microsecond: as much
    as the sigmoid itself on a few hundred runs, and a game with quadrature calls it per node.
    """
    t = np.exp(np.negative(x))
    if isinstance(t, np.ndarray):
        t += 1.0
        return np.reciprocal(t, out=t)
    return 1.0 / (1.0 + t)


#: The forms the compiled code uses before :data:`NUMPY_NAMESPACE` (same values).
_LOOP_NAMESPACE: dict[str, Any] = {"sigmoid": _sigmoid_unguarded}


def _lambdify(args: Sequence[sp.Symbol], exprs: Sequence[sp.Expr], modules: list[Any]) -> Any:
    """``sympy.lambdify(args, exprs, modules, cse=True)``, its quadrature calls evaluated together.

    The calls of :func:`gandyn.symbolic.expectations.vectorize_quadrature` that share a
    rule go to one :class:`gandyn.symbolic.expectations.FusedQuadrature` (the sigmoid over
    the nodes computed once for every entry that needs it, not once per entry); the code
    around them is lambdify's with each call printed as the name of its value, after the
    same elimination of common subexpressions. So every number is bit for bit what the
    plain lambdified code, and the compiled kernels that repeat it, compute.
    """
    fused = fuse_quadrature(exprs)
    if fused is None or not set(fused.arguments) <= set(args):
        return sp.lambdify(list(args), list(exprs), modules=modules, cse=True)
    taken = {s.name for e in exprs for s in e.free_symbols} | {s.name for s in args}
    holders = []
    for i in range(len(fused.calls)):
        name = f"_gandyn_sum_{i}"
        while name in taken:
            name = "_" + name
        holders.append(sp.Symbol(name))
    printer = SubstitutingPrinter(lambdify_settings(modules), dict(zip(fused.calls, holders,
                                                                       strict=True)))
    outer = sp.lambdify([*args, *holders], list(exprs), modules=modules, cse=True,
                        printer=printer)
    positions = [list(args).index(s) for s in fused.arguments]

    def evaluate(*values: Any) -> Any:
        return outer(*values, *fused(*(values[i] for i in positions)))

    return evaluate


def _exact_values(params: Mapping[sp.Symbol, float]) -> dict[sp.Symbol, sp.Integer]:
    """The hyper-parameters whose values are integers, as exact sympy integers.

    Only these are written into the code: ``c = 0`` then removes a data term and
    ``sigma = 1`` a product, exactly (``0 * a`` and ``1 * a`` are exact in floating
    point too). Other values stay arguments: a literal in generated code carries
    15 digits, not the 17 a double needs.
    """
    exact: dict[sp.Symbol, sp.Integer] = {}
    for symbol, value in params.items():
        number = float(value)
        if number.is_integer():
            exact[symbol] = sp.Integer(int(number))
    return exact


class NumericFunction:
    """Expressions compiled to one numpy function of a batch of states.

    Call it with ``x`` of shape ``(..., n_state)`` and optional hyper-parameter
    values by name; it returns an array of shape ``(...,) + shape`` where
    ``shape`` is that of the expressions (``()`` for one expression,
    ``(k,)`` for a list, ``(k, m)`` for a matrix). Constant entries are
    broadcast, so every entry has the batch shape.

    Two codes are compiled, each on first use: one with the hyper-parameters'
    own values written in where they are integers (so that ``c = 0`` removes
    the data term rather than computing it times zero), for calls that give no
    ``params``; and one with every hyper-parameter an argument, for calls that
    give values (a sweep's values per run).

    :meth:`into` is the form the step loops use: coordinate-first rows in,
    coordinate-first entries written into a given array, no checks.
    """

    def __init__(
        self,
        exprs: sp.Expr | Sequence[sp.Expr] | sp.MatrixBase | sp.NDimArray,
        state: Sequence[sp.Symbol],
        params: Mapping[sp.Symbol, float],
        namespace: Mapping[str, Any] | None = None,
    ) -> None:
        if isinstance(exprs, sp.MatrixBase):
            self.shape: tuple[int, ...] = tuple(exprs.shape)
            flat = list(exprs)
        elif isinstance(exprs, sp.NDimArray):
            self.shape = tuple(exprs.shape)
            flat = list(sp.flatten(exprs.tolist()))
        elif isinstance(exprs, sp.Expr | sp.Basic | int | float):
            self.shape = ()
            flat = [sp.sympify(exprs)]
        else:
            flat = [sp.sympify(e) for e in exprs]
            self.shape = (len(flat),)
        # Quadrature nodes are written out only here, where numbers are needed.
        # (as numpy sums over an array of nodes: the code does not grow with the order)
        self._flat = [vectorize_quadrature(e) for e in flat]
        self.state = tuple(state)
        self.param_symbols = tuple(params)
        self.param_values = {str(s.name): float(v) for s, v in params.items()}
        # ``namespace`` overrides numeric implementations by name (a faster equivalent).
        self._modules: list[Any] = [*([dict(namespace)] if namespace else []), _LOOP_NAMESPACE,
                                    NUMPY_NAMESPACE, "numpy"]
        exact = _exact_values(params)
        #: the hyper-parameters left as arguments of the fixed code, and their values
        self._free = tuple(s for s in self.param_symbols if s not in exact)
        self._free_values = tuple(np.float64(params[s]) for s in self._free)
        self._exact = exact
        self._general: Any = None
        self._fixed: Any = None

    def _compiled_general(self) -> Any:
        if self._general is None:
            self._general = _lambdify([*self.state, *self.param_symbols], self._flat,
                                      self._modules)
        return self._general

    def _compiled_fixed(self) -> Any:
        if self._fixed is None:
            flat = [e.xreplace(self._exact) for e in self._flat] if self._exact else self._flat
            if any(e.has(sp.zoo, sp.nan) for e in flat):
                # a value where sympy cannot simplify (1/c at c = 0): leave it to numpy
                flat, self._free, self._free_values = self._flat, self.param_symbols, tuple(
                    np.float64(self.param_values[str(s.name)]) for s in self.param_symbols)
            self._fixed = _lambdify([*self.state, *self._free], flat, self._modules)
        return self._fixed

    def _arguments(self, params: Mapping[str, Any]) -> list[Any]:
        """The hyper-parameter arguments of the general code: defaults, overridden by ``params``."""
        unknown = set(params) - set(self.param_values)
        if unknown:
            raise KeyError(f"unknown hyper-parameter(s): {', '.join(sorted(unknown))}")
        values: dict[str, Any] = dict(self.param_values)
        # A value may be an array broadcast against the batch (one value per run: sweeps).
        values.update({k: np.float64(v) if np.ndim(v) == 0 else np.asarray(v, dtype=np.float64)
                       for k, v in params.items()})
        return [np.float64(v) if isinstance(v, float) else v
                for v in (values[str(s.name)] for s in self.param_symbols)]

    def entries(self, rows: Any, params: Mapping[str, Any] | None = None) -> list[Any]:
        """The flat entries at coordinate-first ``rows`` (``n_state`` arrays of one batch shape).

        Constant entries come back as numbers. No checks and no ``errstate``:
        callers in a loop set it once.
        """
        if params:
            return list(self._compiled_general()(*rows, *self._arguments(params)))
        return list(self._compiled_fixed()(*rows, *self._free_values))

    def into(self, rows: Array, out: Array, params: Mapping[str, Any] | None = None) -> None:
        """Write the entries at coordinate-first ``rows`` ``(n_state, *batch)`` into ``out``.

        ``out`` has shape ``(size, *batch)`` with ``size`` the number of entries
        (``n`` for a field, ``n * n`` for a Jacobian, flattened in C order).
        """
        for i, value in enumerate(self.entries(rows, params)):
            out[i] = value

    def bound(self, params: Mapping[str, Any]) -> BoundFunction:
        """This function with hyper-parameter values ``params`` given once (arrays per run)."""
        return BoundFunction(self, params)

    def subset(self, runs: Any) -> NumericFunction:
        """The same function for a subset of the runs: itself (no value is per run)."""
        return self

    def __call__(self, x: Any, params: Mapping[str, Any] | None = None) -> Array:
        arr = np.asarray(x, dtype=np.float64)
        if arr.shape[-1:] != (len(self.state),):
            raise ValueError(
                f"state must have last axis of length {len(self.state)} "
                f"({', '.join(s.name for s in self.state)}), got shape {arr.shape}"
            )
        if params:
            args = self._arguments(params)  # the unknown names are refused first
        # One contiguous row per coordinate: elementwise work on strided
        # columns of a (B, n) array is several times slower.
        rows = np.ascontiguousarray(np.moveaxis(arr, -1, 0))
        with np.errstate(over="ignore", under="ignore"):
            if params:
                out = self._compiled_general()(*rows, *args)
            else:
                out = self._compiled_fixed()(*rows, *self._free_values)
        batch = arr.shape[:-1]
        # Stack coordinate-first (contiguous writes) and return a transposed
        # view: a caller's elementwise update keeps that layout, so the next
        # call's rows are contiguous again without a copy.
        stacked = np.empty((len(out), *batch))
        for i, value in enumerate(out):
            stacked[i] = value
        return np.moveaxis(stacked.reshape(self.shape + batch), tuple(range(len(self.shape))),
                           tuple(range(-len(self.shape), 0)))


class BoundFunction:
    """A :class:`NumericFunction` with hyper-parameter values bound (per run: arrays ``(B,)``).

    Called like the function (``params`` given at the call override the bound
    ones); :meth:`subset` keeps the values of some runs only, so that a step
    loop can drop the runs that diverged from its work.
    """

    def __init__(self, function: NumericFunction, params: Mapping[str, Any]) -> None:
        self.function = function
        self.params = dict(params)

    def __call__(self, x: Any, params: Mapping[str, Any] | None = None) -> Array:
        return self.function(x, {**self.params, **params} if params else self.params)

    def entries(self, rows: Any, params: Mapping[str, Any] | None = None) -> list[Any]:
        """:meth:`NumericFunction.entries` with the bound values."""
        return self.function.entries(rows, {**self.params, **params} if params else self.params)

    def into(self, rows: Array, out: Array, params: Mapping[str, Any] | None = None) -> None:
        """:meth:`NumericFunction.into` with the bound values."""
        self.function.into(rows, out, {**self.params, **params} if params else self.params)

    def subset(self, runs: Any) -> BoundFunction:
        """The function for runs ``runs`` (indices or a mask into the per-run values)."""
        return BoundFunction(self.function, {
            k: v if np.ndim(v) == 0 else np.asarray(v)[..., runs] for k, v in self.params.items()})


def lambdify_batched(
    exprs: sp.Expr | Sequence[sp.Expr] | sp.MatrixBase,
    state: Sequence[sp.Symbol],
    params: Mapping[sp.Symbol, float],
) -> NumericFunction:
    """Compile ``exprs`` into a :class:`NumericFunction` of batched states."""
    return NumericFunction(exprs, state, params)
