"""The live-class index of one snapshot: which nodes are in which class, as flat arrays.

A decision over classes (see :mod:`suanli.engine.byclass`) never looks at single nodes:
it reads the *live* classes (those with a member now) from a compact table of slots,

* ``slot_class[s]``, ``slot_pool[s]``, ``slot_kind[s]``: the class in slot ``s``
  (``s < live``), its pool and its kind (see :class:`~suanli.engine.classes.NodeClasses`);
* ``slot_count[s]``: its members; ``slot_rep[s]``: one of them (any);

and, for the few classes a decision selects, their members (:attr:`members`) and lowest
row (:meth:`lowest`). It also keeps ``pool_whole[p]``, the wholly free GPUs of pool ``p``
(what "nearest offers" list), and the live classes of each pool (:attr:`pool_live`).
The snapshot keeps the index in step with its arrays on every write
(:meth:`ClassIndex.move`). Slots are in no particular order: nothing that reads them
depends on it. Each snapshot (and each copy) has its own index; the class registry is
shared.

A :class:`FitTable` (one per demand capacity a decision path asked about, see
:mod:`suanli.engine.byclass`) counts, per pool, the live classes whose kind fits that
capacity; the index updates every table it holds as classes come alive and die.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappop, heappush

import numpy as np

from suanli.engine.classes import UNFIT, IntArray, NodeClasses

__all__ = ["ClassIndex", "FitTable"]


class FitTable:
    """Per pool, the live classes whose kind fits one demand capacity.

    ``parts`` is the capacity's memo of class parts by kind (shared with the decision path;
    :data:`~suanli.engine.classes.UNFIT` for a kind that does not fit); ``work_out(kind,
    row)`` puts the part of a kind not in it yet there, from a node ``row`` of that kind.
    """

    __slots__ = ("counts", "fits", "parts", "work_out")

    def __init__(
        self, parts: dict[int, int], pools: int, work_out: Callable[[int, int], object]
    ) -> None:
        self.parts = parts
        self.work_out = work_out
        self.counts = [0] * pools
        """Live classes that fit, per pool."""
        self.fits = np.zeros(pools, dtype=np.bool_)
        """Pools with a live class that fits."""

    def part(self, kind: int, row: int) -> int:
        """The part of ``kind`` (``row`` is a node of that kind now)."""
        found = self.parts.get(kind)
        if found is None:
            self.work_out(kind, row)
            found = self.parts[kind]
        return found

    def born(self, pool: int) -> None:
        """A class of ``pool`` that fits came alive."""
        count = self.counts[pool]
        self.counts[pool] = count + 1
        if not count:
            self.fits[pool] = True

    def died(self, pool: int) -> None:
        """A class of ``pool`` that fits died."""
        count = self.counts[pool] - 1
        self.counts[pool] = count
        if not count:
            self.fits[pool] = False


class ClassIndex:
    """Live classes as slots, members per live class, wholly free GPUs per pool."""

    __slots__ = (
        "_fitting",
        "_lowest",
        "_ranked",
        "classes",
        "kind_epoch",
        "kind_live",
        "live",
        "members",
        "pool_live",
        "pool_whole",
        "slot_class",
        "slot_count",
        "slot_kind",
        "slot_of",
        "slot_pool",
        "slot_rep",
        "tables",
    )

    _COLUMNS = ("slot_class", "slot_pool", "slot_kind", "slot_count", "slot_rep")

    def __init__(self, classes: NodeClasses, pools: int) -> None:
        self.classes = classes
        self.members: dict[int, set[int]] = {}
        self.slot_of: dict[int, int] = {}
        self.live = 0
        self.slot_class: IntArray = np.zeros(64, dtype=np.int64)
        self.slot_pool: IntArray = np.zeros(64, dtype=np.int64)
        self.slot_kind: IntArray = np.zeros(64, dtype=np.int64)
        self.slot_count: IntArray = np.zeros(64, dtype=np.int64)
        self.slot_rep: IntArray = np.zeros(64, dtype=np.int64)
        self.pool_whole: IntArray = np.zeros(pools, dtype=np.int64)
        self.kind_live: dict[int, int] = {}
        """Live slots per kind."""
        self.kind_epoch = 0
        """Bumped whenever a kind with no live slot gets one."""
        self._lowest: dict[int, list[int]] = {}
        """Per class asked about, a heap of its rows (rows that left are dropped lazily)."""
        self._ranked: list[tuple[list[int], dict[int, int]]] = []
        self.pool_live: dict[int, set[int]] = {}
        """Live classes per pool (pools with none may be missing)."""
        self.tables: dict[object, FitTable] = {}
        """Fit tables by the key their decision path gave them (:meth:`watch`; not copied)."""
        self._fitting: dict[int, list[FitTable]] = {}
        """Per kind, the tables it fits."""

    @classmethod
    def of(cls, classes: NodeClasses, pools: int, node_class: list[int]) -> ClassIndex:
        """The index of rows in these classes (of the registry ``classes``)."""
        index = cls(classes, pools)
        members = index.members
        for row, klass in enumerate(node_class):
            found = members.get(klass)
            if found is None:
                members[klass] = {row}
            else:
                found.add(row)
        for klass, rows in members.items():
            index._append(klass, min(rows), len(rows))
        if node_class:
            whole = np.array(classes.whole)[node_class]
            pool = np.array([k[0] for k in classes.keys])[node_class]
            index.pool_whole = np.bincount(pool, weights=whole, minlength=pools).astype(np.int64)
        return index

    def copy(self) -> ClassIndex:
        twin = ClassIndex(self.classes, 0)
        twin.members = {k: set(v) for k, v in self.members.items()}
        twin.slot_of = dict(self.slot_of)
        twin.live = self.live
        for name in self._COLUMNS:
            setattr(twin, name, getattr(self, name).copy())
        twin.pool_whole = self.pool_whole.copy()
        twin.kind_live = dict(self.kind_live)
        twin.kind_epoch = self.kind_epoch
        twin.pool_live = {k: set(v) for k, v in self.pool_live.items()}
        return twin

    def _append(self, klass: int, row: int, count: int) -> None:
        slot = self.live
        if slot == self.slot_class.shape[0]:
            for name in self._COLUMNS:
                grown = np.zeros(2 * slot, dtype=np.int64)
                grown[:slot] = getattr(self, name)
                setattr(self, name, grown)
        kind = self.classes.kind[klass]
        live = self.kind_live.get(kind, 0)
        if not live:
            self.kind_epoch += 1
        self.kind_live[kind] = live + 1
        self.slot_class[slot] = klass
        pool = self.classes.keys[klass][0]
        self.slot_pool[slot] = pool
        self.slot_kind[slot] = kind
        self.slot_count[slot] = count
        self.slot_rep[slot] = row
        self.slot_of[klass] = slot
        self.live = slot + 1
        found = self.pool_live.get(pool)
        if found is None:
            self.pool_live[pool] = {klass}
        else:
            found.add(klass)
        if self.tables:
            fitting = self._fitting.get(kind)
            if fitting is None:
                fitting = self._fitting[kind] = [
                    t for t in self.tables.values() if t.part(kind, row) > UNFIT
                ]
            for table in fitting:  # (table.born(pool), inline)
                counts = table.counts
                count = counts[pool]
                counts[pool] = count + 1
                if not count:
                    table.fits[pool] = True

    def _drop(self, klass: int) -> None:
        slot = self.slot_of.pop(klass)
        kind = self.classes.kind[klass]
        pool = self.classes.keys[klass][0]
        self.pool_live[pool].discard(klass)
        if self.tables:
            fitting = self._fitting.get(kind)
            if fitting is None:  # (every table has the part of a kind that was alive)
                fitting = self._fitting[kind] = [
                    t for t in self.tables.values() if t.parts[kind] > UNFIT
                ]
            for table in fitting:  # (table.died(pool), inline)
                counts = table.counts
                count = counts[pool] - 1
                counts[pool] = count
                if not count:
                    table.fits[pool] = False
        live = self.kind_live[kind] - 1
        if live:
            self.kind_live[kind] = live
        else:
            del self.kind_live[kind]
        last = self.live - 1
        if slot != last:
            moved = int(self.slot_class[last])
            for name in self._COLUMNS:
                column = getattr(self, name)
                column[slot] = column[last]
            self.slot_of[moved] = slot
        self.live = last

    def move(self, row: int, old: int, new: int) -> None:
        """Row ``row`` went from class ``old`` to class ``new`` (of the same pool)."""
        if old == new:
            return
        whole = self.classes.whole
        delta = whole[new] - whole[old]
        if delta:
            self.pool_whole[self.classes.keys[new][0]] += delta
        members = self.members
        lowest = self._lowest
        left = members[old]
        left.remove(row)
        if left:
            slot = self.slot_of[old]
            self.slot_count[slot] -= 1
            if self.slot_rep[slot] == row:
                self.slot_rep[slot] = next(iter(left))
            for _, first in self._ranked:
                if first.get(old) == row:
                    del first[old]
        else:
            del members[old]
            lowest.pop(old, None)
            for _, first in self._ranked:
                first.pop(old, None)
            self._drop(old)
        joined = members.get(new)
        if joined is None:
            members[new] = {row}
            self._append(new, row, 1)
        else:
            joined.add(row)
            self.slot_count[self.slot_of[new]] += 1
            heap = lowest.get(new)
            if heap is not None:
                if len(heap) > 2 * len(joined) + 16:  # mostly rows that left: start afresh
                    heap[:] = sorted(joined)
                else:
                    heappush(heap, row)
            for keys, first in self._ranked:
                known = first.get(new)
                if known is not None and (keys[row], row) < (keys[known], known):
                    first[new] = row

    def watch(self, key: object, table: FitTable) -> None:
        """Keep ``table`` (empty) up to date from now on, counting the live classes."""
        self.tables[key] = table
        self._fitting.clear()
        kind = self.classes.kind
        for pool, classes in self.pool_live.items():
            for klass in classes:
                if table.part(kind[klass], next(iter(self.members[klass]))) > UNFIT:
                    table.born(pool)

    def lowest(self, klass: int) -> int:
        """The lowest row of a live class."""
        members = self.members[klass]
        heap = self._lowest.get(klass)
        if heap is None:
            heap = self._lowest[klass] = sorted(members)
        while heap[0] not in members:
            heappop(heap)
        return heap[0]

    def lowest_by(self, klass: int, keys: list[int]) -> int:
        """The member of a live class with the lowest ``(keys[row], row)``; ``keys`` (one per
        row, e.g. a tie-break's) is remembered, and its answers kept up to date, by identity."""
        first = next((f for known, f in self._ranked if known is keys), None)
        if first is None:
            first = {}
            self._ranked.append((keys, first))
        found = first.get(klass)
        if found is None:
            found = first[klass] = min((keys[r], r) for r in self.members[klass])[1]
        return found
