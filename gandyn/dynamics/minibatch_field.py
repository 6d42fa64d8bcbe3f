"""Stochastic mode's field: minibatch means instead of exact expectations.

A training loop never sees the expectations that :mod:`gandyn.games.game` keeps
exact; it sees means over a fresh minibatch at every step. This module samples
the game's per-sample terms (:func:`gandyn.derivation.per_sample.sample_terms`) and
replaces the exact field ``F = -(grad_theta cost_g, grad_psi cost_d)`` by

* ``grad_psi``: the mean over ``batch_size_d`` columns of the discriminator's
  per-sample cost gradient, each column one real sample paired with one fake
  sample (and one interpolation weight for WGAN-GP): exactly the pairs of the
  relativistic loss, and a real batch and an independent fake batch for the
  others;
* ``grad_theta``: the mean over an independent fresh batch of ``batch_size_g``
  latent (and, where the loss needs them, data) samples.

Both are unbiased estimates of the exact field, with a variance that scales
like ``1 / batch_size``. Every run of a batch of states gets its own draws.

With consensus optimization [2]_ the regularizer ``gamma/2 |xi|**2`` is
estimated as a training loop computes it, from the minibatch gradient
``xi_B`` (the two players' batch means above): each player descends
``xi_B + gamma J_B^T xi_B``, the gradient of ``gamma/2 |xi_B|**2`` with
``J_B`` the batch mean of the per-sample Jacobians of the gradients, on the
same batches. This is the *biased* estimator (the square of a mean): since
``E[xi_B,k**2] = xi_k**2 + Var(g_k) / m_k`` for a component ``k`` of a
batch of ``m_k`` samples with per-sample gradient ``g_k``, its expectation is
the exact consensus field of ``gamma/2 (|xi|**2 + sum_k Var(g_k) / m_k)``:
the variance of the gradient is penalized as well, by ``1 / batch_size``.

The rules of :mod:`gandyn.rules` also take ``dF/dx``; the stochastic
mode passes the *exact Jacobian of the expected field* (it is used only by
linearizations and by symplectic gradient adjustment's adjustment term).

References
----------
.. [1] Goodfellow et al. (2014). Generative Adversarial Nets. NeurIPS,
   Algorithm 1 (minibatch stochastic gradient steps for both players); the
   per-sample penalties and their sources are in :mod:`gandyn.derivation.per_sample`.
.. [2] Mescheder, Nowozin and Geiger (2017). The Numerics of GANs. NeurIPS,
   Sec. 3 and Algorithm 1; their ``ConsensusOptimizer`` squares the gradients
   of the minibatch losses (github.com/LMescheder/TheNumericsOfGANs,
   ``consensus_gan/optimizer.py``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import sympy as sp

from gandyn.arrays import Array
from gandyn.derivation.per_sample import sample_terms
from gandyn.errors import SpecError
from gandyn.games.game import Game
from gandyn.symbolic.expectations import Distribution, Normal, PointMasses
from gandyn.symbolic.functions import NUMPY_NAMESPACE

__all__ = ["Draws", "MinibatchField"]

Draws = dict[sp.Symbol, Array]


def _number(expr: sp.Expr, values: Mapping[sp.Symbol, float]) -> float:
    value = sp.sympify(expr).xreplace({s: sp.Float(v) for s, v in values.items()})
    try:
        return float(value)
    except TypeError:
        raise SpecError(f"cannot evaluate {expr} with the game's parameters") from None


def _sampler(dist: Distribution, values: Mapping[sp.Symbol, float]
             ) -> Callable[[np.random.Generator, tuple[int, int]], Array]:
    """A function ``(rng, shape) -> draws`` for ``dist`` with its parameters evaluated."""
    kind, transform = _transform(dist, values)

    def draw(rng: np.random.Generator, shape: tuple[int, int]) -> Array:
        return transform(rng.standard_normal(shape) if kind == "normal" else rng.random(shape))

    return draw


def _transform(dist: Distribution, values: Mapping[sp.Symbol, float]
               ) -> tuple[str, Callable[[Array], Array]]:
    """``(kind, f)``: ``dist``'s draws are ``f(u)``, ``u`` standard normal or uniform on [0, 1).

    ``f`` may work in place. A point mass is drawn as ``Generator.choice(len(points),
    shape, p=weights)`` draws it (numpy's own algorithm: one uniform per draw, the
    first point whose cumulative weight exceeds it), without choice's checks of ``p``.
    """
    if isinstance(dist, PointMasses):
        points = np.array([_number(p, values) for p in dist.points])
        weights = np.array([_number(w, values) for w in dist.weights])
        weights = weights / weights.sum()
        cdf = weights.cumsum()
        cdf /= cdf[-1]

        def points_of(u: Array) -> Array:
            out: Array = points[cdf.searchsorted(u, side="right")]
            return out

        return "uniform", points_of
    if isinstance(dist, Normal):
        mean, std = _number(dist.mean, values), _number(dist.std, values)
        return "normal", lambda u: _affine(u, mean, std)
    low, high = _number(dist.low, values), _number(dist.high, values)
    return "uniform", lambda u: _affine(u, low, high - low)


def _affine(u: Array, offset: float, scale: float) -> Array:
    """``offset + scale * u``, in place (the same two roundings)."""
    u *= scale
    u += offset
    return u


class _PerSample:
    """Expressions lambdified as per-sample functions of (state, random variables, params)."""

    def __init__(self, exprs: list[sp.Expr], state: tuple[sp.Symbol, ...],
                 variables: tuple[sp.Symbol, ...], params: tuple[sp.Symbol, ...]) -> None:
        self.n_out = len(exprs)
        self.variables = variables
        self._fn = sp.lambdify([*state, *variables, *params], exprs,
                               modules=[NUMPY_NAMESPACE, "numpy"], cse=True)

    def __call__(self, x: Array, draws: Draws, params: tuple[float, ...]) -> Array:
        """``(B, m, n_out)``: states ``(B, n)``, each variable ``(B, m)``."""
        args: list[Any] = [x[:, i : i + 1] for i in range(x.shape[1])]
        args += [draws[v] for v in self.variables]
        args += [np.float64(p) for p in params]
        with np.errstate(over="ignore", under="ignore"):
            out = self._fn(*args)
        m = next(iter(draws.values())).shape[1] if draws else 1
        shape = (x.shape[0], m)
        return np.stack(
            [np.broadcast_to(np.asarray(v, dtype=np.float64), shape) for v in out], axis=-1
        )


def _check_size(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise SpecError(f"{name} must be a positive integer, not {value!r}")
    return int(value)


class MinibatchField:
    """``F(x) = -(grad_g, grad_d)`` estimated on fresh minibatches at every call.

    Parameters
    ----------
    game
        A game with a GAN model (see :func:`gandyn.derivation.per_sample.sample_terms` for what
        is supported).
    batch_size_d
        Pairs (one real, one fake sample) in the discriminator's minibatch.
    batch_size_g
        Samples in the generator's minibatch, drawn independently of D's.
    seed
        Seed of :func:`numpy.random.default_rng`; the same seed gives the
        same sequence of minibatches.

    Notes
    -----
    Each call returns ``(B, n)`` for states ``(B, n)``, with independent
    draws for every row. :attr:`last_logged` holds the minibatch means of the
    last call, in the order :data:`gandyn.games.game.LOGGED_TERMS`: ``d_real``,
    ``d_fake``, ``d_x``, ``d_gz`` from D's batch and ``g_loss`` from G's
    batch, the numbers a training loop prints for that step.
    """

    def __init__(self, game: Game, batch_size_d: int, batch_size_g: int | None = None,
                 seed: int | None = 0) -> None:
        self.batch_size_d = _check_size("batch_size", batch_size_d)
        self.batch_size_g = _check_size(
            "batch_size_g", self.batch_size_d if batch_size_g is None else batch_size_g
        )
        self.seed = seed
        self.game = game
        self.terms = sample_terms(game)
        terms = self.terms
        self.n_theta = len(terms.theta)
        self.logged_names = tuple(name for name, _ in terms.logged)
        values = game.param_values
        self._params = tuple(float(values[p]) for p in terms.params)
        self._samplers = {v: _sampler(d, values) for v, d in terms.variables}
        state = terms.theta + terms.psi
        by_name = dict(terms.logged)
        d_names = [n for n in self.logged_names if n != "g_loss"]
        grad_d = [sp.diff(terms.cost_d, p) for p in terms.psi]
        grad_g = [sp.diff(terms.cost_g, t) for t in terms.theta]
        d_exprs = grad_d + [by_name[n] for n in d_names]
        g_exprs = [*grad_g, by_name["g_loss"]]
        # Consensus: per-sample Jacobian rows of each gradient, after the columns above.
        self._consensus = (None if terms.consensus is None
                           else float(values[terms.consensus]))
        if self._consensus is not None:
            d_exprs += [sp.diff(g, s) for g in grad_d for s in state]
            g_exprs += [sp.diff(g, s) for g in grad_g for s in state]
        self._d_columns = [self.logged_names.index(n) for n in d_names]
        self._g_column = self.logged_names.index("g_loss")
        self._d_fn = _PerSample(d_exprs, state, self._used(d_exprs), terms.params)
        self._g_fn = _PerSample(g_exprs, state, self._used(g_exprs), terms.params)
        # What the compiled backend (gandyn.dynamics.kernels.minibatch) prints: the same
        # lists, so that it eliminates the same subexpressions as the functions above.
        self.d_exprs, self.g_exprs = tuple(d_exprs), tuple(g_exprs)
        self.d_variables, self.g_variables = self._d_fn.variables, self._g_fn.variables
        self.param_values = self._params
        transforms = [_transform(d, values) for _, d in terms.variables]
        kinds = {kind for kind, _ in transforms}
        # one kind of generator call for all: a block of draws is one call (draw_sets)
        self._block: tuple[str, list[Callable[[Array], Array]]] | None = (
            (kinds.pop() if kinds else "normal", [f for _, f in transforms])
            if len(kinds) <= 1 else None)
        logged_exprs = [e for _, e in terms.logged]
        self._logged_fn = _PerSample(logged_exprs, state, self._used(logged_exprs), terms.params)
        self.rng = np.random.default_rng(seed)
        # Losses at states no field call saw (step 0 of a simulation) come
        # from their own stream, so that logging never shifts the training noise.
        self._log_rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
        self.last_logged: Array | None = None
        self._recent: deque[tuple[Array, Array]] = deque(maxlen=8)

    def _used(self, exprs: list[sp.Expr]) -> tuple[sp.Symbol, ...]:
        free: set[sp.Basic] = set().union(*(sp.sympify(e).free_symbols for e in exprs))
        return tuple(v for v, _ in self.terms.variables if v in free)

    def draw(self, n_runs: int, size: int, rng: np.random.Generator | None = None) -> Draws:
        """Fresh draws of every random variable, each ``(n_runs, size)``."""
        generator = self.rng if rng is None else rng
        return {v: self._samplers[v](generator, (n_runs, size)) for v, _ in self.terms.variables}

    @property
    def log_rng(self) -> np.random.Generator:
        """The separate stream of the losses at states no field call saw."""
        return self._log_rng

    @property
    def consensus(self) -> float | None:
        """The weight ``gamma`` of consensus optimization, ``None`` without it."""
        return self._consensus

    def draw_sets(self, count: int, n_runs: int, rng: np.random.Generator,
                  vectorized: bool = True) -> Array:
        """``count`` successive pairs of :meth:`draw` (D's batch, then G's), one row each.

        Row ``q`` holds the ``q``-th pair as ``__call__`` draws it: every variable's
        ``(n_runs, batch_size_d)`` block in the order of the variables, then every
        variable's ``(n_runs, batch_size_g)`` block, flattened. With only normal (or
        only uniform and point-mass) variables one call of the generator fills all rows: numpy's
        ``Generator`` fills an array element by element from the same stream, so the
        numbers are those of the successive calls (``vectorized=False`` makes them).
        Point masses are drawn from uniforms, so they join the uniform ones.
        """
        n_vars = len(self.terms.variables)
        d_size = n_vars * n_runs * self.batch_size_d
        width = d_size + n_vars * n_runs * self.batch_size_g
        if vectorized and self._block is not None and count:
            kind, transforms = self._block
            out: Array = (rng.standard_normal((count, width)) if kind == "normal"
                          else rng.random((count, width)))
            parts = (out[:, :d_size].reshape(count, n_vars, -1),
                     out[:, d_size:].reshape(count, n_vars, -1))
            for j, transform in enumerate(transforms):
                for part in parts:
                    part[:, j] = transform(part[:, j])
            return out
        out = np.empty((count, width))
        for q in range(count):
            for size, part in ((self.batch_size_d, out[q, :d_size]),
                               (self.batch_size_g, out[q, d_size:])):
                blocks = part.reshape(n_vars, n_runs, size)
                for j, (v, _) in enumerate(self.terms.variables):  # as draw() draws them
                    blocks[j] = self._samplers[v](rng, (n_runs, size))
        return out

    def per_sample_grad_d(self, x: Array, draws: Draws) -> Array:
        """``d cost_d / d psi`` per sample: ``(B, m, n_psi)``."""
        return self._d_fn(x, draws, self._params)[..., : len(self.terms.psi)]

    def per_sample_grad_g(self, x: Array, draws: Draws) -> Array:
        """``d cost_g / d theta`` per sample: ``(B, m, n_theta)``."""
        return self._g_fn(x, draws, self._params)[..., : self.n_theta]

    def per_sample_logged(self, x: Array, draws: Draws) -> Array:
        """The logged terms per sample on one set of draws: ``(B, m, k)``."""
        return self._logged_fn(np.asarray(x, dtype=np.float64), draws, self._params)

    def _evaluate(self, x: Array, rng: np.random.Generator) -> tuple[Array, Array]:
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.n_theta + len(self.terms.psi):
            raise ValueError(f"states must have shape (B, {self.n_theta + len(self.terms.psi)})")
        return self.on_draws(x, self.draw(x.shape[0], self.batch_size_d, rng),
                             self.draw(x.shape[0], self.batch_size_g, rng))

    def on_draws(self, x: Array, draws_d: Draws, draws_g: Draws) -> tuple[Array, Array]:
        """``F`` and the logged means on given minibatches: D's ``draws_d``, G's ``draws_g``.

        Returns
        -------
        tuple
            The field ``(B, n)`` and the logged losses ``(B, k)``.
        """
        x = np.asarray(x, dtype=np.float64)
        n_psi, n_theta, n = len(self.terms.psi), self.n_theta, x.shape[1]
        n_logged_d = len(self._d_columns)
        d_out = self._d_fn(x, draws_d, self._params).mean(axis=1)
        g_out = self._g_fn(x, draws_g, self._params).mean(axis=1)
        xi = np.concatenate([g_out[:, :n_theta], d_out[:, :n_psi]], axis=1)
        if self._consensus is not None:
            # The gradient of gamma/2 |xi_B|**2: J_B^T xi_B, J_B the batch-mean Jacobian
            # (rows: G's components from G's batch, D's from D's), as a loop differentiates it.
            jacobian = np.concatenate(
                [g_out[:, n_theta + 1:].reshape(-1, n_theta, n),
                 d_out[:, n_psi + n_logged_d:].reshape(-1, n_psi, n)], axis=1)
            xi = xi + self._consensus * np.einsum("bkl,bk->bl", jacobian, xi)
        logged = np.empty((x.shape[0], len(self.logged_names)))
        logged[:, self._d_columns] = d_out[:, n_psi : n_psi + n_logged_d]
        logged[:, self._g_column] = g_out[:, n_theta]
        return -xi, logged

    def __call__(self, x: Array) -> Array:
        """``F(x)`` on fresh minibatches; ``x`` of shape ``(B, n)``."""
        field, logged = self._evaluate(x, self.rng)
        self.last_logged = logged
        self._recent.append((x, logged))
        return field

    def logged_at(self, x: Array) -> Array:
        """The minibatch losses of the most recent call at ``x`` (``(B, k)``).

        A rule may call the field several times per step (alternating
        updates, extragradient, optimism); the losses a loop logs are those
        of the call at the state the player's gradient saw. For a state no
        recent call saw, a fresh minibatch from a separate stream is used.
        """
        for seen, logged in reversed(self._recent):
            if seen is x:
                return logged
        for seen, logged in reversed(self._recent):
            if seen.shape == np.shape(x) and np.array_equal(seen, x):
                return logged
        return self._evaluate(x, self._log_rng)[1]
