"""Driving the live exchange's queue through the services (no HTTP): submit requests,
finish leases, read what was placed where."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from suanli.exchange.schemas import RequestIn
from suanli.exchange.service import Exchange
from suanli.kit.clock import ManualClock
from suanli.orgs.auth import Principal
from suanli.settings import Settings
from suanli.store import Database
from suanli.store.models import Lease, LeaseAllocation, Node, Request
from suanli.vocab import OrgRole, RequestStatus

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def submit(db: Database, clock: ManualClock, buyer: int, **fields: Any) -> int:
    """A buyer's request (tried at once); its id."""
    fields.setdefault("duration_s", 3600)
    with db.transaction() as session:
        exchange = Exchange(session, clock, Settings(), Principal(buyer, OrgRole.BUYER))
        return exchange.submit(RequestIn(**fields)).id


def finish(db: Database, clock: ManualClock, lease_id: int) -> None:
    """The center started the lease when it was placed and it has just ended."""
    with db.transaction() as session:
        exchange = Exchange(session, clock, Settings())
        lease = exchange.get_lease(lease_id)
        exchange.start(lease_id, at=lease.placed_at)
        exchange.complete(lease_id)


def status(db: Database, request_id: int) -> RequestStatus:
    with db.transaction() as session:
        request = session.get(Request, request_id)
        assert request is not None
        return request.status


def updated_at(db: Database, request_id: int) -> datetime:
    with db.transaction() as session:
        request = session.get(Request, request_id)
        assert request is not None
        return request.updated_at


def lease_of(db: Database, request_id: int) -> int:
    """The request's latest lease."""
    with db.transaction() as session:
        found = session.scalars(
            select(Lease.id).where(Lease.request_id == request_id).order_by(Lease.id.desc())
        ).first()
        assert found is not None, f"request {request_id} has no lease"
        return found


Placed = tuple[int, int, int, tuple[tuple[int, int], ...]]


def leases_after(db: Database, lease_id: int) -> list[Placed]:
    """Leases with a larger id, in order: ``(lease, request, duration, ((node index, cards),
    ...))``, nodes by their index in the pool."""
    with db.transaction() as session:
        leases = session.execute(
            select(Lease.id, Lease.request_id, Lease.duration_s)
            .where(Lease.id > lease_id)
            .order_by(Lease.id)
        ).all()
        out = []
        for lid, rid, duration in leases:
            nodes = session.execute(
                select(Node.index, LeaseAllocation.cards)
                .join(Node, Node.id == LeaseAllocation.node_id)
                .where(LeaseAllocation.lease_id == lid)
                .order_by(Node.index)
            ).all()
            spread = tuple((int(n), int(c)) for n, c in nodes)
            out.append((int(lid), int(rid), int(duration), spread))
        return out
