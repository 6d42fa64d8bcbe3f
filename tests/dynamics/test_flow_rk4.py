"""The fixed-step classic Runge-Kutta method of the flow (``method="rk4"``) against closed forms.

The bilinear game's flow (``a = b = 0``) is the rotation ``dz/dt = i z`` of
``z = theta + i psi``. Classic RK4 applied to ``dz/dt = lambda z`` multiplies
``z`` by its stability function ``R(h lambda) = 1 + w + w^2/2 + w^3/6 + w^4/24``
at every step (Hairer, Norsett and Wanner (1993), Solving Ordinary
Differential Equations I, Sec. II.1 and IV.2), so after ``N`` steps
``z_N = R(i h)^N z_0`` exactly in exact arithmetic: ``|R(i h)| =
|1 - h^2/2 + h^4/24 + i (h - h^3/6)| < 1`` shrinks the norm by a known factor
per step, and the error against ``e^{i t} z_0`` falls 16-fold when ``h`` is
halved (order 4).
"""

from __future__ import annotations

import math

import numpy as np
import pytest


def _rotation(step_size: float, t_end: float, n_eval: int, starts: list[dict[str, float]],
              **extra: object) -> object:
    from gandyn.runs.build import simulate

    settings = {"method": "rk4", "step_size": step_size, "t_end": t_end, "n_eval": n_eval}
    return simulate(game="bilinear", optimizer="flow", settings=settings, starts=starts,
                    **extra).trajectory


def _stability(h: float) -> complex:
    w = 1j * h
    return 1 + w + w**2 / 2 + w**3 / 6 + w**4 / 24


def test_rk4_multiplies_the_rotation_by_its_stability_function_at_every_step() -> None:
    h, per_record = 0.25, 4
    traj = _rotation(h, t_end=10.0, n_eval=11, starts=[{"theta": 1.0, "psi": 1.0}])
    z = traj.x[0, :, 0] + 1j * traj.x[0, :, 1]  # type: ignore[attr-defined]
    steps = np.arange(11) * per_record
    expected = _stability(h) ** steps * (1 + 1j)
    np.testing.assert_allclose(z, expected, rtol=1e-13, atol=1e-14)
    # The norm shrinks by |R(ih)| per step: |R(ih)|^2 = 1 - h^6/72 + h^8/576.
    factor = math.sqrt(1 - h**6 / 72 + h**8 / 576)
    np.testing.assert_allclose(np.abs(z), math.sqrt(2) * factor**steps, rtol=1e-13)
    assert np.abs(z)[-1] < np.abs(z)[0]


def test_rk4_converges_with_order_four() -> None:
    errors = []
    for h in (0.2, 0.1, 0.05):
        traj = _rotation(h, t_end=4.0, n_eval=3, starts=[{"theta": 1.0, "psi": 0.0}])
        z = traj.x[0, -1, 0] + 1j * traj.x[0, -1, 1]  # type: ignore[attr-defined]
        errors.append(abs(z - np.exp(4.0j)))
    orders = [math.log2(errors[i] / errors[i + 1]) for i in range(2)]
    assert all(3.9 < order < 4.1 for order in orders), orders


def test_rk4_step_is_shortened_to_fit_between_records() -> None:
    from gandyn.dynamics.flow import rk4_steps

    assert rk4_steps(1.0, 11, 0.03) == (4, pytest.approx(0.025))
    assert rk4_steps(1.0, 11, 0.1) == (1, pytest.approx(0.1))
    with pytest.raises(ValueError, match="work bound"):
        rk4_steps(1e6, 3, 0.01)


def test_rk4_freezes_a_run_at_its_last_state_inside_the_ball() -> None:
    # From (1, 1) the rotation reaches |psi| = sqrt(2) sin(t + pi/4) = 1.3 at
    # t* = asin(1.3 / sqrt(2)) - pi/4; rk4 reports the end of the first step past it.
    h = 0.01
    traj = _rotation(h, t_end=2.0, n_eval=21, max_norm=1.3,
                     starts=[{"theta": 1.0, "psi": 1.0}, {"theta": 0.5, "psi": 0.0}])
    exit_time = math.asin(1.3 / math.sqrt(2)) - math.pi / 4
    assert traj.diverged.tolist() == [True, False]  # type: ignore[attr-defined]
    at = float(traj.diverged_at[0])  # type: ignore[attr-defined]
    assert exit_time < at <= exit_time + h + 1e-12
    frozen = traj.x[0, 5:]  # type: ignore[attr-defined]  # records from t = 0.5
    assert np.all(frozen == frozen[0]) and np.max(np.abs(frozen[0])) <= 1.3
    # The other run goes on: it stays on its circle of radius 0.5 (to RK4's accuracy).
    radius = np.hypot(traj.x[1, :, 0], traj.x[1, :, 1])  # type: ignore[attr-defined]
    np.testing.assert_allclose(radius, 0.5, rtol=1e-9)


def test_rk4_is_refused_over_the_work_bound_in_one_line() -> None:
    from gandyn.errors import SpecError

    with pytest.raises(SpecError, match="`step_size`"):
        _rotation(1e-5, t_end=100.0, n_eval=3, starts=[{"theta": 1.0, "psi": 0.0}])
