r"""Every update rule on the bilinear game, side by side, against its closed form.

The bilinear game ``cost_g = theta psi = -cost_d`` has the flow field
``F = (-psi, theta)``: with ``z = theta + i psi`` it is ``dz/dt = i z``, a pure
rotation about the unique equilibrium ``(0, 0)``. Every rule with equal steps
``h`` is then a linear recursion in ``z`` whose growth factor per step is the
largest modulus of the roots of a polynomial (rule: polynomial or map; growth):

* flow: ``z(t) = exp(i t) z(0)``; the norm is conserved;
* simgd: ``z' = (1 + i h) z``; grows by ``sqrt(1 + h^2)``;
* altgd (D first): trace ``2 - h^2``, det 1; stays on an invariant ellipse;
* simultaneous momentum: ``l^2 - (1 + beta + i h) l + beta``; > 1 for every beta;
* alternating momentum: ``(l - 1)^2 (l - beta)^2 + h^2 l^3``; < 1 for
  ``-1 + h/2 < beta < 0`` (``l = -1`` is a root iff ``4 (1 + beta)^2 = h^2``);
* OGDA: ``l^2 - (1 + 2 i h) l + i h``; ``sqrt((1 + sqrt(1 - 4 h^2)) / 2)``;
* extragradient: ``z' = (1 - h^2 + i h) z``; ``sqrt(1 - h^2 + h^4)``;
* SGA: ``z' = (1 - h lam + i h) z``; ``sqrt((1 - h lam)^2 + h^2)``.

The OGDA modulus follows from the roots ``l = ((1 +- sqrt(1 - 4h^2))/2) + i h``,
whose squared modulus simplifies to ``(1 +- sqrt(1 - 4 h^2)) / 2`` (``h < 1/2``).
The alternating-momentum polynomial: with both players' heavy ball
``x_{k+1} - x_k = beta (x_k - x_{k-1}) + h F``, the generator first, the
z-transforms satisfy ``(l - 1)(l - beta) Theta = -h l Psi`` and
``(l - 1)(l - beta) Psi = h l^2 Theta``; multiplying gives the quartic. At
``beta = 0`` it reduces to ``l^2 ((l - 1)^2 + h^2 l)``, alternating GD's pair.

The alternating heavy ball is gandyn's ``altmomentum`` rule
(:class:`gandyn.rules.momentum.AlternatingMomentum`), here with the generator first;
its map Jacobian is checked again against finite differences.

Run ``python studies/bilinear-optimizers/study.py [--quick]``.

References
----------
Mescheder, Nowozin and Geiger (2017), The Numerics of GANs (simgd, altgd);
Gidel et al. (2019), Negative Momentum for Improved Game Dynamics, AISTATS
(alternating updates are more stable; alternating negative momentum converges
on bilinear games, simultaneous momentum does not); Daskalakis et al. (2018),
Training GANs with Optimism, ICLR (OGDA); Korpelevich (1976) and Mokhtari,
Ozdaglar and Pattathil (2020), AISTATS (extragradient, OGDA rates); Balduzzi
et al. (2018), ICML (SGA); Kingma and Ba (2015), ICLR, Sec. 2.1 (Adam's step
bound).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from gandyn.rules import AlternatingMomentum, UpdateRule
from gandyn.study import Study

SLUG = "bilinear-optimizers"
CLAIM = ("on the bilinear game simgd spirals out by sqrt(1 + h^2) per step, altgd and the flow "
         "stay on closed orbits, extragradient, OGDA, SGA and alternating negative momentum "
         "converge at their closed-form rates")
H = 0.2
BETA = -0.5
LAM = 1.0
START = (1.0, 1.0)
Array = np.ndarray[Any, np.dtype[np.float64]]


@dataclass(frozen=True)
class Rule:
    """One panel: an update rule, its settings and its closed-form growth factor per step."""

    key: str
    label: str
    optimizer: str
    settings: tuple[tuple[str, Any], ...]
    rate: float  # closed-form |z_{k+1}| / |z_k| asymptotically
    formula: str


def largest_root(coefficients: list[complex]) -> float:
    """The largest modulus of the roots of a polynomial (highest power first)."""
    return float(np.max(np.abs(np.roots(coefficients))))


def simultaneous_momentum_rate(beta: float, h: float) -> float:
    """``l^2 - (1 + beta + i h) l + beta`` (Gidel et al. 2019; gandyn's tests)."""
    return largest_root([1.0, -(1.0 + beta + 1j * h), beta])


def alternating_momentum_rate(beta: float, h: float) -> float:
    """``(l - 1)^2 (l - beta)^2 + h^2 l^3`` (derived in the module docstring)."""
    quartic = np.polymul(np.polymul([1.0, -1.0], [1.0, -1.0]),
                         np.polymul([1.0, -beta], [1.0, -beta]))
    return largest_root(list(np.polyadd(quartic, [h * h, 0.0, 0.0, 0.0])))


def rules(h: float) -> list[Rule]:
    return [
        Rule("flow", "flow", "flow", (), 1.0, "1"),
        Rule("simgd", "simultaneous GD", "simgd", (), math.sqrt(1 + h * h), r"\sqrt{1+h^2}"),
        Rule("altgd", "alternating GD", "altgd", (("first", "d"),), 1.0, "1"),
        Rule("momentum+", r"sim. momentum $\beta=+0.5$", "momentum", (("beta", 0.5),),
             simultaneous_momentum_rate(0.5, h), "root"),
        Rule("momentum-", rf"sim. momentum $\beta={BETA:g}$", "momentum", (("beta", BETA),),
             simultaneous_momentum_rate(BETA, h), "root"),
        Rule("altmomentum-", rf"alt. momentum $\beta={BETA:g}$", "altmomentum",
             (("beta", BETA),), alternating_momentum_rate(BETA, h), "root"),
        Rule("adam", "Adam", "adam", (), float("nan"), "none"),
        Rule("ogda", "OGDA", "ogda", (), math.sqrt((1 + math.sqrt(1 - 4 * h * h)) / 2),
             r"\sqrt{(1+\sqrt{1-4h^2})/2}"),
        Rule("extragradient", "extragradient", "extragradient", (),
             math.sqrt(1 - h * h + h**4), r"\sqrt{1-h^2+h^4}"),
        Rule("sga", rf"SGA $\lambda={LAM:g}$", "sga", (("lam", LAM),),
             math.hypot(1 - h * LAM, h), r"\sqrt{(1-h\lambda)^2+h^2}"),
    ]


def fitted_rate(distance: Array, valid: int) -> float:
    """``exp`` of the least-squares slope of ``log |x_k|`` over the second half of the run."""
    k = np.arange(valid)
    half = slice(valid // 2, valid)
    slope = np.polyfit(k[half], np.log(np.maximum(distance[:valid][half], 1e-300)), 1)[0]
    return float(np.exp(slope))


def run(study: Study) -> None:
    from gandyn.derivation.field import derive
    from gandyn.dynamics.discrete import simulate_rule
    from gandyn.equilibria import map_stability
    from gandyn.games.game import make_game
    from gandyn.rules import FieldFunctions, make_rule
    from gandyn.runs.build import simulate as run_spec

    steps = 300 if study.quick else 1000
    h = H
    start = {"theta": START[0], "psi": START[1]}
    game = make_game("bilinear", None, [])
    vf = derive(game)
    functions = FieldFunctions.of(vf)
    origin = np.zeros(2)
    study.check("the bilinear field is the rotation F = (-psi, theta) (dz/dt = i z)",
                np.allclose(vf.jacobian_fn(origin), [[0.0, -1.0], [1.0, 0.0]], atol=0)
                and np.allclose(vf.field_fn(np.array(START)), [-START[1], START[0]]),
                "dF/dx = [[0, -1], [1, 0]]")

    results: dict[str, dict[str, Any]] = {}
    for rule in rules(h):
        built: UpdateRule | None
        if rule.optimizer == "altmomentum":
            built = AlternatingMomentum(h, h, beta=BETA, first="g")
            traj = simulate_rule(built, functions, vf.logged_fn, np.array([START]), steps,
                                 max_norm=1e12, state_names=("theta", "psi"),
                                 logged_names=vf.logged_names)
        else:
            settings = rule.settings
            if rule.optimizer == "flow":
                settings = (("t_end", steps * h), ("n_eval", steps + 1), ("rtol", 1e-11),
                            ("atol", 1e-13))
            traj = run_spec(game="bilinear", optimizer=rule.optimizer, lr=h,
                            settings=dict(settings), steps=steps, max_norm=1e12,
                            starts=[start]).trajectory
            built = (None if rule.optimizer == "flow"
                     else make_rule(rule.optimizer, h, h, **dict(rule.settings)))
        x = traj.x[0]
        distance = np.linalg.norm(x, axis=1)
        valid = (int(np.searchsorted(traj.step, traj.diverged_at[0])) if traj.diverged[0]
                 else len(distance))
        radius = (map_stability(built, functions, origin).spectral_radius if built is not None
                  else 1.0)
        results[rule.key] = {"rule": rule, "traj": traj, "x": x, "distance": distance,
                             "valid": valid, "radius": radius,
                             "measured": fitted_rate(distance, valid)}

    d0 = float(np.linalg.norm(START))
    k = np.arange(steps + 1)

    flow = results["flow"]
    drift = float(np.max(np.abs(flow["distance"] / d0 - 1)))
    study.check("the flow conserves |x| (a rotation)", drift < 1e-8,
                f"max relative drift {drift:.1g} over t = {steps * h:g} (solve_ivp rtol 1e-11)")

    sim = results["simgd"]
    exact = d0 * math.sqrt(1 + h * h) ** k
    err = float(np.max(np.abs(sim["distance"] / exact - 1)))
    study.check("simgd spirals out: |x_k| = (1 + h^2)^(k/2) |x_0| exactly",
                err < 1e-10 and abs(sim["radius"] - math.sqrt(1 + h * h)) < 1e-12,
                f"max relative error {err:.1g}; spectral radius {sim['radius']:.12g} = "
                f"sqrt(1 + h^2) = {math.sqrt(1 + h * h):.12g}")

    alt = results["altgd"]
    theta, psi = alt["x"][:, 0], alt["x"][:, 1]
    energy = theta**2 / h + psi**2 / h + theta * psi  # D first; see gandyn's tests
    energy_err = float(np.max(np.abs(energy / energy[0] - 1)))
    jac = make_rule("altgd", h, h, first="d").map_jacobian(functions, alt["x"][-1:], {}, 1)[0]
    study.check("altgd is area-preserving and stays on the ellipse theta^2/h + psi^2/h + "
                "theta psi = const",
                energy_err < 1e-10 and abs(np.linalg.det(jac) - 1) < 1e-12
                and abs(alt["radius"] - 1) < 1e-12,
                f"invariant drift {energy_err:.1g}, det of the map {np.linalg.det(jac):.15g}, "
                f"spectral radius {alt['radius']:.12g}; |x| within "
                f"[{alt['distance'].min():.3f}, {alt['distance'].max():.3f}]")

    for key, name in (("extragradient", "extragradient contracts by sqrt(1 - h^2 + h^4)"),
                      ("sga", "SGA contracts by sqrt((1 - h lam)^2 + h^2)")):
        r = results[key]
        rate = r["rule"].rate
        exact = d0 * rate**k
        err = float(np.max(np.abs(r["distance"] / exact - 1)))
        study.check(f"{name} per step, exactly", err < 1e-9 and abs(r["radius"] - rate) < 1e-12,
                    f"closed form {rate:.10g}, spectral radius {r['radius']:.10g}, "
                    f"max relative error of |x_k| {err:.1g}")

    for key, name in (("ogda", "OGDA converges at sqrt((1 + sqrt(1 - 4h^2))/2) per step"),
                      ("momentum-", f"simultaneous momentum beta = {BETA:g} still diverges"),
                      ("momentum+", "simultaneous momentum beta = +0.5 diverges"),
                      ("altmomentum-", f"alternating momentum beta = {BETA:g} converges")):
        r = results[key]
        rate = r["rule"].rate
        good = (abs(r["radius"] - rate) < 1e-9 and abs(r["measured"] - rate) < 2e-3
                and (rate < 1) == ("converges" in name))
        study.check(name, good,
                    f"closed form {rate:.6f}, spectral radius {r['radius']:.6f}, measured "
                    f"{r['measured']:.6f} (fit of log|x_k| over steps "
                    f"{r['valid'] // 2}..{r['valid'] - 1}); |x| {d0:.3g} -> "
                    f"{r['distance'][r['valid'] - 1]:.3g}")

    # The study's alternating heavy ball: its map Jacobian against central differences.
    probe = AlternatingMomentum(0.3, 0.7, beta=-0.4, first="g")
    z0 = np.array([[0.4, -1.1, 0.25, 0.6]])
    analytic = probe.map_jacobian(functions, z0[:, :2], {"velocity": z0[:, 2:]}, 1)[0]

    def step_z(z: Array) -> Array:
        res = probe.step(functions, z[:, :2], {"velocity": z[:, 2:]}, 1)
        return np.concatenate([res.x, res.buffers["velocity"]], axis=-1)

    eps = 1e-6
    numeric = np.stack([(step_z(z0 + eps * e) - step_z(z0 - eps * e))[0] / (2 * eps)
                        for e in np.eye(4)], axis=1)
    fd_err = float(np.max(np.abs(analytic - numeric)))
    zero_beta = AlternatingMomentum(h, h, beta=0.0, first="d")
    same = np.allclose(zero_beta.step(functions, np.array([START]), zero_beta.init_buffers(
        np.array([START])), 1).x, make_rule("altgd", h, h, first="d").step(
        functions, np.array([START]), {}, 1).x, rtol=1e-15)
    study.check("the alternating heavy ball's map Jacobian matches finite differences "
                "(beta = 0 is altgd)", fd_err < 1e-8 and same,
                f"max |analytic - central difference| = {fd_err:.1g}")

    adam = results["adam"]
    moves = np.abs(np.diff(adam["x"], axis=0)).max()
    bound = H * max(1.0, (1 - 0.9) / math.sqrt(1 - 0.999))
    study.check("Adam does not converge: |x| grows, each coordinate moving at most "
                "alpha (1 - beta1)/sqrt(1 - beta2) per step",
                adam["distance"][-1] > 2 * d0 and moves <= bound * (1 + 1e-9),
                f"|x| {d0:.3g} -> {adam['distance'][-1]:.3g}; largest coordinate move "
                f"{moves:.3g} <= {bound:.3g} (Kingma and Ba 2015, Sec. 2.1)")

    # Gidel et al. (2019): over beta, simultaneous momentum never converges on this game;
    # alternating momentum converges exactly for -1 + h/2 < beta < 0. At beta = 0 it is altgd
    # (radius 1); l = -1 is a root of the quartic iff 4 (1 + beta)^2 = h^2, the lower end.
    betas = np.round(np.linspace(-0.98, 0.9, 95 if study.quick else 377), 10)
    sim_radius = np.array([map_stability(make_rule("momentum", h, h, beta=float(b)), functions,
                                         origin).spectral_radius for b in betas])
    alt_radius = np.array([
        map_stability(AlternatingMomentum(h, h, beta=float(b), first="g"), functions,
                      origin).spectral_radius for b in betas])
    sim_closed = np.array([simultaneous_momentum_rate(float(b), h) for b in betas])
    alt_closed = np.array([alternating_momentum_rate(float(b), h) for b in betas])
    closed_err = max(float(np.max(np.abs(sim_radius - sim_closed))),
                     float(np.max(np.abs(alt_radius - alt_closed))))
    low_end = -1 + h / 2
    inside = (betas > low_end + 1e-9) & (betas < -1e-9)
    study.check(f"over beta: simultaneous momentum radius > 1 always; alternating < 1 exactly "
                f"for -1 + h/2 = {low_end:g} < beta < 0",
                closed_err < 1e-9 and bool(np.all(sim_radius > 1))
                and bool(np.all(alt_radius[inside] < 1))
                and bool(np.all(alt_radius[~inside] >= 1 - 1e-9)),
                f"{len(betas)} values of beta in [{betas[0]:g}, {betas[-1]:g}]; engine vs "
                f"closed-form polynomials: max difference {closed_err:.1g}; smallest "
                f"simultaneous radius {sim_radius.min():.6f}; best alternating beta "
                f"{betas[int(np.argmin(alt_radius))]:g} (radius {alt_radius.min():.6f})")
    study.metadata.update({"game": "bilinear", "lr": h, "steps": steps, "start": list(START),
                           "beta": BETA, "lam": LAM})

    with study.figure() as style:
        from gandyn.plotting import CYCLE, TWO_COLUMN, phase_portrait, series_style
        from gandyn.plotting.style import note_fontsize

        order = [r.key for r in rules(h)]
        fig = style.new((TWO_COLUMN[0], 3.6))
        axes = fig.subplots(2, 5, sharex=True, sharey=True)
        lim = (-2.6, 2.6)
        for ax, key in zip(axes.ravel(), order, strict=True):
            r = results[key]
            phase_portrait(ax, vf, r["traj"], xlim=lim, ylim=lim, density=0.6,
                           equilibria=[[0.0, 0.0]])
            ax.set_title(r["rule"].label, fontsize=note_fontsize())
            measured = r["measured"] if key != "flow" else float(
                (flow["distance"][-1] / d0) ** (1 / steps))
            if math.isnan(r["rule"].rate):  # Adam: no linear rate, |x| grows about linearly
                text = f"$|x|$: {d0:.2f} to {r['distance'][-1]:.3g}"
            else:
                text = f"measured {measured:.4f}/step\nclosed form {r['rule'].rate:.4f}"
            ax.text(0.03, 0.03, text, transform=ax.transAxes, fontsize=note_fontsize(), va="bottom",
                    bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1})
            ax.label_outer()
        study.save(fig, "bilinear-optimizers", data={
            **{f"{key}_x": results[key]["x"] for key in order},
            "closed_form_rate": np.array([results[key]["rule"].rate for key in order]),
            "measured_rate": np.array([results[key]["measured"] for key in order]),
            "spectral_radius": np.array([results[key]["radius"] for key in order]),
            "rule": np.array(order),
        })

        fig = style.new((TWO_COLUMN[0], 3.0))
        ax_d, ax_b = fig.subplots(1, 2, width_ratios=[1.35, 1.0])
        for i, key in enumerate(order[1:]):
            r = results[key]
            style = series_style(i, len(order) - 1)  # nine rules: markers as well as colours
            ax_d.semilogy(k[: r["valid"]], r["distance"][: r["valid"]], **style.kwargs(),
                          markevery=0.1, markersize=3, label=r["rule"].label, linewidth=0.9)
            if not math.isnan(r["rule"].rate):
                ax_d.semilogy(k, d0 * r["rule"].rate ** k, color="k", linewidth=0.5,
                              linestyle=(0, (1, 2)))
        ax_d.set_xlabel("step $k$")
        ax_d.set_ylabel(r"$|x_k - x^*|$")
        ax_d.set_ylim(1e-8, 1e8)
        ax_d.set_xlim(0, steps)
        ax_d.legend(fontsize=note_fontsize(), loc="upper left", bbox_to_anchor=(1.0, 1.0))
        ax_d.set_title(f"(a) distance to the equilibrium, $h = {h:g}$ "
                       "(dotted: closed forms)", loc="left")
        ax_b.plot(betas, sim_radius, color=CYCLE[0], label="simultaneous")
        ax_b.plot(betas, alt_radius, color=CYCLE[1], label="alternating")
        every = max(1, len(betas) // 24)
        ax_b.plot(betas[::every], sim_closed[::every], linestyle="none", marker="o", markersize=2.5,
                  markerfacecolor="none", color="k", label="closed-form roots")
        ax_b.plot(betas[::every], alt_closed[::every], linestyle="none", marker="o", markersize=2.5,
                  markerfacecolor="none", color="k")
        ax_b.axhline(1.0, color="0.4", linewidth=0.8)
        ax_b.axvline(low_end, color="0.5", linewidth=0.8, linestyle=":")
        ax_b.set_ylim(0.985, 1.06)
        ax_b.set_xlabel(r"momentum $\beta$")
        ax_b.set_ylabel("spectral radius of the map")
        ax_b.legend(loc="upper left", bbox_to_anchor=(0.1, 1.0))
        ax_b.set_title(f"(b) heavy ball, $h = {h:g}$ (dotted: $\\beta = -1 + h/2$)", loc="left")
        study.save(fig, "bilinear-rates", data={
            "step": k, **{f"{key}_distance": results[key]["distance"] for key in order},
            "beta": betas, "simultaneous_radius": sim_radius, "alternating_radius": alt_radius,
            "simultaneous_closed_form": sim_closed, "alternating_closed_form": alt_closed,
        })


if __name__ == "__main__":
    Study.main(run, slug=SLUG, claim=CLAIM)
