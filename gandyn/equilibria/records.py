"""The results of an equilibrium analysis as records: :class:`Equilibrium`, :class:`Analysis`.

Each record holds plain values (floats, tuples, mappings; no numpy arrays) and
its ``to_dict()`` gives its part of the JSON contract of ``gandyn analyze
--json``: :meth:`Equilibrium.to_dict` one entry of ``equilibria``,
:meth:`GlobalNash.to_dict` the keys of the global Nash picture,
:meth:`EquilibriumPath.to_dict` the ``path`` record and :meth:`Analysis.to_dict`
the whole document. Text for a reader is rendered by :mod:`gandyn.report.equilibria`.

Complex numbers are written as ``[re, im]`` pairs; rounding noise below
``1e-12`` of the spectrum's scale is written as an exact zero
(:func:`complex_pairs`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import numpy as np

if TYPE_CHECKING:
    from gandyn.derivation.field import VectorField
    from gandyn.equilibria.eigenvalue_paths import EigenvaluePath
    from gandyn.equilibria.smoothness import SwitchCheck
    from gandyn.equilibria.timescales import TimeScales

__all__ = [
    "Analysis",
    "AnalysisSpec",
    "Equilibrium",
    "EquilibriumPath",
    "GlobalNash",
    "MixedNash",
    "PathRange",
    "RuleChoice",
    "RuleStability",
    "complex_pairs",
]

Box = Mapping[str, tuple[float, float]]


def complex_pairs(values: Iterable[complex]) -> list[list[float]]:
    """``[[re, im], ...]`` with parts below ``1e-12`` of the spectrum's scale set to zero."""
    array = np.asarray(list(values), dtype=np.complex128)
    scale = max(1.0, float(np.max(np.abs(array)))) if len(array) else 1.0

    def clean(v: float) -> float:
        # "+ 0.0" turns a negative zero into zero.
        return 0.0 if abs(v) < 1e-12 * scale else float(v) + 0.0

    return [[clean(z.real), clean(z.imag)] for z in array]


def _frozen(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


def _point(point: Mapping[str, float]) -> str:
    """``theta = 0, psi = 1``."""
    return ", ".join(f"{k} = {v:.6g}" for k, v in point.items())


def _where(e: Equilibrium) -> str:
    """An equilibrium's point, or a set's equation (or first sample)."""
    if e.kind == "isolated" and e.point is not None:
        return _point(e.point)
    return f"set: {e.equation}" if e.equation else f"set through {_point(e.evaluated_at)}"


@dataclass(frozen=True)
class RuleChoice:
    """An update rule to analyze: its name, both learning rates and its settings.

    ``settings`` (``beta``, ``first``, ...) are kept sorted by name, the order
    in which the JSON and the text report list them.
    """

    name: str
    lr_g: float
    lr_d: float
    settings: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "settings", _frozen(dict(sorted(self.settings.items()))))

    def to_dict(self) -> dict[str, Any]:
        """The ``optimizer`` record of the JSON."""
        return {"name": self.name, "lr_g": self.lr_g, "lr_d": self.lr_d,
                "settings": dict(self.settings)}


class PathRange(NamedTuple):
    """A hyper-parameter path: ``n_values`` values from ``low`` to ``high``; a 4-tuple works too."""

    parameter: str
    low: float
    high: float
    n_values: int


@dataclass(frozen=True)
class RuleStability:
    """An update rule's map linearized at an equilibrium.

    Attributes
    ----------
    eigenvalues
        Eigenvalues of the map's Jacobian on the extended state.
    spectral_radius
        Their largest modulus.
    stability
        ``"stable"`` (spectral radius below one), ``"marginal"`` (on the unit
        circle within :data:`gandyn.equilibria.maps.MAP_MARGINAL_TOL`: the
        linear test is inconclusive) or ``"unstable"``.
    stable_lr
        ``(low, high)``: the learning rates ``lr_g`` (at the analysis's ratio
        ``lr_d / lr_g``) for which the point is locally stable, or ``None``.
    stable_lr_method
        How ``stable_lr`` was obtained: a closed form or a numeric scan.
    """

    eigenvalues: tuple[complex, ...]
    spectral_radius: float
    stability: str
    stable_lr: tuple[float, float] | None
    stable_lr_method: str

    @property
    def stable(self) -> bool:
        """Whether the spectral radius is below one."""
        return self.stability == "stable"

    def to_dict(self) -> dict[str, Any]:
        """The rule's keys of an equilibrium's JSON entry."""
        return {
            "map_eigenvalues": complex_pairs(self.eigenvalues),
            "spectral_radius": self.spectral_radius,
            "map_stability": self.stability,
            "stable_lr": None if self.stable_lr is None else list(self.stable_lr),
            "stable_lr_method": self.stable_lr_method,
        }


