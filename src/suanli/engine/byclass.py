"""Decisions over classes of identical nodes instead of single nodes.

The pipeline's select step (:mod:`suanli.engine.pipeline`) ranks every fitting node. When
every plugin of an engine only looks at what a node's class determines, the same ranking
can be read off the live classes (a few per pool, see :mod:`suanli.engine.index`), and
this module does exactly that -- the same plugins, the same integer arithmetic, the same
tie-break, so the same placement. It applies when

* every score plugin has ``scope = "class"``: it scores a node from its *kind* alone (its
  model, GPU count and free CPU, memory and milli-GPU per GPU; see
  :class:`~suanli.engine.classes.NodeClasses`) and the demand's capacity
  (:func:`capacity_key`), or ``scope = "pool"``: from its pool alone and the *set* of
  candidate pools (PriceScore's min-max normalization: one row per live class gives the
  same set as every row). Such a plugin may offer ``score_pools(snap, demand, pools)``;
* the fit filter has ``scope = "class"`` and a ``rows_mask``;
* the tie-break is ``static``: a fixed key per row (lowest node id, a node priority).

A node's total is then ``class part + pool part``. The class part (or "does not fit") is
memoized per kind and demand capacity, for good: a few hundred kinds cover a national
fleet. A decision is then a handful of vectorized steps over the live classes of the
candidate pools -- no step looks at single nodes -- and only the selected classes are
opened to find their members. Engines with other plugins (node tags, random draws,
normalizations over node values) keep the node-by-node path; both paths give the same
placements (``tests/engine/test_byclass.py``).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import fields
from operator import attrgetter
from typing import TYPE_CHECKING

import numpy as np

from suanli.engine.classes import UNFIT, UNKNOWN, IntArray, NodeClasses
from suanli.engine.demand import Demand
from suanli.engine.filtering import alive_pools, every_pool
from suanli.engine.index import FitTable
from suanli.engine.protocols import BoolArray
from suanli.engine.scores import PriceScore

if TYPE_CHECKING:
    from suanli.engine.pipeline import Engine
    from suanli.engine.snapshot import Snapshot

__all__ = ["ClassPath", "capacity_key", "scope"]

Capacity = tuple[int, int | None, int, int, int]

DEMAND_FIELDS = attrgetter(*(f.name for f in fields(Demand)))
"""A demand's fields as a plain tuple."""


def capacity_key(demand: Demand) -> Capacity:
    """What class-scope plugins may read of a demand: its capacity, not its constraints."""
    return (
        demand.cards,
        demand.cards_per_node,
        demand.gpu_milli,
        demand.cpu_milli,
        demand.memory_mib,
    )


def scope(plugin: object) -> str:
    """A plugin's declared scope: ``"pool"``, ``"class"`` or (undeclared) ``"node"``."""
    return str(getattr(plugin, "scope", "node"))


NO_POOL: BoolArray = np.zeros(0, dtype=np.bool_)
"""A plan's mask when every pool is filtered out."""


class ClassMemo:
    """Per kind, for one engine and one demand capacity: the class part, or a marker.

    ``part`` is indexed by kind (:data:`UNKNOWN` until worked out); ``known`` holds the
    same values for the kinds worked out, and ``low`` / ``high`` bound the parts that fit.
    """

    __slots__ = ("fitting", "high", "known", "low", "part")

    def __init__(self) -> None:
        self.part: IntArray = np.full(256, UNKNOWN, dtype=np.int64)
        self.known: dict[int, int] = {}
        self.fitting = False
        """Whether any kind worked out so far fits (then ``low`` and ``high`` hold)."""
        self.low = 0
        self.high = 0

    def reserve(self, kinds: int) -> None:
        """Room for kind ids below ``kinds``."""
        size = self.part.shape[0]
        if kinds > size:
            grown = np.full(max(kinds, 2 * size), UNKNOWN, dtype=np.int64)
            grown[:size] = self.part
            self.part = grown

    def put(self, kinds: IntArray, ok: BoolArray, parts: IntArray) -> None:
        """The parts of ``kinds``: ``parts`` for those ``ok`` (in order), UNFIT otherwise."""
        self.part[kinds] = UNFIT
        self.part[kinds[ok]] = parts
        values = parts.tolist()
        if values:
            low, high = min(values), max(values)
            if self.fitting:
                low, high = min(low, self.low), max(high, self.high)
            self.low, self.high, self.fitting = low, high, True
        known = self.known
        known.update(dict.fromkeys(kinds.tolist(), UNFIT))
        known.update(zip(kinds[ok].tolist(), values, strict=True))


