r"""Discretization drift: the modified flows that gradient steps follow.

Backward error analysis asks which flow a discrete update rule follows more
closely than the gradient flow it discretizes. For simultaneous and
alternating gradient steps with per-player learning rates this module
derives, with sympy, the first-order *modified vector field*: the flow whose
time-``lr_g`` map agrees with one step of the rule up to ``O(h^3)``, while
the original flow agrees only up to ``O(h^2)`` (Rosca et al. 2021, Thms 3.1
and 3.2; Hairer, Lubich and Wanner 2006, Sec. IX.1).

Conventions are those of the rest of gandyn: the state is ``x = (theta, psi)``,
the game's field is ``F = -xi`` with Jacobian ``J = dF/dx`` (:mod:`gandyn.derivation.field`),
the generator's coordinates move with ``lr_g`` and the discriminator's with
``lr_d``, and time runs on the generator's clock, so step ``k`` sits at
``t = k * lr_g`` (docs/architecture.md, "Conventions").

The derivation
--------------
One iteration of a rule is a sequence of Euler sub-steps
``x <- x + D_s F(x)``, ``s = 1..S``, where ``D_s`` is diagonal with
``lr_g`` on the generator's coordinates if sub-step ``s`` moves the generator,
``lr_d`` on the discriminator's if it moves the discriminator, and 0
elsewhere (simultaneous GD: one sub-step moving both; alternating GD: the
discriminator's ``d_steps`` sub-steps and the generator's ``g_steps``, in the
order ``first`` says). Expanding ``F(x_{s-1}) = F + J (x_{s-1} - x) + O(h^2)``,

.. math::

    x' = x + A F + \sum_{u < s} D_s J D_u F + O(h^3), \qquad A = \sum_s D_s .

A flow ``dx/dt = G + tau G_1`` run for ``tau = lr_g`` moves ``x`` by
``tau G + tau^2 (G_1 + (1/2) G' G) + O(tau^3)``; matching the two,

.. math::

    G = A F / \tau, \qquad
    \tau G_1 = \frac{1}{\tau}\Big(\sum_{u<s} D_s J D_u F - \tfrac12 A J A F\Big).

Written per player (``P, Q`` in ``{g, d}``, ``J_PQ = dF_P/dx_Q``), the drift
is ``sum_Q c_PQ J_PQ F_Q`` with scalar coefficients
``c_PQ = (sum_{u<s} d_s^P d_u^Q - a^P a^Q / 2) / lr_g`` (:attr:`ModifiedFlow.coefficients`).
For simultaneous steps, with ``r = lr_d / lr_g``,

.. math::

    \dot\theta = F_\theta - \tfrac12\big(lr_g J_{\theta\theta} F_\theta
                  + lr_d J_{\theta\psi} F_\psi\big), \qquad
    \dot\psi = r\Big[F_\psi - \tfrac12\big(lr_g J_{\psi\theta} F_\theta
                  + lr_d J_{\psi\psi} F_\psi\big)\Big],

and for alternating steps with the discriminator first the first player's
equation is unchanged while the second player's interaction term changes sign:

.. math::

    \dot\theta = F_\theta - \tfrac12 lr_g J_{\theta\theta} F_\theta
                  + \tfrac12 lr_d J_{\theta\psi} F_\psi .

With equal learning rates (``alpha = lambda``, ``m = k = 1`` in the paper's
notation) these are Rosca et al.'s Theorem 3.1 (simultaneous) and Theorem
3.2 (alternating). With two time scales the interaction term of each player
carries the *other* player's learning rate, as the expansion above gives;
``tests/test_drift.py`` confirms the ``O(h^3)`` local error for
``lr_g != lr_d`` and shows that the variant with each player's own rate in
the interaction term is only ``O(h^2)``.

References
----------
.. [1] Rosca, Wu, Dherin and Barrett (2021). Discretization Drift in Two-Player
   Games. ICML, Sec. 3, Theorems 3.1 and 3.2.
.. [2] Barrett and Dherin (2021). Implicit Gradient Regularization. ICLR,
   Sec. 2 (the one-player modified flow ``F - (h/2) J F``).
.. [3] Hairer, Lubich and Wanner (2006). Geometric Numerical Integration,
   2nd ed., Springer, Sec. IX.1 (modified differential equations).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import sympy as sp

from gandyn.arrays import Array
from gandyn.derivation.field import NumericFunction, VectorField
from gandyn.errors import SpecError
from gandyn.symbolic.model import real_symbol

if TYPE_CHECKING:
    from gandyn.dynamics.trajectory import Trajectory
    from gandyn.rules.base import UpdateRule

__all__ = [
    "LR_D",
    "LR_G",
    "SCHEMES",
    "ModifiedFlow",
    "coefficient_table",
    "modified_flow",
    "modified_flow_of_rule",
    "schedule",
]


#: The learning-rate symbols of the modified fields (values given at construction).
LR_G = real_symbol("lr_g")
LR_D = real_symbol("lr_d")
#: The update rules whose modified flow this module derives.
SCHEMES = ("simgd", "altgd")
_PLAYERS = ("g", "d")
_IMPLICIT = ("Radau", "BDF", "LSODA")


def schedule(scheme: str, *, first: str = "d", d_steps: int = 1,
             g_steps: int = 1) -> tuple[frozenset[str], ...]:
    """The Euler sub-steps of one iteration: which players each one moves.

    Parameters
    ----------
    scheme
        ``simgd`` (one sub-step moving both players) or ``altgd``.
    first, d_steps, g_steps
        Alternating updates only, as :class:`gandyn.rules.gradient.AlternatingGD`
        takes them: who moves first, and each player's consecutive steps.

    Returns
    -------
    tuple of frozenset
        One set of players (``"g"``, ``"d"``) per sub-step, in order.
    """
    if scheme not in SCHEMES:
        raise SpecError(f"discretization drift is derived for {', '.join(SCHEMES)}, "
                        f"not {scheme!r}")
    if scheme == "simgd":
        if (first, d_steps, g_steps) != ("d", 1, 1):
            raise SpecError("simgd takes no first, d_steps or g_steps")
        return (frozenset(_PLAYERS),)
    if first not in _PLAYERS:
        raise SpecError(f"first must be 'd' or 'g', not {first!r}")
    if int(d_steps) != d_steps or int(g_steps) != g_steps or d_steps < 1 or g_steps < 1:
        raise SpecError("d_steps and g_steps must be integers of at least 1")
    d = (frozenset("d"),) * int(d_steps)
    g = (frozenset("g"),) * int(g_steps)
    return d + g if first == "d" else g + d


@functools.lru_cache(maxsize=32)
def _coefficients(steps: tuple[frozenset[str], ...]) -> tuple[tuple[sp.Expr, ...], ...]:
    """``c_PQ`` (rows ``P``, columns ``Q`` in ``(g, d)``) and the leading rates ``a^P / lr_g``."""
    rate = {"g": LR_G, "d": LR_D}
    d = [{p: (rate[p] if p in step else sp.S.Zero) for p in _PLAYERS} for step in steps]
    a = {p: sp.Add(*(ds[p] for ds in d)) for p in _PLAYERS}
    rows = []
    for p in _PLAYERS:
        row = []
        for q in _PLAYERS:
            pairs = sp.Add(*(d[s][p] * d[u][q] for s in range(len(d)) for u in range(s)))
            row.append(sp.expand((pairs - a[p] * a[q] / 2) / LR_G))
        rows.append(tuple(row))
    rows.append(tuple(sp.expand(a[p] / LR_G) for p in _PLAYERS))
    return tuple(rows)


@dataclass(frozen=True, eq=False)
class ModifiedFlow:
    """The first-order modified flow of an update rule, symbolic and numeric.

    ``dx/dt = leading + drift`` on the generator's clock: ``leading = (A /
    lr_g) F`` is the gradient flow the iterates follow to first order (for
    one step of each player per iteration, gandyn's flow with rates ``lr /
    lr_g``), ``drift`` the ``O(h)`` correction of backward error analysis.

    Attributes
    ----------
    vf
        The derived game.
    scheme
        ``simgd`` or ``altgd``.
    steps
        The sub-steps of one iteration (:func:`schedule`).
    lr_g, lr_d
        The learning rates' values (the expressions keep :data:`LR_G`,
        :data:`LR_D` symbolic; the numeric functions take these values unless
        called with ``{"lr_g": ..., "lr_d": ...}``).
    coefficients
        ``2 x 2`` matrix ``c_PQ`` (rows and columns ``g, d``): the drift of
        player ``P`` is ``sum_Q c_PQ J_PQ F_Q``.
    rates
        ``(a_g, a_d) / lr_g``: the leading field's per-player factors.
    leading, drift, field
        Tuples of expressions ordered as ``vf.game.state_symbols``;
        ``field = leading + drift``.
    """

    vf: VectorField
    scheme: str
    steps: tuple[frozenset[str], ...]
    lr_g: float
    lr_d: float
    coefficients: sp.ImmutableMatrix
    rates: tuple[sp.Expr, sp.Expr]
    leading: tuple[sp.Expr, ...]
    drift: tuple[sp.Expr, ...]

    @property
    def field(self) -> tuple[sp.Expr, ...]:
        """The modified field ``leading + drift``."""
        return tuple(a + b for a, b in zip(self.leading, self.drift, strict=True))

    @property
    def state_names(self) -> tuple[str, ...]:
        """Names of the state coordinates (theta..., psi...)."""
        return tuple(s.name for s in self.vf.game.state_symbols)

    @property
    def params(self) -> dict[sp.Symbol, float]:
        """The game's hyper-parameters and the two learning rates, with their values."""
        return {**self.vf.game.param_values, LR_G: self.lr_g, LR_D: self.lr_d}

    def _compile(self, exprs: Any) -> NumericFunction:
        return NumericFunction(exprs, self.vf.game.state_symbols, self.params)

    @functools.cached_property
    def field_fn(self) -> NumericFunction:
        """Numeric modified field: ``(..., n) -> (..., n)``."""
        return self._compile(list(self.field))

    @functools.cached_property
    def leading_fn(self) -> NumericFunction:
        """Numeric leading field ``(A / lr_g) F``."""
        return self._compile(list(self.leading))

    @functools.cached_property
    def drift_fn(self) -> NumericFunction:
        """Numeric drift (the ``O(h)`` correction)."""
        return self._compile(list(self.drift))

    @functools.cached_property
    def jacobian(self) -> sp.ImmutableMatrix:
        """``d(field)/dx`` (third derivatives of the costs; computed on first use)."""
        state = self.vf.game.state_symbols
        return sp.ImmutableMatrix([[sp.diff(f, s) for s in state] for f in self.field])

    @functools.cached_property
    def jacobian_fn(self) -> NumericFunction:
        """Numeric :attr:`jacobian`: ``(..., n) -> (..., n, n)``."""
        return self._compile(self.jacobian)

    @functools.cached_property
    def divergence(self) -> sp.Expr:
        """``div field``: the rate at which the modified flow changes phase-space area."""
        state = self.vf.game.state_symbols
        return sp.Add(*(sp.diff(f, s) for f, s in zip(self.field, state, strict=True)))

    def simulate(
        self,
        x0: Any,
        t_end: float,
        *,
        order: int = 1,
        n_eval: int = 201,
        method: str = "RK45",
        rtol: float = 1e-10,
        atol: float = 1e-12,
        max_norm: float = 1e6,
    ) -> Trajectory:
        """Integrate the modified (``order=1``) or the leading (``order=0``) flow.

        Uses :func:`gandyn.dynamics.flow.simulate_flow` (scipy ``solve_ivp``) on a
        batch of starts; time is on the generator's clock, so a rule's step
        ``k`` compares with ``t = k * lr_g``.

        Parameters
        ----------
        x0
            Starts ``(B, n)`` or one start ``(n,)``.
        t_end, n_eval
            Output on ``n_eval`` uniform times in ``[0, t_end]``.
        order
            1: the modified flow; 0: the leading flow, the gradient flow the
            rule discretizes.
        method, rtol, atol, max_norm
            As for :func:`~gandyn.dynamics.flow.simulate_flow`.
        """
        from gandyn.dynamics.flow import simulate_flow

        if order not in (0, 1):
            raise SpecError(f"order must be 0 (the flow) or 1 (the modified flow), not {order}")
        start = np.atleast_2d(np.asarray(x0, dtype=np.float64))
        if start.shape[-1] != len(self.state_names):
            raise SpecError(f"a start has {len(self.state_names)} coordinates "
                            f"({', '.join(self.state_names)}), got shape {start.shape}")
        field = self.field_fn if order == 1 else self.leading_fn
        jacobian: Callable[[Array], Array] | None = None
        if method in _IMPLICIT:
            if order == 1:
                def jacobian(x: Array) -> Array:
                    return self.jacobian_fn(x)
            else:
                rates = self.leading_rates()

                def jacobian(x: Array) -> Array:
                    return rates[:, None] * self.vf.jacobian_fn(x)
        try:
            traj = simulate_flow(
                field, jacobian, self.vf.logged_fn, start, t_end=float(t_end), n_eval=n_eval,
                method=method, rtol=rtol, atol=atol, max_norm=max_norm,
                state_names=self.state_names, logged_names=self.vf.logged_names,
            )
        except ValueError as exc:
            raise SpecError(f"modified flow: {exc}") from None
        method_info = {**traj.method, "optimizer": f"{self.scheme} modified flow" if order
                       else f"{self.scheme} leading flow", "order": order,
                       "lr_g": self.lr_g, "lr_d": self.lr_d}
        return replace(traj, method=method_info)

    def leading_rates(self) -> Array:
        """Per-coordinate factors of the leading field (``A / lr_g``) as numbers."""
        values = {LR_G: self.lr_g, LR_D: self.lr_d}
        g, d = (float(r.subs(values)) for r in self.rates)
        n_theta = len(self.vf.game.theta)
        n = len(self.state_names)
        return np.array([g] * n_theta + [d] * (n - n_theta), dtype=np.float64)


