"""Minibatch runs through a compiled loop, with the draws of the numpy path.

:func:`gandyn.dynamics.minibatch.simulate_minibatch` steps a rule on a
:class:`~gandyn.dynamics.minibatch_field.MinibatchField`: every field call draws a
discriminator batch and a generator batch for every run from one numpy
``Generator``, evaluates the per-sample gradients and averages them. Here the
draws stay in numpy, made block by block in the order the numpy path makes them
(:meth:`~gandyn.dynamics.minibatch_field.MinibatchField.draw_sets`), and one numba
loop per game and rule evaluates the per-sample expressions (printed as the
numpy path's ``lambdify`` has them, :mod:`gandyn.dynamics.kernels.printing`),
sums them sample by sample (numpy's ``mean`` over a non-contiguous axis adds in
order, then divides by the count), forms consensus optimization's ``xi_B + gamma
J_B^T xi_B`` in index order (as ``einsum`` does for a few terms), and takes the
rule's step (:mod:`gandyn.dynamics.kernels.steps`). On the same libm the
trajectories equal the numpy path's bit for bit.

The logged losses are those of :func:`gandyn.dynamics.discrete.simulate_rule`
with ``measure='loop'``: while no run has diverged, a live run logs the means of
the field call whose state its player's gradient saw; a record also evaluates
the losses at the recorded state on a fresh batch of the field's separate log
stream (used for a diverged run); once a run has diverged, the step loop hands
the players' states over as new arrays, so each is evaluated on its own fresh
log batch. The log batches are drawn here in that order. Which regime a record
falls in depends on the whole batch (the first divergence, the step at which the
last run diverged and the loop stops), known only after the block ran: a block
whose plan was wrong is run again from its saved start (at most twice in a run).

References
----------
.. [1] Goodfellow et al. (2014). Generative Adversarial Nets. NeurIPS, Algorithm 1
   (minibatch steps); Mescheder, Nowozin and Geiger (2017). The Numerics of GANs.
   NeurIPS, Algorithm 1 (consensus on minibatch gradients).
.. [2] Lam, Pitrou and Seibert (2015). Numba: a LLVM-based Python JIT compiler.
   LLVM-HPC workshop.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import sympy as sp

from gandyn.arrays import Array, BoolArray
from gandyn.dynamics.kernels.printing import UnsupportedError, scalar_function
from gandyn.dynamics.kernels.steps import StepCode
from gandyn.dynamics.stepping import outside_ball
from gandyn.dynamics.trajectory import Trajectory, rule_trajectory
from gandyn.errors import SpecError
from gandyn.rules.base import UpdateRule

if TYPE_CHECKING:
    from gandyn.dynamics.minibatch_field import MinibatchField

__all__ = ["MINIBATCH_RULES", "compiled_minibatch", "minibatch_source"]

#: Doubles of draws per block (about 16 MB): the draws of a run are made block by block.
_BLOCK_DRAWS = 1 << 21

_FIELD_CALL = re.compile(r"^(?P<out>[\w, ]+?),? = _field\((?P<args>[\w, ]+), PARAMS\)$")


@dataclass(frozen=True)
class MinibatchStep:
    """A rule's step on minibatch fields and the field calls whose means a loop logs.

    Attributes
    ----------
    step
        The generated step; its ``k``-th ``_field`` call (``k`` from 0) is field call ``k``.
    calls
        Field calls per step (each draws a D batch and a G batch).
    logged_calls
        ``(d, g)``: the calls whose losses the discriminator's columns and ``g_loss``
        take (the call at the state each player's gradient saw).
    first_logged_calls
        The same at step 1 when it differs (ogda: its two states are equal there).
    """

    step: StepCode
    calls: int
    logged_calls: tuple[int, int]
    first_logged_calls: tuple[int, int] | None = None


def _from_exact(rule: UpdateRule, n: int, n_theta: int) -> StepCode:
    from gandyn.dynamics.kernels.steps import step_code

    step = step_code(rule, n, n_theta)
    if step.start or step.accept or step.needs_jacobian:
        raise UnsupportedError(f"the rule {rule.name!r} has no compiled minibatch step")
    return step


def _one_call(rule: UpdateRule, n: int, n_theta: int) -> MinibatchStep:
    return MinibatchStep(_from_exact(rule, n, n_theta), 1, (0, 0))


def _extragradient(rule: UpdateRule, n: int, n_theta: int) -> MinibatchStep:
    # both gradients (and the loop's losses) at y, the second call
    return MinibatchStep(_from_exact(rule, n, n_theta), 2, (1, 1))


def _altgd(rule: UpdateRule, n: int, n_theta: int) -> MinibatchStep:
    d, g = ["d"] * int(getattr(rule, "d_steps", 1)), ["g"] * int(getattr(rule, "g_steps", 1))
    schedule = d + g if getattr(rule, "first", "d") == "d" else g + d
    return MinibatchStep(_from_exact(rule, n, n_theta), len(schedule),
                         (schedule.index("d"), schedule.index("g")))


def _altmomentum(rule: UpdateRule, n: int, n_theta: int) -> MinibatchStep:
    d_first = getattr(rule, "first", "d") == "d"
    return MinibatchStep(_from_exact(rule, n, n_theta), 2, (0, 1) if d_first else (1, 0))


def _ogda(rule: UpdateRule, n: int, n_theta: int) -> MinibatchStep:
    # The numpy step calls the field at x, then at the previous state (a fresh batch each,
    # where the exact loop keeps the last field): x' = x + h (2 F(x) - F(previous)).
    one = "," if n == 1 else ""
    xs = ", ".join(f"x{i}" for i in range(n))
    lines = [f"{', '.join(f'F{i}' for i in range(n))}{one} = _field({xs}, PARAMS)",
             f"{', '.join(f'P{i}' for i in range(n))}{one} = _field("
             f"{', '.join(f'b0_{i}' for i in range(n))}, PARAMS)"]
    lines += [f"n{i} = x{i} + h{i} * (2.0 * F{i} - P{i})" for i in range(n)]
    lines += [f"nb0_{i} = x{i}" for i in range(n)]
    lines += [f"s{p}{i} = x{i}" for p in "dg" for i in range(n)]
    # The loop finds the losses of the newest call at an equal state: at step 1 the
    # previous state is the start, equal to x, so the second call's.
    return MinibatchStep(StepCode(tuple(lines), buffers=1), 2, (0, 0), (1, 1))


#: The rules with a compiled minibatch step.
MINIBATCH_RULES: dict[str, Callable[[UpdateRule, int, int], MinibatchStep]] = {
    "simgd": _one_call,
    "momentum": _one_call,
    "adam": _one_call,
    "altgd": _altgd,
    "altmomentum": _altmomentum,
    "extragradient": _extragradient,
    "ogda": _ogda,
}


def minibatch_step(rule: UpdateRule, n: int, n_theta: int) -> MinibatchStep:
    """The compiled minibatch step of ``rule``.

    Raises
    ------
    UnsupportedError
        The rule has none.
    """
    writer = MINIBATCH_RULES.get(rule.name)
    if writer is None:
        raise UnsupportedError(f"the rule {rule.name!r} has no compiled minibatch step")
    return writer(rule, n, n_theta)


def _indent(lines: Sequence[str], depth: int) -> list[str]:
    return ["    " * depth + line for line in lines]


def _mean_function(name: str, per_sample: str, n_out: int, n: int, indices: Sequence[int],
                   n_params: int, g_part: bool, kept: Sequence[int] | None = None) -> str:
    """``name(x..., DR, q, r, nb, md, mg, nv, p...)``: the batch means of ``per_sample``.

    Row ``q`` of ``DR`` is a pair of batches (:meth:`MinibatchField.draw_sets`); the
    variable at position ``j`` of the draws sits at ``(j nb + r) m`` (plus D's part for G).
    Only the entries ``kept`` (all by default) are summed, the others are 0.0: numba
    inlines ``per_sample`` and drops what no one reads (the losses off the recording grid).
    """
    xs = ", ".join(f"x{i}" for i in range(n))
    ps = "".join(f", p{j}" for j in range(n_params))
    size = "mg" if g_part else "md"
    summed = list(range(n_out)) if kept is None else list(kept)
    lines = [f"def {name}({xs}, DR, q, r, nb, md, mg, nv{ps}):"]
    start = "nv * nb * md + " if g_part else ""
    lines += [f"    a{j} = {start}({v} * nb + r) * {size}" for j, v in enumerate(indices)]

    def call(offset: str) -> str:
        draws = "".join(f", DR[q, a{j}{offset}]" for j in range(len(indices)))
        return f"{per_sample}({xs}{draws}{ps})"

    lines.append(f"    v = {call('')}")
    lines += [f"    t{i} = v[{i}]" for i in summed]
    lines.append(f"    for j in range(1, {size}):")
    lines.append(f"        v = {call(' + j')}")
    lines += [f"        t{i} = t{i} + v[{i}]" for i in summed]
    values = ", ".join(f"t{i} / {size}" if i in summed else "0.0" for i in range(n_out))
    lines.append(f"    return ({values}{',' if n_out == 1 else ''})")
    return "@njit(cache=True)\n" + "\n".join(lines) + "\n"


def minibatch_source(step: MinibatchStep, d_exprs: Sequence[sp.Expr],
                     g_exprs: Sequence[sp.Expr], state: Sequence[sp.Symbol],
                     d_variables: Sequence[sp.Symbol], g_variables: Sequence[sp.Symbol],
                     variables: Sequence[sp.Symbol], params: Sequence[sp.Symbol],
                     logged_names: Sequence[str], n_theta: int, consensus: bool) -> str:
    """The module's text; its ``mb_run`` advances a batch through a block of steps.

    ``mb_run(X, BUF, HG, HD, PAR, cfg, C1S, C2S, k_first, k_last, every, steps,
    max_norm, XS, LS, DIV, DIV_AT, DR, LDR, EA, EB, EC, nb, md, mg, nv, gam)`` is the
    exact loop's ``run`` (:func:`gandyn.dynamics.kernels.source.simulation_source`)
    with the draws: field call ``c`` of step ``k`` reads row ``(k - k_first) C + c`` of
    ``DR``; a record ``slot`` reads the log batches ``LDR[EA[slot]]`` (at the state,
    for a diverged run) and ``LDR[EB[slot]]``, ``LDR[EC[slot]]`` (at the players'
    states), ``-1`` for none, in which case a live run logs its field calls' means.
    ``gam`` is consensus optimization's weight.

    Raises
    ------
    gandyn.dynamics.kernels.printing.UnsupportedError
        An expression uses a function the backend does not implement.
    """
    from gandyn.dynamics.kernels.source import _HEADER, _load_run, _step_block, _store_run

    n, n_psi, k = len(state), len(state) - n_theta, len(logged_names)
    d_names = [name for name in logged_names if name != "g_loss"]
    g_col = list(logged_names).index("g_loss")
    n_logged_d = len(d_names)
    position = {v: j for j, v in enumerate(variables)}
    from gandyn.dynamics.kernels.printing import NUMPY_NAMES, SCALAR_HELPERS

    parts = [_HEADER.format(numpy_names=", ".join(NUMPY_NAMES))]
    parts += [text for text in SCALAR_HELPERS.values() if text]
    parts.append(scalar_function("_dps", d_exprs, [*state, *d_variables, *params]))
    parts.append(scalar_function("_gps", g_exprs, [*state, *g_variables, *params]))
    n_params = len(params)
    # the gradients (and consensus' Jacobian rows) without the logged losses
    d_kept = [i for i in range(len(d_exprs)) if not n_psi <= i < n_psi + n_logged_d]
    g_kept = [i for i in range(len(g_exprs)) if i != n_theta]
    for suffix, d_only, g_only in (("", None, None), ("_grad", d_kept, g_kept)):
        parts.append(_mean_function(f"_dmean{suffix}", "_dps", len(d_exprs), n,
                                    [position[v] for v in d_variables], n_params, False,
                                    d_only))
        parts.append(_mean_function(f"_gmean{suffix}", "_gps", len(g_exprs), n,
                                    [position[v] for v in g_variables], n_params, True,
                                    g_only))
    xs = ", ".join(f"x{i}" for i in range(n))
    ps = "".join(f", p{j}" for j in range(n_params))
    field = [f"def _mbfield{{suffix}}({xs}, DR, q, r, nb, md, mg, nv, gam{ps}):",
             f"    d = _dmean{{suffix}}({xs}, DR, q, r, nb, md, mg, nv{ps})",
             f"    g = _gmean{{suffix}}({xs}, DR, q, r, nb, md, mg, nv{ps})"]
    xi = [f"g[{i}]" if i < n_theta else f"d[{i - n_theta}]" for i in range(n)]
    field += [f"    xi{i} = {xi[i]}" for i in range(n)]
    if consensus:
        # xi + gamma J^T xi, J's rows G's from G's batch, D's from D's: einsum's order
        def jac(row: int, col: int) -> str:
            if row < n_theta:
                return f"g[{n_theta + 1 + row * n + col}]"
            return f"d[{n_psi + n_logged_d + (row - n_theta) * n + col}]"

        for col in range(n):
            total = f"{jac(0, col)} * xi0"
            for row in range(1, n):
                total = f"({total} + {jac(row, col)} * xi{row})"
            field.append(f"    c{col} = xi{col} + gam * {total}")
    else:
        field += [f"    c{i} = xi{i}" for i in range(n)]
    logged = [f"g[{n_theta}]" if name == "g_loss" else f"d[{n_psi + d_names.index(name)}]"
              for name in logged_names]
    field.append(f"    return ({', '.join(f'-c{i}' for i in range(n))}, {', '.join(logged)},)")
    for suffix in ("", "_grad"):
        parts.append("@njit(cache=True)\n" + "\n".join(field).replace("{suffix}", suffix)
                     + "\n")

    draw_args = "r, nb, md, mg, nv, gam"
    counter = [0]

    def call(line: str) -> str:
        match = _FIELD_CALL.match(line.strip())
        if match is None:
            return line.replace(", PARAMS", ps)
        c = counter[0]
        counter[0] += 1
        outs = [o.strip() for o in match["out"].split(",") if o.strip()]
        means = [f"M{c}_{j}" for j in range(k)]
        arguments = f"({match['args']}, DR, q + {c}, {draw_args}{ps})"
        # off the recording grid no one reads the losses: the gradients alone
        return (f"{', '.join(outs + means)} = _mbfield{arguments} if k == nxt "
                f"else _mbfield_grad{arguments}")

    one = "," if n == 1 else ""
    body = _load_run(step.step, n, n_theta, n_params)
    body += [f"M{c}_{j} = 0.0" for c in range(step.calls) for j in range(k)]

    def at(states: str, event: str) -> str:
        names = ", ".join(f"{states}{i}" for i in range(n))
        return f"L = _mbfield({names}{one}, LDR, {event}, {draw_args}{ps})"

    body += ["if k_first == 1:",
             *_indent([f"XS[r, 0, {i}] = x{i}" for i in range(n)], 1),
             "    if EA[0] >= 0:",
             *_indent([at("x", "EA[0]"), *(f"LS[r, 0, {j}] = L[{n + j}]" for j in range(k))],
                      2)]
    body += ["nxt = min(((k_first + every - 1) // every) * every, steps)"]
    block = _step_block(StepCode((f"q = (k - k_first) * {step.calls}", *step.step.lines),
                                 buffers=step.step.buffers), n, call)
    if counter[0] != step.calls:
        raise UnsupportedError(f"the rule's step makes {counter[0]} field calls, "
                               f"not {step.calls}")

    def from_calls(calls: tuple[int, int]) -> list[str]:
        c_d, c_g = calls
        return [f"LS[r, slot, {j}] = M{c_g if j == g_col else c_d}_{j}" for j in range(k)]

    own = from_calls(step.logged_calls)
    if step.first_logged_calls is not None:
        own = ["if k == 1:", *_indent(from_calls(step.first_logged_calls), 1),
               "else:", *_indent(own, 1)]
    fresh = [at("sd", "EB[slot]"),
             *(f"LS[r, slot, {j}] = L[{n + j}]" for j in range(k) if j != g_col),
             at("sg", "EC[slot]"), f"LS[r, slot, {g_col}] = L[{n + g_col}]"]
    record = ["slot = k // every if k % every == 0 else steps // every + 1",
              "nxt = min(nxt + every, steps)",
              *(f"XS[r, slot, {i}] = x{i}" for i in range(n)),
              "if not dead:",
              "    if EB[slot] < 0:", *_indent(own, 2),
              "    else:", *_indent(fresh, 2),
              "elif EA[slot] >= 0:",
              *_indent([at("x", "EA[slot]"),
                        *(f"LS[r, slot, {j}] = L[{n + j}]" for j in range(k))], 1)]
    loop = [*block, "if k == nxt:", *_indent(record, 1)]
    body += ["for k in range(k_first, k_last + 1):", *_indent(loop, 1)]
    body += _store_run(step.step, n)
    run = ["@njit(cache=True, nogil=True)",
           "def mb_run(X, BUF, HG, HD, PAR, cfg, C1S, C2S, k_first, k_last, every, steps,",
           "           max_norm, XS, LS, DIV, DIV_AT, DR, LDR, EA, EB, EC, nb, md, mg, nv, gam):",
           "    for r in range(X.shape[0]):",
           *_indent(body, 2)]
    parts.append("\n".join(run) + "\n")
    return "\n\n".join(parts)


def _kernel(field: MinibatchField, step: MinibatchStep) -> tuple[Callable[..., Any], str]:
    from gandyn.dynamics.kernels.build import load_kernel

    terms = field.terms
    state = terms.theta + terms.psi
    variables = tuple(v for v, _ in terms.variables)
    consensus = field.consensus is not None
    description = "\n".join([
        "minibatch", sp.srepr(sp.Tuple(*field.d_exprs)), sp.srepr(sp.Tuple(*field.g_exprs)),
        sp.srepr(sp.Tuple(*state)), sp.srepr(sp.Tuple(*field.d_variables)),
        sp.srepr(sp.Tuple(*field.g_variables)), sp.srepr(sp.Tuple(*variables)),
        sp.srepr(sp.Tuple(*terms.params)), repr(field.logged_names),
        repr((len(terms.theta), consensus)), repr(step)])

    def source() -> str:
        return minibatch_source(step, field.d_exprs, field.g_exprs, state, field.d_variables,
                                field.g_variables, variables, terms.params,
                                field.logged_names, len(terms.theta), consensus)

    return load_kernel(description, source, "mb_run")


def _reason(rule: UpdateRule, project: Callable[[Array], Array] | None) -> str | None:
    from gandyn.dynamics.kernels.build import numba_version

    if numba_version() is None:
        return "numba is not installed"
    if project is not None:
        return "a projection (weight clipping) runs on numpy"
    if rule.name not in MINIBATCH_RULES:
        return f"the rule {rule.name!r} has no compiled minibatch step"
    return None


def compiled_minibatch(
    field: MinibatchField, rule: UpdateRule, x0: Array, steps: int, *, every: int,
    max_norm: float, state_names: tuple[str, ...],
    project: Callable[[Array], Array] | None, progress: Callable[[int], None] | None,
    backend: str | None,
) -> tuple[Trajectory | None, str | None]:
    """The minibatch run on the compiled loop, or ``(None, why not)`` for the numpy path.

    ``auto`` compiles from :data:`~gandyn.dynamics.kernels.simulate.AUTO_MIN_RUN_STEPS`
    sample-steps on (runs x steps x (D's batch + G's batch)): a minibatch step costs the
    numpy path about one exact step per sample. The reason is ``None`` for the backend
    ``numpy`` (nothing to explain).

    Raises
    ------
    gandyn.errors.SpecError
        ``backend='compiled'`` for a run the compiled loop cannot take.
    """
    from gandyn.dynamics.kernels.simulate import AUTO_MIN_RUN_STEPS, check_backend

    backend = check_backend(backend)
    if backend == "numpy":
        return None, None
    reason = _reason(rule, project)
    work = x0.shape[0] * steps * (field.batch_size_d + field.batch_size_g)
    if reason is None and backend == "auto" and work < AUTO_MIN_RUN_STEPS:
        reason = (f"a minibatch run of fewer than {AUTO_MIN_RUN_STEPS} sample-steps (runs x "
                  "steps x samples per step; auto compiles only from there)")
    if reason is None:
        streams = (field.rng.bit_generator.state, field.log_rng.bit_generator.state)
        try:
            return _simulate(field, rule, x0, steps, every=every, max_norm=max_norm,
                             state_names=state_names, progress=progress), None
        except (UnsupportedError, ImportError) as exc:
            reason = str(exc)
            # numba may refuse the loop after the first block's draws: numpy starts afresh
            field.rng.bit_generator.state, field.log_rng.bit_generator.state = streams
    if backend == "compiled":
        raise SpecError(f"`backend` compiled cannot run this simulation: {reason}")
    return None, reason


@dataclass
class _Knowledge:
    """What decides the log batches: the first divergence, the step the loop stops at."""

    first_diverged: int | None
    stop: int | None

    def events(self, block: range, slots: dict[int, int]) -> list[tuple[int, str]]:
        """The log batches of the records in ``block`` in the numpy loop's order."""
        out: list[tuple[int, str]] = [(0, "A")] if block.start == 1 else []
        for k in block:
            slot = slots.get(k)
            if slot is None or (self.stop is not None and k > self.stop):
                continue
            out.append((slot, "A"))
            if self.first_diverged is not None and k >= self.first_diverged:
                out += [(slot, "B"), (slot, "C")]
        return out

    @staticmethod
    def of(diverged: BoolArray, diverged_at: Array, steps: int) -> _Knowledge:
        first = int(np.nanmin(diverged_at)) if diverged.any() else None
        # the numpy loop takes step 1 even when every start diverged, then stops
        stop = min(steps, max(int(np.nanmax(diverged_at)), 1)) if diverged.all() else None
        return _Knowledge(first, stop)


def _simulate(field: MinibatchField, rule: UpdateRule, x0: Array, steps: int, *, every: int,
              max_norm: float, state_names: tuple[str, ...],
              progress: Callable[[int], None] | None) -> Trajectory:
    from gandyn.dynamics.kernels.simulate import adam_corrections, first_call
    from gandyn.dynamics.kernels.steps import settings_vector

    if steps < 0 or every < 1:
        raise ValueError("steps must be >= 0 and every >= 1")
    if x0.ndim != 2:
        raise ValueError("x0 must have shape (B, n)")
    batch, n = x0.shape
    n_theta = field.n_theta
    step = minibatch_step(rule, n, n_theta)
    run, key = _kernel(field, step)
    buffers = rule.init_buffers(x0)
    x = np.array(x0, dtype=np.float64, order="C")
    buf = np.ascontiguousarray(np.concatenate([buffers[b] for b in rule.buffer_names], axis=1)
                               if rule.buffer_names else np.zeros((batch, 0)))
    par = np.empty((batch, len(field.param_values)))
    par[:] = field.param_values
    record_steps = [k for k in range(steps + 1) if k % every == 0 or k == steps]
    slots = {k: i for i, k in enumerate(record_steps)}
    names = field.logged_names
    xs = np.empty((batch, len(record_steps), n))
    ls = np.empty((batch, len(record_steps), len(names)))
    diverged = outside_ball(x, max_norm).copy()
    diverged_at = np.where(diverged, 0.0, np.nan)
    c1s, c2s = adam_corrections(rule, steps)
    # copies: a read-only array (a broadcast of one run) would be another numba signature
    hg = np.array(np.broadcast_to(np.asarray(rule.lr_g, dtype=np.float64), (batch,)))
    hd = np.array(np.broadcast_to(np.asarray(rule.lr_d, dtype=np.float64), (batch,)))
    cfg = settings_vector(rule)
    md, mg = field.batch_size_d, field.batch_size_g
    n_vars = len(field.terms.variables)
    gamma = 0.0 if field.consensus is None else float(field.consensus)
    width = max(n_vars * batch * (md + mg), 1)
    # a step's draws: its field calls, and up to three log batches on the recording grid
    block_steps = max(1, _BLOCK_DRAWS // ((step.calls + 3) * width))
    known = _Knowledge.of(diverged, diverged_at, steps)
    rng, log_rng = field.rng, field.log_rng
    first = 1
    while True:
        last = min(first + block_steps - 1, steps)  # steps = 0: only step 0 is recorded
        block = range(first, last + 1)
        draws = field.draw_sets(len(block) * step.calls, batch, rng)
        saved = (x.copy(), buf.copy(), diverged.copy(), diverged_at.copy(),
                 log_rng.bit_generator.state)
        while True:
            events = known.events(block, slots)
            log_draws = field.draw_sets(len(events), batch, log_rng)
            index = {kind: np.full(len(record_steps), -1, dtype=np.int64) for kind in "ABC"}
            for e, (slot, kind) in enumerate(events):
                index[kind][slot] = e
            arguments = (x, buf, hg, hd, par, cfg, c1s, c2s, first, last, every, steps,
                         float(max_norm), xs, ls, diverged, diverged_at, draws, log_draws,
                         index["A"], index["B"], index["C"], batch, md, mg, n_vars, gamma)
            if first == 1:
                first_call(run, arguments)
            else:
                run(*arguments)
            now = _Knowledge.of(diverged, diverged_at, steps)
            if now.events(block, slots) == events:
                known = now
                break
            # The block's records assumed less than it revealed: again, with the facts.
            known = now
            for target, value in zip((x, buf, diverged, diverged_at), saved[:4], strict=True):
                np.copyto(target, value)
            log_rng.bit_generator.state = saved[4]
        if progress is not None and last >= first:
            progress(last - first + 1)
        first = last + 1
        if first > steps or (known.stop is not None and first > known.stop):
            break
    if known.stop is not None:
        # every run diverged: the numpy loop stopped and logs the rest at the final states
        _, tail = field.on_draws(x, field.draw(batch, md, log_rng),
                                 field.draw(batch, mg, log_rng))
        after = [slot for k, slot in slots.items() if k > known.stop]
        xs[:, after] = x[:, None]
        ls[:, after] = tail[:, None]
    return rule_trajectory(rule, steps, record_steps, xs, ls, diverged, diverged_at,
                           measure="loop", state_names=state_names, logged_names=names,
                           backend="compiled", kernel=key)
