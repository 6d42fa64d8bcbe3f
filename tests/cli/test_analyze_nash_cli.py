"""``gandyn analyze --nash``: the verdict, the cycle and the mixed value, in text and JSON.

The game is hide and seek in the plane (``examples/hide-and-seek-2d.toml``),
``V = |theta - psi|**2`` on ``[-1, 1]**2`` per player: ``min max = 2``,
``max min = 0``, so no pure Nash equilibrium and a smallest gap of 2 at the
centre; the mixed value is 2 (derivation in
``tests/equilibria/test_nash_existence.py``).
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from gandyn.cli import cli

GAME = str(Path(__file__).resolve().parents[2] / "examples" / "hide-and-seek-2d.toml")
BOX = "theta_1=-1:1,theta_2=-1:1,psi_1=-1:1,psi_2=-1:1"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["analyze", "--game-file", GAME, *args], prog_name="gandyn")
    return result.exit_code, result.stdout, result.stderr


def test_text_gives_verdict_cycle_and_mixed_value() -> None:
    code, out, err = run("--nash", "--nash-grid", "3", "--n-starts", "8", "--box", BOX)
    assert code == 0, err
    assert "pure Nash equilibrium: none found in the box" in out
    assert "smallest Nikaido-Isoda gap found is 2 >" in out
    assert "best-response dynamics: a cycle of 2 rounds" in out
    assert "min-max 2, max-min 0, duality gap 2; mixed equilibrium value 2" in out


def test_json_holds_the_nash_existence_record() -> None:
    code, out, err = run("--nash", "--nash-grid", "3", "--n-starts", "8", "--box", BOX, "--json")
    assert code == 0, err
    record = json.loads(out)["nash_existence"]
    assert record["zero_sum"] is True
    assert record["pure"]["verdict"] == "none-found"
    assert abs(record["pure"]["gap"] - 2.0) < 1e-7
    assert abs(record["pure"]["values"]["min_max"] - 2.0) < 1e-7
    assert abs(record["pure"]["values"]["max_min"]) < 1e-7
    assert record["best_response_dynamics"]["outcome"] == "cycle"
    assert record["best_response_dynamics"]["cycle_length"] == 2
    mixed = record["discretized"]["mixed"]
    assert abs(mixed["value"] - 2.0) < 1e-9
    assert mixed["theta"] == [[{"theta_1": 0.0, "theta_2": 0.0}, 1.0]]
    assert record["discretized"]["strategies"] == [9, 9]


def test_without_nash_the_json_has_no_record() -> None:
    code, out, err = run("--box", BOX, "--json")
    assert code == 0, err
    assert "nash_existence" not in json.loads(out)


def test_bad_input_gives_one_line() -> None:
    code, out, err = run("--nash", "--box", "theta_1=-1:1,theta_2=-1:1,psi_1=-1:1")
    assert code != 0 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "psi_2" in lines[0] and "Traceback" not in err
    code, _, err = run("--nash", "--nash-grid", "1", "--box", BOX)
    assert code != 0 and "--nash-grid" in err
    code, _, err = run("--nash", "--nash-grid", "201", "--box", BOX)
    assert code != 0 and len(err.strip().splitlines()) == 1 and "--nash-grid" in err


def test_two_point_wasserstein_game_against_the_nonparametric_critic() -> None:
    # Data +-1: the linear critic's game has a pure equilibrium at (0, 0), the full 1-Lipschitz
    # critic's has none (gap >= min_theta W1 = min_theta max(|theta|, 1) = 1), mixed value 0.
    result = CliRunner().invoke(cli, ["analyze", "--game", "two-point", "--loss", "wasserstein",
                                      "--nash", "--nash-grid", "5", "--n-starts", "8", "--box",
                                      "theta=-2:2,psi=-1:1", "--json"], prog_name="gandyn")
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)["nash_existence"]
    assert record["pure"]["verdict"] == "exists"
    assert [record["pure"]["point"][k] for k in ("theta", "psi")] == [0.0, 0.0] or max(
        abs(v) for v in record["pure"]["point"].values()) < 1e-6
    critic = record["nonparametric_critic"]
    assert critic["data"] == [-1.0, 1.0] and critic["pure_nash"] is False
    assert abs(critic["min_max"] - 1.0) < 1e-9 and critic["max_min"] == 0.0
    assert critic["mixed_value"] == 0.0
    assert critic["best_responses"]["cycle_length"] == 2
    code, out, _ = run("--nash", "--nash-grid", "3", "--n-starts", "4", "--box", BOX, "--json")
    assert code == 0 and json.loads(out)["nash_existence"]["nonparametric_critic"] is None
