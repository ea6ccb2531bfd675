"""The gated assignment: the most pairs, then the least cost, against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from cgalib.video._assignment import min_cost_matching

pytest.importorskip("scipy", reason="tracking needs SciPy: pip install cgalib[video]")


def _brute_force(costs):
    """(pairs, total cost) of the best matching: every partial one-to-one matching tried."""
    n, m = costs.shape
    best = (0, 0.0)
    for cols in itertools.permutations([*range(m), *[None] * n], n):
        pairs = [(i, j) for i, j in enumerate(cols) if j is not None]
        if all(np.isfinite(costs[i, j]) for i, j in pairs):
            total = sum(costs[i, j] for i, j in pairs)
            if len(pairs) > best[0] or (len(pairs) == best[0] and total < best[1] - 1e-12):
                best = (len(pairs), total)
    return best


def test_a_forbidden_pair_never_decides_the_matching():
    # Alone, (0, 0) is the cheapest pair; two allowed pairs beat it.
    rows, cols = min_cost_matching(np.array([[0.0, 0.4], [0.4, np.nan]]), "test")
    assert rows.tolist() == [0, 1] and cols.tolist() == [1, 0]
    rows, cols = min_cost_matching(np.full((2, 3), np.nan), "test")
    assert rows.size == cols.size == 0


@pytest.mark.parametrize("seed", range(40))
def test_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    n, m = rng.integers(1, 5, 2)
    costs = rng.uniform(-1, 1, (n, m)).round(1)  # rounded: ties happen
    costs[rng.random((n, m)) < 0.4] = np.nan
    rows, cols = min_cost_matching(costs, "test")
    assert len(set(rows.tolist())) == len(rows) and len(set(cols.tolist())) == len(cols)
    assert np.isfinite(costs[rows, cols]).all()
    count, total = _brute_force(costs)
    assert len(rows) == count
    assert costs[rows, cols].sum() == pytest.approx(total, abs=1e-9)
