"""The order ``order=auto`` chose is reported by derive, simulate and analyze.

The Dirac-GAN with instance noise keeps one Gauss-Hermite rule over the noise, cheap to
derive; the order reported must be the one in the expressions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest

from gandyn.games.game import make_game
from gandyn.games.regularizers import apply_values, get_regularizer
from gandyn.symbolic.expectations import GaussHermite

Invoke = Callable[..., tuple[int, str, str]]
NOISE = "instance-noise:sigma=0.5,order=auto"


def _chosen() -> int:
    game = make_game("dirac", "minimax",
                     [apply_values(get_regularizer("instance-noise"),
                                   {"sigma": 0.5, "order": "auto"})])
    assert game.quadrature is not None and game.quadrature.met
    used = {int(q.args[2]) for e in (game.cost_g, game.cost_d)
            for q in e.atoms(GaussHermite)}
    assert used == {game.quadrature.order}
    return game.quadrature.order


def test_derive_prints_and_writes_the_order_used(invoke: Invoke) -> None:
    order = _chosen()
    code, out, err = invoke("derive", "--reg", NOISE, "--solve-timeout", "0")
    assert code == 0, err
    assert re.search(rf"^  quadrature: Gauss order {order} \(auto: change .* <= tolerance 1e-09",
                     out, flags=re.M)
    code, out, err = invoke("derive", "--reg", NOISE, "--solve-timeout", "0", "--format", "json")
    data = json.loads(out)
    assert data["quadrature"]["order"] == order and data["quadrature"]["met"]
    assert data["regularizers"][0]["options"] == {"order": "auto"}
    assert "GaussHermite(" in data["cost_d"] and f", {order})" in data["cost_d"]


def test_simulate_reports_the_order_used(invoke: Invoke) -> None:
    order = _chosen()
    code, out, err = invoke("simulate", "--reg", NOISE, "--steps", "5", "--json")
    assert code == 0, err
    assert json.loads(out)["quadrature"]["order"] == order


@pytest.mark.slow  # analyze searches for the roots of a quadrature field: ten seconds
def test_analyze_reports_the_order_used(invoke: Invoke) -> None:
    order = _chosen()
    code, out, err = invoke("analyze", "--reg", NOISE, "--json")
    assert code == 0, err
    assert json.loads(out)["quadrature"]["order"] == order
    code, out, err = invoke("analyze", "--reg", NOISE)
    assert f"quadrature: Gauss order {order} " in out


def test_given_orders_report_nothing(invoke: Invoke) -> None:
    code, out, err = invoke("derive", "--reg", "instance-noise:order=5", "--format", "json",
                            "--solve-timeout", "0")
    assert code == 0, err
    assert json.loads(out)["quadrature"] is None
