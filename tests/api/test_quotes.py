"""``POST /v1/quotes``: the placement and cost a submission would get, with and without
the buyer's voucher, and nothing written."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from conftest import Market, assert_books_balance, make_supply, row_counts
from suanli.exchange.schemas import RequestIn
from suanli.kit.clock import ManualClock
from suanli.kit.money import usage_cost_fen
from suanli.orgs.service import create_key
from suanli.sdk import ApiError, Client
from suanli.store import Database
from vouchers.world import PRICE, START, World


def ask(**fields: Any) -> RequestIn:
    return RequestIn(**{"cards": 8, "duration_s": 3 * 3600, **fields})


# -- placement and price -----------------------------------------------------------------
def test_quote_then_submit_gets_the_quoted_pool_and_price(market: Market, db: Database) -> None:
    _, _, dear = make_supply(market, price_fen=1500)
    provider, center, cheap = make_supply(market, price_fen=1150)
    buyer = market.buyer(topup_fen=1_000_000)
    before = row_counts(db)

    quote = buyer.client.quote(ask(max_price_fen=1400))

    assert row_counts(db) == before  # nothing written
    assert quote.placeable and quote.reasons == [] and quote.nearest == []
    assert (quote.pool_id, quote.center_id, quote.center) == (cheap.id, center.id, center.name)
    assert (quote.province, quote.model, quote.price_fen) == ("贵州", "H800", 1150)
    assert (quote.cards, quote.duration_s) == (8, 3 * 3600)
    assert quote.cost_fen == 8 * 3 * 1150 == usage_cost_fen(8 * 3 * 3600, 1150)
    assert (quote.voucher_fen, quote.voucher_program_id) == (0, None)
    assert quote.voucher_note is not None and "no approved grant" in quote.voucher_note
    assert quote.cost_after_voucher_fen == quote.cost_fen
    assert (quote.wallet_fen, quote.wallet_covers, quote.preempts) == (1_000_000, True, False)

    submitted = buyer.client.submit_request(ask(max_price_fen=1400))
    assert submitted.lease_id is not None
    lease = buyer.client.get_lease(submitted.lease_id)
    assert (lease.pool_id, lease.price_fen, lease.hold_fen) == (
        quote.pool_id,
        quote.price_fen,
        quote.cost_fen,
    )
    assert dear.id != lease.pool_id and provider.org_id == lease.provider_id


def test_a_quote_that_fits_nowhere_says_why(market: Market, db: Database) -> None:
    make_supply(market, price_fen=1500)
    buyer = market.buyer()
    before = row_counts(db)

    quote = buyer.client.quote(ask(cards=8, max_price_fen=1000))

    assert row_counts(db) == before
    assert not quote.placeable
    assert quote.reasons == ["1 pool costs more than ¥10.00/card-hour"]
    assert quote.nearest and "¥15" in quote.nearest[0]
    assert quote.pool_id is quote.price_fen is quote.cost_fen is None
    assert (quote.voucher_fen, quote.cost_after_voucher_fen) == (0, None)
    queued = buyer.client.submit_request(ask(cards=8, max_price_fen=1000))
    assert (queued.status, queued.reasons, queued.nearest) == (
        "queued",
        quote.reasons,
        quote.nearest,
    )


def test_a_short_wallet_and_a_future_start_are_told(market: Market) -> None:
    make_supply(market, price_fen=1000)
    buyer = market.buyer(topup_fen=100)
    quote = buyer.client.quote(ask())
    assert quote.placeable and quote.wallet_covers is False and quote.wallet_fen == 100
    later = market.clock.now() + timedelta(hours=1)
    waiting = buyer.client.quote(ask(earliest_start=later))
    assert not waiting.placeable
    assert waiting.reasons == [f"not before {later.isoformat()}"]


def test_only_buyers_get_quotes(market: Market) -> None:
    provider, _, _ = make_supply(market)
    for party in (provider, market.operator, market.party("issuer")):
        with pytest.raises(ApiError) as refused:
            party.client.quote(ask())
        assert refused.value.status == 403
        assert "quotes are for buyers" in refused.value.message


@pytest.mark.parametrize(
    ("body", "words"),
    [
        pytest.param({"cards": 8, "duration_s": 60, "accepted_models": ["Z9000"]}, "Z9000"),
        pytest.param({"cards": 8, "duration_s": 60, "regions": ["Atlantis"]}, "Atlantis"),
        pytest.param({"cards": 6, "cards_per_node": 4, "duration_s": 60}, "multiple"),
        pytest.param({"cards": 0, "duration_s": 60}, "cards"),
    ],
)
def test_bad_requests_are_refused_like_submissions(
    market: Market, body: dict[str, Any], words: str
) -> None:
    buyer = market.buyer()
    answer = market.http().post(
        "/v1/quotes", json=body, headers={"Authorization": f"Bearer {buyer.key}"}
    )
    assert answer.status_code == 422
    assert words in answer.json()["error"]["message"]


# -- vouchers ----------------------------------------------------------------------------
@pytest.fixture
def world(db: Database) -> Iterator[World]:
    w = World(db, ManualClock(START))
    w.add_provider("Zhejiang Compute")
    w.add_program()
    yield w
    assert_books_balance(db)


@pytest.fixture
def buyer_client(
    world: World, db: Database, serve: Callable[..., str]
) -> Iterator[Callable[[int], Client]]:
    url = serve(db, clock=world.clock)
    clients: list[Client] = []

    def make(org_id: int) -> Client:
        with db.transaction() as session:
            key = create_key(session, world.clock, org_id, "tests").secret
        clients.append(Client(url, api_key=key))
        return clients[-1]

    yield make
    for client in clients:
        client.close()


def quote_and_settle(world: World, client: Client, **request: Any) -> tuple[Any, Any]:
    """Quote 8 cards for 100 hours, then submit, run fully and settle the same request."""
    quote = client.quote(RequestIn(cards=8, duration_s=100 * 3600, **request))
    buyer = client.me().id
    lease_id = world.place(buyer, cards=8, hours=100, **request)
    world.run(lease_id)
    return quote, world.complete(lease_id)


def test_the_quoted_voucher_is_what_settlement_pays(
    world: World, buyer_client: Callable[[int], Client]
) -> None:
    buyer = world.add_buyer("Lingxi AI")
    world.grant(buyer, 10_000_000)
    client = buyer_client(buyer)
    charge = 8 * 100 * PRICE

    quote, lease = quote_and_settle(world, client)

    assert (quote.pool_id, quote.price_fen) == (lease.pool_id, lease.price_fen)
    assert quote.cost_fen == charge == lease.charged_fen
    assert quote.voucher_fen == charge * 3 // 10 == lease.subsidy_fen
    assert quote.voucher_program_id == world.program
    assert quote.cost_after_voucher_fen == charge - quote.voucher_fen
    assert quote.voucher_note is not None and "30% of ¥240,000.00" in quote.voucher_note


def test_the_quoted_voucher_respects_the_caps(
    world: World, buyer_client: Callable[[int], Client]
) -> None:
    capped = world.add_program(name="Capped", cap_per_lease_fen=5_000_00)
    buyer = world.add_buyer("Capped AI")
    world.decide(world.apply(buyer, 10_000_000, program=capped))
    client = buyer_client(buyer)

    quote, lease = quote_and_settle(world, client)

    assert quote.voucher_fen == 5_000_00 == lease.subsidy_fen
    assert quote.voucher_program_id == capped
    assert "limited by the cap per lease" in (quote.voucher_note or "")


def test_related_parties_and_declined_vouchers_get_nothing(
    world: World, buyer_client: Callable[[int], Client]
) -> None:
    world.add_provider("Cousin Cloud", province="江苏", group_name="West Lake Holdings")
    buyer = world.add_buyer("West Lake AI", group_name="West Lake Holdings")
    world.grant(buyer, 10_000_000)
    client = buyer_client(buyer)

    related = client.quote(ask(provinces=["江苏"]))
    assert related.placeable and related.voucher_fen == 0 and related.voucher_program_id is None
    assert "related-party" in (related.voucher_note or "")
    declined = client.quote(ask(provinces=["浙江"], use_voucher=False))
    assert declined.voucher_fen == 0 and "declines vouchers" in (declined.voucher_note or "")
    paid = client.quote(ask(provinces=["浙江"]))
    assert paid.voucher_fen == (paid.cost_fen or 0) * 3 // 10 > 0


def test_a_grant_that_expires_before_the_lease_ends_pays_nothing(
    world: World, buyer_client: Callable[[int], Client]
) -> None:
    short = world.add_program(name="Short", valid_until=START + timedelta(days=30))
    buyer = world.add_buyer("Brief AI")
    world.decide(world.apply(buyer, 10_000_000, program=short))
    client = buyer_client(buyer)
    soon = client.quote(ask(duration_s=24 * 3600))
    assert soon.voucher_fen > 0 and soon.voucher_program_id == short
    late = client.quote(ask(duration_s=60 * 24 * 3600))
    assert (late.voucher_fen, late.voucher_program_id) == (0, None)
    assert "expire before the lease would end" in (late.voucher_note or "")
