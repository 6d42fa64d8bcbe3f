r"""The gandyn paper style: palette, figure sizes, rc settings and loss styles.

Everything here is applied through context managers: :func:`paper_style`
sets the rc parameters of the packaged ``gandyn.mplstyle`` for the duration
of a ``with`` block and restores the previous ones on exit, and figures are
created with :class:`matplotlib.figure.Figure` (never pyplot), so using
gandyn's plotting changes no global matplotlib state and needs no GUI
backend.

Build *and* save a figure inside the same ``with paper_style():`` block:
matplotlib creates tick labels lazily, when the figure is first drawn, and
reads the rc parameters in force at that moment.

Fonts are STIX (Times-like) for text and mathtext; the font files ship with
matplotlib, so neither a TeX installation nor a system font is needed and
the same matplotlib writes the same bytes on every machine. PDF and PS embed
them as TrueType (``pdf.fonttype = 42``); SVG stores glyphs as paths
(``svg.fonttype = 'path'``), so an SVG renders identically in every viewer
and editor without the font installed (its text is not editable as text,
which matters less for a paper figure than looking the same everywhere).

References
----------
.. [1] Okabe and Ito (2008). Color Universal Design (CUD): How to make figures
   and presentations that are friendly to colorblind people.
   https://jfly.uni-koeln.de/color/
.. [2] Wong (2011). Points of view: Color blindness. Nature Methods 8, 441.
.. [3] Kramer et al. (2021). tueplots: figure sizes and font sizes for
   scientific venues, github.com/pnkraemer/tueplots. The widths of
   :data:`VENUES` are those of the venues' LaTeX style files it collects:
   ``neurips_2024.sty`` and ``iclr2025_conference.sty`` (text 5.5 in),
   ``icml2025.sty`` (columns 3.25 in, text 6.75 in), ``jmlr2e.sty`` (text
   6.0 in), beamer with ``aspectratio=169`` (text 398.3 pt), and
   ``IEEEtran.cls`` (columns 252 pt, text 516 pt).
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, cast

import matplotlib
from matplotlib.figure import Figure

__all__ = [
    "CYCLE",
    "LOSS_STYLE",
    "ONE_COLUMN",
    "ONE_COLUMN_TALL",
    "PALETTE",
    "RUN_COLORS",
    "SERIES_COLORS",
    "STYLE_NAME",
    "TWO_COLUMN",
    "VENUES",
    "LossStyle",
    "SeriesStyle",
    "Venue",
    "active_venue",
    "figure_size",
    "note_fontsize",
    "output_rc",
    "paper_figure",
    "paper_style",
    "run_style",
    "series_style",
    "style_path",
    "venue_style",
]

STYLE_NAME: Final = "gandyn.mplstyle"

#: The Okabe-Ito palette in its published order, by colour name.
PALETTE: Final[Mapping[str, str]] = MappingProxyType({
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
})

#: The order in which runs (and the style's ``axes.prop_cycle``) take colours:
#: the strongest contrasts on white first; yellow, weak on white, last.
CYCLE: Final[tuple[str, ...]] = tuple(
    PALETTE[name]
    for name in ("blue", "vermillion", "bluish_green", "orange", "sky_blue",
                 "reddish_purple", "black", "yellow")
)

#: ``(width, height)`` in inches of a one-column figure (3.4 in: the column of
#: two-column journals and proceedings such as NeurIPS, ICML, IEEE, APS).
ONE_COLUMN: Final[tuple[float, float]] = (3.4, 2.6)
#: A one-column figure with two panels stacked.
ONE_COLUMN_TALL: Final[tuple[float, float]] = (3.4, 5.0)
#: ``(width, height)`` in inches of a figure spanning both columns (7.0 in).
TWO_COLUMN: Final[tuple[float, float]] = (7.0, 2.8)


@dataclass(frozen=True)
class LossStyle:
    """How a logged loss is drawn.

    Attributes
    ----------
    color
        A colour of :data:`PALETTE`.
    linestyle
        A matplotlib line style; the losses differ in dash as well as colour,
        so they stay apart in greyscale print.
    label
        A mathtext label, generic across losses (the formula depends on the
        loss: for cross-entropy ``d_fake = -log(1 - D(G(z)))``).
    """

    color: str
    linestyle: str | tuple[float, tuple[float, ...]]
    label: str


#: Style of each logged loss (see :data:`gandyn.games.game.LOGGED_TERMS`).
LOSS_STYLE: Final[Mapping[str, LossStyle]] = MappingProxyType({
    "d_real": LossStyle(PALETTE["bluish_green"], "-.", r"$d_\mathrm{real}$"),
    "d_fake": LossStyle(PALETTE["vermillion"], "--", r"$d_\mathrm{fake}$"),
    "g_loss": LossStyle(PALETTE["blue"], "-", r"$g_\mathrm{loss}$"),
    "d_x": LossStyle(PALETTE["reddish_purple"], ":", r"$D(x)$"),
    "d_gz": LossStyle(PALETTE["orange"], (0, (4.0, 1.0, 1.0, 1.0, 1.0, 1.0)), r"$D(G(z))$"),
})


#: Colours of runs in a multi-run figure: none of them is a loss's colour in
#: :data:`LOSS_STYLE`, so a run is never mistaken for a loss in the panel beside it.
RUN_COLORS: Final[tuple[str, ...]] = (PALETTE["black"], PALETTE["sky_blue"], "#8C8C8C")

#: Colours of other series (eigenvalues, rules, losses compared with one
#: another): the cycle without yellow, which is too faint on white for a line.
SERIES_COLORS: Final[tuple[str, ...]] = tuple(c for c in CYCLE if c != PALETTE["yellow"])

#: Markers that tell series apart where colours repeat or are many.
_MARKERS: Final = ("o", "s", "^", "D", "v", "P")
_DASHES: Final = ("-", "--", ":", "-.")

#: Up to this many series are told apart by colour alone (with distinct dashes
#: elsewhere in the style); more get markers too, so that no reader depends on
#: telling seven hues apart.
COLOUR_ONLY_SERIES: Final = 4


@dataclass(frozen=True)
class SeriesStyle:
    """How one series of several is drawn: colour, dash and marker (``""``: none)."""

    color: str
    linestyle: str
    marker: str

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments for :meth:`matplotlib.axes.Axes.plot`."""
        return {"color": self.color, "linestyle": self.linestyle, "marker": self.marker}


