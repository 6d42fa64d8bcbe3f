"""Custom games from a TOML or JSON file (``gandyn derive --game-file FILE``).

A game file describes a :class:`~gandyn.symbolic.model.GanModel`: the generator's
sample ``G_theta(z)``, the discriminator's real-logit ``s_psi(x)``, the
distribution of the data and of the latent variable, and hyper-parameters
that stay symbolic. Any loss and regularizer of the catalogue then applies,
exactly as to a catalogue game. The format is chosen by the extension
(``.toml`` or ``.json``; the JSON document has the same keys)::

    name = "shifted-dirac"          # optional, default: the file's stem
    title = "Dirac-GAN, data at c"  # optional
    reference = "..."               # optional

    [generator]
    parameters = ["theta"]          # the generator's parameters, at least one
    sample = "theta"                # G(z): in the parameters, z and hyper-parameters
    doc = "..."                     # optional

    [discriminator]
    parameters = ["psi"]            # the discriminator's parameters, at least one
    logit = "psi * x"               # s(x): in x, the parameters and hyper-parameters
    doc = "..."                     # optional

    [data]                          # the distribution of x_data, one of:
    points = ["c"]                  #   weighted points (weights optional: equal)
    weights = [1]
    # mean = "mu", std = 1, order = 12   normal (order: Gauss-Hermite nodes, 1..200, or "auto")
    # low = 0, high = 1, order = 12      uniform (order: Gauss-Legendre nodes)

    [latent]                        # optional, the distribution of z, same forms;
    mean = 0                        # default: a point mass at 0
    std = 1

    [parameters]                    # optional hyper-parameters and default values
    c = 1.0                         # or: c = { value = 1.0, doc = "data location" }

    [start]                         # optional starting state for simulations
    theta = 1.0
    psi = 1.0

``penalty`` in ``[generator]`` or ``[discriminator]`` adds a term in the
parameters and hyper-parameters to that player's cost after the loss (an
anchor ``"lam * theta**2 / 2"``, say).

A game may instead write the players' costs directly (no loss applies then,
nor a regularizer that needs a discriminator on data), with any number of
parameters per player::

    [generator]
    parameters = ["theta_1", "theta_2"]
    cost = "theta_1 * psi + theta_2**2 / 2"     # f_G, which the generator minimizes

    [discriminator]
    parameters = ["psi"]
    cost = "-theta_1 * psi + b * psi**2 / 2"     # f_D, which the discriminator minimizes

or, for a zero-sum game, its value alone at the top level: ``value =
"theta * psi - psi**2 / 2"`` (``f_G = V``, ``f_D = -V``: the generator
minimizes ``V``, the discriminator maximizes it). ``[parameters]`` and
``[start]`` are as above; ``[data]``, ``[latent]``, ``sample`` and ``logit`` are
refused in such a file.

Every number may also be written as an expression string: ``"1/2"``,
``"sqrt(sigma**2 + 1)"`` (points, weights, mean, std, low and high may use
the hyper-parameters; values and starts must be numbers). Expressions are
read by :func:`gandyn.symbolic.expressions.parse_expression`, an allow-list parser
that never evaluates code. The discriminator's input is ``x``, the latent
variable ``z`` and the data's random variable ``x_data``; these names, the
constants ``pi`` and ``E``, the function names, Python keywords, the
regularizers' hyper-parameters (``gamma_r1``, ...) and names beginning with
``u_`` or ``epsilon_`` (gandyn's internal random variables) are reserved.

Every problem raises :class:`~gandyn.errors.GameFileError` with one line
that starts with the file's name, such as
``game file g.toml: [generator] needs 'sample'``.
"""

from __future__ import annotations

import difflib
import json
import keyword
import math
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import sympy as sp

from gandyn.errors import GameFileError, InputFileError, SpecError
from gandyn.files import decode_text, read_input, stdin_format
from gandyn.games.game import GameDefinition
from gandyn.symbolic.expectations import (
    AUTO_ORDER,
    AUTO_ORDERS,
    DEFAULT_QUADRATURE_ORDER,
    QUADRATURES,
    Distribution,
    Normal,
    PointMasses,
    Uniform,
    point_masses,
)
from gandyn.symbolic.expressions import (
    CONSTANTS,
    EXPRESSION_FUNCTIONS,
    check_constants_at,
    parse_expression,
    parse_number,
)
from gandyn.symbolic.limits import MAX_FLOAT, MAX_PARAMETERS
from gandyn.symbolic.model import GanModel, Parameter, real_symbol

