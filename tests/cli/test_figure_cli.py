"""``gandyn figure``: each figure from the command line, its data checked independently."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from gandyn.cli.figure import VENUE_NAMES

Invoke = Callable[..., tuple[int, str, str]]


def _data(path: Path) -> dict[str, np.ndarray]:
    with np.load(path.with_name(path.name + ".data.npz")) as archive:
        return {key: archive[key] for key in archive.files}


def test_the_styles_offered_are_the_venues() -> None:
    from gandyn.plotting import VENUES

    assert set(VENUE_NAMES) == set(VENUES)


def test_the_maximum_likelihood_cost_is_goodfellows_and_the_axis_says_it_is_clipped(
        invoke: Invoke, tmp_path: Path) -> None:
    out = tmp_path / "ml.svg"
    code, _, stderr = invoke("figure", "costs", "--losses",
                             "minimax,non-saturating,maximum-likelihood", "--points", "400",
                             "--out", str(out))
    assert code == 0, stderr
    data = _data(out)
    p = data["p"]
    # Goodfellow (2016), Sec. 3.2.3: J(G) = -1/2 E exp(sigmoid^-1(D(G(z)))) = -p / (2 (1 - p)).
    assert data["cost_maximum_likelihood"] == pytest.approx(-p / (2 * (1 - p)), rel=1e-12)
    assert "axis clipped: a cost is unbounded" in out.read_text()


def test_costs_are_goodfellows_closed_forms(invoke: Invoke, tmp_path: Path) -> None:
    out = tmp_path / "costs.pdf"
    code, _, stderr = invoke("figure", "costs", "--out", str(out), "--also", "png",
                                  "--points", "50")
    assert code == 0, stderr
    assert out.exists() and out.with_suffix(".png").exists()
    data = _data(out)
    p = data["p"]
    # Goodfellow (2016), NIPS tutorial, Sec. 3.2.3: minimax J(G) = E log(1 - D(G(z))),
    # non-saturating J(G) = -E log D(G(z)).
    assert data["cost_minimax"] == pytest.approx(np.log1p(-p), rel=1e-12)
    assert data["cost_non_saturating"] == pytest.approx(-np.log(p), rel=1e-12)
    sidecar = json.loads(out.with_name(out.name + ".json").read_text())
    assert sidecar["metadata"]["losses"] == ["minimax", "non-saturating"]
    # the same command again: refused, nothing changed; with --force: the same bytes
    before = out.read_bytes()
    code, _, stderr = invoke("figure", "costs", "--out", str(out), "--points", "50")
    assert code == 1 and "refusing to overwrite" in stderr
    code, _, _ = invoke("figure", "costs", "--out", str(out), "--also", "png", "--points", "50",
                        "--force")
    assert code == 0 and out.read_bytes() == before


def test_nash_map_of_hide_and_seek(invoke: Invoke, tmp_path: Path) -> None:
    out = tmp_path / "nash.svg"
    code, _, stderr = invoke("figure", "nash-map", "--game", "hide-and-seek", "--grid", "21",
                             "--out", str(out))
    assert code == 0, stderr
    data = _data(out)
    # cost_g = (theta - psi)^2 on [-1, 1]^2: no pure Nash point, min-max 1 > max-min 0
    assert data["pure_nash"].shape[0] == 0
    assert data["min_max"].item() == pytest.approx(1.0)
    assert data["max_min"].item() == pytest.approx(0.0, abs=1e-12)


def test_eigenvalues_are_those_of_the_finite_difference_jacobian(
        invoke: Invoke, tmp_path: Path) -> None:
    from gandyn.derivation.field import derive
    from gandyn.games.game import make_game

    out = tmp_path / "eig.png"
    code, _, stderr = invoke("figure", "eigenvalues", "--reg", "r1:gamma=0.3", "--lr", "0.5",
                             "--at", "theta=0,psi=0", "--out", str(out))
    assert code == 0, stderr
    data = _data(out)
    vf = derive(make_game("dirac", "minimax", regularizers=[("r1", {"gamma": 0.3})]))
    step = 1e-6
    columns = [(vf.field_fn(np.array(e) * step) - vf.field_fn(-np.array(e) * step)) / (2 * step)
               for e in ([1.0, 0.0], [0.0, 1.0])]
    assert data["jacobian"] == pytest.approx(np.stack(columns, axis=1), abs=1e-8)
    # simultaneous gradient steps: the map x + h F(x) has eigenvalues 1 + h lambda
    lam = np.sort_complex(data["lambda_real"] + 1j * data["lambda_imag"])
    mu = np.sort_complex(data["mu_real"] + 1j * data["mu_imag"])
    assert mu == pytest.approx(1 + 0.5 * lam)


def test_stability_map_radius_is_the_maps_spectral_radius(invoke: Invoke,
                                                          tmp_path: Path) -> None:
    out = tmp_path / "map.png"
    code, _, stderr = invoke("figure", "stability-map", "--reg", "r1:gamma=1",
                             "--x", "lr=0.1:2:5", "--y", "gamma_r1=0.5:1.5:3",
                             "--style", "icml", "--out", str(out))
    assert code == 0, stderr
    data = _data(out)
    # the Dirac-GAN with R1 at the origin (Mescheder et al. 2018, Sec. 2.2 and Lemma 2.3):
    # J = [[0, f'(0)], [-f'(0), -gamma]], f'(0) = -1/2 for the minimax loss
    for i, gamma in enumerate(data["y"]):
        for j, lr in enumerate(data["x"]):
            jac = np.array([[0.0, -0.5], [0.5, -gamma]])
            radius = max(abs(np.linalg.eigvals(np.eye(2) + lr * jac)))
            # where the two eigenvalues meet (lr gamma = 1 here) they move like the square
            # root of a rounding error: agreement to about sqrt(machine epsilon)
            assert data["spectral_radius"][i, j] == pytest.approx(radius, rel=1e-7)
    assert json.loads(out.with_name(out.name + ".json").read_text())["figure"]["width_in"] == 3.25


@pytest.mark.parametrize(("args", "message"), [
    (("costs", "--out", "c.txt"), "unknown extension '.txt'"),
    (("costs", "--out", "c.pdf", "--also", "gif"), "--also gif: unknown format"),
    (("costs", "--out", "c.pdf", "--losses", "minimx"), "unknown loss 'minimx'"),
    (("eigenvalues", "--game", "hide-and-seek", "--out", "e.pdf"),
     "no isolated closed-form equilibrium"),
    (("eigenvalues", "--at", "theta=0", "--out", "e.pdf"), "missing: psi"),
    (("eigenvalues", "--lr", "-1", "--out", "e.pdf"),
     "Invalid value for '--lr': must be a finite number > 0"),
    (("stability-map", "--x", "lr=0:1:1000", "--y", "beta=0:1:1000", "--out", "m.pdf"),
     "at most 250000"),
    (("time-scales", "--ratios", "0:10", "--out", "t.pdf"), "must be positive"),
    (("time-scales", "--ratios", "10:1", "--out", "t.pdf"), "--ratios"),
])
def test_bad_input_is_one_line(invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                               args: tuple[str, ...], message: str) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, stderr = invoke("figure", *args)
    assert code == (2 if message.startswith("Invalid value") else 1)  # usage errors exit 2
    assert message in stderr and len(stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_time_scales_mark_the_closed_form_critical_ratio(invoke: Invoke, tmp_path: Path) -> None:
    # The bilinear game with a = -0.5, b = 1: J = [[-a, -1], [1, -b]] at the origin, det J > 0,
    # so the flow with the discriminator tau times faster is stable iff -a - tau b < 0,
    # i.e. tau > -a / b = 0.5 (trace of the 2 x 2 Jacobian; Hirsch, Smale and Devaney, Ch. 4).
    out = tmp_path / "tau.pdf"
    code, _, err = invoke("figure", "time-scales", "--game", "bilinear", "--param",
                          "a=-0.5,b=1", "--ratios", "0.01:100", "--points", "201", "--out",
                          str(out))
    assert code == 0, err
    data = np.load(tmp_path / "tau.pdf.data.npz")
    assert data["critical_ratios"] == pytest.approx([0.5], rel=1e-10)
    np.testing.assert_array_equal(data["stable"], data["tau"] > 0.5)
    trace = data["eigenvalues_real"].sum(axis=1)
    np.testing.assert_allclose(trace, 0.5 - data["tau"], rtol=1e-9, atol=1e-12)
    side = json.loads((tmp_path / "tau.pdf.json").read_text())
    assert side["metadata"]["figure"] == "time-scales" and side["metadata"]["at"] == [0.0, 0.0]
