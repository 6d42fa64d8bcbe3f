"""Venue presets: every figure at the venue's width, no text below the venue's smallest size.

The font sizes are measured on the drawn figures (every visible text artist,
tick labels and legends included), not read back from the settings.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

from gandyn.errors import UnknownNameError
from gandyn.plotting import (
    ONE_COLUMN,
    TWO_COLUMN,
    VENUES,
    generator_costs,
    paper_figure,
    paper_style,
    save_figure,
    simulation_figure,
    venue_style,
)
from gandyn.plotting.explain import explain_axes
from gandyn.runs.build import RunResult, simulate


@functools.cache
def _run(runs: int) -> RunResult:
    return simulate(loss="non-saturating", steps=80,
                    starts=[{"theta": 0.4, "psi": 0.2}, {"theta": -0.3, "psi": 0.5}][:runs])


def _simulation() -> Figure:
    result = _run(2)
    return simulation_figure(result.trajectory, result.field, layout="two-column")


def _tall_simulation() -> Figure:
    result = _run(1)
    return simulation_figure(result.trajectory, result.field, layout="one-column")


def _costs() -> Figure:
    fig = paper_figure(ONE_COLUMN)
    generator_costs(fig.add_subplot(), ("minimax", "non-saturating", "least-squares"), x="logit")
    return fig


def _explain() -> Figure:
    step = np.arange(300)
    logit = -1.0 + 0.5 * np.sin(step / 15)
    fig = paper_figure(TWO_COLUMN)
    explain_axes(*fig.subplots(2, 1), step, np.logaddexp(0, logit), np.logaddexp(0, -logit),
                 window=20)
    return fig


FIGURES: dict[str, Callable[[], Figure]] = {
    "simulation": _simulation, "simulation-tall": _tall_simulation, "costs": _costs,
    "explain": _explain,
}


def _rendered_font_sizes(fig: Figure) -> list[tuple[str, float]]:
    fig.canvas.draw()  # tick labels exist only once drawn
    return [(text.get_text(), float(text.get_fontsize())) for text in fig.findobj(Text)
            if text.get_visible() and text.get_text().strip()]


@pytest.mark.parametrize("venue", sorted(VENUES))
@pytest.mark.parametrize("figure", sorted(FIGURES))
def test_figures_take_the_venue_width_and_keep_text_legible(venue: str, figure: str) -> None:
    spec = VENUES[venue]
    with venue_style(venue), paper_style():
        fig = FIGURES[figure]()
        sizes = _rendered_font_sizes(fig)
    width = float(fig.get_size_inches()[0])
    assert width == pytest.approx(spec.column_width if figure in ("costs", "simulation-tall")
                                  else spec.text_width)
    assert sizes
    too_small = [(text, size) for text, size in sizes if size < spec.small_font_size - 1e-9]
    assert too_small == [], f"{venue}: text below {spec.small_font_size} pt: {too_small[:5]}"
    assert max(size for _, size in sizes) == pytest.approx(spec.font_size)


def test_without_a_venue_nothing_changes() -> None:
    with paper_style():
        assert tuple(paper_figure(ONE_COLUMN).get_size_inches()) == ONE_COLUMN
        assert tuple(paper_figure(TWO_COLUMN).get_size_inches()) == TWO_COLUMN


def test_slides_raster_at_the_venue_resolution(tmp_path: Path) -> None:
    with venue_style("slides"), paper_style():
        fig = _costs()
        save_figure(fig, tmp_path / "costs.png")  # no arguments beyond the figure and path
    from PIL import Image

    with Image.open(tmp_path / "costs.png") as image:
        assert image.size[0] == round(VENUES["slides"].column_width * VENUES["slides"].dpi)


def test_an_unknown_venue_is_refused_with_the_known_ones() -> None:
    with pytest.raises(UnknownNameError, match="neurips"), venue_style("neurips2099"):
        pass
