"""The explore page in a real headless browser (Playwright driving the system chromium).

The page must load without console errors, follow the reader's clicks and controls, and
compute the trajectories, logged losses and spectra gandyn computes in Python: the
reference runs are :func:`gandyn.runs.build.simulate` and the rules' own map Jacobians
(:meth:`gandyn.rules.base.UpdateRule.map_jacobian`), independent of the page's code.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from eigenvalue_matching import assert_same_eigenvalues as _assert_same_eigenvalues

from gandyn.derivation.field import derive
from gandyn.explore.page import explore_page
from gandyn.rules.base import FieldFunctions
from gandyn.rules.registry import make_rule
from gandyn.runs.build import build, build_game_part, run, simulate
from gandyn.runs.parts import GameSpec, RegularizerSpec
from gandyn.runs.spec_files import load_spec

STEPS = 200


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A Dirac-GAN page (R1 offered) and a bilinear page (consensus offered), built once."""
    folder = tmp_path_factory.mktemp("explore")
    made = {}
    for name, part, regs in (("dirac", GameSpec(name="dirac", loss="non-saturating"), ("r1",)),
                             ("bilinear", GameSpec(name="bilinear"), ("consensus",))):
        path = folder / f"{name}.html"
        path.write_text(explore_page(part, steps=STEPS, regularizers=regs),
                        encoding="utf-8")
        made[name] = path
    return made


@pytest.fixture
def dirac(open_page: Callable[[Path], Any], pages: dict[str, Path]) -> Any:
    return open_page(pages["dirac"])


@pytest.fixture
def bilinear(open_page: Callable[[Path], Any], pages: dict[str, Path]) -> Any:
    return open_page(pages["bilinear"])


def test_pages_load_without_console_errors_and_draw(dirac: Any,
                                                    bilinear: Any) -> None:
    for loaded in (dirac, bilinear):
        assert loaded.errors == []
        assert loaded.js("window.gandynExplore.run.x.length") == STEPS + 1
        # Something was drawn on the portrait: not every pixel is transparent.
        painted = loaded.js("""() => {
            const c = document.getElementById('portrait');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0; for (let i = 3; i < d.length; i += 4) { if (d[i]) { n++; } } return n; }""")
        assert painted > 1000


def test_a_click_sets_the_start(dirac: Any) -> None:
    canvas = dirac.page.locator("#portrait")
    box = canvas.bounding_box()
    pad, width, border = 46, 480, 1  # the plot's margin, the canvas's size, its CSS border
    assert box is not None and abs(box["width"] - width - 2 * border) < 0.5
    view = dirac.js("window.gandynExplore.data.view")
    # A quarter of the plot from the left edge and from the top.
    fx, fy = 0.25, 0.25
    canvas.click(position={"x": border + pad + fx * (width - 2 * pad),
                           "y": border + pad + fy * (width - 2 * pad)})
    start = dirac.js("window.gandynExplore.run.x[0]")
    want = [view["xmin"] + fx * (view["xmax"] - view["xmin"]),
            view["ymax"] - fy * (view["ymax"] - view["ymin"])]
    # Within a pixel and a half: the browser delivers the click at whole pixels of the page.
    pixel = (view["xmax"] - view["xmin"]) / (width - 2 * pad)
    np.testing.assert_allclose(start, want, atol=1.5 * pixel)
    assert dirac.js("window.gandynExplore.state.x0") == start
    assert f"theta={start[0]}" in dirac.page.input_value("#command")


def test_the_loss_and_the_learning_rate_change_the_trajectory(dirac: Any) -> None:
    before = np.array(dirac.js("window.gandynExplore.run.x"))
    dirac.page.select_option("#loss", "minimax")
    after_loss = np.array(dirac.js("window.gandynExplore.run.x"))
    dirac.page.fill("#lr-g", "0.05")
    after_rate = np.array(dirac.js("window.gandynExplore.run.x"))
    assert np.abs(after_loss - before).max() > 1e-3
    assert np.abs(after_rate - after_loss).max() > 1e-3
    assert "--loss minimax" in dirac.page.input_value("#command")
    assert "--lr-g 0.05" in dirac.page.input_value("#command")
    assert dirac.errors == []


def _python_run(game: str, loss: str | None, regularizers: list[RegularizerSpec],
                params: dict[str, float], rule: str, lr_g: float, lr_d: float,
                x0: list[float], settings: dict[str, Any] | None = None,
                ) -> tuple[np.ndarray, np.ndarray]:
    result = simulate(game=game, loss=loss, regularizers=regularizers, params=params,
                      optimizer=rule, lr_g=lr_g, lr_d=lr_d, steps=STEPS,
                      starts=[{"theta": x0[0], "psi": x0[1]}], settings=settings or {})
    traj = result.trajectory
    assert not traj.diverged[0]
    logged = np.stack([traj.logged[0, :, traj.logged_names.index(n)]
                       for n in ("d_real", "d_fake", "g_loss")], -1)
    return traj.x[0], logged


