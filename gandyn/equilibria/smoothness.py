"""Where the vector field ``F`` has a kink, and what ``F`` does on the switching surface.

:func:`nonsmooth_at` lists the terms of ``F`` built from ``|.|``, ``sign``,
``step``, ``relu``, ``max`` or ``min`` whose argument vanishes at a point.
:func:`switching_point` decides whether a root candidate on such a switching
surface is an equilibrium of gandyn's field (``F`` evaluated with its own
conventions, ``sign(0) = 0``, ``relu'(0) = step(0) = 0``) and, when it is not,
whether it is a sliding-mode (Filippov) equilibrium: ``0`` lies between the
one-sided limits of ``F``.

References
----------
.. [1] Filippov (1988). Differential Equations with Discontinuous Righthand
   Sides. Kluwer, Ch. 2, Sec. 4 (the sliding vector field on a switching
   surface: the convex combination of the one-sided fields tangent to it).
.. [2] Mescheder, Geiger and Nowozin (2018). Which Training Methods for GANs
   do actually Converge? ICML, Sec. 3 (WGAN-GP on the Dirac-GAN: the field
   jumps across ``psi = 0``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import sympy as sp

from gandyn.arrays import Array
from gandyn.derivation.field import NumericFunction, VectorField

__all__ = ["FIELD_ZERO_TOL", "SwitchCheck", "field_on_switch", "nonsmooth_at",
           "switching_point"]

#: Functions whose derivative jumps (or does not exist) where their argument vanishes.
_KINKED = (sp.Abs, sp.sign, sp.Heaviside, sp.DiracDelta, sp.Max, sp.Min)

#: ``max|F| <= FIELD_ZERO_TOL`` counts as a zero of ``F`` (on a switching surface too).
FIELD_ZERO_TOL = 1e-6
#: Distance from the surface, relative to ``1 + |x|_inf``, at which one-sided limits are read.
_SIDE_STEP = 1e-7
#: ``|alpha F+ + (1 - alpha) F-| <= _SLIDING_RTOL (1 + max|F+-|)``: zero is between the sides.
_SLIDING_RTOL = 1e-5


@functools.lru_cache(maxsize=32)
def _switching_terms(vf: VectorField) -> tuple[tuple[sp.Basic, sp.Expr], ...]:
    """``(term, switching function)`` for every kinked term of ``F`` (one walk per game)."""
    from gandyn.symbolic.functions import relu, step

    known = set(vf.game.state_symbols) | set(vf.game.param_values)
    found: list[tuple[sp.Basic, sp.Expr]] = []
    for expr in vf.field:
        for atom in sp.preorder_traversal(expr):
            if not isinstance(atom, (*_KINKED, relu, step)):
                continue
            # where the kink sits: the argument, or where two branches of max/min meet
            args = atom.args
            switch = (args[0] - args[1] if isinstance(atom, (sp.Max, sp.Min)) and len(args) == 2
                      else args[0])
            if not switch.free_symbols <= known:
                continue  # depends on an integration variable
            if all(atom != a for a, _ in found):
                found.append((atom, switch))
    return tuple(found)


def _kinks(vf: VectorField, point: Mapping[str, float],
           tol: float) -> list[tuple[sp.Basic, sp.Expr]]:
    """``(term, switching function)`` for each kinked term of ``F`` whose switch vanishes."""
    state = {s: float(point[s.name]) for s in vf.game.state_symbols}
    values = {**{s: float(v) for s, v in vf.game.param_values.items()}, **state}
    scale = 1.0 + max((abs(v) for v in state.values()), default=0.0)
    return [(atom, switch) for atom, switch in _switching_terms(vf)
            if abs(complex(switch.subs(values).evalf())) <= tol * scale]


def nonsmooth_at(vf: VectorField, point: Mapping[str, float], *, tol: float = 1e-9) -> list[str]:
    """The non-smooth terms of ``F`` whose argument vanishes at ``point``.

    ``F`` built from ``|.|``, ``sign``, ``step``, ``relu``, ``max`` or
    ``min`` (for example WGAN-GP's ``(|ds/dx| - 1)^2`` on the Dirac-GAN, whose
    flow jumps across ``psi = 0``) has no Jacobian where such an argument is
    zero: sympy's derivative holds a ``DiracDelta`` there that numeric code
    evaluates as 0, so eigenvalues computed at the point describe neither
    side. Terms inside a quadrature node, whose argument depends on the
    integration variable, are averaged over it and smooth, and are skipped.
    Where ``F`` has such a term, the players' costs are not twice
    differentiable either (``F`` holds their first derivatives), which is what
    the Nash and minimax tests of :mod:`gandyn.equilibria.local_optimality`
    check before reading second derivatives.

    Parameters
    ----------
    vf
        The derived game.
    point
        A state, by symbol name; hyper-parameters take the game's values.
    tol
        An argument with ``|arg| <= tol (1 + |point|_inf)`` counts as zero.

    Returns
    -------
    list of str
        The kinked terms (as sympy prints them), empty where ``F`` is smooth.
    """
    return [str(atom) for atom, _ in _kinks(vf, point, tol)]


def _at_zero(atom: sp.Basic) -> sp.Expr:
    """The value gandyn's numeric code gives ``atom`` where its switch is exactly zero."""
    if isinstance(atom, (sp.Max, sp.Min)):
        return atom.args[0]  # both branches agree there
    # sign(0) = 0, |0| = 0, relu(0) = step(0) = 0 by gandyn's conventions; sympy keeps
    # DiracDelta(0) and Heaviside(0) symbolic and the numeric namespace evaluates them
    return atom.func(sp.Integer(0), *atom.args[1:])


