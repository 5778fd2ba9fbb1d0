"""On-demand work takes cards back from interruptible work, which goes back to the queue."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from conftest import assert_books_balance
from suanli.exchange.schemas import RequestIn
from suanli.exchange.service import Exchange
from suanli.kit.clock import ManualClock
from suanli.kit.errors import ValidationError
from suanli.orgs.auth import Principal
from suanli.settings import Settings
from suanli.store import Database
from suanli.store.models import Lease, Request
from suanli.vocab import LeaseStatus, OrgRole, RequestStatus
from vouchers.world import PRICE, START, World


def market(db: Database) -> World:
    world = World(db, ManualClock(START))
    world.add_provider("Only DC", nodes=1)  # one node of 8 cards
    return world


def request_of(world: World, lease_id: int) -> Request:
    with world.db.transaction() as session:
        lease = session.get(Lease, lease_id)
        assert lease is not None
        request = session.get(Request, lease.request_id)
        assert request is not None
        session.expunge(request)
        return request


def test_on_demand_work_preempts_interruptible_work_that_is_requeued(db: Database) -> None:
    world = market(db)
    buyer = world.add_buyer("Batch AI")
    spot = world.place(buyer, cards=8, hours=10, interruptible=True)
    world.run(spot)  # started, and metered 10 hours of 8 cards
    world.clock.advance(60)

    urgent = world.place(buyer, cards=4, hours=1)  # fits only if the spot lease goes

    preempted = world.lease(spot)
    assert preempted.status is LeaseStatus.PREEMPTED
    assert preempted.end_reason is not None and "on-demand request" in preempted.end_reason
    assert preempted.charged_fen == 8 * 10 * PRICE  # its metered use is paid
    requeued = request_of(world, spot)
    assert requeued.status is RequestStatus.QUEUED  # 8 cards no longer fit beside 4
    assert requeued.reasons[0].startswith("back in the queue: preempted")
    assert world.lease(urgent).status is LeaseStatus.PLACED
    assert_books_balance(db)


def test_only_as_much_interruptible_work_as_needed_is_preempted(db: Database) -> None:
    world = market(db)
    buyer = world.add_buyer("Batch AI")
    older = world.place(buyer, cards=4, hours=1, interruptible=True)
    world.clock.advance(1)
    newer = world.place(buyer, cards=4, hours=1, interruptible=True)

    world.place(buyer, cards=4, hours=1)

    assert world.lease(newer).status is LeaseStatus.PREEMPTED  # the newest goes first
    assert world.lease(older).status is LeaseStatus.PLACED


def test_interruptible_work_never_preempts_and_nothing_preempts_without_need(
    db: Database,
) -> None:
    world = market(db)
    buyer = world.add_buyer("Batch AI")
    first = world.place(buyer, cards=8, hours=1, interruptible=True)
    with world.db.transaction() as session:
        exchange = Exchange(session, world.clock, Settings(), Principal(buyer, OrgRole.BUYER))
        other = exchange.submit(RequestIn(cards=8, duration_s=3600, interruptible=True))
        assert other.status is RequestStatus.QUEUED
        with pytest.raises(ValidationError, match="the most possible is 8"):
            exchange.submit(RequestIn(cards=16, duration_s=3600))  # all 8 would not do
        elsewhere = exchange.submit(RequestIn(cards=8, accepted_models=["A800"], duration_s=60))
        assert elsewhere.status is RequestStatus.QUEUED  # no pool of its model to free
    assert world.lease(first).status is LeaseStatus.PLACED
    with world.db.transaction() as session:
        assert len(session.scalars(select(Lease)).all()) == 1
