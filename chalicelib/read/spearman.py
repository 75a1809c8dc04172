"""Spearman's rank correlation, on the standard library.

Spearman's ρ is Pearson's correlation of the two variables' ranks, tied values sharing the
mean of the ranks they span (the definition ``scipy.stats.spearmanr`` computes). Ranks make
it robust to one viral outlier: a campaign shared 100 times more than the next one is
simply first. Why not a library: scipy with numpy is some 220 MB unpacked, close to
Lambda's 250 MB limit, for what is a sort and a mean here; Python's own
``statistics.correlation`` does the Pearson part (its ``method="ranked"`` needs Python 3.12,
and the runtime may be 3.11), so only the ranking is ours, and it is tested against scipy.
"""
from __future__ import annotations

import statistics
from collections.abc import Sequence

MIN_SAMPLES = 3


def ranks(values: Sequence[float]) -> list[float]:
    """1-based ranks of ``values``; tied values share the mean of the ranks they span."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    result = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        shared = (start + end) / 2 + 1  # the mean of ranks start+1 .. end+1
        for position in range(start, end + 1):
            result[order[position]] = shared
        start = end + 1
    return result


def spearman(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Spearman's ρ of paired samples, in [-1, 1]; ``None`` with fewer than 3 pairs or when
    either variable takes a single value (then nothing ranks, and ρ is undefined)."""
    if len(x) != len(y):
        raise ValueError("spearman needs paired samples")
    if len(x) < MIN_SAMPLES or len(set(x)) < 2 or len(set(y)) < 2:
        return None
    return statistics.correlation(ranks(x), ranks(y))
