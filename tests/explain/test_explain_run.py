"""``explain_run``: a simulated run handed over by the caller, its law and its period."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest

from gandyn.derivation.field import VectorField, derive
from gandyn.dynamics.flow import simulate_flow
from gandyn.dynamics.trajectory import Trajectory
from gandyn.explain import DivergedRunError, ExplainError, explain_run
from gandyn.explain.from_run import single_fake_logit
from gandyn.games.game import make_game
from gandyn.games.regularizers import apply_values, get_regularizer

GAMMA = 0.1


def dirac_field(gamma: float = GAMMA) -> VectorField:
    reg = apply_values(get_regularizer("r1"), {"gamma": gamma})
    return derive(make_game("dirac", "non-saturating", [reg]))


def flow_run(field: VectorField) -> Trajectory:
    return simulate_flow(field.field_fn, field.jacobian_fn, field.logged_fn,
                         np.array([[0.3, 0.3]]), t_end=120.0, n_eval=4001,
                         state_names=("theta", "psi"), logged_names=field.logged_names)


def test_dirac_flow_law_and_period() -> None:
    field = dirac_field()
    run = flow_run(field)
    model = field.game.definition.model
    explained = explain_run(run, field, model=model)
    # One fake logit psi*theta, exact expectations: the exact (1e-3) check, which passes.
    assert single_fake_logit(model, None)
    assert explained.report.consistency["tol"] == 1e-3 and explained.report.consistent
    # Mescheder et al. (2018), Sec. 4.1: eigenvalues -gamma/2 +- i sqrt(1/4 - gamma^2/4) at
    # the origin; the losses, quadratic in the deviation, oscillate at twice that frequency.
    dynamics = explained.dynamics
    assert dynamics is not None
    omega = math.sqrt(0.25 - GAMMA**2 / 4)
    assert dynamics["omega"] == pytest.approx(omega, rel=1e-10)
    assert dynamics["damping"] == pytest.approx(GAMMA / 2, rel=1e-10)
    assert dynamics["equilibrium"] == {"theta": 0.0, "psi": 0.0}
    assert dynamics["harmonic"] == 2
    assert dynamics["measured_period"] == pytest.approx(math.pi / omega, rel=0.03)
    # The JSON document: plain data, eigenvalue as [re, im], harmonics as string keys.
    data = explained.to_dict()
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    assert data["dynamics"]["eigenvalue"] == pytest.approx([-GAMMA / 2, omega], rel=1e-10)
    assert set(data["dynamics"]["relative_errors"]) == {"1", "2"}
    assert data["source"] == {"kind": "simulation"}
    assert " ".join(explained.to_text().split()).endswith(dynamics["note"])
    # The one-line verdict, then relations, report, verdict and period paragraphs.
    text = explained.to_text()
    assert text.count("\n\n") == 4
    assert text.split("\n")[0] == explained.headline()
    assert max(len(line) for line in text.split("\n")[1:]) <= 88
    np.testing.assert_array_equal(explained.g_loss, run.loss("g_loss")[0])


def test_single_logit_needs_a_point_mass_and_exact_expectations() -> None:
    dirac = make_game("dirac", "non-saturating").definition.model
    gaussian = make_game("gaussian", "non-saturating").definition.model
    assert single_fake_logit(dirac, None)
    assert not single_fake_logit(dirac, 32)  # minibatches: independent noise
    assert not single_fake_logit(gaussian, None)  # a spread of logits over z
    assert not single_fake_logit(None, None)


def test_minibatch_runs_use_the_sampled_tolerance_and_batch_sizes() -> None:
    field = dirac_field()
    run = flow_run(field)
    explained = explain_run(run, field, model=field.game.definition.model, batch_size=16)
    assert explained.report.consistency["tol"] == 0.05
    # gandyn draws independent batches of one size for both players: the sampling law.
    assert "sampling" in explained.report.std_ratio_predicted
    with pytest.raises(ExplainError, match="batch_size"):
        explain_run(run, field, batch_size=16, batch_sizes=(16, 16))


def test_diverged_runs_and_other_losses_are_refused() -> None:
    field = dirac_field()
    run = flow_run(field)
    diverged = replace(run, diverged=np.array([True]), diverged_at=np.array([12.0]))
    with pytest.raises(DivergedRunError, match=r"diverged at step 12$") as info:
        explain_run(diverged, field)
    assert info.value.step == 12.0
    with pytest.raises(ExplainError, match="cross-entropy"):
        explain_run(run, field, loss="lsgan")
