"""One step of each supported update rule, written as scalar statements per coordinate.

Each function here returns the lines of Python (numba) code that advance one
run by one step, repeating the floating-point operations of the rule's numpy
``step`` (:mod:`gandyn.rules`) in the same order, so that the compiled path
matches the numpy path bit for bit. Names in the generated code:

* ``x{i}``: the state; ``h{i}``: the coordinate's rate (``lr_g`` on theta, ``lr_d`` on psi);
* ``b{j}_{i}``: buffer ``j`` of the rule (in the order of ``buffer_names``);
* ``cfg[...]``: the rule's numeric settings (see :func:`settings_vector`);
* ``c1``, ``c2``: Adam's bias corrections of step ``k``, computed by Python;
* the step writes the new state to ``n{i}``, the new buffers to ``nb{j}_{i}`` and
  names the states each player's gradient saw ``sd{i}``, ``sg{i}`` (``measure='loop'``).

Where numpy reduces with ``einsum`` or ``@`` (the sensitivities of the
unrolled GAN, the opponent-shaping terms of LOLA and SOS) or solves with LAPACK
(the proximal point step's Newton iterations), the generated code sums in index
order and solves by its own LU factorization with partial pivoting: the same
mathematics, rounded differently, so these rules agree with numpy to about
1e-12 relative rather than bit for bit. Weight clipping (:func:`with_clip`)
follows the step as :class:`gandyn.dynamics.stepping.StepLoop` applies it.
A rule not listed in :data:`STEP_WRITERS` (rules added later) is
:class:`~gandyn.dynamics.kernels.printing.UnsupportedError` and runs on numpy.

References
----------
.. [1] Mescheder, Nowozin and Geiger (2017). The Numerics of GANs. NeurIPS
   (update rules as maps); each rule's own source is cited in :mod:`gandyn.rules`.
.. [2] Golub and Van Loan (2013). Matrix Computations, 4th ed., Sec. 3.4.3
   (Gaussian elimination with partial pivoting, the pivot choice of LAPACK's
   ``dgetrf`` that numpy's ``solve`` calls).
.. [3] Harris et al. (2020). Array programming with NumPy. Nature 585
   (``minimum``, ``maximum`` and ``clip``: a NaN first argument is returned,
   otherwise ``a < b ? a : b``; the helpers below repeat those formulas).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from gandyn.arrays import Array
from gandyn.dynamics.kernels.printing import UnsupportedError
from gandyn.rules.base import UpdateRule

__all__ = ["HELPERS", "STEP_WRITERS", "StepCode", "settings_vector", "step_code",
           "with_clip"]


@dataclass(frozen=True)
class StepCode:
    """The generated code of one rule's step and what it needs.

    Attributes
    ----------
    lines
        Statements of one step (unindented).
    start
        Statements run when a run's loop starts (ogda: the field at the previous state).
    accept
        Statements run when a step is accepted (the run stayed in the ball).
    buffers
        Number of buffers, each ``n`` wide.
    needs_jacobian
        Whether the step calls ``_jacobian``.
    needs_cross
        Whether the step calls ``_cross``, the cross gradient
        (:mod:`gandyn.derivation.player_derivatives`).
    helpers
        Names of the functions of :data:`HELPERS` the step calls.
    seen_differ
        Whether the discriminator's and generator's gradients saw different states.
    structure
        The rule's structural settings (they change the code, not only numbers).
    """

    lines: tuple[str, ...]
    start: tuple[str, ...] = ()
    accept: tuple[str, ...] = ()
    buffers: int = 0
    needs_jacobian: bool = False
    needs_cross: bool = False
    helpers: tuple[str, ...] = ()
    seen_differ: bool = False
    structure: str = ""


def _xs(prefix: str, n: int) -> str:
    return ", ".join(f"{prefix}{i}" for i in range(n))


def _field(target: str, state: str, n: int) -> str:
    """``F0, F1, ... = _field(x0, x1, ..., params...)`` (a trailing comma for one coordinate)."""
    comma = "," if n == 1 else ""
    return f"{_xs(target, n)}{comma} = _field({_xs(state, n)}, PARAMS)"


def _seen(state: str, n: int, players: str = "dg") -> list[str]:
    return [f"s{p}{i} = {state}{i}" for p in players for i in range(n)]


def _simgd(rule: UpdateRule, n: int, n_theta: int) -> StepCode:
    return StepCode((_field("F", "x", n), *(f"n{i} = x{i} + h{i} * F{i}" for i in range(n)),
                     *_seen("x", n)))


def _alternating_schedule(rule: UpdateRule) -> list[str]:
    first: str = getattr(rule, "first", "d")
    d_steps: int = getattr(rule, "d_steps", 1)
    g_steps: int = getattr(rule, "g_steps", 1)
    d, g = ["d"] * d_steps, ["g"] * g_steps
    return d + g if first == "d" else g + d


def _movers(player: str, n: int, n_theta: int) -> list[bool]:
    return [(i < n_theta) == (player == "g") for i in range(n)]


def _altgd(rule: UpdateRule, n: int, n_theta: int) -> StepCode:
    # x = x + mask * h * F(x) per player: (mask * h) is h or 0.0, and 0.0 * F keeps NaN.
    lines = [f"y{i} = x{i}" for i in range(n)]
    seen: set[str] = set()
    for player in _alternating_schedule(rule):
        if player not in seen:
            seen.add(player)
            lines += [f"s{player}{i} = y{i}" for i in range(n)]
        lines.append(_field("F", "y", n))
        lines += [f"y{i} = y{i} + h{i} * F{i}" if moves else f"y{i} = y{i} + 0.0 * F{i}"
                  for i, moves in enumerate(_movers(player, n, n_theta))]
    lines += [f"n{i} = y{i}" for i in range(n)]
    structure = "".join(_alternating_schedule(rule))
    return StepCode(tuple(lines), seen_differ=True, structure=structure)


def _momentum(rule: UpdateRule, n: int, n_theta: int) -> StepCode:
    # v' = beta v + F(x); x' = x + h v'
    lines = [_field("F", "x", n)]
    lines += [f"nb0_{i} = cfg[0] * b0_{i} + F{i}" for i in range(n)]
    lines += [f"n{i} = x{i} + h{i} * nb0_{i}" for i in range(n)]
    return StepCode((*lines, *_seen("x", n)), buffers=1)


def _altmomentum(rule: UpdateRule, n: int, n_theta: int) -> StepCode:
    # per player: v = v + m ((beta - 1) v + F(x)); x = x + (m h) v, with m 1 or 0.0
    first: str = getattr(rule, "first", "d")
    order = ("d", "g") if first == "d" else ("g", "d")
    lines = [f"y{i} = x{i}" for i in range(n)] + [f"nb0_{i} = b0_{i}" for i in range(n)]
    for player in order:
        lines += [f"s{player}{i} = y{i}" for i in range(n)]
        lines.append(_field("F", "y", n))
        for i, moves in enumerate(_movers(player, n, n_theta)):
            if moves:
                lines.append(f"nb0_{i} = nb0_{i} + (cfg[1] * nb0_{i} + F{i})")
                lines.append(f"y{i} = y{i} + h{i} * nb0_{i}")
            else:
                lines.append(f"nb0_{i} = nb0_{i} + 0.0 * (cfg[1] * nb0_{i} + F{i})")
                lines.append(f"y{i} = y{i} + 0.0 * nb0_{i}")
    lines += [f"n{i} = y{i}" for i in range(n)]
    return StepCode(tuple(lines), buffers=1, seen_differ=True, structure=first)


def _adam(rule: UpdateRule, n: int, n_theta: int) -> StepCode:
    # g = -F; m' = b1 m + (1 - b1) g; v' = b2 v + (1 - b2) g g;
    # x' = x - h (m'/c1) / (sqrt(v'/c2) + eps)
    lines = [_field("F", "x", n)]
    for i in range(n):
        lines += [f"g{i} = -F{i}",
                  f"nb0_{i} = cfg[0] * b0_{i} + cfg[1] * g{i}",
                  f"nb1_{i} = cfg[2] * b1_{i} + cfg[3] * g{i} * g{i}",
                  f"n{i} = x{i} - h{i} * (nb0_{i} / c1) / (sqrt(nb1_{i} / c2) + cfg[4])"]
    return StepCode((*lines, *_seen("x", n)), buffers=2)


def _ogda(rule: UpdateRule, n: int, n_theta: int) -> StepCode:
    # x' = x + h (2 F(x) - F(previous)); previous' = x. F(previous) is the field of the
    # last step, kept (the same function of the same numbers), computed at a loop's start.
    lines = [_field("F", "x", n)]
    lines += [f"n{i} = x{i} + h{i} * (2.0 * F{i} - P{i})" for i in range(n)]
    lines += [f"nb0_{i} = x{i}" for i in range(n)]
    return StepCode((*lines, *_seen("x", n)), start=(_field("P", "b0_", n),),
                    accept=tuple(f"P{i} = F{i}" for i in range(n)), buffers=1)


def _extragradient(rule: UpdateRule, n: int, n_theta: int) -> StepCode:
    # y = x + h F(x); x' = x + h F(y); both players' gradients saw y
    lines = [_field("F", "x", n)]
    lines += [f"y{i} = x{i} + h{i} * F{i}" for i in range(n)]
    lines.append(_field("G", "y", n))
    lines += [f"n{i} = x{i} + h{i} * G{i}" for i in range(n)]
    return StepCode((*lines, *_seen("y", n)))


def _sum(terms: list[str]) -> str:
    """``((t0 + t1) + t2) ...``: a sum in index order (an einsum over a few terms)."""
    total = terms[0]
    for term in terms[1:]:
        total = f"({total} + {term})"
    return total


def _sga(rule: UpdateRule, n: int, n_theta: int) -> StepCode:
    # xi = -F, A = (J_xi - J_xi^T) / 2 with J_xi = -J; adj_i = xi_i + lambda sum_j A_ji xi_j;
    # x' = x + h (-adj). lambda = lam (cfg[0]), or with the sign alignment
    # |lam| sign(<xi, H^T xi> <A^T xi, H^T xi> / n + eps) (cfg[1], cfg[2]).
    align = bool(rule.setting_values().get("align", 0))
    lines = [_field("F", "x", n),
             f"{_xs('J', n * n)}{',' if n * n == 1 else ''} = _jacobian({_xs('x', n)}, "
             "PARAMS)"]
    lines += [f"xi{i} = -F{i}" for i in range(n)]
    lines += [f"jx{k} = -J{k}" for k in range(n * n)]
    for i in range(n):
        lines.append(f"aj{i} = " + _sum([f"(0.5 * (jx{j * n + i} - jx{i * n + j})) * xi{j}"
                                          for j in range(n)]))
    if align:
        lines += [f"hg{i} = " + _sum([f"jx{j * n + i} * xi{j}" for j in range(n)])
                  for i in range(n)]
        lines.append(f"al = {_sum([f'xi{i} * hg{i}' for i in range(n)])} * "
                     f"{_sum([f'aj{i} * hg{i}' for i in range(n)])} / {float(n)!r}")
        lines.append("lam = cfg[1] * sign(al + cfg[2])")
    else:
        lines.append("lam = cfg[0]")
    for i in range(n):
        lines.append(f"adj{i} = xi{i} + lam * aj{i}")
        lines.append(f"n{i} = x{i} + h{i} * (-adj{i})")
    return StepCode((*lines, *_seen("x", n)), needs_jacobian=True,
                    structure="align" if align else "")


#: Functions a step may call, as source text (numba compiles only those it calls).
HELPERS: dict[str, str] = {
    "_minimum": '''
@njit(cache=True)
def _minimum(a, b):
    # numpy.minimum on floats: a NaN first argument wins, else a < b ? a : b
    if a != a or a < b:
        return a
    return b
''',
    "_maximum": '''
@njit(cache=True)
def _maximum(a, b):
    # numpy.maximum on floats
    if a != a or a > b:
        return a
    return b
''',
    "_clip": '''
@njit(cache=True)
def _clip(v, low, high):
    # numpy.clip on floats: the maximum with low, then the minimum with high (NaN kept)
    if not (v != v or v > low):
        v = low
    if not (v != v or v < high):
        v = high
    return v
''',
    "_lu_solve": '''
@njit(cache=True)
def _lu_solve(A, b):
    # A z = b by Gaussian elimination with partial pivoting (the largest |pivot|, the
    # first on ties, as LAPACK's dgetrf); z is written into b, A is overwritten. A zero
    # pivot (a singular system, where numpy's solve raises) gives NaN: the run diverges.
    n = b.shape[0]
    for c in range(n):
        p = c
        best = abs(A[c, c])
        for i in range(c + 1, n):
            if abs(A[i, c]) > best:
                best = abs(A[i, c])
                p = i
        if p != c:
            for j in range(n):
                t = A[c, j]
                A[c, j] = A[p, j]
                A[p, j] = t
            t = b[c]
            b[c] = b[p]
            b[p] = t
        if A[c, c] == 0.0:
            for i in range(n):
                b[i] = np.nan
            return
        inverse = 1.0 / A[c, c]
        for i in range(c + 1, n):
            f = A[i, c] * inverse
            A[i, c] = f
            for j in range(c + 1, n):
                A[i, j] = A[i, j] - f * A[c, j]
            b[i] = b[i] - f * b[c]
    for c in range(n - 1, -1, -1):
        b[c] = b[c] / A[c, c]
        for i in range(c):
            b[i] = b[i] - b[c] * A[i, c]
''',
}


def _omd(rule: UpdateRule, n: int, n_theta: int) -> StepCode:
    # y = x + h F(y_prev); x' = x + h F(y); y_prev' = y. F(y_prev) is the field of the
    # last step's extrapolated point, kept (the same function of the same numbers) and
    # computed at a loop's start; both players' gradients saw y.
    lines = [f"y{i} = x{i} + h{i} * P{i}" for i in range(n)]
    lines.append(_field("G", "y", n))
    lines += [f"n{i} = x{i} + h{i} * G{i}" for i in range(n)]
    lines += [f"nb0_{i} = y{i}" for i in range(n)]
    return StepCode((*lines, *_seen("y", n)), start=(_field("P", "b0_", n),),
                    accept=tuple(f"P{i} = G{i}" for i in range(n)), buffers=1)


def _jacobian_call(state: str, n: int) -> str:
    comma = "," if n * n == 1 else ""
    return f"{_xs('J', n * n)}{comma} = _jacobian({_xs(state, n)}, PARAMS)"


def _cross_call(target: str, state: str, n: int) -> str:
    comma = "," if n == 1 else ""
    return f"{_xs(target, n)}{comma} = _cross({_xs(state, n)}, PARAMS)"


def _unrolled(rule: UpdateRule, n: int, n_theta: int) -> StepCode:
    # The discriminator's look-ahead y_{i+1} = y_i + eta F(y_i) on psi, k times (cfg[0]),
    # with the sensitivity S_{i+1} = S_i + eta (M_i @ T_i), M_i psi's rows of dF/dx at y_i,
    # T_i = [[I, 0]; S_i]; then g = -F(y_k)_theta + S_k[:, theta]^T c_psi(y_k) and
    # x' = x + h (-g on theta, F(x) on psi). eta is unroll_lr (cfg[1], if cfg[2]) or lr_d.
    nt, m = n_theta, n - n_theta
    lines = ["ucount = int(cfg[0])"]
    lines += [f"e{a} = cfg[1] if cfg[2] > 0.0 else h{nt + a}" for a in range(m)]
    lines += [f"uy{i} = x{i}" for i in range(n)]
    lines += [f"us{a}_{j} = {1.0 if j == nt + a else 0.0!r}" for a in range(m) for j in range(n)]

    def tangent(row: int, j: int) -> str:
        if row < nt:  # the identity's rows, multiplied as numpy's matmul multiplies them
            return repr(1.0 if row == j else 0.0)
        return f"us{row - nt}_{j}"

    body = [_jacobian_call("uy", n)]
    body += [f"ut{a}_{j} = " + _sum([f"J{(nt + a) * n + r} * {tangent(r, j)}"
                                     for r in range(n)])
             for a in range(m) for j in range(n)]
    body += [f"us{a}_{j} = us{a}_{j} + e{a} * ut{a}_{j}" for a in range(m) for j in range(n)]
    body.append(_field("F", "uy", n))
    body += [f"uy{nt + a} = uy{nt + a} + e{a} * F{nt + a}" for a in range(m)]
    lines += ["for unrolled in range(ucount):", *("    " + line for line in body)]
    lines.append(_field("F", "uy", n))
    lines += [f"ug{t} = -F{t}" for t in range(nt)]
    shaped = [_cross_call("C", "uy", n)]
    shaped += [f"ug{t} = ug{t} + " + _sum([f"us{a}_{t} * C{nt + a}" for a in range(m)])
               for t in range(nt)]
    lines += ["if ucount > 0:", *("    " + line for line in shaped)]
    lines.append(_field("D", "x", n))
    lines += [f"n{i} = x{i} + h{i} * (-ug{i})" if i < nt else f"n{i} = x{i} + h{i} * D{i}"
              for i in range(n)]
    return StepCode((*lines, *_seen("x", n)), needs_jacobian=True, needs_cross=True)


def _opponent_shaping(rule: UpdateRule, n: int, n_theta: int) -> StepCode:
    # xi = -F, H = -J, H_o = H * off (the blocks between players), c the cross gradient,
    # alpha = lola_eta (cfg[0], if cfg[1]) or h; look = H_o (alpha xi),
    # shaping = H_o^T (alpha c); xi_p = (xi - look) - p shaping, x' = x - h xi_p, with
    # p = 1 (LOLA) or SOS's min(p1, p2) (cfg[2] = -a, cfg[3] = b^2).
    owner = [i < n_theta for i in range(n)]
    lines = [_field("F", "x", n), _jacobian_call("x", n), _cross_call("C", "x", n)]
    lines += [f"xi{i} = -F{i}" for i in range(n)]
    lines += [f"ho{i * n + j} = (-J{i * n + j}) * {1.0 if owner[i] != owner[j] else 0.0!r}"
              for i in range(n) for j in range(n)]
    lines += [f"al{i} = cfg[0] if cfg[1] > 0.0 else h{i}" for i in range(n)]
    lines += [f"ax{i} = al{i} * xi{i}" for i in range(n)]
    lines += [f"aq{i} = al{i} * C{i}" for i in range(n)]
    lines += [f"lk{i} = " + _sum([f"ho{i * n + j} * ax{j}" for j in range(n)]) for i in range(n)]
    lines += [f"sh{i} = " + _sum([f"ho{j * n + i} * aq{j}" for j in range(n)]) for i in range(n)]
    lines += [f"xz{i} = xi{i} - lk{i}" for i in range(n)]
    helpers: tuple[str, ...] = ()
    if rule.name == "sos":
        # Letcher et al. (2019), Algorithm 1: p1 from <-alpha chi, xi_0>, p2 from |xi|^2
        lines += [f"dot = -({_sum([f'sh{i} * xz{i}' for i in range(n)])})",
                  f"norm0 = {_sum([f'xz{i} * xz{i}' for i in range(n)])}",
                  "if dot >= 0:",
                  "    q1 = 1.0",
                  "else:",
                  "    q1 = _minimum(1.0, cfg[2] * norm0 / dot)",
                  f"norm = {_sum([f'xi{i} * xi{i}' for i in range(n)])}",
                  "q2 = norm if norm < cfg[3] else 1.0",
                  "weight = _minimum(q1, q2)"]
        helpers = ("_minimum",)
    else:
        lines.append("weight = 1.0")
    lines += [f"n{i} = x{i} - h{i} * (xz{i} - weight * sh{i})" for i in range(n)]
    return StepCode((*lines, *_seen("x", n)), needs_jacobian=True, needs_cross=True,
                    helpers=helpers)


def _proximal(rule: UpdateRule, n: int, n_theta: int) -> StepCode:
    # y = x + h F(x); then Newton on y - x - h F(y) = 0, at most cfg[0] iterations:
    # (I - h J(y)) z = y - x - h F(y), y = y - z, until every |z_i| <= cfg[1] max(1, |y_i|).
    lines = [_field("F", "x", n)]
    lines += [f"y{i} = x{i} + h{i} * F{i}" for i in range(n)]
    body = [_field("G", "y", n), _jacobian_call("y", n)]
    body += [f"SYS[{i}, {j}] = {1.0 if i == j else 0.0!r} - h{i} * J{i * n + j}"
             for i in range(n) for j in range(n)]
    body += [f"RHS[{i}] = (y{i} - x{i}) - h{i} * G{i}" for i in range(n)]
    body.append("_lu_solve(SYS, RHS)")
    body += [f"y{i} = y{i} - RHS[{i}]" for i in range(n)]
    settled = " and ".join(f"abs(RHS[{i}]) <= cfg[1] * _maximum(1.0, abs(y{i}))"
                           for i in range(n))
    body += [f"if {settled}:", "    break"]
    lines += ["for newton in range(int(cfg[0])):", *("    " + line for line in body)]
    lines += [f"n{i} = y{i}" for i in range(n)]
    start = (f"SYS = np.empty(({n}, {n}))", f"RHS = np.empty({n})")
    return StepCode((*lines, *_seen("y", n)), start=start, needs_jacobian=True,
                    helpers=("_lu_solve", "_maximum"))


#: The rules the compiled backend implements, by name.
STEP_WRITERS: dict[str, Callable[[UpdateRule, int, int], StepCode]] = {
    "simgd": _simgd,
    "altgd": _altgd,
    "momentum": _momentum,
    "altmomentum": _altmomentum,
    "adam": _adam,
    "ogda": _ogda,
    "extragradient": _extragradient,
    "sga": _sga,
    "omd": _omd,
    "unrolled": _unrolled,
    "proximal": _proximal,
    "lola": _opponent_shaping,
    "sos": _opponent_shaping,
}


def step_code(rule: UpdateRule, n: int, n_theta: int, *, clip: bool = False) -> StepCode:
    """The generated step of ``rule`` on ``n`` coordinates (the first ``n_theta`` are theta's).

    With ``clip``, the step is followed by weight clipping (:func:`with_clip`), its
    bound read from the last entry of :func:`settings_vector`.

    Raises
    ------
    UnsupportedError
        For a rule the compiled backend does not implement.
    """
    writer = STEP_WRITERS.get(rule.name)
    known = _KNOWN_STEPS.get(rule.name, {})
    if writer is None or any(getattr(type(rule), method, None) is not function
                             for method, function in known.items()):
        raise UnsupportedError(f"the rule {rule.name!r} has no compiled step")
    step = writer(rule, n, n_theta)
    return with_clip(step, n, n_theta, len(_settings(rule))) if clip else step


def with_clip(step: StepCode, n: int, n_theta: int, index: int) -> StepCode:
    """``step`` followed by weight clipping of the discriminator's coordinates to ``cfg[index]``.

    As :class:`gandyn.dynamics.stepping.StepLoop` applies a projection: to the
    new state only (not the buffers, not the states the gradients saw), before the
    max-norm check; :class:`gandyn.dynamics.projection.WeightClip` clips with
    ``numpy.clip(x, -bound, bound)``.
    """
    lines = [f"n{i} = _clip(n{i}, -cfg[{index}], cfg[{index}])" for i in range(n_theta, n)]
    return replace(step, lines=(*step.lines, *lines), helpers=(*step.helpers, "_clip"),
                   structure=f"{step.structure}|clip")


def _settings(rule: UpdateRule) -> list[float]:
    """The rule's numbers of :func:`settings_vector`, without the clipping bound."""
    name = rule.name
    given = rule.setting_values()
    if name == "momentum":
        return [float(given["beta"])]
    if name == "altmomentum":
        beta = float(given["beta"])
        return [beta, beta - 1.0]
    if name == "adam":
        b1, b2 = float(given["beta1"]), float(given["beta2"])
        return [b1, 1 - b1, b2, 1 - b2, float(given["eps"])]
    if name == "sga":
        lam = float(given["lam"])
        return [lam, abs(lam), float(given.get("align_eps", 0.0))]
    if name == "unrolled":
        rate = given["unroll_lr"]
        return [float(given["unroll"]), 0.0 if rate is None else float(rate),
                0.0 if rate is None else 1.0]
    if name in ("lola", "sos"):
        rate = given["lola_eta"]
        values = [0.0 if rate is None else float(rate), 0.0 if rate is None else 1.0]
        if name == "sos":
            # as the numpy step computes them: -a (then times |xi_0|^2), b**2
            values += [-float(given["sos_a"]), float(given["sos_b"]) ** 2]
        return values
    if name == "proximal":
        from gandyn.rules import proximal

        return [float(proximal._NEWTON_STEPS), float(proximal._NEWTON_TOL)]
    return []


def settings_vector(rule: UpdateRule, clip: float | None = None) -> Array:
    """The numbers the generated step reads as ``cfg[...]``, computed as the numpy step does.

    The last entry is the weight clipping bound ``clip`` (0.0 without clipping), so
    the vector is never empty: one signature for every rule.
    """
    return np.array([*_settings(rule), 0.0 if clip is None else float(clip)],
                    dtype=np.float64)


#: The methods each writer above repeats, beyond ``step`` (which calls them): a subclass
#: that overrides one of them is another rule and stays on numpy.
_DELEGATES: dict[str, tuple[str, ...]] = {
    "unrolled": ("generator_gradient", "_unroll", "_eta"),
    "lola": ("adjusted_gradient", "shaping_weight", "_terms", "_alpha"),
    "sos": ("adjusted_gradient", "shaping_weight", "_terms", "_alpha", "_parts"),
    "proximal": ("_solve",),
}


def _known_steps() -> dict[str, dict[str, object]]:
    from gandyn.rules.registry import RULES

    return {name: {method: getattr(RULES[name], method)
                   for method in ("step", *_DELEGATES.get(name, ()))}
            for name in STEP_WRITERS if name in RULES}


_KNOWN_STEPS: dict[str, dict[str, object]] = _known_steps()
