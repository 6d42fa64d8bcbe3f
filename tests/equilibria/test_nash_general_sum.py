"""``analyze --nash`` on general-sum games: the discretized bimatrix game's mixed equilibrium.

* ``examples/battle-of-the-sexes.toml``: ``theta, psi in [0, 1]`` are the
  probabilities of option A, the costs minus the expected payoffs of the
  battle of the sexes (Luce and Raiffa 1957, Sec. 5.3: (2, 1) on (A, A), (1,
  2) on (B, B), (0, 0) otherwise). The costs are bilinear, so on the grid of
  the box's ends the discretized game is that 2 x 2 game, with pure
  equilibria of costs (-2, -1) and (-1, -2) (both A, both B) and the mixed
  one, G on A with 2/3, D with 1/3. On 4 points per axis (0, 1/3, 2/3, 1)
  that mixed equilibrium is the grid point (2/3, 1/3): at ``psi = 1/3`` G's
  cost ``-(2 theta / 3 + 2 (1 - theta) / 3) = -2/3`` does not depend on
  ``theta``, at ``theta = 2/3`` D's cost ``-(2 psi / 3 + 2 (1 - psi) / 3)``
  does not depend on ``psi``; so the grid has 3 pure equilibria, and the
  continuous game the same three.
* The two-point GAN with a Gaussian-bump discriminator under the
  non-saturating loss (general-sum): no closed form; the Lemke-Howson
  strategies are checked against a cost table evaluated here directly, and
  the deviation gains recomputed in plain numpy.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from gandyn.cli import cli
from gandyn.derivation.field import derive
from gandyn.equilibria.nash_existence import (
    DiscretizedGame,
    GameInBox,
    discretize,
    game_in_box,
    solve_discretized,
)
from gandyn.games.files import load_game_file
from gandyn.games.game import make_game

SEXES = Path(__file__).resolve().parents[2] / "examples" / "battle-of-the-sexes.toml"
PURE_COSTS = {(-2.0, -1.0), (-1.0, -2.0)}


def sexes_game(points: int) -> tuple[GameInBox, DiscretizedGame]:
    vf = derive(make_game(load_game_file(SEXES)))
    game = game_in_box(vf, {"theta": (0.0, 1.0), "psi": (0.0, 1.0)})
    return game, discretize(game, points)


def test_two_points_per_axis_is_the_bimatrix_game() -> None:
    game, disc = sexes_game(2)
    assert not game.zero_sum
    assert disc.grid.cost_g == pytest.approx(-np.array([[1.0, 0.0], [0.0, 2.0]]))
    assert disc.grid.cost_d == pytest.approx(-np.array([[2.0, 0.0], [0.0, 1.0]]))
    solved = solve_discretized(game, disc)
    assert solved.method == "lemke-howson" and solved.verified
    assert solved.pure_equilibria == 2
    # Lemke-Howson ends at an index +1 equilibrium: a pure one (Shapley 1974).
    assert (solved.cost_g, solved.cost_d) in PURE_COSTS
    assert solved.value is None and solved.min_max is None


def test_four_points_per_axis_hold_the_mixed_equilibrium_as_a_grid_point() -> None:
    game, disc = sexes_game(4)
    solved = solve_discretized(game, disc)
    assert solved.pure_equilibria == 3
    assert solved.verified


def test_cli_end_to_end_text_and_json() -> None:
    args = ["analyze", "--game-file", str(SEXES), "--nash", "--nash-grid", "2", "--n-starts", "4",
            "--box", "theta=0:1,psi=0:1"]
    result = CliRunner().invoke(cli, [*args, "--json"], prog_name="gandyn")
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)["nash_existence"]
    assert record["zero_sum"] is False
    point = (record["pure"]["point"]["theta"], record["pure"]["point"]["psi"])
    assert record["pure"]["verdict"] == "exists"
    assert any(np.allclose(point, known, atol=1e-6)
               for known in ((0.0, 0.0), (1.0, 1.0), (2 / 3, 1 / 3)))
    mixed = record["discretized"]["mixed"]
    assert mixed["method"] == "lemke-howson" and mixed["verified"] is True
    assert (mixed["cost_g"], mixed["cost_d"]) in PURE_COSTS
    assert max(mixed["deviation_gains"]) <= mixed["tol"]
    assert record["discretized"]["mixed_skipped"] is None
    text = CliRunner().invoke(cli, args, prog_name="gandyn")
    assert text.exit_code == 0, text.stderr
    assert "not zero-sum (a bimatrix game): a mixed equilibrium by Lemke-Howson" in text.stdout
    assert ": an equilibrium" in text.stdout


def test_non_saturating_gan_strategies_are_an_equilibrium_of_the_cost_table() -> None:
    vf = derive(make_game("two-point-bump", "non-saturating"))
    assert not vf.game.zero_sum
    box = {"theta": (-2.0, 2.0), "psi": (-2.0, 2.0)}
    game = game_in_box(vf, box)
    solved = solve_discretized(game, discretize(game, 21))
    assert solved.method == "lemke-howson" and solved.verified
    assert solved.pure_equilibria == 0
    # The table again, state by state from the derived costs, and the gains in plain numpy.
    axis = np.linspace(-2.0, 2.0, 21)
    states = np.stack(np.meshgrid(axis, axis, indexing="ij"), axis=-1)
    costs = np.asarray(vf.costs_fn(states, None))
    p, q = np.zeros(21), np.zeros(21)
    for s, w in solved.theta_support:
        p[int(np.argmin(np.abs(axis - s["theta"])))] = w
    for s, w in solved.psi_support:
        q[int(np.argmin(np.abs(axis - s["psi"])))] = w
    g_rows, d_cols = costs[..., 0] @ q, p @ costs[..., 1]
    assert p @ costs[..., 0] @ q == pytest.approx(solved.cost_g, abs=1e-9)
    assert p @ costs[..., 1] @ q == pytest.approx(solved.cost_d, abs=1e-9)
    assert p @ g_rows - g_rows.min() <= 1e-7
    assert d_cols @ q - d_cols.min() <= 1e-7


def test_too_large_a_bimatrix_game_is_skipped_with_a_reason(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import gandyn.equilibria.nash_existence as module

    monkeypatch.setattr(module, "MAX_STRATEGIES", 5)
    game, disc = sexes_game(4)
    solved = solve_discretized(game, disc)
    assert solved.method is None and solved.skipped is not None and "--nash-grid" in solved.skipped
    assert solved.to_dict()["mixed"] is None
