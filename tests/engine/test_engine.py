"""The engine as a whole: selection, gangs, reasons, nearest offers, reserve/unreserve."""

from __future__ import annotations

from typing import Any

import pytest

from engine.build import free_of, pool, snapshot, spots
from suanli.engine import (
    Allocation,
    Demand,
    Engine,
    Placement,
    PoolInfo,
    SnapshotBuilder,
    Unplaced,
)

ENGINE = Engine()


def placed(result: Placement | Unplaced) -> Placement:
    assert isinstance(result, Placement), result
    return result


def unplaced(result: Placement | Unplaced) -> Unplaced:
    assert isinstance(result, Unplaced), result
    return result


# -- single node ---------------------------------------------------------------------------

BEST_FIT = snapshot([pool(1)], [(1, 1, 8), (2, 1, 3), (3, 1, 5), (4, 1, 4)])


@pytest.mark.parametrize(
    ("cards", "node"),
    [(1, 2), (3, 2), (4, 4), (5, 3), (6, 1), (8, 1)],
)
def test_single_node_goes_to_the_best_fitting_node(cards: int, node: int) -> None:
    result = placed(ENGINE.place(BEST_FIT, Demand(cards=cards)))
    assert spots(result) == [(node, cards)]
    assert (result.pool_id, result.center_id, result.price_fen) == (1, 10, 1000)
    assert result.cards == cards


def test_ties_go_to_the_lowest_node_id() -> None:
    snap = snapshot([pool(1)], [(9, 1, 8), (2, 1, 8), (5, 1, 8)])
    assert spots(placed(ENGINE.place(snap, Demand(cards=8)))) == [(2, 8)]


@pytest.mark.parametrize(
    ("pools", "nodes", "cards", "pool_id"),
    [
        # a cheaper pool wins even where a dearer one fits better
        ([pool(1, price=1500), pool(2, price=1000)], [(1, 1, 1), (2, 2, 8)], 1, 2),
        ([pool(1, price=1000), pool(2, price=1001)], [(1, 1, 8), (2, 2, 1)], 1, 1),
        # at one price, the better fit wins
        ([pool(1, price=1000), pool(2, price=1000)], [(1, 1, 8), (2, 2, 2)], 2, 2),
        # the cheapest pool that has room
        (
            [pool(1, price=500), pool(2, price=900), pool(3, price=700)],
            [(1, 1, 2), (2, 2, 8), (3, 3, 8)],
            4,
            3,
        ),
    ],
)
def test_cheapest_pool_first(
    pools: list[PoolInfo], nodes: list[tuple[int, int, int]], cards: int, pool_id: int
) -> None:
    assert placed(ENGINE.place(snapshot(pools, nodes), Demand(cards=cards))).pool_id == pool_id


# -- gangs ---------------------------------------------------------------------------------


def test_gang_goes_to_one_pool_with_a_fast_enough_fabric() -> None:
    snap = snapshot(
        [pool(1, price=900, inter_node="roce"), pool(2, price=1200, inter_node="infiniband")],
        [(1, 1, 8), (2, 1, 8), (3, 1, 8), (4, 2, 8), (5, 2, 8)],
    )
    result = placed(ENGINE.place(snap, Demand(cards=16, cards_per_node=8, inter_node="infiniband")))
    assert result.pool_id == 2
    assert spots(result) == [(4, 8), (5, 8)]
    roce = placed(ENGINE.place(snap, Demand(cards=16, cards_per_node=8, inter_node="roce")))
    assert roce.pool_id == 1 and len(roce.allocations) == 2


def test_gang_goes_to_the_cheapest_pool_that_fits() -> None:
    snap = snapshot(
        [pool(1, price=2000), pool(2, price=1000)],
        [(1, 1, 8), (2, 1, 8), (3, 2, 8), (4, 2, 8)],
    )
    result = placed(ENGINE.place(snap, Demand(cards=16, cards_per_node=8)))
    assert result.pool_id == 2, "a gang must go to the cheaper of two equal pools"


def test_gang_never_spans_pools() -> None:
    snap = snapshot([pool(1), pool(2)], [(1, 1, 8), (2, 2, 8)])
    result = unplaced(ENGINE.place(snap, Demand(cards=16, cards_per_node=8)))
    assert result.reasons == ("2 matching pools lack 2 nodes with 8 free cards each",)


def test_gang_needs_distinct_nodes() -> None:
    snap = snapshot([pool(1)], [(1, 1, 8)])
    unplaced(ENGINE.place(snap, Demand(cards=8, cards_per_node=4)))


def test_gang_takes_the_best_fitting_nodes_of_its_pool() -> None:
    snap = snapshot([pool(1)], [(1, 1, 8), (2, 1, 4), (3, 1, 8), (4, 1, 5)])
    result = placed(ENGINE.place(snap, Demand(cards=8, cards_per_node=4)))
    assert spots(result) == [(2, 4), (4, 4)]


# -- reasons and nearest offers -----------------------------------------------------------

MARKET = snapshot(
    [
        pool(1, model="H800", province="贵州", price=1000, label="Guiyang-1/h800"),
        pool(2, model="H800", province="湖北", price=900, label="Wuhan-1/h800"),
        pool(3, model="A100-80GB", province="贵州", price=500, label="Guiyang-1/a100"),
        pool(4, model="H800", province="甘肃", price=2000, label="Qingyang-1/h800"),
        pool(5, model="H800", province="贵州", price=1100, label="Guiyang-2/h800"),
    ],
    [(1, 1, 4), (2, 2, 8), (3, 2, 8), (4, 3, 8), (5, 4, 6), (6, 5, 0)],
)


