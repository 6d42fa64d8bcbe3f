"""A simulation as plain data: :class:`SimulationSpec`, and :func:`run_simulation`.

The command line fills a spec from its options; the spec is stored with every
output (JSON sidecars), so a result always carries what made it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from gandyn.arrays import Array
from gandyn.cli.option_strings import UPDATE_RULES
from gandyn.errors import SpecError, UnknownNameError

__all__ = [
    "SimulationResult",
    "SimulationSpec",
    "load_spec",
    "parse_grid",
    "run_simulation",
    "spec_to_toml",
    "starting_points",
]

OPTIMIZERS = ("flow", *UPDATE_RULES)
#: The settings each update rule accepts (command-line spelling -> keyword).
RULE_SETTINGS: dict[str, tuple[str, ...]] = {
    "simgd": (),
    "altgd": ("first", "d_steps", "g_steps"),
    "momentum": ("beta",),
    "altmomentum": ("beta", "first"),
    "adam": ("beta1", "beta2", "eps"),
    "ogda": (),
    "extragradient": (),
    "sga": ("lam",),
    "flow": ("method", "rtol", "atol", "t_end", "n_eval"),
}


@dataclass(frozen=True)
class SimulationSpec:
    """Everything that defines a simulation.

    Attributes
    ----------
    game, game_file, loss, regularizers, params
        As for ``gandyn derive`` (``game`` in ``NAME[:key=value]`` form,
        regularizers in ``NAME[:key=value]`` form, params by symbol name).
    optimizer
        ``flow`` or a discrete rule of :mod:`gandyn.rules.update_rules`.
    lr_g, lr_d
        Per-player learning rates. The flow is ``dx/dt = F`` on the generator's
        coordinates and ``(lr_d / lr_g) F`` on the discriminator's, with time
        on the generator's clock: discrete step ``k`` sits at ``t = k * lr_g``.
    settings
        Rule settings (``beta``, ``first``, ...; flow: ``method``, ``t_end``, ...).
    steps, every
        Iterations and recording interval of a discrete rule.
    measure
        ``state`` or ``loop`` (see :func:`gandyn.dynamics.trajectory.simulate_rule`).
    max_norm
        Divergence bound on ``max |x_i|``.
    clip
        WGAN weight clipping of the discriminator's parameters to ``[-clip, clip]``.
    batch_size, batch_size_g, seed
        Stochastic mode (:mod:`gandyn.dynamics.minibatch`): fresh seeded minibatches of
        ``batch_size`` data/sample pairs for the discriminator and
        ``batch_size_g`` latent samples for the generator at every step, instead
        of exact expectations; ``None`` keeps the exact expectations.
    starts
        Initial states, each a full ``{symbol: value}`` mapping.
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
    steps: int = 1000
    every: int = 1
    measure: str = "state"
    max_norm: float = 1e6
    clip: float | None = None
    batch_size: int | None = None
    batch_size_g: int | None = None
    seed: int = 0
    starts: tuple[tuple[tuple[str, float], ...], ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        data = asdict(self)
        data["params"] = dict(self.params)
        data["settings"] = dict(self.settings)
        data["starts"] = [dict(s) for s in self.starts]
        return data


def parse_grid(texts: Sequence[str]) -> dict[str, np.ndarray[Any, np.dtype[np.float64]]]:
    """``theta=-2:2:41,psi=-2:2:41`` -> {name: linspace}."""
    from gandyn.cli.option_strings import parse_ranges

    return {key: np.linspace(low, high, n)
            for key, (low, high, n) in parse_ranges(texts, "--grid", count=True).items()}


def starting_points(default: Mapping[str, float], x0: Sequence[Mapping[str, float]],
                    grid: Mapping[str, np.ndarray[Any, np.dtype[np.float64]]]
                    ) -> list[dict[str, float]]:
    """Full starting states: each ``x0`` (missing symbols from ``default``), then the grid."""
    names = list(default)
    for source in [*x0, grid]:
        for key in source:
            if key not in default:
                raise UnknownNameError("state symbol", key, names)
    starts = [{**default, **point} for point in x0]
    if grid:
        keys = list(grid)
        for combo in itertools.product(*(grid[k] for k in keys)):
            starts.append({**default, **dict(zip(keys, map(float, combo), strict=True))})
    return starts or [dict(default)]


@dataclass(frozen=True)
class SimulationResult:
    """A simulation's derived game, trajectory and spec."""

    spec: SimulationSpec
    field: Any  # gandyn.derive.field.VectorField
    trajectory: Any  # gandyn.dynamics.trajectory.Trajectory


def build_game(game_spec: str, game_file: str | None, loss_name: str | None,
               reg_specs: Sequence[str], params: Mapping[str, float]) -> Any:
    """The :class:`~gandyn.games.game.Game` named by command-line style strings.

    Parameters
    ----------
    game_spec
        ``NAME[:key=value,...]`` of a catalogue game (ignored when ``game_file`` is given
        and equal to the default ``dirac``).
    game_file
        Path of a custom TOML/JSON game, or ``None``.
    loss_name
        Loss name or ``None`` for the default.
    reg_specs
        ``NAME[:key=value,...]`` regularizers.
    params
        Hyper-parameter values by symbol name.
    """
    from gandyn.cli.option_strings import parse_named
    from gandyn.games.game import make_game
    from gandyn.games.regularizers import apply_values, get_regularizer

    regularizers = []
    for text in reg_specs:
        name, settings = parse_named(text, "--reg")
        regularizers.append(apply_values(get_regularizer(name), settings))
    if game_file is not None:
        from gandyn.games.files import load_game_file

        if game_spec != "dirac":
            raise SpecError("give either --game or --game-file, not both")
        game = make_game(load_game_file(game_file), loss_name, regularizers)
    else:
        name, settings = parse_named(game_spec, "--game")
        game = make_game(name, loss_name, regularizers, options=settings)
    return game.with_params(params) if params else game


def build_game_from_spec(spec: SimulationSpec) -> Any:
    """The :class:`~gandyn.games.game.Game` a spec names."""
    return build_game(spec.game, spec.game_file, spec.loss, spec.regularizers, dict(spec.params))


def run_simulation(spec: SimulationSpec, progress: Callable[[int], None] | None = None,
                   game: Any = None) -> SimulationResult:
    """Build the game, derive it and simulate every start of ``spec`` in one batch.

    ``game``, when given, must be the game ``spec`` names (the command line
    builds it first for the default starting point); it is not built again.
    """
    from gandyn.derive.field import derive
    from gandyn.dynamics.discrete import simulate_rule
    from gandyn.dynamics.flow import simulate_flow
    from gandyn.rules.base import FieldFunctions
    from gandyn.rules.registry import make_rule

    if spec.optimizer not in OPTIMIZERS:
        raise UnknownNameError("optimizer", spec.optimizer, OPTIMIZERS)
    allowed = RULE_SETTINGS[spec.optimizer]
    for key, _ in spec.settings:
        if key not in allowed:
            takes = ", ".join(allowed) if allowed else "no settings"
            raise SpecError(
                f"optimizer {spec.optimizer!r} does not take {key!r} (it takes {takes})"
            )
    if spec.measure not in ("state", "loop"):
        raise SpecError(f"--measure must be state or loop, not {spec.measure!r}")
    if not (spec.max_norm > 0):
        raise SpecError("--max-norm must be positive")
    if game is None:  # a caller that already built the spec's game passes it in
        game = build_game_from_spec(spec)
    vf = derive(game)
    names = tuple(s.name for s in game.state_symbols)
    x0 = np.array([[start[n] for n in names] for start in map(dict, spec.starts)]
                  if spec.starts else [[game.default_start[n] for n in names]], dtype=np.float64)
    settings = dict(spec.settings)
    n_theta = len(game.theta)
    if spec.optimizer == "flow":
        if spec.batch_size is not None:
            raise SpecError("--batch-size needs a discrete update rule, not the flow")
        rates = np.array([spec.lr_g] * n_theta + [spec.lr_d] * (len(names) - n_theta))
        try:
            traj = simulate_flow(
                vf.field_fn, vf.jacobian_fn, vf.logged_fn, x0,
                t_end=float(settings.get("t_end", 10.0)), n_eval=int(settings.get("n_eval", 201)),
                rates=rates / spec.lr_g,
                method=str(settings.get("method", "RK45")),
                rtol=float(settings.get("rtol", 1e-8)), atol=float(settings.get("atol", 1e-10)),
                max_norm=spec.max_norm, state_names=names, logged_names=vf.logged_names,
            )
        except ValueError as exc:
            raise SpecError(f"flow: {exc}") from None
        return SimulationResult(spec, vf, traj)
    if spec.steps < 0 or spec.every < 1:
        raise SpecError("--steps must be >= 0 and --every >= 1")
    rule = make_rule(spec.optimizer, spec.lr_g, spec.lr_d, **settings)
    project = None
    if spec.clip is not None:
        if not spec.clip > 0:
            raise SpecError("--clip must be positive")
        bound = float(spec.clip)

        def project(x: Array) -> Array:
            clipped = x.copy()
            clipped[:, n_theta:] = np.clip(clipped[:, n_theta:], -bound, bound)
            return clipped

    if spec.batch_size is not None:
        from gandyn.dynamics.minibatch import simulate_minibatch

        if spec.measure != "loop":
            raise SpecError("minibatch runs log what a training loop logs: use --measure loop "
                            "(the default with --batch-size)")
        traj = simulate_minibatch(
            game, spec.optimizer, spec.lr_g, spec.lr_d, x0, spec.steps,
            batch_size=spec.batch_size, batch_size_g=spec.batch_size_g, seed=spec.seed,
            every=spec.every, max_norm=spec.max_norm, settings=settings, project=project,
            progress=progress,
        )
        return SimulationResult(spec, vf, traj)
    traj = simulate_rule(
        rule, FieldFunctions.of(vf), vf.logged_fn, x0, spec.steps, every=spec.every,
        max_norm=spec.max_norm, measure=spec.measure,  # type: ignore[arg-type]
        state_names=names, logged_names=vf.logged_names, project=project, progress=progress,
    )
    return SimulationResult(spec, vf, traj)


# --- spec files ---------------------------------------------------------------------------------

_SCALARS: dict[str, tuple[type, ...]] = {
    "game": (str,), "game_file": (str,), "loss": (str,), "optimizer": (str,),
    "lr_g": (int, float), "lr_d": (int, float), "steps": (int,), "every": (int,),
    "measure": (str,), "max_norm": (int, float), "clip": (int, float), "batch_size": (int,),
    "batch_size_g": (int,), "seed": (int,),
}
_TABLES = ("params", "settings")


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, int) or np.isfinite(value) else (
            "inf" if value > 0 else "-inf" if value < 0 else "nan")
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def spec_to_toml(spec: SimulationSpec) -> str:
    """The spec as a TOML document that :func:`load_spec` reads back to the same spec."""
    from gandyn import __version__

    lines = [f"# gandyn {__version__} simulation spec (gandyn simulate --spec FILE)"]
    data = spec.to_dict()
    for key in SimulationSpec.__dataclass_fields__:
        value = data[key]
        if key in _TABLES or key == "starts" or value is None:
            continue
        lines.append(f"{key} = {_toml_value(value)}")
    for table in _TABLES:
        if data[table]:
            lines.append("")
            lines.append(f"[{table}]")
            lines += [f"{k} = {_toml_value(v)}" for k, v in data[table].items()]
    for start in data["starts"]:
        lines.append("")
        lines.append("[[starts]]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in start.items()]
    return "\n".join(lines) + "\n"


def load_spec(path: str) -> SimulationSpec:
    """Read a spec written by ``--dump-spec`` (TOML) or ``spec.to_dict()`` (JSON).

    Raises
    ------
    SpecError
        One line naming the file and the problem.
    """
    import json
    import tomllib
    from pathlib import Path

    source = Path(path)
    where = f"spec file {source.name}"
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"{where}: cannot read {source} ({exc.strerror or exc})") from None
    try:
        if source.suffix.lower() == ".toml":
            data = tomllib.loads(text)
        elif source.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            raise SpecError(f"{where}: use a .toml or .json file")
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise SpecError(f"{where}: syntax error: {exc}") from None
    if not isinstance(data, dict):
        raise SpecError(f"{where}: the top level must be a table of settings")
    known = list(SimulationSpec.__dataclass_fields__)
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            raise UnknownNameError(f"setting in {where}", key, known)
        if key in _SCALARS:
            if value is not None and (isinstance(value, bool)
                                      or not isinstance(value, _SCALARS[key])):
                raise SpecError(f"{where}: {key} must be of type "
                                f"{' or '.join(t.__name__ for t in _SCALARS[key])}")
            if float in _SCALARS[key] and isinstance(value, int | float):
                value = float(value)
            values[key] = value
        elif key == "regularizers":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise SpecError(f"{where}: regularizers must be a list of strings")
            values[key] = tuple(value)
        elif key in _TABLES:
            if not isinstance(value, dict):
                raise SpecError(f"{where}: [{key}] must be a table")
            if key == "params" and not all(isinstance(v, int | float) and not isinstance(v, bool)
                                           for v in value.values()):
                raise SpecError(f"{where}: [params] values must be numbers")
            values[key] = tuple(value.items())
        else:  # starts
            if not isinstance(value, list) or not all(
                isinstance(s, dict) and all(isinstance(v, int | float) and not isinstance(v, bool)
                                            for v in s.values()) for s in value
            ):
                raise SpecError(f"{where}: starts must be tables of numbers ([[starts]])")
            values[key] = tuple(tuple((k, float(v)) for k, v in s.items()) for s in value)
    return SimulationSpec(**values)
