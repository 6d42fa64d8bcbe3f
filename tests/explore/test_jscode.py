"""The printed JavaScript, run by node, against gandyn's numpy functions of the same game.

Besides the field, its Jacobian and the logged losses: the cross gradient, its Jacobian and
the third derivatives ``d(dF/dx)/dx`` as the page's rules read them (``GandynRules.gameAt``
fills in the entries that symmetry gives), against
:mod:`gandyn.derivation.player_derivatives` and ``VectorField.jacobian_derivative_fn``.

The reference is the numpy form of each expression (``lambdify`` with gandyn's stable
namespace, :mod:`gandyn.arrays`), which is independent of the JavaScript printer and its
helpers; values must agree to rounding, also at logits of +-1000 where a naive
``log(1 + exp(l))`` overflows.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib import resources

import numpy as np
import pytest
import sympy as sp

from gandyn import arrays
from gandyn.derivation.field import derive
from gandyn.derivation.player_derivatives import player_derivatives
from gandyn.errors import SpecError
from gandyn.explore.jscode import JS_HELPERS, js_function
from gandyn.explore.variants import LOGGED, offer
from gandyn.runs.build import build_game_part
from gandyn.runs.parts import GameSpec, RegularizerSpec

#: Logits from the flat tails to the overflow of a naive exp(1000).
LOGITS = [-1000.0, -40.0, -1.5, -1e-9, 0.0, 1e-9, 0.7, 40.0, 1000.0]


def test_helpers_match_the_stable_numpy_forms_at_extreme_logits(
        run_js: Callable[[str], str]) -> None:
    script = JS_HELPERS + f"""
const ls = {json.dumps(LOGITS)};
console.log(JSON.stringify([ls.map(gdSoftplus), ls.map(gdSigmoid), ls.map(gdLogSigmoid)]));
"""
    softplus, sigmoid, log_sigmoid = json.loads(run_js(script))
    ls = np.array(LOGITS)
    for got, want in ((softplus, arrays.softplus(ls)), (sigmoid, arrays.sigmoid(ls)),
                      (log_sigmoid, arrays.log_sigmoid(ls))):
        assert np.all(np.isfinite(got))
        np.testing.assert_allclose(got, want, rtol=4e-16, atol=0)
    # The tails are exact: softplus(1000) = 1000 and log_sigmoid(-1000) = -1000.
    assert softplus[-1] == 1000.0 and log_sigmoid[0] == -1000.0


def _page_values(run_js: Callable[[str], str], part: GameSpec, states: list[list[float]],
                 regularizers: tuple[str, ...]) -> tuple[dict[str, object], object]:
    offered = offer(part, regularizers=regularizers)
    values = {p.name: p.value for p in offered.parameters}
    variants = ",\n".join(f"{json.dumps(v.key)}: {v.code}" for v in offered.variants)
    rules = resources.files("gandyn.explore").joinpath("static", "rules.js").read_text("utf-8")
    script = JS_HELPERS + rules + f"""
const V = {{{variants}}};
const p = {json.dumps(values)};
const xs = {json.dumps(states)};
const out = {{}};
for (const key of Object.keys(V)) {{
  const G = GandynRules.gameAt(V[key], p);
  out[key] = xs.map((x) => [V[key].field(x, p), V[key].jacobian(x, p), V[key].logged(x, p),
                            G.cross(x), G.higher(x).dc.flat(), G.higher(x).dJ.flat(2)]);
}}
console.log(JSON.stringify(out));
"""
    return json.loads(run_js(script)), offered


@pytest.mark.parametrize("game", ["dirac", "bilinear"])
def test_every_variant_matches_numpy(run_js: Callable[[str], str], game: str) -> None:
    # States where the fake logit l = psi * theta reaches +-1000 (Dirac-GAN) and ordinary ones.
    states = [[1.0, 1.0], [-0.3, 0.8], [1000.0, 1.0], [-1000.0, 1.0], [2.0, -500.0]]
    got, offered = _page_values(run_js, GameSpec(name=game), states,
                                ("r1", "consensus"))
    assert set(got) == {v.key for v in offered.variants}
    for variant in offered.variants:
        regs = () if variant.regularizer == "none" else tuple(
            RegularizerSpec(name) for name in variant.regularizer.split("+"))
        vf = derive(build_game_part(GameSpec(name=game, loss=variant.loss, regularizers=regs)))
        opponent = player_derivatives(vf)
        x = np.array(states)
        # maximum-likelihood's exp(l) overflows at l = 1000 (inf - inf in its field): the
        # check below is that the page is non-finite exactly where numpy is.
        with np.errstate(invalid="ignore"):
            logged = vf.logged(x)
            want = [vf.field_fn(x), vf.jacobian_fn(x).reshape(len(states), 4),
                    np.stack([logged.get(name, np.zeros(len(states))) for name in LOGGED], -1),
                    opponent.cross_gradient_fn(x),
                    opponent.cross_jacobian_fn(x).reshape(len(states), 4),
                    vf.jacobian_derivative_fn(x).reshape(len(states), 8)]
        for part, reference in enumerate(want):
            page = np.array([row[part] for row in got[variant.key]], dtype=float)
            finite = np.isfinite(reference)
            assert np.array_equal(np.isfinite(page), finite), (variant.key, part)
            np.testing.assert_allclose(page[finite], reference[finite], rtol=1e-12,
                                       atol=1e-12, err_msg=f"{variant.key} part {part}")


def test_symbols_named_like_javascript_words_are_renamed(run_js: Callable[[str], str]) -> None:
    var, this = sp.Symbol("var", real=True), sp.Symbol("this", real=True)
    weight = sp.Symbol("return", real=True)
    source = js_function("f", [var * this + weight, sp.sqrt(var) ** 3], [var, this], [weight])
    out = json.loads(run_js(JS_HELPERS + source
                            + "\nconsole.log(JSON.stringify(f([4, 0.5], {return: 2})));"))
    np.testing.assert_allclose(out, [4 * 0.5 + 2, 8.0], rtol=1e-15)


def test_a_function_the_page_cannot_evaluate_is_refused() -> None:
    x = sp.Symbol("x", real=True)
    with pytest.raises(SpecError, match="cannot evaluate"):
        js_function("f", [sp.Function("mystery")(x)], [x], [])
    with pytest.raises(SpecError, match="cannot evaluate expressions in y"):
        js_function("f", [x + sp.Symbol("y", real=True)], [x], [])
