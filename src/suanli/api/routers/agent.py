"""The center agent's endpoints: heartbeats and the leases it must run. Transitions and
usage go through the lease endpoints, which are idempotent for an agent that retries."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Query
from sqlalchemy.orm import Session

from suanli.api.context import Ctx
from suanli.api.queue import schedule_placement
from suanli.exchange.agents import (
    AgentLeaseOut,
    HeartbeatIn,
    HeartbeatOut,
    agent_leases,
    heartbeat,
)
from suanli.orgs.auth import Principal

router = APIRouter(prefix="/v1/agent", tags=["agent"])


@router.post("/heartbeat", response_model=HeartbeatOut)
def beat(body: HeartbeatIn, ctx: Ctx, background: BackgroundTasks) -> HeartbeatOut:
    """The agent is alive; per pool, the cluster's own count of total and free cards."""

    def work(session: Session, principal: Principal) -> HeartbeatOut:
        return heartbeat(session, ctx.state.clock, ctx.state.settings, principal, body)

    out = ctx.run(work)
    schedule_placement(background, ctx.state)  # a center back online may take queued work
    return out


@router.get("/leases", response_model=list[AgentLeaseOut])
def leases(ctx: Ctx, center_id: int = Query(gt=0)) -> list[AgentLeaseOut]:
    """The center's live leases (placed or running), with their workloads."""
    return ctx.run(lambda s, p: agent_leases(s, p, center_id))
