"""Each filter and score plugin on its own, table-driven."""

from __future__ import annotations

import numpy as np
import pytest

from engine.build import pool, snapshot
from suanli.engine import Demand
from suanli.engine.plugins import (
    BestFitScore,
    FitFilter,
    ModelFilter,
    PriceFilter,
    PriceScore,
    RegionFilter,
    ShapeFilter,
)

# -- ModelFilter ---------------------------------------------------------------------------

MODEL_SNAP = snapshot(
    [
        pool(1, model="H800"),
        pool(2, model="A100-80GB"),
        pool(3, model="T4"),
        pool(4, model="Ascend910B"),
    ]
)


@pytest.mark.parametrize(
    ("demand", "expected"),
    [
        (Demand(cards=1), [1, 1, 1, 1]),
        (Demand(cards=1, accepted_models=frozenset({"H800"})), [1, 0, 0, 0]),
        (Demand(cards=1, accepted_models=frozenset({"H800", "T4"})), [1, 0, 1, 0]),
        (Demand(cards=1, accepted_models=frozenset({"MLU370"})), [0, 0, 0, 0]),
        (Demand(cards=1, min_memory_gb=64), [1, 1, 0, 1]),
        (Demand(cards=1, min_memory_gb=80), [1, 1, 0, 0]),
        (Demand(cards=1, min_memory_gb=81), [0, 0, 0, 0]),
        (Demand(cards=1, min_tflops=312.0), [1, 1, 0, 1]),
        (Demand(cards=1, min_tflops=400.0), [1, 0, 0, 0]),
        (
            Demand(
                cards=1, accepted_models=frozenset({"A100-80GB", "Ascend910B"}), min_tflops=350.0
            ),
            [0, 0, 0, 1],
        ),
    ],
)
def test_model_filter(demand: Demand, expected: list[int]) -> None:
    assert ModelFilter().mask(MODEL_SNAP, demand).tolist() == [bool(x) for x in expected]


@pytest.mark.parametrize(
    ("demand", "excluded", "text"),
    [
        (
            Demand(cards=1, accepted_models=frozenset({"T4", "H800"})),
            2,
            "2 pools offer no accelerator matching H800/T4",
        ),
        (Demand(cards=1, min_memory_gb=64), 1, "1 pool offers no accelerator matching >= 64 GB"),
        (
            Demand(cards=1, min_tflops=400.0),
            3,
            "3 pools offer no accelerator matching >= 400 TFLOPS",
        ),
    ],
)
def test_model_filter_explains(demand: Demand, excluded: int, text: str) -> None:
    assert ModelFilter().explain(demand, excluded).startswith(text)


# -- RegionFilter --------------------------------------------------------------------------

REGION_SNAP = snapshot(
    [
        pool(1, province="贵州"),
        pool(2, province="湖北"),
        pool(3, province="贵州"),
        pool(4, province="甘肃"),
    ]
)


@pytest.mark.parametrize(
    ("provinces", "expected"),
    [
        (set(), [1, 1, 1, 1]),
        ({"贵州"}, [1, 0, 1, 0]),
        ({"湖北", "甘肃"}, [0, 1, 0, 1]),
        ({"上海"}, [0, 0, 0, 0]),
    ],
)
def test_region_filter(provinces: set[str], expected: list[int]) -> None:
    demand = Demand(cards=1, provinces=frozenset(provinces))
    assert RegionFilter().mask(REGION_SNAP, demand).tolist() == [bool(x) for x in expected]


def test_region_filter_explains() -> None:
    demand = Demand(cards=1, provinces=frozenset({"贵州", "湖北"}))
    assert RegionFilter().explain(demand, 3) == "3 pools are outside 湖北/贵州"


# -- PriceFilter ---------------------------------------------------------------------------

PRICE_SNAP = snapshot(
    [pool(1, price=900), pool(2, price=1000), pool(3, price=1001), pool(4, price=2000)]
)


@pytest.mark.parametrize(
    ("cap", "expected"),
    [
        (None, [1, 1, 1, 1]),
        (1000, [1, 1, 0, 0]),  # the cap itself is allowed
        (899, [0, 0, 0, 0]),
        (2000, [1, 1, 1, 1]),
    ],
)
def test_price_filter(cap: int | None, expected: list[int]) -> None:
    demand = Demand(cards=1, max_price_fen=cap)
    assert PriceFilter().mask(PRICE_SNAP, demand).tolist() == [bool(x) for x in expected]


def test_price_filter_explains() -> None:
    demand = Demand(cards=1, max_price_fen=1050)
    assert PriceFilter().explain(demand, 1) == "1 pool costs more than ¥10.50/card-hour"


# -- ShapeFilter ---------------------------------------------------------------------------