def modified_flow(
    vf: VectorField,
    scheme: str = "simgd",
    *,
    lr_g: float,
    lr_d: float | None = None,
    first: str = "d",
    d_steps: int = 1,
    g_steps: int = 1,
) -> ModifiedFlow:
    """Derive the first-order modified flow of simultaneous or alternating gradient steps.

    Parameters
    ----------
    vf
        The derived game (:func:`gandyn.derivation.field.derive`).
    scheme
        ``simgd`` or ``altgd``.
    lr_g, lr_d
        Learning rates (``lr_d`` defaults to ``lr_g``); the expressions keep
        them as the symbols :data:`LR_G`, :data:`LR_D`.
    first, d_steps, g_steps
        Alternating updates, as :class:`gandyn.rules.gradient.AlternatingGD`.

    Returns
    -------
    ModifiedFlow

    Raises
    ------
    SpecError
        For another scheme, non-positive learning rates, or a game that
        already has a hyper-parameter called ``lr_g`` or ``lr_d``.
    """
    lr_d = lr_g if lr_d is None else lr_d
    if not (np.isfinite(lr_g) and np.isfinite(lr_d) and lr_g > 0 and lr_d > 0):
        raise SpecError("learning rates must be positive and finite")
    clash = sorted({s.name for s in vf.game.param_values} & {LR_G.name, LR_D.name})
    if clash:
        raise SpecError(f"game {vf.game.name!r} has a hyper-parameter named {clash[0]!r}, "
                        "the name of a learning rate in the modified flow")
    steps = schedule(scheme, first=first, d_steps=d_steps, g_steps=g_steps)
    *rows, rates = _coefficients(steps)
    coefficients = sp.ImmutableMatrix(rows)
    game = vf.game
    n_theta = len(game.theta)
    n = len(game.state_symbols)
    block = [0 if i < n_theta else 1 for i in range(n)]
    field = sp.Matrix(vf.field)
    jac = vf.jacobian
    leading = tuple(rates[block[i]] * field[i] for i in range(n))
    drift = []
    for i in range(n):
        total = sp.S.Zero
        for q in range(2):
            coeff = coefficients[block[i], q]
            if coeff == 0:
                continue
            # J_PQ F_Q: the row i of J restricted to player q's columns, times F there.
            product = sp.Add(*(jac[i, j] * field[j] for j in range(n) if block[j] == q))
            total += coeff * product
        drift.append(total)
    return ModifiedFlow(vf=vf, scheme=scheme, steps=steps, lr_g=float(lr_g), lr_d=float(lr_d),
                        coefficients=coefficients, rates=(rates[0], rates[1]),
                        leading=leading, drift=tuple(drift))


