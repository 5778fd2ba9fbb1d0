"""A tiny trace worked out by hand for both scenarios; never-runnable jobs; load scaling.

Centers A and B, one node of 8 GPUs each; jobs (submit s, duration s, GPUs, home)::

    j1   0  100  8  A
    j2  10   50  4  A
    j3  20   30  4  B
    j4  30   40  8  A

isolated: j1 takes A at 0 (until 100); j2 queues at A; j3 takes half of B at 20 (until
50); j4 queues behind j2. At 100 A is free: j2 starts (until 150), j4 (8 GPUs) does not
fit beside it; at 150 j4 starts (until 190). Waits 0, 90, 0, 120; completion times 100,
140, 30, 160 (mean 107.5).

exchange, penalty 5 s: j1 takes A at 0; j2 finds A full and goes to B at 10, running from
15 to 65 (cards held from 10); j3 fits at home B at 20 (until 50); j4 fits nowhere (A full,
B half used), and after j3 leaves B still holds j2; at 65 it goes to B, running 70 to 110.
Waits 0, 5, 0, 40; completion times 100, 55, 30, 80 (mean 66.25).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from suanli.sim.metrics import nearest_rank
from suanli.sim.model import Center, Job
from suanli.sim.run import Replay, simulate
from suanli.sim.traces import Trace

EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
CENTERS = (Center("A", 1, 8), Center("B", 1, 8))
JOBS = (
    Job("j1", 0, 100, 8, "A"),
    Job("j2", 10, 50, 4, "A"),
    Job("j3", 20, 30, 4, "B"),
    Job("j4", 30, 40, 8, "A"),
)
TINY = Trace("tiny", EPOCH, JOBS, CENTERS)


def test_isolated_by_hand() -> None:
    out = simulate(TINY, Replay("isolated", span="all"))
    assert out.start == (0, 100, 20, 150)
    assert out.end == (100, 150, 50, 190)
    assert out.center == (0, 0, 1, 0)
    m = out.metrics
    assert (m.jobs, m.ran, m.never_ran, m.away) == (4, 4, 0, 0)
    assert (m.waits.p50, m.waits.p95, m.waits.p99) == (0, 120, 120)
    assert m.jct_mean_s == 107.5
    # span 0..190: 16 cards * 190 s; held 8*100 + 4*50 + 4*30 + 8*40
    assert (m.span_start, m.span_end) == (0, 190)
    assert m.available_card_s == 3040
    assert m.allocated_card_s == 800 + 200 + 120 + 320
    assert m.idle_card_s == 3040 - 1440
    a, b = m.centers
    assert (a.allocated_card_s, b.allocated_card_s) == (1320, 120)
    assert a.available_card_s == b.available_card_s == 1520
    assert m.by_size["2-4"].jobs == 2 and m.by_size["2-4"].p95 == 90
    assert m.by_size["5-8"].p50 == 0 and m.by_size["5-8"].p99 == 120


def test_isolated_over_the_arrival_window() -> None:
    m = simulate(TINY, Replay("isolated")).metrics
    # 0..30: j1 8*30, j3 4*10 of 16*30
    assert (m.span_start, m.span_end) == (0, 30)
    assert (m.allocated_card_s, m.available_card_s) == (280, 480)
    assert m.as_dict()["utilization"] == round(280 / 480, 6)
    assert m.as_dict()["idle_card_hours"] == round(200 / 3600, 3)


def test_exchange_by_hand() -> None:
    out = simulate(TINY, Replay("exchange", penalty_s=5, span="all"))
    assert out.start == (0, 15, 20, 70)
    assert out.end == (100, 65, 50, 110)
    assert out.center == (0, 1, 1, 1)
    m = out.metrics
    assert (m.ran, m.never_ran, m.away) == (4, 0, 2)
    assert (m.waits.p50, m.waits.p95, m.waits.p99) == (0, 40, 40)
    assert m.jct_mean_s == 66.25
    # span 0..110; held 8*100 + 4*55 (from placement at 10) + 4*30 + 8*45 (from 65)
    assert (m.available_card_s, m.allocated_card_s) == (1760, 800 + 220 + 120 + 360)
    assert [c.allocated_card_s for c in m.centers] == [800, 700]
    arrivals = simulate(TINY, Replay("exchange", penalty_s=5)).metrics
    assert (arrivals.allocated_card_s, arrivals.available_card_s) == (240 + 80 + 40, 480)


def test_default_penalty_is_five_minutes() -> None:
    out = simulate(TINY, Replay("exchange"))
    assert out.start[1] == 10 + 300


def test_jobs_bigger_than_home_never_run_isolated() -> None:
    centers = (Center("A", 1, 8), Center("B", 2, 8))
    jobs = (Job("big", 0, 10, 16, "A"), Job("lost", 0, 10, 1, "Z"), Job("huge", 5, 10, 64, "B"))
    trace = Trace("t", EPOCH, jobs, centers)
    isolated = simulate(trace, Replay("isolated"))
    assert isolated.metrics.never_ran == 3
    assert isolated.start == (-1, -1, -1)
    exchange = simulate(trace, Replay("exchange", penalty_s=0))
    assert exchange.metrics.never_ran == 1  # 64 GPUs fit nowhere
    assert exchange.center[:2] == (1, 0)  # the gang of 2x8 on B, the lost job at A
    assert exchange.metrics.centers[-1].name == "Z"
    assert exchange.metrics.centers[-1].cards == 0


def test_load_compresses_inter_arrival_times() -> None:
    out = simulate(TINY, Replay("isolated", load=4))
    assert out.arrive == (0, 2, 5, 7)
    assert out.start[0] == 0 and out.start[2] == 5


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scenario": "pooled"}, "unknown scenario"),
        ({"load": 0}, "positive"),
        ({"load": -2.0}, "positive"),
        ({"penalty_s": -1}, "negative"),
        ({"span": "week"}, "unknown span"),
    ],
)
def test_bad_replays_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Replay(**kwargs)  # type: ignore[arg-type]


def test_nearest_rank() -> None:
    values = list(range(1, 101))
    assert nearest_rank(values, 50) == 50
    assert nearest_rank(values, 95) == 95
    assert nearest_rank([10, 20, 30], 50) == 20  # ceil(1.5) = 2
    assert nearest_rank([10, 20, 30], 99) == 30
    assert nearest_rank([7], 1) == 7
    assert nearest_rank([], 50) is None
    with pytest.raises(ValueError, match=r"1\.\.100"):
        nearest_rank(values, 0)
