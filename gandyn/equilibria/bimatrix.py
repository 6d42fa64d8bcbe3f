"""Mixed Nash equilibria of bimatrix games: Lemke-Howson, support enumeration, the check.

A general-sum game on a grid (:func:`gandyn.equilibria.nash_existence.discretize`)
is a *bimatrix* game: the generator picks a row ``i``, the discriminator a
column ``j``, and each pays its own cost, ``cost_g[i, j]`` and
``cost_d[i, j]``. A zero-sum linear program does not apply; here:

* :func:`lemke_howson` follows the complementary path of Lemke and Howson
  (1964) from the artificial equilibrium to a Nash equilibrium, with the
  lexicographic minimum-ratio rule, so that degenerate games (ties, which grid
  games have in plenty) neither cycle nor stall (von Stengel 2002, Sec. 2.6;
  Nisan et al. 2007, Sec. 3.5). The tableaux are kept normalized (each basic
  variable's row divided by its pivot) in floating point;
* :func:`support_enumeration` lists, for small games, every equilibrium whose
  two supports have the same size: all equilibria of a nondegenerate game
  (Nisan et al. 2007, Sec. 3.3), for instance the mixed equilibrium of the
  battle of the sexes that Lemke-Howson from the artificial equilibrium does
  not reach;
* :func:`deviation_gains` is the certificate: how much each player's
  expected cost falls when it switches to its best *pure* strategy against
  the other's mixed strategy. A pair ``(p, q)`` is a Nash equilibrium exactly
  when both gains are zero (a mixed deviation is an average of pure ones);
  :func:`bimatrix_equilibrium` returns Lemke-Howson's answer only with both
  gains at most ``tol``, trying other starting labels if rounding spoilt one.

Conventions (``gandyn`` section 2): both players *minimize* their costs;
payoffs for the algorithms are ``-cost`` shifted to be positive, which
changes no best response.

The Python package ``nashpy`` (0.0.43) was considered first: its
Lemke-Howson pivots without normalizing rows, and on the 41 x 41 grid of hide
and seek (``cost_g = (theta - psi)**2 = -cost_d``) the entries overflowed and
the path did not end within 300 s; on a random 100 x 100 game it returned
strategies that were not finite or not of the game's shape. Grid games need
the normalized tableaux written here (measured with ``nashpy`` 0.0.43 on this
project's machine, December 2026).

References
----------
.. [1] Lemke and Howson (1964). Equilibrium points of bimatrix games. J. SIAM
   12(2), 413-423.
.. [2] von Stengel (2002). Computing equilibria for two-person games. In
   Handbook of Game Theory with Economic Applications, vol. 3, ch. 45,
   Elsevier, Sec. 2 (best-response polytopes, the Lemke-Howson algorithm,
   degenerate games and lexicographic pivoting).
.. [3] Nisan, Roughgarden, Tardos and Vazirani (2007). Algorithmic Game Theory
   (editors). Cambridge University Press, Ch. 3 (von Stengel: support
   enumeration, Sec. 3.3; Lemke-Howson, Sec. 3.4; degeneracy, Sec. 3.5).
.. [4] Nash (1951). Non-cooperative games. Ann. Math. 54(2), 286-295.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np

from gandyn.arrays import Array
from gandyn.errors import SpecError

__all__ = [
    "MAX_STRATEGIES",
    "MAX_SUPPORT_PAIRS",
    "BimatrixEquilibrium",
    "bimatrix_equilibrium",
    "default_tol",
    "deviation_gains",
    "lemke_howson",
    "support_enumeration",
]

#: Most strategies of both players together (``m + n``) that :func:`lemke_howson` takes: its
#: two tableaux hold ``(m + n) * (m + n + 1)`` numbers (50 MB at 2500).
MAX_STRATEGIES = 2500
#: Most pairs of supports :func:`support_enumeration` tries.
MAX_SUPPORT_PAIRS = 200_000


@dataclass(frozen=True, eq=False)
class BimatrixEquilibrium:
    """A mixed Nash equilibrium of a bimatrix game of costs, with its certificate.

    Attributes
    ----------
    p, q
        The generator's (rows) and the discriminator's (columns) mixed
        strategies, each nonnegative and summing to one.
    cost_g, cost_d
        The expected costs ``p @ cost_g @ q`` and ``p @ cost_d @ q``.
    gain_g, gain_d
        Each player's largest fall of expected cost by a pure deviation
        (:func:`deviation_gains`), at least 0.
    tol
        The tolerance the gains were checked against.
    initial_label
        The label Lemke-Howson dropped first (``-1``: found otherwise).
    pivots
        Pivots of the path (0 when found otherwise).
    """

    p: Array
    q: Array
    cost_g: float
    cost_d: float
    gain_g: float
    gain_d: float
    tol: float
    initial_label: int = -1
    pivots: int = 0

    @property
    def verified(self) -> bool:
        """Whether no pure deviation lowers either player's cost by more than ``tol``."""
        return self.gain_g <= self.tol and self.gain_d <= self.tol

    def to_dict(self) -> dict[str, Any]:
        """JSON: both strategies, both expected costs, both deviation gains and the check."""
        return {"p": self.p.tolist(), "q": self.q.tolist(), "cost_g": self.cost_g,
                "cost_d": self.cost_d, "deviation_gains": [self.gain_g, self.gain_d],
                "tol": self.tol, "verified": self.verified,
                "initial_label": self.initial_label, "pivots": self.pivots}


