"""A run as structured data: :class:`RunSpec`, its parts, every default, and merging.

A run is a game (:class:`GameSpec`), a method with its learning rates and
settings (:class:`RuleSpec`), the number of steps and what to record, an
optional minibatch part (:class:`MinibatchSpec`) and the starting states.
Every field holds a value, never option text; the defaults of the library and
of every command are the ones written here (see :meth:`RunSpec.with_defaults`
for those derived from other fields). :meth:`RunSpec.to_dict` and
:meth:`RunSpec.from_dict` give the plain data stored in spec files and
sidecars; :func:`merge` lays given values over a base spec, which is how a
command line overrides a spec file.

Spec files and sidecars written before specs were structured hold option text
(``regularizers = ["r1:gamma=0.3"]``, ``game = "gaussian:order=8"``) in a
flat table; :meth:`RunSpec.from_dict` reads them too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from gandyn.errors import SpecError, UnknownNameError
from gandyn.rules.names import METHOD_NAMES
from gandyn.runs.parts import (
    GameSpec,
    MinibatchSpec,
    RegularizerSpec,
    RuleSpec,
    Setting,
    pairs,
)
from gandyn.runs.spec_data import run_spec_fields

__all__ = [
    "EXPLAIN_DEFAULTS",
    "GIVEN_KEYS",
    "GameSpec",
    "MinibatchSpec",
    "RegularizerSpec",
    "RuleSpec",
    "RunSpec",
    "Setting",
    "merge",
    "merge_game",
    "merge_rule",
    "shareable_spec",
]


@dataclass(frozen=True)
class RunSpec:
    """Everything that defines a run.

    Attributes
    ----------
    game
        The game (:class:`GameSpec`).
    rule
        The method and its learning rates and settings (:class:`RuleSpec`).
    steps, every
        Iterations of a discrete rule and the recording interval.
    measure
        ``state`` or ``loop`` (see :func:`gandyn.dynamics.discrete.simulate_rule`);
        ``None``: ``loop`` with minibatches, else ``state``.
    max_norm
        Divergence bound on ``max |x_i|``.
    clip
        WGAN weight clipping of the discriminator's parameters to ``[-clip, clip]``.
    minibatch
        Stochastic mode, or ``None`` for exact expectations.
    starts
        Initial states, each ``(symbol, value)`` pairs; symbols left out take
        the game's default start, and no start at all is that default start.
    """

    game: GameSpec = field(default_factory=GameSpec)
    rule: RuleSpec = field(default_factory=RuleSpec)
    steps: int = 1000
    every: int = 1
    measure: str | None = None
    max_norm: float = 1e6
    clip: float | None = None
    minibatch: MinibatchSpec | None = None
    starts: tuple[tuple[tuple[str, float], ...], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "starts", tuple(pairs(s) for s in self.starts))

    def with_defaults(self) -> RunSpec:
        """The spec with the defaults that depend on other fields written in.

        ``measure``: ``loop`` with minibatches, else ``state``. The flow's
        ``t_end``: ``steps * lr_g``, the horizon of the discrete rule with the
        same steps. (Starting states need the game: :func:`gandyn.runs.build.build`.)
        """
        spec = self
        if spec.measure is None:
            spec = replace(spec, measure="loop" if spec.minibatch is not None else "state")
        if spec.rule.name == "flow" and "t_end" not in dict(spec.rule.settings):
            settings = (*spec.rule.settings, ("t_end", spec.steps * spec.rule.lr_g))
            spec = replace(spec, rule=replace(spec.rule, settings=settings))
        return spec

    def flow_settings(self) -> dict[str, Setting]:
        """The flow's settings: those given over the flow's declared defaults, and the horizon.

        The defaults are those :class:`gandyn.rules.flow.GradientFlow` declares.
        """
        from gandyn.rules.flow import GradientFlow

        return dict(GradientFlow.resolve(dict(self.rule.settings), steps=self.steps,
                                         lr_g=self.rule.lr_g))

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON and TOML (:meth:`from_dict` reads it back)."""
        return {"game": self.game.to_dict(), "rule": self.rule.to_dict(), "steps": self.steps,
                "every": self.every, "measure": self.measure, "max_norm": self.max_norm,
                "clip": self.clip,
                "minibatch": None if self.minibatch is None else self.minibatch.to_dict(),
                "starts": [dict(s) for s in self.starts]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "spec") -> RunSpec:
        """The spec that :meth:`to_dict` wrote, or the flat option-text form of earlier versions.

        Parameters
        ----------
        data
            Plain data, as read from TOML or JSON.
        where
            Names the source in error messages (``spec file run.toml``).

        Raises
        ------
        SpecError
            One line naming ``where`` and the field.
        """
        return cls(**run_spec_fields(data, where))

    def check(self) -> None:
        """Raise :class:`~gandyn.errors.SpecError` for values no run can take.

        Every number is checked against its range, declared once in
        :data:`gandyn.limits.RANGES` (the command line's options use the same
        declarations); the messages name the fields between backticks.
        """
        from gandyn.limits import RANGES, check_value
        from gandyn.rules.registry import SETTING_NAMES

        rule = self.rule
        if rule.name not in METHOD_NAMES:
            raise UnknownNameError("optimizer", rule.name, METHOD_NAMES)
        check_value("lr_g", rule.lr_g)
        check_value("lr_d", rule.lr_d)
        allowed = SETTING_NAMES[rule.name]
        for key, value in rule.settings:
            if key not in allowed:
                takes = ", ".join(allowed) if allowed else "no settings"
                raise SpecError(f"optimizer {rule.name!r} does not take {key!r} (it takes {takes})")
            _check_setting(key, value)
        if self.measure not in (None, "state", "loop"):
            raise SpecError(f"`measure` must be state or loop, not {self.measure!r}")
        check_value("max_norm", self.max_norm)
        check_value("steps", self.steps)
        check_value("every", self.every)
        if self.clip is not None:
            check_value("clip", self.clip)
        for name, value in self.game.params:
            if not RANGES["params"].contains(value):
                raise SpecError(f"hyper-parameter {name}={value}: must be "
                                f"{RANGES['params'].describe()}")
        for start in self.starts:
            for name, value in start:
                if not RANGES["box"].contains(value):
                    raise SpecError(f"starting value {name}={value}: must be "
                                    f"{RANGES['box'].describe()}")
        if rule.name == "flow":
            if self.minibatch is not None:
                raise SpecError("`batch_size` needs a discrete update rule, not the flow")
            return
        if self.minibatch is not None:
            check_value("batch_size", self.minibatch.batch_size)
            if self.minibatch.batch_size_g is not None:
                check_value("batch_size_g", self.minibatch.batch_size_g)
            check_value("seed", self.minibatch.seed)
            if self.with_defaults().measure != "loop":
                raise SpecError("minibatch runs log what a training loop logs: use `measure` "
                                "loop (the default with `batch_size`)")


