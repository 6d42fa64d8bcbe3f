"""The page's update rules (static/rules.js), run by node, against gandyn's Python rules.

Every rule of gandyn's registry must be on the page. For the rules that look through a
step (SGA, the proximal point, the unrolled GAN, LOLA, SOS, single-call OMD) the page's
trajectory is compared with :func:`gandyn.runs.build.simulate` of the same game, rule,
rates and settings, and the page's map Jacobian with the rule's own
:meth:`~gandyn.rules.base.UpdateRule.map_jacobian` (numpy, independent of the printed
JavaScript), at a point off every equilibrium and at the Dirac-GAN's equilibrium. A finite
difference of the page's own step checks its map Jacobian independently of gandyn's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib import resources
from typing import Any

import numpy as np
import pytest
from eigenvalue_matching import assert_same_eigenvalues as _assert_same_eigenvalues

from gandyn.derivation.field import derive
from gandyn.explore.jscode import JS_HELPERS
from gandyn.explore.names import PAGE_RULES
from gandyn.explore.variants import Offer, offer
from gandyn.rules.base import FieldFunctions
from gandyn.rules.registry import RULES, make_rule
from gandyn.runs.build import build_game_part, simulate
from gandyn.runs.parts import GameSpec, RegularizerSpec

STEPS = 120
#: Both rates differ, so that each reaches the right player (and the look-ahead defaults).
LR_G, LR_D = 0.1, 0.17

#: (game, loss, regularizer, its parameters, rule, settings, start)
CASES: list[tuple[str, str | None, str, dict[str, float], str, dict[str, Any], list[float]]] = [
    ("dirac", "non-saturating", "r1", {"gamma_r1": 0.3}, "sga", {}, [0.8, -0.6]),
    ("dirac", "non-saturating", "r1", {"gamma_r1": 0.3}, "sga",
     {"lam": -0.7, "align": 1, "align_eps": 0.0}, [0.8, -0.6]),
    ("dirac", "minimax", "none", {}, "sga", {"lam": 0.5}, [1.0, 0.5]),
    ("dirac", "non-saturating", "r1", {"gamma_r1": 0.3}, "proximal", {}, [0.8, -0.6]),
    ("bilinear", None, "none", {}, "proximal", {}, [1.0, 1.0]),
    ("dirac", "non-saturating", "r1", {"gamma_r1": 0.3}, "unrolled", {}, [0.8, -0.6]),
    ("dirac", "non-saturating", "none", {}, "unrolled", {"unroll": 3, "unroll_lr": 0.3},
     [1.2, 0.4]),
    ("dirac", "minimax", "r1", {"gamma_r1": 0.5}, "unrolled", {"unroll": 0}, [0.8, -0.6]),
    ("dirac", "non-saturating", "r1", {"gamma_r1": 0.3}, "lola", {}, [0.8, -0.6]),
    ("bilinear", None, "none", {}, "lola", {"lola_eta": 0.4}, [1.0, -0.5]),
    ("dirac", "non-saturating", "r1", {"gamma_r1": 0.3}, "sos", {}, [0.8, -0.6]),
    ("dirac", "non-saturating", "none", {}, "sos", {"sos_a": 0.2, "sos_b": 0.5,
                                                    "lola_eta": 0.3}, [1.5, 1.0]),
    # where the shaping would undo LookAhead's descent: SOS's p = p1 < 1 (Algorithm 1)
    ("dirac", "non-saturating", "r1", {"gamma_r1": 0.3}, "sos",
     {"sos_a": 0.05, "sos_b": 0.01, "lola_eta": 1.0}, [-3.0, 0.75]),
    ("dirac", "non-saturating", "r1", {"gamma_r1": 0.3}, "omd", {}, [0.8, -0.6]),
    ("bilinear", None, "none", {"a": 0.1}, "omd", {}, [1.0, 1.0]),
]
NEW_RULES = sorted({case[4] for case in CASES})


@pytest.fixture(scope="module")
def offered() -> dict[str, Offer]:
    """The Dirac-GAN's minimax and non-saturating variants with R1, and the bilinear game."""
    return {"dirac": offer(GameSpec(name="dirac", loss="non-saturating"), regularizers=("r1",)),
            "bilinear": offer(GameSpec(name="bilinear"), regularizers=())}


def _rules_js() -> str:
    return (resources.files("gandyn.explore").joinpath("static", "rules.js")
            .read_text(encoding="utf-8"))


def _page(run_js: Callable[[str], str], offered: Offer, key: str, body: str,
          values: dict[str, Any]) -> Any:
    """Run ``body`` with ``V`` the variant ``key``, ``R`` the rules and ``a`` the values."""
    variant = next(v for v in offered.variants if v.key == key)
    script = (JS_HELPERS + f"const V = {variant.code};\n" + _rules_js()
              + f"\nconst R = GandynRules;\nconst a = {json.dumps(values)};\n"
              + f"console.log(JSON.stringify((() => {{ {body} }})()));\n")
    return json.loads(run_js(script))


def _defaults(rule: str, settings: dict[str, Any]) -> dict[str, Any]:
    """Every declared setting, as the page resolves them (its defaults, JSON's null)."""
    return {s.name: settings.get(s.name, s.default) for s in RULES[rule].settings}


def _variant_key(loss: str | None, reg: str) -> str:
    return f"{loss or '-'}|{reg}"


def _field(game: str, loss: str | None, reg: str, params: dict[str, float]) -> FieldFunctions:
    regs = () if reg == "none" else (RegularizerSpec(reg),)
    part = GameSpec(name=game, loss=loss, regularizers=regs, params=tuple(params.items()))
    return FieldFunctions.of(derive(build_game_part(part)))


