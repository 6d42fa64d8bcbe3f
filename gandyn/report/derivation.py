"""A game derived (:func:`derivation`) as text, LaTeX or the JSON contract of ``gandyn derive``.

The JSON keys are a stable contract (see README, "gandyn derive --format json"):
expressions are strings in sympy's syntax that
:func:`gandyn.symbolic.expressions.parse_expression` (or ``sympy.parse_expr`` with
gandyn's functions and real symbols) reads back to the same expression.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import sympy as sp
from sympy.printing.str import StrPrinter

from gandyn import __version__
from gandyn.derivation.field import VectorField
from gandyn.derivation.stationary import StationaryPoints
from gandyn.errors import SpecError, UnknownNameError
from gandyn.symbolic.expectations import AUTO_ORDER, quadrature_symbols
from gandyn.symbolic.printing import latex, latex_symbol

if TYPE_CHECKING:
    from gandyn.games.game import Game

__all__ = ["MAX_PRINTED_PARAMETERS", "Derivation", "PointError", "derivation", "to_dict",
           "to_json", "to_latex", "to_text"]

#: Most parameters (generator and discriminator together) of a game whose
#: Jacobian and Hessians are printed unless asked otherwise: 10 columns is what
#: a terminal line and amsmath's default matrix hold, and above it the ``n**2``
#: expressions cost more to derive and print than the rest of the report while
#: nobody reads them; a program takes them from the JSON.
MAX_PRINTED_PARAMETERS = 10


class PointError(SpecError):
    """A point to evaluate at that misses state symbols.

    ``reason`` reads after the point's name (the message begins ``at: ``), so
    that a caller can name the point its own way (the command line: ``--at``).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(f"at: {reason}")
        self.reason = reason


@dataclass(frozen=True)
class Derivation:
    """Everything ``gandyn derive`` reports.

    Attributes
    ----------
    field
        The derived game.
    stationary
        Closed-form stationary points (or why there are none).
    at
        The point to evaluate at, by state symbol name, or ``None``.
    substitute
        Whether printed expressions have hyper-parameter values substituted.
    matrices
        Whether the symbolic Jacobian and Hessians are reported (and so
        derived); without them, the numeric Jacobian at :attr:`at` is still
        reported through its eigenvalues.
    """

    field: VectorField
    stationary: StationaryPoints | None
    at: Mapping[str, float] | None = None
    substitute: bool = False
    matrices: bool = True

    @property
    def matrices_omitted(self) -> str | None:
        """Why the matrices are not reported, in one line, or ``None`` if they are."""
        if self.matrices:
            return None
        n = len(self.field.game.state_symbols)
        return (f"the {n}x{n} Jacobian dF/dx and the Hessians are not printed for "
                f"{n} parameters (more than {MAX_PRINTED_PARAMETERS}, limit "
                "MAX_PRINTED_PARAMETERS): --matrices prints them, and --format json holds them")

    def expr(self, e: sp.Expr) -> sp.Expr:
        """``e`` as printed: with values substituted when asked."""
        return self.field.substituted(e) if self.substitute else e

    @property
    def at_vector(self) -> np.ndarray[Any, np.dtype[np.float64]] | None:
        """The evaluation point as a state vector."""
        if self.at is None:
            return None
        return np.array([self.at[s.name] for s in self.field.game.state_symbols], dtype=float)

    def jacobian_at(self) -> np.ndarray[Any, np.dtype[np.float64]] | None:
        """The numeric Jacobian ``dF/dx`` at :attr:`at`."""
        x = self.at_vector
        if x is None:
            return None
        if len(x) > MAX_PRINTED_PARAMETERS:
            # Compiling n**2 entries costs seconds; n products at one point do not.
            return self.field.jacobian_by_products(x)
        return self.field.jacobian_fn(x)

    def eigenvalues_at(self) -> np.ndarray[Any, np.dtype[np.complex128]] | None:
        """Eigenvalues of the Jacobian at :attr:`at`, sorted by real then imaginary part."""
        jac = self.jacobian_at()
        if jac is None or not np.all(np.isfinite(jac)):
            return None
        eig = np.linalg.eigvals(jac)
        return eig[np.lexsort((eig.imag, eig.real))]


