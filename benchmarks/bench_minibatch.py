"""Minibatch runs: the compiled loop against a hand numpy loop with the same draws and work.

For each game (the Dirac-GAN with instance noise and R1, the Gaussian game; the
non-saturating loss), number of runs and minibatch size, it times in one process

* ``compiled``: :func:`gandyn.dynamics.minibatch.simulate_minibatch` with
  ``backend='compiled'``, its kernel built before the timing; simultaneous
  gradient descent, states and losses recorded at every step;
* ``hand``: the loop a numpy user would write for the same run: per step a D
  batch and a G batch for every run from the same ``Generator``
  (:meth:`~gandyn.dynamics.minibatch.MinibatchField.draw`), the per-sample
  gradients and losses evaluated on them and averaged
  (:meth:`~gandyn.dynamics.minibatch.MinibatchField.on_draws`, the numpy path's
  lambdified expressions), the step ``x + h F``, the max-norm check, and the
  state and the losses stored;
* ``numpy``: gandyn's own numpy path (``backend='numpy'``), which also draws
  the log stream's batch at every record;

and prints the seconds (best of ``--repeat``, the three interleaved), the
ratios hand / compiled and numpy / compiled, and whether the compiled and numpy
paths agree bit for bit. The machine's load (``os.getloadavg``) is printed with
them.

Run ``python benchmarks/bench_minibatch.py [--runs 1,100] [--batch 16,64]
[--steps 500] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import numpy as np

from gandyn.dynamics.minibatch import MinibatchField, simulate_minibatch
from gandyn.games.game import make_game

LR = 0.05
GAMES: dict[str, Any] = {
    "dirac+noise": ("dirac", [("instance-noise", {"sigma": 0.4}), ("r1", {"gamma": 0.3})], None),
    "gaussian": ("gaussian", [], {"order": 40}),
}


def _starts(game: Any, runs: int) -> np.ndarray:
    n = len(game.state_symbols)
    x = np.random.default_rng(0).uniform(-0.5, 0.5, size=(runs, n))
    if game.name == "gaussian":
        x[:, 1] = 1.0  # theta_sigma
        x[:, 4] = 0.02  # psi_2 small
    return x


def hand_loop(game: Any, x0: np.ndarray, steps: int, batch: int, seed: int) -> np.ndarray:
    """The same run in plain numpy: same draws, same evaluation, every step recorded."""
    field = MinibatchField(game, batch, seed=seed)
    x = x0.copy()
    runs, n = x.shape
    xs = np.empty((steps + 1, runs, n))
    ls = np.empty((steps + 1, runs, len(field.logged_names)))
    xs[0] = x
    alive = np.ones(runs, dtype=bool)
    with np.errstate(all="ignore"):
        for k in range(1, steps + 1):
            draws_d = field.draw(runs, batch, field.rng)
            draws_g = field.draw(runs, batch, field.rng)
            f, logged = field.on_draws(x, draws_d, draws_g)
            new = x + LR * f
            ok = np.all(np.abs(new) <= 1e6, axis=1)
            alive &= ok
            x = np.where(alive[:, None], new, x)
            xs[k], ls[k] = x, logged
    return x


def _compiled(game: Any, x0: np.ndarray, steps: int, batch: int, backend: str) -> Any:
    return simulate_minibatch(game, "simgd", LR, LR, x0, steps, batch_size=batch, seed=1,
                              backend=backend)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="1,100")
    parser.add_argument("--batch", default="16,64")
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()}")
    print(f"{'game':12s} {'runs':>5s} {'batch':>5s} {'compiled s':>10s} {'hand s':>8s} "
          f"{'numpy s':>8s} {'hand/comp':>9s} {'numpy/comp':>10s} same")
    for label, (name, regs, options) in GAMES.items():
        game = make_game(name, "non-saturating", regs, options=options)
        _compiled(game, _starts(game, 2), 2, 2, "compiled")  # build the kernel first
        for runs in (int(r) for r in args.runs.split(",")):
            x0 = _starts(game, runs)
            for batch in (int(b) for b in args.batch.split(",")):
                best = {"compiled": np.inf, "hand": np.inf, "numpy": np.inf}
                results: dict[str, Any] = {}
                for _ in range(args.repeat):  # interleaved: the load hits all three alike
                    for which in best:
                        start = time.perf_counter()
                        if which == "hand":
                            hand_loop(game, x0, args.steps, batch, seed=1)
                        else:
                            results[which] = _compiled(game, x0, args.steps, batch, which)
                        best[which] = min(best[which], time.perf_counter() - start)
                same = all(np.array_equal(getattr(results["compiled"], a),
                                          getattr(results["numpy"], a), equal_nan=True)
                           for a in ("x", "logged", "diverged_at"))
                print(f"{label:12s} {runs:5d} {batch:5d} {best['compiled']:10.3f} "
                      f"{best['hand']:8.3f} {best['numpy']:8.3f} "
                      f"{best['hand'] / best['compiled']:9.1f} "
                      f"{best['numpy'] / best['compiled']:10.1f} {same}")
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
