"""Plain data to a :class:`~gandyn.runs.spec.RunSpec`, checked field by field.

The reading behind :meth:`RunSpec.from_dict`. Two forms are read:

* the structured form of :meth:`RunSpec.to_dict` (``game``, ``rule``, ``minibatch``
  tables);
* the flat form of earlier versions (``game = "gaussian:order=8"``,
  ``regularizers = ["r1:gamma=0.3"]``, ``optimizer``, ``lr_g``, ``batch_size``,
  ...), whose option text is parsed by :mod:`gandyn.symbolic.option_text`.

Every problem raises :class:`~gandyn.errors.SpecError` (or
:class:`~gandyn.errors.UnknownNameError`) with one line naming the source and
the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from gandyn.errors import SpecError, UnknownNameError
from gandyn.runs.parts import GameSpec, MinibatchSpec, RegularizerSpec, RuleSpec, Setting

__all__ = ["LEGACY_RUN_KEYS", "RUN_KEYS", "is_legacy", "legacy_run_data", "run_spec_fields"]

#: The keys of the structured form, in :meth:`RunSpec.to_dict` order.
RUN_KEYS = ("game", "rule", "steps", "every", "measure", "max_norm", "clip", "minibatch", "starts")
#: The keys of the flat form of earlier versions.
LEGACY_RUN_KEYS = ("game", "game_file", "loss", "regularizers", "params", "optimizer", "lr_g",
                   "lr_d", "settings", "steps", "every", "measure", "max_norm", "clip",
                   "batch_size", "batch_size_g", "seed", "starts")
_T = TypeVar("_T")
_LEGACY_ONLY = frozenset(LEGACY_RUN_KEYS) - frozenset(RUN_KEYS)


def _or(value: _T | None, default: _T) -> _T:
    return default if value is None else value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class _Fields:
    """Typed access to one table of the data, with errors naming the source and the field."""

    def __init__(self, data: Any, where: str, section: str, known: tuple[str, ...]) -> None:
        label = section or "the top level"
        if not isinstance(data, Mapping):
            raise SpecError(f"{where}: {label} must be a table of settings")
        for key in data:
            if key not in known:
                raise UnknownNameError(f"setting in {where}" + (f" [{section}]" if section else ""),
                                       str(key), known)
        self.data = data
        self.where = where
        self.prefix = f"{section}." if section else ""

    def _error(self, key: str, what: str) -> SpecError:
        return SpecError(f"{self.where}: {self.prefix}{key} must be {what}")

    def has(self, key: str) -> bool:
        return key in self.data and self.data[key] is not None

    def text(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self._error(key, "a string")
        return value

    def number(self, key: str) -> float | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not _is_number(value):
            raise self._error(key, "a number")
        return float(value)

    def integer(self, key: str) -> int | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._error(key, "an integer")
        return value

    def numbers(self, key: str) -> tuple[tuple[str, float], ...]:
        value = self.data.get(key) or {}
        if not isinstance(value, Mapping) or not all(_is_number(v) for v in value.values()):
            raise self._error(key, "a table of numbers")
        return tuple((str(k), float(v)) for k, v in value.items())

    def settings(self, key: str, *, floats: bool = True) -> tuple[tuple[str, Setting], ...]:
        value = self.data.get(key) or {}
        kinds = "numbers or strings" if floats else "integers or strings"
        if not isinstance(value, Mapping) or not all(
                (_is_number(v) if floats else isinstance(v, int) and not isinstance(v, bool))
                or isinstance(v, str) for v in value.values()):
            raise self._error(key, f"a table of {kinds}")
        return tuple((str(k), v) for k, v in value.items())

    def tables(self, key: str) -> list[Any]:
        value = self.data.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            raise self._error(key, "a list of tables")
        return value


def _game(data: Any, where: str) -> GameSpec:
    fields = _Fields(data, where, "game",
                     ("name", "options", "file", "loss", "regularizers", "params", "log_loss"))
    regularizers = []
    for i, item in enumerate(fields.tables("regularizers")):
        reg = _Fields(item, where, f"game.regularizers[{i}]", ("name", "settings"))
        name = reg.text("name")
        if name is None:
            raise reg._error("name", "a regularizer name")
        regularizers.append(RegularizerSpec(name, reg.settings("settings")))
    options = tuple((k, v) for k, v in fields.settings("options", floats=False)
                    if not isinstance(v, float))  # none is: floats=False refuses them
    return GameSpec(name=_or(fields.text("name"), GameSpec().name), options=options,
                    file=fields.text("file"), loss=fields.text("loss"),
                    regularizers=tuple(regularizers), params=fields.numbers("params"),
                    log_loss=fields.text("log_loss"))


def _rule(data: Any, where: str) -> RuleSpec:
    fields = _Fields(data, where, "rule", ("name", "lr_g", "lr_d", "settings"))
    default = RuleSpec()
    return RuleSpec(name=_or(fields.text("name"), default.name),
                    lr_g=_or(fields.number("lr_g"), default.lr_g),
                    lr_d=_or(fields.number("lr_d"), default.lr_d),
                    settings=fields.settings("settings"))


def _minibatch(data: Any, where: str) -> MinibatchSpec | None:
    if data is None:
        return None
    fields = _Fields(data, where, "minibatch", ("batch_size", "batch_size_g", "seed"))
    batch_size = fields.integer("batch_size")
    if batch_size is None:
        raise fields._error("batch_size", "an integer (a minibatch run needs its size)")
    return MinibatchSpec(batch_size, fields.integer("batch_size_g"),
                         _or(fields.integer("seed"), 0))


def _starts(fields: _Fields) -> tuple[tuple[tuple[str, float], ...], ...]:
    value = fields.data.get("starts") or []
    if not isinstance(value, list) or not all(
            isinstance(s, Mapping) and all(_is_number(v) for v in s.values()) for s in value):
        raise SpecError(f"{fields.where}: starts must be tables of numbers ([[starts]])")
    return tuple(tuple((str(k), float(v)) for k, v in s.items()) for s in value)


def is_legacy(data: Mapping[str, Any]) -> bool:
    """Whether ``data`` is the flat option-text form of earlier versions."""
    return isinstance(data.get("game"), str) or any(key in _LEGACY_ONLY for key in data)


def legacy_run_data(data: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The flat form of earlier versions in the structured form (option text parsed).

    Only the keys present are carried over, so the others keep their defaults.
    """
    from gandyn.symbolic.option_text import parse_named_values

    fields = _Fields(data, where, "", LEGACY_RUN_KEYS)
    game: dict[str, Any] = {}
    if fields.has("game"):
        text = fields.text("game") or ""
        game["name"], game["options"] = parse_named_values(text, f"{where}: game", floats=False)
    for old, new in (("game_file", "file"), ("loss", "loss"), ("params", "params")):
        if old in data:
            game[new] = data[old]
    if "regularizers" in data:
        texts = data["regularizers"]
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise SpecError(f"{where}: regularizers must be a list of strings")
        game["regularizers"] = []
        for text in texts:
            name, settings = parse_named_values(text, f"{where}: regularizers")
            game["regularizers"].append({"name": name, "settings": settings})
    rule = {new: data[old] for old, new in (("optimizer", "name"), ("lr_g", "lr_g"),
                                             ("lr_d", "lr_d"), ("settings", "settings"))
            if old in data}
    result: dict[str, Any] = {"game": game, "rule": rule}
    result.update({key: data[key] for key in ("steps", "every", "measure", "max_norm", "clip",
                                              "starts") if key in data})
    if fields.has("batch_size"):  # earlier versions stored the seed of exact runs too
        result["minibatch"] = {key: data[key] for key in ("batch_size", "batch_size_g", "seed")
                               if key in data}
    return result


def run_spec_fields(data: Any, where: str) -> dict[str, Any]:
    """The fields of the run spec in ``data``, structured or of earlier versions.

    Fields the data leave out are left out here too, so that the spec's own
    defaults apply (``RunSpec(**fields)``).
    """
    if isinstance(data, Mapping) and is_legacy(data):
        data = legacy_run_data(data, where)
    fields = _Fields(data, where, "", RUN_KEYS)
    values: dict[str, Any] = {
        "game": _game(data.get("game") or {}, where),
        "rule": _rule(data.get("rule") or {}, where),
        "steps": fields.integer("steps"),
        "every": fields.integer("every"),
        "max_norm": fields.number("max_norm"),
    }
    found = {key: value for key, value in values.items() if value is not None}
    found.update(measure=fields.text("measure"), clip=fields.number("clip"),
                 minibatch=_minibatch(data.get("minibatch"), where), starts=_starts(fields))
    return found
