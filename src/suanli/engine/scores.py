"""Generic scores for the live exchange: price first, then a snug fit.

Each returns integers 0-100 over candidate node rows (all of which fit), higher is better.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from suanli.engine.demand import MILLI, Demand
from suanli.engine.snapshot import IntArray, Snapshot


def normalize_low_is_best(values: IntArray) -> IntArray:
    """Map the lowest value to 100 and the highest to 0, linearly (integers)."""
    low, high = values[values.argmin()], values[values.argmax()]  # (cheaper than min, max)
    if high == low:
        return np.full(values.shape, 100, dtype=np.int64)
    return np.asarray((high - values) * 100 // (high - low), dtype=np.int64)


class PriceScore:
    """Cheaper is better, relative to the cheapest and dearest candidates."""

    name: ClassVar[str] = "price"
    scope: ClassVar[str] = "pool"

    def score(self, snap: Snapshot, demand: Demand, rows: IntArray) -> IntArray:
        return self.score_pools(snap, demand, snap.node_pool[rows])

    def score_pools(self, snap: Snapshot, demand: Demand, pools: IntArray) -> IntArray:
        """The score of a row of each of ``pools`` (pool rows, repeats allowed)."""
        return normalize_low_is_best(snap.pool_price[pools])


class BestFitScore:
    """Less GPU left idle on the node after placing is better (keeps other nodes whole).

    100 - idle share of the node's GPUs after placing, in percent (rounded up), so a node
    filled exactly scores 100. With whole cards only this is the first engine's score.
    """

    name: ClassVar[str] = "bestfit"
    scope: ClassVar[str] = "class"

    def score(self, snap: Snapshot, demand: Demand, rows: IntArray) -> IntArray:
        leftover = snap.gpu_free[rows].sum(axis=1) - demand.per_node * demand.milli_per_gpu
        capacity = np.maximum(snap.node_gpus[rows] * MILLI, 1)
        return np.asarray(100 - (np.maximum(leftover, 0) * 100) // capacity, dtype=np.int64)


DEFAULT_SCORES = ((PriceScore(), 100), (BestFitScore(), 1))
