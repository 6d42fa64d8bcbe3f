"""Time of ``gandyn explain --log`` on long CSV logs, against numpy doing the same arithmetic.

For logs of 10^5 and 10^6 rows (a seeded random walk of the fake logit,
written as ``step,d_real,d_fake,g_loss``), prints the wall-clock time of

* gandyn, end to end: :func:`gandyn.explain.explain_log` (reading, cleaning,
  the analysis with every estimator, the bootstrap error of the verdict) and
  the JSON document and text it prints;
* a baseline measured in the same run that does the same arithmetic by hand
  in numpy and no more: reading the columns with ``np.loadtxt``, recovering
  ``p`` and ``l`` from the losses, the centred running means by cumulative
  sums, the detrended and differenced spreads and the ratios;

and the ratio gandyn / baseline, with gandyn's time split into reading the
file and the analysis. Goal: 10^6 rows in under 5 s on one core,
and a ratio that stays flat from 10^5 to 10^6 (linear time).

Run ``python benchmarks/bench_explain.py [--sizes 100000,1000000]``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from gandyn.explain import explain_log
from gandyn.explain.from_log import explain_training_log
from gandyn.explain.logs import read_log


def write_log(path: Path, n: int) -> None:
    """A log of ``n`` rows: a slow random walk of the fake logit plus fast noise."""
    rng = np.random.default_rng(0)
    logit = -2.0 + 0.002 * np.cumsum(rng.standard_normal(n)) + 0.3 * rng.standard_normal(n)
    real = 2.0 + 0.3 * rng.standard_normal(n)
    table = np.column_stack([np.arange(n), np.logaddexp(0.0, -real), np.logaddexp(0.0, logit),
                             np.logaddexp(0.0, -logit)])
    np.savetxt(path, table, fmt=["%d", "%.6f", "%.6f", "%.6f"], delimiter=",",
               header="step,d_real,d_fake,g_loss", comments="")


def _running_mean(x: np.ndarray, w: int) -> np.ndarray:
    c = np.concatenate([[0.0], np.cumsum(x - x.mean())])
    return (c[w:] - c[:-w]) / w + x.mean()


def baseline(path: Path) -> float:
    """The same arithmetic by hand: read, recover p and l, detrend, spreads, ratios."""
    _, _, d, g = np.loadtxt(path, delimiter=",", skiprows=1, unpack=True)
    n = d.size
    w = max(5, n // 20) | 1
    half = w // 2
    p = np.where(np.exp(-g) < 0.5, np.exp(-g), -np.expm1(-d))
    l_t = np.where(np.exp(-g) < 0.5, -np.log(np.expm1(g)), np.log(np.expm1(d)))
    det = {k: v[half:n - half] - _running_mean(v, w) for k, v in (("d", d), ("g", g))}
    dl = l_t[half:n - half] - _running_mean(l_t, w)
    p_local = _running_mean(p, w)
    measured = np.std(det["g"]) / np.std(det["d"])
    diff = np.std(np.diff(g)) / np.std(np.diff(d))
    predicted = (np.sqrt(np.mean(((1 - p_local) * dl) ** 2))
                 / np.sqrt(np.mean((p_local * dl) ** 2)))
    return float(measured + diff + predicted)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            path = Path(tmp) / f"log{n}.csv"
            write_log(path, n)
            start = time.perf_counter()
            baseline(path)
            t_base = time.perf_counter() - start
            start = time.perf_counter()
            explanation = explain_log(path)
            json.dumps(explanation.to_dict())
            explanation.to_text()
            t_gandyn = time.perf_counter() - start
            # Where the time goes: the reader (gandyn.explain.logs) and the analysis.
            start = time.perf_counter()
            log = read_log(path)
            t_read = time.perf_counter() - start
            start = time.perf_counter()
            explain_training_log(log)
            t_analysis = time.perf_counter() - start
            print(f"{n:>9} rows: gandyn {t_gandyn:6.2f} s (reading {t_read:.2f} s, analysis "
                  f"{t_analysis:.2f} s), numpy by hand {t_base:6.2f} s, ratio "
                  f"{t_gandyn / t_base:5.2f} (verdict {explanation.report.verdict})")


if __name__ == "__main__":
    main()