def modified_flow_of_rule(vf: VectorField, rule: UpdateRule) -> ModifiedFlow:
    """The modified flow of a :mod:`gandyn.rules` rule (``simgd`` or ``altgd``).

    Reads the rule's learning rates and, for alternating steps, its ``first``,
    ``d_steps`` and ``g_steps``.
    """
    settings: dict[str, Any] = {}
    if rule.name == "altgd":
        settings = {key: getattr(rule, key) for key in ("first", "d_steps", "g_steps")}
    elif rule.name not in SCHEMES:
        raise SpecError(f"discretization drift is derived for {', '.join(SCHEMES)}, "
                        f"not {rule.name!r}")
    if not (isinstance(rule.lr_g, float) and isinstance(rule.lr_d, float)):
        raise SpecError("discretization drift is derived for one pair of learning rates, "
                        "not per-run rates")
    return modified_flow(vf, rule.name, lr_g=rule.lr_g, lr_d=rule.lr_d, **settings)


def coefficient_table(flow: ModifiedFlow) -> Mapping[str, Sequence[str]]:
    """``c_PQ`` as strings, one row per player (for reports and the study's JSON)."""
    return {p: [str(flow.coefficients[i, j]) for j in range(2)]
            for i, p in enumerate(_PLAYERS)}
