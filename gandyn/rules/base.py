"""What every update rule shares: the numeric game it is given, its step's result, its settings.

Every rule advances a batch of states ``x`` of shape ``(B, n)`` (``n =
n_theta + n_psi``) with per-player learning rates (two time scales): the
generator's parameters move with ``lr_g`` and the discriminator's with
``lr_d``. A rule holds its rates and settings only; the game comes with every
call as a :class:`FieldFunctions` (as the solvers of diffrax are independent of
the problem they solve). The rates are numbers, or arrays of shape ``(B,)`` that
give every run of the batch its own rates (the cells of a sweep).

Besides :meth:`UpdateRule.step`, which returns new arrays, a rule may take
its step in place, :meth:`UpdateRule.advance`: the step loop
(:class:`gandyn.dynamics.stepping.StepLoop`) holds states and buffers
*coordinate-first*, ``(n, B)`` with one contiguous row per coordinate, in two
sets that it alternates, and the rule writes step ``k``'s state into the other
set with numpy's ``out=`` arguments (no allocation per step). The default
``advance`` calls ``step`` and copies, so a rule needs only ``step``.

A rule may carry auxiliary buffers (momentum, Adam's moments, the previous
gradient); the rule's *extended state* is ``z = (x, buffers...)`` and
:meth:`UpdateRule.map_jacobian` returns ``dz'/dz`` of one step, the matrix whose
spectral radius decides local stability (Mescheder, Nowozin and Geiger 2017,
Sec. 3).

All rules use the game's flow field ``F = -xi`` and its Jacobian ``dF/dx``
(:mod:`gandyn.derivation.field`); a gradient-descent step is ``x + h F(x)``.

References
----------
.. [1] Mescheder, Nowozin and Geiger (2017). The Numerics of GANs. NeurIPS.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Any, ClassVar, cast

import numpy as np

from gandyn.arrays import Array

if TYPE_CHECKING:
    from gandyn.derivation.field import VectorField

__all__ = [
    "FieldFunctions",
    "Rate",
    "Setting",
    "StepResult",
    "UpdateRule",
    "add_scaled_rows",
    "evaluate_rows",
    "field_rows",
    "identity_batch",
]

#: A learning rate: one number for the whole batch, or one per run (shape ``(B,)``).
Rate = float | Array


#: What each optional function of :class:`FieldFunctions` is, for error messages.
_NEEDED = {
    "jacobian_derivative": "third derivatives",
    "cross_gradient": "cross gradient (each player's gradient of the other's cost)",
    "cross_jacobian": "cross Hessian (the derivatives of the cross gradient)",
}


@dataclass(frozen=True)
class FieldFunctions:
    """The numeric game a rule needs: ``F(x)``, ``dF/dx`` and the split of the state.

    Attributes
    ----------
    field
        ``F``: ``(B, n) -> (B, n)``.
    jacobian
        ``dF/dx``: ``(B, n) -> (B, n, n)``.
    n_theta
        The first ``n_theta`` coordinates are the generator's.
    jacobian_derivative
        ``d(dF/dx)/dx``: ``(B, n) -> (B, n, n, n)``, entry ``[b, i, j, k]`` the
        derivative of ``dF_i/dx_j`` in ``x_k``. SGA's, LOLA's, SOS's and the
        unrolled GAN's map Jacobians need it.
    cross_gradient, cross_jacobian
        Each coordinate's derivative of the cost of the player that does not own
        it, ``c = (d cost_d/d theta, d cost_g/d psi)``: ``(B, n) -> (B, n)``, and
        ``dc/dx``: ``(B, n) -> (B, n, n)``
        (:mod:`gandyn.derivation.player_derivatives`). Only the opponent-aware
        rules need them (unrolled, lola, sos).
    source
        The derived game these functions evaluate at its own hyper-parameter
        values (set by :meth:`of` without ``params``), so that a simulation may
        compile its expressions (:mod:`gandyn.dynamics.kernels`); ``None`` otherwise.
    """

    field: Callable[[Array], Array]
    jacobian: Callable[[Array], Array]
    n_theta: int
    jacobian_derivative: Callable[[Array], Array] | None = None
    cross_gradient: Callable[[Array], Array] | None = None
    cross_jacobian: Callable[[Array], Array] | None = None
    source: VectorField | None = None

    @classmethod
    def of(cls, vf: VectorField, params: Mapping[str, Any] | None = None) -> FieldFunctions:
        """The numeric functions of a derived game, at its hyper-parameter values.

        ``params`` overrides hyper-parameter values (numbers, or arrays ``(B,)``
        with one value per run). The third derivatives and the cross
        derivatives are derived and compiled only if a rule asks for them (the
        linearizations, the opponent-aware rules), since they are costly for
        the larger games.
        """
        from gandyn.derivation.player_derivatives import player_derivatives

        # Bound values and deferred compilation that know their ``subset``: the step loop
        # can then drop diverged runs from its work.
        field = vf.field_fn if params is None else vf.field_fn.bound(params)
        jacobian = vf.jacobian_fn if params is None else vf.jacobian_fn.bound(params)
        return cls(field, jacobian, len(vf.game.theta),
                   _Deferred(lambda: vf.jacobian_derivative_fn, params),
                   _Deferred(lambda: player_derivatives(vf).cross_gradient_fn, params),
                   _Deferred(lambda: player_derivatives(vf).cross_jacobian_fn, params),
                   vf if params is None else None)

    def needs(self, what: str, rule: str) -> Callable[[Array], Array]:
        """The optional function ``what``; without it a one-line error naming the rule.

        Raises
        ------
        gandyn.errors.SpecError
            (a ``ValueError``) if ``what`` is ``None``: the numeric game was built
            without it (:meth:`of` a derived game provides every one).
        """
        from gandyn.errors import SpecError

        function: Callable[[Array], Array] | None = getattr(self, what)
        if function is None:
            raise SpecError(f"{rule} needs the game's {_NEEDED[what]}, which this kind of run "
                            "does not provide (it computes the field and its Jacobian only)")
        return function

    def subset(self, runs: Any) -> FieldFunctions | None:
        """The game of runs ``runs`` alone, or ``None`` if a function cannot say.

        A function bound to values per run (a sweep's) gives its ``subset``; one
        without ``subset`` (a plain callable, a stochastic field) may depend on
        the batch as a whole, so the step loop then keeps every run in its work.
        """
        parts = {f.name: getattr(self, f.name) for f in fields(self)
                 if callable(getattr(self, f.name))}
        if not all(hasattr(p, "subset") for p in parts.values()):
            return None
        return replace(self, **{name: p.subset(runs) for name, p in parts.items()})

    def mask(self, n: int, player: str) -> Array:
        """1 on the coordinates of ``player`` (``"g"`` or ``"d"``), 0 elsewhere."""
        m = np.zeros(n)
        if player == "g":
            m[: self.n_theta] = 1.0
        else:
            m[self.n_theta :] = 1.0
        return m


class _Deferred:
    """A function of a derived game compiled on its first call, at optional values ``params``.

    Third and cross derivatives are costly to derive: only a rule that calls them pays.
    """

    def __init__(self, get: Callable[[], Callable[..., Array]],
                 params: Mapping[str, Any] | None) -> None:
        self.get, self.params = get, params

    def __call__(self, x: Array) -> Array:
        return self.get()(x, self.params) if self.params is not None else self.get()(x)

    def subset(self, runs: Any) -> _Deferred:
        if self.params is None:
            return self
        return _Deferred(self.get, {k: v if np.ndim(v) == 0 else np.asarray(v)[..., runs]
                                    for k, v in self.params.items()})


def evaluate_rows(function: Callable[[Array], Array], rows: Array, out: Array) -> None:
    """Write ``function`` at coordinate-first states ``rows`` ``(n, B)`` into ``out`` ``(m, B)``.

    Through the function's ``into`` when it has one (compiled expressions);
    otherwise it is called on the ``(B, n)`` view and its result copied.
    """
    into = getattr(function, "into", None)
    if into is not None:
        into(rows, out)
    else:
        np.copyto(out, np.reshape(function(rows.T), (rows.shape[1], -1)).T)


def field_rows(function: Callable[[Array], Array], rows: Array) -> list[Any]:
    """``function`` at coordinate-first states ``rows`` ``(n, B)``, one entry per coordinate.

    The entries are arrays ``(B,)`` or numbers (a constant entry), from the
    function's ``entries`` when it has them (compiled expressions, no copy);
    otherwise the function is called on the ``(B, n)`` view.
    """
    entries = getattr(function, "entries", None)
    if entries is not None:
        return cast(list[Any], entries(rows))
    return list(np.reshape(function(rows.T), (rows.shape[1], -1)).T)


def add_scaled_rows(x: Array, h: float | Array, entries: list[Any], out: Array) -> None:
    """``out = x + h * F`` row by row, ``F`` given as :func:`field_rows`; ``h`` as ``rate_rows``.

    The roundings of ``x + h * F(x)`` on whole arrays: ``h * F`` first, then the sum.
    """
    for i, f in enumerate(entries):
        row = out[i]
        np.multiply(f, h if isinstance(h, float) else h[i], out=row)
        row += x[i]


@dataclass
class StepResult:
    """One step of a batch: the new state and buffers, and what each player saw.

    ``seen_by_d`` and ``seen_by_g`` are the states at which the
    discriminator's and the generator's gradients were taken in this step
    (they differ for alternating updates); a training loop logs its losses
    there.
    """

    x: Array
    buffers: dict[str, Array]
    seen_by_d: Array
    seen_by_g: Array


@dataclass(frozen=True)
class Setting:
    """A setting a rule declares: its keyword, its default and what it means.

    Attributes
    ----------
    name
        The keyword (and the command line's spelling, ``--beta`` or ``beta=``).
    default
        The value when the setting is not given.
    meaning
        One line for help texts.
    convert
        Applied to the given value once the rule has checked it (``float``, ``int``, ``str``).
    """

    name: str
    default: Any
    meaning: str
    convert: Callable[[Any], Any] = float


def _checked_rate(value: Any) -> Rate:
    """A positive finite rate as a float, or per run as a read-only float array ``(B,)``."""
    if np.ndim(value) == 0:
        if not (np.isfinite(value) and value > 0):
            raise ValueError("learning rates must be positive and finite")
        return float(value)
    rates = np.array(value, dtype=np.float64)
    if rates.ndim != 1 or not (np.all(np.isfinite(rates)) and np.all(rates > 0)):
        raise ValueError("learning rates must be positive and finite (numbers or arrays (B,))")
    rates.flags.writeable = False
    return rates


def _read_only(values: Array) -> Array:
    values.flags.writeable = False
    return values


def identity_batch(batch: int, n: int) -> Array:
    """``B`` copies of the ``n x n`` identity, writable: ``(B, n, n)``."""
    return np.broadcast_to(np.eye(n), (batch, n, n)).copy()


class UpdateRule(ABC):
    """A discrete update rule with per-player learning rates and declared settings.

    Parameters
    ----------
    lr_g, lr_d
        Learning rates of the generator and the discriminator: positive
        numbers, or arrays of shape ``(B,)`` with one rate per run of the
        batches the rule will step (a batch of any other size is refused by numpy).
    **settings
        The rule's settings, among those of :attr:`settings` (the others keep
        their defaults).

    Raises
    ------
    ValueError
        A rate that is not positive and finite, a setting the rule does not
        declare, or a setting value the rule refuses.
    """

    name: ClassVar[str]
    title: ClassVar[str]
    reference: ClassVar[str]
    #: The settings the rule takes, with their defaults and meanings.
    settings: ClassVar[tuple[Setting, ...]] = ()
    buffer_names: ClassVar[tuple[str, ...]] = ()
    #: The players move in turn, so the map depends on which coordinates are whose.
    alternating: ClassVar[bool] = False

    def __init__(self, lr_g: Any, lr_d: Any, **settings: Any) -> None:
        self.lr_g: Rate = _checked_rate(lr_g)
        self.lr_d: Rate = _checked_rate(lr_d)
        known = [s.name for s in self.settings]
        for key in settings:
            if key not in known:
                takes = ", ".join(known) if known else "no settings"
                raise ValueError(f"does not take {key!r} (it takes {takes})")
        given = {s.name: settings.get(s.name, s.default) for s in self.settings}
        self.check_settings(**given)
        for setting in self.settings:
            setattr(self, setting.name, setting.convert(given[setting.name]))
        self._rates: dict[tuple[int, int], Array] = {}
        self._scratch: dict[tuple[tuple[int, ...], int], list[Array]] = {}

    @property
    def per_run(self) -> bool:
        """Whether the rates are given per run (arrays) rather than as numbers."""
        return isinstance(self.lr_g, np.ndarray) or isinstance(self.lr_d, np.ndarray)

    def setting_values(self) -> dict[str, Any]:
        """The value of every declared setting, by name."""
        return {s.name: getattr(self, s.name) for s in self.settings}

    def check_settings(self, **settings: Any) -> None:
        """Refuse values out of range (``ValueError``); every declared setting is given.

        The default accepts any value: a rule without constraints has nothing to check.
        """
        return None

    def rates(self, field: FieldFunctions, x: Array) -> Array:
        """The per-coordinate step sizes ``h``: ``lr_g`` on theta, ``lr_d`` on psi.

        ``(n,)`` for numeric rates; ``(B, n)`` for per-run rates, stored
        coordinate-first (a transposed ``(n, B)`` array) so that elementwise
        updates of a batch held the same way keep its layout (see
        :class:`gandyn.derivation.field.NumericFunction`).
        """
        n = x.shape[-1]
        key = (field.n_theta, n)
        cached = self._rates.get(key)
        if cached is None:
            if self.per_run:
                batch = np.broadcast_shapes(np.shape(self.lr_g), np.shape(self.lr_d))[0]
                columns = np.empty((n, batch))
                columns[: field.n_theta] = self.lr_g
                columns[field.n_theta :] = self.lr_d
                cached = columns.T
            else:
                cached = np.full(n, self.lr_d)
                cached[: field.n_theta] = self.lr_g
            cached.flags.writeable = False
            self._rates[key] = cached
        return cached

    def rate_rows(self, n_theta: int, n: int) -> float | Array:
        """Step sizes for coordinate-first states: a number, ``(n, 1)``, or ``(n, B)`` per run."""
        key = (-1 - n_theta, n)  # beside rates()'s keys
        cached = self._rates.get(key)
        if cached is None:
            if not self.per_run and self.lr_g == self.lr_d:
                return float(self.lr_g)
            if self.per_run:
                batch = np.broadcast_shapes(np.shape(self.lr_g), np.shape(self.lr_d))[0]
                cached = np.empty((n, batch))
            else:
                cached = np.empty((n, 1))
            cached[:n_theta] = self.lr_g
            cached[n_theta:] = self.lr_d
            cached.flags.writeable = False
            self._rates[key] = cached
        return cached

    def scratch(self, like: Array, count: int) -> list[Array]:
        """``count`` work arrays of the shape of ``like``, kept between steps (no allocation)."""
        key = (like.shape, count)
        arrays = self._scratch.get(key)
        if arrays is None:
            self._scratch.clear()
            arrays = [np.empty(like.shape) for _ in range(count)]
            self._scratch[key] = arrays
        return arrays

    def subset(self, runs: Any) -> UpdateRule:
        """This rule for the runs ``runs`` of its batch (per-run rates kept for those only)."""
        if not self.per_run:
            return self
        part = copy.copy(self)
        part.lr_g = self.lr_g if isinstance(self.lr_g, float) else _read_only(self.lr_g[runs])
        part.lr_d = self.lr_d if isinstance(self.lr_d, float) else _read_only(self.lr_d[runs])
        part._rates = {}
        part._scratch = {}
        return part

    def init_buffers(self, x0: Array) -> dict[str, Array]:
        """Buffers at step 0 (none for memoryless rules)."""
        return {}

    def advance(self, field: FieldFunctions, x: Array, buffers: dict[str, Array], k: int,
                out: Array, out_buffers: dict[str, Array]) -> StepResult:
        """Step ``k`` in place: coordinate-first ``x`` ``(n, B)`` and buffers in, ``out`` written.

        ``out`` and ``out_buffers`` (same shapes) receive the new state and
        buffers; ``x`` and ``buffers`` are left as they are (the loop keeps them
        as the last good state). The returned :class:`StepResult` holds
        ``(B, n)`` views, valid until the next call. This default calls
        :meth:`step` and copies; rules override it to compute with ``out=``.
        """
        result = self.step(field, x.T, {name: value.T for name, value in buffers.items()}, k)
        np.copyto(out, result.x.T)
        for name, value in result.buffers.items():
            np.copyto(out_buffers[name], value.T)
        return result

    @abstractmethod
    def step(self, field: FieldFunctions, x: Array, buffers: dict[str, Array],
             k: int) -> StepResult:
        """Advance the batch ``x`` by one step on the game ``field``; ``k`` counts from 1."""

    @abstractmethod
    def map_jacobian(self, field: FieldFunctions, x: Array, buffers: dict[str, Array],
                     k: int) -> Array:
        """``dz'/dz`` of step ``k`` at extended state ``z = (x, buffers)``: ``(B, m, m)``."""

    # Helpers for the extended state, ordered as (x, *buffer_names).
    def pack(self, x: Array, buffers: dict[str, Array]) -> Array:
        """The extended state ``z`` of shape ``(B, m)``."""
        return np.concatenate([x, *(buffers[b] for b in self.buffer_names)], axis=-1)

    def unpack(self, z: Array, n: int) -> tuple[Array, dict[str, Array]]:
        """Inverse of :meth:`pack`."""
        parts = np.split(z, [n * (i + 1) for i in range(len(self.buffer_names))], axis=-1)
        return parts[0], dict(zip(self.buffer_names, parts[1:], strict=True))

    def __repr__(self) -> str:
        def rate(value: Rate) -> str:
            return f"{value:g}" if isinstance(value, float) else f"<{value.shape[0]} per run>"

        settings = "".join(f", {k}={v!r}" for k, v in self.setting_values().items())
        return f"{type(self).__name__}(lr_g={rate(self.lr_g)}, lr_d={rate(self.lr_d)}{settings})"
