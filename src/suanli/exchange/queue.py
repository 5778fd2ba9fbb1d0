"""Placing queued requests when capacity frees up or their start time comes.

Each request is tried in its own short transaction, oldest first, so a long queue never
holds locks for long and one failure does not undo the others. One snapshot serves the
whole pass (see :class:`SnapshotCache`); the database still decides every placement.
"""

from __future__ import annotations

from suanli.exchange.service import ENGINE, Exchange
from suanli.exchange.snapshot import SnapshotCache, demand_of
from suanli.kit.clock import Clock
from suanli.settings import Settings
from suanli.store import Database, work_repo
from suanli.vocab import RequestStatus


def place_queued(
    db: Database,
    clock: Clock,
    settings: Settings,
    *,
    buyer_id: int | None = None,
    limit: int = 10_000,
    cache: SnapshotCache | None = None,
) -> int:
    """Try every due queued request once; return how many were placed."""
    cache = cache if cache is not None else SnapshotCache()
    engine = ENGINE
    with db.transaction() as session:
        ids = work_repo.queued_due(session, clock.now(), buyer_id=buyer_id, limit=limit)
        snap = cache.get(session)
        # Ask the engine first, in memory: only requests that fit now get a transaction.
        candidates = [
            r.id
            for r in work_repo.queued_requests(session, ids)
            if engine.choose(snap, demand_of(r)) is not None
        ]
    placed = 0
    for request_id in candidates:
        with db.transaction() as session:
            request = work_repo.request(session, request_id, lock=True)
            if request is None or request.status is not RequestStatus.QUEUED:
                continue
            if Exchange(session, clock, settings).try_place(request, cache=cache) is not None:
                placed += 1
    return placed
