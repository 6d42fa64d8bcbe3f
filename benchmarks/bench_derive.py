"""Wall time of ``gandyn derive`` per catalogue game, of ``gandyn --help``, and of large games.

Every number is printed next to a baseline measured in the same run.

* Catalogue games and ``--help``: the baseline is the start of a bare
  interpreter (``python -c pass``). Goals (foundation issue): ``gandyn --help``
  under 0.5 s, ``gandyn derive`` of each catalogue game under 2 s including
  interpreter start, and a repeated derive (warm disk cache) faster than a cold
  one.
* Large games (issue #14): game files generated here with 8, 16 and 32
  parameters, a general-sum polynomial game with dense quadratic and cubic
  couplings of every ``theta_i`` with every ``psi_j``, and a GAN-like game
  (softplus losses of a logit coupling all parameters). Each cold ``gandyn
  derive --game-file`` (a fresh cache folder) runs against a baseline script,
  run in the same way, that does the same work and no more: it starts
  python, imports sympy and gandyn's activation functions (their derivative
  rules), builds the two costs, differentiates each once per parameter with
  ``sympy.diff`` and prints the gradients and the field. The ``--format json``
  row (which holds the Jacobian and both Hessians) is measured against the
  eager derivation: the baseline also differentiates every gradient in every
  parameter with ``sympy.diff`` (Jacobian and Hessians) and prints them.
  Goals: a cold derive of 16 parameters under 5 s, of 32 under 30 s.
* The same games in this process: ``derive(game, time_limit=0)`` (gradients),
  then its Jacobian and Hessians, against ``sympy.diff`` of the same costs entry
  by entry (what gandyn did before), each with sympy's cache cleared first.

Run ``python benchmarks/bench_derive.py [--repeat N] [--sizes 8,16,32] [--no-json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

GAMES = ("dirac", "bilinear", "gaussian", "two-point")
#: Goals of a cold ``gandyn derive`` of a large game, in seconds, by parameter count.
GOALS = {16: 5.0, 32: 30.0}


def polynomial_costs(per_player: int) -> tuple[list[str], list[str], str, str]:
    """A general-sum game: quadratic and cubic couplings of every theta_i with every psi_j."""
    theta = [f"theta_{i + 1}" for i in range(per_player)]
    psi = [f"psi_{i + 1}" for i in range(per_player)]
    s = "(" + " + ".join(f"{i % 3 + 1}*{t}" for i, t in enumerate(theta)) + ")"
    p = "(" + " + ".join(v if i % 2 else f"-{v}" for i, v in enumerate(psi)) + ")"
    q = "(" + " + ".join(f"{t}*{v}" for t, v in zip(theta, psi, strict=True)) + ")"
    cost_g = f"({' + '.join(t + '**2' for t in theta)})/2 + {s}*{p} + {s}**2*{p}/3 + {q}**2/5"
    cost_d = f"({' + '.join(v + '**2' for v in psi)})/2 - {s}*{p} + k*{p}**3/7 - {q}*{s}/4"
    return theta, psi, cost_g, cost_d


def gan_costs(per_player: int) -> tuple[list[str], list[str], str, str]:
    """A GAN-like game: softplus losses of a logit that couples every theta_i with its psi_i."""
    theta = [f"theta_{i + 1}" for i in range(per_player)]
    psi = [f"psi_{i + 1}" for i in range(per_player)]
    logit = "(" + " + ".join(f"{v}*{t}" for t, v in zip(theta, psi, strict=True)) + ")"
    squares = " + ".join(f"{t}**2" for t in theta)
    cost_g = f"softplus(-{logit}) + ({squares})/10"
    cost_d = f"softplus({logit}) + softplus(-({' + '.join(psi)}) - k)"
    return theta, psi, cost_g, cost_d


def game_file(theta: list[str], psi: list[str], cost_g: str, cost_d: str) -> str:
    """The TOML game file of these costs (hyper-parameter k = 0.5)."""
    return (f"[generator]\nparameters = {json.dumps(theta)}\ncost = \"{cost_g}\"\n"
            f"[discriminator]\nparameters = {json.dumps(psi)}\ncost = \"{cost_d}\"\n"
            "[parameters]\nk = 0.5\n")


def baseline_script(theta: list[str], psi: list[str], cost_g: str, cost_d: str,
                    matrices: bool) -> str:
    """Python source doing the same symbolic work with sympy directly (see the module doc).

    The cost strings are Python expressions in the symbols the script defines.
    """
    names = theta + psi + ["k"]
    lines = [
        "import sympy as sp",
        "from gandyn.symbolic.functions import softplus",
        f"{', '.join(names)}, = sp.symbols({' '.join(names)!r}, real=True)",
        f"theta = [{', '.join(theta)}]",
        f"psi = [{', '.join(psi)}]",
        f"cost_g = {cost_g}",
        f"cost_d = {cost_d}",
        "grads = [sp.diff(cost_g, t) for t in theta] + [sp.diff(cost_d, p) for p in psi]",
        "field = [-g for g in grads]",
        "for e in grads + field:",
        "    print(sp.sstr(e, order='none'))",
    ]
    if matrices:
        lines += [
            "state = theta + psi",
            "jacobian = [[sp.diff(f, s) for s in state] for f in field]",
            "h_g = [[sp.diff(g, t) for t in theta] for g in grads[:len(theta)]]",
            "h_d = [[sp.diff(g, p) for p in psi] for g in grads[len(theta):]]",
            "for matrix in (jacobian, h_g, h_d):",
            "    print([[sp.sstr(e, order='none') for e in row] for row in matrix])",
        ]
    return "\n".join(lines)


def in_process(sizes: list[int]) -> None:
    """Derivation alone, in this process: gandyn against ``sympy.diff`` entry by entry.

    Both start from the same parsed costs with sympy's cache cleared, so the
    numbers hold the differentiation only (no interpreter start, no printing).
    """
    import sympy as sp
    from sympy.core.cache import clear_cache

    from gandyn.derivation import field
    from gandyn.games.files import load_game_file
    from gandyn.games.game import make_game

    os.environ["GANDYN_CACHE_DIR"] = ""  # no disk cache: every run derives
    print()
    print("large games in this process: derive(game, time_limit=0) against sympy.diff by hand")
    for size in sizes:
        for kind, costs in (("polynomial", polynomial_costs), ("gan-like", gan_costs)):
            with tempfile.TemporaryDirectory() as folder:
                path = os.path.join(folder, f"{kind}-{size}.toml")
                with open(path, "w") as handle:
                    handle.write(game_file(*costs(size // 2)))
                game = make_game(load_game_file(path))
            clear_cache()
            field._derivatives.cache_clear()
            start = time.perf_counter()
            vf = field.derive(game, time_limit=0)
            grads_time = time.perf_counter() - start
            _ = (vf.jacobian, vf.hessian_g, vf.hessian_d)
            all_time = time.perf_counter() - start
            clear_cache()
            start = time.perf_counter()
            grads = [sp.diff(game.cost_g, t) for t in game.theta] + [
                sp.diff(game.cost_d, p) for p in game.psi]
            base_grads = time.perf_counter() - start
            state = game.state_symbols
            n_theta = len(game.theta)
            _ = ([sp.diff(-g, s) for g in grads for s in state],
                 [sp.diff(g, t) for g in grads[:n_theta] for t in game.theta],
                 [sp.diff(g, p) for g in grads[n_theta:] for p in game.psi])
            base_all = time.perf_counter() - start
            print(f"  {size:2d} parameters {kind:<10} gradients {grads_time:6.2f} s "
                  f"(sympy.diff {base_grads:6.2f} s, ratio {grads_time / base_grads:5.2f})  "
                  f"with Jacobian and Hessians {all_time:6.2f} s (sympy.diff {base_all:6.2f} s, "
                  f"ratio {all_time / base_all:5.2f})")


def large_games(py: str, base_env: dict[str, str], sizes: list[int], repeat: int,
                with_json: bool) -> None:
    """Cold ``gandyn derive`` of generated games against same-run sympy baselines."""
    print()
    print("large games: cold gandyn derive --game-file (fresh cache) against sympy by hand")
    for size in sizes:
        for kind, costs in (("polynomial", polynomial_costs), ("gan-like", gan_costs)):
            parts = costs(size // 2)
            with tempfile.TemporaryDirectory() as folder:
                path = os.path.join(folder, f"{kind}-{size}.toml")
                with open(path, "w") as handle:
                    handle.write(game_file(*parts))
                rows = [("text", [], False)]
                if with_json:
                    rows.append(("json", ["--format", "json"], True))
                for label, extra, matrices in rows:
                    runs = []
                    for _ in range(repeat):
                        with tempfile.TemporaryDirectory() as fresh:
                            env = {**base_env, "GANDYN_CACHE_DIR": fresh}
                            runs.append(_time([py, "-m", "gandyn", "derive", "--game-file",
                                               path, *extra], env, 1))
                    cold = statistics.median(runs)
                    baseline = _time([py, "-c", baseline_script(*parts, matrices)], base_env,
                                     repeat)
                    goal = GOALS.get(size) if label == "text" else None
                    verdict = "" if goal is None else (
                        f"  goal < {goal:g} s: {'ok' if cold < goal else 'SLOW'}")
                    what = "gradients" if not matrices else "gradients, Jacobian, Hessians"
                    print(f"  {size:2d} parameters {kind:<10} {label:<4} derive {cold:6.2f} s  "
                          f"baseline ({what}) {baseline:6.2f} s  ratio {cold / baseline:5.2f}"
                          f"{verdict}")


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
    parser.add_argument("--sizes", default="8,16,32",
                        help="parameter counts of the large games (comma-separated, even)")
    parser.add_argument("--large-repeat", type=int, default=1,
                        help="runs per large-game measurement (median)")
    parser.add_argument("--no-json", action="store_true",
                        help="skip the --format json rows of the large games")
    parser.add_argument("--only-large", action="store_true",
                        help="measure only the large games")
    args = parser.parse_args()
    py = sys.executable
    base_env = dict(os.environ)
    sizes = [int(v) for v in args.sizes.split(",") if v.strip()]
    if args.only_large:
        large_games(py, base_env, sizes, args.large_repeat, not args.no_json)
        in_process(sizes)
        return
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
    large_games(py, base_env, sizes, args.large_repeat, not args.no_json)
    in_process(sizes)


if __name__ == "__main__":
    main()
