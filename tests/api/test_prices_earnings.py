"""The price index and the earnings series, checked by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest

from conftest import Market, make_center, make_pool, make_request
from suanli.capacity.schemas import PoolPatch
from suanli.exchange.schemas import UsageIn
from suanli.sdk import ApiError, Client


def test_price_index_per_model(market: Market) -> None:
    provider = market.provider()
    center = make_center(provider.client)
    make_pool(provider.client, center.id, nodes=2, cards_per_node=8, price_fen=1200)
    make_pool(provider.client, center.id, nodes=1, cards_per_node=8, price_fen=1500)
    make_pool(provider.client, center.id, model="910B", nodes=1, price_fen=901, intra_node="hccs")
    make_pool(provider.client, center.id, model="910B", nodes=1, price_fen=900, intra_node="hccs")
    closed = make_pool(provider.client, center.id, nodes=1, price_fen=100)
    provider.client.update_pool(closed.id, PoolPatch(active=False))
    buyer = market.buyer(topup_fen=10_000_000)
    make_request(buyer.client, cards=8, accepted_models=["H800"])  # at 1200, the cheapest
    make_request(buyer.client, cards=4, accepted_models=["H800"], min_tflops=900)
    market.clock.advance(3600)

    index = market.buyer().client.prices()  # any key: it is market data

    assert index.at == market.clock.now()
    assert [m.model for m in index.models] == ["Ascend910B", "H800"]
    ascend, h800 = index.models
    assert (h800.pools, h800.cards, h800.cards_free) == (2, 24, 12)
    assert (h800.min_price_fen, h800.max_price_fen) == (1200, 1500)
    assert h800.mean_price_fen == 1300  # (16 x 1200 + 8 x 1500) / 24
    assert h800.paid_mean_price_fen == 1200 and h800.paid_cards == 12
    assert h800.fen_per_scu == 131  # 1300 / 9.894 = 131.39
    assert ascend.mean_price_fen == 901  # 900.5 rounds half up
    assert ascend.paid_mean_price_fen is None
    assert ascend.fen_per_scu == 288  # 901 / 3.13 = 287.86
    market.clock.advance(24 * 3600)
    assert market.operator.client.prices().models[1].paid_mean_price_fen is None


def test_price_index_is_empty_without_pools(market: Market) -> None:
    assert market.operator.client.prices().models == []


def settle(market: Market, provider_client: Client, lease_id: int, card_seconds: int) -> None:
    """Start the lease now, meter ``card_seconds`` of its 8 cards and complete it."""
    started = market.clock.now()
    provider_client.start_lease(lease_id)
    market.clock.advance(card_seconds // 8)
    provider_client.record_usage(
        lease_id,
        UsageIn(
            card_seconds=card_seconds,
            period_start=started,
            period_end=market.clock.now(),
            external_id=f"meter-{lease_id}",
        ),
    )
    provider_client.complete_lease(lease_id)


def test_earnings_match_the_statement(market: Market) -> None:
    t0 = market.clock.now()
    provider = market.provider()
    center = make_center(provider.client)
    make_pool(provider.client, center.id, nodes=2, cards_per_node=8, price_fen=1200)
    other = market.provider()
    make_pool(other.client, make_center(other.client).id, nodes=1, price_fen=2000)
    buyer = market.buyer(topup_fen=10_000_000)
    first = make_request(buyer.client, cards=8, duration_s=4 * 3600, max_price_fen=1200)
    second = make_request(buyer.client, cards=8, duration_s=4 * 3600, max_price_fen=1200)
    third = make_request(buyer.client, cards=8, duration_s=4 * 3600)  # at the other's
    assert first.lease_id and second.lease_id and third.lease_id
    settle(market, provider.client, first.lease_id, 8 * 7200)  # ends at t0 + 2 h
    settle(market, provider.client, second.lease_id, 8 * 1800)  # ends at t0 + 2.5 h
    settle(market, other.client, third.lease_id, 8 * 3600)  # ends at t0 + 3.5 h

    end = t0 + timedelta(hours=4)
    mine = provider.client.earnings(start=t0, end=end, step_s=3600)

    # 8 cards x 2 h x ¥12 = ¥192 less 5%; 8 x 0.5 h x ¥12 = ¥48 less 5%
    assert [p.revenue_fen for p in mine.points] == [0, 0, 18240 + 4560, 0]
    assert [p.gross_fen for p in mine.points] == [0, 0, 19200 + 4800, 0]
    assert [p.card_hours for p in mine.points] == [0, 0, 20, 0]
    assert [p.leases for p in mine.points] == [0, 0, 2, 0]
    assert (mine.total_fen, mine.provider_id) == (22800, provider.org_id)
    statement = provider.client.statement(start=t0, end=end)
    assert (mine.total_fen, mine.total_gross_fen) == (statement.net_fen, statement.gross_fen)

    everyone = market.operator.client.earnings(start=t0, end=end, step_s=3600)
    assert everyone.provider_id is None
    assert [p.revenue_fen for p in everyone.points] == [0, 0, 22800, 15200]  # 16000 - 5%
    one = market.operator.client.earnings(start=t0, end=end, provider_id=other.org_id)
    assert one.total_fen == 15200 and one.provider_id == other.org_id
    halves = provider.client.earnings(start=t0, end=end, step_s=1800)
    assert [p.revenue_fen for p in halves.points][4:6] == [18240, 4560]


def test_earnings_are_refused_to_buyers_and_issuers(market: Market) -> None:
    for party in (market.buyer(), market.party("issuer")):
        with pytest.raises(ApiError) as refused:
            party.client.earnings()
        assert refused.value.status == 403
        assert "providers" in refused.value.message and "operator" in refused.value.message
    provider = market.provider()
    with pytest.raises(ApiError) as hidden:
        provider.client.earnings(provider_id=market.operator.org_id)
    assert hidden.value.status == 404
    with pytest.raises(ApiError) as small:
        provider.client.earnings(step_s=59)
    assert small.value.status == 422 and "step_s" in small.value.message