def _costs(cost_g: Any, cost_d: Any) -> tuple[Array, Array]:
    g = np.asarray(cost_g, dtype=np.float64)
    d = np.asarray(cost_d, dtype=np.float64)
    if g.ndim != 2 or g.shape != d.shape or 0 in g.shape:
        raise SpecError(f"bimatrix game: two cost matrices of one shape (m, n) needed, got "
                        f"{g.shape} and {d.shape}")
    if not (np.all(np.isfinite(g)) and np.all(np.isfinite(d))):
        raise SpecError("bimatrix game: a cost is not finite")
    return g, d


def default_tol(cost_g: Array, cost_d: Array) -> float:
    """``1e-8 (1 + max |cost|)``: the rounding of a few hundred pivots, far below grid effects."""
    return 1e-8 * (1.0 + max(float(np.max(np.abs(cost_g))), float(np.max(np.abs(cost_d)))))


def deviation_gains(cost_g: Any, cost_d: Any, p: Any, q: Any) -> tuple[float, float]:
    """How much each player's expected cost falls by its best pure deviation from ``(p, q)``.

    ``gain_g = p @ C_g @ q - min_i (C_g @ q)_i`` and ``gain_d = p @ C_d @ q -
    min_j (p @ C_d)_j``, both at least 0; ``(p, q)`` is a Nash equilibrium
    exactly when both are 0 (Nash 1951: a mixed strategy is a best response
    when every pure strategy it plays is one).
    """
    g, d = _costs(cost_g, cost_d)
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    g_rows = g @ q
    d_cols = p @ d
    return max(float(p @ g_rows - g_rows.min()), 0.0), max(float(d_cols @ q - d_cols.min()), 0.0)


class _Tableau:
    """One best-response polytope as a normalized simplex tableau.

    Rows are the basic variables; columns are the variables by label, then the
    right-hand side. ``slack`` are the columns of the slack variables, which
    started as the identity: they hold the inverse of the current basis, whose
    rows order the ratios lexicographically (von Stengel 2002, Sec. 2.6).
    """

    def __init__(self, matrix: Array, basis: Array, slack: Array) -> None:
        self.t = matrix
        self.basis = basis
        self.slack = slack

    def pivot(self, column: int) -> int:
        """Bring ``column``'s variable into the basis; return the label that leaves."""
        t = self.t
        entries = t[:, column]
        positive = np.flatnonzero(entries > 1e-12 * max(1.0, float(np.max(np.abs(entries)))))
        if len(positive) == 0:  # pragma: no cover - bounded polytopes always have a row
            raise RuntimeError("Lemke-Howson: unbounded edge (no pivot row)")
        candidates = positive
        # The lexicographic minimum of (rhs, basis inverse row) / entry over the candidates.
        for key in itertools.chain((t.shape[1] - 1,), self.slack):
            ratios = t[candidates, key] / entries[candidates]
            least = float(ratios.min())
            candidates = candidates[ratios <= least + 1e-11 * (1.0 + abs(least))]
            if len(candidates) == 1:
                break
        row = int(candidates[0])
        t[row] /= t[row, column]
        others = t[:, column].copy()
        others[row] = 0.0
        t -= np.outer(others, t[row])
        t[:, column] = 0.0
        t[row, column] = 1.0
        leaving = int(self.basis[row])
        self.basis[row] = column
        return leaving


