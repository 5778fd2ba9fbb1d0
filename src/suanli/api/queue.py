"""Placing queued requests after a change that may let them fit.

Scheduled with FastAPI background tasks, which run after the response (and therefore
after the change's commit), and by a periodic ticker in the server for start times and
retries. Both run only in the leader (:mod:`suanli.api.leader`): with several processes
on one database, the others leave the queue to it (their changes are in the database,
and the leader's next tick sees them). Passes never pile up: a pass asked for while one
runs makes the running one go round once more (:class:`Passes`), instead of waiting,
and what was asked for meanwhile is merged (:class:`Asks`): one full pass covers
everything, a general pass all buyers.

The leader keeps a :class:`~suanli.exchange.queue.QueueIndex` per database, so that a
pass only tries what changed may have made fit. It tries everything on its first pass,
whenever this process did not lead in between, and every ``full_every`` ticks of the
ticker (a safety net).
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable

from fastapi import BackgroundTasks

from suanli.api.context import AppState
from suanli.api.leader import Leadership, leadership_of
from suanli.exchange.agents import sweep_silent_centers
from suanli.exchange.queue import QueueIndex, place_queued
from suanli.store import Database

log = logging.getLogger("suanli.queue")

FULL_EVERY = 12
"""Ticks between full passes (a minute at the server's default five-second tick)."""


class Passes:
    """Runs queue passes one at a time without making anyone wait: asked while a pass
    runs, it notes that another round is due and returns at once; the running pass then
    goes round again, so every change is looked at by a pass that starts after it."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._running = False
        self._again = False

    def run(self, work: Callable[[], int]) -> int:
        with self._mutex:
            if self._running:
                self._again = True
                return 0
            self._running = True
        total = 0
        try:
            while True:
                total += work()
                with self._mutex:
                    if not self._again:
                        return total
                    self._again = False
        finally:
            with self._mutex:
                self._running = False


_PASSES: weakref.WeakKeyDictionary[Database, Passes] = weakref.WeakKeyDictionary()
_PASSES_LOCK = threading.Lock()


def passes_of(db: Database) -> Passes:
    with _PASSES_LOCK:
        found = _PASSES.get(db)
        if found is None:
            found = _PASSES[db] = Passes()
        return found


class Asks:
    """The passes asked for and not yet begun: a full one, a general one, or passes for
    some buyers (after a wallet top-up). Taking them merges: a full pass covers all, a
    general pass every buyer (it also tries the requests of buyers whose wallet rose)."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._full = False
        self._general = False
        self._buyers: set[int] = set()

    def add(self, buyer_id: int | None = None, *, full: bool = False) -> None:
        with self._mutex:
            if full:
                self._full = True
            elif buyer_id is None:
                self._general = True
            else:
                self._buyers.add(buyer_id)

    def take(self) -> list[tuple[int | None, bool]]:
        """``(buyer_id, full)`` of each pass to run now, in order; nothing is left."""
        with self._mutex:
            full, general, buyers = self._full, self._general, sorted(self._buyers)
            self._full = self._general = False
            self._buyers.clear()
        if full:
            return [(None, True)]
        if general:
            return [(None, False)]
        return [(buyer, False) for buyer in buyers]


_INDEXES: weakref.WeakKeyDictionary[Database, tuple[QueueIndex, Asks]] = weakref.WeakKeyDictionary()


def index_of(db: Database) -> tuple[QueueIndex, Asks]:
    """This process's queue index for ``db`` and the passes asked of it."""
    with _PASSES_LOCK:
        found = _INDEXES.get(db)
        if found is None:
            found = _INDEXES[db] = (QueueIndex(), Asks())
        return found


def run_placement(state: AppState, buyer_id: int | None = None, *, full: bool = False) -> int:
    """A pass over the queue (``buyer_id``: that buyer's requests; ``full``: every
    request), in the leader only; returns how many were placed."""
    index, asks = index_of(state.db)
    if not leadership_of(state.db).may_run():
        index.reset()  # another process places; leading again, this one starts over
        return 0
    asks.add(buyer_id, full=full)

    def work() -> int:
        placed = 0
        for buyer, whole in asks.take():
            try:
                placed += place_queued(
                    state.db,
                    state.clock,
                    state.settings,
                    buyer_id=buyer,
                    index=index,
                    full=whole,
                )
            except Exception:  # a failed pass must not kill the server; the next one retries
                log.exception("placing queued requests failed")
        return placed

    return passes_of(state.db).run(work)


def schedule_placement(
    background: BackgroundTasks, state: AppState, buyer_id: int | None = None
) -> None:
    background.add_task(run_placement, state, buyer_id)


class Ticker:
    """Every ``interval`` seconds until stopped, in the leader only: take silent centers
    offline, then run a placement pass, a full one every ``full_every`` ticks. The one
    timer for start times and retries."""

    def __init__(self, state: AppState, interval: float, full_every: int = FULL_EVERY) -> None:
        if full_every < 1:
            raise ValueError("full_every counts ticks: at least 1")
        self.state = state
        self.interval = interval
        self.full_every = full_every
        self.ticks = 0
        self.leadership: Leadership = leadership_of(state.db)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="suanli-queue", daemon=True)

    def start(self) -> None:
        self.leadership.contending = True
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.leadership.release()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.tick()

    def tick(self) -> None:
        """One tick: in the leader, sweep and place; elsewhere, forget what changed (the
        leader places meanwhile; leading again, this process starts with a full pass)."""
        if not self.leadership.held():
            index_of(self.state.db)[0].reset()
            return
        self.ticks += 1
        run_sweep(self.state)
        run_placement(self.state, full=self.ticks % self.full_every == 0)


def run_sweep(state: AppState) -> list[int]:
    """Take centers whose agent fell silent offline and requeue their work."""
    try:
        with state.db.transaction() as session:
            moved = sweep_silent_centers(session, state.clock, state.settings)
        if moved:
            log.warning("centers %s taken offline: their agents are silent", moved)
        return moved
    except Exception:  # the next tick retries
        log.exception("sweeping silent centers failed")
        return []
