"""Where the vector field ``F`` has a kink, so that its Jacobian describes neither side.

:func:`nonsmooth_at` lists the terms of ``F`` built from ``|.|``, ``sign``,
``step``, ``relu``, ``max`` or ``min`` whose argument vanishes at a point.
"""

from __future__ import annotations

from collections.abc import Mapping

import sympy as sp

from gandyn.derivation.field import VectorField

__all__ = ["nonsmooth_at"]

#: Functions whose derivative jumps (or does not exist) where their argument vanishes.
_KINKED = (sp.Abs, sp.sign, sp.Heaviside, sp.DiracDelta, sp.Max, sp.Min)


def nonsmooth_at(vf: VectorField, point: Mapping[str, float], *, tol: float = 1e-9) -> list[str]:
    """The non-smooth terms of ``F`` whose argument vanishes at ``point``.

    ``F`` built from ``|.|``, ``sign``, ``step``, ``relu``, ``max`` or
    ``min`` (for example WGAN-GP's ``(|ds/dx| - 1)^2`` on the Dirac-GAN, whose
    flow jumps across ``psi = 0``) has no Jacobian where such an argument is
    zero: sympy's derivative holds a ``DiracDelta`` there that numeric code
    evaluates as 0, so eigenvalues computed at the point describe neither
    side. Terms inside a quadrature node, whose argument depends on the
    integration variable, are averaged over it and smooth, and are skipped.

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
    from gandyn.symbolic.functions import relu, step

    state = {s: float(point[s.name]) for s in vf.game.state_symbols}
    values = {**{s: float(v) for s, v in vf.game.param_values.items()}, **state}
    scale = 1.0 + max((abs(v) for v in state.values()), default=0.0)
    found: list[str] = []
    for expr in vf.field:
        for atom in sp.preorder_traversal(expr):
            if not isinstance(atom, (*_KINKED, relu, step)):
                continue
            # where the kink sits: the argument, or where two branches of max/min meet
            args = atom.args
            switch = (args[0] - args[1] if isinstance(atom, (sp.Max, sp.Min)) and len(args) == 2
                      else args[0])
            if not switch.free_symbols <= set(values):
                continue  # depends on an integration variable
            value = complex(switch.subs(values).evalf())
            if abs(value) <= tol * scale and str(atom) not in found:
                found.append(str(atom))
    return found