@dataclass(frozen=True)
class Equilibrium:
    """A stationary point (or set of them) of the flow and everything known about it.

    Attributes
    ----------
    kind
        ``"isolated"`` (one point) or ``"set"`` (a line or surface of points).
    source
        ``"sympy"`` (closed form) or ``"numeric"`` (root finding in a box).
    point
        The point of an isolated equilibrium, else ``None``.
    equation
        A set's equations (``"psi = 0"``), or ``None`` (isolated, or a curved set).
    samples
        Points of a set; ``(point,)`` for an isolated one.
    evaluated_at
        Where the local analysis was made: the point, or a set's first sample.
    eigenvalues
        Eigenvalues of the flow's Jacobian ``dF/dx`` there.
    stability, flow_class
        The flow's verdict (``stable``/``unstable``/``marginal``) and class
        (``stable focus``, ``saddle``, ``centre``, ...), see
        :func:`gandyn.equilibria.flow_stability`.
    inconclusive
        Linearization cannot decide: a marginal spectrum or a kink of ``F``.
    nonsmooth
        Terms of ``F`` with a kink at the point (:func:`gandyn.equilibria.nonsmooth_at`).
    nash, nash_reason
        ``differential-nash``, ``local-nash``, ``not-nash`` or ``undecided``
        (:func:`gandyn.equilibria.nash_type`), and why.
    local_minimax, local_minimax_reason
        ``yes``, ``no`` or ``undecided`` (zero-sum games;
        :func:`gandyn.equilibria.local_minimax`) and why; ``None`` otherwise.
    rule
        Stability under the analyzed update rule, or ``None`` without one.
    stackelberg, stackelberg_reason
        ``differential-stackelberg``, ``not-stackelberg`` or ``undecided`` with
        the generator leading (:func:`gandyn.equilibria.stackelberg.stackelberg_type`),
        and why.
    time_scales
        The flow with the discriminator ``tau`` times faster: its class at
        the analyzed ``tau`` and the critical ratios
        (:func:`gandyn.equilibria.timescales.time_scales`); ``None`` at a kink.
    """

    kind: Literal["isolated", "set"]
    source: Literal["sympy", "numeric"]
    point: Mapping[str, float] | None
    equation: str | None
    samples: tuple[Mapping[str, float], ...]
    evaluated_at: Mapping[str, float]
    eigenvalues: tuple[complex, ...]
    stability: str
    flow_class: str
    inconclusive: bool
    nonsmooth: tuple[str, ...]
    nash: str
    nash_reason: str
    local_minimax: str | None
    local_minimax_reason: str | None
    rule: RuleStability | None = None
    stackelberg: str | None = None
    stackelberg_reason: str | None = None
    time_scales: TimeScales | None = None

    @property
    def flags(self) -> list[str]:
        """What a reader should not miss about this point.

        The flow can attract non-Nash points and repel Nash ones (Mazumdar,
        Ratliff and Sastry 2020); an undecided Nash test gets no flag. A kink
        of ``F`` leaves no Jacobian there.
        """
        stable = self.stability == "stable"
        flags = []
        if stable and self.nash == "not-nash" and not self.nonsmooth:
            flags.append("stable but not Nash")
        if self.nash in ("differential-nash", "local-nash") and not stable and not self.nonsmooth:
            flags.append("Nash but not stable")
        if self.nonsmooth:
            flags.append(
                f"F is not differentiable here ({', '.join(self.nonsmooth)} switches at this "
                "point): the eigenvalues are those of one smooth piece and do not decide "
                "stability")
        return flags

    def to_dict(self) -> dict[str, Any]:
        """The equilibrium's entry in the JSON contract (``equilibria[i]``)."""
        data: dict[str, Any] = {"kind": self.kind, "source": self.source}
        if self.kind == "isolated":
            data["point"] = dict(self.point or {})
        else:
            data["equation"] = self.equation
            data["samples"] = [dict(s) for s in self.samples]
            data["evaluated_at"] = dict(self.evaluated_at)
        data.update({
            "eigenvalues": complex_pairs(self.eigenvalues),
            "stability": self.stability,
            "flow_class": self.flow_class,
            "nonsmooth": list(self.nonsmooth),
            "inconclusive": self.inconclusive,
            "nash": self.nash,
            "nash_reason": self.nash_reason,
            "local_minimax": self.local_minimax,
            "local_minimax_reason": self.local_minimax_reason,
            "stackelberg": self.stackelberg,
            "stackelberg_reason": self.stackelberg_reason,
            "time_scales": None if self.time_scales is None else self.time_scales.to_dict(),
            "flags": self.flags,
        })
        if self.rule is not None:
            data.update(self.rule.to_dict())
        return data


