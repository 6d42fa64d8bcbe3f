"""Throughput of batched simulation against the same loops written by hand in numpy.

For each game (the Dirac-GAN, ``dirac``, and the Gaussian game, ``gaussian``, both
with the minimax loss at their default hyper-parameters), each rule (``simgd``,
``adam``, ``extragradient``, ``lr_g = lr_d``) and each batch size, it times, in
the same process and alternately:

* gandyn: :func:`gandyn.dynamics.discrete.simulate_rule` with the derived
  field (divergence checks, recording of states and logged losses included);
* hand: the same map written out in plain vectorized numpy, one array per
  coordinate (the Gaussian game's quadrature nodes, of the order its derivation
  uses, as ``(order, B)`` arrays summed with ``np.dot``), allocating as plain
  numpy code does.

What each hand baseline computes, so that its time is the work gandyn must do
and no more:

* the field at the default values with their vanishing terms left out: the
  Dirac-GAN's data term ``c sigmoid(-c psi)`` is absent at ``c = 0`` (gandyn
  writes integer-valued hyper-parameters into its code, so it drops the term
  too), and the Gaussian game's data nodes are numbers at ``mu = 0,
  sigma = 1``;
* the sigmoid as ``1 / (1 + exp(-z))`` and the softplus as ``max(z, 0) +
  log1p(exp(-|z|))``, the forms gandyn's numpy code uses;
* the rule's update in its textbook form (no divergence check: the hand
  loops are a floor that gandyn's checks must fit under);
* mode ``final``: the states and the logged losses (``d_real``, ``d_fake``,
  ``g_loss``, ``d_x``, ``d_gz``) at step 0 and the last step; mode ``every``:
  at every step, into ``(steps, n, B)`` arrays (the layout cheapest for the
  hand loop; gandyn returns the ``(B, steps, n)`` of its trajectories).

The final states of the two must agree (``rtol = 1e-6``: Adam divides by the
root of the gradient's second moment, so over hundreds of steps it magnifies the
last-digit differences of two ways of summing the quadrature), so the ratio
compares equal results. It prints run-steps per second of each (the best of
``--repeat`` timings, the two taking turns to go first, since the first to touch
freshly mapped memory pays for it) and the ratio gandyn / hand (goal: >= 0.7
from 10^4 runs), and the load average before and after.

Run ``python benchmarks/bench_simulate.py [--runs 1000 10000 100000] [--steps 100]
[--games dirac gaussian] [--rules simgd adam extragradient] [--modes final every]``.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np

# This benchmark measures the numpy path: without it, numba (the `fast` extra) would compile
# large runs (GANDYN_BACKEND=auto); bench_compiled.py measures that one.
os.environ["GANDYN_BACKEND"] = "numpy"

from gandyn.derivation.field import VectorField, derive
from gandyn.dynamics.discrete import simulate_rule
from gandyn.games.game import make_game
from gandyn.rules import FieldFunctions, make_rule

#: The clock of every timing: wall time by default; ``--clock cpu`` takes this process's CPU
#: time (user + system, page faults included), which a machine loaded by other processes
#: disturbs far less.
CLOCK = time.perf_counter

Array = np.ndarray[Any, np.dtype[np.float64]]
LR = {"dirac": 0.1, "gaussian": 0.05}
ADAM = {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8}


def sigmoid(z: Array) -> Array:
    return 1.0 / (1.0 + np.exp(-z))


def softplus(z: Array) -> Array:
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


# --- the games by hand: field and logged losses on coordinate-first states (n, B) -------------


def dirac_field(x: Array) -> Array:
    """``F = (psi s(psi theta), -theta s(psi theta))``: the minimax Dirac-GAN at ``c = 0``."""
    theta, psi = x
    s = sigmoid(psi * theta)
    return np.stack([psi * s, -theta * s])


def dirac_logged(x: Array, out: Array) -> None:
    theta, psi = x
    logit = psi * theta
    fake = softplus(logit)
    out[0] = np.log(2.0)  # d_real = softplus(-c psi) at c = 0
    out[1] = fake
    out[2] = -fake
    out[3] = 0.5  # d_x = sigmoid(c psi)
    out[4] = sigmoid(logit)


_UC = np.zeros((1, 1))  # the Gauss-Hermite nodes as a column, set by use_order()
_W = np.zeros(1)  # their weights for expectations under N(0, 1)
_DATA_LOGIT = (_UC, _UC)


def use_order(order: int) -> None:
    """Gauss-Hermite nodes and weights of the derived game's order (for ``exp(-u^2 / 2)``)."""
    global _UC, _W, _DATA_LOGIT
    nodes, weights = np.polynomial.hermite_e.hermegauss(order)
    _UC, _W = nodes[:, None], weights / np.sqrt(2.0 * np.pi)
    _DATA_LOGIT = (_UC, _UC**2)  # the data's nodes at mu = 0, sigma = 1: numbers


