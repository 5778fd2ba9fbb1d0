"""The engine: filter -> score -> select -> reserve, over one snapshot.

A decision, in numbered phases:

1. Pool filters (hard, static constraints) cut pools; each cut is a reason. A pool cut here
   can never fit: the demand is *unresolvable* there.
2. The fit filter keeps the node rows of surviving pools with the demand's free CPU, memory
   and GPUs now; if none is left the demand is *unschedulable* (for now).
3. Score plugins rate the candidates 0-100; the weighted sum ranks them.
4. Select the best; ties go to the candidate the tie-break prefers (lowest node id by
   default, a uniform draw when the engine has a random generator, as Kubernetes does).
   A gang takes the best ``node_count`` nodes of each pool and goes to the pool whose
   chosen nodes score best on average.
5. The GPU picker names the GPUs on each chosen node.

``reserve`` applies a placement to a snapshot and ``unreserve`` is its exact inverse.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from suanli.engine.demand import Allocation, Code, Demand, Placement, Status, Unplaced
from suanli.engine.gpus import BestFitGpu, whole_gpus
from suanli.engine.plugins import DEFAULT_FILTERS, FitFilter, ModelFilter
from suanli.engine.protocols import BoolArray, GpuPicker, NodeFilter, NodeScore, PoolFilter
from suanli.engine.scores import DEFAULT_SCORES
from suanli.engine.select import LowestNodeId, RandomTie, TieBreak
from suanli.engine.snapshot import IntArray, Snapshot
from suanli.kit.money import yuan

NEAREST = 3


class Engine:
    """Places demands on a snapshot. Stateless apart from its plugins, weights and generator."""

    def __init__(
        self,
        filters: tuple[PoolFilter, ...] = DEFAULT_FILTERS,
        scores: Sequence[tuple[NodeScore, int]] = DEFAULT_SCORES,
        *,
        fit: NodeFilter | None = None,
        picker: GpuPicker | None = None,
        rng: np.random.Generator | None = None,
        tie: TieBreak | None = None,
        name: str = "price",
    ) -> None:
        self.filters = filters
        self.scores = tuple(scores)
        self.fit = fit if fit is not None else FitFilter()
        self.picker = picker if picker is not None else BestFitGpu()
        if tie is None:
            tie = LowestNodeId() if rng is None else RandomTie(rng)
        self.tie = tie
        self.name = name

    # 1. filter ------------------------------------------------------------------------
    def feasible_pools(self, snap: Snapshot, demand: Demand) -> tuple[BoolArray, list[str]]:
        """Pools that pass every hard constraint, and a reason per filter that cut any."""
        alive, statuses = self.filter_pools(snap, demand)
        return alive, [r for s in statuses for r in s.reasons]

    def filter_pools(self, snap: Snapshot, demand: Demand) -> tuple[BoolArray, list[Status]]:
        """Pool filters in order: the surviving pools and each filter's status."""
        key = (
            "pools",
            self.filters,
            demand.accepted_models,
            demand.min_memory_gb,
            demand.min_tflops,
            demand.provinces,
            demand.max_price_fen,
            demand.per_node,
            demand.node_count > 1 and (demand.inter_node or "ethernet"),
        )
        cached = snap.classes.memo.get(key)
        if cached is None:
            alive = np.ones(len(snap.pools), dtype=np.bool_)
            statuses: list[Status] = []
            for plugin in self.filters:
                mask = plugin.mask(snap, demand)
                cut = int((alive & ~mask).sum())
                if cut:
                    reason = plugin.explain(demand, cut)
                    statuses.append(Status(plugin.name, Code.UNRESOLVABLE, (reason,)))
                else:
                    statuses.append(Status(plugin.name, Code.SUCCESS))
                alive &= mask
            cached = (alive, statuses)
            snap.classes.memo[key] = cached
        alive, statuses = cached  # type: ignore[misc]
        return alive.copy(), list(statuses)

    def candidates(self, snap: Snapshot, demand: Demand, alive: BoolArray) -> IntArray:
        """Node rows of surviving pools that fit the demand now (ascending)."""
        ok = alive[snap.node_pool] & self.fit.node_mask(snap, demand)
        return np.flatnonzero(ok).astype(np.int64)

    # 2-4. score and select ------------------------------------------------------------
    def weighted(self, snap: Snapshot, demand: Demand, rows: IntArray) -> IntArray:
        total = np.zeros(rows.shape, dtype=np.int64)
        for plugin, weight in self.scores:
            total += weight * plugin.score(snap, demand, rows)
        return total

    def choose(self, snap: Snapshot, demand: Demand) -> Placement | None:
        """The placement this engine would make, or None; no reasons (the fast path)."""
        if not snap.pools:
            return None
        alive, _ = self.filter_pools(snap, demand)
        rows = self.candidates(snap, demand, alive)
        if rows.size < demand.node_count:
            return None
        if demand.node_count == 1:
            return self._select_single(snap, demand, rows)
        return self._select_gang(snap, demand, rows)

    def place(self, snap: Snapshot, demand: Demand) -> Placement | Unplaced:
        """Choose where ``demand`` goes on ``snap`` (which is not changed), or say why not."""
        if not snap.pools:
            return Unplaced(("no capacity is listed on the exchange",), (), Code.UNRESOLVABLE)
        placement = self.choose(snap, demand)
        if placement is not None:
            return placement
        alive, statuses = self.filter_pools(snap, demand)
        reasons = [r for s in statuses for r in s.reasons]
        code = Code.UNRESOLVABLE
        if alive.any():
            reasons.append(FitFilter.explain(demand, int(alive.sum())))
            code = Code.UNSCHEDULABLE
        return Unplaced(tuple(reasons), self.nearest(snap, demand), code)

    def _pick_best(self, snap: Snapshot, rows: IntArray, totals: IntArray) -> int:
        tied = rows[totals == totals.max()]
        if tied.size == 1:
            return int(tied[0])
        return int(tied[int(np.argmin(self.tie.keys(snap, tied)))])

    def _allocation(self, snap: Snapshot, demand: Demand, row: int) -> Allocation:
        gpus = self.picker.pick(snap, demand, row)
        return Allocation(
            node_id=int(snap.node_id[row]),
            cards=demand.per_node,
            gpus=gpus,
            gpu_milli=demand.gpu_milli if demand.cards else 0,
            cpu_milli=demand.cpu_milli,
            memory_mib=demand.memory_mib,
        )

    def _placement(
        self, snap: Snapshot, demand: Demand, chosen: Sequence[int], score: int
    ) -> Placement:
        pool = snap.pools[int(snap.node_pool[chosen[0]])]
        return Placement(
            pool_id=pool.pool_id,
            center_id=pool.center_id,
            price_fen=pool.price_fen,
            allocations=tuple(self._allocation(snap, demand, r) for r in sorted(chosen)),
            score=score,
        )

    def _select_single(self, snap: Snapshot, demand: Demand, rows: IntArray) -> Placement:
        totals = self.weighted(snap, demand, rows)
        best = self._pick_best(snap, rows, totals)
        return self._placement(snap, demand, [best], int(totals.max()))

    def _select_gang(self, snap: Snapshot, demand: Demand, rows: IntArray) -> Placement | None:
        """A gang lives in one pool: its best-scoring nodes, in the pool that scores best."""
        totals = self.weighted(snap, demand, rows)
        best: tuple[int, int, list[int]] | None = None
        for pool_row in np.unique(snap.node_pool[rows]).tolist():
            inside = snap.node_pool[rows] == pool_row
            if int(inside.sum()) < demand.node_count:
                continue
            in_rows, in_totals = rows[inside], totals[inside]
            keys = self.tie.keys(snap, in_rows)
            order = np.lexsort((keys, -in_totals))[: demand.node_count]
            score = int(in_totals[order].mean())
            if best is None or (score, -pool_row) > (best[0], best[1]):
                best = (score, -pool_row, [int(r) for r in in_rows[order]])
        if best is None:
            return None
        return self._placement(snap, demand, best[2], best[0])

    def nearest(self, snap: Snapshot, demand: Demand) -> tuple[str, ...]:
        """The closest offers that exist: matching models, most free cards, cheapest."""
        ok = ModelFilter().mask(snap, demand)
        if not ok.any():
            return ()
        free = np.bincount(snap.node_pool, weights=snap.whole_free(), minlength=len(snap.pools))
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

    # 5. reserve / unreserve -----------------------------------------------------------
    @staticmethod
    def reserve(snap: Snapshot, placement: Placement) -> Placement:
        """Take the placement's capacity off the snapshot, all or nothing.

        Returns the placement with every GPU named (legacy allocations without GPU indices
        get the lowest-index wholly free cards); unreserve that to undo exactly.
        """
        done: list[Allocation] = []
        try:
            for alloc in placement.allocations:
                row = snap.row_of(alloc.node_id)
                gpus = alloc.gpus
                if alloc.cards and not gpus:
                    gpus = whole_gpus(snap, row, alloc.cards)
                named = Allocation(
                    alloc.node_id,
                    alloc.cards,
                    gpus,
                    alloc.gpu_milli,
                    alloc.cpu_milli,
                    alloc.memory_mib,
                )
                snap.take(row, gpus, named.gpu_milli, named.cpu_milli, named.memory_mib)
                done.append(named)
        except ValueError:
            for named in reversed(done):
                row = snap.row_of(named.node_id)
                snap.give(row, named.gpus, named.gpu_milli, named.cpu_milli, named.memory_mib)
            raise
        return Placement(
            placement.pool_id,
            placement.center_id,
            placement.price_fen,
            tuple(done),
            placement.score,
        )

    @staticmethod
    def unreserve(snap: Snapshot, placement: Placement) -> None:
        """Give the placement's capacity back (exact inverse of reserve for named GPUs).

        A legacy allocation without GPU indices gives back its count of whole cards (the
        highest-index wholly used ones).
        """
        for alloc in reversed(placement.allocations):
            row = snap.row_of(alloc.node_id)
            gpus = alloc.gpus
            if alloc.cards and not gpus:
                count = int(snap.node_gpus[row])
                used = [j for j in range(count - 1, -1, -1) if int(snap.gpu_free[row, j]) == 0]
                if len(used) < alloc.cards:
                    raise ValueError(
                        f"node {alloc.node_id} has fewer than {alloc.cards} cards in use"
                    )
                gpus = tuple(used[: alloc.cards])
            snap.give(row, gpus, alloc.gpu_milli, alloc.cpu_milli, alloc.memory_mib)
