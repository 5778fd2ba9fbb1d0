"""Open shapes: a request larger than one node is spread over nodes of one pool, and the
most any pool could ever give (``Engine.reach``); reasons in both languages."""

from __future__ import annotations

import re

import pytest

from engine.build import pool, snapshot, spots
from suanli.engine import Code, Demand, Engine, Placement, Unplaced
from suanli.engine.reasons import Reason, zh_of

ENGINE = Engine()
CJK = re.compile(r"[\u4e00-\u9fff]")


def test_an_open_shape_bigger_than_any_node_is_spread_over_one_pool() -> None:
    snap = snapshot([pool(1, cards_per_node=8)], [(n, 1, 8) for n in range(1, 5)])
    result = ENGINE.place(snap, Demand(cards=16, split=True))
    assert isinstance(result, Placement)
    assert spots(result) == [(1, 8), (2, 8)]


def test_a_fixed_shape_is_never_split() -> None:
    snap = snapshot([pool(1, cards_per_node=8)], [(n, 1, 8) for n in range(1, 5)])
    result = ENGINE.place(snap, Demand(cards=16))
    assert isinstance(result, Unplaced) and result.code is Code.UNRESOLVABLE
    assert result.reasons == ("1 pool has fewer than 16 cards per node",)


@pytest.mark.parametrize(
    ("cards", "per_node"),
    [(16, [16, 8, 4, 2]), (12, [12, 6, 4, 2]), (10, [10, 5, 2]), (13, [13, 1]), (8, [8, 4, 2])],
)
def test_shapes_take_the_most_cards_per_node_that_divides_the_request(
    cards: int, per_node: list[int]
) -> None:
    sizes = [16, 8, 4, 2]
    snap = snapshot([pool(i, cards_per_node=c) for i, c in enumerate(sizes, 1)])
    shapes = ENGINE.shapes(snap, Demand(cards=cards, split=True))
    assert [s.per_node for s in shapes] == per_node
    assert not any(s.split for s in shapes)
    assert shapes[0].node_count == 1 and shapes[0].inter_node is None
    assert all(s.inter_node == "ethernet" for s in shapes[1:])


def test_a_whole_node_is_preferred_to_a_spread() -> None:
    snap = snapshot(
        [pool(1, cards_per_node=8, price=900), pool(2, cards_per_node=16, price=1200)],
        [(1, 1, 8), (2, 1, 8), (3, 2, 16)],
    )
    result = ENGINE.place(snap, Demand(cards=16, split=True))
    assert isinstance(result, Placement) and result.pool_id == 2 and spots(result) == [(3, 16)]


def test_a_spread_needs_a_fabric_between_nodes() -> None:
    snap = snapshot(
        [pool(1, cards_per_node=8, inter_node="none"), pool(2, inter_node="ethernet")],
        [(1, 1, 8), (2, 1, 8), (3, 2, 8), (4, 2, 8)],
    )
    result = ENGINE.place(snap, Demand(cards=16, split=True))
    assert isinstance(result, Placement) and result.pool_id == 2
    need_ib = ENGINE.place(snap, Demand(cards=16, split=True, inter_node="infiniband"))
    assert isinstance(need_ib, Unplaced) and need_ib.code is Code.UNRESOLVABLE
    assert any("no infiniband between nodes" in r for r in need_ib.reasons)


def test_an_unplaced_spread_waits_with_the_closest_shape_s_reasons() -> None:
    snap = snapshot([pool(1, cards_per_node=8)], [(1, 1, 8), (2, 1, 3)])
    result = ENGINE.place(snap, Demand(cards=16, split=True))
    assert isinstance(result, Unplaced) and result.code is Code.UNSCHEDULABLE
    assert result.reasons == ("1 matching pool lacks 2 nodes with 8 free cards each",)
    assert zh_of(result.reasons[0]) == "1 个符合条件的资源池目前凑不出 2 个各有 8 张空闲卡 的节点"


def test_reach_is_the_largest_matching_pool_when_linked_else_one_node() -> None:
    snap = snapshot(
        [
            pool(1, cards_per_node=8, inter_node="infiniband"),
            pool(2, cards_per_node=16, inter_node="none"),
            pool(3, model="T4", cards_per_node=8),
        ],
        [(1, 1, 8), (2, 1, 0), (3, 2, 16), (4, 2, 16), (5, 3, 8), (6, 3, 8), (7, 3, 8)],
    )
    assert ENGINE.reach(snap, Demand(cards=100, split=True)) == (24, 2)
    h800 = Demand(cards=100, split=True, accepted_models=frozenset({"H800"}))
    assert ENGINE.reach(snap, h800) == (16, 0)  # 2 linked nodes of 8; ties: the first
    fixed = Demand(cards=100, accepted_models=frozenset({"H800"}))
    assert ENGINE.reach(snap, fixed) == (16, 1)  # one node of the 16-card pool
    assert ENGINE.reach(snap, Demand(cards=1, accepted_models=frozenset({"A100-80GB"}))) is None


def test_every_reason_has_a_chinese_twin_in_agreement_with_its_count() -> None:
    snap = snapshot(
        [pool(1, model="T4"), pool(2, province="湖北"), pool(3, price=5000), pool(4)],
        [(1, 1, 8), (2, 2, 8), (3, 3, 8), (4, 4, 2)],
    )
    demand = Demand(
        cards=8,
        accepted_models=frozenset({"H800"}),
        provinces=frozenset({"贵州"}),
        max_price_fen=2000,
    )
    result = ENGINE.place(snap, demand)
    assert isinstance(result, Unplaced)
    assert list(result.reasons) == [
        "1 pool offers no accelerator matching H800",
        "1 pool is outside 贵州",
        "1 pool costs more than ¥20.00/card-hour",
        "1 matching pool has no node with 8 free cards",
    ]
    for text in (*result.reasons, *result.nearest):
        assert isinstance(text, Reason) and CJK.search(text.zh), text
    assert result.nearest[0] == "8 free H800 at center-2/pool-2 (湖北), ¥10.00/card-hour"
