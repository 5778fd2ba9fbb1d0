"""The exchange's side of the center agents: heartbeats, the leases an agent must run,
and what happens when an agent falls silent.

* A heartbeat says the center's agent is alive, which driver it runs and, per pool, how
  many cards the cluster itself counts free (placement never offers more). A center the
  exchange took offline for silence comes back with its next heartbeat.
* :func:`sweep_silent_centers` (run by the server's ticker) takes a center offline once
  its agent has been silent for longer than ``Settings.agent_timeout_s``. Its leases
  that have not started go back to the queue (and so to other centers); its running
  interruptible leases are preempted and requeued (metered use is charged, the workload
  keeps its checkpoint directory). Running on-demand leases are left alone: the work may
  well be running and the agent will report it when it is back.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from suanli.exchange.service import Exchange
from suanli.kit.clock import Clock
from suanli.kit.errors import NotFoundError, ValidationError
from suanli.orgs.auth import Principal, Scope
from suanli.settings import Settings
from suanli.store import capacity_repo, orgs_repo, work_repo
from suanli.store.models import Center, Lease, Pool
from suanli.vocab import CenterStatus, LeaseStatus


class PoolCapacityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pool_id: int = Field(gt=0)
    total_cards: int = Field(ge=0, le=1_000_000)
    free_cards: int = Field(ge=0, le=1_000_000)


class HeartbeatIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    center_id: int = Field(gt=0)
    driver: str = Field(min_length=1, max_length=16)
    pools: list[PoolCapacityIn] = Field(default_factory=list, max_length=1000)


class HeartbeatOut(BaseModel):
    center_id: int
    status: CenterStatus
    server_time: datetime
    timeout_s: int
    exchange_id: str = Field(
        description="this exchange's stable id: agents put it in job names, so jobs of "
        "another exchange (or of an earlier database) are never mistaken for ours"
    )


class AgentLeaseOut(BaseModel):
    """A live lease as the agent needs it: what to run, on how much, for how long."""

    lease_id: int
    request_id: int
    status: LeaseStatus
    pool_id: int
    model: str
    cards: int
    nodes: int
    duration_s: int
    placed_at: datetime
    started_at: datetime | None
    interruptible: bool
    attempt: int
    workload: dict[str, Any]


EXCHANGE_ID = "exchange_id"


def exchange_id(session: Session) -> str:
    """The exchange's stable id (8 hex digits), made on first use."""
    found = orgs_repo.get_meta(session, EXCHANGE_ID)
    if found is not None:
        return found
    made = secrets.token_hex(4)
    try:
        with session.begin_nested():
            orgs_repo.set_meta(session, EXCHANGE_ID, made)
            session.flush()
    except IntegrityError:  # another transaction made it first
        found = orgs_repo.get_meta(session, EXCHANGE_ID)
        assert found is not None
        return found
    return made


def _center_of(session: Session, principal: Principal, center_id: int) -> Center:
    principal.require(Scope.LEASES_OPERATE)
    center = capacity_repo.center(session, center_id)
    if center is None or (not principal.is_operator and center.provider_id != principal.org_id):
        raise NotFoundError("center", center_id)
    return center


def heartbeat(
    session: Session, clock: Clock, settings: Settings, principal: Principal, data: HeartbeatIn
) -> HeartbeatOut:
    center = _center_of(session, principal, data.center_id)
    now = clock.now()
    for report in data.pools:
        pool = session.get(Pool, report.pool_id)
        if pool is None or pool.center_id != center.id:
            raise ValidationError(f"pool {report.pool_id} is not a pool of center {center.id}")
        if report.free_cards > report.total_cards:
            raise ValidationError(
                f"pool {report.pool_id}: {report.free_cards} free cards is more than "
                f"the {report.total_cards} in all"
            )
    for report in data.pools:
        pool = session.get(Pool, report.pool_id)
        assert pool is not None
        if pool.reported_free_cards != report.free_cards:
            capacity_repo.changed(session, (pool.id,))
        pool.reported_total_cards = report.total_cards
        pool.reported_free_cards = report.free_cards
        pool.capacity_reported_at = now
    center.last_heartbeat_at = now
    center.agent_driver = data.driver
    if center.status is CenterStatus.OFFLINE and center.offline_reason is not None:
        center.status = CenterStatus.ACTIVE
        center.offline_reason = None
        capacity_repo.changed(session, (), structure=True)
    return HeartbeatOut(
        center_id=center.id,
        status=center.status,
        server_time=now,
        timeout_s=settings.agent_timeout_s,
        exchange_id=exchange_id(session),
    )


