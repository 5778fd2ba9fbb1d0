"""SQL for the voucher report and the ledger audit: sums over the ledger, the voucher
tables and metered usage, grouped the way the report and the audit read them.

Every function takes ``program_ids``: the programs to look at, ``None`` for all. The
results are plain tuples and dictionaries; :mod:`suanli.vouchers.report` and
:mod:`suanli.ledger.audit` put them together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, func, select
from sqlalchemy.orm import Mapped, Session, aliased

from suanli.store.models import (
    Account,
    Lease,
    LedgerTransaction,
    Organization,
    Posting,
    UsageRecord,
    VoucherClawback,
    VoucherFlag,
    VoucherGrant,
    VoucherProgram,
    VoucherRedemption,
)
from suanli.vocab import AccountKind, FlagStatus, GrantStatus, LeaseStatus, TransactionKind

LIVE = (LeaseStatus.PENDING, LeaseStatus.PLACED, LeaseStatus.RUNNING)
ProgramIds = Sequence[int] | None


def _in(column: Mapped[int] | Mapped[int | None], ids: ProgramIds) -> list[ColumnElement[bool]]:
    return [] if ids is None else [column.in_(list(ids))]


# -- voucher funds --------------------------------------------------------------------------
def fund_flows(session: Session, program_ids: ProgramIds) -> dict[int, dict[TransactionKind, int]]:
    """program -> transaction kind -> the signed sum of that kind's postings on the
    program's fund (funding positive, redemptions negative, ...)."""
    stmt = (
        select(Account.program_id, LedgerTransaction.kind, func.sum(Posting.amount))
        .join(Posting, Posting.account_id == Account.id)
        .join(LedgerTransaction, LedgerTransaction.id == Posting.transaction_id)
        .where(Account.kind == AccountKind.VOUCHER_FUND, *_in(Account.program_id, program_ids))
        .group_by(Account.program_id, LedgerTransaction.kind)
    )
    found: dict[int, dict[TransactionKind, int]] = {}
    for program_id, kind, total in session.execute(stmt):
        if program_id is not None:
            found.setdefault(program_id, {})[TransactionKind(kind)] = int(total)
    return found


def funding_by_funder(session: Session, program_ids: ProgramIds) -> dict[int, dict[str, int]]:
    """program -> funder (the transaction's counterparty) -> fen paid into its fund."""
    stmt = (
        select(Account.program_id, LedgerTransaction.counterparty, func.sum(Posting.amount))
        .join(Posting, Posting.account_id == Account.id)
        .join(LedgerTransaction, LedgerTransaction.id == Posting.transaction_id)
        .where(
            Account.kind == AccountKind.VOUCHER_FUND,
            LedgerTransaction.kind == TransactionKind.PROGRAM_FUNDING,
            *_in(Account.program_id, program_ids),
        )
        .group_by(Account.program_id, LedgerTransaction.counterparty)
        .order_by(Account.program_id, LedgerTransaction.counterparty)
    )
    found: dict[int, dict[str, int]] = {}
    for program_id, funder, total in session.execute(stmt):
        if program_id is not None:
            found.setdefault(program_id, {})[funder or "unknown"] = int(total)
    return found


def fund_balances(session: Session, program_ids: ProgramIds) -> dict[int, int]:
    """program -> its fund account's balance (programs without a fund are absent)."""
    stmt = (
        select(Account.program_id, func.coalesce(func.sum(Posting.amount), 0))
        .outerjoin(Posting, Posting.account_id == Account.id)
        .where(Account.kind == AccountKind.VOUCHER_FUND, *_in(Account.program_id, program_ids))
        .group_by(Account.program_id)
    )
    return {int(pid): int(total) for pid, total in session.execute(stmt) if pid is not None}


# -- redemptions ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RedemptionSums:
    count: int
    amount_fen: int
    clawed_back_fen: int

    @property
    def net_fen(self) -> int:
        return self.amount_fen - self.clawed_back_fen


