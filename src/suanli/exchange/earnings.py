"""Earnings over time: what providers' leases earned, per bucket of a window.

Revenue is what the provider statement counts as the provider's net
(:mod:`suanli.billing.statements`, from the same repository calls): for each lease at
the provider's centers that ended in the bucket, the EARNINGS posting of its CAPTURE
transaction, i.e. the charge less the platform fee, the voucher-funded part included
(captured when the lease settled, at its ``ended_at``). A lease with nothing metered
earned 0. Card-hours are those leases' metered card-hours. So the buckets of a month add
up to that month's statement ``net_fen`` (and ``gross_fen`` to its ``gross_fen``);
adjustments to the earnings account (a voucher clawed back) and payouts are not revenue.

Providers see their own earnings; the operator everyone's (or one provider's with
``provider_id``); other roles are refused.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy.orm import Session

from suanli.billing.schemas import card_hours
from suanli.billing.statements import provider_of
from suanli.exchange.series import buckets
from suanli.kit.errors import PermissionDeniedError
from suanli.orgs.auth import Principal
from suanli.store import billing_repo, orgs_repo
from suanli.store.models import Lease
from suanli.vocab import OrgRole


class EarningsPoint(BaseModel):
    start: datetime
    end: datetime
    revenue_fen: int
    card_hours: Decimal
    gross_fen: int = 0
    """The leases' charges before the platform fee."""
    leases: int = 0


class EarningsSeries(BaseModel):
    start: datetime
    end: datetime
    step_s: int
    provider_id: int | None
    """The provider these earnings are of; None: every provider (the operator's view)."""
    total_fen: int
    total_gross_fen: int = 0
    points: list[EarningsPoint]


def _providers(session: Session, principal: Principal | None, asked: int | None) -> list[int]:
    p = principal
    if p is not None and p.role not in (OrgRole.PROVIDER, OrgRole.OPERATOR):
        raise PermissionDeniedError(
            f"earnings are for providers (their own) and the operator; a {p.role} key may "
            "not read them"
        )
    if asked is None and (p is None or p.is_operator):
        return [org.id for org in orgs_repo.listing(session, OrgRole.PROVIDER)]
    return [provider_of(session, p, asked)]


def earnings_series(
    session: Session,
    principal: Principal | None,
    start: datetime,
    end: datetime,
    step_s: int = 3600,
    provider_id: int | None = None,
) -> EarningsSeries:
    """Revenue and card-hours per bucket (see the module docstring)."""
    providers = _providers(session, principal, provider_id)
    everyone = provider_id is None and (principal is None or principal.is_operator)
    windows = buckets(start, end, step_s)
    ended: list[tuple[Lease, int, int]] = []  # lease, net fen, metered card-seconds
    for provider in providers:
        leases = billing_repo.provider_leases(session, provider, start, end)
        ids = [lease.id for lease in leases]
        splits = billing_repo.capture_splits(session, ids, provider)
        usage = billing_repo.usage_totals(session, ids)
        for lease in leases:
            split = splits.get(lease.id)
            ended.append((lease, split.provider_fen if split else 0, usage[lease.id]))
    step = windows[0][1] - windows[0][0]
    sums = [[0, 0, 0, 0] for _ in windows]  # net, gross, card-seconds, leases
    for lease, net, seconds in ended:
        assert lease.ended_at is not None
        acc = sums[(lease.ended_at - start) // step]
        acc[0] += net
        acc[1] += lease.charged_fen
        acc[2] += seconds
        acc[3] += 1
    points = [
        EarningsPoint(
            start=b0,
            end=b1,
            revenue_fen=net,
            card_hours=card_hours(seconds),
            gross_fen=gross,
            leases=count,
        )
        for (b0, b1), (net, gross, seconds, count) in zip(windows, sums, strict=True)
    ]
    return EarningsSeries(
        start=start,
        end=end,
        step_s=step_s,
        provider_id=None if everyone else providers[0],
        total_fen=sum(p.revenue_fen for p in points),
        total_gross_fen=sum(p.gross_fen for p in points),
        points=points,
    )
