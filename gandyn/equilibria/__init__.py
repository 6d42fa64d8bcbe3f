"""Equilibria of a game and their local stability: flow, Nash, minimax, discrete maps.

Conventions follow :mod:`gandyn.derivation.field`: the state is ``x = (theta, psi)``,
the gradient flow is ``dx/dt = F(x) = -xi(x)`` and every Jacobian here is
``dF/dx``, so a stationary point is *flow-stable* when every eigenvalue of
``dF/dx`` has a negative real part. A discrete rule is locally stable at a
fixed point when the spectral radius of its map's Jacobian is below one, and
*marginal* (the linear test inconclusive) when it is 1 within
:data:`MAP_MARGINAL_TOL`. Tests that cannot decide say ``"undecided"`` with the
reason (docs/verdicts.md).

* :func:`analyze` -- all of the below for every stationary point found, as
  one :class:`Equilibrium` record each, gathered in an :class:`Analysis`
  (with the global Nash picture on a box and an eigenvalue path); their
  ``to_dict()`` is the JSON contract of ``gandyn analyze --json``.
* :func:`find_equilibria` -- stationary points ``F(x) = 0``: sympy's closed
  forms first (:func:`gandyn.derivation.stationary.find_stationary_points`), then, in a
  box, multi-start numeric root finding; lines and surfaces of stationary
  points are reported once, as a ``set``.
* :func:`flow_stability` -- the linearized flow: node, focus, saddle, centre.
* :func:`nash_type` -- each player's optimality conditions on its own cost,
  a :class:`LocalVerdict` (verdict and reason).
* :func:`local_minimax` -- local minimax for zero-sum games (``yes``, ``no``,
  ``undecided``), a :class:`LocalVerdict`.
* :func:`map_stability`, :func:`map_class`, :func:`stable_lr_range` -- discrete
  update rules: stable, marginal, unstable.
* :func:`nonsmooth_at` -- kinks of ``F``, where its Jacobian describes neither side;
  :func:`switching_point` -- whether a root on a switching surface is an
  equilibrium (or a sliding mode).

The inputs are structured values (a box is ``{symbol: (low, high)}``, a rule a
:class:`RuleChoice`, a path ``(parameter, low, high, count)``); the command
line parses text. The modules, from the bottom up:

:mod:`gandyn.equilibria.records`
    The result records (:class:`Equilibrium`, :class:`Analysis`, ...) and
    their JSON (``to_dict``); imports no other module here at run time.
:mod:`gandyn.equilibria.stationary_sets`
    :class:`StationarySet` (a point, or a line or surface of stationary
    points) and the grouping of numeric roots into sets.
:mod:`gandyn.equilibria.finding`
    :func:`find_equilibria`: sympy's closed forms, then multi-start root
    finding in a box.
:mod:`gandyn.equilibria.flow`
    :func:`flow_stability` and :class:`FlowStability`.
:mod:`gandyn.equilibria.local_optimality`
    :func:`nash_type` and :func:`local_minimax` (second-order conditions on
    each player's own cost; one-sided checks at a kink).
:mod:`gandyn.equilibria.smoothness`
    :func:`nonsmooth_at`: the terms of ``F`` with a kink at a point;
    :func:`switching_point` and :class:`SwitchCheck`: ``F`` on a switching
    surface and Filippov's sliding modes.
:mod:`gandyn.equilibria.maps`
    :func:`map_stability`, :class:`MapStability`, :func:`map_class` and
    :func:`stable_lr_range`.
:mod:`gandyn.equilibria.rule_stability`
    An update rule at an equilibrium; the only module here (with
    :mod:`~gandyn.equilibria.maps`) that calls :mod:`gandyn.rules`.
:mod:`gandyn.equilibria.grid_nash`, :mod:`gandyn.equilibria.global_nash`
    The game on a grid: pure and mixed Nash equilibria (by linear
    programming for zero-sum games, by Lemke-Howson otherwise), zero-sum
    values; the global picture of an analysis (:class:`GlobalNash`).
:mod:`gandyn.equilibria.bimatrix`
    General-sum games on a grid as bimatrix games: Lemke-Howson with
    lexicographic pivoting, support enumeration, and the deviation check of a
    mixed equilibrium (used by the grid picture and by ``--nash``).
:mod:`gandyn.equilibria.nash_existence`
    Several parameters per player on a box: best responses, the
    Nikaido-Isoda gap and the pure verdict, best-response dynamics, the
    discretized game's mixed equilibrium (``gandyn analyze --nash``).
:mod:`gandyn.equilibria.lipschitz_critic`
    The nonparametric 1-Lipschitz critic by linear programming (its value is
    the Wasserstein-1 distance) and the two-point game against it.
:mod:`gandyn.equilibria.eigenvalue_paths`
    Eigenvalues along a hyper-parameter path and where they change character.
:mod:`gandyn.equilibria.classification`
    :func:`classify` (one :class:`Equilibrium`) and :func:`analyze`.

References
----------
.. [1] Mescheder, Nowozin and Geiger (2017). The Numerics of GANs. NeurIPS,
   Sec. 3 (flow stability from the Jacobian's eigenvalues; discrete maps).
.. [2] Mescheder, Geiger and Nowozin (2018). Which Training Methods for GANs do
   actually Converge? ICML, Sec. 2.2 (Dirac-GAN: a centre without
   regularization, a stable focus or node with R1).
.. [3] Ratliff, Burden and Sastry (2013, 2016). On the characterization of
   local Nash equilibria in continuous games. IEEE TAC 61(8) (differential
   Nash equilibria: each player's own Hessian positive definite).
.. [4] Jin, Netrapalli and Jordan (2020). What is local optimality in
   nonconvex-nonconcave minimax optimization? ICML, Prop. 18 and 19
   (second-order conditions for strict local minimax points).
.. [5] Mazumdar, Ratliff and Sastry (2020). On gradient-based learning in
   continuous games. SIAM J. Math. Data Sci. 2(1) (stable non-Nash points of
   the gradient flow).
.. [6] Hirsch, Smale and Devaney (2013). Differential Equations, Dynamical
   Systems, and an Introduction to Chaos, 3rd ed., Ch. 4 and 8 (classification
   of linear planar systems; linearization).
"""

