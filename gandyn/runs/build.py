"""Building and running a :class:`~gandyn.runs.spec.RunSpec`.

:func:`build` resolves every name of a spec once (game, loss, regularizers,
hyper-parameters, starting states) and writes in every default, so the spec it
returns reproduces the run on its own; :func:`run` simulates it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gandyn.arrays import Array
from gandyn.errors import SpecError, UnknownNameError
from gandyn.runs.spec import GameSpec, RunSpec

if TYPE_CHECKING:
    from gandyn.derivation.field import VectorField
    from gandyn.dynamics.trajectory import Trajectory
    from gandyn.games.game import Game
    from gandyn.runs.outcome import RunSummary

__all__ = ["Built", "RunResult", "build", "build_game_part", "grid_starts", "resolve_starts", "run",
           "simulate"]


def build_game_part(part: GameSpec, base_dir: str | Path | None = None) -> Game:
    """The :class:`~gandyn.games.game.Game` a game part names.

    Parameters
    ----------
    part
        The game part of a spec.
    base_dir
        Where a relative ``part.file`` is looked for first (the spec file's
        folder); the current folder otherwise.
    """
    from gandyn.games.game import make_game
    from gandyn.games.regularizers import apply_values, get_regularizer

    regularizers = [apply_values(get_regularizer(r.name), dict(r.settings))
                    for r in part.regularizers]
    if part.file is not None:
        from gandyn.games.files import load_game_file

        if part.name != GameSpec().name or part.options:
            raise SpecError("give either `game` or `game_file`, not both")
        path = Path(part.file)
        if base_dir is not None and not path.is_absolute() and (Path(base_dir) / path).is_file():
            path = Path(base_dir) / path
        game = make_game(load_game_file(str(path)), part.loss, regularizers,
                         log_loss=part.log_loss, params=dict(part.params))
    else:
        game = make_game(part.name, part.loss, regularizers, options=dict(part.options),
                         log_loss=part.log_loss, params=dict(part.params))
    # The values go in with the game: an order left open is chosen for them.
    return game


def resolve_starts(default: Mapping[str, float],
                   starts: Sequence[Sequence[tuple[str, float]]]
                   ) -> tuple[tuple[tuple[str, float], ...], ...]:
    """Full starting states: each start's symbols over ``default``; none given: ``default``."""
    names = list(default)
    for start in starts:
        for key, _ in start:
            if key not in default:
                raise UnknownNameError("state symbol", key, names)
    full = [{**default, **dict(start)} for start in starts] or [dict(default)]
    return tuple(tuple((k, float(v)) for k, v in s.items()) for s in full)


def grid_starts(ranges: Mapping[str, tuple[float, float, int]], *,
                max_memory: int | None = None) -> list[dict[str, float]]:
    """Starting states on a grid: every combination of ``name -> (low, high, count)``.

    Raises
    ------
    SpecError
        When the grid's points (the product of the counts) would not fit in
        ``max_memory`` (:func:`gandyn.limits.starts_bytes`), before any is made.
    """
    from gandyn.limits import check_memory, starts_bytes

    if not ranges:
        return []
    keys = list(ranges)
    points = math.prod(int(ranges[k][2]) for k in keys)
    check_memory(starts_bytes(points, len(keys)), max_memory,
                 f"a grid of {points} starting states", "grid")
    axes = [np.linspace(*ranges[k]) for k in keys]
    return [dict(zip(keys, map(float, combo), strict=True)) for combo in itertools.product(*axes)]


@dataclass(frozen=True)
class Built:
    """A spec with every name resolved.

    Attributes
    ----------
    spec
        The spec with every default written in (:meth:`RunSpec.with_defaults`,
        full starting states): it reproduces the run on its own.
    game, field
        The game and its derived vector field.
    x0
        The starting states, ``(n_runs, n_state)``.
    max_memory
        The memory budget it was checked against (``None``: the default).
    """

    spec: RunSpec
    game: Game
    field: VectorField
    x0: Array
    max_memory: int | None = None


