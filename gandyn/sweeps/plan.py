"""The spec and the plan of a sweep.

A :class:`SweepSpec` is what the user asks for: a run spec
(:class:`~gandyn.runs.spec.RunSpec`: the game, the update rule, the steps, the
divergence bound and at most one start), the axes and the verdict settings. It
is read and written like a run spec (:meth:`SweepSpec.to_dict`,
:meth:`SweepSpec.from_dict`, :func:`load_sweep_spec`, :func:`sweep_spec_toml`)
and merged with given values by :func:`merge_sweep`. :func:`make_plan` checks
it against the game.

A :class:`SweepPlan` holds the game, the update rule with its base rates and
settings, the base start, the axes (:mod:`gandyn.sweeps.axes`; the first varies
slowest), the verdict thresholds (:mod:`gandyn.sweeps.chunk`) and the chunk
size. It is picklable (it travels to worker processes) and JSON-able, and its
digest keys the chunk files of :mod:`gandyn.sweeps.execution`.

The equilibrium ``x*`` is given (``equilibrium``) or the closed-form
stationary point of the game at its base hyper-parameters nearest to the
start (:func:`gandyn.derivation.stationary.closed_form_equilibria`);
:mod:`gandyn.sweeps.chunk` refines it per cell when an axis moves a hyper-parameter.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gandyn.errors import SpecError, UnknownNameError
from gandyn.runs.spec import GIVEN_KEYS, GameSpec, RunSpec, merge
from gandyn.sweeps.axes import Axis, AxisSpec, resolve_axis

if TYPE_CHECKING:
    from gandyn.games.game import Game

__all__ = ["SweepPlan", "SweepSpec", "load_sweep_spec", "make_plan", "merge_sweep",
           "sweep_spec_toml"]

#: The run spec's fields a sweep uses (it records no trajectory: no every, measure, clip or
#: minibatch), then the sweep's own.
_RUN_PART = ("game", "rule", "steps", "max_norm", "starts")
_SWEEP_PART = ("axes", "equilibrium", "tol", "window", "growth", "chunk_size")
_LEGACY_SWEEP_KEYS = ("game", "game_file", "loss", "regularizers", "params", "optimizer",
                      "lr_g", "lr_d", "settings", "x0", "steps", "axes", "equilibrium", "tol",
                      "window", "growth", "max_norm", "chunk_size")


@dataclass(frozen=True)
class SweepSpec:
    """Everything a sweep is asked for: a run spec, the axes and the verdict settings.

    Attributes
    ----------
    run
        The game, the update rule with its base rates and settings, the steps
        per cell, the divergence bound and the base start (at most one; symbols
        left out take the game's default).
    axes
        The axes; the first varies slowest.
    equilibrium
        The reference equilibrium (the coordinates it fixes), or ``None`` for
        the game's closed form nearest the start.
    tol, window, growth
        Verdict thresholds (:mod:`gandyn.sweeps.chunk`); ``window`` ``None``:
        ``max(3, steps // 2)``.
    chunk_size
        Cells simulated together.
    """

    run: RunSpec = field(default_factory=RunSpec)
    axes: tuple[AxisSpec, ...] = ()
    equilibrium: tuple[tuple[str, float], ...] | None = None
    tol: float = 1e-3
    window: int | None = None
    growth: float = 0.05
    chunk_size: int = 16384

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON and TOML (:meth:`from_dict` reads it back)."""
        run = self.run.to_dict()
        return {**{key: run[key] for key in _RUN_PART},
                "axes": [a.to_dict() for a in self.axes],
                "equilibrium": None if self.equilibrium is None else dict(self.equilibrium),
                "tol": self.tol, "window": self.window, "growth": self.growth,
                "chunk_size": self.chunk_size}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "sweep spec") -> SweepSpec:
        """The spec :meth:`to_dict` wrote, or the flat option-text form of earlier versions.

        Raises
        ------
        SpecError
            One line naming ``where`` and the field.
        """
        if not isinstance(data, Mapping):
            raise SpecError(f"{where}: the top level must be a table of settings")
        if _is_legacy_sweep(data):
            data = _legacy_sweep_data(data, where)
        for key in data:
            if key not in (*_RUN_PART, *_SWEEP_PART):
                raise UnknownNameError(f"setting in {where}", str(key), (*_RUN_PART, *_SWEEP_PART))
        run = RunSpec.from_dict({k: data[k] for k in _RUN_PART if k in data}, where)
        default = cls()
        axes = data.get("axes") or []
        if not isinstance(axes, list):
            raise SpecError(f"{where}: axes must be a list of tables ([[axes]])")
        parsed = []
        for i, item in enumerate(axes):
            parsed.append(_axis_from_data(item, f"{where}: axes[{i}]"))
        equilibrium = data.get("equilibrium")
        if equilibrium is not None and not (isinstance(equilibrium, Mapping) and all(
                _is_number(v) for v in equilibrium.values())):
            raise SpecError(f"{where}: equilibrium must be a table of numbers")
        return cls(
            run=run, axes=tuple(parsed),
            equilibrium=None if equilibrium is None else tuple(
                (str(k), float(v)) for k, v in equilibrium.items()),
            tol=_number(data, "tol", default.tol, where),
            window=None if data.get("window") is None else _integer(data, "window", 0, where),
            growth=_number(data, "growth", default.growth, where),
            chunk_size=_integer(data, "chunk_size", default.chunk_size, where))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number(data: Mapping[str, Any], key: str, default: float, where: str) -> float:
    value = data.get(key)
    if value is None:
        return default
    if not _is_number(value):
        raise SpecError(f"{where}: {key} must be a number")
    return float(value)


def _integer(data: Mapping[str, Any], key: str, default: int, where: str) -> int:
    value = data.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(f"{where}: {key} must be an integer")
    return value


def _axis_from_data(item: Any, where: str) -> AxisSpec:
    if not isinstance(item, Mapping):
        raise SpecError(f"{where} must be a table (name, low, high, count, log)")
    known = ("name", "low", "high", "count", "log")
    for key in item:
        if key not in known:
            raise UnknownNameError(f"setting in {where}", str(key), known)
    name = item.get("name")
    if not isinstance(name, str):
        raise SpecError(f"{where}: name must be a string")
    for key in ("low", "high"):
        if not _is_number(item.get(key)):
            raise SpecError(f"{where}: {key} must be a number")
    count = item.get("count")
    if isinstance(count, bool) or not isinstance(count, int):
        raise SpecError(f"{where}: count must be an integer")
    log = item.get("log", False)
    if not isinstance(log, bool):
        raise SpecError(f"{where}: log must be true or false")
    return AxisSpec(name, float(item["low"]), float(item["high"]), count, log)


def _is_legacy_sweep(data: Mapping[str, Any]) -> bool:
    from gandyn.runs.spec_data import is_legacy

    axes = data.get("axes")
    return (is_legacy(data) or "x0" in data
            or (isinstance(axes, list) and any(isinstance(a, str) for a in axes)))


def _legacy_sweep_data(data: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The flat sweep spec of earlier versions in the structured form (option text parsed)."""
    from gandyn.runs.spec_data import legacy_run_data
    from gandyn.symbolic.option_text import parse_axis

    for key in data:
        if key not in _LEGACY_SWEEP_KEYS:
            raise UnknownNameError(f"setting in {where}", str(key), _LEGACY_SWEEP_KEYS)
    run_keys = [k for k in _LEGACY_SWEEP_KEYS if k not in (*_SWEEP_PART, "x0")]
    result = legacy_run_data({k: data[k] for k in run_keys if k in data}, where)
    x0 = data.get("x0")
    if x0:
        result["starts"] = [x0]
    axes = data.get("axes") or []
    if not isinstance(axes, list) or not all(isinstance(a, str) for a in axes):
        raise SpecError(f"{where}: axes must be a list of strings")
    result["axes"] = []
    for text in axes:
        name, low, high, count, log = parse_axis(text, f"{where}: axes")
        result["axes"].append({"name": name, "low": low, "high": high, "count": count,
                               "log": log})
    result.update({k: data[k] for k in _SWEEP_PART if k != "axes" and k in data})
    return result


def merge_sweep(base: SweepSpec, **given: Any) -> SweepSpec:
    """``base`` with the given values over it (see :func:`gandyn.runs.spec.merge`).

    Run values by the names of :data:`gandyn.runs.spec.GIVEN_KEYS`; ``axes``
    (:class:`AxisSpec`), ``equilibrium`` (a mapping or ``None``), ``tol``,
    ``window``, ``growth`` and ``chunk_size`` replace the base's.
    """
    run_given = {k: v for k, v in given.items() if k in GIVEN_KEYS}
    spec = replace(base, run=merge(base.run, **run_given))
    for key, value in given.items():
        if key in GIVEN_KEYS:
            continue
        if key not in _SWEEP_PART:
            raise TypeError(f"merge_sweep() got an unknown value {key}")
        if key == "axes":
            value = tuple(value)
        elif key == "equilibrium" and value is not None:
            value = tuple((str(k), float(v)) for k, v in dict(value).items())
        spec = replace(spec, **{key: value})
    return spec


def sweep_spec_toml(spec: SweepSpec) -> str:
    """The sweep spec as a TOML document that :func:`load_sweep_spec` reads back."""
    from gandyn import __version__
    from gandyn.runs.spec_files import toml_document

    return toml_document(spec.to_dict(),
                         f"gandyn {__version__} sweep spec (gandyn sweep --spec FILE)")


def load_sweep_spec(path: str | Path) -> SweepSpec:
    """Read a sweep spec: ``--dump-spec`` TOML, JSON, a sweep sidecar or an earlier form."""
    from gandyn.runs.spec_files import read_spec_data

    data, where = read_spec_data(path)
    return SweepSpec.from_dict(data, where)


@dataclass(frozen=True)
class SweepPlan:
    """Everything that defines a sweep, resolved against the game (picklable, JSON-able).

    Attributes
    ----------
    game
        The game part of the spec (hyper-parameters sorted by name).
    optimizer, lr_g, lr_d, settings
        The update rule and its base learning rates and settings.
    start
        The base initial state, every state symbol.
    steps
        Iterations per cell.
    axes
        The axes, in the spec's order; the first varies slowest.
    equilibrium
        The reference equilibrium (the coordinates it fixes).
    equilibrium_source
        ``given`` or ``closed form``.
    tol, window, growth, max_norm
        The verdict thresholds (:mod:`gandyn.sweeps.chunk`).
    chunk_size
        Cells per chunk.
    """

    game: GameSpec = field(default_factory=GameSpec)
    optimizer: str = "simgd"
    lr_g: float = 0.1
    lr_d: float = 0.1
    settings: tuple[tuple[str, Any], ...] = ()
    start: tuple[tuple[str, float], ...] = ()
    steps: int = 1000
    axes: tuple[Axis, ...] = ()
    equilibrium: tuple[tuple[str, float], ...] = ()
    equilibrium_source: str = "given"
    tol: float = 1e-3
    window: int = 200
    growth: float = 0.05
    max_norm: float = 1e6
    chunk_size: int = 16384

    @property
    def shape(self) -> tuple[int, ...]:
        """Cells along each axis."""
        return tuple(a.count for a in self.axes)

    @property
    def n_cells(self) -> int:
        """Number of cells."""
        return math.prod(self.shape)

    @property
    def n_chunks(self) -> int:
        """Number of chunks."""
        return -(-self.n_cells // self.chunk_size)

    def chunk_cells(self, index: int) -> tuple[int, int]:
        """The cells ``[first, stop)`` of chunk ``index``."""
        first = index * self.chunk_size
        return first, min(first + self.chunk_size, self.n_cells)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON sidecars and the digest.

        The game is written as the option text of earlier versions
        (``regularizers: ["r1:gamma=0.3"]``), so that the digest, which keys
        the chunk files of an interrupted sweep, is the one they were written under.
        """
        from gandyn.symbolic.option_text import format_named

        game = self.game
        return {
            "game": format_named(game.name, dict(game.options)), "game_file": game.file,
            "loss": game.loss,
            "regularizers": [format_named(r.name, dict(r.settings)) for r in game.regularizers],
            "params": dict(game.params), "optimizer": self.optimizer, "lr_g": self.lr_g,
            "lr_d": self.lr_d, "settings": dict(self.settings), "start": dict(self.start),
            "steps": self.steps,
            "axes": [{"name": a.name, "kind": a.kind, "target": a.target, "low": a.low,
                      "high": a.high, "count": a.count, "log": a.log, "text": a.text}
                     for a in self.axes],
            "equilibrium": dict(self.equilibrium), "equilibrium_source": self.equilibrium_source,
            "tol": self.tol, "window": self.window, "growth": self.growth,
            "max_norm": self.max_norm, "chunk_size": self.chunk_size,
        }

    def digest(self) -> str:
        """A hash of the plan: chunk files of another plan are never reused."""
        from gandyn import __version__

        text = json.dumps([__version__, self.to_dict()], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def spec(self, given: SweepSpec) -> SweepSpec:
        """``given`` with what the plan resolved written in: the start and the window."""
        run = replace(given.run, starts=(self.start,))
        return replace(given, run=run, window=self.window)


def make_plan(spec: SweepSpec, built: Game | None = None, *,
              max_memory: int | None = None) -> SweepPlan:
    """Check a sweep spec against the game and resolve its axes and equilibrium.

    Parameters
    ----------
    spec
        The sweep: its run part names the game and the update rule (not the
        flow); its start (at most one) gives some coordinates and the others
        take the game's default; ``window`` defaults to ``max(3, steps // 2)``;
        ``equilibrium`` to the game's closed form nearest the start.
    built
        The game ``spec`` names, when the caller already built it.
    max_memory
        The memory budget in bytes (default :data:`gandyn.limits.DEFAULT_MAX_MEMORY`):
        a sweep whose cells and chunk would not fit
        (:func:`gandyn.limits.sweep_bytes`) is refused before its game is derived.

    Returns
    -------
    SweepPlan
    """
    from gandyn.derivation.field import derive
    from gandyn.limits import RANGES, check_memory, check_value, sweep_bytes
    from gandyn.rules.registry import RULES
    from gandyn.rules.registry import SETTING_NAMES as RULE_SETTINGS
    from gandyn.runs.build import build_game_part

    run = spec.run
    optimizer, lr_g, lr_d = run.rule.name, run.rule.lr_g, run.rule.lr_d
    settings = dict(run.rule.settings)
    steps, max_norm, tol, growth = run.steps, run.max_norm, spec.tol, spec.growth
    chunk_size = spec.chunk_size
    if optimizer == "flow":
        # The flow by fixed RK4 steps of `lr` (gandyn.dynamics.flow.RungeKuttaFlow): a map
        # like the rules'; an adaptive solver has no steps to sweep.
        if settings.pop("method", None) != "rk4" or settings:
            raise SpecError("a sweep of the flow takes RK4 steps of `lr`: give `method` rk4 "
                            "and no other flow setting")
    elif optimizer not in RULES:
        raise UnknownNameError("update rule for a sweep", optimizer, RULES)
    for key in settings:
        if key not in RULE_SETTINGS[optimizer]:
            raise SpecError(f"optimizer {optimizer!r} does not take {key!r}")
    for key, value in (("lr_g", lr_g), ("lr_d", lr_d), ("steps", steps), ("tol", tol),
                       ("max_norm", max_norm), ("growth", growth), ("chunk_size", chunk_size)):
        check_value(key, value)
    for key, setting in settings.items():
        if key in RANGES:
            check_value(key, setting)
    if steps < 3:
        raise SpecError("`steps` must be at least 3")
    if spec.window is not None:
        check_value("window", spec.window)
    window = max(3, steps // 2) if spec.window is None else int(spec.window)
    if not 3 <= window <= steps:  # three thirds of at least one step each
        raise SpecError(f"`window` must lie between 3 and `steps` ({steps}), not {window}")
    if not spec.axes:
        raise SpecError("give at least one `axis` NAME=LOW:HIGH:COUNT[:log]")
    for given_axis in spec.axes:
        check_value("axis_count", given_axis.count, what="axis")
        for end in (given_axis.low, given_axis.high):
            if not RANGES["box"].contains(end):
                raise SpecError(f"`axis` {given_axis.name}: the ends must be "
                                f"{RANGES['box'].describe()}, not {end}")
    if len(run.starts) > 1:
        raise SpecError("a sweep has one start (give the others as axes)")
    start = dict(run.starts[0]) if run.starts else {}
    for name, value in (*start.items(), *dict(spec.equilibrium or {}).items(),
                        *run.game.params):
        if not RANGES["box"].contains(value):
            raise SpecError(f"{name}={value}: must be {RANGES['box'].describe()}")
    g = built if built is not None else build_game_part(run.game)
    names = [s.name for s in g.state_symbols]
    cells = math.prod(int(axis.count) for axis in spec.axes)
    check_memory(sweep_bytes(cells, len(spec.axes), min(chunk_size, cells), len(names)),
                 max_memory, f"a sweep of {cells} cells", "axis", "chunk_size")
    base = g.default_start
    for key in start:
        if key not in base:
            raise UnknownNameError("state symbol", key, names)
    full_start = {**base, **start}
    resolved = [resolve_axis(axis, g, optimizer) for axis in spec.axes]
    seen: dict[str, str] = {}
    for axis in resolved:
        touched = ("lr_g", "lr_d") if axis.target == "lr" else (axis.target,)
        for item in touched:
            if item in seen:
                raise SpecError(f"`axis` {axis.name}: sets {item} already set by "
                                f"`axis` {seen[item]}")
            seen[item] = axis.name
    for axis in resolved:
        if axis.kind == "setting":
            try:  # the rule checks its own settings (beta in (-1, 1), ...)
                from gandyn.rules.registry import make_rule

                for value in (axis.low, axis.high):
                    make_rule(optimizer, 1.0, 1.0, **{**settings, axis.target: value})
            except SpecError as exc:
                raise SpecError(f"`axis` {axis.name}: {exc}") from None
    source = "given"
    equilibrium: Mapping[str, float] | None = (
        None if spec.equilibrium is None else dict(spec.equilibrium))
    if equilibrium is None:
        from gandyn.derivation.stationary import closed_form_equilibria

        found = closed_form_equilibria(derive(g))
        if not found:
            raise SpecError("no closed-form equilibrium of this game was found; give it with "
                            "`equilibrium` SYM=VALUE,...")

        def gap(point: Mapping[str, float]) -> float:
            return float(sum((full_start[k] - v) ** 2 for k, v in point.items()))

        # Several isolated points (the Gaussian game's sigma = +-1): the one nearest the start.
        isolated = [p for p in found if len(p) == len(names)] or found
        equilibrium = min(isolated, key=gap)
        source = "closed form"
    else:
        for key in equilibrium:
            if key not in base:
                raise UnknownNameError("state symbol", key, names)
        if not equilibrium:
            raise SpecError("`equilibrium`: give at least one coordinate")
        if len(equilibrium) == len(names):
            point = np.array([[float(equilibrium[n]) for n in names]])
            residual = float(np.max(np.abs(derive(g).field_fn(point))))
            if not residual <= 1e-9:
                raise SpecError(f"`equilibrium`: the field does not vanish there "
                                f"(max |F| = {residual:.3g}); give a stationary point")
    ordered_eq = tuple((n, float(equilibrium[n])) for n in names if n in equilibrium)
    game = replace(run.game, params=tuple(sorted((k, float(v)) for k, v in run.game.params)))
    return SweepPlan(
        game=game, optimizer=optimizer,
        lr_g=float(lr_g), lr_d=float(lr_d), settings=tuple(sorted(settings.items())),
        start=tuple((n, float(full_start[n])) for n in names), steps=int(steps),
        axes=tuple(resolved), equilibrium=ordered_eq, equilibrium_source=source,
        tol=float(tol), window=window, growth=float(growth), max_norm=float(max_norm),
        chunk_size=int(chunk_size))
