"""Tests of gandyn.explain against independent references.

* Symbolic identities are checked after rewriting gandyn's softplus/sigmoid to
  ``exp``/``log`` (sympy's own functions, not gandyn's derivative rules).
* Series are built in numpy from a known logit ``l_t`` (``np.logaddexp``), so the
  expected ratio ``exp(-m)`` and the regime fractions are known in advance.
* The Dirac-GAN with R1 has flow eigenvalues ``-gamma/2 +- i sqrt(1/4 - gamma^2/4)``
  (Mescheder, Geiger and Nowozin 2018, Sec. 4.1).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import sympy as sp

from gandyn.explain import analyze_series, dynamics_prediction, logit_relations
from gandyn.symbolic.functions import sigmoid, softplus


def _sp(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.logaddexp(0.0, x)
    return out


def _zero(expr: sp.Expr) -> bool:
    return bool(sp.simplify(sp.expand_log(expr.rewrite(sp.exp), force=True)) == 0)


# --- 1. symbolic relations ---------------------------------------------------------------------


def test_non_saturating_identities() -> None:
    r = logit_relations("non-saturating")
    lg, p = r.logit, r.p
    assert _zero(r.d_fake - r.g_loss - lg)
    assert _zero(r.difference - lg)
    assert _zero(r.dd_dl - 1 / (1 + sp.exp(-lg)))
    assert _zero(r.dg_dl + (1 - 1 / (1 + sp.exp(-lg))))
    assert sp.simplify(r.dd_dp - 1 / (1 - p)) == 0
    assert sp.simplify(r.dg_dp + 1 / p) == 0
    # The ratio of the slopes is exp(-l) = (1-p)/p.
    assert _zero(sp.Abs(r.dg_dl).rewrite(sp.exp) / r.dd_dl.rewrite(sp.exp) - r.std_ratio_l)
    assert sp.simplify(r.std_ratio_p.subs(p, 1 / (1 + sp.exp(-lg))) - sp.exp(-lg)) == 0
    # The p-forms equal the l-forms at p = sigmoid(l).
    sig = 1 / (1 + sp.exp(-lg))
    for x in (-3.0, 0.5, 4.0):
        assert float(r.d_fake_p.subs(p, sig).subs(lg, x)) == pytest.approx(
            float(r.d_fake.subs(lg, x)), rel=1e-12)
        assert float(r.g_loss_p.subs(p, sig).subs(lg, x)) == pytest.approx(
            float(r.g_loss.subs(lg, x)), rel=1e-12)
    assert "exp(-l)" in r.strings["std_ratio"]
    text = r.to_text()
    assert "linearization" in text and "p -> 0" in text
    json.dumps(r.to_dict())


def test_minimax_identities() -> None:
    r = logit_relations("saturating")
    assert r.loss == "minimax"
    assert r.g_loss == -softplus(r.logit)
    assert r.dg_dl == -sigmoid(r.logit)
    assert r.std_ratio_l == 1 and r.std_ratio_p == 1
    assert "exactly" in r.to_text()


def test_unknown_loss() -> None:
    with pytest.raises(ValueError, match="not supported"):
        logit_relations("wasserstein")


# --- 2. series ---------------------------------------------------------------------------------


@pytest.mark.parametrize("m", [-4.0, 0.0, 3.0])
def test_small_fluctuation_ratio_is_exp_minus_m(m: float) -> None:
    t = np.arange(4000) * 0.05
    errors = []
    for s in (0.2, 0.02, 0.002):
        lg = m + s * np.sin(t)
        r = analyze_series(_sp(lg), _sp(-lg))
        assert r.consistent and r.reason == ""
        err = abs(r.std_ratio_measured["raw"] / math.exp(-m) - 1)
        # First-order law: the error is O(s) (second-order term / first-order term).
        assert err < 0.6 * s
        assert r.law_holds
        errors.append(err)
    assert errors[2] < errors[1] < errors[0] or errors[0] < 1e-9
    assert r.mean_l == pytest.approx(m, abs=1e-3)
    assert r.mean_p == pytest.approx(1 / (1 + math.exp(-m)), rel=1e-3)


def test_seeded_noise_ratio() -> None:
    rng = np.random.default_rng(1)
    lg = -4.0 + 0.01 * rng.standard_normal(3000)
    r = analyze_series(_sp(lg), _sp(-lg))
    for est in ("raw", "detrended", "diff"):
        assert r.std_ratio_measured[est] == pytest.approx(math.exp(4.0), rel=0.02)
    for est in ("mean-p", "per-step", "per-step-diff"):
        assert r.std_ratio_predicted[est] == pytest.approx(math.exp(4.0), rel=0.02)


def test_tiny_d_fake_is_recovered_precisely() -> None:
    # p ~ 1e-20: 1 - exp(-d_fake) and log(expm1(d_fake)) keep full precision.
    lg = -46.0 + 0.1 * np.sin(np.arange(500) * 0.1)
    r = analyze_series(_sp(lg), _sp(-lg))
    assert r.consistent
    assert r.mean_l == pytest.approx(-46.0, abs=1e-3)
    assert r.std_ratio_predicted["per-step"] == pytest.approx(
        r.std_ratio_measured["detrended"], rel=1e-2)


def test_large_swings_per_step_beats_mean_p() -> None:
    # A slow swing of l from -5 to +2 (p from 0.007 to 0.88) plus small fast noise.
    rng = np.random.default_rng(0)
    n = 6000
    slow = -1.5 + 3.5 * np.sin(2 * np.pi * np.arange(n) / n)
    lg = slow + 0.02 * rng.standard_normal(n)
    r = analyze_series(_sp(lg), _sp(-lg), window=31)
    measured = r.std_ratio_measured["detrended"]
    assert r.std_ratio_predicted["per-step"] == pytest.approx(measured, rel=0.02)
    assert r.std_ratio_predicted["per-step-diff"] == pytest.approx(
        r.std_ratio_measured["diff"], rel=0.02)
    # The mean-p estimator is off by about 20 %, ten times the per-step error.
    assert abs(r.relative_error["mean-p"]) > 0.15
    assert abs(r.relative_error["per-step"]) < 0.02
    # Small fluctuations: the averaged slopes the verdict judges equal the per-step ones.
    assert abs(r.relative_error["local-mean-p"]) < 0.02
    assert r.law_holds and r.judged_by == "local-mean-p"
    assert "biased" in r.to_text()


def test_regime_fractions() -> None:
    # 300 steps at p = 0.1, 500 at p = 0.5, 200 at p = 0.9 (plus tiny noise).
    p = np.concatenate([np.full(300, 0.1), np.full(500, 0.5), np.full(200, 0.9)])
    lg = np.log(p / (1 - p)) + 1e-4 * np.sin(np.arange(p.size))
    r = analyze_series(_sp(lg), _sp(-lg))
    assert r.regime_fractions == pytest.approx(
        {"discriminator winning": 0.3, "balanced": 0.5, "generator winning": 0.2})
    r2 = analyze_series(_sp(lg), _sp(-lg), thresholds=(0.05, 0.95))
    assert r2.regime_fractions["balanced"] == pytest.approx(1.0)


def test_consistency_flags_different_series() -> None:
    rng = np.random.default_rng(2)
    l1 = -2.0 + 0.3 * rng.standard_normal(1000)
    l2 = -2.0 + 0.3 * rng.standard_normal(1000)
    r = analyze_series(_sp(l1), _sp(-l2))
    assert not r.consistent and r.law_holds is None
    # Independent logits make d_fake + g_loss fall below what any one set of logits allows.
    assert "below the least value" in r.reason
    assert r.consistency["min_jensen_excess"] < -0.1
    assert "cannot be tested" in r.to_text()


def test_consistency_flags_before_after_update_shift() -> None:
    # g_loss logged one step later than d_fake (after the update).
    t = np.arange(2001) * 0.05
    lg = -3.0 + 0.5 * np.sin(t)
    r = analyze_series(_sp(lg[:-1]), _sp(-lg[1:]))
    assert not r.consistent
    assert r.consistency["max_abs_diff_p"] > 1e-3


def test_measured_before_update_pairs_g_loss_with_next_d_fake() -> None:
    # g_loss[k] describes the logit d_fake sees one step later: paired, the shift vanishes.
    t = np.arange(2001) * 0.05
    lg = -3.0 + 0.5 * np.sin(t)
    r = analyze_series(_sp(lg[:-1]), _sp(-lg[1:]), single_logit=True, measured_before_update=True)
    assert r.consistent and r.n == 1999
    assert r.consistency["max_jensen_excess"] < 1e-12
    # step-to-step changes are small, so the differential law is accurate there
    assert abs(r.relative_error["per-step-diff"]) < 0.01
    unpaired = analyze_series(_sp(lg[:-1]), _sp(-lg[1:]), single_logit=True)
    assert not unpaired.consistent


def _batch_losses(means: np.ndarray, spread: float, batch: int,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Batch means of d_fake, g_loss and D(G(z)) over ``batch`` logits per step."""
    logits = means[:, None] + spread * rng.standard_normal((means.size, batch))
    return (np.mean(_sp(logits), axis=1), np.mean(_sp(-logits), axis=1),
            np.mean(1 / (1 + np.exp(-logits)), axis=1))


