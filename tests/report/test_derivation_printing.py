"""The report prints each expression exactly as ``sympy.sstr(e, order="none")`` does.

The report's printer remembers the text of every subexpression it printed (a
large game repeats them thousands of times); the reference is sympy's own
printer called afresh on each expression.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
import sympy as sp

from gandyn.games.game import make_game
from gandyn.report.derivation import derivation, to_dict
from gandyn.symbolic.functions import softplus


def _reference(d: Any) -> dict[str, Any]:
    vf, game = d.field, d.field.game

    def s(e: sp.Basic) -> str:
        return sp.sstr(d.expr(e), order="none")

    return {
        "cost_g": s(game.cost_g), "cost_d": s(game.cost_d),
        "logged": {name: s(e) for name, e in game.logged},
        "grad_g": [s(e) for e in vf.grad_g], "grad_d": [s(e) for e in vf.grad_d],
        "field": [s(e) for e in vf.field],
        "jacobian": [[s(e) for e in row] for row in vf.jacobian.tolist()],
        "hessian_g": [[s(e) for e in row] for row in vf.hessian_g.tolist()],
        "hessian_d": [[s(e) for e in row] for row in vf.hessian_d.tolist()],
    }


@pytest.mark.parametrize("case", [
    ("dirac", "non-saturating", ["r1"], {}, False),
    ("two-point", "hinge", ["consensus"], {"logit": "quadratic"}, True),
    ("gaussian", "wasserstein", ["instance-noise"], {"order": 3}, False),
], ids=str)
def test_printed_expressions_equal_sympy_printer(case: tuple[Any, ...]) -> None:
    name, loss, regs, options, substitute = case
    d = derivation(make_game(name, loss, regs, options=options), substitute=substitute,
                   solve_timeout=0, matrices=True)
    data = to_dict(d)
    for key, want in _reference(d).items():
        assert data[key] == want, key


def test_a_large_game_prints_as_sympy_does() -> None:
    theta = sp.symbols("theta_1:7", real=True)
    psi = sp.symbols("psi_1:7", real=True)
    logit = sp.Add(*(t * p for t, p in zip(theta, psi, strict=True)))
    game = replace(make_game("bilinear"), theta=theta, psi=psi,
                   cost_g=softplus(-logit) + sp.Add(*(t**2 for t in theta)) / 10,
                   cost_d=softplus(logit) + softplus(-sp.Add(*psi)))
    d = derivation(game, solve_timeout=0, matrices=True)
    data = to_dict(d)
    for key in ("grad_g", "grad_d", "field", "jacobian", "hessian_g", "hessian_d"):
        assert data[key] == _reference(d)[key], key
