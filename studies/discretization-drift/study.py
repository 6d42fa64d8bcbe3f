"""Discretization drift on the Dirac-GAN: gradient steps follow a modified flow.

The Dirac-GAN (Mescheder, Geiger and Nowozin 2018, Sec. 2.2) with the minimax
loss and data at 0 has the gradient flow ``F = (psi s, -theta s)``,
``s = sigmoid(theta psi)``: ``x . F = 0``, so the flow circles the equilibrium
on ``|x| = const``. Simultaneous gradient steps spiral out and alternating
steps stay near a closed orbit, yet both discretize the same flow. Backward
error analysis (Rosca, Wu, Dherin and Barrett 2021, Theorems 3.1 and 3.2)
explains the difference: each rule follows, to one order more than the flow,
a *modified* flow ``F + drift`` (:mod:`gandyn.dynamics.drift`). For simultaneous steps
the drift's radial part is ``d|x|^2/dt = lr |x|^2 s^2 > 0`` (derived by hand
and checked in ``tests/test_drift.py``), so the orbit must grow; for
alternating steps the second player's interaction term changes sign and the
radial drift averages out around the orbit.

This study runs the exact flow, simgd and altgd iterates and the two modified
flows from the same start, and checks:

* the modified flows track the iterates over ``t <= 30`` at least ten times
  better than the gradient flow;
* the modified flow accounts for simgd's outward spiral, with the radial rate
  the closed form gives, and altgd's radius stays within a few per cent of its
  start;
* over ``t <= 10`` the distance to the iterates shrinks like ``h^2`` for the
  modified flows and like ``h`` for the gradient flow when ``h`` halves.

Run ``python studies/discretization-drift/study.py [--quick]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gandyn.study import Study

SLUG = "discretization-drift"
CLAIM = ("simultaneous and alternating gradient steps follow their modified flows (Rosca et al. "
         "2021), not the gradient flow: the drift makes simgd spiral out and keeps altgd near a "
         "closed orbit")
#: Learning rate of both players (the Mescheder et al. notebook uses 0.1 to 0.2).
LR = 0.1
#: Horizon of the phase portraits, on the generator's clock (t = k * lr_g): 300 steps.
HORIZON = 30.0
#: Horizon of the step-size scan.
SCAN_HORIZON = 10.0
SCHEMES = ("simgd", "altgd")
TITLES = {"simgd": "simultaneous", "altgd": "alternating, D first"}

Array = np.ndarray[Any, np.dtype[np.float64]]


def runs(vf: Any, scheme: str, lr: float, horizon: float,
         x0: Array) -> tuple[Array, Array, Array, Array, bool]:
    """Iterates, modified flow and gradient flow at ``t = k lr``.

    Returns ``(t, iterates, modified, flow, bounded)``; ``bounded`` is False when
    a run left gandyn's divergence bound (a reported result, not an error).
    """
    from gandyn.dynamics.discrete import simulate_rule
    from gandyn.dynamics.drift import modified_flow_of_rule
    from gandyn.rules import FieldFunctions, make_rule

    steps = round(horizon / lr)
    rule = make_rule(scheme, lr, lr)
    names = tuple(s.name for s in vf.game.state_symbols)
    iterates = simulate_rule(rule, FieldFunctions.of(vf), vf.logged_fn, x0, steps,
                             state_names=names, logged_names=vf.logged_names)
    flow = modified_flow_of_rule(vf, rule)
    modified = flow.simulate(x0, steps * lr, n_eval=steps + 1)
    original = flow.simulate(x0, steps * lr, order=0, n_eval=steps + 1)
    bounded = not (iterates.diverged.any() or modified.diverged.any()
                   or original.diverged.any())
    return iterates.t, iterates.x[0], modified.x[0], original.x[0], bounded


def run(study: Study) -> None:
    from gandyn.derivation.field import derive
    from gandyn.dynamics.drift import modified_flow
    from gandyn.games.game import make_game
    from gandyn.symbolic.functions import NUMPY_NAMESPACE

    game = make_game("dirac", "minimax", [])
    vf = derive(game)
    x0 = np.array([[game.default_start[s.name] for s in game.state_symbols]])
    r0 = float(np.linalg.norm(x0))
    results = {scheme: runs(vf, scheme, LR, HORIZON, x0) for scheme in SCHEMES}
    t = results["simgd"][0]
    flow_path = results["simgd"][3]
    radius = {s: np.linalg.norm(results[s][1], axis=1) for s in SCHEMES}
    radius_mod = {s: np.linalg.norm(results[s][2], axis=1) for s in SCHEMES}

    study.check("every run stays bounded", all(results[s][4] for s in SCHEMES),
                ", ".join(f"{s}: {'bounded' if results[s][4] else 'diverged'}" for s in SCHEMES))
    flow_drift = float(np.max(np.abs(np.linalg.norm(flow_path, axis=1) - r0)))
    study.check("the gradient flow circles the equilibrium (x . F = 0: |x| is conserved)",
                flow_drift < 1e-6, f"max ||x(t)| - |x(0)|| = {flow_drift:.2g} for t <= {HORIZON:g}")

    distances: dict[str, Array] = {}
    for scheme in SCHEMES:
        _, iterates, mod, orig, _ = results[scheme]
        d_mod = np.linalg.norm(iterates - mod, axis=1)
        d_flow = np.linalg.norm(iterates - orig, axis=1)
        distances[f"{scheme}_modified"], distances[f"{scheme}_flow"] = d_mod, d_flow
        ratio = d_flow.max() / d_mod.max()
        study.check(f"the modified flow tracks the {scheme} iterates >= 10x better than the "
                    f"gradient flow (lr {LR:g}, t <= {HORIZON:g})", ratio >= 10.0,
                    f"max distance {d_mod.max():.3g} (modified) vs {d_flow.max():.3g} (flow): "
                    f"{ratio:.1f}x")

    # simgd: the modified flow's radial rate is the closed form lr |x|^2 sigmoid(theta psi)^2
    sim_flow = modified_flow(vf, "simgd", lr_g=LR)
    mod_path = results["simgd"][2]
    radial = 2 * np.sum(mod_path * sim_flow.field_fn(mod_path), axis=1)
    sig = NUMPY_NAMESPACE["sigmoid"](mod_path[:, 0] * mod_path[:, 1])
    closed = LR * np.sum(mod_path**2, axis=1) * sig**2
    rel = float(np.max(np.abs(radial - closed) / closed))
    grown_it, grown_mod = radius["simgd"][-1] - r0, radius_mod["simgd"][-1] - r0
    study.check("simgd spirals out and its modified flow accounts for the growth: "
                "d|x|^2/dt = lr |x|^2 sigmoid(theta psi)^2 > 0",
                rel < 1e-10 and grown_it > 0.2 and abs(grown_it - grown_mod) < 0.05 * grown_it
                and bool(np.all(np.diff(radius_mod["simgd"]) > 0)),
                f"|x| from {r0:.4f} to {radius['simgd'][-1]:.4f} (iterates), "
                f"{radius_mod['simgd'][-1]:.4f} (modified flow), {r0:.4f} (flow); radial rate "
                f"vs closed form: max rel. error {rel:.1g}")

    swing_alt = float(np.max(np.abs(radius["altgd"] - r0)))
    track_alt = float(np.max(np.abs(radius["altgd"] - radius_mod["altgd"])))
    study.check("altgd stays near a closed orbit, and its modified flow follows the radius",
                swing_alt < 0.1 * grown_it and swing_alt / r0 < 0.05
                and track_alt < 0.5 * swing_alt,
                f"max ||x_k| - |x_0|| = {swing_alt:.4f} ({100 * swing_alt / r0:.1f} %) vs simgd's "
                f"growth {grown_it:.4f}; modified flow's radius within {track_alt:.4f} of the "
                "iterates'")

    # --- step-size scan: global error O(h^2) (modified flow) against O(h) (gradient flow) ----
    lrs = (0.1, 0.05) if study.quick else (0.1, 0.05, 0.025, 0.0125)
    scan: dict[str, Array] = {}
    for scheme in SCHEMES:
        errors = []
        for lr in lrs:
            _, iterates, mod, orig, _ = runs(vf, scheme, lr, SCAN_HORIZON, x0)
            errors.append((np.linalg.norm(iterates - mod, axis=1).max(),
                           np.linalg.norm(iterates - orig, axis=1).max()))
        scan[scheme] = np.array(errors)
        r_mod = scan[scheme][:-1, 0] / scan[scheme][1:, 0]
        r_flow = scan[scheme][:-1, 1] / scan[scheme][1:, 1]
        study.check(f"{scheme}: halving lr divides the modified flow's distance by ~4 (h^2) "
                    "and the gradient flow's by ~2 (h)",
                    bool(np.all((r_mod > 3.5) & (r_mod < 5.0) & (r_flow > 1.7) & (r_flow < 2.4))),
                    f"t <= {SCAN_HORIZON:g}, lr {', '.join(f'{h:g}' for h in lrs)}: ratios "
                    f"{', '.join(f'{r:.2f}' for r in r_mod)} (modified), "
                    f"{', '.join(f'{r:.2f}' for r in r_flow)} (flow)")

    study.metadata.update({"game": "dirac", "loss": "minimax", "lr_g": LR, "lr_d": LR,
                           "horizon": HORIZON, "start": x0[0].tolist(),
                           "scan_lrs": list(lrs), "scan_horizon": SCAN_HORIZON})
    with study.figure() as style:
        from matplotlib.lines import Line2D

        from gandyn.plotting import PALETTE, TWO_COLUMN, phase_portrait

        # One encoding in every panel: colour = update rule, dashed = gradient flow,
        # solid = modified flow.
        colors = {"simgd": PALETTE["blue"], "altgd": PALETTE["vermillion"]}
        fig = style.new((TWO_COLUMN[0], TWO_COLUMN[1] + 0.2))
        axes = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1, 1, 1.25]})
        span = float(np.max(np.abs(np.concatenate([results[s][1] for s in SCHEMES])))) * 1.08
        lim = (-span, span)
        # the flow is a closed orbit: draw one revolution (its dashes would blur if overdrawn)
        turned = np.abs(np.unwrap(np.arctan2(flow_path[:, 1], flow_path[:, 0])) -
                        np.arctan2(flow_path[0, 1], flow_path[0, 0]))
        one_turn = flow_path[: int(np.searchsorted(turned, 2 * np.pi)) + 2]
        for ax, scheme, letter in zip(axes[:2], SCHEMES, "ab", strict=True):
            _, iterates, mod, _, _ = results[scheme]
            phase_portrait(ax, vf, None, xlim=lim, ylim=lim, density=0.6)
            ax.plot(one_turn[:, 0], one_turn[:, 1], color=PALETTE["black"], linestyle="--",
                    linewidth=0.8, zorder=2)
            ax.plot(iterates[:, 0], iterates[:, 1], linestyle="none", marker="o",
                    markersize=1.4, color=colors[scheme], zorder=3)
            ax.plot(mod[:, 0], mod[:, 1], color=PALETTE["black"], linewidth=0.6, zorder=4)
            ax.scatter(x0[:, 0], x0[:, 1], s=16, marker="o", facecolors="white",
                       edgecolors=PALETTE["black"], linewidths=0.9, zorder=5)
            ax.set_aspect("equal")
            ax.set_title(f"({letter}) {TITLES[scheme]}, lr = {LR:g}", loc="left")
        ax = axes[2]
        for scheme in SCHEMES:
            ax.semilogy(t[1:], distances[f"{scheme}_flow"][1:], color=colors[scheme],
                        linestyle="--", linewidth=0.9)
            ax.semilogy(t[1:], distances[f"{scheme}_modified"][1:], color=colors[scheme],
                        linewidth=0.9)
        ax.set_xlabel(r"$t = k\,\mathrm{lr}$")
        ax.set_ylabel("distance to the iterates")
        ax.set_xlim(0.0, HORIZON)
        ax.set_title("(c) tracking error", loc="left")
        handles = [
            Line2D([], [], color=colors["simgd"], marker="o", markersize=3, linewidth=0.9,
                   label="simultaneous GD"),
            Line2D([], [], color=colors["altgd"], marker="o", markersize=3, linewidth=0.9,
                   label="alternating GD"),
            Line2D([], [], color=PALETTE["black"], linestyle="--", linewidth=0.9,
                   label="gradient flow"),
            Line2D([], [], color=PALETTE["black"], linewidth=0.9,
                   label="modified flow (Rosca et al. 2021)"),
        ]
        fig.legend(handles=handles, loc="outside upper center", ncol=4)
        study.save(fig, "discretization-drift", data={
            "t": t, "flow": flow_path,
            **{f"{s}_iterates": results[s][1] for s in SCHEMES},
            **{f"{s}_modified_flow": results[s][2] for s in SCHEMES},
            **{f"distance_{k}": v for k, v in distances.items()},
            "scan_lrs": np.array(lrs),
            **{f"scan_{s}_max_distance_modified_flow": scan[s][:, 0] for s in SCHEMES},
            **{f"scan_{s}_max_distance_flow": scan[s][:, 1] for s in SCHEMES},
        })


if __name__ == "__main__":
    Study.main(run, slug=SLUG, claim=CLAIM)
