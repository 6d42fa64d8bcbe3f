"""Wall time of ``gandyn derive`` per catalogue game, and of ``gandyn --help``.

Every number is printed next to a baseline measured in the same run: the
start of a bare interpreter (``python -c pass``). Goals (from the foundation
issue): ``gandyn --help`` under 0.5 s, ``gandyn derive`` of each catalogue
game under 2 s including interpreter start, and a repeated derive (warm disk
cache) faster than a cold one.

Run ``python benchmarks/bench_derive.py [--repeat N]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

GAMES = ("dirac", "bilinear", "gaussian", "two-point")


def _time(cmd: list[str], env: dict[str, str], repeat: int) -> float:
    """Median wall time of ``cmd`` over ``repeat`` runs."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    args = parser.parse_args()
    py = sys.executable
    base_env = dict(os.environ)
    baseline = _time([py, "-c", "pass"], base_env, args.repeat)
    print(f"baseline: python -c pass            {baseline:6.3f} s")
    help_time = _time([py, "-m", "gandyn", "--help"], base_env, args.repeat)
    verdict = "ok" if help_time < 0.5 else "SLOW"
    print(f"gandyn --help                      {help_time:6.3f} s  "
          f"ratio {help_time / baseline:5.1f}x baseline  goal < 0.5 s: {verdict}")
    for game in GAMES:
        with tempfile.TemporaryDirectory() as cache:
            env = {**base_env, "GANDYN_CACHE_DIR": cache}
            cmd = [py, "-m", "gandyn", "derive", "--game", game]
            # Cold: a fresh cache directory for every run.
            cold_runs = []
            for _ in range(args.repeat):
                with tempfile.TemporaryDirectory() as fresh:
                    cold_runs.append(_time(cmd, {**base_env, "GANDYN_CACHE_DIR": fresh}, 1))
            cold = statistics.median(cold_runs)
            _time(cmd, env, 1)  # fill the cache
            warm = _time(cmd, env, args.repeat)
        verdict = "ok" if cold < 2.0 else "SLOW"
        print(f"gandyn derive --game {game:<13} cold {cold:6.3f} s ({cold / baseline:5.1f}x)  "
              f"warm {warm:6.3f} s ({warm / baseline:5.1f}x)  warm/cold {warm / cold:4.2f}  "
              f"goal < 2 s: {verdict}")


if __name__ == "__main__":
    main()
