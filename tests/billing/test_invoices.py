"""Invoices over HTTP: lines and totals to the fen, idempotency, periods, isolation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from conftest import Market, row_counts
from suanli.billing import periods
from suanli.kit.errors import ValidationError
from suanli.sdk import ApiError
from suanli.store import Database
from suanli.store.models import Invoice

from .conftest import DEC_1, NOV_3
from .world import TOPUP, run_lease, supply, voucher_program


def test_lines_and_totals_to_the_fen(market: Market, db: Database) -> None:
    where = supply(market)
    buyer = market.buyer(topup_fen=TOPUP)
    other = market.buyer(topup_fen=TOPUP)
    # 4 cards metered 4 card-hours at ¥10: ¥40.00, no voucher (declined by the request).
    plain = run_lease(market, where, buyer, cards=4, card_seconds=14_400, use_voucher=False)
    program_id = voucher_program(db, market.clock, buyer.org_id, rate="0.3")
    # 5,000 card-seconds at ¥10/card-h = 1388.89 -> 1389 fen; 30% voucher = 416.7 -> 417.
    subsidized = run_lease(market, where, buyer, cards=2, card_seconds=5_000)
    run_lease(market, where, other, cards=1, card_seconds=3_600)  # another buyer's
    assert (plain.charged_fen, plain.subsidy_fen) == (4000, 0)
    assert (subsidized.charged_fen, subsidized.subsidy_fen) == (1389, 417)

    market.clock.set(DEC_1)
    december = run_lease(market, where, buyer, cards=1, card_seconds=1_800)  # ends in Dec

    invoice = buyer.client.issue_invoice("2026-11")
    assert invoice.buyer_id == buyer.org_id
    assert invoice.buyer_name == buyer.name
    assert invoice.period == "2026-11"
    assert invoice.period_start == datetime(2026, 10, 31, 16, 0, tzinfo=UTC)
    assert invoice.period_end == DEC_1
    assert invoice.number == f"INV-202611-{invoice.id:06d}"
    assert invoice.issued_at == DEC_1 + timedelta(hours=1)  # after the December lease
    lines = [
        (
            line.lease_id,
            line.center_id,
            line.model,
            line.cards,
            line.card_seconds,
            line.price_fen,
            line.charge_fen,
            line.voucher_fen,
            line.net_fen,
            line.program_id,
        )
        for line in invoice.lines
    ]
    assert lines == [
        (plain.id, where.center_id, "H800", 4, 14_400, 1000, 4000, 0, 4000, None),
        (subsidized.id, where.center_id, "H800", 2, 5_000, 1000, 1389, 417, 972, program_id),
    ]
    assert str(invoice.lines[1].card_hours) == "1.3889"
    assert (invoice.gross_fen, invoice.voucher_fen, invoice.net_fen) == (5389, 417, 4972)
    assert december.id not in {line.lease_id for line in invoice.lines}

    assert buyer.client.get_invoice(invoice.id) == invoice
    [listed] = buyer.client.list_invoices()
    assert (listed.id, listed.line_count, listed.net_fen) == (invoice.id, 2, 4972)


def test_issuing_again_returns_the_same_invoice(market: Market, db: Database) -> None:
    where = supply(market)
    buyer = market.buyer(topup_fen=TOPUP)
    run_lease(market, where, buyer, cards=1, card_seconds=3_600)
    market.clock.set(DEC_1 + timedelta(days=3))
    first = buyer.client.issue_invoice("2026-11")
    before = row_counts(db)
    again = buyer.client.issue_invoice("2026-11")  # a new Idempotency-Key: a new call
    by_operator = market.operator.client.issue_invoice("2026-11", buyer_id=buyer.org_id)
    assert again == first == by_operator
    after = row_counts(db)
    assert after["invoices"] == before["invoices"] == 1
    assert after["invoice_lines"] == before["invoice_lines"] == 1


def test_a_lease_is_billed_once_even_if_custom_periods_overlap(market: Market) -> None:
    where = supply(market)
    buyer = market.buyer(topup_fen=TOPUP)
    lease = run_lease(market, where, buyer, cards=1, card_seconds=3_600)
    market.clock.set(DEC_1)
    wide = buyer.client.issue_invoice(
        start=NOV_3 - timedelta(days=1), end=NOV_3 + timedelta(days=1)
    )
    assert [line.lease_id for line in wide.lines] == [lease.id]
    assert wide.period == f"{wide.period_start.isoformat()}/{wide.period_end.isoformat()}"
    month = buyer.client.issue_invoice("2026-11")
    assert month.lines == []
    assert (month.gross_fen, month.net_fen) == (0, 0)
    assert month.id != wide.id


def test_a_month_with_nothing_gives_a_zero_bill(market: Market) -> None:
    buyer = market.buyer()
    market.clock.set(DEC_1)
    invoice = buyer.client.issue_invoice("2026-11")
    assert invoice.lines == []
    assert (invoice.gross_fen, invoice.voucher_fen, invoice.net_fen) == (0, 0, 0)


BAD_PERIODS = [
    ({"period": "2026-11"}, 409, "has not ended"),
    ({"period": "2026-12"}, 409, "has not ended"),
    ({"period": "2026-13"}, 422, "'2026-13' is not a month"),
    ({"period": "Nov 2026"}, 422, "is not a month"),
    ({}, 422, "give period"),
    (
        {"period": "2026-10", "start": "2026-10-01T00:00:00Z", "end": "2026-10-02T00:00:00Z"},
        422,
        "not both",
    ),
    ({"start": "2026-10-02T00:00:00Z", "end": "2026-10-01T00:00:00Z"}, 422, "is not after start"),
    ({"start": "2026-10-02T00:00:00"}, 422, "timezone"),
    ({"period": "2026-10", "extra": 1}, 422, "extra"),
]


def test_bad_or_open_periods_are_refused_and_write_nothing(market: Market, db: Database) -> None:
    buyer = market.buyer()
    http = market.http()
    before = row_counts(db)
    for body, status, words in BAD_PERIODS:
        response = http.post(
            "/v1/invoices", json=body, headers={"Authorization": f"Bearer {buyer.key}"}
        )
        assert response.status_code == status, (body, response.text)
        assert words in response.json()["error"]["message"], body
    assert row_counts(db) == before


def test_isolation_and_roles(market: Market, db: Database) -> None:
    where = supply(market)
    buyer = market.buyer(topup_fen=TOPUP)
    stranger = market.buyer()
    run_lease(market, where, buyer, cards=1, card_seconds=3_600)
    market.clock.set(DEC_1)
    invoice = buyer.client.issue_invoice("2026-11")
    before = row_counts(db)
    for party in (stranger, where.provider):
        for read in (party.client.get_invoice, party.client.invoice_csv, party.client.invoice_html):
            with pytest.raises(ApiError) as caught:
                read(invoice.id)
            assert caught.value.status == 404
        assert party.client.list_invoices() == []
    with pytest.raises(ApiError) as caught:
        stranger.client.issue_invoice("2026-11", buyer_id=buyer.org_id)
    assert caught.value.status == 404
    with pytest.raises(ApiError) as caught:
        stranger.client.list_invoices(buyer_id=buyer.org_id)
    assert caught.value.status == 404
    with pytest.raises(ApiError) as caught:
        where.provider.client.issue_invoice("2026-11")
    assert caught.value.status == 403
    assert "invoices bill buyers" in caught.value.message
    with pytest.raises(ApiError) as caught:
        market.operator.client.issue_invoice("2026-11")
    assert caught.value.status == 422
    assert "buyer_id" in caught.value.message
    with pytest.raises(ApiError) as caught:
        market.operator.client.issue_invoice("2026-11", buyer_id=where.provider.org_id)
    assert caught.value.status == 422
    assert row_counts(db) == before
    assert [i.id for i in market.operator.client.list_invoices()] == [invoice.id]
    assert market.operator.client.get_invoice(invoice.id) == invoice


def test_the_database_refuses_a_net_that_does_not_add_up(market: Market, db: Database) -> None:
    buyer = market.buyer()
    market.clock.set(DEC_1)
    invoice = buyer.client.issue_invoice("2026-11")

    def inflate_gross() -> None:
        with db.transaction() as session:
            row = session.scalars(select(Invoice).where(Invoice.id == invoice.id)).one()
            row.gross_fen += 100

    with pytest.raises(IntegrityError, match=r"(?i)check"):
        inflate_gross()
    assert buyer.client.get_invoice(invoice.id) == invoice


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2026-11", datetime(2026, 10, 31, 16, tzinfo=UTC), datetime(2026, 11, 30, 16, tzinfo=UTC)),
        ("2026-12", datetime(2026, 11, 30, 16, tzinfo=UTC), datetime(2026, 12, 31, 16, tzinfo=UTC)),
        ("2027-01", datetime(2026, 12, 31, 16, tzinfo=UTC), datetime(2027, 1, 31, 16, tzinfo=UTC)),
    ],
)
def test_months_follow_china_time(text: str, start: datetime, end: datetime) -> None:
    period = periods.month(text)
    assert (period.start, period.end, period.label) == (start, end, text)


@pytest.mark.parametrize(
    "text", ["2026-13", "2026-00", "2026-1", "26-11", "", "1899-12", "9999-12"]
)
def test_bad_months(text: str) -> None:
    with pytest.raises(ValidationError, match="period"):
        periods.month(text)
