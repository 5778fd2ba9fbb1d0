"""The replay runs many events per transaction; the outcome must be exactly that of one
transaction per event: the same requests, leases, cards, money and vouchers, row for
row. The first 80 requests of the day are enough to have completions free cards that a
later arrival of the same batch takes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, select
from tests.conftest import assert_books_balance, fresh_database

from suanli.demo import runner
from suanli.demo.runner import run_demo
from suanli.ledger.audit import audit_ledger
from suanli.store import Database
from suanli.store.base import Base

pytestmark = pytest.mark.slow

END = datetime(2026, 6, 1, 12, tzinfo=UTC)
REQUESTS = 80
TABLES = (
    "requests",
    "leases",
    "lease_allocations",
    "lease_transitions",
    "usage_records",
    "nodes",
    "ledger_transactions",
    "postings",
    "voucher_grants",
    "voucher_redemptions",
    "invoices",
    "invoice_lines",
)


def facts(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of :data:`TABLES`, in primary-key order."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    with db.transaction() as session:
        for name in TABLES:
            table = Base.metadata.tables[name]
            assert isinstance(table, Table)
            rows = session.execute(select(table).order_by(*table.primary_key.columns))
            found[name] = [tuple(row) for row in rows]
    return found


def test_a_batched_replay_writes_what_one_transaction_per_event_writes(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    batched = run_demo(db, end=END, requests=REQUESTS).summary
    with fresh_database(tmp_path / "per-event") as other:
        monkeypatch.setattr(runner._Replay, "BATCHED", False)
        per_event = run_demo(other, end=END, requests=REQUESTS).summary
        expected = facts(other)

    assert batched == per_event
    assert batched.leases_completed > 0 and batched.requests == REQUESTS + 1  # the opening
    got = facts(db)
    for name in TABLES:
        assert got[name] == expected[name], name
    assert_books_balance(db)
    with db.transaction() as session:
        audit = audit_ledger(session, None)
    assert audit.ok, audit.details
