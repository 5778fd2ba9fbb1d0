"""The overview and the utilization series, checked by hand on a small market:
a 16-card H800 pool in Guizhou, an 8-card one in Zhejiang, one lease of 8 cards placed
two hours ago, one request of 16 cards waiting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from conftest import Market, Party, make_center, make_pool, make_request, wait_until
from suanli.sdk import ApiError

H800_SCU = Decimal("9.894")  # 989.4 dense FP16 TFLOPS / 100


@dataclass
class Scene:
    t0: datetime
    guizhou: Party
    zhejiang: Party
    buyer: Party
    lease_id: int


@pytest.fixture
def scene(market: Market) -> Scene:
    t0 = market.clock.now()
    guizhou = market.provider()
    center = make_center(guizhou.client, province="贵州")
    make_pool(guizhou.client, center.id, nodes=2, cards_per_node=8, price_fen=1200)
    make_center(guizhou.client, province="Sichuan", city="成都", status="planned")
    zhejiang = market.provider()
    east = make_center(zhejiang.client, province="浙江", city="杭州")
    make_pool(zhejiang.client, east.id, nodes=1, cards_per_node=8, price_fen=1500)
    buyer = market.buyer(topup_fen=10_000_000)
    placed = make_request(buyer.client, cards=8, duration_s=4 * 3600, provinces=["贵州"])
    assert placed.lease_id is not None
    queued = make_request(buyer.client, cards=16, cards_per_node=8, duration_s=3600)
    assert queued.status == "queued"
    market.clock.advance(2 * 3600)
    return Scene(t0, guizhou, zhejiang, buyer, placed.lease_id)


def test_the_operator_sees_national_totals_by_province(market: Market, scene: Scene) -> None:
    view = market.operator.client.overview()

    assert view.at == market.clock.now()
    assert (view.centers, view.active_centers, view.provinces) == (3, 2, 3)
    assert (view.cards, view.allocated_cards, view.idle_cards) == (24, 8, 16)
    assert view.scu_per_hour == 24 * H800_SCU
    assert (view.queued_requests, view.unmet_cards) == (1, 16)
    # 8 of 24 cards for the 2 hours since listing: 16 / 48 card-hours
    assert view.utilization_24h == Decimal("0.3333")
    rows = {r.province: r for r in view.by_province}
    assert [r.province for r in view.by_province] == sorted(rows)
    assert set(rows) == {"贵州", "浙江", "四川"}
    assert (rows["贵州"].centers, rows["贵州"].cards, rows["贵州"].allocated_cards) == (1, 16, 8)
    assert rows["贵州"].utilization_24h == Decimal("0.5")
    assert (rows["浙江"].cards, rows["浙江"].allocated_cards) == (8, 0)
    assert rows["浙江"].utilization_24h == 0
    assert (rows["四川"].centers, rows["四川"].cards) == (1, 0)  # planned: listed, no cards


def test_a_provider_sees_its_own_centers_and_the_market_queue(market: Market, scene: Scene) -> None:
    view = scene.zhejiang.client.overview()
    assert (view.centers, view.cards, view.allocated_cards, view.idle_cards) == (1, 8, 0, 8)
    assert [r.province for r in view.by_province] == ["浙江"]
    assert (view.queued_requests, view.unmet_cards) == (1, 16)  # market-wide
    assert scene.guizhou.client.overview().allocated_cards == 8


def test_an_issuer_reads_it_and_a_buyer_is_refused(market: Market, scene: Scene) -> None:
    issuer = market.party("issuer")
    assert issuer.client.overview().cards == 24
    with pytest.raises(ApiError) as refused:
        scene.buyer.client.overview()
    assert refused.value.status == 403
    assert "providers" in refused.value.message and "operator" in refused.value.message
    assert "buyer" in refused.value.message


def test_cards_freed_by_a_finished_lease_go_to_the_queue(market: Market, scene: Scene) -> None:
    scene.guizhou.client.start_lease(scene.lease_id)
    scene.guizhou.client.complete_lease(scene.lease_id)
    # the waiting gang of 2 x 8 now fits on the Guizhou pool and is placed
    wait_until(lambda: market.operator.client.overview().queued_requests == 0)
    view = market.operator.client.overview()
    assert (view.allocated_cards, view.idle_cards, view.unmet_cards) == (16, 8, 0)


def test_series_buckets_are_exact(market: Market, scene: Scene) -> None:
    end = scene.t0 + timedelta(hours=2, minutes=30)
    series = market.operator.client.utilization_series(start=scene.t0, end=end, step_s=3600)

    assert (series.start, series.end, series.step_s) == (scene.t0, end, 3600)
    spans = [(p.start - scene.t0, p.end - scene.t0) for p in series.points]
    hour = timedelta(hours=1)
    assert spans == [(0 * hour, hour), (hour, 2 * hour), (2 * hour, 2.5 * hour)]
    first, second, last = series.points
    assert (first.available_card_hours, first.allocated_card_hours) == (24, 8)
    assert first.utilization == Decimal("0.3333")
    assert (second.available_card_hours, second.allocated_card_hours) == (24, 8)
    # the clock stands at t0 + 2 h: the lease is still live, counted to the window's end
    assert (last.available_card_hours, last.allocated_card_hours) == (12, 4)
    mine = scene.guizhou.client.utilization_series(start=scene.t0, end=end)
    assert [p.utilization for p in mine.points] == [Decimal("0.5")] * 3


def test_series_defaults_to_the_last_day_by_the_hour(market: Market, scene: Scene) -> None:
    series = market.operator.client.utilization_series()
    assert series.end == market.clock.now()
    assert series.start == series.end - timedelta(days=1)
    assert series.step_s == 3600 and len(series.points) == 24
    assert sum(p.allocated_card_hours for p in series.points) == 16  # 8 cards x 2 h
    report = market.operator.client.utilization(start=series.start, end=series.end, by="total")
    assert sum(p.available_card_hours for p in series.points) == report.total.available_card_hours


@pytest.mark.parametrize(
    ("params", "status", "words"),
    [
        pytest.param({"step_s": 30}, 422, "step_s must be at least 60", id="step-too-small"),
        pytest.param(
            {"step_s": 60, "start": "2020-01-01T00:00:00Z", "end": "2020-01-03T00:00:00Z"},
            422,
            "more than 2000",
            id="too-many-buckets",
        ),
        pytest.param(
            {"start": "2020-01-02T00:00:00Z", "end": "2020-01-01T00:00:00Z"},
            422,
            "must end after it starts",
            id="backwards",
        ),
        pytest.param({"start": "2020-01-01T00:00:00"}, 422, "start", id="naive-time"),
    ],
)
def test_series_bad_input(
    market: Market, params: dict[str, object], status: int, words: str
) -> None:
    raw = market.http()
    answer = raw.get(
        "/v1/reports/utilization/series",
        params=params,
        headers={"Authorization": f"Bearer {market.operator.key}"},
    )
    assert answer.status_code == status
    error = answer.json()["error"]
    assert words in error["message"]
    assert error["code"] == "validation_error"


def test_series_is_refused_to_buyers(market: Market) -> None:
    buyer = market.buyer()
    with pytest.raises(ApiError) as refused:
        buyer.client.utilization_series()
    assert refused.value.status == 403
    assert "providers" in refused.value.message
