"""``suanli bench scale``: the engine at national scale, online and in batch.

What is measured, on a fleet of :mod:`.scale_fleet` and requests of :mod:`.scale_requests`:

1. ``snapshot_build_s``: :meth:`ScaleFleet.snapshot`, every node through the engine's
   ``SnapshotBuilder`` (the fleet's own generation is ``fleet_build_s``, reported after).
2. Online, as the live exchange places: one request at a time in arrival order,
   ``Engine.place`` (the decision: a placement, or reasons and nearest offers) then
   ``Engine.reserve``; each placement is released (``Engine.unreserve``) once its hold of
   later arrivals has passed, so the fleet settles near its target utilization.
   ``placements_per_s`` is requests handled per second of that whole loop (decisions,
   reservations and releases); ``p50_decision_ms`` / ``p99_decision_ms`` are percentiles
   of the ``place`` calls alone.
3. ``batch_clear_s``: all the requests at once on a freshly built idle fleet, with the
   engine's batch mode (``Engine.clear``: one pass, scarcest then biggest first, every
   placement reserved), no departures. With ``bound`` the share of the fleet that the
   pass fills is set beside an LP upper bound on any clearing (:mod:`.scale_bound`,
   HiGHS; solved after the timings, not part of them).
4. ``peak_rss_mb``: the process's peak resident memory (``resource.getrusage``).

Both runs use the ``price`` policy (the live exchange's). Before each timed loop the
objects built so far (fleet, requests, snapshot) are moved to the garbage collector's
permanent generation (``gc.freeze``), as a long-running server does after start-up, so
that full collections do not rescan them; collection stays on.
"""

from __future__ import annotations

import gc
import resource
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from suanli.bench.scale_bound import placeable_bound
from suanli.bench.scale_fleet import ScaleFleet, build_scale_fleet
from suanli.bench.scale_requests import TimedDemand, hold_for, make_requests
from suanli.engine import Engine, Placement, Snapshot, make_engine

__all__ = ["Online", "Tracker", "batch", "online", "run_scale"]

STEP = 1000


class Tracker(Protocol):
    """Where progress goes (a Rich progress bar in the CLI)."""

    def phase(self, name: str, total: int) -> None: ...

    def advance(self, done: int) -> None: ...


class _Quiet:
    def phase(self, name: str, total: int) -> None:
        pass

    def advance(self, done: int) -> None:
        pass


@dataclass
class Online:
    """The outcome of an online run."""

    seconds: float
    decision_ns: np.ndarray[Any, np.dtype[np.int64]]
    placed: int
    live: list[Placement]
    """Placements not yet released at the end, as reserved."""

    @property
    def requests(self) -> int:
        return int(self.decision_ns.shape[0])


def online(
    engine: Engine, snap: Snapshot, requests: Sequence[TimedDemand], tracker: Tracker | None = None
) -> Online:
    """Place, reserve and release ``requests`` in arrival order (see the module docstring)."""
    tracker = tracker or _Quiet()
    tracker.phase("online: place, reserve, release", len(requests))
    place, reserve, unreserve = engine.place, engine.reserve, engine.unreserve
    clock = time.perf_counter_ns
    latency = [0] * len(requests)
    due: dict[int, list[Placement]] = {}  # arrival -> placements released before it
    placed = 0
    start = time.perf_counter()
    for i, item in enumerate(requests):
        leaving = due.pop(i, None)
        if leaving is not None:
            for placement in leaving:
                unreserve(snap, placement)
        before = clock()
        result = place(snap, item.demand)
        latency[i] = clock() - before
        if isinstance(result, Placement):
            placed += 1
            named = reserve(snap, result)
            at = i + item.hold
            held = due.get(at)
            if held is None:
                due[at] = [named]
            else:
                held.append(named)
        if not (i + 1) % STEP:
            tracker.advance(STEP)
    seconds = time.perf_counter() - start
    tracker.advance(len(requests) % STEP)
    live = [p for _, held in sorted(due.items()) for p in held]
    return Online(seconds, np.array(latency, dtype=np.int64), placed, live)


def batch(
    engine: Engine, snap: Snapshot, requests: Sequence[TimedDemand], tracker: Tracker | None = None
) -> tuple[float, list[Placement | None]]:
    """Clear all ``requests`` at once (``Engine.clear``); seconds taken and placements."""
    tracker = tracker or _Quiet()
    tracker.phase("batch: clear all at once", len(requests))
    demands = [r.demand for r in requests]
    start = time.perf_counter()
    placements = engine.clear(snap, demands)
    seconds = time.perf_counter() - start
    tracker.advance(len(requests))
    return seconds, placements


def _timed(fleet: ScaleFleet) -> tuple[Snapshot, float]:
    start = time.perf_counter()
    snap = fleet.snapshot()
    return snap, time.perf_counter() - start


def run_scale(
    cards: int,
    centers: int,
    requests: int,
    *,
    seed: int = 7,
    utilization_pct: int = 75,
    bound: bool = False,
    tracker: Tracker | None = None,
) -> dict[str, Any]:
    """The whole benchmark; the figures in ``--json`` order (required keys first)."""
    tracker = tracker or _Quiet()
    tracker.phase("building the fleet and the requests", 1)
    start = time.perf_counter()
    fleet = build_scale_fleet(cards, centers, seed)
    fleet_s = time.perf_counter() - start
    demands = make_requests(
        fleet.pools, requests, seed, hold=hold_for(fleet.cards, utilization_pct)
    )
    snap, build_s = _timed(fleet)
    tracker.advance(1)
    gc.collect()
    gc.freeze()
    try:
        live = online(make_engine("price"), snap, demands, tracker)
        busy = fleet.cards * 1000 - snap.free_gpu_milli()
        del snap
        idle, _ = _timed(fleet)
        gc.collect()
        gc.freeze()
        batch_s, cleared = batch(make_engine("price"), idle, demands, tracker)
    finally:
        gc.unfreeze()
    most = None
    if bound:
        tracker.phase("bound: an LP over pools (HiGHS)", 1)
        most = placeable_bound(make_engine("price"), fleet.snapshot(), [r.demand for r in demands])
        tracker.advance(1)
    ms = live.decision_ns / 1e6
    done = [p for p in cleared if p is not None]
    asked = sum(r.demand.total_gpu_milli for r in demands)
    return {
        "cards": fleet.cards,
        "centers": fleet.centers,
        "requests": requests,
        "snapshot_build_s": round(build_s, 3),
        "placements_per_s": round(live.requests / live.seconds, 1),
        "p50_decision_ms": round(float(np.percentile(ms, 50)), 4),
        "p99_decision_ms": round(float(np.percentile(ms, 99)), 4),
        "batch_clear_s": round(batch_s, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "seed": seed,
        "nodes": fleet.node_count,
        "pools": len(fleet.pools),
        "fleet_build_s": round(fleet_s, 3),
        "online_s": round(live.seconds, 3),
        "online_placed_per_s": round(live.placed / live.seconds, 1),
        "online_placed": live.placed,
        "online_unplaced": live.requests - live.placed,
        "mean_decision_ms": round(float(ms.mean()), 4),
        "max_decision_ms": round(float(ms.max()), 4),
        "busy_pct_at_end": round(busy / (fleet.cards * 10), 2),
        "batch_placed": len(done),
        "batch_unplaced": len(cleared) - len(done),
        "batch_busy_pct": round(sum(p.gpu_milli for p in done) / (fleet.cards * 10), 2),
        "batch_asked_pct": round(asked / (fleet.cards * 10), 2),
        **({} if most is None else {"batch_bound_pct": round(most / (fleet.cards * 10), 2)}),
    }