def test_spread_of_logits_is_consistent_and_measured() -> None:
    # One batch of spread logits per step: exp(-g_loss) and 1 - exp(-d_fake) differ by
    # Jensen's inequality (here by ~0.05), yet the pair is consistent, and the excess of
    # d_fake + g_loss over its single-logit value measures the spread: ~ p (1 - p) var(l).
    rng = np.random.default_rng(7)
    means = -1.0 + 0.3 * np.sin(np.arange(3000) * 0.02)
    d, g, gz = _batch_losses(means, 0.5, 256, rng)
    r = analyze_series(d, g, d_gz=gz, tol=1e-3)
    assert r.consistency["max_abs_diff_p"] > 0.03  # the old single-p check would refuse it
    assert r.consistent, r.reason
    assert r.consistency["min_jensen_excess"] > 0
    assert r.consistency["implied_logit_spread"] == pytest.approx(0.5, rel=0.1)
    # The exact mean logit: d_fake - g_loss.
    assert r.mean_l == pytest.approx(float(np.mean(means)), abs=0.05)
    # Claimed to be one logit, the same pair is refused.
    single = analyze_series(d, g, tol=1e-3, single_logit=True)
    assert not single.consistent and "single-logit" in single.reason


def test_mismatch_that_raises_g_loss_dgz_is_flagged() -> None:
    # g_loss computed with a discriminator whose fake logits are 0.3 higher (e.g. BatchNorm
    # in another mode): d_fake + g_loss drops below any one batch's bound.
    rng = np.random.default_rng(8)
    means = -2.0 + 0.3 * np.sin(np.arange(2000) * 0.02)
    d, _, _ = _batch_losses(means, 0.3, 128, rng)
    _, g, _ = _batch_losses(means + 0.3, 0.3, 128, rng)
    r = analyze_series(d, g, tol=1e-3)
    assert not r.consistent and "below the least value" in r.reason