def build(spec: RunSpec, base_dir: str | Path | None = None, *,
          max_memory: int | str | None = None, streamed: bool = False) -> Built:
    """Check ``spec``, build its game, derive it and resolve its starting states.

    Parameters
    ----------
    spec
        The run.
    base_dir
        Where a relative game file is looked for first.
    max_memory
        The memory budget, bytes or text such as ``"512M"`` (default
        :data:`gandyn.limits.DEFAULT_MAX_MEMORY`):
        the run's arrays are estimated (:func:`gandyn.limits.check_run_memory`) and a run
        over the budget is refused before the game is derived.
    streamed
        Whether the run's records will be streamed to a file
        (:func:`gandyn.runs.chunked.run_chunked`) rather than held: then a batch
        over the budget is simulated in chunks of runs, and only a run of which
        one alone would not fit in a chunk is refused
        (:func:`gandyn.limits.check_run_memory`).

    Raises
    ------
    SpecError, UnknownNameError
        A value no run can take, a run over the memory budget or a name gandyn
        does not know.
    """
    from gandyn.derivation.field import derive
    from gandyn.limits import check_run_memory, parse_memory

    budget = None if max_memory is None else parse_memory(max_memory)
    spec.check()
    game = build_game_part(spec.game, base_dir)
    names = tuple(s.name for s in game.state_symbols)
    starts = resolve_starts(game.default_start, spec.starts)
    full = replace(spec.with_defaults(), starts=starts)
    flow = full.flow_settings() if full.rule.name == "flow" else {}
    check_run_memory(
        n_runs=len(starts), n_state=len(names), n_logged=len(game.logged),
        steps=full.steps, every=full.every,
        flow_method=None if not flow else str(flow["method"]),
        n_eval=None if not flow else int(flow["n_eval"]),
        batch=None if full.minibatch is None else (
            full.minibatch.batch_size, full.minibatch.batch_size_g or full.minibatch.batch_size),
        max_memory=budget, streamed=streamed)
    x0 = np.array([[dict(s)[n] for n in names] for s in starts], dtype=np.float64)
    return Built(full, game, derive(game), x0, budget)


@dataclass(frozen=True)
class RunResult:
    """A run: the spec with its defaults written in, the derived field and the trajectory.

    Attributes
    ----------
    spec, field, trajectory
        The run, its game's derivatives and its records.
    summary
        Start, final state, divergence and loss ranges of every run
        (:meth:`run_summary`); given when ``trajectory`` does not hold every run.
    kept_runs
        For a run streamed to a file (:func:`gandyn.runs.chunked.run_chunked`):
        the runs ``trajectory`` holds, by their index in the batch; ``None``:
        it holds them all.
    """

    spec: RunSpec
    field: VectorField
    trajectory: Trajectory
    summary: RunSummary | None = None
    kept_runs: tuple[int, ...] | None = None

    def run_summary(self) -> RunSummary:
        """What the summary needs of every run (:class:`~gandyn.runs.outcome.RunSummary`)."""
        from gandyn.runs.outcome import RunSummary

        return self.summary if self.summary is not None else RunSummary.of(self.trajectory)

    def _title(self) -> str:
        """``dirac / non-saturating / simgd``: the game, its loss and the method."""
        game = self.field.game
        loss = game.loss.name if game.loss is not None else "direct costs"
        regs = "".join(f" + {r.describe()}" for r in game.regularizers)
        return f"{game.name} / {loss}{regs} / {self.spec.rule.name}"

    def __repr__(self) -> str:
        # The spec, the field and the trajectory each print at length: one line instead.
        if self.summary is not None:
            runs, records = self.summary.n_runs, self.summary.n_records
            diverged = int(np.count_nonzero(self.summary.diverged))
        else:
            runs, records = self.trajectory.n_runs, int(self.trajectory.x.shape[1])
            diverged = int(np.count_nonzero(self.trajectory.diverged))
        kept = "" if self.kept_runs is None else f", {len(self.kept_runs)} kept"
        return (f"RunResult({self._title()}: {runs} runs x {records} records{kept}, "
                f"diverged {diverged} of {runs})")

    def _repr_html_(self) -> str:
        """The notebook's view: the run's spec, then the trajectory's tables."""
        from gandyn.tables import html_block, html_fields

        spec, rule = self.spec, self.spec.rule
        fields = [("game", self.field.game.name),
                  ("loss", self.field.game.loss.name if self.field.game.loss else None),
                  ("regularizers", [r.describe() for r in self.field.game.regularizers]),
                  ("params", {p.name: p.value for p in self.field.game.params}),
                  ("method", rule.name), ("lr_g", rule.lr_g), ("lr_d", rule.lr_d),
                  ("settings", dict(rule.settings)), ("steps", spec.steps),
                  ("every", spec.every), ("measure", spec.measure)]
        if spec.minibatch is not None:
            fields.append(("minibatch", spec.minibatch.to_dict()))
        return html_block(f"RunResult: {self._title()}", html_fields(fields, caption="spec"),
                          self.trajectory._repr_html_())

    def to_numpy(self) -> np.ndarray[Any, Any]:
        """The trajectory's rows (:meth:`Trajectory.to_numpy
        <gandyn.dynamics.trajectory.Trajectory.to_numpy>`)."""
        return self.trajectory.to_numpy()

    def to_dataframe(self) -> Any:
        """The trajectory's rows as a ``pandas.DataFrame`` (needs pandas)."""
        return self.trajectory.to_dataframe()


