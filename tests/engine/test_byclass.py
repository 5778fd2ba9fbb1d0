"""Decisions over classes equal decisions node by node (Hypothesis), and the class index
stays in step with the snapshot.

Engines whose plugins are all class- or pool-determined, with a static tie-break, select
over classes of identical nodes (``suanli.engine.byclass``). The same engine with a
tie-break that does not declare itself static takes the node-by-node path; on fleets with
many identical nodes (so that classes have many members and ties are everywhere) both
must make every decision identically, through sequences of reserves and releases.
"""

from __future__ import annotations

from random import Random
from typing import ClassVar

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.fleet import gpu_pool
from engine.test_fit_properties import MIX, demands
from suanli.engine import Demand, Engine, Placement, Snapshot, SnapshotBuilder, make_engine
from suanli.engine.classes import UNFIT
from suanli.engine.select import LowestNodeId, NodePriority, TieBreak

SETTINGS = settings(max_examples=30, deadline=None)
STATES = ((1000,) * 8, (0,) * 8, (1000, 1000, 1000, 1000, 0, 0, 0, 0), (500,) * 8)


class NodeByNodeLowest(LowestNodeId):
    """The same preference, not declared static: forces the node-by-node path."""

    static: ClassVar[bool] = False


class NodeByNodePriority(NodePriority):
    static: ClassVar[bool] = False


@st.composite
def crowded(draw: st.DrawFn) -> Snapshot:
    """Pools of many nodes in few states (and few CPU levels)."""
    builder = SnapshotBuilder()
    node_id = 0
    for pool_id in range(1, draw(st.integers(1, 4)) + 1):
        gpus = draw(st.sampled_from((1, 2, 4, 8)))
        info = gpu_pool(
            pool_id,
            model=draw(st.sampled_from(("G2", "T4", "V100M16"))),
            gpus=gpus,
            price=draw(st.sampled_from((500, 800, 1200))),
            province=draw(st.sampled_from(("贵州", "湖北"))),
            inter_node=draw(st.sampled_from(("ethernet", "roce", "infiniband"))),
        )
        builder.add_pool(info)
        for _ in range(draw(st.integers(0, 12))):
            node_id += draw(st.integers(1, 5))
            state = draw(st.sampled_from(STATES))[:gpus]
            cpu = draw(st.sampled_from((96_000, 48_000, 0)))
            builder.add_node(node_id, pool_id, gpu_free=list(state), cpu_free=cpu)
    return builder.build()


def check_index(snap: Snapshot) -> None:
    """The live-class index agrees with the node arrays."""
    index = snap.index
    members: dict[int, set[int]] = {}
    for row, klass in enumerate(snap.node_class.tolist()):
        members.setdefault(klass, set()).add(row)
    assert index.members == members
    assert index.live == len(members)
    for slot in range(index.live):
        klass = int(index.slot_class[slot])
        assert index.slot_of[klass] == slot
        assert int(index.slot_count[slot]) == len(members[klass])
        assert int(index.slot_rep[slot]) in members[klass]
        assert int(index.slot_pool[slot]) == snap.classes.keys[klass][0]
        assert int(index.slot_kind[slot]) == snap.classes.kind[klass]
        assert index.lowest(klass) == min(members[klass])
        keys = [-r for r in range(snap.nodes)]
        assert index.lowest_by(klass, keys) == max(members[klass])
    whole = np.bincount(snap.node_pool, weights=snap.whole_free(), minlength=len(snap.pools))
    assert index.pool_whole.tolist() == whole.astype(np.int64).tolist()
    by_pool: dict[int, set[int]] = {}
    for klass in members:
        by_pool.setdefault(snap.classes.keys[klass][0], set()).add(klass)
    assert {p: c for p, c in index.pool_live.items() if c} == by_pool
    for table in index.tables.values():  # fit tables count the fitting live classes
        counts = [0] * len(snap.pools)
        for klass in members:
            if table.parts[snap.classes.kind[klass]] > UNFIT:
                counts[snap.classes.keys[klass][0]] += 1
        assert table.counts == counts
        assert table.fits.tolist() == [c > 0 for c in counts]


