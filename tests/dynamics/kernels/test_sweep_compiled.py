"""A sweep's chunks through the compiled loop against the numpy steps they replace.

The statistics the verdicts come from (distance to the equilibrium, when it
crossed the tolerance, the peaks per third of the final window, the range of the
monitored losses) are the numpy chunk's, with per-cell rates and
hyper-parameters: verdicts equal, measures equal to 1e-12 relative.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

pytest.importorskip("numba")

from gandyn.errors import SpecError
from gandyn.runs.spec import RegularizerSpec
from gandyn.sweeps import AxisSpec, SweepSpec, merge_sweep
from gandyn.sweeps import make_plan as plan_of
from gandyn.sweeps.chunk import simulate_chunk
from gandyn.symbolic.option_text import parse_axis


def _plan(optimizer: str, axes: list[str], **given: Any) -> Any:
    spec = merge_sweep(SweepSpec(), optimizer=optimizer,
                       regularizers=[RegularizerSpec("r1", ())],
                       axes=[AxisSpec(*parse_axis(text)) for text in axes], **given)
    return plan_of(spec)


@pytest.mark.parametrize(("optimizer", "axes"), [
    ("momentum", ["lr=0.02:1.5:6:log", "gamma=0:2:5", "theta=-1:1:3"]),
    ("adam", ["lr=0.01:0.5:5:log", "gamma=0:1:4"]),
])
def test_compiled_chunk_gives_the_numpy_verdicts(optimizer: str, axes: list[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    plan = _plan(optimizer, axes, steps=120)
    monkeypatch.setenv("GANDYN_BACKEND", "numpy")
    expected = simulate_chunk(plan, 0)
    monkeypatch.setenv("GANDYN_BACKEND", "compiled")
    got = simulate_chunk(plan, 0)
    verdicts = np.bincount(expected["verdict"], minlength=3)
    assert (verdicts > 0).sum() >= 2, f"the sweep should see several verdicts: {verdicts}"
    np.testing.assert_array_equal(got["verdict"], expected["verdict"])
    np.testing.assert_array_equal(got["decided_at"], expected["decided_at"])
    for key in ("distance", "g_loss_amplitude", "d_fake_amplitude", "spectral_radius"):
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-12, atol=0, err_msg=key)


def test_compiled_sweep_of_a_rule_without_a_compiled_step_is_refused(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # the flow's sweep steps by classic Runge-Kutta (gandyn.dynamics.flow.RungeKuttaFlow),
    # which has no compiled step
    from dataclasses import replace

    from gandyn.runs.spec import RuleSpec

    spec = merge_sweep(SweepSpec(), axes=[AxisSpec(*parse_axis("lr=0.1:0.5:2"))], steps=10)
    rule = RuleSpec(name="flow", settings=(("method", "rk4"),))
    plan = plan_of(replace(spec, run=replace(spec.run, rule=rule)))
    monkeypatch.setenv("GANDYN_BACKEND", "compiled")
    with pytest.raises(SpecError, match="flow"):
        simulate_chunk(plan, 0)
    monkeypatch.setenv("GANDYN_BACKEND", "auto")  # too small, and no compiled step: numpy
    assert len(simulate_chunk(plan, 0)["verdict"]) == 2
