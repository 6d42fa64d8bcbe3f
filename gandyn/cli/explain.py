"""``gandyn explain``: why g_loss swings while d_fake stays flat."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from gandyn import __version__
from gandyn.cli.options import build_game, game_options
from gandyn.run.methods import UPDATE_RULES

__all__ = ["explain"]


@click.command()
@game_options
@click.option("--log", "log_file", type=click.Path(dir_okay=False), default=None,
              help="Explain a real training log (CSV/TSV, the Keras tutorial's or the PyTorch "
                   "DCGAN example's printout) instead of a simulation.")
@click.option("--columns", "columns_spec", default=None, metavar="NAME=COLUMN,...",
              help="Column names of the log, e.g. d_fake=errD_fake,g_loss=errG.")
@click.option("--log-format", type=click.Choice(["csv", "tsv", "keras", "pytorch-dcgan"]),
              default=None, help="Force the log's format (default: detected).")
@click.option("--optimizer", default="simgd", show_default=True,
              type=click.Choice([r for r in UPDATE_RULES if r != "sga"]),
              help="Simulation: the update rule.")
@click.option("--lr", type=float, default=0.1, show_default=True, help="Simulation: learning rate.")
@click.option("--steps", type=click.IntRange(min=10), default=2000, show_default=True,
              help="Simulation: iterations.")
@click.option("--x0", "x0_specs", multiple=True, metavar="SYM=VALUE,...",
              help="Simulation: the starting state (default: the game's).")
@click.option("--batch-size", type=int, default=None,
              help="Simulation: minibatches of this size, to add sampling noise.")
@click.option("--seed", type=int, default=0, show_default=True, help="Simulation: the seed.")
@click.option("--batch-sizes", "batch_sizes_spec", default=None, metavar="M_D,M_G",
              help="The log's d_fake and g_loss are means over independent minibatches of "
                   "these sizes (default for the Keras tutorial's loop: 64,128; none for the "
                   "PyTorch DCGAN example, which reuses one fake batch).")
@click.option("--measured-before-update/--measured-after-update", "before_update", default=None,
              help="Log: d_fake was measured before the discriminator's update and g_loss "
                   "after it (pairs g_loss[k] with d_fake[k+1]); default: before for the "
                   "Keras printout, after otherwise (the DCGAN printout's D(G(z)) after D's "
                   "update is used).")
@click.option("--window", type=click.IntRange(min=3), default=None,
              help="Steps of the moving average that removes the slow trend.")
@click.option("--tol", type=float, default=None,
              help="Largest gap between the D(G(z)) that d_fake and g_loss imply before the pair "
                   "is called inconsistent (default 1e-3 for a point-mass generator with exact "
                   "expectations, else 0.05: means over a spread of logits differ by Jensen's "
                   "inequality).")
@click.option("--json", "as_json", is_flag=True, help="Print the stable JSON contract.")
@click.option("--plot", type=click.Path(dir_okay=False), default=None,
              help="Draw the losses with the regimes shaded and g_loss predicted from d_fake "
                   "(.pdf, .svg, .png; non-saturating loss).")
@click.option("--force", is_flag=True, help="Overwrite existing output files.")
def explain(game_spec: str, game_file: str | None, loss_name: str | None,
            reg_specs: tuple[str, ...], param_specs: tuple[str, ...], log_file: str | None,
            columns_spec: str | None, log_format: str | None, optimizer: str, lr: float,
            steps: int, x0_specs: tuple[str, ...], batch_size: int | None, seed: int,
            batch_sizes_spec: str | None, before_update: bool | None, window: int | None,
            tol: float | None, as_json: bool, plot: str | None, force: bool) -> None:
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
    """
    import json

    import numpy as np

    from gandyn.errors import SpecError
    from gandyn.explain import analyze_series, dynamics_prediction, logit_relations

    loss = loss_name or "non-saturating"
    try:
        relations = logit_relations(loss)
    except ValueError:
        raise SpecError(f"explain covers the cross-entropy losses non-saturating and minimax, "
                        f"not {loss!r}") from None
    if plot is not None:
        if relations.loss != "non-saturating":
            raise SpecError("--plot draws the non-saturating law; use --loss non-saturating")
        from gandyn.files import check_writable, figure_paths

        target = Path(plot)
        check_writable(list(figure_paths(target).values()), force)
    batch_sizes: tuple[int, int] | None = None
    if batch_sizes_spec is not None:
        try:
            m_d, m_g = (int(v) for v in batch_sizes_spec.split(","))
        except ValueError:
            raise SpecError(f"--batch-sizes: {batch_sizes_spec!r} is not of the form M_D,M_G "
                            "(two positive integers)") from None
        if m_d < 1 or m_g < 1:
            raise SpecError("--batch-sizes: batch sizes must be positive")
        batch_sizes = (m_d, m_g)
    source: dict[str, Any]
    dynamics = None
    if log_file is not None:
        from gandyn.explain.logs import parse_columns, read_log

        log = read_log(log_file, columns=parse_columns(columns_spec) if columns_spec else None,
                       fmt=log_format)
        if log.g_loss is None:
            raise SpecError(f"log {log_file}: no generator loss column (give --columns g_loss=...)")
        d_fake = log.d_fake
        source = {"kind": "log", "path": log_file, "format": log.source_format,
                  "rows": log.n_rows, "columns": log.columns_used}
        d_gz_check = log.d_gz
        if d_fake is None:
            # The DCGAN example prints D(G(z)) before D's update (what errD_fake saw) and
            # after it (what errG sees): take the second, so that both losses describe the
            # same discriminator. -log(1 - mean D) is not the mean of -log(1 - D) (Jensen).
            seen_by_g = log.d_gz_after if log.d_gz_after is not None else log.d_gz
            if seen_by_g is None:
                raise SpecError(f"log {log_file}: neither d_fake nor D(G(z)) is logged")
            d_fake = -np.log1p(-np.clip(seen_by_g, 0.0, 1.0 - 1e-12))
            d_gz_check = None
            which = "after D's update" if log.d_gz_after is not None else "as logged"
            source["d_fake"] = (f"estimated as -log(1 - D(G(z))) from the logged mean D(G(z)) "
                                f"{which}")
        if batch_sizes is None and log.source_format == "keras":
            # Brownlee's loop: half batches of 64 real and 64 fake for D, then 128 fresh
            # latent points for G: independent samples.
            batch_sizes = (64, 128)
            source["batch_sizes"] = "64,128 (the Keras tutorial's loop; --batch-sizes changes it)"
        if before_update is None:
            # Keras' train_on_batch returns the loss of the batch before applying its
            # gradients, and the loop trains D first: g[k] sees D after d2[k]'s update.
            before_update = log.source_format == "keras"
        source["measured_before_update"] = before_update
        report = analyze_series(d_fake, log.g_loss, d_real=log.d_real, d_gz=d_gz_check, loss=loss,
                                window=window, tol=0.05 if tol is None else tol,
                                batch_sizes=batch_sizes, measured_before_update=before_update)
        steps_axis, d_fake_series, g_loss_series = log.step, d_fake, log.g_loss
        if before_update:
            steps_axis, d_fake_series, g_loss_series = (
                steps_axis[1:], d_fake_series[1:], g_loss_series[:-1])
    else:
        from gandyn.run.spec import SimulationSpec, run_simulation, starting_points

        if before_update is not None:
            raise SpecError("--measured-before-update/--measured-after-update describe a log; "
                            "a simulation records what each player's gradient saw")
        game = build_game(game_spec, game_file, loss_name or "non-saturating", reg_specs,
                          param_specs)
        if lr <= 0:
            raise SpecError("--lr must be positive")
        from gandyn.symbolic.option_text import parse_assignments

        starts = starting_points(game.default_start,
                                 [parse_assignments([t], "--x0") for t in x0_specs], {})[:1]
        params = parse_assignments(param_specs, "--param")
        spec = SimulationSpec(
            game=game_spec, game_file=game_file, loss=loss, regularizers=tuple(reg_specs),
            params=tuple(params.items()), optimizer=optimizer, lr_g=lr, lr_d=lr, steps=steps,
            measure="loop", batch_size=batch_size, seed=seed,
            starts=tuple(tuple(s.items()) for s in starts))
        result = run_simulation(spec, game=game)
        traj = result.trajectory
        if traj.diverged[0]:
            raise SpecError(f"the simulation diverged at step {traj.diverged_at[0]:g}; "
                            "use a smaller --lr")
        series = {name: traj.loss(name)[0] for name in traj.logged_names}
        # One fake logit (a point-mass generator, exact expectations) makes the pair exactly
        # consistent; a spread of logits over z only raises d_fake + g_loss (Jensen), which
        # the check allows; independent minibatches agree only in their trends.
        model = game.definition.model
        random = {v for v, _ in model.random} if model is not None else set()
        single_logit = (model is not None and batch_size is None
                        and not (model.fake_sample.free_symbols & random))
        default_tol = 1e-3 if batch_size is None else 0.05
        if batch_size is not None:
            if batch_sizes is not None:
                raise SpecError("--batch-sizes describes a log; a simulation takes --batch-size")
            # gandyn's minibatch mode draws independent batches for the two players.
            batch_sizes = (batch_size, batch_size)
        report = analyze_series(series["d_fake"], series["g_loss"], d_real=series["d_real"],
                                d_gz=series.get("d_gz"), loss=loss, window=window,
                                tol=default_tol if tol is None else tol, batch_sizes=batch_sizes,
                                single_logit=single_logit)
        source = {"kind": "simulation", "spec": spec.to_dict()}
        steps_axis, d_fake_series, g_loss_series = traj.step, series["d_fake"], series["g_loss"]
        from gandyn.derive.stationary import closed_form_equilibria, isolated_points

        points = isolated_points(closed_form_equilibria(result.field), traj.state_names)
        if points:
            eigenvalues = np.linalg.eigvals(result.field.jacobian_fn(np.array(points[0])))
            if np.any(np.abs(eigenvalues.imag) > 1e-12):
                dynamics = dynamics_prediction(eigenvalues, traj.t, series["g_loss"])
                dynamics["equilibrium"] = dict(zip(traj.state_names, points[0], strict=True))
    written: list[Path] = []
    if plot is not None:
        from gandyn.plotting.explain import plot_explanation

        written = plot_explanation(
            np.asarray(steps_axis), np.asarray(d_fake_series), np.asarray(g_loss_series), plot,
            window=report.window, thresholds=report.thresholds,
            sampling_ratio=report.std_ratio_predicted.get("sampling-spread"),
            metadata={"gandyn_version": __version__, "source": source}, force=force)
    for path in written:
        click.echo(f"wrote {path}", err=True)
    if as_json:
        data = {"gandyn_version": __version__, "source": source, **report.to_dict(),
                "relations": relations.to_dict(), "dynamics": dynamics}
        def plain(value: Any) -> Any:
            # numpy scalars and complex eigenvalues as JSON numbers and [re, im] pairs
            if isinstance(value, complex | np.complexfloating):
                return [float(value.real), float(value.imag)]
            if isinstance(value, np.ndarray):
                return value.tolist()
            return float(value)

        click.echo(json.dumps(data, indent=2, default=plain))
        return
    click.echo(relations.to_text())
    click.echo("")
    click.echo(report.to_text())
    if dynamics is not None:
        click.echo("")
        click.echo(
            f"Dynamics: at the equilibrium the flow's eigenvalues predict oscillations of "
            f"angular frequency {dynamics['omega']:.4g} and damping {dynamics['damping']:.4g}, "
            f"a period of {dynamics['predicted_loss_period']:.4g} in the losses; measured "
            f"{dynamics['measured_period']:.4g} (relative error "
            f"{dynamics['relative_error']:.2g}). {dynamics.get('note', '')}".rstrip())
