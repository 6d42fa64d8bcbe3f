"""``gandyn plot``: a saved run drawn again gives the files ``simulate --plot`` wrote.

The reference for every figure is ``gandyn simulate --plot`` itself: the same
run, saved and drawn again without simulating, must give the same bytes.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from gandyn.cli import cli


def gandyn(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), prog_name="gandyn", catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _same_files(left: Path, right: Path, stem: str, suffix: str) -> None:
    for name in (f"{stem}{suffix}", f"{stem}{suffix}.json", f"{stem}{suffix}.data.npz"):
        assert (left / name).read_bytes() == (right / name).read_bytes(), name


@pytest.mark.parametrize(("args", "suffix", "run_format"), [
    (["--loss", "ns", "--steps", "60", "--x0", "theta=1,psi=1", "--x0", "theta=-0.5,psi=0.3"],
     ".png", ".npz"),
    # the flow (time on the loss axis), a regularizer and a parameter; read from the CSV
    (["--optimizer", "flow", "--loss", "minimax", "--reg", "r1:gamma=0.3", "--param", "c=0.5",
      "--steps", "100", "--lr-d", "0.2"], ".svg", ".csv"),
], ids=["simgd-png-npz", "flow-svg-csv"])
def test_plot_gives_the_bytes_simulate_plot_wrote(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  args: list[str], suffix: str,
                                                  run_format: str) -> None:
    first, second = tmp_path / "simulate", tmp_path / "plot"
    first.mkdir()
    second.mkdir()
    monkeypatch.chdir(first)
    code, _, err = gandyn("simulate", *args, "--out", f"run{run_format}", "--plot", f"fig{suffix}")
    assert code == 0, err
    monkeypatch.chdir(second)
    code, out, err = gandyn("plot", f"../simulate/run{run_format}", "--plot", f"fig{suffix}")
    assert code == 0, err
    assert out == ""  # stdout carries results only; every "wrote" line is on stderr
    assert err.splitlines() == [f"wrote fig{suffix}", f"wrote fig{suffix}.json",
                                f"wrote fig{suffix}.data.npz"]
    _same_files(first, second, "fig", suffix)


def test_runs_selects_and_orders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = gandyn("simulate", "--loss", "ns", "--steps", "30", "--grid",
                          "theta=-1:1:3", "--out", "run.npz")
    assert code == 0, err
    code, _, err = gandyn("plot", "run.npz", "--plot", "sel.png", "--runs", "2,0")
    assert code == 0, err
    with np.load("run.npz") as run, np.load("sel.png.data.npz") as shown:
        np.testing.assert_array_equal(shown["x"], run["x"][[2, 0]])
        np.testing.assert_array_equal(shown["logged"], run["logged"][[2, 0]])
    meta = json.loads(Path("sel.png.json").read_text())["metadata"]
    assert meta["runs"] == [2, 0]
    assert meta["trajectory"]["n_runs"] == 2


def test_csv_without_sidecar_draws_without_the_field(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = gandyn("simulate", "--steps", "20", "--out", "run.csv")
    assert code == 0, err
    Path("run.csv.meta.json").unlink()
    code, out, err = gandyn("plot", "run.csv", "--plot", "fig.png")
    assert code == 0 and out == ""
    assert err.splitlines()[0] == (
        "warning: no run.csv.meta.json beside run.csv: drawing without the vector field")
    assert "wrote fig.png" in err.splitlines()[1:]
    with np.load("fig.png.data.npz") as data:
        assert "grid_x" not in data.files and "equilibria" not in data.files
    assert json.loads(Path("fig.png.json").read_text())["metadata"]["spec"] is None


def test_animate_writes_gif_and_sidecars(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = gandyn("simulate", "--loss", "ns", "--steps", "40", "--out", "run.npz")
    assert code == 0, err
    code, out, err = gandyn("plot", "run.npz", "--animate", "anim.gif", "--frames", "4",
                            "--fps", "10", "--layout", "one-column")
    assert code == 0, err
    assert out == ""
    assert err.splitlines() == ["wrote anim.gif", "wrote anim.gif.json",
                                "wrote anim.gif.data.npz"]
    from PIL import Image

    with Image.open("anim.gif") as image:
        assert image.n_frames == 4
        assert image.info["duration"] == 100
    side = json.loads(Path("anim.gif.json").read_text())
    assert side["animation"]["frame_records"] == [0, 13, 27, 40]
    assert side["metadata"]["spec"]["steps"] == 40


def _prepare(tmp_path: Path) -> None:
    for run in ("run.npz", "run.json"):
        code, _, err = gandyn("simulate", "--steps", "10", "--out", str(tmp_path / run))
        assert code == 0, err
    (tmp_path / "bad.csv").write_text("run,step,t,theta,psi,d_real,d_fake,g_loss,d_x,d_gz\n"
                                      "0,0,0.0,1.0,x,1,1,1,1,1\n")
    (tmp_path / "exists.png").write_text("precious")


@pytest.mark.parametrize(("args", "message"), [
    (["run.npz"], "error: nothing to draw: give --plot FIG (.pdf, .svg, .png) and/or "
                  "--animate ANIM (.gif, .mp4)"),
    (["run.txt", "--plot", "f.png"], "error: cannot read run run.txt: unknown format '.txt' "
                                     "(use .csv, .npz, .json)"),
    (["missing.npz", "--plot", "f.png"], "error: run missing.npz: no such file"),
    (["bad.csv", "--plot", "f.png"], "error: bad.csv line 2: 'x' in column 'psi' is not a "
                                     "number"),
    (["run.npz", "--plot", "f.jpg"], "error: --plot f.jpg: unknown format '.jpg' "
                                     "(use .pdf, .svg, .png)"),
    (["run.npz", "--plot", ""], "error: --plot: empty file name"),
    (["run.npz", "--plot", "sub/"], "error: --plot sub/: names a folder; give a file name"),
    (["run.npz", "--plot", "exists.png.json/f.png"],
     "error: cannot write exists.png.json/f.png: folder exists.png.json does not exist"),
    (["run.npz", "--animate", "f.avi"], "error: cannot write animation f.avi: unknown extension "
                                        "'.avi' (allowed: .gif, .mp4)"),
    (["run.npz", "--plot", "f.png", "--frames", "5"],
     "error: --frames and --fps set up an animation: give --animate ANIM"),
    (["run.npz", "--plot", "exists.png"], "error: refusing to overwrite exists.png (use --force)"),
    (["run.png.json", "--plot", "run.png", "--force"],
     "error: run.png.json would overwrite the run being drawn; choose another name"),
    (["f.png.data.npz", "--plot", "f.png", "--force"],
     "error: f.png.data.npz would overwrite the run being drawn; choose another name"),
    (["run.npz", "--plot", "f.png", "--runs", "1"],
     "error: --runs: run 1 is out of range: the file has 1 run(s) (0..0)"),
])
def test_bad_input_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                               args: list[str], message: str) -> None:
    _prepare(tmp_path)
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    result = CliRunner().invoke(cli, ["plot", *args], prog_name="gandyn")
    assert result.exit_code == 1
    assert result.stderr == message + "\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written


def test_mp4_without_ffmpeg_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from matplotlib import animation

    _prepare(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(animation.writers, "is_available", lambda name: False)
    result = CliRunner().invoke(cli, ["plot", "run.npz", "--animate", "a.mp4"], prog_name="gandyn")
    assert result.exit_code == 1
    assert result.stderr == ("error: cannot write a.mp4: MP4 needs ffmpeg, which is not "
                             "installed (install it, or write a .gif)\n")


def test_sidecar_mismatch_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = gandyn("simulate", "--steps", "10", "--out", "run.csv")
    assert code == 0, err
    meta = json.loads(Path("run.csv.meta.json").read_text())
    meta["state_names"] = ["psi", "theta"]
    Path("run.csv.meta.json").write_text(json.dumps(meta))
    result = CliRunner().invoke(cli, ["plot", "run.csv", "--plot", "f.png"], prog_name="gandyn")
    assert result.exit_code == 1
    assert result.stderr == ("error: run.csv.meta.json does not match the run: state psi, theta "
                             "but the data have theta, psi\n")


def test_help() -> None:
    code, out, _ = gandyn("plot", "--help")
    assert code == 0
    for option in ("--plot", "--animate", "--layout", "--runs", "--frames", "--fps", "--force"):
        assert option in out
