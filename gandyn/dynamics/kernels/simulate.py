"""Run :func:`gandyn.dynamics.discrete.simulate_rule` through a compiled kernel when it can.

:func:`simulate_with_backend` is the one entry point: for the backend
``auto`` it uses the compiled loop when numba is installed, the game came from
a derivation (:meth:`gandyn.rules.base.FieldFunctions.of`), the rule has a
compiled step, a projection if any is weight clipping
(:class:`gandyn.dynamics.projection.WeightClip`, which the loop repeats) and the
work is large enough to pay for a first compilation; otherwise it runs the numpy path
and records why in the trajectory's ``method`` (``backend``,
``backend_reason``). ``compiled`` insists (an error names what is missing);
``numpy`` never compiles.

The compiled loop reproduces the numpy path: the same operations in the same
order (bit-identical results on the same libm; where numpy reduces with BLAS or
solves with LAPACK, as SGA's and the unrolled GAN's products and the proximal
step's Newton solves, the same mathematics to about 1e-12 relative), per-run
rates and the same divergence rule (a run that leaves the max-norm ball is
frozen at its last good state, with its buffers, and ``diverged_at`` is the step).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import sympy as sp

from gandyn.arrays import Array
from gandyn.dynamics.kernels.printing import UnsupportedError
from gandyn.dynamics.kernels.steps import StepCode
from gandyn.dynamics.projection import WeightClip
from gandyn.dynamics.stepping import outside_ball
from gandyn.dynamics.trajectory import Measure, Trajectory, rule_trajectory
from gandyn.errors import SpecError
from gandyn.rules.base import FieldFunctions, UpdateRule

if TYPE_CHECKING:
    from gandyn.derivation.field import VectorField

__all__ = ["AUTO_MIN_RUN_STEPS", "BACKENDS", "adam_corrections", "check_backend",
           "compiled_kernel", "cross_gradient", "per_run", "simulate_with_backend"]

#: The backends a simulation may ask for.
BACKENDS: tuple[str, ...] = ("auto", "numpy", "compiled")
#: ``auto`` compiles only from this many run-steps (runs x steps) on: below it numpy
#: finishes before a first compilation (about a second) would.
AUTO_MIN_RUN_STEPS = 2_000_000
#: Run-steps per call of the kernel when a progress callback wants news.
_BLOCK_RUN_STEPS = 2_000_000


def check_backend(backend: Any) -> str:
    """``backend`` if it is one of :data:`BACKENDS`; ``compiled`` needs numba.

    ``None`` means the environment's choice, ``GANDYN_BACKEND`` (``gandyn
    --backend`` sets it for the process and its workers), else ``auto``.

    Raises
    ------
    SpecError
        An unknown name, or ``compiled`` without numba installed.
    """
    from gandyn.dynamics.kernels.build import numba_version

    if backend is None:
        backend = os.environ.get("GANDYN_BACKEND") or "auto"
        if backend not in BACKENDS:
            raise SpecError(f"GANDYN_BACKEND must be one of {', '.join(BACKENDS)}, "
                            f"not {backend!r}")
    if backend not in BACKENDS:
        raise SpecError(f"`backend` must be one of {', '.join(BACKENDS)}, not {backend!r}")
    if backend == "compiled" and numba_version() is None:
        raise SpecError("`backend` compiled needs numba (pip install 'gandyn[fast]')")
    return str(backend)


def compiled_kernel(rule: UpdateRule, vf: VectorField, loop_measure: bool, *,
                    clip: bool = False) -> tuple[Callable[..., Any], str]:
    """The compiled ``run`` for ``rule`` on the derived game ``vf``, and its cache key.

    With ``clip``, every step is followed by weight clipping of the discriminator's
    coordinates, to the bound in the last entry of the ``cfg`` vector
    (:func:`~gandyn.dynamics.kernels.steps.settings_vector`).

    Raises
    ------
    UnsupportedError
        The rule or an expression of the game has no compiled form.
    """
    from gandyn.dynamics.kernels.steps import step_code

    game = vf.game
    step = step_code(rule, len(game.state_symbols), len(game.theta), clip=clip)
    return _kernel_of(vf, step, loop_measure)


@functools.lru_cache(maxsize=32)
def _kernel_of(vf: VectorField, step: StepCode, loop_measure: bool
               ) -> tuple[Callable[..., Any], str]:
    # In memory per derived game and step, so that a repeated call does not even
    # describe the expressions again (srepr of a large game takes a while).
    from gandyn.dynamics.kernels.build import load_kernel
    from gandyn.dynamics.kernels.source import simulation_source

    game = vf.game
    n_theta = len(game.theta)
    jacobian = list(vf.jacobian) if step.needs_jacobian else None
    cross = cross_gradient(vf) if step.needs_cross else None
    logged = [e for _, e in game.logged]
    params = tuple(game.param_values)
    description = "\n".join([
        sp.srepr(sp.Tuple(*vf.field)), sp.srepr(sp.Tuple(*(jacobian or ()))),
        sp.srepr(sp.Tuple(*(cross or ()))),
        sp.srepr(sp.Tuple(*logged)), repr(vf.logged_names), sp.srepr(sp.Tuple(*game.state_symbols)),
        sp.srepr(sp.Tuple(*params)), repr((n_theta, loop_measure)), repr(step)])

    def source() -> str:
        return simulation_source(step, list(vf.field), jacobian, logged, vf.logged_names,
                                 game.state_symbols, params, n_theta, loop_measure, cross)

    return load_kernel(description, source)


def cross_gradient(vf: VectorField) -> list[sp.Expr]:
    """The cross gradient of ``vf``'s players (the opponent-aware rules' steps need it)."""
    from gandyn.derivation.player_derivatives import player_derivatives

    return list(player_derivatives(vf).cross_gradient)


def _reason(rule: UpdateRule, field: FieldFunctions, logged: Callable[[Array], Array],
            project: Callable[[Array], Array] | None) -> str | None:
    """Why the compiled loop cannot run this simulation, or ``None`` if it can."""
    from gandyn.dynamics.kernels.build import numba_version
    from gandyn.dynamics.kernels.steps import STEP_WRITERS

    vf = field.source
    if numba_version() is None:
        return "numba is not installed"
    if vf is None or field.field is not vf.field_fn or logged is not vf.logged_fn:
        return ("the field is not a derived game's own exact field (per-run hyper-parameters, "
                "functions given by the caller, or a minibatch field passed to simulate_rule "
                "directly run on numpy; simulate_minibatch has its own compiled loop)")
    if project is not None and not (isinstance(project, WeightClip)
                                    and project.n_theta == field.n_theta):
        return "a projection other than weight clipping (WeightClip) runs on numpy"
    if rule.name not in STEP_WRITERS:
        return f"the rule {rule.name!r} has no compiled step"
    return None


def simulate_with_backend(
    numpy_path: Callable[..., Trajectory], rule: UpdateRule, field: FieldFunctions,
    logged: Callable[[Array], Array], x0: Array, steps: int, *, every: int, max_norm: float,
    measure: Measure, state_names: tuple[str, ...], logged_names: tuple[str, ...],
    project: Callable[[Array], Array] | None, progress: Callable[[int], None] | None,
    backend: str | None,
) -> Trajectory:
    """The simulation on the chosen backend; ``numpy_path`` is ``simulate_rule`` itself.

    Raises
    ------
    SpecError
        ``backend='compiled'`` for a simulation the compiled loop cannot run.
    """
    options = {"every": every, "max_norm": max_norm, "measure": measure,
               "state_names": state_names, "logged_names": logged_names, "project": project,
               "progress": progress, "backend": "numpy"}
    backend = check_backend(backend)
    if backend == "numpy":
        return numpy_path(rule, field, logged, x0, steps, **options)
    reason = _reason(rule, field, logged, project)
    x = np.array(x0, dtype=np.float64)
    if reason is None and backend == "auto" and x.ndim == 2 and (
            x.shape[0] * steps < AUTO_MIN_RUN_STEPS):
        reason = f"fewer than {AUTO_MIN_RUN_STEPS} run-steps (auto compiles only from there)"
    if reason is None and field.source is not None:
        try:
            clip = project.bound if isinstance(project, WeightClip) else None
            return _simulate(rule, field.source, x, steps, every=every, max_norm=max_norm,
                             measure=measure, state_names=state_names,
                             logged_names=logged_names, progress=progress, clip=clip)
        except (UnsupportedError, ImportError) as exc:
            reason = str(exc)
    if backend == "compiled":
        raise SpecError(f"`backend` compiled cannot run this simulation: {reason}")
    traj = numpy_path(rule, field, logged, x0, steps, **options)
    return replace(traj, method={**traj.method, "backend": "numpy", "backend_reason": reason})


def first_call(run: Callable[..., Any], arguments: tuple[Any, ...]) -> None:
    """``run(*arguments)``; a failure of numba's compiler becomes :class:`UnsupportedError`.

    numba compiles at the first call, before the loop writes anything, so the
    caller can still run the numpy path on the same arrays.
    """
    try:
        run(*arguments)
    except Exception as exc:
        if not type(exc).__module__.startswith("numba"):
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UnsupportedError(f"numba could not compile the loop ({first})") from None


def adam_corrections(rule: UpdateRule, steps: int) -> tuple[Array, Array]:
    """Adam's ``1 - beta**k`` for ``k = 0..steps``, as Python's float powers give them."""
    if rule.name != "adam":
        return np.ones(1), np.ones(1)
    b1, b2 = float(rule.setting_values()["beta1"]), float(rule.setting_values()["beta2"])
    return (np.array([1.0] + [1 - b1**k for k in range(1, steps + 1)]),
            np.array([1.0] + [1 - b2**k for k in range(1, steps + 1)]))


def per_run(rate: Any, batch: int) -> Array:
    """A rate as a fresh writable array ``(B,)``, one per run.

    Always a copy: per-run rates are read-only arrays, and numba compiles a loop
    once per argument type, read-only or not; one type keeps one compilation.
    """
    out: Array = np.array(np.broadcast_to(np.asarray(rate, dtype=np.float64), (batch,)),
                          dtype=np.float64, order="C")
    return out


def _simulate(rule: UpdateRule, vf: VectorField, x0: Array, steps: int, *, every: int,
              max_norm: float, measure: Measure, state_names: tuple[str, ...],
              logged_names: tuple[str, ...], progress: Callable[[int], None] | None,
              clip: float | None = None) -> Trajectory:
    from gandyn.dynamics.kernels.steps import settings_vector

    if steps < 0 or every < 1:
        raise ValueError("steps must be >= 0 and every >= 1")
    if x0.ndim != 2:
        raise ValueError("x0 must have shape (B, n)")
    run, key = compiled_kernel(rule, vf, measure == "loop", clip=clip is not None)
    batch, n = x0.shape
    buffers = rule.init_buffers(x0)
    names = rule.buffer_names
    x = np.ascontiguousarray(x0)
    buf = np.ascontiguousarray(np.concatenate([buffers[b] for b in names], axis=1) if names
                               else np.zeros((batch, 0)))
    params = vf.game.param_values
    par = np.empty((batch, len(params)))
    par[:] = [float(v) for v in params.values()]
    record_steps = [k for k in range(steps + 1) if k % every == 0 or k == steps]
    xs = np.empty((batch, len(record_steps), n))
    ls = np.empty((batch, len(record_steps), len(logged_names)))
    diverged = outside_ball(x, max_norm).copy()
    diverged_at = np.where(diverged, 0.0, np.nan)
    c1s, c2s = adam_corrections(rule, steps)
    hg, hd = per_run(rule.lr_g, batch), per_run(rule.lr_d, batch)
    cfg = settings_vector(rule, clip)
    if progress is None:
        block = max(steps, 1)
    else:
        block = max(100, (_BLOCK_RUN_STEPS // max(batch, 1)) // 100 * 100)
    for first in range(1, max(steps, 1) + 1, block):
        last = min(first + block - 1, steps)  # steps = 0: only step 0 is recorded
        arguments = (x, buf, hg, hd, par, cfg, c1s, c2s, first, last, every, steps,
                     float(max_norm), xs, ls, diverged, diverged_at)
        if first == 1:
            first_call(run, arguments)
        else:
            run(*arguments)
        if progress is not None and last >= first:
            progress(last - first + 1)
    return rule_trajectory(rule, steps, record_steps, xs, ls, diverged, diverged_at,
                           measure=measure, state_names=state_names,
                           logged_names=logged_names, backend="compiled", kernel=key)
