"""The overview: centers, cards, compute, allocation, the queue and utilization, now.

One call for the console's front page: national totals for issuers and the operator,
the provider's own centers for a provider, and the same figures per province.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy.orm import Session

from suanli import catalog
from suanli.exchange.access import report_owner
from suanli.exchange.reports import utilization
from suanli.kit.clock import Clock
from suanli.orgs.auth import Principal
from suanli.store import capacity_repo, market_repo
from suanli.vocab import CenterStatus

DAY = timedelta(days=1)


class ProvinceOverview(BaseModel):
    province: str
    centers: int
    cards: int
    allocated_cards: int
    utilization_24h: Decimal


class Overview(BaseModel):
    at: datetime
    centers: int
    active_centers: int
    provinces: int
    cards: int
    scu_per_hour: Decimal
    allocated_cards: int
    idle_cards: int
    queued_requests: int
    unmet_cards: int
    utilization_24h: Decimal
    by_province: list[ProvinceOverview]


@dataclass
class _Province:
    centers: int = 0
    cards: int = 0
    allocated: int = 0


def overview(session: Session, clock: Clock, principal: Principal | None) -> Overview:
    """Totals over the centers the caller may see (see the module docstring).

    * ``centers``: every center, whatever its status; ``active_centers``: those whose
      status is ``active`` (accepting work), from the center's status field.
    * ``cards`` and ``scu_per_hour``: every pool of those centers (listed cards, as the
      utilization report counts them); SCU per hour is ``cards x fp16_tflops / 100``.
    * ``allocated_cards``: cards held by live leases (pending, placed, running) now;
      ``idle_cards`` the rest (never below zero).
    * ``queued_requests`` / ``unmet_cards``: every queued request and its cards,
      market-wide for every role (the queue is the market's, not a center's).
    * ``utilization_24h``: the total of ``/v1/reports/utilization`` over the last 24 h;
      per province, that report's province row (0 for a province without pools).
    """
    owner = report_owner(principal, "the overview")
    now = clock.now()
    centers = {c.id: c for c in capacity_repo.centers(session, owner)}
    pools = capacity_repo.pools(session, provider_id=owner)
    live = market_repo.live_cards_by_pool(session)
    provinces: dict[str, _Province] = {}
    for center in centers.values():
        provinces.setdefault(center.province, _Province()).centers += 1
    scu = Decimal(0)
    for pool in pools:
        cards = pool.nodes * pool.cards_per_node
        scu += cards * catalog.get(pool.model).scu_per_card_hour
        row = provinces[centers[pool.center_id].province]
        row.cards += cards
        row.allocated += live.get(pool.id, 0)
    report = utilization(session, principal, now - DAY, now, "province")
    ratios = {row.key: row.utilization for row in report.rows}
    cards = sum(p.cards for p in provinces.values())
    allocated = sum(p.allocated for p in provinces.values())
    queued, unmet = market_repo.queued_totals(session)
    return Overview(
        at=now,
        centers=len(centers),
        active_centers=sum(c.status is CenterStatus.ACTIVE for c in centers.values()),
        provinces=len(provinces),
        cards=cards,
        scu_per_hour=scu,
        allocated_cards=allocated,
        idle_cards=max(cards - allocated, 0),
        queued_requests=queued,
        unmet_cards=unmet,
        utilization_24h=report.total.utilization,
        by_province=[
            ProvinceOverview(
                province=name,
                centers=p.centers,
                cards=p.cards,
                allocated_cards=p.allocated,
                utilization_24h=ratios.get(name, Decimal("0.0000")),
            )
            for name, p in sorted(provinces.items())
        ],
    )
