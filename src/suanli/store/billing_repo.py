"""SQL for invoices, provider statements and payouts.

Invoices are stored (one per buyer and period, one line per lease at most once);
statements and payout listings are read from leases and the ledger.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from suanli.store.models import (
    Account,
    Center,
    Invoice,
    InvoiceLine,
    Lease,
    LedgerTransaction,
    Organization,
    Posting,
    UsageRecord,
    VoucherRedemption,
)
from suanli.vocab import AccountKind, TransactionKind


# -- invoices -------------------------------------------------------------------------
def lock_buyer(session: Session, buyer_id: int) -> None:
    """Serialize invoicing of one buyer: a row lock on its organization (PostgreSQL;
    SQLite's BEGIN IMMEDIATE already runs writers one at a time). Taken before any
    other lock; nothing else locks organization rows."""
    if session.get_bind().dialect.name != "sqlite":
        session.execute(
            select(Organization.id).where(Organization.id == buyer_id).with_for_update()
        )


def invoice(session: Session, invoice_id: int) -> Invoice | None:
    return session.get(Invoice, invoice_id)


def invoice_for_period(
    session: Session, buyer_id: int, start: datetime, end: datetime
) -> Invoice | None:
    stmt = select(Invoice).where(
        Invoice.buyer_id == buyer_id, Invoice.period_start == start, Invoice.period_end == end
    )
    return session.scalars(stmt).first()


def invoices(session: Session, *, buyer_id: int | None = None, limit: int = 200) -> list[Invoice]:
    stmt = select(Invoice).order_by(Invoice.period_start.desc(), Invoice.id.desc()).limit(limit)
    if buyer_id is not None:
        stmt = stmt.where(Invoice.buyer_id == buyer_id)
    return list(session.scalars(stmt))


def invoice_lines(session: Session, invoice_id: int) -> list[InvoiceLine]:
    stmt = select(InvoiceLine).where(InvoiceLine.invoice_id == invoice_id).order_by(InvoiceLine.id)
    return list(session.scalars(stmt))


def line_counts(session: Session, invoice_ids: Sequence[int]) -> dict[int, int]:
    if not invoice_ids:
        return {}
    stmt = (
        select(InvoiceLine.invoice_id, func.count(InvoiceLine.id))
        .where(InvoiceLine.invoice_id.in_(invoice_ids))
        .group_by(InvoiceLine.invoice_id)
    )
    return {invoice_id: int(count) for invoice_id, count in session.execute(stmt)}


def uninvoiced_leases(
    session: Session, buyer_id: int, start: datetime, end: datetime
) -> list[Lease]:
    """The buyer's leases that ended in ``[start, end)`` and are on no invoice yet,
    in the order they ended."""
    invoiced = select(InvoiceLine.lease_id).where(InvoiceLine.lease_id == Lease.id)
    stmt = (
        select(Lease)
        .where(
            Lease.buyer_id == buyer_id,
            Lease.ended_at.is_not(None),
            Lease.ended_at >= start,
            Lease.ended_at < end,
            ~invoiced.exists(),
        )
        .order_by(Lease.ended_at, Lease.id)
    )
    return list(session.scalars(stmt))


# -- what leases come with ----------------------------------------------------------------
def usage_totals(session: Session, lease_ids: Sequence[int]) -> dict[int, int]:
    """Metered card-seconds per lease (0 for a lease with no usage records)."""
    found = dict.fromkeys(lease_ids, 0)
    if not lease_ids:
        return found
    stmt = (
        select(UsageRecord.lease_id, func.sum(UsageRecord.card_seconds))
        .where(UsageRecord.lease_id.in_(lease_ids))
        .group_by(UsageRecord.lease_id)
    )
    for lease_id, total in session.execute(stmt):
        found[lease_id] = int(total)
    return found


def redemption_programs(session: Session, lease_ids: Sequence[int]) -> dict[int, int]:
    """lease id -> the voucher program that paid part of it (leases with a redemption)."""
    if not lease_ids:
        return {}
    stmt = select(VoucherRedemption.lease_id, VoucherRedemption.program_id).where(
        VoucherRedemption.lease_id.in_(lease_ids)
    )
    return {row.lease_id: row.program_id for row in session.execute(stmt)}


def center_names(session: Session, center_ids: Sequence[int]) -> dict[int, str]:
    if not center_ids:
        return {}
    stmt = select(Center.id, Center.name).where(Center.id.in_(set(center_ids)))
    return {row.id: row.name for row in session.execute(stmt)}


def org_name(session: Session, org_id: int) -> str:
    return session.scalar(select(Organization.name).where(Organization.id == org_id)) or ""


# -- statements ---------------------------------------------------------------------------
def provider_leases(
    session: Session, provider_id: int, start: datetime, end: datetime
) -> list[Lease]:
    """Leases at the provider's centers that ended in ``[start, end)``, in order."""
    stmt = (
        select(Lease)
        .where(
            Lease.provider_id == provider_id,
            Lease.ended_at.is_not(None),
            Lease.ended_at >= start,
            Lease.ended_at < end,
        )
        .order_by(Lease.ended_at, Lease.id)
    )
    return list(session.scalars(stmt))


@dataclass(frozen=True, slots=True)
class CaptureSplit:
    """How a lease's capture transaction divided the charge."""

    transaction_id: int
    provider_fen: int
    fee_fen: int


def capture_splits(
    session: Session, lease_ids: Sequence[int], provider_id: int
) -> dict[int, CaptureSplit]:
    """lease id -> its CAPTURE transaction's posting to the provider's earnings account
    and to the platform's fee account (leases with a charge)."""
    if not lease_ids:
        return {}
    stmt = (
        select(LedgerTransaction.lease_id, LedgerTransaction.id, Account.kind, Posting.amount)
        .join(Posting, Posting.transaction_id == LedgerTransaction.id)
        .join(Account, Account.id == Posting.account_id)
        .where(
            LedgerTransaction.kind == TransactionKind.CAPTURE,
            LedgerTransaction.lease_id.in_(lease_ids),
            (
                (Account.kind == AccountKind.EARNINGS) & (Account.owner_id == provider_id)
                | (Account.kind == AccountKind.FEE) & Account.owner_id.is_(None)
            ),
        )
        .order_by(LedgerTransaction.id)
    )
    found: dict[int, CaptureSplit] = {}
    for lease_id, txn_id, kind, amount in session.execute(stmt):
        if lease_id is None:
            continue
        old = found.get(lease_id, CaptureSplit(txn_id, 0, 0))
        if kind is AccountKind.EARNINGS:
            found[lease_id] = CaptureSplit(txn_id, old.provider_fen + amount, old.fee_fen)
        else:
            found[lease_id] = CaptureSplit(txn_id, old.provider_fen, old.fee_fen + amount)
    return found


@dataclass(frozen=True, slots=True)
class Movement:
    """One ledger transaction's effect on one account."""

    transaction_id: int
    kind: TransactionKind
    lease_id: int | None
    amount: int
    counterparty: str | None
    memo: str
    created_at: datetime


def movements(session: Session, account_id: int, start: datetime, end: datetime) -> list[Movement]:
    """Every transaction that touched ``account_id`` in ``[start, end)``, in order."""
    stmt = (
        select(
            LedgerTransaction.id,
            LedgerTransaction.kind,
            LedgerTransaction.lease_id,
            func.sum(Posting.amount),
            LedgerTransaction.counterparty,
            LedgerTransaction.memo,
            LedgerTransaction.created_at,
        )
        .join(Posting, Posting.transaction_id == LedgerTransaction.id)
        .where(
            Posting.account_id == account_id,
            LedgerTransaction.created_at >= start,
            LedgerTransaction.created_at < end,
        )
        .group_by(LedgerTransaction.id)
        .order_by(LedgerTransaction.created_at, LedgerTransaction.id)
    )
    return [
        Movement(txn_id, kind, lease_id, int(amount), counterparty, memo, created_at)
        for txn_id, kind, lease_id, amount, counterparty, memo, created_at in session.execute(stmt)
    ]


def balance_before(session: Session, account_id: int, when: datetime) -> int:
    """The account's balance counting the transactions made before ``when``."""
    stmt = (
        select(func.coalesce(func.sum(Posting.amount), 0))
        .join(LedgerTransaction, LedgerTransaction.id == Posting.transaction_id)
        .where(Posting.account_id == account_id, LedgerTransaction.created_at < when)
    )
    return int(session.scalar(stmt) or 0)


# -- payouts ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PayoutRow:
    transaction_id: int
    provider_id: int
    amount_fen: int
    counterparty: str | None
    created_at: datetime


def payouts(
    session: Session, *, provider_id: int | None = None, limit: int = 200
) -> list[PayoutRow]:
    """PAYOUT transactions, newest first, with the provider whose earnings paid them."""
    stmt = (
        select(
            LedgerTransaction.id,
            Account.owner_id,
            Posting.amount,
            LedgerTransaction.counterparty,
            LedgerTransaction.created_at,
        )
        .join(Posting, Posting.transaction_id == LedgerTransaction.id)
        .join(Account, Account.id == Posting.account_id)
        .where(
            LedgerTransaction.kind == TransactionKind.PAYOUT,
            Account.kind == AccountKind.EARNINGS,
        )
        .order_by(LedgerTransaction.id.desc())
        .limit(limit)
    )
    if provider_id is not None:
        stmt = stmt.where(Account.owner_id == provider_id)
    return [
        PayoutRow(txn_id, int(owner_id), -int(amount), counterparty, created_at)
        for txn_id, owner_id, amount, counterparty, created_at in session.execute(stmt)
        if owner_id is not None
    ]
