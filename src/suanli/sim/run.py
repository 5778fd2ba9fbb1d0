"""The replay: jobs arrive, queue and run, placed by the exchange's own engine.

The loop pops events from the heap (:mod:`.events`): departures (priority 0) before
arrivals (priority 1) at the same second, so capacity freed at ``t`` is there for a job
arriving at ``t``. Placement is :meth:`Engine.choose` on the fleet's snapshot, then
:meth:`Engine.reserve` when the job starts and :meth:`Engine.unreserve` when it leaves.

Queueing: the exchange's own queue policy (:mod:`suanli.engine.queueing`), by default
first-in-first-out per queue with backfill. An arriving job is tried at once (nothing
freed since its queue was last tried, so no queued job could start instead) and queues
when it does not fit; after the departures of each second the touched queues get a pass:
their jobs are tried in arrival order and those that fit start (a job dominated by one
that failed in the same pass is skipped; the pass ends once a 1-GPU on-demand job
failed). ``queue="fifo"`` serves strictly in order instead: a pass ends at the first job
that does not fit, and an arriving job waits behind a non-empty queue.

Scenarios (:data:`~suanli.sim.model.SCENARIOS`):

- ``isolated``: a job may only use its home center (one queue per center);
- ``exchange``: one queue for all; a job goes home if it fits there now, else wherever
  the engine places it, and leaving home adds ``penalty_s`` (default 300 s) to its start
  (its cards are held meanwhile).

``load`` compresses inter-arrival times: arrival ``t`` becomes ``floor(t / load)``.
Jobs that cannot fit the centers they may use even when empty never run (``never_ran``).

Preemption: jobs the trace marks interruptible, and with ``interruptible`` > 0 that share
of the others too (a seeded draw), run interruptible. A job that is not and fits nowhere
takes cards back from interruptible jobs through
:func:`~suanli.engine.preempt.plan_preemption`, the live exchange's own rule (newest
first, only as many as the chosen nodes need); a preempted job goes back to its queue in
arrival order and later restarts from the beginning (no checkpoint). Its wait is the time
it spent queued, over all attempts; the card-seconds it ran before being stopped count as
allocated and as lost work.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal

import numpy as np

from suanli.engine import Demand, Engine, Placement, Snapshot, make_engine
from suanli.engine.preempt import Held, plan_preemption
from suanli.engine.queueing import QUEUE_POLICIES, QueuePass, size_of
from suanli.sim.events import EventQueue, SimClock
from suanli.sim.metrics import SIZE_BUCKETS, CenterUse, Metrics, Waits, bucket_of, hourly
from suanli.sim.model import SCENARIOS, Fleet, Job
from suanli.sim.traces import Trace
from suanli.sim.vouchers import VoucherModel, money, sme_demand, with_sme

DEPART = 0
ARRIVE = 1
DEFAULT_PENALTY_S = 300
SPANS = ("arrivals", "all")
ANYWHERE = ""
"""The queue key of jobs that may run at any center (and, with whether a job is
interruptible, the key of their demands in a pass)."""


@dataclass(frozen=True, slots=True)
class Replay:
    """How to replay a trace."""

    scenario: str = "isolated"
    load: float = 1.0
    penalty_s: int = DEFAULT_PENALTY_S
    policy: str = "price"
    seed: int = 0
    span: str = "arrivals"
    voucher_rate: Decimal = Decimal("0.3")
    sme_share: float = 0.2
    interruptible: float = 0.0
    queue: str = "backfill"
    """The queue policy (:data:`suanli.engine.queueing.QUEUE_POLICIES`)."""

    def __post_init__(self) -> None:
        if self.queue not in QUEUE_POLICIES:
            raise ValueError(
                f"unknown queue policy {self.queue!r}; choose one of {', '.join(QUEUE_POLICIES)}"
            )
        if not 0 <= self.interruptible <= 1:
            raise ValueError(f"interruptible is a share in 0..1, not {self.interruptible}")
        if self.scenario not in SCENARIOS:
            raise ValueError(
                f"unknown scenario {self.scenario!r}; choose one of {', '.join(SCENARIOS)}"
            )
        if not self.load > 0 or self.load == float("inf"):
            raise ValueError(f"load must be a positive number, not {self.load}")
        if self.penalty_s < 0:
            raise ValueError("the locality penalty must not be negative")
        if self.span not in SPANS:
            raise ValueError(f"unknown span {self.span!r}; choose one of {', '.join(SPANS)}")


@dataclass(frozen=True, slots=True)
class Outcome:
    """Per job (in trace order): arrival, start of running and end (-1: never ran), the
    center it ran at (-1: none), its queueing delay (-1: never ran), and the figures."""

    arrive: tuple[int, ...]
    start: tuple[int, ...]
    end: tuple[int, ...]
    center: tuple[int, ...]
    waited: tuple[int, ...]
    metrics: Metrics


class _Running:
    """A placed job: its reservation, its center (index), cards and when it was placed."""

    __slots__ = ("cancelled", "cards", "center", "job", "placed", "placement")

    def __init__(self, job: int, placement: Placement, center: int, cards: int, placed: int):
        self.job = job
        self.placement = placement
        self.center = center
        self.cards = cards
        self.placed = placed
        self.cancelled = False


class _Sim:
    def __init__(
        self,
        trace: Trace,
        replay: Replay,
        progress: Callable[[int], None] | None,
    ) -> None:
        self.replay = replay
        self.jobs = trace.jobs
        self.fleet = Fleet(trace.centers).with_homes({j.home for j in trace.jobs})
        self.snap: Snapshot = self.fleet.snapshot()
        self.empty: Snapshot = self.fleet.snapshot()
        rng = np.random.default_rng(replay.seed)
        self.engine: Engine = make_engine(replay.policy, rng=rng)
        self.policy = QUEUE_POLICIES[replay.queue]
        self.clock = SimClock(trace.epoch)
        self.events: EventQueue[int | _Running] = EventQueue()
        self.queues: dict[str, list[int]] = {}
        self.dirty: set[str] = set()
        self.progress = progress
        self.isolated = replay.scenario == "isolated"
        n = len(trace.jobs)
        self.arrive = [j.submit for j in trace.jobs]
        if replay.load != 1.0:
            self.arrive = [int(t / replay.load) for t in self.arrive]
        self.start = [-1] * n
        self.end = [-1] * n
        self.center = [-1] * n
        self.held: list[tuple[int, int, int, int]] = []  # (center, cards, from, to)
        self.never: dict[tuple[str, Demand], bool] = {}
        self.home = [self.fleet.index[j.home] + 1 for j in trace.jobs]  # engine center ids
        self.since = list(self.arrive)  # when each job last entered its queue
        self.waited = [0] * n
        self.flex = [j.interruptible for j in trace.jobs]
        if replay.interruptible > 0:
            draw = np.random.default_rng([replay.seed, 1]).random(n).tolist()
            share = replay.interruptible
            self.flex = [f or d < share for f, d in zip(self.flex, draw, strict=True)]
        self.live_flex: dict[int, _Running] = {}
        self.preemptions = 0
        self.lost_card_s = 0

    # -- placement --------------------------------------------------------------------
    def _never_fits(self, key: str, demand: Demand) -> bool:
        found = self.never.get((key, demand))
        if found is None:
            found = self.never[(key, demand)] = self.engine.choose(self.empty, demand) is None
        return found

    def _try(self, i: int, queue_pass: QueuePass) -> bool:
        """Place job ``i`` now if it fits where it may go (preempting interruptible work if
        it may); note failures in ``queue_pass`` (keyed by where a demand may go and
        whether the job is interruptible)."""
        job = self.jobs[i]
        fleet = self.fleet
        flex = self.flex[i]
        home_key = (job.home, flex)
        home_demand = fleet.demand(job.cards, job.home)
        home_size = size_of(home_demand)
        if self.isolated:
            if queue_pass.dominated(home_key, home_size):
                return False
            placement = self.engine.choose(self.snap, home_demand)
            if placement is None:
                placement = self._preempt_for(i, home_demand)
            if placement is None:
                queue_pass.fail(home_key, home_size)
                return False
            self._begin(i, placement)
            return True
        any_key = (ANYWHERE, flex)
        any_demand = fleet.demand(job.cards)
        any_size = size_of(any_demand)
        if queue_pass.dominated(any_key, any_size):
            return False
        placement = None
        if not queue_pass.dominated(home_key, home_size):
            placement = self.engine.choose(self.snap, home_demand)
            if placement is None:
                queue_pass.fail(home_key, home_size)
        if placement is None:
            placement = self.engine.choose(self.snap, any_demand)
        if placement is None:
            placement = self._preempt_for(i, home_demand) or self._preempt_for(i, any_demand)
        if placement is None:
            queue_pass.fail(any_key, any_size)
            return False
        self._begin(i, placement)
        return True

    def _preempt_for(self, i: int, demand: Demand) -> Placement | None:
        """Stop interruptible jobs so that on-demand job ``i`` fits; where it goes."""
        if self.flex[i] or not self.live_flex:
            return None
        held = [
            Held(r.job, a.node_id, a.cards, r.placed)
            for r in self.live_flex.values()
            for a in r.placement.allocations
        ]
        plan = plan_preemption(self.engine, self.snap, demand, held)
        if plan is None:
            return None
        now = self.clock.seconds
        for victim in plan.victims:
            running = self.live_flex.pop(victim)
            running.cancelled = True
            self.engine.unreserve(self.snap, running.placement)
            self.held.append((running.center, running.cards, running.placed, now))
            self.preemptions += 1
            self.lost_card_s += running.cards * max(0, now - self.start[victim])
            self.waited[victim] -= max(0, self.start[victim] - now)  # penalty not sat out
            self.start[victim] = self.end[victim] = self.center[victim] = -1
            self.since[victim] = now
            queue = self.queues.setdefault(self._queue_of(self.jobs[victim]), [])
            bisect.insort(queue, victim, key=self.arrive.__getitem__)
            self.dirty.add(self._queue_of(self.jobs[victim]))
        # as the live exchange does: place again on the snapshot with the victims' cards
        # back (the plan's GPUs on a node may differ from the ones they held)
        return self.engine.choose(self.snap, demand)

    def _begin(self, i: int, placement: Placement) -> None:
        now = self.clock.seconds
        job = self.jobs[i]
        reserved = self.engine.reserve(self.snap, placement)
        penalty = 0 if placement.center_id == self.home[i] else self.replay.penalty_s
        self.start[i] = now + penalty
        self.end[i] = now + penalty + job.duration
        self.center[i] = placement.center_id - 1
        self.waited[i] += now + penalty - self.since[i]
        running = _Running(i, reserved, placement.center_id - 1, reserved.cards, now)
        if self.flex[i]:
            self.live_flex[i] = running
        self.events.push(self.end[i], DEPART, running)

    def _queue_of(self, job: Job) -> str:
        return job.home if self.isolated else ANYWHERE

    def _pass(self, key: str) -> None:
        """A pass of the queue policy over queue ``key`` (see the module docstring).

        The queue is taken out while the pass runs: jobs preempted meanwhile go to a new
        one (they were just stopped: there is no room for them in this pass), merged
        back in arrival order afterwards."""
        queue = self.queues.pop(key, None)
        if not queue:
            return
        # one GPU on one node failed an on-demand job (after preemption): all else will
        left = self.policy.start(loosest=(key, False)).run(queue, self._try)
        back = self.queues.pop(key, None)
        if back:
            left = list(heapq.merge(left, back, key=self.arrive.__getitem__))
        if left:
            self.queues[key] = left

    # -- the loop ---------------------------------------------------------------------
    def run(self) -> Outcome:
        for i in sorted(range(len(self.jobs)), key=lambda k: self.arrive[k]):
            self.events.push(self.arrive[i], ARRIVE, i)
        events, clock = self.events, self.clock
        done = 0
        while events:
            event = events.pop()
            clock.advance_to(event.time)
            payload = event.payload
            if isinstance(payload, _Running):
                if payload.cancelled:
                    continue
                self.live_flex.pop(payload.job, None)
                self.engine.unreserve(self.snap, payload.placement)
                self.held.append((payload.center, payload.cards, payload.placed, clock.seconds))
                job = self.jobs[payload.job]
                self.dirty.add(self._queue_of(job))
                nxt = events.peek()
                if nxt is None or nxt.time != event.time or nxt.priority != DEPART:
                    for key in sorted(self.dirty):
                        self._pass(key)
                    self.dirty.clear()
                continue
            i = payload
            job = self.jobs[i]
            key = ANYWHERE if not self.isolated else job.home
            demand = self.fleet.demand(job.cards, None if key == ANYWHERE else job.home)
            if not self._never_fits(key, demand):
                queue = self.queues.setdefault(key, [])
                tried = self.policy.tries_on_arrival(len(queue))
                if not (tried and self._try(i, self.policy.start())):
                    queue.append(i)
            done += 1
            if self.progress is not None and done % 1000 == 0:
                self.progress(1000)
        if self.progress is not None and done % 1000:
            self.progress(done % 1000)
        return Outcome(
            tuple(self.arrive),
            tuple(self.start),
            tuple(self.end),
            tuple(self.center),
            tuple(w if s >= 0 else -1 for w, s in zip(self.waited, self.start, strict=True)),
            self._metrics(),
        )

    # -- figures ----------------------------------------------------------------------
    def _metrics(self) -> Metrics:
        n = len(self.jobs)
        ran = [i for i in range(n) if self.start[i] >= 0]
        first = min(self.arrive, default=0)
        last = max(self.arrive, default=0)
        if self.replay.span == "all" or last <= first:
            last = max([last, *self.end])
        centers = self.fleet.centers
        allocated = [0] * len(centers)
        for c, cards, begin, finish in self.held:
            overlap = min(finish, last) - max(begin, first)
            if overlap > 0:
                allocated[c] += cards * overlap
        width = last - first
        uses = tuple(
            CenterUse(c.name, c.cards, c.cards * width, allocated[k]) for k, c in enumerate(centers)
        )
        waits = [self.waited[i] for i in ran]
        by_size: dict[str, list[int]] = {name: [] for name in SIZE_BUCKETS}
        for i, wait in zip(ran, waits, strict=True):
            by_size[bucket_of(self.jobs[i].cards)].append(wait)
        return Metrics(
            jobs=n,
            ran=len(ran),
            never_ran=n - len(ran),
            span_start=first,
            span_end=last,
            available_card_s=sum(u.available_card_s for u in uses),
            allocated_card_s=sum(u.allocated_card_s for u in uses),
            away=sum(1 for i in ran if self.center[i] + 1 != self.home[i]),
            wait_total_s=sum(waits),
            jct_total_s=sum(self.end[i] - self.arrive[i] for i in ran),
            waits=Waits.of(waits),
            by_size={name: Waits.of(w) for name, w in by_size.items()},
            centers=uses,
            hourly_card_s=hourly([(c, b, f) for _, c, b, f in self.held], first, last),
            preemptions=self.preemptions,
            lost_card_s=self.lost_card_s,
        )


def simulate(
    trace: Trace,
    replay: Replay | None = None,
    *,
    progress: Callable[[int], None] | None = None,
) -> Outcome:
    """Replay ``trace`` as ``replay`` says; ``progress(n)`` hears of every n arrivals.

    ``exchange+vouchers`` adds the small firms' jobs of :mod:`suanli.sim.vouchers` and
    replays like ``exchange``; every scenario reports what buyers paid at the list price.
    """
    replay = replay or Replay()
    model = VoucherModel(rate=replay.voucher_rate, share=replay.sme_share)
    demand = None
    if replay.scenario == "exchange+vouchers":
        demand = sme_demand(trace, model, replay.seed)
        trace = with_sme(trace, demand)
    outcome = _Sim(trace, replay, progress).run()
    paid = money(
        trace.jobs,
        outcome.start,
        outcome.end,
        model,
        demand.induced if demand else frozenset(),
        vouchers=demand is not None,
    )
    metrics = replace(
        outcome.metrics,
        cost_to_buyers_fen=paid.cost_to_buyers_fen,
        voucher_fen=paid.voucher_fen,
        sme_offered=demand.offered if demand else 0,
        sme_bought=len(demand.jobs) if demand else 0,
        induced_card_hours=paid.induced_card_hours,
        voucher_fen_per_extra_card_hour=paid.voucher_fen_per_extra_card_hour,
    )
    return replace(outcome, metrics=metrics)
