"""The center agent's endpoints: heartbeats and the leases it must run. Transitions and
usage go through the lease endpoints, which are idempotent for an agent that retries.

A heartbeat's body is :class:`suanli.exchange.agents.HeartbeatIn` with every id and name
bounded at this edge (:mod:`suanli.kit.bounds`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query
from pydantic import Field
from sqlalchemy.orm import Session

from suanli.api.context import Ctx
from suanli.api.errors import errors
from suanli.api.queue import schedule_placement
from suanli.exchange import agents
from suanli.exchange.agents import AgentLeaseOut, HeartbeatOut, agent_leases, heartbeat
from suanli.kit.bounds import Id, Line
from suanli.orgs.auth import Principal

router = APIRouter(prefix="/v1/agent", tags=["agent"], responses=errors(403, 404))


class PoolCapacityIn(agents.PoolCapacityIn):
    pool_id: Id
    total_cards: int = Field(ge=0, le=1_000_000, description="at most 1,000,000")
    free_cards: int = Field(ge=0, le=1_000_000, description="at most 1,000,000")


class HeartbeatIn(agents.HeartbeatIn):
    center_id: Id
    driver: Line = Field(min_length=1, max_length=16, description="slurm, kubernetes or local")
    # A list of the bounded pools, which are the service's pools: the list's type is
    # narrower than the base's, which mypy (lists being invariant) cannot know is safe here.
    pools: list[PoolCapacityIn] = Field(  # type: ignore[assignment]
        default_factory=list, max_length=1000, description="at most 1000 pools"
    )


@router.post("/heartbeat", response_model=HeartbeatOut)
def beat(body: HeartbeatIn, ctx: Ctx, background: BackgroundTasks) -> HeartbeatOut:
    """The agent is alive; per pool, the cluster's own count of total and free cards."""

    def work(session: Session, principal: Principal) -> HeartbeatOut:
        return heartbeat(session, ctx.state.clock, ctx.state.settings, principal, body)

    out = ctx.run(work)
    schedule_placement(background, ctx.state)  # a center back online may take queued work
    return out


@router.get("/leases", response_model=list[AgentLeaseOut])
def leases(ctx: Ctx, center_id: Annotated[Id, Query()]) -> list[AgentLeaseOut]:
    """The center's live leases (placed or running), with their workloads."""
    return ctx.run(lambda s, p: agent_leases(s, p, center_id))
