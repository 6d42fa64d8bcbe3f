"""``analyze --box``, one parameter per player, general-sum: the grid game's mixed equilibrium.

**Asymmetric matching pennies** (``examples/asymmetric-matching-pennies.toml``;
a matching-pennies game with unequal payoffs, as in Goeree and Holt 2001, Am.
Econ. Rev. 91(5), with other numbers; the equilibrium below is derived here).
``theta, psi in [0, 1]`` are the probabilities that G and D play heads; G
wants to match, D to mismatch::

    u_G = 2 theta psi + (1 - theta)(1 - psi),   cost_g = -u_G,
    u_D = 3 theta (1 - psi) + (1 - theta) psi,  cost_d = -u_D.

``cost_g + cost_d = -(1 + 2 theta - theta psi)`` has a term in both
parameters, so the game is not zero-sum. Both costs are affine in each
player's own parameter:

* ``d cost_g / d theta = 1 - 3 psi``: G's best response is ``theta = 1`` when
  ``psi > 1/3``, ``theta = 0`` when ``psi < 1/3``, anything at ``psi = 1/3``;
* ``d cost_d / d psi = 4 theta - 1``: D's best response is ``psi = 0`` when
  ``theta > 1/4``, ``psi = 1`` when ``theta < 1/4``, anything at ``theta = 1/4``.

On the grid ``{0, 0.2, ..., 1}`` (6 points; neither 1/4 nor 1/3 on it) take a
mixed equilibrium ``(p, q)`` of the grid game. Against ``q`` G's expected cost
is ``-(1 - E_q psi) - theta (3 E_q psi - 1)``, affine in ``theta`` with slope
``1 - 3 E_q psi``. If ``E_q psi != 1/3``, G's only best response is a corner,
so ``p`` is that corner; D's only best response to it is a corner (``theta =
1`` -> ``psi = 0``, ``theta = 0`` -> ``psi = 1``), so ``q`` is that corner;
but G's best response to ``psi = 0`` is ``theta = 0`` and to ``psi = 1`` it is
``theta = 1``: the four corners cycle and no corner pair is an equilibrium.
So ``E_q psi = 1/3``, and by the same argument with the roles swapped
``E_p theta = 1/4``. Hence every
mixed equilibrium of the grid game has

    ``E theta = 1/4``, ``E psi = 1/3``, ``E cost_g = -2/3``, ``E cost_d = -3/4``

(G's cost at ``E psi = 1/3`` is ``-(1 - 1/3) = -2/3`` for every ``theta``; D's
at ``E theta = 1/4`` is ``-3/4`` for every ``psi``), the continuous game's
pure equilibrium ``(1/4, 1/3)`` as an average, and no pure equilibrium on the
grid (a pure one would need ``theta = 1/4`` and ``psi = 1/3`` on it). On 13
points (``k / 12``) the cell ``(1/4, 1/3)`` is on the grid and is its only
pure equilibrium, so no mixed one is sought.

**Hide and seek** (zero-sum, ``cost_g = (theta - psi)^2`` on ``[-1, 1]^2``,
21 points): G's worst case ``max_psi (theta - psi)^2 = (1 + |theta|)^2`` is
least at ``theta = 0`` (min-max 1); pure max-min 0. Against ``psi = +-1``
with mean ``m``, G's expected cost ``theta^2 - 2 m theta + 1`` is 1 at
``theta = 0`` and at least 1 at every grid point ``theta = k h`` (``h =
0.1``) exactly when ``|m| <= h / 2``; D's payoff against ``theta = 0`` is
``psi^2``, largest at ``+-1`` with value 1, and no other ``theta`` mix keeps
both ends D's best responses at value 1 (ties of the convex ``psi -> E(theta
- psi)^2`` at both ends need ``E theta = 0``, value ``1 + E theta^2``). So the
mixed equilibria are ``theta = 0`` against ``psi = +-1`` with ``P(psi = 1) =
(1 + m) / 2`` in ``[0.475, 0.525]``, value 1; the report keeps its zero-sum form (no
``method``, no check line, no ``mixed_skipped`` key).
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from gandyn.cli import cli
from gandyn.derivation.field import VectorField, derive
from gandyn.equilibria import AnalysisSpec, analyze
from gandyn.equilibria.global_nash import general_sum_mixed, global_nash
from gandyn.equilibria.grid_nash import PayoffGrid
from gandyn.games.files import load_game_file
from gandyn.games.game import make_game
from gandyn.report.equilibria import analysis_text

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PENNIES = EXAMPLES / "asymmetric-matching-pennies.toml"
SEXES = EXAMPLES / "battle-of-the-sexes.toml"
UNIT_BOX = {"theta": (0.0, 1.0), "psi": (0.0, 1.0)}


def _pennies() -> VectorField:
    return derive(make_game(load_game_file(PENNIES)))


def _u_g(theta: Any, psi: Any) -> Any:
    """G's payoff, written here from the docstring (not read from the game file)."""
    return 2 * theta * psi + (1 - theta) * (1 - psi)