def test_jensen_excess_zero_for_one_logit_and_nonnegative() -> None:
    from gandyn.explain.batch import _jensen_excess

    lg = np.linspace(-1000, 1000, 20001)
    e = _jensen_excess(_sp(lg), _sp(-lg))
    assert np.all(np.isfinite(e)) and np.max(np.abs(e)) < 1e-12
    rng = np.random.default_rng(9)
    logits = rng.normal(0, 3, (500, 7))
    e2 = _jensen_excess(np.mean(_sp(logits), 1), np.mean(_sp(-logits), 1))
    assert np.all(e2 >= -1e-12)


def test_consistency_with_d_gz() -> None:
    t = np.arange(1000) * 0.05
    lg = -1.0 + 0.2 * np.sin(t)
    p = 1 / (1 + np.exp(-lg))
    ok = analyze_series(_sp(lg), _sp(-lg), d_gz=p, d_real=_sp(-lg))
    assert ok.consistent and ok.consistency["max_d_gz_outside"] < 1e-12
    assert ok.mean_p_real is not None
    bad = analyze_series(_sp(lg), _sp(-lg), d_gz=p[::-1])
    assert not bad.consistent and "d_gz" in bad.reason
    d = ok.to_dict()
    json.dumps(d)
    assert set(d["std_ratio_predicted"]) >= {"mean-p", "per-step"}
    assert set(d["std"]) == {"d_fake", "g_loss"}


def test_minimax_ratio_exactly_one() -> None:
    rng = np.random.default_rng(3)
    lg = -3.0 + 1.5 * rng.standard_normal(2000)
    r = analyze_series(_sp(lg), -_sp(lg), loss="minimax")
    assert r.consistent
    for v in r.std_ratio_measured.values():
        assert v == pytest.approx(1.0, rel=1e-12)
    assert set(r.std_ratio_predicted.values()) == {1.0}
    assert r.law_holds


def test_input_validation() -> None:
    with pytest.raises(ValueError, match="length"):
        analyze_series(np.ones(100), np.ones(99))
    with pytest.raises(ValueError, match="steps"):
        analyze_series(np.ones(5), np.ones(5))
    with pytest.raises(ValueError, match="non-finite"):
        analyze_series(np.full(100, np.nan), np.ones(100))


# --- 3. dynamics -------------------------------------------------------------------------------


