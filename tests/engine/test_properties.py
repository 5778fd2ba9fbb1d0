"""Properties of the engine over random snapshots and demands (Hypothesis).

An independent brute-force oracle decides which pools and nodes may take a demand;
the engine must agree with it: it never oversteps a hard constraint or a node's free
cards, it finds a place whenever one exists, and reserve/unreserve keep the books of
free cards exact.
"""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.build import MODELS, free_of, pool, snapshot
from suanli.engine import (
    INTER_NODE_RANK,
    MILLI,
    Demand,
    Engine,
    Placement,
    PoolInfo,
    Snapshot,
    Unplaced,
)

ENGINE = Engine()
PROVINCES = ("贵州", "湖北", "甘肃", "上海")
FABRICS = tuple(INTER_NODE_RANK)


@st.composite
def snapshots(draw: st.DrawFn) -> Snapshot:
    count = draw(st.integers(0, 5))
    pools = [
        pool(
            pool_id,
            model=draw(st.sampled_from(sorted(MODELS))),
            province=draw(st.sampled_from(PROVINCES)),
            price=draw(st.integers(100, 3000)),
            cards_per_node=draw(st.sampled_from((1, 2, 4, 8))),
            inter_node=draw(st.sampled_from(FABRICS)),
            center_id=draw(st.integers(1, 3)),
        )
        for pool_id in draw(
            st.lists(st.integers(1, 500), min_size=count, max_size=count, unique=True)
        )
    ]
    nodes = []
    if pools:
        node_ids = draw(st.lists(st.integers(1, 10_000), max_size=24, unique=True))
        for node_id in node_ids:
            info = draw(st.sampled_from(pools))
            free = draw(st.integers(0, info.cards_per_node))
            nodes.append((node_id, info.pool_id, free))
    return snapshot(pools, nodes)


@st.composite
def roomy_snapshots(draw: st.DrawFn) -> Snapshot:
    """Several pools of one model, each with a few nodes: many demands fit in several."""
    pools = [
        pool(
            pool_id,
            price=draw(st.integers(100, 3000)),
            cards_per_node=draw(st.sampled_from((2, 4, 8))),
            inter_node=draw(st.sampled_from(("ethernet", "roce", "infiniband"))),
        )
        for pool_id in range(1, draw(st.integers(2, 4)) + 1)
    ]
    nodes: list[tuple[int, int, int]] = []
    for info in pools:
        for _ in range(draw(st.integers(1, 4))):
            nodes.append((len(nodes) + 1, info.pool_id, draw(st.integers(0, info.cards_per_node))))
    return snapshot(pools, nodes)


any_snapshots = st.one_of(snapshots(), roomy_snapshots())


@st.composite
def demands(draw: st.DrawFn) -> Demand:
    per_node = draw(st.integers(1, 9))
    node_count = draw(st.integers(1, 3))
    gang = node_count > 1
    return Demand(
        cards=per_node * node_count,
        cards_per_node=per_node if gang or draw(st.booleans()) else None,
        inter_node=draw(st.none() | st.sampled_from(FABRICS)) if gang else None,
        accepted_models=frozenset(draw(st.sets(st.sampled_from([*MODELS, "MLU370"])))),
        min_memory_gb=draw(st.none() | st.sampled_from((16, 64, 80, 96))),
        min_tflops=draw(st.none() | st.sampled_from((60.0, 312.0, 400.0))),
        provinces=frozenset(draw(st.sets(st.sampled_from(PROVINCES)))),
        max_price_fen=draw(st.none() | st.integers(100, 3000)),
    )


@st.composite
def open_demands(draw: st.DrawFn) -> Demand:
    """Shapes alone, with no other constraint: these fit somewhere far more often."""
    per_node = draw(st.sampled_from((1, 2, 4)))
    node_count = draw(st.integers(1, 3))
    return Demand(
        cards=per_node * node_count,
        cards_per_node=per_node if node_count > 1 else None,
        inter_node=draw(st.none() | st.sampled_from(FABRICS)) if node_count > 1 else None,
    )


any_demands = st.one_of(demands(), open_demands())


# -- the oracle ----------------------------------------------------------------------------


def pool_allows(info: PoolInfo, demand: Demand) -> bool:
    """Every hard constraint, written out independently of the engine's plugins."""
    if demand.accepted_models and info.model not in demand.accepted_models:
        return False
    if demand.min_memory_gb is not None and info.memory_gb < demand.min_memory_gb:
        return False
    if demand.min_tflops is not None and info.tflops < demand.min_tflops:
        return False
    if demand.provinces and info.province not in demand.provinces:
        return False
    if demand.max_price_fen is not None and info.price_fen > demand.max_price_fen:
        return False
    if info.cards_per_node < demand.per_node:
        return False
    need = INTER_NODE_RANK[demand.inter_node or "ethernet"]
    return demand.node_count == 1 or INTER_NODE_RANK[info.inter_node] >= need


