"""SQL for the market reports: live leases, the queue, recent placements.

Read-only sums and rows for :mod:`suanli.exchange.overview` and
:mod:`suanli.exchange.prices`; the rules (who sees what, how it is averaged) live there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from suanli.store.models import Lease, Request
from suanli.store.work_repo import LIVE
from suanli.vocab import RequestStatus


def live_cards_by_pool(session: Session) -> dict[int, int]:
    """Cards held by live leases (pending, placed, running) right now, per pool."""
    stmt = (
        select(Lease.pool_id, func.sum(Lease.cards))
        .where(Lease.status.in_(LIVE))
        .group_by(Lease.pool_id)
    )
    return {int(pool_id): int(cards) for pool_id, cards in session.execute(stmt)}


def queued_totals(session: Session) -> tuple[int, int]:
    """``(requests, cards)`` over every queued request, market-wide."""
    stmt = select(func.count(Request.id), func.coalesce(func.sum(Request.cards), 0)).where(
        Request.status == RequestStatus.QUEUED
    )
    row = session.execute(stmt).one()
    return int(row[0] or 0), int(row[1] or 0)


@dataclass(frozen=True, slots=True)
class Placed:
    """One lease placed in a window: its model, cards and price per card-hour."""

    model: str
    cards: int
    price_fen: int


def placed_between(session: Session, start: datetime, end: datetime) -> list[Placed]:
    """Leases placed in ``[start, end)``, whatever became of them since."""
    stmt = select(Lease.model, Lease.cards, Lease.price_fen).where(
        Lease.placed_at >= start, Lease.placed_at < end
    )
    return [Placed(model, int(cards), int(price)) for model, cards, price in session.execute(stmt)]