def test_every_registry_rule_is_on_the_page(run_js: Callable[[str], str]) -> None:
    names = json.loads(run_js(_rules_js() + "\nconsole.log(JSON.stringify("
                              "Object.keys(GandynRules.RULES)));"))
    assert names == list(RULES)
    assert ("flow", *RULES) == PAGE_RULES


@pytest.mark.parametrize(("game", "loss", "reg", "params", "rule", "settings", "x0"), CASES)
def test_the_page_steps_as_gandyn(run_js: Callable[[str], str], offered: dict[str, Offer],
                                  game: str, loss: str | None, reg: str,
                                  params: dict[str, float], rule: str,
                                  settings: dict[str, Any], x0: list[float]) -> None:
    values = {p.name: p.value for p in offered[game].parameters} | params
    got = _page(run_js, offered[game], _variant_key(loss, reg),
                "return R.run(a.rule, R.gameAt(V, a.p), a.x0, a.steps, a.h, a.s, 1e6);",
                {"rule": rule, "p": values, "x0": x0, "steps": STEPS, "h": [LR_G, LR_D],
                 "s": _defaults(rule, settings)})
    regs = [] if reg == "none" else [RegularizerSpec(reg)]
    traj = simulate(game=game, loss=loss, regularizers=regs, params=params, optimizer=rule,
                    lr_g=LR_G, lr_d=LR_D, steps=STEPS,
                    starts=[{"theta": x0[0], "psi": x0[1]}], settings=settings).trajectory
    assert not traj.diverged[0] and got["divergedAt"] is None
    want = traj.x[0]
    assert np.ptp(want, axis=0).min() > 1e-3  # the run moves: the comparison can fail
    np.testing.assert_allclose(np.array(got["x"]), want, rtol=1e-12, atol=1e-12)


def _python_map(rule: str, settings: dict[str, Any], field: FieldFunctions, x: list[float],
                previous: list[float]) -> np.ndarray:
    python_rule = make_rule(rule, LR_G, LR_D, **settings)
    buffers = {"extrapolated": np.array([previous])} if rule == "omd" else {}
    return np.asarray(python_rule.map_jacobian(field, np.array([x]), buffers, 1)[0])


@pytest.mark.parametrize(("game", "loss", "reg", "params", "rule", "settings", "x0"), CASES)
def test_the_page_map_jacobian_is_gandyns(run_js: Callable[[str], str],
                                          offered: dict[str, Offer], game: str,
                                          loss: str | None, reg: str,
                                          params: dict[str, float], rule: str,
                                          settings: dict[str, Any], x0: list[float]) -> None:
    values = {p.name: p.value for p in offered[game].parameters} | params
    previous = [x0[0] - 0.3, x0[1] + 0.2]  # omd's extrapolated point, off x
    # The page's map at x0, and a central difference of its own step there: one step of
    # the memoryless rules, and omd's step as a function of (x, y_prev).
    got = _page(run_js, offered[game], _variant_key(loss, reg), """
        const G = R.gameAt(V, a.p), rule = R.RULES[a.rule];
        const J = G.jacobian(a.x);
        const map = R.mapJacobian(a.rule, J, a.h, a.s, G, a.x, { extrapolated: a.prev });
        const z = a.x.concat(a.rule === "omd" ? a.prev : []), d = 1e-6;
        const next = (w) => {
          const buf = a.rule === "omd" ? { extrapolated: w.slice(2) } : rule.init(w.slice(0, 2));
          const out = rule.step(G, w.slice(0, 2), buf, 1, a.h, a.s);
          return out.x.concat(a.rule === "omd" ? out.buf.extrapolated : []);
        };
        const columns = z.map((_, j) => {
          const up = z.slice(), down = z.slice(); up[j] += d; down[j] -= d;
          const u = next(up), w = next(down); return u.map((ui, i) => (ui - w[i]) / (2 * d));
        });
        return { map, difference: columns[0].map((_, i) => columns.map((c) => c[i])) };""",
                {"rule": rule, "p": values, "x": x0, "prev": previous, "h": [LR_G, LR_D],
                 "s": _defaults(rule, settings)})
    want = _python_map(rule, settings, _field(game, loss, reg, params), x0, previous)
    np.testing.assert_allclose(np.array(got["map"]), want, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(np.array(got["map"]), np.array(got["difference"]), atol=1e-7)


@pytest.mark.parametrize("rule", NEW_RULES)
def test_map_spectra_at_the_dirac_equilibrium(run_js: Callable[[str], str],
                                              offered: dict[str, Offer], rule: str) -> None:
    # The Dirac-GAN's equilibrium (0, 0) (Mescheder et al. 2018), with the buffers at rest.
    values = {p.name: p.value for p in offered["dirac"].parameters} | {"gamma_r1": 0.3}
    settings = {"lam": 2.0} if rule == "sga" else {}
    got = _page(run_js, offered["dirac"], "non-saturating|r1", """
        const G = R.gameAt(V, a.p), x = [0, 0];
        return R.eigenvalues(R.mapJacobian(a.rule, G.jacobian(x), a.h, a.s, G, x));""",
                {"rule": rule, "p": values, "h": [LR_G, LR_D], "s": _defaults(rule, settings)})
    field = _field("dirac", "non-saturating", "r1", {"gamma_r1": 0.3})
    want = np.linalg.eigvals(_python_map(rule, settings, field, [0.0, 0.0], [0.0, 0.0]))
    _assert_same_eigenvalues([complex(re, im) for re, im in got], want, atol=1e-12)
