"""Utilization over time: allocated / available card-hours per bucket of a window.

The definitions are those of :func:`suanli.exchange.reports.utilization` (a pool's
cards are available from its listing on; a lease's cards are allocated from placement
until it ends), applied to each bucket ``[start + i x step, start + (i+1) x step)``; the
last bucket ends at ``end`` and may be shorter. The same visibility too: providers see
their own centers, issuers and the operator the whole exchange, buyers nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy.orm import Session

from suanli.exchange.access import report_owner
from suanli.kit.errors import ValidationError
from suanli.orgs.auth import Principal
from suanli.store import capacity_repo, work_repo

MIN_STEP_S = 60
MAX_BUCKETS = 2000


class SeriesPoint(BaseModel):
    start: datetime
    end: datetime
    available_card_hours: Decimal
    allocated_card_hours: Decimal
    utilization: Decimal


class UtilizationSeries(BaseModel):
    start: datetime
    end: datetime
    step_s: int
    points: list[SeriesPoint]


def buckets(start: datetime, end: datetime, step_s: int) -> list[tuple[datetime, datetime]]:
    """``[start, end)`` cut into steps of ``step_s`` seconds (the last may be shorter).

    422 for an empty window, a step under a minute or more than 2000 buckets."""
    if end <= start:
        raise ValidationError("the window must end after it starts")
    if step_s < MIN_STEP_S:
        raise ValidationError(f"step_s must be at least {MIN_STEP_S} seconds, got {step_s}")
    span = (end - start).total_seconds()
    count = int(-(-span // step_s))
    if count > MAX_BUCKETS:
        raise ValidationError(
            f"{count} buckets of {step_s} s is more than {MAX_BUCKETS}: "
            f"use a larger step_s (at least {int(-(-span // MAX_BUCKETS))}) or a shorter window"
        )
    step = timedelta(seconds=step_s)
    return [(start + i * step, min(start + (i + 1) * step, end)) for i in range(count)]


def _overlap_s(a0: datetime, a1: datetime, b0: datetime, b1: datetime) -> int:
    return max(0, int((min(a1, b1) - max(a0, b0)).total_seconds()))


def _point(start: datetime, end: datetime, available_s: int, allocated_s: int) -> SeriesPoint:
    ratio = Decimal(allocated_s) / available_s if available_s else Decimal(0)
    return SeriesPoint(
        start=start,
        end=end,
        available_card_hours=(Decimal(available_s) / 3600).quantize(Decimal("0.01")),
        allocated_card_hours=(Decimal(allocated_s) / 3600).quantize(Decimal("0.01")),
        utilization=ratio.quantize(Decimal("0.0001")),
    )


def utilization_series(
    session: Session,
    principal: Principal | None,
    start: datetime,
    end: datetime,
    step_s: int = 3600,
) -> UtilizationSeries:
    """Allocated / available card-hours per bucket (see the module docstring)."""
    owner = report_owner(principal, "the utilization series")
    windows = buckets(start, end, step_s)
    pools = {p.id: p for p in capacity_repo.pools(session, provider_id=owner)}
    listed = [(p.created_at, p.nodes * p.cards_per_node) for p in pools.values()]
    held = [
        (lease.placed_at, lease.ended_at or end, lease.cards)
        for lease in work_repo.leases_overlapping(session, start, end)
        if lease.pool_id in pools
    ]
    points = []
    for b0, b1 in windows:
        available = sum(cards * _overlap_s(since, end, b0, b1) for since, cards in listed)
        allocated = sum(cards * _overlap_s(t0, t1, b0, b1) for t0, t1, cards in held)
        points.append(_point(b0, b1, available, allocated))
    return UtilizationSeries(start=start, end=end, step_s=step_s, points=points)
