"""Throughput of ``gandyn sweep``: a convergence map of the Dirac-GAN under ``simgd``.

The sweep: learning rate (log-spaced, 0.01 to 1) x the generator's start ``theta`` (-2 to 2),
``psi`` starting at 1, minimax loss, data at ``c = 0``; by default 10^6 cells x 10^3 steps.
Prints, in one run, cells per second of

* gandyn (:func:`gandyn.sweeps.run_sweep`, one process): the derived field, per-cell learning
  rates, divergence, the tolerance ball, the trend over the final window, the loss amplitudes
  and the spectral radius at the equilibrium;
* (a) the same sweep hand-written in vectorized numpy, doing the work gandyn must do and no
  more: the update ``x' = x + h F(x)`` with ``F = (psi s, -theta s)``, ``s = 1 / (1 +
  exp(-psi theta))`` (the data term ``c sigmoid(-c psi)`` vanishes at ``c = 0`` and is not
  computed: gandyn writes integer-valued hyper-parameters into its code and drops it too),
  the divergence check and freeze, the same verdict rules and measures, specialized to this
  game (``d_fake = max(l, 0) + log1p(exp(-|l|))``, ``g_loss = -d_fake``, over the last third
  of the window only), in chunks of the same size (faster than one batch of every cell); its
  verdicts are checked against gandyn's. It leaves out work gandyn must do for a general game,
  once per chunk rather than per step: the map's Jacobian and its eigenvalues at the
  equilibrium (a closed form here), ``decided_at`` and the final distances;
* (b) only the update hand-written (no divergence check, no verdict), for reference;

with the ratios gandyn / (a) (goal >= 0.8), the speed-up of two local worker processes over
one (goal: near 2 on two free cores), and the peak memory of the gandyn run (``tracemalloc``)
against the per-cell results it returns (goal: within 2x), measured again at half the chunk
size to show that the working memory follows the chunk size, not the number of cells.

Run ``python benchmarks/bench_sweep.py [--cells 1000000] [--steps 1000] [--chunk-size 16384]
[--repeat 1]``
(about a minute or two at the defaults on one laptop core, twice that with the worker run).
"""

from __future__ import annotations

import argparse
import math
import os
import time
import tracemalloc

import numpy as np

# This benchmark measures the numpy path: without it, numba (the `fast` extra) would compile
# large runs (GANDYN_BACKEND=auto); bench_compiled.py measures that one.
os.environ["GANDYN_BACKEND"] = "numpy"

from gandyn.runs.spec import RunSpec
from gandyn.sweeps import AxisSpec, SweepPlan, SweepResult, SweepSpec, make_plan, run_sweep

#: The clock of every timing: wall time by default; ``--clock cpu`` takes this process's CPU
#: time (user + system, page faults included), which a machine loaded by other processes
#: disturbs far less.
CLOCK = time.perf_counter