def _u_d(theta: Any, psi: Any) -> Any:
    return 3 * theta * (1 - psi) + (1 - theta) * psi


def _cli(*args: str) -> str:
    result = CliRunner().invoke(cli, ["analyze", *args], prog_name="gandyn",
                                catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def _mean(support: Any) -> float:
    return float(sum(v * p for v, p in support))


def test_off_grid_equilibrium_gives_the_closed_form_mixed_one() -> None:
    vf = _pennies()
    assert not vf.game.zero_sum
    nash = global_nash(vf, UNIT_BOX, 6)
    assert nash.pure_nash == ()
    assert nash.general_sum and nash.mixed_skipped is None
    assert nash.duality_gap is None and nash.min_max is None
    mixed = nash.mixed
    assert mixed is not None and mixed.method == "lemke-howson" and mixed.value is None
    assert mixed.verified
    grid = np.linspace(0.0, 1.0, 6)
    for support in (mixed.theta, mixed.psi):
        assert sum(p for _, p in support) == pytest.approx(1.0, abs=1e-12)
        assert all(np.min(np.abs(grid - v)) < 1e-12 and p > 0 for v, p in support)
    assert _mean(mixed.theta) == pytest.approx(0.25, abs=1e-9)
    assert _mean(mixed.psi) == pytest.approx(1 / 3, abs=1e-9)
    assert mixed.cost_g == pytest.approx(-2 / 3, abs=1e-9)
    assert mixed.cost_d == pytest.approx(-3 / 4, abs=1e-9)
    # The certificate recomputed from the payoffs above: no grid point lowers either cost.
    g_cost = [sum(-p * _u_g(t, s) for s, p in mixed.psi) for t in grid]
    d_cost = [sum(-p * _u_d(t, s) for t, p in mixed.theta) for s in grid]
    assert min(g_cost) >= -2 / 3 - 1e-9 and min(d_cost) >= -3 / 4 - 1e-9
    assert mixed.deviation_gains is not None and mixed.tol is not None
    assert max(mixed.deviation_gains) <= mixed.tol


def test_equilibrium_on_the_grid_is_pure_and_no_mixed_one_is_sought() -> None:
    nash = global_nash(_pennies(), UNIT_BOX, 13)
    assert len(nash.pure_nash) == 1
    assert nash.pure_nash[0] == pytest.approx({"theta": 0.25, "psi": 1 / 3})
    assert nash.mixed is None and nash.mixed_skipped is None
    data = nash.to_dict()
    assert data["mixed"] is None and data["mixed_skipped"] is None


def test_battle_of_the_sexes_has_its_two_pure_equilibria_on_three_points() -> None:
    # Luce and Raiffa (1957), Sec. 5.3: both A and both B; the mixed one, (2/3, 1/3), is off
    # the grid {0, 1/2, 1}, and at (1/2, 1/2) each player strictly prefers a corner.
    nash = global_nash(derive(make_game(load_game_file(SEXES))), UNIT_BOX, 3)
    assert [dict(p) for p in nash.pure_nash] == [{"theta": 0.0, "psi": 0.0},
                                                 {"theta": 1.0, "psi": 1.0}]
    assert nash.mixed is None


def test_too_many_strategies_are_skipped_with_the_reason() -> None:
    # Lemke-Howson's tableaux grow with the square of m + n; 2000 + 501 > 2500 is refused.
    theta, psi = np.linspace(0.0, 1.0, 2000), np.linspace(0.0, 1.0, 501)
    zeros = np.zeros((2000, 501))
    mixed, skipped = general_sum_mixed(PayoffGrid("theta", "psi", theta, psi, zeros, zeros))
    assert mixed is None
    assert skipped == ("2000 + 501 strategies exceed the 2500 Lemke-Howson takes; give fewer "
                       "points (--grid-points)")


def test_cli_text_and_json_agree_with_the_closed_form() -> None:
    args = ("--game-file", str(PENNIES), "--box", "theta=0:1,psi=0:1", "--grid-points", "6")
    text = _cli(*args).splitlines()
    data = json.loads(_cli(*args, "--json"))
    assert "pure Nash equilibria on the grid: none (no pure Nash equilibrium in this box)" in text
    # -2/3 and -3/4 at six significant digits.
    assert (f"mixed equilibrium of the discretized game: not zero-sum (a bimatrix game), by "
            f"Lemke-Howson: expected costs generator {float(Fraction(-2, 3)):.6g}, "
            "discriminator -0.75 (one equilibrium: others may cost otherwise)") in text
    check = [line for line in text if line.startswith("  check: ")]
    assert len(check) == 1 and check[0].endswith("): an equilibrium")
    assert not any(line.startswith("zero-sum values") for line in text)

    mixed = data["mixed"]
    assert data["zero_sum"] is False and data["mixed_skipped"] is None
    assert data["duality_gap"] is None and data["pure_nash"] == []
    assert list(mixed) == ["method", "value", "cost_g", "cost_d", "deviation_gains", "tol",
                           "verified", "theta", "psi"]
    assert mixed["method"] == "lemke-howson" and mixed["value"] is None and mixed["verified"]
    assert mixed["cost_g"] == pytest.approx(-2 / 3) and mixed["cost_d"] == pytest.approx(-0.75)
    assert _mean(mixed["theta"]) == pytest.approx(0.25) and _mean(mixed["psi"]) == pytest.approx(
        1 / 3)
    assert max(mixed["deviation_gains"]) <= mixed["tol"]
    # The text lists the JSON's supports.
    theta_line = [line for line in text if line.startswith("  theta support")]
    assert theta_line == ["  theta support (value (probability)): " + ", ".join(
        f"{v:.4g} ({p:.3g})" for v, p in mixed["theta"])]

    vf = _pennies()
    analysis = analyze(vf, box=UNIT_BOX, grid_points=6,
                       spec=AnalysisSpec(game="dirac", game_file=str(PENNIES), box=UNIT_BOX,
                                         grid_points=6))
    assert analysis.global_nash is not None
    assert {k: data[k] for k in analysis.global_nash.to_dict()} == json.loads(
        json.dumps(analysis.global_nash.to_dict()))
    assert "verified" in analysis._repr_html_()


def test_zero_sum_report_keeps_its_form() -> None:
    args = ("--game", "hide-and-seek", "--box", "theta=-1:1,psi=-1:1", "--grid-points", "21")
    text = _cli(*args).splitlines()
    data = json.loads(_cli(*args, "--json"))
    start = text.index("pure Nash equilibria on the grid: none (no pure Nash equilibrium in "
                       "this box)")
    assert text[start + 1:start + 4] == [
        "zero-sum values: min-max 1, max-min 0, duality gap 1",
        "mixed equilibrium of the discretized game: value 1",
        "  theta support (value (probability)): 0 (1)",
    ]
    assert text[start + 4] == "  psi support (value (probability)): " + ", ".join(
        f"{v:.4g} ({p:.3g})" for v, p in data["mixed"]["psi"])
    assert not any("check:" in line or "Lemke-Howson" in line for line in text)
    assert "mixed_skipped" not in data
    assert list(data["mixed"]) == ["value", "theta", "psi"]
    assert data["mixed"]["value"] == pytest.approx(1.0)
    assert data["mixed"]["theta"] == [[pytest.approx(0.0, abs=1e-12), pytest.approx(1.0)]]
    (low, q_low), (high, q_high) = data["mixed"]["psi"]
    assert (low, high) == (-1.0, 1.0) and q_low + q_high == pytest.approx(1.0)
    assert 0.475 - 1e-9 <= q_high <= 0.525 + 1e-9
    analysis = analyze(derive(make_game("hide-and-seek")),
                       box={"theta": (-1.0, 1.0), "psi": (-1.0, 1.0)}, grid_points=21)
    library = analysis_text(analysis).splitlines()
    at = library.index(text[start])
    assert library[at:at + 5] == text[start:start + 5]
