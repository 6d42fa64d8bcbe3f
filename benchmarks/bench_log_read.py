"""Speed of reading training logs: rows per second against a bare baseline.

Prints, in one run, for a log of ``--rows`` records in each of two formats,
the rows per second of

* gandyn (:func:`gandyn.explain.logs.read_log`: detection, parsing, naming the
  series, deriving the step, skipping and counting unusable rows),
* a baseline that does the same parsing work and no more:
  ``numpy.loadtxt`` of the whole CSV into floats; for the printed lines, one
  compiled regular expression with a group per number, ``findall`` over the
  text, and the captured strings converted to floats by numpy,

and the ratio gandyn / baseline. The logs are

* CSV: ``step,d_real,d_fake,g_loss,d_x,d_gz`` (the layout of examples/logs/losses.csv),
* printed: PyTorch-GAN's ``[Epoch e/200] [Batch i/938] [D loss: x] [G loss: y]``.

Goal (issue #12): 10^6 rows of each read in well under 5 s on one core; the
ratio shows how much of that is gandyn's own work. Timings are the best of
``--repeat`` runs, so that other work on the machine disturbs them less.

Run ``python benchmarks/bench_log_read.py [--rows 1000000] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import io
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from gandyn.explain.logs import read_log

_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"


def csv_text(rows: int, rng: np.random.Generator) -> str:
    values = rng.uniform(0.05, 3.0, size=(rows, 5))
    body = "\n".join(f"{k},{a:.6f},{b:.6f},{c:.6f},{d:.6f},{e:.6f}"
                     for k, (a, b, c, d, e) in enumerate(values))
    return "step,d_real,d_fake,g_loss,d_x,d_gz\n" + body + "\n"


def printed_text(rows: int, rng: np.random.Generator) -> str:
    values = rng.uniform(0.05, 3.0, size=(rows, 2))
    return "".join(f"[Epoch {k // 938}/200] [Batch {k % 938}/938] [D loss: {d:.6f}] "
                   f"[G loss: {g:.6f}]\n" for k, (d, g) in enumerate(values))


def baseline_csv(text: str) -> np.ndarray:
    return np.loadtxt(io.StringIO(text), delimiter=",", skiprows=1)


_PRINTED = re.compile(rf"\[Epoch ({_NUMBER})/({_NUMBER})\] \[Batch ({_NUMBER})/({_NUMBER})\] "
                      rf"\[D loss: ({_NUMBER})\] \[G loss: ({_NUMBER})\]")


def baseline_printed(text: str) -> np.ndarray:
    return np.array(_PRINTED.findall(text), dtype=np.float64)


def best(function: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as folder:
        for name, make, baseline in (("CSV", csv_text, baseline_csv),
                                     ("printed", printed_text, baseline_printed)):
            text = make(args.rows, rng)
            path = Path(folder) / f"log-{name}.txt"
            path.write_text(text, encoding="utf-8")
            log = read_log(path)
            assert log.n_rows == args.rows, (name, log.n_rows)
            ours = best(lambda p=path: read_log(p), args.repeat)
            # The baseline gets the text already in memory: reading the file is gandyn's extra.
            theirs = best(lambda t=text, b=baseline: b(t), args.repeat)
            print(f"{name:8s} {args.rows} rows: gandyn {ours:6.2f} s ({args.rows / ours:,.0f} "
                  f"rows/s), baseline {theirs:6.2f} s ({args.rows / theirs:,.0f} rows/s), "
                  f"ratio {ours / theirs:.2f}")


if __name__ == "__main__":
    main()
