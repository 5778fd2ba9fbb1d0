"""Tiling a trace for the simulator's speed benchmark."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from suanli.bench.sim_speed import copies_of, run_speed, tiled
from suanli.sim.model import Center, Job
from suanli.sim.traces import Trace

TRACE = Trace(
    "tiny",
    datetime(2026, 1, 1, tzinfo=UTC),
    (Job("a", 0, 10, 1, "c"), Job("b", 5, 10, 2, "c"), Job("c", 9, 10, 1, "c")),
    (Center("c", 1, 8),),
)


def test_copies_follow_each_other_and_ids_stay_unique() -> None:
    big = tiled(TRACE, 7)
    assert [j.submit for j in big.jobs] == [0, 5, 9, 10, 15, 19, 20]
    assert [j.job_id for j in big.jobs][:4] == ["a#0", "b#0", "c#0", "a#1"]
    assert len({j.job_id for j in big.jobs}) == 7
    assert big.centers == TRACE.centers
    assert copies_of(TRACE, 7) == 3


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        tiled(TRACE, 0)
    with pytest.raises(ValueError, match="empty"):
        tiled(Trace("none", TRACE.epoch, (), TRACE.centers), 3)


def test_the_speed_run_reports_its_figures() -> None:
    figures = run_speed(TRACE, 30, "exchange")
    assert figures["jobs"] == 30 and figures["copies"] == 10
    assert figures["never_ran"] == 0 and figures["replay_s"] >= 0