CASES = [
    # (page, loss on the page, regularizer, parameters, rule, its settings)
    ("dirac", "non-saturating", "none", {}, "simgd", {}),
    ("dirac", "non-saturating", "r1", {"gamma_r1": 0.3}, "altgd", {}),
    ("dirac", "non-saturating", "r1", {"gamma_r1": 0.3}, "altgd",
     {"first": "g", "d_steps": 3}),
    ("dirac", "minimax", "r1", {"gamma_r1": 0.5}, "ogda", {}),
    ("dirac", "non-saturating", "r1", {"gamma_r1": 0.3}, "adam", {}),
    ("dirac", "least-squares", "none", {}, "extragradient", {}),
    ("dirac", "relativistic", "r1", {"gamma_r1": 0.3}, "momentum", {"beta": 0.5}),
    ("dirac", "hinge", "r1", {"gamma_r1": 1.0}, "altmomentum", {}),
    ("dirac", "wasserstein", "r1", {"gamma_r1": 1.0}, "simgd", {}),
    ("bilinear", "-", "none", {"a": 0.1}, "simgd", {}),
    ("bilinear", "-", "none", {}, "altgd", {}),
    ("bilinear", "-", "none", {"b": 0.2}, "extragradient", {}),
    ("bilinear", "-", "none", {}, "ogda", {}),
    ("bilinear", "-", "consensus", {"gamma_cons": 0.5}, "momentum", {"beta": -0.3}),
]


@pytest.mark.parametrize(("page", "loss", "reg", "params", "rule", "settings"), CASES)
def test_the_page_simulates_as_gandyn(request: pytest.FixtureRequest, page: str, loss: str,
                                      reg: str, params: dict[str, float], rule: str,
                                      settings: dict[str, Any]) -> None:
    loaded: Any = request.getfixturevalue(page)
    x0, lr_g, lr_d = [0.8, -0.6], 0.1, 0.2  # two time scales: the rates reach the right player
    config = {"loss": loss, "regularizer": reg, "rule": rule, "lrG": lr_g, "lrD": lr_d,
              "steps": STEPS, "x0": x0, "params": params, "settings": settings}
    got = loaded.js("(c) => window.gandynExplore.simulate(c)", config)
    regs = [] if reg == "none" else [RegularizerSpec(reg)]
    x, logged = _python_run(page, None if loss == "-" else loss, regs, params, rule, lr_g,
                            lr_d, x0, settings)
    assert got["divergedAt"] is None
    np.testing.assert_allclose(np.array(got["x"]), x, rtol=0, atol=1e-9)
    page_logged = np.stack([got["logged"][n] for n in ("d_real", "d_fake", "g_loss")], -1)
    np.testing.assert_allclose(page_logged, logged, rtol=0, atol=1e-9)


def test_the_trajectory_read_from_the_controls_equals_gandyn(dirac: Any,
                                                             tmp_path: Path) -> None:
    dirac.page.select_option("#reg", "r1")
    dirac.page.fill("#param-gamma_r1", "0.4")
    dirac.page.select_option("#rule", "altgd")
    dirac.page.fill("#lr-g", "0.15")
    dirac.page.fill("#lr-d", "0.3")
    dirac.page.fill("#x0-0", "1.2")
    dirac.page.fill("#x0-1", "0.5")
    shown = np.array(dirac.js("window.gandynExplore.run.x"))
    x, _ = _python_run("dirac", "non-saturating", [RegularizerSpec("r1")], {"gamma_r1": 0.4},
                       "altgd", 0.15, 0.3, [1.2, 0.5])
    np.testing.assert_allclose(shown, x, rtol=0, atol=1e-9)
    # The spec the page exports runs the same trajectory through gandyn's spec reader.
    spec_path = tmp_path / "run.json"
    spec_path.write_text(dirac.page.input_value("#spec"), encoding="utf-8")
    from_spec = run(build(load_spec(str(spec_path)))).trajectory.x[0]
    np.testing.assert_allclose(shown, from_spec, rtol=0, atol=1e-9)
    command = dirac.page.input_value("#command")
    for word in ("--optimizer altgd", "--reg r1", "--param gamma_r1=0.4", "--lr-d 0.3",
                 "--x0 theta=1.2,psi=0.5", "--steps 200"):
        assert word in command