__all__ = ["MAX_FILE_BYTES", "MAX_ORDER", "load_game_file"]

#: Largest game file read (a game file is a few hundred bytes).
MAX_FILE_BYTES = 2**20

#: Largest quadrature order a game file may ask for.
MAX_ORDER = 200

#: Most parameters per player and most points of a discrete distribution.
_MAX_ITEMS = 1000

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

_INPUT, _LATENT, _DATA = "x", "z", "x_data"

_TOP_KEYS = (
    "name", "title", "reference", "generator", "discriminator", "data", "latent",
    "parameters", "start", "value",
)
_GENERATOR_KEYS = ("parameters", "sample", "cost", "penalty", "doc")
_DISCRIMINATOR_KEYS = ("parameters", "logit", "cost", "penalty", "doc")
_FORMS = {
    "points": ("points", "weights"),
    "normal": ("mean", "std", "order"),
    "uniform": ("low", "high", "order"),
}


def _reserved_names() -> dict[str, str]:
    """Reserved name -> why, for the message."""
    from gandyn.games.regularizers import REGULARIZERS

    reserved = {
        _INPUT: "the discriminator's input",
        _LATENT: "the latent variable",
        _DATA: "the data's random variable",
    }
    reserved.update({name: "a constant" for name in CONSTANTS})
    reserved.update({name: "a function" for name in [*EXPRESSION_FUNCTIONS, *QUADRATURES]})
    # Regularizers add their hyper-parameters as symbols <param>_<tag>: a game
    # parameter of the same name would silently become the same symbol.
    for reg in REGULARIZERS:
        for hyper in reg.hyper_parameters:
            reserved[f"{hyper.name}_{reg.tag}"] = f"a hyper-parameter of regularizer {reg.name!r}"
    return reserved


