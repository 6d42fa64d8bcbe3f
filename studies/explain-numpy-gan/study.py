r"""`gandyn explain` on the log of a real (numpy) GAN trained with the Keras tutorial's loop.

A small GAN (two one-hidden-layer tanh MLPs, hand-written backpropagation,
checked by finite differences) learns ``N(4, 1.25^2)`` with Brownlee's loop:
the discriminator on a real and a fake half batch (64 + 64), then the
generator on 128 fresh latent points with label 'real' (the non-saturating
loss). The discriminator learns 50 times faster than the generator, so
``D(G(z))`` climbs slowly from about 0.15 to 1/2 and the run crosses the
regimes. The loop prints ``>%d, d1=%.3f, d2=%.3f g=%.3f, a1=%d, a2=%d``; the
study runs ``gandyn explain --log`` on that printout, on the whole run and on
five consecutive segments, and compares the step-to-step ratio
``std(diff g_loss) / std(diff d_fake)`` with

* gandyn's prediction for independent batches, ``sqrt(M_D/M_G) (1 - p)/p``
  with ``p`` recovered from the logged batch means, and
* the per-sample form of the same sampling-noise law,
  ``sqrt(M_D/M_G) rms(sd_i softplus(-l_i)) / rms(sd_i softplus(l_i))``, from the
  spreads of the per-sample losses the study records at every step (the
  quantity the single-``p`` law linearizes).

Tolerance: the measured ratio is a ratio of two standard deviations of
differenced, independent noise over ``n`` steps; its sampling error is
estimated by a moving-block bootstrap (blocks of 50 steps; for Gaussian white
noise it is ``sqrt(1.5/n)``: each differenced series has lag-1 correlation
-1/2, so its sample variance has relative variance ``3/n``); a prediction is
accepted within three standard errors.

References: Goodfellow et al. (2014), Generative Adversarial Nets, NeurIPS
(non-saturating loss, Sec. 3); Brownlee (2019), How to Develop a 1D
Generative Adversarial Network From Scratch in Keras, and Generative
Adversarial Networks with Python, Ch. 10 (the loop and its printout);
Künsch (1989), The jackknife and the bootstrap for general stationary
observations, Ann. Statist. 17(3) (moving-block bootstrap).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
from numpy_gan import Config, History, gradient_check, keras_lines, train

from gandyn.study import Study

SLUG = "explain-numpy-gan"
CLAIM = ("on a real GAN log, d_fake is smoother than g_loss where D(G(z)) is well below 1/2, "
         "by the factor the sampling-noise law predicts")
M_D, M_G = 64, 128
N_SEGMENTS = 5
BLOCK = 50
N_BOOT = 400
FD_TOL = 1e-7
#: Segments with mean D(G(z)) below this are "the discriminator winning".
P_WINNING = 0.4
#: ... and above this "nearly balanced".
P_BALANCED = 0.45


def gandyn_explain(log: Path, batch_sizes: tuple[int, int] | None = None, *,
                   subprocess_: bool = False) -> dict[str, Any]:
    """The explanation of ``gandyn explain --log LOG --json``, as JSON data.

    With ``subprocess_`` the command line as a user runs it (``python -m
    gandyn``), else the library call :func:`gandyn.explain.explain_log` behind
    it (the same document, no second interpreter start-up).
    """
    if not subprocess_:
        from gandyn.explain import explain_log

        return explain_log(log, batch_sizes=batch_sizes).to_dict()
    args = ["explain", "--log", str(log), "--json"]
    if batch_sizes is not None:
        args += ["--batch-sizes", f"{batch_sizes[0]},{batch_sizes[1]}"]
    cmd = [sys.executable, "-m", "gandyn", *args]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"gandyn {' '.join(args)} failed: {result.stderr.strip()}")
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def diff_ratio(d: np.ndarray[Any, Any], g: np.ndarray[Any, Any]) -> float:
    """``std(diff g) / std(diff d)``."""
    return float(np.std(np.diff(g)) / np.std(np.diff(d)))


def block_bootstrap_se(d: np.ndarray[Any, Any], g: np.ndarray[Any, Any],
                       rng: np.random.Generator) -> float:
    """Relative standard error of :func:`diff_ratio` by a moving-block bootstrap.

    Blocks of ``BLOCK`` consecutive step-to-step differences of both series
    are resampled together (Künsch 1989), which keeps their short-range
    correlation (lag 1 of a differenced series is -1/2) and any slow trend.
    """
    dd, dg = np.diff(d), np.diff(g)
    n = dd.size
    n_blocks = max(n // BLOCK, 2)
    starts = rng.integers(0, n - BLOCK + 1, size=(N_BOOT, n_blocks))
    idx = (starts[:, :, None] + np.arange(BLOCK)).reshape(N_BOOT, -1)
    ratios = np.std(dg[idx], axis=1) / np.std(dd[idx], axis=1)
    return float(np.std(ratios) / np.mean(ratios))


def per_sample_prediction(history: History, sl: slice) -> float:
    """The sampling-noise ratio from the recorded per-sample spreads of the losses."""
    var_d = np.mean(history["sd_d_fake"][sl] ** 2) / M_D
    var_g = np.mean(history["sd_g_loss"][sl] ** 2) / M_G
    return float(np.sqrt(var_g / var_d))


def csv_text(history: History) -> str:
    """The per-step records at full precision, with D(G(z)) before the generator's update."""
    names = ("step", "d_real", "d_fake", "g_loss", "d_x", "d_gz")
    rows = [",".join(names)]
    cols = [history[n] for n in names]
    for i in range(cols[0].size):
        rows.append(",".join([str(int(cols[0][i]))] + [repr(float(c[i])) for c in cols[1:]]))
    return "\n".join(rows) + "\n"


