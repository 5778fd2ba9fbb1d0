"""Leases: buyers and providers read them; the center's provider drives them."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Query
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from suanli.api.context import Ctx
from suanli.api.errors import errors
from suanli.api.params import PathId
from suanli.api.queue import schedule_placement
from suanli.exchange.schemas import EndIn, LeaseOut, StartIn, UsageIn, UsageOut
from suanli.exchange.service import Exchange
from suanli.exchange.views import lease_out, usage_out
from suanli.kit.bounds import Id
from suanli.orgs.auth import Principal
from suanli.store import work_repo
from suanli.vocab import LeaseStatus

router = APIRouter(prefix="/v1/leases", tags=["leases"], responses=errors(403))


def _ex(ctx: Ctx, session: Session, principal: Principal) -> Exchange:
    return Exchange(session, ctx.state.clock, ctx.state.settings, principal)


@router.get("", response_model=list[LeaseOut])
def listing(
    ctx: Ctx,
    status: LeaseStatus | None = None,
    center_id: Id | None = None,
    limit: int = Query(default=200, ge=1, le=5000),
) -> list[LeaseOut]:
    def work(session: Session, principal: Principal) -> list[LeaseOut]:
        leases = _ex(ctx, session, principal).list_leases(status, center_id, limit)
        return [lease_out(session, lease, detail=False) for lease in leases]

    return ctx.run(work)


@router.get("/{lease_id}", response_model=LeaseOut)
def get(lease_id: PathId, ctx: Ctx) -> LeaseOut:
    return ctx.run(lambda s, p: lease_out(s, _ex(ctx, s, p).get_lease(lease_id)))


@router.post("/{lease_id}/start", response_model=LeaseOut, responses=errors(409))
def start(lease_id: PathId, ctx: Ctx, body: StartIn | None = None) -> LeaseOut:
    """The center started the work (``at``: when, default now). Idempotent."""
    at = body.at if body else None
    reason = body.reason if body and body.reason else "started at the center"
    return ctx.run(lambda s, p: lease_out(s, _ex(ctx, s, p).start(lease_id, reason, at)))


@router.post("/{lease_id}/preempt", response_model=LeaseOut, responses=errors(409))
def preempt(
    lease_id: PathId, ctx: Ctx, background: BackgroundTasks, body: EndIn | None = None
) -> LeaseOut:
    """Stop interruptible work; its request goes back to the queue."""
    reason = body.reason if body and body.reason else "preempted by the center"
    out = ctx.run(lambda s, p: lease_out(s, _ex(ctx, s, p).preempt(lease_id, reason)))
    schedule_placement(background, ctx.state)
    return out


@router.post("/{lease_id}/usage", status_code=201, response_model=UsageOut, responses=errors(409))
def record_usage(lease_id: PathId, body: UsageIn, ctx: Ctx) -> JSONResponse:
    return ctx.create(body, lambda s, p: usage_out(_ex(ctx, s, p).record_usage(lease_id, body)))


@router.get("/{lease_id}/usage", response_model=list[UsageOut])
def list_usage(lease_id: PathId, ctx: Ctx) -> list[UsageOut]:
    def work(session: Session, principal: Principal) -> list[UsageOut]:
        lease = _ex(ctx, session, principal).get_lease(lease_id)
        return [usage_out(r) for r in work_repo.usage_records(session, lease.id)]

    return ctx.run(work)


@router.post("/{lease_id}/complete", response_model=LeaseOut, responses=errors(409))
def complete(
    lease_id: PathId, ctx: Ctx, background: BackgroundTasks, body: EndIn | None = None
) -> LeaseOut:
    reason = body.reason if body else ""
    out = ctx.run(lambda s, p: lease_out(s, _ex(ctx, s, p).complete(lease_id, reason)))
    schedule_placement(background, ctx.state)
    return out


@router.post("/{lease_id}/fail", response_model=LeaseOut, responses=errors(409))
def fail(
    lease_id: PathId, ctx: Ctx, background: BackgroundTasks, body: EndIn | None = None
) -> LeaseOut:
    reason = body.reason if body else ""
    out = ctx.run(lambda s, p: lease_out(s, _ex(ctx, s, p).fail(lease_id, reason)))
    schedule_placement(background, ctx.state)
    return out