def derivation(game: Game, *, at: Mapping[str, float] | None = None, substitute: bool = False,
               solve_timeout: float = 5.0, matrices: bool | None = None) -> Derivation:
    """Derive ``game`` and gather what ``gandyn derive`` reports about it.

    Parameters
    ----------
    game
        The game to derive (:func:`gandyn.derivation.field.derive`).
    at
        A state to evaluate the Jacobian and its eigenvalues at, by state
        symbol name (every state symbol, no other name), or ``None``.
    substitute
        Print expressions with the hyper-parameter values substituted.
    solve_timeout
        Seconds sympy may spend on closed-form stationary points; ``0`` skips them.
    matrices
        Report the symbolic Jacobian and Hessians; ``None``: when the game has
        at most :data:`MAX_PRINTED_PARAMETERS` parameters.

    Raises
    ------
    gandyn.errors.UnknownNameError
        When ``at`` names something that is not a state symbol.
    PointError
        When ``at`` misses a state symbol.
    """
    from gandyn.derivation.field import derive
    from gandyn.derivation.stationary import find_stationary_points

    if at is not None:
        names = [s.name for s in game.state_symbols]
        unknown = [k for k in at if k not in names]
        if unknown:
            raise UnknownNameError(f"state symbol of game {game.name!r}", unknown[0], names)
        missing = [n for n in names if n not in at]
        if missing:
            raise PointError(f"missing {', '.join(missing)} (the state is {', '.join(names)})")
        at = {k: float(v) for k, v in at.items()}
    if matrices is None:
        matrices = len(game.state_symbols) <= MAX_PRINTED_PARAMETERS
    field = derive(game)
    stationary = find_stationary_points(field, solve_timeout) if solve_timeout > 0 else None
    return Derivation(field, stationary, at, substitute, matrices)


class _SharedPrinter(StrPrinter):
    """``sympy.sstr(e, order="none")``, each distinct subexpression printed once.

    The entries of a large game's gradients and matrices repeat the same
    pieces (a logit summing every parameter, inside each ``sigmoid``), which
    sympy's printer prints anew every time: for a 32-parameter game that is
    seconds of the report. A subexpression's text does not depend on where it
    stands (the parent adds any parentheses), so this printer remembers each
    one for the report it serves.
    """

    def __init__(self) -> None:
        super().__init__({"order": "none"})
        self._printed: dict[sp.Basic, str] = {}

    def _print(self, expr: Any, **kwargs: Any) -> str:
        if kwargs or not isinstance(expr, sp.Basic):
            return str(super()._print(expr, **kwargs))
        found = self._printed.get(expr)
        if found is None:
            found = self._printed[expr] = str(super()._print(expr))
        return found

    def __call__(self, e: Any) -> str:
        return str(self.doprint(e)) if isinstance(e, sp.Basic) else str(e)


def _regularizer_records(d: Derivation) -> list[dict[str, Any]]:
    return [
        {
            "name": r.name,
            "params": {p.name: p.value for p in r.parameters},
            # An order left to choose reads as on the command line (the order used: "quadrature").
            "options": {k: "auto" if k == "order" and v == AUTO_ORDER else v
                        for k, v in r.options},
        }
        for r in d.field.game.regularizers
    ]


def _clean(value: float) -> float | None:
    # JSON has no NaN or infinity; report them as null.
    return float(value) if np.isfinite(value) else None


def to_dict(d: Derivation) -> dict[str, Any]:
    """The JSON contract as a plain dictionary."""
    text = _SharedPrinter()
    vf, game = d.field, d.field.game
    state = game.state_symbols
    data: dict[str, Any] = {
        "gandyn_version": __version__,
        "game": game.name,
        "options": dict(game.definition.options),
        "quadrature": None if game.quadrature is None else game.quadrature.to_dict(),
        "loss": game.loss.name if game.loss else None,
        "regularizers": _regularizer_records(d),
        "symbols": {"theta": [s.name for s in game.theta], "psi": [s.name for s in game.psi]},
        "params": {p.name: p.value for p in game.params},
        "bound_symbols": sorted(
            s.name for e in (game.cost_g, game.cost_d) for s in quadrature_symbols(e)
        ),
        "substituted": d.substitute,
        "cost_g": text(d.expr(game.cost_g)),
        "cost_d": text(d.expr(game.cost_d)),
        "logged": {name: text(d.expr(e)) for name, e in game.logged},
        "grad_g": [text(d.expr(e)) for e in vf.grad_g],
        "grad_d": [text(d.expr(e)) for e in vf.grad_d],
        "field": [text(d.expr(e)) for e in vf.field],
        "jacobian": None,
        "hessian_g": None,
        "hessian_d": None,
        "matrices_omitted": d.matrices_omitted,
        "stationary_points": [],
        "stationary_status": None,
    }
    if d.matrices:
        data["jacobian"] = [[text(d.expr(vf.jacobian[i, j])) for j in range(len(state))]
                            for i in range(len(state))]
        data["hessian_g"] = [[text(d.expr(e)) for e in row] for row in vf.hessian_g.tolist()]
        data["hessian_d"] = [[text(d.expr(e)) for e in row] for row in vf.hessian_d.tolist()]
    if d.stationary is not None:
        data["stationary_points"] = [{s.name: text(v) for s, v in p} for p in d.stationary.points]
        data["stationary_status"] = {"status": d.stationary.status, "message": d.stationary.message}
    jac = d.jacobian_at()
    if d.at is not None and jac is not None:
        data["at"] = {s.name: float(d.at[s.name]) for s in state}
        data["field_at"] = [_clean(v) for v in vf.field_fn(d.at_vector)]
        data["jacobian_at"] = [[_clean(v) for v in row] for row in jac]
        eig = d.eigenvalues_at()
        data["eigenvalues"] = (
            None if eig is None else [[float(z.real), float(z.imag)] for z in eig]
        )
        data["logged_at"] = {k: _clean(float(v)) for k, v in vf.logged(d.at_vector).items()}
    return data