def redemption_sums(session: Session, program_ids: ProgramIds) -> dict[int, RedemptionSums]:
    """program -> count, gross amount and clawed-back amount of its redemptions."""
    stmt = (
        select(
            VoucherRedemption.program_id,
            func.count(VoucherRedemption.id),
            func.sum(VoucherRedemption.amount_fen),
            func.sum(VoucherRedemption.clawed_back_fen),
        )
        .where(*_in(VoucherRedemption.program_id, program_ids))
        .group_by(VoucherRedemption.program_id)
    )
    return {
        int(pid): RedemptionSums(int(n), int(amount), int(clawed))
        for pid, n, amount, clawed in session.execute(stmt)
    }


def firm_year_totals(
    session: Session, program_ids: ProgramIds
) -> list[tuple[int, int, int, int, int]]:
    """(program, buyer, year, net fen, redemptions) for every firm-year with redemptions."""
    net = VoucherRedemption.amount_fen - VoucherRedemption.clawed_back_fen
    stmt = (
        select(
            VoucherRedemption.program_id,
            VoucherRedemption.buyer_id,
            VoucherRedemption.year,
            func.sum(net),
            func.count(VoucherRedemption.id),
        )
        .where(*_in(VoucherRedemption.program_id, program_ids))
        .group_by(VoucherRedemption.program_id, VoucherRedemption.buyer_id, VoucherRedemption.year)
        .order_by(VoucherRedemption.program_id, VoucherRedemption.buyer_id, VoucherRedemption.year)
    )
    return [(int(p), int(b), int(y), int(t), int(n)) for p, b, y, t, n in session.execute(stmt)]


def group_year_totals(session: Session, program_ids: ProgramIds) -> list[tuple[int, str, int, int]]:
    """(program, group, year, net fen) for redemptions of firms that belong to a group."""
    net = VoucherRedemption.amount_fen - VoucherRedemption.clawed_back_fen
    stmt = (
        select(
            VoucherRedemption.program_id,
            VoucherRedemption.group_name,
            VoucherRedemption.year,
            func.sum(net),
        )
        .where(
            VoucherRedemption.group_name.is_not(None),
            *_in(VoucherRedemption.program_id, program_ids),
        )
        .group_by(
            VoucherRedemption.program_id, VoucherRedemption.group_name, VoucherRedemption.year
        )
        .order_by(VoucherRedemption.program_id, VoucherRedemption.group_name)
    )
    return [(int(p), str(g), int(y), int(t)) for p, g, y, t in session.execute(stmt)]


def provider_totals(session: Session, program_ids: ProgramIds) -> dict[int, dict[int, int]]:
    """program -> provider -> net fen redeemed on that provider's leases."""
    net = VoucherRedemption.amount_fen - VoucherRedemption.clawed_back_fen
    stmt = (
        select(VoucherRedemption.program_id, VoucherRedemption.provider_id, func.sum(net))
        .where(*_in(VoucherRedemption.program_id, program_ids))
        .group_by(VoucherRedemption.program_id, VoucherRedemption.provider_id)
    )
    found: dict[int, dict[int, int]] = {}
    for program_id, provider_id, total in session.execute(stmt):
        found.setdefault(int(program_id), {})[int(provider_id)] = int(total)
    return found


def redemptions_above(session: Session, program_ids: ProgramIds) -> list[tuple[int, int, int, int]]:
    """(program, redemption, amount, cap) for redemptions above their program's cap per
    lease."""
    stmt = (
        select(
            VoucherRedemption.program_id,
            VoucherRedemption.id,
            VoucherRedemption.amount_fen,
            VoucherProgram.cap_per_lease_fen,
        )
        .join(VoucherProgram, VoucherProgram.id == VoucherRedemption.program_id)
        .where(
            VoucherProgram.cap_per_lease_fen.is_not(None),
            VoucherRedemption.amount_fen > VoucherProgram.cap_per_lease_fen,
            *_in(VoucherRedemption.program_id, program_ids),
        )
        .order_by(VoucherRedemption.id)
    )
    return [(int(p), int(r), int(a), int(c or 0)) for p, r, a, c in session.execute(stmt)]