from __future__ import annotations

from gandyn.equilibria.classification import analyze, classify
from gandyn.equilibria.eigenvalue_paths import PathError
from gandyn.equilibria.finding import find_equilibria
from gandyn.equilibria.flow import FlowStability, flow_stability
from gandyn.equilibria.local_optimality import LocalVerdict, local_minimax, nash_type
from gandyn.equilibria.maps import (
    MAP_MARGINAL_TOL,
    MapStability,
    map_class,
    map_stability,
    stable_lr_range,
)
from gandyn.equilibria.records import (
    Analysis,
    AnalysisSpec,
    Equilibrium,
    EquilibriumPath,
    GlobalNash,
    MixedNash,
    PathRange,
    RuleChoice,
    RuleStability,
)
from gandyn.equilibria.smoothness import SwitchCheck, nonsmooth_at, switching_point
from gandyn.equilibria.stationary_sets import StationarySet

__all__ = [
    "MAP_MARGINAL_TOL",
    "Analysis",
    "AnalysisSpec",
    "Equilibrium",
    "EquilibriumPath",
    "FlowStability",
    "GlobalNash",
    "LocalVerdict",
    "MapStability",
    "MixedNash",
    "PathError",
    "PathRange",
    "RuleChoice",
    "RuleStability",
    "StationarySet",
    "SwitchCheck",
    "analyze",
    "classify",
    "find_equilibria",
    "flow_stability",
    "local_minimax",
    "map_class",
    "map_stability",
    "nash_type",
    "nonsmooth_at",
    "stable_lr_range",
    "switching_point",
]