def agent_leases(session: Session, principal: Principal, center_id: int) -> list[AgentLeaseOut]:
    """The center's live leases, oldest first."""
    center = _center_of(session, principal, center_id)
    stmt = (
        select(Lease)
        .where(
            Lease.center_id == center.id,
            Lease.status.in_((LeaseStatus.PENDING, LeaseStatus.PLACED, LeaseStatus.RUNNING)),
        )
        .order_by(Lease.id)
    )
    out = []
    for lease in session.scalars(stmt):
        request = work_repo.request(session, lease.request_id)
        assert request is not None
        out.append(
            AgentLeaseOut(
                lease_id=lease.id,
                request_id=lease.request_id,
                status=lease.status,
                pool_id=lease.pool_id,
                model=lease.model,
                cards=lease.cards,
                nodes=max(1, len(work_repo.allocations(session, lease.id))),
                duration_s=lease.duration_s,
                placed_at=lease.placed_at,
                started_at=lease.started_at,
                interruptible=request.interruptible,
                attempt=request.attempts,
                workload=dict(request.workload or {}),
            )
        )
    return out


def sweep_silent_centers(session: Session, clock: Clock, settings: Settings) -> list[int]:
    """Take centers whose agent fell silent offline and move their work (see above).
    Returns the ids of the centers taken offline."""
    now = clock.now()
    limit = now - timedelta(seconds=settings.agent_timeout_s)
    stmt = (
        select(Center)
        .where(
            Center.status == CenterStatus.ACTIVE,
            Center.last_heartbeat_at.is_not(None),
            Center.last_heartbeat_at < limit,
        )
        .order_by(Center.id)
        .with_for_update(skip_locked=True)
    )
    silent = list(session.scalars(stmt))
    exchange = Exchange(session, clock, settings)
    for center in silent:
        assert center.last_heartbeat_at is not None
        quiet = int((now - center.last_heartbeat_at).total_seconds())
        reason = f"center {center.name} unavailable: its agent has been silent for {quiet} s"
        center.status = CenterStatus.OFFLINE
        center.offline_reason = reason
        capacity_repo.changed(session, (), structure=True)
        _move_work(session, exchange, center, reason)
    return [c.id for c in silent]


def _move_work(session: Session, exchange: Exchange, center: Center, reason: str) -> None:
    stmt = (
        select(Lease.id)
        .where(
            Lease.center_id == center.id,
            Lease.status.in_((LeaseStatus.PENDING, LeaseStatus.PLACED, LeaseStatus.RUNNING)),
        )
        .order_by(Lease.id)
    )
    for lease_id in list(session.scalars(stmt)):
        found = work_repo.lease(session, lease_id)
        assert found is not None
        work_repo.request(session, found.request_id, lock=True)  # lock order: request first
        lease = work_repo.lease(session, lease_id, lock=True)
        assert lease is not None
        if lease.status is LeaseStatus.RUNNING:
            request = work_repo.request(session, lease.request_id)
            if request is None or not request.interruptible:
                continue
            exchange.requeue(lease, LeaseStatus.PREEMPTED, reason)
        else:
            exchange.requeue(lease, LeaseStatus.CANCELLED, f"{reason}; moved back to the queue")
