"""Replaying a day of real demand through the real exchange, on a simulated clock.

The run, in numbered steps:

1. Organizations: the operator, one provider per center operator, the buyers.
2. Supply: every center of the demo fleet and the pools it lists, through the same
   service the API uses.
3. Money and vouchers: each buyer tops up its wallet; three city programmes, grants.
4. The tour's opening (:func:`_opening`), four hours before the replayed day: the tour
   buyer (the ``buyer`` profile, a Hangzhou start-up with a Hangzhou voucher) runs one
   fine-tuning job near home, metered and subsidized. Its request, lease and voucher
   redemption are the exchange's first (ids 1), whatever the replay does later, and the
   provider it ran at becomes the ``provider`` profile: the README's tour uses them.
5. Demand: the packaged Philly day (``scale`` copies; ``requests`` limits it to the first
   N, for tests), one request per job, submitted at its time through
   :class:`~suanli.exchange.service.Exchange`; a placed lease starts at once (the
   center's agent is simulated, :mod:`suanli.demo.centers`) and, if it ends within the
   day, reports its metered usage and completes then. Freed capacity is offered to the
   queue every few simulated minutes.
6. Billing: one invoice per buyer for the leases that ended in the day (the tour buyer's
   first, so it is invoice 1); then the API keys of the four profiles.

Everything goes through the services and the database: the numbers in the summary are
read back from the ledger and the lease tables, not computed on the side.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from random import Random

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from suanli.billing.invoices import Invoices
from suanli.billing.schemas import InvoiceIn
from suanli.capacity.schemas import CenterIn, PoolIn
from suanli.capacity.service import CapacityService
from suanli.demo.centers import finish_lease, start_lease
from suanli.demo.demand import DemandItem, demo_buyers, philly_day
from suanli.demo.fleet import build_fleet
from suanli.demo.vouchers import (
    VoucherSetup,
    founded_on,
    relate,
    related_provider,
    setup_vouchers,
)
from suanli.exchange.queue import place_queued
from suanli.exchange.reports import utilization
from suanli.exchange.schemas import RequestIn
from suanli.exchange.service import Exchange
from suanli.exchange.snapshot import SnapshotCache
from suanli.kit.clock import ManualClock
from suanli.kit.errors import SuanliError
from suanli.ledger import Ledger
from suanli.orgs.auth import Principal
from suanli.orgs.service import create_key, create_org
from suanli.settings import Settings
from suanli.store import Database, orgs_repo, work_repo
from suanli.store.models import (
    Center,
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
OPENING = timedelta(hours=4)
"""How long before the replayed day the exchange opens; the tour's opening job runs then."""
OPENING_CARDS = 8
OPENING_MEMORY_GB = 80
ROLES = ("operator", "provider", "buyer", "issuer")
"""The profiles the demo saves, one API key each."""
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


class TourIds(BaseModel):
    """Who the demo's profiles are and the ids of what they own, for the README's tour
    and the demo's closing "try next" lines. None where the run made no such thing (a
    demo with too few buyers has no Hangzhou buyer, say)."""

    buyer_id: int
    buyer: str
    provider_id: int
    provider: str
    issuer_id: int
    issuer: str
    lease_id: int | None = None
    """The buyer's opening lease, at the provider's center."""
    center_id: int | None = None
    center: str | None = None
    """Where the opening lease ran."""
    grant_id: int | None = None
    """The buyer's grant in the issuer's programme, released in two tranches."""
    redemption_id: int | None = None
    """The voucher's share of the opening lease."""
    invoice_id: int | None = None
    """The buyer's invoice for the replayed day."""
    waiting_grants: int = 0
    """Applications waiting for the issuer's decision."""
    next_center_id: int
    next_program_id: int
    next_grant_id: int
    """The ids the next center, programme and grant get (ids are handed out in order)."""


@dataclass
class DemoRun:
    summary: DemoSummary
    tour: TourIds
    keys: dict[str, str] = field(default_factory=dict)
    """API key of each profile (:data:`ROLES`)."""
    kept: list[str] = field(default_factory=list)
    """Profiles whose given secret was issued again (see :func:`run_demo`)."""
    center_ids: list[int] = field(default_factory=list)
    """The demo fleet's centers (whose agents :mod:`suanli.demo.centers` simulates)."""


@dataclass
class _Built:
    """What steps 1-3 made."""

    operator_id: int
    buyer_ids: list[int]
    center_ids: list[int]
    vouchers: VoucherSetup


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