def field_on_switch(vf: VectorField, point: Mapping[str, float], *,
                    tol: float = 1e-9) -> Array:
    """``F`` at ``point`` with every switching term taken exactly at its switch.

    A root finder stops a rounding error away from a switching surface
    (``psi = 1e-16``), where ``sign`` already reads ``+1``; gandyn's field on
    the surface itself uses ``sign(0) = 0`` (and ``|0| = relu(0) = step(0) =
    0``). Each term of ``F`` whose switch vanishes within ``tol`` is replaced
    by its value at a zero switch, and the rest of ``F`` is evaluated at
    ``point``.
    """
    kinks = _kinks(vf, point, tol)
    state = vf.game.state_symbols
    x = np.array([float(point[s.name]) for s in state])
    if not kinks:
        return np.asarray(vf.field_fn(x), dtype=np.float64)
    replaced = [e.xreplace({atom: _at_zero(atom) for atom, _ in kinks}) for e in vf.field]
    return np.asarray(NumericFunction(replaced, state, vf.game.param_values)(x),
                      dtype=np.float64)


@dataclass(frozen=True)
class SwitchCheck:
    """A root candidate on a switching surface of ``F``, and whether it is an equilibrium.

    Attributes
    ----------
    point
        The candidate moved onto the surface (one Newton step on the switch).
    terms
        The terms of ``F`` that switch there (:func:`nonsmooth_at`).
    field
        ``F`` there with gandyn's conventions (:func:`field_on_switch`).
    equilibrium
        ``max|field| <= FIELD_ZERO_TOL``.
    sliding
        Only for a candidate that is not an equilibrium: ``"attracting"``,
        ``"escaping"`` or ``"one-sided"`` when ``0`` lies between the one-sided
        limits ``F+`` and ``F-`` (a sliding-mode or Filippov equilibrium, [1]_):
        both sides point onto the surface, both point away from it, or one
        side's own zero sits on it; ``None`` when it does not, or when the point
        lies where several surfaces meet (not analysed).
    """

    point: Mapping[str, float]
    terms: tuple[str, ...]
    field: tuple[float, ...]
    equilibrium: bool
    sliding: Literal["attracting", "escaping", "one-sided"] | None

    def to_dict(self) -> dict[str, Any]:
        """The entry in ``switching_points`` of ``gandyn analyze --json``."""
        return {"point": dict(self.point), "nonsmooth": list(self.terms),
                "field": list(self.field), "sliding": self.sliding}

    def describe(self) -> str:
        """One sentence for the analysis's notes."""
        where = ", ".join(f"{k} = {v:.6g}" for k, v in self.point.items())
        value = ", ".join(f"{v:.3g}" for v in self.field)
        text = (f"{where} lies where {', '.join(self.terms)} switches and F = ({value}) there "
                "(sign(0) = 0): not an equilibrium of gandyn's field, not listed")
        if self.sliding == "attracting":
            text += ("; it is an attracting sliding-mode (Filippov) equilibrium: the flow on both "
                     "sides points onto the switching surface and 0 lies between the one-sided "
                     "limits of F")
        elif self.sliding == "escaping":
            text += ("; it is an escaping sliding-mode (Filippov) equilibrium: 0 lies between the "
                     "one-sided limits of F, but the flow on both sides leaves the surface")
        elif self.sliding == "one-sided":
            text += ("; F tends to 0 from one side only (that side's smooth piece has its zero "
                     "on the surface): a sliding-mode (Filippov) equilibrium at the end of a "
                     "sliding region")
        return text


