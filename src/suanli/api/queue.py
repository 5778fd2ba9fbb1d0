"""Placing queued requests after a change that may let them fit.

Scheduled with FastAPI background tasks, which run after the response (and therefore
after the change's commit), and by a periodic ticker in the server for start times.
"""

from __future__ import annotations

import logging
import threading

from fastapi import BackgroundTasks

from suanli.api.context import AppState
from suanli.exchange.agents import sweep_silent_centers
from suanli.exchange.queue import place_queued

log = logging.getLogger("suanli.queue")
_lock = threading.Lock()


def run_placement(state: AppState, buyer_id: int | None = None) -> int:
    """One pass over the queue; passes in one process never overlap."""
    with _lock:
        try:
            return place_queued(state.db, state.clock, state.settings, buyer_id=buyer_id)
        except Exception:  # a failed pass must not kill the server; the next pass retries
            log.exception("placing queued requests failed")
            return 0


def schedule_placement(
    background: BackgroundTasks, state: AppState, buyer_id: int | None = None
) -> None:
    background.add_task(run_placement, state, buyer_id)


class Ticker:
    """Every ``interval`` seconds until stopped: take silent centers offline, then run a
    placement pass."""

    def __init__(self, state: AppState, interval: float) -> None:
        self.state = state
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="suanli-queue", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
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