@pytest.mark.parametrize("gamma", [0.1, 0.2])
def test_dirac_period_matches_eigenvalues(gamma: float) -> None:
    from gandyn.derivation.field import derive
    from gandyn.dynamics.flow import simulate_flow
    from gandyn.equilibria import flow_stability
    from gandyn.games.game import make_game
    from gandyn.games.regularizers import apply_values, get_regularizer

    reg = apply_values(get_regularizer("r1"), {"gamma": gamma})
    vf = derive(make_game("dirac", "non-saturating", [reg]))
    eig = flow_stability(vf.jacobian_fn(np.zeros(2))).eigenvalues
    omega = math.sqrt(0.25 - gamma**2 / 4)  # M18 Sec. 4.1
    np.testing.assert_allclose(np.sort(np.abs(eig.imag)), [omega, omega], rtol=1e-10)
    np.testing.assert_allclose(eig.real, [-gamma / 2, -gamma / 2], atol=1e-12)

    tr = simulate_flow(vf.field_fn, vf.jacobian_fn, vf.logged_fn, np.array([[0.3, 0.0]]),
                       t_end=60.0, n_eval=6001, state_names=("theta", "psi"),
                       logged_names=vf.logged_names)
    theta = tr.coordinate("theta")[0]
    res_theta = dynamics_prediction(eig, tr.t, theta)
    assert res_theta["predicted_period"] == pytest.approx(2 * math.pi / omega, rel=1e-12)
    assert res_theta["damping"] == pytest.approx(gamma / 2)
    assert res_theta["harmonic"] == 1
    assert abs(res_theta["relative_error"]) < 0.03

    # With c = 0 the logit psi*theta is quadratic in the deviation: the losses
    # oscillate at 2*omega (half the parameter period).
    g_loss = tr.loss("g_loss")[0]
    res_g = dynamics_prediction(eig, tr.t, g_loss)
    assert res_g["harmonic"] == 2
    assert res_g["measured_period"] == pytest.approx(math.pi / omega, rel=0.03)
    # And the ratio law holds on the simulated pair (p ~ 1/2 near the equilibrium).
    r = analyze_series(tr.loss("d_fake")[0], g_loss, d_gz=tr.loss("d_gz")[0])
    assert r.consistent
    assert r.std_ratio_predicted["per-step"] == pytest.approx(
        r.std_ratio_measured["detrended"], rel=0.05)


def test_dynamics_prediction_synthetic_and_validation() -> None:
    t = np.linspace(0, 100, 5001)
    y = 2.0 + np.exp(-0.02 * t) * np.cos(1.3 * t)
    res = dynamics_prediction([-0.02 + 1.3j, -0.02 - 1.3j], t, y)
    assert res["method"] == "zero-crossings"
    assert res["measured_period"] == pytest.approx(2 * math.pi / 1.3, rel=5e-3)
    assert res["harmonic"] == 1
    with pytest.raises(ValueError, match="uniformly"):
        dynamics_prediction([1j], np.r_[0.0, np.cumsum(np.arange(1, 20.0))], np.ones(20))


def test_logit_spread_model_recovers_normal_logits() -> None:
    # Losses computed exactly (Gauss-Hermite) for logits N(m, s^2): the model inverts them.
    from gandyn.explain.batch import logit_spread_model

    rng = np.random.default_rng(11)
    m = rng.uniform(-6, 4, 300)
    s = rng.uniform(0.0, 5.0, 300)
    u, wts = np.polynomial.hermite_e.hermegauss(150)
    logits = m[:, None] + s[:, None] * u
    wts = wts / np.sqrt(2 * np.pi)
    d, g = _sp(logits) @ wts, _sp(-logits) @ wts
    m_hat, s_hat = logit_spread_model(d, g)
    assert np.max(np.abs(m_hat - m)) < 1e-12
    # the model's own 40-node quadrature of the kinked softplus limits the agreement
    assert np.max(np.abs(s_hat - s)) < 2e-3
    # one logit: no spread; logits of +-1000 stay finite
    m0, s0 = logit_spread_model(_sp(np.array([-1000.0, 0.3, 1000.0])),
                                _sp(-np.array([-1000.0, 0.3, 1000.0])))
    assert np.all(np.isfinite(m0)) and np.max(np.abs(s0)) < 1e-6


def test_independent_batches_with_spread_logits_per_sample_law() -> None:
    # Keras-like log: d_fake over 64 fakes, g_loss over 128 fresh ones, logits N(m_t, 1.5^2)
    # with the discriminator ahead. The single-p law (p from a batch mean) overshoots; the
    # per-sample law over the spread that d_fake + g_loss implies predicts the measured ratio,
    # and the implied mean D(G(z)) is the true one.
    rng = np.random.default_rng(12)
    n = 6000
    means = -2.0 + 0.3 * np.sin(np.arange(n) * 0.002)
    d, _, gz = _batch_losses(means, 1.5, 64, rng)
    _, g, _ = _batch_losses(means, 1.5, 128, rng)
    r = analyze_series(d, g, batch_sizes=(64, 128), tol=0.05)
    assert r.consistent, r.reason
    measured = r.std_ratio_measured["diff"]
    assert abs(measured / r.std_ratio_predicted["sampling"] - 1) > 0.3
    assert measured == pytest.approx(r.std_ratio_predicted["sampling-spread"], rel=0.05)
    assert r.law_holds
    assert r.mean_p_model == pytest.approx(float(np.mean(gz)), abs=0.01)
    assert abs(r.mean_p - float(np.mean(gz))) > 0.03
    assert "per sample" in r.to_text()
