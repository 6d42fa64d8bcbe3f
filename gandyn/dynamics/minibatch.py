"""Stochastic mode: simulations on minibatch means instead of exact expectations.

:func:`simulate_minibatch` iterates an update rule on the minibatch field of
:mod:`gandyn.dynamics.minibatch_field` (its estimator, with consensus, and its
references are described there), through the compiled loop of
:mod:`gandyn.dynamics.kernels.minibatch` when the backend allows it, else on
numpy. The field lives in its own module so that the compiled loop can take it
without importing this one (which dispatches to it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from gandyn.arrays import Array
from gandyn.dynamics.minibatch_field import MinibatchField
from gandyn.dynamics.trajectory import Trajectory
from gandyn.errors import SpecError
from gandyn.games.game import Game

__all__ = ["MinibatchField", "simulate_minibatch"]


def simulate_minibatch(
    game: Game, rule_name: str, lr_g: float, lr_d: float, x0: Any, steps: int, *,
    batch_size: int, batch_size_g: int | None = None, seed: int | None = 0, every: int = 1,
    max_norm: float = 1e6, settings: Mapping[str, Any] | None = None,
    project: Callable[[Array], Array] | None = None,
    progress: Callable[[int], None] | None = None, backend: str | None = None,
) -> Trajectory:
    """Run update rule ``rule_name`` with minibatch gradients; losses as a loop logs them.

    Parameters
    ----------
    game
        A game with a GAN model.
    rule_name, lr_g, lr_d, settings
        As for :func:`gandyn.rules.registry.make_rule`.
    x0
        Initial states ``(B, n)`` (or one state ``(n,)``); every run draws its own batches.
    steps, every, max_norm
        As for :func:`gandyn.dynamics.discrete.simulate_rule`.
    batch_size, batch_size_g
        Discriminator pairs and generator samples per step (``batch_size_g``
        defaults to ``batch_size``).
    seed
        The same seed gives the same trajectory.
    project, progress
        As for :func:`gandyn.dynamics.discrete.simulate_rule` (weight clipping, a progress bar).
    backend
        ``auto``, ``numpy`` or ``compiled`` (``None``: ``GANDYN_BACKEND``, else ``auto``):
        the compiled loop of :mod:`gandyn.dynamics.kernels.minibatch` takes the same
        draws from the same generators and gives the same numbers.

    Returns
    -------
    gandyn.dynamics.trajectory.Trajectory
        ``measure='loop'``: at step ``k`` the discriminator's losses of the
        minibatch its gradient used and ``g_loss`` of the generator's minibatch
        (step 0: a fresh minibatch at the start). ``method`` records the batch
        sizes, the seed and that the Jacobian is the expected field's, and the backend
        (``backend``, and ``backend_reason`` when ``auto`` stayed on numpy).
    """
    from gandyn.derivation.field import derive
    from gandyn.dynamics.discrete import simulate_rule
    from gandyn.dynamics.kernels.minibatch import compiled_minibatch
    from gandyn.rules.base import FieldFunctions
    from gandyn.rules.registry import make_rule

    field = MinibatchField(game, batch_size, batch_size_g, seed)
    start = np.array(x0, dtype=np.float64)
    if start.ndim == 1:
        start = start[None, :]
    compiled: list[Callable[[Array], Array]] = []

    def jacobian(x: Array) -> Array:
        # Compiled on first use: most rules step without the Jacobian.
        if not compiled:
            compiled.append(derive(game).jacobian_fn)
        return compiled[0](x)

    rule = make_rule(rule_name, lr_g, lr_d, **dict(settings or {}))
    state_names = tuple(s.name for s in game.state_symbols)
    try:
        traj, reason = compiled_minibatch(field, rule, start, steps, every=every,
                                          max_norm=max_norm, state_names=state_names,
                                          project=project, progress=progress, backend=backend)
        if traj is None:
            traj = simulate_rule(
                rule, FieldFunctions(field, jacobian, field.n_theta), field.logged_at, start,
                steps, every=every, max_norm=max_norm, measure="loop",
                state_names=state_names, logged_names=field.logged_names, project=project,
                progress=progress, backend="numpy",
            )
            if reason is not None:
                traj = replace(traj, method={**traj.method, "backend": "numpy",
                                             "backend_reason": reason})
    except SpecError:
        raise
    except ValueError as exc:
        raise SpecError(f"minibatch simulation: {exc}") from None
    method = {**traj.method, "mode": "minibatch", "batch_size_d": field.batch_size_d,
              "batch_size_g": field.batch_size_g, "seed": seed,
              "jacobian": "exact, of the expected field"}
    if field.terms.consensus is not None:
        method["consensus"] = "gamma/2 |xi_B|^2 of the minibatch gradient (biased by Var/m)"
    return replace(traj, method=method)