@dataclass(frozen=True, slots=True)
class SubsidizedLease:
    """A lease a program paid for: what it charged, what the voucher kept paid (net of
    clawbacks) and the card-seconds it metered."""

    program_id: int
    lease_id: int
    model: str
    charged_fen: int
    subsidy_fen: int
    card_seconds: int


def subsidized_leases(session: Session, program_ids: ProgramIds) -> list[SubsidizedLease]:
    metered = (
        select(UsageRecord.lease_id, func.sum(UsageRecord.card_seconds).label("card_seconds"))
        .group_by(UsageRecord.lease_id)
        .subquery()
    )
    stmt = (
        select(
            VoucherRedemption.program_id,
            Lease.id,
            Lease.model,
            Lease.charged_fen,
            VoucherRedemption.amount_fen - VoucherRedemption.clawed_back_fen,
            func.coalesce(metered.c.card_seconds, 0),
        )
        .join(Lease, Lease.id == VoucherRedemption.lease_id)
        .outerjoin(metered, metered.c.lease_id == Lease.id)
        .where(*_in(VoucherRedemption.program_id, program_ids))
        .order_by(Lease.id)
    )
    return [
        SubsidizedLease(int(p), int(i), str(m), int(c), int(s), int(u))
        for p, i, m, c, s, u in session.execute(stmt)
    ]


# -- grants and flags -----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class GrantFacts:
    program_id: int
    status: GrantStatus
    approved_fen: int
    redeemed_fen: int
    expires_at: datetime | None


def grant_facts(session: Session, program_ids: ProgramIds) -> list[GrantFacts]:
    stmt = (
        select(
            VoucherGrant.program_id,
            VoucherGrant.status,
            VoucherGrant.approved_fen,
            VoucherGrant.redeemed_fen,
            VoucherGrant.expires_at,
        )
        .where(*_in(VoucherGrant.program_id, program_ids))
        .order_by(VoucherGrant.id)
    )
    return [
        GrantFacts(int(p), GrantStatus(s), int(a), int(r), e)
        for p, s, a, r, e in session.execute(stmt)
    ]


def open_flags(session: Session, program_ids: ProgramIds) -> dict[int, dict[str, int]]:
    """program -> flag kind -> open flags."""
    stmt = (
        select(VoucherFlag.program_id, VoucherFlag.kind, func.count(VoucherFlag.id))
        .where(VoucherFlag.status == FlagStatus.OPEN, *_in(VoucherFlag.program_id, program_ids))
        .group_by(VoucherFlag.program_id, VoucherFlag.kind)
    )
    found: dict[int, dict[str, int]] = {}
    for program_id, kind, count in session.execute(stmt):
        if program_id is not None:
            found.setdefault(int(program_id), {})[str(kind)] = int(count)
    return found


def org_names(session: Session, org_ids: Sequence[int]) -> dict[int, str]:
    if not org_ids:
        return {}
    stmt = select(Organization.id, Organization.name).where(Organization.id.in_(list(org_ids)))
    return {int(i): str(n) for i, n in session.execute(stmt)}


