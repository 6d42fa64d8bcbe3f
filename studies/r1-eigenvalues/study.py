"""R1 on the Dirac-GAN: the equilibrium's eigenvalues as gamma grows.

Mescheder, Geiger and Nowozin (2018, Sec. 3 and 4.1) show that the zero-centred
gradient penalty R1 turns the Dirac-GAN's centre into a stable focus: the flow
Jacobian at ``(theta, psi) = (0, 0)`` is ``[[0, f'(0)], [-f'(0), -gamma]]`` with
eigenvalues ``-gamma/2 +- sqrt(gamma**2/4 - f'(0)**2)``, ``f'(0) = 1/2``. They
leave the imaginary axis as soon as ``gamma > 0``, meet on the real axis at
``gamma = 2 f'(0) = 1`` (critical damping: the fastest decay) and split into
two real eigenvalues, one of which creeps back towards zero.

This study follows the eigenvalues along ``gamma_r1`` exactly as ``gandyn
analyze --path gamma_r1=0:2:N`` does (:func:`gandyn.equilibria.analyze` with a ``path``,
built on :func:`gandyn.equilibria.eigenvalue_paths.eigenvalue_path`) and checks them, the collision
and the largest stable step of simultaneous gradient descent
(:func:`gandyn.equilibria.stable_lr_range`) against the closed forms.

Run ``python studies/r1-eigenvalues/study.py [--quick]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gandyn.study import Study

SLUG = "r1-eigenvalues"
CLAIM = ("R1's gamma moves the Dirac-GAN's eigenvalues off the imaginary axis at once and makes "
         "them meet on the real axis at gamma = 2 f'(0) = 1")
#: Step of simultaneous GD for the map path (large, so that both ends of its stable
#: gamma range fall inside [0, 2]: 4 gamma > h and 4 / (gamma + sqrt(gamma**2 - 1)) > h).
MAP_LR = 2.0
#: Step of the Mescheder et al. (2018) notebook, for the text.
NOTEBOOK_LR = 0.2


def closed_form_eigenvalues(gamma: np.ndarray[Any, Any], fprime: float) -> np.ndarray[Any, Any]:
    """``-gamma/2 +- sqrt(gamma**2/4 - f'(0)**2)`` (Mescheder et al. 2018, Sec. 3), ``(m, 2)``."""
    root = np.sqrt((gamma**2 / 4 - fprime**2).astype(np.complex128))
    return np.stack([-gamma / 2 - root, -gamma / 2 + root], axis=1)


def closed_form_simgd_bound(gamma: np.ndarray[Any, Any], fprime: float) -> np.ndarray[Any, Any]:
    """Largest stable step of simultaneous GD: ``min -2 Re(lambda) / |lambda|**2``.

    Below the collision ``|lambda|**2 = f'(0)**2`` gives ``gamma / f'(0)**2`` (``4 gamma``);
    above it the larger real eigenvalue decides: ``2 / (gamma/2 + sqrt(gamma**2/4 - f'(0)**2))``
    (Mescheder, Nowozin and Geiger 2017, Lemma 4: ``|1 + h lambda| < 1``).
    """
    below = gamma / fprime**2
    with np.errstate(invalid="ignore"):
        above = 2.0 / (gamma / 2 + np.sqrt(np.maximum(gamma**2 / 4 - fprime**2, 0.0)))
    return np.where(gamma <= 2 * fprime, below, above)


def complex_plane_axes(ax: Any, values: np.ndarray[Any, Any], eig: np.ndarray[Any, Any],
                       label: str) -> Any:
    """Eigenvalues in the complex plane, coloured by the path parameter; returns the artist.

    (A small panel kept here until gandyn.plotting has a spectrum panel of its own.)
    """
    gamma = np.repeat(values, eig.shape[1])
    points = eig.reshape(-1)
    art = ax.scatter(points.real, points.imag, c=gamma, s=4, cmap="cividis", linewidths=0,
                     zorder=2)
    ax.axvline(0.0, color="0.4", linewidth=0.8)
    ax.axhline(0.0, color="0.4", linewidth=0.8)
    ax.set_xlabel(r"$\mathrm{Re}\,\lambda$")
    ax.set_ylabel(r"$\mathrm{Im}\,\lambda$")
    bar = ax.figure.colorbar(art, ax=ax, pad=0.02, fraction=0.06)
    bar.set_label(label)
    return art


def run(study: Study) -> None:
    from gandyn.derivation.field import derive
    from gandyn.equilibria import RuleChoice, analyze, flow_stability, stable_lr_range
    from gandyn.games.game import make_game

    n_path = 101 if study.quick else 401
    n_bound = 20 if study.quick else 80
    path_text = f"gamma_r1=0:2:{n_path}"
    spacing = 2.0 / (n_path - 1)

    game = make_game("dirac", "minimax", [('r1', {'gamma': 0.3})])
    vf = derive(game)
    path_range = ("gamma_r1", 0.0, 2.0, n_path)
    analysis = analyze(vf, path=path_range)
    isolated = [e for e in analysis.equilibria if e.kind == "isolated"]
    study.check("sympy finds the Dirac-GAN's equilibrium (0, 0) with R1",
                len(isolated) == 1 and isolated[0].point == {"theta": 0.0, "psi": 0.0},
                f"stationary points: {[e.point for e in analysis.equilibria]}")
    origin = np.zeros(2)

    # f'(0) read off the engine's Jacobian; Mescheder et al. (2018), Sec. 2.2: f'(0) = 1/2.
    jac0 = vf.jacobian_fn(origin, {"gamma_r1": 0.0})
    fprime = float(jac0[0, 1])
    study.check("f'(0) = 1/2 and dF/dx = [[0, f'(0)], [-f'(0), -gamma]] at (0, 0)",
                abs(fprime - 0.5) < 1e-12 and abs(jac0[1, 0] + fprime) < 1e-12
                and abs(jac0[0, 0]) < 1e-12 and abs(jac0[1, 1]) < 1e-12
                and abs(vf.jacobian_fn(origin, {"gamma_r1": 0.7})[1, 1] + 0.7) < 1e-12,
                f"f'(0) = {fprime:.12g}, J(gamma=0) = {jac0.tolist()}")
    readme = flow_stability(vf.jacobian_fn(origin)).eigenvalues  # gamma_r1 = 0.3
    study.check("gamma = 0.3 gives -0.15 +- 0.47697i (README, gandyn derive --at theta=0,psi=0)",
                np.allclose(readme, [-0.15 - 0.47697j, -0.15 + 0.47697j], atol=5e-6)
                and np.allclose(readme, closed_form_eigenvalues(np.array([0.3]), fprime)[0],
                                atol=1e-12),
                ", ".join(f"{z.real:.6g}{z.imag:+.6g}i" for z in readme))
    ns = derive(make_game("dirac", "non-saturating", [('r1', {'gamma': 0.3})]))
    study.check("the non-saturating loss has the same Jacobian at (0, 0) for every gamma",
                all(np.allclose(ns.jacobian_fn(origin, {"gamma_r1": g}),
                                vf.jacobian_fn(origin, {"gamma_r1": g}), atol=1e-14)
                    for g in np.linspace(0.0, 2.0, 9)), "9 values of gamma in [0, 2]")

    # --- the flow path, as `gandyn analyze --path gamma_r1=0:2:N` computes it --------------
    assert analysis.path is not None
    path = analysis.path.to_dict()
    values = np.asarray(path["values"])
    eig = np.array([[complex(re, im) for re, im in row] for row in path["eigenvalues"]])
    expected = closed_form_eigenvalues(values, fprime)
    error = np.max(np.abs(np.sort_complex(eig) - np.sort_complex(expected)))
    study.check("eigenvalues along the path = -gamma/2 +- sqrt(gamma^2/4 - f'(0)^2)",
                error < 1e-6, f"max error {error:.2g} over {n_path} values of gamma "
                "(a double eigenvalue is computed to about sqrt(machine eps))")
    below = values < 2 * fprime - spacing / 2
    re_error = float(np.max(np.abs(eig[below].real + values[below, None] / 2)))
    study.check("below the collision both real parts are -gamma/2",
                re_error < 1e-9, f"max |Re lambda + gamma/2| = {re_error:.2g} for gamma < 1")
    collisions = [e["value"] for e in path["events"] if e["kind"] == "collision"]
    study.check("the eigenvalues meet on the real axis once, at gamma = 2 f'(0) = 1",
                len(collisions) == 1 and abs(collisions[0] - 2 * fprime) <= spacing + 1e-12,
                f"collision events at {collisions} (grid spacing {spacing:g})")
    stab = [flow_stability(vf.jacobian_fn(origin, {"gamma_r1": float(g)})) for g in values]
    study.check("they leave the imaginary axis at gamma = 0+: a centre at 0, stable beyond",
                stab[0].kind == "centre" and all(s.stability == "stable" for s in stab[1:])
                and not [e for e in path["events"] if e["kind"] == "axis-crossing"],
                f"gamma = 0: {stab[0].kind}; gamma = {values[1]:g}: {stab[1].kind}; "
                f"gamma = 2: {stab[-1].kind}")
    abscissa = eig.real.max(axis=1)
    fastest = float(values[int(np.argmin(abscissa))])
    study.check("the decay is fastest (max Re lambda lowest) at the collision, gamma = 1",
                abs(fastest - 2 * fprime) <= spacing + 1e-12,
                f"argmin of max Re lambda at gamma = {fastest:g}, max Re there "
                f"{abscissa.min():.6g} (closed form -f'(0) = {-fprime:g})")

    # --- simultaneous gradient descent: the largest stable step over gamma -------------------
    gammas = np.linspace(2.0 / n_bound, 2.0, n_bound)
    intervals = [stable_lr_range(derive(game.with_params({"gamma_r1": float(g)})), "simgd",
                                 origin, lr_max=10.0, n=200) for g in gammas]
    scanned = np.array([np.nan if i is None else i[1] for i in intervals])
    closed = closed_form_simgd_bound(gammas, fprime)
    rel = float(np.max(np.abs(scanned / closed - 1)))  # NaN (never stable) fails the check
    study.check("simgd is locally stable iff h < 4 gamma (gamma <= 1), "
                "4 / (gamma + sqrt(gamma^2 - 1)) (gamma >= 1)",
                rel < 1e-8, f"numeric scan of the spectral radius vs closed form at {n_bound} "
                f"values of gamma: max relative error {rel:.2g}; at gamma = 0.3: "
                f"{float(closed_form_simgd_bound(np.array([0.3]), fprime)[0]):g} (README: 1.2); "
                f"largest bound {closed.max():g} at gamma = {gammas[int(np.argmax(closed))]:g}")
    map_analysis = analyze(vf, rule=RuleChoice("simgd", MAP_LR, MAP_LR), path=path_range)
    assert map_analysis.path is not None
    map_path = map_analysis.path.to_dict()
    crossings = sorted(e["value"] for e in map_path["events"] if e["kind"] == "unit-circle")
    # h = 4 gamma and h = 4 / (gamma + sqrt(gamma^2 - 1)) solved for gamma.
    ends = [MAP_LR / 4, (MAP_LR**2 / 16 + 1) / (MAP_LR / 2)]
    study.check(f"with h = {MAP_LR:g} simgd is stable exactly for {ends[0]:g} < gamma < "
                f"{ends[1]:g}",
                len(crossings) == 2 and all(abs(c - e) <= spacing + 1e-12
                                            for c, e in zip(crossings, ends, strict=True)),
                f"unit-circle crossings of the map's eigenvalues at {crossings}")
    study.metadata.update({"path": path_text, "loss": "minimax", "f_prime_0": fprime,
                           "map_lr": MAP_LR})

    with study.figure() as style:
        from gandyn.plotting import TWO_COLUMN
        from gandyn.plotting.eigenvalue_paths import eigenvalue_path_axes
        from gandyn.plotting.style import note_fontsize

        fig = style.new((TWO_COLUMN[0], 4.6))
        (ax_plane, ax_re), (ax_im, ax_h) = fig.subplots(2, 2)
        complex_plane_axes(ax_plane, values, eig, r"$\gamma$ (R1)")
        ax_plane.plot([-fprime], [0.0], marker="x", color="k", markersize=5, linestyle="none",
                      label=r"collision, $\gamma = 2 f^{\prime}(0)$")
        ax_plane.legend(loc="upper left", frameon=False)
        ax_plane.set_title("(a) eigenvalues of $dF/dx$ at $(0, 0)$", loc="left")
        eigenvalue_path_axes(ax_re, ax_im, path)
        for k in range(2):
            ax_re.plot(values, expected[:, k].real, color="k", linestyle=(0, (1, 2)),
                       linewidth=0.8, label="closed form" if k == 0 else None)
            ax_im.plot(values, expected[:, k].imag, color="k", linestyle=(0, (1, 2)),
                       linewidth=0.8)
        ax_re.legend(loc="lower left", frameon=False)
        ax_re.set_title("(b) real parts (dotted: events)", loc="left")
        ax_im.set_title("(c) imaginary parts", loc="left")
        fine = np.linspace(1e-3, 2.0, 400)
        ax_h.plot(fine, closed_form_simgd_bound(fine, fprime), color="k", linewidth=0.9,
                  label=r"$\min_\lambda -2\,\mathrm{Re}\,\lambda / |\lambda|^2$")
        ax_h.plot(gammas, scanned, linestyle="none", marker="o", markersize=2.5,
                  markerfacecolor="none", color="C0", label="numeric scan (gandyn)")
        for lr, text, dash in ((NOTEBOOK_LR, f"$h = {NOTEBOOK_LR:g}$ (notebook)", "--"),
                               (MAP_LR, f"$h = {MAP_LR:g}$", "-.")):
            ax_h.axhline(lr, color="0.35", linewidth=0.8, linestyle=dash)
            ax_h.text(1.98, lr + 0.06, text, ha="right", va="bottom", fontsize=note_fontsize())
        ax_h.set_xlabel(r"$\gamma$")
        ax_h.set_ylabel(r"largest stable step $h$")
        ax_h.set_xlim(0.0, 2.0)
        ax_h.set_ylim(0.0, 4.6)
        ax_h.legend(loc="upper right", frameon=False)
        ax_h.set_title("(d) simultaneous GD", loc="left")
        study.save(fig, "r1-eigenvalues", data={
            "gamma": values, "eigenvalues_real": eig.real, "eigenvalues_imag": eig.imag,
            "closed_form_real": expected.real, "closed_form_imag": expected.imag,
            "collision_gamma": np.array(collisions),
            "bound_gamma": gammas, "bound_scanned": scanned, "bound_closed_form": closed,
            "map_lr": np.array(MAP_LR), "map_unit_circle_gamma": np.array(crossings),
        })


if __name__ == "__main__":
    Study.main(run, slug=SLUG, claim=CLAIM)
