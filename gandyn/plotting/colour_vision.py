"""Can every reader tell a figure's series apart? Colour-vision checks for figures.

A series is told apart from its neighbours by colour, dash and marker. Where
two series share dash and marker, their colours must stay apart for readers
with a red-green colour-vision deficiency too (about 1 in 12 men): this
module simulates deuteranopia and protanopia with the matrices of Machado,
Oliveira and Fernandes [1]_ (severity 1), measures colour differences in
CIELAB (CIE76 Delta E [2]_) and the contrast of each line against the white
page (WCAG relative luminance [3]_).

:func:`indistinct_series` lists the pairs of series in a figure that would
merge; the tests run it on every figure gandyn draws.

References
----------
.. [1] Machado, Oliveira and Fernandes (2009). A physiologically-based model
   for simulation of color vision deficiency. IEEE Transactions on
   Visualization and Computer Graphics 15(6), 1291-1298 (Table 1, severity 1.0).
.. [2] CIE (2004). Colorimetry, 3rd edition, CIE 15:2004 (CIELAB and the colour
   difference Delta E*ab).
.. [3] W3C (2008). Web Content Accessibility Guidelines 2.0, definitions of
   relative luminance and contrast ratio.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations
from typing import Final, Literal

import numpy as np
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from gandyn.arrays import Array

__all__ = ["DEFICIENCIES", "MIN_CONTRAST", "MIN_DELTA_E", "cielab", "contrast_on_white",
           "indistinct_series", "simulate_deficiency"]

Deficiency = Literal["normal", "deuteranopia", "protanopia"]

#: Machado et al. (2009), Table 1, severity 1.0: linear-RGB matrices.
_MACHADO: Final[dict[str, Array]] = {
    "normal": np.eye(3),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968],
                              [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "protanopia": np.array([[0.152286, 1.052583, -0.204868],
                            [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
}

#: The kinds of vision every figure is checked under.
DEFICIENCIES: Final[tuple[Deficiency, ...]] = ("normal", "deuteranopia", "protanopia")

#: Smallest CIE76 difference between two series' colours (same dash and
#: marker). The Okabe-Ito palette keeps at least 17 under both deficiencies;
#: a just-noticeable difference is about 2.3, neighbouring shades of one
#: colour map about 5-10.
MIN_DELTA_E: Final = 15.0

#: Smallest contrast ratio of a line against the white page. The Okabe-Ito
#: yellow has 1.27 and is nearly invisible as a thin line; sky blue has 2.3.
MIN_CONTRAST: Final = 1.5

#: sRGB (D65) to CIE XYZ, IEC 61966-2-1.
_SRGB_TO_XYZ: Final = np.array([[0.4124, 0.3576, 0.1805],
                                [0.2126, 0.7152, 0.0722],
                                [0.0193, 0.1192, 0.9505]])


def _linear(srgb: Array) -> Array:
    """Undo the sRGB transfer curve (IEC 61966-2-1)."""
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def _encoded(linear: Array) -> Array:
    linear = np.clip(linear, 0.0, 1.0)
    return np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)


def simulate_deficiency(colors: Sequence[str] | Array, kind: Deficiency) -> Array:
    """The sRGB colours ``(n, 3)`` as seen with ``kind`` of colour vision.

    Parameters
    ----------
    colors
        Matplotlib colour specifications, or an ``(n, 3)`` array of sRGB in [0, 1].
    kind
        ``normal``, ``deuteranopia`` or ``protanopia``.
    """
    rgb = np.array([to_rgb(c) for c in colors]) if not isinstance(colors, np.ndarray) else colors
    return _encoded(_linear(np.asarray(rgb, dtype=np.float64)) @ _MACHADO[kind].T)


def cielab(srgb: Array) -> Array:
    """CIELAB ``(n, 3)`` of sRGB colours ``(n, 3)`` under the D65 white point."""
    xyz = _linear(srgb) @ _SRGB_TO_XYZ.T
    white = _SRGB_TO_XYZ.sum(axis=1)
    t = xyz / white
    delta = 6.0 / 29.0
    f = np.where(t > delta**3, np.cbrt(t), t / (3 * delta**2) + 4.0 / 29.0)
    return np.stack([116.0 * f[:, 1] - 16.0, 500.0 * (f[:, 0] - f[:, 1]),
                     200.0 * (f[:, 1] - f[:, 2])], axis=1)


def contrast_on_white(colors: Sequence[str]) -> Array:
    """WCAG contrast ratio of each colour against white: ``1.05 / (Y + 0.05)``."""
    luminance = _linear(np.array([to_rgb(c) for c in colors])) @ _SRGB_TO_XYZ[1]
    return np.asarray(1.05 / (luminance + 0.05))


def _series(fig: Figure) -> list[tuple[str, str, str, str, str]]:
    """``(axes label, series label, colour, dash, marker)`` of every labelled line."""
    found = []
    for number, ax in enumerate(fig.axes):
        for line in ax.get_lines():
            label = str(line.get_label())
            if label.startswith("_") or not isinstance(line, Line2D):
                continue
            x = np.asarray(line.get_xdata(), dtype=object)
            if x.size < 2 and line.get_marker() in ("None", "", None, " "):
                continue  # a legend proxy, not data
            dash = str(line.get_linestyle())
            found.append((ax.get_title(loc="left") or ax.get_title() or f"axes {number}", label,
                          str(line.get_color()), dash, str(line.get_marker())))
    return found


def indistinct_series(fig: Figure, *, min_delta_e: float = MIN_DELTA_E,
                      min_contrast: float = MIN_CONTRAST) -> list[str]:
    """The problems a reader would have telling the figure's labelled series apart.

    Two series of one axes that share dash and marker must differ in colour
    by at least ``min_delta_e`` under every kind of :data:`DEFICIENCIES`; every
    series that is a line must reach ``min_contrast`` against white.

    Returns
    -------
    list of str
        One sentence per problem; empty when every series stands apart.
    """
    problems: list[str] = []
    series = _series(fig)
    for axes_name, label, color, dash, _ in series:
        if dash not in ("None", "", " ") and contrast_on_white([color])[0] < min_contrast:
            problems.append(f"{axes_name}: {label!r} ({color}) is too faint on white")
    for first, second in combinations(series, 2):
        if first[0] != second[0] or first[3:] != second[3:] or first[1] == second[1]:
            continue
        for kind in DEFICIENCIES:
            lab = cielab(simulate_deficiency([first[2], second[2]], kind))
            distance = float(np.linalg.norm(lab[0] - lab[1]))
            if distance < min_delta_e:
                problems.append(f"{first[0]}: {first[1]!r} and {second[1]!r} merge under "
                                f"{kind} (Delta E {distance:.1f} < {min_delta_e:g})")
                break
    return problems
