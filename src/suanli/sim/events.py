"""The event heap and the simulated clock.

Events are ordered by ``(time, priority, sequence)``: earlier first, then the lower
priority number, then the one pushed first. The running sequence number makes ties
first-in-first-out, so a run is a pure function of its input. Times are integer seconds
since the clock's epoch.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True, order=True)
class Event(Generic[T]):
    """Something that happens at ``time`` (s); ``payload`` never takes part in the order."""

    time: int
    priority: int
    seq: int
    payload: T = field(compare=False)


class EventQueue(Generic[T]):
    """A min-heap of events by (time, priority, sequence number)."""

    def __init__(self) -> None:
        self._heap: list[Event[T]] = []
        self._seq = 0

    def push(self, time: int, priority: int, payload: T) -> Event[T]:
        if time < 0:
            raise ValueError("events happen at or after time 0")
        event = Event(time, priority, self._seq, payload)
        self._seq += 1
        heapq.heappush(self._heap, event)
        return event

    def pop(self) -> Event[T]:
        return heapq.heappop(self._heap)

    def peek(self) -> Event[T] | None:
        return self._heap[0] if self._heap else None

    def __len__(self) -> int:
        return len(self._heap)

    def __bool__(self) -> bool:
        return bool(self._heap)


class SimClock:
    """Simulated time: a :class:`suanli.kit.clock.Clock` that the event loop moves.

    It keeps integer seconds since ``epoch`` (aware, UTC) and never runs backwards.
    """

    def __init__(self, epoch: datetime) -> None:
        if epoch.tzinfo is None:
            raise ValueError("SimClock needs a timezone-aware epoch")
        self.epoch = epoch.astimezone(UTC)
        self.seconds = 0

    def now(self) -> datetime:
        return self.epoch + timedelta(seconds=self.seconds)

    def advance_to(self, seconds: int) -> None:
        if seconds < self.seconds:
            raise ValueError("a clock does not run backwards")
        self.seconds = seconds
