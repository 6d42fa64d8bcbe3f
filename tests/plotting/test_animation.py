"""gandyn.plotting.animation: frame j shows record records[j], GIFs are reproducible.

The reference is the trajectory itself: every frame's artists must hold the
state and step of the record the frame stands for, and the rendered GIF must
show the point where the data put it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.colors import to_rgb
from PIL import Image

from gandyn.derivation.field import derive
from gandyn.dynamics.trajectory import Trajectory
from gandyn.errors import OutputExistsError, SpecError
from gandyn.games.game import make_game
from gandyn.plotting import CYCLE, paper_style
from gandyn.plotting.animation import (
    DEFAULT_FRAMES,
    _render,
    animate_trajectory,
    animation_figure,
    frame_records,
)


def _circle(n: int = 60, runs: int = 2, diverge_at: int | None = None) -> Trajectory:
    """Runs going round circles of radius 1, 2, ...; run 0 may diverge at a record."""
    step = np.arange(n, dtype=np.float64)
    angle = 2 * np.pi * step / n
    x = np.stack([np.stack([(r + 1) * np.cos(angle), (r + 1) * np.sin(angle)], axis=-1)
                  for r in range(runs)])
    diverged = np.zeros(runs, dtype=bool)
    diverged_at = np.full(runs, np.nan)
    if diverge_at is not None:
        # as simulate_rule leaves it: frozen at the last good state from the divergence on
        x[0, diverge_at:] = x[0, diverge_at - 1]
        diverged[0], diverged_at[0] = True, float(diverge_at)
    logged = np.stack([x[..., 0], x[..., 1], -x[..., 1]], axis=-1)
    return Trajectory(state_names=("theta", "psi"), logged_names=("d_real", "d_fake", "g_loss"),
                      step=step, t=0.25 * step, x=x, logged=logged, diverged=diverged,
                      diverged_at=diverged_at, method={"optimizer": "simgd"})


def test_frame_records() -> None:
    assert frame_records(5).tolist() == [0, 1, 2, 3, 4]
    assert len(frame_records(1000)) == DEFAULT_FRAMES
    for n, frames in [(1001, 7), (50, 49), (50, 50), (3, 10), (10, 2), (10, 1)]:
        records = frame_records(n, frames)
        assert len(records) == min(n, frames)
        assert records[0] == 0 and (frames == 1 or records[-1] == n - 1)
        assert np.all(np.diff(records) >= 1)
    for bad in (0, -3, 5000):
        with pytest.raises(SpecError, match="frames must be"):
            frame_records(10, bad)


def test_frame_j_shows_record_j() -> None:
    traj = _circle(n=60, runs=2)
    with paper_style():
        anim = animation_figure(traj, None, frames=60, trail=5)
        assert anim.records.tolist() == list(range(60))
        for k in (0, 1, 17, 59):
            anim.update(k)
            np.testing.assert_array_equal(anim.points.get_offsets(), traj.x[:, k])
            assert list(anim.cursor.get_xdata()) == [traj.step[k]] * 2
            assert anim.label.get_text() == f"step {k}"
            segments = anim.trail.get_segments()
            # each run's trail: the last min(k, 5) steps, ending at the current state
            assert len(segments) == 2 * min(k, 5)
            if k:
                np.testing.assert_array_equal(segments[min(k, 5) - 1][-1], traj.x[0, k])
                np.testing.assert_array_equal(segments[0][0], traj.x[0, max(0, k - 5)])
                alpha = anim.trail.get_colors()[: min(k, 5), 3]
                assert np.all(np.diff(alpha) > 0) and alpha[-1] == 1.0  # newest opaque


def test_fewer_frames_and_time_axis() -> None:
    traj = replace_method(_circle(n=101, runs=1), {"optimizer": "flow"})
    with paper_style():
        anim = animation_figure(traj, None, frames=11, x="time")
        assert anim.records.tolist() == list(range(0, 101, 10))
        anim.update(3)
        np.testing.assert_array_equal(anim.points.get_offsets(), traj.x[:, 30])
        assert list(anim.cursor.get_xdata()) == [traj.t[30]] * 2
        assert anim.label.get_text() == "$t = 7.5$"


def replace_method(traj: Trajectory, method: dict[str, Any]) -> Trajectory:
    from dataclasses import replace

    return replace(traj, method=method)


def test_a_diverged_run_stays_at_its_last_good_state() -> None:
    traj = _circle(n=40, runs=2, diverge_at=10)
    with paper_style():
        anim = animation_figure(traj, None, frames=40)
        anim.update(30)
        np.testing.assert_array_equal(anim.points.get_offsets()[0], traj.x[0, 9])
        np.testing.assert_array_equal(anim.points.get_offsets()[1], traj.x[1, 30])
        # the loss panel shows run 0, which stopped at step 9
        assert list(anim.cursor.get_xdata()) == [9.0, 9.0]


def test_layout_is_fixed_across_frames() -> None:
    traj = _circle(n=30)
    with paper_style():
        anim = animation_figure(traj, None, frames=30)
        positions = []
        for k in (0, 29):
            anim.update(k)
            anim.figure.draw_without_rendering()
            positions.append([ax.get_position().bounds for ax in anim.figure.axes])
    assert positions[0] == positions[1]


def _pixel(image: Image.Image, anim: Any, data_xy: np.ndarray, dpi: int) -> np.ndarray:
    """The RGB of the GIF frame at the display position of a point in data coordinates."""
    phase = anim.figure.axes[0]
    x, y = phase.transData.transform(data_xy) * dpi / anim.figure.dpi
    rgb = np.asarray(image.convert("RGB"), dtype=float) / 255
    return rgb[round(rgb.shape[0] - y), round(x)]


def test_gif_frames_show_the_point_where_the_data_put_it(tmp_path: Path) -> None:
    traj = _circle(n=20, runs=1)
    with paper_style():
        anim = animation_figure(traj, None, frames=5)
        data = _render(anim, "gif", 10, 100, "test")
    (tmp_path / "a.gif").write_bytes(data)
    blue = np.array(to_rgb(CYCLE[0]))
    with Image.open(tmp_path / "a.gif") as image:
        assert image.n_frames == 5
        for j, record in enumerate(anim.records):
            image.seek(j)
            here = _pixel(image, anim, traj.x[0, record], 100)
            assert np.abs(here - blue).max() < 0.12, (j, here)
            # half a turn later the point is gone from there: no blue at the opposite state
            away = _pixel(image, anim, -traj.x[0, record], 100)
            assert np.abs(away - blue).max() > 0.3, (j, away)


def test_gif_is_byte_reproducible_with_sidecars(tmp_path: Path) -> None:
    vf = derive(make_game("dirac", "non-saturating"))
    traj = _circle(n=30, runs=2)
    meta = {"gandyn_version": "test", "spec": {"game": "dirac"}}
    outputs = []
    for name in ("a", "b"):
        folder = tmp_path / name
        folder.mkdir()
        written = animate_trajectory(traj, vf, folder / "anim.gif", metadata=meta, frames=6,
                                     fps=12, dpi=40, equilibria=[[0.0, 0.0]])
        assert [p.name for p in written] == ["anim.gif", "anim.gif.json", "anim.gif.data.npz"]
        outputs.append(folder)
    for name in ("anim.gif", "anim.gif.json", "anim.gif.data.npz"):
        assert (outputs[0] / name).read_bytes() == (outputs[1] / name).read_bytes(), name
    side = json.loads((outputs[0] / "anim.gif.json").read_text())
    assert side["metadata"]["spec"] == {"game": "dirac"}
    assert side["metadata"]["trajectory"]["n_records"] == 30
    assert side["animation"]["frames"] == 6 and side["animation"]["fps"] == 12
    with np.load(outputs[0] / "anim.gif.data.npz") as data:
        np.testing.assert_array_equal(data["frame_records"], frame_records(30, 6))
        np.testing.assert_array_equal(data["x"], traj.x)
        assert {"grid_x", "grid_y", "field_u", "field_v", "equilibria"} <= set(data.files)
    with Image.open(outputs[0] / "anim.gif") as image:
        # PillowWriter asks for int(1000 / 12) = 83 ms; a GIF stores hundredths of a second
        assert image.n_frames == 6 and image.info["duration"] == 80


def test_refusals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    traj = _circle(n=10)
    (tmp_path / "anim.gif.json").write_text("precious")
    with pytest.raises(OutputExistsError, match=r"refusing to overwrite .*anim\.gif\.json"):
        animate_trajectory(traj, None, tmp_path / "anim.gif", metadata={}, frames=2)
    assert (tmp_path / "anim.gif.json").read_text() == "precious"
    assert not (tmp_path / "anim.gif").exists()
    with pytest.raises(SpecError, match=r"unknown extension '\.webm'"):
        animate_trajectory(traj, None, tmp_path / "x.webm", metadata={})
    with pytest.raises(SpecError, match="fps must be an integer from 1 to 50"):
        animate_trajectory(traj, None, tmp_path / "x.gif", metadata={}, fps=0)
    with pytest.raises(SpecError, match=r"folder .* does not exist"):
        animate_trajectory(traj, None, tmp_path / "no" / "x.gif", metadata={})
    from matplotlib import animation

    monkeypatch.setattr(animation.writers, "is_available", lambda name: False)
    with pytest.raises(SpecError, match="MP4 needs ffmpeg, which is not installed"):
        animate_trajectory(traj, None, tmp_path / "x.mp4", metadata={})
