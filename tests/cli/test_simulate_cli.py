"""``gandyn simulate``: runs, outputs, refusal to overwrite, and one-line errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from gandyn.cli import cli


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["simulate", *args], prog_name="gandyn",
                                catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def read_csv(path: Path) -> tuple[list[str], np.ndarray]:
    with open(path) as handle:
        rows = list(csv.reader(handle))
    return rows[0], np.array(rows[1:], dtype=float)


def test_default_run_prints_a_summary() -> None:
    code, out, err = run("--loss", "minimax", "--steps", "50")
    assert code == 0, err
    assert "dirac / minimax / simgd" in out
    assert "dist to eq." in out


def test_csv_columns_rows_and_sidecar(tmp_path: Path) -> None:
    target = tmp_path / "run.csv"
    code, _, err = run("--steps", "20", "--every", "5", "--x0", "theta=1,psi=1",
                         "--x0", "theta=0.5", "--out", str(target))
    assert code == 0, err
    header, data = read_csv(target)
    assert header == ["run", "step", "t", "theta", "psi", "d_real", "d_fake", "g_loss",
                      "d_x", "d_gz"]
    assert data.shape == (2 * 5, 10)  # steps 0, 5, 10, 15, 20 for two runs
    np.testing.assert_array_equal(data[:5, 1], [0, 5, 10, 15, 20])
    np.testing.assert_allclose(data[:5, 2], data[:5, 1] * 0.1)
    # The second start keeps the default psi = 1.
    assert data[5, 3] == 0.5 and data[5, 4] == 1.0
    # The logged losses are those of the recorded state: d_fake = softplus(psi*theta).
    np.testing.assert_allclose(data[:, 6], np.logaddexp(0, data[:, 3] * data[:, 4]))
    meta = json.loads((tmp_path / "run.csv.meta.json").read_text())
    assert meta["spec"]["rule"]["name"] == "simgd" and meta["spec"]["steps"] == 20
    assert meta["state_names"] == ["theta", "psi"]
    assert meta["diverged"] == [False, False]
    assert "gandyn_version" in meta


def test_refuses_to_overwrite_and_force(tmp_path: Path) -> None:
    target = tmp_path / "run.csv"
    target.write_text("precious\n")
    code, _, err = run("--steps", "5", "--out", str(target))
    assert code == 1
    assert err.strip() == f"error: refusing to overwrite {target} (use --force)"
    assert target.read_text() == "precious\n"
    assert not (tmp_path / "run.csv.meta.json").exists()
    code, _, err = run("--steps", "5", "--out", str(target), "--force")
    assert code == 0, err
    assert target.read_text().startswith("run,step,t")


def test_same_command_gives_identical_files(tmp_path: Path) -> None:
    for name in ("a", "b"):
        code, _, err = run("--game", "gaussian:order=4", "--loss", "ns", "--steps", "30",
                           "--optimizer", "adam", "--lr", "0.01",
                           "--out", str(tmp_path / f"{name}.npz"))
        assert code == 0, err
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    data = np.load(tmp_path / "a.npz")
    assert data["x"].shape == (1, 31, 5)
    assert list(data["state_names"]) == ["theta_mu", "theta_sigma", "psi_0", "psi_1", "psi_2"]


def test_flow_conserves_the_dirac_radius(tmp_path: Path) -> None:
    # Dirac-GAN, minimax, c = 0: F = (psi s(psi theta), -theta s(psi theta)) is
    # orthogonal to (theta, psi), so theta^2 + psi^2 is conserved by the flow
    # (Mescheder et al. 2018, Sec. 2.2: the flow circles the equilibrium).
    target = tmp_path / "flow.json"
    code, _, err = run("--optimizer", "flow", "--t-end", "40", "--n-eval", "101",
                       "--out", str(target))
    assert code == 0, err
    doc = json.loads(target.read_text())
    x = np.array(doc["x"])[0]
    radius = (x**2).sum(axis=1)
    np.testing.assert_allclose(radius, 2.0, rtol=1e-6)
    assert doc["meta"]["method"]["optimizer"] == "flow"


def test_divergence_is_reported_not_raised(tmp_path: Path) -> None:
    # Bilinear simultaneous GD multiplies the norm by sqrt(1 + lr^2) per step.
    target = tmp_path / "div.csv"
    code, out, err = run("--game", "bilinear", "--lr", "1", "--steps", "40",
                         "--max-norm", "100", "--x0", "theta=1,psi=0", "--x0", "theta=0,psi=0",
                         "--out", str(target))
    assert code == 0
    assert err.splitlines() == ["warning: 1 of 2 runs diverged (see the summary)",
                                f"wrote {target}", f"wrote {target}.meta.json"]
    # |x_k| = 2^(k/2) first exceeds 100 in max-norm at the step computed here.
    x = np.array([1.0, 0.0])
    step = 0
    while np.abs(x).max() <= 100:
        x = x + np.array([-x[1], x[0]])
        step += 1
    assert f"diverged at step {step}" in out
    meta = json.loads((tmp_path / "div.csv.meta.json").read_text())
    assert meta["diverged"] == [True, False]
    assert meta["diverged_at"][0] == step


def test_measure_loop_for_alternating_updates(tmp_path: Path) -> None:
    state, loop = tmp_path / "state.csv", tmp_path / "loop.csv"
    for measure, path in (("state", state), ("loop", loop)):
        code, _, err = run("--optimizer", "altgd", "--steps", "3", "--lr", "0.5",
                           "--measure", measure, "--out", str(path))
        assert code == 0, err
    _, s = read_csv(state)
    _, lp = read_csv(loop)
    # Step 1 of D-first altgd: D's losses at the starting state (1, 1).
    assert lp[1, 6] == pytest.approx(np.logaddexp(0, 1.0))
    assert s[1, 6] == pytest.approx(np.logaddexp(0, s[1, 3] * s[1, 4]))
    # G's loss at (theta_0, psi_1): the state after D's update.
    psi1 = 1.0 + 0.5 * (0.0 - 1.0 / (1 + np.exp(-1.0)))
    assert lp[1, 7] == pytest.approx(-np.logaddexp(0, psi1 * 1.0))


BAD = [
    (["--grid", "theta=2:1:5"], "low < high"),
    (["--grid", "theta=0:1"], "name=low:high:count"),
    (["--x0", "phi=1"], "unknown state symbol 'phi'"),
    (["--lr-g", "0"], "Invalid value for '--lr-g': must be a finite number > 0"),
    (["--optimizer", "momentum", "--beta", "nan"], "beta"),
    (["--optimizer", "flow", "--beta", "0.5"], "does not take 'beta'"),
    (["--optimizer", "simgd", "--first", "g"], "does not take 'first'"),
    (["--out", "run.txt"], "unknown format"),
    (["--out", "no-such-folder/run.csv"], "does not exist"),
    (["--optimizer", "flow", "--t-end", "-1"], "'--t-end'"),
    (["--optimizer", "sgd"], "sgd"),
]


@pytest.mark.parametrize(("args", "fragment"), BAD)
def test_bad_input_is_one_line(args: list[str], fragment: str) -> None:
    code, _, err = run("--steps", "5", *args)
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert fragment in lines[0]


def test_minibatch_mode_is_seeded_and_noisy(tmp_path: Path) -> None:
    paths = {}
    for name, seed in (("a", "3"), ("b", "3"), ("c", "4")):
        paths[name] = tmp_path / f"{name}.csv"
        code, _, err = run("--game", "gaussian:order=4", "--loss", "ns", "--steps", "30",
                           "--batch-size", "8", "--batch-size-g", "16", "--seed", seed,
                           "--out", str(paths[name]))
        assert code == 0, err
    assert paths["a"].read_bytes() == paths["b"].read_bytes()
    assert paths["a"].read_bytes() != paths["c"].read_bytes()
    meta = json.loads((tmp_path / "a.csv.meta.json").read_text())
    assert meta["measure"] == "loop"
    assert meta["method"]["batch_size_d"] == 8 and meta["method"]["batch_size_g"] == 16
    # Minibatch losses are noisy: the logged d_real changes although the data do not.
    _, data = read_csv(paths["a"])
    assert np.std(data[:, 5]) > 0


@pytest.mark.parametrize(("args", "fragment"), [
    (["--game", "bilinear", "--batch-size", "4"], "no data or generator"),
    (["--optimizer", "flow", "--batch-size", "4"], "not the flow"),
    (["--batch-size", "0"], "must be an integer from 1"),
    (["--reg", "nk", "--batch-size", "4"], "nagarajan-kolter is not supported"),
    (["--batch-size", "4", "--measure", "state"], "--measure loop"),
])
def test_minibatch_bad_input(args: list[str], fragment: str) -> None:
    code, _, err = run("--steps", "5", *args)
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], err


def test_spec_round_trip_and_overrides(tmp_path: Path) -> None:
    code, dumped, err = run("--reg", "r1:gamma=0.3", "--optimizer", "momentum", "--beta", "-0.2",
                            "--x0", "theta=2", "--x0", "psi=0.5", "--param", "c=0.5",
                            "--steps", "30", "--dump-spec")
    assert code == 0, err
    spec = tmp_path / "run.toml"
    spec.write_text(dumped)
    code, again, _ = run("--spec", str(spec), "--dump-spec")
    assert again == dumped
    # Options on the command line win over the file; the rest comes from the file.
    code, changed, _ = run("--spec", str(spec), "--lr-d", "0.05", "--beta", "0.5",
                           "--dump-spec")
    assert "lr_d = 0.05" in changed and "beta = 0.5" in changed
    assert "lr_g = 0.1" in changed and "gamma = 0.3" in changed
    # The same run from flags and from the file gives the same output.
    for name, args in (("flags.csv", ["--reg", "r1:gamma=0.3", "--optimizer", "momentum",
                                      "--beta", "-0.2", "--x0", "theta=2", "--x0", "psi=0.5",
                                      "--param", "c=0.5", "--steps", "30"]),
                       ("file.csv", ["--spec", str(spec)])):
        code, _, err = run(*args, "--out", str(tmp_path / name))
        assert code == 0, err
    assert (tmp_path / "flags.csv").read_bytes() == (tmp_path / "file.csv").read_bytes()


@pytest.mark.parametrize(("text", "fragment"), [
    ("stepz = 3\n", "did you mean 'steps'"),
    ("steps = 'many'\n", "spec file bad.toml: steps must be an integer"),
    ("[rule]\nlr_g = 'fast'\n", "spec file bad.toml: rule.lr_g must be a number"),
    ("[game]\nlos = 'ns'\n", "did you mean 'loss'"),
    ("game = 'dirac:'\n", "nothing after ':'"),
    ("[[game.regularizers]]\nsettings = {gamma = 1}\n", "game.regularizers[0].name must be"),
    ("[minibatch]\nseed = 1\n", "minibatch.batch_size must be an integer"),
    ("steps = \n", "syntax error"),
    ("[[starts]]\ntheta = 'a'\n", "starts must be tables of numbers"),
])
def test_bad_spec_file(tmp_path: Path, text: str, fragment: str) -> None:
    spec = tmp_path / "bad.toml"
    spec.write_text(text)
    code, _, err = run("--spec", str(spec))
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], err


def test_r1_makes_the_dirac_flow_converge(tmp_path: Path) -> None:
    # Mescheder et al. (2018), Sec. 4.1: with R1 the equilibrium's eigenvalues
    # -gamma/2 +- sqrt(gamma^2/4 - 1/4) have negative real parts, so the flow,
    # which circles forever without it, converges; asymptotically at rate gamma/2.
    target = tmp_path / "r1.json"
    code, _, err = run("--reg", "r1:gamma=0.5", "--optimizer", "flow", "--t-end", "80",
                       "--n-eval", "81", "--out", str(target))
    assert code == 0, err
    x = np.array(json.loads(target.read_text())["x"])[0]
    radius = np.sqrt((x**2).sum(axis=1))
    assert radius[-1] < 1e-4 * radius[0]
    # Late decay rate from t = 40 to t = 80 against the real part gamma/2 = 0.25.
    rate = -np.log(radius[80] / radius[40]) / 40
    assert rate == pytest.approx(0.25, rel=0.05)
