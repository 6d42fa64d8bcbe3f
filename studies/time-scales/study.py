"""Two time scales: how the ratio of learning rates decides stability, and what it cannot change.

Training with the discriminator's learning rate ``tau`` times the
generator's (TTUR, Heusel et al. 2017; tau-GDA, Jin, Netrapalli and Jordan
2020) is, for small steps, the flow ``dtheta/dt = F_theta``,
``dpsi/dt = tau F_psi`` with Jacobian ``J_tau = diag(1, tau) dF/dx``.

* On the bilinear game with own costs ``a theta^2/2`` and ``b psi^2/2``,
  ``a = -1/2``, ``b = 1`` (Gidel et al. 2019, Sec. 5), the origin is no Nash
  equilibrium (the generator's own cost curves down) but a strict local
  minimax and differential Stackelberg point. The flow converges to it only
  for ``tau > tau* = -a/b = 1/2`` (the trace of the 2 x 2 Jacobian), as
  Fiez and Ratliff (2021) show in general: a finite time-scale separation
  suffices. gandyn's critical ratio, its simulated flows (``simulate
  --optimizer flow --lr-g 1 --lr-d tau``) and the growth rates of their
  distance to the origin are checked against the closed form.
* On a GAN, the 1-D Gaussian game with the non-saturating loss at its
  equilibrium (the generator matches the data, ``D = 1/2``), the generator's
  own Hessian vanishes (the Nash test: undecided) and the point is a differential
  Stackelberg equilibrium; the flow is stable for every ratio, so the ratio
  changes the rate of convergence, not the verdict. With discrete
  simultaneous steps it changes the largest stable step: gandyn's bound from
  the map's spectral radius is checked by simulation on both sides.

Run ``python studies/time-scales/study.py [--quick]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.linalg import expm

from gandyn.study import Study

SLUG = "time-scales"
CLAIM = ("the ratio tau = lr_d/lr_g decides the stability of a local minimax point that is not "
         "Nash (bilinear game: stable exactly for tau > -a/b) but only the rate at a GAN "
         "equilibrium that is Stackelberg and stable for every ratio (Gaussian GAN)")
A, B = -0.5, 1.0
#: The Gaussian GAN's equilibrium: the generator matches N(0, 1), the discriminator is constant.
GAUSSIAN_EQUILIBRIUM = {"theta_mu": 0.0, "theta_sigma": 1.0, "psi_0": 0.0, "psi_1": 0.0,
                        "psi_2": 0.0}
#: The start of the bilinear flows.
START = {"theta": 1.0, "psi": 0.5}


def _growth_rate(t: np.ndarray[Any, Any], x: np.ndarray[Any, Any]) -> float:
    """Slope of log|x(t)| over the second half of the run (the slowest mode dominates there)."""
    half = len(t) // 2
    slope, _ = np.polyfit(t[half:], np.log(np.linalg.norm(x[half:], axis=1)), 1)
    return float(slope)


def run(study: Study) -> None:
    from gandyn.derivation.field import derive
    from gandyn.dynamics.discrete import simulate_rule
    from gandyn.equilibria import stable_lr_range
    from gandyn.equilibria.local_optimality import local_minimax, nash_type
    from gandyn.equilibria.stackelberg import stackelberg_type
    from gandyn.equilibria.timescales import time_scales
    from gandyn.games.game import make_game
    from gandyn.rules.base import FieldFunctions
    from gandyn.rules.registry import make_rule
    from gandyn.runs.build import simulate

    # --- the bilinear game: a critical ratio -------------------------------------------------
    bilinear = derive(make_game("bilinear").with_params({"a": A, "b": B}))
    origin = {"theta": 0.0, "psi": 0.0}
    jac = np.asarray(bilinear.jacobian_fn(np.zeros(2)), dtype=np.float64)
    scales = time_scales(jac, 1, tau=1.0, ratio_range=(1e-3, 1e3))
    closed = -A / B
    study.check("bilinear: the only critical ratio is tau* = -a/b = 0.5 (closed form)",
                len(scales.critical) == 1 and abs(scales.critical[0] - closed) < 1e-10 * closed,
                f"critical ratios {scales.critical}; stable for {scales.stable_ratios()}")
    minimax_test = local_minimax(bilinear, origin)
    nash = nash_type(bilinear, origin).verdict
    minimax = None if minimax_test is None else minimax_test.verdict
    stackelberg = stackelberg_type(bilinear, origin)
    study.check("bilinear: the origin is not Nash (a < 0) but local minimax and Stackelberg "
                "(a + 1/b > 0)",
                nash == "not-nash" and minimax == "yes"
                and stackelberg.verdict == "differential-stackelberg",
                f"Nash: {nash}; local minimax: {minimax}; Stackelberg: {stackelberg.verdict} "
                f"(leader's Hessian {stackelberg.leader_hessian_eigenvalues})")
    study.check("bilinear: stable for all large ratios, unstable for all small ones (limits)",
                scales.limits == {"fast_discriminator": True, "fast_generator": False},
                str(scales.limits))
    ratios = [0.25, 0.5, 1.0, 4.0] if study.quick else [0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 10.0]
    t_end = 40.0
    flows = {}
    for tau in ratios:
        result = simulate(game="bilinear", params={"a": A, "b": B}, optimizer="flow", lr_g=1.0,
                          lr_d=tau, settings={"t_end": t_end, "n_eval": 401},
                          starts=[START])
        flows[tau] = (np.asarray(result.trajectory.t), np.asarray(result.trajectory.x[0]))
    # The game is linear: the flow is exactly x(t) = expm(J_tau t) x(0).
    x0 = np.array([START["theta"], START["psi"]])
    errors = {}
    for tau in ratios:
        t, x = flows[tau]
        exact = np.stack([expm(np.diag([1.0, tau]) @ jac * s) @ x0 for s in t])
        errors[tau] = float(np.max(np.linalg.norm(x - exact, axis=1)
                                   / np.maximum(np.linalg.norm(exact, axis=1), 1e-3)))
    study.check("bilinear: each simulated flow is expm(J_tau t) x(0)",
                max(errors.values()) < 1e-5,
                "; ".join(f"tau {tau:g}: max relative error {err:.1e}"
                          for tau, err in errors.items()))
    rates = {tau: _growth_rate(*flows[tau]) for tau in ratios}
    predicted = {tau: float(np.max(np.linalg.eigvals(np.diag([1.0, tau]) @ jac).real))
                 for tau in ratios}
    decays = [tau for tau in ratios if np.linalg.norm(flows[tau][1][-1]) < 1e-2]
    study.check("bilinear: the flows with tau > 1/2 reach the origin, those below move away",
                all((tau > closed) == (tau in decays) for tau in ratios if tau != closed),
                f"|x(t = {t_end:g})| < 0.01 for tau in {decays}")

    # --- the Gaussian GAN: stable for every ratio; the ratio sets rate and step size ---------
    gan = derive(make_game("gaussian", "non-saturating"))
    names = [s.name for s in gan.game.state_symbols]
    x_eq = np.array([GAUSSIAN_EQUILIBRIUM[n] for n in names])
    gan_jac = np.asarray(gan.jacobian_fn(x_eq), dtype=np.float64)
    n_theta = len(gan.game.theta)
    gan_scales = time_scales(gan_jac, n_theta, tau=1.0, ratio_range=(1e-3, 1e3))
    gan_nash = nash_type(gan, GAUSSIAN_EQUILIBRIUM).verdict
    gan_stackelberg = stackelberg_type(gan, GAUSSIAN_EQUILIBRIUM)
    study.check("Gaussian GAN: stationary, Nash undecided (a singular Hessian), Stackelberg, "
                "stable for every ratio",
                float(np.max(np.abs(gan.field_fn(x_eq)))) < 1e-12 and gan_nash == "undecided"
                and gan_stackelberg.verdict == "differential-stackelberg"
                and gan_scales.critical == ()
                and gan_scales.stable_ratios() == "every tau in [0.001, 1000]",
                f"Nash: {gan_nash}; Stackelberg: {gan_stackelberg.verdict} "
                f"({gan_stackelberg.reason}); stable for {gan_scales.stable_ratios()}")
    taus = np.logspace(-3, 3, 61 if study.quick else 241)
    abscissa = np.array([np.max(np.linalg.eigvals(np.diag([1.0] * n_theta + [t] * 3)
                                                  @ gan_jac).real) for t in taus])
    fastest = float(taus[int(np.argmin(abscissa))])
    step_ratios = [0.25, 1.0, 4.0] if study.quick else [0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 10.0]
    bounds = {}
    for tau in step_ratios:
        interval = stable_lr_range(gan, "simgd", x_eq, lr_ratio=tau, lr_max=20.0, n=120)
        bounds[tau] = np.nan if interval is None else interval[1]
    # Every (ratio, 0.9 or 1.1 x the bound) pair in one batch of runs: the rule takes
    # per-run learning rates (what `gandyn simulate --optimizer simgd` iterates).
    start = x_eq + np.array([0.05 if n in ("theta_mu", "psi_1") else 0.0 for n in names])
    pairs = [(tau, factor) for tau in bounds for factor in (0.9, 1.1)]
    lr_g = np.array([factor * bounds[tau] for tau, factor in pairs])
    lr_d = np.array([tau for tau, _ in pairs]) * lr_g
    runs = simulate_rule(make_rule("simgd", lr_g, lr_d), FieldFunctions.of(gan), gan.logged_fn,
                         np.tile(start, (len(pairs), 1)), 3000, every=3000,
                         state_names=tuple(names), logged_names=gan.logged_names)
    moved_away = [bool(runs.diverged[r]) or float(np.linalg.norm(runs.x[r, -1] - x_eq))
                  > float(np.linalg.norm(start - x_eq)) for r in range(len(pairs))]
    agree = [moved_away[2 * i:2 * i + 2] == [False, True] for i in range(len(bounds))]
    study.check("Gaussian GAN, simgd: 0.9 x the largest stable step converges, 1.1 x does not",
                all(agree), "; ".join(f"tau {tau:g}: lr_g < {bound:.4g}"
                                      for tau, bound in bounds.items()))
    study.metadata.update({"a": A, "b": B, "critical_ratio": closed, "ratios": ratios,
                           "gaussian_fastest_ratio": fastest,
                           "gaussian_step_bounds": {str(k): v for k, v in bounds.items()}})

    with study.figure() as style:
        from matplotlib.ticker import NullLocator

        from gandyn.plotting import TWO_COLUMN
        from gandyn.plotting.style import series_style
        from gandyn.plotting.time_scales import time_scale_axes, time_scale_data

        fig = style.new((TWO_COLUMN[0], 4.8))
        (ax_a, ax_b), (ax_c, ax_d) = fig.subplots(2, 2)
        data = time_scale_data(jac, 1, (1e-2, 1e2), 301)
        time_scale_axes(ax_a, data)
        ax_a.set_title("(a) bilinear, $a = -1/2$, $b = 1$", loc="left", pad=16)
        for k, tau in enumerate(ratios):
            t, x = flows[tau]
            ax_b.semilogy(t, np.linalg.norm(x, axis=1), **series_style(k, len(ratios)).kwargs(),
                          markevery=0.1, markersize=3, label=rf"$\tau = {tau:g}$")
        ax_b.set_xlabel("time $t$ (generator's clock)")
        ax_b.set_ylabel(r"$\|x(t)\|$")
        ax_b.legend(loc="lower left", frameon=False, ncols=2)
        ax_b.set_title(r"(b) flows; stable for $\tau > 1/2$", loc="left")
        ax_c.semilogx(taus, abscissa, color="k", linewidth=1.0)
        ax_c.axhline(0.0, color="0.4", linewidth=0.8)
        ax_c.axvline(fastest, color="0.4", linewidth=0.8, linestyle=":")
        ax_c.annotate(rf"fastest: $\tau \approx {fastest:.2g}$", (fastest, 0.02),
                      xycoords=("data", "axes fraction"), xytext=(4, 0),
                      textcoords="offset points", ha="left", va="bottom")
        ax_c.set_xlabel(r"$\tau = \eta_D / \eta_G$")
        ax_c.set_ylabel(r"$\max\,\mathrm{Re}\,\lambda(J_\tau)$")
        ax_c.set_title("(c) Gaussian GAN (NS): stable for every $\\tau$", loc="left")
        ax_d.semilogx(list(bounds), list(bounds.values()), marker="o", color="k",
                      linewidth=1.0, markersize=3, label=r"largest stable $\eta_G$")
        ax_d.semilogx(list(bounds), [tau * b for tau, b in bounds.items()], marker="s",
                      color="0.5", linestyle="--", linewidth=1.0, markersize=3,
                      label=r"$\eta_D = \tau\,\eta_G$ there")
        ax_d.set_ylim(bottom=0.0)
        ax_d.set_xticks(list(bounds), [f"{tau:g}" for tau in bounds])
        ax_d.xaxis.set_minor_locator(NullLocator())
        ax_d.set_xlabel(r"$\tau = \eta_D / \eta_G$")
        ax_d.set_ylabel("learning rate")
        ax_d.legend(loc="best", frameon=False)
        ax_d.set_title("(d) Gaussian GAN, simultaneous steps", loc="left")
        study.save(fig, SLUG, data={
            "tau": data["tau"], "eigenvalues_real": data["eigenvalues_real"],
            "critical_ratios": data["critical_ratios"],
            "flow_ratios": np.array(ratios),
            "flow_t": np.stack([flows[t][0] for t in ratios]),
            "flow_norm": np.stack([np.linalg.norm(flows[t][1], axis=1) for t in ratios]),
            "flow_growth": np.array([rates[t] for t in ratios]),
            "flow_predicted": np.array([predicted[t] for t in ratios]),
            "gaussian_tau": taus, "gaussian_abscissa": abscissa,
            "step_ratios": np.array(step_ratios),
            "step_bounds": np.array([bounds[t] for t in step_ratios]),
        })


if __name__ == "__main__":
    Study.main(run, slug=SLUG, claim=CLAIM)
