"""Placing queued requests when capacity frees up or their start time comes.

The queue policy is the simulator's (:mod:`suanli.engine.queueing`): requests are tried
in arrival order (request id; a request sent back to the queue keeps its place) with
backfill; a request as big as one that already failed under the same constraints in the
pass is skipped, and the pass ends once a 1-card request without constraints failed.
The engine is asked first, in memory, on the process's snapshot (see
:class:`SnapshotCache`); only a request that fits gets a transaction, short and its own,
so a long queue never holds locks for long and one failure does not undo the others.
The database still decides every placement (:meth:`Exchange.try_place`).

A pass costs what changed (:class:`QueueIndex`, kept by the leader between passes): it
reads the ids of the due queued requests (one indexed query) and loads only the
requests it has not seen (a request's constraints never change), then tries

- every request when the index is new, when what is offered changed (pools added,
  repriced, taken off or back on the market: the capacity epoch's structure moved), or
  when asked for a full pass;
- otherwise only the requests that could use a pool whose free capacity changed since
  the pass before (the pools' capacity epoch), the requests that are new to it (just
  queued, sent back, or whose earliest start just came), and those of buyers whose
  wallet rose since a placement failed on it.

A pass for one buyer (``buyer_id``) tries that buyer's due queued requests and leaves
the index's view of what changed for the next pass.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from suanli.engine import Demand, Snapshot, reasons
from suanli.engine.queueing import (
    BACKFILL,
    QueuePass,
    QueuePolicy,
    Size,
    constraint_key,
    size_of,
    usable_pools,
)
from suanli.exchange.service import ENGINE, Exchange
from suanli.exchange.snapshot import SnapshotCache, demand_of, shared_cache
from suanli.kit.clock import Clock
from suanli.ledger import Ledger
from suanli.settings import Settings
from suanli.store import Database, capacity_repo, work_repo
from suanli.store.capacity_repo import Epoch
from suanli.store.models import Request
from suanli.vocab import AccountKind, RequestStatus

LOOSEST: Hashable = constraint_key(Demand(cards=1))
"""The key of a request without constraints: when one card of it fits nowhere, nothing
fits (queue passes do not preempt)."""

LOAD_CHUNK = 500
"""Requests loaded per query (bound parameters stay few)."""


@dataclass(frozen=True, slots=True)
class Queued:
    """What a pass needs of a queued request; never changes while it exists."""

    id: int
    buyer_id: int
    demand: Demand
    key: Hashable
    size: Size


@dataclass(frozen=True, slots=True)
class PassStats:
    """What one pass did: whether it tried everything, how many requests it loaded, the
    requests it chose to try (in order), those the engine was asked about (not skipped
    as dominated or after the pass ended) and those placed."""

    full: bool
    loaded: int
    chosen: tuple[int, ...]
    tried: tuple[int, ...]
    placed: tuple[int, ...]


class QueueIndex:
    """The queue as the leader remembers it between passes (see the module docstring).

    ``full_every`` is not kept here: callers ask for a full pass when they want one
    (the server's ticker does, every few ticks, as a safety net)."""

    def __init__(self, policy: QueuePolicy = BACKFILL) -> None:
        self.policy = policy
        self.lock = threading.Lock()
        """Held for a whole pass: one pass at a time per index."""
        self.last: PassStats | None = None
        self._known: dict[int, Queued] = {}
        self._due: frozenset[int] = frozenset()
        self._at: Epoch | None = None
        self._pools: dict[tuple[Hashable, Size], frozenset[int]] = {}
        self._pools_at: tuple[int, int] | None = None
        self._blocked: dict[int, int] = {}
        self._short: dict[int, int] = {}
        self._forget = False

    def reset(self) -> None:
        """Make the next pass try everything (another process may have led meanwhile).
        Does not wait for a running pass."""
        self._forget = True

    @property
    def fresh(self) -> bool:
        """Whether the next general pass tries everything."""
        return self._at is None or self._forget

    # -- one pass -------------------------------------------------------------------------
    def run(
        self,
        db: Database,
        clock: Clock,
        settings: Settings,
        *,
        buyer_id: int | None = None,
        limit: int = 10_000,
        cache: SnapshotCache | None = None,
        full: bool = False,
    ) -> int:
        """One pass (the caller holds :attr:`lock`); returns how many were placed."""
        scoped = buyer_id is not None
        if self._forget:
            self._forget = False
            self._at = None
        with db.transaction() as session:
            cache = cache if cache is not None else shared_cache(session)
            at = capacity_repo.epoch(session)  # first: later changes are the next pass's
            ids = work_repo.queued_due(session, clock.now(), buyer_id=buyer_id, limit=limit)
            loaded = self._load(session, [i for i in ids if i not in self._known])
            snap = cache.get(session)
            whole = full or scoped or self._whole(at)
            if buyer_id is not None:  # all its requests are tried: noted again if short
                self._blocked.pop(buyer_id, None)
                self._short = {r: b for r, b in self._short.items() if b != buyer_id}
            elif whole:
                self._blocked.clear()
                self._short.clear()
            chosen = ids if whole else self._chosen(session, clock, ids, at, snap)
        entries = [self._known[i] for i in chosen if i in self._known]
        try:
            queue_pass = self.policy.start(loosest=LOOSEST)
            tried: list[int] = []
            placed: list[int] = []
            reread = False

            def attempt(entry: Queued, current: QueuePass) -> bool:
                nonlocal reread
                if current.dominated(entry.key, entry.size):
                    return False
                tried.append(entry.id)
                fits, reread = self._fits(db, cache, entry, reread), False
                if not fits:
                    current.fail(entry.key, entry.size)
                    return False
                if self._place(db, clock, settings, cache, entry):
                    placed.append(entry.id)
                    return True
                reread = True  # what it took off the snapshot may be back: read again
                return False

            queue_pass.run(entries, attempt)
        except BaseException:
            self._at = None  # what changed was not all looked at: everything next time
            raise
        if not scoped:
            self._at = at
            self._due = frozenset(ids).difference(placed)  # placed and back: new again
            if len(ids) < limit:  # all of the queue was read: forget what left it
                self._known = {i: self._known[i] for i in ids if i in self._known}
                self._short = {i: b for i, b in self._short.items() if i in self._known}
        self.last = PassStats(whole, loaded, tuple(chosen), tuple(tried), tuple(placed))
        return len(placed)

    def _whole(self, at: Epoch) -> bool:
        last = self._at
        return last is None or (last.generation, last.structure) != (at.generation, at.structure)

    def _load(self, session: Session, new: Sequence[int]) -> int:
        for start in range(0, len(new), LOAD_CHUNK):
            for request in work_repo.queued_requests(session, new[start : start + LOAD_CHUNK]):
                demand = demand_of(request)
                self._known[request.id] = Queued(
                    request.id, request.buyer_id, demand, constraint_key(demand), size_of(demand)
                )
        return len(new)

    def _chosen(
        self, session: Session, clock: Clock, ids: Sequence[int], at: Epoch, snap: Snapshot
    ) -> list[int]:
        """The due requests an incremental pass tries, in arrival order."""
        last = self._at
        assert last is not None
        changed: frozenset[int] = frozenset()
        if at.epoch != last.epoch:
            changed = frozenset(capacity_repo.changed_pools(session, last.epoch))
        richer = self._richer(session, clock)
        if self._pools_at != (at.generation, at.structure):
            self._pools.clear()
            self._pools_at = (at.generation, at.structure)
        useful: dict[tuple[Hashable, Size], bool] = {}
        chosen: list[int] = []
        for request_id in ids:
            entry = self._known.get(request_id)
            if entry is None:
                continue
            if request_id not in self._due:
                chosen.append(request_id)
                continue
            if request_id in self._short:  # waits for money, not for cards
                if entry.buyer_id in richer:
                    del self._short[request_id]
                    chosen.append(request_id)
                continue
            if not changed:
                continue
            shape = (entry.key, entry.size)
            hit = useful.get(shape)
            if hit is None:
                pools = self._pools.get(shape)
                if pools is None:
                    pools = self._pools[shape] = usable_pools(ENGINE, snap, entry.demand)
                hit = useful[shape] = not pools.isdisjoint(changed)
            if hit:
                chosen.append(request_id)
        return chosen

    def _richer(self, session: Session, clock: Clock) -> set[int]:
        """Buyers whose wallet rose since a placement failed on it (they are forgotten
        here; a new failure notes them again)."""
        if not self._blocked:
            return set()
        ledger = Ledger(session, clock)
        richer = set()
        for buyer, seen in list(self._blocked.items()):
            if ledger.balance(buyer, AccountKind.WALLET) > seen:
                richer.add(buyer)
                del self._blocked[buyer]
        return richer

    @staticmethod
    def _fits(db: Database, cache: SnapshotCache, entry: Queued, reread: bool) -> bool:
        """Whether the engine places the request on the process's snapshot now.

        The snapshot is brought up to the database (``reread``) after a placement that
        did not hold: its reservation was applied to the snapshot, and the pools it
        marked stale must be read again before the next request is judged."""
        snap = cache.loaded
        if snap is None or reread:
            with db.transaction() as session:
                snap = cache.get(session)
        with cache.lock:
            return ENGINE.choose(snap, entry.demand) is not None

    def _place(
        self,
        db: Database,
        clock: Clock,
        settings: Settings,
        cache: SnapshotCache,
        entry: Queued,
    ) -> bool:
        """Place the request in a transaction of its own. One the wallet could not pay
        for waits for its buyer's wallet to rise (:meth:`_richer`): capacity that frees
        up does not help it (a cheaper pool might: full passes try it)."""
        with db.transaction() as session:
            request = work_repo.request(session, entry.id, lock=True)
            if request is None or request.status is not RequestStatus.QUEUED:
                return False
            if Exchange(session, clock, settings).try_place(request, cache=cache) is not None:
                return True
            if not _short_of_money(request):
                return False  # the cards went meanwhile: a change the next pass sees
            wallet = Ledger(session, clock).balance(entry.buyer_id, AccountKind.WALLET)
        seen = self._blocked.get(entry.buyer_id)
        self._blocked[entry.buyer_id] = wallet if seen is None else min(seen, wallet)
        self._short[entry.id] = entry.buyer_id
        return False


_WALLET_SHORT = reasons.wallet_short("").zh
"""How the reason a wallet could not pay begins (in Chinese, where its figures follow)."""


def _short_of_money(request: Request) -> bool:
    """Whether the request's last placement failed on its buyer's wallet."""
    said = request.reasons_zh or []
    return bool(said) and said[0].startswith(_WALLET_SHORT)


def place_queued(
    db: Database,
    clock: Clock,
    settings: Settings,
    *,
    buyer_id: int | None = None,
    limit: int = 10_000,
    cache: SnapshotCache | None = None,
    index: QueueIndex | None = None,
    full: bool = False,
) -> int:
    """Try the due queued requests (``buyer_id``: that buyer's) once, by the queue policy;
    return how many were placed.

    Without ``index`` every due request is a candidate, as in a full pass. With the
    leader's :class:`QueueIndex`, a pass tries only what changed may have made fit,
    unless ``full`` or the index is new (see the module docstring)."""
    index = index if index is not None else QueueIndex()
    with index.lock:
        return index.run(
            db, clock, settings, buyer_id=buyer_id, limit=limit, cache=cache, full=full
        )