def lemke_howson(cost_g: Any, cost_d: Any, initial_label: int = 0,
                 max_pivots: int | None = None) -> tuple[Array, Array, int]:
    """One Nash equilibrium of the bimatrix game by the Lemke-Howson algorithm.

    With payoffs ``A = -cost_g``, ``B = -cost_d`` shifted to be positive, the
    best-response polytopes are ``P = {x >= 0: B^T x <= 1}`` and ``Q = {y >=
    0: A y <= 1}``; label ``i < m`` is the generator's strategy ``i``, label
    ``m + j`` the discriminator's strategy ``j``. From the artificial
    equilibrium ``(0, 0)`` label ``initial_label`` is dropped, and the label
    that leaves one polytope's basis enters the other's until the dropped label
    leaves: then ``(x, y)`` is completely labelled and, normalized, a Nash
    equilibrium (von Stengel 2002, Thm. 2.4 and Algorithm 2.5).

    Returns
    -------
    p, q, pivots
        The generator's and the discriminator's mixed strategies and the
        number of pivots.

    Raises
    ------
    SpecError
        For matrices of different shapes, non-finite costs, more than
        :data:`MAX_STRATEGIES` strategies or a label out of range.
    RuntimeError
        When the path exceeds ``max_pivots`` (default ``50 (m + n) + 1000``).

    References
    ----------
    .. [1] Lemke and Howson (1964). J. SIAM 12(2), 413-423.
    .. [2] von Stengel (2002). Handbook of Game Theory, vol. 3, ch. 45, Sec. 2.
    """
    g, d = _costs(cost_g, cost_d)
    m, n = g.shape
    if m + n > MAX_STRATEGIES:
        raise SpecError(f"bimatrix game: {m} + {n} strategies, at most {MAX_STRATEGIES} "
                        "(the tableaux grow with the square)")
    k = int(initial_label)
    if not 0 <= k < m + n:
        raise SpecError(f"bimatrix game: initial label must be in 0..{m + n - 1}, got {k}")
    A = -g - float(np.min(-g)) + 1.0
    B = -d - float(np.min(-d)) + 1.0
    # P: B^T x + s = 1, variables x (labels 0..m-1) then s (labels m..m+n-1).
    p_tab = _Tableau(np.hstack([B.T, np.eye(n), np.ones((n, 1))]), np.arange(m, m + n),
                     np.arange(m, m + n))
    # Q: r + A y = 1, variables r (labels 0..m-1) then y (labels m..m+n-1).
    q_tab = _Tableau(np.hstack([np.eye(m), A, np.ones((m, 1))]), np.arange(m),
                     np.arange(m))
    limit = 50 * (m + n) + 1000 if max_pivots is None else int(max_pivots)
    # x_k enters P when k is the generator's label, y_(k-m) enters Q otherwise.
    tableau, other = (p_tab, q_tab) if k < m else (q_tab, p_tab)
    entering, pivots = k, 0
    while True:
        leaving = tableau.pivot(entering)
        pivots += 1
        if leaving == k:
            break
        if pivots >= limit:
            raise RuntimeError(f"Lemke-Howson: no equilibrium within {limit} pivots")
        tableau, other = other, tableau
        entering = leaving
    x, y = np.zeros(m), np.zeros(n)
    for row, label in enumerate(p_tab.basis):
        if label < m:
            x[label] = p_tab.t[row, -1]
    for row, label in enumerate(q_tab.basis):
        if label >= m:
            y[label - m] = q_tab.t[row, -1]
    x, y = np.clip(x, 0.0, None), np.clip(y, 0.0, None)
    return x / x.sum(), y / y.sum(), pivots


