"""Differentiate a game: gradients, the joint vector field, its Jacobian, Hessians.

This is the one module that differentiates a game and turns expressions into
numpy functions. With the state ``x = (theta, psi)``:

* ``grad_g = d cost_g / d theta`` and ``grad_d = d cost_d / d psi``;
* the simultaneous gradient ``xi = (grad_g, grad_d)`` and the gradient flow's
  right-hand side ``F = -xi`` (``dx/dt = F(x)``);
* the Jacobian ``dF/dx = -d xi / dx`` (flow-stable where every eigenvalue has
  a negative real part);
* each player's Hessian of its own cost, ``d^2 cost_g / d theta^2`` and
  ``d^2 cost_d / d psi^2`` (second-order conditions for a Nash equilibrium).

Derivations are cached in memory and on disk (``GANDYN_CACHE_DIR``, by
default ``~/.cache/gandyn``; an empty value turns the disk cache off), keyed
by a hash of the costs, the versions of gandyn and sympy and the source of
the derivative rules, so that a repeated ``gandyn derive`` does not
differentiate again. The disk format (:mod:`gandyn.derivation.cache`) is
JSON data read through an allow-list: loading it never runs code.

References
----------
.. [1] Mescheder, Nowozin and Geiger (2017). The Numerics of GANs. NeurIPS,
   Sec. 2 (the vector field of a game and its Jacobian).
.. [2] Balduzzi et al. (2018). The Mechanics of n-Player Differentiable Games.
   ICML, Sec. 2 (simultaneous gradient and game Hessian).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sympy as sp

from gandyn.arrays import Array
from gandyn.derivation import cache
from gandyn.derivation.bounded import run_bounded
from gandyn.derivation.numeric import NumericFunction, lambdify_batched
from gandyn.errors import GandynError, SpecError
from gandyn.games.game import Game
from gandyn.symbolic.limits import MAX_PARAMETERS
from gandyn.symbolic.printing import latex, latex_symbol

__all__ = ["MAX_DERIVE_MEMORY", "MAX_DERIVE_SECONDS", "DerivationLimitError", "NumericFunction",
           "VectorField", "derive", "lambdify_batched"]

#: Default wall-clock limit on one derivation, in seconds (the catalogue's
#: slowest takes a few seconds; a game that needs minutes is too large).
MAX_DERIVE_SECONDS = 120.0
#: Reports the derivation cache's hits and misses (``gandyn -v`` shows them).
_LOG = logging.getLogger(__name__)
#: Memory one derivation may allocate beyond what the process holds.
MAX_DERIVE_MEMORY = 4 * 2**30


class DerivationLimitError(GandynError, RuntimeError):
    """A derivation stopped by its time or memory limit; the message names the limit."""



@dataclass(frozen=True, eq=False)
class VectorField:
    """Symbolic derivatives of a game and their numeric forms.

    Attributes
    ----------
    game
        The game differentiated.
    grad_g, grad_d
        Each player's gradient of its own cost.
    field
        ``F = -xi``, ordered as ``game.state_symbols``.
    jacobian
        ``dF/dx``.
    hessian_g, hessian_d
        ``d^2 cost_g / d theta^2`` and ``d^2 cost_d / d psi^2``.
    """

    game: Game
    grad_g: tuple[sp.Expr, ...]
    grad_d: tuple[sp.Expr, ...]
    field: tuple[sp.Expr, ...]
    jacobian: sp.ImmutableMatrix
    hessian_g: sp.ImmutableMatrix
    hessian_d: sp.ImmutableMatrix

    def __repr__(self) -> str:
        return f"VectorField of {self.game!r}: F has {len(self.field)} components"

    def _repr_latex_(self) -> str:
        """The flow ``dx/dt = F(x)``, one row a coordinate, as a notebook shows it."""
        rows = [rf"\dot{{{latex_symbol(s.name)}}} &= {latex(f)}"
                for s, f in zip(self.game.state_symbols, self.field, strict=True)]
        return "$\\begin{aligned}" + r" \\ ".join(rows) + "\\end{aligned}$"

    @property
    def xi(self) -> tuple[sp.Expr, ...]:
        """The simultaneous gradient ``(grad_g, grad_d)``."""
        return self.grad_g + self.grad_d

    def _compile(self, exprs: Any) -> NumericFunction:
        return NumericFunction(exprs, self.game.state_symbols, self.game.param_values)

    @functools.cached_property
    def field_fn(self) -> NumericFunction:
        """Numeric ``F(x)``: shape ``(..., n)``."""
        return self._compile(list(self.field))

    @functools.cached_property
    def jacobian_fn(self) -> NumericFunction:
        """Numeric ``dF/dx``: shape ``(..., n, n)``."""
        return self._compile(self.jacobian)

    @functools.cached_property
    def jacobian_derivative(self) -> sp.ImmutableDenseNDimArray:
        """``d(dF_i/dx_j)/dx_k`` as an ``(n, n, n)`` array (third derivatives of the costs)."""
        state = self.game.state_symbols
        return sp.ImmutableDenseNDimArray(
            [[[sp.diff(self.jacobian[i, j], s) for s in state] for j in range(len(state))]
             for i in range(len(state))]
        )

    @functools.cached_property
    def jacobian_derivative_fn(self) -> NumericFunction:
        """Numeric :attr:`jacobian_derivative`: shape ``(..., n, n, n)``."""
        return self._compile(self.jacobian_derivative)

    @functools.cached_property
    def costs_fn(self) -> NumericFunction:
        """Numeric ``(cost_g, cost_d)``: shape ``(..., 2)``."""
        return self._compile([self.game.cost_g, self.game.cost_d])

    @functools.cached_property
    def logged_fn(self) -> NumericFunction:
        """Numeric logged losses in the order of ``logged_names``: shape ``(..., k)``."""
        return self._compile([expr for _, expr in self.game.logged])

    @property
    def logged_names(self) -> tuple[str, ...]:
        """Names of the logged losses, such as ``d_real``, ``d_fake``, ``g_loss``."""
        return tuple(name for name, _ in self.game.logged)

    def logged(self, x: Any, params: Mapping[str, float] | None = None) -> dict[str, Array]:
        """The logged losses at ``x`` as a name -> array mapping."""
        values = self.logged_fn(x, params)
        return {name: values[..., i] for i, name in enumerate(self.logged_names)}

    def substituted(self, expr: sp.Expr) -> sp.Expr:
        """``expr`` with the hyper-parameters replaced by their values."""
        return expr.xreplace(
            {s: sp.nsimplify(v, rational=True) if float(v).is_integer() else sp.Float(v)
             for s, v in self.game.param_values.items()}
        )


def _cache_dir() -> Path | None:
    """Where derivations are kept between runs, or ``None`` when caching is off.

    ``GANDYN_CACHE_DIR`` chooses the folder (empty: off); otherwise
    ``$XDG_CACHE_HOME/gandyn`` or ``~/.cache/gandyn``.
    """
    configured = os.environ.get("GANDYN_CACHE_DIR")
    if configured is not None:
        return Path(configured) if configured.strip() else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gandyn"


@functools.lru_cache(maxsize=1)
def _rules_fingerprint() -> str:
    # The derivative rules live in functions.py and the recipe here: a cache
    # written by another version of either must not be reused, even when the
    # version number did not change (a development checkout).
    from gandyn.symbolic import functions

    digest = hashlib.sha256()
    for path in (functions.__file__, __file__):
        with open(path, "rb") as handle:
            digest.update(handle.read())
    return digest.hexdigest()


def _cache_key(*parts: Any) -> str:
    from gandyn import __version__

    text = "\n".join(
        [__version__, sp.__version__, _rules_fingerprint(), *(sp.srepr(p) for p in parts)]
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _load_cached(key: str, costs: tuple[sp.Expr, sp.Expr], theta: int,
                 psi: int) -> tuple[Any, ...] | None:
    folder = _cache_dir()
    if folder is None:
        return None
    parts = cache.load(folder, key)
    if parts is None:
        return None
    # Derivatives hold only the costs' symbols: an entry naming others is not
    # a derivation of these costs, whatever its checksum says.
    known = set().union(*(c.free_symbols for c in costs))
    if any(not e.free_symbols <= known for part in parts for e in part):
        return None
    return _shaped(parts, theta, psi)  # None if not a derivation of this shape


def _store_cached(key: str, value: tuple[Any, ...]) -> None:
    folder = _cache_dir()
    if folder is None:
        return
    cache.store(folder, key, [list(part) for part in value])


def _compute(
    cost_g: sp.Expr, cost_d: sp.Expr, theta: tuple[sp.Symbol, ...], psi: tuple[sp.Symbol, ...]
) -> tuple[Any, ...]:
    grad_g = tuple(sp.diff(cost_g, t) for t in theta)
    grad_d = tuple(sp.diff(cost_d, p) for p in psi)
    field = tuple(-g for g in grad_g + grad_d)
    state = theta + psi
    jacobian = sp.ImmutableMatrix([[sp.diff(f, s) for s in state] for f in field])
    hessian_g = sp.ImmutableMatrix([[sp.diff(g, t) for t in theta] for g in grad_g])
    hessian_d = sp.ImmutableMatrix([[sp.diff(g, p) for p in psi] for g in grad_d])
    return (grad_g, grad_d, field, jacobian, hessian_g, hessian_d)


def _shaped(parts: Sequence[Sequence[sp.Basic]], theta: int, psi: int) -> tuple[Any, ...] | None:
    """The derivation tuple from its stored parts, or ``None`` if the shapes are wrong."""
    n = theta + psi
    if [len(p) for p in parts] != [theta, psi, n, n * n, theta**2, psi**2]:
        return None
    grad_g, grad_d, field, jacobian, hessian_g, hessian_d = parts
    return (tuple(grad_g), tuple(grad_d), tuple(field), sp.ImmutableMatrix(n, n, jacobian),
            sp.ImmutableMatrix(theta, theta, hessian_g), sp.ImmutableMatrix(psi, psi, hessian_d))


def _bounded(key: str, cost_g: sp.Expr, cost_d: sp.Expr, theta: tuple[sp.Symbol, ...],
             psi: tuple[sp.Symbol, ...], seconds: float, name: str) -> tuple[Any, ...]:
    """:func:`_compute` in a child process under the time and memory limits."""

    def work() -> bytes:
        return cache.to_bytes(key, [list(p) for p in _compute(cost_g, cost_d, theta, psi)])

    outcome = run_bounded(work, seconds=seconds, memory=MAX_DERIVE_MEMORY)
    if outcome.status == "ok":
        shaped = _shaped(cache.from_bytes(key, outcome.data), len(theta), len(psi))
        if shaped is not None:
            return shaped
    if outcome.status == "timeout":
        raise DerivationLimitError(
            f"the derivation of game {name!r} did not finish within {seconds:g} s (limit: "
            "time_limit of derive(), default MAX_DERIVE_SECONDS): simplify the costs or use fewer "
            "parameters")
    if outcome.status == "memory":
        raise DerivationLimitError(
            f"the derivation of game {name!r} needed more than "
            f"{MAX_DERIVE_MEMORY // 2**30} GiB of memory (limit MAX_DERIVE_MEMORY): "
            "simplify the costs or use fewer parameters")
    # No fork on this platform, or the child failed (an expression the cache
    # format does not hold, say): derive here, where an error shows as itself.
    return _compute(cost_g, cost_d, theta, psi)


@functools.lru_cache(maxsize=64)
def _derivatives(
    cost_g: sp.Expr, cost_d: sp.Expr, theta: tuple[sp.Symbol, ...], psi: tuple[sp.Symbol, ...],
    seconds: float = 0.0, name: str = "",
) -> tuple[Any, ...]:
    key = _cache_key(cost_g, cost_d, sp.Tuple(*theta), sp.Tuple(*psi))
    cached = _load_cached(key, (cost_g, cost_d), len(theta), len(psi))
    if cached is not None:
        _LOG.info("derivation of %r: read from the cache (derive-%s.json)", name, key[:12])
        return cached
    started = time.perf_counter()
    if seconds > 0:
        result = _bounded(key, cost_g, cost_d, theta, psi, seconds, name)
    else:
        result = _compute(cost_g, cost_d, theta, psi)
    _store_cached(key, result)
    _LOG.info("derivation of %r: %s, derived in %.2f s", name,
              "cache off" if _cache_dir() is None else "not in the cache",
              time.perf_counter() - started)
    return result


def derive(game: Game, *, time_limit: float = MAX_DERIVE_SECONDS) -> VectorField:
    """Differentiate ``game``.

    The symbolic derivatives are cached per symbolic game: hyper-parameter
    values do not change them, so games that differ only in values share one
    derivation.

    Parameters
    ----------
    game
        A game from :func:`gandyn.games.game.make_game`.
    time_limit
        Seconds a derivation may take (it runs in a child process, which is
        stopped then, with at most :data:`MAX_DERIVE_MEMORY` bytes); 0 derives
        in this process without limits. A derivation found in the cache is
        not limited.

    Returns
    -------
    VectorField
        Gradients, field, Jacobian and Hessians, symbolic and numeric.

    Raises
    ------
    SpecError
        If the game has more than
        :data:`~gandyn.symbolic.limits.MAX_PARAMETERS` players' parameters, or
        ``time_limit`` is not a number of seconds from 0 to 10**6.
    DerivationLimitError
        If the derivation exceeded the time or memory limit.
    """
    if isinstance(time_limit, bool) or not isinstance(time_limit, int | float) or not (
        0 <= time_limit <= 1e6
    ):
        raise SpecError(f"`time_limit` must be a number of seconds from 0 to 1e6, "
                        f"not {time_limit!r}")
    count = len(game.theta) + len(game.psi)
    if count > MAX_PARAMETERS:
        raise SpecError(
            f"game {game.name!r} has {count} parameters ({len(game.theta)} generator, "
            f"{len(game.psi)} discriminator); at most {MAX_PARAMETERS} can be derived "
            "(limit MAX_PARAMETERS): derivation time grows with the cube of their number; "
            "use fewer parameters"
        )
    return VectorField(game, *_derivatives(game.cost_g, game.cost_d, game.theta, game.psi,
                                           float(time_limit), game.name))
