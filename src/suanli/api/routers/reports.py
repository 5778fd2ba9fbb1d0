"""Reports: utilization by province, center or accelerator model."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter
from pydantic import AwareDatetime

from suanli.api.context import Ctx
from suanli.exchange.reports import GroupBy, UtilizationReport, utilization
from suanli.vouchers.report import VoucherReport, voucher_report

router = APIRouter(prefix="/v1/reports", tags=["reports"])


@router.get("/utilization", response_model=UtilizationReport)
def utilization_report(
    ctx: Ctx,
    start: AwareDatetime | None = None,
    end: AwareDatetime | None = None,
    by: GroupBy = "province",
) -> UtilizationReport:
    """Allocated / available card-hours in ``[start, end)`` (default: the last 24 hours)."""
    until: datetime = end or ctx.state.clock.now()
    since: datetime = start or until - timedelta(days=1)
    return ctx.run(lambda s, p: utilization(s, p, since, until, by))


@router.get("/vouchers", response_model=VoucherReport)
def vouchers_report(ctx: Ctx, program_id: int | None = None) -> VoucherReport:
    """Each voucher program's budget, redemptions, promises, caps, concentration and
    prices (issuers: their own programs; the operator: all; others 403)."""
    return ctx.run(lambda s, p: voucher_report(s, ctx.state.clock, p, program_id=program_id))
