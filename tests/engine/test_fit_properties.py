"""Properties of every policy on random fleets and demands of every shape (Hypothesis).

An independent oracle says which nodes may take a demand. For every policy: a placement
never asks a node for more free CPU, memory or milli-GPU than it has, never breaks a hard
constraint (model, region, price, one pool per gang, fabric), exists whenever the oracle
finds room, leaves the snapshot untouched until reserved, and reserve followed by
unreserve restores every array of the snapshot exactly.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.fleet import gpu_pool
from suanli.engine import (
    INTER_NODE_RANK,
    MILLI,
    POLICIES,
    Demand,
    DemandMix,
    Engine,
    Placement,
    PoolInfo,
    Shape,
    Snapshot,
    SnapshotBuilder,
    make_engine,
)

MODELS = ("G2", "T4", "V100M16")
PROVINCES = ("贵州", "湖北")
MIX = DemandMix(
    (Shape(8000, 1000, 1), Shape(4000, 500, 1), Shape(12000, 0, 0), Shape(16000, 1000, 2)),
    (0.4, 0.3, 0.2, 0.1),
)
SETTINGS = settings(max_examples=40)


@st.composite
def fleets(draw: st.DrawFn) -> Snapshot:
    builder = SnapshotBuilder()
    pools: list[PoolInfo] = []
    for pool_id in range(1, draw(st.integers(1, 3)) + 1):
        info = gpu_pool(
            pool_id,
            model=draw(st.sampled_from(MODELS)),
            gpus=draw(st.sampled_from((0, 1, 2, 4, 8))),
            cpu=draw(st.sampled_from((8000, 32_000, 96_000))),
            mem=draw(st.sampled_from((16_384, 65_536))),
            price=draw(st.integers(100, 2000)),
            province=draw(st.sampled_from(PROVINCES)),
            inter_node=draw(st.sampled_from(tuple(INTER_NODE_RANK))),
        )
        builder.add_pool(info)
        pools.append(info)
    for node_id in draw(st.lists(st.integers(1, 500), max_size=10, unique=True)):
        info = draw(st.sampled_from(pools))
        gpus = [
            draw(st.sampled_from((0, 100, 190, 500, 530, 1000, 1000)))
            for _ in range(info.cards_per_node)
        ]
        cpu = draw(st.integers(0, info.cpu_milli or 0))
        mem = draw(st.integers(0, info.memory_mib or 0))
        builder.add_node(node_id, info.pool_id, gpu_free=gpus, cpu_free=cpu, memory_free=mem)
    return builder.build()


@st.composite
def demands(draw: st.DrawFn) -> Demand:
    kind = draw(st.sampled_from(("cpu", "share", "whole", "gang")))
    base = Demand(
        cards=0,
        cpu_milli=draw(st.sampled_from((500, 1000, 8000, 30_000))),
        memory_mib=draw(st.sampled_from((0, 1024, 20_000))),
        accepted_models=frozenset(draw(st.sets(st.sampled_from(MODELS)))),
        provinces=frozenset(draw(st.sets(st.sampled_from(PROVINCES)))),
        max_price_fen=draw(st.none() | st.integers(100, 2000)),
    )
    cpu = draw(st.sampled_from((0, 1000, 8000, 30_000)))
    if kind == "cpu":
        return base
    if kind == "share":
        gpu_milli = draw(st.sampled_from((160, 470, 810)))
        return replace(base, cards=1, gpu_milli=gpu_milli, cpu_milli=cpu)
    per_node = draw(st.integers(1, 4))
    if kind == "whole":
        return replace(base, cards=per_node, cpu_milli=cpu)
    fabric = draw(st.none() | st.sampled_from(tuple(INTER_NODE_RANK)))
    return replace(
        base, cards=2 * per_node, cards_per_node=per_node, inter_node=fabric, cpu_milli=cpu
    )


def pool_allows(info: PoolInfo, demand: Demand) -> bool:
    if demand.accepted_models and info.model not in demand.accepted_models:
        return False
    if demand.provinces and info.province not in demand.provinces:
        return False
    if demand.max_price_fen is not None and info.price_fen > demand.max_price_fen:
        return False
    if info.cards_per_node < demand.per_node:
        return False
    need = INTER_NODE_RANK[demand.inter_node or "ethernet"]
    return demand.node_count == 1 or INTER_NODE_RANK[info.inter_node] >= need


def node_fits(snap: Snapshot, row: int, demand: Demand) -> bool:
    fitting = sum(int(g) >= demand.gpu_milli for g in snap.gpu_free[row, : snap.node_gpus[row]])
    return (
        int(snap.node_cpu[row]) >= demand.cpu_milli
        and int(snap.node_mem[row]) >= demand.memory_mib
        and (demand.cards == 0 or fitting >= demand.per_node)
    )


def room_exists(snap: Snapshot, demand: Demand) -> bool:
    for pool_row, info in enumerate(snap.pools):
        if not pool_allows(info, demand):
            continue
        rows = [r for r in range(snap.nodes) if int(snap.node_pool[r]) == pool_row]
        if sum(node_fits(snap, r, demand) for r in rows) >= demand.node_count:
            return True
    return False


def check(snap: Snapshot, demand: Demand, placement: Placement) -> None:
    [pool_row] = [i for i, p in enumerate(snap.pools) if p.pool_id == placement.pool_id]
    assert pool_allows(snap.pools[pool_row], demand)
    assert len({a.node_id for a in placement.allocations}) == demand.node_count
    for alloc in placement.allocations:
        row = snap.row_of(alloc.node_id)
        assert int(snap.node_pool[row]) == pool_row, "a gang never spans pools"
        assert alloc.cpu_milli == demand.cpu_milli <= int(snap.node_cpu[row])
        assert alloc.memory_mib == demand.memory_mib <= int(snap.node_mem[row])
        assert len(set(alloc.gpus)) == len(alloc.gpus) == demand.per_node == alloc.cards
        for gpu in alloc.gpus:
            assert 0 <= gpu < int(snap.node_gpus[row])
            assert int(snap.gpu_free[row, gpu]) >= alloc.gpu_milli == demand.gpu_milli


def arrays(snap: Snapshot) -> list[npt.NDArray[np.int64]]:
    return [snap.node_cpu, snap.node_mem, snap.gpu_free, snap.node_tags, snap.node_class]


def same(a: list[npt.NDArray[np.int64]], b: list[npt.NDArray[np.int64]]) -> bool:
    return all((x == y).all() for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("policy", POLICIES)
@SETTINGS
@given(snap=fleets(), demand=demands(), seed=st.integers(0, 3))
def test_placements_fit_free_capacity_and_hard_constraints(
    policy: str, snap: Snapshot, demand: Demand, seed: int
) -> None:
    engine = make_engine(policy, mix=MIX, rng=np.random.default_rng(seed))
    before = [a.copy() for a in arrays(snap)]
    result = engine.place(snap, demand)
    assert same(arrays(snap), before), "place must not change the snapshot"
    if isinstance(result, Placement):
        check(snap, demand, result)
        named = Engine.reserve(snap, result)
        assert ((snap.gpu_free >= 0) & (snap.gpu_free <= MILLI)).all()
        assert (snap.node_cpu >= 0).all() and (snap.node_mem >= 0).all()
        Engine.unreserve(snap, named)
        assert same(arrays(snap), before), "unreserve must restore the snapshot exactly"
    else:
        assert not room_exists(snap, demand), "the engine found no place, but one exists"
        assert result.reasons


@pytest.mark.parametrize("policy", ["price", "fgd", "suanli", "packing"])
@SETTINGS
@given(snap=fleets(), sequence=st.lists(demands(), min_size=1, max_size=10))
def test_sequences_never_oversell_and_unwind_exactly(
    policy: str, snap: Snapshot, sequence: list[Demand]
) -> None:
    engine = make_engine(policy, mix=MIX, rng=np.random.default_rng(0))
    start = [a.copy() for a in arrays(snap)]
    made = []
    for demand in sequence:
        result = engine.choose(snap, demand)
        if result is None:
            assert not room_exists(snap, demand)
            continue
        check(snap, demand, result)
        made.append(Engine.reserve(snap, result))
        assert ((snap.gpu_free >= 0) & (snap.gpu_free <= MILLI)).all()
        assert (snap.node_cpu >= 0).all() and (snap.node_mem >= 0).all()
    for placement in reversed(made):
        Engine.unreserve(snap, placement)
    assert same(arrays(snap), start)
