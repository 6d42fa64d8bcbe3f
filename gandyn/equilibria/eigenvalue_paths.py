"""Eigenvalues along a path of one hyper-parameter, and where they change character.

For a stationary point and a hyper-parameter swept over a range (``gamma`` of
R1 from 0 to 2, say), :func:`eigenvalue_path` computes the eigenvalues of the
flow's Jacobian ``dF/dx`` (or of an update rule's map) at each value, orders
them continuously along the path, and reports the events that matter for
stability: two eigenvalues meeting on the real axis (a focus turning into a
node), an eigenvalue crossing the imaginary axis (flow stability changes) or
leaving the unit circle (a discrete rule's stability changes).
:func:`equilibrium_path` follows the eigenvalues at an equilibrium of a game,
of the flow or of an update rule's map, and refuses a parameter that moves it.

References
----------
.. [1] Mescheder, Geiger and Nowozin (2018). Which Training Methods for GANs
   do actually Converge? ICML, Sec. 4.1: with R1 the Dirac-GAN's eigenvalues
   ``-gamma/2 +- sqrt(gamma**2/4 - 1/4)`` meet at ``gamma = 1``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from gandyn.arrays import Array
from gandyn.arrays import ComplexArray as Complex
from gandyn.errors import SpecError, UnknownNameError

if TYPE_CHECKING:
    from gandyn.derivation.field import VectorField

__all__ = ["EigenvaluePath", "PathError", "PathEvent", "check_path", "eigenvalue_path",
           "match_eigenvalues"]


class PathError(SpecError):
    """A parameter path that cannot be followed at an equilibrium.

    ``reason`` reads after the words "parameter path" (the message), so
    that a caller can name the path its own way (the command line: ``--path``).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(f"parameter path {reason}")
        self.reason = reason


@dataclass(frozen=True)
class PathEvent:
    """Where the spectrum changes character between two path values.

    Attributes
    ----------
    kind
        ``collision`` (a complex pair becomes real or the reverse),
        ``axis-crossing`` (a real part changes sign: flow stability),
        ``unit-circle`` (a modulus crosses 1: map stability).
    value
        The parameter value, interpolated linearly between the two grid values.
    """

    kind: Literal["collision", "axis-crossing", "unit-circle"]
    value: float


@dataclass(frozen=True)
class EigenvaluePath:
    """Eigenvalues along a parameter path.

    Attributes
    ----------
    parameter
        The hyper-parameter's name.
    values
        Its values, ``(m,)``.
    eigenvalues
        ``(m, k)``, each column one eigenvalue followed continuously.
    events
        Collisions and stability changes, in path order.
    reference
        ``flow`` (eigenvalues of ``dF/dx``) or ``map`` (of an update rule's map).
    """

    parameter: str
    values: Array
    eigenvalues: Complex
    events: tuple[PathEvent, ...]
    reference: Literal["flow", "map"]


def match_eigenvalues(previous: Complex, current: Complex) -> Complex:
    """Reorder ``current`` so each entry continues the nearest entry of ``previous``.

    Greedy nearest-neighbour matching, enough for paths sampled finely
    compared with how fast the eigenvalues move.
    """
    remaining = list(range(len(current)))
    ordered = np.empty_like(current)
    for i, value in enumerate(previous):
        j = min(remaining, key=lambda r: abs(current[r] - value))
        ordered[i] = current[j]
        remaining.remove(j)
    return ordered


def _crossings(values: Array, series: Array, level: float) -> list[float]:
    out = []
    for a in range(len(values) - 1):
        lo, hi = series[a] - level, series[a + 1] - level
        if lo == 0.0 and a > 0:
            continue  # counted at the previous interval's end
        if lo * hi < 0 or (hi == 0.0 and lo != 0.0):
            t = lo / (lo - hi)
            out.append(float(values[a] + t * (values[a + 1] - values[a])))
    return out


def _events(values: Array, eig: Complex, reference: str, tol: float) -> tuple[PathEvent, ...]:
    events: list[PathEvent] = []
    n_real = (np.abs(eig.imag) <= tol * np.maximum(1.0, np.abs(eig))).sum(axis=1)
    for a in range(len(values) - 1):
        if n_real[a] != n_real[a + 1]:
            # A double eigenvalue on a grid point is the collision itself;
            # otherwise it lies between the two values.
            side = a if n_real[a] > n_real[a + 1] else a + 1
            real = np.sort(eig[side].real[np.abs(eig[side].imag) <= tol * np.maximum(
                1.0, np.abs(eig[side]))])
            double = real.size > 1 and np.min(np.diff(real)) <= 1e-6 * max(1.0, np.abs(real).max())
            where = values[side] if double else 0.5 * (values[a] + values[a + 1])
            events.append(PathEvent("collision", float(where)))
    for column in eig.T:
        if reference == "flow":
            events += [PathEvent("axis-crossing", v) for v in _crossings(values, column.real, 0.0)]
        else:
            events += [PathEvent("unit-circle", v) for v in _crossings(values, np.abs(column), 1.0)]
    # One event per kind and place: a complex pair crosses together.
    unique: dict[tuple[str, float], PathEvent] = {}
    for e in sorted(events, key=lambda e: (e.value, e.kind)):
        unique.setdefault((e.kind, round(e.value, 9)), e)
    return tuple(unique.values())


def eigenvalue_path(
    matrix_at: Callable[[float], Array],
    parameter: str,
    values: Sequence[float] | Array,
    *,
    reference: Literal["flow", "map"] = "flow",
    tol: float = 1e-9,
) -> EigenvaluePath:
    """Eigenvalues of ``matrix_at(value)`` along ``values``, followed continuously.

    Parameters
    ----------
    matrix_at
        The Jacobian (flow) or map Jacobian at the stationary point for one
        parameter value, ``(n, n)``.
    parameter
        Name reported with the path.
    values
        The parameter values, increasing.
    reference
        ``flow``: report imaginary-axis crossings; ``map``: unit-circle crossings.
    tol
        Relative size of an imaginary part counted as zero.
    """
    grid = np.asarray(values, dtype=np.float64)
    if grid.ndim != 1 or grid.size < 2 or np.any(np.diff(grid) <= 0):
        raise ValueError("a path needs at least two increasing values")
    rows: list[Complex] = []
    for value in grid:
        eig = np.linalg.eigvals(np.asarray(matrix_at(float(value)), dtype=np.float64))
        eig = np.sort_complex(eig.astype(np.complex128))
        rows.append(eig if not rows else match_eigenvalues(rows[-1], eig))
    eigenvalues = np.array(rows)
    return EigenvaluePath(parameter, grid, eigenvalues, _events(grid, eigenvalues, reference, tol),
                          reference)


def check_path(vf: VectorField, parameter: str, low: float, high: float, count: int) -> None:
    """Refuse a path of something that is not a hyper-parameter, or with fewer than two values.

    Raises
    ------
    gandyn.errors.UnknownNameError
        For a parameter that is not a hyper-parameter of the game.
    gandyn.errors.SpecError
        For fewer than two values, ``low >= high`` or ends that are not finite.
    """
    names = [p.name for p in vf.game.params]
    if parameter not in names:
        raise UnknownNameError(f"hyper-parameter of game {vf.game.name!r}", parameter, names)
    if not (int(count) >= 2 and math.isfinite(low) and math.isfinite(high) and low < high):
        raise SpecError(f"parameter path {parameter}: needs at least two values and "
                        f"low < high, both finite; got {low}, {high}, {count}")
