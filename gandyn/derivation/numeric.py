"""Expressions compiled to numpy functions of a batch of states: :class:`NumericFunction`.

This is where derived expressions become numbers. The derivation
(:mod:`gandyn.derivation.field`) hands its expressions here; rules, dynamics
and equilibria call the functions on batches ``(..., n)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import sympy as sp

from gandyn.arrays import Array
from gandyn.symbolic.expectations import vectorize_quadrature
from gandyn.symbolic.functions import NUMPY_NAMESPACE

__all__ = ["NumericFunction", "lambdify_batched"]


class NumericFunction:
    """Expressions compiled to one numpy function of a batch of states.

    Call it with ``x`` of shape ``(..., n_state)`` and optional hyper-parameter
    values by name; it returns an array of shape ``(...,) + shape`` where
    ``shape`` is that of the expressions (``()`` for one expression,
    ``(k,)`` for a list, ``(k, m)`` for a matrix). Constant entries are
    broadcast, so every entry has the batch shape.
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
        flat = [vectorize_quadrature(e) for e in flat]
        self.state = tuple(state)
        self.param_symbols = tuple(params)
        self.param_values = {str(s.name): float(v) for s, v in params.items()}
        # ``namespace`` overrides numeric implementations by name (a faster equivalent).
        modules: list[Any] = [dict(namespace)] if namespace else []
        self._fn = sp.lambdify(
            [*self.state, *self.param_symbols], flat, modules=[*modules, NUMPY_NAMESPACE, "numpy"],
            cse=True,
        )

    def __call__(self, x: Any, params: Mapping[str, Any] | None = None) -> Array:
        arr = np.asarray(x, dtype=np.float64)
        if arr.shape[-1:] != (len(self.state),):
            raise ValueError(
                f"state must have last axis of length {len(self.state)} "
                f"({', '.join(s.name for s in self.state)}), got shape {arr.shape}"
            )
        values: dict[str, Any] = dict(self.param_values)
        if params:
            unknown = set(params) - set(values)
            if unknown:
                raise KeyError(f"unknown hyper-parameter(s): {', '.join(sorted(unknown))}")
            # A value may be an array broadcast against the batch (one value per run: sweeps).
            values.update({k: float(v) if np.ndim(v) == 0 else np.asarray(v, dtype=np.float64)
                           for k, v in params.items()})
        # One contiguous row per coordinate: elementwise work on strided
        # columns of a (B, n) array is several times slower.
        rows = np.ascontiguousarray(np.moveaxis(arr, -1, 0))
        args: list[Any] = list(rows)
        args += [np.float64(v) if isinstance(v, float) else v
                 for v in (values[str(s.name)] for s in self.param_symbols)]
        with np.errstate(over="ignore", under="ignore"):
            out = self._fn(*args)
        batch = arr.shape[:-1]
        # Stack coordinate-first (contiguous writes) and return a transposed
        # view: a caller's elementwise update keeps that layout, so the next
        # call's rows are contiguous again without a copy.
        stacked = np.stack(
            [np.broadcast_to(np.asarray(v, dtype=np.float64), batch) for v in out], axis=0
        )
        return np.moveaxis(stacked.reshape(self.shape + batch), tuple(range(len(self.shape))),
                           tuple(range(-len(self.shape), 0)))


def lambdify_batched(
    exprs: sp.Expr | Sequence[sp.Expr] | sp.MatrixBase,
    state: Sequence[sp.Symbol],
    params: Mapping[sp.Symbol, float],
) -> NumericFunction:
    """Compile ``exprs`` into a :class:`NumericFunction` of batched states."""
    return NumericFunction(exprs, state, params)
