"""The combinations a page offers: every loss and regularizer choice, derived and printed as JS.

For a two-parameter game the page offers every catalogue loss (one for games
with direct costs, which take none) and, as regularizer choices, none, each
catalogue regularizer that applies to the game on its own, and the user's own
combination when it holds several. Each combination is built as
``gandyn simulate`` builds its game (:func:`gandyn.runs.build.build_game_part`),
differentiated by :func:`gandyn.derivation.field.derive`, and its field
``F = -xi``, Jacobian ``dF/dx`` and logged losses are printed as JavaScript
(:mod:`gandyn.explore.jscode`), with every hyper-parameter left symbolic so
that the page's sliders set it. So are what the rules that look through a step
read: the cross gradient ``c = (d cost_d/d theta, d cost_g/d psi)``
(:mod:`gandyn.derivation.player_derivatives`; unrolled GANs, LOLA, SOS), and for
their map Jacobians and SGA's the new entries of ``dc/dx`` and of the third
derivatives ``d(dF/dx)/dx`` (:func:`_opponent_terms`).

References
----------
.. [1] Mescheder, Geiger and Nowozin (2018). Which Training Methods for GANs do
   actually Converge?. ICML (the Dirac-GAN and the R1, R2 penalties).
.. [2] Mescheder, Nowozin and Geiger (2017). The Numerics of GANs. NeurIPS
   (the vector field of a game and its Jacobian).
.. [3] Letcher et al. (2019). Stable Opponent Shaping in Differentiable Games.
   ICLR, Sec. 3 (the cross terms the opponent-aware rules read).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import sympy as sp

from gandyn.derivation.field import VectorField, derive
from gandyn.derivation.player_derivatives import player_derivatives
from gandyn.errors import SpecError
from gandyn.explore.codecache import cached_code, code_key
from gandyn.explore.jscode import js_function
from gandyn.games.game import Game
from gandyn.games.losses import FAKE_LOGIT, LOSSES, REAL_LOGIT, get_loss
from gandyn.games.regularizers import REGULARIZERS, get_regularizer
from gandyn.runs.build import build_game_part
from gandyn.runs.parts import GameSpec, RegularizerSpec

__all__ = ["LOGGED", "NO_REGULARIZER", "Offer", "ParameterEntry", "Variant", "offer"]

#: The three losses a training loop logs, drawn on the page.
LOGGED = ("d_real", "d_fake", "g_loss")
#: The page's name for "no regularizer".
NO_REGULARIZER = "none"


@dataclass(frozen=True)
class Variant:
    """One loss and regularizer choice: its JavaScript and the parameters it reads.

    Attributes
    ----------
    key
        ``loss|regularizers`` (``"non-saturating|r1"``; ``"-|none"`` without a loss).
    loss
        The canonical loss name, or ``None`` for games with direct costs.
    regularizer
        The page's regularizer choice: ``none``, a name, or names joined by ``+``.
    reg_texts
        Each regularizer as ``--reg`` spells it with its structural options.
    params
        The hyper-parameters the expressions read, by name.
    code
        A JavaScript object literal with ``field``, ``jacobian``, ``cross``,
        ``higher`` and ``logged``, functions ``(x, p)`` that return flat lists.
    """

    key: str
    loss: str | None
    regularizer: str
    reg_texts: tuple[str, ...]
    params: tuple[str, ...]
    code: str


@dataclass(frozen=True)
class ParameterEntry:
    """A hyper-parameter of some variant: its value (given or default) and meaning.

    ``of_regularizer`` marks a regularizer's weight, scale or target, which the page's
    slider keeps non-negative; the game's own parameters (a data location) may be negative.
    """

    name: str
    value: float
    doc: str
    of_regularizer: bool = False


@dataclass(frozen=True)
class Offer:
    """Everything the page offers for one game.

    Attributes
    ----------
    game
        The game as the command line names it (``dirac``, ``two-point:logit=affine``).
    title, reference
        The game's title and its source, as ``gandyn list games`` prints them.
    state_names
        ``theta`` then ``psi`` (two names).
    start
        The start: the game's default.
    losses, regularizers
        The choices, in the page's order; the first of each is the default.
    variants
        One per loss and regularizer choice.
    parameters
        Every hyper-parameter some variant reads.
    logit_code
        For games with a discriminator: JavaScript for the mean fake and real
        logits ``[E l, E r]`` at ``x`` and, per loss, the per-sample
        ``[d_fake, g_loss]`` as functions of ``(l, r)``; empty otherwise.
    """

    game: str
    title: str
    reference: str
    state_names: tuple[str, str]
    start: tuple[float, float]
    losses: tuple[str | None, ...]
    regularizers: tuple[str, ...]
    variants: tuple[Variant, ...]
    parameters: tuple[ParameterEntry, ...]
    logit_code: str


def _reg_text(spec: RegularizerSpec | None, name: str) -> str:
    """``--reg``'s spelling: the name with the user's structural options (orders)."""
    if spec is None:
        return name
    integer = {o.name for o in get_regularizer(name).options}
    options = [f"{k}={v}" for k, v in spec.settings if k in integer]
    return f"{name}:{','.join(options)}" if options else name


def _choices(part: GameSpec, has_model: bool, only: Sequence[str] | None,
             ) -> list[tuple[str, tuple[RegularizerSpec, ...]]]:
    """The regularizer choices: none, each applicable one alone, the user's combination."""
    given = {get_regularizer(r.name).name: r for r in part.regularizers}
    wanted = None if only is None else {get_regularizer(n).name for n in only} | set(given)
    choices: list[tuple[str, tuple[RegularizerSpec, ...]]] = [(NO_REGULARIZER, ())]
    for entry in REGULARIZERS:
        if (entry.needs_model and not has_model) or (wanted is not None
                                                     and entry.name not in wanted):
            continue
        choices.append((entry.name, (given.get(entry.name, RegularizerSpec(entry.name)),)))
    if len(given) > 1:
        combined = tuple(given.values())
        choices.append(("+".join(given), combined))
    return choices