# -- the ledger audit -----------------------------------------------------------------------
def usage_on_ended_leases_uncharged(session: Session) -> list[tuple[int, int, int, int, int]]:
    """(record, lease, lease price, lease hold, lease card-seconds) for records with
    card-seconds on ended leases that no capture billed. Whether each should have been
    billed (its lease's charge is at least 1 fen) is for the caller to decide."""
    total = (
        select(UsageRecord.lease_id, func.sum(UsageRecord.card_seconds).label("card_seconds"))
        .group_by(UsageRecord.lease_id)
        .subquery()
    )
    stmt = (
        select(UsageRecord.id, Lease.id, Lease.price_fen, Lease.hold_fen, total.c.card_seconds)
        .join(Lease, Lease.id == UsageRecord.lease_id)
        .join(total, total.c.lease_id == Lease.id)
        .where(
            UsageRecord.charge_transaction_id.is_(None),
            UsageRecord.card_seconds > 0,
            Lease.status.not_in(LIVE),
        )
        .order_by(UsageRecord.id)
    )
    return [(int(r), int(lid), int(p), int(h), int(s)) for r, lid, p, h, s in session.execute(stmt)]


def usage_charged_elsewhere(session: Session) -> list[int]:
    """Usage records linked to a transaction that is not a capture of their own lease."""
    stmt = (
        select(UsageRecord.id)
        .join(LedgerTransaction, LedgerTransaction.id == UsageRecord.charge_transaction_id)
        .where(
            (LedgerTransaction.kind != TransactionKind.CAPTURE)
            | (LedgerTransaction.lease_id.is_(None))
            | (LedgerTransaction.lease_id != UsageRecord.lease_id)
        )
        .order_by(UsageRecord.id)
    )
    return [int(i) for i in session.scalars(stmt)]


def captures_without_usage(session: Session) -> list[int]:
    """Capture transactions that no usage record points at."""
    billed = exists().where(UsageRecord.charge_transaction_id == LedgerTransaction.id)
    stmt = (
        select(LedgerTransaction.id)
        .where(LedgerTransaction.kind == TransactionKind.CAPTURE, ~billed)
        .order_by(LedgerTransaction.id)
    )
    return [int(i) for i in session.scalars(stmt)]


def redemptions_without_billed_usage(session: Session) -> list[int]:
    """Redemptions whose lease has no usage record billed by a capture of that lease."""
    billed = (
        exists()
        .where(
            UsageRecord.lease_id == VoucherRedemption.lease_id,
            UsageRecord.charge_transaction_id == LedgerTransaction.id,
        )
        .where(
            LedgerTransaction.kind == TransactionKind.CAPTURE,
            LedgerTransaction.lease_id == VoucherRedemption.lease_id,
        )
    )
    stmt = select(VoucherRedemption.id).where(~billed).order_by(VoucherRedemption.id)
    return [int(i) for i in session.scalars(stmt)]


def capture_escrow_debits(session: Session) -> dict[int, int]:
    """lease -> fen its capture transactions took out of escrow (positive)."""
    stmt = (
        select(LedgerTransaction.lease_id, func.sum(Posting.amount))
        .join(Posting, Posting.transaction_id == LedgerTransaction.id)
        .join(Account, Account.id == Posting.account_id)
        .where(
            LedgerTransaction.kind == TransactionKind.CAPTURE,
            LedgerTransaction.lease_id.is_not(None),
            Account.kind == AccountKind.ESCROW,
        )
        .group_by(LedgerTransaction.lease_id)
    )
    return {int(lid or 0): -int(total) for lid, total in session.execute(stmt)}


def lease_charges(session: Session) -> list[tuple[int, int, int]]:
    """(lease, charged fen, subsidy fen) of every lease that charged or was subsidized,
    or has a capture."""
    captured = exists().where(
        LedgerTransaction.lease_id == Lease.id, LedgerTransaction.kind == TransactionKind.CAPTURE
    )
    stmt = (
        select(Lease.id, Lease.charged_fen, Lease.subsidy_fen)
        .where((Lease.charged_fen != 0) | (Lease.subsidy_fen != 0) | captured)
        .order_by(Lease.id)
    )
    return [(int(i), int(c), int(s)) for i, c, s in session.execute(stmt)]


@dataclass(frozen=True, slots=True)
class FundPosting:
    """A voucher transaction's net effect on a fund: ``amount`` on ``program_id``'s fund."""

    kind: TransactionKind
    lease_id: int | None
    program_id: int | None
    amount: int


