"""Utilization: allocated card-hours over available card-hours, per province, center
or accelerator model, over a window of time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel
from sqlalchemy.orm import Session

from suanli.kit.errors import ValidationError
from suanli.orgs.auth import Principal, Scope
from suanli.store import capacity_repo, work_repo
from suanli.store.models import Center, Pool

GroupBy = Literal["province", "center", "model", "total"]


class UtilizationRow(BaseModel):
    key: str
    cards: int
    available_card_hours: Decimal
    allocated_card_hours: Decimal
    utilization: Decimal


class UtilizationReport(BaseModel):
    start: datetime
    end: datetime
    by: str
    rows: list[UtilizationRow]
    total: UtilizationRow


@dataclass
class _Acc:
    cards: int = 0
    available_s: int = 0
    allocated_s: int = 0


def _overlap(a0: datetime, a1: datetime, b0: datetime, b1: datetime) -> int:
    return max(0, int((min(a1, b1) - max(a0, b0)).total_seconds()))


def _key(by: GroupBy, pool: Pool, center: Center) -> str:
    if by == "province":
        return center.province
    if by == "center":
        return f"{center.id} {center.name}"
    if by == "model":
        return pool.model
    return "total"


def _row(key: str, acc: _Acc) -> UtilizationRow:
    available = Decimal(acc.available_s) / 3600
    allocated = Decimal(acc.allocated_s) / 3600
    ratio = Decimal(acc.allocated_s) / acc.available_s if acc.available_s else Decimal(0)
    return UtilizationRow(
        key=key,
        cards=acc.cards,
        available_card_hours=available.quantize(Decimal("0.01")),
        allocated_card_hours=allocated.quantize(Decimal("0.01")),
        utilization=ratio.quantize(Decimal("0.0001")),
    )


def utilization(
    session: Session,
    principal: Principal | None,
    start: datetime,
    end: datetime,
    by: GroupBy = "province",
) -> UtilizationReport:
    """Card-hours allocated to leases / card-hours listed, within ``[start, end)``.

    A pool's cards count as available from its listing onwards; a lease's cards count
    as allocated from placement until it ends (or ``end``). Providers see their own
    centers; the operator and issuers see the whole exchange.
    """
    if principal is not None:
        principal.require(Scope.REPORTS_READ)
    if end <= start:
        raise ValidationError("the report window must end after it starts")
    owner = principal.org_id if principal is not None and principal.role == "provider" else None
    centers = {c.id: c for c in capacity_repo.centers(session, owner)}
    pools = {p.id: p for p in capacity_repo.pools(session, provider_id=owner)}
    groups: dict[str, _Acc] = {}
    total = _Acc()
    for pool in pools.values():
        center = centers[pool.center_id]
        cards = pool.nodes * pool.cards_per_node
        seconds = cards * _overlap(pool.created_at, end, start, end)
        acc = groups.setdefault(_key(by, pool, center), _Acc())
        acc.cards += cards
        acc.available_s += seconds
        total.cards += cards
        total.available_s += seconds
    for lease in work_repo.leases_overlapping(session, start, end):
        pool_or_none = pools.get(lease.pool_id)
        if pool_or_none is None:
            continue
        ended = lease.ended_at or end
        seconds = lease.cards * _overlap(lease.placed_at, ended, start, end)
        groups[_key(by, pool_or_none, centers[pool_or_none.center_id])].allocated_s += seconds
        total.allocated_s += seconds
    rows = [_row(k, v) for k, v in sorted(groups.items())]
    return UtilizationReport(start=start, end=end, by=by, rows=rows, total=_row("total", total))
