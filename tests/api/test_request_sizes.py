"""Requests of any size over the API: a request larger than one node is spread over nodes
of one pool when the buyer left the shape open; one larger than any pool could ever hold
is refused with 422 saying the most that is possible; reasons come in both languages."""

from __future__ import annotations

import re

import pytest

from conftest import Market, make_center, make_pool, make_supply, row_counts
from suanli.exchange.schemas import RequestIn
from suanli.sdk import ApiError
from suanli.store import Database
from suanli.vocab import RequestStatus

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_sixteen_cards_on_eight_card_nodes_are_split_over_two_nodes(market: Market) -> None:
    _, _, pool = make_supply(market, nodes=4, cards_per_node=8, inter_node="infiniband")
    buyer = market.buyer(topup_fen=10_000_000)
    ask = RequestIn(cards=16, accepted_models=["H800"], duration_s=7200)

    quote = buyer.client.quote(ask)
    assert quote.placeable and quote.pool_id == pool.id and quote.cards == 16

    request = buyer.client.submit_request(ask)
    assert request.status is RequestStatus.PLACED and request.lease_id is not None
    lease = buyer.client.get_lease(request.lease_id)
    assert lease.cards == 16 and lease.pool_id == pool.id
    assert sorted(a.cards for a in lease.allocations) == [8, 8]
    assert len({a.node_id for a in lease.allocations}) == 2


def test_a_fixed_shape_is_kept_and_the_fabric_of_a_spread_is_honoured(market: Market) -> None:
    provider, center, _ = make_supply(market, nodes=4, cards_per_node=8, inter_node="ethernet")
    buyer = market.buyer(topup_fen=10_000_000)

    with pytest.raises(ApiError) as fixed:  # all 16 on one node, as asked: never possible
        buyer.client.submit_request(RequestIn(cards=16, cards_per_node=16, duration_s=3600))
    assert fixed.value.status == 422 and "the most possible is 8" in fixed.value.message

    with pytest.raises(ApiError) as fabric:
        buyer.client.submit_request(RequestIn(cards=16, inter_node="infiniband", duration_s=3600))
    assert fabric.value.status == 422
    assert fabric.value.message.startswith(
        "no listed pool linked by infiniband could ever hold 16 cards in one place: "
        "the most possible is 8"
    )

    make_pool(provider.client, center.id, nodes=2, cards_per_node=8, inter_node="infiniband")
    later = buyer.client.submit_request(
        RequestIn(cards=16, inter_node="infiniband", duration_s=3600)
    )
    assert later.status is RequestStatus.PLACED


@pytest.mark.parametrize(
    ("fields", "most"),
    [
        ({"cards": 100_000}, "64"),  # the largest pool: 8 linked nodes of 8
        ({"cards": 40, "accepted_models": ["A800"]}, "32"),
        ({"cards": 16, "cards_per_node": 8, "inter_node": "infiniband"}, "64"),
    ],
)
def test_a_request_larger_than_any_pool_is_refused_saying_the_most_possible(
    market: Market, db: Database, fields: dict[str, object], most: str
) -> None:
    provider, center, _ = make_supply(market, nodes=8, cards_per_node=8, inter_node="infiniband")
    make_pool(provider.client, center.id, model="A800", nodes=4, cards_per_node=8)
    make_pool(
        provider.client, center.id, model="L20", nodes=12, cards_per_node=8, inter_node="none"
    )
    buyer = market.buyer(topup_fen=10_000_000)
    ask = RequestIn(duration_s=3600, **fields)  # type: ignore[arg-type]
    before = row_counts(db)

    if int(most) >= ask.cards:
        assert buyer.client.submit_request(ask).status is RequestStatus.PLACED
        return
    for call in (buyer.client.submit_request, buyer.client.quote):
        with pytest.raises(ApiError) as refused:
            call(ask)
        assert refused.value.status == 422
        assert f"the most possible is {most}" in refused.value.message
        assert f"ask for at most {most}" in refused.value.message
    assert row_counts(db) == before  # nothing written


def test_a_model_nobody_lists_yet_waits_with_its_reasons_in_both_languages(
    market: Market,
) -> None:
    make_supply(market)
    buyer = market.buyer(topup_fen=10_000_000)
    request = buyer.client.submit_request(
        RequestIn(cards=4, accepted_models=["Ascend910B"], duration_s=3600)
    )
    assert request.status is RequestStatus.QUEUED
    assert request.reasons == ["1 pool offers no accelerator matching Ascend910B"]
    assert len(request.reasons_zh) == len(request.reasons)
    assert all(CJK.search(r) for r in request.reasons_zh)
    quote = buyer.client.quote(RequestIn(cards=4, accepted_models=["Ascend910B"], duration_s=60))
    assert quote.reasons_zh == request.reasons_zh


def test_nearest_offers_and_offers_name_the_center_in_both_languages(market: Market) -> None:
    provider = market.provider()
    center = make_center(provider.client, name="Guiyang-9", name_zh="贵阳九号")
    make_pool(provider.client, center.id, nodes=1, cards_per_node=8, price_fen=1500)
    buyer = market.buyer(topup_fen=10_000_000)
    request = buyer.client.submit_request(RequestIn(cards=8, max_price_fen=1000, duration_s=3600))
    assert request.nearest and len(request.nearest_zh) == len(request.nearest)
    assert request.nearest[0].startswith("8 free H800 at Guiyang-9/")
    assert (
        request.nearest_zh[0].startswith("贵阳九号/") and "每卡时 ¥15.00" in request.nearest_zh[0]
    )
    offers = buyer.client.offers()
    assert [(o.center, o.center_zh) for o in offers] == [("Guiyang-9", "贵阳九号")]
    quote = buyer.client.quote(RequestIn(cards=8, duration_s=3600))
    assert (quote.center, quote.center_zh) == ("Guiyang-9", "贵阳九号")
