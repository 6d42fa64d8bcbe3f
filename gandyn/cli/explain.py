"""``gandyn explain``: why g_loss swings while d_fake stays flat."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, NamedTuple

import click

from gandyn.cli.options import (
    FILE,
    Ranged,
    game_options,
    game_values,
    given_on_command_line,
    given_values,
    spec_options,
    style_option,
)
from gandyn.rules.names import RULE_NAMES
from gandyn.runs.spec import EXPLAIN_DEFAULTS as _DEFAULT
from gandyn.runs.spec import shareable_spec

if TYPE_CHECKING:
    from gandyn.explain import Explanation
    from gandyn.runs.build import Built

__all__ = ["explain", "parse_columns", "simulate", "simulation"]


@click.command()
@game_options
@click.option("--log", "log_files", multiple=True, metavar="FILE",
              help="Explain a real training log instead of a simulation: printed 'key: value' "
                   "lines of any loop, CSV/TSV, JSON lines (StyleGAN's stats.jsonl), a "
                   "TensorBoard event file or folder, the CSV exports of TensorBoard, W&B or "
                   "MLflow; - reads standard input. Give it again for the per-scalar files of "
                   "one run (merged on their step). A run saved by `gandyn simulate --out` "
                   "(run.csv with its sidecar, run.npz) is explained start by start, with the "
                   "run's loss.")
@click.option("--columns", "columns_spec", default=None, metavar="NAME=COLUMN,...",
              help="Column names of the log, e.g. d_fake=errD_fake,g_loss=errG.")
@click.option("--pattern", default=None, metavar="TEMPLATE",
              help="The log's record lines, e.g. 'Gen/Dis Loss: {g_loss}/{d_loss}' "
                   "({name}: a canonical name or alias, {_}: a number to skip, {*}: any text).")
@click.option("--pair", default=None, metavar="NAME",
              help="The network pair to read in a log of several (CycleGAN's A or B).")
# The formats of gandyn.explain.logs.FORCIBLE (not imported here: the CLI loads lazily).
@click.option("--log-format", type=click.Choice(["csv", "tsv", "keras", "pytorch-dcgan", "printed",
                                                 "jsonl", "tensorboard", "mlflow"]),
              default=None, help="Force the log's format (default: detected from the content).")
@click.option("--optimizer", default=_DEFAULT.rule.name, show_default=True,
              type=click.Choice([r for r in RULE_NAMES if r != "sga"]),
              help="Simulation: the update rule.")
@click.option("--lr", type=Ranged("lr"), default=_DEFAULT.rule.lr_g, show_default=True,
              help="Simulation: learning rate.")
@click.option("--steps", type=Ranged("explain_steps"), default=_DEFAULT.steps, show_default=True,
              help="Simulation: iterations.")
@click.option("--x0", "x0_specs", multiple=True, metavar="SYM=VALUE,...",
              help="Simulation: the starting state (default: the game's).")
@click.option("--batch-size", type=Ranged("batch_size"), default=None,
              help="Simulation: minibatches of this size, to add sampling noise.")
@click.option("--seed", type=Ranged("seed"), default=0, show_default=True,
              help="Simulation: the seed.")
@click.option("--batch-sizes", "batch_sizes_spec", default=None, metavar="M_D,M_G",
              help="The log's d_fake and g_loss are means over independent minibatches of "
                   "these sizes (default for the Keras tutorial's loop: 64,128; none for the "
                   "PyTorch DCGAN example, which reuses one fake batch).")
@click.option("--measured-before-update/--measured-after-update", "before_update", default=None,
              help="Log: d_fake was measured before the discriminator's update and g_loss "
                   "after it (pairs g_loss[k] with d_fake[k+1]); default: before for the "
                   "Keras printout, after otherwise (the DCGAN printout's D(G(z)) after D's "
                   "update is used).")
@click.option("--d-loss", "d_loss_kind", type=click.Choice(["sum", "mean"]), default="sum",
              show_default=True,
              help="Log: a single discriminator loss is d_real + d_fake (sum, the PyTorch "
                   "DCGAN example's Loss_D) or their mean (PyTorch-GAN's d_loss).")
@click.option("--window", type=click.IntRange(min=3), default=None,
              help="Steps of the moving average that removes the slow trend.")
@click.option("--tol", type=Ranged("tol"), default=None,
              help="Largest gap between the D(G(z)) that d_fake and g_loss imply before the pair "
                   "is called inconsistent (default 1e-3 for a point-mass generator with exact "
                   "expectations, else 0.05: means over a spread of logits differ by Jensen's "
                   "inequality).")
@click.option("--json", "as_json", is_flag=True, help="Print the stable JSON contract.")
@click.option("--plot", type=FILE, default=None,
              help="Draw the losses with the regimes shaded and g_loss predicted from d_fake "
                   "(.pdf, .svg, .png; non-saturating loss).")
@style_option
@click.option("--force", is_flag=True, help="Overwrite existing output files.")
@spec_options("the run to simulate (logged as a training loop logs it, from its first start)",
              "the run it would simulate")
def explain(game_spec: str, game_file: str | None, loss_name: str | None,
            reg_specs: tuple[str, ...], param_specs: tuple[str, ...], log_files: tuple[str, ...],
            columns_spec: str | None, pattern: str | None, pair: str | None,
            log_format: str | None, optimizer: str, lr: float,
            steps: int, x0_specs: tuple[str, ...], batch_size: int | None, seed: int,
            batch_sizes_spec: str | None, before_update: bool | None, d_loss_kind: str,
            window: int | None,
            tol: float | None, as_json: bool, plot: str | None, style: str, force: bool,
            spec_file: str | None, dump_spec: bool) -> None:
    """Explain why g_loss swings while d_fake stays flat, in logit space.

    \b
    With l the discriminator's logit on a fake and p = D(G(z)) = sigmoid(l):
      d_fake = softplus(l) = -log(1 - p),  g_loss = softplus(-l) = -log p,
      d_fake - g_loss = l exactly, and to first order in the fluctuation of l
      std(g_loss) / std(d_fake) = (1 - p) / p = exp(-l).
    \b
    Examples:
      gandyn explain --game gaussian --loss ns --batch-size 32 --steps 3000
      gandyn explain --log examples/logs/keras-gan.txt
      gandyn explain --log run.csv --columns d_fake=errD_fake,g_loss=errG --json
      gandyn explain --log checkpoints/maps_cyclegan/loss_log.txt --pair A
      python train.py | gandyn explain --log -
    """
    import json

    from gandyn.errors import SpecError
    from gandyn.explain.explanation import relations_for

    run_spec = None
    if not log_files and (pattern is not None or pair is not None):
        raise SpecError("--pattern and --pair describe a log; give it with --log")
    if log_files:
        if spec_file is not None or dump_spec:
            raise SpecError("--spec and --dump-spec describe a simulation; --log explains a log")
        loss = loss_name or "non-saturating"
    else:
        built = simulation(spec_file, game_spec, game_file, loss_name, reg_specs, param_specs,
                           optimizer, lr, steps, x0_specs, batch_size, seed)
        run_spec = built.spec
        if window is not None and window + 2 > run_spec.steps + 1:
            # The detrending needs window + 2 recorded steps; say so before simulating.
            raise SpecError(f"--window {window} needs at least {window + 1} --steps "
                            f"(got {run_spec.steps}): lower --window or raise --steps")
        if dump_spec:
            from gandyn.runs.spec_files import spec_toml

            click.echo(spec_toml(run_spec), nl=False)
            return
        loss = run_spec.game.loss or "minimax"
    relations = relations_for(loss)
    if plot is not None:
        if relations.loss != "non-saturating":
            raise SpecError("--plot draws the non-saturating law; use --loss non-saturating")
        from gandyn.files import FIGURE_FORMATS, check_writable, figure_paths, output_path

        check_writable(list(figure_paths(output_path(plot, option="plot",
                                                     formats=FIGURE_FORMATS)).values()), force)
    batch_sizes = _parse_batch_sizes(batch_sizes_spec)
    if len(log_files) == 1 and _is_saved_run(log_files[0]):
        log_file = log_files[0]
        explanations = _explain_saved_run(log_file, loss_name, batch_sizes, window, tol)
        if plot is not None:
            raise SpecError("--plot draws one log; explain a saved run without --plot")
        if as_json:
            documents = [e.to_dict() for e in explanations]
            click.echo(json.dumps(documents[0] if len(documents) == 1 else documents, indent=2))
        else:
            click.echo("\n\n".join(
                (f"Run {e.source['run']} of {log_file}:\n" if len(explanations) > 1 else "")
                + e.to_text() for e in explanations))
        return
    if log_files:
        explanation = _explain_log_file(log_files, columns_spec, log_format, pattern, pair,
                                        loss, batch_sizes, before_update, window, tol,
                                        d_loss_kind, show_progress=not as_json)
    else:
        from gandyn.explain import DivergedRunError, explain_run

        assert run_spec is not None
        batch_size = None if run_spec.minibatch is None else run_spec.minibatch.batch_size
        if before_update is not None:
            raise SpecError("--measured-before-update/--measured-after-update describe a log; "
                            "a simulation records what each player's gradient saw")
        if batch_size is not None and batch_sizes is not None:
            raise SpecError("--batch-sizes describes a log; a simulation takes --batch-size")
        run = simulate(built, show_progress=not as_json)
        try:
            explanation = explain_run(run.trajectory, run.field, model=run.model,
                                      batch_size=batch_size, loss=loss, batch_sizes=batch_sizes,
                                      window=window, tol=tol, spec=run.spec)
        except DivergedRunError as exc:
            raise SpecError(f"{exc}; use a smaller --lr") from None
    if plot is not None:
        from gandyn.cli.output import wrote
        from gandyn.plotting import venue_style
        from gandyn.plotting.explain import plot_explanation

        report = explanation.report
        metadata = explanation.plot_metadata()
        if style != "default":
            metadata = {**metadata, "style": style}
        with venue_style(style):
            wrote(plot_explanation(
                explanation.steps, explanation.d_fake, explanation.g_loss, plot,
                window=report.window, thresholds=report.thresholds,
                sampling_ratio=report.std_ratio_predicted.get("sampling-spread"),
                metadata=metadata, force=force))
    if as_json:
        click.echo(json.dumps(explanation.to_dict(), indent=2))
    else:
        click.echo(explanation.to_text())


def parse_columns(text: str) -> dict[str, str]:
    """Parse a ``--columns`` value such as ``d_fake=errD_fake,g_loss=errG``.

    Parameters
    ----------
    text : str
        Comma-separated ``canonical=column`` pairs; spaces around names are ignored.

    Returns
    -------
    dict of str to str
        Canonical name -> column name, in the order given.

    Raises
    ------
    gandyn.errors.SpecError
        On an empty value, a pair without ``=``, an empty side, an unknown
        canonical name or a name given twice (one-line message).
    """
    from gandyn.errors import SpecError
    from gandyn.explain.logs import CANONICAL, unknown_canonical

    out: dict[str, str] = {}
    pieces = [p.strip() for p in text.split(",")]
    if not any(pieces):
        raise SpecError("--columns: empty value (expected e.g. d_fake=errD_fake,g_loss=errG)")
    for piece in pieces:
        if not piece:
            continue
        name, sep, column = (s.strip() for s in piece.partition("="))
        if not sep or not name or not column:
            raise SpecError(f"--columns: {' '.join(piece.split())!r} is not NAME=COLUMN "
                            "(e.g. d_fake=errD_fake)")
        if name not in CANONICAL:
            raise SpecError(f"--columns: {unknown_canonical(name)}")
        if name in out:
            raise SpecError(f"--columns: {name!r} given twice")
        out[name] = column
    return out


def _parse_batch_sizes(text: str | None) -> tuple[int, int] | None:
    """``--batch-sizes M_D,M_G`` as two positive integers."""
    from gandyn.errors import SpecError

    if text is None:
        return None
    try:
        m_d, m_g = (int(v) for v in text.split(","))
    except ValueError:
        raise SpecError(f"--batch-sizes: {text!r} is not of the form M_D,M_G "
                        "(two positive integers)") from None
    if m_d < 1 or m_g < 1:
        raise SpecError("--batch-sizes: batch sizes must be positive")
    return m_d, m_g


def _explain_log_file(log_files: tuple[str, ...], columns_spec: str | None,
                      log_format: str | None, pattern: str | None, pair: str | None,
                      loss: str, batch_sizes: tuple[int, int] | None,
                      before_update: bool | None, window: int | None,
                      tol: float | None, d_loss: str = "sum",
                      show_progress: bool = False) -> Explanation:
    """:func:`gandyn.explain.explain_log` with its errors in the options' terms.

    A long log (:data:`LONG_LOG_BYTES` or more) gets a progress bar on a
    terminal: the log read, then explained.
    """
    import os

    from gandyn.cli.output import progress
    from gandyn.errors import SpecError
    from gandyn.explain.explanation import relations_for
    from gandyn.explain.from_log import explain_training_log
    from gandyn.explain.logs import MissingSeriesError, read_log
    from gandyn.files import shareable_name

    columns = parse_columns(columns_spec) if columns_spec else None
    size = sum(os.path.getsize(p) for p in log_files if p != "-" and os.path.isfile(p))
    try:
        relations_for(loss)
        log: str | list[str] = log_files[0] if len(log_files) == 1 else list(log_files)
        # as gandyn.explain.explain_log does, in two steps for the bar
        with progress(2, "reading and explaining the log",
                      show=None if show_progress and size >= LONG_LOG_BYTES else False) as bar:
            training_log = read_log(log, columns=columns, fmt=log_format, pattern=pattern,
                                    pair=pair)
            bar.advance()
            explanation = explain_training_log(
                training_log, label=", ".join(shareable_name(p) for p in log_files), loss=loss,
                batch_sizes=batch_sizes, measured_before_update=before_update, window=window,
                tol=tol, d_loss=d_loss)
            bar.advance()
        return explanation
    except MissingSeriesError as exc:
        if exc.name == "g_loss":
            raise SpecError(f"{exc} (give --columns g_loss=...)") from None
        raise


def _is_saved_run(path: str) -> bool:
    """Whether ``path`` is a run written by ``gandyn simulate --out`` (NPZ, or CSV with its
    sidecar or gandyn's ``run,step,t`` header), not a training log."""
    from pathlib import Path

    from gandyn.files import sidecar_path

    source = Path(path)
    suffix = source.suffix.lower()
    if suffix == ".npz":
        return True
    if suffix != ".csv" or not source.is_file():
        return False
    if sidecar_path(source).is_file():
        return True
    with source.open("rb") as handle:
        head: bytes = handle.readline(64)
    return head.startswith(b"run,step,t,")


def _explain_saved_run(path: str, loss_name: str | None, batch_sizes: tuple[int, int] | None,
                       window: int | None, tol: float | None) -> list[Explanation]:
    """Explain every start of a saved gandyn run, with the loss of its stored spec."""
    from pathlib import Path

    import numpy as np

    from gandyn.errors import SpecError
    from gandyn.explain.from_log import explain_training_log
    from gandyn.explain.logs import TrainingLog
    from gandyn.io.saved_runs import read_run
    from gandyn.runs.spec import RunSpec

    saved = read_run(path)
    spec = None if saved.spec is None else RunSpec.from_dict(saved.spec, where=str(path))
    # The logged series are those of the run's logged loss (--log-loss), if it had one.
    loss = loss_name or (spec.game.log_loss or spec.game.loss if spec is not None else None)
    if loss is None:
        raise SpecError(f"{path}: the run has no sidecar naming its loss; give --loss")
    if batch_sizes is None and spec is not None and spec.minibatch is not None:
        # gandyn's minibatch mode draws independent batches for the two players.
        m_d = spec.minibatch.batch_size
        batch_sizes = (m_d, spec.minibatch.batch_size_g or m_d)
    traj = saved.trajectory
    explanations = []
    for run in range(traj.n_runs):
        if bool(traj.diverged[run]):
            raise SpecError(f"{path}: run {run} diverged at step {float(traj.diverged_at[run]):g};"
                            " its losses cannot be explained")
        series = {name: np.asarray(traj.logged[run, :, i], dtype=np.float64)
                  for i, name in enumerate(traj.logged_names)}
        log = TrainingLog(step=np.asarray(traj.step, dtype=np.float64), source_format="csv",
                          columns_used={n: n for n in series}, n_rows=int(traj.step.size),
                          d_real=series.get("d_real"), d_fake=series.get("d_fake"),
                          g_loss=series.get("g_loss"), d_x=series.get("d_x"),
                          d_gz=series.get("d_gz"))
        explanation = explain_training_log(log, label=f"{path} run {run}", loss=loss,
                                           batch_sizes=batch_sizes,
                                           measured_before_update=False, window=window,
                                           tol=tol)
        explanation.source.update(kind="saved run", format=f"gandyn run ({Path(path).suffix})",
                                  run=run, loss_from=(
            "--loss" if loss_name else "the run's spec"))
        explanations.append(explanation)
    return explanations


#: A log of this many bytes or more gets a progress bar (about a second of reading).
LONG_LOG_BYTES = 8 * 2**20


class SimulatedRun(NamedTuple):
    """What :func:`simulate` hands to :func:`gandyn.explain.explain_run`."""

    trajectory: Any
    field: Any
    model: Any
    spec: dict[str, Any]


def simulation(spec_file: str | None, game_spec: str, game_file: str | None,
               loss_name: str | None, reg_specs: tuple[str, ...], param_specs: tuple[str, ...],
               optimizer: str, lr: float, steps: int, x0_specs: tuple[str, ...],
               batch_size: int | None, seed: int) -> Built:
    """The run to explain: the options given on the command line over the spec file, over
    :data:`gandyn.runs.spec.EXPLAIN_DEFAULTS`; one start, measured as a training loop logs it."""
    from gandyn.errors import SpecError
    from gandyn.runs.build import build
    from gandyn.runs.spec import EXPLAIN_DEFAULTS, merge
    from gandyn.runs.spec_files import load_spec
    from gandyn.symbolic.option_text import parse_assignments

    given = given_on_command_line()
    values = game_values(given, game_spec, game_file, loss_name, reg_specs, param_specs)
    values.update(given_values(given, optimizer=optimizer, lr=lr, steps=steps,
                               batch_size=batch_size, seed=seed))
    if "lr" in values and not values["lr"] > 0:
        raise SpecError("--lr must be positive")
    if x0_specs:
        values["starts"] = [parse_assignments([x0_specs[0]], "--x0")]
    base = load_spec(spec_file) if spec_file is not None else EXPLAIN_DEFAULTS
    spec = merge(base, **values, measure="loop")
    return build(replace(spec, starts=spec.starts[:1]))


def simulate(built: Built, show_progress: bool = True) -> SimulatedRun:
    """Simulate the run to explain (built once by :func:`simulation`), with a progress bar
    on a terminal for a long one (:func:`gandyn.cli.output.progress`)."""
    from gandyn.cli.output import progress
    from gandyn.runs.build import run

    spec = built.spec
    batch = 1 if spec.minibatch is None else spec.minibatch.batch_size
    long_run = spec.rule.name != "flow" and spec.steps * batch >= 200_000
    with progress(spec.steps, "simulating",
                  show=None if long_run and show_progress else False) as bar:
        result = run(built, progress=bar.advance if bar.shown else None)
    return SimulatedRun(result.trajectory, result.field, built.game.definition.model,
                        shareable_spec(result.spec.to_dict()))
