"""Requests and leases for one caller inside one transaction.

Placement (``try_place``), in numbered steps:

1. Take the process's snapshot of free capacity, brought up to the database's capacity
   epoch (:class:`SnapshotCache`), and ask the engine.
2. Nothing fits: store the engine's reasons and nearest offers; the request stays queued.
3. Create the lease (placed) and hold escrow for cards x duration x price. A short
   wallet rolls the savepoint back and queues the request with the reason.
4. Reserve the chosen cards with conditional UPDATEs in node-id order. If another
   transaction took them first, roll back to the savepoint and start again (bounded).

Lock order everywhere: request row -> lease row -> accounts (by id) -> node rows (by id);
the nodes, which every placement on them contends for, come last (a lease's end, too,
settles its money before it gives its cards back).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy.orm import Session

from suanli.engine import Code, Demand, Engine, Placement, Unplaced, reasons
from suanli.engine.preempt import Held, Preemption, plan_preemption
from suanli.exchange.schemas import RequestIn, UsageIn
from suanli.exchange.snapshot import Owner, SnapshotCache, demand_of, shared_cache
from suanli.exchange.validation import validate_request
from suanli.kit.clock import Clock, ManualClock
from suanli.kit.errors import ConflictError, NotFoundError, PaymentRequiredError, ValidationError
from suanli.kit.money import usage_cost_fen
from suanli.ledger import Ledger
from suanli.orgs.auth import Principal, Scope
from suanli.settings import Settings
from suanli.store import capacity_repo, work_repo
from suanli.store.models import Lease, LeaseAllocation, LeaseTransition, Request, UsageRecord
from suanli.vocab import LeaseStatus, OrgRole, RequestStatus
from suanli.vouchers.settlement import NONE as NO_VOUCHER
from suanli.vouchers.settlement import settle_voucher

ENGINE = Engine()

ALLOWED: dict[LeaseStatus, frozenset[LeaseStatus]] = {
    LeaseStatus.PENDING: frozenset({LeaseStatus.PLACED, LeaseStatus.CANCELLED, LeaseStatus.FAILED}),
    LeaseStatus.PLACED: frozenset(
        {LeaseStatus.RUNNING, LeaseStatus.CANCELLED, LeaseStatus.FAILED, LeaseStatus.PREEMPTED}
    ),
    LeaseStatus.RUNNING: frozenset(
        {LeaseStatus.COMPLETED, LeaseStatus.FAILED, LeaseStatus.CANCELLED, LeaseStatus.PREEMPTED}
    ),
}


class Exchange:
    """The demand side and lease life cycle. ``principal`` None = the exchange itself."""

    def __init__(
        self,
        session: Session,
        clock: Clock,
        settings: Settings,
        principal: Principal | None = None,
        engine: Engine = ENGINE,
        cache: SnapshotCache | None = None,
    ) -> None:
        self.session = session
        self.clock = clock
        self.settings = settings
        self.principal = principal
        self.engine = engine
        self.cache = cache
        self.ledger = Ledger(session, clock)
        self.placed: dict[int, int] = {}
        """Request id -> the lease this exchange placed it on (in this transaction)."""

    # -- who may see what ---------------------------------------------------------------
    def _require(self, scope: Scope) -> None:
        if self.principal is not None:
            self.principal.require(scope)

    def _sees_request(self, request: Request) -> bool:
        p = self.principal
        return p is None or p.is_operator or request.buyer_id == p.org_id

    def _sees_lease(self, lease: Lease) -> bool:
        p = self.principal
        return p is None or p.is_operator or p.org_id in (lease.buyer_id, lease.provider_id)

    def _buyer_id(self) -> int:
        if self.principal is None or self.principal.role is not OrgRole.BUYER:
            raise ValidationError("only a buyer organization can submit requests")
        return self.principal.org_id

    # -- requests -----------------------------------------------------------------------
    def submit(self, data: RequestIn, *, cache: SnapshotCache | None = None) -> Request:
        """Store a request and try to place it at once."""
        self._require(Scope.REQUESTS_WRITE)
        buyer_id = self._buyer_id()
        fields = validate_request(data)
        now = self.clock.now()
        request = Request(
            buyer_id=buyer_id,
            status=RequestStatus.QUEUED,
            reasons=[],
            nearest=[],
            created_at=now,
            updated_at=now,
            **fields,
        )
        self.session.add(request)
        self.session.flush()
        if self.try_place(request, cache=cache) is None:
            self.check_reach(request)  # raises: the caller's transaction writes nothing
        return request

    def check_reach(self, request: Request) -> None:
        """Refuse (422) a request larger than any listed pool could ever hold, even spread
        over all its nodes, saying the most that is possible. A request whose models or
        places nobody lists yet is not refused: it waits, saying why. Only asked of a
        request that did not fit at once (one that fits is within reach)."""
        listed = (self.cache or shared_cache(self.session)).listed(self.session)
        demand = demand_of(request)
        found = self.engine.reach(listed, demand)
        if found is None or request.cards <= found[0]:
            return
        most, row = found
        pool = listed.pools[row]
        models = "/".join(sorted(demand.accepted_models))
        where = f"{pool.label}, {pool.model} in {pool.province}"
        fabric = demand.inter_node if demand.split or demand.node_count > 1 else None
        why = reasons.beyond_largest(request.cards, models, fabric, most, where)
        raise ValidationError(why)

    def get_request(self, request_id: int, *, lock: bool = False) -> Request:
        self._require(Scope.REQUESTS_READ)
        request = work_repo.request(self.session, request_id, lock=lock)
        if request is None or not self._sees_request(request):
            raise NotFoundError("request", request_id)
        return request

    def list_requests(
        self, status: RequestStatus | None = None, limit: int = 1000
    ) -> list[Request]:
        self._require(Scope.REQUESTS_READ)
        p = self.principal
        buyer = None if p is None or p.is_operator else p.org_id
        return work_repo.requests(self.session, buyer_id=buyer, status=status, limit=limit)

    def cancel(self, request_id: int, reason: str = "cancelled by the buyer") -> Request:
        """Withdraw a request; a live lease ends, paying only for metered use."""
        self._require(Scope.REQUESTS_WRITE)
        request = self.get_request(request_id, lock=True)
        if request.status in (RequestStatus.CANCELLED, RequestStatus.FINISHED):
            raise ConflictError(f"request {request_id} is already {request.status}")
        lease = work_repo.live_lease_of(self.session, request.id)
        if lease is not None:
            locked = work_repo.lease(self.session, lease.id, lock=True)
            self._end(locked or lease, LeaseStatus.CANCELLED, reason)
        request.status = RequestStatus.CANCELLED
        self._say(request, [reason], [])
        return request

    # -- placement ----------------------------------------------------------------------
    def try_place(self, request: Request, *, cache: SnapshotCache | None = None) -> Lease | None:
        """Place a queued request if it fits now (see the module docstring)."""
        now = self.clock.now()
        if request.status is not RequestStatus.QUEUED:
            return None
        if request.earliest_start is not None and request.earliest_start > now:
            self._queue(request, [reasons.not_before(request.earliest_start.isoformat())], [])
            return None
        demand = demand_of(request)
        cache = cache or self.cache or shared_cache(self.session)
        for _attempt in range(self.settings.place_attempts):
            snap = cache.get(self.session)
            with cache.lock:
                result = self.engine.place(snap, demand)
                if isinstance(result, Placement):
                    # taken off at once, so this process's next placement looks elsewhere
                    self.engine.reserve(snap, result)
            if not isinstance(result, Placement):
                if self._preempt_for(request, demand, cache):
                    continue
                self._queue(request, list(result.reasons), list(result.nearest))
                return None
            pools = {result.pool_id}
            noted = capacity_repo.pending(self.session)
            savepoint = self.session.begin_nested()
            try:
                lease = self._open_lease(request, result, cache.owner(result.pool_id))
            except PaymentRequiredError as exc:
                savepoint.rollback()
                cache.stale(pools)
                self._queue(request, [reasons.wallet_short(exc.message)], [])
                return None
            # The nodes last: their row locks, which every placement on them waits for,
            # are held only from here to the commit.
            if not all(
                capacity_repo.take_cards(self.session, a.node_id, a.cards)
                for a in sorted(result.allocations, key=lambda a: a.node_id)
            ):
                savepoint.rollback()
                capacity_repo.keep_only(self.session, noted)
                cache.stale(pools)  # someone took the cards: look again
                continue
            request.status = RequestStatus.PLACED
            self._say(request, [], [])
            savepoint.commit()
            cache.hold(self.session, ((a.node_id, a.cards) for a in result.allocations))
            capacity_repo.on_rollback(self.session, partial(cache.stale, pools))
            return lease
        self._queue(request, [reasons.capacity_changed()], [])
        return None

    def _preempt_for(self, request: Request, demand: Demand, cache: SnapshotCache) -> bool:
        """On-demand work that fits nowhere takes cards back from interruptible work.

        The engine places the request on a snapshot where every live interruptible
        lease's cards are free; if it fits there, the interruptible leases on the chosen
        nodes are preempted (newest first, only as many as each node needs) and go back
        to the queue. Returns whether anything was preempted."""
        plan = self._preemption(request, demand, cache)
        if plan is None:
            return False
        victims = plan.victims
        reason = f"preempted for on-demand request {request.id}"
        for lease_id in victims:
            found = work_repo.lease(self.session, lease_id)
            if found is None:  # pragma: no cover - read in this transaction
                continue
            work_repo.request(self.session, found.request_id, lock=True)
            lease = work_repo.lease(self.session, lease_id, lock=True)
            if lease is not None and lease.status.is_live:
                self._end(lease, LeaseStatus.PREEMPTED, reason, requeue=True)
                cache.stale({lease.pool_id})  # its cards are free in this transaction
        return True

    def _preemption(
        self, request: Request, demand: Demand, cache: SnapshotCache
    ) -> Preemption | None:
        """The preemption that would make room for on-demand ``request`` (read-only)."""
        if request.interruptible:
            return None
        held = [
            Held(lease, node, cards, placed.timestamp())
            for lease, node, cards, placed in work_repo.live_interruptible_allocations(self.session)
        ]
        if not held:
            return None
        snap = cache.get(self.session)
        with cache.lock:
            return plan_preemption(self.engine, snap, demand, held)

    def what_if(self, request: Request) -> tuple[Placement | Unplaced, bool]:
        """Where :meth:`try_place` would put ``request`` now, writing nothing: the same
        due-time check, snapshot, engine and preemption rule; the request need not be
        stored. Returns the engine's answer and whether interruptible work would be
        preempted for it."""
        now = self.clock.now()
        if request.earliest_start is not None and request.earliest_start > now:
            reason = reasons.not_before(request.earliest_start.isoformat())
            return Unplaced((reason,), (), Code.UNSCHEDULABLE), False
        demand = demand_of(request)
        cache = self.cache or shared_cache(self.session)
        snap = cache.get(self.session)
        with cache.lock:
            result = self.engine.place(snap, demand)
        if isinstance(result, Placement):
            return result, False
        plan = self._preemption(request, demand, cache)
        if plan is not None:
            return plan.placement, True
        return result, False

    def _queue(self, request: Request, why: Sequence[str], nearest: Sequence[str]) -> None:
        if request.reasons != list(why) or request.nearest != list(nearest):
            self._say(request, why, nearest)

    def _say(
        self,
        request: Request,
        why: Sequence[str],
        nearest: Sequence[str],
        now: datetime | None = None,
    ) -> None:
        """Store why a request waits (or ended) and the nearest offers, in both languages."""
        request.reasons = [str(r) for r in why]
        request.reasons_zh = [reasons.zh_of(r) for r in why]
        request.nearest = [str(n) for n in nearest]
        request.nearest_zh = [reasons.zh_of(n) for n in nearest]
        request.updated_at = now or self.clock.now()

    def _open_lease(
        self, request: Request, placement: Placement, owner: Owner | None = None
    ) -> Lease:
        """The lease of a placement whose cards this transaction took: placed, its
        escrow held (a short wallet raises :class:`PaymentRequiredError`)."""
        if owner is None:
            found = capacity_repo.pool_with_center(self.session, placement.pool_id)
            if found is None:  # pragma: no cover - the snapshot came from these rows
                raise NotFoundError("pool", placement.pool_id)
            pool, center = found
            owner = Owner(center.id, center.provider_id, pool.model)
        now = self.clock.now()
        hold = usage_cost_fen(request.cards * request.duration_s, placement.price_fen)
        lease = Lease(
            request_id=request.id,
            buyer_id=request.buyer_id,
            provider_id=owner.provider_id,
            center_id=owner.center_id,
            pool_id=placement.pool_id,
            model=owner.model,
            cards=placement.cards,
            duration_s=request.duration_s,
            price_fen=placement.price_fen,
            hold_fen=hold,
            charged_fen=0,
            status=LeaseStatus.PLACED,
            placed_at=now,
        )
        self.session.add(lease)
        self.session.flush()
        self.session.add_all(
            LeaseAllocation(lease_id=lease.id, node_id=a.node_id, cards=a.cards)
            for a in placement.allocations
        )
        placed = f"engine placed on {len(placement.allocations)} node(s), score {placement.score}"
        self.session.add_all(
            (
                LeaseTransition(
                    lease_id=lease.id,
                    from_status=None,
                    to_status=LeaseStatus.PENDING,
                    at=now,
                    reason=placed,
                ),
                LeaseTransition(
                    lease_id=lease.id,
                    from_status=LeaseStatus.PENDING,
                    to_status=LeaseStatus.PLACED,
                    at=now,
                    reason="escrow held",
                ),
            )
        )
        if hold:
            self.ledger.hold(request.buyer_id, hold, lease_id=lease.id)
        request.attempts += 1
        self.placed[request.id] = lease.id
        return lease

    # -- leases -------------------------------------------------------------------------
    def get_lease(self, lease_id: int, *, lock: bool = False) -> Lease:
        lease = work_repo.lease(self.session, lease_id, lock=lock)
        if lease is None or not self._sees_lease(lease):
            raise NotFoundError("lease", lease_id)
        return lease

    def list_leases(
        self,
        status: LeaseStatus | None = None,
        center_id: int | None = None,
        limit: int = 1000,
    ) -> list[Lease]:
        p = self.principal
        if p is None or p.is_operator:
            return work_repo.leases(self.session, status=status, center_id=center_id, limit=limit)
        if p.role is OrgRole.PROVIDER:
            return work_repo.leases(
                self.session, provider_id=p.org_id, status=status, center_id=center_id, limit=limit
            )
        return work_repo.leases(
            self.session, buyer_id=p.org_id, status=status, center_id=center_id, limit=limit
        )

    def _operated_lease(self, lease_id: int) -> Lease:
        """A lease the caller operates: the provider of its center (or the operator)."""
        self._require(Scope.LEASES_OPERATE)
        lease = self.get_lease(lease_id)
        p = self.principal
        if p is not None and not p.is_operator and lease.provider_id != p.org_id:
            raise NotFoundError("lease", lease_id)
        work_repo.request(self.session, lease.request_id, lock=True)  # lock order: request first
        return self.get_lease(lease_id, lock=True)

    def _transition(
        self, lease: Lease, to: LeaseStatus, reason: str, at: datetime | None = None
    ) -> None:
        if to not in ALLOWED.get(lease.status, frozenset()):
            raise ConflictError(f"lease {lease.id} is {lease.status}; it cannot become {to}")
        self.session.add(
            LeaseTransition(
                lease_id=lease.id,
                from_status=lease.status,
                to_status=to,
                at=at or self.clock.now(),
                reason=reason,
            )
        )
        lease.status = to

    def start(
        self, lease_id: int, reason: str = "started at the center", at: datetime | None = None
    ) -> Lease:
        """The center started the work (at ``at``, default now). Reporting a start twice
        is harmless: an agent that restarts may not know it already did."""
        lease = self._operated_lease(lease_id)
        if lease.status is LeaseStatus.RUNNING:
            return lease
        now = self.clock.now()
        started = now if at is None else at
        if started > now or started < lease.placed_at:
            raise ValidationError(
                f"start time {started.isoformat()} must lie between the placement "
                f"({lease.placed_at.isoformat()}) and now"
            )
        self._transition(lease, LeaseStatus.RUNNING, reason)
        lease.started_at = started
        return lease

    def record_usage(self, lease_id: int, data: UsageIn) -> UsageRecord:
        """Store metered use; the same ``external_id`` twice is one record."""
        lease = self._operated_lease(lease_id)
        if data.external_id is not None:
            found = work_repo.usage_by_external_id(self.session, lease.id, data.external_id)
            if found is not None:
                if found.card_seconds != data.card_seconds:
                    raise ConflictError(
                        f"usage {data.external_id!r} was already reported with "
                        f"{found.card_seconds} card-seconds"
                    )
                return found
        if lease.status is not LeaseStatus.RUNNING or lease.started_at is None:
            raise ConflictError(f"lease {lease.id} is {lease.status}; usage needs a running lease")
        span = (data.period_end - data.period_start).total_seconds()
        if data.card_seconds > lease.cards * span:
            raise ValidationError(
                f"{data.card_seconds} card-seconds is more than {lease.cards} cards can use "
                f"in {span:g} s"
            )
        if data.period_start < lease.started_at or data.period_end > self.clock.now():
            raise ValidationError("the usage period must lie between the lease's start and now")
        total = work_repo.usage_total(self.session, lease.id) + data.card_seconds
        if total > lease.cards * lease.duration_s:
            raise ValidationError(
                f"usage would reach {total} card-seconds, more than the lease's "
                f"{lease.cards * lease.duration_s}"
            )
        record = UsageRecord(
            lease_id=lease.id,
            external_id=data.external_id or f"auto-{uuid.uuid4().hex}",
            card_seconds=data.card_seconds,
            period_start=data.period_start,
            period_end=data.period_end,
            source=data.source,
            recorded_at=self.clock.now(),
        )
        self.session.add(record)
        self.session.flush()
        return record

    def complete(self, lease_id: int, reason: str = "completed") -> Lease:
        """End a lease normally; a second report of the same end changes nothing."""
        lease = self._operated_lease(lease_id)
        if lease.status is not LeaseStatus.COMPLETED:
            self._end(lease, LeaseStatus.COMPLETED, reason or "completed")
        return lease

    def fail(self, lease_id: int, reason: str) -> Lease:
        """End a lease that failed at the center (only metered use is charged); a
        second report of the same end changes nothing."""
        lease = self._operated_lease(lease_id)
        if lease.status is not LeaseStatus.FAILED:
            self._end(lease, LeaseStatus.FAILED, reason or "failed at the center")
        return lease

    def preempt(self, lease_id: int, reason: str) -> Lease:
        """Stop interruptible work and send its request back to the queue (metered use
        is charged; the request keeps its workload and checkpoint directory)."""
        lease = self._operated_lease(lease_id)
        request = work_repo.request(self.session, lease.request_id)
        if request is None or not request.interruptible:
            raise ConflictError(f"lease {lease_id} is not interruptible")
        if lease.status is not LeaseStatus.PREEMPTED:
            self._end(lease, LeaseStatus.PREEMPTED, reason or "preempted", requeue=True)
        return lease

    def requeue(self, lease: Lease, status: LeaseStatus, reason: str) -> None:
        """End ``lease`` (the caller holds its lock) and queue its request again."""
        self._end(lease, status, reason, requeue=True)

    def _end(
        self, lease: Lease, status: LeaseStatus, reason: str, *, requeue: bool = False
    ) -> None:
        """Close a live lease: free its cards, charge metered use, release the rest.

        Everything the end writes carries one instant (the clock read once), so the
        lease's end, its subsidy, capture and release always fall in the same period."""
        at = ManualClock(self.clock.now())
        ledger = Ledger(self.session, at)
        self._transition(lease, status, reason, at.now())
        used = work_repo.usage_total(self.session, lease.id)
        charge = min(usage_cost_fen(used, lease.price_fen), lease.hold_fen)
        voucher = NO_VOUCHER
        request = work_repo.request(self.session, lease.request_id)
        if request is not None and request.use_voucher:
            voucher = settle_voucher(self.session, at, ledger, lease, charge)
        capture_id = None
        if charge:
            capture = ledger.capture(
                lease.buyer_id, lease.provider_id, charge, self.settings.fee_rate, lease_id=lease.id
            )
            capture_id = capture.transaction_id
        work_repo.mark_usage_charged(self.session, lease.id, capture_id)
        unused = lease.hold_fen + voucher.escrow_fen - charge
        if unused:
            ledger.release(lease.buyer_id, unused, lease_id=lease.id)
        lease.charged_fen = charge
        lease.subsidy_fen = voucher.amount_fen
        lease.voucher_note = voucher.note
        lease.ended_at = at.now()
        lease.end_reason = reason
        for allocation in work_repo.allocations(self.session, lease.id):  # nodes last
            capacity_repo.return_cards(self.session, allocation.node_id, allocation.cards)
        request = work_repo.request(self.session, lease.request_id, lock=True)
        if request is not None and request.status is RequestStatus.PLACED:
            request.status = RequestStatus.QUEUED if requeue else RequestStatus.FINISHED
            why = [reasons.back_in_queue(reason)] if requeue else []
            self._say(request, why, [], at.now())

    def expires_at(self, lease: Lease) -> datetime:
        """When a lease's paid time runs out, counted from its start (or placement)."""
        return (lease.started_at or lease.placed_at) + timedelta(seconds=lease.duration_s)
