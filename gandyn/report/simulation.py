"""What ``gandyn simulate`` prints: a short table, or the same summary as JSON (``--json``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from gandyn.derivation.stationary import closed_form_equilibria, distances_to_equilibria
from gandyn.runs.build import RunResult
from gandyn.runs.outcome import RunSummary

__all__ = ["summarize", "summary_dict"]

#: Runs listed one per line; a larger batch is summarized.
MAX_ROWS = 12


def _fmt(v: float) -> str:
    return "nan" if not np.isfinite(v) else f"{v:.4g}"


def summarize(result: RunResult,
              points: list[dict[str, float]] | None = None) -> str:
    """A table: start, final state, distance to equilibrium, loss ranges, divergence.

    Made from the run's :class:`~gandyn.runs.outcome.RunSummary`, so that a run
    streamed to its file in chunks prints the same table as one held whole.
    """
    traj = result.run_summary()
    names = traj.state_names
    final = traj.final
    found = closed_form_equilibria(result.field) if points is None else points
    dist = distances_to_equilibria(final, names, found)
    method = traj.method.get("optimizer", "?")
    game = result.field.game
    loss = game.loss.name if game.loss else "direct costs"
    if game.log_loss is not None:
        loss += f" (logged as {game.log_loss.name})"
    lines = [f"{game.name} / {loss} / {method}: {traj.message}"]
    if game.quadrature is not None:
        lines.append(f"quadrature: {game.quadrature.describe()}")
    wanted = [n for n in ("d_real", "d_fake", "g_loss") if n in traj.logged_names]
    header = ["run", "final " + ",".join(names), "dist to eq."] + [f"{n} range" for n in wanted]
    header.append("status")
    # Only the rows printed are formatted: a grid of 10^5 runs prints six.
    listed = traj.n_runs if traj.n_runs <= MAX_ROWS else MAX_ROWS // 2
    rows = []
    for run in range(listed):
        row = [str(run), "(" + ", ".join(_fmt(v) for v in final[run]) + ")", _fmt(dist[run])]
        for name in wanted:
            column = traj.loss_index(name)
            row.append(f"{_fmt(traj.low[run, column])}..{_fmt(traj.high[run, column])}")
        if traj.diverged[run]:
            unit = "t" if method == "flow" else "step"
            row.append(f"diverged at {unit} {traj.diverged_at[run]:g}")
        else:
            row.append("ok")
        rows.append(row)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines.append("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    if traj.n_runs > listed:
        finite = dist[np.isfinite(dist) & ~traj.diverged]
        median = f"{np.median(finite):.4g}" if finite.size else "nan"
        lines.append(f"... {traj.n_runs - listed} more runs; all {traj.n_runs}: "
                     f"{int(traj.diverged.sum())} diverged, median distance to equilibrium "
                     f"{median}")
    return "\n".join(lines)


def _range(summary: RunSummary, run: int, column: int) -> dict[str, float | None]:
    if not np.isfinite(summary.finite_final[run, column]):
        return {"min": None, "max": None, "final": None}
    return {"min": float(summary.finite_min[run, column]),
            "max": float(summary.finite_max[run, column]),
            "final": float(summary.finite_final[run, column])}


def summary_dict(result: RunResult,
                 points: list[dict[str, float]] | None = None) -> dict[str, Any]:
    """The summary of :func:`summarize` as JSON-able data (``gandyn simulate --json``).

    Returns
    -------
    dict
        ``game``, ``loss`` (``None`` for direct costs), ``optimizer``,
        ``message``, ``state_names``, ``n_runs``, ``n_records``,
        ``n_diverged``, ``equilibria`` (the closed-form points), and ``runs``:
        for each run its ``start`` and ``final`` state by name (the first and
        last recorded rows, as the saved file holds them),
        ``distance_to_equilibrium``, ``losses`` (for each logged loss its
        ``min``, ``max`` and ``final`` over the finite records), ``diverged``
        and ``diverged_at`` (step, or time for the flow; ``None`` if it did not).
    """
    traj = result.run_summary()
    names = traj.state_names
    final = traj.final
    found = closed_form_equilibria(result.field) if points is None else points
    dist = distances_to_equilibria(final, names, found)
    game = result.field.game
    runs = []
    for run in range(traj.n_runs):
        diverged = bool(traj.diverged[run])
        runs.append({
            "run": run,
            "start": dict(zip(names, (float(v) for v in traj.start[run]), strict=True)),
            "final": dict(zip(names, (float(v) for v in final[run]), strict=True)),
            "distance_to_equilibrium": float(dist[run]),
            "losses": {name: _range(traj, run, column)
                       for column, name in enumerate(traj.logged_names)},
            "diverged": diverged,
            "diverged_at": float(traj.diverged_at[run]) if diverged else None,
        })
    return {
        "game": game.name,
        "loss": game.loss.name if game.loss else None,
        "optimizer": traj.method.get("optimizer"),
        "quadrature": None if game.quadrature is None else game.quadrature.to_dict(),
        "message": traj.message,
        "state_names": list(names),
        "n_runs": traj.n_runs,
        "n_records": traj.n_records,
        "n_diverged": int(traj.diverged.sum()),
        "equilibria": [dict(point) for point in found],
        "runs": runs,
    }
