"""The flow stops a diverging run at ``max_norm`` and reports it; its work is bounded.

The reference is the bilinear game with ``a = b = -1`` (each player's own cost
``-theta**2/2``, ``-psi**2/2``): ``F = (theta - psi, theta + psi)``, so
``z = theta + i psi`` obeys ``dz/dt = (1 + i) z`` and from ``(1, 0)``
``theta = e^t cos t``, ``psi = e^t sin t`` in closed form. The run leaves the
ball ``max(|theta|, |psi|) <= M`` at the first root of
``e^t max(|cos t|, |sin t|) = M``, found here by scipy's brentq on that
closed form, independently of the integrator.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import brentq


def _exit_time(max_norm: float) -> float:
    """First t with e^t max(|cos t|, |sin t|) = max_norm (closed form, brentq)."""
    def g(t: float) -> float:
        return t + math.log(max(abs(math.cos(t)), abs(math.sin(t)))) - math.log(max_norm)

    grid = np.linspace(0.0, math.log(max_norm) + 2.0, 20001)
    values = [g(t) for t in grid]
    first = next(i for i, v in enumerate(values) if v > 0)
    return float(brentq(g, grid[first - 1], grid[first], xtol=1e-14))


@pytest.mark.parametrize(("method", "max_norm"), [("RK45", 1e3), ("DOP853", 1e6),
                                                    ("LSODA", 1e4), ("Radau", 50.0)])
def test_a_diverging_flow_stops_when_it_reaches_max_norm(method: str, max_norm: float) -> None:
    from gandyn.runs.build import simulate

    result = simulate(game="bilinear", params={"a": -1.0, "b": -1.0}, optimizer="flow",
                      settings={"t_end": 100.0, "method": method},
                      starts=[{"theta": 1.0, "psi": 0.0}, {"theta": 0.0, "psi": 0.0}],
                      max_norm=max_norm)
    traj = result.trajectory
    assert traj.diverged.tolist() == [True, False]  # the origin is a fixed point
    assert traj.diverged_at[0] == pytest.approx(_exit_time(max_norm), rel=1e-6)
    # frozen on the boundary from then on, the closed form up to then
    final = np.max(np.abs(traj.x[0, -1]))
    assert final == pytest.approx(max_norm, rel=1e-6)
    early = traj.t < traj.diverged_at[0] * 0.9
    exact = np.exp(traj.t[early])[:, None] * np.stack([np.cos(traj.t[early]),
                                                       np.sin(traj.t[early])], axis=1)
    assert np.allclose(traj.x[0, early], exact, rtol=1e-4, atol=1e-6)
    assert "1 of 2 runs diverged" in traj.message


def test_lsoda_integrates_a_batch_like_rk45() -> None:
    """LSODA failed with "setting an array element with a sequence" (a sparse Jacobian)."""
    from gandyn.runs.build import simulate

    starts = [{"theta": t, "psi": p} for t in (-1.0, 0.5) for p in (-0.5, 1.0)]
    runs = {method: simulate(optimizer="flow", loss="non-saturating", starts=starts,
                             settings={"method": method, "t_end": 5.0}).trajectory
            for method in ("LSODA", "RK45")}
    assert not runs["LSODA"].diverged.any()
    assert np.allclose(runs["LSODA"].x, runs["RK45"].x, atol=1e-5)


def test_the_flow_stops_at_its_work_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    import gandyn.dynamics.flow as flow
    from gandyn.runs.build import simulate

    monkeypatch.setattr(flow, "MAX_EVALUATIONS", 60)
    traj = simulate(optimizer="flow", settings={"t_end": 100.0}).trajectory
    assert traj.method["solver_success"] is False
    assert "work bound" in traj.message
    assert traj.x.shape[1] == 201 and np.all(np.isfinite(traj.x))
