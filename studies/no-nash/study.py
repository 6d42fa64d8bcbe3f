"""GANs without a pure Nash equilibrium: best responses cycle, a mixed equilibrium exists.

Two catalogue games with one parameter per player, tabulated on a grid of a box
(:mod:`gandyn.equilibria.grid_nash`):

* hide and seek, ``cost_g = (theta - psi)**2 = -cost_d`` on ``[-1, 1]**2``;
* two-point data at ``-1`` and ``+1``, a point-mass generator ``theta`` and a
  Gaussian-bump discriminator centred at ``psi`` (``two-point-bump``) on
  ``[-2, 2]**2``, with the minimax and the Wasserstein loss.

Each panel shows the zero-sum payoff ``V`` (D maximizes, G minimizes), both
players' best responses, their alternating iteration from ``theta = 0.5``, G's
min-max and D's max-min strategies, and the support of a mixed equilibrium
(circle area = probability).

Run ``python studies/no-nash/study.py [--quick] [--out DIR]``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from gandyn.derivation.field import derive
from gandyn.equilibria.grid_nash import (
    PayoffGrid,
    best_responses,
    minimax_values,
    mixed_equilibrium,
    payoff_grid,
    pure_nash,
)
from gandyn.equilibria.nash_existence import (
    discretize,
    game_in_box,
    nash_existence,
    solve_discretized,
)
from gandyn.games.files import load_game_file
from gandyn.games.game import make_game
from gandyn.plotting.nash_map import best_response_path, nash_map, nash_map_data
from gandyn.study import Study

CLAIM = ("hide-and-seek and the two-point data / bump-discriminator GAN have no pure Nash "
         "equilibrium on a box: best responses cycle, the duality gap is positive, and a mixed "
         "equilibrium exists (hide and seek: theta = 0 against psi = +-1, value 1; Wasserstein "
         "bump: the generator mixes the data distribution itself, value 0); a Wasserstein GAN "
         "with a quadratic critic and a translation generator has none exactly when the data are "
         "wider than the generator's noise")

HIDE_BOX = {"theta": (-1.0, 1.0), "psi": (-1.0, 1.0)}
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BUMP_BOX = {"theta": (-2.0, 2.0), "psi": (-2.0, 2.0)}


def _exploitability(grid: PayoffGrid) -> np.ndarray[Any, Any]:
    """Largest gain either player gets by deviating alone, at every cell (0 at a pure Nash)."""
    gain_g = grid.cost_g - grid.cost_g.min(axis=0, keepdims=True)
    gain_d = grid.cost_d - grid.cost_d.min(axis=1, keepdims=True)
    result: np.ndarray[Any, Any] = np.maximum(gain_g, gain_d)
    return result


def _cycle(path: np.ndarray[Any, Any]) -> tuple[int, int]:
    """First index and period of the eventual cycle of a best-response path."""
    seen: dict[tuple[float, float], int] = {}
    for k, point in enumerate(map(tuple, path)):
        if point in seen:
            return seen[point], k - seen[point]
        seen[point] = k
    return -1, 0


def _fmt(values: np.ndarray[Any, Any]) -> str:
    return ", ".join(f"{v:.3g}" for v in values)


def run(study: Study) -> None:
    n_hide = 101 if study.quick else 401
    n_bump = 101 if study.quick else 201
    results: dict[str, Any] = {}

    # --- hide and seek: everything has a closed form (gandyn.games.game, hide-and-seek docstring)
    hide = payoff_grid(derive(make_game("hide-and-seek")), HIDE_BOX, n=n_hide)
    spacing = float(hide.theta[1] - hide.theta[0])
    study.check("hide and seek: no pure Nash equilibrium on the grid", not pure_nash(hide),
                f"{n_hide} x {n_hide} grid of [-1, 1]^2")
    # min over (theta, psi) of max(G's gain, D's gain) = min max((t - p)^2, (1 + |t|)^2 - (t - p)^2)
    # = 1/2 at theta = 0, psi = +-1/sqrt(2): not even an epsilon-Nash point for epsilon < 1/2.
    worst = float(_exploitability(hide).min())
    study.check("hide and seek: every cell lets one player gain at least 1/2 by deviating "
                "(closed form 1/2 at theta = 0, psi = +-1/sqrt 2)",
                abs(worst - 0.5) <= 2 * spacing, f"min over the grid {worst:.4f}")
    mm = minimax_values(hide)
    study.check("hide and seek: min-max 1 at theta = 0, max-min 0, duality gap 1",
                abs(mm.min_max - 1) < 1e-12 and abs(mm.max_min) < 1e-12
                and mm.theta_minmax == 0.0,
                f"min-max {mm.min_max:.6g} at theta = {mm.theta_minmax:g}, max-min "
                f"{mm.max_min:.3g}, gap {mm.duality_gap:.6g}")
    path_hide = best_response_path(hide, 0.5, 8)
    start, period = _cycle(path_hide)
    corners = {(-1.0, -1.0), (-1.0, 1.0), (1.0, 1.0), (1.0, -1.0)}
    cycle = {tuple(p) for p in path_hide[start:start + period]}
    study.check("hide and seek: alternating best responses cycle through the four corners "
                "(D flees to the far end, G follows)", period == 4 and cycle == corners,
                f"from theta = 0.5: cycle of period {period} entered at half-step {start}")
    eq = mixed_equilibrium(hide)
    hand = abs(eq.value - 1) < 1e-9 and eq.theta_support.tolist() == [0.0] and (
        eq.psi_support.tolist() == [-1.0, 1.0])
    q_plus = float(eq.q[-1])
    # On the grid D's mix is unique only up to theta = 0 staying G's best grid reply,
    # |E_q[psi]| = |2 q(+1) - 1| <= spacing / 2.
    study.check("hide and seek: the mixed equilibrium is theta = 0 against psi = -1, +1 "
                "(value 1, the hand solution)", hand and abs(q_plus - 0.5) <= spacing / 4 + 1e-9,
                f"value {eq.value:.9f}; supports {eq.theta_support.tolist()} and "
                f"{eq.psi_support.tolist()}; q(+1) = {q_plus:.4f}")
    results["hide-and-seek"] = {"n": n_hide, "min_exploitability": worst,
                                "min_max": mm.min_max, "max_min": mm.max_min,
                                "mixed_value": eq.value, "cycle_period": period}

    # --- two-point data, bump discriminator
    bumps: dict[str, PayoffGrid] = {}
    for loss in ("minimax", "non-saturating", "wasserstein"):
        vf = derive(make_game("two-point-bump", loss))
        grid = payoff_grid(vf, BUMP_BOX, n=n_bump)
        bumps[loss] = grid
        br = best_responses(grid)
        unique = br.g_best.sum(axis=0) == 1
        follows = float(np.max(np.abs(br.theta_star[unique] - grid.psi[unique])))
        exploit = float(_exploitability(grid).min())
        study.check(f"two-point-bump, {loss}: no pure Nash; G's best response is theta = psi "
                    "(the top of the bump); every cell leaves a deviation gain",
                    not pure_nash(grid) and follows == 0.0 and exploit > 0.01,
                    f"{n_bump} x {n_bump} grid of [-2, 2]^2; min deviation gain {exploit:.4f}")
        path = best_response_path(grid, 0.5, 60)
        start, period = _cycle(path)
        g_positions = np.unique(path[start:start + period, 0])
        symmetric = period == 4 and len(g_positions) == 2 and abs(
            g_positions.sum()) <= 2.01 * float(grid.theta[1] - grid.theta[0])
        study.check(f"two-point-bump, {loss}: alternating best responses end in a 4-cycle, G "
                    "jumping between +-c and D to the opposite side", symmetric,
                    f"cycle entered at half-step {start}; G at {_fmt(g_positions)}")
        results[f"two-point-bump/{loss}"] = {"n": n_bump, "min_exploitability": exploit,
                                             "cycle_start": start, "cycle_theta":
                                             g_positions.tolist()}

    for loss in ("minimax", "wasserstein"):
        grid = bumps[loss]
        mm = minimax_values(grid)
        eq = mixed_equilibrium(grid)
        # no profitable deviation from the LP's strategies (the certificate of an equilibrium)
        gain = max(float(np.max(eq.value - eq.payoff @ eq.q)),
                   float(np.max(eq.p @ eq.payoff - eq.value)))
        study.check(f"two-point-bump, {loss}: positive duality gap, and a mixed equilibrium "
                    "strictly between the lower and upper values, with no profitable pure "
                    "deviation", mm.duality_gap > 0.1 and mm.max_min < eq.value < mm.min_max
                    and gain < 1e-8,
                    f"max-min {mm.max_min:.4f} < value {eq.value:.4f} < min-max "
                    f"{mm.min_max:.4f}; largest deviation gain {gain:.1e}; theta support "
                    f"{_fmt(eq.theta_support)}")
        results[f"two-point-bump/{loss}"].update(
            min_max=mm.min_max, max_min=mm.max_min, mixed_value=eq.value,
            theta_support=eq.theta_support.tolist(), p=eq.p[eq.p > 1e-9].tolist(),
            psi_support=eq.psi_support.tolist(), q=eq.q[eq.q > 1e-9].tolist())
    # the value of the grid game converges as the grid is refined
    coarse = payoff_grid(derive(make_game("two-point-bump", "minimax")), BUMP_BOX,
                         n=(n_bump + 1) // 2)
    v_fine = mixed_equilibrium(bumps["minimax"]).value
    v_coarse = mixed_equilibrium(coarse).value
    study.check("two-point-bump, minimax: the mixed value is stable under grid refinement",
                abs(v_fine - v_coarse) < 1e-3,
                f"value {v_coarse:.6f} on {(n_bump + 1) // 2}^2, {v_fine:.6f} on {n_bump}^2")
    # Wasserstein: if G mixes the data distribution (1/2 at -1, 1/2 at +1), D's payoff
    # E_data[s] - E_G[s] is 0 for every psi, so the value is at most 0; the LP says D can
    # guarantee 0 as well.
    w = bumps["wasserstein"]
    p_data = np.zeros(len(w.theta))
    p_data[[int(np.argmin(np.abs(w.theta + 1))), int(np.argmin(np.abs(w.theta - 1)))]] = 0.5
    against_data = float(np.max(np.abs(p_data @ mixed_equilibrium(w).payoff)))
    v_w = mixed_equilibrium(w).value
    study.check("two-point-bump, Wasserstein: the generator mixing the data itself makes D's "
                "payoff 0 against every psi, and the game's value is 0",
                against_data < 1e-12 and abs(v_w) < 1e-9,
                f"max |V(p_data, psi)| = {against_data:.1e}; LP value {v_w:.1e}")
    _wgan_quadratic_critic(study, results)
    _general_sum_bump(study, results)
    study.write_json("numbers.json", results)

    # --- the figure
    from gandyn.plotting import TWO_COLUMN
    from gandyn.plotting.style import note_fontsize

    panels = [("(a) hide and seek", hide), ("(b) bump discriminator, minimax", bumps["minimax"]),
              ("(c) bump discriminator, Wasserstein", bumps["wasserstein"])]
    with study.figure() as style:
        fig = style.new((TWO_COLUMN[0], 2.7))
        axes = fig.subplots(1, 3)
        for ax, (title, grid) in zip(axes, panels, strict=True):
            nash_map(ax, grid, path=best_response_path(grid, 0.5, 8), legend=False)
            ax.set_title(title)
        handles, labels = axes[1].get_legend_handles_labels()
        labels = [re.sub(r" \((upper |lower )?value [^)]*\)", "", label) for label in labels]
        fig.legend(handles, labels, loc="outside upper center", ncols=len(handles),
                   fontsize=note_fontsize())
        data: dict[str, Any] = {}
        for key, grid in (("hide", hide), ("bump_minimax", bumps["minimax"]),
                          ("bump_wasserstein", bumps["wasserstein"])):
            data.update({f"{key}_{k}": v for k, v in nash_map_data(grid).items()})
            data[f"{key}_best_response_path"] = best_response_path(grid, 0.5, 8)
        study.save(fig, "no-nash", data=data,
                   metadata={"boxes": {"hide-and-seek": HIDE_BOX, "two-point-bump": BUMP_BOX},
                             "grid_points": {"hide-and-seek": n_hide, "two-point-bump": n_bump}})


def _wgan_quadratic_critic(study: Study, results: dict[str, Any]) -> None:
    """The Wasserstein GAN of ``examples/wgan-quadratic-critic.toml`` through ``analyze --nash``.

    Our derivation (tests/equilibria/test_farnia_ozdaglar.py): with ``c2 = a**2 - 1`` the value
    is ``-psi_1 theta + psi_2 (c2 - theta**2)``; a pure equilibrium exists iff ``a <= 1`` (at
    ``theta = 0``, ``psi = (0, -1)``, value ``1 - a**2``), otherwise min-max ``min(c2, sqrt c2)``,
    max-min 0 and mixed value 0, the generator matching the data's first two moments.
    """
    vf = derive(make_game(load_game_file(EXAMPLES / "wgan-quadratic-critic.toml"), "wasserstein"))
    box = {"theta": (-2.0, 2.0), "psi_1": (-1.0, 1.0), "psi_2": (-1.0, 1.0)}
    for a in (0.8, 1.25, 1.5):
        c2 = a**2 - 1
        result = nash_existence(game_in_box(vf, box, {"a": a}), n_starts=4, points=9)
        pure, disc = result.pure, result.discretized
        record: dict[str, Any] = {"verdict": pure.verdict, "gap": pure.gap,
                                  "mixed_value": disc.value}
        if a <= 1:
            holds = (pure.verdict == "exists"
                     and np.allclose(list(pure.point.values()), [0.0, 0.0, -1.0], atol=1e-6)
                     and disc.value is not None and abs(disc.value - (1 - a**2)) < 1e-9)
            detail = f"exists at {pure.point}; grid value {disc.value:.6g} (1 - a^2 = {1 - a**2:g})"
        else:
            expected = min(c2, np.sqrt(c2))
            values = pure.values
            thetas = np.array([st["theta"] for st, _ in disc.theta_support])
            weights = np.array([w for _, w in disc.theta_support])
            moments = (float(weights @ thetas), float(weights @ thetas**2))
            holds = (pure.verdict == "none-found" and values is not None
                     and abs(values.min_max - expected) < 1e-6 and abs(values.max_min) < 1e-9
                     and disc.value is not None and abs(disc.value) < 1e-9
                     and abs(moments[0]) < 1e-9 and abs(moments[1] - c2) < 1e-9)
            record.update(min_max=None if values is None else values.min_max,
                          generator_moments=moments)
            detail = (f"smallest gap {pure.gap:.6g}, min-max "
                      f"{values.min_max if values else float('nan'):.6g} (closed form "
                      f"{expected:.6g}), grid mixed value {disc.value:.2g}, generator moments "
                      f"{moments[0]:.2g}, {moments[1]:.6g} (c2 = {c2:g})")
        study.check(f"WGAN, quadratic critic, translation generator, a = {a}: pure Nash "
                    f"equilibrium {'exists' if a <= 1 else 'does not exist'} as derived",
                    bool(holds), detail)
        results[f"wgan-quadratic-critic/a={a}"] = record


def _general_sum_bump(study: Study, results: dict[str, Any]) -> None:
    """The bump game with the non-saturating loss is general-sum: a bimatrix game on the grid."""
    vf = derive(make_game("two-point-bump", "non-saturating"))
    game = game_in_box(vf, BUMP_BOX)
    solved = solve_discretized(game, discretize(game, 41))
    gains = solved.deviation_gains or (float("nan"), float("nan"))
    study.check("two-point-bump, non-saturating (general-sum): no pure equilibrium on the grid, "
                "and Lemke-Howson's mixed strategies pass the pure-deviation check",
                solved.pure_equilibria == 0 and solved.method == "lemke-howson"
                and solved.verified,
                f"41^2 grid; expected costs G {solved.cost_g:.6g}, D {solved.cost_d:.6g}; "
                f"deviation gains {gains[0]:.1e}, {gains[1]:.1e}")
    results["two-point-bump/non-saturating"] = {
        "n": 41, "cost_g": solved.cost_g, "cost_d": solved.cost_d, "deviation_gains": gains,
        "theta_support": [[st["theta"], w] for st, w in solved.theta_support],
        "psi_support": [[st["psi"], w] for st, w in solved.psi_support]}



if __name__ == "__main__":
    Study.main(run, slug="no-nash", claim=CLAIM)
