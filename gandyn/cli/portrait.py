"""The phase portrait's coordinates on the command line: ``--axes`` and ``--slice-at``.

A game with more than two parameters (the Gaussian game's ``theta_mu``,
``theta_sigma``, ``psi_0``, ...) cannot be drawn whole in a plane. The
portrait shows two chosen coordinates: the runs' paths are projected onto
them, and the vector field is drawn on the plane through a full state (the
hidden coordinates held fixed), which the figure states. By default that
state is the first equilibrium found in closed form; without one, the field is
drawn only where ``--slice-at`` says (hidden coordinates it leaves out are
taken from run 0's last state), and otherwise the paths are drawn alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import click

from gandyn.errors import SpecError, UnknownNameError

__all__ = ["Portrait", "portrait_options", "resolve_axes", "resolve_portrait"]


def portrait_options(func: Any) -> Any:
    """Add ``--axes`` and ``--slice-at`` to a command that draws a phase portrait."""
    func = click.option(
        "--slice-at", "slice_spec", default=None, metavar="NAME=VALUE,...",
        help="States of more than two coordinates: where the hidden coordinates are held "
             "for the field drawn in the portrait (default: the equilibrium; without one, "
             "no field). Stated in the figure.")(func)
    return click.option(
        "--axes", "axes_spec", default=None, metavar="X,Y",
        help="The two state coordinates of the phase portrait, e.g. --axes theta_mu,psi_1 "
             "(default: the first generator and the first discriminator coordinate); "
             "the paths are projected onto them.")(func)


@dataclass(frozen=True)
class Portrait:
    """What the portrait shows: two coordinates and, for larger states, the field's slice."""

    axes: tuple[int, int] | None
    slice_at: tuple[float, ...] | None = None
    slice_name: str | None = None

    def to_dict(self, names: Sequence[str]) -> dict[str, Any]:
        """The choice as plain data for a figure's metadata (coordinate names, not indices)."""
        data: dict[str, Any] = {}
        if self.axes is not None:
            data["axes"] = [names[self.axes[0]], names[self.axes[1]]]
        if self.slice_at is not None:
            data["slice_at"] = dict(zip(names, self.slice_at, strict=True))
            data["slice_source"] = self.slice_name
        return data


def resolve_axes(axes_spec: str | None, names: Sequence[str]) -> tuple[int, int] | None:
    """The indices of ``--axes X,Y`` in the state ``names`` (``None`` if not given).

    Raises
    ------
    SpecError
        Not two distinct names.
    UnknownNameError
        A name that is not a state coordinate (the message lists them).
    """
    if axes_spec is None:
        return None
    parts = [part.strip() for part in axes_spec.split(",")]
    if len(parts) != 2 or not all(parts):
        raise SpecError(f"--axes takes two state coordinates X,Y, not {axes_spec!r}")
    for part in parts:
        if part not in names:
            raise UnknownNameError("state coordinate for --axes", part, names)
    if parts[0] == parts[1]:
        raise SpecError(f"--axes names {parts[0]} twice: choose two coordinates")
    return names.index(parts[0]), names.index(parts[1])


def _default_axes(names: Sequence[str], n_theta: int | None) -> tuple[int, int]:
    if n_theta is not None and n_theta < len(names):
        return 0, n_theta
    psi = [i for i, name in enumerate(names) if name.startswith("psi")]
    return 0, psi[0] if psi else 1


def resolve_portrait(axes_spec: str | None, slice_spec: str | None, names: Sequence[str], *,
                     n_theta: int | None, equilibria: Sequence[Sequence[float]],
                     last_state: Sequence[float] | None) -> Portrait:
    """The portrait that ``--axes`` and ``--slice-at`` ask for.

    Parameters
    ----------
    axes_spec, slice_spec
        The options' text (``None`` when not given).
    names
        The state coordinates.
    n_theta
        The number of generator coordinates (the default y axis is the first
        discriminator coordinate), or ``None`` if unknown.
    equilibria
        Isolated equilibria found in closed form, in state order.
    last_state
        Run 0's last finite state, for hidden coordinates ``--slice-at`` leaves
        out when no equilibrium is known; or ``None``.

    Raises
    ------
    SpecError
        ``--slice-at`` for a state of two coordinates, or naming a shown
        coordinate; a value that is not a finite number.
    UnknownNameError
        A name that is not a state coordinate.
    """
    axes = resolve_axes(axes_spec, names)
    if len(names) <= 2:
        if slice_spec is not None:
            raise SpecError(f"--slice-at: the state ({', '.join(names)}) has two coordinates, "
                            "both shown; nothing is held fixed")
        return Portrait(axes)
    shown = axes if axes is not None else _default_axes(names, n_theta)
    given: dict[str, float] = {}
    if slice_spec is not None:
        from gandyn.symbolic.option_text import parse_assignments

        given = dict(parse_assignments([slice_spec], "--slice-at"))
        for name, value in given.items():
            if name not in names:
                raise UnknownNameError("state coordinate for --slice-at", name, names)
            if names.index(name) in shown:
                raise SpecError(f"--slice-at: {name} is on an axis of the portrait; give only "
                                "the hidden coordinates")
            if not math.isfinite(value):  # math, not numpy: the CLI starts without numpy
                raise SpecError(f"--slice-at: {name} must be finite, not {value}")
    hidden = [name for i, name in enumerate(names) if i not in shown]
    source: str | None
    if equilibria:
        base, source = [float(v) for v in equilibria[0]], "the equilibrium"
    elif given and last_state is not None:
        base, source = [float(v) for v in last_state], "run 0's last state"
    elif given and set(given) >= set(hidden):
        base, source = [0.0] * len(names), ""
    elif given:
        missing = ", ".join(name for name in hidden if name not in given)
        raise SpecError(f"--slice-at: give {missing} too (no equilibrium is known to fill "
                        "them in)")
    else:
        # No equilibrium and no values: a slice through an arbitrary state would draw a
        # field that does not describe the paths; draw the projected paths alone.
        return Portrait(shown)
    if given:
        # The note lists every held value; it names only where unset ones came from.
        source = None if set(given) >= set(hidden) else f"unset ones at {source}"
    values = tuple(given.get(name, base[i]) for i, name in enumerate(names))
    return Portrait(shown, values, source)