def quadrature_order(vf: VectorField) -> int:
    """The order of the Gauss-Hermite rule in the derived game's field."""
    from gandyn.symbolic.expectations import GaussHermite

    return max(int(q.args[2]) for f in vf.field for q in f.atoms(GaussHermite))


def gaussian_field(x: Array) -> Array:
    """The minimax Gaussian game: generator ``mu + sigma z``, logit ``psi . (1, x, x^2)``."""
    mu, sigma, p0, p1, p2 = x
    g = mu + sigma * _UC  # (order, B) generated samples at the nodes
    s = sigmoid(p0 + p1 * g + p2 * g * g)
    dz = (p1 + 2.0 * p2 * g) * s  # d logit / d g, times s
    r = sigmoid(-(p0 + p1 * _DATA_LOGIT[0] + p2 * _DATA_LOGIT[1]))  # real samples
    return np.stack([
        _W @ dz, _W @ (_UC * dz),
        _W @ r - _W @ s,
        _W @ (_DATA_LOGIT[0] * r) - _W @ (g * s),
        _W @ (_DATA_LOGIT[1] * r) - _W @ (g * g * s),
    ])


def gaussian_logged(x: Array, out: Array) -> None:
    mu, sigma, p0, p1, p2 = x
    g = mu + sigma * _UC
    fake = p0 + p1 * g + p2 * g * g
    real = p0 + p1 * _DATA_LOGIT[0] + p2 * _DATA_LOGIT[1]
    out[0] = _W @ softplus(-real)
    out[1] = _W @ softplus(fake)
    out[2] = -out[1]
    out[3] = _W @ sigmoid(real)
    out[4] = _W @ sigmoid(fake)


HAND: dict[str, tuple[Callable[[Array], Array], Callable[[Array, Array], None]]] = {
    "dirac": (dirac_field, dirac_logged), "gaussian": (gaussian_field, gaussian_logged)}


def hand_loop(game: str, rule: str, x0: Array, steps: int, every: bool, lr: float
              ) -> tuple[Array, Array, Array]:
    """The hand-written simulation: final state ``(n, B)`` and the recorded states and losses."""
    field, logged = HAND[game]
    x = x0.T.copy()
    n, batch = x.shape
    records = steps + 1 if every else 2
    xs = np.empty((records, n, batch))
    ls = np.empty((records, 5, batch))
    xs[0] = x
    logged(x, ls[0])
    m = np.zeros_like(x)
    v = np.zeros_like(x)
    for k in range(1, steps + 1):
        if rule == "simgd":
            x = x + lr * field(x)
        elif rule == "extragradient":
            y = x + lr * field(x)
            x = x + lr * field(y)
        else:
            g = -field(x)
            m = ADAM["beta1"] * m + (1 - ADAM["beta1"]) * g
            v = ADAM["beta2"] * v + (1 - ADAM["beta2"]) * g * g
            c1, c2 = 1 - ADAM["beta1"] ** k, 1 - ADAM["beta2"] ** k
            x = x - lr * (m / c1) / (np.sqrt(v / c2) + ADAM["eps"])
        if every:
            xs[k] = x
            logged(x, ls[k])
    if not every:
        xs[1] = x
        logged(x, ls[1])
    return x, xs, ls