#: The flow's integrators (:func:`scipy.integrate.solve_ivp` methods, and ``rk4``, gandyn's
#: fixed-step classic Runge-Kutta method: :func:`gandyn.dynamics.flow.simulate_flow`).
FLOW_METHODS = ("RK45", "RK23", "DOP853", "Radau", "BDF", "LSODA", "rk4")


def _check_setting(key: str, value: Any) -> None:
    """A rule setting's value against its declared range (``t_end``, ``beta``, ``method``)."""
    from gandyn.limits import RANGES, check_value

    if key == "method":
        if value not in FLOW_METHODS:
            raise SpecError(f"`method` must be one of {', '.join(FLOW_METHODS)}, not {value!r}")
    elif key == "first":
        if value not in ("d", "g"):
            raise SpecError(f"`first` must be d or g, not {value!r}")
    elif key in RANGES:
        check_value(key, value)


# --- merging given values over a base spec ------------------------------------------------------

#: The values :func:`merge` takes, by the names of the command-line options that give them.
GAME_KEYS = ("game", "game_options", "game_file", "loss", "regularizers", "params", "log_loss")
RULE_KEYS = ("optimizer", "lr", "lr_g", "lr_d", "settings")
GIVEN_KEYS: tuple[str, ...] = (*GAME_KEYS, *RULE_KEYS, "steps", "every", "measure", "max_norm",
                               "clip", "batch_size", "batch_size_g", "seed", "starts")


#: The run ``gandyn explain`` simulates when it is given no spec: the non-saturating Dirac-GAN
#: logged as a training loop logs it, over 2000 steps (several periods of its oscillation).
EXPLAIN_DEFAULTS = RunSpec(game=GameSpec(loss="non-saturating"), steps=2000, measure="loop")


def _number(key: str, value: Any, kind: type = float) -> Any:
    """``value`` as a float (or int), or a :class:`SpecError` naming ``key``."""
    if isinstance(value, bool):
        raise SpecError(f"`{key}` must be a number, not {value!r}")
    try:
        number = float(value)
        if kind is int:
            if not number.is_integer():
                raise ValueError
            return int(value) if isinstance(value, int) else int(number)
        return number
    except (TypeError, ValueError, OverflowError):
        what = "an integer" if kind is int else "a number"
        raise SpecError(f"`{key}` must be {what}, not {value!r}") from None


def _unknown(given: Mapping[str, Any], known: Sequence[str]) -> None:
    extra = [k for k in given if k not in known]
    if extra:
        raise TypeError(f"merge() got unknown values {', '.join(extra)} (known: "
                        f"{', '.join(known)})")