def run(spec: RunSpec | Built, progress: Callable[[int], None] | None = None, *,
        max_memory: int | str | None = None) -> RunResult:
    """Build ``spec`` (unless built already) and simulate every start in one batch.

    Parameters
    ----------
    spec
        The run, or what :func:`build` made of it.
    progress
        Called with the number of steps done since the last call (discrete rules).
    max_memory
        The memory budget in bytes (see :func:`build`).
    """
    built = spec if isinstance(spec, Built) else build(spec, max_memory=max_memory)
    traj = _simulate(built, progress)
    if built.game.quadrature is not None:
        # The order `order=auto` chose goes with the run into its data file and sidecar.
        traj = replace(traj, method={**traj.method,
                                     "quadrature": built.game.quadrature.to_dict()})
    return RunResult(built.spec, built.field, traj)


def simulate(spec: RunSpec | None = None, /, *, max_memory: int | str | None = None,
             **given: Any) -> RunResult:
    """Run ``spec`` (default: every default) with the given values over it.

    The Python spelling of ``gandyn simulate``: the keywords are those of
    :func:`gandyn.runs.spec.merge` (``game``, ``loss``, ``regularizers``,
    ``params``, ``optimizer``, ``lr``, ``lr_g``, ``lr_d``, ``settings``,
    ``steps``, ``batch_size``, ``seed``, ``starts``, ...), as structured values,
    and ``max_memory``, the memory budget (bytes, or text such as ``"512M"``).

    Examples
    --------
    >>> from gandyn.runs.build import simulate
    >>> result = simulate(loss="non-saturating", optimizer="altgd", lr=0.2, steps=100)
    >>> result.trajectory.x.shape
    (1, 101, 2)
    """
    from gandyn.runs.spec import merge

    return run(merge(spec if spec is not None else RunSpec(), **given), max_memory=max_memory)


def _simulate(built: Built, progress: Callable[[int], None] | None) -> Trajectory:
    """The one place that makes the update rule and calls the simulators."""
    from gandyn.dynamics.discrete import simulate_rule
    from gandyn.dynamics.flow import simulate_flow
    from gandyn.dynamics.projection import WeightClip
    from gandyn.rules.base import FieldFunctions
    from gandyn.rules.registry import make_rule

    spec, vf = built.spec, built.field
    rule, x0 = spec.rule, built.x0
    names = tuple(s.name for s in built.game.state_symbols)
    n_theta = len(built.game.theta)
    settings: dict[str, Any] = dict(rule.settings)
    if rule.name == "flow":
        flow = spec.flow_settings()
        rates = np.array([rule.lr_g] * n_theta + [rule.lr_d] * (len(names) - n_theta))
        try:
            return simulate_flow(
                vf.field_fn, vf.jacobian_fn, vf.logged_fn, x0,
                t_end=float(flow["t_end"]), n_eval=int(flow["n_eval"]),
                rates=rates / rule.lr_g, method=str(flow["method"]),
                rtol=float(flow["rtol"]), atol=float(flow["atol"]),
                step_size=float(flow["step_size"]), max_norm=spec.max_norm,
                state_names=names, logged_names=vf.logged_names,
            )
        except ValueError as exc:
            raise SpecError(f"flow: {exc}") from None
    made = make_rule(rule.name, rule.lr_g, rule.lr_d, **settings)  # checks the settings
    # WGAN weight clipping of psi after every step; the compiled loop recognizes it
    project = WeightClip(float(spec.clip), n_theta) if spec.clip is not None else None
    if spec.minibatch is not None:
        from gandyn.dynamics.minibatch import simulate_minibatch

        batch = spec.minibatch
        return simulate_minibatch(
            built.game, rule.name, rule.lr_g, rule.lr_d, x0, spec.steps,
            batch_size=batch.batch_size, batch_size_g=batch.batch_size_g, seed=batch.seed,
            every=spec.every, max_norm=spec.max_norm, settings=settings, project=project,
            progress=progress,
        )
    return simulate_rule(
        made, FieldFunctions.of(vf), vf.logged_fn, x0, spec.steps, every=spec.every,
        max_norm=spec.max_norm,
        measure=spec.measure,  # type: ignore[arg-type]  # checked: state or loop
        state_names=names, logged_names=vf.logged_names, project=project, progress=progress,
    )
