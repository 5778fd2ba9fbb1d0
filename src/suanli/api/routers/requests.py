"""Buyers' requests: submit, list, read, cancel; and quotes (``POST /v1/quotes``, on
``quotes_router``): what a request would get if submitted now, writing nothing."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Query
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from suanli.api.context import Ctx
from suanli.api.errors import errors
from suanli.api.params import PathId
from suanli.api.queue import schedule_placement
from suanli.exchange.quotes import Quote, quote
from suanli.exchange.schemas import EndIn, RequestIn, RequestOut
from suanli.exchange.service import Exchange
from suanli.exchange.views import NO_LEASE, request_out, requests_out
from suanli.orgs.auth import Principal
from suanli.vocab import RequestStatus

router = APIRouter(prefix="/v1/requests", tags=["requests"], responses=errors(403))
quotes_router = APIRouter(prefix="/v1/quotes", tags=["requests"], responses=errors(403))


def _ex(ctx: Ctx, session: Session, principal: Principal) -> Exchange:
    return Exchange(session, ctx.state.clock, ctx.state.settings, principal)


@router.post("", status_code=201, response_model=RequestOut, responses=errors(402))
def submit(body: RequestIn, ctx: Ctx) -> JSONResponse:
    """Submit a request; it is placed at once if it fits, else queued with reasons."""

    def work(session: Session, principal: Principal) -> RequestOut:
        exchange = _ex(ctx, session, principal)
        request = exchange.submit(body)
        # a new request has no lease but the one it may just have been placed on
        return request_out(session, request, exchange.placed.get(request.id, NO_LEASE))

    return ctx.create(body, work)


@router.get("", response_model=list[RequestOut])
def listing(
    ctx: Ctx,
    status: RequestStatus | None = None,
    limit: int = Query(default=200, ge=1, le=5000),
) -> list[RequestOut]:
    return ctx.run(
        lambda s, p: requests_out(s, _ex(ctx, s, p).list_requests(status=status, limit=limit))
    )


@router.get("/{request_id}", response_model=RequestOut)
def get(request_id: PathId, ctx: Ctx) -> RequestOut:
    return ctx.run(lambda s, p: request_out(s, _ex(ctx, s, p).get_request(request_id)))


@router.post("/{request_id}/cancel", response_model=RequestOut, responses=errors(409))
def cancel(
    request_id: PathId, ctx: Ctx, background: BackgroundTasks, body: EndIn | None = None
) -> JSONResponse:
    """Withdraw a request (a live lease ends, paying only for metered use). A retry with
    the same ``Idempotency-Key`` answers what the first call did; a new call on a
    cancelled request is 409."""
    reason = body.reason if body and body.reason else "cancelled by the buyer"

    def work(session: Session, principal: Principal) -> RequestOut:
        return request_out(session, _ex(ctx, session, principal).cancel(request_id, reason))

    out = ctx.create(body, work, status_code=200)
    schedule_placement(background, ctx.state)
    return out


@quotes_router.post("", response_model=Quote)
def quote_request(body: RequestIn, ctx: Ctx) -> Quote:
    """Where the engine would place this request now and what it would cost, at list
    price and after the buyer's voucher grants (buyers only; nothing is stored)."""
    return ctx.run(lambda s, p: quote(s, ctx.state.clock, ctx.state.settings, p, body))
