"""Options shared by several commands, and the game they describe."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from gandyn.games.game import Game
    from gandyn.runs.spec import GameSpec

__all__ = [
    "FILE",
    "MEMORY",
    "VENUE_NAMES",
    "Ranged",
    "build_game",
    "complete_game",
    "complete_loss",
    "complete_regularizer",
    "game_options",
    "game_part",
    "game_values",
    "given_on_command_line",
    "given_values",
    "max_memory_option",
    "rule_settings_options",
    "spec_options",
    "style_option",
]


class Ranged(click.ParamType):  # type: ignore[type-arg]  # generic in newer click only
    """A number whose range is declared once, in :data:`gandyn.limits.RANGES`.

    The command line and the library check the same declaration, so both
    refuse the same values; here a value out of range is a usage error that
    names the option (``Invalid value for '--seed': ...``).

    Parameters
    ----------
    key
        The key of :data:`gandyn.limits.RANGES`.
    """

    def __init__(self, key: str) -> None:
        from gandyn.limits import RANGES

        self.key = key
        self.range = RANGES[key]
        self.name = "integer" if self.range.integer else "float"

    def get_metavar(self, param: click.Parameter, *args: Any, **kwargs: Any) -> str:
        return "INTEGER" if self.range.integer else "FLOAT"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            number: int | float = value
        else:
            text = str(value).strip()
            try:
                number = int(text) if self.range.integer else float(text)
            except ValueError:
                self.fail(f"{value!r} is not {'an integer' if self.range.integer else 'a number'}"
                          f" ({self.range.describe()})", param, ctx)
        if not self.range.contains(number):
            self.fail(f"must be {self.range.describe()}, not {value}", param, ctx)
        return number


class _Memory(click.ParamType):  # type: ignore[type-arg]
    """A memory size such as ``512M`` or ``4G`` (:func:`gandyn.limits.parse_memory`)."""

    name = "size"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        from gandyn.errors import SpecError
        from gandyn.limits import parse_memory

        try:
            return parse_memory(value)
        except SpecError as exc:
            self.fail(str(exc).replace("`max_memory` ", ""), param, ctx)


#: The type of every option or argument that names a file (input or output); empty names and
#: names of folders are refused by :mod:`gandyn.files` (outputs) and the readers (inputs).
FILE = click.Path(dir_okay=False)

#: The type of ``--max-memory``.
MEMORY = _Memory()


def max_memory_option(func: Any) -> Any:
    """``--max-memory SIZE``: the memory budget every size is checked against before work."""
    return click.option(
        "--max-memory", type=MEMORY, default="2G", show_default=True, metavar="SIZE",
        help="Memory budget: a request estimated to need more (steps x runs x recorded "
             "values, grid points, minibatches, cells, path values) is refused before any "
             "work; units K, M, G, T (powers of 1024).")(func)


#: The venue presets of :data:`gandyn.plotting.style.VENUES`, named here so that
#: ``--help`` and shell completion need no matplotlib (a test keeps the two lists equal).
VENUE_NAMES = ("default", "neurips", "iclr", "icml", "ieee", "jmlr", "arxiv", "slides")


def style_option(func: Any) -> Any:
    """``--style VENUE``: the venue preset every figure of the command is made for.

    The command draws inside :func:`gandyn.plotting.venue_style`, so the figure
    takes the venue's width, font sizes and PNG resolution.
    """
    return click.option(
        "--style", "style", type=click.Choice(VENUE_NAMES), default="default",
        show_default=True,
        help="Venue preset of the figures: column and text widths, font sizes, PNG dpi "
             "(neurips, iclr, icml, ieee, jmlr, arxiv, slides).")(func)


def _completions(names: Any, incomplete: str) -> list[Any]:
    """The catalogue names that start with ``incomplete`` (aliases only if no name does).

    ``names`` maps each name to its aliases. Only the name before a ``:``
    (``r1:gamma=0.3``) is completed; past the ``:`` nothing is offered.
    """
    from click.shell_completion import CompletionItem

    if ":" in incomplete:
        return []
    typed = incomplete.strip().lower().replace("_", "-")
    found = [CompletionItem(name) for name in names if name.startswith(typed)]
    if not found:
        found = [CompletionItem(alias, help=f"alias of {name}")
                 for name, aliases in names.items() for alias in aliases
                 if alias.startswith(typed)]
    return found


def complete_loss(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """Shell completion of ``--loss`` from the catalogue (:mod:`gandyn.games.names`)."""
    from gandyn.games.names import LOSS_NAMES

    return _completions(LOSS_NAMES, incomplete)


def complete_regularizer(ctx: click.Context, param: click.Parameter,
                         incomplete: str) -> list[Any]:
    """Shell completion of ``--reg`` from the catalogue (:mod:`gandyn.games.names`)."""
    from gandyn.games.names import REGULARIZER_NAMES

    return _completions(REGULARIZER_NAMES, incomplete)


def complete_game(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """Shell completion of ``--game`` from the catalogue (:mod:`gandyn.games.names`)."""
    from gandyn.games.names import GAME_NAMES

    return _completions(GAME_NAMES, incomplete)


def game_options(func: Any) -> Any:
    options = [
        click.option("--game", "game_spec", default="dirac", show_default=True,
                     metavar="NAME[:key=value,...]", shell_complete=complete_game,
                     help="Catalogue game and its options, e.g. gaussian:order=8 "
                          "(see `gandyn list games`)."),
        click.option("--game-file", type=FILE, default=None,
                     help="A custom game in TOML or JSON (see docs/custom-games.md); "
                          "replaces --game."),
        click.option("--loss", "loss_name", default=None, metavar="NAME",
                     shell_complete=complete_loss,
                     help="GAN loss (default minimax; see `gandyn list losses`)."),
        click.option("--reg", "reg_specs", multiple=True, metavar="NAME[:key=value,...]",
                     shell_complete=complete_regularizer,
                     help="Regularizer, repeatable, e.g. --reg r1:gamma=0.3 "
                          "(see `gandyn list regularizers`)."),
        click.option("--param", "param_specs", multiple=True, metavar="NAME=VALUE",
                     help="Hyper-parameter value by symbol name, repeatable, e.g. --param c=1."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def given_on_command_line() -> Callable[[str], bool]:
    """Whether the current command's parameter (by its Python name) was typed by the user."""
    from click.core import ParameterSource

    ctx = click.get_current_context()

    def given(name: str) -> bool:
        return ctx.get_parameter_source(name) is ParameterSource.COMMANDLINE

    return given


