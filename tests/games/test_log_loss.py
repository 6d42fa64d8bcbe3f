"""Logging one loss while training another (`simulate --log-loss`).

A book trains the minimax dynamics and plots the non-saturating g_loss: the
trajectory must be the minimax one (identical states), while the logged
terms are the non-saturating ones at the same logits: d_fake = softplus(l),
g_loss = softplus(-l), so d_fake - g_loss = l (Goodfellow 2016, Sec. 3.2.3).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from gandyn.errors import SpecError
from gandyn.runs.build import simulate


def test_the_dynamics_are_the_training_losss_and_the_log_the_other() -> None:
    start = [{"theta": 0.8, "psi": -0.6}]
    trained = simulate(loss="minimax", steps=60, starts=start)
    logged = simulate(loss="minimax", log_loss="non-saturating", steps=60, starts=start)
    np.testing.assert_array_equal(logged.trajectory.x, trained.trajectory.x)
    theta, psi = logged.trajectory.x[0, :, 0], logged.trajectory.x[0, :, 1]
    fake_logit = psi * theta  # the Dirac-GAN's logit psi x at x = theta (data at c = 0)
    np.testing.assert_allclose(logged.trajectory.loss("g_loss")[0], np.logaddexp(0, -fake_logit),
                               rtol=1e-12)
    np.testing.assert_allclose(logged.trajectory.loss("d_fake")[0],
                               trained.trajectory.loss("d_fake")[0], rtol=1e-12)
    # the minimax run logs g_loss = -d_fake
    np.testing.assert_allclose(trained.trajectory.loss("g_loss")[0],
                               -trained.trajectory.loss("d_fake")[0], rtol=1e-12)


def test_the_minibatch_mode_logs_the_other_loss_too() -> None:
    args = {"game": "gaussian", "loss": "minimax", "batch_size": 16, "seed": 4, "steps": 20,
            "lr": 0.05}
    trained = simulate(**args)
    logged = simulate(**args, log_loss="non-saturating")
    np.testing.assert_array_equal(logged.trajectory.x, trained.trajectory.x)
    d_fake, g_loss = logged.trajectory.loss("d_fake")[0], logged.trajectory.loss("g_loss")[0]
    assert not np.allclose(g_loss, trained.trajectory.loss("g_loss")[0])
    assert np.all(g_loss > 0) and np.all(d_fake > 0)  # both are softplus terms


def test_a_game_without_a_loss_has_none_to_log() -> None:
    with pytest.raises(SpecError, match="no loss to log"):
        simulate(game="bilinear", log_loss="non-saturating", steps=2)


def test_the_command_line_records_the_logged_loss_and_explain_reads_it(
        invoke: Callable[..., tuple[int, str, str]], tmp_path: Path) -> None:
    run = tmp_path / "run.npz"
    code, out, err = invoke("simulate", "--loss", "minimax", "--log-loss", "ns", "--steps",
                            "80", "--out", str(run))
    assert code == 0, err
    assert out.startswith("dirac / minimax (logged as non-saturating) / simgd")
    import json

    sidecar = json.loads(run.with_name("run.npz.meta.json").read_text())
    assert sidecar["spec"]["game"]["log_loss"] == "ns"
    code, out, err = invoke("explain", "--log", str(run), "--json")
    assert code == 0, err
    assert json.loads(out)["relations"]["loss"] == "non-saturating"
    code, out, err = invoke("simulate", "--spec", str(run.with_name("run.npz.meta.json")),
                            "--dump-spec")
    assert code == 0 and 'log_loss = "ns"' in out
