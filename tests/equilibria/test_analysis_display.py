"""An analysis in a notebook: its HTML view against closed forms, escaped, and a short repr."""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable
from typing import Any

import pytest

from gandyn.derivation.field import derive
from gandyn.equilibria.classification import analyze
from gandyn.equilibria.records import RuleChoice
from gandyn.games.game import make_game

HOSTILE = "<script>alert('x')</script>"


def complex_cells(text: str) -> list[complex]:
    """``-0.15 - 0.47697i, -0.15 + 0.47697i`` as complex numbers."""
    return [complex(float(re_), float(sign + im))
            for re_, sign, im in re.findall(r"(\S+) ([+-]) (\S+)i", text)]


@pytest.fixture(scope="module")
def r1_analysis() -> Any:
    field = derive(make_game("dirac", "non-saturating", [("r1", {"gamma": 0.3})]))
    return analyze(field, rule=RuleChoice("simgd", 0.1, 0.1))


def test_html_equilibrium_row_matches_the_closed_form(r1_analysis: Any,
                                                      read_html: Callable[[str], Any]) -> None:
    parsed = read_html(r1_analysis._repr_html_())
    assert parsed.fields("game")["regularizers"] == "r1:gamma=0.3"
    header, row = parsed.table("equilibria")
    cells = dict(zip(header, row, strict=True))
    assert cells["equilibrium"] == "theta = 0, psi = 0"
    # Mescheder et al. (2018): with R1 the eigenvalues are -gamma/2 +- i sqrt(f'(0)^2 - gamma^2/4),
    # f'(0) = 1/2 for the Dirac-GAN
    gamma = 0.3
    imag = math.sqrt(0.25 - gamma**2 / 4)
    assert complex_cells(cells["eigenvalues of dF/dx"]) == pytest.approx(
        [complex(-gamma / 2, -imag), complex(-gamma / 2, imag)], abs=1e-5)
    assert cells["flow"] == "stable" and cells["class"] == "stable focus"
    (equilibrium,) = r1_analysis.equilibria
    assert float(cells["spectral radius"]) == pytest.approx(equilibrium.rule.spectral_radius,
                                                            rel=1e-5)
    # simultaneous steps: stable iff h < -2 Re(lambda)/|lambda|^2 = gamma / (1/4) = 4 gamma
    low, high = map(float, cells["stable lr_g"].strip("()").split(", "))
    assert low == 0 and high == pytest.approx(4 * gamma, rel=1e-5)


def test_html_of_a_game_without_pure_nash(read_html: Callable[[str], Any]) -> None:
    field = derive(make_game("hide-and-seek"))
    analysis = analyze(field, box={"theta": (-1.0, 1.0), "psi": (-1.0, 1.0)}, grid_points=21,
                       n_starts=8)
    parsed = read_html(analysis._repr_html_())
    grid = parsed.fields("the game on a grid of the box")
    # cost_g = (theta - psi)^2 on [-1, 1]^2: min-max 1, max-min 0, mixed value 1 (by hand)
    assert grid["pure Nash equilibria"] == "none"
    assert float(grid["min-max"]) == 1 and float(grid["max-min"]) == 0
    assert float(grid["duality gap"]) == 1 and float(grid["mixed value"]) == pytest.approx(1)
    assert grid["mixed theta (value, probability)"] == "(0, 1)"
    assert parsed.fields("game")["zero-sum"] == "yes"
    assert "pure Nash on the grid: 0" in repr(analysis)


def test_html_escapes_notes(r1_analysis: Any, read_html: Callable[[str], Any]) -> None:
    page = dataclasses.replace(r1_analysis, notes=(HOSTILE,))._repr_html_()
    assert "<script" not in page
    header, row = read_html(page).table(None)
    assert header == ["notes"] and row == [HOSTILE]


def test_repr_is_one_short_line(r1_analysis: Any) -> None:
    text = repr(r1_analysis)
    assert text == ("Analysis(dirac / non-saturating + r1:gamma=0.3, rule simgd: 1 equilibrium "
                    "(theta = 0, psi = 0: stable, undecided))")
