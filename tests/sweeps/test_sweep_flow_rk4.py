"""Sweeps of the flow by fixed RK4 steps (``optimizer = "flow"``, ``method = "rk4"``).

Closed form: on the bilinear game the flow rotates ``z = theta + i psi``, and
one classic RK4 step of ``h`` multiplies ``z`` by ``R(i h) = 1 - h^2/2 + h^4/24
+ i (h - h^3/6)`` (Hairer, Norsett and Wanner (1993), Solving Ordinary
Differential Equations I, Sec. IV.2), so the map's spectral radius is
``|R(i h)| = sqrt(1 - h^6/72 + h^8/576)`` and ``|z_K| = |z_0| |R(i h)|^K``.
The map's Jacobian is checked against central differences of the step.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from gandyn.runs.spec import RuleSpec
from gandyn.sweeps import AxisSpec, SweepPlan, SweepSpec, make_plan, merge_sweep, run_sweep
from gandyn.symbolic.option_text import parse_axis


def _plan(rule: RuleSpec, axis: str, steps: int, game: str = "bilinear") -> SweepPlan:
    spec = merge_sweep(SweepSpec(), game=game, axes=[AxisSpec(*parse_axis(axis))], steps=steps)
    return make_plan(replace(spec, run=replace(spec.run, rule=rule)))


def test_rk4_sweep_of_the_bilinear_flow_contracts_by_the_stability_function() -> None:
    steps = 200
    plan = _plan(RuleSpec(name="flow", settings=(("method", "rk4"),)), "lr=0.2:1.2:6", steps)
    result = run_sweep(plan)
    h = result.axis_values["lr"]
    factor = np.sqrt(1 - h**6 / 72 + h**8 / 576)
    np.testing.assert_allclose(result.measures["spectral_radius"], factor, rtol=1e-13)
    # From (1, 1): |z_K| = sqrt(2) |R(ih)|^K, the distance to the equilibrium at 0.
    np.testing.assert_allclose(result.measures["distance"], math.sqrt(2) * factor**steps,
                               rtol=1e-9)


def test_rk4_map_jacobian_matches_central_differences() -> None:
    from gandyn.derivation.field import derive
    from gandyn.dynamics.flow import RungeKuttaFlow
    from gandyn.games.game import make_game
    from gandyn.rules.base import FieldFunctions

    vf = derive(make_game("dirac", "non-saturating", regularizers=[]))
    game = FieldFunctions.of(vf)
    rule = RungeKuttaFlow(0.3, 0.7)
    x = np.array([[0.8, -0.4], [-1.2, 0.9]])
    jac = rule.map_jacobian(game, x, {}, 1)
    eps = 1e-6
    for j in range(2):
        step = np.zeros(2)
        step[j] = eps
        plus = rule.step(game, x + step, {}, 1).x
        minus = rule.step(game, x - step, {}, 1).x
        np.testing.assert_allclose(jac[:, :, j], (plus - minus) / (2 * eps), rtol=1e-7,
                                   atol=1e-9)


def test_rk4_rule_takes_the_steps_of_the_rk4_flow() -> None:
    from gandyn.derivation.field import derive
    from gandyn.dynamics.discrete import simulate_rule
    from gandyn.dynamics.flow import RungeKuttaFlow, simulate_flow
    from gandyn.games.game import make_game
    from gandyn.rules.base import FieldFunctions

    vf = derive(make_game("dirac", "minimax"))
    x0 = np.array([[1.0, 1.0], [-0.5, 2.0]])
    names = ("theta", "psi")
    h, tau, steps = 0.1, 2.0, 50
    mapped = simulate_rule(RungeKuttaFlow(h, tau * h), FieldFunctions.of(vf), vf.logged_fn, x0,
                           steps, state_names=names, logged_names=vf.logged_names)
    flowed = simulate_flow(vf.field_fn, None, vf.logged_fn, x0, t_end=steps * h,
                           n_eval=steps + 1, rates=np.array([1.0, tau]), method="rk4",
                           step_size=h, state_names=names, logged_names=vf.logged_names)
    np.testing.assert_allclose(mapped.x, flowed.x, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("settings", [(), (("method", "RK45"),),
                                      (("method", "rk4"), ("rtol", 1e-6))])
def test_a_sweep_of_the_flow_needs_rk4_and_nothing_else(settings: tuple) -> None:
    from gandyn.errors import SpecError

    with pytest.raises(SpecError, match="`method` rk4"):
        _plan(RuleSpec(name="flow", settings=settings), "lr=0.1:0.5:3", 20)
