"""Which generator costs saturate: Goodfellow's Figure 16 from gandyn's own loss definitions.

(a) Each generator cost as a function of ``D(G(z)) = p = sigmoid(l)``, taken
from :mod:`gandyn.games.losses` (``g_loss`` of the minimax and the non-saturating
loss at ``l = logit(p)``), as in Goodfellow (2016), NIPS tutorial, Figure 16.
(b) Their slopes in ``p``. (c) Their derivatives in the fake logit ``l``, the
factor every generator gradient passes through (``dJ/dtheta = dJ/dl * dl/dtheta``).

Run ``python studies/generator-costs/study.py [--quick] [--out DIR]``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, logit

from gandyn.derivation.field import derive
from gandyn.games.game import make_game
from gandyn.plotting.costs import generator_cost, generator_costs, generator_costs_data
from gandyn.study import Study

CLAIM = ("the minimax generator cost log(1 - D(G(z))) saturates: its gradient in the logit, "
         "-D(G(z)), vanishes when the discriminator rejects the fakes, while the "
         "non-saturating -log D(G(z)) keeps a gradient of -(1 - D(G(z))) -> -1 (and a slope "
         "-1/D(G(z)) -> -inf in D(G(z)) itself)")


def run(study: Study) -> None:
    points = 399 if study.quick else 1999
    minimax, ns = generator_cost("minimax"), generator_cost("non-saturating")

    # --- the curves are Goodfellow's closed forms (nothing retyped in gandyn)
    p = (np.arange(points) + 0.5) / points
    err_mm = float(np.max(np.abs(minimax.cost_at_probability(p) - np.log1p(-p))))
    err_ns = float(np.max(np.abs(ns.cost_at_probability(p) + np.log(p)) / -np.log(p)))
    study.check("gandyn's g_loss at l = logit(p) is log(1 - p) (minimax) and -log p "
                "(non-saturating)", err_mm < 1e-12 and err_ns < 1e-12,
                f"max errors {err_mm:.1e} (absolute), {err_ns:.1e} (relative)")

    # --- saturation in the logit: sympy's limits of the derived gradients
    study.check("sympy: lim_{l -> -oo} dJ/dl is 0 for minimax and -1 for non-saturating",
                minimax.saturating_limit == 0.0 and ns.saturating_limit == -1.0,
                f"minimax: dJ/dl = {minimax.gradient}, limit {minimax.saturating_limit:g}; "
                f"non-saturating: dJ/dl = {ns.gradient}, limit {ns.saturating_limit:g}")
    small = np.geomspace(1e-12, 1e-2, 11 if study.quick else 41)
    l_small = logit(small)
    rel_mm = float(np.max(np.abs(minimax.gradient_at_logit(l_small) / -small - 1)))
    rel_ns = float(np.max(np.abs(ns.gradient_at_logit(l_small) / -(1 - small) - 1)))
    study.check("as D(G(z)) = p -> 0 the minimax gradient in l is -p (vanishes) and the "
                "non-saturating one -(1 - p) (tends to -1)", rel_mm < 1e-9 and rel_ns < 1e-9,
                f"p from 1e-12 to 1e-2: relative errors {rel_mm:.1e}, {rel_ns:.1e}; at "
                f"p = 1e-12 the gradients are {minimax.gradient_at_logit(l_small[0]):.2e} "
                f"and {ns.gradient_at_logit(l_small[0]):.6f}")

    # --- slopes in p (Goodfellow's axis), by central differences of the cost curves
    h = 1e-7
    q = np.array([1e-4, 1e-3, 1e-2, 0.1])
    slope_mm = (minimax.cost_at_probability(q + h) - minimax.cost_at_probability(q - h)) / (2 * h)
    slope_ns = (ns.cost_at_probability(q + h) - ns.cost_at_probability(q - h)) / (2 * h)
    ok_p = bool(np.all(np.abs(slope_mm * (1 - q) + 1) < 1e-4)
                and np.all(np.abs(slope_ns * q + 1) < 1e-4))
    study.check("in p itself the minimax slope -1/(1 - p) stays bounded near -1 while the "
                "non-saturating slope -1/p diverges (finite differences)", ok_p,
                "p = " + ", ".join(f"{v:g}" for v in q) + ": minimax "
                + ", ".join(f"{v:.4f}" for v in slope_mm) + "; non-saturating "
                + ", ".join(f"{v:.4g}" for v in slope_ns))

    # --- through the whole engine: the Dirac-GAN's derived generator gradients
    rng = np.random.default_rng(0)
    n_states = 200 if study.quick else 2000
    states = np.stack([rng.uniform(-3, 3, n_states), rng.uniform(-8, 8, n_states)], axis=-1)
    grads = {}
    for loss in ("minimax", "non-saturating"):
        vf = derive(make_game("dirac", loss))
        grads[loss] = -vf.field_fn(states)[:, 0]  # grad_theta of cost_g
    fake_logit = states[:, 0] * states[:, 1]  # Dirac-GAN: l = psi * theta
    moving = np.abs(grads["non-saturating"]) > 1e-12
    ratio = grads["minimax"][moving] / grads["non-saturating"][moving]
    law = np.exp(fake_logit[moving])  # = p / (1 - p)
    rel = float(np.max(np.abs(ratio / law - 1)))
    rejected = fake_logit < -10
    study.check("Dirac-GAN (derived by sympy): grad_theta of the minimax cost / that of the "
                "non-saturating cost = p/(1 - p) = exp(l) at every state", rel < 1e-9,
                f"{moving.sum()} random states, l from {fake_logit.min():.1f} to "
                f"{fake_logit.max():.1f}: max relative error {rel:.1e}; where l < -10 "
                f"({rejected.sum()} states) the minimax gradient is at most "
                f"{np.max(np.abs(grads['minimax'][rejected])):.1e}, the non-saturating one "
                f"up to {np.max(np.abs(grads['non-saturating'][rejected])):.2f}")
    extreme = np.concatenate([minimax.cost_at_logit([-1000.0, 1000.0]),
                              ns.cost_at_logit([-1000.0, 1000.0]),
                              minimax.gradient_at_logit([-1000.0, 1000.0]),
                              ns.gradient_at_logit([-1000.0, 1000.0])])
    study.check("costs and gradients stay finite at logits of +-1000",
                bool(np.all(np.isfinite(extreme))),
                "J_ns(-1000) = " + f"{ns.cost_at_logit(-1000.0):g}")

    # --- the figure
    from gandyn.plotting import TWO_COLUMN

    with study.figure() as style:
        fig = style.new((TWO_COLUMN[0], 2.4))
        ax_cost, ax_slope, ax_logit = fig.subplots(1, 3)
        generator_costs(ax_cost, points=points)
        ax_cost.set_ylim(-7.0, 7.0)
        ax_cost.set_title(r"(a) cost against $D(G(z))$")
        generator_costs(ax_slope, quantity="gradient", points=points, legend=False)
        ax_slope.set_ylim(-20.0, 1.0)
        ax_slope.set_title(r"(b) slope in $D(G(z))$")
        generator_costs(ax_logit, x="logit", quantity="gradient", points=points,
                        legend=False)
        ax_logit.set_ylim(-1.1, 0.1)
        ax_logit.set_title(r"(c) slope in the logit $l$")
        data = generator_costs_data(points=points)
        l_grid = np.linspace(-10.0, 10.0, points)
        data.update(logit_grid=l_grid, dcost_dl_minimax_grid=-expit(l_grid),
                    dirac_states=states, dirac_grad_minimax=grads["minimax"],
                    dirac_grad_non_saturating=grads["non-saturating"])
        study.save(fig, "generator-costs", data=data,
                   metadata={"losses": ["minimax", "non-saturating"], "points": points,
                             "reference": "Goodfellow (2016), arXiv:1701.00160, Figure 16"})


if __name__ == "__main__":
    Study.main(run, slug="generator-costs", claim=CLAIM)
