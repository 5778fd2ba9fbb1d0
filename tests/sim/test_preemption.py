"""Preemption in the replay, worked out by hand.

Center A, one node of 8 GPUs; jobs (submit s, duration s, GPUs, interruptible)::

    f1   0  100  8  yes
    o2  10   50  4  no

o2 fits nowhere at 10, so it takes A back from f1 (which ran 10 s: 80 card-seconds lost);
f1 goes back to the queue at 10 and does not fit beside o2; at 60 o2 leaves and f1 runs
again from the start, 60 to 160. Waits: f1 50 (queued 10..60), o2 0.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from suanli.sim.model import Center, Job
from suanli.sim.run import Replay, simulate
from suanli.sim.traces import Trace

EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
ONE = Trace(
    "one",
    EPOCH,
    (Job("f1", 0, 100, 8, "A", interruptible=True), Job("o2", 10, 50, 4, "A")),
    (Center("A", 1, 8),),
)


@pytest.mark.parametrize("scenario", ["isolated", "exchange"])
def test_on_demand_preempts_interruptible_by_hand(scenario: str) -> None:
    out = simulate(ONE, Replay(scenario, span="all"))
    assert out.start == (60, 10)
    assert out.end == (160, 60)
    m = out.metrics
    assert (m.preemptions, m.lost_card_s) == (1, 80)
    assert sorted([m.waits.p50, m.waits.p99]) == [0, 50]
    assert m.wait_total_s == 50
    assert m.jct_total_s == 160 + 50
    # f1's first 10 s count as allocated: 80 + 4 * 50 + 8 * 100 of 8 * 160
    assert (m.allocated_card_s, m.available_card_s) == (1080, 1280)
    assert m.as_dict()["preemptions"] == 1


def test_interruptible_work_does_not_preempt_interruptible_work() -> None:
    jobs = (
        Job("f1", 0, 100, 8, "A", interruptible=True),
        Job("f2", 10, 50, 4, "A", interruptible=True),
    )
    out = simulate(Trace("both", EPOCH, jobs, ONE.centers), Replay("isolated", span="all"))
    assert out.start == (0, 100)
    assert out.metrics.preemptions == 0


def test_seeded_share_marks_jobs_interruptible() -> None:
    jobs = (Job("a", 0, 100, 8, "A"), Job("b", 10, 50, 4, "A"))
    plain = Trace("plain", EPOCH, jobs, ONE.centers)
    assert simulate(plain, Replay("isolated")).metrics.preemptions == 0
    # every job interruptible: nobody may preempt, b waits for a
    everyone = simulate(plain, Replay("isolated", interruptible=1.0, span="all"))
    assert everyone.start == (0, 100)
    assert everyone.metrics.preemptions == 0
    with pytest.raises(ValueError, match="share"):
        Replay(interruptible=1.5)


def test_exchange_preempts_at_home_first() -> None:
    # A and B one 8-GPU node each, both full of interruptible work at 0 (f1 at A, f3 at B);
    # o2 (8 GPUs, home A) arrives at 5 and takes A back from f1 (40 card-seconds lost), no
    # penalty. o2 ends at 25, and f1 restarts at home A at 25 (B is still f3's until 30).
    trace = Trace(
        "two",
        EPOCH,
        (
            Job("f1", 0, 50, 8, "A", interruptible=True),
            Job("f3", 0, 30, 8, "B", interruptible=True),
            Job("o2", 5, 20, 8, "A"),
        ),
        (Center("A", 1, 8), Center("B", 1, 8)),
    )
    out = simulate(trace, Replay("exchange", penalty_s=3, span="all"))
    assert out.start == (25, 0, 5)
    assert out.center == (0, 1, 0)
    assert (out.metrics.preemptions, out.metrics.lost_card_s) == (1, 40)
    assert out.metrics.wait_total_s == 20
