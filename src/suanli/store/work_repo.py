"""SQL for requests, leases, their transitions and usage records."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from suanli.store.models import (
    Lease,
    LeaseAllocation,
    LeaseTransition,
    Node,
    Request,
    UsageRecord,
)
from suanli.vocab import LeaseStatus, RequestStatus

LIVE = (LeaseStatus.PENDING, LeaseStatus.PLACED, LeaseStatus.RUNNING)


def request(session: Session, request_id: int, *, lock: bool = False) -> Request | None:
    stmt = select(Request).where(Request.id == request_id)
    if lock:  # refresh what the session already holds: the locked row is the truth
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return session.scalars(stmt).first()


def requests(
    session: Session,
    *,
    buyer_id: int | None = None,
    status: RequestStatus | None = None,
    limit: int = 1000,
) -> list[Request]:
    stmt = select(Request).order_by(Request.id.desc()).limit(limit)
    if buyer_id is not None:
        stmt = stmt.where(Request.buyer_id == buyer_id)
    if status is not None:
        stmt = stmt.where(Request.status == status)
    return list(session.scalars(stmt))


def queued_due(
    session: Session, now: datetime, *, buyer_id: int | None = None, limit: int = 10_000
) -> list[int]:
    """Ids of queued requests whose earliest start has come, oldest first."""
    stmt = (
        select(Request.id)
        .where(
            Request.status == RequestStatus.QUEUED,
            or_(Request.earliest_start.is_(None), Request.earliest_start <= now),
        )
        .order_by(Request.id)
        .limit(limit)
    )
    if buyer_id is not None:
        stmt = stmt.where(Request.buyer_id == buyer_id)
    return list(session.scalars(stmt))


def queued_requests(session: Session, request_ids: Sequence[int]) -> list[Request]:
    stmt = select(Request).where(Request.id.in_(request_ids)).order_by(Request.id)
    return list(session.scalars(stmt))


def lease(session: Session, lease_id: int, *, lock: bool = False) -> Lease | None:
    stmt = select(Lease).where(Lease.id == lease_id)
    if lock:  # refresh what the session already holds: the locked row is the truth
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return session.scalars(stmt).first()


def live_lease_of(session: Session, request_id: int) -> Lease | None:
    stmt = select(Lease).where(Lease.request_id == request_id, Lease.status.in_(LIVE))
    return session.scalars(stmt).first()


def latest_lease_ids(session: Session, request_ids: Sequence[int]) -> dict[int, int]:
    if not request_ids:
        return {}
    stmt = (
        select(Lease.request_id, func.max(Lease.id))
        .where(Lease.request_id.in_(request_ids))
        .group_by(Lease.request_id)
    )
    return {int(rid): int(lid) for rid, lid in session.execute(stmt)}


def leases(
    session: Session,
    *,
    buyer_id: int | None = None,
    provider_id: int | None = None,
    center_id: int | None = None,
    status: LeaseStatus | None = None,
    limit: int = 1000,
) -> list[Lease]:
    stmt = select(Lease).order_by(Lease.id.desc()).limit(limit)
    if buyer_id is not None:
        stmt = stmt.where(Lease.buyer_id == buyer_id)
    if provider_id is not None:
        stmt = stmt.where(Lease.provider_id == provider_id)
    if center_id is not None:
        stmt = stmt.where(Lease.center_id == center_id)
    if status is not None:
        stmt = stmt.where(Lease.status == status)
    return list(session.scalars(stmt))


def leases_overlapping(session: Session, start: datetime, end: datetime) -> list[Lease]:
    stmt = select(Lease).where(
        Lease.placed_at < end, or_(Lease.ended_at.is_(None), Lease.ended_at > start)
    )
    return list(session.scalars(stmt))


def allocations(session: Session, lease_id: int) -> list[LeaseAllocation]:
    stmt = (
        select(LeaseAllocation)
        .where(LeaseAllocation.lease_id == lease_id)
        .order_by(LeaseAllocation.node_id)
    )
    return list(session.scalars(stmt))


def transitions(session: Session, lease_id: int) -> list[LeaseTransition]:
    stmt = (
        select(LeaseTransition)
        .where(LeaseTransition.lease_id == lease_id)
        .order_by(LeaseTransition.id)
    )
    return list(session.scalars(stmt))


def usage_records(session: Session, lease_id: int) -> list[UsageRecord]:
    stmt = select(UsageRecord).where(UsageRecord.lease_id == lease_id).order_by(UsageRecord.id)
    return list(session.scalars(stmt))


def usage_by_external_id(session: Session, lease_id: int, external_id: str) -> UsageRecord | None:
    stmt = select(UsageRecord).where(
        UsageRecord.lease_id == lease_id, UsageRecord.external_id == external_id
    )
    return session.scalars(stmt).first()


def usage_total(session: Session, lease_id: int) -> int:
    stmt = select(func.coalesce(func.sum(UsageRecord.card_seconds), 0)).where(
        UsageRecord.lease_id == lease_id
    )
    return int(session.scalar(stmt) or 0)


def mark_usage_charged(session: Session, lease_id: int, transaction_id: int | None) -> None:
    session.execute(
        update(UsageRecord)
        .where(UsageRecord.lease_id == lease_id, UsageRecord.charge_transaction_id.is_(None))
        .values(charge_transaction_id=transaction_id)
        .execution_options(synchronize_session=False)
    )


def uncharged_usage_on_ended_leases(session: Session) -> int:
    stmt = (
        select(func.count(UsageRecord.id))
        .join(Lease, Lease.id == UsageRecord.lease_id)
        .where(
            UsageRecord.charge_transaction_id.is_(None),
            UsageRecord.card_seconds > 0,
            Lease.status.not_in(LIVE),
        )
    )
    return int(session.scalar(stmt) or 0)


def live_interruptible_allocations(session: Session) -> list[tuple[int, int, int, datetime]]:
    """``(lease_id, node_id, cards, placed_at)`` of every live lease of an interruptible
    request: the cards on-demand work may take back."""
    stmt = (
        select(Lease.id, LeaseAllocation.node_id, LeaseAllocation.cards, Lease.placed_at)
        .join(LeaseAllocation, LeaseAllocation.lease_id == Lease.id)
        .join(Request, Request.id == Lease.request_id)
        .where(Lease.status.in_(LIVE), Request.interruptible.is_(True))
        .order_by(Lease.id)
    )
    return [(int(a), int(b), int(c), d) for a, b, c, d in session.execute(stmt)]


def oversold_cards(session: Session) -> int:
    """Cards promised beyond what nodes have: per node, live allocations above its cards
    (0 on a sound exchange), plus any node whose free counter left its range."""
    held = (
        select(LeaseAllocation.node_id, func.sum(LeaseAllocation.cards).label("held"))
        .join(Lease, Lease.id == LeaseAllocation.lease_id)
        .where(Lease.status.in_(LIVE))
        .group_by(LeaseAllocation.node_id)
        .subquery()
    )
    rows = session.execute(
        select(Node.cards_total, Node.cards_free, func.coalesce(held.c.held, 0)).outerjoin(
            held, held.c.node_id == Node.id
        )
    )
    over = 0
    for total, free, taken in rows:
        over += max(0, int(taken) - int(total)) + max(0, -int(free))
    return over
