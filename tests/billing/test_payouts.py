"""Payouts: earnings out to a bank account, refused beyond the balance, and the
money-flowback scan run after each one."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from conftest import Market, assert_books_balance, balance, row_counts
from suanli.sdk import ApiError
from suanli.store import Database
from suanli.store.models import VoucherFlag
from suanli.vocab import AccountKind, FlagKind

from .world import TOPUP, run_lease, supply, voucher_program


def test_payout_moves_earnings_out_and_is_listed(market: Market, db: Database) -> None:
    where = supply(market)
    provider = where.provider
    other = supply(market).provider
    buyer = market.buyer(topup_fen=TOPUP)
    run_lease(market, where, buyer, cards=4, card_seconds=14_400)  # provider earns 3800
    assert balance(db, provider.org_id, AccountKind.EARNINGS) == 3800

    paid = provider.client.payout(1234, "ICBC 6222 0200 1234")
    assert (paid.provider_id, paid.amount_fen, paid.earnings_fen) == (provider.org_id, 1234, 2566)
    assert paid.counterparty == "ICBC 6222 0200 1234"
    by_operator = market.operator.client.payout(
        66, "ICBC 6222 0200 1234", provider_id=provider.org_id
    )
    assert by_operator.earnings_fen == 2500 == balance(db, provider.org_id, AccountKind.EARNINGS)
    assert balance(db, None, AccountKind.FUNDING) == -TOPUP + 1300
    assert_books_balance(db)

    mine = provider.client.list_payouts()
    assert [(p.transaction_id, p.amount_fen) for p in mine] == [
        (by_operator.transaction_id, 66),
        (paid.transaction_id, 1234),
    ]
    assert other.client.list_payouts() == []
    assert len(market.operator.client.list_payouts()) == 2
    assert market.operator.client.list_payouts(provider_id=other.org_id) == []


def test_refused_payouts_write_nothing(market: Market, db: Database) -> None:
    where = supply(market)
    provider = where.provider
    other = market.provider()
    buyer = market.buyer(topup_fen=TOPUP)
    run_lease(market, where, buyer, cards=1, card_seconds=3_600)  # provider earns 950
    http = market.http()
    before = row_counts(db)
    cases = [
        (provider.key, {"amount_fen": 951, "counterparty": "acct"}, 402, "cannot cover"),
        (other.key, {"amount_fen": 1, "counterparty": "acct"}, 402, "cannot cover"),
        (provider.key, {"amount_fen": -5, "counterparty": "acct"}, 422, "amount_fen"),
        (provider.key, {"amount_fen": 0, "counterparty": "acct"}, 422, "amount_fen"),
        (provider.key, {"amount_fen": 1.5, "counterparty": "acct"}, 422, "amount_fen"),
        (provider.key, {"amount_fen": 10}, 422, "counterparty"),
        (provider.key, {"amount_fen": 10, "counterparty": "   "}, 422, "blank"),
        (provider.key, {"amount_fen": 10, "counterparty": "x" * 65}, 422, "counterparty"),
        (buyer.key, {"amount_fen": 10, "counterparty": "acct"}, 403, "only providers"),
        (
            other.key,
            {"amount_fen": 10, "counterparty": "acct", "provider_id": provider.org_id},
            404,
            "not found",
        ),
        (market.operator.key, {"amount_fen": 10, "counterparty": "acct"}, 422, "provider_id"),
    ]
    for key, body, status, words in cases:
        response = http.post("/v1/payouts", json=body, headers={"Authorization": f"Bearer {key}"})
        assert response.status_code == status, (body, response.text)
        assert words in response.json()["error"]["message"], (body, response.text)
    assert row_counts(db) == before
    assert balance(db, provider.org_id, AccountKind.EARNINGS) == 950
    with pytest.raises(ApiError) as caught:
        buyer.client.list_payouts()
    assert caught.value.status == 403


def test_money_flowing_back_to_a_subsidized_buyer_is_flagged(market: Market, db: Database) -> None:
    where = supply(market)
    buyer = market.buyer()
    buyer.client.topup(TOPUP, counterparty="CCB 6217 0000 9999")
    program_id = voucher_program(db, market.clock, buyer.org_id, rate="0.3")
    lease = run_lease(market, where, buyer, cards=4, card_seconds=14_400)
    assert lease.subsidy_fen == 1200

    where.provider.client.payout(100, "BOC 6216 1111 2222")  # elsewhere: no flag
    with db.transaction() as session:
        assert session.scalars(select(VoucherFlag)).all() == []

    paid = where.provider.client.payout(1200, "CCB 6217 0000 9999")
    with db.transaction() as session:
        [flag] = session.scalars(select(VoucherFlag)).all()
        assert (flag.kind, flag.buyer_id, flag.provider_id, flag.program_id) == (
            FlagKind.MONEY_FLOWBACK,
            buyer.org_id,
            where.provider.org_id,
            program_id,
        )
        assert flag.evidence["payout_transactions"] == [paid.transaction_id]
