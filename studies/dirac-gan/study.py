"""The Dirac-GAN under each loss and regularizer, simultaneous and alternating steps.

Mescheder, Geiger and Nowozin (2018), "Which Training Methods for GANs do
actually Converge?" (ICML), study a generator that is a point mass at
``theta`` against data at 0 and a linear discriminator ``psi x``. Their
verdicts (Sec. 2.2 and 3; Fig. 1 shows alternating gradient descent): the
unregularized GAN is not always convergent (simultaneous steps: eigenvalues
``1 +- i h f'(0)`` outside the unit circle, Lemma 2.3; alternating steps: on
the unit circle, Lemma 2.4), WGAN and WGAN-GP with a finite number of
discriminator updates do not always converge, while instance noise,
zero-centred gradient penalties (R1, R2) and consensus optimization converge
for small enough steps.

This study re-runs their notebook's settings (``h = 0.2`` from ``(1, 1)``;
WGAN clipped at 1; WGAN-GP penalty 0.7 in the notebook's field, gandyn's
``gamma_gp = 0.35`` with target 1; instance noise ``sigma = 0.7``; R1 0.3;
consensus 1; the generator moves first in alternating steps, as in the
notebook) with gandyn's engine, measures each run's verdict from the distance
to the equilibrium, and checks it and the linearization against the paper.
gandyn's ``psi`` is minus the paper's (a real-logit, not a fakeness score), so
every portrait is the paper's mirrored in ``psi``.

Run ``python studies/dirac-gan/study.py [--quick]``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from gandyn.study import Study

SLUG = "dirac-gan"
CLAIM = ("on the Dirac-GAN unregularized GAN, WGAN and WGAN-GP training do not converge, "
         "instance noise, R1 and consensus optimization do (Mescheder et al. 2018)")
H = 0.2
START = (("theta", 1.0), ("psi", 1.0))
#: gandyn's altgd moves the discriminator first by default; the notebook moves G first.
FIRST = "g"
F_PRIME = 0.5  # f'(0) of f(t) = -log(1 + exp(-t)) (Mescheder et al. 2018, Sec. 2.2)
F_SECOND = 0.25  # |f''(0)|


@dataclass(frozen=True)
class Method:
    """One row: a loss and regularizers, the paper's verdict and the flow's closed form."""

    key: str
    title: str
    loss: str
    regularizers: tuple[tuple[str, dict[str, float]], ...]
    clip: float | None
    converges: bool  # the paper's verdict
    eigenvalues: tuple[complex, complex] | None  # closed form of dF/dx at (0, 0)
    source: str


def pair(re: float, im_squared: float) -> tuple[complex, complex]:
    im = math.sqrt(im_squared)
    return (complex(re, -im), complex(re, im))


METHODS = (
    Method("minimax", "GAN", "minimax", (), None, False, pair(0.0, F_PRIME**2),
           "Sec. 2.2, Lemma 2.2: +-i f'(0)"),
    Method("ns", "NS-GAN", "non-saturating", (), None, False, pair(0.0, F_PRIME**2),
           "Sec. 2.2: same Jacobian as the GAN at the equilibrium"),
    Method("wgan", "WGAN", "wasserstein", (), 1.0, False, pair(0.0, 1.0),
           "Sec. 3 (WGAN): f(t) = t, so +-i"),
    Method("wgan-gp", "WGAN-GP", "wasserstein", (("wgan-gp", {"gamma": 0.35, "target": 1.0}),),
           None, False, None, "Sec. 3 (WGAN-GP): the field jumps at psi = 0"),
    Method("noise", "inst. noise", "minimax", (("instance-noise", {"sigma": 0.7}),), None, True,
           pair(-F_SECOND * 0.7**2, F_PRIME**2 - (F_SECOND * 0.7**2) ** 2),
           "Sec. 3 (instance noise): -|f''(0)| sigma^2 +- sqrt(f''(0)^2 sigma^4 - f'(0)^2)"),
    Method("r1", "R1", "minimax", (("r1", {"gamma": 0.3}),), None, True,
           pair(-0.3 / 2, F_PRIME**2 - 0.3**2 / 4),
           "Sec. 3 (zero-centred penalties): -gamma/2 +- sqrt(gamma^2/4 - f'(0)^2)"),
    Method("consensus", "consensus", "minimax", (("consensus", {"gamma": 1.0}),), None, True,
           pair(-1.0 * F_PRIME**2, F_PRIME**2),
           "Mescheder et al. 2017 (-gamma J^T J added): -gamma f'(0)^2 +- i f'(0)"),
)
RULES = (("simgd", "simultaneous", ()), ("altgd", "alternating", (("first", FIRST),)))


def classify(distance: np.ndarray[Any, Any], diverged: bool) -> dict[str, Any]:
    """The verdict of one run from its distance to the equilibrium ``d_k``.

    * ``spirals out``: diverged, or ``d_K > 1.5 d_0``;
    * ``converges``: linearly: ``d_K < 1e-3 d_0`` and the fitted rate of
      ``log d_k`` (where ``1e-12 d_0 < d_k < 1e-2 d_0``) below ``1 - 1e-3``;
    * ``creeps in``: ``d`` still shrinks like ``k^-p`` with ``p > 0.2`` (the
      exponent from geometric means of ``d`` over ``[0.45K, 0.55K]`` and
      ``[0.9K, K]``) but at no linear rate;
    * ``cycles``: otherwise (bounded, no trend).
    """
    d = np.maximum(distance, 1e-300)
    n = len(d) - 1
    k = np.arange(n + 1)
    # The rate is fitted where the run is linear: past the transient (d < 1e-2 d_0) and
    # above round-off (d > 1e-12 d_0; quadrature rules leave |F(0, 0)| ~ 1e-18); runs that
    # never get there are fitted over their second half.
    window = (d < 1e-2 * d[0]) & (d > 1e-12 * d[0])
    if window.sum() < 20:
        window = k >= n // 2
    rate = float(np.exp(np.polyfit(k[window], np.log(d[window]), 1)[0]))
    middle = float(np.exp(np.mean(np.log(d[int(0.45 * n): int(0.55 * n) + 1]))))
    end = float(np.exp(np.mean(np.log(d[int(0.9 * n):]))))
    exponent = -math.log(end / middle) / math.log(0.95 / 0.5)
    if diverged or d[-1] > 1.5 * d[0]:
        verdict = "spirals out"
    elif d[-1] < 1e-3 * d[0] and rate < 1 - 1e-3:
        verdict = "converges"
    elif exponent > 0.2:
        verdict = "creeps in"
    else:
        verdict = "cycles"
    return {"verdict": verdict, "rate": rate, "exponent": exponent, "final": float(distance[-1])}


def run(study: Study) -> None:
    from gandyn.derivation.field import derive
    from gandyn.dynamics.discrete import simulate_rule
    from gandyn.equilibria import flow_stability, map_stability
    from gandyn.games.game import make_game
    from gandyn.rules import FieldFunctions, make_rule
    from gandyn.runs.build import simulate as run_spec

    steps = 500 if study.quick else 2000
    origin = np.zeros(2)
    d0 = math.hypot(START[0][1], START[1][1])
    runs: dict[tuple[str, str], dict[str, Any]] = {}
    fields: dict[str, Any] = {}
    x0 = np.array([[value for _, value in START]])

    def simulate(method: Method, vf: Any, optimizer: str,
                 settings: tuple[tuple[str, Any], ...]) -> tuple[Any, Any]:
        # As gandyn.runs.build.run does, reusing one derived game for every rule.
        rule = make_rule(optimizer, H, H, **dict(settings))
        project = None
        if method.clip is not None:
            bound = method.clip

            def project(x: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
                clipped = x.copy()  # WGAN weight clipping of the discriminator's psi
                clipped[:, 1] = np.clip(clipped[:, 1], -bound, bound)
                return clipped

        traj = simulate_rule(rule, FieldFunctions.of(vf), vf.logged_fn, x0, steps,
                             state_names=("theta", "psi"), logged_names=vf.logged_names,
                             project=project)
        return rule, traj

    for method in METHODS:
        game = make_game("dirac", method.loss, list(method.regularizers))
        vf = derive(game)
        fields[method.key] = vf
        for optimizer, _, settings in RULES:
            rule, traj = simulate(method, vf, optimizer, settings)
            distance = np.linalg.norm(traj.x[0], axis=1)
            # WGAN-GP's field jumps at psi = 0: its Jacobian there describes nothing.
            radius = (map_stability(rule, FieldFunctions.of(vf), origin).spectral_radius
                      if method.eigenvalues else float("nan"))
            runs[method.key, optimizer] = {
                "traj": traj, "distance": distance, "radius": radius,
                **classify(distance, bool(traj.diverged[0])),
            }

    stationary = {m.key: float(np.max(np.abs(fields[m.key].field_fn(origin)))) for m in METHODS}
    study.check("(theta, psi) = (0, 0) is stationary for every loss and regularizer",
                max(stationary.values()) < 1e-12,
                f"max |F(0, 0)| = {max(stationary.values()):.1g}")

    # The linearization at the equilibrium against the paper's closed forms.
    errors, lines = [], []
    for method in METHODS:
        if method.eigenvalues is None:
            continue
        eig = flow_stability(fields[method.key].jacobian_fn(origin)).eigenvalues
        errors.append(float(np.max(np.abs(eig - np.array(method.eigenvalues)))))
        lines.append(f"{method.key} {eig[1].real + 0.0:.4g}+-{eig[1].imag:.4g}i")
    study.check("flow eigenvalues at (0, 0) match the paper's closed forms (Sec. 2.2, 3)",
                max(errors) < 1e-9, "; ".join(lines) + f" (max error {max(errors):.1g})")
    vf_gp = fields["wgan-gp"]
    eps = 1e-9
    jump = float(np.abs(vf_gp.field_fn(np.array([0.0, eps]))[1]
                        - vf_gp.field_fn(np.array([0.0, -eps]))[1]))
    study.check("WGAN-GP's field jumps across psi = 0 by 4 gamma target: no linearization there",
                abs(jump - 4 * 0.35 * 1.0) < 1e-6,
                f"|F_psi(0, +eps) - F_psi(0, -eps)| = {jump:.6g} (4 gamma target = 1.4)")

    # Lemma 2.3 and 2.4: the unregularized maps at the equilibrium.
    for key in ("minimax", "ns"):
        sim, alt = runs[key, "simgd"]["radius"], runs[key, "altgd"]["radius"]
        study.check(f"{key}: simgd radius sqrt(1 + h^2 f'(0)^2) > 1, altgd radius 1 "
                    "(Lemmas 2.3, 2.4)",
                    abs(sim - math.sqrt(1 + (H * F_PRIME) ** 2)) < 1e-12
                    and abs(alt - 1) < 1e-12,
                    f"simgd {sim:.10g}, altgd {alt:.10g}")

    for method in METHODS:
        for optimizer, rule_title, _ in RULES:
            r = runs[method.key, optimizer]
            converged = r["verdict"] == "converges"
            detail = (f"measured: {r['verdict']}, |x - x*| {d0:.3g} -> {r['final']:.3g} in "
                      f"{steps} steps, fitted rate {r['rate']:.5f}/step")
            if r["verdict"] == "creeps in":
                detail += f", ~k^-{r['exponent']:.2f}"
            if method.converges:
                detail += f", spectral radius of the map {r['radius']:.5f}"
                holds = converged and abs(r["rate"] - r["radius"]) < 5e-4 and r["radius"] < 1
            else:
                holds = not converged
            study.check(f"{method.title}, {rule_title}: "
                        + ("converges" if method.converges else "does not converge"),
                        holds, detail)
    study.check("the unregularized minimax GAN does not converge at all: simgd spirals out, "
                "altgd cycles",
                runs["minimax", "simgd"]["verdict"] == "spirals out"
                and runs["minimax", "altgd"]["verdict"] == "cycles",
                f"simgd {runs['minimax', 'simgd']['verdict']}, "
                f"altgd {runs['minimax', 'altgd']['verdict']}")

    # R2 penalizes the same slope as R1 here (the logit psi x has slope psi everywhere).
    r2 = run_spec(game="dirac", loss="minimax", regularizers=[("r2", {"gamma": 0.3})],
                  optimizer="simgd", lr=H, steps=steps, starts=[dict(START)]).trajectory
    same = np.allclose(r2.x, runs["r1", "simgd"]["traj"].x, rtol=1e-12, atol=1e-300)
    study.check("R2 gives the same run as R1 on the Dirac-GAN", bool(same),
                "simultaneous steps, gamma = 0.3")

    # The notebook moves the generator first; gandyn's loops, like most, the discriminator.
    flipped = []
    for method in METHODS:
        _, traj = simulate(method, fields[method.key], "altgd", (("first", "d"),))
        other = classify(np.linalg.norm(traj.x[0], axis=1), bool(traj.diverged[0]))
        if (other["verdict"] == "converges") != (runs[method.key, "altgd"]["verdict"]
                                                  == "converges"):
            flipped.append(method.key)
    study.check("the alternating verdicts do not depend on which player moves first",
                not flipped, f"changed: {flipped or 'none'}")
    study.metadata.update({"lr": H, "steps": steps, "start": dict(START), "altgd_first": FIRST,
                           "methods": {m.key: {"loss": m.loss, "regularizers": list(m.regularizers),
                                               "clip": m.clip, "paper_converges": m.converges,
                                               "eigenvalues_source": m.source}
                                       for m in METHODS}})

    with study.figure() as style:
        from gandyn.plotting import PALETTE, TWO_COLUMN, phase_portrait
        from gandyn.plotting.style import note_fontsize

        fig = style.new((TWO_COLUMN[0], 2.75))
        axes = fig.subplots(2, len(METHODS), sharex=True, sharey=True)
        lim = (-2.0, 2.0)
        for j, method in enumerate(METHODS):
            for i, (optimizer, rule_title, _) in enumerate(RULES):
                ax = axes[i, j]
                r = runs[method.key, optimizer]
                phase_portrait(ax, fields[method.key], r["traj"], xlim=lim, ylim=lim,
                               density=0.45, equilibria=[[0.0, 0.0]])
                good = r["verdict"] == "converges"
                label = r["verdict"]
                if label == "creeps in":
                    label += rf" $\propto k^{{-{r['exponent']:.2f}}}$"
                ax.text(0.5, 0.02, label, transform=ax.transAxes, ha="center",
                        va="bottom", fontsize=note_fontsize(),
                        color=PALETTE["bluish_green"] if good else PALETTE["vermillion"],
                        bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85,
                              "pad": 0.8})
                if i == 0:
                    ax.set_title(method.title, fontsize=note_fontsize())
                ax.set_xticks([-1.0, 0.0, 1.0])
                ax.set_yticks([-1.0, 0.0, 1.0])
                ax.label_outer()
                if j == 0:
                    ax.set_ylabel(f"{rule_title}\n" + r"$\psi$")
        study.save(fig, "dirac-gan", data={
            "method": np.array([m.key for m in METHODS]),
            "rule": np.array([r[0] for r in RULES]),
            **{f"{m.key}_{opt}_x": runs[m.key, opt]["traj"].x[0] for m in METHODS
               for opt, _, _ in RULES},
            "verdict": np.array([[runs[m.key, opt]["verdict"] for opt, _, _ in RULES]
                                 for m in METHODS]),
            "final_distance": np.array([[runs[m.key, opt]["final"] for opt, _, _ in RULES]
                                        for m in METHODS]),
            "fitted_rate": np.array([[runs[m.key, opt]["rate"] for opt, _, _ in RULES]
                                     for m in METHODS]),
            "spectral_radius": np.array([[runs[m.key, opt]["radius"] for opt, _, _ in RULES]
                                         for m in METHODS]),
        })


if __name__ == "__main__":
    Study.main(run, slug=SLUG, claim=CLAIM)