def fund_postings(session: Session, kinds: Sequence[TransactionKind]) -> dict[int, FundPosting]:
    """transaction -> its net posting on a voucher fund, for transactions of ``kinds``
    (a transaction of those kinds that touches no fund maps to amount 0, program None)."""
    fund = aliased(Account)
    on_fund = (
        select(Posting.transaction_id, fund.program_id, func.sum(Posting.amount).label("amount"))
        .join(fund, fund.id == Posting.account_id)
        .where(fund.kind == AccountKind.VOUCHER_FUND)
        .group_by(Posting.transaction_id, fund.program_id)
        .subquery()
    )
    stmt = (
        select(
            LedgerTransaction.id,
            LedgerTransaction.kind,
            LedgerTransaction.lease_id,
            on_fund.c.program_id,
            func.coalesce(on_fund.c.amount, 0),
        )
        .outerjoin(on_fund, on_fund.c.transaction_id == LedgerTransaction.id)
        .where(LedgerTransaction.kind.in_(list(kinds)))
    )
    found: dict[int, FundPosting] = {}
    for txn_id, kind, lease_id, program_id, amount in session.execute(stmt):
        found[int(txn_id)] = FundPosting(
            TransactionKind(kind),
            None if lease_id is None else int(lease_id),
            None if program_id is None else int(program_id),
            int(amount),
        )
    return found


@dataclass(frozen=True, slots=True)
class RedemptionRow:
    id: int
    program_id: int
    grant_id: int
    lease_id: int
    amount_fen: int
    clawed_back_fen: int
    transaction_id: int


def redemption_rows(session: Session) -> list[RedemptionRow]:
    stmt = select(
        VoucherRedemption.id,
        VoucherRedemption.program_id,
        VoucherRedemption.grant_id,
        VoucherRedemption.lease_id,
        VoucherRedemption.amount_fen,
        VoucherRedemption.clawed_back_fen,
        VoucherRedemption.transaction_id,
    ).order_by(VoucherRedemption.id)
    return [RedemptionRow(*(int(v) for v in row)) for row in session.execute(stmt)]


def clawback_rows(session: Session) -> list[tuple[int, int, int, int]]:
    """(clawback, redemption, amount, transaction) of every clawback."""
    stmt = select(
        VoucherClawback.id,
        VoucherClawback.redemption_id,
        VoucherClawback.amount_fen,
        VoucherClawback.transaction_id,
    ).order_by(VoucherClawback.id)
    return [(int(c), int(r), int(a), int(t)) for c, r, a, t in session.execute(stmt)]


def grant_redeemed(session: Session) -> list[tuple[int, int, int]]:
    """(grant, its redeemed_fen, the net sum of its redemptions) for every grant."""
    net = (
        select(
            VoucherRedemption.grant_id,
            func.sum(VoucherRedemption.amount_fen - VoucherRedemption.clawed_back_fen).label("net"),
        )
        .group_by(VoucherRedemption.grant_id)
        .subquery()
    )
    stmt = (
        select(VoucherGrant.id, VoucherGrant.redeemed_fen, func.coalesce(net.c.net, 0))
        .outerjoin(net, net.c.grant_id == VoucherGrant.id)
        .order_by(VoucherGrant.id)
    )
    return [(int(g), int(r), int(n)) for g, r, n in session.execute(stmt)]


def program_caps(session: Session) -> list[VoucherProgram]:
    return list(session.scalars(select(VoucherProgram).order_by(VoucherProgram.id)))


def leases_with_subsidy_and_no_redemption(session: Session) -> list[int]:
    redeemed = exists().where(VoucherRedemption.lease_id == Lease.id)
    stmt = select(Lease.id).where(and_(Lease.subsidy_fen != 0, ~redeemed)).order_by(Lease.id)
    return [int(i) for i in session.scalars(stmt)]