def _default_choice(part: GameSpec) -> str:
    names = [get_regularizer(r.name).name for r in part.regularizers]
    return "+".join(names) if names else NO_REGULARIZER


def _variant_game(part: GameSpec, loss: str | None, regs: tuple[RegularizerSpec, ...],
                  base_dir: str | Path | None) -> Game:
    """The game of one choice, with the user's values for the parameters it has."""
    game = build_game_part(replace(part, loss=loss, regularizers=regs, params=()), base_dir)
    names = {p.name for p in game.params}
    values = {k: v for k, v in part.params if k in names}
    # The user's regularizer weights are values of the regularizer's own symbols.
    return game.with_params(values) if values else game


#: The entries ``(i, j, k)`` of ``d(dF_i/dx_j)/dx_k`` printed for a two-parameter game: one
#: of each pair that the symmetry in ``j, k`` makes equal (the page fills in the other).
THIRD_ENTRIES = ((0, 0, 0), (0, 0, 1), (0, 1, 1), (1, 0, 0), (1, 0, 1), (1, 1, 1))


def _opponent_terms(field: VectorField) -> tuple[list[sp.Expr], list[sp.Expr]]:
    """The cross gradient ``c``, and what the page needs of ``dc/dx`` and ``d(dF/dx)/dx``.

    Of the cross Jacobian only the diagonal is new: ``dc_0/dpsi = d^2 cost_d / dtheta dpsi =
    -dF_1/dtheta`` and ``dc_1/dtheta = -dF_0/dpsi`` are entries of ``dF/dx``, which the page
    reads there. Of the third derivatives the entries :data:`THIRD_ENTRIES`. Both are
    derived by the game's own differentiator, as
    :attr:`~gandyn.derivation.field.VectorField.jacobian_derivative` and
    :mod:`gandyn.derivation.player_derivatives` derive them; printing a third of the
    expressions fewer keeps the page smaller and its build faster.
    """
    cross = list(player_derivatives(field).cross_gradient)
    state, diff = field.game.state_symbols, field.differentiator.diff
    jacobian = field.jacobian
    higher = [diff(cross[0], state[0]), diff(cross[1], state[1])]
    higher += [diff(jacobian[i, j], state[k]) for i, j, k in THIRD_ENTRIES]
    return cross, higher


def _variant_code(game: Game, logged: list[sp.Expr], state: tuple[sp.Symbol, ...],
                  symbols: list[sp.Symbol]) -> str:
    """The JavaScript object literal of one combination (:attr:`Variant.code`)."""
    field = derive(game)
    cross, higher = _opponent_terms(field)
    return ("{field: " + js_function("", list(field.field), state, symbols)
            + ",\njacobian: " + js_function("", list(field.jacobian), state, symbols)
            + ",\ncross: " + js_function("", cross, state, symbols)
            + ",\nhigher: " + js_function("", higher, state, symbols)
            + ",\nlogged: " + js_function("", logged, state, symbols)
            + "}")