def _setup(db: Database, clock: ManualClock, seed: int, n_buyers: int) -> _Built:
    """Steps 1-3: organizations, centers, pools, wallets, vouchers."""
    rng = Random(seed)
    center_ids: list[int] = []
    with db.transaction() as session:
        operator = create_org(session, clock, name="suanli operator", role=OrgRole.OPERATOR)
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
            center_ids.append(center.id)
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
        made = setup_vouchers(session, clock, providers, buyers)
    return _Built(operator.id, buyer_ids, center_ids, made)


def _opening(
    db: Database, clock: ManualClock, settings: Settings, buyer_id: int | None, until: datetime
) -> int | None:
    """Step 4: the tour buyer's opening job, from now until ``until``: 8 cards with at
    least 80 GB each, in its own province if they fit there (else anywhere), run to the
    end, metered and settled like every lease of the replay. Returns the lease's id (None
    without a tour buyer, or if nothing fits). The clock ends at ``until``."""
    lease_id = None
    if buyer_id is not None:
        with db.transaction() as session:
            buyer = orgs_repo.by_id(session, buyer_id)
            home = [buyer.province] if buyer is not None and buyer.province else []
            exchange = Exchange(session, clock, settings, Principal(buyer_id, OrgRole.BUYER))
            for provinces in ([home] if home else []) + [[]]:
                request = exchange.submit(
                    RequestIn(
                        cards=OPENING_CARDS,
                        min_memory_gb=OPENING_MEMORY_GB,
                        provinces=provinces,
                        duration_s=int((until - clock.now()).total_seconds()),
                    )
                )
                lease = work_repo.live_lease_of(session, request.id)
                if lease is not None:
                    system = Exchange(session, clock, settings)
                    lease_id = start_lease(system, lease.id).id
                    break
                exchange.cancel(request.id, "the demo's opening job found no room")
    clock.set(until)
    if lease_id is not None:
        with db.transaction() as session:
            finish_lease(Exchange(session, clock, settings), lease_id)
    return lease_id


