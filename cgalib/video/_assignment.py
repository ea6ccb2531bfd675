"""One-to-one assignment with forbidden pairs: the tracker's and the tracking metrics' matcher."""

from __future__ import annotations

import numpy as np

from cgalib.video._deps import require


def min_cost_matching(costs: np.ndarray, purpose: str) -> tuple[np.ndarray, np.ndarray]:
    """The most pairs, then the least total cost: a gated minimum-cost assignment.

    Pairs whose cost is NaN or infinite are never matched (the gate comes before the
    assignment). Forbidden pairs are given a cost larger than any matching of valid pairs
    could save, ``2 r c + 1`` with ``r = min(N, M)`` and ``c`` one more than the largest
    absolute valid cost, and SciPy's ``linear_sum_assignment`` solves the rest: the matching
    has as many valid pairs as possible and, among those, the least total cost. This is
    py-motmetrics' ``lap.add_expensive_edges`` with its SciPy solver, so the two pick the
    same matching even when costs tie.

    Args:
        costs: `(N, M)` the cost of each pair; NaN or inf forbids it.
        purpose: what needs SciPy, for the message when it is missing.

    Returns:
        ``(rows, cols)``: `(P,)` each, the matched pairs, rows increasing.

    Raises:
        ImportError: without SciPy, naming ``purpose`` and ``pip install cgalib[video]``.
    """
    costs = np.asarray(costs, dtype=float)
    valid = np.isfinite(costs)
    if not valid.any():
        return np.zeros(0, int), np.zeros(0, int)
    lsa = require("scipy.optimize", purpose).linear_sum_assignment
    large = 2 * min(costs.shape) * (np.abs(costs[valid]).max() + 1) + 1
    rows, cols = lsa(np.where(valid, costs, large))
    keep = valid[rows, cols]
    return rows[keep], cols[keep]