def _logged_terms(game: Game) -> list[sp.Expr]:
    by_name = dict(game.logged)
    return [by_name.get(name, sp.S.Zero) for name in LOGGED]


def offer(part: GameSpec, base_dir: str | Path | None = None, *,
          regularizers: Sequence[str] | None = None) -> Offer:
    """Derive every combination the page offers for the game of ``part``.

    Parameters
    ----------
    part
        The game part of a spec (game or game file, loss, regularizers, params),
        as the command line's shared options give it.
    base_dir
        Where a relative game file is looked for first.
    regularizers
        Offer only these regularizers (and those of ``part``) beside none;
        ``None``: every one that applies to the game.

    Returns
    -------
    Offer

    Raises
    ------
    SpecError
        A game whose state is not two-dimensional (the page draws a plane),
        or a ``--param`` that no offered combination has.
    """
    base = build_game_part(part, base_dir)  # refuses bad names and values first, in one line
    state = base.state_symbols
    if len(state) != 2:
        raise SpecError(
            f"`game` {base.name!r} has {len(state)} parameters "
            f"({', '.join(s.name for s in state)}); gandyn explore draws the phase plane of "
            "games with two (one per player); use `gandyn simulate --plot --axes` for larger "
            "games")
    has_model = base.definition.model is not None
    chosen_loss = base.loss.name if base.loss is not None else None
    losses: list[str | None] = [None]
    if has_model:
        losses = [chosen_loss, *(n for n in LOSSES.names() if n != chosen_loss)]
    choices = _choices(part, has_model, regularizers)
    default = _default_choice(part)
    choices.sort(key=lambda choice: choice[0] != default)  # the user's choice first
    variants: list[Variant] = []
    parameters: dict[str, ParameterEntry] = {}
    own = {str(p.symbol.name) for p in base.definition.params}
    for loss in losses:
        for choice, regs in choices:
            game = _variant_game(part, loss, regs, base_dir)
            symbols = sorted(game.param_values, key=lambda s: str(s.name))
            for p in game.params:
                parameters.setdefault(p.name, ParameterEntry(
                    p.name, float(p.value), p.doc, of_regularizer=p.name not in own))
            logged = _logged_terms(game)
            code = cached_code(code_key(game, logged, state, symbols),
                               functools.partial(_variant_code, game, logged, state, symbols),
                               name=f"{loss or '-'}|{choice}")
            variants.append(Variant(
                key=f"{loss or '-'}|{choice}", loss=loss, regularizer=choice,
                reg_texts=tuple(_reg_text(r, get_regularizer(r.name).name) for r in regs),
                params=tuple(str(s.name) for s in symbols), code=code))
    unknown = sorted({k for k, _ in part.params} - set(parameters))
    if unknown:
        raise SpecError(f"`param` {unknown[0]!r} is no hyper-parameter of the games offered "
                        f"(they have {', '.join(sorted(parameters)) or 'none'})")
    logit_code = _logit_code(base, [loss for loss in losses if loss is not None], state)
    name = part.name if part.file is None else base.name
    options = ",".join(f"{k}={v}" for k, v in part.options)
    start = base.default_start
    return Offer(
        game=f"{name}:{options}" if options else name,
        title=base.definition.title,
        reference=base.definition.reference,
        state_names=(state[0].name, state[1].name),
        start=(start[state[0].name], start[state[1].name]),
        losses=tuple(losses),
        regularizers=tuple(choice for choice, _ in choices),
        variants=tuple(variants),
        parameters=tuple(parameters.values()),
        logit_code=logit_code,
    )


def _logit_code(game: Game, losses: list[str], state: tuple[sp.Symbol, ...]) -> str:
    """The fake-logit panel's functions: mean logits at ``x``, per-sample losses of ``l``."""
    model = game.definition.model
    if model is None:
        return ""
    symbols = sorted(game.param_values, key=lambda s: str(s.name))
    means = [model.expect(model.fake_logit), model.expect(model.real_logit)]
    code = ["{means: " + js_function("", means, state, symbols) + ",\ncurves: {"]
    for name in losses:
        loss = get_loss(name)
        curve = js_function("", [loss.d_fake, loss.g_loss], (FAKE_LOGIT, REAL_LOGIT), [])
        code.append(f"{name!r}: {curve},")
    code.append("}}")
    return "\n".join(code)
