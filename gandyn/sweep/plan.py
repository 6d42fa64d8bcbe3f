"""The plan of a sweep: everything that defines it, as plain data.

A :class:`SweepPlan` holds the game, the update rule with its base rates and
settings, the base start, the axes (:mod:`gandyn.sweep.axes`; the first varies
slowest), the verdict thresholds (:mod:`gandyn.sweep.chunk`) and the chunk
size. It is picklable (it travels to worker processes) and JSON-able, and its
digest keys the chunk files of :mod:`gandyn.sweep.execution`.

The equilibrium ``x*`` is given (``equilibrium``) or the closed-form
stationary point of the game at its base hyper-parameters nearest to the
start (:func:`gandyn.report.simulation.equilibria`); :mod:`gandyn.sweep.chunk` refines it
per cell when an axis moves a hyper-parameter.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from gandyn.errors import SpecError
from gandyn.sweep.axes import Axis, _resolve_axis

if TYPE_CHECKING:
    from gandyn.games.game import Game

__all__ = ["SweepPlan", "make_plan"]


@dataclass(frozen=True)
class SweepPlan:
    """Everything that defines a sweep, as plain data (picklable, JSON-able).

    Attributes
    ----------
    game, game_file, loss, regularizers, params
        The game, as for ``gandyn simulate`` (params by symbol name).
    optimizer, lr_g, lr_d, settings
        The update rule and its base learning rates and settings.
    start
        The base initial state, every state symbol.
    steps
        Iterations per cell.
    axes
        The axes, in command-line order; the first varies slowest.
    equilibrium
        The reference equilibrium (the coordinates it fixes).
    equilibrium_source
        ``given`` or ``closed form``.
    tol, window, growth, max_norm
        The verdict thresholds (:mod:`gandyn.sweep.chunk`).
    chunk_size
        Cells per chunk.
    """

    game: str = "dirac"
    game_file: str | None = None
    loss: str | None = None
    regularizers: tuple[str, ...] = ()
    params: tuple[tuple[str, float], ...] = ()
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
        """Plain data for JSON sidecars."""
        data = asdict(self)
        data["params"] = dict(self.params)
        data["settings"] = dict(self.settings)
        data["start"] = dict(self.start)
        data["equilibrium"] = dict(self.equilibrium)
        data["axes"] = [{**asdict(a), "text": a.text} for a in self.axes]
        return data

    def digest(self) -> str:
        """A hash of the plan: chunk files of another plan are never reused."""
        from gandyn import __version__

        text = json.dumps([__version__, self.to_dict()], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def make_plan(
    *,
    game: str = "dirac",
    game_file: str | None = None,
    loss: str | None = None,
    regularizers: Sequence[str] = (),
    params: Mapping[str, float] | None = None,
    optimizer: str = "simgd",
    lr_g: float = 0.1,
    lr_d: float = 0.1,
    settings: Mapping[str, Any] | None = None,
    start: Mapping[str, float] | None = None,
    steps: int = 1000,
    axes: Sequence[str] = (),
    equilibrium: Mapping[str, float] | None = None,
    tol: float = 1e-3,
    window: int | None = None,
    growth: float = 0.05,
    max_norm: float = 1e6,
    chunk_size: int = 16384,
    built: Game | None = None,
) -> SweepPlan:
    """Check a sweep's options against the game and resolve axes and equilibrium.

    Parameters
    ----------
    game, game_file, loss, regularizers, params
        The game (:func:`gandyn.run.spec.build_game`).
    optimizer, lr_g, lr_d, settings
        The update rule (not the flow) with its base rates and settings.
    start
        Initial coordinates; the others take the game's default start.
    steps
        Iterations per cell (at least 3).
    axes
        ``name=low:high:count[:log]`` texts (:func:`parse_axis`).
    equilibrium
        The reference equilibrium (default: the game's closed form).
    tol, window, growth, max_norm
        Verdict thresholds; ``window`` defaults to ``max(3, steps // 2)``.
    chunk_size
        Cells simulated together.
    built
        The game these options name, when the caller already built it.

    Returns
    -------
    SweepPlan
    """
    from gandyn.derive.field import derive
    from gandyn.errors import UnknownNameError
    from gandyn.rules.registry import RULES
    from gandyn.run.spec import RULE_SETTINGS, build_game

    params = dict(params or {})
    settings = dict(settings or {})
    if optimizer not in RULES:
        raise UnknownNameError("update rule for a sweep", optimizer, RULES)
    for key in settings:
        if key not in RULE_SETTINGS[optimizer]:
            raise SpecError(f"optimizer {optimizer!r} does not take {key!r}")
    for name, value in (("--lr-g", lr_g), ("--lr-d", lr_d)):
        if not (value > 0 and math.isfinite(value)):
            raise SpecError(f"{name} must be a positive number, not {value:g}")
    if steps < 3:
        raise SpecError("--steps must be at least 3")
    window = max(3, steps // 2) if window is None else int(window)
    if not 3 <= window <= steps:  # three thirds of at least one step each
        raise SpecError(f"--window must lie between 3 and --steps ({steps}), not {window}")
    for name, value in (("--tol", tol), ("--max-norm", max_norm)):
        if not (value > 0 and math.isfinite(value)):
            raise SpecError(f"{name} must be a positive number, not {value:g}")
    if not (growth >= 0 and math.isfinite(growth)):
        raise SpecError(f"--growth must be a non-negative number, not {growth:g}")
    if chunk_size < 1:
        raise SpecError("--chunk-size must be at least 1")
    if not axes:
        raise SpecError("give at least one --axis NAME=LOW:HIGH:COUNT[:log]")
    g = built if built is not None else build_game(game, game_file, loss, regularizers, params)
    names = [s.name for s in g.state_symbols]
    base = g.default_start
    for key in start or {}:
        if key not in base:
            raise UnknownNameError("state symbol", key, names)
    full_start = {**base, **(start or {})}
    resolved = [_resolve_axis(text, g, optimizer) for text in axes]
    seen: dict[str, str] = {}
    for axis in resolved:
        touched = ("lr_g", "lr_d") if axis.target == "lr" else (axis.target,)
        for item in touched:
            if item in seen:
                raise SpecError(f"--axis {axis.name}: sets {item} already set by "
                                f"--axis {seen[item]}")
            seen[item] = axis.name
    for axis in resolved:
        if axis.kind == "setting":
            try:  # the rule checks its own settings (beta in (-1, 1), ...)
                from gandyn.rules.registry import make_rule

                for value in (axis.low, axis.high):
                    make_rule(optimizer, 1.0, 1.0, **{**settings, axis.target: value})
            except SpecError as exc:
                raise SpecError(f"--axis {axis.name}: {exc}") from None
    source = "given"
    if equilibrium is None:
        from gandyn.derive.stationary import closed_form_equilibria

        found = closed_form_equilibria(derive(g))
        if not found:
            raise SpecError("no closed-form equilibrium of this game was found; give it with "
                            "--equilibrium SYM=VALUE,...")

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
            raise SpecError("--equilibrium: give at least one coordinate")
        if len(equilibrium) == len(names):
            point = np.array([[float(equilibrium[n]) for n in names]])
            residual = float(np.max(np.abs(derive(g).field_fn(point))))
            if not residual <= 1e-9:
                raise SpecError(f"--equilibrium: the field does not vanish there "
                                f"(max |F| = {residual:.3g}); give a stationary point")
    ordered_eq = tuple((n, float(equilibrium[n])) for n in names if n in equilibrium)
    return SweepPlan(
        game=game, game_file=game_file, loss=loss, regularizers=tuple(regularizers),
        params=tuple(sorted((k, float(v)) for k, v in params.items())), optimizer=optimizer,
        lr_g=float(lr_g), lr_d=float(lr_d), settings=tuple(sorted(settings.items())),
        start=tuple((n, float(full_start[n])) for n in names), steps=int(steps),
        axes=tuple(resolved), equilibrium=ordered_eq, equilibrium_source=source,
        tol=float(tol), window=window, growth=float(growth), max_norm=float(max_norm),
        chunk_size=int(chunk_size))
