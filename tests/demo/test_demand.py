"""The demo demand: one real day of the Philly trace with a seeded buyer model."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from suanli.catalog.regions import PROVINCES
from suanli.demo.demand import DemandItem, demo_buyers, philly_day
from suanli.demo.fleet import accelerators

MODELS = frozenset(accelerators())


@pytest.fixture(scope="module")
def day() -> list[DemandItem]:
    return philly_day()


def test_size_and_order(day: list[DemandItem]) -> None:
    assert len(day) == 3205
    assert [d.offset_s for d in day] == sorted(d.offset_s for d in day)
    assert all(0 <= d.offset_s < 86_400 for d in day)
    assert philly_day(date(2017, 10, 5)) == day


def test_deterministic(day: list[DemandItem]) -> None:
    assert philly_day() == day
    assert philly_day(seed=8) != day
    # the seed changes buyers and constraints, never the trace's jobs
    same_jobs = [(d.offset_s, d.cards, d.duration_s) for d in philly_day(seed=8)]
    assert same_jobs == [(d.offset_s, d.cards, d.duration_s) for d in day]


# Hand-checked rows of philly_jobs_2017-09-04_to_2017-10-15.csv:
# (timestamp, num_gpus, duration)
SOURCE_ROWS = [
    ("00:00:00", 1, 2625),
    ("00:00:09", 1, 2466),
    ("15:38:32", 32, 53862),
    ("15:38:54", 32, 59941),
    ("23:51:03", 16, 350667),
]


@pytest.mark.parametrize(("clock", "cards", "duration"), SOURCE_ROWS)
def test_jobs_match_source(day: list[DemandItem], clock: str, cards: int, duration: int) -> None:
    h, m, s = (int(x) for x in clock.split(":"))
    offset = h * 3600 + m * 60 + s
    assert any((d.offset_s, d.cards, d.duration_s) == (offset, cards, duration) for d in day)


def test_trace_totals(day: list[DemandItem]) -> None:
    sizes = Counter(d.cards for d in day)
    assert sizes == {1: 3126, 8: 53, 2: 15, 4: 8, 32: 2, 16: 1}
    assert max(d.duration_s for d in day) == 622818  # a week-long job: runs past the day


def test_shapes(day: list[DemandItem]) -> None:
    for d in day:
        if d.cards <= 8:
            assert d.cards_per_node is None
            assert d.inter_node is None
        else:
            assert d.cards_per_node == 8
            assert d.cards % d.cards_per_node == 0
            assert d.inter_node == "infiniband"


def test_constraints_valid(day: list[DemandItem]) -> None:
    for d in day:
        assert 0 <= d.buyer < 40
        assert set(d.accepted_models) <= MODELS
        assert d.accepted_models or d.min_memory_gb is not None
        assert d.province is None or d.province in PROVINCES
        assert d.max_price_fen is None or (type(d.max_price_fen) is int and d.max_price_fen > 0)


def test_demand_model_shares(day: list[DemandItem]) -> None:
    n = len(day)
    restricted = sum(d.province is not None for d in day) / n
    priced = sum(d.max_price_fen is not None for d in day) / n
    interruptible = sum(d.interruptible for d in day) / n
    assert 0.2 <= restricted <= 0.4
    assert 0.75 <= priced <= 0.95
    assert 0.15 <= interruptible <= 0.35
    assert len({d.buyer for d in day}) == 40
    inference = {"RTX4090", "L20", "L40S", "A10", "T4"}
    assert any(set(d.accepted_models) <= inference for d in day if d.accepted_models)
    gangs = [d for d in day if d.cards_per_node]
    assert all(d.accepted_models or (d.min_memory_gb or 0) >= 48 for d in gangs)


def test_max_price_near_list_price(day: list[DemandItem]) -> None:
    prices = {m: a.price_fen for m, a in accelerators().items()}
    for d in day:
        if d.max_price_fen is not None and d.accepted_models:
            typical = max(prices[m] for m in d.accepted_models)
            assert typical * 70 // 100 <= d.max_price_fen <= typical * 136 // 100


def test_scale_overlays_copies(day: list[DemandItem]) -> None:
    big = philly_day(scale=3)
    assert len(big) == 3 * len(day)
    assert all(0 <= d.offset_s < 86_400 for d in big)
    assert {d.buyer // 40 for d in big} == {0, 1, 2}
    assert Counter(d.cards for d in big) == Counter(
        {k: 3 * v for k, v in Counter(d.cards for d in day).items()}
    )
    first = [d for d in big if d.buyer < 40]
    assert first == day  # copy 0 is the unscaled day


def test_other_day_rejected() -> None:
    with pytest.raises(ValueError, match="2017-10-05"):
        philly_day(date(2017, 10, 6))
    with pytest.raises(ValueError, match="scale"):
        philly_day(scale=0)


def test_buyers() -> None:
    buyers = demo_buyers()
    assert len(buyers) == 40
    assert len({b.name for b in buyers}) == 40
    assert len({b.name_zh for b in buyers}) == 40
    assert len({b.province for b in buyers}) >= 20
    assert {b.kind for b in buyers} == {"sme", "startup", "lab"}
    assert all(b.province in PROVINCES and b.city for b in buyers)
    assert demo_buyers(40, seed=7) == buyers
    assert demo_buyers(40, seed=8) != buyers
    more = demo_buyers(200)
    assert more[:40] == buyers
    assert len({b.name for b in more}) == 200
    assert demo_buyers(5) == buyers[:5]