class _Reader:
    """Validates one decoded game file; every error names the file."""

    def __init__(self, label: str) -> None:
        self.label = label

    def fail(self, message: str) -> NoReturn:
        # Keep the promise of one line whatever a message quotes.
        raise GameFileError(f"game file {self.label}: {' '.join(message.split())}")

    # -- generic checks --------------------------------------------------------------------------

    def table(self, document: Mapping[str, Any], key: str, *, required: bool) -> dict[str, Any]:
        value = document.get(key)
        if value is None:
            if required:
                self.fail(f"missing section [{key}]")
            return {}
        if not isinstance(value, dict):
            self.fail(f"[{key}] must be a table of keys, not {_kind(value)}")
        return value

    def known_keys(self, table: Mapping[str, Any], known: Sequence[str], where: str) -> None:
        for key in table:
            if key not in known:
                close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                self.fail(f"{where}unknown key {key!r}{hint} (known: {', '.join(known)})")

    def text(self, document: Mapping[str, Any], key: str, default: str) -> str:
        value = document.get(key, default)
        if not isinstance(value, str):
            self.fail(f"{key!r} must be a string, not {_kind(value)}")
        # Titles and references are printed on one line.
        return " ".join(value.split())

    def name_list(self, section: Mapping[str, Any], where: str) -> list[str]:
        if "parameters" not in section:
            self.fail(f"{where} needs 'parameters' (a list of names)")
        names = section["parameters"]
        if isinstance(names, str):
            names = [names]
        if not isinstance(names, list):
            self.fail(f"{where} parameters must be a list of names, not {_kind(names)}")
        if not names:
            self.fail(f"{where} needs at least one parameter")
        if len(names) > _MAX_ITEMS:
            self.fail(f"{where} has more than {_MAX_ITEMS} parameters")
        return [self.check_name(n, f"{where} parameters") for n in names]

    def check_name(self, name: object, where: str) -> str:
        if not isinstance(name, str):
            self.fail(f"{where}: a name must be a string, not {_kind(name)}")
        if not _NAME.match(name) or keyword.iskeyword(name) or keyword.issoftkeyword(name):
            self.fail(
                f"{where}: {name!r} is not a valid name (a letter, then letters, digits "
                "or '_'; not a Python keyword)"
            )
        why = _RESERVED.get(name)
        if why is None and name.startswith(("u_", "epsilon_")):
            why = "gandyn's internal random variables begin with u_ or epsilon_"
        if why is not None:
            self.fail(f"{where}: the name {name!r} is reserved ({why})")
        return name

    def number(self, value: object, where: str) -> float:
        """A finite number written as a number or a numeric expression string."""
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            self.fail(f"{where} must be a number, not {_kind(value)}")
        if isinstance(value, str):
            try:
                return parse_number(value, where=where)
            except SpecError as err:
                self.fail(str(err))
        if isinstance(value, int) and abs(value) > MAX_FLOAT:
            self.fail(_too_large_integer(where, value))
        result = float(value)
        if not math.isfinite(result):
            self.fail(f"{where} must be a finite number, not {value}")
        return result

    def expression(
        self,
        value: object,
        where: str,
        symbols: Mapping[str, sp.Symbol],
        forbidden: Mapping[sp.Symbol, str],
    ) -> sp.Expr:
        """Parse ``value`` (a number or an expression string).

        ``symbols`` are the names the text may spell; ``forbidden`` are symbols
        among them that this expression must not use, with the reason (a
        generator's sample may not read the discriminator's parameters).
        """
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            self.fail(f"{where} must be an expression (a string or a number), not {_kind(value)}")
        if isinstance(value, int):
            if abs(value) > MAX_FLOAT:
                self.fail(_too_large_integer(where, value))
            return sp.Integer(value)
        if isinstance(value, float):
            if not math.isfinite(value):
                self.fail(f"{where} must be finite, not {value}")
            # The same 17-digit form the expression parser gives a literal.
            return sp.Float(repr(value), 17)
        try:
            expr = parse_expression(value, symbols, where=where)
        except SpecError as err:
            self.fail(str(err))
        used = sorted((s for s in expr.free_symbols if s in forbidden), key=str)
        if used:
            self.fail(f"{where} may not use {str(used[0])!r} ({forbidden[used[0]]})")
        return expr

    # -- distributions -------------------------------------------------------------------------

    def distribution(
        self, section: Mapping[str, Any], where: str, symbols: Mapping[str, sp.Symbol],
        forbidden: Mapping[sp.Symbol, str],
    ) -> Distribution:
        if "points" in section:
            form = "points"
        elif "mean" in section or "std" in section:
            form = "normal"
        elif "low" in section or "high" in section:
            form = "uniform"
        else:
            self.fail(
                f"{where} needs 'points' (and optional 'weights'), 'mean' and 'std' "
                "(normal), or 'low' and 'high' (uniform)"
            )
        allowed = _FORMS[form]
        for key in section:
            if key not in allowed:
                every = sorted({k for keys in _FORMS.values() for k in keys})
                if key in every:
                    self.fail(
                        f"{where} mixes {key!r} with the keys of a {form} distribution "
                        f"({', '.join(allowed)})"
                    )
                self.known_keys({key: None}, allowed, f"{where} ")

        def expr(key: str) -> sp.Expr:
            return self.expression(section[key], f"{where} {key}", symbols, forbidden)

        if form == "points":
            return self.points(section, where, symbols, forbidden)
        order = self.order(section, where)
        if form == "normal":
            if "std" not in section:
                self.fail(f"{where} needs 'std' (a normal distribution)")
            mean = expr("mean") if "mean" in section else sp.S.Zero
            std = expr("std")
            if std.is_number and not std.is_extended_positive:
                self.fail(f"{where} std must be positive, not {std}")
            if std.is_extended_positive is False:
                self.fail(f"{where} std {std} can never be positive")
            return Normal(mean, std, order)
        for key in ("low", "high"):
            if key not in section:
                self.fail(f"{where} needs {key!r} (a uniform distribution)")
        low, high = expr("low"), expr("high")
        if (high - low).is_number and not (high - low).is_extended_positive:
            self.fail(f"{where} needs low < high, not low = {low}, high = {high}")
        return Uniform(low, high, order)

    def points(
        self, section: Mapping[str, Any], where: str, symbols: Mapping[str, sp.Symbol],
        forbidden: Mapping[sp.Symbol, str],
    ) -> Distribution:
        points = self.items(section["points"], f"{where} points")
        values = [
            self.expression(p, f"{where} points[{i}]", symbols, forbidden)
            for i, p in enumerate(points)
        ]
        weights: list[object] | None = None
        if "weights" in section:
            raw = self.items(section["weights"], f"{where} weights")
            weights = []
            for i, w in enumerate(raw):
                label = f"{where} weights[{i}]"
                # A float weight stays a Python float: point_masses turns 0.25
                # into the exact 1/4, so the printed expectation stays exact.
                if isinstance(w, float) and math.isfinite(w):
                    weights.append(w)
                else:
                    weights.append(self.expression(w, label, symbols, forbidden))
        try:
            return point_masses(values, weights)
        except ValueError as err:
            self.fail(f"{where}: {err}")

    def items(self, value: object, where: str) -> list[object]:
        if not isinstance(value, list):
            value = [value]  # one point may be written without brackets
        if not value:
            self.fail(f"{where} must not be empty")
        if len(value) > _MAX_ITEMS:
            self.fail(f"{where} has more than {_MAX_ITEMS} entries")
        return value

    def order(self, section: Mapping[str, Any], where: str) -> int:
        order = section.get("order", DEFAULT_QUADRATURE_ORDER)
        if order == "auto":
            return AUTO_ORDER  # chosen when the game is made (make_game's quad_tol)
        if isinstance(order, bool) or not isinstance(order, int):
            shown = repr(order) if isinstance(order, float | str | bool) else _kind(order)
            self.fail(f"{where} order must be an integer or \"auto\", not {shown}")
        if not 1 <= order <= MAX_ORDER:
            self.fail(f"{where} order must be from 1 to {MAX_ORDER}, not {order}")
        return order

    # -- the whole file ------------------------------------------------------------------------

    def game(self, document: Mapping[str, Any], stem: str) -> GameDefinition:
        self.known_keys(document, _TOP_KEYS, "")
        name = self.text(document, "name", stem)
        if not name:
            self.fail("'name' must not be empty")
        title = self.text(document, "title", f"custom game {name}")
        reference = self.text(document, "reference", f"custom game file {self.label}")

        generator = self.table(document, "generator", required=True)
        discriminator = self.table(document, "discriminator", required=True)
        # Two kinds of file: a GAN model (sample, logit, data), to which a loss applies,
        # or the players' costs written directly (a value, or each player's cost).
        direct = "value" in document or "cost" in generator or "cost" in discriminator
        data = self.table(document, "data", required=not direct)
        latent = self.table(document, "latent", required=False)
        hyper = self.table(document, "parameters", required=False)
        start = self.table(document, "start", required=False)
        self.known_keys(generator, _GENERATOR_KEYS, "[generator] ")
        self.known_keys(discriminator, _DISCRIMINATOR_KEYS, "[discriminator] ")
        if direct:
            self.check_direct(document, generator, discriminator)
        else:
            for key, section in (("generator", generator), ("discriminator", discriminator)):
                needed = "sample" if key == "generator" else "logit"
                if needed not in section:
                    self.fail(f"[{key}] needs {needed!r} (or give the costs: 'cost' in "
                              "[generator] and [discriminator], or a zero-sum 'value')")

        theta_names = self.name_list(generator, "[generator]")
        psi_names = self.name_list(discriminator, "[discriminator]")
        count = len(theta_names) + len(psi_names)
        if count > MAX_PARAMETERS:
            self.fail(
                f"the game has {count} parameters ({len(theta_names)} generator, "
                f"{len(psi_names)} discriminator); at most {MAX_PARAMETERS} (limit "
                "MAX_PARAMETERS): derivation time grows with the cube of their number; "
                "use fewer parameters"
            )
        params = self.hyper_parameters(hyper)
        owners: dict[str, str] = {}
        for names, owner in (
            (theta_names, "[generator] parameters"),
            (psi_names, "[discriminator] parameters"),
            ([p.name for p in params], "[parameters]"),
        ):
            for n in names:
                if n in owners:
                    where = owners[n] if owners[n] == owner else f"{owners[n]} and {owner}"
                    self.fail(f"the name {n!r} is given twice ({where})")
                owners[n] = owner

        theta = tuple(real_symbol(n) for n in theta_names)
        psi = tuple(real_symbol(n) for n in psi_names)
        if direct:
            return self.direct_game(document, generator, discriminator, theta, psi, params,
                                    name=name, title=title, reference=reference,
                                    start=self.start(start, theta_names + psi_names))
        x, z, x_data = real_symbol(_INPUT), real_symbol(_LATENT), real_symbol(_DATA)
        hyper_symbols = {p.name: p.symbol for p in params}
        everything = {
            **{s.name: s for s in theta + psi}, _INPUT: x, _LATENT: z, **hyper_symbols,
        }
        of_g = {s: "a generator parameter" for s in theta}
        of_d = {s: "a discriminator parameter" for s in psi}
        inputs = {x: "the discriminator's input", z: "the latent variable"}

        sample = self.expression(
            generator["sample"], "[generator] sample", everything,
            {**of_d, x: "the discriminator's input; the generator's sample is a function of z"},
        )
        if not sample.has(*theta):
            self.fail("[generator] sample does not depend on any generator parameter")
        logit = self.expression(
            discriminator["logit"], "[discriminator] logit", everything,
            {**of_g, z: "the latent variable; the logit is a function of x"},
        )
        if not logit.has(*psi):
            self.fail("[discriminator] logit does not depend on any discriminator parameter")

        fixed = {**of_g, **of_d, **inputs}
        data_dist = self.distribution(data, "[data]", everything, fixed)
        random: list[tuple[sp.Symbol, Distribution]] = [(x_data, data_dist)]
        latent_dist = (
            self.distribution(latent, "[latent]", everything, fixed)
            if latent
            else point_masses([0])
        )
        # A generator that ignores z needs no latent variable (nor its quadrature).
        if sample.has(z):
            random.append((z, latent_dist))
        self.check_support(logit, x, data_dist, "[discriminator] logit", "data")
        self.check_support(sample, z, latent_dist, "[generator] sample", "latent")

        model = GanModel(
            theta=theta, psi=psi, x=x, logit=logit, real_sample=x_data, fake_sample=sample,
            random=tuple(random),
        )
        # Terms in one player's cost (an anchor theta**2, a penalty in the parameters):
        # functions of the parameters and hyper-parameters, not of samples.
        in_parameters = {k: v for k, v in everything.items() if k not in (_INPUT, _LATENT)}
        cost_terms = tuple(
            self.expression(section["penalty"], f"[{key}] penalty", in_parameters, {})
            if "penalty" in section else sp.S.Zero
            for key, section in (("generator", generator), ("discriminator", discriminator)))
        symbol_docs = [
            (", ".join(theta_names), self.doc(generator, f"generator G(z) = {sample}")),
            (", ".join(psi_names), self.doc(discriminator, f"discriminator logit s(x) = {logit}")),
            (_DATA, f"data: {data_dist.describe()}"),
        ]
        if sample.has(z):
            symbol_docs.append((_LATENT, f"latent: {latent_dist.describe()}"))
        symbol_docs += [(p.name, p.doc) for p in params]
        return GameDefinition(
            name=name,
            title=title,
            reference=reference,
            theta=theta,
            psi=psi,
            params=params,
            model=model,
            symbol_docs=tuple(symbol_docs),
            cost_terms=(cost_terms[0], cost_terms[1]),
            options=(),
            start=self.start(start, theta_names + psi_names),
        )

    # -- games with direct costs ---------------------------------------------------------------

    def check_direct(self, document: Mapping[str, Any], generator: Mapping[str, Any],
                     discriminator: Mapping[str, Any]) -> None:
        """A file with direct costs has no model keys, and one way to give the costs."""
        for where, section, key in (("[generator]", generator, "sample"),
                                    ("[discriminator]", discriminator, "logit")):
            if key in section:
                self.fail(f"{where} has both {key!r} and costs: give a GAN model (sample, "
                          "logit, [data]) or the costs, not both")
        for key in ("data", "latent"):
            if key in document:
                self.fail(f"[{key}] describes a GAN model; a game with direct costs has none")
        for where, section in (("[generator]", generator), ("[discriminator]", discriminator)):
            if "penalty" in section:
                self.fail(f"{where} penalty adds to a GAN model's loss; with direct costs, "
                          "write the term in the cost")
        if "value" in document:
            for where, section in (("[generator]", generator),
                                   ("[discriminator]", discriminator)):
                if "cost" in section:
                    self.fail(f"{where} cost and 'value' both given: 'value' is the zero-sum "
                              "game's (the generator minimizes it, the discriminator "
                              "maximizes it); give either it or both costs")
        else:
            for where, section in (("[generator]", generator),
                                   ("[discriminator]", discriminator)):
                if "cost" not in section:
                    self.fail(f"{where} needs 'cost' (or give the zero-sum game's 'value')")

    def direct_game(self, document: Mapping[str, Any], generator: Mapping[str, Any],
                    discriminator: Mapping[str, Any], theta: tuple[sp.Symbol, ...],
                    psi: tuple[sp.Symbol, ...], params: tuple[Parameter, ...], *, name: str,
                    title: str, reference: str, start: tuple[tuple[str, float], ...]
                    ) -> GameDefinition:
        """The game whose costs the file writes: ``value`` (zero-sum) or each player's ``cost``."""
        symbols = {**{s.name: s for s in theta + psi}, **{p.name: p.symbol for p in params}}
        if "value" in document:
            value = self.expression(document["value"], "value", symbols, {})
            cost_g, cost_d = value, -value
            described = (f"generator minimizes V = {value}", "discriminator maximizes V")
        else:
            cost_g = self.expression(generator["cost"], "[generator] cost", symbols, {})
            cost_d = self.expression(discriminator["cost"], "[discriminator] cost", symbols, {})
            described = (f"generator; cost {cost_g}", f"discriminator; cost {cost_d}")
        if not cost_g.has(*theta):
            self.fail("the generator's cost does not depend on any generator parameter")
        if not cost_d.has(*psi):
            self.fail("the discriminator's cost does not depend on any discriminator parameter")
        symbol_docs = [
            (", ".join(s.name for s in theta), self.doc(generator, described[0])),
            (", ".join(s.name for s in psi), self.doc(discriminator, described[1])),
            *[(p.name, p.doc) for p in params],
        ]
        return GameDefinition(name=name, title=title, reference=reference, theta=theta,
                              psi=psi, params=params, direct_costs=(cost_g, cost_d),
                              symbol_docs=tuple(symbol_docs), options=(), start=start)

    def check_support(self, expr: sp.Expr, variable: sp.Symbol, dist: Distribution,
                      where: str, what: str) -> None:
        """Refuse ``expr`` if it is beyond double precision where ``variable`` takes values.

        Expectations substitute each point of a discrete distribution exactly,
        and sympy then evaluates the constants that result (``exp(exp(x))`` at
        ``x = 1000``) to ever higher precision, without end.
        """
        if not expr.has(variable):
            return
        kind = "point" if isinstance(dist, PointMasses) else "quadrature node"
        for value in _support(dist):
            problem = check_constants_at(expr, {variable: value})
            if problem is not None:
                self.fail(f"{where} at the {what} {kind} {variable} = {value:g}: {problem}")

    def doc(self, section: Mapping[str, Any], default: str) -> str:
        return self.text(section, "doc", default) if "doc" in section else default

    def hyper_parameters(self, table: Mapping[str, Any]) -> tuple[Parameter, ...]:
        params = []
        for key, raw in table.items():
            name = self.check_name(key, "[parameters]")
            where = f"[parameters] {name}"
            doc = f"hyper-parameter of {self.label}"
            if isinstance(raw, dict):
                self.known_keys(raw, ("value", "doc"), f"{where}: ")
                if "value" not in raw:
                    self.fail(f"{where} needs 'value'")
                if "doc" in raw:
                    doc = self.text(raw, "doc", doc)
                raw = raw["value"]
            params.append(Parameter(real_symbol(name), self.number(raw, where), doc))
        return tuple(params)

    def start(
        self, table: Mapping[str, Any], state: Sequence[str]
    ) -> tuple[tuple[str, float], ...]:
        for key in table:
            if key not in state:
                self.known_keys({key: None}, state, "[start] ")
        return tuple((n, self.number(table[n], f"[start] {n}")) for n in state if n in table)


