"""Modified flows of discretization drift (gandyn.dynamics.drift) against independent references.

References used here, none of them the code under test:

* the matrix logarithm of a linear game's update map, whose generator is the
  exact modified field of that map (Hairer, Lubich and Wanner 2006, Sec. IX.1);
* closed forms for the bilinear game: the simultaneous Euler map has
  eigenvalues ``1 +- i h`` (growth ``(1 + h^2)^(k/2)`` after ``k`` steps), the
  alternating map has determinant 1 and conserves ``theta^2 + psi^2 + h theta psi``;
* the local error of one step against the flow, whose order (3 for the
  modified flow, 2 for the original) shows in the ratio of errors when ``h``
  halves (Rosca et al. 2021, Thms 3.1 and 3.2);
* finite differences of the game's field for the products ``J v``;
* a hand derivation on the Dirac-GAN: along the simultaneous modified flow
  ``d|x|^2/dt = lr |x|^2 sigmoid(theta psi)^2``.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from scipy.integrate import solve_ivp
from scipy.linalg import logm

from gandyn.derivation.field import derive
from gandyn.dynamics.drift import (
    LR_D,
    LR_G,
    coefficient_table,
    modified_flow,
    modified_flow_of_rule,
    schedule,
)
from gandyn.errors import SpecError
from gandyn.games.game import make_game
from gandyn.rules import FieldFunctions, make_rule
from gandyn.symbolic.functions import NUMPY_NAMESPACE

THETA, PSI = sp.Symbol("theta", real=True), sp.Symbol("psi", real=True)
H = sp.Symbol("h", positive=True)


@pytest.fixture(scope="module")
def bilinear(bilinear_field):
    return bilinear_field


@pytest.fixture(scope="module")
def bilinear_ab():
    return derive(make_game("bilinear", params={"a": 0.7, "b": -0.4}))


@pytest.fixture(scope="module")
def dirac(dirac_field):
    return dirac_field


def _equal_rates(expr: sp.Expr) -> sp.Expr:
    return sp.simplify(expr.subs({LR_G: H, LR_D: H}))


# --- closed forms on the bilinear game ----------------------------------------------------------


def test_bilinear_simgd_modified_field_is_outward_rotation(bilinear) -> None:
    # F = (-psi, theta), J F = -x: the modified field is F + (h/2) x.
    flow = modified_flow(bilinear, "simgd", lr_g=0.1)
    field = [_equal_rates(e.subs({sp.Symbol("a", real=True): 0, sp.Symbol("b", real=True): 0}))
             for e in flow.field]
    assert sp.simplify(field[0] - (-PSI + H * THETA / 2)) == 0
    assert sp.simplify(field[1] - (THETA + H * PSI / 2)) == 0


@pytest.mark.parametrize("h", [0.2, 0.1, 0.05])
def test_bilinear_simgd_growth_rate_matches_euler_map(bilinear, h: float) -> None:
    flow = modified_flow(bilinear, "simgd", lr_g=h)
    jac = flow.jacobian_fn(np.zeros(2))
    rate_modified = float(np.max(np.linalg.eigvals(jac).real))
    # |1 + i h|^k = (1 + h^2)^(k/2) over time k h: log-rate log(1 + h^2) / (2 h).
    rate_exact = np.log1p(h**2) / (2 * h)
    assert rate_modified == pytest.approx(h / 2, rel=1e-12)
    # h/2 - log(1 + h^2)/(2h) = h^3/4 - h^5/6 + ...: third order; the plain flow's rate 0
    # misses by h/2.
    assert abs(rate_modified - rate_exact) == pytest.approx(h**3 / 4, rel=0.05)
    assert abs(0.0 - rate_exact) > 0.9 * h / 2 - h**3


def test_bilinear_simgd_iterates_grow_like_the_modified_flow(bilinear) -> None:
    h, steps = 0.1, 200
    rule, ff = make_rule("simgd", h, h), FieldFunctions.of(bilinear)
    x = np.array([[1.0, 0.5]])
    r0 = np.linalg.norm(x)
    for _ in range(steps):
        x = rule.step(ff, x, {}, 1).x
    assert np.linalg.norm(x) / r0 == pytest.approx((1 + h**2) ** (steps / 2), rel=1e-12)
    traj = modified_flow(bilinear, "simgd", lr_g=h).simulate([1.0, 0.5], steps * h, n_eval=2)
    grown = np.linalg.norm(traj.x[0, -1]) / r0
    assert grown == pytest.approx(np.exp(h / 2 * steps * h), rel=1e-7)
    # over t = 20 the two growth laws differ by exp(t h^3/4) - 1 = 0.5 %
    assert abs(grown / (1 + h**2) ** (steps / 2) - 1) < 0.006


def test_bilinear_altgd_divergence_free_and_invariant(bilinear) -> None:
    flow = modified_flow(bilinear, "altgd", lr_g=0.1)
    zero = {sp.Symbol("a", real=True): 0, sp.Symbol("b", real=True): 0}
    assert _equal_rates(flow.divergence.subs(zero)) == 0
    # the simultaneous one expands area at rate h
    assert _equal_rates(modified_flow(bilinear, "simgd", lr_g=0.1).divergence.subs(zero)) == H
    # the alternating map has det 1 and conserves Q = theta^2 + psi^2 + h theta psi exactly;
    # the modified flow conserves the same Q (dQ/dt = grad Q . field = 0)
    q = THETA**2 + PSI**2 + H * THETA * PSI
    field = [_equal_rates(e.subs(zero)) for e in flow.field]
    assert sp.simplify(sp.diff(q, THETA) * field[0] + sp.diff(q, PSI) * field[1]) == 0
    h = 0.3
    rule, ff = make_rule("altgd", h, h), FieldFunctions.of(bilinear)
    x = np.array([[1.0, -0.4], [0.2, 2.0]])
    assert np.linalg.det(rule.map_jacobian(ff, x, {}, 1)) == pytest.approx([1.0, 1.0], abs=1e-14)
    qv = x[:, 0] ** 2 + x[:, 1] ** 2 + h * x[:, 0] * x[:, 1]
    for _ in range(500):
        x = rule.step(ff, x, {}, 1).x
    assert x[:, 0] ** 2 + x[:, 1] ** 2 + h * x[:, 0] * x[:, 1] == pytest.approx(qv, rel=1e-11)


@pytest.mark.parametrize("scheme,settings", [
    ("simgd", {}), ("altgd", {}), ("altgd", {"first": "g"}),
    ("altgd", {"d_steps": 2}), ("altgd", {"first": "g", "g_steps": 3, "d_steps": 2}),
])
def test_linear_game_matches_matrix_logarithm(bilinear_ab, scheme: str, settings: dict) -> None:
    """For a linear game the exact modified field is log(M)/tau; first order leaves O(h^2)."""
    errors, errors_own = [], []
    for h in (0.08, 0.04, 0.02):
        lr_g, lr_d = h, 2.5 * h
        rule = make_rule(scheme, lr_g, lr_d, **settings)
        m = rule.map_jacobian(FieldFunctions.of(bilinear_ab), np.zeros((1, 2)), {}, 1)[0]
        exact = logm(m).real / lr_g
        flow = modified_flow(bilinear_ab, scheme, lr_g=lr_g, lr_d=lr_d, **settings)
        errors.append(np.abs(flow.jacobian_fn(np.zeros(2)) - exact).max())
        if scheme == "simgd":
            # the variant with each player's own rate in the interaction term
            a = bilinear_ab.jacobian_fn(np.zeros(2))
            rates = np.array([lr_g, lr_d])
            own = (np.diag(rates) @ a - 0.5 * np.diag(rates) @ np.diag(rates) @ a @ a) / lr_g
            errors_own.append(np.abs(own - exact).max())
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    assert np.all((ratios > 3.3) & (ratios < 4.8)), (errors, ratios)
    if errors_own:
        own_ratios = np.array(errors_own[:-1]) / np.array(errors_own[1:])
        assert np.all(own_ratios < 2.3), own_ratios  # first order only: not the drift


# --- the local error ------------------------------------------------------------------------------


def _flow_for(flow, x: np.ndarray, t: float, order: int) -> np.ndarray:
    fn = flow.field_fn if order == 1 else flow.leading_fn
    sol = solve_ivp(lambda _t, y: fn(y), (0.0, t), x, method="DOP853", rtol=1e-13, atol=1e-15)
    return np.asarray(sol.y[:, -1])


GAMES = [
    ("dirac", {}, None, {}),
    ("dirac", {}, "non-saturating", {"c": 0.5}),
    ("two-point", {"logit": "affine"}, "non-saturating", {}),
    ("gaussian", {"order": 4}, "non-saturating", {}),
]


@pytest.mark.parametrize("game,options,loss,params", GAMES)
@pytest.mark.parametrize("scheme,settings,ratio", [
    ("simgd", {}, 1.0), ("altgd", {}, 1.0), ("simgd", {}, 3.0), ("altgd", {"first": "g"}, 0.5),
    ("altgd", {"d_steps": 2}, 1.0),
])
def test_local_error_orders(game: str, options: dict, loss: str | None, params: dict,
                            scheme: str, settings: dict, ratio: float) -> None:
    from gandyn.games.game import make_game

    vf = derive(make_game(game, loss, [], options=options, params=params))
    n = len(vf.game.state_symbols)
    rng = np.random.default_rng(7)
    starts = rng.uniform(-1.0, 1.0, size=(3, n))
    if game.startswith("gaussian"):
        # moderate logits: h |J| must be small for the asymptotic ratios to show at these h
        starts = 0.3 * starts
        starts[:, 1] = np.abs(starts[:, 1]) + 0.5  # theta_sigma
    err_mod, err_flow = [], []
    for h in (0.02, 0.01, 0.005):
        rule = make_rule(scheme, h, ratio * h, **settings)
        flow = modified_flow(vf, scheme, lr_g=h, lr_d=ratio * h, **settings)
        stepped = rule.step(FieldFunctions.of(vf), starts, {}, 1).x
        err_mod.append(max(np.linalg.norm(stepped[b] - _flow_for(flow, starts[b], h, 1))
                           for b in range(len(starts))))
        err_flow.append(max(np.linalg.norm(stepped[b] - _flow_for(flow, starts[b], h, 0))
                            for b in range(len(starts))))
    r_mod = np.array(err_mod[:-1]) / np.array(err_mod[1:])
    r_flow = np.array(err_flow[:-1]) / np.array(err_flow[1:])
    assert np.all((r_mod > 6.5) & (r_mod < 9.5)), (err_mod, r_mod)  # O(h^3)
    assert np.all((r_flow > 3.5) & (r_flow < 4.5)), (err_flow, r_flow)  # O(h^2)


# --- symbolic against finite differences ---------------------------------------------------------


@pytest.mark.parametrize("scheme,settings", [
    ("simgd", {}), ("altgd", {}), ("altgd", {"first": "g", "d_steps": 3}),
])
def test_drift_matches_finite_differences(scheme: str, settings: dict) -> None:
    vf = derive(make_game("two-point", "non-saturating", options={"logit": "affine"}))
    lr_g, lr_d = 0.05, 0.12
    flow = modified_flow(vf, scheme, lr_g=lr_g, lr_d=lr_d, **settings)
    x = np.random.default_rng(3).uniform(-1.5, 1.5, size=(4, 3))
    field = vf.field_fn
    eps = 1e-5

    def jv(v: np.ndarray) -> np.ndarray:  # J(x) v by central differences
        return (field(x + eps * v) - field(x - eps * v)) / (2 * eps)

    masks = {"g": np.array([1.0, 0.0, 0.0]), "d": np.array([0.0, 1.0, 1.0])}
    rates = lr_g * masks["g"] + lr_d * masks["d"]
    ds = [sum((masks[p] for p in step), np.zeros(3)) * rates for step in schedule(scheme,
                                                                                  **settings)]
    a = sum(ds, np.zeros(3))
    f = field(x)
    expected = -0.5 * a * jv(a * f)
    for s in range(len(ds)):
        for u in range(s):
            expected = expected + ds[s] * jv(ds[u] * f)
    expected /= lr_g
    assert flow.drift_fn(x) == pytest.approx(expected, rel=1e-6, abs=1e-9)
    assert flow.leading_fn(x) == pytest.approx(a / lr_g * f, rel=1e-13)


def test_modified_jacobian_matches_finite_differences(dirac) -> None:
    flow = modified_flow(dirac, "altgd", lr_g=0.1, lr_d=0.3)
    x = np.array([0.7, -1.2])
    eps = 1e-6
    fd = np.stack([(flow.field_fn(x + eps * e) - flow.field_fn(x - eps * e)) / (2 * eps)
                   for e in np.eye(2)], axis=-1)
    assert flow.jacobian_fn(x) == pytest.approx(fd, rel=1e-7, abs=1e-9)


# --- the Dirac-GAN: why simultaneous steps spiral out ---------------------------------------------


def test_dirac_simgd_radial_drift_closed_form(dirac) -> None:
    # By hand: with F = (psi s, -theta s), s = sigmoid(theta psi), x . J F = -|x|^2 s^2, and
    # x . F = 0, so along the simultaneous modified flow d|x|^2/dt = h |x|^2 s^2 > 0.
    flow = modified_flow(dirac, "simgd", lr_g=0.1)
    c = sp.Symbol("c", real=True)
    radial = 2 * (THETA * flow.field[0] + PSI * flow.field[1])
    radial = _equal_rates(radial.subs(c, 0))
    expected = H * (THETA**2 + PSI**2) / (1 + sp.exp(-THETA * PSI)) ** 2
    x = np.random.default_rng(0).normal(size=(6, 2))
    f_num = sp.lambdify((THETA, PSI, H), radial, modules=[NUMPY_NAMESPACE, "numpy"])
    e_num = sp.lambdify((THETA, PSI, H), expected, "numpy")
    assert f_num(x[:, 0], x[:, 1], 0.1) == pytest.approx(e_num(x[:, 0], x[:, 1], 0.1), rel=1e-12)


# --- plumbing ----------------------------------------------------------------------------------


def test_coefficients_of_the_schemes(bilinear) -> None:
    sim = modified_flow(bilinear, "simgd", lr_g=0.1, lr_d=0.2)
    alt = modified_flow(bilinear, "altgd", lr_g=0.1, lr_d=0.2)
    alt_g = modified_flow(bilinear, "altgd", lr_g=0.1, lr_d=0.2, first="g")
    # rows: the player whose equation; columns: whose field F_Q the Jacobian block acts on
    assert sim.coefficients == sp.ImmutableMatrix([[-LR_G / 2, -LR_D / 2],
                                                   [-LR_D / 2, -LR_D**2 / (2 * LR_G)]])
    # the second mover's interaction term flips sign; the first mover's is unchanged
    assert alt.coefficients[0, 1] == LR_D / 2 and alt.coefficients[1, 0] == -LR_D / 2
    assert alt_g.coefficients[1, 0] == LR_D / 2 and alt_g.coefficients[0, 1] == -LR_D / 2
    assert coefficient_table(sim)["g"] == ["-lr_g/2", "-lr_d/2"]
    assert sim.leading_rates() == pytest.approx([1.0, 2.0])
    # three generator steps per iteration: the generator moves three times as far
    many = modified_flow(bilinear, "altgd", lr_g=0.1, g_steps=3)
    assert many.leading_rates() == pytest.approx([3.0, 1.0])


def test_numeric_functions_take_learning_rates(dirac) -> None:
    flow = modified_flow(dirac, "simgd", lr_g=0.1)
    x = np.array([[0.3, -0.8]])
    other = modified_flow(dirac, "simgd", lr_g=0.05, lr_d=0.2)
    assert flow.field_fn(x, {"lr_g": 0.05, "lr_d": 0.2}) == pytest.approx(other.field_fn(x))


def test_leading_flow_is_gandyns_flow(dirac) -> None:
    from gandyn.runs.build import simulate

    reference = simulate(optimizer="flow", lr_g=0.1, lr_d=0.3,
                         settings={"t_end": 5.0, "n_eval": 11}).trajectory
    ours = modified_flow(dirac, "simgd", lr_g=0.1, lr_d=0.3).simulate(
        [1.0, 1.0], 5.0, order=0, n_eval=11, rtol=1e-8, atol=1e-10)
    assert ours.x == pytest.approx(reference.x, abs=1e-7)
    assert ours.method["order"] == 0


def test_simulate_with_implicit_method(dirac) -> None:
    flow = modified_flow(dirac, "simgd", lr_g=0.1)
    a = flow.simulate([[1.0, 1.0]], 3.0, n_eval=4)
    b = flow.simulate([[1.0, 1.0]], 3.0, n_eval=4, method="Radau")
    assert a.x == pytest.approx(b.x, abs=1e-7)


def test_from_rule(dirac) -> None:
    rule = make_rule("altgd", 0.1, 0.2, first="g", d_steps=2)
    flow = modified_flow_of_rule(dirac, rule)
    assert flow.steps == (frozenset("g"), frozenset("d"), frozenset("d"))
    assert (flow.lr_g, flow.lr_d) == (0.1, 0.2)
    with pytest.raises(SpecError, match="simgd, altgd"):
        modified_flow_of_rule(dirac, make_rule("adam", 0.1, 0.1))


@pytest.mark.parametrize("kwargs,message", [
    ({"scheme": "ogda", "lr_g": 0.1}, "not 'ogda'"),
    ({"scheme": "simgd", "lr_g": 0.0}, "positive"),
    ({"scheme": "simgd", "lr_g": 0.1, "lr_d": float("nan")}, "positive"),
    ({"scheme": "altgd", "lr_g": 0.1, "first": "x"}, "first"),
    ({"scheme": "altgd", "lr_g": 0.1, "d_steps": 0}, "at least 1"),
    ({"scheme": "simgd", "lr_g": 0.1, "first": "g"}, "simgd takes no"),
])
def test_bad_input_is_a_spec_error(dirac, kwargs: dict, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        modified_flow(dirac, **kwargs)


def test_bad_start_and_order(dirac) -> None:
    flow = modified_flow(dirac, "simgd", lr_g=0.1)
    with pytest.raises(SpecError, match="2 coordinates"):
        flow.simulate([1.0, 2.0, 3.0], 1.0)
    with pytest.raises(SpecError, match="order"):
        flow.simulate([1.0, 2.0], 1.0, order=2)
    with pytest.raises(SpecError, match="modified flow"):
        flow.simulate([1.0, 2.0], -1.0)


def test_divergence_is_reported_not_raised(bilinear) -> None:
    # |x|_2 grows like sqrt(2) exp(h t / 2); max |x_i| passes 5 once |x|_2 is in [5, 5 sqrt 2]
    flow = modified_flow(bilinear, "simgd", lr_g=0.5)
    traj = flow.simulate([[1.0, 1.0], [0.0, 0.0]], 20.0, max_norm=5.0, n_eval=2001)
    assert traj.diverged.tolist() == [True, False]
    assert 2 * np.log(5 / np.sqrt(2)) / 0.5 <= traj.diverged_at[0] <= 2 * np.log(5) / 0.5 + 0.01
