"""Stationary points as found: one point, or a line or surface of them (:class:`StationarySet`).

Numeric roots of ``F`` on a set of stationary points come out as many
scattered points; :func:`_numeric_entries` links two roots when the chord
between them lies in the null space of ``dF/dx`` at both ends and its
midpoint projects back onto a root, and reports a linked cluster of at
least three roots once, as a ``set``, with its affine equation when it has
one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from gandyn.arrays import Array
from gandyn.derivation.field import VectorField

__all__ = ["StationarySet"]


#: Samples drawn along the free coordinates of a closed-form set.
_SET_SAMPLES = 9
#: A singular value below this (relative to ``max(1, largest)``) counts as zero.
_NULL_RTOL = 1e-6
#: Largest sine of the angle between a chord of two roots and a null space.
_ALIGN_TOL = 0.1


@dataclass(frozen=True)
class StationarySet:
    """A stationary point of ``F``, or a connected set of them.

    Attributes
    ----------
    kind
        ``"isolated"`` for one point, ``"set"`` for a line or surface of
        stationary points.
    point
        The point (state symbol name -> value) of an isolated one, else ``None``.
    equation
        For a set: the equations it satisfies, joined by ``", "``, such as
        ``"psi = 0"`` (closed form from sympy, or fitted to the numeric roots
        when they lie on an affine subspace; ``None`` for a curved numeric
        set). ``None`` for an isolated point.
    samples
        Points of the set spread over the box (``[-1, 1]`` per free coordinate
        when no box is given); ``(point,)`` for an isolated point.
    source
        ``"sympy"`` (closed form) or ``"numeric"`` (root finding in a box).
    """

    kind: Literal["isolated", "set"]
    point: dict[str, float] | None
    equation: str | None
    samples: tuple[dict[str, float], ...]
    source: Literal["sympy", "numeric"]


class _Components:
    """Union-find over root indices."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, i: int, j: int) -> None:
        self.parent[self.find(i)] = self.find(j)


def _null_basis(jac: Array) -> Array:
    _, s, vt = np.linalg.svd(jac)
    small = s <= _NULL_RTOL * max(1.0, float(s[0]) if s.size else 1.0)
    basis: Array = vt[small].T
    return basis


def _aligned(chord: Array, basis: Array) -> bool:
    if basis.shape[1] == 0:
        return False
    unit = chord / np.linalg.norm(chord)
    off = unit - basis @ (basis.T @ unit)
    return bool(np.linalg.norm(off) <= _ALIGN_TOL)


def _project_to_roots(vf: VectorField, x: Array, residual_tol: float) -> Array | None:
    """Minimum-norm Newton steps from ``x`` onto ``F = 0`` (``None`` if they fail)."""
    for _ in range(30):
        f = vf.field_fn(x)
        if not np.all(np.isfinite(f)):
            return None
        if np.max(np.abs(f)) <= residual_tol:
            return x
        x = x - np.linalg.pinv(vf.jacobian_fn(x)) @ f
    return x if np.max(np.abs(vf.field_fn(x))) <= residual_tol else None


def _affine_equation(points: Array, names: Sequence[str], scale: float) -> str | None:
    """Equations of the affine subspace through ``points``, or ``None`` if they span none."""
    centre = points.mean(axis=0)
    _, s, vt = np.linalg.svd(points - centre)
    s_full = np.zeros(points.shape[1])
    s_full[: s.size] = s
    normals = [vt[i] for i in range(points.shape[1]) if s_full[i] <= 1e-6 * scale]
    if not normals:
        return None

    def fmt(v: float) -> str:
        return f"{0.0 if abs(v) < 1e-8 * scale else v:.6g}"

    equations = []
    for normal in normals:
        k = int(np.argmax(np.abs(normal)))
        normal = normal / normal[k]
        offset = float(normal @ centre)
        others = [i for i in range(len(names)) if i != k and abs(normal[i]) > 1e-8]
        if not others:
            equations.append(f"{names[k]} = {fmt(offset)}")
        else:
            lhs = names[k] + "".join(
                f" {'+' if normal[i] > 0 else '-'} {abs(normal[i]):.6g}*{names[i]}"
                for i in others
            )
            equations.append(f"{lhs} = {fmt(offset)}")
    return ", ".join(equations)


def _spread(points: Array, k: int) -> Array:
    """``k`` of ``points`` spread along their principal direction."""
    if len(points) <= k:
        order = np.argsort(points @ _principal(points))
        result: Array = points[order]
        return result
    order = np.argsort(points @ _principal(points))
    picks = np.unique(np.round(np.linspace(0, len(points) - 1, k)).astype(int))
    chosen: Array = points[order[picks]]
    return chosen


def _principal(points: Array) -> Array:
    if len(points) < 2:
        return np.ones(points.shape[1])
    _, _, vt = np.linalg.svd(points - points.mean(axis=0))
    direction: Array = vt[0]
    return direction



def _numeric_entries(
    vf: VectorField, roots: list[Array], low: Array, high: Array, tol: float
) -> list[tuple[StationarySet, Array]]:
    names = [s.name for s in vf.game.state_symbols]
    residual_tol = math.sqrt(tol)
    bases = [_null_basis(vf.jacobian_fn(r)) for r in roots]
    groups = _Components(len(roots))
    for i in range(len(roots)):
        if bases[i].shape[1] == 0:
            continue
        for j in range(i + 1, len(roots)):
            if bases[j].shape[1] == 0 or groups.find(i) == groups.find(j):
                continue
            chord = roots[j] - roots[i]
            if not (_aligned(chord, bases[i]) and _aligned(chord, bases[j])):
                continue
            # The chord is tangent at both ends; its midpoint must also project
            # onto a root close by (two separate degenerate points are not a set).
            mid = 0.5 * (roots[i] + roots[j])
            projected = _project_to_roots(vf, mid, residual_tol)
            if projected is not None and (
                np.linalg.norm(projected - mid) <= 0.25 * np.linalg.norm(chord)
            ):
                groups.union(i, j)
    clusters: dict[int, list[int]] = {}
    for i in range(len(roots)):
        clusters.setdefault(groups.find(i), []).append(i)
    scale = max(1.0, float(np.max(high - low)))
    entries: list[tuple[StationarySet, Array]] = []
    for members in clusters.values():
        if len(members) >= 3:
            points = np.array([roots[i] for i in members])
            equation = _affine_equation(points, names, scale)
            samples = tuple(
                {n: float(v) for n, v in zip(names, p, strict=True)}
                for p in _spread(points, _SET_SAMPLES)
            )
            entries.append((StationarySet("set", None, equation, samples, "numeric"), points))
        else:
            for i in members:
                point = {n: float(v) for n, v in zip(names, roots[i], strict=True)}
                entries.append(
                    (StationarySet("isolated", point, None, (point,), "numeric"), roots[i][None])
                )
    return entries

