"""Speed of the gradient flow: gandyn's ``simulate_flow`` against ``solve_ivp`` written by hand.

The Dirac-GAN with the minimax loss (data at ``c = 0``), a batch of starts
integrated as one stacked system. Prints, in one run, the wall time of

* gandyn (:func:`gandyn.dynamics.flow.simulate_flow` with the derived field:
  the runs stacked into one system, a divergence check after every solver step
  (no run diverges here), the states on ``n_eval`` uniform times and the five
  logged losses at each of them);
* (a) :func:`scipy.integrate.solve_ivp` on the same stacked system, with the
  same method, tolerances and ``t_eval``, its right-hand side a plain numpy
  field written by hand, and the same five losses computed by hand at the
  recorded states: the same work without the divergence check;

and the ratio (a) / gandyn (goal >= 0.5, i.e. within 2x). Then the fixed-step
classic RK4 (``method="rk4"``) against the same four-stage loop written by hand
in numpy over the same steps, with the losses at the recorded states.

Run ``python benchmarks/bench_flow.py [--runs 1000] [--t-end 20] [--n-eval 201]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.integrate import solve_ivp
from scipy.special import expit, log_expit

from gandyn.derivation.field import derive
from gandyn.dynamics.flow import simulate_flow
from gandyn.games.game import make_game

C = 0.0  # the data's location; the derived field keeps its term, so the baseline does too
RTOL, ATOL = 1e-8, 1e-10


def field(x: np.ndarray) -> np.ndarray:
    """F = (psi s(psi theta), c s(-c psi) - theta s(psi theta)) for a batch ``(B, 2)``."""
    theta, psi = x[:, 0], x[:, 1]
    s = expit(psi * theta)
    return np.stack([psi * s, C * expit(-C * psi) - theta * s], axis=1)


def losses(x: np.ndarray) -> np.ndarray:
    """d_real, d_fake, g_loss, d_x, d_gz at states ``(..., 2)``: the game's logged terms."""
    theta, psi = x[..., 0], x[..., 1]
    logit = psi * theta
    return np.stack([-log_expit(C * psi), -log_expit(-logit), log_expit(-logit),
                     expit(C * psi), expit(logit)], axis=-1)


def hand_solve_ivp(x0: np.ndarray, t_end: float, n_eval: int) -> tuple[np.ndarray, np.ndarray]:
    """``solve_ivp`` on the stacked system; states ``(B, n_eval, 2)`` and their losses."""
    batch = x0.shape[0]

    def rhs(_t: float, y: np.ndarray) -> np.ndarray:
        return field(y.reshape(batch, 2)).ravel()

    t_eval = np.linspace(0.0, t_end, n_eval)
    sol = solve_ivp(rhs, (0.0, t_end), x0.ravel(), method="RK45", t_eval=t_eval,
                    rtol=RTOL, atol=ATOL)
    xs = sol.y.reshape(batch, 2, n_eval).transpose(0, 2, 1)
    return xs, losses(xs)


def hand_rk4(x0: np.ndarray, t_end: float, n_eval: int, per_record: int
             ) -> tuple[np.ndarray, np.ndarray]:
    """Classic RK4 with ``per_record`` steps between records; states and losses."""
    h = t_end / ((n_eval - 1) * per_record)
    xs = np.empty((n_eval, *x0.shape))
    xs[0] = y = x0.copy()
    for k in range(1, n_eval):
        for _ in range(per_record):
            k1 = field(y)
            k2 = field(y + 0.5 * h * k1)
            k3 = field(y + 0.5 * h * k2)
            k4 = field(y + h * k3)
            y = y + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        xs[k] = y
    xs = xs.swapaxes(0, 1)
    return xs, losses(xs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--t-end", type=float, default=20.0)
    parser.add_argument("--n-eval", type=int, default=201)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many timings")
    parser.add_argument("--per-record", type=int, default=10, help="rk4 steps between records")
    args = parser.parse_args()
    vf = derive(make_game("dirac", "minimax", params={"c": C}))
    names = tuple(s.name for s in vf.game.state_symbols)
    x0 = np.random.default_rng(0).uniform(-2.0, 2.0, size=(args.runs, 2))
    vf.field_fn(x0[:2])  # compile outside the timing
    vf.logged_fn(x0[:2])

    def best(work: object) -> tuple[float, object]:
        times, out = [], None
        for _ in range(args.repeat):
            start = time.perf_counter()
            out = work()  # type: ignore[operator]
            times.append(time.perf_counter() - start)
        return min(times), out

    def gandyn(method: str, **extra: object) -> object:
        return simulate_flow(vf.field_fn, vf.jacobian_fn, vf.logged_fn, x0, t_end=args.t_end,
                             n_eval=args.n_eval, method=method, rtol=RTOL, atol=ATOL,
                             state_names=names, logged_names=vf.logged_names,
                             **extra)  # type: ignore[arg-type]

    t_gandyn, traj = best(lambda: gandyn("RK45"))
    t_hand, (xs, ls) = best(lambda: hand_solve_ivp(x0, args.t_end, args.n_eval))  # type: ignore[misc]
    assert np.allclose(traj.x, xs, rtol=1e-9, atol=1e-9), "the flows differ"  # type: ignore[attr-defined]
    assert np.allclose(traj.logged, ls, rtol=1e-9, atol=1e-9), "the losses differ"  # type: ignore[attr-defined]
    h = args.t_end / ((args.n_eval - 1) * args.per_record)
    t_rk4, traj4 = best(lambda: gandyn("rk4", step_size=h))
    t_hand4, (xs4, ls4) = best(lambda: hand_rk4(x0, args.t_end, args.n_eval,  # type: ignore[misc]
                                                args.per_record))
    assert np.allclose(traj4.x, xs4, rtol=1e-12, atol=1e-12), "the RK4 steps differ"  # type: ignore[attr-defined]
    assert np.allclose(traj4.logged, ls4, rtol=1e-12, atol=1e-12), "the RK4 losses differ"  # type: ignore[attr-defined]

    print(f"gradient flow of the Dirac-GAN (minimax): {args.runs} runs stacked, t_end "
          f"{args.t_end:g}, {args.n_eval} recorded times, best of {args.repeat}")
    print(f"  gandyn simulate_flow RK45     {t_gandyn * 1e3:9.1f} ms")
    print(f"  (a) hand-written solve_ivp    {t_hand * 1e3:9.1f} ms   (a)/gandyn = "
          f"{t_hand / t_gandyn:5.2f}  (goal >= 0.5)")
    print(f"  gandyn simulate_flow rk4      {t_rk4 * 1e3:9.1f} ms   ({args.per_record} steps "
          f"of h = {h:g} between records)")
    print(f"  (b) hand-written RK4 loop     {t_hand4 * 1e3:9.1f} ms   (b)/gandyn = "
          f"{t_hand4 / t_rk4:5.2f}  (goal >= 0.5)")


if __name__ == "__main__":
    main()
