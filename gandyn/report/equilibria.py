"""An equilibrium analysis as text for a reader: :func:`analysis_text`, :func:`nash_existence_text`.

The JSON of the same analysis is :meth:`gandyn.equilibria.Analysis.to_dict`;
numbers printed here are those of the JSON (complex values cleaned by
:func:`gandyn.equilibria.records.complex_pairs`), at six significant digits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from gandyn.equilibria.lipschitz_critic import CriticDynamics, CriticGame
from gandyn.equilibria.nash_existence import NashExistence
from gandyn.equilibria.records import (
    Analysis,
    Equilibrium,
    EquilibriumPath,
    GlobalNash,
    RuleChoice,
    complex_pairs,
)

__all__ = ["analysis_text", "nash_existence_text"]


def _fmt_complex(pair: Sequence[float]) -> str:
    re, im = pair
    if abs(im) < 1e-12:
        return f"{re:.6g}"
    return f"{re:.6g} {'+' if im >= 0 else '-'} {abs(im):.6g}i"


def _fmt_point(point: Mapping[str, float]) -> str:
    return ", ".join(f"{k} = {v:.6g}" for k, v in point.items())


def _equilibrium_lines(i: int, eq: Equilibrium, rule: RuleChoice | None) -> list[str]:
    lines = [""]
    if eq.kind == "isolated":
        lines.append(f"equilibrium {i}: {_fmt_point(eq.point or {})} ({eq.source})")
    else:
        lines.append(f"stationary set {i}: {eq.equation or '(curve)'} "
                     f"({eq.source}; {len(eq.samples)} samples; "
                     f"evaluated at {_fmt_point(eq.evaluated_at)})")
    eigen_text = ", ".join(_fmt_complex(p) for p in complex_pairs(eq.eigenvalues))
    if eq.nonsmooth:
        lines.append("  flow: undecided, F is not differentiable here; eigenvalues of one "
                     f"smooth piece: {eigen_text}")
    else:
        verdict = eq.flow_class + (" (linear analysis inconclusive)" if eq.inconclusive else "")
        lines.append(f"  flow: {eq.stability}, {verdict}; eigenvalues of dF/dx: " + eigen_text)
    lines.append(f"  Nash: {eq.nash} ({eq.nash_reason})")
    if eq.local_minimax is not None:
        lines.append(f"  local minimax: {eq.local_minimax} ({eq.local_minimax_reason})")
    if eq.stackelberg is not None:
        lines.append(f"  Stackelberg (generator leads): {eq.stackelberg} "
                     f"({eq.stackelberg_reason})")
    if eq.time_scales is not None:
        scales = eq.time_scales
        critical = (", ".join(f"{c:.6g}" for c in scales.critical) if scales.critical
                    else f"none in [{scales.ratio_range[0]:g}, {scales.ratio_range[1]:g}]")
        lines.append(f"  time scales (lr_d = tau lr_g): stable for {scales.stable_ratios()}; "
                     f"critical ratios: {critical}; at tau = {scales.tau:g}: "
                     f"{scales.flow.stability}, {scales.flow.kind}")
    for flag in eq.flags:
        lines.append(f"  note: {flag}")
    if eq.rule is not None:
        stable_lr = eq.rule.stable_lr
        lr_text = (
            "never locally stable for lr in the scan" if stable_lr is None
            else f"locally stable for lr_g in ({stable_lr[0]:.6g}, {stable_lr[1]:.6g})"
        )
        verdict = eq.rule.stability
        if verdict == "marginal":
            verdict += ": on the unit circle, linear analysis inconclusive"
        lines.append(f"  {rule.name if rule else 'map'}: spectral radius "
                     f"{eq.rule.spectral_radius:.6g} ({verdict}); {lr_text}")
    return lines


def _global_nash_lines(g: GlobalNash) -> list[str]:
    lines = [""]
    pure = g.pure_nash
    if not pure:
        shown = "none (no pure Nash equilibrium in this box)"
    elif len(pure) <= 6:
        shown = "; ".join(_fmt_point(p) for p in pure)
    else:
        shown = (f"{len(pure)} grid points, from {_fmt_point(pure[0])} to "
                 f"{_fmt_point(pure[-1])} (--json lists them)")
    lines.append(f"pure Nash equilibria on the grid: {shown}")
    if g.duality_gap is not None:
        lines.append(f"zero-sum values: min-max {g.min_max:.6g}, "
                     f"max-min {g.max_min:.6g}, duality gap {g.duality_gap:.6g}")
    mixed = g.mixed
    if mixed is not None and mixed.value is not None:
        lines.append(f"mixed equilibrium of the discretized game: value {mixed.value:.6g}")
    elif mixed is not None and mixed.cost_g is not None and mixed.cost_d is not None:
        lines.append("mixed equilibrium of the discretized game: not zero-sum (a bimatrix game), "
                     f"by Lemke-Howson: expected costs generator {mixed.cost_g:.6g}, "
                     f"discriminator {mixed.cost_d:.6g} (one equilibrium: others may cost "
                     "otherwise)")
    elif g.mixed_skipped is not None:
        lines.append("mixed equilibrium of the discretized game: not zero-sum, none computed "
                     f"({g.mixed_skipped})")
    if mixed is not None:
        for player, support in (("theta", mixed.theta), ("psi", mixed.psi)):
            listed = ", ".join(f"{v:.4g} ({p:.3g})" for v, p in support)
            lines.append(f"  {player} support (value (probability)): {listed}")
        if mixed.deviation_gains is not None and mixed.tol is not None:
            lines.append("  " + _deviation_check(mixed.deviation_gains, mixed.tol, mixed.verified))
    return lines


def _path_lines(followed: EquilibriumPath) -> list[str]:
    p = followed.path
    kind = "dF/dx" if p.reference == "flow" else "the map's Jacobian"
    lines = ["", f"eigenvalues of {kind} at {_fmt_point(followed.point)} along "
                 f"{p.parameter} = {float(p.values[0]):g}..{float(p.values[-1]):g} "
                 f"({len(p.values)} values):"]
    if not p.events:
        lines.append("  no collision or stability change along the path")
    for e in p.events:
        lines.append(f"  {e.kind} at {p.parameter} = {e.value:.6g}")
    return lines


def analysis_text(analysis: Analysis) -> str:
    """The analysis as ``gandyn analyze`` prints it."""
    game = analysis.field.game
    lines = [f"game: {game.name}, loss: {game.loss.name if game.loss else 'direct costs'}"
             + (f", regularizers: {', '.join(r.describe() for r in game.regularizers)}"
                if game.regularizers else "")
             + (", zero-sum" if game.zero_sum else ", not zero-sum")]
    if game.quadrature is not None:
        lines.append(f"quadrature: {game.quadrature.describe()}")
    rule = analysis.rule
    if rule is not None:
        lines.append(f"update rule: {rule.name}, lr_g = {rule.lr_g:g}, lr_d = {rule.lr_d:g}"
                     + "".join(f", {k} = {v}" for k, v in rule.settings.items()))
    for i, eq in enumerate(analysis.equilibria, 1):
        lines += _equilibrium_lines(i, eq, rule)
    if analysis.global_nash is not None:
        lines += _global_nash_lines(analysis.global_nash)
    if analysis.path is not None:
        lines += _path_lines(analysis.path)
    for note in analysis.notes:
        lines.append(f"note: {note}")
    return "\n".join(lines)


def _fmt_state(point: Mapping[str, float]) -> str:
    return "(" + ", ".join(f"{v:.4g}" for v in point.values()) + ")"


def _snapped(point: Mapping[str, float], scale: float) -> dict[str, float]:
    """``point`` with values below ``1e-9 scale`` in magnitude shown as 0 (solver rounding)."""
    return {k: 0.0 if abs(v) < 1e-9 * scale else v for k, v in point.items()}


def nash_existence_text(result: NashExistence) -> str:
    """The pure verdict, best-response dynamics and discretized game of ``analyze --nash``."""
    box = ", ".join(f"{k}={lo:g}:{hi:g}" for k, (lo, hi) in result.box.items())
    scale = 1.0 + max(max(abs(lo), abs(hi)) for lo, hi in result.box.values())
    lines = [f"Nash existence on the box {box}:"]
    pure = result.pure
    point = _fmt_point(_snapped(pure.point, scale))
    if pure.verdict == "exists":
        lines.append(f"  pure Nash equilibrium: exists at {point} "
                     f"(Nikaido-Isoda gap {pure.gap:.3g} <= tol {pure.tol:.3g})")
    else:
        lines.append(f"  pure Nash equilibrium: none found in the box; the smallest "
                     f"Nikaido-Isoda gap found is {pure.gap:.6g} > tol {pure.tol:.3g}, "
                     f"at {point}")
        for deviation in pure.deviations:
            if deviation.gain > pure.tol:
                lines.append(f"    the {deviation.player} gains {deviation.gain:.6g} by moving "
                             f"to {_fmt_point(deviation.to)}")
        if pure.values is not None:
            values = pure.values
            lines.append(f"  pure values: min-max {values.min_max:.6g} at "
                         f"{_fmt_point(values.theta)}; max-min {values.max_min:.6g} at "
                         f"{_fmt_point(values.psi)} (every state's gap is at least their "
                         "difference)")
    dynamics = result.dynamics
    names = ", ".join(dynamics.names)
    states = [dict(zip(dynamics.names, map(float, s), strict=True)) for s in dynamics.states]
    if dynamics.outcome == "converged":
        lines.append(f"  best-response dynamics: converged in {len(states) - 1} rounds to "
                     f"{_fmt_point(states[-1])}")
    elif dynamics.outcome == "cycle" and dynamics.cycle_length is not None:
        cycle = states[-1 - dynamics.cycle_length:]
        lines.append(f"  best-response dynamics: a cycle of {dynamics.cycle_length} rounds "
                     f"({names}): " + " -> ".join(_fmt_state(p) for p in cycle))
    else:
        lines.append(f"  best-response dynamics: no fixed point or cycle in {len(states) - 1} "
                     f"rounds; last ({names}) {_fmt_state(states[-1])}")
    disc = result.discretized
    lines.append(f"  discretized game ({disc.points} points per axis: {disc.strategies[0]} x "
                 f"{disc.strategies[1]} strategies): {disc.pure_equilibria} pure equilibria")
    if disc.value is not None:
        lines.append(f"    min-max {disc.min_max:.6g}, max-min {disc.max_min:.6g}, duality gap "
                     f"{disc.duality_gap:.6g}; mixed equilibrium value {disc.value:.6g}")
    elif disc.method is not None and disc.cost_g is not None and disc.cost_d is not None:
        lines.append(f"    not zero-sum (a bimatrix game): a mixed equilibrium by Lemke-Howson, "
                     f"expected costs generator {disc.cost_g:.6g}, discriminator "
                     f"{disc.cost_d:.6g} (one equilibrium: others may cost otherwise)")
    elif disc.skipped is not None:
        lines.append(f"    not zero-sum: no mixed equilibrium computed ({disc.skipped})")
    if disc.method is not None:
        for player, support in (("generator", disc.theta_support),
                                ("discriminator", disc.psi_support)):
            shown = ", ".join(f"{_fmt_state(s)} ({p:.3g})" for s, p in support[:8])
            more = f", ... ({len(support)} in all; --json lists them)" if len(support) > 8 else ""
            lines.append(f"    {player} support (strategy (probability)): {shown}{more}")
        if disc.deviation_gains is not None and disc.tol is not None:
            lines.append("    " + _deviation_check(disc.deviation_gains, disc.tol, disc.verified))
    if result.critic is not None:
        lines += _critic_lines(*result.critic)
    return "\n".join(lines)


def _critic_lines(solved: CriticGame, dynamics: CriticDynamics) -> list[str]:
    theta = ", ".join(f"{t:.6g}" for t in solved.theta_min_max)
    lines = ["  against a nonparametric 1-Lipschitz critic (every 1-Lipschitz function, by "
             f"linear programming on the support): min-max W1 {solved.min_max:.6g} at "
             f"theta = {theta}"]
    if solved.max_min is not None and solved.gap_lower_bound is not None:
        verdict = ("a pure Nash equilibrium exists" if solved.pure_nash else
                   f"no pure Nash equilibrium (every pure pair's gap >= "
                   f"{solved.gap_lower_bound:.6g})")
        lines.append(f"    max-min {solved.max_min:.6g}: {verdict}; mixed value "
                     f"{solved.mixed_value:.6g} (the generator mixing over the data's points)")
    else:
        lines.append("    the data's points leave the generator's box: max-min not derived")
    path = " -> ".join(f"{t:.4g}" for t in dynamics.thetas)
    cycle = (f" (a cycle of {dynamics.cycle_length})" if dynamics.cycle_length is not None
             else "")
    lines.append(f"    best responses (the critic, then the generator at its top): theta "
                 f"{path}{cycle}")
    return lines


def _deviation_check(gains: tuple[float, float], tol: float, verified: bool) -> str:
    """The line that checks a mixed equilibrium: each player's best pure deviation gain."""
    check = "an equilibrium" if verified else "NOT an equilibrium within the tolerance"
    return (f"check: the best pure deviation gains the generator {gains[0]:.3g}, "
            f"the discriminator {gains[1]:.3g} (tol {tol:.3g}): {check}")
