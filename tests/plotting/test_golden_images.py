"""Golden images of the figures meant for papers, compared with a pixel tolerance.

Each figure is rendered at a low resolution and compared with
``tests/golden/<name>.png`` by :func:`matplotlib.testing.compare.compare_images`
(root-mean-square difference of the 8-bit pixels).

Glyphs are what differs between machines: another FreeType version, hinting
or font changes the text's pixels (an RMS of 10 to 30 here, as much as a
moved curve) and, through the constrained layout, the place of every axes.
So the images are rendered *without text*: every text artist is hidden and
the legends removed before the layout is computed, which makes the
rendering independent of the font machinery (RMS 0 under a change of font,
hinting or text anti-aliasing), and the tolerance can stay small. The words
(labels, legends, notes) are checked as artists in
``tests/test_figure_functions.py``. :func:`test_tolerance_is_meaningful`
checks that small changes of the content (a curve dropped, a larger step, a
different game) exceed the tolerance many times over.

Regenerate the images after an intended change of a figure with::

    GANDYN_REGEN_GOLDEN=1 python -m pytest tests/test_golden_images.py

and look at them before committing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.testing.compare import calculate_rms, compare_images
from matplotlib.text import Text
from PIL import Image

from gandyn.derivation.field import derive
from gandyn.equilibria.grid_nash import payoff_grid
from gandyn.games.game import make_game
from gandyn.games.regularizers import apply_values, get_regularizer
from gandyn.plotting import (
    ONE_COLUMN,
    best_response_path,
    eigenvalue_plane,
    generator_costs,
    nash_map,
    paper_figure,
    paper_style,
    save_figure,
)

GOLDEN = Path(__file__).resolve().parent / "golden"
#: Resolution of the comparison: small files, and glyph differences stay a few pixels.
DPI = 72
#: RMS tolerance on the 0-255 scale (anti-aliasing of lines across matplotlib versions).
TOLERANCE = 1.5
REGENERATE = os.environ.get("GANDYN_REGEN_GOLDEN") == "1"


def _costs(fig: Figure, losses: tuple[str, ...] = ("minimax", "non-saturating")) -> None:
    generator_costs(fig.add_subplot(), losses)


def _spectrum(fig: Figure, h: float = 1.0) -> None:
    vf = derive(make_game("dirac", "minimax", [apply_values(get_regularizer("r1"),
                                                            {"gamma": 0.3})]))
    eigenvalue_plane(fig.add_subplot(), vf.jacobian_fn(np.zeros(2)), rule="simgd", lr_g=h)


def _nash(fig: Figure, game: str = "hide-and-seek") -> None:
    grid = payoff_grid(derive(make_game(game)), {"theta": (-1.0, 1.0), "psi": (-1.0, 1.0)}, n=31)
    nash_map(fig.add_subplot(), grid, path=best_response_path(grid, 0.5, 2))


FIGURES: dict[str, Callable[[Figure], None]] = {
    "generator-costs": _costs,
    "eigenvalue-plane": _spectrum,
    "nash-map": _nash,
}


def _render(draw: Callable[[Figure], None], path: Path) -> Path:
    with paper_style():
        fig = paper_figure(ONE_COLUMN)
        draw(fig)
        for ax in fig.axes:
            legend = ax.get_legend()
            if legend is not None:
                legend.remove()
        for text in fig.findobj(Text):
            text.set_visible(False)
        save_figure(fig, path, metadata={"golden": path.stem}, dpi=DPI, force=True)
    return path


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_matches_golden_image(name: str, tmp_path: Path) -> None:
    golden = GOLDEN / f"{name}.png"
    if REGENERATE:
        GOLDEN.mkdir(exist_ok=True)
        _render(FIGURES[name], golden)
        golden.with_suffix(".json").unlink()  # the sidecar is not part of the reference
        pytest.skip(f"regenerated {golden}")
    assert golden.exists(), f"missing {golden}; run with GANDYN_REGEN_GOLDEN=1"
    actual = _render(FIGURES[name], tmp_path / f"{name}.png")
    result = compare_images(str(golden), str(actual), tol=TOLERANCE)
    assert result is None, result


def _rms(a: Path, b: Path) -> float:
    first = np.asarray(Image.open(a).convert("RGB")).astype(np.int16)
    second = np.asarray(Image.open(b).convert("RGB")).astype(np.int16)
    return float(calculate_rms(first, second))


@pytest.mark.parametrize(
    ("name", "changed"),
    [
        ("generator-costs", lambda fig: _costs(fig, ("minimax",))),
        ("eigenvalue-plane", lambda fig: _spectrum(fig, 1.5)),
        ("nash-map", lambda fig: _nash(fig, "bilinear")),
    ],
)
def test_tolerance_is_meaningful(name: str, changed: Callable[[Figure], None],
                                 tmp_path: Path) -> None:
    # dropping a curve, a larger step (eigenvalues leave the disc), another game
    if REGENERATE:
        pytest.skip("regenerating")
    golden = GOLDEN / f"{name}.png"
    altered = _render(changed, tmp_path / f"{name}-changed.png")
    assert _rms(golden, altered) > 4 * TOLERANCE