C = 0.0  # the data's location: the data term c sigmoid(-c psi) of F_psi vanishes


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def plan_for(cells: int, steps: int, chunk: int) -> SweepPlan:
    side = max(2, round(math.sqrt(cells)))
    axes = (AxisSpec("lr", 0.01, 1.0, side, log=True), AxisSpec("theta", -2.0, 2.0, cells // side))
    return make_plan(SweepSpec(RunSpec(steps=steps), axes=axes, chunk_size=chunk))


def hand_written(lr: np.ndarray, theta0: np.ndarray, plan: SweepPlan) -> dict[str, np.ndarray]:
    """The sweep's verdicts and measures for this game, written out by hand for one chunk."""
    steps, window, tol2 = plan.steps, plan.window, plan.tol**2
    theta, psi = theta0.copy(), np.ones_like(theta0)
    n = len(theta)
    left = np.zeros(n, dtype=bool)
    left_at = np.zeros(n, dtype=np.int64)
    start2 = theta * theta + psi * psi
    inside = start2 < tol2
    changed = np.zeros(n, dtype=np.int64)
    first = steps - window + 1
    thirds = [first + window // 3, first + (2 * window) // 3]
    peak = np.full((3, n), -np.inf)
    lo = np.full((2, n), np.inf)
    hi = np.full((2, n), -np.inf)
    with np.errstate(all="ignore"):
        for k in range(1, steps + 1):
            s = sigmoid(psi * theta)
            new_theta = theta + lr * (psi * s)
            new_psi = psi + lr * -(theta * s)
            bad = ~(np.maximum(np.abs(new_theta), np.abs(new_psi)) <= plan.max_norm)
            if bad.any():
                fresh = bad & ~left
                left_at[fresh] = k
                left |= fresh
                new_theta = np.where(left, theta, new_theta)
                new_psi = np.where(left, psi, new_psi)
            theta, psi = new_theta, new_psi
            d2 = theta * theta + psi * psi
            now = d2 < tol2
            changed[now != inside] = k
            inside = now
            if k >= first:
                part = (k >= thirds[0]) + (k >= thirds[1])
                np.fmax(peak[part], d2, out=peak[part])
                if part == 2:
                    logit = theta * psi
                    d_fake = np.maximum(logit, 0.0) + np.log1p(np.exp(-np.abs(logit)))
                    g_loss = -d_fake  # the minimax loss
                    for j, loss in enumerate((g_loss, d_fake)):
                        np.fmin(lo[j], loss, out=lo[j])
                        np.fmax(hi[j], loss, out=hi[j])
        r = [np.where(peak[j + 1] == peak[j], 1.0, np.sqrt(peak[j + 1] / peak[j]))
             for j in (0, 1)]
    g = 1 + plan.growth
    settled = inside & (changed < thirds[1])
    growing = (r[0] > g) & (r[1] > g)
    shrinking = (r[0] < 1 / g) & (r[1] < 1 / g) & (d2 < start2)
    verdict = np.select([left, settled, growing, shrinking], [2, 0, 2, 0], 1)
    # The spectral radius of I + h J, J = [[0, 1/2], [-1/2, 0]]: |1 +- i h/2|.
    return {"verdict": verdict, "spectral_radius": np.sqrt(1 + lr * lr / 4),
            "g_loss_amplitude": np.where(left, np.nan, 0.5 * (hi[0] - lo[0]))}


def map_only(lr: np.ndarray, theta0: np.ndarray, steps: int) -> None:
    theta, psi = theta0.copy(), np.ones_like(theta0)
    with np.errstate(all="ignore"):
        for _ in range(steps):
            s = sigmoid(psi * theta)
            theta, psi = theta + lr * (psi * s), psi + lr * -(theta * s)


def timed_sweep(plan: SweepPlan, workers: int = 1) -> tuple[SweepResult, float]:
    start = CLOCK()
    result = run_sweep(plan, workers=workers)
    return result, CLOCK() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=1_000_000)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--chunk-size", type=int, default=16384)
    parser.add_argument("--no-workers", action="store_true", help="skip the two-worker run")
    parser.add_argument("--repeat", type=int, default=1,
                        help="best of this many timings of each, taking turns to go first")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                        help="wall time, or this process's CPU time (steadier on a loaded machine)")
    args = parser.parse_args()
    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    plan = plan_for(args.cells, args.steps, args.chunk_size)
    run_sweep(plan_for(4, 10, 4))  # derive and compile outside the timing

    t_gandyn = t_hand = math.inf
    for r in range(args.repeat):
        # take turns to go first (load on a shared machine drifts); keep the best of each
        for who in (("gandyn", "hand") if r % 2 == 0 else ("hand", "gandyn")):
            if who == "gandyn":
                result, t = timed_sweep(plan)
                t_gandyn = min(t_gandyn, t)
            else:
                lr = plan.axes[0].values[np.unravel_index(np.arange(plan.n_cells), plan.shape)[0]]
                theta0 = plan.axes[1].values[
                    np.unravel_index(np.arange(plan.n_cells), plan.shape)[1]]
                start = CLOCK()
                parts = [hand_written(lr[a:a + plan.chunk_size], theta0[a:a + plan.chunk_size],
                                      plan)
                         for a in range(0, plan.n_cells, plan.chunk_size)]
                t_hand = min(t_hand, CLOCK() - start)
    assert np.array_equal(lr, result.axis_values["lr"])
    assert np.array_equal(theta0, result.axis_values["theta"])
    reference = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    assert np.array_equal(reference["verdict"], result.verdict), "verdicts differ"
    np.testing.assert_allclose(reference["spectral_radius"],
                               result.measures["spectral_radius"], rtol=1e-12)
    np.testing.assert_allclose(reference["g_loss_amplitude"],
                               result.measures["g_loss_amplitude"], rtol=1e-6, atol=1e-12)

    start = CLOCK()
    for a in range(0, plan.n_cells, plan.chunk_size):
        map_only(lr[a:a + plan.chunk_size], theta0[a:a + plan.chunk_size], plan.steps)
    t_map = CLOCK() - start

    n = plan.n_cells
    print(f"gandyn sweep, Dirac-GAN, simgd: {n} cells (lr x theta) x {plan.steps} steps, "
          f"chunks of {plan.chunk_size}")
    print(f"  gandyn run_sweep, 1 process  {n / t_gandyn:12.4g} cells/s  ({t_gandyn:.1f} s)")
    print(f"  (a) hand-written sweep       {n / t_hand:12.4g} cells/s   "
          f"gandyn/(a) = {t_hand / t_gandyn:5.2f}  (goal >= 0.8; same verdicts)")
    print(f"  (b) hand-written map only    {n / t_map:12.4g} cells/s   "
          f"gandyn/(b) = {t_map / t_gandyn:5.2f}  (no verdicts or measures)")
    if not args.no_workers:
        again, t_two = timed_sweep(plan, workers=2)
        assert np.array_equal(again.verdict, result.verdict), "workers changed the verdicts"
        print(f"  gandyn run_sweep, 2 workers  {n / t_two:12.4g} cells/s   "
              f"speed-up {t_gandyn / t_two:4.2f}  (goal: near 2 on two free cores)")
    # Memory, apart from the timings (tracemalloc slows numpy's allocations): the same cells
    # for a few steps (memory does not depend on the steps), at the chunk size and half of it.
    mib = 2**20
    working = []
    for chunk in (plan.chunk_size, max(1, plan.chunk_size // 2)):
        short_plan = plan_for(args.cells, 10, chunk)
        run_sweep(short_plan)  # compile outside the trace: only the sweep's own arrays count
        tracemalloc.start()
        short = run_sweep(short_plan)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        kept = (sum(a.nbytes for a in short.measures.values()) + short.verdict.nbytes
                + sum(a.nbytes for a in short.axis_values.values()))
        working.append((chunk, peak, kept))
    (chunk, peak, kept), (half_chunk, peak_half, kept_half) = working
    print(f"  peak memory {peak / mib:7.1f} MiB: results {kept / mib:.1f} MiB "
          f"({kept / n:.0f} bytes/cell) + working {(peak - kept) / mib:.1f} MiB for chunks of "
          f"{chunk} (peak / results = {peak / kept:.2f}, goal <= 2); working "
          f"{(peak_half - kept_half) / mib:.1f} MiB for chunks of {half_chunk}")
    print(f"  load: {os.getloadavg()}")


if __name__ == "__main__":
    main()
