"""``gandyn explain`` on simulations and logs: the JSON contract and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from gandyn.cli import cli

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["explain", *args], prog_name="gandyn",
                                catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_dirac_simulation_obeys_the_law_and_the_predicted_period() -> None:
    # Non-saturating Dirac-GAN with weak R1 near the equilibrium: p stays near 1/2, so the
    # predicted ratio is ~1, and the eigenvalues -gamma/2 +- i sqrt(1/4 - gamma^2/4)
    # (Mescheder et al. 2018) set the period; l = psi theta is quadratic in the deviation,
    # so the losses oscillate at twice the parameters' frequency.
    code, out, err = run("--reg", "r1:gamma=0.1", "--x0", "theta=0.3,psi=0.3", "--steps",
                         "2000", "--json")
    assert code == 0, err
    data = json.loads(out)
    for key in ("mean_p", "std_ratio_measured", "std_ratio_predicted", "regime_fractions",
                "consistent", "estimators"):
        assert key in data, key
    assert data["consistent"] is True
    measured = data["std_ratio_measured"]["detrended"]
    assert measured == pytest.approx(data["std_ratio_predicted"]["per-step"], rel=0.05)
    omega = np.sqrt(0.25 - 0.01 / 4)
    assert data["dynamics"]["measured_period"] == pytest.approx(np.pi / omega, rel=0.03)


def test_generated_log_with_known_logits(tmp_path: Path) -> None:
    # A log written from a known logit series: l_t = -3 + 0.05 sin(t / 5). The law predicts
    # std(g_loss)/std(d_fake) ~ exp(3) ~ 20: the discriminator wins, g_loss swings, d_fake is flat.
    t = np.arange(400)
    logit = -3.0 + 0.05 * np.sin(t / 5.0)
    d_fake, g_loss = np.logaddexp(0, logit), np.logaddexp(0, -logit)
    rows = ["step,d_real,errD_fake,errG"] + [
        f"{k},{0.1:.6f},{float(a)!r},{float(b)!r}"
        for k, a, b in zip(t, d_fake, g_loss, strict=True)]
    log = tmp_path / "train.csv"
    log.write_text("\n".join(rows) + "\n")
    code, out, err = run("--log", str(log), "--columns", "d_fake=errD_fake,g_loss=errG",
                         "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["consistent"] is True
    assert data["regime_fractions"]["discriminator winning"] == 1.0
    assert data["std_ratio_measured"]["raw"] == pytest.approx(np.exp(3.0), rel=0.06)
    code, out, _ = run("--log", str(log), "--columns", "d_fake=errD_fake,g_loss=errG")
    assert "The law holds" in out


def test_example_logs_are_explained() -> None:
    for name in ("keras-gan.txt", "dcgan-pytorch.txt", "losses.csv"):
        code, out, err = run("--log", str(ROOT / "examples" / "logs" / name))
        assert code == 0, err
        assert "d_fake - g_loss = l" in out


@pytest.mark.parametrize("name", ["keras-gan.txt", "dcgan-pytorch.txt", "losses.csv"])
def test_the_command_prints_the_library_explanation(name: str) -> None:
    from gandyn.explain import explain_log

    path = str(ROOT / "examples" / "logs" / name)
    explained = explain_log(path)
    code, out, err = run("--log", path, "--json")
    assert code == 0, err
    assert json.loads(out) == explained.to_dict()
    code, out, err = run("--log", path)
    assert code == 0, err
    assert out == explained.to_text() + "\n"


def test_the_command_prints_the_library_explanation_of_a_run() -> None:
    from gandyn.explain import explain_run
    from gandyn.runs.build import build
    from gandyn.runs.build import run as run_spec
    from gandyn.runs.spec import EXPLAIN_DEFAULTS, merge

    args = ("--reg", "r1:gamma=0.1", "--x0", "theta=0.3,psi=0.3", "--steps", "500")
    built = build(merge(EXPLAIN_DEFAULTS, regularizers=[("r1", {"gamma": 0.1})],
                        starts=[{"theta": 0.3, "psi": 0.3}], steps=500))
    simulated = run_spec(built)
    explained = explain_run(simulated.trajectory, simulated.field,
                            model=built.game.definition.model, spec=simulated.spec.to_dict())
    code, out, err = run(*args, "--json")
    assert code == 0, err
    assert json.loads(out) == explained.to_dict()
    assert explained.dynamics is not None
    code, out, err = run(*args)
    assert out == explained.to_text() + "\n"


def test_parse_columns() -> None:
    from gandyn.cli.explain import parse_columns
    from gandyn.errors import SpecError

    assert parse_columns("d_fake=errD_fake,g_loss=errG") == {"d_fake": "errD_fake",
                                                             "g_loss": "errG"}
    assert parse_columns(" d_x = D(x) ,") == {"d_x": "D(x)"}
    for bad, part in [("", "empty value"), ("d_fake", "is not NAME=COLUMN"),
                      ("d_fake=", "is not NAME=COLUMN"), ("d_fak=x", "did you mean 'd_fake'"),
                      ("g_loss=a,g_loss=b", "given twice")]:
        with pytest.raises(SpecError, match=r"^--columns: ") as info:
            parse_columns(bad)
        assert part in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(("args", "fragment"), [
    (["--loss", "wgan"], "cross-entropy losses"),
    (["--log", "missing.csv"], "missing.csv"),
    (["--log", str(ROOT / "examples" / "logs" / "losses.csv"), "--columns", "d_fake"],
     "--columns"),
    (["--measured-before-update"], "describe a log"),
    (["--lr", "50", "--steps", "100"], "diverged at step"),
    (["--batch-size", "8", "--batch-sizes", "8,8"], "--batch-sizes describes a log"),
    (["--log", str(ROOT / "examples" / "logs" / "losses.csv"), "--columns",
      "d_fake=d_loss_fake,g_loss=nope"], "nope"),
])
def test_bad_input_is_one_line(args: list[str], fragment: str) -> None:
    code, _, err = run(*args)
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], err


def test_plot_and_the_predicted_g_loss(tmp_path: Path) -> None:
    from gandyn.plotting.explain import predicted_g_loss

    # The law of the figure: the fast part of g_loss is -(1 - p)/p times that of d_fake.
    t = np.arange(500)
    logit = -2.5 + 0.4 * np.sin(t / 40.0) + 0.02 * np.sin(1.3 * t)
    d_fake, g_loss = np.logaddexp(0, logit), np.logaddexp(0, -logit)
    fast = g_loss - np.convolve(g_loss, np.full(21, 1 / 21), mode="same")
    error = (predicted_g_loss(d_fake, g_loss, 21) - g_loss)[30:-30]
    assert np.sqrt(np.mean(error**2)) < 0.1 * np.sqrt(np.mean(fast[30:-30] ** 2))
    log = tmp_path / "train.csv"
    log.write_text("step,d_fake,g_loss\n" + "".join(
        f"{k},{float(a)!r},{float(b)!r}\n" for k, a, b in zip(t, d_fake, g_loss, strict=True)))
    code, _, err = run("--log", str(log), "--plot", str(tmp_path / "why.png"))
    assert code == 0, err
    assert {p.name for p in tmp_path.iterdir()} == {"train.csv", "why.png", "why.png.json",
                                                    "why.png.data.npz"}
    data = np.load(tmp_path / "why.png.data.npz")
    np.testing.assert_allclose(data["p"], 1 / (1 + np.exp(-logit)), rtol=1e-9)
    code, _, err = run("--log", str(log), "--loss", "minimax", "--plot", str(tmp_path / "x.png"))
    assert code != 0 and "non-saturating" in err


def test_independent_batches_scale_the_fast_ratio(tmp_path: Path) -> None:
    # A log sampled like the Keras loop: every step, d_fake is the mean softplus(l) over
    # m_d = 64 fresh logits and g_loss the mean softplus(-l) over an independent m_g = 16,
    # with l ~ N(mu_t, 0.3^2) around a slow mu_t. Sampling noise dominates the step-to-step
    # differences, with standard deviations ~ p sigma / sqrt(m_d) and (1 - p) sigma / sqrt(m_g):
    # their ratio is sqrt(m_d / m_g) (1 - p) / p, twice the single-batch law here.
    rng = np.random.default_rng(7)
    steps, m_d, m_g = 3000, 64, 16
    mu = -2.0 + 0.5 * np.sin(2 * np.pi * np.arange(steps) / 500)
    d_fake = np.logaddexp(0, mu[:, None] + 0.3 * rng.standard_normal((steps, m_d))).mean(1)
    g_loss = np.logaddexp(0, -(mu[:, None] + 0.3 * rng.standard_normal((steps, m_g)))).mean(1)
    log = tmp_path / "sampled.csv"
    log.write_text("step,d_fake,g_loss\n" + "".join(
        f"{k},{float(a)!r},{float(b)!r}\n" for k, (a, b) in enumerate(zip(d_fake, g_loss,
                                                                          strict=True))))
    code, out, err = run("--log", str(log), "--batch-sizes", f"{m_d},{m_g}", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["consistent"] is True  # the trends agree though every step differs
    measured = data["std_ratio_measured"]["diff"]
    assert data["std_ratio_predicted"]["sampling"] == pytest.approx(measured, rel=0.1)
    # Without the batch sizes the single-batch law misses the fast part by about sqrt(4) = 2.
    assert measured / data["std_ratio_predicted"]["mean-p"] == pytest.approx(2.0, rel=0.15)
    assert data["std_ratio_predicted"]["sampling-spread"] == pytest.approx(measured, rel=0.1)
    code, _, err = run("--log", str(log), "--batch-sizes", "64")
    assert code != 0 and "M_D,M_G" in err
    # --plot draws the predicted envelope g_trend +- 2 ratio sd(d_fake's fast part): with
    # independent Gaussian-like noise about 95 % of g_loss lies inside it.
    fig = tmp_path / "why.png"
    code, _, err = run("--log", str(log), "--batch-sizes", f"{m_d},{m_g}", "--plot", str(fig))
    assert code == 0, err
    arrays = np.load(tmp_path / "why.png.data.npz")
    low, high = arrays["g_loss_envelope_low"], arrays["g_loss_envelope_high"]
    inside = np.mean((arrays["g_loss"] >= low) & (arrays["g_loss"] <= high))
    assert 0.9 < inside < 0.99


def test_gaussian_game_spread_of_logits_is_consistent_and_named() -> None:
    # A continuous latent spreads the fake logits over z: exp(-g_loss) and 1 - exp(-d_fake)
    # differ by Jensen's inequality (by ~0.05 early on), which is not an inconsistency.
    code, out, err = run("--game", "gaussian", "--steps", "600", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["consistent"] is True
    assert data["consistency"]["max_abs_diff_p"] > 1e-2
    assert data["consistency"]["min_jensen_excess"] > -1e-12
    assert data["consistency"]["max_implied_logit_spread"] > 0.25


def test_keras_log_defaults_to_measured_before_update(tmp_path: Path) -> None:
    # A log whose g_loss was taken one D update after d_fake, exactly: the Keras default
    # pairs g_loss[k] with d_fake[k + 1]; --measured-after-update does not, and sees the lag.
    t = np.arange(801) * 0.05
    lg = -2.5 + 0.4 * np.sin(t)
    d2 = np.logaddexp(0, lg[:-1])
    g = np.logaddexp(0, -lg[1:])
    log = tmp_path / "lag.csv"
    log.write_text("step,d_fake,g_loss\n" + "".join(
        f"{k},{a:.17g},{b:.17g}\n" for k, (a, b) in enumerate(zip(d2, g, strict=True))))
    code, out, err = run("--log", str(log), "--tol", "1e-4", "--measured-before-update",
                         "--json")
    assert code == 0, err
    paired = json.loads(out)
    assert paired["consistent"] is True and paired["n"] == 799
    assert paired["source"]["measured_before_update"] is True
    code, out, err = run("--log", str(log), "--tol", "1e-4", "--json")
    unpaired = json.loads(out)
    assert unpaired["source"]["measured_before_update"] is False
    assert unpaired["consistent"] is False
    code, out, err = run("--log", str(ROOT / "examples" / "logs" / "keras-gan.txt"), "--json")
    assert json.loads(out)["source"]["measured_before_update"] is True


def test_spec_and_dump_spec_round_trip(tmp_path: Path, invoke: Any) -> None:
    args = ("--reg", "r1:gamma=0.1", "--x0", "theta=0.3,psi=0.3", "--steps", "500")
    code, toml_text, err = invoke("explain", *args, "--dump-spec")
    assert code == 0, err
    assert 'measure = "loop"' in toml_text and "steps = 500" in toml_text
    (tmp_path / "e.toml").write_text(toml_text)
    assert run("--spec", str(tmp_path / "e.toml"), "--json") == run(*args, "--json")


def test_spec_is_for_simulations_not_logs(tmp_path: Path, invoke: Any) -> None:
    code, _, err = invoke("explain", "--log", str(ROOT / "examples" / "logs" / "losses.csv"),
                          "--dump-spec")
    assert code == 1 and "--log explains a log" in err
