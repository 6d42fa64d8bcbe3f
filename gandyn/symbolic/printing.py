"""LaTeX of gandyn's expressions: symbol names with nested subscripts, gandyn's functions.

sympy prints a symbol ``u_x_data`` as ``u_{x data}`` (two subscripts run
together); :func:`latex_symbol` nests them instead, and :func:`latex` prints
any expression with those names. The functions of
:mod:`gandyn.symbolic.functions` print themselves (``\\operatorname{sigmoid}``,
``\\operatorname{softplus}``).
"""

from __future__ import annotations

from typing import Any

import sympy as sp

__all__ = ["latex", "latex_symbol"]


def _latex_name_part(part: str) -> str:
    """One ``_``-separated part of a symbol name: Greek letters and single characters as
    sympy prints them, words upright (``data`` -> ``\\mathrm{data}``)."""
    printed = str(sp.latex(sp.Symbol(part)))
    if printed.startswith("\\") or len(part) == 1 or part.isdigit():
        return printed
    return rf"\mathrm{{{part}}}"


def latex_symbol(name: str) -> str:
    """The LaTeX of a symbol name, every ``_`` a nested subscript.

    sympy prints ``u_x_data`` as ``u_{x data}``, with the space that merges two
    subscripts; here it is ``u_{x_{\\mathrm{data}}}`` (the variable ``u`` of
    ``x_data``), ``theta_mu`` stays ``\\theta_{\\mu}``.
    """
    parts = name.split("_")
    if len(parts) == 1 or not all(parts):
        return str(sp.latex(sp.Symbol(name)))
    text = _latex_name_part(parts[-1])
    for part in reversed(parts[:-1]):
        text = f"{_latex_name_part(part)}_{{{text}}}"
    return text


def latex(expr: Any) -> str:
    """``sympy.latex`` with :func:`latex_symbol` names for every symbol of ``expr``."""
    # atoms, not free_symbols: a quadrature's integration variable is bound
    symbols = expr.atoms(sp.Symbol) if hasattr(expr, "atoms") else set()
    return str(sp.latex(expr, symbol_names={s: latex_symbol(s.name) for s in symbols}))