_RESERVED = _reserved_names()


def _widest(order: int) -> int:
    """The order whose nodes are checked: an open order may become the largest tried."""
    return 2 * AUTO_ORDERS[-1] if order == AUTO_ORDER else order


def _support(dist: Distribution) -> list[float]:
    """The numeric points where an expectation over ``dist`` evaluates its integrand."""
    if isinstance(dist, PointMasses):
        return [float(p) for p in dist.points if p.is_number and p.is_real]
    if isinstance(dist, Normal):
        if not (dist.mean.is_number and dist.std.is_number):
            return []
        nodes = np.polynomial.hermite_e.hermegauss(_widest(dist.order))[0]
        return [float(dist.mean) + float(dist.std) * float(n) for n in nodes]
    if not (dist.low.is_number and dist.high.is_number):
        return []
    unit = (np.polynomial.legendre.leggauss(_widest(dist.order))[0] + 1.0) / 2.0
    low, high = float(dist.low), float(dist.high)
    return [low + (high - low) * float(u) for u in unit]


def _too_large_integer(where: str, value: int) -> str:
    digits = len(str(abs(value))) if abs(value).bit_length() < 14_000 else "thousands of"
    return (f"{where}: an integer of {digits} digits is beyond double precision "
            f"(limit MAX_FLOAT, about {MAX_FLOAT:.1e})")


