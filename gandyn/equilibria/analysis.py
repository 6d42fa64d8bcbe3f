"""``gandyn analyze``: equilibria, their stability under the flow and a rule, Nash types.

Stability belongs to the game *and* the update rule; being a Nash equilibrium
belongs to the game alone. :func:`analyze` gathers both for every stationary
point (or set) found, and, on a box, the global picture: pure Nash
equilibria of the game discretized on a grid, the duality gap of zero-sum
games, and a mixed equilibrium when no pure one exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from gandyn.derive.field import VectorField
from gandyn.equilibria import (
    StationarySet,
    find_equilibria,
    flow_stability,
    local_minimax,
    map_stability,
    nash_type,
    nonsmooth_at,
    stable_lr_range,
)

__all__ = ["Analysis", "RuleChoice", "analyze", "parameter_path", "to_dict", "to_text"]


@dataclass(frozen=True)
class RuleChoice:
    """An update rule to analyze: name, learning rates and settings."""

    name: str
    lr_g: float
    lr_d: float
    settings: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Analysis:
    """Everything ``gandyn analyze`` reports, as plain data (see :meth:`to_dict`)."""

    field: VectorField
    equilibria: tuple[dict[str, Any], ...]
    rule: RuleChoice | None
    box: Mapping[str, tuple[float, float]] | None
    global_nash: dict[str, Any] | None = None
    path: dict[str, Any] | None = None
    notes: tuple[str, ...] = ()


def _complex_pairs(values: np.ndarray[Any, Any]) -> list[list[float]]:
    # Rounding noise (|part| < 1e-12 of the spectrum's scale) is reported as an exact zero.
    scale = max(1.0, float(np.max(np.abs(values)))) if len(values) else 1.0

    def clean(v: float) -> float:
        return 0.0 if abs(v) < 1e-12 * scale else float(v) + 0.0

    return [[clean(z.real), clean(z.imag)] for z in values]


def _simgd_closed_form(eigenvalues: np.ndarray[Any, Any]) -> list[float] | None:
    """Stable step sizes of simultaneous GD with equal rates, from the flow's eigenvalues.

    ``|1 + h lambda| < 1`` for every eigenvalue ``lambda`` iff each has a
    negative real part and ``h < -2 Re(lambda) / |lambda|**2`` (Mescheder,
    Nowozin and Geiger 2017, Lemma 4). ``None`` when some ``Re(lambda) >= 0``.
    """
    if len(eigenvalues) == 0 or np.any(eigenvalues.real >= 0):
        return None
    bound = float(np.min(-2.0 * eigenvalues.real / np.abs(eigenvalues) ** 2))
    return [0.0, bound]


def _describe_point(vf: VectorField, entry: StationarySet, rule: RuleChoice | None,
                    lr_ratio: float) -> dict[str, Any]:
    from gandyn.rules.base import FieldFunctions
    from gandyn.rules.registry import make_rule

    names = [s.name for s in vf.game.state_symbols]
    at = entry.point if entry.point is not None else entry.samples[0]
    x = np.array([at[n] for n in names], dtype=np.float64)
    record: dict[str, Any] = {"kind": entry.kind, "source": entry.source}
    if entry.kind == "isolated":
        record["point"] = dict(entry.point or {})
    else:
        record["equation"] = entry.equation
        record["samples"] = [dict(s) for s in entry.samples]
        record["evaluated_at"] = dict(at)
    flow = flow_stability(vf.jacobian_fn(x))
    record["eigenvalues"] = _complex_pairs(flow.eigenvalues)
    record["stability"] = flow.stability
    record["flow_class"] = flow.kind
    # A kink of F at the point (|psi|, sign, relu, ...) leaves no Jacobian there.
    kinks = nonsmooth_at(vf, at)
    record["nonsmooth"] = kinks
    record["inconclusive"] = flow.inconclusive or bool(kinks)
    record["nash"] = nash_type(vf, at)
    record["local_minimax"] = local_minimax(vf, at)
    # Mazumdar, Ratliff and Sastry (2020): the flow can attract non-Nash points
    # and repel Nash ones. A degenerate point is undecided, so it gets no flag.
    stable = flow.stability == "stable"
    record["flags"] = (["stable but not Nash"] if stable and record["nash"] == "not-nash"
                       else []) + (["Nash but not stable"]
                                   if record["nash"] == "differential-nash" and not stable
                                   else [])
    if kinks:
        record["flags"].append(
            f"F is not differentiable here ({', '.join(kinks)} switches at this point): the "
            "eigenvalues are those of one smooth piece and do not decide stability")
    if rule is not None:
        built = make_rule(rule.name, rule.lr_g, rule.lr_d, **dict(rule.settings))
        mapped = map_stability(built, FieldFunctions.of(vf), x)
        record["map_eigenvalues"] = _complex_pairs(mapped.eigenvalues)
        record["spectral_radius"] = float(mapped.spectral_radius)
        record["map_stability"] = "stable" if mapped.stable else "unstable"
        closed = _simgd_closed_form(flow.eigenvalues) if (
            rule.name == "simgd" and rule.lr_g == rule.lr_d) else None
        if closed is not None:
            # Simultaneous steps map each eigenvalue lambda of dF/dx to 1 + h lambda, inside
            # the unit circle iff Re(lambda) < 0 and h < -2 Re(lambda) / |lambda|^2.
            record["stable_lr"] = closed
            record["stable_lr_method"] = "closed form: h < min -2 Re(lambda)/|lambda|^2"
        else:
            interval = stable_lr_range(vf, rule.name, x, settings=dict(rule.settings),
                                       lr_ratio=lr_ratio)
            record["stable_lr"] = None if interval is None else [float(interval[0]),
                                                                 float(interval[1])]
            record["stable_lr_method"] = "numeric scan of the spectral radius"
    return record


def analyze(vf: VectorField, *, box: Mapping[str, tuple[float, float]] | None = None,
            rule: RuleChoice | None = None, timeout: float = 5.0, n_starts: int = 64,
            seed: int = 0, grid_points: int = 101) -> Analysis:
    """Find the stationary points of ``vf`` and classify each one.

    Parameters
    ----------
    vf
        The derived game.
    box
        ``{symbol: (low, high)}`` for every state symbol: enables numeric root
        finding there and, for one-parameter players, the global Nash analysis.
    rule
        An update rule whose map is linearized at every point, with the range
        of learning rates (at the ratio ``lr_d / lr_g`` given) for which it is
        locally stable.
    timeout, n_starts, seed
        Passed to :func:`gandyn.equilibria.find_equilibria`.
    grid_points
        Grid size per axis of the global Nash analysis.
    """
    entries = find_equilibria(vf, box, n_starts=n_starts, seed=seed, timeout=timeout)
    ratio = rule.lr_d / rule.lr_g if rule is not None else 1.0
    records = tuple(_describe_point(vf, e, rule, ratio) for e in entries)
    notes: list[str] = []
    if not entries:
        notes.append("no stationary point found" + (" in the box" if box else
                                                    " in closed form; give --box to search"))
    global_nash = None
    if box is not None:
        from gandyn.equilibria.grid_nash_report import global_nash_report

        global_nash, note = global_nash_report(vf, box, grid_points)
        if note:
            notes.append(note)
    return Analysis(vf, records, rule, box, global_nash, None, tuple(notes))


def to_dict(analysis: Analysis, spec: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON contract of ``gandyn analyze --json``."""
    from gandyn import __version__

    game = analysis.field.game
    data: dict[str, Any] = {
        "gandyn_version": __version__,
        "spec": dict(spec),
        "game": game.name,
        "loss": game.loss.name if game.loss else None,
        "regularizers": [r.describe() for r in game.regularizers],
        "symbols": {"theta": [s.name for s in game.theta], "psi": [s.name for s in game.psi]},
        "params": {p.name: p.value for p in game.params},
        "zero_sum": game.zero_sum,
        "equilibria": list(analysis.equilibria),
        "notes": list(analysis.notes),
    }
    if analysis.rule is not None:
        data["optimizer"] = {"name": analysis.rule.name, "lr_g": analysis.rule.lr_g,
                             "lr_d": analysis.rule.lr_d, "settings": dict(analysis.rule.settings)}
    if analysis.global_nash is not None:
        data.update(analysis.global_nash)
    if analysis.path is not None:
        data["path"] = analysis.path
    return data