class Plan:
    """What a decision path keeps per demand (equal demands share it)."""

    __slots__ = ("alive", "memo", "order", "pools", "prices")

    def __init__(self, alive: BoolArray | None, memo: ClassMemo) -> None:
        self.alive = alive
        """The surviving pools (None: all, :data:`NO_POOL`: none)."""
        self.memo = memo
        """The class parts of the demand's capacity."""
        self.order: IntArray | None = None
        """The surviving pool rows by price, then row (worked out when first needed)."""
        self.pools: list[int] = []
        """The same, as a list."""
        self.prices: list[int] = []
        """Their prices."""

    def by_price(self, snap: Snapshot) -> IntArray:
        """The surviving pool rows by price, then row."""
        found = self.order
        if found is None:
            alive = self.alive
            orders = snap.classes.memo.get("pools-by-price")
            if not isinstance(orders, dict):
                orders = snap.classes.memo["pools-by-price"] = {}
            # plans of one signature share their mask (see alive_pools): so do their orders
            known = orders.get(id(alive))
            if known is None or known[0] is not alive:
                rows = np.arange(len(snap.pools), dtype=np.int64)
                if alive is not None:
                    rows = rows[alive]
                order = rows[np.lexsort((rows, snap.pool_price[rows]))]
                pools = [int(p) for p in order.tolist()]
                prices = [int(p) for p in snap.pool_price[order].tolist()]
                known = orders[id(alive)] = (alive, order, pools, prices)
            _, found, self.pools, self.prices = known
            self.order = found
        return found


Plans = tuple[NodeClasses, dict[Hashable, Plan]]
SCAN = 16
"""Pools looked at one by one from either end before a vectorized search."""
"""The class registry and, per demand (as its field tuple), its plan."""


