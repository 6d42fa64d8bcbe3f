"""`--axes` and `--slice-at`: portraits of games with more than two parameters.

The field drawn on a slice is checked against central finite differences of
the players' costs at the same full state (F = -(d f_G / d theta, d f_D / d psi),
Mescheder et al. 2017, "The Numerics of GANs", Sec. 2), and the paths against
the saved run's coordinates.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gandyn.cli.portrait import resolve_portrait
from gandyn.errors import SpecError, UnknownNameError

Invoke = Callable[..., tuple[int, str, str]]
GAUSSIAN = ("theta_mu", "theta_sigma", "psi_0", "psi_1", "psi_2")


def _field_by_finite_differences(field: Any, state: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """F = -(grad_theta f_G, grad_psi f_D) from the costs alone (central differences)."""
    n_theta = len(field.game.theta)
    out = np.empty(state.size)
    for i in range(state.size):
        step = np.zeros(state.size)
        step[i] = h
        plus = np.asarray(field.costs_fn(state + step), dtype=np.float64).reshape(-1)
        minus = np.asarray(field.costs_fn(state - step), dtype=np.float64).reshape(-1)
        player = 0 if i < n_theta else 1
        out[i] = -(plus[player] - minus[player]) / (2 * h)
    return out


@pytest.fixture(scope="module")
def gaussian_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from click.testing import CliRunner

    from gandyn.cli import cli

    folder = tmp_path_factory.mktemp("gaussian")
    result = CliRunner().invoke(cli, ["simulate", "--game", "gaussian", "--steps", "150",
                                      "--x0", "theta_mu=1,psi_1=0.2", "--out",
                                      str(folder / "run.npz")])
    assert result.exit_code == 0, result.output
    return folder / "run.npz"


def test_a_slice_of_the_field_matches_finite_differences_of_the_costs(
        invoke: Invoke, gaussian_run: Path, tmp_path: Path) -> None:
    from gandyn.derivation.field import derive
    from gandyn.games.game import make_game

    fig = tmp_path / "g.pdf"
    code, _, err = invoke("plot", str(gaussian_run), "--plot", str(fig), "--axes",
                          "theta_mu,psi_1", "--slice-at", "theta_sigma=1.2,psi_0=0.1,psi_2=-0.05")
    assert code == 0, err
    data = np.load(tmp_path / "g.pdf.data.npz")
    assert data["axes"].tolist() == [GAUSSIAN.index("theta_mu"), GAUSSIAN.index("psi_1")]
    np.testing.assert_array_equal(data["slice_at"][[1, 2, 4]], [1.2, 0.1, -0.05])
    field = derive(make_game("gaussian", "minimax"))
    for i, j in [(0, 0), (7, 30), (40, 13)]:
        state = data["slice_at"].copy()
        state[0], state[3] = data["grid_x"][j], data["grid_y"][i]
        expected = _field_by_finite_differences(field, state)
        assert data["field_u"][i, j] == pytest.approx(expected[0], rel=1e-6, abs=1e-8)
        assert data["field_v"][i, j] == pytest.approx(expected[3], rel=1e-6, abs=1e-8)
    import json

    side = json.loads((tmp_path / "g.pdf.json").read_text())
    portrait = side["metadata"]["portrait"]
    assert portrait["axes"] == ["theta_mu", "psi_1"]
    assert portrait["slice_at"]["theta_sigma"] == 1.2


def test_the_portrait_projects_the_paths_and_says_so(gaussian_run: Path) -> None:
    from gandyn.io.saved_runs import read_run
    from gandyn.plotting.simulation import simulation_figure
    from gandyn.plotting.style import paper_style

    traj = read_run(gaussian_run).trajectory
    with paper_style():
        fig = simulation_figure(traj, None, axes=(1, 4))
    phase = fig.axes[0]
    path = phase.lines[0].get_xydata()
    np.testing.assert_array_equal(path, traj.x[0][:, [1, 4]])
    notes = [text.get_text() for text in phase.texts]
    assert any("paths projected onto" in note and "field not drawn" in note for note in notes)
    assert phase.get_xlabel() == r"$\theta_\sigma$"


def test_two_coordinates_can_be_swapped(invoke: Invoke, tmp_path: Path) -> None:
    from gandyn.derivation.field import derive
    from gandyn.games.game import make_game

    fig = tmp_path / "d.png"
    code, _, err = invoke("simulate", "--steps", "30", "--plot", str(fig), "--axes", "psi,theta")
    assert code == 0, err
    data = np.load(tmp_path / "d.png.data.npz")
    assert data["axes"].tolist() == [1, 0]
    assert "slice_at" not in data.files
    field = derive(make_game("dirac", "minimax"))
    # x axis is psi, y axis is theta: field_u is F_psi, field_v is F_theta.
    state = np.array([data["grid_y"][5], data["grid_x"][11]])
    expected = _field_by_finite_differences(field, state)
    assert data["field_u"][5, 11] == pytest.approx(expected[1], rel=1e-6, abs=1e-8)
    assert data["field_v"][5, 11] == pytest.approx(expected[0], rel=1e-6, abs=1e-8)


def test_the_default_two_dimensional_figure_keeps_its_data_layout(invoke: Invoke,
                                                                  tmp_path: Path) -> None:
    code, _, err = invoke("simulate", "--steps", "30", "--plot", str(tmp_path / "d.png"))
    assert code == 0, err
    data = np.load(tmp_path / "d.png.data.npz")
    assert "axes" not in data.files and {"grid_x", "field_u"} <= set(data.files)


def test_the_slice_defaults_to_the_equilibrium_and_otherwise_to_no_field() -> None:
    equilibrium = [[0.0, 1.0, 0.0, 0.0, 0.0]]
    chosen = resolve_portrait("theta_mu,psi_1", None, GAUSSIAN, n_theta=2,
                              equilibria=equilibrium, last_state=None)
    assert chosen.axes == (0, 3) and chosen.slice_at == (0.0, 1.0, 0.0, 0.0, 0.0)
    assert chosen.slice_name == "the equilibrium"
    assert resolve_portrait(None, None, GAUSSIAN, n_theta=2, equilibria=[],
                            last_state=[1, 2, 3, 4, 5]).slice_at is None
    partial = resolve_portrait(None, "psi_1=0.5", GAUSSIAN, n_theta=2, equilibria=[],
                               last_state=[1, 2, 3, 4, 5])
    assert partial.axes == (0, 2) and partial.slice_at == (1, 2, 3, 0.5, 5)
    assert partial.slice_name == "unset ones at run 0's last state"


@pytest.mark.parametrize(("axes", "slice_spec", "error", "words"), [
    ("theta_mu,psi_9", None, UnknownNameError, "psi_9"),
    ("theta_mu", None, SpecError, "two state coordinates"),
    ("psi_0,psi_0", None, SpecError, "twice"),
    ("theta_mu,psi_1", "psi_1=0", SpecError, "on an axis"),
    ("theta_mu,psi_1", "psi_0=inf", SpecError, "psi_0"),
])
def test_bad_choices_are_refused(axes: str, slice_spec: str | None, error: type,
                                 words: str) -> None:
    with pytest.raises(error, match=words):
        resolve_portrait(axes, slice_spec, GAUSSIAN, n_theta=2, equilibria=[],
                         last_state=[0.0] * 5)


@pytest.mark.parametrize("args", [
    ["simulate", "--steps", "5", "--axes", "psi,theta"],
    ["simulate", "--steps", "5", "--plot", "{tmp}/a.png", "--slice-at", "psi=1"],
    ["simulate", "--game", "gaussian", "--steps", "5", "--plot", "{tmp}/a.png", "--axes",
     "theta_mu,nope"],
])
def test_the_command_line_refuses_in_one_line_before_work(invoke: Invoke, tmp_path: Path,
                                                          args: list[str]) -> None:
    code, _, err = invoke(*[a.format(tmp=tmp_path) for a in args])
    assert code in (1, 2) and err.startswith("error: ") and err.count("\n") == 1
    assert not list(tmp_path.iterdir())