def nodes_of(snap: Snapshot, pool_id: int) -> dict[int, int]:
    row = [p.pool_id for p in snap.pools].index(pool_id)
    return {
        int(n): int(f)
        for n, p, f in zip(snap.node_id, snap.node_pool, snap.node_free, strict=True)
        if int(p) == row
    }


def pools_that_fit(snap: Snapshot, demand: Demand) -> list[PoolInfo]:
    return [
        info
        for info in snap.pools
        if pool_allows(info, demand)
        and sum(f >= demand.per_node for f in nodes_of(snap, info.pool_id).values())
        >= demand.node_count
    ]


def check_placement(snap: Snapshot, demand: Demand, placement: Placement) -> None:
    [info] = [p for p in snap.pools if p.pool_id == placement.pool_id]
    assert pool_allows(info, demand)
    assert (placement.center_id, placement.price_fen) == (info.center_id, info.price_fen)
    own = nodes_of(snap, info.pool_id)
    nodes = [a.node_id for a in placement.allocations]
    assert len(set(nodes)) == len(nodes) == demand.node_count
    for alloc in placement.allocations:
        assert alloc.node_id in own, "every node of a placement is in its one pool"
        assert alloc.cards == demand.per_node
        assert alloc.cards <= own[alloc.node_id], "never more than a node's free cards"
        row = snap.row_of(alloc.node_id)
        assert len(set(alloc.gpus)) == len(alloc.gpus) == alloc.cards
        for gpu in alloc.gpus:
            assert 0 <= gpu < int(snap.node_gpus[row])
            assert int(snap.gpu_free[row, gpu]) == MILLI, "a whole card must be wholly free"
    assert placement.cards == demand.cards


# -- properties ----------------------------------------------------------------------------


@given(any_snapshots, any_demands)
def test_placements_respect_every_constraint_and_exist_when_possible(
    snap: Snapshot, demand: Demand
) -> None:
    before = free_of(snap)
    result = ENGINE.place(snap, demand)
    assert free_of(snap) == before, "place must not change the snapshot"
    fits = pools_that_fit(snap, demand)
    if isinstance(result, Placement):
        check_placement(snap, demand, result)
    else:
        assert isinstance(result, Unplaced)
        assert fits == [], f"the engine found no place, but {fits[0]} fits"
        assert result.reasons, "an unplaced demand must say why"
        assert len(result.nearest) <= 3


@settings(max_examples=500)
@given(any_snapshots, any_demands)
def test_placements_go_to_the_cheapest_pool_that_fits(snap: Snapshot, demand: Demand) -> None:
    result = ENGINE.place(snap, demand)
    if isinstance(result, Placement):
        cheapest = min(info.price_fen for info in pools_that_fit(snap, demand))
        assert result.price_fen == cheapest


@given(any_snapshots, any_demands)
def test_reserve_then_unreserve_restores_free_cards_exactly(snap: Snapshot, demand: Demand) -> None:
    result = ENGINE.place(snap, demand)
    if not isinstance(result, Placement):
        return
    before = free_of(snap)
    gpus_before = snap.gpu_free.copy()
    named = Engine.reserve(snap, result)
    taken = Counter({a.node_id: a.cards for a in result.allocations})
    assert free_of(snap) == {n: f - taken[n] for n, f in before.items()}
    Engine.unreserve(snap, named)
    assert free_of(snap) == before
    assert (snap.gpu_free == gpus_before).all()


@given(any_snapshots, st.lists(any_demands, min_size=1, max_size=12))
def test_place_and_reserve_sequences_never_go_negative(
    snap: Snapshot, sequence: list[Demand]
) -> None:
    start = free_of(snap)
    made: list[Placement] = []
    for demand in sequence:
        result = ENGINE.place(snap, demand)
        if isinstance(result, Placement):
            check_placement(snap, demand, result)
            total = snap.free_cards()
            made.append(Engine.reserve(snap, result))
            assert snap.free_cards() == total - result.cards
        else:
            assert pools_that_fit(snap, demand) == []
        assert (snap.whole_free() >= 0).all()
        assert ((snap.gpu_free >= 0) & (snap.gpu_free <= MILLI)).all()
    for placement in reversed(made):
        Engine.unreserve(snap, placement)
    assert free_of(snap) == start
