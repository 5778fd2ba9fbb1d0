"""Replaying a day of real demand through the real exchange, on a simulated clock.

The run, in numbered steps:

1. Organizations: the operator, one provider per center operator, the buyers; a key each.
2. Supply: every center of the demo fleet and the pools it lists, through the same
   service the API uses.
3. Money: each buyer tops up its wallet.
4. Demand: the packaged Philly day (``scale`` copies), one request per job, submitted at
   its time through :class:`~suanli.exchange.service.Exchange`; a placed lease starts
   at once (the center's agent is simulated) and, if it ends within the day, reports its
   metered usage and completes then. Freed capacity is offered to the queue every few
   simulated minutes.

Everything goes through the services and the database: the numbers in the summary are
read back from the ledger and the lease tables, not computed on the side.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from random import Random

from pydantic import BaseModel
from sqlalchemy import func, select

from suanli.billing.invoices import Invoices
from suanli.billing.schemas import InvoiceIn
from suanli.capacity.schemas import CenterIn, PoolIn
from suanli.capacity.service import CapacityService
from suanli.demo.demand import DemandItem, demo_buyers, philly_day
from suanli.demo.fleet import build_fleet
from suanli.demo.vouchers import founded_on, relate, related_provider, setup_vouchers
from suanli.exchange.queue import place_queued
from suanli.exchange.reports import utilization
from suanli.exchange.schemas import RequestIn, UsageIn
from suanli.exchange.service import Exchange
from suanli.exchange.snapshot import SnapshotCache
from suanli.kit.clock import ManualClock
from suanli.ledger import Ledger
from suanli.orgs.auth import Principal
from suanli.orgs.service import create_key, create_org
from suanli.settings import Settings
from suanli.store import Database, orgs_repo
from suanli.store.models import (
    Invoice,
    Lease,
    Organization,
    Request,
    VoucherGrant,
    VoucherProgram,
    VoucherRedemption,
)
from suanli.vocab import (
    AccountKind,
    CenterStatus,
    GrantStatus,
    LeaseStatus,
    OrgRole,
    RequestStatus,
)

DAY = timedelta(days=1)
QUEUE_PASS = timedelta(minutes=5)
Progress = Callable[[int, int], None]


class ProvinceSummary(BaseModel):
    province: str
    cards: int
    utilization: float


class DemoSummary(BaseModel):
    """What the demo did, read back from the database after the replay."""

    day: str
    replay_start: datetime
    replay_end: datetime
    centers: int
    active_centers: int
    provinces: int
    pools: int
    cards: int
    buyers: int
    requests: int
    placed: int
    queued: int
    cancelled: int
    leases_completed: int
    leases_running: int
    utilization: float
    revenue_fen: int
    platform_fee_fen: int
    voucher_programs: int
    voucher_grants_approved: int
    subsidized_leases: int
    voucher_redeemed_fen: int
    related_party_leases: int
    invoices: int
    invoiced_fen: int
    by_province: list[ProvinceSummary]


@dataclass
class DemoRun:
    summary: DemoSummary
    keys: dict[str, str] = field(default_factory=dict)


@dataclass(order=True)
class _Event:
    at: datetime
    seq: int
    kind: str = field(compare=False)
    payload: object = field(compare=False)


def _request_in(item: DemandItem) -> RequestIn:
    return RequestIn(
        cards=item.cards,
        cards_per_node=item.cards_per_node,
        inter_node=item.inter_node,
        accepted_models=list(item.accepted_models),
        min_memory_gb=item.min_memory_gb,
        provinces=[item.province] if item.province else [],
        max_price_fen=item.max_price_fen,
        duration_s=item.duration_s,
        interruptible=item.interruptible,
    )


def _setup(
    db: Database, clock: ManualClock, seed: int, n_buyers: int
) -> tuple[list[int], dict[str, str]]:
    """Steps 1-3: organizations, centers, pools, wallets. Returns buyer ids and keys."""
    rng = Random(seed)
    keys: dict[str, str] = {}
    with db.transaction() as session:
        operator = create_org(session, clock, name="suanli operator", role=OrgRole.OPERATOR)
        keys["operator"] = create_key(session, clock, operator.id, "demo").secret
        admin = Principal(operator.id, OrgRole.OPERATOR)
        capacity = CapacityService(session, clock, admin)
        providers: dict[str, tuple[int, str]] = {}
        for spec in build_fleet(seed):
            name = spec.operator[:200] or spec.name
            if name not in providers:
                org = create_org(
                    session, clock, name=name, role=OrgRole.PROVIDER, province=spec.province
                )
                providers[name] = (org.id, spec.province)
            center = capacity.register_center(
                CenterIn(
                    name=spec.name[:200],
                    name_zh=spec.name_zh,
                    province=spec.province,
                    city=spec.city or spec.province,
                    pue=spec.pue,
                    rack_kw=spec.rack_kw,
                    status=CenterStatus(spec.status),
                ),
                provider_id=providers[name][0],
            )
            for i, pool in enumerate(spec.pools):
                capacity.add_pool(
                    center.id,
                    PoolIn(
                        name=f"{pool.model.lower()}-{i + 1}",
                        model=pool.model,
                        nodes=pool.nodes,
                        cards_per_node=pool.cards_per_node,
                        cpu_per_node=pool.cpu_per_node,
                        memory_gb_per_node=pool.memory_gb_per_node,
                        intra_node=pool.intra_node,
                        inter_node=pool.inter_node,
                        inter_node_gbps=pool.inter_node_gbps,
                        price_fen=pool.price_fen,
                    ),
                )
        buyer_ids = []
        buyers: list[Organization] = []
        ledger = Ledger(session, clock)
        founded = Random(f"suanli-founded:{seed}")
        related = related_provider(providers)
        for buyer in demo_buyers(n_buyers, seed):
            org = create_org(
                session,
                clock,
                name=buyer.name,
                name_zh=buyer.name_zh,
                role=OrgRole.BUYER,
                province=buyer.province,
                city=buyer.city,
                kind=buyer.kind,
                founded_on=founded_on(buyer.kind, founded, clock.now().date()),
            )
            if (
                related is not None
                and buyer.province == "北京"
                and not any(b.group_name for b in buyers)
            ):
                relate(session, related, org)
            buyers.append(org)
            buyer_ids.append(org.id)
            ledger.topup(org.id, rng.randrange(2_000_000, 8_000_000) * 100, "demo top-up")
        setup_vouchers(session, clock, providers, buyers, keys, create_key)
    return buyer_ids, keys


class _Replay:
    """Step 4: the event loop over arrivals, completions and queue passes."""

    def __init__(self, db: Database, clock: ManualClock, settings: Settings, end: datetime) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.end = end
        self.cache = SnapshotCache()
        self.events: list[_Event] = []
        self.seq = 0
        self.freed = False
        self.principals: dict[int, Principal] = {}

    def push(self, at: datetime, kind: str, payload: object) -> None:
        self.seq += 1
        heapq.heappush(self.events, _Event(at, self.seq, kind, payload))

    def run(self, items: list[tuple[datetime, int, RequestIn]], progress: Progress | None) -> None:
        for at, buyer_id, request in items:
            self.push(at, "arrive", (buyer_id, request))
        self.push(self.clock.now() + QUEUE_PASS, "queue", None)
        total, done = len(self.events), 0
        while self.events and self.events[0].at <= self.end:
            event = heapq.heappop(self.events)
            self.clock.set(event.at)
            if event.kind == "arrive":
                buyer_id, request = event.payload  # type: ignore[misc]
                self._arrive(buyer_id, request)
                done += 1
            elif event.kind == "finish":
                self._finish(int(event.payload))  # type: ignore[call-overload]
            elif event.kind == "queue":
                self._queue_pass()
            if progress and event.kind == "arrive":
                progress(done, len(items))
        self.clock.set(self.end)
        if progress:
            progress(total and len(items), len(items))

    def _started(self, exchange: Exchange, lease: Lease) -> None:
        exchange.start(lease.id, "started by the center (demo)")
        self.push(self.clock.now() + timedelta(seconds=lease.duration_s), "finish", lease.id)

    def _arrive(self, buyer_id: int, data: RequestIn) -> None:
        principal = self.principals.setdefault(buyer_id, Principal(buyer_id, OrgRole.BUYER))
        with self.db.transaction() as session:
            exchange = Exchange(session, self.clock, self.settings, principal)
            request = exchange.submit(data, cache=self.cache)
            if request.status is RequestStatus.PLACED:
                lease = exchange.list_leases(status=LeaseStatus.PLACED, limit=1)[0]
                system = Exchange(session, self.clock, self.settings)
                self._started(system, lease)

    def _finish(self, lease_id: int) -> None:
        with self.db.transaction() as session:
            exchange = Exchange(session, self.clock, self.settings, cache=self.cache)
            lease = exchange.get_lease(lease_id)
            if lease.status is not LeaseStatus.RUNNING or lease.started_at is None:
                return
            exchange.record_usage(
                lease.id,
                UsageIn(
                    card_seconds=lease.cards * lease.duration_s,
                    period_start=lease.started_at,
                    period_end=self.clock.now(),
                    external_id=f"demo-{lease.id}",
                    source="demo",
                ),
            )
            exchange.complete(lease.id, "job finished")
        self.freed = True

    def _queue_pass(self) -> None:
        if self.freed:
            self.freed = False
            if place_queued(self.db, self.clock, self.settings, cache=self.cache):
                # Every earlier lease started on placement, so all placed ones are new.
                with self.db.transaction() as session:
                    system = Exchange(session, self.clock, self.settings)
                    for lease in system.list_leases(status=LeaseStatus.PLACED, limit=100_000):
                        self._started(system, lease)
        if self.clock.now() + QUEUE_PASS <= self.end:
            self.push(self.clock.now() + QUEUE_PASS, "queue", None)


def run_demo(
    db: Database,
    *,
    seed: int = 7,
    scale: int = 1,
    n_buyers: int = 40,
    end: datetime | None = None,
    progress: Progress | None = None,
) -> DemoRun:
    """Build the demo exchange in ``db`` (migrated, empty) and replay one day ending at
    ``end`` (default: now, so the live server carries on where the replay stops)."""
    replay_end = (end or datetime.now(UTC)).replace(microsecond=0)
    start = replay_end - DAY
    clock = ManualClock(start)
    settings = Settings()
    buyer_ids, keys = _setup(db, clock, seed, n_buyers * scale)
    items = [
        (start + timedelta(seconds=d.offset_s), buyer_ids[d.buyer % len(buyer_ids)], _request_in(d))
        for d in philly_day(n_buyers=n_buyers, seed=seed, scale=scale)
    ]
    items.sort(key=lambda t: t[0])
    _Replay(db, clock, settings, replay_end).run(items, progress)
    _invoice_the_day(db, clock, start, replay_end)
    keys.update(_showcase_keys(db, clock))
    return DemoRun(summary=summarize(db, start, replay_end), keys=keys)


def _invoice_the_day(db: Database, clock: ManualClock, start: datetime, end: datetime) -> None:
    """Bill the replayed day: one invoice per buyer whose leases ended in it (the leases
    still running are billed in the period they end in)."""
    with db.transaction() as session:
        buyers = session.scalars(
            select(Lease.buyer_id)
            .where(Lease.ended_at >= start, Lease.ended_at < end)
            .group_by(Lease.buyer_id)
            .order_by(Lease.buyer_id)
        ).all()
        invoices = Invoices(session, clock, None)
        for buyer_id in buyers:
            invoices.issue(InvoiceIn(buyer_id=buyer_id, start=start, end=end))


def _showcase_keys(db: Database, clock: ManualClock) -> dict[str, str]:
    """Keys for the provider and the buyer with the most to show after the replay: the
    provider with the most leases, the buyer with an approved voucher grant and the most
    leases (ties: the lower id)."""
    with db.transaction() as session:
        busiest = session.execute(
            select(Lease.provider_id, func.count())
            .group_by(Lease.provider_id)
            .order_by(func.count().desc(), Lease.provider_id)
            .limit(1)
        ).first()
        granted = select(VoucherGrant.buyer_id).where(VoucherGrant.status == GrantStatus.APPROVED)
        buyer = session.execute(
            select(Lease.buyer_id, func.count())
            .where(Lease.buyer_id.in_(granted))
            .group_by(Lease.buyer_id)
            .order_by(func.count().desc(), Lease.buyer_id)
            .limit(1)
        ).first()
        if busiest is None or buyer is None:  # pragma: no cover - the demo always has both
            raise RuntimeError("the demo replay left no leases")
        return {
            "provider": create_key(session, clock, busiest[0], "demo").secret,
            "buyer": create_key(session, clock, buyer[0], "demo").secret,
        }


def summarize(db: Database, start: datetime, end: datetime) -> DemoSummary:
    """Read the demo's outcome back from the database."""
    with db.transaction() as session:
        report = utilization(session, None, start, end, "province")
        by_status = dict(
            session.execute(select(Request.status, func.count()).group_by(Request.status)).all()
        )
        leases = dict(
            session.execute(select(Lease.status, func.count()).group_by(Lease.status)).all()
        )
        revenue = int(session.scalar(select(func.coalesce(func.sum(Lease.charged_fen), 0))) or 0)
        ledger = Ledger(session, ManualClock(end))
        fee = ledger.balance(None, AccountKind.FEE)
        capacity = CapacityService(session, ManualClock(end), Principal(0, OrgRole.OPERATOR))
        centers = capacity.list_centers()
        pools = capacity.list_pools()
        buyers = len(orgs_repo.listing(session, OrgRole.BUYER))
        programs = int(session.scalar(select(func.count(VoucherProgram.id))) or 0)
        grants = int(
            session.scalar(
                select(func.count(VoucherGrant.id)).where(
                    VoucherGrant.status == GrantStatus.APPROVED
                )
            )
            or 0
        )
        subsidized = int(
            session.scalar(select(func.count(Lease.id)).where(Lease.subsidy_fen > 0)) or 0
        )
        redeemed = int(
            session.scalar(select(func.coalesce(func.sum(VoucherRedemption.amount_fen), 0))) or 0
        )
        invoices, invoiced = session.execute(
            select(func.count(Invoice.id), func.coalesce(func.sum(Invoice.gross_fen), 0))
        ).one()
        related = int(
            session.scalar(
                select(func.count(Lease.id)).where(Lease.voucher_note.like("%related-party%"))
            )
            or 0
        )
    requests = sum(by_status.values())
    return DemoSummary(
        day="2017-10-05 (Philly trace)",
        replay_start=start,
        replay_end=end,
        centers=len(centers),
        active_centers=sum(1 for c in centers if c.status is CenterStatus.ACTIVE),
        provinces=len({c.province for c in centers}),
        pools=len(pools),
        cards=sum(p.cards for p in pools),
        buyers=buyers,
        requests=requests,
        placed=requests
        - by_status.get(RequestStatus.QUEUED, 0)
        - by_status.get(RequestStatus.CANCELLED, 0),
        queued=by_status.get(RequestStatus.QUEUED, 0),
        cancelled=by_status.get(RequestStatus.CANCELLED, 0),
        leases_completed=leases.get(LeaseStatus.COMPLETED, 0),
        leases_running=leases.get(LeaseStatus.RUNNING, 0),
        utilization=float(report.total.utilization),
        revenue_fen=revenue,
        platform_fee_fen=fee,
        voucher_programs=programs,
        voucher_grants_approved=grants,
        subsidized_leases=subsidized,
        voucher_redeemed_fen=redeemed,
        related_party_leases=related,
        invoices=int(invoices),
        invoiced_fen=int(invoiced),
        by_province=[
            ProvinceSummary(province=r.key, cards=r.cards, utilization=float(r.utilization))
            for r in report.rows
        ],
    )