def bimatrix_equilibrium(cost_g: Any, cost_d: Any, tol: float | None = None,
                         attempts: int = 4) -> BimatrixEquilibrium:
    """A checked mixed Nash equilibrium of the bimatrix game of costs ``(cost_g, cost_d)``.

    Lemke-Howson (:func:`lemke_howson`) from label 0; when rounding leaves a
    pure deviation gaining more than ``tol``, from the next labels, up to
    ``attempts`` paths. The answer is the path with the smallest largest
    gain; :attr:`BimatrixEquilibrium.verified` says whether it passed.

    Parameters
    ----------
    cost_g, cost_d
        ``(m, n)`` matrices: the generator (rows) and the discriminator
        (columns) minimize their own.
    tol
        Largest allowed deviation gain; default ``1e-8 (1 + max |cost|)``.
    attempts
        Most starting labels tried.
    """
    g, d = _costs(cost_g, cost_d)
    tol = default_tol(g, d) if tol is None else float(tol)
    m, n = g.shape
    best: BimatrixEquilibrium | None = None
    failure = ""
    for label in range(min(int(attempts), m + n)):
        try:
            p, q, pivots = lemke_howson(g, d, label)
        except RuntimeError as error:
            failure = str(error)
            continue
        gain_g, gain_d = deviation_gains(g, d, p, q)
        found = BimatrixEquilibrium(p, q, float(p @ g @ q), float(p @ d @ q), gain_g, gain_d,
                                    tol, label, pivots)
        if best is None or max(gain_g, gain_d) < max(best.gain_g, best.gain_d):
            best = found
        if found.verified:
            break
    if best is None:  # pragma: no cover - the lexicographic rule does not cycle
        raise RuntimeError(failure)
    return best


def support_enumeration(cost_g: Any, cost_d: Any,
                        tol: float | None = None) -> list[BimatrixEquilibrium]:
    """Every equilibrium whose supports have equal sizes: all of a nondegenerate game.

    For each pair of supports ``I`` (rows) and ``J`` (columns) with ``|I| =
    |J|``, ``q`` on ``J`` makes the generator indifferent over ``I`` and ``p``
    on ``I`` makes the discriminator indifferent over ``J`` (square linear
    systems with the sums of probabilities); the pair is kept when both are
    nonnegative and no pure deviation gains more than ``tol`` (Nisan et al.
    2007, Algorithm 3.4). Equilibria found on several support pairs (a
    degenerate game's) are listed once.

    Raises
    ------
    SpecError
        For more than :data:`MAX_SUPPORT_PAIRS` support pairs.
    """
    g, d = _costs(cost_g, cost_d)
    tol = default_tol(g, d) if tol is None else float(tol)
    m, n = g.shape
    from math import comb

    pairs = sum(comb(m, k) * comb(n, k) for k in range(1, min(m, n) + 1))
    if pairs > MAX_SUPPORT_PAIRS:
        raise SpecError(f"support enumeration: {pairs} support pairs, at most "
                        f"{MAX_SUPPORT_PAIRS}; use lemke_howson")
    found: list[BimatrixEquilibrium] = []
    for size in range(1, min(m, n) + 1):
        for rows in itertools.combinations(range(m), size):
            for cols in itertools.combinations(range(n), size):
                q = _indifferent(g[np.ix_(rows, cols)], n, cols)
                p = _indifferent(d[np.ix_(rows, cols)].T, m, rows)
                if p is None or q is None:
                    continue
                gain_g, gain_d = deviation_gains(g, d, p, q)
                if max(gain_g, gain_d) > tol:
                    continue
                if any(np.allclose(p, e.p, atol=1e-9) and np.allclose(q, e.q, atol=1e-9)
                       for e in found):
                    continue
                found.append(BimatrixEquilibrium(p, q, float(p @ g @ q), float(p @ d @ q),
                                                 gain_g, gain_d, tol))
    return found


def _indifferent(block: Array, size: int, support: tuple[int, ...]) -> Array | None:
    """The mixed strategy on ``support`` that equalizes the rows of ``block``, or ``None``.

    Solves ``block @ w = v 1``, ``sum w = 1``; ``None`` when singular or negative.
    """
    k = len(support)
    system = np.zeros((k + 1, k + 1))
    system[:k, :k] = block
    system[:k, k] = -1.0
    system[k, :k] = 1.0
    rhs = np.zeros(k + 1)
    rhs[k] = 1.0
    try:
        solution = np.linalg.solve(system, rhs)
    except np.linalg.LinAlgError:
        return None
    if not np.all(np.isfinite(solution)) or np.min(solution[:k]) < -1e-12:
        return None
    w = np.zeros(size)
    w[list(support)] = np.clip(solution[:k], 0.0, None)
    result: Array = w / w.sum()
    return result