def given_values(given: Callable[[str], bool], **candidates: Any) -> dict[str, Any]:
    """The ``candidates`` (option name -> parsed value) that were typed on the command line."""
    return {name: value for name, value in candidates.items() if given(name)}


def game_values(given: Callable[[str], bool], game_spec: str, game_file: str | None,
                loss_name: str | None, reg_specs: Sequence[str],
                param_specs: Sequence[str]) -> dict[str, Any]:
    """The game options the user gave, parsed, as :func:`gandyn.runs.spec.merge` takes them."""
    from gandyn.runs.spec import RegularizerSpec
    from gandyn.symbolic.option_text import parse_assignments, parse_named_values

    values: dict[str, Any] = {}
    if given("reg_specs"):
        values["regularizers"] = []
        for text in reg_specs:
            name, settings = parse_named_values(text, "--reg")
            values["regularizers"].append(RegularizerSpec(name, tuple(settings.items())))
    if given("game_spec"):
        values["game"], values["game_options"] = parse_named_values(game_spec, "--game",
                                                                    floats=False)
    if given("game_file"):
        values["game_file"] = game_file
    if given("loss_name"):
        values["loss"] = loss_name
    if given("param_specs"):
        values["params"] = parse_assignments(param_specs, "--param")
    return values


def game_part(game_spec: str, game_file: str | None, loss_name: str | None,
              reg_specs: Sequence[str], param_specs: Sequence[str]) -> GameSpec:
    """The game part of a spec that the shared options describe."""
    from gandyn.runs.spec import GameSpec, merge_game

    values = game_values(lambda name: True, game_spec, game_file, loss_name, reg_specs,
                         param_specs)
    return merge_game(GameSpec(), **values)


