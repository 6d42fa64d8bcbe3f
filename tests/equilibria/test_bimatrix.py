"""Bimatrix games: Lemke-Howson and support enumeration against published equilibria.

Costs are minus the payoffs of the sources (both players minimize here).

* Matching pennies: the unique equilibrium is both players mixing 1/2-1/2,
  value 0 (von Neumann and Morgenstern 1944, Sec. 18).
* Battle of the sexes (Luce and Raiffa 1957, Sec. 5.3), payoffs (2, 1) when
  both pick the first option and (1, 2) when both pick the second, (0, 0)
  otherwise: two pure equilibria and the mixed one, row (2/3, 1/3) and column
  (1/3, 2/3), where each expects 2/3. The mixed equilibrium has index -1, so
  Lemke-Howson from the artificial equilibrium never ends there (Shapley
  1974): every label gives a pure one, and support enumeration all three.
* The 3 x 2 game of von Stengel (2002, Sec. 2; Nisan et al. 2007, Ch. 3),
  row payoffs ``A = [[3, 3], [2, 5], [0, 6]]`` and column payoffs ``B = [[3,
  2], [2, 6], [3, 1]]``: nondegenerate, with the three equilibria
  ``((1, 0, 0), (1, 0))``, ``((4/5, 1/5, 0), (2/3, 1/3))`` and ``((0, 1/3,
  2/3), (1/3, 2/3))``. Its degenerate variant with ``B[0] = (3, 3)`` (the top
  row has two best responses): derived here, against ``(1, 0, 0)`` the column
  player is indifferent, and the top row stays a best response for ``y_1 >=
  2/3`` (row 2 pays ``5 - 3 y_1``, row 3 ``6 - 6 y_1``), so ``{(1, 0, 0)} x
  {y: y_1 in [2/3, 1]}`` is a component of equilibria; ``((0, 1/3, 2/3),
  (1/3, 2/3))`` remains (rows 2 and 3 tie at 4, row 1 pays 3; columns tie at
  8/3). These are all: with ``y_1 < 2/3`` the top row is not a best reply,
  and the only equilibrium on rows 2, 3 is the one above.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from gandyn.equilibria.bimatrix import (
    MAX_STRATEGIES,
    bimatrix_equilibrium,
    deviation_gains,
    lemke_howson,
    support_enumeration,
)
from gandyn.equilibria.grid_nash import PayoffGrid, mixed_equilibrium
from gandyn.errors import SpecError

PENNIES = np.array([[1.0, -1.0], [-1.0, 1.0]])
SEXES_ROW = np.array([[2.0, 0.0], [0.0, 1.0]])
SEXES_COL = np.array([[1.0, 0.0], [0.0, 2.0]])
STENGEL_A = np.array([[3.0, 3.0], [2.0, 5.0], [0.0, 6.0]])
STENGEL_B = np.array([[3.0, 2.0], [2.0, 6.0], [3.0, 1.0]])


def labels(m: int, n: int) -> range:
    return range(m + n)


def test_matching_pennies_mixes_half_half() -> None:
    found = bimatrix_equilibrium(-PENNIES, PENNIES)
    assert found.verified
    assert found.p == pytest.approx([0.5, 0.5], abs=1e-12)
    assert found.q == pytest.approx([0.5, 0.5], abs=1e-12)
    assert (found.cost_g, found.cost_d) == pytest.approx((0.0, 0.0), abs=1e-12)


def test_battle_of_the_sexes_all_three_equilibria() -> None:
    g, d = -SEXES_ROW, -SEXES_COL
    found = support_enumeration(g, d)
    got = sorted((tuple(np.round(e.p, 12)), tuple(np.round(e.q, 12)),
                  round(-e.cost_g, 12), round(-e.cost_d, 12)) for e in found)
    expected = sorted([((1.0, 0.0), (1.0, 0.0), 2.0, 1.0), ((0.0, 1.0), (0.0, 1.0), 1.0, 2.0),
                       ((round(2 / 3, 12), round(1 / 3, 12)), (round(1 / 3, 12), round(2 / 3, 12)),
                        round(2 / 3, 12), round(2 / 3, 12))])
    assert got == expected
    # Lemke-Howson reaches only the index +1 equilibria: the two pure ones.
    for k in labels(2, 2):
        p, q, _ = lemke_howson(g, d, k)
        assert (tuple(p), tuple(q)) in {((1.0, 0.0), (1.0, 0.0)), ((0.0, 1.0), (0.0, 1.0))}


def test_von_stengel_nondegenerate_game() -> None:
    expected = [((1, 0, 0), (1, 0)), ((4 / 5, 1 / 5, 0), (2 / 3, 1 / 3)),
                ((0, 1 / 3, 2 / 3), (1 / 3, 2 / 3))]

    def known(p: np.ndarray, q: np.ndarray) -> bool:
        return any(np.allclose(p, ep, atol=1e-10) and np.allclose(q, eq, atol=1e-10)
                   for ep, eq in expected)

    found = support_enumeration(-STENGEL_A, -STENGEL_B)
    assert len(found) == 3 and all(known(e.p, e.q) for e in found)
    for k in labels(3, 2):
        p, q, _ = lemke_howson(-STENGEL_A, -STENGEL_B, k)
        assert known(p, q), (k, p, q)


def test_von_stengel_degenerate_game() -> None:
    B = STENGEL_B.copy()
    B[0] = (3.0, 3.0)
    for k in labels(3, 2):
        p, q, pivots = lemke_howson(-STENGEL_A, -B, k)
        assert max(deviation_gains(-STENGEL_A, -B, p, q)) < 1e-12
        on_component = np.allclose(p, (1, 0, 0)) and q[0] >= 2 / 3 - 1e-12
        isolated = np.allclose(p, (0, 1 / 3, 2 / 3)) and np.allclose(q, (1 / 3, 2 / 3))
        assert on_component or isolated, (k, p, q)
        assert pivots < 20


def brute_force_equilibria(g: np.ndarray, d: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """All equilibria of a nondegenerate game by solving every equal-size support pair.

    Independent of :func:`support_enumeration`: least squares on the indifference
    equations, no shared helper.
    """
    m, n = g.shape
    found = []
    for k in range(1, min(m, n) + 1):
        for rows in itertools.combinations(range(m), k):
            for cols in itertools.combinations(range(n), k):
                # q on cols equalizes g's rows in `rows`; p on rows equalizes d's columns.
                mq = np.vstack([g[np.ix_(rows, cols)] - g[np.ix_(rows[:1], cols)],
                                np.ones((1, k))])
                mp = np.vstack([(d[np.ix_(rows, cols)] - d[np.ix_(rows, cols[:1])]).T,
                                np.ones((1, k))])
                rhs = np.zeros(k + 1)
                rhs[-1] = 1.0
                qs, *_ = np.linalg.lstsq(mq, rhs, rcond=None)
                ps, *_ = np.linalg.lstsq(mp, rhs, rcond=None)
                if np.min(qs) < -1e-12 or np.min(ps) < -1e-12:
                    continue
                q, p = np.zeros(n), np.zeros(m)
                q[list(cols)], p[list(rows)] = qs, ps
                if (np.allclose(mq @ qs, rhs) and np.allclose(mp @ ps, rhs)
                        and np.min(g @ q) >= p @ g @ q - 1e-12
                        and np.min(p @ d) >= p @ d @ q - 1e-12):
                    found.append((p, q))
    return found


def test_random_games_against_brute_force() -> None:
    rng = np.random.default_rng(7)
    for _ in range(20):
        m, n = (int(v) for v in rng.integers(1, 6, 2))
        g, d = rng.random((m, n)), rng.random((m, n))
        everything = brute_force_equilibria(g, d)
        assert len(everything) % 2 == 1  # nondegenerate games have an odd number (Wilson 1971)
        assert len(support_enumeration(g, d)) == len(everything)
        for k in labels(m, n):
            p, q, _ = lemke_howson(g, d, k)
            assert any(np.allclose(p, ep, atol=1e-9) and np.allclose(q, eq, atol=1e-9)
                       for ep, eq in everything)


def test_degenerate_integer_games_end_at_equilibria() -> None:
    # Payoffs in {0, 1, 2, 3}: ties everywhere; the lexicographic rule must neither cycle
    # nor stop short. The check (deviation gains) is independent of the path.
    rng = np.random.default_rng(3)
    for _ in range(60):
        m, n = (int(v) for v in rng.integers(1, 8, 2))
        g, d = rng.integers(0, 4, (m, n)).astype(float), rng.integers(0, 4, (m, n)).astype(float)
        for k in labels(m, n):
            p, q, _ = lemke_howson(g, d, k)
            assert max(deviation_gains(g, d, p, q)) < 1e-12


def test_zero_sum_grid_agrees_with_the_linear_program() -> None:
    # Hide and seek on a 41-point grid of [-1, 1]: cost_g = (theta - psi)**2 = -cost_d. The
    # grid contains 0 and +-1, so the value is the continuous game's, 1 (G at 0, D at +-1).
    theta = np.linspace(-1.0, 1.0, 41)
    V = (theta[:, None] - theta[None, :]) ** 2
    found = bimatrix_equilibrium(V, -V)
    assert found.verified
    lp = mixed_equilibrium(PayoffGrid("theta", "psi", theta, theta, V, -V))
    assert found.cost_g == pytest.approx(lp.value, abs=1e-12)
    assert found.cost_g == pytest.approx(1.0, abs=1e-12)
    assert found.cost_d == pytest.approx(-1.0, abs=1e-12)


def test_zero_sum_random_matrix_value_agrees_with_the_linear_program() -> None:
    rng = np.random.default_rng(11)
    V = rng.normal(size=(12, 9))
    grid = PayoffGrid("theta", "psi", np.arange(12.0), np.arange(9.0), V, -V)
    found = bimatrix_equilibrium(V, -V)
    assert found.verified
    assert found.cost_g == pytest.approx(mixed_equilibrium(grid).value, abs=1e-9)


def test_bad_input_is_refused() -> None:
    with pytest.raises(SpecError, match="one shape"):
        bimatrix_equilibrium(np.zeros((2, 3)), np.zeros((3, 2)))
    with pytest.raises(SpecError, match="not finite"):
        bimatrix_equilibrium(np.array([[np.nan]]), np.array([[0.0]]))
    with pytest.raises(SpecError, match="initial label"):
        lemke_howson(np.zeros((2, 2)), np.zeros((2, 2)), 4)
    with pytest.raises(SpecError, match=f"at most {MAX_STRATEGIES}"):
        lemke_howson(np.zeros((MAX_STRATEGIES, 1)), np.zeros((MAX_STRATEGIES, 1)))
    with pytest.raises(SpecError, match="support pairs"):
        support_enumeration(np.zeros((30, 30)), np.zeros((30, 30)))
