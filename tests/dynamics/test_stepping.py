"""StepLoop: in-place steps, freezing diverged runs, dropping them from the work."""

from __future__ import annotations

import numpy as np
import pytest

from gandyn.derivation.field import derive
from gandyn.dynamics.stepping import StepLoop
from gandyn.games.game import make_game
from gandyn.rules import FieldFunctions, make_rule


def _scalar_reference(rule_name: str, field: FieldFunctions, x0: np.ndarray, lr: np.ndarray,
                      steps: int, max_norm: float) -> tuple[np.ndarray, np.ndarray]:
    """Each run alone with its own scalar rate, by the rule's out-of-place step()."""
    finals, diverged_at = [], []
    for b in range(len(x0)):
        rule = make_rule(rule_name, float(lr[b]), float(lr[b]))
        x = x0[b:b + 1].copy()
        buffers = rule.init_buffers(x)
        at = np.nan
        with np.errstate(all="ignore"):
            for k in range(1, steps + 1):
                result = rule.step(field, x, buffers, k)
                if not np.all(np.abs(result.x) <= max_norm):
                    at = k
                    break
                x, buffers = result.x, result.buffers
        finals.append(x[0])
        diverged_at.append(at)
    return np.array(finals), np.array(diverged_at)


@pytest.mark.parametrize("rule_name", ["simgd", "adam", "extragradient", "momentum", "altgd"])
def test_runs_that_diverge_are_frozen_and_dropped_without_changing_the_others(
        rule_name: str) -> None:
    # the Dirac-GAN under simultaneous steps spirals out at rate |1 + i h / 2| per step
    # (Mescheder, Nowozin and Geiger 2018, Sec. 3), so large rates leave the ball early
    vf = derive(make_game("dirac", "minimax"))
    field = FieldFunctions(vf.field_fn, vf.jacobian_fn, 1)
    rng = np.random.default_rng(5)
    runs = 24
    x0 = rng.normal(size=(runs, 2))
    lr = np.where(np.arange(runs) % 3 == 0, 6.0, 0.05)  # a third diverge: past the 1/8 to drop
    max_norm, steps = 20.0, 120
    loop = StepLoop(make_rule(rule_name, lr, lr), field, x0, max_norm=max_norm)
    with np.errstate(all="ignore"):
        for _ in loop.run(steps):
            pass
    finals, diverged_at = _scalar_reference(rule_name, field, x0, lr, steps, max_norm)
    assert loop.diverged.any() and not loop.diverged.all()
    np.testing.assert_array_equal(loop.diverged_at, diverged_at)
    np.testing.assert_allclose(loop.x, finals, rtol=1e-13, atol=1e-15)
    assert np.all(np.abs(loop.x) <= max_norm)


def test_a_field_that_cannot_be_restricted_keeps_every_slot() -> None:
    vf = derive(make_game("dirac", "minimax"))
    plain = FieldFunctions(lambda x: vf.field_fn(x), lambda x: vf.jacobian_fn(x), 1)
    compiled = FieldFunctions(vf.field_fn, vf.jacobian_fn, 1)
    x0 = np.random.default_rng(6).normal(size=(16, 2))
    lr = np.where(np.arange(16) < 8, 3.0, 0.1)
    results = []
    for field in (plain, compiled):
        loop = StepLoop(make_rule("simgd", lr, lr), field, x0, max_norm=10.0)
        with np.errstate(all="ignore"):
            for _ in loop.run(80):
                pass
        results.append((loop.x.copy(), loop.diverged_at.copy()))
    assert np.array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])
    assert x0.flags.writeable  # the loop never wrote into the starts


def test_the_starts_are_not_written_into() -> None:
    vf = derive(make_game("dirac", "minimax"))
    x0 = np.array([[1.0, 2.0], [50.0, 0.0], [0.5, -0.5]])
    kept = x0.copy()
    loop = StepLoop(make_rule("simgd", 0.1, 0.1), FieldFunctions(vf.field_fn, vf.jacobian_fn, 1),
                    x0, max_norm=10.0)
    with np.errstate(all="ignore"):
        for _ in loop.run(5):
            pass
    assert np.array_equal(x0, kept)
    assert loop.diverged_at.tolist()[1] == 0.0 and np.array_equal(loop.x[1], kept[1])


def test_work_holds_the_live_runs_of_x_at_every_step() -> None:
    # StepLoop.work is what a caller that follows only the live runs reads instead of x:
    # at every step, its slots of runs that have not diverged are those runs' rows of x,
    # and its runs change (a new array) exactly when the loop drops the diverged ones.
    vf = derive(make_game("dirac", "minimax"))
    field = FieldFunctions(vf.field_fn, vf.jacobian_fn, 1)
    rng = np.random.default_rng(7)
    runs = 40
    x0 = rng.normal(size=(runs, 2))
    lr = np.where(np.arange(runs) % 4 == 0, 6.0, 0.05)
    loop = StepLoop(make_rule("simgd", lr, lr), field, x0, max_norm=4.0)
    seen = []
    with np.errstate(all="ignore"):
        for _ in loop.run(200):
            rows, held = loop.work
            order = np.arange(runs) if held is None else held
            live = ~loop.diverged[order]
            np.testing.assert_array_equal(rows.T[live], loop.x[order[live]])
            if not seen or held is not seen[-1]:
                seen.append(held)
    assert seen[0] is None and len(seen) >= 2  # dropped at least once
    assert loop.diverged.any() and not loop.diverged.all()


@pytest.mark.parametrize("game", ["dirac", "gaussian"])
def test_losses_recorded_by_blocks_equal_one_call_on_the_batch(game: str) -> None:
    # simulate_rule records the logged losses of a large batch a block of runs at a time
    # (small temporaries); every entry is elementwise in the runs, so the bits must be those
    # of one call on the whole batch, a partial last block included.
    from gandyn.dynamics.discrete import RECORD_BLOCK, _record
    from gandyn.rules.base import evaluate_rows

    vf = derive(make_game(game, "minimax"))
    n = len(vf.game.state_symbols)
    rows = np.random.default_rng(11).normal(size=(n, 2 * RECORD_BLOCK + 77))
    whole = np.empty((len(vf.logged_names), rows.shape[1]))
    blocks = np.empty_like(whole)
    evaluate_rows(vf.logged_fn, rows, whole)
    _record(vf.logged_fn, rows, blocks)
    assert blocks.tobytes() == whole.tobytes()