def _kind(value: object) -> str:
    """How a decoded TOML/JSON value is described in a message."""
    kinds: dict[type, str] = {
        bool: "a boolean", int: "an integer", float: "a number", str: "a string",
        list: "a list", dict: "a table",
    }
    return kinds.get(type(value), type(value).__name__)


def _reject_constant(name: str) -> NoReturn:
    # json accepts NaN and Infinity, which are not JSON and not finite.
    raise ValueError(f"{name} is not allowed")


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"key {key!r} given twice")
        result[key] = value
    return result


def _decode(text: str, suffix: str, fail: Callable[[str], NoReturn]) -> Any:
    if suffix == ".toml":
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            # The message ends with "(at line L, column C)".
            fail(f"TOML syntax error: {err}")
        except RecursionError:
            fail("TOML syntax error: nested too deeply")
    try:
        return json.loads(
            text, parse_constant=_reject_constant, object_pairs_hook=_unique_pairs
        )
    except json.JSONDecodeError as err:
        fail(f"JSON syntax error at line {err.lineno}, column {err.colno}: {err.msg}")
    except ValueError as err:
        fail(f"JSON error: {err}")
    except RecursionError:
        fail("JSON syntax error: nested too deeply")


def load_game_file(path: str | Path) -> GameDefinition:
    """Read a custom game from a TOML or JSON file.

    Parameters
    ----------
    path
        A ``.toml`` or ``.json`` file in the format of this module's
        docstring (and ``docs/custom-games.md``).

    Returns
    -------
    GameDefinition
        A definition with a :class:`~gandyn.symbolic.model.GanModel`, ready for
        :func:`gandyn.games.game.make_game` with any loss and regularizers.

    Raises
    ------
    GameFileError
        With one line ``game file <name>: <problem>`` when the file is
        missing, unreadable, not valid TOML/JSON, or does not describe a game.
    """
    stdin = str(path) == "-"
    path = Path(path)
    reader = _Reader(path.name)
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".json") and not stdin:
        reader.fail(f"unknown format {path.suffix or '(no extension)'!r}: use .toml or .json")
    try:
        raw = read_input("-" if stdin else path, what="game file", limit=MAX_FILE_BYTES)
        if stdin:  # no extension: JSON if the document starts with {, else TOML
            suffix = stdin_format(raw, (".json", ".toml"))
        text = decode_text(raw, what="game file", name=path.name)
    except InputFileError as err:
        # Every message starts with the file: "game file g.toml: ...".
        message = str(err).removeprefix("cannot read ")
        raise GameFileError(message) from None
    except ValueError as err:  # a path with a NUL character
        raise GameFileError(f"game file {path!s}: cannot read it ({err})") from None
    document = _decode(text, suffix, reader.fail)
    if not isinstance(document, dict):
        reader.fail(f"the document must be a table of keys, not {_kind(document)}")
    try:
        return reader.game(document, path.stem)
    except GameFileError:
        raise
    except (ValueError, TypeError, ArithmeticError, RecursionError) as err:
        # A last resort: sympy may refuse an expression in ways not foreseen
        # above; the user still gets one line naming the file, not a traceback.
        message = str(err).splitlines()[0] if str(err) else type(err).__name__
        reader.fail(f"invalid game: {message}")
