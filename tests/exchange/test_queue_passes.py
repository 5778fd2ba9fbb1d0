"""Queue passes that cost what changed (:class:`QueueIndex`).

Two centers, one pool each: Guizhou (贵州) and Zhejiang (浙江), one node of 8 cards. A
pass after cards free up in one pool must neither load nor try queued requests that
could never use it, must still place those that can, and must end where a full pass
over the whole queue ends.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from conftest import assert_books_balance, fresh_database
from exchange.queue_world import START, finish, lease_of, status, submit, updated_at
from suanli.capacity.schemas import CenterIn, PoolIn
from suanli.capacity.service import CapacityService
from suanli.exchange.queue import QueueIndex, place_queued
from suanli.kit.clock import ManualClock
from suanli.kit.errors import ValidationError
from suanli.ledger import Ledger
from suanli.orgs.auth import Principal
from suanli.orgs.service import create_org
from suanli.settings import Settings
from suanli.store import Database
from suanli.store.models import Lease
from suanli.vocab import OrgRole, RequestStatus

PRICE = 1000
SETTINGS = Settings()


@dataclass
class Market:
    db: Database
    clock: ManualClock = field(default_factory=lambda: ManualClock(START))
    provider: int = 0
    pools: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        with self.db.transaction() as session:
            self.provider = create_org(
                session, self.clock, name="provider", role=OrgRole.PROVIDER
            ).id

    def add_pool(self, province: str, *, nodes: int = 1, model: str = "H800") -> int:
        with self.db.transaction() as session:
            owner = Principal(self.provider, OrgRole.PROVIDER)
            capacity = CapacityService(session, self.clock, owner)
            center = capacity.register_center(
                CenterIn(name=f"dc-{province}-{model}", province=province, city="any")
            )
            pool = capacity.add_pool(
                center.id,
                PoolIn(
                    name=model.lower(),
                    model=model,
                    nodes=nodes,
                    cards_per_node=8,
                    inter_node="infiniband",
                    price_fen=PRICE,
                ),
            )
        self.pools[province] = pool.id
        return pool.id

    def buyer(self, name: str, topup: int = 10**10) -> int:
        with self.db.transaction() as session:
            buyer = create_org(session, self.clock, name=name, role=OrgRole.BUYER).id
            if topup:
                Ledger(session, self.clock).topup(buyer, topup)
        return buyer

    def topup(self, buyer: int, amount: int) -> None:
        with self.db.transaction() as session:
            Ledger(session, self.clock).topup(buyer, amount)

    def submit(self, buyer: int, **fields: Any) -> int:
        return submit(self.db, self.clock, buyer, **fields)

    def finish(self, request_id: int) -> None:
        finish(self.db, self.clock, lease_of(self.db, request_id))

    def place(self, index: QueueIndex | None = None, **kwargs: Any) -> int:
        return place_queued(self.db, self.clock, SETTINGS, index=index, **kwargs)


def two_pools(db: Database) -> Market:
    market = Market(db)
    market.add_pool("贵州")
    market.add_pool("浙江")
    return market


def test_a_release_in_one_pool_tries_only_requests_that_could_use_it(db: Database) -> None:
    market = two_pools(db)
    buyer = market.buyer("lab")
    gz_full = market.submit(buyer, cards=8, provinces=["贵州"])
    zj_full = market.submit(buyer, cards=8, provinces=["浙江"])
    assert status(db, gz_full) is status(db, zj_full) is RequestStatus.PLACED
    gz = market.submit(buyer, cards=4, provinces=["贵州"])
    zj = market.submit(buyer, cards=4, provinces=["浙江"])
    anywhere = market.submit(buyer, cards=2)
    h20 = market.submit(buyer, cards=1, accepted_models=["H20"])  # listed nowhere
    index = QueueIndex()

    assert market.place(index) == 0
    first = index.last
    assert first is not None and first.full and first.loaded == 4
    assert first.chosen == (gz, zj, anywhere, h20)

    assert market.place(index) == 0  # nothing changed: nothing looked at
    assert index.last is not None
    assert (index.last.full, index.last.loaded, index.last.chosen) == (False, 0, ())

    market.clock.advance(60)
    untouched = {r: updated_at(db, r) for r in (zj, h20)}
    market.finish(gz_full)
    assert market.place(index) == 2
    last = index.last
    assert last is not None and not last.full
    assert last.loaded == 0  # nobody new: no request row read
    assert last.chosen == (gz, anywhere)  # not the Zhejiang one, nor the H20 one
    assert last.placed == (gz, anywhere)
    assert status(db, zj) is status(db, h20) is RequestStatus.QUEUED
    assert {r: updated_at(db, r) for r in (zj, h20)} == untouched
    assert_books_balance(db)


def test_a_request_waiting_for_its_pool_is_placed_when_it_frees(db: Database) -> None:
    market = two_pools(db)
    buyer = market.buyer("lab")
    running = market.submit(buyer, cards=8, provinces=["浙江"])
    waiting = market.submit(buyer, cards=8, provinces=["浙江"])
    index = QueueIndex()
    assert market.place(index) == 0
    market.submit(buyer, cards=8, provinces=["贵州"])  # the other pool changes: not tried
    assert market.place(index) == 0
    assert index.last is not None and index.last.chosen == ()
    market.finish(running)
    assert market.place(index) == 1
    assert index.last is not None and index.last.placed == (waiting,)
    with db.transaction() as session:
        lease = session.get(Lease, lease_of(db, waiting))
        assert lease is not None and lease.pool_id == market.pools["浙江"]


def test_new_and_newly_due_requests_are_tried(db: Database) -> None:
    market = two_pools(db)
    buyer = market.buyer("lab")
    index = QueueIndex()
    market.place(index)
    later = market.submit(buyer, cards=2, earliest_start=market.clock.now() + timedelta(minutes=10))
    assert status(db, later) is RequestStatus.QUEUED
    assert market.place(index) == 0
    assert index.last is not None and index.last.chosen == ()  # not due: not read
    market.clock.advance(600)
    assert market.place(index) == 1
    assert index.last is not None
    assert (index.last.loaded, index.last.chosen, index.last.placed) == (1, (later,), (later,))


def test_a_wallet_that_rises_gets_its_buyer_tried_again(db: Database) -> None:
    market = two_pools(db)
    poor = market.buyer("poor", topup=PRICE)  # one card-hour
    index = QueueIndex()
    market.place(index)
    short = market.submit(poor, cards=2)
    assert status(db, short) is RequestStatus.QUEUED
    assert market.place(index) == 0  # new: tried, short of money again
    assert index.last is not None and index.last.tried == (short,)
    market.topup(poor, PRICE // 2)  # still short: tried once more, in vain
    assert market.place(index) == 0
    assert index.last is not None and index.last.tried == (short,)
    assert market.place(index) == 0  # nothing changed since
    assert index.last is not None and index.last.chosen == ()
    market.topup(poor, 10 * PRICE)  # no capacity moved, but the wallet rose
    assert market.place(index) == 1
    assert index.last is not None and index.last.placed == (short,)


def test_a_request_behind_one_its_wallet_cannot_pay_for_is_placed(db: Database) -> None:
    """The first request fits but its wallet is short: the cards it held for a moment
    are free again for the next one in the same pass."""
    market = Market(db)
    market.add_pool("贵州")
    rich, poor = market.buyer("rich"), market.buyer("poor", topup=PRICE)
    running = market.submit(rich, cards=8)
    short = market.submit(poor, cards=8)
    paid = market.submit(rich, cards=8)
    index = QueueIndex()
    market.place(index)
    market.finish(running)
    assert market.place(index) == 1
    assert index.last is not None
    assert (index.last.tried, index.last.placed) == ((short, paid), (paid,))
    assert status(db, short) is RequestStatus.QUEUED


def test_a_pass_for_one_buyer_tries_only_that_buyer(db: Database) -> None:
    market = two_pools(db)
    one, two = market.buyer("one", topup=PRICE), market.buyer("two", topup=PRICE)
    first = market.submit(one, cards=2)
    second = market.submit(two, cards=2)
    index = QueueIndex()
    market.place(index)
    market.topup(one, 10 * PRICE)
    assert market.place(index, buyer_id=one) == 1
    assert index.last is not None and index.last.chosen == (first,)
    assert status(db, second) is RequestStatus.QUEUED


def test_a_structure_change_makes_a_full_pass(db: Database) -> None:
    market = two_pools(db)
    buyer = market.buyer("lab")
    h20 = market.submit(buyer, cards=1, accepted_models=["H20"])
    index = QueueIndex()
    market.place(index)
    market.add_pool("四川", model="H20")
    assert market.place(index) == 1
    assert index.last is not None and index.last.full and index.last.placed == (h20,)
    index.reset()
    market.place(index)
    assert index.last is not None and index.last.full


def test_dominated_requests_are_skipped_and_the_pass_stops_at_one_card(db: Database) -> None:
    market = two_pools(db)
    buyer = market.buyer("lab")
    for province in ("贵州", "浙江"):
        market.submit(buyer, cards=8, provinces=[province])

    def one_node(cards: int, **fields: Any) -> int:
        return market.submit(buyer, cards=cards, cards_per_node=cards, **fields)

    four = one_node(4)
    five = one_node(5)  # needs more than 4 did, as freely: skipped
    gz = one_node(4, provinces=["贵州"])  # other constraints: asked
    three = one_node(3)  # less than 4: asked
    single = one_node(1)  # fails: nothing at all is free
    after = [one_node(1), one_node(2, provinces=["浙江"])]
    index = QueueIndex()
    assert market.place(index) == 0
    assert index.last is not None and index.last.full
    assert index.last.tried == (four, gz, three, single)
    assert five not in index.last.tried and not set(after) & set(index.last.tried)


# -- the same as a full pass -------------------------------------------------------------


@contextlib.contextmanager
def two_databases(tmp_path: Path) -> Iterator[tuple[Database, Database]]:
    with (
        fresh_database(tmp_path / "a") as a,
        fresh_database(tmp_path / "b") as b,
    ):
        yield a, b


PROVINCES = ("贵州", "浙江", "四川")


@pytest.mark.parametrize("seed", [3, 4])
def test_passes_on_the_index_end_as_full_passes_do(tmp_path: Path, seed: int) -> None:
    """A mixed queue (provinces, models, price caps, gangs, open shapes) and a random
    sequence of submissions and completions, on two databases: one served by passes on
    an index, one by full passes. The same requests end placed on the same pools."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with two_databases(tmp_path) as (db_a, db_b):
        markets = [Market(db_a), Market(db_b)]
        for market in markets:
            market.add_pool("贵州", nodes=2)
            market.add_pool("浙江", nodes=1)
            market.add_pool("四川", nodes=2, model="A800")
        buyers = [[m.buyer(f"buyer-{k}") for m in markets] for k in range(3)]
        index = QueueIndex()
        draw = random.Random(seed)
        live: list[int] = []  # requests with a lease (the same ids in both databases)
        by_passes = 0
        for step in range(80):
            for market in markets:
                market.clock.advance(30)
            if live and draw.random() < 0.45:
                done = live.pop(draw.randrange(len(live)))
                for market in markets:
                    market.finish(done)
                counts = [markets[0].place(index), markets[1].place(None)]
                assert counts[0] == counts[1], step
                by_passes += counts[0]
            else:
                who = draw.randrange(3)
                fields: dict[str, Any] = {"cards": draw.choice((1, 2, 4, 8, 12, 16))}
                if fields["cards"] == 16 and draw.random() < 0.5:
                    fields["cards_per_node"] = 8
                if draw.random() < 0.4:
                    fields["provinces"] = [draw.choice(PROVINCES)]
                if draw.random() < 0.2:
                    fields["accepted_models"] = ["A800"]
                if draw.random() < 0.2:
                    fields["max_price_fen"] = PRICE - 1  # nothing so cheap
                made: list[int | None] = []
                for k, market in enumerate(markets):
                    try:
                        made.append(market.submit(buyers[who][k], **fields))
                    except ValidationError:  # more than any pool it may use could hold
                        made.append(None)
                assert made[0] == made[1], step
            running = [live_leases(db) for db in (db_a, db_b)]
            assert running[0] == running[1], step
            live = [request for request, _ in running[0]]
        states = [all_leases(db) for db in (db_a, db_b)]
        assert states[0] == states[1]
        assert len(states[0]) >= 15
        assert by_passes >= 5, "queued requests must be placed by passes"


def live_leases(db: Database) -> list[tuple[int, int]]:
    """``(request, pool)`` of the leases not ended, by request."""
    with db.transaction() as session:
        rows = session.execute(
            select(Lease.request_id, Lease.pool_id)
            .where(Lease.ended_at.is_(None))
            .order_by(Lease.request_id)
        )
        return [(int(r), int(p)) for r, p in rows]


def all_leases(db: Database) -> list[tuple[int, int, str]]:
    with db.transaction() as session:
        rows = session.execute(
            select(Lease.request_id, Lease.pool_id, Lease.status).order_by(Lease.id)
        )
        return [(int(r), int(p), str(s)) for r, p, s in rows]
