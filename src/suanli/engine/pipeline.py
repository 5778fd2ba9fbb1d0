"""The engine: filter -> score -> select -> reserve, over one snapshot."""

from __future__ import annotations

import numpy as np

from suanli.engine.demand import Allocation, Demand, Placement, Unplaced
from suanli.engine.plugins import (
    DEFAULT_FILTERS,
    DEFAULT_SCORES,
    BoolArray,
    ModelFilter,
    NodeScore,
    PoolFilter,
)
from suanli.engine.snapshot import IntArray, Snapshot
from suanli.kit.money import yuan

NEAREST = 3


class Engine:
    """Places demands on a snapshot. Stateless apart from its plugins and weights."""

    def __init__(
        self,
        filters: tuple[PoolFilter, ...] = DEFAULT_FILTERS,
        scores: tuple[tuple[NodeScore, int], ...] = DEFAULT_SCORES,
    ) -> None:
        self.filters = filters
        self.scores = scores

    # 1. filter ------------------------------------------------------------------------
    def feasible_pools(self, snap: Snapshot, demand: Demand) -> tuple[BoolArray, list[str]]:
        """Pools that pass every hard constraint, and a reason per filter that cut any."""
        alive = np.ones(len(snap.pools), dtype=np.bool_)
        reasons: list[str] = []
        for plugin in self.filters:
            mask = plugin.mask(snap, demand)
            cut = int((alive & ~mask).sum())
            if cut:
                reasons.append(plugin.explain(demand, cut))
            alive &= mask
        return alive, reasons

    # 2-3. score and select ------------------------------------------------------------
    def place(self, snap: Snapshot, demand: Demand) -> Placement | Unplaced:
        """Choose where ``demand`` goes on ``snap`` (which is not changed)."""
        alive, reasons = self.feasible_pools(snap, demand)
        if len(snap.pools) == 0:
            return Unplaced(("no capacity is listed on the exchange",), ())
        rows = np.flatnonzero(alive[snap.node_pool] & (snap.node_free >= demand.per_node))
        if demand.node_count == 1:
            if rows.size:
                return self._select_single(snap, demand, rows)
        else:
            placement = self._select_gang(snap, demand, rows)
            if placement is not None:
                return placement
        if alive.any():
            reasons.append(self._capacity_reason(snap, demand, alive))
        return Unplaced(tuple(reasons), self.nearest(snap, demand))

    def _weighted(self, snap: Snapshot, demand: Demand, rows: IntArray) -> IntArray:
        total = np.zeros(rows.shape, dtype=np.int64)
        for plugin, weight in self.scores:
            total += weight * plugin.score(snap, demand, rows)
        return total

    def _select_single(self, snap: Snapshot, demand: Demand, rows: IntArray) -> Placement:
        total = self._weighted(snap, demand, rows)
        best = int(rows[int(np.argmax(total))])  # rows ascend by node id: ties -> lowest id
        pool = snap.pools[int(snap.node_pool[best])]
        return Placement(
            pool_id=pool.pool_id,
            center_id=pool.center_id,
            price_fen=pool.price_fen,
            allocations=(Allocation(int(snap.node_id[best]), demand.per_node),),
            score=int(total.max()),
        )

    def _select_gang(self, snap: Snapshot, demand: Demand, rows: IntArray) -> Placement | None:
        """A gang lives in one pool: take its best-fitting nodes, pick the best pool."""
        best: tuple[int, int, IntArray] | None = None
        for pool_row in np.unique(snap.node_pool[rows]):
            in_pool = rows[snap.node_pool[rows] == pool_row]
            if in_pool.size < demand.node_count:
                continue
            order = np.lexsort((snap.node_id[in_pool], snap.node_free[in_pool]))
            chosen = in_pool[order[: demand.node_count]]
            score = int(self._weighted(snap, demand, chosen).mean())
            key = (score, -int(pool_row))
            if best is None or key > (best[0], best[1]):
                best = (score, -int(pool_row), chosen)
        if best is None:
            return None
        score, neg_row, chosen = best
        pool = snap.pools[-neg_row]
        return Placement(
            pool_id=pool.pool_id,
            center_id=pool.center_id,
            price_fen=pool.price_fen,
            allocations=tuple(
                Allocation(int(snap.node_id[r]), demand.per_node) for r in sorted(chosen.tolist())
            ),
            score=score,
        )

    def _capacity_reason(self, snap: Snapshot, demand: Demand, alive: BoolArray) -> str:
        pools = int(alive.sum())
        if demand.node_count == 1:
            return f"{pools} matching pools have no node with {demand.per_node} free cards"
        return (
            f"{pools} matching pools lack {demand.node_count} nodes with "
            f"{demand.per_node} free cards each"
        )

    def nearest(self, snap: Snapshot, demand: Demand) -> tuple[str, ...]:
        """The closest offers that exist: matching models, most free capacity, cheapest."""
        ok = ModelFilter().mask(snap, demand)
        if not ok.any():
            return ()
        free = np.bincount(snap.node_pool, weights=snap.node_free, minlength=len(snap.pools))
        candidates = [int(i) for i in np.flatnonzero(ok & (free > 0))]
        candidates.sort(key=lambda i: (-int(free[i]), int(snap.pool_price[i]), i))
        lines = []
        for i in candidates[:NEAREST]:
            pool = snap.pools[i]
            lines.append(
                f"{int(free[i])} free {pool.model} at {pool.label} ({pool.province}), "
                f"{yuan(pool.price_fen)}/card-hour"
            )
        return tuple(lines)

    # 4. reserve / unreserve -----------------------------------------------------------
    @staticmethod
    def reserve(snap: Snapshot, placement: Placement) -> None:
        """Take the placement's cards off the snapshot."""
        rows = [snap.row_of(a.node_id) for a in placement.allocations]
        for row, alloc in zip(rows, placement.allocations, strict=True):
            if snap.node_free[row] < alloc.cards:
                raise ValueError(f"node {alloc.node_id} has fewer than {alloc.cards} free cards")
        for row, alloc in zip(rows, placement.allocations, strict=True):
            snap.node_free[row] -= alloc.cards

    @staticmethod
    def unreserve(snap: Snapshot, placement: Placement) -> None:
        """Give the placement's cards back to the snapshot (exact inverse of reserve)."""
        for alloc in placement.allocations:
            snap.node_free[snap.row_of(alloc.node_id)] += alloc.cards
