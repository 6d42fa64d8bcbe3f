"""Peak memory of ``gandyn simulate --out run.npz`` held whole and streamed in chunks.

A grid of Dirac-GAN starts (simgd) written to an NPZ, each configuration in a
fresh child process, which prints

* the bytes of recorded data the output file holds (``x`` and ``logged``);
* the peak of memory traced by :mod:`tracemalloc` (numpy's arrays included)
  during the simulation and the writing (after one run of a single start, which
  compiles the derived functions), and the process's maximum resident set
  (``ru_maxrss``, interpreter and libraries included);

for (a) the run held whole (a budget it fits in: the records are simulated,
kept and written at once) and (b) the same run under ``--max-memory BUDGET``,
streamed in chunks of runs (each chunk's working set, as
:func:`gandyn.limits.trajectory_bytes` estimates it, is at most a quarter of
the budget). The baseline of the resident set is (c) a child that derives the
same game and stops before simulating. The two files are compared byte for
byte.

Run ``python benchmarks/bench_memory.py [--runs 20000] [--steps 100] [--budget 128M]``.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from dataclasses import replace
from pathlib import Path

import numpy as np


def child(runs: int, steps: int, budget: str | None, out: str) -> None:
    """One configuration: build, then (unless ``out`` is empty) simulate and write; JSON."""
    from gandyn.io.trajectory_files import stream_trajectory, write_trajectory
    from gandyn.runs.build import build, run
    from gandyn.runs.chunked import chunk_size, run_chunked
    from gandyn.runs.spec import RunSpec, merge

    side = round(runs ** 0.5)
    starts = [{"theta": float(a), "psi": float(b)}
              for a in np.linspace(-2, 2, side) for b in np.linspace(-2, 2, runs // side)]
    spec = merge(RunSpec(), steps=steps, lr=0.1, starts=starts)
    built = build(spec, max_memory=budget or "1T", streamed=True)
    chunk = chunk_size(built)
    report: dict[str, float] = {"runs": len(starts), "chunk": chunk}
    if out:
        # The first call of the derived functions compiles them (about 14 MB of sympy and
        # code objects, kept): made before the measure, as in any process that ran before.
        run(replace(built, x0=built.x0[:1]))
        tracemalloc.start()
        start = time.perf_counter()
        if chunk < len(starts):
            stream_trajectory(lambda sink: run_chunked(built, chunk, sink), out,
                              built.spec.to_dict(), n_runs=len(starts))
        else:
            write_trajectory(run(built).trajectory, out, built.spec.to_dict())
        report["seconds"] = time.perf_counter() - start
        report["traced_peak"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    report["maxrss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024.0  # Linux: KiB
    print(json.dumps(report))


def measure(runs: int, steps: int, budget: str | None, out: str) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", "--runs", str(runs), "--steps", str(steps),
               "--budget", budget or "", "--out", out]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20_000)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--budget", default="128M")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.runs, args.steps, args.budget or None, args.out)
        return
    from gandyn.limits import format_bytes, parse_memory, trajectory_bytes

    with tempfile.TemporaryDirectory() as folder:
        whole, streamed = str(Path(folder) / "whole.npz"), str(Path(folder) / "streamed.npz")
        base = measure(args.runs, args.steps, None, "")
        held = measure(args.runs, args.steps, None, whole)
        chunked = measure(args.runs, args.steps, args.budget, streamed)
        same = filecmp.cmp(whole, streamed, shallow=False)
        runs = int(held["runs"])
        data = runs * (args.steps + 1) * 7 * 8.0
        chunk_set = trajectory_bytes(int(chunked["chunk"]), args.steps + 1, 2, 5)
    budget = parse_memory(args.budget)
    print(f"simgd on the Dirac-GAN: {runs} runs x {args.steps + 1} records -> NPZ; "
          f"recorded data {format_bytes(data)}")
    print(f"  (a) held whole          traced peak {format_bytes(held['traced_peak']):>10}  "
          f"maxrss {format_bytes(held['maxrss']):>10}  {held['seconds']:.1f} s  "
          f"peak / data = {held['traced_peak'] / data:.2f}")
    peak = format_bytes(chunked["traced_peak"])
    print(f"  (b) --max-memory {args.budget:<6} traced peak {peak:>10}"
          f"  maxrss {format_bytes(chunked['maxrss']):>10}  {chunked['seconds']:.1f} s  "
          f"peak / data = {chunked['traced_peak'] / data:.2f}, peak / budget = "
          f"{chunked['traced_peak'] / budget:.2f}; chunks of {int(chunked['chunk'])} runs "
          f"(working set {format_bytes(chunk_set)})")
    print(f"  (c) derive only         maxrss {format_bytes(base['maxrss']):>10} (the "
          f"interpreter, numpy, scipy, sympy and the game)")
    print(f"  files identical: {same}")


if __name__ == "__main__":
    main()