def series_style(index: int, count: int) -> SeriesStyle:
    """The style of series ``index`` of ``count`` (eigenvalues, rules, ...).

    Colours come from :data:`SERIES_COLORS`; beyond :data:`COLOUR_ONLY_SERIES`
    series every one also gets a marker, and once the colours repeat the dash
    changes, so no two series share colour, dash and marker.
    """
    color = SERIES_COLORS[index % len(SERIES_COLORS)]
    dash = _DASHES[(index // len(SERIES_COLORS)) % len(_DASHES)]
    marker = _MARKERS[index % len(_MARKERS)] if count > COLOUR_ONLY_SERIES else ""
    return SeriesStyle(color, dash, marker)


def run_style(index: int, count: int) -> SeriesStyle:
    """The style of run ``index`` of ``count`` in a multi-run figure.

    Runs take :data:`RUN_COLORS` (never a loss's colour); past those, markers
    tell them apart. The dash is left solid: portraits dash a diverged run.
    """
    color = RUN_COLORS[index % len(RUN_COLORS)]
    marker = "" if index < len(RUN_COLORS) else _MARKERS[(index // len(RUN_COLORS) - 1)
                                                          % len(_MARKERS)]
    return SeriesStyle(color, "-", marker if count > 1 else "")


@dataclass(frozen=True)
class Venue:
    """Where a figure will be printed: its widths, font sizes and resolution.

    Attributes
    ----------
    name
        The preset's name (``--style NAME``).
    description
        What it is for, for ``--help`` and the README.
    column_width, text_width
        Widths in inches of a ``one-column`` and a ``two-column`` figure. In a
        single-column venue ``column_width`` is half the text (two figures side
        by side).
    font_size
        Axis labels and titles, in points.
    small_font_size
        Tick labels, legends and notes: the smallest text of every figure, in
        points, kept at or above what the venue prints legibly.
    dpi
        Resolution of raster output (PNG).
    """

    name: str
    description: str
    column_width: float
    text_width: float
    font_size: float
    small_font_size: float
    dpi: int


#: The venue presets (see [3]_ for the widths). Paper text is 10 pt in all of
#: them; figure text at 8 pt (labels) and 7 pt (ticks, legends) matches the
#: captions' footnote size. Slides: a 16:9 beamer frame, read from afar.
VENUES: Final[Mapping[str, Venue]] = MappingProxyType({v.name: v for v in (
    Venue("default", "gandyn's own sizes: 3.4 in and 7.0 in", 3.4, 7.0, 8.0, 7.0, 300),
    Venue("neurips", "NeurIPS: one column of 5.5 in", 2.65, 5.5, 8.0, 7.0, 300),
    Venue("iclr", "ICLR: one column of 5.5 in", 2.65, 5.5, 8.0, 7.0, 300),
    Venue("icml", "ICML: two columns of 3.25 in, text 6.75 in", 3.25, 6.75, 8.0, 7.0, 300),
    Venue("ieee", "IEEE transactions and conferences: columns of 3.5 in, text 7.16 in",
          3.5, 7.16, 8.0, 7.0, 300),
    Venue("jmlr", "JMLR: one column of 6.0 in", 2.9, 6.0, 8.0, 7.0, 300),
    Venue("arxiv", "an arXiv preprint on US letter with 1 in margins: text 6.5 in",
          3.15, 6.5, 8.0, 7.0, 300),
    Venue("slides", "16:9 beamer slides: text 5.51 in, larger type, finer raster",
          2.7, 5.51, 10.0, 9.0, 400),
)})

#: The venue figures are being made for (set by :func:`venue_style`).
_VENUE: ContextVar[Venue | None] = ContextVar("gandyn_venue", default=None)


def active_venue() -> Venue:
    """The venue in force: the innermost :func:`venue_style`, else ``default``."""
    return _VENUE.get() or VENUES["default"]


def figure_size(size: tuple[float, float]) -> tuple[float, float]:
    """``size`` (gandyn's one- or two-column size) in the active venue's widths.

    A width up to :data:`ONE_COLUMN`'s becomes the venue's column width, a
    wider one its text width; the height scales with the width, so panels
    keep their shape.
    """
    venue = active_venue()
    width = venue.column_width if size[0] <= ONE_COLUMN[0] + 1e-9 else venue.text_width
    base = ONE_COLUMN[0] if size[0] <= ONE_COLUMN[0] + 1e-9 else TWO_COLUMN[0]
    scale = width / base
    return (size[0] * scale, size[1] * scale)


def note_fontsize() -> float:
    """The size of small text (direct labels, notes in panels): the venue's smallest."""
    return active_venue().small_font_size


def _venue_rc(venue: Venue) -> dict[str, Any]:
    small = venue.small_font_size
    return {"font.size": venue.font_size, "axes.labelsize": venue.font_size,
            "axes.titlesize": venue.font_size, "legend.fontsize": small,
            "legend.title_fontsize": small, "xtick.labelsize": small, "ytick.labelsize": small,
            "savefig.dpi": venue.dpi}


@contextmanager
def venue_style(name: str) -> Iterator[Venue]:
    """Make every gandyn figure of a ``with`` block for venue ``name`` of :data:`VENUES`.

    Figures take the venue's widths (:func:`figure_size`) and font sizes, and
    PNGs its resolution; :func:`paper_style` blocks inside keep them.

    Raises
    ------
    UnknownNameError
        If ``name`` is not a venue.

    Examples
    --------
    >>> from gandyn.plotting import venue_style, paper_style, paper_figure, ONE_COLUMN
    >>> with venue_style("icml"), paper_style():
    ...     fig = paper_figure(ONE_COLUMN)
    >>> fig.get_size_inches().round(2).tolist()
    [3.25, 2.49]
    """
    if name not in VENUES:
        from gandyn.errors import UnknownNameError

        raise UnknownNameError("style", name, VENUES)
    token = _VENUE.set(VENUES[name])
    try:
        yield VENUES[name]
    finally:
        _VENUE.reset(token)


@contextmanager
def style_path() -> Iterator[Path]:
    """The packaged ``gandyn.mplstyle`` as a file path (a context manager)."""
    resource = importlib.resources.files("gandyn.plotting").joinpath(STYLE_NAME)
    with importlib.resources.as_file(resource) as path:
        yield Path(path)


def _style_params() -> dict[str, Any]:
    with style_path() as path:
        # RcParams' keys are typed as a Literal of every known name; read them as strings
        params: Mapping[str, Any] = cast(
            Mapping[str, Any], matplotlib.rc_params_from_file(str(path), use_default_template=False)
        )
        return dict(params)


def output_rc() -> dict[str, Any]:
    """The rc parameters that decide how files are written (fonts, SVG ids, savefig).

    These are the style's ``pdf.*``, ``ps.*``, ``svg.*`` and ``savefig.*``
    settings; :func:`gandyn.plotting.save_figure` always applies them, so
    fonts are embedded as TrueType and files are reproducible even for a
    figure built outside :func:`paper_style`.
    """
    prefixes = ("pdf.", "ps.", "svg.", "savefig.")
    return {k: v for k, v in _style_params().items() if k.startswith(prefixes)}


@contextmanager
def paper_style(rc: Mapping[str, Any] | None = None) -> Iterator[None]:
    """Apply the gandyn paper style within a ``with`` block.

    Parameters
    ----------
    rc
        rc parameters that override the style's.

    Examples
    --------
    >>> from gandyn.plotting import paper_style, paper_figure, ONE_COLUMN
    >>> with paper_style():
    ...     fig = paper_figure(ONE_COLUMN)
    ...     ax = fig.add_subplot()
    """
    with ExitStack() as stack:
        path = stack.enter_context(style_path())
        venue = _VENUE.get()
        overrides: Any = {**(_venue_rc(venue) if venue else {}), **(rc or {})}
        stack.enter_context(matplotlib.rc_context(rc=overrides, fname=str(path)))
        yield


def paper_figure(size: tuple[float, float] = ONE_COLUMN) -> Figure:
    """A new figure of ``size`` inches with constrained layout, not managed by pyplot.

    Call it inside :func:`paper_style` so that the figure takes the style's
    settings; inside :func:`venue_style` the size becomes the venue's
    (:func:`figure_size`).
    """
    return Figure(figsize=figure_size(size), layout="constrained")