class _Replay:
    """Step 5: the event loop over arrivals, completions and queue passes.

    Consecutive arrivals and completions share one transaction (a batch), each still a
    full call of the exchange (submit, start, metered use, completion and settlement),
    so the replay does not pay a commit, a capacity-epoch update and a fresh session per
    event. A batch is committed before a queue pass that has work to do, since
    :func:`~suanli.exchange.queue.place_queued` runs each placement in a transaction of
    its own, and at the end. Events keep their order, so the outcome is that of one
    transaction per event; an error rolls back the open batch and ends the replay, as
    it ended it before.

    One :class:`SnapshotCache` serves the whole replay. Inside a batch the capacity
    epoch does not move until the commit, so the pools a completion frees cards in are
    marked :meth:`~SnapshotCache.stale` for the next placement to re-read."""

    BATCHED = True
    """False: one transaction per event (the tests compare the two)."""

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
        self._batch: ExitStack | None = None
        self._session: Session | None = None

    def push(self, at: datetime, kind: str, payload: object) -> None:
        self.seq += 1
        heapq.heappush(self.events, _Event(at, self.seq, kind, payload))

    def run(self, items: list[tuple[datetime, int, RequestIn]], progress: Progress | None) -> None:
        for at, buyer_id, request in items:
            self.push(at, "arrive", (buyer_id, request))
        self.push(self.clock.now() + QUEUE_PASS, "queue", None)
        total, done = len(self.events), 0
        try:
            while self.events and self.events[0].at <= self.end:
                event = heapq.heappop(self.events)
                self.clock.set(event.at)
                if event.kind == "arrive":
                    buyer_id, request = event.payload  # type: ignore[misc]
                    self._arrive(buyer_id, request)
                    done += 1
                elif event.kind == "finish":
                    self._finish(*event.payload)  # type: ignore[misc]
                elif event.kind == "queue":
                    self._queue_pass()
                if not self.BATCHED:
                    self._commit()
                if progress and event.kind == "arrive":
                    progress(done, len(items))
        except BaseException as exc:
            self._rollback(exc)
            raise
        self._commit()
        self.clock.set(self.end)
        if progress:
            progress(total and len(items), len(items))

    # -- the batch ----------------------------------------------------------------------
    def _open(self) -> Session:
        """The open batch's session, beginning a batch if none is open."""
        if self._session is None:
            batch = ExitStack()
            self._session = batch.enter_context(self.db.transaction())
            self._batch = batch
        return self._session

    def _end_batch(self) -> ExitStack | None:
        batch, self._batch, self._session = self._batch, None, None
        return batch

    def _commit(self) -> None:
        """Commit the open batch, if any."""
        if (batch := self._end_batch()) is not None:
            batch.close()

    def _rollback(self, exc: BaseException) -> None:
        """Roll back the open batch, if any, for ``exc``."""
        if (batch := self._end_batch()) is not None:
            batch.__exit__(type(exc), exc, exc.__traceback__)

    def _exchange(self, buyer_id: int | None = None) -> Exchange:
        """The exchange in the open batch, as the buyer ``buyer_id`` or (None) as itself,
        which is what the centers' simulated agents act as."""
        principal = None
        if buyer_id is not None:
            principal = self.principals.setdefault(buyer_id, Principal(buyer_id, OrgRole.BUYER))
        return Exchange(self._open(), self.clock, self.settings, principal, cache=self.cache)

    # -- events -------------------------------------------------------------------------
    def _started(self, exchange: Exchange, lease: Lease) -> None:
        start_lease(exchange, lease.id)
        at = self.clock.now() + timedelta(seconds=lease.duration_s)
        self.push(at, "finish", (lease.id, lease.pool_id))

    def _arrive(self, buyer_id: int, data: RequestIn) -> None:
        request = self._exchange(buyer_id).submit(data, cache=self.cache)
        if request.status is RequestStatus.PLACED:
            system = self._exchange()
            lease = work_repo.live_lease_of(system.session, request.id)
            if lease is None:  # pragma: no cover - placed in this very transaction
                raise RuntimeError(f"request {request.id} is placed but has no live lease")
            self._started(system, lease)

    def _finish(self, lease_id: int, pool_id: int) -> None:
        if finish_lease(self._exchange(), lease_id):
            self.cache.stale({pool_id})  # its cards are free in the open batch
            self.freed = True

    def _queue_pass(self) -> None:
        if self.freed:
            self.freed = False
            self._commit()  # the pass places in transactions of its own
            if place_queued(self.db, self.clock, self.settings, cache=self.cache):
                # Every earlier lease started on placement, so all placed ones are new.
                system = self._exchange()
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
    requests: int | None = None,
    secrets: Mapping[str, str] | None = None,
) -> DemoRun:
    """Build the demo exchange in ``db`` (migrated, empty) and replay one day ending at
    ``end`` (default: now, so the live server carries on where the replay stops).

    ``requests`` replays only the day's first N requests (a small demo, for tests).
    ``secrets`` (profile name -> API key) are issued again to the same profiles, so that
    keys saved before a rebuild keep working; a secret that cannot be issued (malformed,
    or given twice) is replaced by a new key, and :attr:`DemoRun.kept` lists the
    profiles whose secret was kept."""
    replay_end = (end or datetime.now(UTC)).replace(microsecond=0)
    start = replay_end - DAY
    clock = ManualClock(start - OPENING)
    settings = Settings()
    built = _setup(db, clock, seed, n_buyers * scale)
    opening = _opening(db, clock, settings, built.vouchers.tour_buyer_id, start)
    items = [
        (
            start + timedelta(seconds=d.offset_s),
            built.buyer_ids[d.buyer % len(built.buyer_ids)],
            _request_in(d),
        )
        for d in philly_day(n_buyers=n_buyers, seed=seed, scale=scale)
    ]
    items.sort(key=lambda t: t[0])
    if requests is not None:
        items = items[: max(0, requests)]
    _Replay(db, clock, settings, replay_end).run(items, progress)
    cast = _cast(db, built, opening)
    _invoice_the_day(db, clock, start, replay_end, first=cast["buyer"])
    keys, kept = _issue_keys(db, clock, cast, secrets or {})
    return DemoRun(
        summary=summarize(db, start, replay_end),
        tour=_tour(db, cast, built, opening),
        keys=keys,
        kept=kept,
        center_ids=built.center_ids,
    )


def _invoice_the_day(
    db: Database, clock: ManualClock, start: datetime, end: datetime, *, first: int
) -> None:
    """Bill the replayed day: one invoice per buyer whose leases ended in it (the leases
    still running are billed in the period they end in); ``first``'s invoice first."""
    with db.transaction() as session:
        buyers = session.scalars(
            select(Lease.buyer_id)
            .where(Lease.ended_at >= start, Lease.ended_at < end)
            .group_by(Lease.buyer_id)
            .order_by(Lease.buyer_id)
        ).all()
        invoices = Invoices(session, clock, None)
        for buyer_id in sorted(buyers, key=lambda b: (b != first, b)):
            invoices.issue(InvoiceIn(buyer_id=buyer_id, start=start, end=end))