def merge_game(base: GameSpec, **given: Any) -> GameSpec:
    """``base`` with the given values over it.

    ``game`` (a name) replaces the name and its options (``game_options``,
    default none); ``regularizers`` (:class:`RegularizerSpec` or ``(name,
    settings)``) and ``params`` (a mapping) replace the base's; ``game_file``,
    ``loss`` and ``log_loss`` replace theirs.
    """
    _unknown(given, GAME_KEYS)
    game = base
    if "game" in given:
        game = replace(game, name=given["game"], options=pairs(given.get("game_options", {})))
    elif "game_options" in given:
        game = replace(game, options=pairs(given["game_options"]))
    if "game_file" in given:
        game = replace(game, file=given["game_file"])
    if "loss" in given:
        game = replace(game, loss=given["loss"])
    if "log_loss" in given:
        game = replace(game, log_loss=given["log_loss"])
    if "regularizers" in given:
        game = replace(game, regularizers=tuple(given["regularizers"]))
    if "params" in given:
        game = replace(game, params=pairs({k: _number("params", v) for k, v in
                                            dict(given["params"]).items()}))
    return game


def merge_rule(base: RuleSpec, **given: Any) -> RuleSpec:
    """``base`` with the given values over it.

    ``optimizer`` replaces the method; ``lr`` sets both learning rates and
    ``lr_g``, ``lr_d`` each one over it; ``settings`` are laid over the
    base's settings, key by key.
    """
    _unknown(given, RULE_KEYS)
    rule = base
    if "optimizer" in given:
        rule = replace(rule, name=given["optimizer"])
    if "lr" in given:
        rate = _number("lr", given["lr"])
        from gandyn.limits import check_value

        check_value("lr", rate)  # named as given, before it becomes lr_g and lr_d
        rule = replace(rule, lr_g=rate, lr_d=rate)
    if "lr_g" in given:
        rule = replace(rule, lr_g=_number("lr_g", given["lr_g"]))
    if "lr_d" in given:
        rule = replace(rule, lr_d=_number("lr_d", given["lr_d"]))
    if "settings" in given:
        rule = replace(rule, settings=pairs({**dict(rule.settings), **dict(given["settings"])}))
    return rule


def merge(base: RunSpec, **given: Any) -> RunSpec:
    """``base`` with the given values over it: what a command line does to a spec file.

    Parameters
    ----------
    base
        The spec file's spec, or ``RunSpec()`` for the defaults.
    **given
        Values by the names of :data:`GIVEN_KEYS`, structured (names, numbers,
        mappings), only those the user gave: see :func:`merge_game` and
        :func:`merge_rule` for the game and the method. ``batch_size`` makes a
        run stochastic; ``batch_size_g`` and ``seed`` change a stochastic run
        and are ignored for an exact one. ``starts`` (mappings) replace the
        base's starts.

    Returns
    -------
    RunSpec
    """
    _unknown(given, GIVEN_KEYS)
    game = merge_game(base.game, **{k: v for k, v in given.items() if k in GAME_KEYS})
    rule = merge_rule(base.rule, **{k: v for k, v in given.items() if k in RULE_KEYS})
    spec = replace(base, game=game, rule=rule)
    for key in ("steps", "every", "measure", "max_norm", "clip"):
        if key in given:
            value = given[key]
            if key in ("max_norm", "clip") and value is not None:
                value = _number(key, value)
            elif key in ("steps", "every"):
                value = _number(key, value, int)
            spec = replace(spec, **{key: value})
    minibatch = spec.minibatch
    if "batch_size" in given:
        minibatch = (None if given["batch_size"] is None else
                     MinibatchSpec(_number("batch_size", given["batch_size"], int),
                                   None if minibatch is None else minibatch.batch_size_g,
                                   0 if minibatch is None else minibatch.seed))
    if minibatch is not None:
        if "batch_size_g" in given:
            size_g = given["batch_size_g"]
            minibatch = replace(minibatch, batch_size_g=None if size_g is None else
                                _number("batch_size_g", size_g, int))
        if "seed" in given:
            minibatch = replace(minibatch, seed=_number("seed", given["seed"], int))
    spec = replace(spec, minibatch=minibatch)
    if "starts" in given:
        spec = replace(spec, starts=tuple(pairs({k: _number("starts", v)
                                                 for k, v in dict(s).items()})
                                          for s in given["starts"]))
    return spec


def shareable_spec(data: Mapping[str, Any]) -> dict[str, Any]:
    """A spec's plain data as outputs record it: the game file without private folders.

    Figures and sidecars travel with papers and double-blind submissions, so
    the game file is named as :func:`gandyn.files.shareable_name` gives it
    (relative to the working directory, or its bare name). A spec read back
    from the sidecar looks for a relative game file beside the sidecar first
    (:func:`gandyn.runs.build.build_game_part`), then in the working directory.

    Parameters
    ----------
    data
        The spec as :meth:`RunSpec.to_dict` gives it (or as a sidecar stored it).

    Returns
    -------
    dict
        A copy of ``data``; only ``game.file`` (or the flat form's ``game_file``)
        may differ.
    """
    from gandyn.files import shareable_name

    copy = dict(data)
    game = copy.get("game")
    if isinstance(game, Mapping) and isinstance(game.get("file"), str):
        copy["game"] = {**game, "file": shareable_name(game["file"])}
    if isinstance(copy.get("game_file"), str):  # the flat form (analyze's spec, old sidecars)
        copy["game_file"] = shareable_name(copy["game_file"])
    return copy