@dataclass(frozen=True)
class MixedNash:
    """A mixed equilibrium of the grid game: both supports, and its value or expected costs.

    ``theta`` and ``psi`` are ``(grid value, probability)`` pairs on each
    player's support. A zero-sum game's equilibrium (``method``
    ``"linear-program"``, :func:`gandyn.equilibria.grid_nash.mixed_equilibrium`)
    has a ``value``; a general-sum game's (``"lemke-howson"``,
    :func:`gandyn.equilibria.bimatrix.bimatrix_equilibrium`) has none, but
    each player's expected cost and the gain of its best pure deviation,
    checked against ``tol``.
    """

    value: float | None
    theta: tuple[tuple[float, float], ...]
    psi: tuple[tuple[float, float], ...]
    method: Literal["linear-program", "lemke-howson"] = "linear-program"
    cost_g: float | None = None
    cost_d: float | None = None
    deviation_gains: tuple[float, float] | None = None
    tol: float | None = None

    @property
    def verified(self) -> bool:
        """Whether the deviation gains were checked and neither exceeds ``tol``."""
        return (self.deviation_gains is not None and self.tol is not None
                and max(self.deviation_gains) <= self.tol)

    def to_dict(self) -> dict[str, Any]:
        """The ``mixed`` record of the JSON.

        A zero-sum game's record keeps the keys it has always had (``value``,
        ``theta``, ``psi``); a general-sum game's has the keys of ``analyze
        --nash``'s ``discretized.mixed`` record, with the supports as
        ``[value, probability]`` pairs.
        """
        theta = [list(p) for p in self.theta]
        psi = [list(p) for p in self.psi]
        if self.method == "linear-program":
            return {"value": self.value, "theta": theta, "psi": psi}
        return {"method": self.method, "value": self.value, "cost_g": self.cost_g,
                "cost_d": self.cost_d,
                "deviation_gains": (None if self.deviation_gains is None
                                    else list(self.deviation_gains)),
                "tol": self.tol, "verified": self.verified, "theta": theta, "psi": psi}


@dataclass(frozen=True)
class GlobalNash:
    """The game on a grid of a box: pure Nash equilibria, zero-sum values, a mixed equilibrium.

    See :mod:`gandyn.equilibria.grid_nash`; ``duality_gap``, ``min_max`` and
    ``max_min`` are ``None`` for a game that is not zero-sum; ``mixed`` is
    ``None`` when a pure equilibrium exists, and for a general-sum game
    (``general_sum``) also when its bimatrix game is too large
    (``mixed_skipped`` says so).
    """

    grid_points: int
    pure_nash: tuple[Mapping[str, float], ...]
    d_response_on_boundary: bool
    g_response_on_boundary: bool
    duality_gap: float | None = None
    min_max: float | None = None
    max_min: float | None = None
    mixed: MixedNash | None = None
    general_sum: bool = False
    mixed_skipped: str | None = None

    @property
    def note(self) -> str | None:
        """A warning when some best response lies on the box's boundary."""
        if self.d_response_on_boundary or self.g_response_on_boundary:
            return ("some best responses lie on the box's boundary: the box may be too small, "
                    "or best responses may not exist")
        return None

    def to_dict(self) -> dict[str, Any]:
        """The global keys of the JSON contract.

        ``mixed_skipped`` (why no mixed equilibrium was computed, or ``None``)
        is there for general-sum games only: a zero-sum game's keys are those
        it has always had.
        """
        data = {
            "grid_points": self.grid_points,
            "pure_nash": [dict(p) for p in self.pure_nash],
            "best_response_on_boundary": {"discriminator": self.d_response_on_boundary,
                                          "generator": self.g_response_on_boundary},
            "duality_gap": self.duality_gap,
            "min_max": self.min_max,
            "max_min": self.max_min,
            "mixed": None if self.mixed is None else self.mixed.to_dict(),
        }
        if self.general_sum:
            data["mixed_skipped"] = self.mixed_skipped
        return data


