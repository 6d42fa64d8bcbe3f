"""The compiled backend against the numpy path it reproduces.

The numpy path (:func:`gandyn.dynamics.discrete.simulate_rule` with
``backend='numpy'``) is the reference: the compiled loop performs the same
floating-point operations in the same order, so on the same libm the
trajectories (states, logged losses, divergence flags and steps) are equal bit
for bit; where a reduction's order may differ (SGA's sum) they agree to 1e-12
relative.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

pytest.importorskip("numba")

from kernel_comparison import assert_same_trajectory as _assert_same
from kernel_comparison import run_with_backend as _run

from gandyn.derivation.field import derive
from gandyn.dynamics.kernels import build, simulate
from gandyn.dynamics.kernels.steps import STEP_WRITERS
from gandyn.errors import SpecError
from gandyn.games.game import make_game
from gandyn.rules import make_rule


def _dirac_starts(batch: int = 24) -> np.ndarray:
    rng = np.random.default_rng(1)
    x0 = rng.normal(scale=0.6, size=(batch, 2))
    x0[0] = (100.0, 10.0)  # logit psi * theta = 1000: the stable forms must stay finite
    x0[1] = (-100.0, 10.0)  # logit -1000
    x0[2] = (3.0, 4.0)  # leaves the small ball below within a few steps under most rules
    x0[3] = (np.nan, 0.0)  # diverged at step 0
    return x0


@pytest.fixture(scope="module")
def dirac() -> Any:
    return derive(make_game("dirac", "minimax", params={"c": 0.7}))


@pytest.mark.parametrize("name", [*sorted(STEP_WRITERS), "sga:align"])
def test_every_compiled_rule_repeats_the_numpy_path(dirac: Any, name: str) -> None:
    # per-run rates, a recording grid that ends off the grid (17 = 5 * 3 + 2), losses as a
    # training loop logs them (the states each player's gradient saw), runs diverging
    x0 = _dirac_starts()
    rates = np.linspace(0.05, 0.4, len(x0))
    name, _, aligned = name.partition(":")
    rule = make_rule(name, rates, 0.3, **({"align": 1} if aligned else {}))
    options = {"every": 5, "max_norm": 50.0 if name != "adam" else 12.0, "measure": "loop"}
    expected = _run(dirac, rule, x0, 17, "numpy", **options)
    got = _run(dirac, rule, x0, 17, "compiled", **options)
    assert got.method["backend"] == "compiled"
    assert np.isfinite(got.logged[:2, 0]).all()  # the logits of +-1000
    assert got.diverged[3] and got.diverged_at[3] == 0
    assert expected.diverged.sum() >= 2, "the test should see runs diverge"
    _assert_same(expected, got, rtol=1e-12 if name == "sga" else 0.0)


def test_measure_state_and_zero_steps(dirac: Any) -> None:
    x0 = _dirac_starts()
    rule = make_rule("simgd", 0.2, 0.1)
    for steps in (0, 9):
        expected = _run(dirac, rule, x0, steps, "numpy", every=4, max_norm=20.0)
        got = _run(dirac, rule, x0, steps, "compiled", every=4, max_norm=20.0)
        _assert_same(expected, got)


def test_progress_reports_every_step(dirac: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # the kernel runs in blocks when a progress bar asks for news; blocks change nothing
    monkeypatch.setattr(simulate, "_BLOCK_RUN_STEPS", 200)
    x0 = _dirac_starts()
    rule = make_rule("simgd", 0.2, 0.1)
    done: list[int] = []
    got = _run(dirac, rule, x0, 250, "compiled", every=7, progress=done.append)
    assert sum(done) == 250 and len(done) == 3
    _assert_same(_run(dirac, rule, x0, 250, "numpy", every=7), got)


def test_a_second_call_reuses_the_compiled_module(dirac: Any,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    x0 = _dirac_starts()
    rule = make_rule("simgd", 0.2, 0.1)
    first = _run(dirac, rule, x0, 5, "compiled")
    folder = build.kernel_folder()
    written = sorted(folder.glob("kernel_*.py"))
    assert f"kernel_{first.method['kernel']}.py" in [p.name for p in written]

    def refuse(*args: Any, **kwargs: Any) -> str:
        raise AssertionError("the kernel's source was generated again")

    # in this process (memory), then as a new process finds it (the module on disk)
    monkeypatch.setattr("gandyn.dynamics.kernels.source.simulation_source", refuse)
    again = _run(dirac, rule, x0, 5, "compiled")
    monkeypatch.setattr(build, "_LOADED", {})
    simulate._kernel_of.cache_clear()
    from_disk = _run(dirac, rule, x0, 5, "compiled")
    assert sorted(folder.glob("kernel_*.py")) == written
    _assert_same(first, again)
    _assert_same(first, from_disk)


def test_unsupported_cases_fall_back_with_the_reason(dirac: Any,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from gandyn.rules.gradient import SimultaneousGD

    class Damped(SimultaneousGD):  # another step under a known name: not compiled
        def step(self, field: Any, x: Any, buffers: Any, k: int) -> Any:
            result = super().step(field, x, buffers, k)
            result.x = 0.5 * result.x
            return result

    x0 = _dirac_starts(4)
    monkeypatch.setattr(simulate, "AUTO_MIN_RUN_STEPS", 1)
    other = _run(dirac, Damped(0.1, 0.1), x0, 3, "auto")
    assert other.method["backend"] == "numpy"
    assert "no compiled step" in other.method["backend_reason"]
    with pytest.raises(SpecError, match="no compiled step"):
        _run(dirac, Damped(0.1, 0.1), x0, 3, "compiled")
    clipped = _run(dirac, make_rule("simgd", 0.1, 0.1), x0, 3, "auto",
                   project=lambda x: np.clip(x, -1, 1))
    assert "clipping" in clipped.method["backend_reason"]
    # (minibatch runs have their own compiled loop: test_compiled_minibatch.py)
    monkeypatch.setattr(build, "numba_version", lambda: None)
    plain = _run(dirac, make_rule("simgd", 0.1, 0.1), x0, 3, "auto")
    assert plain.method["backend_reason"] == "numba is not installed"
    with pytest.raises(SpecError, match="needs numba"):
        _run(dirac, make_rule("simgd", 0.1, 0.1), x0, 3, "compiled")


def test_auto_compiles_only_large_simulations(dirac: Any) -> None:
    x0 = _dirac_starts(4)
    small = _run(dirac, make_rule("simgd", 0.1, 0.1), x0, 3, "auto")
    assert small.method["backend"] == "numpy" and "run-steps" in small.method["backend_reason"]
    with pytest.raises(SpecError, match="backend"):
        _run(dirac, make_rule("simgd", 0.1, 0.1), x0, 3, "fast")


@pytest.mark.parametrize(("game", "regularizers", "name"), [
    ("bilinear", (), "ogda"),
    ("dirac", ("r1",), "altgd"),
])
def test_other_games(game: str, regularizers: tuple[str, ...], name: str) -> None:
    vf = derive(make_game(game, None if game == "bilinear" else "non-saturating",
                          regularizers=regularizers))
    n = len(vf.game.state_symbols)
    x0 = np.random.default_rng(2).normal(size=(16, n))
    rule = make_rule(name, 0.15, 0.2)
    for measure in ("state", "loop"):
        _assert_same(_run(vf, rule, x0, 40, "numpy", every=3, measure=measure),
                     _run(vf, rule, x0, 40, "compiled", every=3, measure=measure))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["simgd", "adam", "extragradient"])
def test_gaussian_game(name: str) -> None:
    vf = derive(make_game("gaussian", "minimax", params={"mu": 0.5, "sigma": 1.5}))
    rng = np.random.default_rng(3)
    x0 = rng.normal(scale=0.3, size=(32, 5))
    x0[:, 1] += 1.0
    rule = make_rule(name, np.linspace(0.01, 0.3, 32), 0.1)
    # the quadrature's nodes summed in a loop, in numpy's order (bit for bit)
    for measure in ("state", "loop"):
        _assert_same(_run(vf, rule, x0, 60, "numpy", every=4, measure=measure),
                     _run(vf, rule, x0, 60, "compiled", every=4, measure=measure))


def test_a_loop_numba_cannot_compile_falls_back(dirac: Any,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from numba.core.errors import TypingError

    def refuse(*args: Any) -> None:
        raise TypingError("cannot type this")

    monkeypatch.setattr(simulate, "AUTO_MIN_RUN_STEPS", 1)
    monkeypatch.setattr(simulate, "_kernel_of", lambda *args: (refuse, "key"))
    x0 = _dirac_starts(4)
    rule = make_rule("simgd", 0.1, 0.1)
    fallen = _run(dirac, rule, x0, 6, "auto")
    assert "numba could not compile" in fallen.method["backend_reason"]
    _assert_same(_run(dirac, rule, x0, 6, "numpy"), fallen)
    with pytest.raises(SpecError, match="cannot type this"):
        _run(dirac, rule, x0, 6, "compiled")