SHAPE_SNAP = snapshot(
    [
        pool(1, cards_per_node=8, inter_node="infiniband"),
        pool(2, cards_per_node=8, inter_node="roce"),
        pool(3, cards_per_node=4, inter_node="ethernet"),
        pool(4, cards_per_node=8, inter_node="none"),
        pool(5, cards_per_node=1, inter_node="infiniband"),
    ]
)


@pytest.mark.parametrize(
    ("demand", "expected"),
    [
        (Demand(cards=4), [1, 1, 1, 1, 0]),
        (Demand(cards=8), [1, 1, 0, 1, 0]),
        (Demand(cards=8, cards_per_node=8, inter_node="none"), [1, 1, 0, 1, 0]),  # one node
        (Demand(cards=16, cards_per_node=8), [1, 1, 0, 0, 0]),  # gang: ethernet at least
        (Demand(cards=16, cards_per_node=8, inter_node="roce"), [1, 1, 0, 0, 0]),
        (Demand(cards=16, cards_per_node=8, inter_node="infiniband"), [1, 0, 0, 0, 0]),
        (Demand(cards=8, cards_per_node=4, inter_node="ethernet"), [1, 1, 1, 0, 0]),
        (Demand(cards=2, cards_per_node=1, inter_node="none"), [1, 1, 1, 1, 1]),
        (Demand(cards=9), [0, 0, 0, 0, 0]),
    ],
)
def test_shape_filter(demand: Demand, expected: list[int]) -> None:
    assert ShapeFilter().mask(SHAPE_SNAP, demand).tolist() == [bool(x) for x in expected]


@pytest.mark.parametrize(
    ("demand", "text"),
    [
        (Demand(cards=8), "2 pools have fewer than 8 cards per node"),
        (
            Demand(cards=16, cards_per_node=8, inter_node="infiniband"),
            "2 pools have fewer than 8 cards per node or no infiniband between nodes",
        ),
    ],
)
def test_shape_filter_explains(demand: Demand, text: str) -> None:
    assert ShapeFilter().explain(demand, 2) == text


# -- scores --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prices", "expected"),
    [
        ([1000, 2000, 1500, 1000], [100, 0, 50, 100]),
        ([700, 700], [100, 100]),
        ([1000, 1003], [100, 0]),
        ([1200], [100]),
    ],
)
def test_price_score_prefers_cheaper(prices: list[int], expected: list[int]) -> None:
    snap = snapshot(
        [pool(i + 1, price=p) for i, p in enumerate(prices)],
        [(i + 1, i + 1, 8) for i in range(len(prices))],
    )
    rows = np.arange(len(prices), dtype=np.int64)
    assert PriceScore().score(snap, Demand(cards=1), rows).tolist() == expected


@pytest.mark.parametrize(
    ("free", "cards", "expected"),
    [
        ([8, 4, 2, 1], 1, [13, 63, 88, 100]),
        ([8, 2], 2, [25, 100]),
        ([8, 8], 8, [100, 100]),
    ],
)
def test_best_fit_score_prefers_fuller_nodes(
    free: list[int], cards: int, expected: list[int]
) -> None:
    snap = snapshot([pool(1, cards_per_node=8)], [(i + 1, 1, f) for i, f in enumerate(free)])
    rows = np.arange(len(free), dtype=np.int64)
    assert BestFitScore().score(snap, Demand(cards=cards), rows).tolist() == expected


@pytest.mark.parametrize("plugin", [PriceScore(), BestFitScore()], ids=lambda p: p.name)
def test_scores_stay_between_0_and_100(plugin: PriceScore | BestFitScore) -> None:
    snap = snapshot(
        [pool(1, price=100, cards_per_node=8), pool(2, price=5000, cards_per_node=4)],
        [(1, 1, 8), (2, 1, 1), (3, 2, 4), (4, 2, 1)],
    )
    rows = np.arange(4, dtype=np.int64)
    scores = plugin.score(snap, Demand(cards=1), rows)
    assert ((scores >= 0) & (scores <= 100)).all()


# -- FitFilter (free capacity per node) ----------------------------------------------------


def test_fit_filter_wants_enough_wholly_free_cards_per_node() -> None:
    snap = snapshot([pool(1, cards_per_node=8)], [(1, 1, 8), (2, 1, 3), (3, 1, 0)])
    fit = FitFilter()
    assert fit.node_mask(snap, Demand(cards=3)).tolist() == [True, True, False]
    assert fit.node_mask(snap, Demand(cards=4)).tolist() == [True, False, False]
    assert fit.node_mask(snap, Demand(cards=8, cards_per_node=4)).tolist() == [True, False, False]


@pytest.mark.parametrize(
    ("demand", "pools", "text"),
    [
        (Demand(cards=8), 2, "2 matching pools have no node with 8 free cards"),
        (
            Demand(cards=16, cards_per_node=8),
            1,
            "1 matching pool lacks 2 nodes with 8 free cards each",
        ),
    ],
)
def test_fit_filter_explains(demand: Demand, pools: int, text: str) -> None:
    assert FitFilter.explain(demand, pools) == text
