"""The compiled backend against a C -O3 loop: run-steps per second and their ratio.

For each game (the Dirac-GAN and the Gaussian game, minimax loss), rule
(``simgd``, ``adam``, ``extragradient``, ``omd``, ``unrolled`` with its default
five look-ahead steps), number of runs and recording mode
(``final``: the final states and losses only; ``every``: states and losses at
every step), it times in one process

* gandyn's compiled path: :func:`gandyn.dynamics.discrete.simulate_rule` with
  ``backend='compiled'``, its kernel compiled (and cached) before the timing,
  output arrays, divergence checks and the Trajectory included;
* the C baseline: the same map in C, written here from the same derived
  expressions (``sympy.ccode`` after common subexpression elimination, the
  logistic functions in the same stable forms), compiled with ``gcc -O3`` and
  called through ctypes. It computes the same work and no more: steps outer,
  runs inner (states and buffers kept in ``(B, n)`` arrays), the rule's step,
  the max-norm check that freezes a diverged run, and on the recording grid the
  states and the logged losses written to ``(B, S, n)`` and ``(B, S, k)``
  arrays;

prints the largest difference of the final states relative to their scale
(the C sums run in ``sympy.ccode``'s order, so they agree to rounding) and the
ratio compiled / C (goal >= 0.5). Without a C compiler the baseline is skipped
with the reason. Timings are the best of ``--repeat`` runs.

Run ``python benchmarks/bench_compiled.py [--runs 1000,10000,100000]
[--steps 1000] [--every-steps 100]``.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import shutil
import subprocess
import tempfile
import time
from typing import Any

import numpy as np
import sympy as sp

from gandyn.derivation.field import derive
from gandyn.dynamics.discrete import simulate_rule
from gandyn.games.game import make_game
from gandyn.rules import FieldFunctions, make_rule
from gandyn.symbolic.expectations import expand_quadrature

LR = 0.05
RULES = ("simgd", "adam", "extragradient", "omd", "unrolled")
GAMES = ("dirac", "gaussian")

_C_HELPERS = """
#include <math.h>
#include <string.h>
static inline double softplus(double x) {  /* numpy's logaddexp(0, x) */
    if (x == 0.0) return 0.6931471805599453094;
    double t = 0.0 - x;
    if (t > 0) return log1p(exp(-t));
    if (t <= 0) return x + log1p(exp(t));
    return t;
}
static inline double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }
static inline double log_sigmoid(double x) {
    return x < 0 ? x - log1p(exp(x)) : -log1p(exp(-x));
}
"""


def _c_function(name: str, exprs: list[sp.Expr], state: list[sp.Symbol],
                params: list[sp.Symbol]) -> str:
    """``static inline void name(const double *x, const double *p, double *out)``."""
    flat = [expand_quadrature(e) for e in exprs]
    cses, reduced = sp.cse(flat)
    rename = {s: sp.Symbol(f"x[{i}]") for i, s in enumerate(state)}
    rename.update({s: sp.Symbol(f"p[{j}]") for j, s in enumerate(params)})
    functions = {"softplus": "softplus", "sigmoid": "sigmoid", "log_sigmoid": "log_sigmoid"}
    lines = [f"static inline void {name}(const double *x, const double *p, double *out) {{"]
    for symbol, expr in cses:
        code = sp.ccode(expr.xreplace(rename), user_functions=functions)
        lines.append(f"    const double {symbol} = {code};")
    for i, expr in enumerate(reduced):
        code = sp.ccode(sp.sympify(expr).xreplace(rename), user_functions=functions)
        lines.append(f"    out[{i}] = {code};")
    return "\n".join(lines) + "\n}\n"


def _c_step(rule: str, n: int, n_theta: int) -> str:
    """One step of run ``b`` from ``xb`` (and buffers ``mb``, ``vb``) into ``nx``."""
    h = [("hg[b]" if i < n_theta else "hd[b]") for i in range(n)]
    if rule == "omd":
        # y = x + h F(y_prev), x' = x + h F(y); mb = y_prev, vb = F(y_prev) (kept, as the
        # compiled loop keeps it: one field evaluation per step)
        return ("".join(f"y[{i}] = xb[{i}] + {h[i]} * vb[{i}];\n" for i in range(n))
                + "field(y, p, G);\n"
                + "".join(f"nx[{i}] = xb[{i}] + {h[i]} * G[{i}];\n" for i in range(n))
                + f"memcpy(nm, y, {n} * sizeof(double)); memcpy(nv, G, {n} * sizeof(double));\n")
    if rule == "unrolled":
        # Metz et al. (2017), Sec. 2.3: cfg[0] look-ahead steps of psi with rate lr_d and
        # the sensitivity S = d psi_k / dx; the generator's gradient through them
        m = n - n_theta
        return f"""{{ double uy[{n}], S[{m * n}], T[{m * n}], J[{n * n}], C[{n}], D[{n}], g[{n}];
  const long K = (long)cfg[0];
  memcpy(uy, xb, {n} * sizeof(double));
  for (long a = 0; a < {m}; a++) for (long j = 0; j < {n}; j++) S[a * {n} + j] = j == {n_theta} + a;
  for (long u = 0; u < K; u++) {{
    jacobian(uy, p, J);
    for (long a = 0; a < {m}; a++) for (long j = 0; j < {n}; j++) {{
      double s = 0.0;
      for (long r = 0; r < {n}; r++)
        s += J[({n_theta} + a) * {n} + r]
             * (r < {n_theta} ? (double)(r == j) : S[(r - {n_theta}) * {n} + j]);
      T[a * {n} + j] = s;
    }}
    for (long q = 0; q < {m * n}; q++) S[q] += hd[b] * T[q];
    field(uy, p, F);
    for (long a = 0; a < {m}; a++) uy[{n_theta} + a] += hd[b] * F[{n_theta} + a];
  }}
  field(uy, p, F);
  for (long t = 0; t < {n_theta}; t++) g[t] = -F[t];
  if (K > 0) {{
    cross(uy, p, C);
    for (long t = 0; t < {n_theta}; t++) {{
      double s = 0.0;
      for (long a = 0; a < {m}; a++) s += S[a * {n} + t] * C[{n_theta} + a];
      g[t] += s;
    }}
  }}
  field(xb, p, D);
  for (long i = 0; i < {n}; i++) nx[i] = xb[i] + (i < {n_theta} ? hg[b] * -g[i] : hd[b] * D[i]);
}}
"""
    if rule == "simgd":
        return "field(xb, p, F);\n" + "".join(
            f"nx[{i}] = xb[{i}] + {h[i]} * F[{i}];\n" for i in range(n))
    if rule == "extragradient":
        return ("field(xb, p, F);\n"
                + "".join(f"y[{i}] = xb[{i}] + {h[i]} * F[{i}];\n" for i in range(n))
                + "field(y, p, G);\n"
                + "".join(f"nx[{i}] = xb[{i}] + {h[i]} * G[{i}];\n" for i in range(n)))
    if rule == "adam":
        return "field(xb, p, F);\n" + "".join(
            f"{{ double g = -F[{i}];\n"
            f"  nm[{i}] = cfg[0] * mb[{i}] + cfg[1] * g;\n"
            f"  nv[{i}] = cfg[2] * vb[{i}] + cfg[3] * g * g;\n"
            f"  nx[{i}] = xb[{i}] - {h[i]} * (nm[{i}] / c1) / (sqrt(nv[{i}] / c2) + cfg[4]); }}\n"
            for i in range(n))
    raise ValueError(rule)


def c_source(rule: str, vf: Any) -> str:
    """The C baseline for ``rule`` on the derived game ``vf``: steps outer, runs inner."""
    game = vf.game
    state, params = list(game.state_symbols), list(game.param_values)
    n, k = len(state), len(game.logged)
    buffers = 2 if rule in ("adam", "omd") else 0
    # omd: the buffers start at x0 and F(x0)
    prepare = ("for (long b = 0; b < B; b++) { memcpy(BUF + 2 * b * n, X + b * n, n * "
               "sizeof(double)); field(X + b * n, p, BUF + 2 * b * n + n); }"
               if rule == "omd" else "")
    body = f"""