@dataclass(frozen=True)
class EquilibriumPath:
    """Eigenvalues at an equilibrium along a hyper-parameter path."""

    point: Mapping[str, float]
    path: EigenvaluePath

    def to_dict(self) -> dict[str, Any]:
        """The ``path`` record of the JSON."""
        return {
            "parameter": self.path.parameter,
            "point": dict(self.point),
            "reference": self.path.reference,
            "values": [float(v) for v in self.path.values],
            "eigenvalues": [complex_pairs(row) for row in self.path.eigenvalues],
            "events": [{"kind": e.kind, "value": e.value} for e in self.path.events],
        }


@dataclass(frozen=True)
class AnalysisSpec:
    """What an analysis was asked for, as its caller spelled it; echoed as ``spec`` in the JSON.

    The game is described as the command line spelled it (``game`` and
    ``regularizers`` in ``NAME[:key=value,...]`` form, ``params`` as
    ``NAME=VALUE`` texts: the ``analyze --json`` contract echoes them),
    ``path`` as ``NAME=LOW:HIGH:N``; the other
    fields are the structured values :func:`gandyn.equilibria.analyze` takes.
    """

    game: str = "dirac"
    game_file: str | None = None
    loss: str | None = None
    regularizers: tuple[str, ...] = ()
    params: tuple[str, ...] = ()
    box: Box | None = None
    optimizer: str | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)
    path: str | None = None
    n_starts: int = 64
    seed: int = 0
    grid_points: int = 101
    tau: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        """The ``spec`` record of the JSON."""
        return {"game": self.game, "game_file": self.game_file, "loss": self.loss,
                "regularizers": list(self.regularizers), "params": list(self.params),
                "box": {k: list(v) for k, v in (self.box or {}).items()},
                "optimizer": self.optimizer, "settings": dict(self.settings), "path": self.path,
                "n_starts": self.n_starts, "seed": self.seed, "grid_points": self.grid_points,
                "tau": self.tau}


