"""The event heap orders by time, then priority, then arrival (FIFO); the clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from suanli.kit.clock import Clock
from suanli.sim.events import EventQueue, SimClock


def test_events_pop_by_time_then_priority_then_first_in() -> None:
    queue: EventQueue[str] = EventQueue()
    for time, priority, name in [
        (5, 1, "a"),
        (5, 0, "b"),
        (3, 1, "c"),
        (5, 1, "d"),
        (5, 0, "e"),
        (0, 9, "f"),
        (5, 1, "g"),
    ]:
        queue.push(time, priority, name)
    assert len(queue) == 7
    assert queue.peek() is not None and queue.peek().payload == "f"  # type: ignore[union-attr]
    order = [queue.pop().payload for _ in range(7)]
    assert order == ["f", "c", "b", "e", "a", "d", "g"]
    assert not queue and queue.peek() is None


def test_payloads_never_take_part_in_the_order() -> None:
    queue: EventQueue[object] = EventQueue()
    queue.push(1, 0, {"unorderable": 1})
    queue.push(1, 0, {"unorderable": 2})
    assert queue.pop().payload == {"unorderable": 1}


def test_events_before_zero_are_refused() -> None:
    with pytest.raises(ValueError, match="time 0"):
        EventQueue[int]().push(-1, 0, 1)


def test_sim_clock_is_a_clock_of_aware_utc_times() -> None:
    epoch = datetime(2017, 10, 3, 8, 0, tzinfo=timezone(timedelta(hours=8)))
    clock: Clock = SimClock(epoch)
    assert clock.now() == datetime(2017, 10, 3, 0, 0, tzinfo=UTC)
    assert clock.now().tzinfo is UTC
    assert isinstance(clock, SimClock)
    clock.advance_to(90)
    assert clock.now() == datetime(2017, 10, 3, 0, 1, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match="backwards"):
        clock.advance_to(89)
    with pytest.raises(ValueError, match="aware"):
        SimClock(datetime(2017, 10, 3))  # noqa: DTZ001
