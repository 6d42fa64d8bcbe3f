"""The short table ``gandyn simulate`` prints when no output file is asked for."""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from gandyn.run.spec import SimulationResult

__all__ = ["distances_to_equilibria", "equilibria", "isolated_points", "summarize"]

#: Runs listed one per line; a larger batch is summarized.
MAX_ROWS = 12


def equilibria(field: Any) -> list[dict[str, float]]:
    """Closed-form stationary points with their fixed coordinates (free ones left out)."""
    from gandyn.derive.stationary import find_stationary_points

    found = find_stationary_points(field, timeout=2.0)
    points = []
    for point in found.points:
        fixed = {}
        for symbol, value in point:
            if value.free_symbols:
                continue  # a free coordinate: the point stands for a line or surface
            fixed[symbol.name] = float(sp.N(value))
        points.append(fixed)
    return points


def distances_to_equilibria(final: np.ndarray[Any, Any], names: tuple[str, ...],
                            points: list[dict[str, float]]) -> np.ndarray[Any, Any]:
    """Euclidean distance of each final state to the nearest stationary set (NaN if none)."""
    if not points:
        return np.full(final.shape[0], np.nan)
    best = np.full(final.shape[0], np.inf)
    for point in points:
        idx = [names.index(k) for k in point]
        target = np.array([point[k] for k in point])
        d = np.sqrt(((final[:, idx] - target) ** 2).sum(axis=-1)) if idx else np.zeros(len(best))
        best = np.minimum(best, d)
    return best


def _fmt(v: float) -> str:
    return "nan" if not np.isfinite(v) else f"{v:.4g}"


def isolated_points(points: list[dict[str, float]], names: tuple[str, ...]) -> list[list[float]]:
    """The stationary points that fix every coordinate, as state vectors (for figures)."""
    return [[p[n] for n in names] for p in points if all(n in p for n in names)]


def summarize(result: SimulationResult,
              points: list[dict[str, float]] | None = None) -> str:
    """A table: start, final state, distance to equilibrium, loss ranges, divergence."""
    traj = result.trajectory
    names = traj.state_names
    final = traj.x[:, -1]
    found = equilibria(result.field) if points is None else points
    dist = distances_to_equilibria(final, names, found)
    method = traj.method.get("optimizer", "?")
    lines = [f"{result.field.game.name} / "
             f"{result.field.game.loss.name if result.field.game.loss else 'direct costs'} / "
             f"{method}: {traj.message}"]
    wanted = [n for n in ("d_real", "d_fake", "g_loss") if n in traj.logged_names]
    header = ["run", "final " + ",".join(names), "dist to eq."] + [f"{n} range" for n in wanted]
    header.append("status")
    rows = []
    for run in range(traj.n_runs):
        row = [str(run), "(" + ", ".join(_fmt(v) for v in final[run]) + ")", _fmt(dist[run])]
        for name in wanted:
            series = traj.loss(name)[run]
            row.append(f"{_fmt(np.nanmin(series))}..{_fmt(np.nanmax(series))}")
        if traj.diverged[run]:
            unit = "t" if method == "flow" else "step"
            row.append(f"diverged at {unit} {traj.diverged_at[run]:g}")
        else:
            row.append("ok")
        rows.append(row)
    shown = rows if len(rows) <= MAX_ROWS else rows[: MAX_ROWS // 2]
    widths = [max(len(r[i]) for r in [header, *shown]) for i in range(len(header))]
    lines.append("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in shown]
    if len(rows) > len(shown):
        finite = dist[np.isfinite(dist) & ~traj.diverged]
        median = f"{np.median(finite):.4g}" if finite.size else "nan"
        lines.append(f"... {len(rows) - len(shown)} more runs; all {len(rows)}: "
                     f"{int(traj.diverged.sum())} diverged, median distance to equilibrium "
                     f"{median}")
    return "\n".join(lines)
