"""A process's snapshot cache is checked against the capacity epoch the database keeps.

Two ``Database`` objects on one database stand for two server processes: each has its
own shared snapshot cache. What one process commits (cards taken or given back, a pool
added or changed) the other's cache sees before its next placement, without being told;
a reservation applied in place and then rolled back leaves no trace.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from suanli.capacity.schemas import PoolIn, PoolPatch
from suanli.capacity.service import CapacityService
from suanli.exchange.schemas import RequestIn
from suanli.exchange.service import Exchange
from suanli.exchange.snapshot import load_snapshot, shared_cache
from suanli.kit.clock import ManualClock
from suanli.orgs.auth import Principal
from suanli.settings import Settings
from suanli.store import Database, capacity_repo
from suanli.vocab import OrgRole, RequestStatus
from vouchers.world import START, World


@pytest.fixture
def other(db: Database) -> Iterator[Database]:
    """A second process's view of the same database."""
    second = Database(db.url)
    yield second
    second.dispose()


def free_cards(db: Database) -> int:
    """Free cards as the database's cache of ``db`` shows them, after its epoch check."""
    with db.transaction() as session:
        cache = shared_cache(session)
        with cache.lock:
            return cache.get(session).free_cards()


def truth(db: Database) -> int:
    with db.transaction() as session:
        return load_snapshot(session).free_cards()


def submit(world: World, db: Database, buyer: int, cards: int) -> int:
    with db.transaction() as session:
        exchange = Exchange(session, world.clock, Settings(), Principal(buyer, OrgRole.BUYER))
        request = exchange.submit(RequestIn(cards=cards, duration_s=3600))
        assert request.status is RequestStatus.PLACED
        return request.id


def test_another_process_sees_cards_taken_and_given_back(db: Database, other: Database) -> None:
    world = World(db, ManualClock(START))
    world.add_provider("North DC", nodes=2)  # 16 cards
    buyer = world.add_buyer("Qingluan")
    assert free_cards(other) == 16  # the other process loads and keeps its snapshot

    request = submit(world, db, buyer, 8)
    assert free_cards(other) == 8 == truth(db)

    with db.transaction() as session:
        Exchange(session, world.clock, Settings(), Principal(buyer, OrgRole.BUYER)).cancel(request)
    assert free_cards(other) == 16 == truth(db)


def test_another_process_sees_a_pool_added_or_withdrawn(db: Database, other: Database) -> None:
    world = World(db, ManualClock(START))
    provider = world.add_provider("North DC", nodes=1)
    assert free_cards(other) == 8
    with db.transaction() as session:
        capacity = CapacityService(session, world.clock, Principal(provider, OrgRole.PROVIDER))
        center = capacity.list_centers()[0]
        added = capacity.add_pool(
            center.id, PoolIn(name="h800-b", model="H800", nodes=2, cards_per_node=8, price_fen=900)
        )
    assert free_cards(other) == 24
    with db.transaction() as session:
        capacity = CapacityService(session, world.clock, Principal(provider, OrgRole.PROVIDER))
        capacity.update_pool(added.id, PoolPatch(active=False))
    assert free_cards(other) == 8 == truth(db)


def test_a_placement_rolled_back_leaves_the_cache_as_the_database(db: Database) -> None:
    world = World(db, ManualClock(START))
    world.add_provider("North DC", nodes=1)
    buyer = world.add_buyer("Qingluan")
    assert free_cards(db) == 8

    class AbandonedError(Exception):
        pass

    def place_then_fail() -> None:
        with db.transaction() as session:
            exchange = Exchange(session, world.clock, Settings(), Principal(buyer, OrgRole.BUYER))
            placed = exchange.submit(RequestIn(cards=8, duration_s=3600))
            assert placed.status is RequestStatus.PLACED
            cache = shared_cache(session)
            with cache.lock:
                assert cache.loaded is not None and cache.loaded.free_cards() == 0
            raise AbandonedError  # rolls back after the cache took the cards off

    with pytest.raises(AbandonedError):
        place_then_fail()

    assert free_cards(db) == 8 == truth(db)
    submit(world, db, buyer, 8)  # and the cards can be placed again


def test_one_commit_raises_the_epoch_once_and_a_read_not_at_all(db: Database) -> None:
    world = World(db, ManualClock(START))
    world.add_provider("North DC", nodes=2)
    buyer = world.add_buyer("Qingluan")
    with db.transaction() as session:
        before = capacity_repo.epoch(session)
    submit(world, db, buyer, 8)  # one commit, with a savepoint inside
    with db.transaction() as session:
        after = capacity_repo.epoch(session)
        load_snapshot(session)
    assert after.epoch == before.epoch + 1
    assert after.structure == before.structure  # cards moved; no pool changed
    with db.transaction() as session:
        assert capacity_repo.epoch(session) == after
