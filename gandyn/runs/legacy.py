"""The run API of earlier versions, kept for callers not yet ported to :class:`RunSpec`.

:class:`SimulationSpec` holds option text (``regularizers=("r1:gamma=0.3",)``)
as earlier versions did; it is read like an old spec file
(:meth:`RunSpec.from_dict`), so :func:`run_simulation` runs exactly what
:func:`gandyn.runs.build.run` runs, with the same defaults (the flow's horizon
is ``steps * lr_g``). New code uses :mod:`gandyn.runs.spec` and
:mod:`gandyn.runs.build`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from gandyn.runs.build import RunResult, build_game_part, resolve_starts, run
from gandyn.runs.spec import RunSpec

if TYPE_CHECKING:
    from gandyn.games.game import Game

__all__ = ["SimulationResult", "SimulationSpec", "build_game", "run_simulation",
           "starting_points"]

#: The result of :func:`run_simulation`.
SimulationResult = RunResult


@dataclass(frozen=True)
class SimulationSpec:
    """A run in the flat option-text form of earlier versions (see :class:`RunSpec`)."""

    game: str = "dirac"
    game_file: str | None = None
    loss: str | None = None
    regularizers: tuple[str, ...] = ()
    params: tuple[tuple[str, float], ...] = ()
    optimizer: str = "simgd"
    lr_g: float = 0.1
    lr_d: float = 0.1
    settings: tuple[tuple[str, Any], ...] = ()
    steps: int = 1000
    every: int = 1
    measure: str | None = None
    max_norm: float = 1e6
    clip: float | None = None
    batch_size: int | None = None
    batch_size_g: int | None = None
    seed: int = 0
    starts: tuple[tuple[tuple[str, float], ...], ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """Plain data in the flat form of earlier versions."""
        data = asdict(self)
        data["regularizers"] = list(self.regularizers)
        data["params"] = dict(self.params)
        data["settings"] = dict(self.settings)
        data["starts"] = [dict(s) for s in self.starts]
        return data

    def to_run_spec(self) -> RunSpec:
        """The same run as a :class:`RunSpec`."""
        return RunSpec.from_dict(self.to_dict(), "simulation spec")


def build_game(game_spec: str, game_file: str | None, loss_name: str | None,
               reg_specs: Sequence[str], params: Mapping[str, float]) -> Game:
    """The game named in the option text of earlier versions (``"r1:gamma=0.3"``)."""
    spec = SimulationSpec(game=game_spec, game_file=game_file, loss=loss_name,
                          regularizers=tuple(reg_specs),
                          params=tuple((k, float(v)) for k, v in params.items()))
    return build_game_part(spec.to_run_spec().game)


def run_simulation(spec: SimulationSpec, progress: Callable[[int], None] | None = None,
                   game: Any = None) -> RunResult:
    """:func:`gandyn.runs.build.run` of the spec (``game`` is not needed: derivations are cached)."""
    return run(spec.to_run_spec(), progress)


def starting_points(default: Mapping[str, float], x0: Sequence[Mapping[str, float]],
                    grid: Mapping[str, Any]) -> list[dict[str, float]]:
    """Full starting states: each ``x0`` (missing symbols from ``default``), then the grid."""
    import itertools

    points = [dict(p) for p in x0]
    keys = list(grid)
    if keys:
        points += [dict(zip(keys, map(float, combo), strict=True))
                   for combo in itertools.product(*(grid[k] for k in keys))]
    return [dict(s) for s in resolve_starts(default, [tuple(p.items()) for p in points])]