def test_unplaced_says_why_and_what_is_nearest() -> None:
    demand = Demand(
        cards=8,
        accepted_models=frozenset({"H800"}),
        provinces=frozenset({"贵州"}),
        max_price_fen=1500,
    )
    result = unplaced(ENGINE.place(MARKET, demand))
    assert result.reasons[0].startswith("1 pool offers no accelerator matching H800")
    assert "2 pools are outside 贵州" in result.reasons
    assert result.reasons[-1] == "2 matching pools have no node with 8 free cards"
    assert result.nearest == (
        "16 free H800 at Wuhan-1/h800 (湖北), ¥9.00/card-hour",
        "6 free H800 at Qingyang-1/h800 (甘肃), ¥20.00/card-hour",
        "4 free H800 at Guiyang-1/h800 (贵州), ¥10.00/card-hour",
    )


@pytest.mark.parametrize(
    ("demand", "reason"),
    [
        (
            Demand(cards=1, max_price_fen=400),
            "5 pools cost more than ¥4.00/card-hour",
        ),
        (Demand(cards=1, provinces=frozenset({"上海"})), "5 pools are outside 上海"),
        (Demand(cards=1, min_memory_gb=96), "5 pools offer no accelerator matching >= 96 GB"),
        (Demand(cards=9), "5 pools have fewer than 9 cards per node"),
    ],
)
def test_each_filter_names_its_cut(demand: Demand, reason: str) -> None:
    result = unplaced(ENGINE.place(MARKET, demand))
    assert any(r.startswith(reason) for r in result.reasons), result.reasons


def test_nearest_is_empty_when_no_pool_has_the_model() -> None:
    result = unplaced(ENGINE.place(MARKET, Demand(cards=1, accepted_models=frozenset({"T4"}))))
    assert result.nearest == ()


def test_an_empty_exchange_says_so() -> None:
    result = unplaced(ENGINE.place(snapshot([]), Demand(cards=1)))
    assert result.reasons == ("no capacity is listed on the exchange",)
    assert result.nearest == ()


def test_a_full_exchange_is_not_an_empty_one() -> None:
    snap = snapshot([pool(1)], [(1, 1, 0)])
    result = unplaced(ENGINE.place(snap, Demand(cards=1)))
    assert result.reasons == ("1 matching pool has no node with 1 free card",)


# -- reserve / unreserve -------------------------------------------------------------------


def test_place_does_not_change_the_snapshot_and_copies_are_independent() -> None:
    snap = BEST_FIT.copy()
    before = free_of(snap)
    result = placed(ENGINE.place(snap, Demand(cards=3)))
    assert free_of(snap) == before
    other = snap.copy()
    Engine.reserve(other, result)
    assert free_of(snap) == before
    assert free_of(other)[2] == 0


def test_reserve_and_unreserve_are_exact_inverses() -> None:
    snap = snapshot([pool(1)], [(1, 1, 8), (2, 1, 8), (3, 1, 2)])
    before = free_of(snap)
    result = placed(ENGINE.place(snap, Demand(cards=16, cards_per_node=8)))
    named = Engine.reserve(snap, result)
    assert free_of(snap) == {1: 0, 2: 0, 3: 2}
    Engine.unreserve(snap, named)
    assert free_of(snap) == before


def test_reserve_of_too_many_cards_changes_nothing() -> None:
    snap = snapshot([pool(1)], [(1, 1, 8), (2, 1, 3)])
    greedy = Placement(1, 10, 1000, (Allocation(1, 4), Allocation(2, 4)), 0)
    with pytest.raises(ValueError, match="node 2 has fewer than 4 free cards"):
        Engine.reserve(snap, greedy)
    assert free_of(snap) == {1: 8, 2: 3}


# -- inputs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cards": 0}, "cards must be positive"),
        ({"cards": -8}, "cards must be positive"),
        ({"cards": 12, "cards_per_node": 8}, "multiple of cards_per_node"),
        ({"cards": 8, "cards_per_node": 0}, "multiple of cards_per_node"),
    ],
)
def test_demand_refuses_impossible_shapes(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Demand(**kwargs)


def test_snapshot_builder_refuses_bad_input() -> None:
    builder = SnapshotBuilder()
    builder.add_pool(pool(1))
    with pytest.raises(ValueError, match="pool 1 added twice"):
        builder.add_pool(pool(1))
    with pytest.raises(ValueError, match="unknown inter-node interconnect 'carrier-pigeon'"):
        builder.add_pool(pool(2, inter_node="carrier-pigeon"))
    with pytest.raises(ValueError, match="negative free cards"):
        builder.add_node(1, 1, -1)


@pytest.mark.parametrize(
    ("demand", "node_count", "per_node"),
    [
        (Demand(cards=8), 1, 8),
        (Demand(cards=8, cards_per_node=8), 1, 8),
        (Demand(cards=32, cards_per_node=8), 4, 8),
        (Demand(cards=3, cards_per_node=1), 3, 1),
    ],
)
def test_demand_shape(demand: Demand, node_count: int, per_node: int) -> None:
    assert (demand.node_count, demand.per_node) == (node_count, per_node)