def build_game(game_spec: str, game_file: str | None, loss_name: str | None,
               reg_specs: Sequence[str], param_specs: Sequence[str]) -> Game:
    """Build the game the shared options describe."""
    from gandyn.runs.build import build_game_part

    return build_game_part(game_part(game_spec, game_file, loss_name, reg_specs, param_specs))


def rule_settings_options(func: Any) -> Any:
    """The settings of the update rules, shared by simulate and analyze."""
    options = [
        click.option("--beta", type=Ranged("beta"), default=None,
                     help="momentum, altmomentum: beta (may be negative; altmomentum default "
                          "-0.5)."),
        click.option("--beta1", type=Ranged("beta1"), default=None,
                     help="adam: beta1 (default 0.9)."),
        click.option("--beta2", type=Ranged("beta2"), default=None,
                     help="adam: beta2 (default 0.999)."),
        click.option("--eps", type=Ranged("eps"), default=None, help="adam: eps (default 1e-8)."),
        click.option("--first", type=click.Choice(["d", "g"]), default=None,
                     help="altgd, altmomentum: which player moves first (default d)."),
        click.option("--d-steps", type=Ranged("d_steps"), default=None,
                     help="altgd: discriminator steps per iteration."),
        click.option("--g-steps", type=Ranged("g_steps"), default=None,
                     help="altgd: generator steps per iteration."),
        click.option("--lam", type=Ranged("lam"), default=None,
                     help="sga: adjustment weight lambda (default 1)."),
        click.option("--align", type=Ranged("align"), default=None,
                     help="sga: 1 aligns the sign of lambda (Balduzzi et al. 2018), 0 keeps it "
                          "(default 0)."),
        click.option("--align-eps", type=Ranged("align_eps"), default=None,
                     help="sga: epsilon of the sign alignment (default 0.1)."),
        click.option("--unroll", type=Ranged("unroll"), default=None,
                     help="unrolled: discriminator look-ahead steps k (default 5)."),
        click.option("--unroll-lr", type=Ranged("unroll_lr"), default=None,
                     help="unrolled: step size of the look-ahead steps (default lr_d)."),
        click.option("--lola-eta", type=Ranged("lola_eta"), default=None,
                     help="lola, sos: the opponent's anticipated step size (default: each "
                          "player's own rate)."),
        click.option("--sos-a", type=Ranged("sos_a"), default=None,
                     help="sos: a in (0, 1) of Letcher et al. (2019), Algorithm 1 (default 0.5)."),
        click.option("--sos-b", type=Ranged("sos_b"), default=None,
                     help="sos: b > 0, below |xi| = b the shaping fades (default 0.1)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def spec_options(reads: str, dumps: str) -> Callable[[Any], Any]:
    """``--spec FILE`` and ``--dump-spec``, alike on every command that runs a spec.

    Parameters
    ----------
    reads
        What the command takes from the file, e.g. "the simulation".
    dumps
        What ``--dump-spec`` prints instead of running, e.g. "the resolved spec".
    """
    def decorate(func: Any) -> Any:
        func = click.option("--dump-spec", is_flag=True,
                            help=f"Print {dumps} as TOML and exit.")(func)
        return click.option(
            "--spec", "spec_file", type=FILE, default=None,
            help=f"Read {reads} from a TOML/JSON spec (as --dump-spec writes it, or a "
                 "sidecar: a run's .meta.json, a figure's .json); options given on the "
                 "command line override it.")(func)

    return decorate