def test_the_flow_follows_gandyns_integrator(dirac: Any) -> None:
    # RK4 with 8 steps per lr_g against scipy's RK45 at rtol 1e-8: the integrators' errors.
    config = {"loss": "non-saturating", "regularizer": "r1", "rule": "flow", "lrG": 0.1,
              "lrD": 0.1, "steps": STEPS, "x0": [1.0, 1.0], "params": {"gamma_r1": 0.3}}
    got = np.array(dirac.js("(c) => window.gandynExplore.simulate(c).x", config))
    result = simulate(game="dirac", loss="non-saturating", regularizers=[RegularizerSpec("r1")],
                      params={"gamma_r1": 0.3}, optimizer="flow", lr=0.1, steps=STEPS,
                      settings={"n_eval": STEPS + 1})
    np.testing.assert_allclose(got, result.trajectory.x[0], atol=1e-6)


@pytest.mark.parametrize("rule", ["simgd", "altgd", "momentum", "altmomentum", "ogda",
                                  "extragradient"])
def test_map_spectra_equal_the_rules_own_map_jacobians(dirac: Any, rule: str) -> None:
    gamma, lr_g, lr_d = 0.3, 0.2, 0.35
    part = GameSpec(name="dirac", loss="non-saturating", regularizers=(RegularizerSpec("r1"),),
                    params=(("gamma_r1", gamma),))
    vf = derive(build_game_part(part))
    x_star = np.zeros((1, 2))  # the Dirac-GAN's equilibrium (data at c = 0)
    jacobian = vf.jacobian_fn(x_star)[0]
    python_rule = make_rule(rule, lr_g, lr_d)
    buffers = {"velocity": np.zeros((1, 2)), "previous": x_star.copy()}
    buffers = {k: v for k, v in buffers.items() if k in python_rule.buffer_names}
    matrix = python_rule.map_jacobian(FieldFunctions.of(vf), x_star, buffers, 1)[0]
    want = np.linalg.eigvals(matrix)
    got = dirac.js("""(a) => { const g = window.gandynExplore;
        const s = {};
        for (const x of g.data.rules[a.rule].settings) { s[x.name] = x.default; }
        return g.eigenvalues(g.mapJacobian(a.rule, a.J, [a.lrG, a.lrD], s)); }""",
                   {"rule": rule, "J": jacobian.tolist(), "lrG": lr_g, "lrD": lr_d})
    got_c = np.sort_complex(np.array([complex(re, im) for re, im in got]))
    np.testing.assert_allclose(got_c, np.sort_complex(want), atol=1e-9)


def test_the_largest_stable_rate_is_the_closed_form_of_simgd(dirac: Any) -> None:
    # simgd's map I + h J is stable iff |1 + h lam| < 1 for every eigenvalue lam of J, i.e.
    # h < -2 Re(lam) / |lam|^2 (Mescheder, Nowozin and Geiger 2017, Lemma 4 / Sec. 3).
    dirac.page.select_option("#reg", "r1")
    dirac.page.fill("#param-gamma_r1", "0.6")
    dirac.page.select_option("#rule", "simgd")
    stability = dirac.js("window.gandynExplore.stability")
    lam = np.linalg.eigvals(np.array([[0.0, 0.5], [-0.5, -0.6]]))
    bound = float(np.min(-2 * lam.real / np.abs(lam) ** 2))
    grid_step = 10 ** (5 / 600)
    assert bound / grid_step <= stability["largest"] < bound


def test_divergence_is_found_at_gandyns_step(dirac: Any) -> None:
    # Heavy ball with beta = 0.9 and rates 0.5 leaves the ball |x| <= 1e6 on the Dirac-GAN.
    config = {"loss": "non-saturating", "regularizer": "none", "rule": "momentum", "lrG": 0.5,
              "lrD": 0.5, "steps": STEPS, "x0": [1.0, 1.0], "params": {}, "settings": {}}
    got = dirac.js("(c) => window.gandynExplore.simulate(c)", config)
    traj = simulate(game="dirac", loss="non-saturating", optimizer="momentum", lr=0.5,
                    steps=STEPS).trajectory
    assert traj.diverged[0]
    assert got["divergedAt"] == int(traj.diverged_at[0])
    kept = len(got["x"])
    np.testing.assert_allclose(np.array(got["x"]), traj.x[0, :kept], rtol=1e-9, atol=1e-9)


@pytest.mark.slow
@pytest.mark.parametrize("game", ["two-point", "hide-and-seek", "two-point-bump"])
def test_every_two_parameter_game_runs_every_choice_without_errors(
        open_page: Callable[[Path], Any], tmp_path: Path, game: str) -> None:
    path = tmp_path / f"{game}.html"
    path.write_text(explore_page(GameSpec(name=game), steps=STEPS, regularizers=("r1",)),
                    encoding="utf-8")
    loaded = open_page(path)
    data = loaded.js("window.gandynExplore.data")
    for loss in data["losses"]:
        for reg in data["regularizers"]:
            for rule in data["rules"]:
                config = {"loss": loss, "regularizer": reg, "rule": rule, "lrG": 0.05,
                          "lrD": 0.05, "steps": 50, "x0": data["start"], "params": {},
                          "settings": {}}
                got = loaded.js("(c) => window.gandynExplore.simulate(c)", config)
                assert len(got["x"]) == 51 or got["divergedAt"] is not None
    if len(data["losses"]) > 1:
        loaded.page.select_option("#loss", data["losses"][1])
    loaded.page.select_option("#rule", "ogda")
    assert loaded.errors == []