def _fmt_complex(pair: list[float]) -> str:
    re, im = pair
    if abs(im) < 1e-12:
        return f"{re:.6g}"
    return f"{re:.6g} {'+' if im >= 0 else '-'} {abs(im):.6g}i"


def _fmt_point(point: Mapping[str, float]) -> str:
    return ", ".join(f"{k} = {v:.6g}" for k, v in point.items())


def to_text(analysis: Analysis) -> str:
    """A report for a reader."""
    game = analysis.field.game
    lines = [f"game: {game.name}, loss: {game.loss.name if game.loss else 'direct costs'}"
             + (f", regularizers: {', '.join(r.describe() for r in game.regularizers)}"
                if game.regularizers else "")
             + (", zero-sum" if game.zero_sum else ", not zero-sum")]
    if analysis.rule is not None:
        r = analysis.rule
        lines.append(f"update rule: {r.name}, lr_g = {r.lr_g:g}, lr_d = {r.lr_d:g}"
                     + "".join(f", {k} = {v}" for k, v in r.settings))
    for i, eq in enumerate(analysis.equilibria, 1):
        lines.append("")
        if eq["kind"] == "isolated":
            lines.append(f"equilibrium {i}: {_fmt_point(eq['point'])} ({eq['source']})")
        else:
            lines.append(f"stationary set {i}: {eq['equation'] or '(curve)'} "
                         f"({eq['source']}; {len(eq['samples'])} samples; "
                         f"evaluated at {_fmt_point(eq['evaluated_at'])})")
        eigen_text = ", ".join(_fmt_complex(p) for p in eq["eigenvalues"])
        if eq.get("nonsmooth"):
            lines.append("  flow: undecided, F is not differentiable here; eigenvalues of one "
                         f"smooth piece: {eigen_text}")
        else:
            verdict = eq["flow_class"] + (" (linear analysis inconclusive)"
                                          if eq["inconclusive"] else "")
            lines.append(f"  flow: {eq['stability']}, {verdict}; eigenvalues of dF/dx: "
                         + eigen_text)
        minimax = eq["local_minimax"]
        minimax_text = "" if minimax is None else f"; local minimax: {'yes' if minimax else 'no'}"
        lines.append(f"  Nash: {eq['nash']}{minimax_text}")
        for flag in eq["flags"]:
            lines.append(f"  note: {flag}")
        if "spectral_radius" in eq:
            stable_lr = eq["stable_lr"]
            lr_text = (
                "never locally stable for lr in the scan" if stable_lr is None
                else f"locally stable for lr_g in ({stable_lr[0]:.6g}, {stable_lr[1]:.6g})"
            )
            lines.append(f"  {analysis.rule.name if analysis.rule else 'map'}: spectral radius "
                         f"{eq['spectral_radius']:.6g} ({eq['map_stability']}); {lr_text}")
    if analysis.global_nash is not None:
        g = analysis.global_nash
        lines.append("")
        pure = g.get("pure_nash", [])
        if not pure:
            shown = "none (no pure Nash equilibrium in this box)"
        elif len(pure) <= 6:
            shown = "; ".join(_fmt_point(p) for p in pure)
        else:
            shown = (f"{len(pure)} grid points, from {_fmt_point(pure[0])} to "
                     f"{_fmt_point(pure[-1])} (--json lists them)")
        lines.append(f"pure Nash equilibria on the grid: {shown}")
        if g.get("duality_gap") is not None:
            lines.append(f"zero-sum values: min-max {g['min_max']:.6g}, "
                         f"max-min {g['max_min']:.6g}, duality gap {g['duality_gap']:.6g}")
        mixed = g.get("mixed")
        if mixed:
            lines.append(f"mixed equilibrium of the discretized game: value {mixed['value']:.6g}")
            for player in ("theta", "psi"):
                support = ", ".join(f"{v:.4g} ({p:.3g})" for v, p in mixed[player])
                lines.append(f"  {player} support (value (probability)): {support}")
    if analysis.path is not None:
        p = analysis.path
        lines.append("")
        kind = "dF/dx" if p["reference"] == "flow" else "the map's Jacobian"
        lines.append(f"eigenvalues of {kind} at {_fmt_point(p['point'])} along "
                     f"{p['parameter']} = {p['values'][0]:g}..{p['values'][-1]:g} "
                     f"({len(p['values'])} values):")
        events = p["events"] or [{"kind": "none", "value": float("nan")}]
        for e in events:
            if e["kind"] != "none":
                lines.append(f"  {e['kind']} at {p['parameter']} = {e['value']:.6g}")
            else:
                lines.append("  no collision or stability change along the path")
    for note in analysis.notes:
        lines.append(f"note: {note}")
    return "\n".join(lines)


