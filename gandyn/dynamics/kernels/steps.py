"""One step of each supported update rule, written as scalar statements per coordinate.

Each function here returns the lines of Python (numba) code that advance one
run by one step, repeating the floating-point operations of the rule's numpy
``step`` (:mod:`gandyn.rules`) in the same order, so that the compiled path
matches the numpy path bit for bit. Names in the generated code:

* ``x{i}``: the state; ``h{i}``: the coordinate's rate (``lr_g`` on theta, ``lr_d`` on psi);
* ``b{j}_{i}``: buffer ``j`` of the rule (in the order of ``buffer_names``);
* ``cfg[...]``: the rule's numeric settings (see :func:`settings_vector`);
* ``c1``, ``c2``: Adam's bias corrections of step ``k``, computed by Python;
* the step writes the new state to ``n{i}``, the new buffers to ``nb{j}_{i}`` and
  names the states each player's gradient saw ``sd{i}``, ``sg{i}`` (``measure='loop'``).

A rule not listed in :data:`STEP_WRITERS` (the proximal point step, which solves
a linear system per Newton iteration, and rules added later) is
:class:`~gandyn.dynamics.kernels.printing.UnsupportedError` and runs on numpy.

References
----------
.. [1] Mescheder, Nowozin and Geiger (2017). The Numerics of GANs. NeurIPS
   (update rules as maps); each rule's own source is cited in :mod:`gandyn.rules`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gandyn.arrays import Array
from gandyn.dynamics.kernels.printing import UnsupportedError
from gandyn.rules.base import UpdateRule

__all__ = ["STEP_WRITERS", "StepCode", "settings_vector", "step_code"]


@dataclass(frozen=True)
class StepCode:
    """The generated code of one rule's step and what it needs.

    Attributes
    ----------
    lines
        Statements of one step (unindented).
    start
        Statements run when a run's loop starts (ogda: the field at the previous state).
    accept
        Statements run when a step is accepted (the run stayed in the ball).
    buffers
        Number of buffers, each ``n`` wide.
    needs_jacobian
        Whether the step calls ``_jacobian``.
    seen_differ
        Whether the discriminator's and generator's gradients saw different states.
    structure
        The rule's structural settings (they change the code, not only numbers).
    """

    lines: tuple[str, ...]
    start: tuple[str, ...] = ()
    accept: tuple[str, ...] = ()
    buffers: int = 0
    needs_jacobian: bool = False
    seen_differ: bool = False
    structure: str = ""


def _xs(prefix: str, n: int) -> str:
    return ", ".join(f"{prefix}{i}" for i in range(n))


def _field(target: str, state: str, n: int) -> str:
    """``F0, F1, ... = _field(x0, x1, ..., params...)`` (a trailing comma for one coordinate)."""
    comma = "," if n == 1 else ""
    return f"{_xs(target, n)}{comma} = _field({_xs(state, n)}, PARAMS)"


def _seen(state: str, n: int, players: str = "dg") -> list[str]:
    return [f"s{p}{i} = {state}{i}" for p in players for i in range(n)]


def _simgd(rule: UpdateRule, n: int, n_theta: int) -> StepCode:
    return StepCode((_field("F", "x", n), *(f"n{i} = x{i} + h{i} * F{i}" for i in range(n)),
                     *_seen("x", n)))


def _alternating_schedule(rule: UpdateRule) -> list[str]:
    first: str = getattr(rule, "first", "d")
    d_steps: int = getattr(rule, "d_steps", 1)
    g_steps: int = getattr(rule, "g_steps", 1)
    d, g = ["d"] * d_steps, ["g"] * g_steps
    return d + g if first == "d" else g + d


def _movers(player: str, n: int, n_theta: int) -> list[bool]:
    return [(i < n_theta) == (player == "g") for i in range(n)]


def _altgd(rule: UpdateRule, n: int, n_theta: int) -> StepCode:
    # x = x + mask * h * F(x) per player: (mask * h) is h or 0.0, and 0.0 * F keeps NaN.
    lines = [f"y{i} = x{i}" for i in range(n)]
    seen: set[str] = set()
    for player in _alternating_schedule(rule):
        if player not in seen:
            seen.add(player)
            lines += [f"s{player}{i} = y{i}" for i in range(n)]
        lines.append(_field("F", "y", n))
        lines += [f"y{i} = y{i} + h{i} * F{i}" if moves else f"y{i} = y{i} + 0.0 * F{i}"
                  for i, moves in enumerate(_movers(player, n, n_theta))]
    lines += [f"n{i} = y{i}" for i in range(n)]
    structure = "".join(_alternating_schedule(rule))
    return StepCode(tuple(lines), seen_differ=True, structure=structure)


def _momentum(rule: UpdateRule, n: int, n_theta: int) -> StepCode:
    # v' = beta v + F(x); x' = x + h v'
    lines = [_field("F", "x", n)]
    lines += [f"nb0_{i} = cfg[0] * b0_{i} + F{i}" for i in range(n)]
    lines += [f"n{i} = x{i} + h{i} * nb0_{i}" for i in range(n)]
    return StepCode((*lines, *_seen("x", n)), buffers=1)


def _altmomentum(rule: UpdateRule, n: int, n_theta: int) -> StepCode:
    # per player: v = v + m ((beta - 1) v + F(x)); x = x + (m h) v, with m 1 or 0.0
    first: str = getattr(rule, "first", "d")
    order = ("d", "g") if first == "d" else ("g", "d")
    lines = [f"y{i} = x{i}" for i in range(n)] + [f"nb0_{i} = b0_{i}" for i in range(n)]
    for player in order:
        lines += [f"s{player}{i} = y{i}" for i in range(n)]
        lines.append(_field("F", "y", n))
        for i, moves in enumerate(_movers(player, n, n_theta)):
            if moves:
                lines.append(f"nb0_{i} = nb0_{i} + (cfg[1] * nb0_{i} + F{i})")
                lines.append(f"y{i} = y{i} + h{i} * nb0_{i}")
            else:
                lines.append(f"nb0_{i} = nb0_{i} + 0.0 * (cfg[1] * nb0_{i} + F{i})")
                lines.append(f"y{i} = y{i} + 0.0 * nb0_{i}")
    lines += [f"n{i} = y{i}" for i in range(n)]
    return StepCode(tuple(lines), buffers=1, seen_differ=True, structure=first)


def _adam(rule: UpdateRule, n: int, n_theta: int) -> StepCode:
    # g = -F; m' = b1 m + (1 - b1) g; v' = b2 v + (1 - b2) g g;
    # x' = x - h (m'/c1) / (sqrt(v'/c2) + eps)
    lines = [_field("F", "x", n)]
    for i in range(n):
        lines += [f"g{i} = -F{i}",
                  f"nb0_{i} = cfg[0] * b0_{i} + cfg[1] * g{i}",
                  f"nb1_{i} = cfg[2] * b1_{i} + cfg[3] * g{i} * g{i}",
                  f"n{i} = x{i} - h{i} * (nb0_{i} / c1) / (sqrt(nb1_{i} / c2) + cfg[4])"]
    return StepCode((*lines, *_seen("x", n)), buffers=2)


def _ogda(rule: UpdateRule, n: int, n_theta: int) -> StepCode:
    # x' = x + h (2 F(x) - F(previous)); previous' = x. F(previous) is the field of the
    # last step, kept (the same function of the same numbers), computed at a loop's start.
    lines = [_field("F", "x", n)]
    lines += [f"n{i} = x{i} + h{i} * (2.0 * F{i} - P{i})" for i in range(n)]
    lines += [f"nb0_{i} = x{i}" for i in range(n)]
    return StepCode((*lines, *_seen("x", n)), start=(_field("P", "b0_", n),),
                    accept=tuple(f"P{i} = F{i}" for i in range(n)), buffers=1)


def _extragradient(rule: UpdateRule, n: int, n_theta: int) -> StepCode:
    # y = x + h F(x); x' = x + h F(y); both players' gradients saw y
    lines = [_field("F", "x", n)]
    lines += [f"y{i} = x{i} + h{i} * F{i}" for i in range(n)]
    lines.append(_field("G", "y", n))
    lines += [f"n{i} = x{i} + h{i} * G{i}" for i in range(n)]
    return StepCode((*lines, *_seen("y", n)))


def _sum(terms: list[str]) -> str:
    """``((t0 + t1) + t2) ...``: a sum in index order (an einsum over a few terms)."""
    total = terms[0]
    for term in terms[1:]:
        total = f"({total} + {term})"
    return total


def _sga(rule: UpdateRule, n: int, n_theta: int) -> StepCode:
    # xi = -F, A = (J_xi - J_xi^T) / 2 with J_xi = -J; adj_i = xi_i + lambda sum_j A_ji xi_j;
    # x' = x + h (-adj). lambda = lam (cfg[0]), or with the sign alignment
    # |lam| sign(<xi, H^T xi> <A^T xi, H^T xi> / n + eps) (cfg[1], cfg[2]).
    align = bool(rule.setting_values().get("align", 0))
    lines = [_field("F", "x", n),
             f"{_xs('J', n * n)}{',' if n * n == 1 else ''} = _jacobian({_xs('x', n)}, "
             "PARAMS)"]
    lines += [f"xi{i} = -F{i}" for i in range(n)]
    lines += [f"jx{k} = -J{k}" for k in range(n * n)]
    for i in range(n):
        lines.append(f"aj{i} = " + _sum([f"(0.5 * (jx{j * n + i} - jx{i * n + j})) * xi{j}"
                                          for j in range(n)]))
    if align:
        lines += [f"hg{i} = " + _sum([f"jx{j * n + i} * xi{j}" for j in range(n)])
                  for i in range(n)]
        lines.append(f"al = {_sum([f'xi{i} * hg{i}' for i in range(n)])} * "
                     f"{_sum([f'aj{i} * hg{i}' for i in range(n)])} / {float(n)!r}")
        lines.append("lam = cfg[1] * sign(al + cfg[2])")
    else:
        lines.append("lam = cfg[0]")
    for i in range(n):
        lines.append(f"adj{i} = xi{i} + lam * aj{i}")
        lines.append(f"n{i} = x{i} + h{i} * (-adj{i})")
    return StepCode((*lines, *_seen("x", n)), needs_jacobian=True,
                    structure="align" if align else "")


#: The rules the compiled backend implements, by name.
STEP_WRITERS: dict[str, Callable[[UpdateRule, int, int], StepCode]] = {
    "simgd": _simgd,
    "altgd": _altgd,
    "momentum": _momentum,
    "altmomentum": _altmomentum,
    "adam": _adam,
    "ogda": _ogda,
    "extragradient": _extragradient,
    "sga": _sga,
}


def step_code(rule: UpdateRule, n: int, n_theta: int) -> StepCode:
    """The generated step of ``rule`` on ``n`` coordinates (the first ``n_theta`` are theta's).

    Raises
    ------
    UnsupportedError
        For a rule the compiled backend does not implement.
    """
    writer = STEP_WRITERS.get(rule.name)
    if writer is None or type(rule).step is not _KNOWN_STEPS.get(rule.name):
        raise UnsupportedError(f"the rule {rule.name!r} has no compiled step")
    return writer(rule, n, n_theta)


def settings_vector(rule: UpdateRule) -> Array:
    """The numbers the generated step reads as ``cfg[...]``, computed as the numpy step does."""
    name = rule.name
    if name == "momentum":
        values = [float(rule.setting_values()["beta"])]
    elif name == "altmomentum":
        beta = float(rule.setting_values()["beta"])
        values = [beta, beta - 1.0]
    elif name == "adam":
        b1, b2 = float(rule.setting_values()["beta1"]), float(rule.setting_values()["beta2"])
        values = [b1, 1 - b1, b2, 1 - b2, float(rule.setting_values()["eps"])]
    elif name == "sga":
        given = rule.setting_values()
        lam = float(given["lam"])
        values = [lam, abs(lam), float(given.get("align_eps", 0.0))]
    else:
        values = []
    return np.array([*values, 0.0], dtype=np.float64)  # never empty: one signature


def _known_steps() -> dict[str, object]:
    # The step functions the writers above repeat: a subclass that overrides ``step``
    # is another rule and stays on numpy.
    from gandyn.rules.registry import RULES

    return {name: RULES[name].step for name in STEP_WRITERS if name in RULES}


_KNOWN_STEPS: dict[str, object] = _known_steps()
