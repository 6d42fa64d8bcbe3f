"""``--style VENUE`` on every command that draws: the saved file has the venue's size and type.

The references are the venues' own LaTeX style files (the widths of
:data:`gandyn.plotting.style.VENUES`, collected by tueplots): ICML columns are
3.25 in and its text 6.75 in (``icml2025.sty``), IEEE's text 516 pt = 7.16 in
(``IEEEtran.cls``), a 16:9 beamer frame's text 398.3 pt = 5.51 in. The size is
read back from the file itself: a PNG's pixels divided by its dpi, a PDF's
MediaBox in points (1/72 in). Type sizes are read from the PDF's text
operators (``/F1 10 Tf``).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

Invoke = Callable[..., tuple[int, str, str]]

#: Text widths in inches from the venues' style files (see the module docstring).
TEXT_WIDTH = {"icml": 6.75, "ieee": 7.16, "slides": 5.51}
#: One-column widths: ICML's column; IEEE's column of 252 pt = 3.5 in.
COLUMN_WIDTH = {"icml": 3.25, "ieee": 3.5}


def png_inches(path: Path) -> tuple[float, float]:
    from PIL import Image

    with Image.open(path) as image:
        width, height = image.size
        dpi_x, dpi_y = image.info["dpi"]
    return width / dpi_x, height / dpi_y


def pdf_inches(path: Path) -> tuple[float, float]:
    match = re.search(rb"/MediaBox\s*\[\s*([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s*\]",
                      path.read_bytes())
    assert match is not None, "no MediaBox"
    x0, y0, x1, y1 = (float(v) for v in match.groups())
    return (x1 - x0) / 72, (y1 - y0) / 72


def pdf_font_sizes(path: Path) -> set[float]:
    """The sizes of every ``Tf`` (set font) operator in the PDF's content streams."""
    sizes: set[float] = set()
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", path.read_bytes(), re.S):
        try:
            content = zlib.decompress(match.group(1))
        except zlib.error:
            continue  # an embedded font or image, not a content stream
        sizes |= {float(v) for v in re.findall(rb"([\d.]+) Tf", content)}
    return sizes


def check_width(measured: tuple[float, float], width: float, default_aspect: float,
                pixel: float = 0.0) -> None:
    """The venue's width, and the height of gandyn's default shape scaled to it."""
    assert measured[0] == pytest.approx(width, abs=pixel + 1e-3)
    assert measured[1] / measured[0] == pytest.approx(default_aspect, rel=2e-3)


def test_simulate_plot_png_takes_the_venue_width(invoke: Invoke, tmp_path: Path) -> None:
    default, icml = tmp_path / "default.png", tmp_path / "icml.png"
    for target, style in ((default, "default"), (icml, "icml")):
        code, _, err = invoke("simulate", "--steps", "20", "--plot", str(target),
                              "--style", style)
        assert code == 0, err
    base = png_inches(default)
    assert base[0] == pytest.approx(7.0, abs=1 / 300)  # gandyn's own two-column width
    check_width(png_inches(icml), TEXT_WIDTH["icml"], base[1] / base[0], pixel=1 / 300)


def test_simulate_one_column_takes_the_venue_column(invoke: Invoke, tmp_path: Path) -> None:
    default, ieee = tmp_path / "default.pdf", tmp_path / "ieee.pdf"
    for target, style in ((default, "default"), (ieee, "ieee")):
        code, _, err = invoke("simulate", "--steps", "20", "--layout", "one-column",
                              "--plot", str(target), "--style", style)
        assert code == 0, err
    base = pdf_inches(default)
    check_width(pdf_inches(ieee), COLUMN_WIDTH["ieee"], base[1] / base[0])


def test_slides_type_reaches_the_pdf(invoke: Invoke, tmp_path: Path) -> None:
    from gandyn.plotting.style import VENUES

    default, slides = tmp_path / "default.pdf", tmp_path / "slides.pdf"
    for target, style in ((default, "default"), (slides, "slides")):
        code, _, err = invoke("simulate", "--steps", "20", "--plot", str(target),
                              "--style", style)
        assert code == 0, err
    venue, plain = VENUES["slides"], VENUES["default"]
    # labels at the venue's size, ticks at its small size; nothing larger than the labels
    assert max(pdf_font_sizes(slides)) == venue.font_size
    assert venue.small_font_size in pdf_font_sizes(slides)
    assert max(pdf_font_sizes(default)) == plain.font_size < venue.font_size
    check_width(pdf_inches(slides), TEXT_WIDTH["slides"],
                pdf_inches(default)[1] / pdf_inches(default)[0])


def test_plot_redraws_at_the_venue_size(invoke: Invoke, tmp_path: Path) -> None:
    run = tmp_path / "run.npz"
    code, _, err = invoke("simulate", "--steps", "20", "--out", str(run))
    assert code == 0, err
    code, _, err = invoke("plot", str(run), "--plot", str(tmp_path / "fig.pdf"),
                          "--style", "icml")
    assert code == 0, err
    assert pdf_inches(tmp_path / "fig.pdf")[0] == pytest.approx(TEXT_WIDTH["icml"], abs=1e-3)


@pytest.mark.parametrize(("args", "width"), [
    (["explain", "--loss", "ns", "--steps", "300", "--x0", "theta=0.3,psi=0.3"],
     COLUMN_WIDTH["icml"]),  # a one-column figure of two stacked panels
    (["analyze", "--reg", "r1", "--path", "gamma_r1=0:2:11"], TEXT_WIDTH["icml"]),
    (["sweep", "--reg", "r1", "--x0", "theta=0.1,psi=0.1", "--axis", "lr=0.05:2:4:log",
      "--steps", "60"], COLUMN_WIDTH["icml"]),
], ids=["explain", "analyze", "sweep"])
def test_every_drawing_command_takes_the_style(invoke: Invoke, tmp_path: Path,
                                               args: list[str], width: float) -> None:
    target = tmp_path / "fig.png"
    code, _, err = invoke(*args, "--plot", str(target), "--style", "icml")
    assert code == 0, err
    assert png_inches(target)[0] == pytest.approx(width, abs=1 / 300 + 1e-3)


def test_an_unknown_style_is_a_usage_error(invoke: Invoke, tmp_path: Path) -> None:
    code, _, err = invoke("simulate", "--plot", str(tmp_path / "f.png"), "--style", "nips")
    assert code == 2 and err.startswith("error:") and "neurips" in err
    assert not (tmp_path / "f.png").exists()
