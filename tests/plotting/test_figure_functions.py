"""Tests of the figure functions: generator costs, eigenvalue plane, Nash map, phase portrait.

Each figure is checked against an independent reference, not against itself:

* generator costs: the closed forms ``log(1 - p)`` (minimax) and ``-log p``
  (non-saturating) of Goodfellow (2016), NIPS tutorial, Sec. 3.2.6 / Figure 16,
  the logged ``g_loss`` of the derived Dirac-GAN at a state whose fake logit is
  ``logit(p)``, and central finite differences for the gradients;
* stability regions: the characteristic polynomials of the linearized rules
  with ``z = h lambda`` (simgd ``mu = 1 + z``; extragradient
  ``mu = 1 + z + z**2``; OGDA ``mu**2 - (1 + 2z) mu + z`` (Daskalakis et al.
  2018, eq. (3)); heavy ball ``mu**2 - (1 + beta + z) mu + beta``), and the
  engine's :func:`gandyn.equilibria.map_stability` on the real game;
* the stability map: ``h < 4 gamma`` for simultaneous GD on the Dirac-GAN
  with R1 (Mescheder, Nowozin and Geiger 2017, Lemma 4 with the eigenvalues
  of Mescheder et al. 2018, Sec. 4.1);
* the Nash map: brute-force minima of each row/column of the payoff grid, and
  the hand-solved hide-and-seek game (value 1, ``theta = 0`` against
  ``psi = +-1``);
* nullclines: the derived field vanishes (to the grid's interpolation error)
  on them.

Also: nothing global changes (rcParams), saving twice gives identical bytes,
and the sidecar lists the data arrays.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PathCollection, QuadMesh
from matplotlib.quiver import Quiver
from scipy.special import expit, logit

from gandyn.derivation.field import VectorField, derive
from gandyn.dynamics.discrete import simulate_rule
from gandyn.dynamics.trajectory import Trajectory
from gandyn.equilibria import flow_stability, map_stability
from gandyn.equilibria.grid_nash import PayoffGrid, payoff_grid
from gandyn.errors import GandynError, SpecError
from gandyn.games.game import make_game
from gandyn.games.regularizers import apply_values, get_regularizer
from gandyn.plotting import (
    ONE_COLUMN,
    best_response_path,
    eigenvalue_plane,
    generator_cost,
    generator_costs,
    generator_costs_data,
    map_radius_grid,
    nash_map,
    nash_map_data,
    paper_figure,
    paper_style,
    phase_portrait,
    region_radius,
    save_figure,
    spectrum_data,
    stability_map,
)
from gandyn.rules import FieldFunctions, make_rule

UNIT_BOX = {"theta": (-1.0, 1.0), "psi": (-1.0, 1.0)}


@functools.cache
def _field(game: str, loss: str | None = None, gamma: float | None = None) -> VectorField:
    regs = [] if gamma is None else [apply_values(get_regularizer("r1"), {"gamma": gamma})]
    return derive(make_game(game, loss, regs))


@functools.cache
def _grid(game: str, n: int, half: float = 1.0) -> PayoffGrid:
    return payoff_grid(_field(game), {"theta": (-half, half), "psi": (-half, half)}, n=n)


def _axes(size: tuple[float, float] = ONE_COLUMN) -> Axes:
    return paper_figure(size).add_subplot()


def _scatter(ax: Axes, label: str) -> PathCollection:
    found = [c for c in ax.collections if isinstance(c, PathCollection) and c.get_label() == label]
    assert len(found) == 1, [c.get_label() for c in ax.collections]
    return found[0]


def _line(ax: Axes, label: str) -> Any:
    found = [line for line in ax.lines if line.get_label() == label]
    assert len(found) == 1, [line.get_label() for line in ax.lines]
    return found[0]


def _finite_rows(xy: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    return xy[np.all(np.isfinite(xy), axis=1)]


# --- generator costs ---------------------------------------------------------------------------


def test_cost_curves_are_goodfellows_closed_forms() -> None:
    with paper_style():
        ax = generator_costs(_axes())
    minimax, ns = _line(ax, "minimax (saturates)"), _line(ax, "non-saturating")
    p = np.asarray(minimax.get_xdata())
    assert p.min() > 0 and p.max() < 1
    np.testing.assert_allclose(minimax.get_ydata(), np.log1p(-p), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ns.get_ydata(), -np.log(p), rtol=1e-12)
    assert minimax.get_linestyle() == "--" and ns.get_linestyle() == "-"
    assert ax.get_xlim() == (0.0, 1.0)
    assert "D(G(z))" in ax.get_xlabel()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "minimax (saturates)", "non-saturating"]


@pytest.mark.parametrize("loss", ["minimax", "non-saturating"])
def test_cost_curves_equal_the_engines_logged_g_loss(loss: str) -> None:
    # Dirac-GAN: fake logit l = psi * theta; at theta = 1, psi = logit(p) the logged
    # g_loss and d_gz of the derived game are the cost at D(G(z)) = p.
    with paper_style():
        ax = generator_costs(_axes(), [loss], points=37)
    (line,) = [ln for ln in ax.lines if ln.get_label().startswith(loss)]
    p = np.asarray(line.get_xdata())
    states = np.stack([np.ones_like(p), logit(p)], axis=-1)
    logged = _field("dirac", loss).logged(states)
    np.testing.assert_allclose(logged["d_gz"], p, rtol=1e-12)
    np.testing.assert_allclose(line.get_ydata(), logged["g_loss"], rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("loss", ["minimax", "non-saturating", "least-squares", "hinge",
                                  "wasserstein"])
def test_gradient_curves_are_derivatives_of_the_cost(loss: str) -> None:
    cost = generator_cost(loss)
    with paper_style():
        ax = generator_costs(_axes(), [loss], x="logit", quantity="gradient",
                             logit_range=(-6.0, 6.0), points=25)
    line = ax.lines[0]
    grid = np.asarray(line.get_xdata())
    grid = grid[np.abs(grid - 1.0) > 1e-3] if loss == "hinge" else grid  # kink of relu(1 + l)
    step = 1e-6
    numeric = (cost.cost_at_logit(grid + step) - cost.cost_at_logit(grid - step)) / (2 * step)
    np.testing.assert_allclose(cost.gradient_at_logit(grid), numeric, rtol=1e-6, atol=1e-8)
    # d/dp = d/dl / (p (1 - p)) for the probability view
    if cost.probability_output:
        p = np.array([0.01, 0.3, 0.9])
        h = 1e-7
        numeric_p = (cost.cost_at_probability(p + h) - cost.cost_at_probability(p - h)) / (2 * h)
        np.testing.assert_allclose(cost.gradient_at_probability(p), numeric_p, rtol=1e-5)


def test_which_costs_saturate() -> None:
    # d/dl log(1 - sigmoid(l)) = -sigmoid(l) -> 0 as l -> -oo; -log sigmoid(l) -> -1;
    # -l (Wasserstein, hinge) -> -1; (l - 1)^2 / 2 -> -oo.
    assert generator_cost("minimax").saturates
    assert generator_cost("minimax").saturating_limit == 0.0
    for name in ("non-saturating", "wasserstein", "hinge"):
        assert not generator_cost(name).saturates
        assert generator_cost(name).saturating_limit == -1.0
    assert not generator_cost("least-squares").saturates


def test_costs_are_finite_at_extreme_logits() -> None:
    for name in ("minimax", "non-saturating"):
        c = generator_cost(name)
        values = c.cost_at_logit([-1000.0, 1000.0])
        grads = c.gradient_at_logit([-1000.0, 1000.0])
        assert np.all(np.isfinite(values)) and np.all(np.isfinite(grads))
    assert generator_cost("non-saturating").cost_at_logit(-1000.0) == pytest.approx(1000.0)


def test_costs_refuse_probabilities_for_raw_scores() -> None:
    with pytest.raises(SpecError, match="raw score"):
        generator_costs(_axes(), ["wasserstein"])
    with pytest.raises(GandynError, match="unknown loss"):
        generator_costs(_axes(), ["nope"])
    with pytest.raises(SpecError, match="x must be"):
        generator_costs(_axes(), x="p")  # type: ignore[arg-type]


# --- eigenvalue plane and stability regions ----------------------------------------------------


def _max_root(c1: Any, c0: Any) -> Any:
    disc = np.sqrt(np.asarray(c1 * c1 - 4 * c0, dtype=np.complex128))
    return np.maximum(np.abs((-c1 + disc) / 2), np.abs((-c1 - disc) / 2))


def test_region_radius_matches_characteristic_polynomials() -> None:
    rng = np.random.default_rng(1)
    z = rng.normal(scale=1.2, size=300) + 1j * rng.normal(scale=1.2, size=300)
    np.testing.assert_allclose(region_radius("simgd", z), np.abs(1 + z), rtol=1e-12)
    np.testing.assert_allclose(region_radius("extragradient", z), np.abs(1 + z + z * z),
                               rtol=1e-12)
    np.testing.assert_allclose(region_radius("ogda", z), _max_root(-(1 + 2 * z), z), rtol=1e-9)
    for beta in (0.5, -0.3):
        np.testing.assert_allclose(region_radius("momentum", z, settings={"beta": beta}),
                                   _max_root(-(1 + beta + z), beta + 0 * z), rtol=1e-9)
    with pytest.raises(SpecError, match="no stability region"):
        region_radius("altgd", z)


def test_simgd_disc_boundary_and_markers() -> None:
    # Dirac-GAN + R1 (gamma = 0.3): lambda = -0.15 +- 0.477i; with h = 1 the disc
    # |1 + h lambda| < 1 holds them; with h = 1.5 > 4 gamma = 1.2 it does not.
    vf = _field("dirac", "minimax", 0.3)
    jac = vf.jacobian_fn(np.zeros(2))
    lam = flow_stability(jac).eigenvalues
    for h, inside in ((1.0, True), (1.5, False)):
        with paper_style():
            ax = eigenvalue_plane(_axes(), jac, rule="simgd", lr_g=h)
        boundary = _finite_rows(np.asarray(_line(ax, f"simgd stable, h = {h:g}").get_xydata()))
        assert len(boundary) > 100
        z = h * (boundary[:, 0] + 1j * boundary[:, 1])
        np.testing.assert_allclose(np.abs(1 + z), 1.0, atol=2e-4)
        label = "inside (stable)" if inside else "outside (unstable)"
        offsets = _scatter(ax, label).get_offsets()
        np.testing.assert_allclose(np.sort_complex(offsets[:, 0] + 1j * offsets[:, 1]), lam,
                                   atol=1e-12)
        # the engine agrees
        rule = make_rule("simgd", h, h)
        assert map_stability(rule, FieldFunctions.of(vf), np.zeros(2)).stable is inside
        assert ax.get_xlabel() == r"$\mathrm{Re}\,\lambda$"


def test_extragradient_boundary() -> None:
    jac = np.array([[0.0, 1.0], [-1.0, 0.0]])  # bilinear: lambda = +- i
    with paper_style():
        ax = eigenvalue_plane(_axes(), jac, rule="extragradient", lr_g=0.5)
    boundary = _finite_rows(np.asarray(_line(ax, "extragradient stable, h = 0.5").get_xydata()))
    z = 0.5 * (boundary[:, 0] + 1j * boundary[:, 1])
    np.testing.assert_allclose(np.abs(1 + z + z * z), 1.0, atol=1e-3)
    # |1 + i h + (i h)^2| < 1 for h < 1 (Gidel et al. 2019): stable on the bilinear game
    assert len(_scatter(ax, "inside (stable)").get_offsets()) == 2


@pytest.mark.parametrize(("rule", "settings"), [("simgd", {}), ("ogda", {}),
                                                ("momentum", {"beta": -0.4}),
                                                ("extragradient", {})])
def test_region_classification_agrees_with_the_engine_for_two_time_scales(
    rule: str, settings: dict[str, float]
) -> None:
    vf = _field("dirac", "minimax", 0.5)
    jac = vf.jacobian_fn(np.zeros(2))
    verdicts = set()
    for h in (0.2, 0.8, 1.6, 2.5):
        lr_d = 2.0 * h
        with paper_style():
            ax = eigenvalue_plane(_axes(), jac, rule=rule, lr_g=h, lr_d=lr_d, n_theta=1,
                                  settings=settings, legend=False)
        labels = {c.get_label() for c in ax.collections if isinstance(c, PathCollection)}
        built = make_rule(rule, h, lr_d, **settings)
        stable = map_stability(built, FieldFunctions.of(vf), np.zeros(2)).stable
        verdicts.add(stable)
        if stable:
            assert labels == {"inside (stable)"}
        else:
            assert "outside (unstable)" in labels
    assert verdicts == {True, False}  # the rates cross the boundary


def test_altgd_shows_the_maps_eigenvalues_on_the_unit_circle() -> None:
    vf = _field("dirac", "minimax", 0.3)
    jac = vf.jacobian_fn(np.zeros(2))
    with paper_style():
        ax = eigenvalue_plane(_axes(), jac, rule="altgd", lr_g=0.5, n_theta=1)
    circle = np.asarray(_line(ax, r"$|\mu| = 1$").get_xydata())
    np.testing.assert_allclose(np.hypot(circle[:, 0], circle[:, 1]), 1.0, atol=1e-12)
    offsets = np.concatenate([c.get_offsets() for c in ax.collections
                              if isinstance(c, PathCollection)])
    mu = map_stability(make_rule("altgd", 0.5, 0.5), FieldFunctions.of(vf), np.zeros(2))
    np.testing.assert_allclose(np.sort_complex(offsets[:, 0] + 1j * offsets[:, 1]),
                               mu.eigenvalues, atol=1e-12)
    legend = ax.get_legend()  # the note sits above the axes, with the legend
    assert legend is not None and "no region" in legend.get_title().get_text()
    assert "h = 0.5" in legend.get_title().get_text()
    with pytest.raises(SpecError, match="no stability region"):
        eigenvalue_plane(_axes(), jac, rule="altgd", lr_g=0.5, n_theta=1, view="flow")
    with pytest.raises(SpecError, match="n_theta"):
        eigenvalue_plane(_axes(), jac, rule="altgd", lr_g=0.5)


def test_spectrum_data() -> None:
    jac = np.array([[0.0, 0.5], [-0.5, -0.3]])
    data = spectrum_data(jac, rule="simgd", lr_g=0.4)
    lam = data["lambda_real"] + 1j * data["lambda_imag"]
    mu = data["mu_real"] + 1j * data["mu_imag"]
    np.testing.assert_allclose(np.sort_complex(1 + 0.4 * lam), mu, atol=1e-14)
    assert float(data["spectral_radius"]) == pytest.approx(np.max(np.abs(1 + 0.4 * lam)))


# --- stability map ------------------------------------------------------------------------------


def test_stability_map_boundary_is_h_equals_4_gamma() -> None:
    # simgd on Dirac + R1 at the origin: stable iff h < 4 gamma while the eigenvalues are
    # complex (gamma < 1): |1 + h lambda|^2 = 1 - h gamma + h^2 / 4.
    gammas = np.linspace(0.05, 0.6, 23)
    rates = np.linspace(0.05, 2.6, 35)
    vf = _field("dirac", "minimax", 0.3)
    radius = map_radius_grid(vf, [0.0, 0.0], "simgd", ("gamma_r1", gammas), ("lr", rates))
    closed = np.sqrt(np.abs(1 - rates[:, None] * gammas[None, :] + rates[:, None] ** 2 / 4))
    np.testing.assert_allclose(radius, closed, rtol=1e-12)
    with paper_style():
        ax = stability_map(_axes(), gammas, rates, radius, xlabel=r"$\gamma$", ylabel="$h$")
    assert isinstance(ax.collections[0], QuadMesh)
    boundary = _finite_rows(np.asarray(_line(ax, "spectral radius 1").get_xydata()))
    assert len(boundary) > 5
    # linear interpolation of the radius between grid points: error of order the spacing^2
    np.testing.assert_allclose(boundary[:, 1], 4 * boundary[:, 0], atol=0.02)
    assert len(ax.figure.axes) == 2  # the colour bar
    with pytest.raises(SpecError, match="shape"):
        stability_map(_axes(), gammas, rates, radius.T)
    with pytest.raises(SpecError, match="unknown parameter"):
        map_radius_grid(vf, [0.0, 0.0], "simgd", ("nope", gammas), ("lr", rates))


def test_map_radius_grid_refuses_a_moving_point() -> None:
    vf = _field("dirac", "minimax", 0.3)
    with pytest.raises(SpecError, match="not stationary"):
        map_radius_grid(vf, [0.5, 0.0], "simgd", ("gamma_r1", [0.1, 0.2]), ("lr", [0.1, 0.2]))


# --- Nash map ------------------------------------------------------------------------------------


def _brute_force_best(costs: np.ndarray[Any, Any], axis: int, tol: float) -> Any:
    return costs <= costs.min(axis=axis, keepdims=True) + tol


def test_nash_map_best_responses_are_best_responses() -> None:
    grid = _grid("hide-and-seek", 41)
    with paper_style():
        ax = nash_map(_axes(), grid)
    assert isinstance(ax.collections[0], QuadMesh)
    tol = grid.default_tol()
    index = {round(v, 9): i for i, v in enumerate(grid.theta)}
    index_psi = {round(v, 9): j for j, v in enumerate(grid.psi)}
    d_best = _brute_force_best(grid.cost_d, 1, tol)
    g_best = _brute_force_best(grid.cost_g, 0, tol)
    for label, mask in ((r"D's best response $\psi^*(\theta)$", d_best),
                        (r"G's best response $\theta^*(\psi)$", g_best)):
        offsets = _scatter(ax, label).get_offsets()
        cells = {(index[round(x, 9)], index_psi[round(y, 9)]) for x, y in offsets}
        assert cells == {tuple(c) for c in np.argwhere(mask)}
    # hide and seek: G matches psi; D runs to the far end of the box
    g_cells = _scatter(ax, r"G's best response $\theta^*(\psi)$").get_offsets()
    np.testing.assert_allclose(g_cells[:, 0], g_cells[:, 1], atol=1e-12)
    d_cells = _scatter(ax, r"D's best response $\psi^*(\theta)$").get_offsets()
    assert set(np.abs(d_cells[:, 1]).tolist()) == {1.0}
    # no pure Nash, the text says so; the mixed equilibrium is theta = 0 vs psi = +-1 (value 1)
    assert not [c for c in ax.collections if c.get_label() == "pure Nash"]
    legend = ax.get_legend()
    assert legend is not None and legend.get_title().get_text() == "no pure Nash equilibrium"
    mixed = _scatter(ax, "mixed equilibrium (value 1)").get_offsets()
    np.testing.assert_allclose(np.sort(mixed[:, 1]), [-1.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(mixed[:, 0], 0.0, atol=1e-12)
    assert _line(ax, r"min-max $\theta$ (upper value 1)").get_xdata()[0] == 0.0
    assert _line(ax, r"max-min $\psi$ (lower value 0)") is not None


def test_nash_map_marks_the_bilinear_saddle_point() -> None:
    grid = _grid("bilinear", 21)
    with paper_style():
        ax = nash_map(_axes(), grid, colorbar=False, mixed=False)
    np.testing.assert_allclose(_scatter(ax, "pure Nash").get_offsets(), [[0.0, 0.0]],
                               atol=1e-12)
    assert not ax.texts
    assert len(ax.figure.axes) == 1


def test_nash_map_general_sum_game_shows_a_cost() -> None:
    vf = _field("two-point-bump", "non-saturating")
    grid = payoff_grid(vf, {"theta": (-2.0, 2.0), "psi": (-2.0, 2.0)}, n=21)
    with paper_style():
        ax = nash_map(_axes(), grid)
    np.testing.assert_allclose(ax.collections[0].get_array().reshape(21, 21), grid.cost_g.T)
    assert not any("mixed" in c.get_label() for c in ax.collections)
    with pytest.raises(SpecError, match="not zero-sum"):
        nash_map(_axes(), grid, payoff="value")


def test_best_response_path_cycles_in_hide_and_seek() -> None:
    grid = _grid("hide-and-seek", 41)
    path = best_response_path(grid, 0.5, 6)
    assert path.shape == (13, 2)
    assert path[0].tolist() == [0.5, -1.0]
    # D flees to the far end, G follows: (-1, -1) -> (-1, 1) -> (1, 1) -> (1, -1) -> (-1, -1)
    np.testing.assert_allclose(path[1:5], [[-1, -1], [-1, 1], [1, 1], [1, -1]])
    np.testing.assert_allclose(path[5:9], path[1:5])
    with pytest.raises(SpecError, match="steps"):
        best_response_path(grid, 0.0, 0)


# --- phase portrait: nullclines, quiver, classes ------------------------------------------------


@pytest.fixture(scope="module")
def dirac_run() -> Trajectory:
    vf = _field("dirac", "non-saturating", 0.3)
    rule = make_rule("simgd", 0.2, 0.2)
    return simulate_rule(rule, FieldFunctions.of(vf), vf.logged_fn, np.array([[1.0, 1.0]]), 150,
                         state_names=("theta", "psi"), logged_names=vf.logged_names)


def test_nullclines_are_where_the_field_vanishes(dirac_run: Trajectory) -> None:
    vf = _field("dirac", "non-saturating", 0.3)
    with paper_style():
        ax = phase_portrait(_axes(), vf, dirac_run, nullclines=True, xlim=(-1.5, 1.5),
                            ylim=(-1.5, 1.5))
    scale = float(np.nanmax(np.abs(vf.field_fn(np.array([[1.5, 1.5], [-1.5, 1.5]])))))
    for k, name in enumerate(("theta", "psi")):
        line = _line(ax, rf"nullcline of $\{name}$")
        points = _finite_rows(np.asarray(line.get_xydata()))
        assert len(points) > 20
        assert np.max(np.abs(vf.field_fn(points)[:, k])) < 1e-3 * scale
    # the equilibrium (0, 0) lies on both
    assert len(ax.lines) == 2 + dirac_run.n_runs


def test_field_styles(dirac_run: Trajectory) -> None:
    vf = _field("dirac", "non-saturating", 0.3)
    with paper_style():
        quiver = phase_portrait(_axes(), vf, dirac_run, field_style="quiver")
        none = phase_portrait(_axes(), vf, dirac_run, field_style="none")
        stream = phase_portrait(_axes(), vf, dirac_run)
    assert any(isinstance(c, Quiver) for c in quiver.collections)
    assert not any(isinstance(c, LineCollection) for c in quiver.collections)
    q = next(c for c in quiver.collections if isinstance(c, Quiver))
    assert q.N == 17 * 17
    assert not any(isinstance(c, Quiver | LineCollection) for c in none.collections)
    assert any(isinstance(c, LineCollection) for c in stream.collections)
    with pytest.raises(SpecError, match="field_style"):
        phase_portrait(_axes(), vf, dirac_run, field_style="arrows")  # type: ignore[arg-type]


def test_equilibria_marked_by_class(dirac_run: Trajectory) -> None:
    vf = _field("dirac", "non-saturating", 0.3)
    kind = flow_stability(vf.jacobian_fn(np.zeros(2))).kind
    assert kind == "stable focus"
    points = [[0.0, 0.0], [0.5, 0.5], [-0.5, 0.5]]
    kinds = [kind, "saddle", "stable focus"]
    with paper_style():
        ax = phase_portrait(_axes(), vf, dirac_run, equilibria=points, equilibrium_kinds=kinds)
    focus = _scatter(ax, "stable focus")
    np.testing.assert_allclose(focus.get_offsets(), [[0.0, 0.0], [-0.5, 0.5]])
    assert matplotlib.colors.to_hex(focus.get_facecolors()[0]) == "#000000"  # filled: stable
    np.testing.assert_allclose(_scatter(ax, "saddle").get_offsets(), [[0.5, 0.5]])
    with pytest.raises(SpecError, match="kinds for"):
        phase_portrait(_axes(), vf, dirac_run, equilibria=points, equilibrium_kinds=["saddle"])
    with pytest.raises(SpecError, match="unknown equilibrium kind"):
        phase_portrait(_axes(), vf, dirac_run, equilibria=[[0, 0]],
                       equilibrium_kinds=["spiral"])


def test_field_without_runs() -> None:
    vf = _field("dirac", "non-saturating", 0.3)
    with paper_style():
        ax = phase_portrait(_axes(), vf, None, xlim=(-2, 2), ylim=(-1, 1), nullclines=True)
    assert ax.get_xlim() == (-2.0, 2.0) and ax.get_ylim() == (-1.0, 1.0)
    assert ax.get_xlabel() == r"$\theta$"
    assert [line.get_label() for line in ax.lines] == [r"nullcline of $\theta$",
                                                       r"nullcline of $\psi$"]
    with pytest.raises(SpecError, match="without runs"):
        phase_portrait(_axes(), vf, None)


# --- global state, reproducibility, sidecars ----------------------------------------------------


def _draw_all(fig: Any) -> None:
    axes = fig.subplots(2, 2)
    generator_costs(axes[0, 0])
    eigenvalue_plane(axes[0, 1], np.array([[0.0, 0.5], [-0.5, -0.3]]), rule="momentum",
                     lr_g=0.5, settings={"beta": 0.5})
    nash_map(axes[1, 0], _grid("hide-and-seek", 21))
    stability_map(axes[1, 1], np.linspace(0, 1, 5), np.linspace(0, 2, 6),
                  np.linspace(0.5, 1.5, 30).reshape(6, 5))


def test_figure_functions_leave_rcparams_alone() -> None:
    before = dict(matplotlib.rcParams)
    with paper_style():
        inside = dict(matplotlib.rcParams)
        fig = paper_figure((7.0, 5.0))
        _draw_all(fig)
        assert dict(matplotlib.rcParams) == inside
    assert dict(matplotlib.rcParams) == before


BUILDERS: dict[str, Callable[[Axes], Any]] = {
    "costs": lambda ax: generator_costs(ax),
    "spectrum": lambda ax: eigenvalue_plane(ax, np.array([[0.0, 0.5], [-0.5, -0.3]]),
                                            rule="simgd", lr_g=1.0),
    "nash": lambda ax: nash_map(ax, _grid("hide-and-seek", 21)),
}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_byte_identical_output_and_sidecar(name: str, tmp_path: Path) -> None:
    data: dict[str, Any] = {
        "costs": generator_costs_data(points=11),
        "spectrum": spectrum_data(np.array([[0.0, 0.5], [-0.5, -0.3]]), lr_g=1.0),
        "nash": nash_map_data(_grid("hide-and-seek", 21)),
    }[name]
    outputs = []
    for run in ("a", "b"):
        (tmp_path / run).mkdir()
        with paper_style():
            fig = paper_figure(ONE_COLUMN)
            BUILDERS[name](fig.add_subplot())
            written = save_figure(fig, tmp_path / run / f"{name}.png", also=("pdf", "svg"),
                                  metadata={"figure": name}, data=data, dpi=80)
        outputs.append({p.name: p.read_bytes() for p in written})
    assert outputs[0] == outputs[1]
    sidecar = json.loads((tmp_path / "a" / f"{name}.png.json").read_text())
    assert sidecar["metadata"] == {"figure": name}
    assert list(sidecar["data"]["arrays"]) == list(data)
    for key, array in data.items():
        assert sidecar["data"]["arrays"][key]["shape"] == list(np.shape(array))


def test_nash_map_data_matches_the_hand_solution() -> None:
    data = nash_map_data(_grid("hide-and-seek", 21))
    assert data["pure_nash"].shape == (0, 2)
    assert float(data["min_max"]) == pytest.approx(1.0)
    assert float(data["max_min"]) == pytest.approx(0.0, abs=1e-12)
    assert float(data["mixed_value"]) == pytest.approx(1.0, abs=1e-9)
    theta = np.linspace(-1, 1, 21)
    assert theta[data["mixed_p"] > 1e-9].tolist() == [0.0]


def test_costs_data_saturation_flags() -> None:
    data = generator_costs_data(points=5)
    assert bool(data["saturates_minimax"]) and not bool(data["saturates_non_saturating"])
    np.testing.assert_allclose(expit(data["logit"]), data["p"], rtol=1e-12)
