"""How fast the simulator replays a big trace: the Philly slice tiled to any length.

Copy ``k`` of the slice is shifted by ``k`` times the slice's span (last submission plus
one second), so the tiled trace is the same six weeks of demand repeated back to back on
the same centers. Job ids get a ``#k`` suffix to stay unique.
"""

from __future__ import annotations

import resource
import sys
import time
from dataclasses import replace
from typing import Any

from suanli.sim.model import Job
from suanli.sim.run import Replay, simulate
from suanli.sim.traces import Trace


def tiled(trace: Trace, jobs: int) -> Trace:
    """``trace`` repeated back to back until it holds ``jobs`` jobs."""
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, not {jobs}")
    if not trace.jobs:
        raise ValueError("cannot tile an empty trace")
    span = max(job.submit for job in trace.jobs) + 1
    out: list[Job] = []
    copy = 0
    while len(out) < jobs:
        shift = copy * span
        for job in trace.jobs[: jobs - len(out)]:
            out.append(replace(job, job_id=f"{job.job_id}#{copy}", submit=job.submit + shift))
        copy += 1
    return Trace(f"{trace.name} x{copy}", trace.epoch, tuple(out), trace.centers)


def copies_of(trace: Trace, jobs: int) -> int:
    """How many copies of ``trace`` :func:`tiled` starts for ``jobs`` jobs."""
    return -(-jobs // len(trace.jobs))


def peak_rss_mb() -> float:
    """This process's peak resident memory, in MB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def run_speed(trace: Trace, jobs: int, scenario: str = "exchange") -> dict[str, Any]:
    """Replay ``jobs`` jobs of the tiled trace once; wall time and memory."""
    big = tiled(trace, jobs)
    started = time.perf_counter()
    outcome = simulate(big, Replay(scenario=scenario))
    wall = time.perf_counter() - started
    metrics = outcome.metrics.as_dict()
    return {
        "jobs": len(big.jobs),
        "scenario": scenario,
        "copies": copies_of(trace, jobs),
        "replay_s": round(wall, 2),
        "jobs_per_s": round(len(big.jobs) / wall, 1) if wall > 0 else None,
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "utilization": metrics.get("utilization"),
        "never_ran": metrics.get("never_ran"),
    }