def to_json(d: Derivation) -> str:
    """The JSON contract, indented."""
    return json.dumps(to_dict(d), indent=2)


def _format_complex(z: complex) -> str:
    # "+ 0.0" turns a negative zero into zero for printing.
    if abs(z.imag) < 1e-12:
        return f"{z.real + 0.0:.6g}"
    sign = "+" if z.imag >= 0 else "-"
    return f"{z.real + 0.0:.6g} {sign} {abs(z.imag):.6g}i"


def _matrix_text(rows: list[list[str]], indent: str = "  ") -> list[str]:
    return [indent + "[" + ", ".join(row) + "]" for row in rows]


def to_text(d: Derivation) -> str:
    """A report for a reader: every expression on its own line."""
    text = _SharedPrinter()
    vf, game = d.field, d.field.game
    lines: list[str] = []
    title = game.definition.title
    lines.append(f"game: {game.name} ({title})")
    if game.definition.options:
        lines.append("  options: " + ", ".join(f"{k}={v}" for k, v in game.definition.options))
    if game.quadrature is not None:
        lines.append(f"  quadrature: {game.quadrature.describe()}")
    lines.append(f"  reference: {game.definition.reference}")
    if game.loss is not None:
        lines.append(f"loss: {game.loss.name} ({game.loss.title})")
        lines.append(f"  reference: {game.loss.reference}")
    else:
        lines.append("loss: none (the game defines its costs directly)")
    for reg in game.regularizers:
        lines.append(f"regularizer: {reg.describe()} ({reg.regularizer.title})")
        lines.append(f"  {reg.regularizer.formula}")
        lines.append(f"  reference: {reg.regularizer.reference}")
    lines.append(
        "symbols: theta = (" + ", ".join(s.name for s in game.theta) + "), psi = ("
        + ", ".join(s.name for s in game.psi) + ")"
    )
    for names, doc in game.definition.symbol_docs:
        lines.append(f"  {names}: {doc}")
    if game.params:
        verb = "substituted" if d.substitute else "symbolic below"
        lines.append(
            f"hyper-parameters ({verb}): "
            + ", ".join(f"{p.name} = {p.value:g}" for p in game.params)
        )
    lines.append("")
    lines.append("logged losses (as a training loop logs them):")
    for name, e in game.logged:
        lines.append(f"  {name} = {text(d.expr(e))}")
    lines.append("")
    lines.append("costs (each player minimizes its own):")
    lines.append(f"  cost_g = {text(d.expr(game.cost_g))}")
    lines.append(f"  cost_d = {text(d.expr(game.cost_d))}")
    lines.append("")
    lines.append("gradients of each player's own cost:")
    for s, e in zip(game.theta, vf.grad_g, strict=True):
        lines.append(f"  d cost_g / d {s.name} = {text(d.expr(e))}")
    for s, e in zip(game.psi, vf.grad_d, strict=True):
        lines.append(f"  d cost_d / d {s.name} = {text(d.expr(e))}")
    lines.append("")
    lines.append("gradient flow dx/dt = F(x) = -xi(x):")
    for s, e in zip(game.state_symbols, vf.field, strict=True):
        lines.append(f"  d{s.name}/dt = {text(d.expr(e))}")
    lines.append("")
    state = [s.name for s in game.state_symbols]
    if d.matrices:
        lines.append("Jacobian dF/dx (rows: " + ", ".join(state) + "; columns: same order):")
        for i, row in enumerate(vf.jacobian.tolist()):
            for j, e in enumerate(row):
                lines.append(f"  dF_{state[i]}/d{state[j]} = {text(d.expr(e))}")
        lines.append("")
        lines.append("Hessian of cost_g in theta:")
        lines += _matrix_text([[text(d.expr(e)) for e in row] for row in vf.hessian_g.tolist()])
        lines.append("Hessian of cost_d in psi:")
        lines += _matrix_text([[text(d.expr(e)) for e in row] for row in vf.hessian_d.tolist()])
    else:
        lines.append(f"matrices: {d.matrices_omitted}")
    if d.stationary is not None:
        lines.append("")
        lines.append(f"stationary points ({d.stationary.message}):")
        for p in d.stationary.points:
            parts = [f"{s.name} = {text(v)}" if v != s else f"{s.name} free" for s, v in p]
            lines.append("  " + ", ".join(parts))
    jac = d.jacobian_at()
    if d.at is not None and jac is not None:
        x = d.at_vector
        lines.append("")
        lines.append("at " + ", ".join(f"{k} = {d.at[k]:g}" for k in state) + ":")
        logged = vf.logged(x)
        lines.append("  " + ", ".join(f"{k} = {float(v):.6g}" for k, v in logged.items()))
        lines.append("  F = [" + ", ".join(f"{v + 0.0:.6g}" for v in vf.field_fn(x)) + "]")
        if d.matrices:
            lines.append("  Jacobian dF/dx =")
            lines += _matrix_text([[f"{v + 0.0:.6g}" for v in row] for row in jac],
                                  indent="    ")
        eig = d.eigenvalues_at()
        if eig is None:
            lines.append("  eigenvalues: undefined (the Jacobian is not finite here)")
        else:
            lines.append("  eigenvalues: " + ", ".join(_format_complex(z) for z in eig))
    return "\n".join(lines)