def _cast(db: Database, built: _Built, opening: int | None) -> dict[str, int]:
    """The organization behind each profile: the tour's buyer and issuer, and the provider
    of the buyer's opening lease. Without them (a demo too small to have a Hangzhou
    buyer), the provider with the most leases and the buyer with an approved grant and the
    most leases (ties: the lower id), and the first issuer."""
    made = built.vouchers
    with db.transaction() as session:
        provider = buyer = None
        if opening is not None:
            lease = work_repo.lease(session, opening)
            provider = lease.provider_id if lease is not None else None
            buyer = made.tour_buyer_id
        if provider is None or buyer is None:
            busiest = session.execute(
                select(Lease.provider_id, func.count())
                .group_by(Lease.provider_id)
                .order_by(func.count().desc(), Lease.provider_id)
                .limit(1)
            ).first()
            granted = select(VoucherGrant.buyer_id).where(
                VoucherGrant.status == GrantStatus.APPROVED
            )
            active = session.execute(
                select(Lease.buyer_id, func.count())
                .where(Lease.buyer_id.in_(granted))
                .group_by(Lease.buyer_id)
                .order_by(func.count().desc(), Lease.buyer_id)
                .limit(1)
            ).first()
            if busiest is None or active is None:
                raise RuntimeError("the demo replay left no leases")
            provider, buyer = int(busiest[0]), int(active[0])
        issuer = made.tour_issuer_id
        if issuer is None:  # pragma: no cover - the demo always runs Hangzhou's programme
            issuer = min(o.id for o in orgs_repo.listing(session, OrgRole.ISSUER))
    return {
        "operator": built.operator_id,
        "provider": provider,
        "buyer": buyer,
        "issuer": issuer,
    }


def _issue_keys(
    db: Database, clock: ManualClock, cast: dict[str, int], secrets: Mapping[str, str]
) -> tuple[dict[str, str], list[str]]:
    """An API key for each profile: the given secret where it can be issued, else a new
    one. Returns the keys and the profiles whose secret was kept."""
    keys: dict[str, str] = {}
    kept: list[str] = []
    with db.transaction() as session:
        for role in ROLES:
            given = secrets.get(role)
            if given and given not in keys.values():
                try:
                    keys[role] = create_key(session, clock, cast[role], "demo", secret=given).secret
                    kept.append(role)
                    continue
                except SuanliError:
                    pass  # malformed: a new key below, and the caller says so
            keys[role] = create_key(session, clock, cast[role], "demo").secret
    return keys, kept


def _next_id(session: Session, column: InstrumentedAttribute[int]) -> int:
    return int(session.scalar(select(func.coalesce(func.max(column), 0))) or 0) + 1


def _tour(db: Database, cast: dict[str, int], built: _Built, opening: int | None) -> TourIds:
    """The ids of what the profiles own, read back (see :class:`TourIds`)."""
    with db.transaction() as session:
        names = {
            role: (org.name if (org := orgs_repo.by_id(session, org_id)) else "")
            for role, org_id in cast.items()
        }
        center_id = center = redemption = None
        if opening is not None:
            lease = work_repo.lease(session, opening)
            if lease is not None:
                found = session.get(Center, lease.center_id)
                center_id, center = lease.center_id, found.name if found else None
            redemption = session.scalar(
                select(VoucherRedemption.id).where(VoucherRedemption.lease_id == opening)
            )
        invoice = session.scalar(
            select(func.min(Invoice.id)).where(Invoice.buyer_id == cast["buyer"])
        )
        waiting = session.scalar(
            select(func.count(VoucherGrant.id))
            .join(VoucherProgram, VoucherProgram.id == VoucherGrant.program_id)
            .where(
                VoucherProgram.issuer_id == cast["issuer"],
                VoucherGrant.status == GrantStatus.APPLIED,
            )
        )
        tour_grant = built.vouchers.tour_grant_id
        return TourIds(
            buyer_id=cast["buyer"],
            buyer=names["buyer"],
            provider_id=cast["provider"],
            provider=names["provider"],
            issuer_id=cast["issuer"],
            issuer=names["issuer"],
            lease_id=opening,
            center_id=center_id,
            center=center,
            grant_id=tour_grant if cast["buyer"] == built.vouchers.tour_buyer_id else None,
            redemption_id=redemption,
            invoice_id=invoice,
            waiting_grants=int(waiting or 0),
            next_center_id=_next_id(session, Center.id),
            next_program_id=_next_id(session, VoucherProgram.id),
            next_grant_id=_next_id(session, VoucherGrant.id),
        )


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
