"""The figures of one replay, counted exactly in integer seconds.

- **Utilization**: allocated card-seconds / available card-seconds over the measured span,
  per center and overall. A job's cards count as allocated from the moment it is placed
  (including any locality penalty, while its data moves) until it ends; only the part
  inside the span counts. **Idle card-hours** = available minus allocated, in hours.
- **Span**: by default the arrival window, from the first to the last arrival of the
  (load-scaled) trace, the same for every scenario, however long each takes to drain;
  ``span="all"`` measures from the first arrival to the last departure instead. A
  degenerate arrival window (all jobs at one instant) falls back to ``"all"``.
- **Queueing delay** (wait) = start of running - submission, where the start includes the
  locality penalty (for a preempted job: all its time queued, over every attempt);
  **job completion time** (JCT) = end - submission. Over the jobs that
  ran; percentiles p50 / p95 / p99 overall and by job size (:data:`SIZE_BUCKETS`).
- **Percentiles** use the nearest-rank method: the value of rank ``ceil(p / 100 * n)`` in
  ascending order (1-based), so a percentile is always one of the observed waits.
- **never_ran**: jobs that cannot fit the centers they may use even when these are empty.
- **Over time**: ``hourly_card_s[k]`` is the allocated card-seconds of all centers in the
  hour ``[span_start + k * 3600, span_start + (k + 1) * 3600)`` clipped to the span (the
  last bucket may be shorter); :meth:`Metrics.hourly_utilization` divides by what the
  fleet offered in each bucket.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

#: Job size buckets (GPUs, inclusive): name -> (least, most).
SIZE_BUCKETS: dict[str, tuple[int, int]] = {
    "1": (1, 1),
    "2-4": (2, 4),
    "5-8": (5, 8),
    "9-32": (9, 32),
    "33+": (33, 1 << 62),
}
PERCENTILES = (50, 95, 99)
BUCKET_S = 3600
"""The width of the buckets of :attr:`Metrics.hourly_card_s`."""


def nearest_rank(ordered: Sequence[int], pct: int) -> int | None:
    """The ``pct`` percentile (0 < pct <= 100) of ascending ``ordered`` by nearest rank."""
    if not 0 < pct <= 100:
        raise ValueError("a percentile is in 1..100")
    n = len(ordered)
    if n == 0:
        return None
    rank = -(-pct * n // 100)  # ceil(pct * n / 100), exactly
    return ordered[rank - 1]


def hourly(held: Sequence[tuple[int, int, int]], first: int, last: int) -> tuple[int, ...]:
    """Allocated card-seconds per :data:`BUCKET_S` bucket of ``[first, last)``, from
    ``(cards, begin, end)`` holds; exact, and O(1) per hold plus O(buckets)."""
    width = last - first
    if width <= 0:
        return ()
    n = -(-width // BUCKET_S)
    sums = [0] * n
    full = [0] * (n + 1)  # difference array of cards held over whole buckets
    for cards, begin, end in held:
        lo, hi = max(begin, first) - first, min(end, last) - first
        if hi <= lo:
            continue
        a, b = lo // BUCKET_S, (hi - 1) // BUCKET_S
        if a == b:
            sums[a] += cards * (hi - lo)
            continue
        sums[a] += cards * ((a + 1) * BUCKET_S - lo)
        sums[b] += cards * (hi - b * BUCKET_S)
        if b > a + 1:
            full[a + 1] += cards
            full[b] -= cards
    running = 0
    for k in range(n):
        running += full[k]
        sums[k] += running * BUCKET_S
    return tuple(sums)


def bucket_of(cards: int) -> str:
    return next(name for name, (lo, hi) in SIZE_BUCKETS.items() if lo <= cards <= hi)


@dataclass(frozen=True, slots=True)
class Waits:
    """Percentiles of the waits of some jobs (seconds; None when there are none)."""

    jobs: int
    p50: int | None
    p95: int | None
    p99: int | None

    @classmethod
    def of(cls, waits: Sequence[int]) -> Waits:
        ordered = sorted(waits)
        p50, p95, p99 = (nearest_rank(ordered, p) for p in PERCENTILES)
        return cls(len(ordered), p50, p95, p99)


@dataclass(frozen=True, slots=True)
class CenterUse:
    name: str
    cards: int
    available_card_s: int
    allocated_card_s: int

    @property
    def utilization(self) -> float | None:
        if not self.available_card_s:
            return None
        return self.allocated_card_s / self.available_card_s


#: The headline figures of every replay (the study's ``--json`` after "jobs"); keys of
#: :meth:`Metrics.as_dict`.
HEADLINE = (
    "utilization",
    "idle_card_hours",
    "wait_p50_s",
    "wait_p95_s",
    "wait_p99_s",
    "jct_mean_s",
    "never_ran",
)


@dataclass(frozen=True, slots=True)
class Metrics:
    """What :func:`suanli.sim.run.simulate` measured."""

    jobs: int
    ran: int
    never_ran: int
    span_start: int
    span_end: int
    available_card_s: int
    allocated_card_s: int
    away: int
    """Jobs that ran outside their home center."""
    wait_total_s: int
    jct_total_s: int
    waits: Waits
    by_size: dict[str, Waits]
    centers: tuple[CenterUse, ...] = field(default=())
    hourly_card_s: tuple[int, ...] = field(default=())
    """Allocated card-seconds per hour of the span (see the module docstring)."""
    cost_to_buyers_fen: int = 0
    """What buyers paid at the list price (less vouchers), for every job that ran."""
    voucher_fen: int = 0
    sme_offered: int = 0
    sme_bought: int = 0
    induced_card_hours: float = 0.0
    voucher_fen_per_extra_card_hour: float | None = None
    preemptions: int = 0
    lost_card_s: int = 0
    """Card-seconds that preempted jobs ran before they were stopped (work thrown away)."""

    @property
    def utilization(self) -> float | None:
        if not self.available_card_s:
            return None
        return self.allocated_card_s / self.available_card_s

    @property
    def idle_card_s(self) -> int:
        return self.available_card_s - self.allocated_card_s

    @property
    def jct_mean_s(self) -> float | None:
        return self.jct_total_s / self.ran if self.ran else None

    @property
    def wait_mean_s(self) -> float | None:
        return self.wait_total_s / self.ran if self.ran else None

    def hourly_utilization(self) -> list[float]:
        """Utilization of the whole fleet per bucket of :attr:`hourly_card_s`."""
        cards = sum(c.cards for c in self.centers)
        width = self.span_end - self.span_start
        out: list[float] = []
        for k, used in enumerate(self.hourly_card_s):
            seconds = min(BUCKET_S, width - k * BUCKET_S)
            out.append(used / (cards * seconds) if cards and seconds > 0 else 0.0)
        return out

    def as_dict(self) -> dict[str, Any]:
        """The JSON figures of ``suanli sim run --json`` (and a few more)."""

        def ratio(value: float | None) -> float | None:
            return None if value is None else round(value, 6)

        return {
            "jobs": self.jobs,
            "utilization": ratio(self.utilization),
            "idle_card_hours": round(self.idle_card_s / 3600, 3),
            "wait_p50_s": self.waits.p50,
            "wait_p95_s": self.waits.p95,
            "wait_p99_s": self.waits.p99,
            "jct_mean_s": None if self.jct_mean_s is None else round(self.jct_mean_s, 3),
            "never_ran": self.never_ran,
            "ran": self.ran,
            "ran_away_from_home": self.away,
            "cost_to_buyers_fen": self.cost_to_buyers_fen,
            "voucher_fen": self.voucher_fen,
            "sme_jobs_offered": self.sme_offered,
            "sme_jobs_bought": self.sme_bought,
            "induced_card_hours": self.induced_card_hours,
            "voucher_fen_per_extra_card_hour": self.voucher_fen_per_extra_card_hour,
            "preemptions": self.preemptions,
            "lost_card_hours": round(self.lost_card_s / 3600, 3),
            "span_s": self.span_end - self.span_start,
            "by_size": {
                name: {
                    "jobs": w.jobs,
                    "wait_p50_s": w.p50,
                    "wait_p95_s": w.p95,
                    "wait_p99_s": w.p99,
                }
                for name, w in self.by_size.items()
                if w.jobs
            },
            "centers": {
                c.name: {"cards": c.cards, "utilization": ratio(c.utilization)}
                for c in self.centers
            },
        }