def _tex_name(name: str) -> str:
    return name.replace("_", r"\_")


def _latex_matrices(d: Derivation) -> list[str]:
    """The Jacobian and the Hessians as ``equation*`` environments."""
    vf = d.field
    out: list[str] = []
    columns = len(vf.game.state_symbols)
    if columns > 10:  # amsmath's matrices stop at 10 columns unless told otherwise
        out.append(rf"\setcounter{{MaxMatrixCols}}{{{columns}}}")
    out.append(r"\begin{equation*}")
    out.append(r"\frac{\partial F}{\partial x} = "
               + latex(sp.Matrix(vf.jacobian).applyfunc(d.expr)))
    out.append(r"\end{equation*}")
    out.append(r"\begin{equation*}")
    hessian_g = latex(sp.Matrix(vf.hessian_g).applyfunc(d.expr))
    hessian_d = latex(sp.Matrix(vf.hessian_d).applyfunc(d.expr))
    out.append(
        rf"\nabla^2_{{\theta}}\mathcal{{L}}_G = {hessian_g},\qquad "
        rf"\nabla^2_{{\psi}}\mathcal{{L}}_D = {hessian_d}"
    )
    out.append(r"\end{equation*}")
    return out


def to_latex(d: Derivation) -> str:
    """A LaTeX fragment (``align*`` environments; needs amsmath)."""
    vf, game = d.field, d.field.game

    def tex(e: sp.Expr) -> str:
        return latex(d.expr(e))

    out: list[str] = []
    loss = game.loss.name if game.loss else "direct costs"
    regs = ", ".join(r.describe() for r in game.regularizers) or "none"
    out.append(f"% gandyn {__version__}: game {game.name}, loss {loss}, regularizers {regs}")
    out.append(r"\begin{align*}")
    rows = [rf"\ell_{{\mathrm{{{_tex_name(n)}}}}} &= {tex(e)}" for n, e in game.logged]
    rows.append(rf"\mathcal{{L}}_G &= {tex(game.cost_g)}")
    rows.append(rf"\mathcal{{L}}_D &= {tex(game.cost_d)}")
    out.append(" \\\\\n".join(rows))
    out.append(r"\end{align*}")
    out.append(r"\begin{align*}")
    rows = []
    for s, e in zip(game.state_symbols, vf.field, strict=True):
        rows.append(rf"\dot{{{latex_symbol(s.name)}}} &= {tex(e)}")
    out.append(" \\\\\n".join(rows))
    out.append(r"\end{align*}")
    if d.matrices:
        out += _latex_matrices(d)
    else:
        out.append(f"% {d.matrices_omitted}")
    if d.stationary is not None and d.stationary.points:
        out.append(r"% stationary points: " + d.stationary.message)
        for p in d.stationary.points:
            out.append(
                r"% " + ", ".join(f"{latex(s)} = {latex(v)}" for s, v in p)
            )
    eig = d.eigenvalues_at()
    if d.at is not None and eig is not None:
        point = ", ".join(f"{latex_symbol(k)} = {v:g}" for k, v in d.at.items())
        values = ", ".join(_format_complex(z) for z in eig)
        out.append(f"% eigenvalues of dF/dx at {point}: {values}")
    return "\n".join(out)
