"""Closed-form stationary points of a game's vector field, found by sympy.

sympy's ``solve`` can run for a very long time on transcendental systems, and
it cannot be interrupted from inside the process. It therefore runs in a
forked child process with a time limit; a game whose field is too large for
a closed form is not attempted. Every solution is checked by substituting it
back into the field, and complex solutions are dropped (all parameters are
real). Numeric root finding in a box belongs to ``gandyn analyze``.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import sympy as sp

from gandyn.derivation import cache
from gandyn.derivation.bounded import limit_memory
from gandyn.derivation.field import VectorField, _cache_dir, _cache_key
from gandyn.errors import SpecError
from gandyn.symbolic.expectations import expand_quadrature
from gandyn.symbolic.functions import log_sigmoid, relu, sigmoid, softplus, step

__all__ = ["CLOSED_FORM_TIMEOUT", "MAX_OPERATIONS", "MAX_SOLVE_PARAMETERS", "StationaryPoints",
           "closed_form_equilibria", "distances_to_equilibria", "find_stationary_points",
           "isolated_points"]

Status = Literal["solved", "timeout", "too-large", "unsolved"]

#: Largest field (sympy operation count) handed to the solver.
MAX_OPERATIONS = 400
#: Most parameters of a nonlinear field handed to the solver: the catalogue's
#: largest has 5 (the Gaussian game with the Wasserstein loss solves in about a
#: second); sympy's solve of 8 polynomial equations with cubic couplings runs
#: into any time limit, which would only cost the wait. A linear field of any
#: size is linear algebra and is always attempted.
MAX_SOLVE_PARAMETERS = 6
#: Longest time limit accepted for the solver, in seconds (an hour): ``inf``
#: or ``1e308`` would overflow the wait, and no closed form takes longer.
MAX_SOLVE_TIMEOUT = 3600.0
#: Memory the solver's child process may allocate beyond what it starts with.
MAX_SOLVE_MEMORY = 2 * 2**30
#: Time limit of :func:`closed_form_equilibria` (the points simulate and plot mark), in
#: seconds: the catalogue's games solve in well under a second on an idle machine.
CLOSED_FORM_TIMEOUT = 5.0
#: Generic value given to a free symbol of a parametric solution when checking it.
_PROBE = sp.Rational(3719, 10000)


@dataclass(frozen=True)
class StationaryPoints:
    """Stationary points of ``F`` found in closed form.

    Attributes
    ----------
    points
        Each point maps every state symbol to a value; a symbol mapped to
        itself is free (a line or surface of stationary points).
    status
        ``solved`` (sympy returned; the list may still be incomplete for
        transcendental systems), ``timeout``, ``too-large`` or ``unsolved``.
    message
        One line for the reader.
    """

    points: tuple[tuple[tuple[sp.Symbol, sp.Expr], ...], ...]
    status: Status
    message: str


def _rewrite_elementary(expr: sp.Expr) -> sp.Expr:
    # sympy's solver knows exp and log, not gandyn's functions.
    return expr.replace(softplus, lambda x: sp.log(1 + sp.exp(x))).replace(
        sigmoid, lambda x: 1 / (1 + sp.exp(-x))
    ).replace(log_sigmoid, lambda x: -sp.log(1 + sp.exp(-x))).replace(
        relu, lambda x: sp.Max(0, x)
    ).replace(step, lambda x: sp.Heaviside(x, 0))


def _solve_worker(equations: list[sp.Expr], symbols: list[sp.Symbol], out: Any) -> None:
    limit_memory(MAX_SOLVE_MEMORY)
    try:
        solutions = sp.solve(equations, symbols, dict=True)
        out.put(("ok", solutions))
    except MemoryError:
        out.put(("memory", ""))
    except Exception as exc:  # the solver's failures are a result to report
        out.put(("error", f"{type(exc).__name__}: {exc}"))


def _degree_bound(expr: sp.Basic, state: frozenset[sp.Basic]) -> float:
    """An upper bound on the total degree of ``expr`` in ``state`` (``inf``: not a polynomial).

    Read off the expression tree, without expanding it: a product of two sums
    of 16 terms has degree 2 whatever its expansion's size.
    """
    if not expr.free_symbols & state:
        return 0
    if expr in state:
        return 1
    if isinstance(expr, sp.Add):
        return max(_degree_bound(a, state) for a in expr.args)
    if isinstance(expr, sp.Mul):
        return sum(_degree_bound(a, state) for a in expr.args)
    if isinstance(expr, sp.Pow) and expr.exp.is_Integer and int(expr.exp) >= 0:
        return _degree_bound(expr.base, state) * int(expr.exp)
    return float("inf")


def _is_linear(field: list[sp.Expr], state: list[sp.Symbol]) -> bool:
    """Whether every component of ``field`` is affine in ``state`` (by :func:`_degree_bound`)."""
    symbols = frozenset(state)
    return all(_degree_bound(f, symbols) <= 1 for f in field)


def _is_real(value: sp.Expr) -> bool:
    if value.is_real is False:
        return False
    if value.free_symbols:
        return True
    numeric = complex(sp.N(value))
    return abs(numeric.imag) <= 1e-12 * max(1.0, abs(numeric.real))


def _vanishes(field: list[sp.Expr], point: dict[sp.Symbol, sp.Expr], free: set[sp.Symbol]) -> bool:
    probe = {s: _PROBE * (i + 1) for i, s in enumerate(sorted(free, key=str))}
    for f in field:
        value = f.xreplace(point).xreplace(probe)
        try:
            number = complex(sp.N(value))
        except (TypeError, ValueError):
            return False
        if not abs(number) <= 1e-9:
            return False
    return True


def find_stationary_points(vf: VectorField, timeout: float = 5.0) -> StationaryPoints:
    """Solve ``F(x) = 0`` in closed form with the hyper-parameters at their values.

    Parameters
    ----------
    vf
        The derived game.
    timeout
        Seconds the solver may take before it is stopped.

    Returns
    -------
    StationaryPoints
        The verified real solutions, sorted, with a status; the message of a
        ``timeout`` or ``too-large`` status names the limit that stopped the
        solver and what to do.

    Raises
    ------
    SpecError
        If ``timeout`` is not a number of seconds from 0 to :data:`MAX_SOLVE_TIMEOUT`.
    """
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not (
        0 < timeout <= MAX_SOLVE_TIMEOUT
    ):
        raise SpecError(f"`solve_timeout` must be a number of seconds above 0 and at most "
                        f"{MAX_SOLVE_TIMEOUT:g} (limit MAX_SOLVE_TIMEOUT), not {timeout!r}")
    state = list(vf.game.state_symbols)
    field = [expand_quadrature(vf.substituted(f)) for f in vf.field]
    if len(state) > MAX_SOLVE_PARAMETERS and not _is_linear(field, state):
        return StationaryPoints(
            (), "too-large",
            f"not attempted: the field is nonlinear in {len(state)} parameters (at most "
            f"{MAX_SOLVE_PARAMETERS}, limit MAX_SOLVE_PARAMETERS); use numeric root finding "
            "(gandyn analyze)",
        )
    size = sum(sp.count_ops(f) for f in field)
    if size > MAX_OPERATIONS:
        return StationaryPoints(
            (), "too-large",
            f"not attempted: the field has {size} operations (at most {MAX_OPERATIONS}, "
            "limit MAX_OPERATIONS); use numeric root finding (gandyn analyze)",
        )
    equations = [_rewrite_elementary(f) for f in field]
    key = _cache_key("stationary-points", *field, *state)
    cached = _load_solved(key, state)
    if cached is not None:
        return _solved(cached, equations)
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    worker = ctx.Process(target=_solve_worker, args=(equations, state, out), daemon=True)
    worker.start()
    try:
        kind, payload = out.get(timeout=timeout)
    except queue.Empty:
        worker.terminate()
        worker.join()
        return StationaryPoints(
            (), "timeout",
            f"sympy found no closed form within {timeout:g} s (the solve time limit, "
            "solve_timeout or --solve-timeout); allow more time, or use numeric root "
            "finding (gandyn analyze)",
        )
    worker.join()
    if kind == "memory":
        return StationaryPoints(
            (), "too-large",
            f"sympy needed more than {MAX_SOLVE_MEMORY // 2**30} GiB to solve F = 0 (limit "
            "MAX_SOLVE_MEMORY); use numeric root finding (gandyn analyze)",
        )
    if kind == "error":
        return StationaryPoints((), "unsolved", f"sympy could not solve F = 0 ({payload})")
    points = []
    for solution in payload:
        point = {s: sp.sympify(solution.get(s, s)) for s in state}
        if not all(_is_real(v) for v in point.values()):
            continue
        free = set().union(*(v.free_symbols for v in point.values())) & set(state)
        if not _vanishes(field, point, free):
            continue
        points.append(tuple((s, sp.nsimplify(v) if v.is_Float else v) for s, v in point.items()))
    unique = sorted(set(points), key=lambda p: [sp.default_sort_key(v) for _, v in p])
    _store_solved(key, unique)
    return _solved(unique, equations)


def _solved(points: list[tuple[tuple[sp.Symbol, sp.Expr], ...]],
            equations: list[sp.Expr]) -> StationaryPoints:
    noun = "point" if len(points) == 1 else "points"
    message = f"sympy found {len(points)} stationary {noun}"
    if any(s.has(sp.exp, sp.log) for s in equations):
        message += " (transcendental system: there may be others)"
    return StationaryPoints(tuple(points), "solved", message)


def _load_solved(key: str, state: list[sp.Symbol]
                 ) -> list[tuple[tuple[sp.Symbol, sp.Expr], ...]] | None:
    """A solve of the same field kept on disk (the derivation cache), or ``None``.

    The closed-form solve is the slowest step of most commands and runs under
    a time limit; keeping its result means a busy machine cannot make a
    second run of the same game miss an equilibrium the first one found.
    """
    folder = _cache_dir()
    if folder is None:
        return None
    parts = cache.load(folder, key)
    if parts is None or not parts or [len(p) for p in parts[:1]] != [1]:
        return None
    count = parts[0][0]
    points = parts[1:]
    if not (isinstance(count, sp.Integer) and int(count) == len(points)):
        return None
    if any(len(p) != len(state) or any(not v.free_symbols <= set(state) for v in p)
           for p in points):
        return None  # not a solve of this state: derive again
    return [tuple(zip(state, p, strict=True)) for p in points]


def _store_solved(key: str, points: list[tuple[tuple[sp.Symbol, sp.Expr], ...]]) -> None:
    folder = _cache_dir()
    if folder is None:
        return
    cache.store(folder, key, [[sp.Integer(len(points))],
                              *([value for _, value in point] for point in points)])


def closed_form_equilibria(field: Any) -> list[dict[str, float]]:
    """Closed-form stationary points with their fixed coordinates (free ones left out)."""
    # Short, since simulate and plot call it only to mark points: a solve that finishes
    # is kept on disk (see find_stationary_points), so a busy machine costs it once.
    found = find_stationary_points(field, timeout=CLOSED_FORM_TIMEOUT)
    points = []
    for point in found.points:
        fixed = {}
        for symbol, value in point:
            if value.free_symbols:
                continue  # a free coordinate: the point stands for a line or surface
            fixed[symbol.name] = float(sp.N(value))
        points.append(fixed)
    return points


def distances_to_equilibria(final: np.ndarray[Any, Any], names: tuple[str, ...],
                            points: list[dict[str, float]]) -> np.ndarray[Any, Any]:
    """Euclidean distance of each final state to the nearest stationary set (NaN if none)."""
    if not points:
        return np.full(final.shape[0], np.nan)
    best = np.full(final.shape[0], np.inf)
    for point in points:
        idx = [names.index(k) for k in point]
        target = np.array([point[k] for k in point])
        d = np.sqrt(((final[:, idx] - target) ** 2).sum(axis=-1)) if idx else np.zeros(len(best))
        best = np.minimum(best, d)
    return best


def isolated_points(points: list[dict[str, float]], names: tuple[str, ...]) -> list[list[float]]:
    """The stationary points that fix every coordinate, as state vectors (for figures)."""
    return [[p[n] for n in names] for p in points if all(n in p for n in names)]
