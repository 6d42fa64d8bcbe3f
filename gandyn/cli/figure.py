"""``gandyn figure``: the figures that have no other command, each from the command line.

``simulate --plot``, ``explain --plot``, ``analyze --path --plot`` and ``plot``
draw their own figures; this group draws the rest: the generator costs
against ``D(G(z))`` (``costs``), the payoff map with best responses and Nash
points (``nash-map``), the eigenvalues against a rule's stability region
(``eigenvalues``), a rule's spectral radius over two parameters
(``stability-map``) and the eigenvalues as the discriminator's learning rate
grows against the generator's (``time-scales``). Each writes the figure with its JSON sidecar (the
values that made it) and its data, refuses to overwrite without ``--force``,
and checks its output before any work.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from gandyn import __version__
from gandyn.cli.options import FILE, VENUE_NAMES, Ranged, build_game, game_options, style_option
from gandyn.cli.output import wrote
from gandyn.rules.names import RULE_NAMES

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from gandyn.derivation.field import VectorField

__all__ = ["VENUE_NAMES", "figure"]


def _output_options(func: Any) -> Any:
    options: list[Callable[[Any], Any]] = [
        click.option("--out", "out", required=True, type=FILE,
                     help="The figure: .pdf, .svg or .png (FIG.json and FIG.data.npz are "
                          "written beside it)."),
        click.option("--also", "also", multiple=True, metavar="FORMAT",
                     help="Also write this format with the same stem (pdf, svg, png); "
                          "repeatable."),
        style_option,
        click.option("--layout", type=click.Choice(["one-column", "two-column"]),
                     default="one-column", show_default=True, help="Figure width."),
        click.option("--force", is_flag=True, help="Overwrite existing output files."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _check_outputs(out: str, also: Sequence[str], force: bool) -> None:
    """Refuse a bad extension or an existing output before any work is done."""
    from gandyn.errors import SpecError
    from gandyn.files import FIGURE_FORMATS, check_writable, figure_paths, output_path

    formats = FIGURE_FORMATS
    output_path(out, option="out")  # an empty or folder name, before the extension
    target = Path(out)
    if target.suffix.lower() not in formats:
        raise SpecError(f"--out {out}: unknown extension {target.suffix or '(none)'!r} "
                        f"(allowed: {', '.join(formats)})")
    paths = list(figure_paths(target).values())
    for fmt in also:
        suffix = "." + fmt.lower().lstrip(".")
        if suffix not in formats:
            raise SpecError(f"--also {fmt}: unknown format (allowed: pdf, svg, png)")
        paths.append(target.with_suffix(suffix))
    check_writable(paths, force)


def _draw_and_save(out: str, also: Sequence[str], style: str, layout: str, force: bool,
                   draw: Callable[[Figure], dict[str, Any]], metadata: dict[str, Any]) -> None:
    """Build the figure with ``draw`` inside the venue's style and save it with its data."""
    from gandyn.plotting import (
        ONE_COLUMN,
        TWO_COLUMN,
        paper_figure,
        paper_style,
        save_figure,
        venue_style,
    )

    with venue_style(style), paper_style():
        fig = paper_figure(ONE_COLUMN if layout == "one-column" else TWO_COLUMN)
        data = draw(fig)
        written = save_figure(fig, out, metadata={"gandyn_version": __version__, **metadata,
                                                  "style": style, "layout": layout},
                              data=data, force=force, also=tuple(also))
    wrote(written)


#: Seconds the closed-form solve for the default point may take.
SOLVE_TIMEOUT = 10.0


def _game_field(game_spec: str, game_file: str | None, loss_name: str | None,
                reg_specs: Sequence[str], param_specs: Sequence[str]) -> VectorField:
    from gandyn.derivation.field import derive

    return derive(build_game(game_spec, game_file, loss_name, reg_specs, param_specs))


def _game_metadata(game_spec: str, game_file: str | None, loss_name: str | None,
                   reg_specs: Sequence[str], param_specs: Sequence[str]) -> dict[str, Any]:
    return {"game": game_spec, "game_file": Path(game_file).name if game_file else None,
            "loss": loss_name, "regularizers": list(reg_specs), "params": list(param_specs)}


