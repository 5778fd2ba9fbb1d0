"""The whole life of a request over HTTP, against a live server: supply, top-up,
placement, start, metering, completion and settlement; cancellation; the queue."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from conftest import (
    Market,
    Party,
    assert_books_balance,
    balance,
    make_center,
    make_pool,
    make_request,
    make_supply,
    row_counts,
    wait_until,
)
from suanli.capacity.schemas import CenterPatch, PoolPatch
from suanli.exchange.schemas import UsageIn
from suanli.kit.clock import ManualClock
from suanli.sdk import ApiError
from suanli.settings import Settings
from suanli.store import Database
from suanli.store.models import LedgerTransaction, Node
from suanli.vocab import AccountKind, CenterStatus, LeaseStatus, RequestStatus, TransactionKind

TOPUP = 100_000


def lease_kinds(db: Database, lease_id: int) -> list[TransactionKind]:
    with db.transaction() as session:
        stmt = (
            select(LedgerTransaction.kind)
            .where(LedgerTransaction.lease_id == lease_id)
            .order_by(LedgerTransaction.id)
        )
        return list(session.scalars(stmt))


def free_cards(db: Database, pool_id: int) -> list[int]:
    with db.transaction() as session:
        stmt = select(Node.cards_free).where(Node.pool_id == pool_id).order_by(Node.id)
        return list(session.scalars(stmt))


@pytest.mark.parametrize(
    ("price", "card_seconds", "charge", "fee"),
    [
        # 4 cards metered over one hour at ``price`` fen per card-hour.
        pytest.param(1000, 14_400, 4000, 200, id="exact"),
        pytest.param(1234, 11_700, 4010, 200, id="half-even-down"),  # 4010.5 -> 4010, 200.5 -> 200
        pytest.param(1150, 468, 150, 8, id="half-even-up"),  # 149.5 -> 150, fee 7.5 -> 8
        pytest.param(999, 10_200, 2830, 142, id="fee-half-up"),  # 2830.5 -> 2830, 141.5 -> 142
        pytest.param(1000, 0, 0, 0, id="unused"),
    ],
)
def test_request_to_settlement(
    market: Market, db: Database, price: int, card_seconds: int, charge: int, fee: int
) -> None:
    provider, center, pool = make_supply(market, price_fen=price, nodes=2, cards_per_node=8)
    buyer = market.buyer(topup_fen=TOPUP)
    assert buyer.client.wallet().available_fen == TOPUP

    request = make_request(
        buyer.client,
        cards=4,
        duration_s=7200,
        accepted_models=["h800"],
        provinces=["Guizhou"],
        max_price_fen=price,
    )
    assert request.status is RequestStatus.PLACED
    assert request.reasons == []
    assert request.accepted_models == ["H800"]
    assert request.provinces == ["贵州"]
    assert request.lease_id is not None

    hold = 8 * price  # 4 cards x 2 hours
    lease = buyer.client.get_lease(request.lease_id)
    assert (lease.status, lease.pool_id, lease.center_id) == (
        LeaseStatus.PLACED,
        pool.id,
        center.id,
    )
    assert (lease.cards, lease.price_fen, lease.hold_fen) == (4, price, hold)
    assert (lease.buyer_id, lease.provider_id) == (buyer.org_id, provider.org_id)
    assert [a.cards for a in lease.allocations] == [4]
    wallet = buyer.client.wallet()
    assert (wallet.available_fen, wallet.escrow_fen) == (TOPUP - hold, hold)
    assert sorted(free_cards(db, pool.id)) == [4, 8]

    assert [x.id for x in provider.client.list_leases(center_id=center.id)] == [lease.id]
    started = provider.client.start_lease(lease.id)
    assert started.status is LeaseStatus.RUNNING
    assert started.started_at == market.clock.now()

    market.clock.advance(3600)
    usage = provider.client.record_usage(
        lease.id,
        UsageIn(
            card_seconds=card_seconds,
            period_start=market.clock.now() - timedelta(hours=1),
            period_end=market.clock.now(),
            external_id="meter-1",
        ),
    )
    assert usage.card_seconds == card_seconds
    assert usage.charge_transaction_id is None

    done = provider.client.complete_lease(lease.id, "job finished")
    assert done.status is LeaseStatus.COMPLETED
    assert (done.charged_fen, done.usage_card_seconds) == (charge, card_seconds)
    assert done.end_reason == "job finished"
    assert done.ended_at == market.clock.now()
    assert [t.to_status for t in done.transitions] == [
        LeaseStatus.PENDING,
        LeaseStatus.PLACED,
        LeaseStatus.RUNNING,
        LeaseStatus.COMPLETED,
    ]

    wallet = buyer.client.wallet()
    assert (wallet.available_fen, wallet.escrow_fen) == (TOPUP - charge, 0)
    assert provider.client.wallet().earnings_fen == charge - fee
    assert balance(db, None, AccountKind.FEE) == fee
    assert balance(db, buyer.org_id, AccountKind.ESCROW) == 0
    assert balance(db, None, AccountKind.FUNDING) == -TOPUP

    expected = [TransactionKind.HOLD]
    if charge:
        expected.append(TransactionKind.CAPTURE)
    if hold - charge:
        expected.append(TransactionKind.RELEASE)
    assert lease_kinds(db, lease.id) == expected
    if card_seconds:
        [billed] = buyer.client.list_usage(lease.id)
        assert billed.charge_transaction_id is not None
    assert_books_balance(db)

    assert free_cards(db, pool.id) == [8, 8]
    assert buyer.client.get_request(request.id).status is RequestStatus.FINISHED
    assert provider.client.get_pool(pool.id).cards_free == 16


def test_cancel_placed_lease_releases_cards_and_full_hold(market: Market, db: Database) -> None:
    _, _, pool = make_supply(market, price_fen=1500, nodes=1, cards_per_node=8)
    buyer = market.buyer(topup_fen=TOPUP)
    request = make_request(buyer.client, cards=8, duration_s=3 * 3600)
    assert request.status is RequestStatus.PLACED and request.lease_id is not None
    assert free_cards(db, pool.id) == [0]
    assert buyer.client.wallet().escrow_fen == 8 * 3 * 1500

    cancelled = buyer.client.cancel_request(request.id, "changed my mind")
    assert cancelled.status is RequestStatus.CANCELLED
    assert cancelled.reasons == ["changed my mind"]
    lease = buyer.client.get_lease(request.lease_id)
    assert (lease.status, lease.charged_fen) == (LeaseStatus.CANCELLED, 0)
    assert lease.end_reason == "changed my mind"

    assert free_cards(db, pool.id) == [8]
    wallet = buyer.client.wallet()
    assert (wallet.available_fen, wallet.escrow_fen) == (TOPUP, 0)
    assert lease_kinds(db, lease.id) == [TransactionKind.HOLD, TransactionKind.RELEASE]
    assert_books_balance(db)

    with pytest.raises(ApiError) as err:
        buyer.client.cancel_request(request.id)
    assert err.value.status == 409
    assert "already cancelled" in err.value.message


def test_cancel_running_lease_charges_only_metered_use(market: Market, db: Database) -> None:
    provider, _, _ = make_supply(market, price_fen=3600, nodes=1, cards_per_node=8)
    buyer = market.buyer(topup_fen=TOPUP)
    request = make_request(buyer.client, cards=2, duration_s=7200)
    assert request.lease_id is not None
    provider.client.start_lease(request.lease_id)
    market.clock.advance(600)
    provider.client.record_usage(
        request.lease_id,
        UsageIn(
            card_seconds=1000,
            period_start=market.clock.now() - timedelta(seconds=600),
            period_end=market.clock.now(),
        ),
    )
    buyer.client.cancel_request(request.id)
    lease = buyer.client.get_lease(request.lease_id)
    assert (lease.status, lease.charged_fen) == (LeaseStatus.CANCELLED, 1000)  # 1 fen/card-s
    wallet = buyer.client.wallet()
    assert (wallet.available_fen, wallet.escrow_fen) == (TOPUP - 1000, 0)
    assert provider.client.wallet().earnings_fen == 950
    assert_books_balance(db)


def test_failed_lease_charges_metered_use_and_frees_cards(market: Market, db: Database) -> None:
    provider, _, pool = make_supply(market, price_fen=3600, nodes=1, cards_per_node=8)
    buyer = market.buyer(topup_fen=TOPUP)
    request = make_request(buyer.client, cards=8, duration_s=3600)
    assert request.lease_id is not None
    provider.client.start_lease(request.lease_id)
    market.clock.advance(10)
    provider.client.record_usage(
        request.lease_id,
        UsageIn(
            card_seconds=80,
            period_start=market.clock.now() - timedelta(seconds=10),
            period_end=market.clock.now(),
        ),
    )
    failed = provider.client.fail_lease(request.lease_id, "node 3 lost power")
    assert (failed.status, failed.charged_fen, failed.end_reason) == (
        LeaseStatus.FAILED,
        80,
        "node 3 lost power",
    )
    assert free_cards(db, pool.id) == [8]
    assert buyer.client.get_request(request.id).status is RequestStatus.FINISHED
    assert buyer.client.wallet().available_fen == TOPUP - 80
    assert_books_balance(db)


def _placed(client: Party, request_id: int) -> bool:
    return client.client.get_request(request_id).status is RequestStatus.PLACED


def test_queued_request_explains_itself_and_is_placed_when_cards_free_up(
    market: Market, db: Database
) -> None:
    provider = market.provider()
    big = make_center(provider.client, name="Guiyang-1")
    small = make_center(provider.client, name="Guiyang-2")
    big_pool = make_pool(provider.client, big.id, nodes=1, cards_per_node=8, price_fen=1400)
    make_pool(provider.client, small.id, nodes=1, cards_per_node=4, price_fen=1150)
    first = market.buyer(topup_fen=TOPUP)
    second = market.buyer(topup_fen=TOPUP)

    running = make_request(first.client, cards=8)
    assert running.status is RequestStatus.PLACED and running.lease_id is not None
    assert running.lease_id and first.client.get_lease(running.lease_id).pool_id == big_pool.id

    before = row_counts(db)
    waiting = make_request(second.client, cards=8, accepted_models=["H800"])
    assert waiting.status is RequestStatus.QUEUED
    assert waiting.lease_id is None
    assert waiting.reasons, "a queued request must say why"
    assert any("8 free cards" in reason for reason in waiting.reasons), waiting.reasons
    assert waiting.nearest, "a queued request must show the nearest offers"
    assert any("4 free H800" in n and "Guiyang-2" in n and "¥11.50" in n for n in waiting.nearest)
    after = row_counts(db)
    assert after["requests"] == before["requests"] + 1
    assert (after["leases"], after["ledger_transactions"]) == (
        before["leases"],
        before["ledger_transactions"],
    )
    assert second.client.wallet().escrow_fen == 0

    provider.client.start_lease(running.lease_id)
    provider.client.complete_lease(running.lease_id)
    wait_until(lambda: _placed(second, waiting.id))
    placed = second.client.get_request(waiting.id)
    assert placed.reasons == [] and placed.nearest == []
    assert placed.lease_id is not None
    assert second.client.get_lease(placed.lease_id).pool_id == big_pool.id
    assert second.client.wallet().escrow_fen == 8 * 1400
    assert_books_balance(db)


def test_busy_capacity_is_not_reported_as_unlisted(market: Market) -> None:
    """When every listed card is leased, the reason must not claim nothing is listed."""
    make_supply(market, nodes=1, cards_per_node=8)
    buyer = market.buyer(topup_fen=TOPUP)
    assert make_request(buyer.client, cards=8).status is RequestStatus.PLACED
    waiting = make_request(buyer.client, cards=8)
    assert waiting.status is RequestStatus.QUEUED
    assert waiting.reasons
    assert not any("no capacity is listed" in r for r in waiting.reasons), waiting.reasons


def test_short_wallet_queues_with_reason_then_places_after_topup(
    market: Market, db: Database
) -> None:
    _, _, pool = make_supply(market, price_fen=2000, nodes=1, cards_per_node=8)
    buyer = market.buyer(topup_fen=1000)
    before = row_counts(db)

    request = make_request(buyer.client, cards=2, duration_s=3600)  # hold: 4000 fen
    assert request.status is RequestStatus.QUEUED
    assert request.lease_id is None
    [reason] = request.reasons
    assert "wallet balance ¥10.00" in reason and "¥40.00" in reason and "top up" in reason
    after = row_counts(db)
    assert after["requests"] == before["requests"] + 1
    for table in ("leases", "lease_allocations", "ledger_transactions", "postings"):
        assert after[table] == before[table], table
    assert free_cards(db, pool.id) == [8]
    assert buyer.client.wallet().available_fen == 1000

    buyer.client.topup(3000)
    wait_until(lambda: _placed(buyer, request.id))
    wallet = buyer.client.wallet()
    assert (wallet.available_fen, wallet.escrow_fen) == (0, 4000)
    assert free_cards(db, pool.id) == [6]
    assert_books_balance(db)


def test_two_meter_reports_without_ids_at_the_same_instant_are_both_kept(
    market: Market,
) -> None:
    """A report without ``external_id`` is never a duplicate of another one."""
    provider, _, _ = make_supply(market, nodes=1, cards_per_node=8)
    buyer = market.buyer(topup_fen=TOPUP)
    request = make_request(buyer.client, cards=1, duration_s=7200)
    assert request.lease_id is not None
    provider.client.start_lease(request.lease_id)
    market.clock.advance(120)
    start = market.clock.now() - timedelta(seconds=120)
    for offset in (0, 60):
        provider.client.record_usage(
            request.lease_id,
            UsageIn(
                card_seconds=60,
                period_start=start + timedelta(seconds=offset),
                period_end=start + timedelta(seconds=offset + 60),
            ),
        )
    assert [u.card_seconds for u in provider.client.list_usage(request.lease_id)] == [60, 60]


def test_gang_is_placed_on_whole_nodes_of_one_pool(market: Market, db: Database) -> None:
    provider = market.provider()
    center = make_center(provider.client)
    make_pool(provider.client, center.id, nodes=4, cards_per_node=8, inter_node="roce")
    fast = make_pool(provider.client, center.id, nodes=2, cards_per_node=8, price_fen=1500)
    buyer = market.buyer(topup_fen=1_000_000)
    request = make_request(buyer.client, cards=16, cards_per_node=8, inter_node="infiniband")
    assert request.status is RequestStatus.PLACED and request.lease_id is not None
    lease = buyer.client.get_lease(request.lease_id)
    assert lease.pool_id == fast.id
    assert [a.cards for a in lease.allocations] == [8, 8]
    assert free_cards(db, fast.id) == [0, 0]
    assert lease.hold_fen == 16 * 1500


def test_not_before_requests_wait_for_their_time(market: Market) -> None:
    make_supply(market)
    buyer = market.buyer(topup_fen=TOPUP)
    start = market.clock.now() + timedelta(hours=1)
    request = make_request(buyer.client, earliest_start=start)
    assert request.status is RequestStatus.QUEUED
    assert request.reasons == [f"not before {start.isoformat()}"]
    market.clock.advance(3600)
    buyer.client.topup(1)  # any change schedules a queue pass
    wait_until(lambda: _placed(buyer, request.id))


def test_a_pool_off_the_market_takes_no_work_until_it_is_back(market: Market) -> None:
    provider, _, pool = make_supply(market, nodes=1, cards_per_node=8)
    buyer = market.buyer(topup_fen=TOPUP)
    provider.client.update_pool(pool.id, PoolPatch(active=False))
    request = make_request(buyer.client, cards=2)
    assert request.status is RequestStatus.QUEUED and request.reasons
    assert market.operator.client.offers() == []
    provider.client.update_pool(pool.id, PoolPatch(active=True))
    wait_until(lambda: _placed(buyer, request.id))


def test_a_center_in_maintenance_takes_no_work(market: Market) -> None:
    provider, center, _ = make_supply(market, nodes=1, cards_per_node=8)
    buyer = market.buyer(topup_fen=TOPUP)
    provider.client.update_center(center.id, CenterPatch(status=CenterStatus.MAINTENANCE))
    request = make_request(buyer.client)
    assert request.status is RequestStatus.QUEUED
    provider.client.update_center(center.id, CenterPatch(status=CenterStatus.ACTIVE))
    wait_until(lambda: _placed(buyer, request.id))


def test_a_new_price_applies_to_new_leases_only(market: Market) -> None:
    provider, _, pool = make_supply(market, price_fen=1000)
    buyer = market.buyer(topup_fen=TOPUP)
    first = make_request(buyer.client)
    provider.client.update_pool(pool.id, PoolPatch(price_fen=1300))
    second = make_request(buyer.client)
    assert first.lease_id is not None and second.lease_id is not None
    assert buyer.client.get_lease(first.lease_id).price_fen == 1000
    assert buyer.client.get_lease(second.lease_id).price_fen == 1300
    assert buyer.client.wallet().escrow_fen == 2300


def test_cancelling_a_queued_request_moves_no_money(market: Market, db: Database) -> None:
    buyer = market.buyer(topup_fen=TOPUP)
    request = make_request(buyer.client, cards=4)  # nothing is listed yet
    assert request.status is RequestStatus.QUEUED
    assert request.reasons == ["no capacity is listed on the exchange"]
    before = row_counts(db)
    assert buyer.client.cancel_request(request.id).status is RequestStatus.CANCELLED
    assert row_counts(db)["ledger_transactions"] == before["ledger_transactions"]
    make_supply(market)  # new capacity must not revive a cancelled request
    assert buyer.client.get_request(request.id).status is RequestStatus.CANCELLED


def test_usage_never_exceeds_what_the_lease_paid_for(market: Market) -> None:
    provider, _, _ = make_supply(market)
    buyer = market.buyer(topup_fen=TOPUP)
    request = make_request(buyer.client, cards=1, duration_s=60)
    assert request.lease_id is not None
    provider.client.start_lease(request.lease_id)
    market.clock.advance(120)
    start = market.clock.now() - timedelta(seconds=120)
    with pytest.raises(ApiError) as err:
        provider.client.record_usage(
            request.lease_id,
            UsageIn(card_seconds=61, period_start=start, period_end=market.clock.now()),
        )
    assert err.value.status == 422
    assert "usage would reach 61 card-seconds, more than the lease's 60" in err.value.message
    done = provider.client.complete_lease(request.lease_id)
    assert done.charged_fen == 0
    with pytest.raises(ApiError) as err:
        provider.client.record_usage(
            request.lease_id,
            UsageIn(card_seconds=1, period_start=start, period_end=market.clock.now()),
        )
    assert err.value.status == 409


def test_the_fee_rate_is_a_setting(db: Database, serve: Callable[..., str]) -> None:
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    market = Market(db, serve(db, clock=clock, settings=Settings(fee_rate=Decimal("0.1"))), clock)
    try:
        provider, _, _ = make_supply(market, price_fen=1234)
        buyer = market.buyer(topup_fen=TOPUP)
        request = make_request(buyer.client, cards=4)
        assert request.lease_id is not None
        provider.client.start_lease(request.lease_id)
        clock.advance(3600)
        provider.client.record_usage(
            request.lease_id,
            UsageIn(
                card_seconds=11_700,
                period_start=clock.now() - timedelta(hours=1),
                period_end=clock.now(),
            ),
        )
        assert provider.client.complete_lease(request.lease_id).charged_fen == 4010
        assert provider.client.wallet().earnings_fen == 4010 - 401
        assert balance(db, None, AccountKind.FEE) == 401
    finally:
        market.close()
