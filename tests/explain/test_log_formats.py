"""Every log format gandyn reads, on synthetic logs whose values are known.

The real logs of public projects are in test_log_fixtures.py; here each
format's variants are written out with chosen values, read with automatic
detection, and checked value by value.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from gandyn.explain.logs import LogError, read_log


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def eq(a: np.ndarray | None, b: list[float] | np.ndarray) -> None:
    assert a is not None
    np.testing.assert_array_equal(a, np.asarray(b, dtype=np.float64))


D = [0.70, 0.65, 0.61, 0.58, 0.52, 0.55]
G = [0.69, 0.80, 0.95, 1.10, 1.30, 1.20]


def test_pytorch_gan_lines_with_progress_bars_and_warnings(tmp_path: Path) -> None:
    lines = ["Namespace(b1=0.5, batch_size=64, lr=0.0002, n_epochs=200)",
             "  warnings.warn('Detected call of lr_scheduler.step() before optimizer.step()')",
             " 60%|██████    | 5971968/9912422 [00:03<00:01, 2299014.99it/s]\r"
             "100%|██████████| 9912422/9912422 [00:05<00:00, 2299014.99it/s]"]
    batches = [(0, 0), (0, 1), (0, 937), (1, 0), (1, 1), (2, 5)]
    for (epoch, batch), d, g in zip(batches, D, G, strict=True):
        lines.append(f"[Epoch {epoch}/200] [Batch {batch}/938] [D loss: {d:f}] [G loss: {g:f}]")
    log = read_log(write(tmp_path, "train.out", "\n".join(lines) + "\n"))
    assert log.source_format == "printed" and log.n_rows == 6
    eq(log.step, [e * 938 + b for e, b in batches])
    assert log.columns_used == {"step": "Epoch * 938 + Batch", "g_loss": "G loss",
                                "d_total": "D loss"}
    eq(log.d_total, D)
    eq(log.g_loss, G)
    assert log.skipped == {"progress-bar states rewritten in place (\\r)": 1,
                           "lines that are not log records": 3}


@pytest.mark.parametrize("template", [
    "step={step} d_loss={d} g_loss={g}",
    "Step {step}: errD: {d}, errG: {g}, lr: 0.0002",
    "iter {step} | Discriminator_loss {d} | Generator_loss {g}",
    "it: {step}  critic loss: {d}  G loss: {g}",
    "[{step}] Dis: {d}, Gen: {g}",
    "Iteration {step} Gen/Dis Loss: {g}/{d}",
    "global_step: {step}, d_loss: tensor({d}, grad_fn=<AddBackward0>), "
    "g_loss: tensor({g}, grad_fn=<BinaryCrossEntropyBackward0>)",
])
def test_printed_key_value_styles(tmp_path: Path, template: str) -> None:
    steps = [100, 200, 300, 400, 500, 600]
    text = "".join(template.format(step=s, d=d, g=g) + "\n"
                   for s, d, g in zip(steps, D, G, strict=True))
    if template.startswith("["):  # "[100]" is no named counter: the row index
        steps = list(range(6))
    log = read_log(write(tmp_path, "log.txt", text))
    assert log.source_format == "printed"
    eq(log.step, steps)
    eq(log.d_total, D)
    eq(log.g_loss, G)


def test_parts_of_the_discriminator_loss_and_extra_losses(tmp_path: Path) -> None:
    # pix2pix: G_GAN is the generator's adversarial loss, G_L1 an extra one.
    text = "".join(f"(epoch: 1, iters: {100 * (k + 1)}, time: 0.1, data: 0.2) G_GAN: {g} "
                   f"G_L1: {30 + k} D_real: {d / 2} D_fake: {d} \n"
                   for k, (d, g) in enumerate(zip(D, G, strict=True)))
    log = read_log(write(tmp_path, "loss_log.txt", text))
    eq(log.g_loss, G)
    eq(log.d_fake, D)
    eq(log.d_real, [d / 2 for d in D])
    eq(log.extra["G_L1"], [30 + k for k in range(6)])
    assert log.d_total is None
    # StarGAN / WGAN-GP: a gradient penalty and a classification loss stay extras.
    text = "".join(f"Elapsed [0:00:{k:02d}], Iteration [{10 * (k + 1)}/200000], "
                   f"D/loss_real: {-d}, D/loss_fake: {d}, D/loss_cls: 1.5, D/loss_gp: 0.{k}, "
                   f"G/loss_fake: {g}, G/loss_rec: 0.3\n"
                   for k, (d, g) in enumerate(zip(D, G, strict=True)))
    log = read_log(write(tmp_path, "stargan.txt", text))
    eq(log.step, [10, 20, 30, 40, 50, 60])
    eq(log.d_real, [-d for d in D])
    eq(log.d_fake, D)
    eq(log.g_loss, G)
    eq(log.extra["D/loss_gp"], [0.0, 0.1, 0.2, 0.3, 0.4, 0.5])
    assert {"D/loss_cls", "G/loss_rec"} <= set(log.extra)


def test_probabilities_printed_by_a_loop_of_its_own(tmp_path: Path) -> None:
    text = "".join(f"Epoch {k} Loss_D: {d} Loss_G: {g} D(x): 0.{k + 1} D(G(z)): 0.{k} / 0.0{k}\n"
                   for k, (d, g) in enumerate(zip(D, G, strict=True)))
    log = read_log(write(tmp_path, "x.log", text))
    eq(log.d_x, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    eq(log.d_gz, [0.0, 0.1, 0.2, 0.3, 0.4, 0.5])
    eq(log.d_gz_after, [0.0, 0.01, 0.02, 0.03, 0.04, 0.05])


def test_pattern_templates(tmp_path: Path) -> None:
    text = "".join(f"{k}\tGen/Dis   Loss:{g}/{d} (lr 2e-4) done\n"
                   for k, (d, g) in enumerate(zip(D, G, strict=True)))
    path = write(tmp_path, "custom.txt", "header line\n" + text)
    log = read_log(path, pattern="{step} Gen/Dis Loss: {g_loss}/{d_loss} ({*})")
    assert log.source_format == "pattern"
    eq(log.step, range(6))
    eq(log.g_loss, G)
    eq(log.d_total, D)
    assert log.skipped == {"lines that do not match the pattern": 1}
    log = read_log(path, pattern="Loss: {_}/{errD}")
    eq(log.d_total, D)
    assert log.g_loss is None
    for bad, message in [("Loss: {g_los}", "unknown placeholder {g_los}"),
                         ("Loss: {g_loss} }", "a lone '}'"),
                         ("Step {step}", "no loss placeholder"),
                         ("   ", "`pattern` is empty"),
                         ("{g_loss} {g_loss}", "given twice")]:
        with pytest.raises(LogError, match=message):
            read_log(path, pattern=bad)
    with pytest.raises(LogError, match="no line matches the `pattern`"):
        read_log(path, pattern="Loss_G: {g_loss}")


def test_json_lines_and_stylegan_statistics(tmp_path: Path) -> None:
    rows = [{"step": 10 * k, "losses": {"Discriminator": d, "Generator": g}, "note": "text",
             "nested": {"lr": 0.1}}
            for k, (d, g) in enumerate(zip(D, G, strict=True))]
    text = "\n".join(json.dumps(r) for r in rows) + '\n{"step": 60, "d_lo'  # killed mid-write
    log = read_log(write(tmp_path, "metrics.jsonl", text))
    assert log.source_format == "jsonl"
    eq(log.step, [0, 10, 20, 30, 40, 50])
    eq(log.d_total, D)
    eq(log.g_loss, G)
    assert log.columns_used["d_total"] == "losses/Discriminator"
    eq(log.extra["nested/lr"], [0.1] * 6)
    assert log.skipped == {"lines that are not JSON records": 1}
    # StyleGAN2-ADA's stats.jsonl: one object per tick, each value a {num, mean, std}.
    stats = [{"Loss/G/loss": {"num": 320, "mean": g, "std": 0.3},
              "Loss/D/loss": {"num": 320, "mean": d, "std": 0.2},
              "Loss/r1_penalty": {"num": 20, "mean": 0.01 * k, "std": 0.0},
              "Loss/scores/fake": {"num": 320, "mean": -1.0 - k, "std": 1.0},
              "Progress/tick": {"num": 1, "mean": float(k), "std": 0.0},
              "Progress/kimg": {"num": 1, "mean": 4.0 * k, "std": 0.0},
              "timestamp": 1.6e9 + k}
             for k, (d, g) in enumerate(zip(D, G, strict=True))]
    log = read_log(write(tmp_path, "stats.jsonl", "\n".join(json.dumps(s) for s in stats)))
    eq(log.g_loss, G)
    eq(log.d_total, D)
    eq(log.step, range(6))
    assert log.columns_used["step"] == "Progress/tick"
    eq(log.extra["Loss/r1_penalty"], [0.01 * k for k in range(6)])
    # A null is a blank: that record is left out and counted.
    stats[2]["Loss/G/loss"]["mean"] = None  # type: ignore[index]
    log = read_log(write(tmp_path, "stats2.jsonl", "\n".join(json.dumps(s) for s in stats)))
    assert log.n_rows == 5 and log.skipped == {"rows with a blank cell": 1}


def test_tensorboard_and_mlflow_exports_one_file_per_scalar(tmp_path: Path) -> None:
    steps = [0, 50, 100, 150, 200, 250]
    d_csv = "Wall time,Step,Value\n" + "".join(
        f"{1.65e9 + s},{s},{d}\n" for s, d in zip(steps, D, strict=True))
    # G is logged at one more step, and not at step 100.
    g_rows = [(s, g) for s, g in zip(steps, G, strict=True) if s != 100] + [(300, 2.0)]
    g_csv = "Wall time,Step,Value\n" + "".join(f"{1.65e9 + s},{s},{g}\n" for s, g in g_rows)
    d_path = write(tmp_path, "run-train-tag-Loss_D.csv", d_csv)
    g_path = write(tmp_path, "run-train-tag-Loss_G.csv", g_csv)
    log = read_log([d_path, g_path])
    assert log.source_format == "tensorboard-csv"
    eq(log.step, [0, 50, 150, 200, 250])
    eq(log.d_total, [d for s, d in zip(steps, D, strict=True) if s != 100])
    eq(log.g_loss, [g for s, g in g_rows if s != 300])
    assert log.skipped == {"rows with a blank cell": 2}
    assert log.columns_used["d_total"] == "Loss_D" and log.columns_used["g_loss"] == "Loss_G"
    # Alone, a one-scalar export names its scalar by its file name.
    single = read_log(g_path, columns={"g_loss": "Loss_G"})
    eq(single.step, [s for s, _ in g_rows])
    # MLflow: a per-metric CSV, or the file store's 'timestamp value step' lines.
    d_ml = write(tmp_path, "d_loss.csv", "step,value,timestamp\n" + "".join(
        f"{s},{d},{1650000000000 + s}\n" for s, d in zip(steps, D, strict=True)))
    g_ml = tmp_path / "g_loss"
    g_ml.write_text("".join(f"{1650000000000 + s} {g} {s}\n"
                            for s, g in zip(steps, G, strict=True)), encoding="utf-8")
    log = read_log([d_ml, g_ml])
    eq(log.d_total, D)
    eq(log.g_loss, G)
    eq(log.step, steps)
    assert read_log(g_ml, columns={"g_loss": "g_loss"}).source_format == "mlflow"
    # On standard input there is no file name to name the scalar.
    from gandyn.explain.logformats.tables import read_table

    with pytest.raises(LogError, match="names its scalar only in its file name"):
        read_table(d_csv, "-", wanted=lambda name: True, tag=None)


def test_weights_and_biases_export(tmp_path: Path) -> None:
    header = ("Step,bright-sun-7 - d_loss,bright-sun-7 - d_loss__MIN,bright-sun-7 - d_loss__MAX,"
              "bright-sun-7 - g_loss,bright-sun-7 - g_loss__MIN,bright-sun-7 - g_loss__MAX\n")
    rows = "".join(f"{10 * k},{d},{d - 0.1},{d + 0.1},{g},{g - 0.1},{g + 0.1}\n"
                   for k, (d, g) in enumerate(zip(D, G, strict=True)))
    log = read_log(write(tmp_path, "wandb_export.csv", header + rows))
    assert log.source_format == "wandb-csv"
    eq(log.d_total, D)
    eq(log.g_loss, G)
    eq(log.step, [0, 10, 20, 30, 40, 50])
    assert log.extra == {}  # the __MIN/__MAX envelopes are left out
    two_runs = header.rstrip("\n") + ",dark-moon-8 - d_loss\n" + "".join(
        r.rstrip("\n") + ",0.5\n" for r in rows.splitlines(keepends=True))
    with pytest.raises(LogError, match="several runs \\(bright-sun-7, dark-moon-8\\)"):
        read_log(write(tmp_path, "two.csv", two_runs))


def test_tensorboard_event_files_written_by_tensorboardx(tmp_path: Path) -> None:
    tensorboardx = pytest.importorskip("tensorboardX")
    pytest.importorskip("tensorboard")
    run = tmp_path / "runs" / "exp1"
    with tensorboardx.SummaryWriter(logdir=str(run)) as writer:
        for k, (d, g) in enumerate(zip(D, G, strict=True)):
            writer.add_scalar("Loss/D", d, global_step=100 * k)
            writer.add_scalar("Loss/G", g, global_step=100 * k)
            writer.add_scalar("Loss/gradient_penalty", 0.5 * k, global_step=100 * k)
            writer.add_text("note", "not a scalar", global_step=100 * k)
    event_file = next(run.glob("events.out.tfevents.*"))
    for path in (event_file, run, tmp_path / "runs"):
        log = read_log(path)
        assert log.source_format == "tensorboard"
        eq(log.step, [0, 100, 200, 300, 400, 500])
        # simple_value is a float32: compare at its precision.
        assert log.d_total is not None and log.g_loss is not None
        np.testing.assert_allclose(log.d_total, D, rtol=1e-7)
        np.testing.assert_allclose(log.g_loss, G, rtol=1e-7)
        np.testing.assert_allclose(log.extra["Loss/gradient_penalty"], 0.5 * np.arange(6))


def test_tensorboard_without_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gandyn.explain.logformats import tensorboard

    monkeypatch.setattr(tensorboard, "_loader", lambda: None)
    path = tmp_path / "events.out.tfevents.1.host"
    path.write_bytes(b"\x18\x00\x00\x00\x00\x00\x00\x00\xa3\x7fK\"\t\x00\x00\x00\x00\x00\x00"
                     b"\xf0?\x1a\rbrain.Event:2")
    with pytest.raises(LogError) as info:
        read_log(path)
    assert str(info.value) == (f"log {path}: reading TensorBoard event files needs the "
                               "tensorboard package: pip install 'gandyn[tensorboard]'")


def test_standard_input_on_the_command_line() -> None:
    from gandyn.cli.app import cli

    text = "".join(f"[Epoch 0/1] [Batch {k}/600] [D loss: {d}] [G loss: {g}]\n"
                   for k, (d, g) in enumerate(zip(D * 3, G * 3, strict=True)))
    result = CliRunner().invoke(cli, ["explain", "--log", "-", "--json"], input=text)
    # d_total alone cannot test the law (d_fake is inferred from g_loss): the reading worked,
    # and the analysis explains g_loss against the combined loss and leaves the law undecided.
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["source"]["path"] == "-"
    assert document["verdict"] == "undecided" and document["combined"] is not None
    text = "".join(f"step: {k}, d_fake: {d}, g_loss: {g}\n"
                   for k, (d, g) in enumerate(zip(D * 4, G * 4, strict=True)))
    result = CliRunner().invoke(cli, ["explain", "--log", "-", "--json"], input=text)
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["source"]["format"] == "printed" and document["source"]["rows"] == 24


def test_the_command_line_offers_the_formats_the_reader_can_force() -> None:
    import click

    from gandyn.cli.explain import explain
    from gandyn.explain.logs import FORCIBLE

    option = next(p for p in explain.params if p.name == "log_format")
    assert isinstance(option.type, click.Choice)
    assert tuple(option.type.choices) == FORCIBLE