def test_step_and_play_move_the_cursor_along_the_run(dirac: Any) -> None:
    dirac.page.click("#reset")
    assert dirac.js("window.gandynExplore.state.cursor") == 0
    dirac.page.click("#step")
    dirac.page.click("#step")
    assert dirac.js("window.gandynExplore.state.cursor") == 2
    # The logit panel follows the cursor: it names the step and the fake logit of that state.
    x2 = dirac.js("window.gandynExplore.run.x[2]")
    text = dirac.page.text_content("#logit-text")
    assert text is not None and text.startswith("At step 2:")
    shown = repr(float(f"{x2[0] * x2[1]:.6g}")).removesuffix(".0")  # as JavaScript prints it
    assert f"mean fake logit l = {shown}," in text  # the Dirac-GAN's l = psi * theta
    dirac.page.click("#play")
    dirac.page.wait_for_function(
        "window.gandynExplore.state.cursor === window.gandynExplore.run.x.length - 1"
        " && !window.gandynExplore.state.playing", timeout=10_000)
    assert dirac.errors == []


#: The rules that look through a step, whose map Jacobians read the printed second and
#: third derivatives (their formulas are checked by node in test_rules_js.py).
LOOKING_RULES = ("sga", "proximal", "unrolled", "lola", "sos", "omd")


def test_the_looking_rules_are_selectable_and_their_spectra_are_gandyns(dirac: Any) -> None:
    gamma, lr_g, lr_d = 0.3, 0.2, 0.35
    dirac.page.select_option("#reg", "r1")
    dirac.page.fill("#param-gamma_r1", str(gamma))
    dirac.page.fill("#lr-g", str(lr_g))
    dirac.page.fill("#lr-d", str(lr_d))
    part = GameSpec(name="dirac", loss="non-saturating", regularizers=(RegularizerSpec("r1"),),
                    params=(("gamma_r1", gamma),))
    field = FieldFunctions.of(derive(build_game_part(part)))
    for rule in LOOKING_RULES:
        dirac.page.select_option("#rule", rule)
        for setting in make_rule(rule, lr_g, lr_d).settings:
            assert dirac.page.locator(f"#setting-{setting.name}").count() == 1
        assert dirac.js("window.gandynExplore.run.x.length") == STEPS + 1
        stability = dirac.js("window.gandynExplore.stability")
        x_star = np.array([stability["at"]["x"]])
        np.testing.assert_allclose(x_star, 0.0, atol=1e-12)  # the Dirac-GAN's equilibrium
        python_rule = make_rule(rule, lr_g, lr_d)
        buffers = {"extrapolated": x_star.copy()} if rule == "omd" else {}
        want = np.linalg.eigvals(python_rule.map_jacobian(field, x_star, buffers, 1)[0])
        got = [complex(re, im) for re, im in stability["mapEigs"]]
        _assert_same_eigenvalues(got, want, atol=1e-9)
        assert f"one {rule} step's map" in (dirac.page.text_content("#spectrum-text") or "")
    assert dirac.errors == []


def test_an_optional_setting_clears_to_its_default(dirac: Any, tmp_path: Path) -> None:
    dirac.page.select_option("#rule", "unrolled")
    default_run = np.array(dirac.js("window.gandynExplore.run.x"))
    dirac.page.fill("#setting-unroll_lr", "0.05")
    assert "--unroll-lr 0.05" in dirac.page.input_value("#command")
    assert np.abs(np.array(dirac.js("window.gandynExplore.run.x")) - default_run).max() > 1e-6
    dirac.page.fill("#setting-unroll", "2.5")  # refused (an integer from 0 to 100): not applied
    assert dirac.js("window.gandynExplore.config().settings.unroll") == 5
    dirac.page.fill("#setting-unroll_lr", "")
    assert "--unroll-lr" not in dirac.page.input_value("#command")
    shown = np.array(dirac.js("window.gandynExplore.run.x"))
    np.testing.assert_array_equal(shown, default_run)
    # The exported spec leaves the look-ahead rate to gandyn's default (lr_d): same run.
    spec_path = tmp_path / "run.json"
    spec_path.write_text(dirac.page.input_value("#spec"), encoding="utf-8")
    from_spec = run(build(load_spec(str(spec_path)))).trajectory.x[0]
    np.testing.assert_allclose(shown, from_spec, rtol=0, atol=1e-12)
    assert dirac.errors == []
