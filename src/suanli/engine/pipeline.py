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

Steps 2-4 run over classes of identical nodes (:mod:`suanli.engine.byclass`) whenever the
engine's plugins allow it, node by node otherwise; the placement is the same. Filters are
memoized per demand signature (:mod:`suanli.engine.filtering`); reasons are only worked
out for a demand that stays unplaced.

``reserve`` applies a placement to a snapshot and ``unreserve`` is its exact inverse;
``clear`` places a whole batch (:mod:`suanli.engine.batch`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from suanli.engine import batch, reasons
from suanli.engine.byclass import ClassPath
from suanli.engine.demand import Allocation, Code, Demand, Placement, Status, Unplaced
from suanli.engine.filtering import alive_pools, filter_statuses, pool_mask, signature
from suanli.engine.gpus import BestFitGpu, whole_gpus
from suanli.engine.plugins import DEFAULT_FILTERS, FitFilter, ModelFilter, RegionFilter
from suanli.engine.protocols import BoolArray, GpuPicker, NodeFilter, NodeScore, PoolFilter
from suanli.engine.scores import DEFAULT_SCORES
from suanli.engine.select import LowestNodeId, RandomTie, TieBreak
from suanli.engine.snapshot import INTER_NODE_RANK, IntArray, Snapshot

NEAREST = 3
NEAREST_MODELS = ModelFilter()
"""What "nearest offers" must match: the accepted models and their minimums."""
REACH_FILTERS = (NEAREST_MODELS, RegionFilter())
"""What a pool must match to count towards the most a demand could ever get."""


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
        self._by_class: tuple[object, object, object, ClassPath] | None = None

    # 1. filter ------------------------------------------------------------------------
    def feasible_pools(self, snap: Snapshot, demand: Demand) -> tuple[BoolArray, list[str]]:
        """Pools that pass every hard constraint, and a reason per filter that cut any."""
        alive, statuses = self.filter_pools(snap, demand)
        return alive, [r for s in statuses for r in s.reasons]

    def filter_pools(self, snap: Snapshot, demand: Demand) -> tuple[BoolArray, list[Status]]:
        """Pool filters in order: the surviving pools and each filter's status."""
        alive, statuses = filter_statuses(snap, self.filters, demand)
        return alive.copy(), list(statuses)

    def candidates(self, snap: Snapshot, demand: Demand, alive: BoolArray) -> IntArray:
        """Node rows of surviving pools that fit the demand now (ascending)."""
        ok = alive[snap.node_pool] & self.fit.node_mask(snap, demand)
        return np.flatnonzero(ok).astype(np.int64)

    @property
    def by_class(self) -> ClassPath:
        """The select step over classes of identical nodes (usable for class-determined
        plugins and a static tie-break, see :mod:`suanli.engine.byclass`)."""
        found = self._by_class
        if (
            found is None
            or found[0] is not self.scores
            or found[1] is not self.fit
            or found[2] is not self.tie
        ):
            found = self._by_class = (self.scores, self.fit, self.tie, ClassPath(self))
        return found[3]

    # 2-4. score and select ------------------------------------------------------------
    def weighted(self, snap: Snapshot, demand: Demand, rows: IntArray) -> IntArray:
        total = np.zeros(rows.shape, dtype=np.int64)
        for plugin, weight in self.scores:
            total += weight * plugin.score(snap, demand, rows)
        return total

    def shapes(self, snap: Snapshot, demand: Demand) -> tuple[Demand, ...]:
        """The shapes to try for ``demand``, fewest nodes first.

        A fixed shape is just itself. An open one (``split``: the buyer gave no cards per
        node) is all its cards on one node, then, for each node size the snapshot lists
        below ``cards``, a gang with the most cards per node that divides ``cards`` (16
        cards on 8-card nodes: 2 x 8; 12 on 8-card nodes: 2 x 6), linked by at least the
        buyer's fabric, ethernet when none was named. Fewest nodes first: the least
        traffic between nodes and the fewest nodes that can fail under one job.
        """
        whole = replace(demand, split=False)
        if not demand.split or demand.cards_per_node is not None or demand.cards <= 1:
            return (whole,)
        sizes = sorted(
            {int(c) for c in np.unique(snap.pool_cards_per_node) if 0 < c < demand.cards},
            reverse=True,
        )
        fabric = demand.inter_node or "ethernet"
        shapes = [replace(whole, inter_node=None)]
        for size in sizes:
            per_node = max(d for d in range(1, size + 1) if demand.cards % d == 0)
            if all(s.per_node != per_node for s in shapes):
                shapes.append(replace(whole, cards_per_node=per_node, inter_node=fabric))
        return tuple(shapes)

    def choose(self, snap: Snapshot, demand: Demand) -> Placement | None:
        """The placement this engine would make, or None; no reasons (the fast path)."""
        if not snap.pools:
            return None
        if demand.split:
            for shape in self.shapes(snap, demand):
                found = self._choose(snap, shape)
                if found is not None:
                    return found
            return None
        return self._choose(snap, demand)

    def _choose(self, snap: Snapshot, demand: Demand) -> Placement | None:
        by_class = self.by_class
        if by_class.usable:
            chosen, score = by_class.select(snap, demand)
            return self._placement(snap, demand, chosen, score) if chosen else None
        alive = alive_pools(snap, self.filters, demand)
        rows = self.candidates(snap, demand, alive)
        if rows.size < demand.node_count:
            return None
        if demand.node_count == 1:
            return self._select_single(snap, demand, rows)
        return self._select_gang(snap, demand, rows)

    def place(self, snap: Snapshot, demand: Demand) -> Placement | Unplaced:
        """Choose where ``demand`` goes on ``snap`` (which is not changed), or say why not.

        For an open shape the reasons are those of the first shape (fewest nodes) that
        only waits for capacity; when every shape is cut for good, those of the first
        spread over nodes (what an open shape is for), else of the only shape."""
        if not snap.pools:
            return Unplaced((reasons.no_capacity(),), (), Code.UNRESOLVABLE)
        placement = self.choose(snap, demand)
        if placement is not None:
            return placement
        options: list[tuple[str, ...]] = []
        for shape in self.shapes(snap, demand):
            why, surviving = self._cuts(snap, shape)
            if surviving:
                why = (*why, FitFilter.explain(shape, surviving))
                return Unplaced(why, self.nearest(snap, demand), Code.UNSCHEDULABLE)
            options.append(why)
        why = options[1] if len(options) > 1 else options[0]
        return Unplaced(why, self.nearest(snap, demand), Code.UNRESOLVABLE)

    def _cuts(self, snap: Snapshot, demand: Demand) -> tuple[tuple[str, ...], int]:
        """The pool filters' reasons and how many pools pass them all (pools never change
        within a class registry: memoized there per demand signature)."""
        key = ("pool-cuts", self.filters, signature(demand))
        memo = snap.classes.memo
        found = memo.get(key)
        if found is None:
            alive, statuses = filter_statuses(snap, self.filters, demand)
            found = memo[key] = (tuple(r for s in statuses for r in s.reasons), int(alive.sum()))
        return found  # type: ignore[return-value]

    def _pick_best(self, snap: Snapshot, rows: IntArray, totals: IntArray) -> int:
        tied = rows[totals == totals.max()]
        if tied.size == 1:
            return int(tied[0])
        return int(tied[int(np.argmin(self.tie.keys(snap, tied)))])

    def _placement(
        self, snap: Snapshot, demand: Demand, chosen: Sequence[int], score: int
    ) -> Placement:
        """The placement on rows ``chosen`` (one pool), the picker naming each node's GPUs."""
        row = chosen[0]
        pool = snap.pools[int(snap.node_pool[row])]
        pick, node_id = self.picker.pick, snap.node_id
        per_node = demand.cards if demand.cards_per_node is None else demand.cards_per_node
        milli = demand.gpu_milli if demand.cards else 0
        cpu, mem = demand.cpu_milli, demand.memory_mib
        if len(chosen) == 1:
            allocations: tuple[Allocation, ...] = (
                Allocation(int(node_id[row]), per_node, pick(snap, demand, row), milli, cpu, mem),
            )
        else:
            allocations = tuple(
                Allocation(int(node_id[r]), per_node, pick(snap, demand, r), milli, cpu, mem)
                for r in sorted(chosen)
            )
        return Placement(pool.pool_id, pool.center_id, pool.price_fen, allocations, score)

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

    @staticmethod
    def reach(snap: Snapshot, demand: Demand) -> tuple[int, int] | None:
        """The most cards one pool could ever give ``demand`` on ``snap``, and its row.

        Only pools of the demand's models and places count (price may change; shape is
        for the reasons to explain). A pool gives all its cards where its nodes are linked
        by at least the demand's fabric (ethernet when none is named), else one node's.
        None when no pool matches at all. Read it on a snapshot of listed capacity (every
        card idle) for "larger than anything the exchange could ever serve"."""
        ok = np.ones(len(snap.pools), dtype=np.bool_)
        for plugin in REACH_FILTERS:
            ok &= pool_mask(snap, plugin, demand)
        if not ok.any():
            return None
        nodes = np.bincount(snap.node_pool, minlength=len(snap.pools))
        linked = snap.pool_inter_rank >= INTER_NODE_RANK[demand.inter_node or "ethernet"]
        if demand.cards_per_node is None and not demand.split:
            linked = np.zeros_like(linked)  # all on one node, as asked
        most = snap.pool_cards_per_node * np.where(linked, nodes, np.minimum(nodes, 1))
        most = np.where(ok, most, -1)
        row = int(np.argmax(most))
        return int(most[row]), row

    def nearest(self, snap: Snapshot, demand: Demand) -> tuple[str, ...]:
        """The closest offers that exist: matching models, most free cards, cheapest."""
        rows = self._matching(snap, demand)
        if not rows.size:
            return ()
        free = snap.index.pool_whole[rows]
        top = np.argsort(-free, kind="stable")[:NEAREST]  # rows are by price, then row
        lines = []
        for i, count in zip(rows[top].tolist(), free[top].tolist(), strict=True):
            if count <= 0:
                break
            pool = snap.pools[i]
            lines.append(
                reasons.nearest_offer(
                    count, pool.model, pool.label, pool.province, pool.price_fen, pool.label_zh
                )
            )
        return tuple(lines)

    @staticmethod
    def _matching(snap: Snapshot, demand: Demand) -> IntArray:
        """The pools "nearest offers" may list, by price then row (memoized per model key)."""
        key = ("nearest-pools", NEAREST_MODELS.key(demand))
        memo = snap.classes.memo
        found = memo.get(key)
        if found is None:
            rows = np.flatnonzero(pool_mask(snap, NEAREST_MODELS, demand)).astype(np.int64)
            found = memo[key] = rows[np.argsort(snap.pool_price[rows], kind="stable")]
        return found  # type: ignore[return-value]

    def clear(self, snap: Snapshot, demands: Sequence[Demand]) -> list[Placement | None]:
        """Batch mode: place and reserve many demands at once, the scarcest and biggest
        first (see :mod:`suanli.engine.batch`); the placement of each, None where none fit."""
        return batch.clear(self, snap, demands)

    # 5. reserve / unreserve -----------------------------------------------------------
    @staticmethod
    def reserve(snap: Snapshot, placement: Placement) -> Placement:
        """Take the placement's capacity off the snapshot, all or nothing.

        Returns the placement with every GPU named (legacy allocations without GPU indices
        get the lowest-index wholly free cards); unreserve that to undo exactly.
        """
        allocations = placement.allocations
        if len(allocations) == 1 and (allocations[0].gpus or not allocations[0].cards):
            one = allocations[0]  # the common case: one node, GPUs named by the engine
            snap.take(
                snap.row_of(one.node_id), one.gpus, one.gpu_milli, one.cpu_milli, one.memory_mib
            )
            return placement
        done: list[Allocation] = []
        renamed = False
        try:
            for alloc in placement.allocations:
                row = snap.row_of(alloc.node_id)
                named = alloc
                if alloc.cards and not alloc.gpus:
                    named = Allocation(
                        alloc.node_id,
                        alloc.cards,
                        whole_gpus(snap, row, alloc.cards),
                        alloc.gpu_milli,
                        alloc.cpu_milli,
                        alloc.memory_mib,
                    )
                    renamed = True
                snap.take(row, named.gpus, named.gpu_milli, named.cpu_milli, named.memory_mib)
                done.append(named)
        except ValueError:
            for named in reversed(done):
                row = snap.row_of(named.node_id)
                snap.give(row, named.gpus, named.gpu_milli, named.cpu_milli, named.memory_mib)
            raise
        if not renamed:
            return placement
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