def _switch_gradient(switch: sp.Expr, vf: VectorField, x: Array) -> Array:
    """The gradient of a switching function at ``x``, by central differences."""
    fn = NumericFunction(switch, vf.game.state_symbols, vf.game.param_values)
    step = 1e-6 * (1.0 + float(np.max(np.abs(x))))
    eye = np.eye(x.size)
    return np.array([(float(fn(x + step * e)) - float(fn(x - step * e))) / (2 * step)
                     for e in eye])


def switching_point(vf: VectorField, point: Mapping[str, float], *,
                    tol: float = 1e-9) -> SwitchCheck | None:
    """Check a root candidate against ``F`` on the switching surface it lies on.

    ``None`` where ``F`` is smooth at ``point``. Otherwise the candidate is
    moved onto the surface (one Newton step on the switching function when
    there is one surface), ``F`` is evaluated there with gandyn's conventions
    (:func:`field_on_switch`), and, when that is not zero, the one-sided
    limits ``F+ = F(x + e n)`` and ``F- = F(x - e n)`` (``n`` the surface's
    normal, ``e = 1e-7 (1 + |x|)``) decide whether ``0 = alpha F+ + (1 -
    alpha) F-`` for some ``alpha`` in ``[0, 1]``: Filippov's sliding-mode
    equilibrium ([1]_, Ch. 2). With ``n.F+ < 0 < n.F-`` the surface attracts
    the flow from both sides; with ``n.F+ > 0 > n.F-`` it repels on both.

    Parameters
    ----------
    vf
        The derived game.
    point
        The candidate, by state symbol name.
    tol
        As in :func:`nonsmooth_at`.
    """
    kinks = _kinks(vf, point, tol)
    if not kinks:
        return None
    state = vf.game.state_symbols
    x = np.array([float(point[s.name]) for s in state])
    normals = [_switch_gradient(switch, vf, x) for _, switch in kinks]
    normals = [n / np.linalg.norm(n) for n in normals if np.linalg.norm(n) > 0]
    one_surface = bool(normals) and all(abs(float(n @ normals[0])) > 1 - 1e-9 for n in normals)
    if one_surface:
        # onto the surface: x - g(x) grad g / |grad g|^2 (exact for a linear switch)
        switch = kinks[0][1]
        fn = NumericFunction(switch, state, vf.game.param_values)
        grad = _switch_gradient(switch, vf, x)
        x = x - float(fn(x)) * grad / float(grad @ grad)
    moved = {s.name: float(v) + 0.0 for s, v in zip(state, x, strict=True)}
    on_switch = field_on_switch(vf, moved, tol=tol)
    terms = tuple(str(atom) for atom, _ in kinks)
    values = tuple(float(v) for v in on_switch)
    if float(np.max(np.abs(on_switch))) <= FIELD_ZERO_TOL:
        return SwitchCheck(moved, terms, values, True, None)
    if not one_surface:
        return SwitchCheck(moved, terms, values, False, None)
    normal = normals[0]
    side = _SIDE_STEP * (1.0 + float(np.max(np.abs(x))))
    plus = np.asarray(vf.field_fn(x + side * normal), dtype=np.float64)
    minus = np.asarray(vf.field_fn(x - side * normal), dtype=np.float64)
    jump = plus - minus
    scale = 1.0 + max(float(np.max(np.abs(plus))), float(np.max(np.abs(minus))))
    sliding: Literal["attracting", "escaping", "one-sided"] | None = None
    if float(jump @ jump) > 0:
        alpha = -float(minus @ jump) / float(jump @ jump)
        residual = float(np.max(np.abs(minus + alpha * jump)))
        if -1e-6 <= alpha <= 1 + 1e-6 and residual <= _SLIDING_RTOL * scale:
            into_plus, into_minus = float(normal @ plus), float(normal @ minus)
            zero = _SLIDING_RTOL * scale
            if into_plus < -zero and into_minus > zero:
                sliding = "attracting"
            elif into_plus > zero and into_minus < -zero:
                sliding = "escaping"
            else:
                sliding = "one-sided"
    return SwitchCheck(moved, terms, values, False, sliding)
