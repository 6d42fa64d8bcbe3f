"""Why d_fake looks smooth while g_loss swings: the motivating question of gandyn.

Left: the three losses of the stochastic 1-D Gaussian game trained the way the
books train a GAN (Adam with beta1 = 0.5, minibatches of 64, a discriminator
ten times faster than the generator), logged as a training loop logs them.
Middle: the Dirac-GAN's orbit under simultaneous gradient steps. Right: both
losses as functions of the discriminator's logit ``l`` on a fake,
``d_fake = softplus(l)`` and ``g_loss = softplus(-l)``, with the logits each
run visits: where ``l < 0`` (the discriminator winning) ``d_fake`` is flat
and ``g_loss`` steep.

Run ``python studies/dfake-vs-gloss/study.py [--quick] [--out DIR]``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import sympy as sp

from gandyn.explain import analyze_series, logit_relations
from gandyn.runs import build
from gandyn.runs.spec import GameSpec, MinibatchSpec, RuleSpec, RunSpec
from gandyn.study import Study

CLAIM = ("d_fake = softplus(l) and g_loss = softplus(-l) of the same fake logit l: where the "
         "discriminator wins (l < 0) a swing of l moves g_loss (1 - p)/p times more than d_fake")

#: The book-style run: data N(4, 1.25^2) as in Brownlee's 1-D GAN tutorial's spirit,
#: Adam(beta1 = 0.5) as in Radford et al. (2016), a discriminator 10x faster.
GAUSSIAN = RunSpec(game=GameSpec("gaussian", loss="non-saturating",
                                  params={"mu": 4.0, "sigma": 1.25}),
                   rule=RuleSpec("adam", lr_g=2e-4, lr_d=2e-3, settings={"beta1": 0.5}),
                   measure="loop", minibatch=MinibatchSpec(batch_size=64, seed=1))
#: The Dirac-GAN (Mescheder et al. 2018) from (1, 1) with steps of 0.1.
DIRAC = RunSpec(game=GameSpec("dirac", loss="non-saturating"),
                rule=RuleSpec("simgd", lr_g=0.1, lr_d=0.1), measure="state",
                starts=({"theta": 1.0, "psi": 1.0},))


def _softplus(x: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    return np.asarray(np.logaddexp(0.0, x))


def run(study: Study) -> None:
    steps_g = 1500 if study.quick else 3000
    steps_d = 600 if study.quick else 2000
    gauss = build.run(replace(GAUSSIAN, steps=steps_g))
    dirac = build.run(replace(DIRAC, steps=steps_d))
    tg, td = gauss.trajectory, dirac.trajectory
    study.check("neither run diverges", not (tg.diverged.any() or td.diverged.any()))

    # --- the book's picture: D winning, g_loss swinging far more than d_fake
    d_fake, g_loss = tg.loss("d_fake")[0], tg.loss("g_loss")[0]
    gauss_report = analyze_series(d_fake, g_loss, batch_sizes=(64, 64), tol=0.05)
    winning = gauss_report.regime_fractions["discriminator winning"]
    raw = gauss_report.std_ratio_measured["raw"]
    study.check("Gaussian game, book-style training: the discriminator is ahead",
                gauss_report.mean_p < 0.4,
                f"mean p = D(G(z)) {gauss_report.mean_p:.3f}; p < 0.3 on {100 * winning:.0f}% "
                "of the steps")
    study.check("Gaussian game: g_loss swings more than twice as much as d_fake",
                raw > 2.0, f"std(g_loss)/std(d_fake) = {raw:.2f}")
    study.check("Gaussian game: both losses describe one D(G(z)) (Jensen check)",
                gauss_report.consistent,
                "min excess of d_fake + g_loss "
                f"{gauss_report.consistency['min_jensen_excess']:.3g}")

    # --- the exact identity and the first-order law on the Dirac-GAN orbit
    theta, psi = td.x[0, :, 0], td.x[0, :, 1]
    dd, dg = td.loss("d_fake")[0], td.loss("g_loss")[0]
    logit = psi * theta
    identity = float(np.max(np.abs((dd - dg) - logit)))
    study.check("Dirac-GAN: d_fake - g_loss = l = psi theta exactly", identity < 1e-12,
                f"max deviation {identity:.1e}")
    dirac_report = analyze_series(dd, dg, single_logit=True, tol=1e-9)
    err = dirac_report.relative_error["per-step-diff"]
    study.check("Dirac-GAN: the measured ratio of step-to-step changes is the first-order "
                "law's rms((1 - p) dl)/rms(p dl)", dirac_report.consistent and abs(err) < 0.02,
                f"measured {dirac_report.std_ratio_measured['diff']:.4f}, predicted "
                f"{dirac_report.std_ratio_predicted['per-step-diff']:.4f} ({100 * err:+.2f}%)")
    # gandyn's symbolic law against central differences of the two curves.
    relations = logit_relations("non-saturating")
    law_fn = sp.lambdify(relations.logit, relations.std_ratio_l, "numpy")
    l_grid = np.linspace(-6.0, 6.0, 601)
    h = 1e-5
    slope_d = (_softplus(l_grid + h) - _softplus(l_grid - h)) / (2 * h)
    slope_g = (_softplus(-l_grid - h) - _softplus(-l_grid + h)) / (2 * h)
    law = float(np.max(np.abs(-slope_g / slope_d / law_fn(l_grid) - 1)))
    study.check("the ratio of the curves' slopes is the derived law "
                f"{relations.std_ratio_l}", law < 1e-6,
                f"central differences: max relative error {law:.1e}")

    # --- the figure
    from gandyn.plotting import LOSS_STYLE, TWO_COLUMN, loss_curves, phase_portrait
    from gandyn.plotting.style import note_fontsize

    l_gauss = d_fake - g_loss  # the mean fake logit of each minibatch (exact)
    with study.figure() as style:
        fig = style.new((TWO_COLUMN[0], 2.6))
        ax_loss, ax_orbit, ax_logit = fig.subplots(1, 3, width_ratios=[1.3, 1.0, 1.0])
        loss_curves(ax_loss, tg, legend=False)
        ax_loss.legend(loc="upper left", ncols=3, fontsize=note_fontsize())
        ax_loss.set_title("(a) Gaussian game, minibatch Adam")
        phase_portrait(ax_orbit, dirac.field, td, equilibria=[(0.0, 0.0)])
        ax_orbit.set_title("(b) Dirac-GAN orbit, step 0.1")
        for key, curve in (("d_fake", _softplus(l_grid)), ("g_loss", _softplus(-l_grid))):
            st = LOSS_STYLE[key]
            ax_logit.plot(l_grid, curve, color=st.color, linestyle=st.linestyle, label=st.label)
        lo, hi = np.quantile(l_gauss, [0.05, 0.95])
        ax_logit.axvspan(lo, hi, color="0.85", zorder=0, label="(a) visits")
        ax_logit.axvspan(float(logit.min()), float(logit.max()), facecolor="none",
                         edgecolor="0.3", hatch="///", linewidth=0.0, zorder=0,
                         label="(b) visits")
        ax_logit.set_xlabel(r"fake logit $l$")
        ax_logit.set_ylabel("loss")
        ax_logit.set_ylim(0, 6)
        ax_logit.set_title(r"(c) the same $l$, two slopes")
        ax_logit.legend(loc="lower left", bbox_to_anchor=(0.0, 0.1), fontsize=note_fontsize())
        study.save(fig, "dfake-vs-gloss", data={
            "gaussian_step": tg.step, "gaussian_d_real": tg.loss("d_real")[0],
            "gaussian_d_fake": d_fake, "gaussian_g_loss": g_loss,
            "dirac_theta": theta, "dirac_psi": psi, "dirac_d_fake": dd, "dirac_g_loss": dg,
            "logit": l_grid, "softplus_logit": _softplus(l_grid),
            "softplus_minus_logit": _softplus(-l_grid),
        }, metadata={"gaussian": gauss.spec.to_dict(), "dirac": dirac.spec.to_dict()})
    study.write_json("numbers.json", {"gaussian": gauss_report.to_dict(),
                                      "dirac": dirac_report.to_dict()})


if __name__ == "__main__":
    Study.main(run, slug="dfake-vs-gloss", claim=CLAIM)
