"""Sweeps: where does training converge, over learning rates, hyper-parameters and starts?

A sweep is a grid of *cells*, the product of one or more axes (``lr_d`` on
``0.01:1:50:log``, ``gamma`` on ``0:2:41``, ``theta`` on ``-2:2:21``, ...).
Every cell is one simulation of a discrete update rule from
:mod:`gandyn.rules` on the derived game of :mod:`gandyn.derivation.field`; cells
are processed in chunks, and all cells of a chunk advance together in one
vectorized numpy computation, with per-cell learning rates (arrays broadcast
against the batch) and per-cell hyper-parameter values (bound to the
lambdified field as arrays). Memory is bounded by the chunk size, not by the
number of cells. Chunks run in this process, in local worker processes
(:class:`concurrent.futures.ProcessPoolExecutor`) or on a Dask distributed
cluster; a cell's result does not depend on where its chunk ran.

The modules, each depending only on those above it:

:mod:`gandyn.sweeps.axes`
    The axes of the grid (:class:`AxisSpec`), resolved against the game (:class:`Axis`).
:mod:`gandyn.sweeps.plan`
    :class:`SweepSpec` (a run spec, the axes and the verdict settings; read, written
    and merged like a run spec), :class:`SweepPlan` (the spec resolved against the
    game, as plain data) and :func:`make_plan` (checks the spec, picks the reference
    equilibrium).
:mod:`gandyn.sweeps.chunk`
    :func:`simulate_chunk`: the cells of one chunk together, the verdict rules
    (``converged``, ``cycling``, ``diverged``), the measures and the linear prediction.
:mod:`gandyn.sweeps.execution`
    :func:`run_sweep` and :class:`SweepResult`: chunks in this process, in local
    workers or on Dask; chunk files and resume (:func:`prepare_chunk_dir`).
:mod:`gandyn.sweeps.output`
    The JSON sidecar (:func:`sweep_meta`), CSV and NPZ files (:func:`write_sweep`)
    and the printed summary (:func:`summary_text`).

References
----------
.. [1] Mescheder, Nowozin and Geiger (2017). The Numerics of GANs. NeurIPS,
   Sec. 3 (a discrete rule is locally convergent when the spectral radius of
   its map's Jacobian is below one).
.. [2] Mescheder, Geiger and Nowozin (2018). Which Training Methods for GANs do
   actually Converge? ICML, Sec. 2-4 (convergence maps of the Dirac-GAN over
   learning rate and regularization).
"""

from __future__ import annotations

from gandyn.sweeps.axes import Axis, AxisSpec
from gandyn.sweeps.chunk import VERDICTS, simulate_chunk
from gandyn.sweeps.execution import SweepResult, prepare_chunk_dir, run_sweep, sweep
from gandyn.sweeps.output import FORMATS, MEASURES, summary_text, sweep_meta, write_sweep
from gandyn.sweeps.plan import (
    SweepPlan,
    SweepSpec,
    load_sweep_spec,
    make_plan,
    merge_sweep,
    sweep_spec_toml,
)

__all__ = [
    "FORMATS",
    "MEASURES",
    "VERDICTS",
    "Axis",
    "AxisSpec",
    "SweepPlan",
    "SweepResult",
    "SweepSpec",
    "load_sweep_spec",
    "make_plan",
    "merge_sweep",
    "prepare_chunk_dir",
    "run_sweep",
    "simulate_chunk",
    "summary_text",
    "sweep",
    "sweep_meta",
    "sweep_spec_toml",
    "write_sweep",
]
