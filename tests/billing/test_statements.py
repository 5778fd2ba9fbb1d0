"""Provider statements: lines from the capture postings, and the earnings account
reconciled to the fen with the ledger."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from conftest import Market, balance, row_counts
from suanli.sdk import ApiError, Client
from suanli.store import Database
from suanli.store.models import Account, LedgerTransaction, Posting, VoucherRedemption
from suanli.vocab import AccountKind, SettlementMode, TransactionKind
from suanli.vouchers.schemas import ClawbackIn
from suanli.vouchers.service import Vouchers

from .conftest import DEC_1
from .world import TOPUP, run_lease, supply, voucher_program


def capture_postings(db: Database, lease_id: int) -> dict[AccountKind, int]:
    """The lease's capture, read straight from the ledger: account kind -> amount."""
    with db.transaction() as session:
        stmt = (
            select(Account.kind, Posting.amount)
            .join(Posting, Posting.account_id == Account.id)
            .join(LedgerTransaction, LedgerTransaction.id == Posting.transaction_id)
            .where(
                LedgerTransaction.lease_id == lease_id,
                LedgerTransaction.kind == TransactionKind.CAPTURE,
            )
        )
        return {row.kind: row.amount for row in session.execute(stmt)}


def test_statement_reconciles_with_the_ledger(market: Market, db: Database) -> None:
    where = supply(market)
    provider = where.provider
    buyer = market.buyer(topup_fen=TOPUP)
    plain = run_lease(market, where, buyer, cards=4, card_seconds=14_400, use_voucher=False)
    voucher_program(db, market.clock, buyer.org_id, rate="0.3")
    subsidized = run_lease(market, where, buyer, cards=2, card_seconds=5_000)
    idle = run_lease(market, where, buyer, cards=1, card_seconds=0)
    november_payout = provider.client.payout(1000, "6222-0001")
    assert november_payout.earnings_fen == 3800 + 1320 - 1000

    market.clock.set(DEC_1)
    december = run_lease(market, where, buyer, cards=1, card_seconds=3_600)  # 1000, fee 50
    provider.client.payout(500, "6222-0001")

    nov = provider.client.statement("2026-11")
    assert nov.complete
    assert nov.provider_name == provider.name
    by_lease = {line.lease_id: line for line in nov.lines}
    assert list(by_lease) == [plain.id, subsidized.id, idle.id]
    # 4000 charged: fee 5% = 200, provider 3800. 1389 charged (417 by voucher): fee
    # 69.45 -> 69, provider 1320. Nothing metered: no capture at all.
    expected = {plain.id: (4000, 0, 200, 3800), subsidized.id: (1389, 417, 69, 1320)}
    for lease_id, (charge, voucher, fee, net) in expected.items():
        line = by_lease[lease_id]
        assert (line.charge_fen, line.voucher_fen, line.fee_fen, line.net_fen) == (
            charge,
            voucher,
            fee,
            net,
        )
        ledger = capture_postings(db, lease_id)
        assert (ledger[AccountKind.FEE], ledger[AccountKind.EARNINGS]) == (fee, net)
        assert line.capture_transaction_id is not None
    assert by_lease[idle.id].capture_transaction_id is None
    assert (by_lease[idle.id].charge_fen, by_lease[idle.id].net_fen) == (0, 0)
    assert capture_postings(db, idle.id) == {}
    assert (nov.gross_fen, nov.voucher_fen, nov.fee_fen, nov.net_fen) == (5389, 417, 269, 5120)
    [h800] = nov.by_model
    assert (h800.model, h800.leases, h800.card_seconds) == ("H800", 3, 19_400)
    assert str(h800.card_hours) == "5.3889"
    assert [(p.transaction_id, p.amount_fen, p.counterparty) for p in nov.payouts] == [
        (november_payout.transaction_id, 1000, "6222-0001")
    ]
    assert (nov.opening_earnings_fen, nov.closing_earnings_fen) == (0, 4120)
    assert nov.adjustments == []
    change = nov.closing_earnings_fen - nov.opening_earnings_fen
    assert change == nov.net_fen - nov.payouts_fen

    dec = provider.client.statement("2026-12")  # still running: the month so far
    assert not dec.complete
    assert [line.lease_id for line in dec.lines] == [december.id]
    assert (dec.net_fen, dec.fee_fen, dec.payouts_fen) == (950, 50, 500)
    assert dec.opening_earnings_fen == nov.closing_earnings_fen
    assert dec.closing_earnings_fen == balance(db, provider.org_id, AccountKind.EARNINGS) == 4570
    assert dec.closing_earnings_fen - dec.opening_earnings_fen == dec.net_fen - dec.payouts_fen

    assert market.operator.client.statement("2026-11", provider_id=provider.org_id) == nov


def test_a_clawback_from_the_provider_is_an_adjustment(market: Market, db: Database) -> None:
    where = supply(market)
    buyer = market.buyer(topup_fen=TOPUP)
    voucher_program(db, market.clock, buyer.org_id, rate="0.5", mode=SettlementMode.PROVIDER_CLAIM)
    lease = run_lease(market, where, buyer, cards=1, card_seconds=3_600)  # 1000, voucher 500
    assert lease.subsidy_fen == 500
    market.clock.advance(60)
    with db.transaction() as session:
        redemption = session.scalars(
            select(VoucherRedemption).where(VoucherRedemption.lease_id == lease.id)
        ).one()
        Vouchers(session, market.clock, None).claw_back(
            redemption.id, ClawbackIn(amount_fen=200, reason="audit")
        )
    market.clock.set(DEC_1)
    nov = where.provider.client.statement("2026-11")
    assert nov.net_fen == 950
    assert [(a.kind, a.amount_fen, a.lease_id) for a in nov.adjustments] == [
        ("clawback", -200, lease.id)
    ]
    assert (
        nov.closing_earnings_fen == 750 == balance(db, where.provider.org_id, AccountKind.EARNINGS)
    )
    assert nov.closing_earnings_fen - nov.opening_earnings_fen == (
        nov.net_fen + nov.adjustments_fen - nov.payouts_fen
    )


def test_who_may_read_a_statement(market: Market, db: Database) -> None:
    where = supply(market)
    other = market.provider()
    buyer = market.buyer()
    before = row_counts(db)
    cases: list[tuple[Client, dict[str, Any], int]] = [
        (other.client, {"provider_id": where.provider.org_id}, 404),
        (buyer.client, {}, 403),
        (market.operator.client, {}, 422),
        (market.operator.client, {"provider_id": buyer.org_id}, 422),
        (where.provider.client, {"period": "2026-13"}, 422),
        (where.provider.client, {"period": None}, 422),
    ]
    for client, kwargs, status in cases:
        args = {"period": "2026-11", **kwargs}
        with pytest.raises(ApiError) as caught:
            client.statement(**args)
        assert caught.value.status == status, (kwargs, caught.value.message)
    empty = other.client.statement("2026-11")
    assert (empty.lines, empty.payouts, empty.closing_earnings_fen) == ([], [], 0)
    ranged = other.client.statement(start=DEC_1 - timedelta(days=2), end=DEC_1)
    assert ranged.period.endswith(DEC_1.isoformat())
    assert row_counts(db) == before
