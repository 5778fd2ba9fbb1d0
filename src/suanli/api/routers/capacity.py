"""Centers, pools and the market's offer list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from suanli.api.context import Ctx
from suanli.api.errors import errors
from suanli.api.params import PathId
from suanli.api.queue import schedule_placement
from suanli.capacity.schemas import (
    MAX_CARDS_PER_NODE,
    MAX_NODES,
    MAX_PRICE_FEN,
    PRICE_DOC,
    CenterIn,
    CenterOut,
    CenterPatch,
    OfferOut,
    PoolIn,
    PoolOut,
    PoolPatch,
)
from suanli.capacity.service import CapacityService
from suanli.kit.bounds import Id, Line
from suanli.orgs.auth import Principal

router = APIRouter(prefix="/v1", tags=["capacity"], responses=errors(403))


def _svc(ctx: Ctx, session: Session, principal: Principal) -> CapacityService:
    return CapacityService(session, ctx.state.clock, principal)


@router.post("/centers", status_code=201, response_model=CenterOut, responses=errors(409))
def register_center(body: CenterIn, ctx: Ctx) -> JSONResponse:
    return ctx.create(body, lambda s, p: _svc(ctx, s, p).register_center(body))


@router.get("/centers", response_model=list[CenterOut])
def list_centers(ctx: Ctx) -> list[CenterOut]:
    return ctx.run(lambda s, p: _svc(ctx, s, p).list_centers())


@router.get("/centers/{center_id}", response_model=CenterOut)
def get_center(center_id: PathId, ctx: Ctx) -> CenterOut:
    return ctx.run(lambda s, p: _svc(ctx, s, p).get_center(center_id))


@router.patch("/centers/{center_id}", response_model=CenterOut, responses=errors(409))
def update_center(
    center_id: PathId, body: CenterPatch, ctx: Ctx, background: BackgroundTasks
) -> CenterOut:
    out = ctx.run(lambda s, p: _svc(ctx, s, p).update_center(center_id, body))
    schedule_placement(background, ctx.state)
    return out


@router.post(
    "/centers/{center_id}/pools", status_code=201, response_model=PoolOut, responses=errors(409)
)
def add_pool(
    center_id: PathId, body: PoolIn, ctx: Ctx, background: BackgroundTasks
) -> JSONResponse:
    response = ctx.create(body, lambda s, p: _svc(ctx, s, p).add_pool(center_id, body))
    schedule_placement(background, ctx.state)
    return response


@router.get("/pools", response_model=list[PoolOut], responses=errors(404))
def list_pools(ctx: Ctx, center_id: Id | None = None) -> list[PoolOut]:
    return ctx.run(lambda s, p: _svc(ctx, s, p).list_pools(center_id))


@router.get("/pools/{pool_id}", response_model=PoolOut)
def get_pool(pool_id: PathId, ctx: Ctx) -> PoolOut:
    return ctx.run(lambda s, p: _svc(ctx, s, p).get_pool(pool_id))


@router.patch("/pools/{pool_id}", response_model=PoolOut)
def update_pool(pool_id: PathId, body: PoolPatch, ctx: Ctx, background: BackgroundTasks) -> PoolOut:
    out = ctx.run(lambda s, p: _svc(ctx, s, p).update_pool(pool_id, body))
    schedule_placement(background, ctx.state)
    return out


@router.get("/offers", response_model=list[OfferOut])
def offers(
    ctx: Ctx,
    model: Annotated[Line | None, Query(max_length=32, description="catalog id")] = None,
    province: Annotated[Line | None, Query(max_length=32)] = None,
    min_free: int = Query(
        default=0, ge=0, le=MAX_NODES * MAX_CARDS_PER_NODE, description="at most 262,144"
    ),
    max_price_fen: int | None = Query(default=None, gt=0, le=MAX_PRICE_FEN, description=PRICE_DOC),
    min_memory_gb: int | None = Query(
        default=None, ge=1, le=4096, description="memory per card, GB; at most 4096"
    ),
    inter_node: Annotated[
        Line | None,
        Query(max_length=16, description="the pools' fabric: none|ethernet|roce|infiniband"),
    ] = None,
    region: Annotated[
        Line | None,
        Query(max_length=16, description="North|East|South|Central|Southwest|Northwest|Northeast"),
    ] = None,
) -> list[OfferOut]:
    return ctx.run(
        lambda s, p: _svc(ctx, s, p).offers(
            model=model,
            province=province,
            min_free=min_free,
            max_price_fen=max_price_fen,
            min_memory_gb=min_memory_gb,
            inter_node=inter_node,
            region=region,
        )
    )