def parse_printed(lines: list[str]) -> dict[str, np.ndarray[Any, Any]]:
    """``d1``, ``d2``, ``g`` as printed (three decimals), the values gandyn reads."""
    out: dict[str, list[float]] = {"d_real": [], "d_fake": [], "g_loss": []}
    for line in lines:
        fields = dict(part.split("=") for part in line.replace(",", " ").split() if "=" in part)
        out["d_real"].append(float(fields["d1"]))
        out["d_fake"].append(float(fields["d2"]))
        out["g_loss"].append(float(fields["g"]))
    return {k: np.asarray(v) for k, v in out.items()}


def run(study: Study) -> None:
    quick = study.quick
    # The quick run compresses the same sweep of D(G(z)) into fewer steps (a faster generator).
    config = Config(steps=4000 if quick else 20000, seed=0, lr_d=1e-3,
                    lr_g=1e-4 if quick else 2e-5)
    study.metadata["config"] = {k: getattr(config, k) for k in config.__dataclass_fields__}

    # --- 1. the hand-written backpropagation against central finite differences.
    fd: dict[str, float] = {}
    for seed in (1, 2):
        for name, err in gradient_check(seed).items():
            fd[name] = max(fd.get(name, 0.0), err)
    study.check("the hand-written gradients of the three losses match central finite "
                "differences", max(fd.values()) < FD_TOL,
                ", ".join(f"{k} {v:.1e}" for k, v in fd.items())
                + " (largest error relative to the largest gradient entry of each tensor, two "
                f"seeds; tol {FD_TOL:g})")

    # --- 2. train, and log as the Keras loop does.
    history = train(config)
    lines = keras_lines(history)
    log_path = study.write_text("train.log", "\n".join(lines) + "\n")
    csv_path = study.write_text("train.csv", csv_text(history))
    printed = parse_printed(lines)
    d_gz = history["d_gz"]
    fake, real = history.fake_end, history.real_end
    study.metadata["samples_at_end"] = {
        "fake_mean": round(float(np.mean(fake)), 3), "fake_std": round(float(np.std(fake)), 3),
        "real_mean": round(float(np.mean(real)), 3), "real_std": round(float(np.std(real)), 3)}

    # --- 3. gandyn explain on the printout, and on the CSV with D(G(z)).
    whole = gandyn_explain(log_path, subprocess_=True)
    study.write_json("explain-log.json", whole)
    source = whole.get("source", {})
    study.check(
        "gandyn explain reads the whole printout as a Keras log with independent batches "
        "64,128 and finds d_fake and g_loss consistent",
        source.get("format") == "keras" and source.get("rows") == config.steps
        and str(source.get("batch_sizes", "")).startswith("64,128")
        and whole.get("consistent") is True,
        f"format {source.get('format')}, {source.get('rows')} lines, batch sizes "
        f"{str(source.get('batch_sizes', '?')).split(' ')[0]}, consistent "
        f"{whole.get('consistent')} (min Jensen excess "
        f"{whole.get('consistency', {}).get('min_jensen_excess', float('nan')):.3g})")
    csv_same = gandyn_explain(csv_path)
    csv_indep = gandyn_explain(csv_path, (M_D, M_G))
    study.write_json("explain-csv.json", {"as-one-batch": csv_same, "independent": csv_indep})
    study.check(
        "on the CSV with D(G(z)), gandyn rejects the pair as one batch and accepts it as "
        "independent batches 64,128 (which they are)",
        csv_same.get("consistent") is False and csv_indep.get("consistent") is True,
        f"without --batch-sizes: consistent {csv_same.get('consistent')} "
        f"({csv_same.get('reason', '')[:60]}...); with --batch-sizes 64,128: consistent "
        f"{csv_indep.get('consistent')}")

    # --- 4. segment by segment: measured ratio, its error, the two predictions.
    rng = np.random.default_rng(12345)
    size = config.steps // N_SEGMENTS
    seg: dict[str, list[float]] = {k: [] for k in (
        "start", "stop", "mean_d_gz", "measured", "se_rel", "per_sample", "gandyn_sampling",
        "gandyn_measured", "gandyn_mean_p", "gandyn_law_holds", "implied_logit_spread",
        "gandyn_sampling_spread", "gandyn_mean_p_model")}
    for k in range(N_SEGMENTS):
        sl = slice(k * size, (k + 1) * size)
        seg_log = study.write_text(f"train-segment-{k + 1}.log", "\n".join(lines[sl]) + "\n")
        report = gandyn_explain(seg_log)
        d, g = printed["d_fake"][sl], printed["g_loss"][sl]
        seg["start"].append(sl.start + 1)
        seg["stop"].append(sl.stop)
        seg["mean_d_gz"].append(float(np.mean(d_gz[sl])))
        seg["measured"].append(diff_ratio(d, g))
        seg["se_rel"].append(block_bootstrap_se(d, g, rng))
        seg["per_sample"].append(per_sample_prediction(history, sl))
        seg["gandyn_sampling"].append(float(report["std_ratio_predicted"]["sampling"]))
        seg["gandyn_measured"].append(float(report["std_ratio_measured"]["diff"]))
        seg["gandyn_mean_p"].append(float(report["mean_p"]))
        seg["gandyn_law_holds"].append(float(bool(report.get("law_holds"))))
        seg["gandyn_sampling_spread"].append(
            float(report["std_ratio_predicted"]["sampling-spread"]))
        seg["gandyn_mean_p_model"].append(float(report["mean_p_model"]))
        seg["implied_logit_spread"].append(
            float(report.get("consistency", {}).get("implied_logit_spread", float("nan"))))
    s = {k: np.asarray(v) for k, v in seg.items()}
    err_ps = s["measured"] / s["per_sample"] - 1.0
    err_gd = s["measured"] / s["gandyn_sampling"] - 1.0
    tol = 3.0 * s["se_rel"]
    study.write_json("segments.json", {k: [round(float(x), 5) for x in v] for k, v in seg.items()})

    def table(err: np.ndarray[Any, Any]) -> str:
        return "; ".join(f"p={p:.2f}: {100 * e:+.1f}% (tol {100 * t:.1f}%)"
                         for p, e, t in zip(s["mean_d_gz"], err, tol, strict=True))

    study.check(
        "the sampling-noise law in its per-sample form predicts the measured step-to-step ratio "
        "std(diff g_loss)/std(diff d_fake) within 3 bootstrap standard errors on every segment",
        bool(np.all(np.abs(err_ps) <= tol)), "measured/predicted - 1: " + table(err_ps))

    winning = s["mean_d_gz"] < P_WINNING
    balanced = s["mean_d_gz"] > P_BALANCED
    study.check(
        f"d_fake is the smoother curve wherever the discriminator wins (segments with mean "
        f"D(G(z)) < {P_WINNING}), but not near p = 1/2, where the half-size batch of d_fake "
        f"makes it the noisier one (sqrt(M_D/M_G) (1-p)/p < 1 for p > "
        f"{1 / (1 + np.sqrt(M_G / M_D)):.3f})",
        bool(winning.any() and balanced.any() and np.all(s["measured"][winning] > 1.0)
             and np.all(s["measured"][balanced] < 1.0)),
        "std(diff g_loss)/std(diff d_fake): " + ", ".join(
            f"{r:.2f} at p={p:.2f}" for p, r in zip(s["mean_d_gz"], s["measured"], strict=True))
        + f"; whole run, raw std(g_loss)/std(d_fake) = {whole['std_ratio_measured']['raw']:.2f}")

    # gandyn's single-p prediction from batch means against its per-sample one.
    miss = np.abs(err_gd) > tol
    worst = int(np.argmax(np.abs(err_gd) - tol))
    study.check(
        "the single-p prediction sqrt(M_D/M_G)(1-p)/p, with p recovered from the batch "
        "means, misses the measured ratio beyond 3 standard errors where the discriminator "
        "wins (the fake logits spread across a batch)",
        bool(np.any(miss & winning)),
        f"worst at p={s['mean_d_gz'][worst]:.2f}: measured {s['measured'][worst]:.2f}, single-p "
        f"{s['gandyn_sampling'][worst]:.2f}; measured/single-p - 1: " + table(err_gd)
        + "; implied logit spread " + ", ".join(f"{v:.2f}" for v in s["implied_logit_spread"]))
    err_sp = s["measured"] / s["gandyn_sampling_spread"] - 1.0
    p_err = np.abs(s["gandyn_mean_p_model"] - s["mean_d_gz"])
    study.check(
        "gandyn's per-sample prediction, over the normal spread of logits that d_fake + g_loss "
        "implies, at least halves the single-p prediction's mean absolute error on the "
        "segments where the discriminator wins, and the mean D(G(z)) of that spread is the "
        "recorded one within 0.02 on every segment",
        bool(np.mean(np.abs(err_sp[winning])) <= 0.5 * np.mean(np.abs(err_gd[winning]))
             and np.all(p_err < 0.02)),
        f"mean |error| where D wins: per-sample {100 * np.mean(np.abs(err_sp[winning])):.1f}%, "
        f"single-p {100 * np.mean(np.abs(err_gd[winning])):.1f}%; "
        "measured/per-sample - 1: " + table(err_sp) + "; mean D(G(z)) recorded vs gandyn: "
        + ", ".join(f"{a:.3f}/{b:.3f}" for a, b in
                    zip(s["mean_d_gz"], s["gandyn_mean_p_model"], strict=True))
        + "; gandyn law_holds per segment: "
        + ", ".join("true" if h else "false" for h in s["gandyn_law_holds"])
        + f"; whole run: measured {whole['std_ratio_measured']['diff']:.3f}, per-sample "
        f"{whole['std_ratio_predicted']['sampling-spread']:.3f}, law_holds "
        f"{whole.get('law_holds')}")

    # --- 5. the figure.
    from gandyn.plotting import LOSS_STYLE, PALETTE
    from gandyn.plotting.explain import explain_axes
    from gandyn.plotting.style import note_fontsize

    # gandyn pairs g_loss[k] with d_fake[k + 1] for a Keras printout (train_on_batch returns
    # the loss before the update); draw what it analysed.
    step = np.arange(1, config.steps + 1, dtype=np.float64)
    d_pair, g_pair, step_pair = printed["d_fake"][1:], printed["g_loss"][:-1], step[1:]
    with study.figure() as style:
        fig = style.new((7.0, 4.2))
        grid = fig.add_gridspec(2, 2, width_ratios=(1.55, 1.0), height_ratios=(2.0, 1.0))
        ax_loss = fig.add_subplot(grid[0, 0])
        ax_p = fig.add_subplot(grid[1, 0], sharex=ax_loss)
        ax_r = fig.add_subplot(grid[:, 1])
        explain_axes(ax_loss, ax_p, step_pair, d_pair, g_pair, window=int(whole["window"]),
                     thresholds=tuple(whole["thresholds"]),
                     sampling_ratio=float(whole["std_ratio_predicted"]["sampling-spread"]))
        ax_p.plot(step, d_gz, color=PALETTE["black"], linewidth=0.6,
                  label=r"mean $D(G(z))$ (recorded)")
        ax_p.legend(loc="lower right", fontsize=note_fontsize(), frameon=False)
        for k in range(1, N_SEGMENTS):
            for ax in (ax_loss, ax_p):
                ax.axvline(k * size + 0.5, color="0.4", linewidth=0.5, linestyle="-")
        ax_loss.label_outer()
        ax_p.ticklabel_format(axis="x", style="plain")

        pp = np.linspace(0.1, 0.55, 200)
        ax_r.plot(pp, (1 - pp) / pp, color="0.6", linestyle=":", linewidth=0.9,
                  label=r"$(1-p)/p$ (one batch)")
        ax_r.plot(pp, np.sqrt(M_D / M_G) * (1 - pp) / pp, color="0.3", linestyle="--",
                  linewidth=0.9, label=r"$\sqrt{M_D/M_G}\,(1-p)/p$")
        ax_r.axhline(1.0, color="0.5", linewidth=0.5)
        ax_r.errorbar(s["mean_d_gz"], s["measured"], yerr=3 * s["se_rel"] * s["measured"],
                      fmt="o", color=LOSS_STYLE["g_loss"].color, markersize=4, capsize=2,
                      label=r"measured ($\pm 3$ s.e.)", zorder=3)
        ax_r.plot(s["mean_d_gz"], s["per_sample"], "s", mfc="none",
                  color=PALETTE["bluish_green"], markersize=6, label="per-sample law")
        ax_r.plot(s["mean_d_gz"], s["gandyn_sampling"], "x", color=PALETTE["vermillion"],
                  markersize=5, label="gandyn, single $p$")
        ax_r.plot(s["mean_d_gz"], s["gandyn_sampling_spread"], "+", color=PALETTE["blue"],
                  markersize=7, label="gandyn, spread of $l$")
        for k, (x, y) in enumerate(zip(s["mean_d_gz"], s["measured"], strict=True)):
            ax_r.annotate(str(k + 1), (x, y), textcoords="offset points", xytext=(4, -9),
                          fontsize=note_fontsize())
        ax_r.set_yscale("log")
        ax_r.set_xlim(0.1, 0.55)
        ax_r.set_xlabel(r"segment mean $D(G(z))$")
        ax_r.set_ylabel(r"std($\Delta g_\mathrm{loss}$) / std($\Delta d_\mathrm{fake}$)")
        ax_r.legend(loc="upper right", fontsize=note_fontsize(), frameon=False)
        study.save(fig, "explain-numpy-gan", data={
            "step": step, "d_fake_printed": printed["d_fake"], "g_loss_printed": printed["g_loss"],
            "d_real_printed": printed["d_real"], "d_gz": d_gz,
            "sd_d_fake": history["sd_d_fake"], "sd_g_loss": history["sd_g_loss"],
            **{f"segment_{k}": v for k, v in s.items()}})


if __name__ == "__main__":
    Study.main(run, slug=SLUG, claim=CLAIM)
