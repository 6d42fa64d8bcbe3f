"""The ratio law for every loss, the combined discriminator loss, the verdict and bad values.

References checked against:

* slopes: central finite differences of the losses written in numpy;
* ratios: batch means of per-sample losses simulated in numpy, with the
  fluctuation the first-order law linearizes (a common shift of the outputs);
* the combined loss: the closed form ``exp(-m)`` for a flat real part and
  ``(1 - p) s_f / sqrt(p^2 s_f^2 + (1 - q)^2 s_r^2)`` for independent real and
  fake fluctuations (first-order propagation, Ku 1966);
* Stein's lemma (``Cov(f(X), X) = Var(X) E f'(X)`` for a normal ``X``) for the
  averaged slopes.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from click.testing import CliRunner

from gandyn.cli import cli
from gandyn.explain import analyze_series
from gandyn.explain.catalogue import CATALOGUE_LOSSES, loss_relation, predicted_ratio
from gandyn.explain.combined import analyze_combined
from gandyn.explain.explanation import ExplainError
from gandyn.explain.from_log import explain_training_log
from gandyn.explain.logs import TrainingLog
from gandyn.explain.series import judge_law
from gandyn.explain.smoothing import running_mean


def _sp(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.logaddexp(0.0, x)
    return out


#: Per-sample losses in numpy, independent of the sympy forms: (d_fake(s), g_loss(s)).
NUMPY_LOSSES = {
    "minimax": (lambda s: _sp(s), lambda s: -_sp(s)),
    "non-saturating": (lambda s: _sp(s), lambda s: _sp(-s)),
    "wasserstein": (lambda s: s, lambda s: -s),
    "least-squares": (lambda s: s**2, lambda s: (s - 1.0) ** 2),
    "hinge": (lambda s: np.maximum(0.0, 1.0 + s), lambda s: -s),
}


# --- the catalogue --------------------------------------------------------------------------


@pytest.mark.parametrize("loss", CATALOGUE_LOSSES)
def test_slopes_match_finite_differences(loss: str) -> None:
    rel = loss_relation(loss)
    d_np, g_np = NUMPY_LOSSES[loss]
    h = 1e-6
    for s0 in (-2.3, -0.4, 0.3, 0.8, 2.1):
        dd = float(rel.dd.subs(rel.output, s0))
        dg = float(rel.dg.subs(rel.output, s0))
        assert dd == pytest.approx((d_np(s0 + h) - d_np(s0 - h)) / (2 * h), abs=1e-6)
        assert dg == pytest.approx((g_np(s0 + h) - g_np(s0 - h)) / (2 * h), abs=1e-6)
        ratio = float(rel.ratio.subs(rel.output, s0)) if dd != 0 else math.inf
        assert ratio == pytest.approx(predicted_ratio(loss, s0), rel=1e-9)
        # The two curves move in opposite directions where both move.
        if dd != 0 and dg != 0 and not (loss == "least-squares" and not 0 < s0 < 1):
            assert (dd > 0) != (dg > 0)


@pytest.mark.parametrize(("loss", "centre"), [("minimax", -2.0), ("non-saturating", -2.5),
                                              ("non-saturating", 1.0), ("wasserstein", 0.7),
                                              ("least-squares", 0.3), ("hinge", 0.2)])
def test_predicted_ratio_against_simulated_batches(loss: str, centre: float) -> None:
    # Batches of 64 outputs spread by 0.05 around centre + a small common shift per step.
    rng = np.random.default_rng(7)
    d_np, g_np = NUMPY_LOSSES[loss]
    shift = 0.01 * rng.standard_normal(3000)
    outputs = centre + shift[:, None] + 0.05 * rng.standard_normal((3000, 64))
    d, g = d_np(outputs).mean(axis=1), g_np(outputs).mean(axis=1)
    measured = float(np.std(g) / np.std(d))
    assert measured == pytest.approx(predicted_ratio(loss, centre), rel=0.03)


def test_wasserstein_is_exact_and_mirrored_for_any_fluctuation() -> None:
    # Linear in the critic output: ratio exactly 1 and correlation exactly -1, even for
    # fluctuations far beyond first order (clipping or a gradient penalty change neither).
    rng = np.random.default_rng(2)
    outputs = 5.0 * rng.standard_normal((500, 32)) + np.cumsum(rng.standard_normal(500))[:, None]
    d, g = outputs.mean(axis=1), (-outputs).mean(axis=1)
    assert float(np.std(g) / np.std(d)) == pytest.approx(1.0, rel=1e-12)
    assert float(np.corrcoef(d, g)[0, 1]) == pytest.approx(-1.0, abs=1e-12)
    assert loss_relation("wgan-gp").exact


def test_hinge_ratio_is_one_over_the_active_fraction() -> None:
    # A batch with a fraction f of fakes inside the margin (c > -1): d_fake moves by f ds.
    rng = np.random.default_rng(4)
    base = np.concatenate([np.full(24, -0.5), np.full(40, -3.0)])  # f = 24/64
    shift = 0.01 * rng.standard_normal(2000)
    outputs = base[None, :] + shift[:, None]
    d = np.maximum(0.0, 1.0 + outputs).mean(axis=1)
    g = (-outputs).mean(axis=1)
    assert float(np.std(g) / np.std(d)) == pytest.approx(64 / 24, rel=1e-9)
    # All fakes beyond the margin: d_fake is exactly 0 and flat while g_loss swings.
    d_out = np.maximum(0.0, 1.0 + (-3.0 + shift))
    assert np.all(d_out == 0.0) and np.std(-(-3.0 + shift)) > 0
    assert predicted_ratio("hinge", -3.0) == math.inf


def test_label_smoothing_ratio_and_exact_difference() -> None:
    t, u = 0.1, 0.9
    rel = loss_relation("non-saturating", fake_target=t, generator_target=u)
    lg = rel.output
    # d_fake - g_loss = (u - t) l exactly (softplus(l) - softplus(-l) = l).
    diff = (rel.d_fake - rel.g_loss - sp.Rational(4, 5) * lg).rewrite(sp.exp)
    assert sp.simplify(sp.expand_log(diff, force=True)) == 0
    # Simulated batches against |p - u| / |p - t|.
    rng = np.random.default_rng(5)
    for centre in (-2.0, 0.5):
        outputs = centre + 0.01 * rng.standard_normal((3000, 1)) + 0.03 * rng.standard_normal(
            (3000, 32))
        d = ((1 - t) * _sp(outputs) + t * _sp(-outputs)).mean(axis=1)
        g = (u * _sp(-outputs) + (1 - u) * _sp(outputs)).mean(axis=1)
        p = 1 / (1 + math.exp(-centre))
        assert float(np.std(g) / np.std(d)) == pytest.approx(abs(p - u) / abs(p - t), rel=0.03)
        assert predicted_ratio("ns", centre, fake_target=t, generator_target=u) == (
            pytest.approx(abs(p - u) / abs(p - t), rel=1e-12))


def test_window_means_keep_the_ratio() -> None:
    # A loop that prints the mean over each window of 20 steps: both losses are averaged by
    # the same linear operation, so the ratio of the printed fluctuations keeps (1 - p)/p.
    rng = np.random.default_rng(6)
    m = -3.0
    lg = m + 0.05 * rng.standard_normal(40000)
    d = _sp(lg).reshape(-1, 20).mean(axis=1)
    g = _sp(-lg).reshape(-1, 20).mean(axis=1)
    r = analyze_series(d, g)
    assert r.std_ratio_measured["raw"] == pytest.approx(math.exp(-m), rel=0.02)
    assert r.std_ratio_predicted["local-mean-p"] == pytest.approx(math.exp(-m), rel=0.02)
    assert r.verdict == "holds"


def test_unknown_catalogue_loss() -> None:
    with pytest.raises(ValueError, match="catalogue"):
        loss_relation("energy")


# --- averaged slopes against each step's own slopes -----------------------------------------


def test_averaged_slopes_survive_large_fluctuations() -> None:
    # Normal fluctuations of 1.5 in the logit: Stein's lemma gives the regression slopes
    # E[p] and -E[1 - p]; each step's own p is correlated with its fluctuation and
    # overweights the upper tail, so the per-step prediction is off by a factor 2.5.
    rng = np.random.default_rng(8)
    lg = -3.0 + 1.5 * rng.standard_normal(20000)
    d, g = _sp(lg), _sp(-lg)
    r = analyze_series(d, g)
    p = 1 / (1 + np.exp(-lg))
    stein = float(np.mean(1 - p) / np.mean(p))
    slope_g = float(np.cov(g, lg)[0, 1] / np.var(lg))
    slope_d = float(np.cov(d, lg)[0, 1] / np.var(lg))
    assert -slope_g / slope_d == pytest.approx(stein, rel=0.02)
    assert r.std_ratio_predicted["local-mean-p"] == pytest.approx(stein, rel=0.05)
    assert abs(r.relative_error["local-mean-p"]) < 0.25
    assert r.relative_error["per-step"] > 1.0
    # The exact normal-fluctuation form is exact here.
    assert abs(r.relative_error["nonlinear"]) < 0.05


# --- the combined discriminator loss --------------------------------------------------------


@pytest.mark.parametrize(("kind", "factor"), [("sum", 1.0), ("mean", 2.0)])
def test_combined_closed_form_flat_real_part(kind: str, factor: float) -> None:
    m, q = -2.5, 0.8
    t = np.arange(4000) * 0.05
    lg = m + 0.01 * np.sin(t)
    d_real = np.full(t.size, -math.log(q))
    d_fake = _sp(lg)
    d_loss = (d_real + d_fake) / (1.0 if kind == "sum" else 2.0)
    c = analyze_combined(d_loss, _sp(-lg), kind=kind, window=101)
    assert c.std_ratio_measured["raw"] == pytest.approx(factor * math.exp(-m), rel=0.01)
    assert c.std_ratio_predicted["fake-part-only"] == pytest.approx(factor * math.exp(-m),
                                                                   rel=0.01)
    assert c.fake_share == pytest.approx(1.0, rel=1e-6)
    assert c.mean_d_real == pytest.approx(-math.log(q), rel=1e-6)


def test_combined_independent_real_and_fake_fluctuations() -> None:
    # The real logit moves on its own: the ratio falls below (1 - p)/p to the first-order
    # form (1 - p) s_f / sqrt(p^2 s_f^2 + (1 - q)^2 s_r^2).
    rng = np.random.default_rng(9)
    n, m, r0, s_f, s_r = 20000, -2.0, 1.5, 0.02, 0.05
    lf = m + s_f * rng.standard_normal(n)
    lr = r0 + s_r * rng.standard_normal(n)
    p, q = 1 / (1 + math.exp(-m)), 1 / (1 + math.exp(-r0))
    d_loss = _sp(-lr) + _sp(lf)
    g = _sp(-lf)
    expected = (1 - p) * s_f / math.sqrt(p**2 * s_f**2 + (1 - q) ** 2 * s_r**2)
    c = analyze_combined(d_loss, g, kind="sum", window=101, d_x=1 / (1 + np.exp(-lr)),
                         d_gz=1 / (1 + np.exp(-lf)))
    assert c.std_ratio_measured["raw"] == pytest.approx(expected, rel=0.03)
    assert c.std_ratio_predicted["per-step"] == pytest.approx(expected, rel=0.03)
    # The fake part alone would give (1 - p)/p: an upper bound here.
    assert c.std_ratio_predicted["fake-part-only"] == pytest.approx((1 - p) / p, rel=0.02)
    assert c.std_ratio_measured["detrended"] < c.std_ratio_predicted["fake-part-only"]


def test_log_with_combined_loss_only_is_undecided() -> None:
    rng = np.random.default_rng(10)
    n = 600
    lg = -2.0 + 0.3 * rng.standard_normal(n)
    lr = 2.0 + 0.3 * rng.standard_normal(n)
    log = TrainingLog(step=np.arange(n, dtype=float) * 10, source_format="csv",
                      columns_used={}, n_rows=n, d_total=(_sp(-lr) + _sp(lg)) / 2,
                      g_loss=_sp(-lg))
    e = explain_training_log(log, d_loss="mean")
    assert e.report.verdict == "undecided" and e.report.law_holds is None
    assert "inferred from g_loss" in e.report.verdict_reason
    assert e.combined is not None and e.combined.kind == "mean"
    text = e.to_text()
    assert "cannot tell" in text
    head = text.split("\n")[0]
    # Counted in the log's own iterations (steps 0, 10, ..., 5990), not records.
    assert "iterations 0 to 5990" in head and "d_loss" in head and "undecided" in head
    assert e.to_dict()["combined"]["kind"] == "mean"


# --- the verdict ----------------------------------------------------------------------------


def test_judge_law_three_outcomes() -> None:
    assert judge_law(10.0, 9.0, 0.05, 0.25)[0] == "holds"
    assert judge_law(10.0, 4.0, 0.05, 0.25)[0] == "fails"
    # A 40% miss measured to +-20%: not a confident "fails".
    verdict, reason = judge_law(14.0, 10.0, 0.2, 0.25)
    assert verdict == "undecided" and "standard error" in reason
    # Within tolerance but measured to +-40%: not a confident "holds" either.
    assert judge_law(10.0, 9.5, 0.4, 0.25)[0] == "undecided"
    assert judge_law(math.nan, 2.0, 0.1, 0.25)[0] == "undecided"


def test_constant_loss_is_undecided() -> None:
    lg = -2.0 + 0.1 * np.sin(np.arange(300) * 0.3)
    r = analyze_series(np.full(300, 0.12), _sp(-lg))
    assert r.verdict == "undecided" and r.law_holds is None


def test_same_batch_before_and_after_update_is_not_one_logit() -> None:
    # d_fake before the discriminator's update, g_loss after it on the same batch: the update
    # moves every logit down by 1. That raises g_loss, which the Jensen check cannot tell
    # from a spread of logits, so the pair passes as consistent; the law of one logit then
    # does not describe it and the verdict is not "holds" (the DCGAN convention therefore
    # estimates d_fake from D(G(z)) after the update, which g_loss sees).
    rng = np.random.default_rng(11)
    lg = -1.0 + 0.2 * rng.standard_normal(500)
    r = analyze_series(_sp(lg), _sp(-(lg - 1.0)))
    assert r.verdict == "fails" and r.law_holds is False
    same = analyze_series(_sp(lg), _sp(-lg))
    assert same.verdict == "holds"
    # Raising every logit instead lowers g_loss below what any set of logits allows.
    up = analyze_series(_sp(lg), _sp(-(lg + 1.0)))
    assert not up.consistent and up.verdict == "undecided"


# --- bad values -----------------------------------------------------------------------------


def _log(**series: np.ndarray) -> TrainingLog:
    n = next(iter(series.values())).size
    return TrainingLog(step=np.arange(n, dtype=float) * 5, source_format="csv",
                       columns_used={}, n_rows=n, **series)


def test_negative_cross_entropy_is_refused() -> None:
    lg = -2.0 + 0.2 * np.sin(np.arange(200))
    d = _sp(lg)
    d[7] = -0.3
    with pytest.raises(ExplainError, match=r"d_fake = -0.3 at step 35 is negative"):
        explain_training_log(_log(d_fake=d, g_loss=_sp(-lg)))


def test_probability_outside_unit_interval_is_refused() -> None:
    lg = -2.0 + 0.2 * np.sin(np.arange(200))
    d_x = np.full(200, 0.8)
    d_x[3] = 1.4
    with pytest.raises(ExplainError, match=r"d_x = 1.4 at step 15 is outside \[0, 1\]"):
        explain_training_log(_log(d_fake=_sp(lg), g_loss=_sp(-lg), d_x=d_x))


def test_minimax_generator_loss_must_not_be_positive() -> None:
    lg = -2.0 + 0.2 * np.sin(np.arange(200))
    with pytest.raises(ExplainError, match="minimax"):
        explain_training_log(_log(d_fake=_sp(lg), g_loss=_sp(-lg)), loss="minimax")


def test_non_finite_rows_are_skipped_and_counted(tmp_path) -> None:  # type: ignore[no-untyped-def]
    lg = -2.0 + 0.2 * np.sin(np.arange(300) * 0.7)
    d, g = _sp(lg), _sp(-lg)
    d[[4, 90]] = np.nan
    g[200] = np.inf
    e = explain_training_log(_log(d_fake=d, g_loss=g))
    assert e.source["skipped_rows"] == 3 and e.report.n == 297
    assert "3 records with blank, NaN or infinite values were skipped" in " ".join(
        e.to_text().split())
    # The command line: a CSV with blank cells is explained; a negative loss is one line.
    path = tmp_path / "log.csv"
    rows = ["step,d_fake,g_loss"] + [f"{i},{'' if i == 5 else d[i]},{g[i]}"
                                     for i in range(0, 300) if np.isfinite(g[i])]
    path.write_text("\n".join(r.replace("nan", "") for r in rows) + "\n")
    result = CliRunner().invoke(cli, ["explain", "--log", str(path)], prog_name="gandyn")
    assert result.exit_code == 0, result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("step,d_fake,g_loss\n" + "".join(f"{i},{-0.1 if i == 3 else 0.1},2.0\n"
                                                    for i in range(50)))
    result = CliRunner().invoke(cli, ["explain", "--log", str(bad)], prog_name="gandyn")
    assert result.exit_code != 0
    assert "negative" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


# --- running means --------------------------------------------------------------------------


def test_running_mean_equals_convolution_and_keeps_precision() -> None:
    rng = np.random.default_rng(12)
    x = rng.standard_normal(5000)
    for w in (1, 3, 51, 2500, 5000):
        assert np.allclose(running_mean(x, w), np.convolve(x, np.ones(w) / w, mode="valid"),
                           rtol=0, atol=1e-12)
    # A large offset (a loss near 1e6) does not swamp the fluctuations.
    big = 1e6 + 1e-3 * rng.standard_normal(200000)
    exact = np.convolve(big - 1e6, np.ones(101) / 101, mode="valid") + 1e6
    assert np.max(np.abs(running_mean(big, 101) - exact)) < 1e-8
    with pytest.raises(ValueError, match="window"):
        running_mean(x, 0)