@dataclass(frozen=True)
class Analysis:
    """The equilibria of a game, the global Nash picture on a box and an eigenvalue path.

    Attributes
    ----------
    field
        The derived game.
    equilibria
        Every stationary point or set found, classified.
    rule
        The update rule analyzed, or ``None``.
    box
        The search box, or ``None``.
    global_nash
        The grid game on the box (one parameter per player), or ``None``.
    path
        Eigenvalues along a hyper-parameter path, or ``None``.
    notes
        What the analysis could not do or a reader should know.
    spec
        The request as its caller spelled it (``spec`` in the JSON; ``{}`` when ``None``).
    switching
        Root candidates on a switching surface of ``F`` where ``F`` (with
        ``sign(0) = 0``) is not zero: not equilibria, each with whether it is a
        sliding-mode equilibrium (:func:`gandyn.equilibria.smoothness.switching_point`).
    """

    field: VectorField
    equilibria: tuple[Equilibrium, ...]
    rule: RuleChoice | None = None
    box: Box | None = None
    global_nash: GlobalNash | None = None
    path: EquilibriumPath | None = None
    notes: tuple[str, ...] = ()
    spec: AnalysisSpec | None = None
    switching: tuple[SwitchCheck, ...] = ()

    def _title(self) -> str:
        game = self.field.game
        loss = game.loss.name if game.loss is not None else "direct costs"
        regs = "".join(f" + {r.describe()}" for r in game.regularizers)
        return f"{game.name} / {loss}{regs}"

    def __repr__(self) -> str:
        # The field and every record print at length: the game and what was found instead.
        found = "; ".join(
            f"{_where(e)}: {e.stability}, {e.nash}" for e in self.equilibria[:3])
        more = f"; {len(self.equilibria) - 3} more" if len(self.equilibria) > 3 else ""
        rule = f", rule {self.rule.name}" if self.rule is not None else ""
        nash = ""
        if self.global_nash is not None:
            nash = f", pure Nash on the grid: {len(self.global_nash.pure_nash)}"
        count = len(self.equilibria)
        return (f"Analysis({self._title()}{rule}: {count} equilibri{'um' if count == 1 else 'a'}"
                f"{' (' + found + more + ')' if found else ''}{nash})")

    def _repr_html_(self) -> str:
        """The notebook's view: the game, each equilibrium, the global Nash picture, notes."""
        from gandyn.tables import html_block, html_fields, html_table

        game = self.field.game
        fields: list[tuple[str, Any]] = [
            ("game", game.name), ("loss", game.loss.name if game.loss else None),
            ("regularizers", [r.describe() for r in game.regularizers]),
            ("params", {p.name: p.value for p in game.params}), ("zero-sum", game.zero_sum)]
        if self.rule is not None:
            fields.append(("update rule", f"{self.rule.name}, lr_g = {self.rule.lr_g:g}, "
                                          f"lr_d = {self.rule.lr_d:g}"))
        if self.box is not None:
            fields.append(("box", {k: f"[{lo:g}, {hi:g}]" for k, (lo, hi) in self.box.items()}))
        header = ["equilibrium", "source", "eigenvalues of dF/dx", "flow", "class", "Nash",
                  "local minimax", "flags"]
        if self.rule is not None:
            header += ["spectral radius", f"{self.rule.name}", "stable lr_g"]
        rows = []
        for e in self.equilibria:
            eigenvalues = [complex(re, im) for re, im in complex_pairs(e.eigenvalues)]
            row: list[Any] = [_where(e), e.source, eigenvalues, e.stability, e.flow_class,
                              e.nash, e.local_minimax, "; ".join(e.flags)]
            if self.rule is not None:
                r = e.rule
                row += ([None] * 3 if r is None else
                        [r.spectral_radius, r.stability,
                         None if r.stable_lr is None
                         else f"({r.stable_lr[0]:g}, {r.stable_lr[1]:g})"])
            rows.append(row)
        parts = [html_fields(fields, caption="game"),
                 html_table(rows, header, caption="equilibria")]
        if self.global_nash is not None:
            g = self.global_nash
            nash: list[tuple[str, Any]] = [
                ("grid points", g.grid_points),
                ("pure Nash equilibria", [_point(p) for p in g.pure_nash] or "none"),
                ("min-max", g.min_max), ("max-min", g.max_min), ("duality gap", g.duality_gap)]
            if g.mixed is not None and g.mixed.method == "lemke-howson":
                nash += [("mixed equilibrium", "Lemke-Howson (not zero-sum: a bimatrix game)"),
                         ("mixed expected costs (generator, discriminator)",
                          f"({g.mixed.cost_g:g}, {g.mixed.cost_d:g})"),
                         ("best pure deviation gains (generator, discriminator)",
                          None if g.mixed.deviation_gains is None else
                          f"({g.mixed.deviation_gains[0]:.3g}, "
                          f"{g.mixed.deviation_gains[1]:.3g}), tol {g.mixed.tol:.3g}"),
                         ("verified", g.mixed.verified)]
            elif g.mixed is not None:
                nash += [("mixed value", g.mixed.value)]
            if g.mixed is not None:
                nash += [("mixed theta (value, probability)", [f"({v:g}, {q:g})"
                                                               for v, q in g.mixed.theta]),
                         ("mixed psi (value, probability)", [f"({v:g}, {q:g})"
                                                             for v, q in g.mixed.psi])]
            if g.mixed_skipped is not None:
                nash.append(("mixed equilibrium skipped", g.mixed_skipped))
            parts.append(html_fields(nash, caption="the game on a grid of the box"))
        if self.path is not None:
            path = self.path.path
            values = path.values
            parts.append(html_table(
                [[event.kind, event.value] for event in path.events], ["event", path.parameter],
                caption=f"eigenvalues at {_point(self.path.point)} along {path.parameter} from "
                        f"{float(values[0]):g} to {float(values[-1]):g} ({len(values)} values)"))
        if self.notes:
            parts.append(html_table([[n] for n in self.notes], ["notes"]))
        return html_block(f"Analysis: {self._title()}", *parts)

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of ``gandyn analyze --json``."""
        from gandyn import __version__

        game = self.field.game
        data: dict[str, Any] = {
            "gandyn_version": __version__,
            "spec": {} if self.spec is None else self.spec.to_dict(),
            "game": game.name,
            "loss": game.loss.name if game.loss else None,
            "regularizers": [r.describe() for r in game.regularizers],
            "symbols": {"theta": [s.name for s in game.theta],
                        "psi": [s.name for s in game.psi]},
            "params": {p.name: p.value for p in game.params},
            "zero_sum": game.zero_sum,
            "quadrature": None if game.quadrature is None else game.quadrature.to_dict(),
            "equilibria": [e.to_dict() for e in self.equilibria],
            "switching_points": [c.to_dict() for c in self.switching],
            "notes": list(self.notes),
        }
        if self.rule is not None:
            data["optimizer"] = self.rule.to_dict()
        if self.global_nash is not None:
            data.update(self.global_nash.to_dict())
        if self.path is not None:
            data["path"] = self.path.to_dict()
        return data
