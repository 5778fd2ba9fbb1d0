"""The price index per accelerator model: list prices now, prices paid lately.

Market data: anyone with a key may read it. List prices are those of active pools at
active centers (what :func:`suanli.store.capacity_repo.list_prices` covers, the index
the voucher report and the anomaly flags compare against); paid prices are those of
leases placed in the last 24 hours, wherever they are now.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from pydantic import BaseModel
from sqlalchemy.orm import Session

from suanli import catalog
from suanli.kit.clock import Clock
from suanli.orgs.auth import Principal, Scope
from suanli.store import capacity_repo, market_repo
from suanli.vocab import CenterStatus

DAY = timedelta(days=1)


class ModelPrice(BaseModel):
    model: str
    pools: int
    cards: int
    cards_free: int
    min_price_fen: int
    max_price_fen: int
    mean_price_fen: int
    paid_mean_price_fen: int | None
    fen_per_scu: int | None
    paid_cards: int = 0
    """Cards of the leases placed in the last 24 h that ``paid_mean_price_fen`` averages."""


class PriceIndex(BaseModel):
    at: datetime
    models: list[ModelPrice]


def index_fen(value: Decimal) -> int:
    """An index figure (a mean price, a price per SCU) to whole fen, half up.

    Half-up, not the ledger's half-even (:func:`suanli.kit.money.round_fen`): these are
    single published figures, not many charges whose rounding errors should cancel, and
    half-up is how people round a published price."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass
class _Weighted:
    total: int = 0
    weight: int = 0

    def add(self, value: int, weight: int) -> None:
        self.total += value * weight
        self.weight += weight

    def mean(self) -> int | None:
        return index_fen(Decimal(self.total) / self.weight) if self.weight else None


def price_index(session: Session, clock: Clock, principal: Principal | None) -> PriceIndex:
    """One row per accelerator model listed now, sorted by model.

    ``mean_price_fen`` weighs each pool's list price by its cards; ``paid_mean_price_fen``
    each lease placed in the last 24 h by its cards (None without such leases);
    ``fen_per_scu`` is ``mean_price_fen / (fp16_tflops / 100)``, half up."""
    if principal is not None:
        principal.require(Scope.CAPACITY_READ)
    now = clock.now()
    centers = {c.id: c for c in capacity_repo.centers(session)}
    pools = [
        p
        for p in capacity_repo.pools(session)
        if p.active and centers[p.center_id].status is CenterStatus.ACTIVE
    ]
    free = capacity_repo.free_by_pool(session, [p.id for p in pools])
    by_model: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
    for p in pools:
        by_model[p.model].append((p.price_fen, p.nodes * p.cards_per_node, free.get(p.id, 0)))
    paid: dict[str, _Weighted] = defaultdict(_Weighted)
    for lease in market_repo.placed_between(session, now - DAY, now + timedelta(microseconds=1)):
        paid[lease.model].add(lease.price_fen, lease.cards)
    rows = []
    for model, listed in sorted(by_model.items()):
        listing = _Weighted()
        for price, cards, _free in listed:
            listing.add(price, cards)
        mean = listing.mean()
        assert mean is not None  # a pool has at least one card
        scu = catalog.get(model).scu_per_card_hour
        recent = paid.get(model, _Weighted())
        rows.append(
            ModelPrice(
                model=model,
                pools=len(listed),
                cards=sum(cards for _, cards, _ in listed),
                cards_free=sum(f for _, _, f in listed),
                min_price_fen=min(price for price, _, _ in listed),
                max_price_fen=max(price for price, _, _ in listed),
                mean_price_fen=mean,
                paid_mean_price_fen=recent.mean(),
                fen_per_scu=index_fen(Decimal(mean) / scu) if scu > 0 else None,
                paid_cards=recent.weight,
            )
        )
    return PriceIndex(at=now, models=rows)
