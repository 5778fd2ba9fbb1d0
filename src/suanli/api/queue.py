"""Placing queued requests after a change that may let them fit.

Scheduled with FastAPI background tasks, which run after the response (and therefore
after the change's commit), and by a periodic ticker in the server for start times and
retries. Both run only in the leader (:mod:`suanli.api.leader`): with several processes
on one database, the others leave the queue to it (their changes are in the database,
and the leader's next tick sees them). Passes never pile up: a pass asked for while one
runs makes the running one go round once more (:class:`Passes`), instead of waiting.
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
from suanli.exchange.queue import place_queued
from suanli.store import Database

log = logging.getLogger("suanli.queue")


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


def run_placement(state: AppState, buyer_id: int | None = None) -> int:
    """One pass over the queue, in the leader only; returns how many were placed."""
    if not leadership_of(state.db).may_run():
        return 0

    def work() -> int:
        try:
            return place_queued(state.db, state.clock, state.settings, buyer_id=buyer_id)
        except Exception:  # a failed pass must not kill the server; the next pass retries
            log.exception("placing queued requests failed")
            return 0

    return passes_of(state.db).run(work)


def schedule_placement(
    background: BackgroundTasks, state: AppState, buyer_id: int | None = None
) -> None:
    background.add_task(run_placement, state, buyer_id)


class Ticker:
    """Every ``interval`` seconds until stopped, in the leader only: take silent centers
    offline, then run a placement pass. The one timer for start times and retries."""

    def __init__(self, state: AppState, interval: float) -> None:
        self.state = state
        self.interval = interval
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
            if self.leadership.held():
                run_sweep(self.state)
                run_placement(self.state)


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