def starts(game: str, runs: int) -> Array:
    rng = np.random.default_rng(0)
    if game == "dirac":
        return rng.normal(size=(runs, 2))
    x = np.empty((runs, 5))
    x[:, 0] = 0.5 * rng.normal(size=runs)
    x[:, 1] = 1.0 + 0.2 * rng.normal(size=runs)
    x[:, 2:] = 0.2 * rng.normal(size=(runs, 3))
    return x


def gandyn_run(vf: VectorField, rule: str, x0: Array, steps: int, every: bool, lr: float
               ) -> Any:
    made = make_rule(rule, lr, lr, **(ADAM if rule == "adam" else {}))
    game = FieldFunctions(vf.field_fn, vf.jacobian_fn, len(vf.game.theta))
    names = tuple(s.name for s in vf.game.state_symbols)
    return simulate_rule(made, game, vf.logged_fn, x0, steps, every=1 if every else steps,
                         state_names=names, logged_names=vf.logged_names)


def timed(repeat: int, fn: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    best, result = np.inf, None
    for _ in range(repeat):
        start = CLOCK()
        result = fn(*args)
        best = min(best, CLOCK() - start)
    return result, best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--games", nargs="+", default=["dirac", "gaussian"])
    parser.add_argument("--rules", nargs="+", default=["simgd", "adam", "extragradient"])
    parser.add_argument("--modes", nargs="+", default=["final", "every"])
    parser.add_argument("--repeat", type=int, default=3, help="best of this many timings")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                        help="wall time, or this process's CPU time (steadier on a loaded machine)")
    args = parser.parse_args()
    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    print(f"load before: {os.getloadavg()}")
    print(f"{'game':9} {'rule':13} {'runs':>7} {'mode':6} {'gandyn':>10} {'hand':>10} "
          f"{'ratio':>6}   (run-steps/s; {args.steps} steps, best of {args.repeat}, "
          f"{args.clock} clock)")
    for game_name in args.games:
        vf = derive(make_game(game_name, "minimax"))
        if game_name == "gaussian":
            use_order(quadrature_order(vf))
        lr = LR[game_name]
        for rule in args.rules:
            for runs in args.runs:
                x0 = starts(game_name, runs)
                gandyn_run(vf, rule, x0[:4], 2, True, lr)  # compile outside the timing
                for mode in args.modes:
                    every = mode == "every"
                    t_gandyn = t_hand = np.inf
                    for r in range(args.repeat):
                        # alternate who goes first: the first to touch fresh memory pays for it
                        for who in (("gandyn", "hand") if r % 2 == 0 else ("hand", "gandyn")):
                            if who == "gandyn":
                                traj, t = timed(1, gandyn_run, vf, rule, x0, args.steps, every,
                                                lr)
                                t_gandyn = min(t_gandyn, t)
                                final = traj.x[:, -1].copy()
                                assert not traj.diverged.any(), "a run diverged: milder starts"
                                del traj
                            else:
                                hand, t = timed(1, hand_loop, game_name, rule, x0, args.steps,
                                                every, lr)
                                t_hand = min(t_hand, t)
                                hand_final = hand[0].T.copy()
                                del hand
                    np.testing.assert_allclose(final, hand_final, rtol=1e-6, atol=1e-9)
                    work = runs * args.steps
                    print(f"{game_name:9} {rule:13} {runs:7d} {mode:6} {work / t_gandyn:10.3g} "
                          f"{work / t_hand:10.3g} {t_hand / t_gandyn:6.2f}", flush=True)
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