void run(long B, long steps, long every, double *X, double *BUF, const double *hg,
         const double *hd, const double *p, const double *cfg, const double *C1S,
         const double *C2S, double max_norm, double *XS, double *LS, unsigned char *DIV,
         double *DIV_AT) {{
    const long n = {n}, k = {k}, S = steps / every + (steps % every ? 2 : 1);
    double F[{n}], G[{n}], y[{n}], nx[{n}], nm[{n}], nv[{n}], L[{k}];
    (void)G; (void)y; (void)nm; (void)nv;
    for (long b = 0; b < B; b++) {{
        memcpy(XS + b * S * n, X + b * n, n * sizeof(double));
        logged(X + b * n, p, LS + b * S * k);
    }}
    {prepare}
    for (long step = 1; step <= steps; step++) {{
        const double c1 = C1S[step], c2 = C2S[step];
        (void)c1; (void)c2;
        const int rec = step % every == 0 || step == steps;
        const long slot = step % every == 0 ? step / every : steps / every + 1;
        for (long b = 0; b < B; b++) {{
            double *xb = X + b * n;
            double *mb = BUF + b * {max(buffers, 1)} * n, *vb = mb + n;
            (void)mb; (void)vb;
            if (!DIV[b]) {{
                {_c_step(rule, n, len(game.theta)).replace(chr(10), chr(10) + " " * 16)}
                int ok = 1;
                for (long i = 0; i < n; i++)
                    ok &= fabs(nx[i]) <= max_norm && fabs(nx[i]) != INFINITY;
                if (ok) {{
                    memcpy(xb, nx, n * sizeof(double));
                    if ({buffers}) {{ memcpy(mb, nm, n * sizeof(double));
                                     memcpy(vb, nv, n * sizeof(double)); }}
                }} else {{ DIV[b] = 1; DIV_AT[b] = (double)step; }}
            }}
            if (rec) {{
                memcpy(XS + (b * S + slot) * n, xb, n * sizeof(double));
                logged(xb, p, L);
                memcpy(LS + (b * S + slot) * k, L, k * sizeof(double));
            }}
        }}
    }}
}}
"""
    extra = []
    if rule == "unrolled":
        from gandyn.derivation.player_derivatives import player_derivatives

        extra = [_c_function("jacobian", list(vf.jacobian), state, params),
                 _c_function("cross", list(player_derivatives(vf).cross_gradient), state,
                             params)]
    return "\n".join([_C_HELPERS,
                      _c_function("field", list(vf.field), state, params),
                      _c_function("logged", [e for _, e in game.logged], state, params),
                      *extra, body])


def build_c(source: str, folder: str) -> Any:
    """Compile ``source`` with ``gcc -O3`` into a shared library; its ``run`` via ctypes."""
    path = os.path.join(folder, f"baseline_{abs(hash(source))}.c")
    with open(path, "w") as handle:
        handle.write(source)
    library = path[:-2] + ".so"
    subprocess.run(["gcc", "-O3", "-shared", "-fPIC", "-o", library, path, "-lm"], check=True)
    run = ctypes.CDLL(library).run
    run.restype = None
    return run


def time_c(run: Any, rule: Any, vf: Any, x0: np.ndarray, steps: int, every: int
           ) -> tuple[float, np.ndarray]:
    """Seconds of one C run, its outputs allocated as gandyn allocates them; final states."""
    start = time.perf_counter()
    batch, n = x0.shape
    slots = steps // every + (2 if steps % every else 1)
    x = x0.copy()
    buf = np.zeros((batch, 2 * n))
    xs = np.empty((batch, slots, n))
    ls = np.empty((batch, slots, len(vf.logged_names)))
    div = np.zeros(batch, dtype=np.uint8)
    div_at = np.full(batch, np.nan)
    hg = np.full(batch, rule.lr_g)
    hd = np.full(batch, rule.lr_d)
    p = np.array([float(v) for v in vf.game.param_values.values()] + [0.0])
    if rule.name == "adam":
        b1, b2 = rule.beta1, rule.beta2
        cfg = np.array([b1, 1 - b1, b2, 1 - b2, rule.eps])
        c1s = np.array([1.0] + [1 - b1**k for k in range(1, steps + 1)])
        c2s = np.array([1.0] + [1 - b2**k for k in range(1, steps + 1)])
    else:
        cfg, c1s, c2s = np.zeros(1), np.ones(steps + 1), np.ones(steps + 1)
        if rule.name == "unrolled":
            cfg = np.array([float(rule.unroll)])

    def ptr(a: np.ndarray) -> Any:
        return a.ctypes.data_as(ctypes.c_void_p)

    run(ctypes.c_long(batch), ctypes.c_long(steps), ctypes.c_long(every), ptr(x), ptr(buf),
        ptr(hg), ptr(hd), ptr(p), ptr(cfg), ptr(c1s), ptr(c2s), ctypes.c_double(1e6), ptr(xs),
        ptr(ls), ptr(div), ptr(div_at))
    return time.perf_counter() - start, xs[:, -1]


def starts(game: str, runs: int) -> np.ndarray:
    """Random starts near the game's equilibrium."""
    rng = np.random.default_rng(0)
    if game == "dirac":
        return rng.normal(scale=0.5, size=(runs, 2))
    x0 = rng.normal(scale=0.2, size=(runs, 5))
    x0[:, 1] += 1.0  # theta_sigma near the data's sigma
    return x0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="1000,10000,100000",
                        help="comma-separated numbers of runs")
    parser.add_argument("--steps", type=int, default=1000, help="steps when only the final "
                        "state is kept")
    parser.add_argument("--every-steps", type=int, default=100,
                        help="steps when every step is recorded (memory: runs x steps x 10 "
                             "doubles for the Gaussian game)")
    parser.add_argument("--games", default=",".join(GAMES))
    parser.add_argument("--rules", default=",".join(RULES))
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    compiler = shutil.which("gcc")
    folder = tempfile.mkdtemp(prefix="gandyn-bench-")
    print(f"C baseline: {'gcc -O3 (' + compiler + ')' if compiler else 'skipped: no gcc'}")
    print(f"{'game':9s} {'rule':14s} {'mode':6s} {'runs':>7s} {'steps':>6s} "
          f"{'compiled':>12s} {'C -O3':>12s} {'ratio':>6s}  {'max |dx|':>8s}")
    for game_name in args.games.split(","):
        vf = derive(make_game(game_name, "minimax"))
        names = tuple(s.name for s in vf.game.state_symbols)
        game = FieldFunctions.of(vf)
        for rule_name in args.rules.split(","):
            rule = make_rule(rule_name, LR, LR)
            c_run = build_c(c_source(rule_name, vf), folder) if compiler else None
            warm = starts(game_name, 4)
            simulate_rule(rule, game, vf.logged_fn, warm, 2, backend="compiled",
                          state_names=names, logged_names=vf.logged_names)
            for runs in (int(r) for r in args.runs.split(",")):
                x0 = starts(game_name, runs)
                for mode, steps in (("final", args.steps), ("every", args.every_steps)):
                    every = steps if mode == "final" else 1
                    best = np.inf
                    for _ in range(args.repeat):
                        start = time.perf_counter()
                        traj = simulate_rule(rule, game, vf.logged_fn, x0, steps, every=every,
                                             backend="compiled", state_names=names,
                                             logged_names=vf.logged_names)
                        best = min(best, time.perf_counter() - start)
                        del traj
                    work = runs * steps
                    line = (f"{game_name:9s} {rule_name:14s} {mode:6s} {runs:7d} {steps:6d} "
                            f"{work / best:10.4g}/s")
                    if c_run is None:
                        print(line + f" {'skipped':>12s}")
                        continue
                    c_best = np.inf
                    for _ in range(args.repeat):
                        seconds, final = time_c(c_run, rule, vf, x0, steps, every)
                        c_best = min(c_best, seconds)
                    traj = simulate_rule(rule, game, vf.logged_fn, x0, steps, every=every,
                                         backend="compiled", state_names=names,
                                         logged_names=vf.logged_names)
                    # the C code's sums run in sympy.ccode's order, not lambdify's: the
                    # states agree to rounding, relative to the states' scale
                    scale = np.nanmax(np.abs(final))
                    gap = np.nanmax(np.abs(traj.x[:, -1] - final)) / scale
                    print(line + f" {work / c_best:10.4g}/s {c_best / best:6.2f}"
                          + f"  {gap:8.1e}" + ("" if gap < 1e-9 else "  (states differ!)"))


if __name__ == "__main__":
    main()
