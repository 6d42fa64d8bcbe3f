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

Only the gradients (and so the field) are derived with the game; the
Jacobian and the Hessians are derived when first used, and the third
derivatives likewise, by a :class:`~gandyn.derivation.differentiate.Differentiator`
that differentiates each shared subexpression once. Every quantity is cached in
memory and on disk (``GANDYN_CACHE_DIR``, by default ``~/.cache/gandyn``; an
empty value turns the disk cache off), one entry per quantity, keyed by its
name, a hash of the costs, the versions of gandyn and sympy and the source of
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
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import Any

import numpy as np
import sympy as sp

from gandyn.arrays import Array
from gandyn.derivation import cache
from gandyn.derivation.bounded import run_bounded
from gandyn.derivation.differentiate import Differentiator
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

    The gradients and the field are derived with the game; every other
    quantity is derived the first time it is used (and then kept, in memory
    and in the disk cache), so a command that only simulates never pays for
    the Hessians, and one that prints only the field never pays for the
    Jacobian.

    Attributes
    ----------
    game
        The game differentiated.
    grad_g, grad_d
        Each player's gradient of its own cost.
    field
        ``F = -xi``, ordered as ``game.state_symbols``.
    jacobian
        ``dF/dx`` (derived when first used).
    hessian_g, hessian_d
        ``d^2 cost_g / d theta^2`` and ``d^2 cost_d / d psi^2`` (derived when
        first used).
    """

    game: Game
    grad_g: tuple[sp.Expr, ...]
    grad_d: tuple[sp.Expr, ...]
    field: tuple[sp.Expr, ...]
    _source: _Derivation | None = dataclass_field(default=None, repr=False)

    @property
    def _derivation(self) -> _Derivation:
        if self._source is not None:
            return self._source
        # A field built by hand: derive the rest here, without limits.
        return _derivatives(self.game.cost_g, self.game.cost_d, self.game.theta, self.game.psi)

    @property
    def differentiator(self) -> Differentiator:
        """The game's shared differentiator: further derivatives reuse the pieces found so far."""
        return self._derivation.differentiator

    def computed(self) -> frozenset[str]:
        """The derived quantities known so far (``gradients``, ``jacobian``, ...).

        Reading a quantity derives it; this says which ones a command needed,
        without deriving anything.
        """
        return self._derivation.known()

    @functools.cached_property
    def jacobian(self) -> sp.ImmutableMatrix:
        """``dF/dx``: shape ``(n, n)``."""
        return self._derivation.matrix("jacobian")

    @functools.cached_property
    def hessian_g(self) -> sp.ImmutableMatrix:
        """``d^2 cost_g / d theta^2``."""
        return self._derivation.matrix("hessian_g")

    @functools.cached_property
    def hessian_d(self) -> sp.ImmutableMatrix:
        """``d^2 cost_d / d psi^2``."""
        return self._derivation.matrix("hessian_d")

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
    def jacobian_vector_product_fn(self) -> NumericFunction:
        """Numeric ``(dF/dx)(x) v`` of the state ``x`` followed by a direction ``v``.

        Call it with an array of shape ``(..., 2n)``; it returns ``(..., n)``.
        Its expressions are the field's directional derivatives (one per
        component, of about the field's size), so it compiles in a fraction of
        the time :attr:`jacobian_fn` takes for a large game, and no symbolic
        Jacobian is derived.
        """
        state = self.game.state_symbols
        # No game symbol begins with an underscore (names begin with a letter),
        # and an identifier keeps lambdify from renaming every argument.
        tangent = tuple(sp.Symbol(f"_tangent_{s.name}", real=True) for s in state)
        direction = tuple(zip(state, tangent, strict=True))
        directional = self._derivation.differentiator.directional
        return NumericFunction([directional(f, direction) for f in self.field],
                               state + tangent, self.game.param_values)

    def jacobian_by_products(self, x: Any, params: Mapping[str, float] | None = None) -> Array:
        """The numeric ``dF/dx`` at states ``x`` ``(..., n)``, one column per product.

        Equal to ``jacobian_fn(x, params)``; it evaluates
        :attr:`jacobian_vector_product_fn` along each axis instead of the
        ``n**2`` entries, which is how a large game's Jacobian is evaluated at
        a few points without deriving it symbolically.
        """
        states = np.asarray(x, dtype=np.float64)
        n = len(self.field)
        axes = np.broadcast_to(np.eye(n), (*states.shape[:-1], n, n))
        at = np.broadcast_to(states[..., None, :], (*states.shape[:-1], n, n))
        columns = self.jacobian_vector_product_fn(np.concatenate([at, axes], axis=-1), params)
        return np.swapaxes(columns, -1, -2)

    @functools.cached_property
    def jacobian_derivative(self) -> sp.ImmutableDenseNDimArray:
        """``d(dF_i/dx_j)/dx_k`` as an ``(n, n, n)`` array (third derivatives of the costs)."""
        state = self.game.state_symbols
        jacobian, diff = self.jacobian, self._derivation.differentiator.diff
        return sp.ImmutableDenseNDimArray(
            [[[diff(jacobian[i, j], s) for s in state] for j in range(len(state))]
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
    # The derivative rules live in functions.py, their application in
    # differentiate.py and the recipe here: a cache written by another version
    # of any must not be reused, even when the version number did not change
    # (a development checkout).
    from gandyn.derivation import differentiate
    from gandyn.symbolic import functions

    digest = hashlib.sha256()
    for path in (functions.__file__, differentiate.__file__, __file__):
        with open(path, "rb") as handle:
            digest.update(handle.read())
    return digest.hexdigest()


def _cache_key(*parts: Any) -> str:
    from gandyn import __version__

    text = "\n".join(
        [__version__, sp.__version__, _rules_fingerprint(), *(sp.srepr(p) for p in parts)]
    )
    return hashlib.sha256(text.encode()).hexdigest()


#: What each quantity is, as messages name it.
_QUANTITIES = {"gradients": "gradients", "jacobian": "Jacobian",
               "hessian_g": "generator's Hessian", "hessian_d": "discriminator's Hessian"}


class _Derivation:
    """The derivatives of one symbolic game, each derived when first asked for.

    A quantity is looked up in memory, then in the disk cache (its own entry,
    keyed by the quantity and the costs), and only then derived: in a forked
    child under the time and memory limits when ``seconds > 0``, else here.
    One :class:`~gandyn.derivation.differentiate.Differentiator` serves every
    quantity derived in this process, so the Jacobian reuses the pieces the
    gradients differentiated.
    """

    def __init__(self, cost_g: sp.Expr, cost_d: sp.Expr, theta: tuple[sp.Symbol, ...],
                 psi: tuple[sp.Symbol, ...], seconds: float, name: str) -> None:
        self.cost_g, self.cost_d, self.theta, self.psi = cost_g, cost_d, theta, psi
        self.seconds, self.name = seconds, name
        self.differentiator = Differentiator()
        self._values: dict[str, tuple[sp.Expr, ...]] = {}
        self._matrices: dict[str, sp.ImmutableMatrix] = {}
        self._lock = threading.RLock()
        # Derivatives hold only the costs' symbols: an entry naming others is
        # not a derivation of these costs, whatever its checksum says.
        self._known_symbols = cost_g.free_symbols | cost_d.free_symbols

    def known(self) -> frozenset[str]:
        """The quantities derived or loaded so far."""
        return frozenset(self._values)

    def key(self, quantity: str) -> str:
        """The disk cache key of ``quantity``."""
        return _cache_key(sp.Symbol(quantity), self.cost_g, self.cost_d, sp.Tuple(*self.theta),
                          sp.Tuple(*self.psi))

    def size(self, quantity: str) -> int:
        """How many expressions ``quantity`` holds."""
        n_theta, n_psi = len(self.theta), len(self.psi)
        return {"gradients": n_theta + n_psi, "jacobian": (n_theta + n_psi) ** 2,
                "hessian_g": n_theta**2, "hessian_d": n_psi**2}[quantity]

    def get(self, quantity: str) -> tuple[sp.Expr, ...]:
        """``quantity`` as a flat tuple (matrices row by row)."""
        with self._lock:
            found = self._values.get(quantity)
            if found is None:
                found = self._values[quantity] = self._obtain(quantity)
            return found

    def matrix(self, quantity: str) -> sp.ImmutableMatrix:
        """``quantity`` as a square matrix, one object for every field of this game."""
        with self._lock:
            found = self._matrices.get(quantity)
            if found is None:
                flat = self.get(quantity)
                n = {"jacobian": len(self.theta) + len(self.psi), "hessian_g": len(self.theta),
                     "hessian_d": len(self.psi)}[quantity]
                found = self._matrices[quantity] = sp.ImmutableMatrix(n, n, flat)
            return found

    def _obtain(self, quantity: str) -> tuple[sp.Expr, ...]:
        what = _QUANTITIES[quantity]
        subject = "derivation" if quantity == "gradients" else what
        key = self.key(quantity)
        folder = _cache_dir()
        cached = self._load(folder, key, quantity)
        if cached is not None:
            _LOG.info("%s of %r: read from the cache (derive-%s.json)", subject, self.name,
                      key[:12])
            return cached
        started = time.perf_counter()
        result = self._bounded(key, quantity) if self.seconds > 0 else self.compute(quantity)
        if folder is not None:
            cache.store(folder, key, [list(result)])
        _LOG.info("%s of %r: %s, derived in %.2f s", subject, self.name,
                  "cache off" if folder is None else "not in the cache",
                  time.perf_counter() - started)
        return result

    def _load(self, folder: Path | None, key: str, quantity: str) -> tuple[sp.Expr, ...] | None:
        if folder is None:
            return None
        parts = cache.load(folder, key)
        if parts is None or len(parts) != 1 or len(parts[0]) != self.size(quantity):
            return None  # old entries (one per game) are of another key: never read
        if any(not e.free_symbols <= self._known_symbols for e in parts[0]):
            return None
        return tuple(parts[0])

    def compute(self, quantity: str) -> tuple[sp.Expr, ...]:
        """Derive ``quantity`` in this process (what the bounded child runs)."""
        diff = self.differentiator.diff
        if quantity == "gradients":
            return (tuple(diff(self.cost_g, t) for t in self.theta)
                    + tuple(diff(self.cost_d, p) for p in self.psi))
        grads = self.get("gradients")
        n_theta = len(self.theta)
        if quantity == "jacobian":
            state = self.theta + self.psi
            field = [-g for g in grads]
            return tuple(diff(f, s) for f in field for s in state)
        if quantity == "hessian_g":
            return tuple(diff(g, t) for g in grads[:n_theta] for t in self.theta)
        return tuple(diff(g, p) for g in grads[n_theta:] for p in self.psi)

    def _bounded(self, key: str, quantity: str) -> tuple[sp.Expr, ...]:
        """:meth:`compute` in a child process under the time and memory limits."""
        if quantity != "gradients":
            self.get("gradients")  # the child starts from them (and the parent keeps them)

        def work() -> bytes:
            return cache.to_bytes(key, [list(self.compute(quantity))])

        outcome = run_bounded(work, seconds=self.seconds, memory=MAX_DERIVE_MEMORY)
        if outcome.status == "ok":
            parts = cache.from_bytes(key, outcome.data)
            if len(parts) == 1 and len(parts[0]) == self.size(quantity):
                return tuple(parts[0])
        what = "derivation" if quantity == "gradients" else _QUANTITIES[quantity]
        if outcome.status == "timeout":
            raise DerivationLimitError(
                f"the {what} of game {self.name!r} did not finish within {self.seconds:g} s "
                "(limit: time_limit of derive(), default MAX_DERIVE_SECONDS): simplify the costs "
                "or use fewer parameters")
        if outcome.status == "memory":
            raise DerivationLimitError(
                f"the {what} of game {self.name!r} needed more than "
                f"{MAX_DERIVE_MEMORY // 2**30} GiB of memory (limit MAX_DERIVE_MEMORY): "
                "simplify the costs or use fewer parameters")
        # No fork on this platform, or the child failed (an expression the cache
        # format does not hold, say): derive here, where an error shows as itself.
        return self.compute(quantity)


@functools.lru_cache(maxsize=64)
def _derivatives(
    cost_g: sp.Expr, cost_d: sp.Expr, theta: tuple[sp.Symbol, ...], psi: tuple[sp.Symbol, ...],
    seconds: float = 0.0, name: str = "",
) -> _Derivation:
    """The (lazy) derivation of these costs, one per symbolic game and limit in a process."""
    return _Derivation(cost_g, cost_d, theta, psi, seconds, name)


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
        Seconds each derived quantity (the gradients here; the Jacobian and
        each Hessian when first read) may take: it runs in a child process,
        which is stopped then, with at most :data:`MAX_DERIVE_MEMORY` bytes;
        0 derives in this process without limits. A quantity found in the
        cache is not limited.

    Returns
    -------
    VectorField
        Gradients and field now; Jacobian, Hessians and third derivatives,
        symbolic and numeric, when first read (a :class:`DerivationLimitError`
        may then come from that read).

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
    derivation = _derivatives(game.cost_g, game.cost_d, game.theta, game.psi, float(time_limit),
                              game.name)
    grads = derivation.get("gradients")
    grad_g, grad_d = grads[:len(game.theta)], grads[len(game.theta):]
    return VectorField(game, grad_g, grad_d, tuple(-g for g in grads), derivation)
