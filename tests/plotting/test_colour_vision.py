"""Every figure's series stay apart for readers with red-green colour-vision deficiency.

The checker (:mod:`gandyn.plotting.colour_vision`) is tested against published
reference values first, then shown to fail on figures that do merge, then run
on the figures gandyn draws.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from matplotlib.figure import Figure

from gandyn.equilibria.eigenvalue_paths import eigenvalue_path
from gandyn.plotting import (
    LOSS_STYLE,
    ONE_COLUMN,
    PALETTE,
    RUN_COLORS,
    TWO_COLUMN,
    generator_costs,
    paper_figure,
    paper_style,
    simulation_figure,
)
from gandyn.plotting.colour_vision import (
    cielab,
    contrast_on_white,
    indistinct_series,
    simulate_deficiency,
)
from gandyn.plotting.eigenvalue_paths import eigenvalue_path_axes
from gandyn.plotting.explain import explain_axes
from gandyn.runs.build import simulate


def test_cielab_matches_the_published_value_of_srgb_red() -> None:
    # sRGB (1, 0, 0) under D65: L* 53.24, a* 80.09, b* 67.20 (Lindbloom's calculator,
    # CIE 15:2004 formulas); the 4-digit sRGB matrix costs about 0.05.
    assert cielab(np.array([[1.0, 0.0, 0.0]]))[0] == pytest.approx([53.24, 80.09, 67.20], abs=0.1)


def test_wcag_contrast_of_the_reference_grey() -> None:
    # #767676 is the lightest grey with the 4.5:1 contrast WCAG 2.0 asks of text (4.54).
    assert contrast_on_white(["#767676"])[0] == pytest.approx(4.54, abs=0.01)
    assert contrast_on_white(["#000000"])[0] == pytest.approx(21.0)


@pytest.mark.parametrize("kind", ["deuteranopia", "protanopia"])
def test_the_simulation_keeps_greys_and_merges_red_with_green(kind: Any) -> None:
    # Machado et al.'s matrices have rows summing to 1: neutral colours stay neutral.
    greys = np.array([[0.2, 0.2, 0.2], [0.7, 0.7, 0.7]])
    assert simulate_deficiency(greys, kind) == pytest.approx(greys, abs=2e-3)
    # a red and a green of similar lightness, far apart for normal vision, collapse
    red_green = ["#961C00", "#2A5400"]
    normal = cielab(simulate_deficiency(red_green, "normal"))
    seen = cielab(simulate_deficiency(red_green, kind))
    assert np.linalg.norm(normal[0] - normal[1]) > 40
    assert np.linalg.norm(seen[0] - seen[1]) < 15


def _two_lines(colors: tuple[str, str], dashes: tuple[str, str] = ("-", "-")) -> Figure:
    fig = Figure()
    ax = fig.add_subplot()
    for k, (color, dash) in enumerate(zip(colors, dashes, strict=True)):
        ax.plot([0, 1], [k, k + 1], color=color, linestyle=dash, label=f"series {k}")
    return fig


def test_the_checker_finds_merging_and_faint_series() -> None:
    assert any("merge under deuteranopia" in p or "merge under protanopia" in p
               for p in indistinct_series(_two_lines(("#961C00", "#2A5400"))))
    assert any("too faint" in p for p in indistinct_series(_two_lines(
        (PALETTE["yellow"], PALETTE["blue"]))))
    # the same two colours told apart by dash instead are fine
    assert indistinct_series(_two_lines(("#961C00", "#2A5400"), ("-", "--"))) == []
    assert indistinct_series(_two_lines((PALETTE["blue"], PALETTE["vermillion"]))) == []


def test_runs_never_take_a_loss_colour() -> None:
    loss_colors = {style.color for style in LOSS_STYLE.values()}
    assert not loss_colors & set(RUN_COLORS)


def _line_colors(fig: Figure, prefix: str) -> dict[str, str]:
    return {str(line.get_label()): str(line.get_color())
            for ax in fig.axes for line in ax.get_lines()
            if str(line.get_label()).startswith(prefix)}


@pytest.mark.parametrize("runs", [3, 8])
def test_simulation_figures_with_many_runs(runs: int) -> None:
    starts = [{"theta": 0.2 + 0.1 * k, "psi": 0.1 * k} for k in range(runs)]
    result = simulate(loss="non-saturating", steps=60, starts=starts)
    with paper_style():
        fig = simulation_figure(result.trajectory, result.field, run=1)
    assert indistinct_series(fig) == []
    # runs and losses do not share a colour, and the loss panel names its run
    loss_colors = set(_line_colors(fig, "$").values())
    run_colors = set(_line_colors(fig, "run ").values())
    assert loss_colors and run_colors and not loss_colors & run_colors
    assert fig.axes[1].get_xlabel().startswith("step $k$ (run 1)")


def test_generator_cost_figure_keeps_the_logged_losses_colours() -> None:
    with paper_style():
        fig = paper_figure(ONE_COLUMN)
        ax = fig.add_subplot()
        generator_costs(ax, ("minimax", "non-saturating", "least-squares", "hinge",
                             "wasserstein"), x="logit")
    colors = _line_colors(fig, "")
    # the minimax cost is -d_fake, the non-saturating cost is g_loss
    assert colors["minimax (saturates)"] == LOSS_STYLE["d_fake"].color
    assert colors["non-saturating"] == LOSS_STYLE["g_loss"].color
    assert indistinct_series(fig) == []


def test_explain_and_eigenvalue_figures() -> None:
    rng = np.random.default_rng(0)
    step = np.arange(400)
    logit = -1.5 + 0.3 * np.sin(step / 20) + 0.05 * rng.standard_normal(400)
    d_fake, g_loss = np.logaddexp(0, logit), np.logaddexp(0, -logit)
    matrix = np.array([[0.0, 1.0, 0.0, 0.0], [-1.0, 0.0, 0.0, 0.0],
                       [0.0, 0.0, 0.0, 2.0], [0.0, 0.0, -2.0, 0.0]])
    values = np.linspace(0.0, 1.0, 21)
    eig = eigenvalue_path(lambda gamma: matrix - gamma * np.diag([0.0, 1.0, 0.0, 2.0]), "gamma",
                          values, reference="flow").eigenvalues
    path = {"values": values, "parameter": "gamma", "reference": "flow", "events": [],
            "eigenvalues": [[[z.real, z.imag] for z in row] for row in eig]}
    with paper_style():
        fig = paper_figure(TWO_COLUMN)
        ax_losses, ax_p, ax_re, ax_im = fig.subplots(1, 4)
        explain_axes(ax_losses, ax_p, step, d_fake, g_loss, window=25)
        eigenvalue_path_axes(ax_re, ax_im, path)
    assert indistinct_series(fig) == []


def test_the_simulation_figure_states_the_step_sizes_and_penalty_weights() -> None:
    from gandyn.plotting.simulation import run_parameters

    result = simulate(loss="non-saturating", optimizer="altgd", lr_g=0.1, lr_d=0.25, steps=20,
                      regularizers=[("r1", {"gamma": 0.3})])
    text = run_parameters(result.trajectory, result.field)
    assert text == r"altgd, $\eta_G = 0.1$, $\eta_D = 0.25$; r1: $\gamma = 0.3$"
    with paper_style():
        fig = simulation_figure(result.trajectory, result.field)
    assert fig.axes[1].get_xlabel() == "step $k$\n" + text
    flow = simulate(optimizer="flow", lr_g=1.0, lr_d=3.0, steps=20)
    assert run_parameters(flow.trajectory, flow.field) == r"flow, $\tau = \eta_D/\eta_G = 3$"