def ties(snap: Snapshot, seed: int) -> tuple[TieBreak, TieBreak]:
    if seed % 2:
        return LowestNodeId(), NodeByNodeLowest()
    order = Random(seed).sample(snap.node_id.tolist(), snap.nodes)
    rank = {int(n): i // 2 for i, n in enumerate(order)}  # equal ranks too
    return NodePriority(rank), NodeByNodePriority(rank)


WEIGHTS: dict[str, dict[str, int]] = {
    "price-even": {"price": 1, "bestfit": 1},  # the cheapest pools need not win
    "price-fit": {"price": 1, "bestfit": 100},
}


@pytest.mark.parametrize(
    "policy", ["price", "price-even", "price-fit", "fgd", "suanli", "packing", "dotprod"]
)
@SETTINGS
@given(
    snap=crowded(),
    sequence=st.lists(demands(), min_size=1, max_size=12),
    seed=st.integers(0, 9),
)
def test_class_path_decides_as_node_by_node(
    policy: str, snap: Snapshot, sequence: list[Demand], seed: int
) -> None:
    static, dynamic = ties(snap, seed)
    weights = WEIGHTS.get(policy)
    policy = policy.split("-")[0]
    fast = make_engine(policy, mix=MIX, tie=static, weights=weights)
    slow = make_engine(policy, mix=MIX, tie=dynamic, weights=weights)
    assert fast.by_class.usable and not slow.by_class.usable
    assert bool(fast.by_class.price_weight) == (policy == "price")
    other = snap.copy()
    rng = Random(seed)
    made: list[Placement] = []
    for demand in sequence:
        mine, theirs = fast.place(snap, demand), slow.place(other, demand)
        assert mine == theirs
        if isinstance(mine, Placement):
            made.append(Engine.reserve(snap, mine))
            Engine.reserve(other, mine)
        if made and rng.random() < 0.3:
            gone = made.pop(rng.randrange(len(made)))
            Engine.unreserve(snap, gone)
            Engine.unreserve(other, gone)
        check_index(snap)
    assert (snap.gpu_free == other.gpu_free).all()


def test_the_index_follows_legacy_writes_and_copies() -> None:
    snap = SnapshotBuilder()
    snap.add_pool(gpu_pool(1, gpus=4))
    for node in (3, 7, 9):
        snap.add_node(node, 1)
    built = snap.build()
    twin = built.copy()
    built.node_free[1] = 1  # the exchange's SnapshotCache writes like this
    check_index(built)
    check_index(twin)
    assert int(built.index.pool_whole[0]) == 9 and int(twin.index.pool_whole[0]) == 12
    assert built.index.live == 2 and twin.index.live == 1


def test_batch_mode_clears_biggest_first_without_overselling() -> None:
    builder = SnapshotBuilder()
    builder.add_pool(gpu_pool(1, gpus=8))
    for node in range(4):
        builder.add_node(node, 1)
    snap = builder.build()
    asks = [Demand(cards=1), Demand(cards=16, cards_per_node=8), Demand(cards=8), Demand(cards=8)]
    online = snap.copy()
    placed: list[Placement | None] = []
    for demand in asks:
        placed.append(Engine().choose(online, demand))
        if placed[-1] is not None:
            Engine.reserve(online, placed[-1])
    assert [p is not None for p in placed] == [True, True, True, False]  # arrival order
    cleared = Engine().clear(snap, asks)
    assert [p is not None for p in cleared] == [False, True, True, True]  # biggest first
    gang = cleared[1]
    assert gang is not None and [a.node_id for a in gang.allocations] == [0, 1]
    assert int(snap.gpu_free.sum()) == 0 and snap.free_cards() == 0
    check_index(snap)


def test_batch_mode_serves_the_scarcest_first() -> None:
    builder = SnapshotBuilder()
    builder.add_pool(gpu_pool(1, model="G2", gpus=8))
    builder.add_pool(gpu_pool(2, model="T4", gpus=8, price=2000))
    builder.add_node(1, 1)
    builder.add_node(2, 2)
    snap = builder.build()
    anything, only_t4 = Demand(cards=8), Demand(cards=8, accepted_models=frozenset({"T4"}))
    asks = [anything, anything, only_t4]
    online = snap.copy()
    arrived: list[Placement | None] = []
    for demand in asks:
        arrived.append(Engine().choose(online, demand))
        if arrived[-1] is not None:
            Engine.reserve(online, arrived[-1])
    assert [p is not None for p in arrived] == [True, True, False]  # T4 taken by then
    cleared = Engine().clear(snap, asks)
    assert [p is not None for p in cleared] == [True, False, True]
    assert [p.pool_id for p in cleared if p is not None] == [1, 2]
