"""Every equilibrium of a game classified: :func:`analyze` gives an ``Analysis`` record.

Stability belongs to the game *and* the update rule; being a Nash equilibrium
belongs to the game alone. :func:`classify` gathers both for one stationary
point (or set) as an :class:`~gandyn.equilibria.records.Equilibrium`;
:func:`analyze` finds the stationary points, classifies each one and, on a
box, adds the global picture (:func:`gandyn.equilibria.global_nash.global_nash`)
and, given a path, the eigenvalues along it
(:func:`equilibrium_path`).

The inputs are structured values; text such as ``theta=-1:1`` is parsed by
the command line.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from gandyn.arrays import Array
from gandyn.derivation.field import VectorField
from gandyn.equilibria.eigenvalue_paths import PathError, check_path, eigenvalue_path
from gandyn.equilibria.finding import find_equilibria
from gandyn.equilibria.flow import flow_stability
from gandyn.equilibria.global_nash import NOT_ONE_PARAMETER_NOTE, global_nash, grid_game_applies
from gandyn.equilibria.local_optimality import local_minimax, nash_type
from gandyn.equilibria.records import (
    Analysis,
    AnalysisSpec,
    Equilibrium,
    EquilibriumPath,
    GlobalNash,
    PathRange,
    RuleChoice,
)
from gandyn.equilibria.rule_stability import check_rule, map_jacobian, rule_stability
from gandyn.equilibria.smoothness import SwitchCheck, nonsmooth_at, switching_point
from gandyn.equilibria.stackelberg import StackelbergVerdict, stackelberg_type
from gandyn.equilibria.stationary_sets import StationarySet
from gandyn.equilibria.timescales import time_scales
from gandyn.errors import SpecError
from gandyn.limits import RANGES, check_memory, check_value, parse_memory, path_bytes

__all__ = ["analyze", "classify", "equilibrium_path"]


def classify(vf: VectorField, entry: StationarySet,
             rule: RuleChoice | None = None, tau: float = 1.0) -> Equilibrium:
    """The flow, Nash, minimax and (given a rule) map analysis of one stationary point or set.

    A set is analyzed at its first sample. A kink of ``F`` at the point
    (``|psi|``, ``sign``, ``relu``, ...) leaves no Jacobian there: the
    eigenvalues are those of one smooth piece and the verdict is inconclusive,
    and the Nash and minimax tests check the costs one-sidedly
    (:mod:`gandyn.equilibria.local_optimality`). The Stackelberg test and the
    time-scale analysis (the flow with the discriminator ``tau`` times faster)
    need second derivatives: at a kink they say ``undecided`` and ``None``.
    """
    names = [s.name for s in vf.game.state_symbols]
    at = entry.point if entry.point is not None else entry.samples[0]
    x = np.array([at[n] for n in names], dtype=np.float64)
    flow = flow_stability(vf.jacobian_fn(x))
    kinks = tuple(nonsmooth_at(vf, at))
    nash = nash_type(vf, at)
    minimax = local_minimax(vf, at)
    if kinks:
        leader = StackelbergVerdict("undecided", "F is not differentiable here: the "
                                    "second-order conditions do not apply")
        scales = None
    else:
        leader = stackelberg_type(vf, at)
        scales = time_scales(vf.jacobian_fn(x), len(vf.game.theta), tau)
    return Equilibrium(
        kind=entry.kind,
        source=entry.source,
        point=None if entry.point is None else dict(entry.point),
        equation=entry.equation,
        samples=tuple(dict(s) for s in entry.samples),
        evaluated_at=dict(at),
        eigenvalues=tuple(complex(z) for z in flow.eigenvalues),
        stability=flow.stability,
        flow_class=flow.kind,
        inconclusive=flow.inconclusive or bool(kinks),
        nonsmooth=kinks,
        nash=nash.verdict,
        nash_reason=nash.reason,
        local_minimax=None if minimax is None else minimax.verdict,
        local_minimax_reason=None if minimax is None else minimax.reason,
        rule=None if rule is None else rule_stability(vf, rule, x, flow.eigenvalues),
        stackelberg=leader.verdict,
        stackelberg_reason=leader.reason,
        time_scales=scales,
    )


def _check_counts(n_starts: int, grid_points: int) -> None:
    if isinstance(n_starts, int) and n_starts < 1:
        raise SpecError(f"n_starts must be at least 1, got {n_starts}")
    if isinstance(grid_points, int) and grid_points < 2:
        raise SpecError(f"grid_points must be at least 2, got {grid_points}")
    check_value("n_starts", n_starts)
    check_value("grid_points", grid_points)


def analyze(
    field: VectorField,
    *,
    box: Mapping[str, tuple[float, float]] | None = None,
    rule: RuleChoice | None = None,
    path: PathRange | tuple[str, float, float, int] | None = None,
    solve_timeout: float = 5.0,
    n_starts: int = 64,
    seed: int = 0,
    grid_points: int = 101,
    spec: AnalysisSpec | None = None,
    max_memory: int | str | None = None,
    tau: float = 1.0,
) -> Analysis:
    """Find the stationary points of ``field`` and classify each one.

    Parameters
    ----------
    field
        The derived game.
    box
        ``{symbol: (low, high)}`` for every state symbol: enables numeric root
        finding there and, for one-parameter players, the global Nash analysis.
    rule
        An update rule whose map is linearized at every point, with the range
        of learning rates (at its ratio ``lr_d / lr_g``) for which it is
        locally stable.
    path
        ``(parameter, low, high, count)``: eigenvalues at the first isolated
        equilibrium along a hyper-parameter (of the rule's map given a rule).
    solve_timeout, n_starts, seed
        Passed to :func:`gandyn.equilibria.find_equilibria` (``timeout`` there).
    grid_points
        Grid size per axis of the global Nash analysis (at least 2).
    spec
        The request as its caller spelled it, kept with the result for its JSON.
    tau
        The ratio ``lr_d / lr_g`` at which each point's time-scale flow is
        classified (:func:`gandyn.equilibria.timescales.time_scales`; the
        critical ratios are found whatever it is).
    max_memory
        The memory budget, bytes or text such as ``"512M"`` (default
        :data:`gandyn.limits.DEFAULT_MAX_MEMORY`):
        a path whose eigenvalues would not fit (:func:`gandyn.limits.path_bytes`)
        is refused before any is computed.

    Raises
    ------
    gandyn.errors.GandynError
        For a rule that cannot be built or rates that are not positive
        (:func:`gandyn.equilibria.rule_stability.check_rule`), a bad box
        (:func:`gandyn.equilibria.find_equilibria`), an unknown path parameter
        or one that moves the equilibrium
        (:func:`equilibrium_path`), or
        counts below their minimum.
    """
    _check_counts(n_starts, grid_points)
    check_value("tau", tau)
    check_value("solve_timeout", solve_timeout)
    check_value("seed", seed)
    if box is not None:
        for name, ends in box.items():
            for end in ends:
                if not RANGES["box"].contains(end):
                    raise SpecError(f"box[{name!r}] must lie in {RANGES['box'].describe()}; "
                                    f"got {end}")
    if rule is not None:
        check_rule(rule)
    if path is not None:
        path = PathRange(*path)
        check_path(field, *path)
        check_value("path_count", path[3], what="path")
        for end in (path[1], path[2]):
            if not RANGES["box"].contains(end):
                raise SpecError(f"`path` {path[0]}: the ends must be "
                                f"{RANGES['box'].describe()}, not {end}")
        budget = None if max_memory is None else parse_memory(max_memory)
        check_memory(path_bytes(int(path[3]), len(field.game.state_symbols)), budget,
                     f"a path of {path[3]} values", "path")
    found = find_equilibria(field, box, n_starts=n_starts, seed=seed, timeout=solve_timeout)
    notes: list[str] = []
    if not found and box is None:
        # No closed form: search numerically around the game's start before giving up.
        searched = default_box(field)
        found = find_equilibria(field, searched, n_starts=n_starts, seed=seed,
                                use_sympy=False)
        shown = ", ".join(f"{k}={a:g}:{b:g}" for k, (a, b) in searched.items())
        notes.append(f"no stationary point in closed form; searched the box {shown} around "
                     f"the game's start numerically ({n_starts} starts; --box chooses another)")
    entries, switching = _on_switching_surfaces(field, found)
    equilibria = tuple(classify(field, e, rule, tau) for e in entries)
    notes += [c.describe() for c in switching]
    if not entries and not switching:
        notes.append("no stationary point found" + (" in the box" if box else
                                                    "; give --box to search elsewhere"))
    nash: GlobalNash | None = None
    if box is not None:
        if grid_game_applies(field):
            nash = global_nash(field, box, grid_points)
            if nash.note:
                notes.append(nash.note)
        else:
            notes.append(NOT_ONE_PARAMETER_NOTE)
    followed = None
    if path is not None:
        isolated = [e.point for e in equilibria if e.kind == "isolated" and e.point is not None]
        if not isolated:
            raise PathError("needs an isolated equilibrium (none was found)")
        followed = equilibrium_path(field, isolated[0], rule, *path)
    return Analysis(field, equilibria, rule, box, nash, followed, tuple(notes), spec,
                    switching=tuple(switching))


#: Half-width of the default search box, relative to ``max(1, |start|)`` per coordinate.
DEFAULT_BOX_SCALE = 3.0


def default_box(vf: VectorField) -> dict[str, tuple[float, float]]:
    """Where :func:`analyze` searches when no box is given and sympy finds no closed form.

    Each coordinate's range is centred on the game's starting value (0 where it
    has none) with half-width ``3 max(1, |start|)``: the parameters' scale as the
    game's author set it, which for the catalogue's GANs is the data's scale.
    """
    start = dict(vf.game.definition.start)
    box = {}
    for symbol in vf.game.state_symbols:
        centre = float(start.get(symbol.name, 0.0))
        half = DEFAULT_BOX_SCALE * max(1.0, abs(centre))
        box[symbol.name] = (centre - half, centre + half)
    return box


def _on_switching_surfaces(vf: VectorField, found: list[StationarySet]
                           ) -> tuple[list[StationarySet], list[SwitchCheck]]:
    """Drop root candidates on a switching surface where ``F`` (``sign(0) = 0``) is not zero.

    A root finder converges to ``psi = 1e-16`` beside a jump of ``F`` across
    ``psi = 0`` where one side's smooth piece vanishes; gandyn's field on the
    surface is not zero there, so the candidate is no equilibrium. It is kept
    as a :class:`~gandyn.equilibria.smoothness.SwitchCheck`, which says
    whether it is a sliding-mode (Filippov) equilibrium.
    """
    kept: list[StationarySet] = []
    dropped: list[SwitchCheck] = []
    for entry in found:
        at = entry.point if entry.point is not None else entry.samples[0]
        check = switching_point(vf, at)
        if check is None or check.equilibrium:
            kept.append(entry)
        else:
            dropped.append(check)
    return kept, dropped


def equilibrium_path(vf: VectorField, point: Mapping[str, float], rule: RuleChoice | None,
                     parameter: str, low: float, high: float, count: int) -> EquilibriumPath:
    """Eigenvalues at a stationary point along ``count`` values of a hyper-parameter.

    The eigenvalues are those of ``dF/dx`` (the flow) or, given an update rule,
    of the rule's map. The point must stay stationary along the path (a path
    of ``gamma_r1`` keeps the Dirac-GAN's equilibrium; one of ``c`` moves it).

    Raises
    ------
    gandyn.errors.GandynError
        For a bad path (:func:`check_path`).
    PathError
        When the point is not stationary along the path.
    """
    check_path(vf, parameter, low, high, count)
    x = np.array([point[s.name] for s in vf.game.state_symbols], dtype=np.float64)
    values = np.linspace(low, high, int(count))
    moved = max(float(np.max(np.abs(vf.field_fn(x, {parameter: v})))) for v in values)
    if moved > 1e-8:
        raise PathError(f"{parameter}: the equilibrium {dict(point)} is not stationary along the "
                        f"path (|F| up to {moved:.3g}); choose a parameter that does not move it")

    def matrix(value: float) -> Array:
        if rule is None:
            return vf.jacobian_fn(x, {parameter: value})
        return map_jacobian(vf, rule, x, {parameter: value})

    path = eigenvalue_path(matrix, parameter, values, reference="flow" if rule is None else "map")
    return EquilibriumPath(dict(point), path)
