"""Explain a simulated run: its logged losses, and the period its equilibrium predicts.

:func:`explain_run` is the library form of ``gandyn explain`` without
``--log``. The caller simulates (the run layer sits above this package) and
hands over the trajectory, the derived vector field and the game's model;
this module decides what the run's losses can be held to (one fake logit and
exact expectations, or minibatch noise), analyses the pair and, when the
closed-form equilibrium's eigenvalues are complex, compares the period they
predict with the one the generator's loss shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np

from gandyn.arrays import Array, BoolArray
from gandyn.derivation.field import VectorField
from gandyn.derivation.stationary import closed_form_equilibria, isolated_points
from gandyn.explain.conventions import EXACT_TOLERANCE, SAMPLED_TOLERANCE
from gandyn.explain.dynamics import dynamics_prediction
from gandyn.explain.explanation import ExplainError, Explanation, relations_for
from gandyn.explain.series import analyze_series
from gandyn.symbolic.model import GanModel

__all__ = ["DivergedRunError", "SimulatedLosses", "explain_run", "single_fake_logit"]

#: Imaginary parts of the equilibrium's eigenvalues above this predict an oscillation.
_OSCILLATION_IMAG = 1e-12


class DivergedRunError(ExplainError):
    """The run diverged: its losses cannot be explained.

    Attributes
    ----------
    step
        The step at which it diverged.
    """

    def __init__(self, step: float) -> None:
        super().__init__(f"the simulation diverged at step {step:g}")
        self.step = step


class SimulatedLosses(Protocol):
    """What :func:`explain_run` reads from a simulated trajectory (its first run).

    :class:`gandyn.dynamics.trajectory.Trajectory` has these members.
    """

    @property
    def state_names(self) -> tuple[str, ...]: ...

    @property
    def logged_names(self) -> tuple[str, ...]: ...

    @property
    def step(self) -> Array: ...

    @property
    def t(self) -> Array: ...

    @property
    def diverged(self) -> BoolArray: ...

    @property
    def diverged_at(self) -> Array: ...

    def loss(self, name: str) -> Array: ...


def single_fake_logit(model: GanModel | None, batch_size: int | None) -> bool:
    """Whether every fake sample of the run has the same discriminator logit.

    True for a point-mass generator (the fake sample depends on no random
    variable) with exact expectations: ``d_fake`` and ``g_loss`` are then
    exactly ``softplus(l)`` and ``softplus(-l)`` of one ``l``. A spread of
    logits over ``z`` only raises ``d_fake + g_loss`` (Jensen's inequality),
    and independent minibatches agree only in their trends.
    """
    if model is None or batch_size is not None:
        return False
    random = {v for v, _ in model.random}
    return not (model.fake_sample.free_symbols & random)


def _period_prediction(field: VectorField, trajectory: SimulatedLosses,
                       g_loss: Array) -> dict[str, Any] | None:
    """The period the first closed-form isolated equilibrium predicts, if it oscillates."""
    points = isolated_points(closed_form_equilibria(field), trajectory.state_names)
    if not points:
        return None
    eigenvalues = np.linalg.eigvals(field.jacobian_fn(np.array(points[0])))
    if not np.any(np.abs(eigenvalues.imag) > _OSCILLATION_IMAG):
        return None
    dynamics = dynamics_prediction(eigenvalues, trajectory.t, g_loss)
    dynamics["equilibrium"] = dict(zip(trajectory.state_names, points[0], strict=True))
    return dynamics


def explain_run(trajectory: SimulatedLosses, field: VectorField, *,
                model: GanModel | None = None, batch_size: int | None = None,
                loss: str = "non-saturating", batch_sizes: tuple[int, int] | None = None,
                window: int | None = None, tol: float | None = None,
                spec: Mapping[str, Any] | None = None) -> Explanation:
    """Explain the ``(d_fake, g_loss)`` pair of a simulated run (its first start).

    Parameters
    ----------
    trajectory
        The run, measured as a training loop logs it (``d_fake``, ``g_loss``
        and ``d_real`` among its logged names).
    field
        The game's derived vector field: its closed-form equilibria and
        Jacobian give the period prediction.
    model
        The game's sample model, to tell whether the generator has a single
        fake logit (:func:`single_fake_logit`); ``None`` for a game without one.
    batch_size
        The run's minibatch size (``None``: exact expectations). gandyn's
        minibatch mode draws independent batches of this size for the two
        players, so it sets the batch sizes of the analysis.
    loss
        The generator loss of the game: ``"non-saturating"`` or ``"minimax"``.
    batch_sizes
        Independent minibatch sizes ``(m_d, m_g)`` to assume for a run with
        exact expectations; not with ``batch_size``.
    window
        Moving-average window of the detrending.
    tol
        Consistency tolerance; default
        :data:`~gandyn.explain.conventions.EXACT_TOLERANCE` with exact
        expectations, else :data:`~gandyn.explain.conventions.SAMPLED_TOLERANCE`.
    spec
        The run's specification as JSON data, recorded in the source.

    Returns
    -------
    Explanation

    Raises
    ------
    ExplainError
        For an unsupported loss, or ``batch_sizes`` together with ``batch_size``.
    DivergedRunError
        If the run diverged.
    """
    relations = relations_for(loss)
    if trajectory.diverged[0]:
        raise DivergedRunError(float(trajectory.diverged_at[0]))
    series = {name: trajectory.loss(name)[0] for name in trajectory.logged_names}
    single_logit = single_fake_logit(model, batch_size)
    if batch_size is not None:
        if batch_sizes is not None:
            raise ExplainError("batch_sizes describe a log's independent minibatches; a "
                               "simulated run's are its batch_size")
        batch_sizes = (batch_size, batch_size)
    default_tol = EXACT_TOLERANCE if batch_size is None else SAMPLED_TOLERANCE
    report = analyze_series(series["d_fake"], series["g_loss"], d_real=series["d_real"],
                            d_gz=series.get("d_gz"), loss=loss, window=window,
                            tol=default_tol if tol is None else tol, batch_sizes=batch_sizes,
                            single_logit=single_logit)
    source: dict[str, Any] = {"kind": "simulation"}
    if spec is not None:
        source["spec"] = dict(spec)
    return Explanation(source=source, relations=relations, report=report,
                       dynamics=_period_prediction(field, trajectory, series["g_loss"]),
                       steps=np.asarray(trajectory.step), d_fake=np.asarray(series["d_fake"]),
                       g_loss=np.asarray(series["g_loss"]))
