"""Backfill against strict first-in-first-out in the replay, by hand.

Center A, one node of 8 GPUs; j1 (6 GPUs) runs from 0 to 100, j2 (8 GPUs) arrives at 10
and queues, j3 (2 GPUs) arrives at 20:

- short j3 (30 s): backfill starts it at once beside j1 (20..50), j2 still starts at 100;
  strict order makes j3 wait behind j2 (100..150) and start at 150;
- long j3 (200 s): backfill starts it at once (20..220) and j2, which could have started
  at 100, waits until 220; strict order keeps j2's turn (100..150), j3 starts at 150.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from suanli.sim.model import Center, Job
from suanli.sim.run import Replay, simulate
from suanli.sim.traces import Trace

EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


def trace(j3_duration: int) -> Trace:
    jobs = (
        Job("j1", 0, 100, 6, "A"),
        Job("j2", 10, 50, 8, "A"),
        Job("j3", 20, j3_duration, 2, "A"),
    )
    return Trace("hol", EPOCH, jobs, (Center("A", 1, 8),))


@pytest.mark.parametrize("scenario", ["isolated", "exchange"])
@pytest.mark.parametrize(
    ("j3_duration", "backfill", "fifo"),
    [(30, (0, 100, 20), (0, 100, 150)), (200, (0, 220, 20), (0, 100, 150))],
    ids=["short", "long"],
)
def test_backfill_and_strict_order_by_hand(
    scenario: str, j3_duration: int, backfill: tuple[int, ...], fifo: tuple[int, ...]
) -> None:
    assert simulate(trace(j3_duration), Replay(scenario, span="all")).start == backfill
    assert simulate(trace(j3_duration), Replay(scenario, span="all", queue="fifo")).start == fifo


def test_an_unknown_queue_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown queue policy"):
        Replay(queue="lifo")


def test_a_job_preempted_during_a_pass_goes_back_once_and_runs_once() -> None:
    """On-demand o3 finds no room when j1 leaves at 100 and takes the node back from
    interruptible f2; f2 goes back to the queue once, runs once more, and no job is
    started twice."""
    jobs = (
        Job("j1", 0, 100, 8, "A"),
        Job("f2", 5, 500, 4, "A", interruptible=True),
        Job("o3", 10, 50, 8, "A"),
    )
    out = simulate(Trace("pre", EPOCH, jobs, (Center("A", 1, 8),)), Replay(span="all"))
    # at 100 j1 leaves: f2 (queued first) starts on half the node, o3 then preempts it
    assert out.metrics.preemptions == 1
    assert out.start[2] == 100
    assert out.start[1] == 150  # f2 again after o3 (100..150)
    assert out.end[1] == 650
    assert out.metrics.never_ran == 0
