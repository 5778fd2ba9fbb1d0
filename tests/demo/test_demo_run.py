"""The whole demo on the suite's database: vouchers at work, books clean afterwards, the
day billed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from suanli.demo.runner import run_demo
from suanli.kit.clock import ManualClock
from suanli.ledger.audit import audit_ledger
from suanli.store import Database
from suanli.store.models import Invoice, InvoiceLine, Lease
from suanli.vouchers.report import voucher_report

pytestmark = pytest.mark.slow

END = datetime(2026, 6, 1, 12, tzinfo=UTC)


def test_the_demo_spends_vouchers_within_budget_and_caps_audits_clean_and_bills_the_day(
    db: Database,
) -> None:
    summary = run_demo(db, end=END).summary

    assert summary.voucher_programs == 3
    assert summary.subsidized_leases > 0 and summary.voucher_redeemed_fen > 0
    assert summary.related_party_leases > 0
    with db.transaction() as session:
        audit = audit_ledger(session, None)
        report = voucher_report(session, ManualClock(END), None)
    assert audit.ok, audit.details
    assert audit.transactions > summary.leases_completed
    assert sum(p.redeemed_fen for p in report.programs) == summary.voucher_redeemed_fen
    for program in report.programs:
        assert program.within_budget and program.within_caps
        assert program.redeemed_fen + program.remaining_fen == program.budget_fen
        if program.cap_per_firm_year_fen is not None:
            assert program.largest_firm_year_fen <= program.cap_per_firm_year_fen

    # and it bills the day it replayed: every lease that ended in it, once
    start, end = summary.replay_start, summary.replay_end
    with db.transaction() as session:
        ended = session.execute(
            select(Lease.buyer_id, Lease.id, Lease.charged_fen, Lease.subsidy_fen).where(
                Lease.ended_at >= start, Lease.ended_at < end
            )
        ).all()
        invoices = session.scalars(select(Invoice)).all()
        billed = set(session.scalars(select(InvoiceLine.lease_id)))
        lines = int(session.scalar(select(func.count(InvoiceLine.id))) or 0)
    assert summary.invoices == len(invoices) == len({row.buyer_id for row in ended}) > 0
    assert billed == {row.id for row in ended} and lines == len(ended)
    assert summary.invoiced_fen == sum(i.gross_fen for i in invoices)
    assert summary.invoiced_fen == sum(row.charged_fen for row in ended) > 0
    assert sum(i.voucher_fen for i in invoices) == sum(row.subsidy_fen for row in ended) > 0
    for invoice in invoices:
        assert (invoice.period_start, invoice.period_end) == (start, end)
        assert invoice.net_fen == invoice.gross_fen - invoice.voucher_fen
