"""The whole demo on the suite's database: vouchers at work, books clean afterwards."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from suanli.demo.runner import run_demo
from suanli.kit.clock import ManualClock
from suanli.ledger.audit import audit_ledger
from suanli.store import Database
from suanli.vouchers.report import voucher_report

pytestmark = pytest.mark.slow

END = datetime(2026, 6, 1, 12, tzinfo=UTC)


def test_the_demo_spends_vouchers_within_budget_and_caps_and_audits_clean(db: Database) -> None:
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
