"""Budgets and caps hold exactly when many leases settle at once (PostgreSQL).

A ¥1,000,000 programme at 30% with a ¥200,000 cap per firm and year; 20 firms. Three
firms hold ¥300,000 grants and settle four ¥240,000 leases each (¥288,000 of subsidy
asked, the cap allows ¥200,000); seventeen hold ¥5,000 grants and settle three ¥24,000
leases each (¥21,600 asked, the grant allows ¥5,000). All 63 leases complete from 16
threads released together. Every lease's subsidy is decided under the programme's row
lock, so the totals come out exactly at the caps and the fund never goes below zero.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from sqlalchemy import select

from conftest import assert_books_balance, balance
from suanli.kit.clock import ManualClock
from suanli.store import Database
from suanli.store.models import LedgerTransaction, UsageRecord, VoucherGrant
from suanli.vocab import AccountKind, TransactionKind

from .world import START, World

pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("concurrency")]

BUDGET = 100_000_000  # ¥1,000,000
CAP = 20_000_000  # ¥200,000
BIG_GRANT = 30_000_000
SMALL_GRANT = 500_000
THREADS = 16


def test_twenty_firms_settle_concurrently_within_budget_and_caps(pg_db: Database) -> None:
    world = World(pg_db, ManualClock(START))
    world.add_provider("Zhejiang Compute", nodes=64)
    world.add_program(budget_fen=BUDGET, rate=Decimal("0.3"), cap_per_firm_year_fen=CAP)
    big = [world.add_buyer(f"big-{i}") for i in range(3)]
    small = [world.add_buyer(f"small-{i}") for i in range(17)]
    for buyer in big:
        world.grant(buyer, BIG_GRANT)
    for buyer in small:
        world.grant(buyer, SMALL_GRANT)
    leases = [world.place(b, cards=8, hours=100) for b in big for _ in range(4)]
    leases += [world.place(b, cards=8, hours=10) for b in small for _ in range(3)]
    assert len(leases) == 63
    for lease in leases:
        world.run(lease)

    barrier = threading.Barrier(THREADS)
    chunks = [leases[i::THREADS] for i in range(THREADS)]

    def settle(chunk: list[int]) -> None:
        barrier.wait(timeout=60)
        for lease in chunk:
            world.complete(lease)

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(settle, chunks))

    # The fund is never overdrawn and pays exactly what was redeemed.
    redemptions = world.redemptions()
    paid = sum(r.amount_fen for r in redemptions)
    assert world.fund() == BUDGET - paid >= 0
    assert paid == 3 * CAP + 17 * SMALL_GRANT
    # No firm passes its cap; each firm is stopped exactly at its binding limit.
    for buyer in big:
        assert world.redeemed_by(buyer) == CAP
    for buyer in small:
        assert world.redeemed_by(buyer) == SMALL_GRANT
    # The books balance to the fen, and each buyer paid charge less subsidy.
    assert_books_balance(pg_db)
    ended = {lease.id: lease for lease in world.ended()}
    assert set(ended) == set(leases)
    for buyer in big + small:
        mine = [lease for lease in ended.values() if lease.buyer_id == buyer]
        cost = sum(lease.charged_fen - lease.subsidy_fen for lease in mine)
        assert balance(pg_db, buyer, AccountKind.WALLET) == 10**10 - cost
    with pg_db.transaction() as session:
        grants = {g.buyer_id: g for g in session.scalars(select(VoucherGrant))}
        for buyer in big + small:
            assert grants[buyer].redeemed_fen == world.redeemed_by(buyer)
        # Every redemption traces back to metered usage billed by its lease's capture.
        for r in redemptions:
            assert ended[r.lease_id].subsidy_fen == r.amount_fen
            records = list(
                session.scalars(select(UsageRecord).where(UsageRecord.lease_id == r.lease_id))
            )
            assert records and all(u.charge_transaction_id is not None for u in records)
            capture = session.get(LedgerTransaction, records[0].charge_transaction_id)
            assert capture is not None and capture.kind is TransactionKind.CAPTURE
            assert capture.lease_id == r.lease_id
            redemption_txn = session.get(LedgerTransaction, r.transaction_id)
            assert redemption_txn is not None
            assert redemption_txn.kind is TransactionKind.REDEMPTION
            assert redemption_txn.lease_id == r.lease_id
