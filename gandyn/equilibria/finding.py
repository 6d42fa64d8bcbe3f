"""Stationary points of the gradient flow ``F(x) = 0``: closed form, then numeric.

:func:`find_equilibria` asks sympy for closed forms first
(:func:`gandyn.derivation.stationary.find_stationary_points`), then, in a box, runs
multi-start numeric root finding; roots on a line or surface of stationary
points are reported once, as a ``set`` (:mod:`gandyn.equilibria.stationary_sets`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import sympy as sp
from scipy.optimize import root

from gandyn.arrays import Array
from gandyn.derivation.field import VectorField
from gandyn.derivation.stationary import find_stationary_points
from gandyn.equilibria.stationary_sets import _SET_SAMPLES, StationarySet, _numeric_entries
from gandyn.errors import SpecError

__all__ = ["find_equilibria"]

Box = Mapping[str, tuple[float, float]]

#: Two numeric roots closer than this (relative to ``max(1, |a|, |b|)``) are one root.
_MERGE_RTOL = 1e-5


@dataclass(frozen=True)
class _ClosedForm:
    """A sympy solution kept symbolic, to test whether numeric roots lie on it."""

    values: tuple[sp.Expr, ...]  # in state order; a free symbol is mapped to itself
    free: tuple[int, ...]  # indices of the free coordinates

    def contains(self, x: Array, state: Sequence[sp.Symbol], atol: float) -> bool:
        subs = {state[i]: sp.Float(float(x[i])) for i in self.free}
        for i, value in enumerate(self.values):
            if i in self.free:
                continue
            try:
                target = complex(sp.N(value.xreplace(subs)))
            except (TypeError, ValueError):
                return False
            if not abs(target - x[i]) <= atol * max(1.0, abs(x[i])):
                return False
        return True


def _check_box(vf: VectorField, box: Box) -> tuple[Array, Array]:
    names = [s.name for s in vf.game.state_symbols]
    missing = [n for n in names if n not in box]
    unknown = sorted(set(box) - set(names))
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown {', '.join(unknown)}")
        raise SpecError(
            f"box must give (low, high) for every state symbol ({', '.join(names)}): "
            + "; ".join(parts)
        )
    low = np.empty(len(names))
    high = np.empty(len(names))
    for i, name in enumerate(names):
        try:
            lo, hi = (float(v) for v in box[name])
        except (TypeError, ValueError):
            raise SpecError(f"box[{name!r}] must be a pair of numbers (low, high)") from None
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise SpecError(f"box[{name!r}] must satisfy low < high, both finite; got {lo}, {hi}")
        low[i], high[i] = lo, hi
    return low, high


def _closed_form_entries(
    vf: VectorField, timeout: float, low: Array, high: Array, in_box: bool
) -> tuple[list[StationarySet], list[_ClosedForm]]:
    state = vf.game.state_symbols
    found = find_stationary_points(vf, timeout=timeout)
    entries: list[StationarySet] = []
    forms: list[_ClosedForm] = []
    for solution in found.points:
        values = tuple(sp.sympify(v) for _, v in solution)
        free = tuple(i for i, (s, v) in enumerate(solution) if v == s)
        if not free and any(v.free_symbols for v in values):
            continue  # depends on something that is not a state symbol: not a point
        form = _ClosedForm(values, free)
        if not free:
            try:
                point = {s.name: float(sp.re(sp.N(v))) for s, v in zip(state, values, strict=True)}
            except (TypeError, ValueError):
                continue
            forms.append(form)
            entries.append(StationarySet("isolated", point, None, (point,), "sympy"))
            continue
        fixed = [i for i in range(len(state)) if i not in free]
        equation = ", ".join(f"{state[i].name} = {sp.sstr(values[i])}" for i in fixed)
        per_axis = max(2, math.floor(_SET_SAMPLES ** (1.0 / len(free)) + 1e-9))
        axes = [np.linspace(low[i], high[i], per_axis) for i in free]
        grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, len(free))
        samples: list[dict[str, float]] = []
        inside: list[dict[str, float]] = []
        for row in grid:
            subs = {state[i]: sp.Float(float(v)) for i, v in zip(free, row, strict=True)}
            try:
                coords = [complex(sp.N(values[i].xreplace(subs))) for i in range(len(state))]
            except (TypeError, ValueError):
                continue
            if any(abs(c.imag) > 1e-12 * max(1.0, abs(c.real)) or not math.isfinite(c.real)
                   for c in coords):
                continue
            sample = {s.name: c.real for s, c in zip(state, coords, strict=True)}
            samples.append(sample)
            if all(low[i] <= coords[i].real <= high[i] for i in range(len(state))):
                inside.append(sample)
        chosen = inside if (in_box and inside) else samples
        forms.append(form)
        entries.append(StationarySet("set", None, equation, tuple(chosen), "sympy"))
    return entries, forms


def _numeric_roots(
    vf: VectorField, low: Array, high: Array, n_starts: int, seed: int, tol: float
) -> list[Array]:
    rng = np.random.default_rng(seed)
    starts = rng.uniform(low, high, size=(n_starts, low.size))
    residual_tol = math.sqrt(tol)
    slack = 1e-9 * (high - low)

    def fun(x: Array) -> Array:
        return vf.field_fn(x)

    def jac(x: Array) -> Array:
        return vf.jacobian_fn(x)

    roots: list[tuple[Array, float]] = []
    for x0 in starts:
        with np.errstate(all="ignore"):
            try:
                sol = root(fun, x0, jac=jac, method="hybr", options={"xtol": tol})
            except (ValueError, FloatingPointError, np.linalg.LinAlgError):
                continue
        x = np.asarray(sol.x, dtype=np.float64)
        if not np.all(np.isfinite(x)) or np.any(x < low - slack) or np.any(x > high + slack):
            continue
        residual = float(np.max(np.abs(fun(x))))
        if not residual <= residual_tol:
            continue
        for i, (other, other_res) in enumerate(roots):
            scale = max(1.0, float(np.linalg.norm(x)), float(np.linalg.norm(other)))
            if np.linalg.norm(x - other) <= _MERGE_RTOL * scale:
                if residual < other_res:
                    roots[i] = (x, residual)
                break
        else:
            roots.append((x, residual))
    return [x for x, _ in roots]


def find_equilibria(
    vf: VectorField,
    box: Box | None = None,
    *,
    n_starts: int = 64,
    seed: int = 0,
    timeout: float = 5.0,
    tol: float = 1e-9,
    use_sympy: bool = True,
) -> list[StationarySet]:
    """Stationary points of the gradient flow ``F(x) = 0``, closed form and numeric.

    sympy is tried first (:func:`gandyn.derivation.stationary.find_stationary_points`,
    stopped after ``timeout`` seconds): a fully numeric solution is an
    ``isolated`` point, a solution with free state symbols a ``set`` whose
    ``equation`` lists the fixed coordinates (``"psi = 0"``) and whose
    ``samples`` spread the free coordinates over the box (``[-1, 1]`` without
    one). When a box is given, ``scipy.optimize.root`` (``hybr``, with the
    exact Jacobian) then starts from ``n_starts`` seeded uniform points in
    it; a root is kept when it lies in the box and ``max|F| <= sqrt(tol)``,
    and roots closer than ``1e-5 max(1, |x|)`` are merged.

    Non-isolated sets found numerically: two roots are linked when the
    Jacobian has a numerically zero singular value (below ``1e-6`` of the
    largest) at both, the chord between them lies (sine of angle below 0.1)
    in both null spaces, and minimum-norm Newton steps from the chord's
    midpoint reach a root near it. A linked cluster of at least three roots
    is one ``set`` (its equation fitted when the roots span an affine
    subspace, else ``None``); fewer stay ``isolated``. Numeric results on a
    sympy point or set are dropped.

    Parameters
    ----------
    vf
        The derived game (hyper-parameters at their values).
    box
        ``name -> (low, high)`` for every state symbol, or ``None`` (closed
        forms only).
    n_starts, seed
        Number of numeric starts and the seed of their generator.
    timeout
        Seconds sympy may take; ``0`` or less skips sympy.
    tol
        ``xtol`` of the root finder; roots must have ``max|F| <= sqrt(tol)``.
    use_sympy
        ``False`` skips sympy (numeric search only).

    Returns
    -------
    list of StationarySet
        sympy's results first, then numeric ones.

    Raises
    ------
    gandyn.errors.SpecError
        When the box misses a state symbol, names an unknown one or has
        ``low >= high``.

    Notes
    -----
    sympy's list can be incomplete for transcendental fields, and the
    numeric search finds only roots whose basin contains a start: neither
    proves that no other stationary point exists.
    """
    state = vf.game.state_symbols
    n = len(state)
    if box is not None:
        low, high = _check_box(vf, box)
    else:
        low, high = -np.ones(n), np.ones(n)
    entries: list[StationarySet] = []
    forms: list[_ClosedForm] = []
    if use_sympy and timeout > 0:
        entries, forms = _closed_form_entries(vf, timeout, low, high, box is not None)
    if box is None:
        return entries
    roots = _numeric_roots(vf, low, high, n_starts, seed, tol)
    atol = max(1e-6, 10 * math.sqrt(tol))
    for entry, points in _numeric_entries(vf, roots, low, high, tol):
        if all(any(f.contains(p, state, atol) for f in forms) for p in points):
            continue
        entries.append(entry)
    return entries
