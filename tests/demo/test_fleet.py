"""The demo fleet built from the packaged centers, node shapes and prices."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest

from suanli.catalog.regions import region_of
from suanli.demo.fleet import CenterSpec, accelerators, build_fleet

MODELS = frozenset(
    {
        *("H100", "H800", "H20", "A100-80GB", "A800", "L40S", "L20", "RTX4090", "V100"),
        *("V100-16GB", "T4", "A10", "P100", "Ascend910B", "Ascend910C", "DCU-K100"),
        *("MLU370", "P800"),
    }
)
DOMESTIC = frozenset({"Ascend910B", "Ascend910C", "DCU-K100", "MLU370", "P800"})


@pytest.fixture(scope="module")
def fleet() -> list[CenterSpec]:
    return build_fleet()


def test_centers_are_the_real_list(fleet: list[CenterSpec]) -> None:
    assert len(fleet) >= 100
    assert len({c.province for c in fleet}) >= 20
    assert len({c.name for c in fleet}) == len(fleet)
    assert all(region_of(c.province) for c in fleet)  # every province is known
    wuhan = fleet[0]
    assert (wuhan.name_zh, wuhan.province, wuhan.city) == ("武汉人工智能计算中心", "湖北", "武汉")
    assert Counter(c.status for c in fleet) == {"active": 95, "planned": 6}


def test_pools_only_on_active_centers(fleet: list[CenterSpec]) -> None:
    for center in fleet:
        if center.status == "active":
            assert 1 <= len(center.pools) <= 4, center.name
            assert len({p.model for p in center.pools}) == len(center.pools)
        else:
            assert center.status == "planned"
            assert center.pools == ()


def test_pool_fields(fleet: list[CenterSpec]) -> None:
    for pool in (p for c in fleet for p in c.pools):
        assert pool.model in MODELS
        assert 2 <= pool.nodes <= 64
        assert pool.cards_per_node in {1, 2, 4, 8}
        assert pool.cpu_per_node >= 32
        assert pool.memory_gb_per_node >= 256
        assert pool.intra_node in {"nvlink", "pcie", "hccs", "xgmi", "mlu-link", "xpu-link"}
        assert pool.inter_node in {"none", "ethernet", "roce", "infiniband"}
        assert pool.inter_node_gbps > 0
        for value in (pool.nodes, pool.cards_per_node, pool.price_fen, pool.inter_node_gbps):
            assert type(value) is int
        if pool.model.startswith("Ascend"):
            assert (pool.intra_node, pool.cards_per_node) == ("hccs", 8)
        if pool.model in {"T4", "A10", "L20", "L40S", "RTX4090"}:
            assert (pool.intra_node, pool.inter_node) == ("pcie", "ethernet")
        if pool.model in {"H800", "A100-80GB", "A800"}:
            assert pool.intra_node == "nvlink"
            assert pool.inter_node in {"infiniband", "roce"}


def test_site_values(fleet: list[CenterSpec]) -> None:
    for center in fleet:
        assert isinstance(center.pue, Decimal)
        assert isinstance(center.rack_kw, Decimal)
        assert Decimal("1.15") <= center.pue <= Decimal("1.5")
        assert Decimal(8) <= center.rack_kw <= Decimal(40)


def test_domestic_centers_get_domestic_cards(fleet: list[CenterSpec]) -> None:
    by_name = {c.name: c for c in fleet}
    cases = {
        "Wuhan Artificial Intelligence Computing Center": {"Ascend910B"},
        "Huawei Cloud Gui'an Data Center": {"Ascend910C"},
        "Hengqin Advanced Intelligent Computing Platform": {"MLU370"},
        "China Telecom Poyang Lake Intelligent Computing Center": {"Ascend910B", "P800"},
        "Qingdao 'Haizhixin' AI Computing Center": {"DCU-K100"},
    }
    for name, models in cases.items():
        assert {p.model for p in by_name[name].pools} == models, name
    mixed = {p.model for p in by_name["China Telecom Lingang Intelligent Computing Center"].pools}
    assert "Ascend910B" in mixed
    assert mixed - DOMESTIC


# (model, lowest, highest) plausible price per card-hour in fen, after the +-15% jitter
PRICE_RANGES = [
    ("H100", 1000, 1600),
    ("H800", 1000, 1600),
    ("A800", 350, 800),
    ("A100-80GB", 350, 900),
    ("H20", 550, 950),
    ("L40S", 350, 750),
    ("L20", 200, 500),
    ("RTX4090", 100, 250),
    ("V100", 150, 400),
    ("V100-16GB", 100, 300),
    ("T4", 80, 200),
    ("A10", 150, 350),
    ("P100", 50, 200),
    ("Ascend910B", 300, 700),
    ("Ascend910C", 700, 1400),
    ("DCU-K100", 250, 600),
    ("MLU370", 150, 450),
    ("P800", 400, 900),
]


def test_price_table_covers_catalog() -> None:
    assert set(accelerators()) == MODELS
    assert {m for m, _, _ in PRICE_RANGES} == MODELS


@pytest.mark.parametrize(("model", "low", "high"), PRICE_RANGES)
def test_prices_plausible(model: str, low: int, high: int) -> None:
    list_price = accelerators()[model].price_fen
    assert type(list_price) is int
    assert low <= list_price <= high
    for seed in (7, 8, 9):
        for pool in (p for c in build_fleet(seed) for p in c.pools if p.model == model):
            assert type(pool.price_fen) is int
            assert low <= pool.price_fen <= high
            assert abs(pool.price_fen - list_price) * 100 <= 15 * list_price + 100


@pytest.mark.parametrize("seed", [1, 7, 8, 42])
def test_card_totals(seed: int) -> None:
    fleet = build_fleet(seed)
    cards = Counter[str]()
    for pool in (p for c in fleet for p in c.pools):
        cards[pool.model] += pool.cards
    assert 6_000 <= cards.total() <= 12_000
    assert len(cards) >= 12  # a real mix of models
    assert max(cards.values()) <= cards.total() // 4


def test_deterministic_for_a_seed() -> None:
    assert build_fleet(7) == build_fleet(7)
    assert build_fleet() == build_fleet(7)
    assert build_fleet(7) != build_fleet(8)