class ClassPath:
    """The select step of one engine, over classes (see the module docstring)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.pool_scores = tuple((p, w) for p, w in engine.scores if scope(p) == "pool")
        self._by_pool = tuple((getattr(p, "score_pools", None), p, w) for p, w in self.pool_scores)
        self.class_scores = tuple((p, w) for p, w in engine.scores if scope(p) == "class")
        self.usable = (
            len(self.pool_scores) + len(self.class_scores) == len(engine.scores)
            and scope(engine.fit) == "class"
            and hasattr(engine.fit, "rows_mask")
            and bool(getattr(engine.tie, "static", False))
        )
        self.by_row = bool(getattr(engine.tie, "row_order", False))
        self.price_weight = 0
        """The weight of the price when it is the only pool score (see :meth:`_cheapest`)."""
        if self.usable and len(self.pool_scores) == 1:
            plugin, weight = self.pool_scores[0]
            if type(plugin) is PriceScore and weight > 0:
                self.price_weight = weight
        self._key: Hashable = ("class-path", self.class_scores, engine.fit)
        self._plans: Plans | None = None

    # -- memos -------------------------------------------------------------------------
    def _memo(self, snap: Snapshot, demand: Demand) -> ClassMemo:
        key = (self._key, capacity_key(demand))
        found = snap.classes.memo.get(key)
        if not isinstance(found, ClassMemo):
            found = ClassMemo()
            snap.classes.memo[key] = found
        return found

    def _plan(self, snap: Snapshot, demand: Demand) -> Plan:
        """The demand's surviving pools and its capacity's memo, remembered per demand
        (equal demands share them) on the class registry."""
        registry = snap.classes
        plans = self._plans
        if plans is None or plans[0] is not registry:
            key = ("class-plans", self._key, self.engine.filters)
            found = registry.memo.get(key)
            if not isinstance(found, dict):
                found = registry.memo[key] = {}
            plans = self._plans = (registry, found)
        key = DEMAND_FIELDS(demand)  # hashes and compares far faster than the dataclass
        plan = plans[1].get(key)
        if plan is None:
            mask = alive_pools(snap, self.engine.filters, demand)
            alive = None if mask is every_pool(snap) else mask if mask.any() else NO_POOL
            plan = plans[1][key] = Plan(alive, self._memo(snap, demand))
        return plan

    def _fill(self, snap: Snapshot, demand: Demand, memo: ClassMemo, parts: IntArray) -> None:
        """Work out the parts of the live kinds whose ``parts`` are still unknown."""
        index = snap.index
        unknown = (parts == UNKNOWN).nonzero()[0]
        kinds, first = np.unique(index.slot_kind[unknown], return_index=True)
        self._fill_rows(snap, demand, memo, kinds, index.slot_rep[unknown[first]])

    def _fill_rows(
        self, snap: Snapshot, demand: Demand, memo: ClassMemo, kinds: IntArray, rows: IntArray
    ) -> None:
        """Work out the parts of ``kinds`` (distinct), each from a node ``rows`` of it."""
        memo.reserve(snap.classes.kinds)
        ok = self.engine.fit.rows_mask(snap, demand, rows)  # type: ignore[attr-defined]
        rows = rows[ok]
        total = np.zeros(rows.shape, dtype=np.int64)
        for plugin, weight in self.class_scores:
            total += weight * plugin.score(snap, demand, rows)
        memo.put(kinds, ok, total)

    def _table(self, snap: Snapshot, demand: Demand, memo: ClassMemo) -> FitTable:
        """The fit table of the demand's capacity on this snapshot (kept up to date by the
        index; a kind new to the memo is worked out as for ``demand``)."""
        index = snap.index
        table = index.tables.get(memo)
        if table is None:
            live = index.live
            memo.reserve(snap.classes.kinds)
            parts = memo.part[index.slot_kind[:live]]
            if live and parts[parts.argmin()] == UNKNOWN:
                self._fill(snap, demand, memo, parts)

            def work_out(kind: int, row: int) -> None:
                self._fill_rows(snap, demand, memo, np.array([kind]), np.array([row]))

            table = FitTable(memo.known, len(snap.pools), work_out)
            index.watch(memo, table)
        return table

    def _keys(self, snap: Snapshot) -> list[int]:
        """The tie key of every row (static tie-breaks), computed once per snapshot."""
        key = ("tie-keys", self.engine.tie)
        found = snap.cache.get(key)
        if not isinstance(found, list):
            everything = np.arange(snap.nodes, dtype=np.int64)
            found = [int(k) for k in self.engine.tie.keys(snap, everything).tolist()]
            snap.cache[key] = found
        return found

    # -- select ------------------------------------------------------------------------
    def select(self, snap: Snapshot, demand: Demand) -> tuple[list[int], int]:
        """The chosen rows and the placement's score; ``([], 0)`` if nothing fits now."""
        index = snap.index
        live = index.live
        if not live:
            return [], 0
        plan = self._plan(snap, demand)
        alive, memo = plan.alive, plan.memo
        if alive is NO_POOL:
            return [], 0
        gang = demand.cards_per_node is not None and demand.cards > demand.cards_per_node
        if self.price_weight and not gang:
            return self._cheapest(snap, demand, plan)
        kinds = index.slot_kind[:live]
        if snap.cache.get(memo) != index.kind_epoch:  # a kind may have come alive since
            memo.reserve(snap.classes.kinds)
            parts = memo.part[kinds]
            if parts[parts.argmin()] == UNKNOWN:  # (argmin: much cheaper than min)
                self._fill(snap, demand, memo, parts)
            snap.cache[memo] = index.kind_epoch
        pools = index.slot_pool[:live]
        if alive is None:
            parts = memo.part[kinds]
            slots = (parts > UNFIT).nonzero()[0]
            totals = parts[slots]
        else:  # the candidate pools' slots first: later steps work on fewer
            slots = alive[pools].nonzero()[0]
            parts = memo.part[kinds[slots]]
            fitting = (parts > UNFIT).nonzero()[0]
            slots, totals = slots[fitting], parts[fitting]
        if not slots.size:
            return [], 0
        if self._by_pool:
            pools = pools[slots]
            for by_pool, plugin, weight in self._by_pool:
                if by_pool is not None:
                    scored = by_pool(snap, demand, pools)
                else:
                    scored = plugin.score(snap, demand, index.slot_rep[slots])
                totals = totals + (scored if weight == 1 else weight * scored)
        if gang:
            assert demand.cards_per_node is not None
            return self._gang(snap, demand.cards // demand.cards_per_node, slots, totals)
        best = int(totals.argmax())
        top = totals[best]
        same = totals == top
        if np.count_nonzero(same) == 1:
            return [self._first(snap, [int(index.slot_class[slots[best]])])], int(top)
        tied = slots[same.nonzero()[0]]
        return [self._first(snap, index.slot_class[tied].tolist())], int(top)

    def _cheapest(self, snap: Snapshot, demand: Demand, plan: Plan) -> tuple[list[int], int]:
        """:meth:`select` for one node when the only pool score is the price (weight ``w``).

        A class scores ``part + w * price score``, the price score ``(high - price) * 100 //
        (high - low)`` over the candidate pools (100 when all cost the same). The cheapest
        candidate pool scores 100, so a class whose pool scores ``s`` can only reach or tie
        the best when ``w * (100 - s)`` is at most the spread of the parts: only the few
        cheapest candidate pools are opened, each pool's live classes one by one.
        """
        memo = plan.memo
        index = snap.index
        table = index.tables.get(memo)
        if table is None:
            table = self._table(snap, demand, memo)
        if plan.order is None:
            plan.by_price(snap)
        pools, prices, counts = plan.pools, plan.prices, table.counts
        # the cheapest and the dearest candidate pools: a few steps from either end as a
        # rule (the cheapest pools fill up first), else one vectorized pass
        end = len(pools)
        first = 0
        while first < SCAN and first < end and not counts[pools[first]]:
            first += 1
        last = end - 1
        while last >= end - SCAN and last >= first and not counts[pools[last]]:
            last -= 1
        if first == SCAN or last == end - SCAN - 1:
            assert plan.order is not None
            found = table.fits[plan.order].nonzero()[0]
            if not found.size:
                return [], 0
            first, last = int(found[0]), int(found[-1])
        elif first == end or last < first:
            return [], 0
        low, high = prices[first], prices[last]
        spread, span, weight = high - low, memo.high - memo.low, self.price_weight
        parts, kind, live = memo.known, snap.classes.kind, index.pool_live
        best = UNFIT
        tied: list[int] = []
        for j in range(first, last + 1):
            pool = pools[j]
            if not counts[pool]:
                continue
            score = (high - prices[j]) * 100 // spread if spread else 100
            if weight * (100 - score) > span:
                break
            base = weight * score
            for klass in live[pool]:
                part = parts[kind[klass]]
                if part > UNFIT:
                    total = base + part
                    if total > best:
                        best, tied = total, [klass]
                    elif total == best:
                        tied.append(klass)
        return [self._first(snap, tied)], best

    def _first(self, snap: Snapshot, classes: list[int]) -> int:
        """The member of ``classes`` the tie-break prefers (lowest key, then row)."""
        lowest = snap.index.lowest
        if self.by_row:
            return lowest(classes[0]) if len(classes) == 1 else min(map(lowest, classes))
        keys = self._keys(snap)
        firsts = [snap.index.lowest_by(c, keys) for c in classes]
        return min((keys[r], r) for r in firsts)[1]

    def _gang(
        self, snap: Snapshot, need: int, slots: IntArray, totals: IntArray
    ) -> tuple[list[int], int]:
        """The pool whose best ``need`` nodes score best on average (lowest pool row on
        ties), its nodes ranked as the node path ranks them: total, tie key, row."""
        index = snap.index
        pools = index.slot_pool[slots]
        classes = index.slot_class[slots]
        counts = index.slot_count[slots]
        per_pool = np.bincount(pools, weights=counts, minlength=len(snap.pools))
        enough = (per_pool[pools] >= need).nonzero()[0]
        if not enough.size:
            return [], 0
        order = enough[np.lexsort((-totals[enough], pools[enough]))]
        pools, counts, totals, classes = pools[order], counts[order], totals[order], classes[order]
        start = np.ones(pools.shape, dtype=np.bool_)
        start[1:] = pools[1:] != pools[:-1]
        group = np.cumsum(start) - 1
        before = np.cumsum(counts) - counts
        before -= before[start][group]
        took = np.minimum(np.maximum(need - before, 0), counts)  # (np.clip: far slower)
        means = np.trunc(np.bincount(group, weights=took * totals) / need)
        best = int(np.argmax(means))  # the first best: the lowest pool row
        inside = group == best
        ranked = list(zip(totals[inside].tolist(), classes[inside].tolist(), strict=True))
        return self._members(snap, ranked, need), int(means[best])

    def _members(self, snap: Snapshot, ranked: list[tuple[int, int]], need: int) -> list[int]:
        """The ``need`` best nodes of classes ranked best first: total, tie key, row."""
        members = snap.index.members
        keys = None if self.by_row else self._keys(snap)
        chosen: list[int] = []
        i = 0
        while len(chosen) < need:
            value = ranked[i][0]
            group: list[int] = []
            while i < len(ranked) and ranked[i][0] == value:
                group.extend(members[ranked[i][1]])
                i += 1
            left = need - len(chosen)
            if len(group) > left:
                if keys is None:
                    group.sort()
                else:
                    group.sort(key=lambda r: (keys[r], r))
                group = group[:left]
            chosen.extend(group)
        return chosen