def _point(vf: VectorField, at_specs: Sequence[str]) -> list[float]:
    """The state given by ``--at``, else the game's one isolated closed-form equilibrium."""
    import sympy as sp

    from gandyn.derivation.stationary import find_stationary_points
    from gandyn.errors import SpecError
    from gandyn.symbolic.option_text import parse_assignments

    names = tuple(s.name for s in vf.game.state_symbols)
    if at_specs:
        values = parse_assignments(at_specs, "--at")
        unknown = sorted(set(values) - set(names))
        missing = [n for n in names if n not in values]
        if unknown or missing:
            raise SpecError(f"--at must give every state coordinate ({', '.join(names)}); "
                            + (f"unknown: {', '.join(unknown)}" if unknown
                               else f"missing: {', '.join(missing)}"))
        return [values[n] for n in names]
    found = find_stationary_points(vf, timeout=SOLVE_TIMEOUT)
    points = [[float(sp.N(dict((s.name, v) for s, v in point)[n])) for n in names]
              for point in found.points if not any(v.free_symbols for _, v in point)]
    if not points:
        why = ("has no isolated closed-form equilibrium" if found.status == "solved"
               else f"gave no closed-form equilibrium ({found.message})")
        raise SpecError(f"this game {why}: give the point with --at "
                        + ",".join(f"{n}=VALUE" for n in names))
    return points[0]


def _jacobian_at(game_spec: str, game_file: str | None, loss_name: str | None,
                 reg_specs: Sequence[str], param_specs: Sequence[str],
                 at_specs: Sequence[str]) -> tuple[list[float], Any, int]:
    """The point ``--at`` names (or the equilibrium), ``dF/dx`` there and the generator's size."""
    import numpy as np

    vf = _game_field(game_spec, game_file, loss_name, reg_specs, param_specs)
    point = _point(vf, at_specs)
    jacobian = np.asarray(vf.jacobian_fn(np.asarray(point)), dtype=np.float64)
    return point, jacobian, len(vf.game.theta)


def _rates(lr: float, lr_g: float | None, lr_d: float | None) -> tuple[float, float]:
    from gandyn.errors import SpecError

    rate_g, rate_d = (lr if lr_g is None else lr_g), (lr if lr_d is None else lr_d)
    for name, value in (("--lr-g", rate_g), ("--lr-d", rate_d)):
        if not value > 0 or value == float("inf"):
            raise SpecError(f"{name} must be a positive number, got {value}")
    return rate_g, rate_d


