"""Compiled minibatch runs against the numpy path, and against the exact field.

Two references. The numpy path (:func:`gandyn.dynamics.minibatch.simulate_minibatch`
with ``backend='numpy'``): the compiled loop takes the same draws from the same
generators and performs the same floating-point operations in the same order, so
on the same libm the trajectories (states, the losses a loop logs, divergence) are
equal bit for bit. The exact field of :func:`gandyn.derivation.field.derive`,
independent of both loops: on a game whose data and generator are point masses
every minibatch is the whole distribution, so the minibatch run is the exact run
(Mescheder, Nowozin and Geiger 2017, consensus included); on a random game the
mean over many independent runs of one minibatch step is the exact step (the
minibatch gradient is unbiased, Goodfellow et al. 2014, Algorithm 1), within
five standard errors estimated from the runs themselves.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import sympy as sp

pytest.importorskip("numba")

from gandyn.derivation.field import derive
from gandyn.dynamics.discrete import simulate_rule
from gandyn.dynamics.minibatch import MinibatchField, simulate_minibatch
from gandyn.errors import SpecError
from gandyn.games.game import make_game
from gandyn.rules import FieldFunctions, make_rule

#: Random data (instance noise on both samples) and a penalty: three random variables.
NOISY = ("dirac", "non-saturating", (("instance-noise", {"sigma": 0.4}), ("r1", {"gamma": 0.3})))
STARTS = np.array([[0.5, 0.3], [-0.4, 0.8], [1.5, -1.0]])


@pytest.fixture(scope="module")
def noisy() -> Any:
    name, loss, regs = NOISY
    return make_game(name, loss, [(r, dict(v)) for r, v in regs])


def _both(game: Any, rule: str, x0: np.ndarray, steps: int, lr: float = 0.05,
          **options: Any) -> tuple[Any, Any]:
    options = {"batch_size": 6, "batch_size_g": 4, "seed": 11, **options}
    compiled = simulate_minibatch(game, rule, lr, lr, x0, steps, backend="compiled", **options)
    plain = simulate_minibatch(game, rule, lr, lr, x0, steps, backend="numpy", **options)
    return compiled, plain


def _assert_same(a: Any, b: Any) -> None:
    for name in ("x", "logged", "diverged", "diverged_at", "t", "step"):
        assert np.array_equal(getattr(a, name), getattr(b, name), equal_nan=True), name
    assert a.method["backend"] == "compiled" and a.method["kernel"]
    assert "backend" not in b.method  # numpy asked for: nothing to explain


@pytest.mark.parametrize("rule", ["simgd", "ogda"])
def test_every_step_recording_repeats_the_numpy_path(noisy: Any, rule: str) -> None:
    # ogda: two field calls per step; at step 1 the loop logs the second one's batch
    compiled, plain = _both(noisy, rule, STARTS, 25)
    _assert_same(compiled, plain)
    assert compiled.x.shape == (3, 26, 2)
    # the runs moved, each on its own batches
    assert np.all(np.abs(compiled.x[:, -1] - STARTS) > 1e-3)


def test_a_coarse_grid_divergence_and_progress(noisy: Any) -> None:
    starts = np.array([[0.5, 0.3], [-0.4, 0.8], [1.5, -1.0], [2.5, 2.0], [40.0, 0.0]])
    seen: list[int] = []
    compiled, plain = _both(noisy, "simgd", starts, 41, lr=2.0, every=7, max_norm=8.0,
                            progress=seen.append)
    _assert_same(compiled, plain)
    assert sum(seen) == 2 * 41  # both runs report every step they took
    assert list(compiled.step) == [0, 7, 14, 21, 28, 35, 41]
    at = compiled.diverged_at
    # the case this is: a start outside the ball, runs that leave it mid-run, survivors
    assert at[4] == 0 and np.sum(at > 0) >= 2 and not compiled.diverged.all(), at


def test_every_run_diverging_stops_the_loop(noisy: Any) -> None:
    starts = np.array([[1.5, -1.0], [2.5, 2.0]])
    compiled, plain = _both(noisy, "simgd", starts, 40, lr=3.0, every=4, max_norm=8.0)
    _assert_same(compiled, plain)
    assert compiled.diverged.all()
    outside = np.array([[20.0, 0.0]])  # every start outside: the loop takes one step
    _assert_same(*_both(noisy, "simgd", outside, 5, max_norm=8.0))


def test_point_mass_batches_give_the_exact_run_with_consensus() -> None:
    # Point-mass data and generator: each batch is the distribution, so the minibatch
    # field (consensus: gamma/2 |xi_B|^2) is the exact one (the Var/m bias is zero).
    game = make_game("dirac", "non-saturating", [("consensus", {"gamma": 0.6})],
                     params={"c": 0.3})
    compiled, plain = _both(game, "simgd", STARTS, 30, lr=0.1, every=3)
    _assert_same(compiled, plain)
    vf = derive(game)
    exact = simulate_rule(make_rule("simgd", 0.1, 0.1), FieldFunctions.of(vf), vf.logged_fn,
                          STARTS, 30, every=3, measure="loop", backend="numpy",
                          state_names=compiled.state_names, logged_names=vf.logged_names)
    assert exact.logged_names == compiled.logged_names
    # a batch mean of m equal terms is the term up to the rounding of the sum and quotient
    np.testing.assert_allclose(compiled.x, exact.x, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(compiled.logged, exact.logged, rtol=1e-12, atol=1e-14)


def test_mean_of_many_minibatch_steps_is_the_exact_step(noisy: Any) -> None:
    runs, h = 4000, 0.1
    x0 = np.repeat(STARTS[:1], runs, axis=0)
    traj = simulate_minibatch(noisy, "simgd", h, h, x0, 1, batch_size=3, seed=5,
                              backend="compiled")
    assert traj.method["backend"] == "compiled"
    estimates = (traj.x[:, 1] - x0) / h  # one field estimate per run
    se = estimates.std(axis=0) / np.sqrt(runs)
    exact = derive(noisy).field_fn(STARTS[:1])[0]
    assert np.all(se > 1e-6)  # the estimates are random
    assert np.all(np.abs(estimates.mean(axis=0) - exact) <= 5 * se), (estimates.mean(0), exact)


def test_backends_and_their_reasons(noisy: Any) -> None:
    def run(rule: str = "simgd", **options: Any) -> Any:
        return simulate_minibatch(noisy, rule, 0.05, 0.05, STARTS, 4, batch_size=2, **options)

    assert "backend" not in run(backend="numpy").method
    small = run(backend="auto").method
    assert small["backend"] == "numpy" and "sample-steps" in small["backend_reason"]
    clipped = run(backend="auto", project=lambda x: x).method
    assert "projection" in clipped["backend_reason"]
    other = run("sga", backend="auto").method
    assert "no compiled minibatch step" in other["backend_reason"]
    with pytest.raises(SpecError, match=r"cannot run this simulation.*'sga'"):
        run("sga", backend="compiled")
    # enough sample-steps: auto compiles (the simgd kernel is already built)
    large = simulate_minibatch(noisy, "simgd", 0.05, 0.05, np.repeat(STARTS, 20, axis=0),
                               2100, batch_size=8, every=1000, backend="auto")  # 2.016e6
    assert large.method["backend"] == "compiled"


def test_a_loop_numba_refuses_falls_back_on_the_same_draws(
        noisy: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from gandyn.dynamics.kernels import simulate
    from gandyn.dynamics.kernels.printing import UnsupportedError

    def refuse(run: Any, arguments: Any) -> None:
        raise UnsupportedError("numba could not compile the loop (test)")

    monkeypatch.setattr(simulate, "AUTO_MIN_RUN_STEPS", 1)
    monkeypatch.setattr(simulate, "first_call", refuse)
    # the block's draws were made before numba refused: the numpy run starts from the seed
    fallback = simulate_minibatch(noisy, "simgd", 0.05, 0.05, STARTS, 6, batch_size=3,
                                  seed=2, backend="auto")
    plain = simulate_minibatch(noisy, "simgd", 0.05, 0.05, STARTS, 6, batch_size=3, seed=2,
                               backend="numpy")
    assert fallback.method["backend_reason"] == "numba could not compile the loop (test)"
    assert np.array_equal(fallback.x, plain.x) and np.array_equal(fallback.logged, plain.logged)
    with pytest.raises(SpecError, match="could not compile"):
        simulate_minibatch(noisy, "simgd", 0.05, 0.05, STARTS, 6, batch_size=3,
                           backend="compiled")


def test_one_vectorized_draw_is_the_successive_draws() -> None:
    # The Gaussian game's variables are all normal: one generator call fills the block.
    game = make_game("gaussian", "non-saturating", options={"order": 40})
    field = MinibatchField(game, 5, 3, seed=0)
    one = field.draw_sets(4, 2, np.random.default_rng(9))
    rng = np.random.default_rng(9)
    for row in one:
        d, g = field.draw(2, 5, rng), field.draw(2, 3, rng)
        expected = np.concatenate([*(d[v].ravel() for v, _ in field.terms.variables),
                                   *(g[v].ravel() for v, _ in field.terms.variables)])
        assert np.array_equal(row, expected)
    assert np.array_equal(one, field.draw_sets(4, 2, np.random.default_rng(9), vectorized=False))


def test_point_masses_are_drawn_as_generator_choice_draws_them() -> None:
    from gandyn.dynamics.minibatch_field import _sampler
    from gandyn.symbolic.expectations import PointMasses

    dist = PointMasses((sp.Float(-1.0), sp.Float(0.5), sp.Float(2.0)),
                       (sp.Float(0.2), sp.Float(0.5), sp.Float(0.3)))
    draw = _sampler(dist, {})
    mine, reference = np.random.default_rng(4), np.random.default_rng(4)
    for shape in ((3, 7), (1, 1), (50, 64)):
        expected = np.array([-1.0, 0.5, 2.0])[reference.choice(3, size=shape,
                                                                p=[0.2, 0.5, 0.3])]
        assert np.array_equal(draw(mine, shape), expected)
    # two-point data, a point-mass generator: uniforms only, one call for a block
    game = make_game("two-point", "non-saturating")
    field = MinibatchField(game, 4, seed=0)
    assert np.array_equal(field.draw_sets(3, 2, np.random.default_rng(1)),
                          field.draw_sets(3, 2, np.random.default_rng(1), vectorized=False))


@pytest.mark.slow
@pytest.mark.parametrize("rule", ["altgd", "altmomentum", "momentum", "adam", "extragradient"])
def test_other_rules_repeat_the_numpy_path(noisy: Any, rule: str) -> None:
    _assert_same(*_both(noisy, rule, STARTS, 20, every=3))


@pytest.mark.slow
@pytest.mark.parametrize("rule", ["simgd", "altgd", "adam", "extragradient", "ogda"])
def test_gaussian_game(rule: str) -> None:
    game = make_game("gaussian", "non-saturating", options={"order": 40})
    starts = np.array([[0.2, 1.1, 0.1, -0.2, 0.03], [-0.3, 0.8, 0.0, 0.1, -0.05]])
    _assert_same(*_both(game, rule, starts, 30, every=2))


@pytest.mark.slow
def test_a_game_files_penalty_terms(tmp_path: Any) -> None:
    # point-mass data and generator: every batch is the distribution, so the compiled
    # minibatch run is the exact run of the file's game, its penalties included
    from gandyn.games.files import load_game_file

    path = tmp_path / "anchored.toml"
    path.write_text('name = "dirac-anchored"\n[generator]\nparameters = ["theta"]\n'
                    'sample = "theta"\npenalty = "0.3 * theta**2"\n[discriminator]\n'
                    'parameters = ["psi"]\nlogit = "psi * x"\npenalty = "0.2 * psi**4"\n'
                    '[data]\npoints = ["c"]\n[parameters]\nc = { value = 0.4 }\n')
    game = make_game(load_game_file(path), "non-saturating")
    compiled, plain = _both(game, "adam", STARTS, 30, lr=0.1, every=5)
    _assert_same(compiled, plain)
    vf = derive(game)
    exact = simulate_rule(make_rule("adam", 0.1, 0.1), FieldFunctions.of(vf), vf.logged_fn,
                          STARTS, 30, every=5, measure="loop", backend="numpy",
                          state_names=compiled.state_names, logged_names=vf.logged_names)
    np.testing.assert_allclose(compiled.x, exact.x, rtol=1e-10, atol=1e-12)
