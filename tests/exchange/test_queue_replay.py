"""The simulator and the live exchange serve a queue alike: one trace, two replays.

A seeded trace of ~50 jobs (1 to 16 GPUs, arriving faster than they finish) is replayed

- by the simulator (:mod:`suanli.sim.run`), recording each placement;
- through the live :class:`Exchange` on this test's database and a :class:`ManualClock`:
  the centers and pools registered through the capacity service, each job submitted at
  its arrival (tried at once), each lease started and completed at its end, and after
  the departures of a second a queue pass (:func:`place_queued`), before that second's
  arrivals, as the simulator orders them.

Both must place the same jobs on the same nodes (by index in their pool) with the same
cards, in the same order and at the same seconds. The live exchange knows no "home", so
the simulator runs either one center (``isolated``: home is the only center) or two
centers whose jobs all have an unlisted home (``exchange`` with no penalty: every job
goes wherever the engine puts it, as a live request does). Both price every card alike,
so the engine's choices do not hinge on prices the simulator does not model.

The live passes run both with the leader's :class:`QueueIndex` (passes that only look at
what changed) and without (every pass looks at the whole queue).
"""

from __future__ import annotations

import heapq
import random
from datetime import timedelta

import pytest

from exchange.queue_world import START, finish, leases_after, submit
from suanli.capacity.schemas import CenterIn, PoolIn
from suanli.capacity.service import CapacityService
from suanli.engine import Placement
from suanli.exchange.queue import QueueIndex, place_queued
from suanli.kit.clock import ManualClock
from suanli.ledger import Ledger
from suanli.orgs.auth import Principal
from suanli.orgs.service import create_org
from suanli.settings import Settings
from suanli.sim.model import PRICE_FEN, Center, Job
from suanli.sim.run import Replay, _Sim
from suanli.sim.traces import Trace
from suanli.store import Database
from suanli.vocab import OrgRole

Step = tuple[int, int, tuple[tuple[int, int], ...]]
"""A placement: second, job, ((node index in its pool, cards), ...)."""

SIZES = (1, 1, 1, 1, 2, 2, 4, 8, 16)


def synthetic(seed: int, centers: tuple[Center, ...], home: str, jobs: int = 50) -> Trace:
    """Seeded jobs arriving faster than they finish, so that a queue forms and drains."""
    draw = random.Random(seed)
    at = 0
    out = []
    for k in range(jobs):
        at += draw.choice((0, 0, 5, 30, 60, 120))
        out.append(Job(f"j{k}", at, draw.randrange(60, 1800), draw.choice(SIZES), home))
    return Trace(f"synthetic-{seed}", START, tuple(out), centers)


class _Recording(_Sim):
    """The simulator, noting each placement as it is made."""

    def __init__(self, trace: Trace, replay: Replay) -> None:
        super().__init__(trace, replay, None)
        self.steps: list[Step] = []
        self.first_node: dict[int, int] = {}
        node = pool = 0
        for center in self.fleet.centers:
            for nodes, _ in center.groups:
                self.first_node[pool] = node
                node += nodes
                pool += 1

    def _begin(self, i: int, placement: Placement) -> None:
        first = self.first_node[placement.pool_id]
        nodes = tuple(sorted((a.node_id - first, a.cards) for a in placement.allocations))
        self.steps.append((self.clock.seconds, i, nodes))
        super()._begin(i, placement)


def simulated(trace: Trace, replay: Replay) -> list[Step]:
    sim = _Recording(trace, replay)
    outcome = sim.run()
    assert outcome.metrics.never_ran == 0
    return sim.steps


def live(db: Database, trace: Trace, index: QueueIndex | None) -> list[Step]:
    """The trace through the live exchange (see the module docstring)."""
    clock = ManualClock(START)
    settings = Settings()
    with db.transaction() as session:
        provider = create_org(session, clock, name="provider", role=OrgRole.PROVIDER).id
        buyer = create_org(session, clock, name="buyer", role=OrgRole.BUYER).id
        Ledger(session, clock).topup(buyer, 10**12)
    with db.transaction() as session:
        capacity = CapacityService(session, clock, Principal(provider, OrgRole.PROVIDER))
        for center in trace.centers:
            registered = capacity.register_center(
                CenterIn(name=center.name, province="贵州", city="贵阳")
            )
            for n, (nodes, gpus) in enumerate(center.groups):
                capacity.add_pool(
                    registered.id,
                    PoolIn(
                        name=f"pool-{n}",
                        model="H800",
                        nodes=nodes,
                        cards_per_node=gpus,
                        inter_node="infiniband",
                        price_fen=PRICE_FEN,
                    ),
                )
    arrivals = sorted(range(len(trace.jobs)), key=lambda i: (trace.jobs[i].submit, i))
    job_of: dict[int, int] = {}  # request -> job
    ends: list[tuple[int, int]] = []  # (second, lease)
    steps: list[Step] = []
    seen = 0

    def record(now: int) -> None:
        nonlocal seen
        for lease, request, duration, nodes in leases_after(db, seen):
            steps.append((now, job_of[request], nodes))
            heapq.heappush(ends, (now + duration, lease))
            seen = lease

    next_arrival = 0
    while next_arrival < len(arrivals) or ends:
        now = min(
            trace.jobs[arrivals[next_arrival]].submit if next_arrival < len(arrivals) else 1 << 62,
            ends[0][0] if ends else 1 << 62,
        )
        clock.set(START + timedelta(seconds=now))
        if ends and ends[0][0] == now:
            while ends and ends[0][0] == now:
                finish(db, clock, heapq.heappop(ends)[1])
            place_queued(db, clock, settings, index=index)
            record(now)
        while next_arrival < len(arrivals) and trace.jobs[arrivals[next_arrival]].submit == now:
            job = trace.jobs[arrivals[next_arrival]]
            per_node = min(job.cards, 8)
            request = submit(
                db, clock, buyer, cards=job.cards, cards_per_node=per_node, duration_s=job.duration
            )
            job_of[request] = arrivals[next_arrival]
            record(now)
            next_arrival += 1
    return steps


ONE = (Center("dc-one", 4, 8),)
TWO = (Center("dc-a", 3, 8), Center("dc-b", 4, 4))


@pytest.mark.parametrize("incremental", [True, False], ids=["index", "full-passes"])
@pytest.mark.parametrize(
    ("centers", "home", "scenario"),
    [(ONE, "dc-one", "isolated"), (TWO, "elsewhere", "exchange")],
    ids=["one-center", "two-centers"],
)
@pytest.mark.parametrize("seed", [1, 2])
def test_the_live_exchange_places_as_the_simulator_does(
    db: Database,
    seed: int,
    centers: tuple[Center, ...],
    home: str,
    scenario: str,
    incremental: bool,
) -> None:
    trace = synthetic(seed, centers, home)
    expected = simulated(trace, Replay(scenario, penalty_s=0, span="all"))
    waited = [step for step in expected if step[0] > trace.jobs[step[1]].submit]
    assert len(waited) >= 5, "the trace must make a queue"
    got = live(db, trace, QueueIndex() if incremental else None)
    assert got == expected
