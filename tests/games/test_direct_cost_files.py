"""Game files that write the players' costs directly: a zero-sum value, or each player's cost.

The derived field is checked against the costs differentiated by hand, the
critical time-scale ratio of the example against the Routh-Hurwitz condition
of its characteristic polynomial (exact, with sympy), and every malformed file
against its one-line message.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from gandyn.derivation.field import derive
from gandyn.errors import GameFileError
from gandyn.games.files import load_game_file
from gandyn.games.game import make_game

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
VALUE = EXAMPLES / "zero-sum-value.toml"
COSTS = EXAMPLES / "custom-costs.toml"


def _write(tmp_path: Path, text: str, name: str = "g.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_value_makes_a_zero_sum_game_with_several_generator_parameters() -> None:
    game = make_game(load_game_file(VALUE))
    assert game.zero_sum and [s.name for s in game.theta] == ["theta_1", "theta_2"]
    t1, t2, p = sp.symbols("theta_1 theta_2 psi", real=True)
    value = -t1**2 / 2 + t2**2 / 2 + sp.Rational(3, 2) * t1 * p + t2 * p - p**2 / 8
    vf = derive(game)
    by_hand = [-sp.diff(value, t1), -sp.diff(value, t2), sp.diff(value, p)]
    names = {s.name: s for s in game.state_symbols}
    for got, expected in zip(vf.field, by_hand, strict=True):
        mapped = expected.subs({t1: names["theta_1"], t2: names["theta_2"], p: names["psi"]})
        assert sp.simplify(got - mapped) == 0


def test_the_examples_critical_ratio_is_the_routh_hurwitz_one() -> None:
    # det(s I - J_tau) = s^3 + a1 s^2 + a2 s + a3 is stable iff a1, a3 > 0 and a1 a2 > a3
    # (Routh-Hurwitz for a cubic); its boundary in tau is exact here.
    from gandyn.equilibria.timescales import critical_ratios

    vf = derive(make_game(load_game_file(VALUE)))
    jac = vf.jacobian_fn(np.zeros(3))
    tau, s = sp.symbols("tau s", positive=True)
    matrix = sp.diag(1, 1, tau) * sp.Matrix(3, 3, [sp.nsimplify(v) for v in jac.ravel()])
    _, a1, a2, a3 = sp.Poly((s * sp.eye(3) - matrix).det(), s).all_coeffs()
    boundary = [r for r in sp.solve(sp.Eq(a1 * a2, a3), tau) if r.is_positive]
    assert boundary == [sp.Rational(20, 13)]
    assert critical_ratios(jac, 2) == pytest.approx([20 / 13], rel=1e-10)


def test_each_players_cost_makes_a_general_sum_game() -> None:
    game = make_game(load_game_file(COSTS))
    assert not game.zero_sum
    theta, psi = game.theta[0], game.psi[0]
    k = next(p.symbol for p in game.params if p.name == "k")
    assert sp.simplify(game.cost_g - (k * theta**2 + theta * psi + psi)) == 0
    assert sp.simplify(game.cost_d - (psi - theta**2) ** 2 / 2) == 0
    assert dict(game.logged)["g_loss"] == game.cost_g


@pytest.mark.parametrize(("text", "message"), [
    ('value = "theta * psi"\n[generator]\nparameters = ["theta"]\ncost = "theta"\n'
     '[discriminator]\nparameters = ["psi"]\n', "'value' both given"),
    ('[generator]\nparameters = ["theta"]\ncost = "theta * psi"\nsample = "theta"\n'
     '[discriminator]\nparameters = ["psi"]\ncost = "psi"\n', "has both 'sample' and costs"),
    ('[generator]\nparameters = ["theta"]\ncost = "theta * psi"\n'
     '[discriminator]\nparameters = ["psi"]\ncost = "psi**2"\n[data]\npoints = [0]\n',
     "[data] describes a GAN model"),
    ('[generator]\nparameters = ["theta"]\ncost = "theta * psi"\n'
     '[discriminator]\nparameters = ["psi"]\n', "[discriminator] needs 'cost'"),
    ('[generator]\nparameters = ["theta"]\ncost = "psi**2"\n'
     '[discriminator]\nparameters = ["psi"]\ncost = "psi * theta"\n',
     "generator's cost does not depend on any generator parameter"),
    ('value = "theta * psi * x"\n[generator]\nparameters = ["theta"]\n'
     '[discriminator]\nparameters = ["psi"]\n', "name 'x' is not allowed"),
    ('value = "__import__(\'os\')"\n[generator]\nparameters = ["theta"]\n'
     '[discriminator]\nparameters = ["psi"]\n', "value"),
    ('value = "exp(exp(exp(exp(exp(theta * psi)))))"\n[generator]\nparameters = ["theta"]\n'
     '[discriminator]\nparameters = ["psi"]\n', "MAX_FUNCTION_NESTING"),
])
def test_malformed_direct_files_are_refused_in_one_line(tmp_path: Path, text: str,
                                                        message: str) -> None:
    with pytest.raises(GameFileError) as info:
        load_game_file(_write(tmp_path, text))
    shown = str(info.value)
    assert shown.startswith("game file ") and "\n" not in shown
    assert message in shown


def test_a_loss_does_not_apply_to_direct_costs(
        invoke: Callable[..., tuple[int, str, str]]) -> None:
    code, _, err = invoke("derive", "--game-file", str(VALUE), "--loss", "minimax")
    assert code == 1 and "defines its costs directly" in err and err.count("\n") == 1


def test_the_command_line_analyzes_and_simulates_a_direct_file(
        invoke: Callable[..., tuple[int, str, str]]) -> None:
    code, out, err = invoke("analyze", "--game-file", str(VALUE), "--json")
    assert code == 0, err
    import json

    found = json.loads(out)["equilibria"]
    assert [e["point"] for e in found] == [{"theta_1": 0.0, "theta_2": 0.0, "psi": 0.0}]
    assert found[0]["nash"] == "not-nash"
    code, out, err = invoke("simulate", "--game-file", str(VALUE), "--optimizer", "flow",
                            "--lr-g", "1", "--lr-d", "2", "--t-end", "60")
    assert code == 0, err
    assert "no run diverged" in out
