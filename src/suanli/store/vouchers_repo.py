"""SQL for voucher programs, grants, redemptions, clawbacks and flags."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from suanli.store.models import (
    VoucherClawback,
    VoucherFlag,
    VoucherGrant,
    VoucherProgram,
    VoucherRedemption,
)
from suanli.vocab import FlagKind, FlagStatus, GrantStatus, ProgramStatus


def program(session: Session, program_id: int, *, lock: bool = False) -> VoucherProgram | None:
    """A program; ``lock`` takes its row lock, which serializes the program's redemptions
    (lock order: request -> lease -> nodes -> program -> grant -> accounts)."""
    stmt = select(VoucherProgram).where(VoucherProgram.id == program_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return session.scalars(stmt).first()


def program_by_name(session: Session, issuer_id: int, name: str) -> VoucherProgram | None:
    stmt = select(VoucherProgram).where(
        VoucherProgram.issuer_id == issuer_id, VoucherProgram.name == name
    )
    return session.scalars(stmt).first()


def programs(session: Session, *, issuer_id: int | None = None) -> list[VoucherProgram]:
    stmt = select(VoucherProgram).order_by(VoucherProgram.id)
    if issuer_id is not None:
        stmt = stmt.where(VoucherProgram.issuer_id == issuer_id)
    return list(session.scalars(stmt))


def grant(session: Session, grant_id: int, *, lock: bool = False) -> VoucherGrant | None:
    stmt = select(VoucherGrant).where(VoucherGrant.id == grant_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return session.scalars(stmt).first()


def grants(
    session: Session,
    *,
    program_ids: list[int] | None = None,
    buyer_id: int | None = None,
    status: GrantStatus | None = None,
) -> list[VoucherGrant]:
    stmt = select(VoucherGrant).order_by(VoucherGrant.id)
    if program_ids is not None:
        stmt = stmt.where(VoucherGrant.program_id.in_(program_ids))
    if buyer_id is not None:
        stmt = stmt.where(VoucherGrant.buyer_id == buyer_id)
    if status is not None:
        stmt = stmt.where(VoucherGrant.status == status)
    return list(session.scalars(stmt))


def usable_grants(session: Session, buyer_id: int, now: datetime) -> list[VoucherGrant]:
    """A buyer's approved, unexpired grants with money released and unspent, in active
    programs: the earliest-expiring first."""
    stmt = (
        select(VoucherGrant)
        .join(VoucherProgram, VoucherProgram.id == VoucherGrant.program_id)
        .where(
            VoucherGrant.buyer_id == buyer_id,
            VoucherGrant.status == GrantStatus.APPROVED,
            VoucherGrant.expires_at > now,
            VoucherGrant.released_fen > VoucherGrant.redeemed_fen,
            VoucherProgram.status == ProgramStatus.ACTIVE,
        )
        .order_by(VoucherGrant.expires_at, VoucherGrant.id)
    )
    return list(session.scalars(stmt))


def outstanding_fen(session: Session, program_id: int, now: datetime) -> int:
    """Approved and not yet redeemed, over the program's live grants: what it has
    promised and may still have to pay."""
    stmt = select(
        func.coalesce(func.sum(VoucherGrant.approved_fen - VoucherGrant.redeemed_fen), 0)
    ).where(
        VoucherGrant.program_id == program_id,
        VoucherGrant.status == GrantStatus.APPROVED,
        VoucherGrant.expires_at > now,
    )
    return int(session.scalar(stmt) or 0)


def redeemed_fen(
    session: Session,
    program_id: int,
    *,
    buyer_id: int | None = None,
    group_name: str | None = None,
    year: int | None = None,
) -> int:
    """Net redeemed (less clawbacks) in a program, optionally for one firm, one group,
    one year."""
    net = VoucherRedemption.amount_fen - VoucherRedemption.clawed_back_fen
    where: list[ColumnElement[bool]] = [VoucherRedemption.program_id == program_id]
    if buyer_id is not None:
        where.append(VoucherRedemption.buyer_id == buyer_id)
    if group_name is not None:
        where.append(VoucherRedemption.group_name == group_name)
    if year is not None:
        where.append(VoucherRedemption.year == year)
    stmt = select(func.coalesce(func.sum(net), 0)).where(*where)
    return int(session.scalar(stmt) or 0)


def redemption_of_lease(session: Session, lease_id: int) -> VoucherRedemption | None:
    stmt = select(VoucherRedemption).where(VoucherRedemption.lease_id == lease_id)
    return session.scalars(stmt).first()


def redemption(
    session: Session, redemption_id: int, *, lock: bool = False
) -> VoucherRedemption | None:
    stmt = select(VoucherRedemption).where(VoucherRedemption.id == redemption_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return session.scalars(stmt).first()


def redemptions(
    session: Session,
    *,
    program_ids: list[int] | None = None,
    buyer_id: int | None = None,
    provider_id: int | None = None,
    grant_id: int | None = None,
    limit: int = 10_000,
) -> list[VoucherRedemption]:
    stmt = select(VoucherRedemption).order_by(VoucherRedemption.id).limit(limit)
    if program_ids is not None:
        stmt = stmt.where(VoucherRedemption.program_id.in_(program_ids))
    if buyer_id is not None:
        stmt = stmt.where(VoucherRedemption.buyer_id == buyer_id)
    if provider_id is not None:
        stmt = stmt.where(VoucherRedemption.provider_id == provider_id)
    if grant_id is not None:
        stmt = stmt.where(VoucherRedemption.grant_id == grant_id)
    return list(session.scalars(stmt))


def clawbacks(session: Session, redemption_id: int) -> list[VoucherClawback]:
    stmt = (
        select(VoucherClawback)
        .where(VoucherClawback.redemption_id == redemption_id)
        .order_by(VoucherClawback.id)
    )
    return list(session.scalars(stmt))


def flag(session: Session, flag_id: int, *, lock: bool = False) -> VoucherFlag | None:
    stmt = select(VoucherFlag).where(VoucherFlag.id == flag_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return session.scalars(stmt).first()


def find_flag(
    session: Session, kind: FlagKind, lease_id: int | None, buyer_id: int, provider_id: int
) -> VoucherFlag | None:
    lease = VoucherFlag.lease_id.is_(None) if lease_id is None else VoucherFlag.lease_id == lease_id
    stmt = select(VoucherFlag).where(
        VoucherFlag.kind == kind,
        lease,
        VoucherFlag.buyer_id == buyer_id,
        VoucherFlag.provider_id == provider_id,
    )
    return session.scalars(stmt).first()


def flags(
    session: Session,
    *,
    program_ids: list[int] | None = None,
    status: FlagStatus | None = None,
    kind: FlagKind | None = None,
) -> list[VoucherFlag]:
    stmt = select(VoucherFlag).order_by(VoucherFlag.id)
    if program_ids is not None:
        stmt = stmt.where(VoucherFlag.program_id.in_(program_ids))
    if status is not None:
        stmt = stmt.where(VoucherFlag.status == status)
    if kind is not None:
        stmt = stmt.where(VoucherFlag.kind == kind)
    return list(session.scalars(stmt))
