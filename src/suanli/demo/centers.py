"""The agents of the demo's centers, simulated: they start the leases placed at their
center and end each one when its paid time is up, reporting its metered use.

The replay (:mod:`suanli.demo.runner`) calls :func:`start_lease` and :func:`finish_lease`
on its simulated clock. While ``suanli demo`` serves, :class:`SimulatedCenters` calls the
same two functions on the wall clock every few seconds, so that the demo's leases keep
starting and ending after the replay instead of running for ever. Only the demo's own
centers are simulated: a center registered later (the README tour's Guiyang-2) is run by
its provider, by hand or with ``suanli agent run``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection
from datetime import datetime, timedelta

from sqlalchemy import select

from suanli.exchange.schemas import UsageIn
from suanli.exchange.service import Exchange
from suanli.kit.clock import Clock, as_utc
from suanli.settings import Settings
from suanli.store import Database
from suanli.store.models import Lease
from suanli.vocab import LeaseStatus

log = logging.getLogger("suanli.demo")

STARTED = "started by the center (demo)"
FINISHED = "job finished"


def start_lease(exchange: Exchange, lease_id: int) -> Lease:
    """The center starts a placed lease now."""
    return exchange.start(lease_id, STARTED)


def lease_end(lease: Lease) -> datetime | None:
    """When a running lease's paid time is up (None before it starts)."""
    if lease.started_at is None:
        return None
    return as_utc(lease.started_at) + timedelta(seconds=lease.duration_s)


def finish_lease(exchange: Exchange, lease_id: int) -> bool:
    """The job ran its whole paid time: report that as metered use and complete the
    lease. False (and nothing written) if the lease is no longer running: preempted,
    cancelled or ended by hand meanwhile."""
    lease = exchange.get_lease(lease_id)
    end = lease_end(lease)
    if lease.status is not LeaseStatus.RUNNING or end is None:
        return False
    exchange.record_usage(
        lease.id,
        UsageIn(
            card_seconds=lease.cards * lease.duration_s,
            period_start=end - timedelta(seconds=lease.duration_s),
            period_end=end,
            external_id=f"demo-{lease.id}",
            source="demo",
        ),
    )
    exchange.complete(lease.id, FINISHED)
    return True


class SimulatedCenters:
    """Every ``interval`` seconds (in a thread, beside the server) until stopped: end the
    running leases of ``center_ids`` whose time is up, then start the ones placed there.

    Each lease is handled in its own transaction; one that fails is logged and skipped
    (and not tried again), and a failed pass is retried at the next tick."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        settings: Settings,
        center_ids: Collection[int],
        *,
        interval: float = 5.0,
    ) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.center_ids = sorted(set(center_ids))
        self.interval = interval
        self._failed: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="suanli-demo-centers", daemon=True)

    def tick(self) -> tuple[int, int]:
        """One pass; returns how many leases ended and how many started."""
        if not self.center_ids:
            return 0, 0
        now = self.clock.now()
        with self.db.transaction() as session:
            live = session.scalars(
                select(Lease)
                .where(
                    Lease.center_id.in_(self.center_ids),
                    Lease.status.in_((LeaseStatus.PLACED, LeaseStatus.RUNNING)),
                )
                .order_by(Lease.id)
            ).all()
            due = [
                lease.id
                for lease in live
                if lease.status is LeaseStatus.RUNNING and (lease_end(lease) or now) <= now
            ]
            placed = [lease.id for lease in live if lease.status is LeaseStatus.PLACED]
        return self._each(due, finish_lease), self._each(placed, start_lease)

    def _each(self, lease_ids: list[int], act: Callable[[Exchange, int], object]) -> int:
        done = 0
        for lease_id in lease_ids:
            if lease_id in self._failed:
                continue
            try:
                with self.db.transaction() as session:
                    done += bool(act(Exchange(session, self.clock, self.settings), lease_id))
            except Exception:
                self._failed.add(lease_id)
                log.exception("the demo's simulated center could not move lease %s", lease_id)
        return done

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.tick()
            except Exception:  # the next tick retries
                log.exception("the demo's simulated centers failed a pass")
