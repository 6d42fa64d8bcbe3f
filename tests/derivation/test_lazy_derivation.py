"""Derivation that scales with parameters: lazy quantities, shared differentiation, size limits.

References for "right": sympy's own :func:`sympy.diff` applied entry by entry
(the eager derivation gandyn did before), central finite differences of the
numeric field, and numpy's linear solve for the stationary point of a linear
field.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sympy as sp

from gandyn.derivation import cache, field
from gandyn.derivation.differentiate import Differentiator
from gandyn.derivation.field import derive
from gandyn.derivation.stationary import MAX_SOLVE_PARAMETERS, find_stationary_points
from gandyn.games.files import load_game_file
from gandyn.games.game import make_game
from gandyn.report.derivation import MAX_PRINTED_PARAMETERS


def _polynomial_game(path: Path, per_player: int, *, linear: bool = False) -> Path:
    """A general-sum game with dense quadratic and cubic couplings of every theta_i and psi_j.

    ``linear``: quadratic costs only (an affine field).
    """
    theta = [f"theta_{i + 1}" for i in range(per_player)]
    psi = [f"psi_{i + 1}" for i in range(per_player)]
    s = "(" + " + ".join(f"{i % 3 + 1}*{t}" for i, t in enumerate(theta)) + ")"
    p = "(" + " + ".join(v if i % 2 else f"-{v}" for i, v in enumerate(psi)) + ")"
    squares_g = " + ".join(f"{t}**2" for t in theta)
    squares_d = " + ".join(f"{v}**2" for v in psi)
    if linear:
        cost_g, cost_d = f"({squares_g})/2 + {s}*{p}", f"({squares_d})/2 - k*{s}*{p}"
    else:
        q = "(" + " + ".join(f"{t}*{v}" for t, v in zip(theta, psi, strict=True)) + ")"
        cost_g = f"({squares_g})/2 + {s}*{p} + {s}**2*{p}/3 + {q}**2/5"
        cost_d = f"({squares_d})/2 - {s}*{p} + k*{p}**3/7 - {q}*{s}/4"
    path.write_text(
        f"[generator]\nparameters = {json.dumps(theta)}\ncost = \"{cost_g}\"\n"
        f"[discriminator]\nparameters = {json.dumps(psi)}\ncost = \"{cost_d}\"\n"
        "[parameters]\nk = 0.5\n"
    )
    return path


def _gan_game(path: Path, per_player: int) -> Path:
    """A GAN-like game: softplus losses of a logit coupling every theta_i with its psi_i."""
    theta = [f"theta_{i + 1}" for i in range(per_player)]
    psi = [f"psi_{i + 1}" for i in range(per_player)]
    logit = "(" + " + ".join(f"{v}*{t}" for t, v in zip(theta, psi, strict=True)) + ")"
    bias = "(" + " + ".join(psi) + ")"
    squares = " + ".join(f"{t}**2" for t in theta)
    path.write_text(
        f"[generator]\nparameters = {json.dumps(theta)}\n"
        f"cost = \"softplus(-{logit}) + ({squares})/10\"\n"
        f"[discriminator]\nparameters = {json.dumps(psi)}\n"
        f"cost = \"softplus({logit}) + softplus(-{bias} - k)\"\n[parameters]\nk = 0.5\n"
    )
    return path


def _equal(a: sp.Expr, b: sp.Expr) -> bool:
    return a == b or sp.expand(a - b) == 0


# --- the results are those of the eager derivation ---------------------------------------------


@pytest.mark.parametrize("case", [("dirac", "non-saturating", ["r1"]),
                                  ("two-point", "hinge", ["consensus"]),
                                  ("gaussian", "wasserstein", [])], ids=str)
def test_quantities_equal_sympy_diff_entry_by_entry(case: tuple[Any, ...], cache_dir: Path
                                                    ) -> None:
    name, loss, regs = case
    game = make_game(name, loss, regs, options={"order": 3} if name == "gaussian" else {})
    vf = derive(game, time_limit=0)
    state = game.state_symbols
    grads = [sp.diff(game.cost_g, t) for t in game.theta] + [
        sp.diff(game.cost_d, p) for p in game.psi]
    assert all(_equal(a, b) for a, b in zip(vf.grad_g + vf.grad_d, grads, strict=True))
    for i, f in enumerate(-g for g in grads):
        for j, s in enumerate(state):
            assert _equal(vf.jacobian[i, j], sp.diff(f, s)), (i, j)
    for hessian, player, own in ((vf.hessian_g, game.theta, grads[:len(game.theta)]),
                                 (vf.hessian_d, game.psi, grads[len(game.theta):])):
        for i, g in enumerate(own):
            for j, s in enumerate(player):
                assert _equal(hessian[i, j], sp.diff(g, s))
    for i in range(len(state)):
        for j in range(len(state)):
            for k, s in enumerate(state):
                assert _equal(vf.jacobian_derivative[i, j, k], sp.diff(vf.jacobian[i, j], s))


def test_the_differentiator_applies_each_class_rule() -> None:
    # Functions with their own rules (Abs, sign) go to sympy; the others by fdiff.
    x, y = sp.symbols("x y", real=True)
    exprs = [sp.exp(x * y) * sp.log(1 + x**2), x**y, sp.Abs(x - y) * sp.sin(y),
             sp.tanh(x) ** 3 / (1 + y**2), sp.cos(sp.sign(x) * y)]
    differentiator = Differentiator()
    for expr in exprs:
        for s in (x, y):
            assert _equal(differentiator.diff(expr, s), sp.diff(expr, s)), (expr, s)


def test_a_directional_derivative_is_the_jacobian_times_the_direction() -> None:
    x, y, u, v = sp.symbols("x y u v", real=True)
    expr = sp.exp(x * y) + x**3 * sp.sin(y)
    got = Differentiator().directional(expr, ((x, u), (y, v)))
    assert _equal(got, u * sp.diff(expr, x) + v * sp.diff(expr, y))


@pytest.mark.parametrize("make", [_polynomial_game, _gan_game])
def test_a_large_game_matches_finite_differences(make: Any, tmp_path: Path, cache_dir: Path
                                                 ) -> None:
    game = make_game(load_game_file(make(tmp_path / "big.toml", 8)))  # 16 parameters
    vf = derive(game)
    rng = np.random.default_rng(3)
    x = rng.normal(scale=0.5, size=(2, 16))
    h = 1e-6
    columns = [(vf.field_fn(x + h * e) - vf.field_fn(x - h * e)) / (2 * h) for e in np.eye(16)]
    by_differences = np.stack(columns, axis=-1)
    scale = np.abs(by_differences).max()
    assert np.allclose(vf.jacobian_fn(x), by_differences, atol=1e-6 * scale)
    assert np.allclose(vf.jacobian_by_products(x), vf.jacobian_fn(x), rtol=1e-12, atol=1e-12)
    # The generator's Hessian is minus the Jacobian's theta block.
    assert np.allclose(_numeric_hessian_g(vf)(x), -vf.jacobian_fn(x)[:, :8, :8], atol=1e-12)


def _numeric_hessian_g(vf: Any) -> Any:
    from gandyn.derivation.numeric import NumericFunction

    return NumericFunction(vf.hessian_g, vf.game.state_symbols, vf.game.param_values)


# --- only what is used is derived ---------------------------------------------------------------


def test_simulating_derives_no_hessian(tmp_path: Path, cache_dir: Path, invoke: Any) -> None:
    path = _gan_game(tmp_path / "gan.toml", 6)
    code, _, err = invoke("simulate", "--game-file", str(path), "--steps", "5",
                          "--out", str(tmp_path / "run.csv"))
    assert code == 0, err
    known = derive(make_game(load_game_file(path))).computed()
    assert "gradients" in known
    assert not known & {"hessian_g", "hessian_d"}
    stored = {p.name for p in cache_dir.glob("derive-*.json")}
    assert len(stored) == len(known)  # one entry per quantity derived, nothing else


def test_a_large_derive_prints_the_field_and_derives_no_matrix(tmp_path: Path, cache_dir: Path,
                                                               invoke: Any) -> None:
    n = MAX_PRINTED_PARAMETERS // 2 + 1
    path = _polynomial_game(tmp_path / "poly.toml", n)
    code, out, err = invoke("derive", "--game-file", str(path))
    assert code == 0, err
    assert f"dpsi_{n}/dt = " in out and "d cost_g / d theta_1 = " in out
    assert "MAX_PRINTED_PARAMETERS" in out and "--matrices" in out
    assert "dF_" not in out and "Hessian of" not in out
    assert "MAX_SOLVE_PARAMETERS" in out  # nonlinear in more than MAX_SOLVE_PARAMETERS
    assert derive(make_game(load_game_file(path))).computed() == {"gradients"}
    code, forced, err = invoke("derive", "--game-file", str(path), "--matrices")
    assert code == 0, err
    assert f"dF_psi_{n}/dpsi_{n} = " in forced and "Hessian of cost_d in psi:" in forced


def test_json_holds_the_matrices_unless_told_not_to(tmp_path: Path, cache_dir: Path,
                                                    invoke: Any) -> None:
    path = _gan_game(tmp_path / "gan.toml", 6)
    code, out, err = invoke("derive", "--game-file", str(path), "--format", "json",
                            "--solve-timeout", "0")
    assert code == 0, err
    data = json.loads(out)
    assert len(data["jacobian"]) == 12 and len(data["hessian_g"]) == 6
    assert data["matrices_omitted"] is None
    game = make_game(load_game_file(path))
    vf = derive(game)
    assert data["jacobian"][3][9] == sp.sstr(vf.jacobian[3, 9], order="none")
    code, out, err = invoke("derive", "--game-file", str(path), "--format", "json",
                            "--solve-timeout", "0", "--no-matrices")
    data = json.loads(out)
    assert data["jacobian"] is None and data["hessian_d"] is None
    assert "MAX_PRINTED_PARAMETERS" in data["matrices_omitted"]


def test_small_games_still_print_their_matrices(invoke: Any, cache_dir: Path) -> None:
    code, out, err = invoke("derive", "--game", "dirac", "--solve-timeout", "0")
    assert code == 0, err
    assert "dF_theta/dpsi = " in out and "Hessian of cost_g in theta:" in out
    code, out, err = invoke("derive", "--game", "dirac", "--solve-timeout", "0", "--no-matrices")
    assert "dF_theta/dpsi" not in out and "--matrices prints them" in out


def test_eigenvalues_at_a_point_of_a_large_game(tmp_path: Path, cache_dir: Path,
                                                invoke: Any) -> None:
    n = MAX_PRINTED_PARAMETERS // 2 + 1
    path = _gan_game(tmp_path / "gan.toml", n)
    point = {**{f"theta_{i + 1}": 0.1 * (i + 1) for i in range(n)},
             **{f"psi_{i + 1}": -0.05 * i for i in range(n)}}
    at = ",".join(f"{k}={v}" for k, v in point.items())
    code, out, err = invoke("derive", "--game-file", str(path), "--format", "json", "--at", at,
                            "--solve-timeout", "0", "--no-matrices")
    assert code == 0, err
    data = json.loads(out)
    vf = derive(make_game(load_game_file(path)))
    x = np.array([point[s.name] for s in vf.game.state_symbols])
    h = 1e-6
    differences = np.stack([(vf.field_fn(x + h * e) - vf.field_fn(x - h * e)) / (2 * h)
                            for e in np.eye(len(x))], axis=-1)
    assert np.allclose(np.array(data["jacobian_at"]), differences, atol=1e-7)
    assert "jacobian" not in vf.computed()  # products along each axis, no symbolic Jacobian


# --- the closed-form solve is skipped above a size ----------------------------------------------


def test_the_solve_is_skipped_for_a_large_nonlinear_field(tmp_path: Path, cache_dir: Path) -> None:
    per_player = MAX_SOLVE_PARAMETERS // 2 + 1
    vf = derive(make_game(load_game_file(_polynomial_game(tmp_path / "p.toml", per_player))))
    found = find_stationary_points(vf, timeout=60)
    assert found.status == "too-large" and found.points == ()
    assert "MAX_SOLVE_PARAMETERS" in found.message and "gandyn analyze" in found.message


def test_a_large_linear_field_is_still_solved(tmp_path: Path, cache_dir: Path) -> None:
    per_player = MAX_SOLVE_PARAMETERS // 2 + 1
    path = _polynomial_game(tmp_path / "lin.toml", per_player, linear=True)
    vf = derive(make_game(load_game_file(path)))
    found = find_stationary_points(vf, timeout=60)
    assert found.status == "solved" and len(found.points) == 1
    # Reference: F(x) = A x + b, solved by numpy from the numeric field.
    n = 2 * per_player
    b = vf.field_fn(np.zeros(n))
    a = np.stack([vf.field_fn(e) - b for e in np.eye(n)], axis=-1)
    expected = np.linalg.solve(a, -b)
    got = np.array([float(v) for _, v in found.points[0]])
    assert np.allclose(got, expected, atol=1e-12)


# --- the disk cache holds what was derived --------------------------------------------------------


def test_each_quantity_has_its_own_entry(cache_dir: Path) -> None:
    game = make_game("gaussian", "non-saturating", options={"order": 3})
    derivation = field._derivatives(game.cost_g, game.cost_d, game.theta, game.psi)
    derivation.get("gradients")
    assert [p.name for p in cache_dir.glob("derive-*.json")] == [
        f"derive-{derivation.key('gradients')}.json"]
    jacobian = derivation.get("jacobian")
    field._derivatives.cache_clear()
    again = field._derivatives(game.cost_g, game.cost_d, game.theta, game.psi)
    assert again.get("jacobian") == jacobian  # read back
    assert again.known() == {"jacobian"}  # without deriving the gradients again


def test_an_entry_in_the_old_one_per_game_layout_is_a_miss(cache_dir: Path) -> None:
    game = make_game("dirac", "minimax")
    derivation = field._derivatives(game.cost_g, game.cost_d, game.theta, game.psi)
    expected = derivation.get("gradients")
    key = derivation.key("gradients")
    # Six parts (gradients, field, Jacobian, Hessians) as earlier versions stored them.
    wrong = sp.Integer(7)
    assert cache.store(cache_dir, key, [[wrong], [wrong], [wrong] * 2, [wrong] * 4, [wrong],
                                        [wrong]])
    field._derivatives.cache_clear()
    again = field._derivatives(game.cost_g, game.cost_d, game.theta, game.psi)
    assert again.get("gradients") == expected
    assert cache.load(cache_dir, key) == [list(expected)]  # replaced by a good entry
