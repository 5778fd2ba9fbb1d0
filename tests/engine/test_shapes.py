"""Demands of every shape on a v2 snapshot: CPU-only, a share of a GPU, whole GPUs, gangs.

Also: allocations name their GPUs, reasons carry a status code, reserve/unreserve restore
every array exactly, the legacy whole-card view still writes through, and tie-breaks.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from engine.fleet import fleet, gpu_pool
from suanli.engine import (
    MILLI,
    Allocation,
    Code,
    Demand,
    DemandMix,
    Engine,
    Placement,
    Shape,
    Snapshot,
    Unplaced,
    make_engine,
)
from suanli.engine.select import LowestNodeId, NodePriority, RandomTie

ENGINE = Engine()


def small() -> Snapshot:
    """Two 4-GPU nodes (32 cores, 64 GiB): node 1 partly used, node 2 idle."""
    pool = gpu_pool(1, gpus=4, cpu=32_000, mem=65_536)
    return fleet(
        [pool],
        [(1, 1, [1000, 600, 300, 1000], 32_000, 65_536), (2, 1, None, 32_000, 65_536)],
    )


def placed(result: Placement | Unplaced) -> Placement:
    assert isinstance(result, Placement), result
    return result


def unplaced(result: Placement | Unplaced) -> Unplaced:
    assert isinstance(result, Unplaced), result
    return result


@pytest.mark.parametrize(
    ("demand", "allocation"),
    [
        # a share goes to the snuggest node, on the fitting GPU with the least free
        (
            Demand(cards=1, gpu_milli=250, cpu_milli=2000, memory_mib=1024),
            Allocation(1, 1, (2,), 250, 2000, 1024),
        ),
        (Demand(cards=1, gpu_milli=700), Allocation(1, 1, (0,), 700)),
        # whole GPUs: the lowest-index wholly free ones
        (Demand(cards=2), Allocation(1, 2, (0, 3))),
        (Demand(cards=3), Allocation(2, 3, (0, 1, 2))),
        # CPU only: no GPU at all
        (Demand(cards=0, cpu_milli=4000), Allocation(1, 0, (), 0, 4000, 0)),
    ],
)
def test_each_shape_gets_named_gpus(demand: Demand, allocation: Allocation) -> None:
    result = placed(ENGINE.place(small(), demand))
    assert result.allocations == (allocation,)
    assert result.cards == demand.cards
    assert result.gpu_milli == demand.total_gpu_milli


def test_cpu_and_memory_are_hard_constraints() -> None:
    snap = fleet(
        [gpu_pool(1, gpus=2, cpu=16_000, mem=32_768)],
        [(1, 1, None, 2000, 32_768), (2, 1, None, 16_000, 1024)],
    )
    assert placed(ENGINE.place(snap, Demand(cards=1, cpu_milli=3000))).allocations[0].node_id == 2
    assert placed(ENGINE.place(snap, Demand(cards=1, memory_mib=2048))).allocations[0].node_id == 1
    result = unplaced(ENGINE.place(snap, Demand(cards=1, cpu_milli=3000, memory_mib=2048)))
    assert result.code is Code.UNSCHEDULABLE
    assert result.reasons == (
        "1 matching pool has no node with 1 free card and 3 free CPU cores and 2 GiB free memory",
    )


def test_a_gang_takes_cpu_on_every_node_of_one_pool() -> None:
    snap = fleet(
        [gpu_pool(3, inter_node="roce"), gpu_pool(4, inter_node="ethernet")],
        [
            (10, 3, None, 96_000, None),
            (11, 3, None, 8_000, None),
            (12, 3, None, 96_000, None),
            (20, 4, None, None, None),
            (21, 4, None, None, None),
        ],
    )
    demand = Demand(cards=16, cards_per_node=8, inter_node="roce", cpu_milli=10_000)
    result = placed(ENGINE.place(snap, demand))
    assert [a.node_id for a in result.allocations] == [10, 12]
    assert all(a.cpu_milli == 10_000 and a.gpus == tuple(range(8)) for a in result.allocations)


@pytest.mark.parametrize(
    ("demand", "code", "reason"),
    [
        (
            Demand(cards=1, accepted_models=frozenset({"H800"})),
            Code.UNRESOLVABLE,
            "1 pool offers no accelerator matching H800",
        ),
        (Demand(cards=8), Code.UNRESOLVABLE, "1 pool has fewer than 8 cards per node"),
        (
            Demand(cards=1, gpu_milli=800, cpu_milli=40_000),
            Code.UNSCHEDULABLE,
            "1 matching pool has no node with 0.8 of a free GPU and 40 free CPU cores",
        ),
    ],
)
def test_unplaced_says_why_with_a_code(demand: Demand, code: Code, reason: str) -> None:
    result = unplaced(ENGINE.place(small(), demand))
    assert result.code is code
    assert reason in result.reasons


def test_filter_statuses_name_their_plugin() -> None:
    alive, statuses = ENGINE.filter_pools(small(), Demand(cards=1, max_price_fen=10))
    assert not alive.any()
    assert [(s.plugin, s.code) for s in statuses] == [
        ("model", Code.SUCCESS),
        ("region", Code.SUCCESS),
        ("price", Code.UNRESOLVABLE),
        ("shape", Code.SUCCESS),
    ]
    assert statuses[2].reasons == ("1 pool costs more than ¥0.10/card-hour",)
    assert not statuses[2].ok and statuses[0].ok


def state(snap: Snapshot) -> list[np.ndarray[Any, Any]]:
    return [
        snap.node_cpu.copy(),
        snap.node_mem.copy(),
        snap.gpu_free.copy(),
        snap.node_tags.copy(),
        snap.node_class.copy(),
    ]


@pytest.mark.parametrize(
    "demand",
    [
        Demand(cards=1, gpu_milli=250, cpu_milli=2000, memory_mib=1024),
        Demand(cards=2, cpu_milli=1000),
        Demand(cards=0, cpu_milli=4000, memory_mib=10),
    ],
)
def test_reserve_then_unreserve_restores_every_array(demand: Demand) -> None:
    snap = small()
    before = state(snap)
    named = Engine.reserve(snap, placed(ENGINE.place(snap, demand)))
    assert any((a != b).any() for a, b in zip(state(snap), before, strict=True))
    Engine.unreserve(snap, named)
    assert all((a == b).all() for a, b in zip(state(snap), before, strict=True))


def test_a_failed_reserve_changes_nothing() -> None:
    snap = small()
    before = state(snap)
    bad = Placement(1, 10, 1000, (Allocation(2, 1, (0,), 500), Allocation(1, 1, (2,), 500)), 0)
    with pytest.raises(ValueError, match="GPU 2 has less than 500 milli-GPU free"):
        Engine.reserve(snap, bad)
    assert all((a == b).all() for a, b in zip(state(snap), before, strict=True))


def test_the_legacy_whole_card_view_writes_through() -> None:
    snap = fleet([gpu_pool(1, gpus=4)], [(1, 1, [0, 0, 1000, 500], None, None)])
    assert snap.node_free[0] == 1 and snap.node_free.sum() == 1 == snap.free_cards()
    snap.node_free[0] += 2  # the exchange's SnapshotCache.release does this
    assert snap.gpu_free[0].tolist() == [1000, 1000, 1000, 500]
    with pytest.raises(ValueError, match="has only 0 whole cards in use"):
        snap.node_free[0] += 1
    snap.node_free[0] = 1
    assert snap.gpu_free[0].tolist() == [0, 0, 1000, 500]
    assert list(snap.node_free) == [1] and snap.node_free.tolist() == [1]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cards": 2, "gpu_milli": 500}, "a share of a GPU"),
        ({"cards": 1, "gpu_milli": 0}, "gpu_milli must be in"),
        ({"cards": 1, "gpu_milli": 1001}, "gpu_milli must be in"),
        ({"cards": 1, "cpu_milli": -1}, "must not be negative"),
        ({"cards": 0}, "cards must be positive"),
    ],
)
def test_demand_refuses_impossible_shapes(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Demand(**kwargs)


@pytest.mark.parametrize(
    ("demand", "per_node", "share", "milli"),
    [
        (Demand(cards=0, cpu_milli=500), 0, False, 0),
        (Demand(cards=1, gpu_milli=460), 1, True, 460),
        (Demand(cards=8, cards_per_node=4), 4, False, 8000),
    ],
)
def test_demand_shape_properties(demand: Demand, per_node: int, share: bool, milli: int) -> None:
    assert (demand.per_node, demand.is_share, demand.total_gpu_milli) == (per_node, share, milli)


def test_ties_follow_the_tie_break() -> None:
    snap = fleet(
        [gpu_pool(1)],
        [(5, 1, None, None, None), (2, 1, None, None, None), (9, 1, None, None, None)],
    )
    demand = Demand(cards=1)
    assert placed(Engine(tie=LowestNodeId()).place(snap, demand)).allocations[0].node_id == 2
    ranked = Engine(tie=NodePriority({9: 0, 2: 5, 5: 1}))
    assert placed(ranked.place(snap, demand)).allocations[0].node_id == 9
    draws = {
        placed(Engine(tie=RandomTie(np.random.default_rng(s))).place(snap, demand))
        .allocations[0]
        .node_id
        for s in range(40)
    }
    assert draws == {2, 5, 9}


MIX = DemandMix((Shape(1000, 500, 1), Shape(1000, 1000, 1)), (0.5, 0.5))


@pytest.mark.parametrize(
    "policy", ["price", "random", "dotprod", "packing", "clustering", "bestfit", "fgd", "suanli"]
)
def test_every_policy_places_every_shape(policy: str) -> None:
    engine = make_engine(policy, mix=MIX, rng=np.random.default_rng(1))
    for demand in (Demand(cards=1, gpu_milli=250), Demand(cards=2), Demand(cards=0, cpu_milli=1)):
        snap = small()
        result = placed(engine.place(snap, demand))
        Engine.reserve(snap, result)
        assert ((snap.gpu_free >= 0) & (snap.gpu_free <= MILLI)).all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"policy": "nope"}, "unknown policy 'nope'"),
        ({"policy": "fgd"}, "needs a demand mix"),
        ({"policy": "price", "weights": {"bogus": 1}}, "has no score named bogus"),
    ],
)
def test_make_engine_refuses_bad_names(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_engine(**kwargs)


def test_weights_are_configurable() -> None:
    engine = make_engine("price", weights={"bestfit": 7})
    assert [(p.name, w) for p, w in engine.scores] == [("price", 100), ("bestfit", 7)]
