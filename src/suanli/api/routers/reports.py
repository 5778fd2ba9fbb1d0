"""Reports: utilization by province, center or accelerator model; the overview; series
of utilization and earnings; the price index; voucher programs."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from suanli.api.context import Ctx
from suanli.api.errors import errors
from suanli.exchange.earnings import EarningsSeries, earnings_series
from suanli.exchange.overview import Overview, overview
from suanli.exchange.prices import PriceIndex, price_index
from suanli.exchange.reports import GroupBy, UtilizationReport, utilization
from suanli.exchange.series import UtilizationSeries, utilization_series
from suanli.kit.bounds import Id, Instant
from suanli.vouchers.report import VoucherReport, voucher_report

router = APIRouter(prefix="/v1/reports", tags=["reports"], responses=errors(403))

MAX_STEP_S = 10 * 366 * 24 * 3600
STEP_S = Query(
    default=3600,
    le=MAX_STEP_S,
    description="bucket length in seconds (at least 60, at most ten years; 2000 buckets)",
)


def _window(ctx: Ctx, start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    """``[start, end)``, by default the 24 hours up to now."""
    until: datetime = end or ctx.state.clock.now()
    since: datetime = start or until - timedelta(days=1)
    return since, until


@router.get("/utilization", response_model=UtilizationReport)
def utilization_report(
    ctx: Ctx,
    start: Instant | None = None,
    end: Instant | None = None,
    by: GroupBy = "province",
) -> UtilizationReport:
    """Allocated / available card-hours in ``[start, end)`` (default: the last 24 hours)."""
    since, until = _window(ctx, start, end)
    return ctx.run(lambda s, p: utilization(s, p, since, until, by))


@router.get("/utilization/series", response_model=UtilizationSeries)
def utilization_series_report(
    ctx: Ctx,
    start: Instant | None = None,
    end: Instant | None = None,
    step_s: int = STEP_S,
) -> UtilizationSeries:
    """Allocated / available card-hours per bucket of ``step_s`` seconds in
    ``[start, end)`` (default: the last 24 hours by the hour); the last bucket may be
    shorter. Same definitions and visibility as ``/v1/reports/utilization``."""
    since, until = _window(ctx, start, end)
    return ctx.run(lambda s, p: utilization_series(s, p, since, until, step_s))


@router.get("/overview", response_model=Overview)
def overview_report(ctx: Ctx) -> Overview:
    """Centers, cards, SCU, allocation, the queue and 24-hour utilization, now, in total
    and per province (issuers and the operator: the exchange; providers: their own
    centers; buyers 403)."""
    return ctx.run(lambda s, p: overview(s, ctx.state.clock, p))


@router.get("/prices", response_model=PriceIndex)
def prices_report(ctx: Ctx) -> PriceIndex:
    """The price index per accelerator model: list prices of active pools (card-weighted
    mean, min, max, per SCU) and the mean price of leases placed in the last 24 hours.
    Market data: any key may read it."""
    return ctx.run(lambda s, p: price_index(s, ctx.state.clock, p))


@router.get("/earnings", response_model=EarningsSeries, responses=errors(404))
def earnings_report(
    ctx: Ctx,
    start: Instant | None = None,
    end: Instant | None = None,
    step_s: int = STEP_S,
    provider_id: Annotated[Id | None, Query(description="operator: one provider only")] = None,
) -> EarningsSeries:
    """What leases earned their providers per bucket (the provider statement's net: the
    capture's posting to the provider's earnings, by the lease's end); providers their
    own, the operator all providers (or one); others 403."""
    since, until = _window(ctx, start, end)
    return ctx.run(lambda s, p: earnings_series(s, p, since, until, step_s, provider_id))


@router.get("/vouchers", response_model=VoucherReport, responses=errors(404))
def vouchers_report(ctx: Ctx, program_id: Id | None = None) -> VoucherReport:
    """Each voucher program's budget, redemptions, promises, caps, concentration and
    prices (issuers: their own programs; the operator: all; others 403)."""
    return ctx.run(lambda s, p: voucher_report(s, ctx.state.clock, p, program_id=program_id))