def parameter_path(analysis: Analysis, text: str) -> dict[str, Any]:
    """Eigenvalues at the first isolated equilibrium along ``NAME=LOW:HIGH:N``.

    The eigenvalues are those of ``dF/dx`` (the flow) or, when the analysis
    has an update rule, of the rule's map. The point must stay stationary
    along the path (a path of ``gamma_r1`` keeps the Dirac-GAN's equilibrium;
    one of ``c`` moves it), else the path is refused.
    """
    from gandyn.cli.option_strings import parse_range
    from gandyn.equilibria.eigenvalue_paths import eigenvalue_path
    from gandyn.errors import SpecError, UnknownNameError
    from gandyn.rules.base import FieldFunctions
    from gandyn.rules.registry import make_rule

    vf = analysis.field
    name, low, high, count = parse_range(text, "--path", count=True, min_count=2)
    names = [p.name for p in vf.game.params]
    if name not in names:
        raise UnknownNameError(f"hyper-parameter of game {vf.game.name!r}", name, names)
    isolated = [e for e in analysis.equilibria if e["kind"] == "isolated"]
    if not isolated:
        raise SpecError("--path needs an isolated equilibrium (none was found)")
    point = isolated[0]["point"]
    x = np.array([point[s.name] for s in vf.game.state_symbols], dtype=np.float64)
    values = np.linspace(low, high, count)
    moved = max(float(np.max(np.abs(vf.field_fn(x, {name: v})))) for v in values)
    if moved > 1e-8:
        raise SpecError(f"--path {name}: the equilibrium {point} is not stationary along the path "
                        f"(|F| up to {moved:.3g}); choose a parameter that does not move it")
    rule = analysis.rule

    def matrix(value: float) -> np.ndarray[Any, Any]:
        if rule is None:
            return vf.jacobian_fn(x, {name: value})
        functions = FieldFunctions(lambda y: vf.field_fn(y, {name: value}),
                                   lambda y: vf.jacobian_fn(y, {name: value}),
                                   len(vf.game.theta),
                                   lambda y: vf.jacobian_derivative_fn(y, {name: value}))
        built = make_rule(rule.name, rule.lr_g, rule.lr_d, **dict(rule.settings))
        z = x[None, :]
        jac: np.ndarray[Any, Any] = built.map_jacobian(functions, z, built.init_buffers(z),
                                                       10**6)[0]
        return jac

    path = eigenvalue_path(matrix, name, values, reference="flow" if rule is None else "map")
    return {
        "parameter": name,
        "point": dict(point),
        "reference": path.reference,
        "values": [float(v) for v in path.values],
        "eigenvalues": [_complex_pairs(row) for row in path.eigenvalues],
        "events": [{"kind": e.kind, "value": e.value} for e in path.events],
    }