def _rule_options(func: Any) -> Any:
    options = [
        click.option("--at", "at_specs", multiple=True, metavar="SYM=VALUE,...",
                     help="The stationary point (every state coordinate); default: the "
                          "game's closed-form equilibrium."),
        click.option("--optimizer", type=click.Choice(sorted(RULE_NAMES)), default="simgd",
                     show_default=True, help="The update rule whose map is drawn."),
        click.option("--lr", type=Ranged("lr"), default=0.1, show_default=True,
                     help="Learning rate of both players."),
        click.option("--lr-g", type=Ranged("lr_g"), default=None,
                     help="Generator's learning rate."),
        click.option("--lr-d", type=Ranged("lr_d"), default=None,
                     help="Discriminator's learning rate."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.group()
def figure() -> None:
    """Draw a figure no other command draws (costs, Nash map, eigenvalues, time scales, ...).

    \b
    Examples:
      gandyn figure costs --x logit --losses minimax,non-saturating,least-squares --out c.pdf
      gandyn figure nash-map --game hide-and-seek --out nash.pdf
      gandyn figure eigenvalues --reg r1:gamma=0.3 --optimizer altgd --lr 0.5 --out eig.pdf
      gandyn figure stability-map --reg r1:gamma=1 --x lr=0.01:3:60 --y gamma_r1=0.05:2:60 \\
          --out map.png --style icml
      gandyn figure time-scales --game bilinear --param a=-0.5,b=1 --out tau.pdf
    """


@figure.command("costs")
@click.option("--losses", default="minimax,non-saturating", show_default=True,
              metavar="NAME,...", help="Losses whose generator cost is drawn.")
@click.option("--x", "x_axis", type=click.Choice(["probability", "logit"]),
              default="probability", show_default=True,
              help="Against D(G(z)) or the fake logit l.")
@click.option("--quantity", type=click.Choice(["cost", "gradient"]), default="cost",
              show_default=True, help="The cost, or its derivative in the x variable.")
@click.option("--points", type=click.IntRange(2, 100_000), default=400, show_default=True,
              help="Points per curve.")
@_output_options
def costs(losses: str, x_axis: str, quantity: str, points: int, out: str, also: Sequence[str],
          style: str, layout: str, force: bool) -> None:
    """Each loss's generator cost against D(G(z)) or the logit (Goodfellow 2016, Fig. 16)."""
    from gandyn.errors import SpecError

    names = [name.strip() for name in losses.split(",") if name.strip()]
    if not names:
        raise SpecError("--losses: give at least one loss")
    _check_outputs(out, also, force)

    def draw(fig: Figure) -> dict[str, Any]:
        from gandyn.plotting import generator_costs, generator_costs_data

        generator_costs(fig.add_subplot(), names, x=x_axis,  # type: ignore[arg-type]
                        quantity=quantity, points=points)  # type: ignore[arg-type]
        if x_axis == "probability":
            return generator_costs_data(names, points=points)
        return {}

    _draw_and_save(out, also, style, layout, force, draw,
                   {"figure": "costs", "losses": names, "x": x_axis, "quantity": quantity,
                    "points": points})


@figure.command("nash-map")
@game_options
@click.option("--box", "box_specs", multiple=True, metavar="SYM=LOW:HIGH,...",
              help="The box of strategies (both parameters); default: -1:1 for each.")
@click.option("--grid", "grid_points", type=click.IntRange(2, 2001), default=101,
              show_default=True, help="Grid points per axis.")
@click.option("--payoff", type=click.Choice(["auto", "value", "cost_g", "cost_d"]),
              default="auto", show_default=True,
              help="What the colours show (auto: the value of a zero-sum game).")
@_output_options
def nash_map_command(game_spec: str, game_file: str | None, loss_name: str | None,
                     reg_specs: Sequence[str], param_specs: Sequence[str],
                     box_specs: Sequence[str], grid_points: int, payoff: str, out: str,
                     also: Sequence[str], style: str, layout: str, force: bool) -> None:
    """The payoff over a box with both best responses and the pure Nash points (if any)."""
    from gandyn.symbolic.option_text import parse_ranges

    _check_outputs(out, also, force)
    vf = _game_field(game_spec, game_file, loss_name, reg_specs, param_specs)
    names = [s.name for s in vf.game.state_symbols]
    box = ({key: (low, high) for key, (low, high, _) in
            parse_ranges(box_specs, "--box", count=False).items()}
           if box_specs else {name: (-1.0, 1.0) for name in names})

    def draw(fig: Figure) -> dict[str, Any]:
        from gandyn.equilibria.grid_nash import payoff_grid
        from gandyn.plotting import nash_map, nash_map_data

        grid = payoff_grid(vf, box, grid_points)
        nash_map(fig.add_subplot(), grid, payoff=payoff)  # type: ignore[arg-type]
        return nash_map_data(grid)

    _draw_and_save(out, also, style, layout, force, draw,
                   {"figure": "nash-map", **_game_metadata(game_spec, game_file, loss_name,
                                                           reg_specs, param_specs),
                    "box": {k: list(v) for k, v in box.items()}, "grid": grid_points,
                    "payoff": payoff})


@figure.command("eigenvalues")
@game_options
@_rule_options
@click.option("--view", type=click.Choice(["auto", "flow", "map"]), default="auto",
              show_default=True,
              help="flow: eigenvalues of the Jacobian against the rule's stability region; "
                   "map: the map's eigenvalues against the unit circle.")
@_output_options
def eigenvalues(game_spec: str, game_file: str | None, loss_name: str | None,
                reg_specs: Sequence[str], param_specs: Sequence[str], at_specs: Sequence[str],
                optimizer: str, lr: float, lr_g: float | None, lr_d: float | None, view: str,
                out: str, also: Sequence[str], style: str, layout: str, force: bool) -> None:
    """The Jacobian's eigenvalues at a stationary point against the rule's stability region."""

    rate_g, rate_d = _rates(lr, lr_g, lr_d)
    _check_outputs(out, also, force)
    point, jacobian, n_theta = _jacobian_at(game_spec, game_file, loss_name, reg_specs,
                                            param_specs, at_specs)

    def draw(fig: Figure) -> dict[str, Any]:
        from gandyn.plotting import eigenvalue_plane, spectrum_data

        eigenvalue_plane(fig.add_subplot(), jacobian, rule=optimizer, lr_g=rate_g, lr_d=rate_d,
                         n_theta=n_theta, view=view)  # type: ignore[arg-type]
        return spectrum_data(jacobian, rule=optimizer, lr_g=rate_g, lr_d=rate_d,
                             n_theta=n_theta)

    _draw_and_save(out, also, style, layout, force, draw,
                   {"figure": "eigenvalues", **_game_metadata(game_spec, game_file, loss_name,
                                                              reg_specs, param_specs),
                    "at": point, "optimizer": optimizer, "lr_g": rate_g, "lr_d": rate_d,
                    "view": view})


@figure.command("stability-map")
@game_options
@_rule_options
@click.option("--x", "x_spec", required=True, metavar="NAME=LOW:HIGH:N",
              help="Across: lr, lr_g, lr_d, a rule setting (beta) or a hyper-parameter "
                   "(gamma_r1), with N values.")
@click.option("--y", "y_spec", required=True, metavar="NAME=LOW:HIGH:N", help="Up: as --x.")
@_output_options
def stability_map_command(game_spec: str, game_file: str | None, loss_name: str | None,
                          reg_specs: Sequence[str], param_specs: Sequence[str],
                          at_specs: Sequence[str], optimizer: str, lr: float,
                          lr_g: float | None, lr_d: float | None, x_spec: str, y_spec: str,
                          out: str, also: Sequence[str], style: str, layout: str,
                          force: bool) -> None:
    """The spectral radius of the rule's map over two parameters, with its boundary rho = 1."""
    import numpy as np

    from gandyn.errors import SpecError
    from gandyn.symbolic.option_text import parse_range

    rate_g, rate_d = _rates(lr, lr_g, lr_d)
    x_name, x_low, x_high, x_count = parse_range(x_spec, "--x", count=True, min_count=2)
    y_name, y_low, y_high, y_count = parse_range(y_spec, "--y", count=True, min_count=2)
    if x_count * y_count > 250_000:
        raise SpecError(f"--x and --y: {x_count} x {y_count} cells; at most 250000 "
                        "(each cell is an eigenvalue problem)")
    _check_outputs(out, also, force)
    vf = _game_field(game_spec, game_file, loss_name, reg_specs, param_specs)
    point = _point(vf, at_specs)
    xs, ys = np.linspace(x_low, x_high, x_count), np.linspace(y_low, y_high, y_count)

    def draw(fig: Figure) -> dict[str, Any]:
        from gandyn.plotting import map_radius_grid, stability_map
        from gandyn.plotting.figures import state_label

        radius = map_radius_grid(vf, point, optimizer, (x_name, xs), (y_name, ys),
                                 lr_g=rate_g, lr_d=rate_d)
        stability_map(fig.add_subplot(), xs, ys, radius, xlabel=state_label(x_name),
                      ylabel=state_label(y_name))
        return {"x": xs, "y": ys, "spectral_radius": radius}

    _draw_and_save(out, also, style, layout, force, draw,
                   {"figure": "stability-map", **_game_metadata(game_spec, game_file,
                                                                loss_name, reg_specs,
                                                                param_specs),
                    "at": point, "optimizer": optimizer, "lr_g": rate_g, "lr_d": rate_d,
                    "x": [x_name, x_low, x_high, x_count], "y": [y_name, y_low, y_high, y_count]})


@figure.command("time-scales")
@game_options
@click.option("--at", "at_specs", multiple=True, metavar="SYM=VALUE,...",
              help="The stationary point (every state coordinate); default: the game's "
                   "closed-form equilibrium.")
@click.option("--ratios", "ratio_spec", default="1e-3:1e3", show_default=True,
              metavar="LOW:HIGH", help="The range of tau = lr_d / lr_g drawn (log axis).")
@click.option("--points", type=click.IntRange(2, 100_000), default=400, show_default=True,
              help="Ratios at which the eigenvalues are computed.")
@_output_options
def time_scales_command(game_spec: str, game_file: str | None, loss_name: str | None,
                        reg_specs: Sequence[str], param_specs: Sequence[str],
                        at_specs: Sequence[str], ratio_spec: str, points: int, out: str,
                        also: Sequence[str], style: str, layout: str, force: bool) -> None:
    """Eigenvalues of the flow with the discriminator tau times faster, and the critical ratios."""

    from gandyn.symbolic.option_text import parse_range

    _, low, high, _ = parse_range(f"tau={ratio_spec}", "--ratios", count=False)
    if not low > 0:
        from gandyn.errors import SpecError

        raise SpecError(f"--ratios {ratio_spec}: the ratios must be positive")
    _check_outputs(out, also, force)
    point, jacobian, n_theta = _jacobian_at(game_spec, game_file, loss_name, reg_specs,
                                            param_specs, at_specs)

    def draw(fig: Figure) -> dict[str, Any]:
        from gandyn.plotting.time_scales import time_scale_axes, time_scale_data

        data = time_scale_data(jacobian, n_theta, (low, high), points)
        time_scale_axes(fig.add_subplot(), data)
        return data

    _draw_and_save(out, also, style, layout, force, draw,
                   {"figure": "time-scales", **_game_metadata(game_spec, game_file, loss_name,
                                                              reg_specs, param_specs),
                    "at": point, "ratios": [low, high], "points": points})
