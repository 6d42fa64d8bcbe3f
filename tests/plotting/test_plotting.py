"""Tests of gandyn.plotting: artists, fonts, sidecars, reproducibility, refusals.

Figures are built with :class:`matplotlib.figure.Figure` (no pyplot), so no
GUI backend is involved.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import matplotlib
import numpy as np
import pytest
from matplotlib.collections import LineCollection, PathCollection

from gandyn.derivation.field import VectorField
from gandyn.dynamics.discrete import simulate_rule
from gandyn.dynamics.trajectory import Trajectory
from gandyn.errors import GandynError, SpecError
from gandyn.plotting import (
    CYCLE,
    LOSS_STYLE,
    ONE_COLUMN,
    PALETTE,
    TWO_COLUMN,
    OutputExistsError,
    loss_curves,
    output_rc,
    paper_figure,
    paper_style,
    phase_portrait,
    plot_simulation,
    save_figure,
    simulation_figure,
    state_label,
    write_npz,
)
from gandyn.plotting.save import ZIP_DATE
from gandyn.rules import FieldFunctions, make_rule

METADATA = {"spec": {"game": "dirac", "loss": "minimax", "optimizer": "simgd", "lr": 0.2},
            "gandyn_version": "0.1.0"}


def _simulate(vf: VectorField, x0: list[list[float]], *, max_norm: float = 1e6) -> Trajectory:
    game = vf.game
    functions = FieldFunctions(vf.field_fn, vf.jacobian_fn, len(game.theta))
    rule = make_rule("simgd", 0.2, 0.2)
    return simulate_rule(
        rule, functions, vf.logged_fn, np.array(x0), 200, max_norm=max_norm,
        state_names=tuple(s.name for s in game.state_symbols), logged_names=vf.logged_names,
    )


@pytest.fixture(scope="module")
def field(dirac_field: VectorField) -> VectorField:
    return dirac_field


@pytest.fixture(scope="module")
def traj(field: VectorField) -> Trajectory:
    return _simulate(field, [[1.0, 1.0], [0.5, -0.5]])


@pytest.fixture(scope="module")
def diverging(field: VectorField) -> Trajectory:
    # simgd spirals out of the Dirac-GAN's equilibrium: the start (1, 1) leaves
    # |x| <= 1.5 after 29 steps, the start near 0 does not within 200 steps
    t = _simulate(field, [[1.0, 1.0], [0.05, 0.05]], max_norm=1.5)
    assert t.diverged.tolist() == [True, False]
    return t


def _three_d() -> Trajectory:
    """A synthetic 3-coordinate trajectory (theta, psi_0, psi_1) of two runs."""
    steps = np.arange(50, dtype=np.float64)
    angle = 0.1 * steps
    x = np.stack([np.stack([np.cos(angle), np.sin(angle), 0.01 * steps], axis=-1),
                  np.stack([2 * np.cos(angle), np.sin(angle), -0.01 * steps], axis=-1)])
    logged = np.stack([x[..., 0] ** 2, x[..., 1] ** 2, -x[..., 1] ** 2], axis=-1)
    return Trajectory(
        state_names=("theta", "psi_0", "psi_1"), logged_names=("d_real", "d_fake", "g_loss"),
        step=steps, t=0.1 * steps, x=x, logged=logged, diverged=np.array([False, False]),
        diverged_at=np.array([np.nan, np.nan]),
    )


# --- style ---------------------------------------------------------------------------------------


def test_palette_is_okabe_ito_and_cycle_matches_style() -> None:
    assert set(PALETTE.values()) == {
        "#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"}
    assert sorted(CYCLE) == sorted(PALETTE.values())
    with paper_style():
        colors = [c["color"] for c in matplotlib.rcParams["axes.prop_cycle"]]
    assert [matplotlib.colors.to_hex(c).upper() for c in colors] == list(CYCLE)
    for style in LOSS_STYLE.values():
        assert style.color in PALETTE.values()
        assert style.label.startswith("$")


def test_sizes() -> None:
    assert ONE_COLUMN[0] == pytest.approx(3.4)
    assert TWO_COLUMN[0] == pytest.approx(7.0)


def test_output_rc_embeds_truetype_and_fixes_svg_ids() -> None:
    rc = output_rc()
    assert rc["pdf.fonttype"] == 42
    assert rc["ps.fonttype"] == 42
    assert rc["svg.fonttype"] == "path"
    assert rc["svg.hashsalt"]


def test_paper_style_restores_global_state(
    traj: Trajectory, field: VectorField, tmp_path: Path
) -> None:
    before = dict(matplotlib.rcParams)
    with paper_style():
        assert matplotlib.rcParams["pdf.fonttype"] == 42
    plot_simulation(traj, field, tmp_path / "fig.svg", metadata=METADATA)
    assert dict(matplotlib.rcParams) == before


@pytest.mark.parametrize(
    ("name", "label"),
    [("theta", r"$\theta$"), ("psi", r"$\psi$"), ("psi_1", r"$\psi_1$"),
     ("theta_mu", r"$\theta_\mu$"), ("theta_sigma", r"$\theta_\sigma$"),
     ("psi_1_2", r"$\psi_{1,2}$"), ("w_gen", r"$w_{\mathrm{gen}}$"), ("a b", "a b")],
)
def test_state_label(name: str, label: str) -> None:
    assert state_label(name) == label


# --- panels --------------------------------------------------------------------------------------


def test_phase_portrait_artists(traj: Trajectory, field: VectorField) -> None:
    with paper_style():
        ax = paper_figure(ONE_COLUMN).add_subplot()
        out = phase_portrait(ax, field, traj, equilibria=[[0.0, 0.0]])
    assert out is ax
    assert len(ax.lines) == traj.n_runs
    assert all(line.get_linestyle() == "-" for line in ax.lines)
    assert any(isinstance(c, LineCollection) for c in ax.collections), "no streamplot"
    markers = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(markers) == traj.n_runs + 1  # start markers and the equilibrium
    assert "theta" in ax.get_xlabel()
    assert "psi" in ax.get_ylabel()
    # every run is inside the limits
    xlo, xhi = ax.get_xlim()
    assert xlo < traj.x[..., 0].min() and traj.x[..., 0].max() < xhi


def test_phase_portrait_marks_diverged_runs_dashed(
    diverging: Trajectory, field: VectorField
) -> None:
    with paper_style():
        ax = paper_figure(ONE_COLUMN).add_subplot()
        phase_portrait(ax, field, diverging)
    assert [line.get_linestyle() for line in ax.lines] == ["--", "-"]
    # the diverged run stops at its last good state, before the divergence
    assert np.asarray(ax.lines[0].get_xdata()).size == int(diverging.diverged_at[0])


def test_phase_portrait_projects_higher_dimensional_states() -> None:
    traj = _three_d()
    fake = SimpleNamespace(game=SimpleNamespace(theta=("theta",),
                                                state_symbols=("theta", "psi_0", "psi_1")))
    with paper_style():
        ax = paper_figure(ONE_COLUMN).add_subplot()
        phase_portrait(ax, fake, traj)  # type: ignore[arg-type]
        ax2 = paper_figure(ONE_COLUMN).add_subplot()
        phase_portrait(ax2, None, traj, x_index=1, y_index=2)
    assert len(ax.lines) == 2
    assert not any(isinstance(c, LineCollection) for c in ax.collections)
    assert ax.get_xlabel() == r"$\theta$" and ax.get_ylabel() == r"$\psi_0$"
    assert ax2.get_xlabel() == r"$\psi_0$" and ax2.get_ylabel() == r"$\psi_1$"
    np.testing.assert_array_equal(ax2.lines[1].get_ydata(), traj.x[1, :, 2])


def test_phase_portrait_rejects_bad_indices(traj: Trajectory, field: VectorField) -> None:
    ax = paper_figure().add_subplot()
    with pytest.raises(SpecError, match="out of range"):
        phase_portrait(ax, field, traj, y_index=5)
    with pytest.raises(SpecError, match="both 0"):
        phase_portrait(ax, field, traj, y_index=0)


def test_loss_curves_artists(traj: Trajectory) -> None:
    with paper_style():
        ax = paper_figure(ONE_COLUMN).add_subplot()
        out = loss_curves(ax, traj)
    assert out is ax
    assert len(ax.lines) == 3
    legend = ax.get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == [
        LOSS_STYLE[n].label for n in ("d_real", "d_fake", "g_loss")]
    assert "step" in ax.get_xlabel()
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), traj.loss("d_fake")[0])


def test_loss_curves_over_time_and_divergence(diverging: Trajectory) -> None:
    with paper_style():
        ax = paper_figure(ONE_COLUMN).add_subplot()
        loss_curves(ax, diverging, x="time")
    assert "time" in ax.get_xlabel()
    t_div = float(diverging.diverged_at[0]) * 0.2  # step * lr_g
    assert np.asarray(ax.lines[0].get_xdata())[-1] == pytest.approx(t_div - 0.2)
    assert ax.lines[-1].get_label() == "diverged"
    assert np.asarray(ax.lines[-1].get_xdata())[0] == pytest.approx(t_div)
    legend = ax.get_legend()
    assert legend is not None
    assert "diverged" in [t.get_text() for t in legend.get_texts()]


def test_loss_curves_errors(traj: Trajectory) -> None:
    ax = paper_figure().add_subplot()
    with pytest.raises(SpecError, match="unknown logged loss 'g_los'"):
        loss_curves(ax, traj, names=("g_los",))
    with pytest.raises(SpecError, match="run 7 is out of range"):
        loss_curves(ax, traj, run=7)


@pytest.mark.parametrize(("layout", "size"), [("two-column", (7.0, 2.8)), ("one-column", None)])
def test_simulation_figure_layouts(
    traj: Trajectory, field: VectorField, layout: Any, size: tuple[float, float] | None
) -> None:
    with paper_style():
        fig = simulation_figure(traj, field, layout=layout)
    width, height = fig.get_size_inches()
    assert len(fig.axes) == 2
    phase, losses = fig.axes
    if layout == "two-column":
        assert (width, height) == pytest.approx(size)
        assert phase.get_position().x1 < losses.get_position().x0  # side by side
    else:
        assert width == pytest.approx(3.4)
        assert phase.get_position().y0 > losses.get_position().y1  # stacked
    assert losses.get_ylabel() == "loss (nats)"


def test_simulation_figure_rejects_unknown_layout(traj: Trajectory, field: VectorField) -> None:
    with pytest.raises(SpecError, match="unknown layout"):
        simulation_figure(traj, field, layout="three-column")  # type: ignore[arg-type]


# --- saving --------------------------------------------------------------------------------------


def _png_text(data: bytes) -> dict[str, str]:
    """The tEXt chunks of a PNG."""
    chunks: dict[str, str] = {}
    pos = 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        if kind == b"tEXt":
            key, _, value = body.partition(b"\0")
            chunks[key.decode("latin-1")] = value.decode("latin-1")
        assert kind != b"tIME", "PNG carries a timestamp"
        pos += 12 + length
    return chunks


@pytest.fixture(scope="module")
def saved(
    traj: Trajectory, field: VectorField, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, list[Path]]:
    """The same figure saved twice, in two folders, in every format."""
    runs: dict[str, list[Path]] = {}
    for name in ("a", "b"):
        folder = tmp_path_factory.mktemp(name)
        runs[name] = plot_simulation(traj, field, folder / "fig.pdf", metadata=METADATA,
                                     also=("svg", "png"), equilibria=[[0.0, 0.0]])
    return runs


def test_saved_files_and_names(saved: dict[str, list[Path]]) -> None:
    names = [p.name for p in saved["a"]]
    assert names == ["fig.pdf", "fig.svg", "fig.png", "fig.pdf.json", "fig.pdf.data.npz"]
    assert all(p.is_file() for p in saved["a"])


def test_byte_identical_output(saved: dict[str, list[Path]]) -> None:
    for first, second in zip(saved["a"], saved["b"], strict=True):
        assert first.read_bytes() == second.read_bytes(), first.name


def test_format_alone_is_identical_to_format_among_others(
    traj: Trajectory, field: VectorField, saved: dict[str, list[Path]], tmp_path: Path
) -> None:
    # saving a PNG first must not change the PDF (layout state, dpi)
    alone = plot_simulation(traj, field, tmp_path / "fig.pdf", metadata=METADATA,
                            equilibria=[[0.0, 0.0]])
    assert alone[0].read_bytes() == saved["a"][0].read_bytes()


def test_pdf_embeds_truetype_fonts(saved: dict[str, list[Path]]) -> None:
    pdf = saved["a"][0].read_bytes()
    assert b"/FontFile2" in pdf or b"/Subtype /TrueType" in pdf
    assert b"/Type3" not in pdf
    assert b"/CreationDate" not in pdf
    assert b'/Subject ({"sidecar":"fig.pdf.json"' in pdf


def test_svg_and_png_metadata(saved: dict[str, list[Path]]) -> None:
    svg = saved["a"][1].read_text()
    assert "<dc:date>" not in svg
    assert '<dc:description>{"sidecar":"fig.pdf.json"' in svg
    assert "<text" not in svg  # glyphs as paths: no font needed to view it
    text = _png_text(saved["a"][2].read_bytes())
    embedded = json.loads(text["Description"])
    assert embedded["metadata"]["spec"] == METADATA["spec"]


def test_sidecar_json(saved: dict[str, list[Path]], traj: Trajectory) -> None:
    sidecar = json.loads(saved["a"][3].read_text())
    meta = sidecar["metadata"]
    assert meta["spec"] == METADATA["spec"]
    assert meta["gandyn_version"] == "0.1.0"
    assert meta["trajectory"]["method"]["optimizer"] == "simgd"
    figure = sidecar["figure"]
    assert figure["width_in"] == pytest.approx(7.0)
    assert figure["height_in"] == pytest.approx(2.8)
    assert [f["format"] for f in figure["files"]] == ["pdf", "svg", "png"]
    assert figure["matplotlib_version"] == matplotlib.__version__
    assert figure["dpi"] == 300
    assert sidecar["data"]["file"] == "fig.pdf.data.npz"
    assert sidecar["data"]["arrays"]["x"]["shape"] == list(traj.x.shape)


def test_data_file(saved: dict[str, list[Path]], traj: Trajectory) -> None:
    path = saved["a"][4]
    with np.load(path, allow_pickle=False) as data:
        assert list(data.keys())[:8] == ["t", "step", "x", "logged", "diverged",
                                         "diverged_at", "state_names", "logged_names"]
        np.testing.assert_array_equal(data["x"], traj.x)
        np.testing.assert_array_equal(data["logged"], traj.logged)
        np.testing.assert_array_equal(data["diverged"], traj.diverged)
        assert data["state_names"].tolist() == ["theta", "psi"]
        assert data["logged_names"].tolist() == list(traj.logged_names)
        assert data["field_u"].shape == (data["grid_y"].size, data["grid_x"].size)
        np.testing.assert_array_equal(data["equilibria"], [[0.0, 0.0]])
    with zipfile.ZipFile(path) as archive:
        assert {info.date_time for info in archive.infolist()} == {ZIP_DATE}


def test_write_npz_does_not_depend_on_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    arrays = {"a": np.arange(3.0), "names": np.array(["x", "yy"])}
    first = write_npz(arrays)
    monkeypatch.setattr("time.time", lambda: 2_000_000_000.0)
    assert write_npz(arrays) == first


def test_refuses_to_overwrite(traj: Trajectory, field: VectorField, tmp_path: Path) -> None:
    target = tmp_path / "fig.pdf"
    (tmp_path / "fig.pdf.json").write_text("{}")  # only the sidecar exists
    with pytest.raises(OutputExistsError) as info:
        plot_simulation(traj, field, target, metadata=METADATA)
    message = str(info.value)
    assert message == f"refusing to overwrite {tmp_path / 'fig.pdf.json'} (use `force`)"
    assert "\n" not in message
    assert isinstance(info.value, GandynError)
    assert not target.exists() and not (tmp_path / "fig.pdf.data.npz").exists()
    written = plot_simulation(traj, field, target, metadata=METADATA, force=True)
    assert [p.name for p in written] == ["fig.pdf", "fig.pdf.json", "fig.pdf.data.npz"]
    assert json.loads((tmp_path / "fig.pdf.json").read_text())["metadata"]["spec"]


def test_unknown_extension(tmp_path: Path) -> None:
    fig = paper_figure()
    with pytest.raises(SpecError) as info:
        save_figure(fig, tmp_path / "fig.jpg", metadata={})
    message = str(info.value)
    assert "\n" not in message
    assert ".pdf" in message and ".svg" in message and ".png" in message and ".jpg" in message
    assert list(tmp_path.iterdir()) == []


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="does not exist"):
        save_figure(paper_figure(), tmp_path / "nowhere" / "fig.png", metadata={})


def test_metadata_must_be_json(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"spec\.f"):
        save_figure(paper_figure(), tmp_path / "fig.png", metadata={"spec": {"f": object()}})
    assert list(tmp_path.iterdir()) == []


def test_save_without_data(tmp_path: Path) -> None:
    with paper_style():
        fig = paper_figure(ONE_COLUMN)
        fig.add_subplot().plot([0, 1], [0, 1])
        written = save_figure(fig, tmp_path / "plain.png", metadata={"note": np.float64(1.5)},
                              dpi=100)
    assert [p.name for p in written] == ["plain.png", "plain.png.json"]
    sidecar = json.loads(written[1].read_text())
    assert sidecar["data"] is None
    assert sidecar["metadata"] == {"note": 1.5}


# --- imports -------------------------------------------------------------------------------------


def test_import_gandyn_does_not_import_matplotlib() -> None:
    code = (
        "import sys, gandyn, gandyn.dynamics.discrete, gandyn.rules.registry\n"
        "gandyn.__version__\n"
        "assert 'matplotlib' not in sys.modules, 'gandyn imported matplotlib'\n"
        "import gandyn.plotting\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'gandyn.plotting imported pyplot'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr


def test_png_is_readable_by_zlib(saved: dict[str, list[Path]]) -> None:
    # a well-formed PNG: the image data inflates and has the size of a 7.0 x 2.8 in figure
    data = saved["a"][2].read_bytes()
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (2100, 840)
    pos, idat = 8, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        if data[pos + 4:pos + 8] == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    assert len(zlib.decompress(idat)) > width * height


def test_loss_curves_regime_shading_follows_p(traj: Trajectory) -> None:
    # On the minimax Dirac-GAN, d_fake = softplus(psi theta): each shaded span must hold only
    # steps whose p = 1 - exp(-d_fake) is in that span's regime, and the spans tile the run.
    from matplotlib.figure import Figure
    from matplotlib.patches import Polygon, Rectangle

    from gandyn.plotting import loss_curves

    ax = Figure().add_subplot()
    loss_curves(ax, traj, regimes=(0.45, 0.55), legend=False)
    spans = [p for p in ax.patches if isinstance(p, Rectangle | Polygon)]
    p = -np.expm1(-traj.loss("d_fake")[0])
    regime = np.where(p < 0.45, 0, np.where(p > 0.55, 2, 1))
    assert len(spans) == 1 + int(np.count_nonzero(np.diff(regime)))
    assert len(set(regime.tolist())) == 3  # all three regimes occur on this orbit
    colours = {0: "#d9d9d9", 1: "#ffffff", 2: "#f0e6cc"}
    for span in spans:
        x0, x1 = span.get_extents().x0, span.get_extents().x1
        lo, hi = ax.transData.inverted().transform([[x0, 0], [x1, 0]])[:, 0]
        inside = (traj.step > lo) & (traj.step < hi)
        kinds = set(regime[inside].tolist())
        assert len(kinds) == 1
        assert matplotlib.colors.to_hex(span.get_facecolor()) == colours[kinds.pop()]
