"""Throughput of batched simulation: ``simgd`` on the Dirac-GAN.

Prints, in one run, run-steps per second of

* gandyn (``gandyn.dynamics.discrete.simulate_rule`` with the derived field, divergence
  checks and recording included),
* (a) the same map hand-written in vectorized numpy (the data term at ``c``
  included, so both compute the same thing),
* (b) a per-run Python loop that calls the derived field on one state at a time,

with the ratios gandyn / (a) (goal >= 0.5) and gandyn / (b) (goal >= 100), and
the peak memory of the gandyn run against the bytes of trajectory data it
keeps (goal: a few times at most).

Run ``python benchmarks/bench_simulate.py [--runs 100000] [--steps 1000]``.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
from scipy.special import expit

from gandyn.derivation.field import derive
from gandyn.dynamics.discrete import simulate_rule
from gandyn.games.game import make_game
from gandyn.rules import FieldFunctions, make_rule

LR = 0.1
C = 0.0  # the data's location; the derived field keeps its term, so the baseline does too


def hand_written(x0: np.ndarray, steps: int) -> np.ndarray:
    """Simultaneous GD on F = (psi s(psi theta), c s(-c psi) - theta s(psi theta))."""
    theta, psi = x0[:, 0].copy(), x0[:, 1].copy()
    for _ in range(steps):
        s = expit(psi * theta)
        theta, psi = theta + LR * psi * s, psi + LR * (C * expit(-C * psi) - theta * s)
    return np.stack([theta, psi], axis=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--loop-runs", type=int, default=20,
                        help="runs timed for the per-run Python loop (extrapolated)")
    args = parser.parse_args()
    vf = derive(make_game("dirac", "minimax", params={"c": C}))
    names = tuple(s.name for s in vf.game.state_symbols)
    x0 = np.random.default_rng(0).normal(size=(args.runs, 2))
    rule = make_rule("simgd", LR, LR)
    game = FieldFunctions(vf.field_fn, vf.jacobian_fn, 1)
    vf.field_fn(x0[:2])  # compile outside the timing
    vf.logged_fn(x0[:2])

    tracemalloc.start()
    start = time.perf_counter()
    traj = simulate_rule(rule, game, vf.logged_fn, x0, args.steps, every=args.steps,
                         state_names=names, logged_names=vf.logged_names)
    t_gandyn = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    kept = traj.x.nbytes + traj.logged.nbytes

    start = time.perf_counter()
    reference = hand_written(x0, args.steps)
    t_numpy = time.perf_counter() - start
    assert np.allclose(traj.x[:, -1], reference, rtol=1e-10, atol=1e-12), "maps differ"

    start = time.perf_counter()
    for run in range(args.loop_runs):
        x = x0[run].copy()
        for _ in range(args.steps):
            x = x + LR * vf.field_fn(x)
    t_loop = (time.perf_counter() - start) * args.runs / args.loop_runs

    work = args.runs * args.steps
    print(f"simgd on the Dirac-GAN: {args.runs} runs x {args.steps} steps")
    print(f"  gandyn simulate_rule     {work / t_gandyn:12.4g} run-steps/s")
    print(f"  (a) hand-written numpy   {work / t_numpy:12.4g} run-steps/s   "
          f"gandyn/(a) = {t_numpy / t_gandyn:5.2f}  (goal >= 0.5)")
    print(f"  (b) per-run Python loop  {work / t_loop:12.4g} run-steps/s   "
          f"gandyn/(b) = {t_loop / t_gandyn:7.1f}  (goal >= 100; extrapolated from "
          f"{args.loop_runs} runs)")
    print(f"  peak memory {peak / 2**20:8.1f} MiB for {kept / 2**20:.1f} MiB of trajectory "
          f"kept; working set of one state batch {x0.nbytes / 2**20:.1f} MiB "
          f"(peak / (kept + state) = {peak / (kept + x0.nbytes):.1f})")


if __name__ == "__main__":
    main()
