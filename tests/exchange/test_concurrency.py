"""Capacity is never oversold and wallets never overdrawn, under real concurrency.

Every test runs on PostgreSQL (marker ``postgres``: row locks, READ COMMITTED, many
connections at once), whatever ``SUANLI_TEST_DATABASE_URL`` says, and once more on the
suite's default database (SQLite unless told otherwise), where writers queue on the
database lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from conftest import (
    Market,
    assert_books_balance,
    balance,
    make_request,
    make_supply,
    wait_until,
)
from suanli.capacity.schemas import CenterIn, PoolIn
from suanli.capacity.service import CapacityService
from suanli.exchange.queue import place_queued
from suanli.exchange.schemas import RequestIn
from suanli.exchange.service import Exchange
from suanli.kit.clock import SystemClock
from suanli.kit.errors import PaymentRequiredError
from suanli.ledger import Ledger, Leg
from suanli.orgs.auth import Principal
from suanli.orgs.service import create_org
from suanli.sdk import Client
from suanli.settings import Settings
from suanli.store import Database
from suanli.store.models import Lease, LeaseAllocation, Node, Request
from suanli.vocab import AccountKind, LeaseStatus, OrgRole, RequestStatus, TransactionKind

pytestmark = pytest.mark.xdist_group("concurrency")  # one worker: a bounded connection count

RACERS = 50
BUYERS = 5
PRICE = 1000  # fen per card-hour: a 1-card, 1-hour request holds 1000 fen
LIVE = (LeaseStatus.PENDING, LeaseStatus.PLACED, LeaseStatus.RUNNING)


@pytest.fixture(
    params=[pytest.param("postgres", marks=pytest.mark.postgres), pytest.param("default")]
)
def backend(request: pytest.FixtureRequest) -> Database:
    """PostgreSQL (always) or the suite's default test database."""
    name = "pg_db" if request.param == "postgres" else "db"
    database: Database = request.getfixturevalue(name)
    return database


# -- reading the outcome ------------------------------------------------------------------


def live_cards(db: Database, buyer_ids: list[int] | None = None) -> int:
    with db.transaction() as session:
        stmt = select(func.coalesce(func.sum(Lease.cards), 0)).where(Lease.status.in_(LIVE))
        if buyer_ids is not None:
            stmt = stmt.where(Lease.buyer_id.in_(buyer_ids))
        return int(session.scalar(stmt) or 0)


def requests_of(db: Database, buyer_ids: list[int]) -> list[Request]:
    with db.transaction() as session:
        stmt = select(Request).where(Request.buyer_id.in_(buyer_ids)).order_by(Request.id)
        return list(session.scalars(stmt))


def assert_nodes_consistent(db: Database) -> None:
    """No node below zero, and every node's taken cards are exactly its live allocations."""
    with db.transaction() as session:
        nodes = list(session.scalars(select(Node)))
        held = dict(
            session.execute(
                select(LeaseAllocation.node_id, func.sum(LeaseAllocation.cards))
                .join(Lease, Lease.id == LeaseAllocation.lease_id)
                .where(Lease.status.in_(LIVE))
                .group_by(LeaseAllocation.node_id)
            ).all()
        )
    for node in nodes:
        assert 0 <= node.cards_free <= node.cards_total, node.id
        assert node.cards_total - node.cards_free == int(held.get(node.id, 0)), node.id


def assert_race_outcome(db: Database, buyer_ids: list[int], topup: int) -> None:
    """10 of the 50 racers hold one card each, 40 wait with a reason, money adds up."""
    assert live_cards(db) == 16
    assert live_cards(db, buyer_ids) == 10
    requests = requests_of(db, buyer_ids)
    assert len(requests) == RACERS
    placed = [r for r in requests if r.status is RequestStatus.PLACED]
    queued = [r for r in requests if r.status is RequestStatus.QUEUED]
    assert (len(placed), len(queued)) == (10, 40)
    for r in queued:
        assert r.reasons, f"request {r.id} is queued without a reason"
    assert_nodes_consistent(db)
    assert_books_balance(db)
    for buyer_id in buyer_ids:
        wallet = balance(db, buyer_id, AccountKind.WALLET)
        escrow = balance(db, buyer_id, AccountKind.ESCROW)
        mine = sum(1 for r in placed if r.buyer_id == buyer_id)
        assert wallet >= 0
        assert (wallet, escrow) == (topup - PRICE * mine, PRICE * mine)


# -- over HTTP ----------------------------------------------------------------------------


def test_fifty_buyers_race_for_ten_cards_over_http(
    backend: Database, make_market: Callable[[Database], Market]
) -> None:
    market = make_market(backend)
    _, _, pool = make_supply(market, nodes=2, cards_per_node=8, price_fen=PRICE)
    blocker = market.buyer(topup_fen=100_000)
    assert make_request(blocker.client, cards=6).status is RequestStatus.PLACED
    assert market.operator.client.get_pool(pool.id).cards_free == 10
    topup = RACERS // BUYERS * PRICE
    buyers = [market.buyer(topup_fen=topup) for _ in range(BUYERS)]
    barrier = threading.Barrier(RACERS)

    def race(i: int) -> RequestStatus:
        with Client(market.url, api_key=buyers[i % BUYERS].key, timeout=120) as client:
            barrier.wait(timeout=60)
            return client.submit_request(RequestIn(cards=1, duration_s=3600)).status

    with ThreadPoolExecutor(RACERS) as pool_:
        answers = list(pool_.map(race, range(RACERS)))

    assert answers.count(RequestStatus.PLACED) <= 10
    buyer_ids = [b.org_id for b in buyers]
    # Requests that lost a race stay queued; the queue pass after each answer takes
    # whatever is still free.
    wait_until(lambda: live_cards(backend) == 16, timeout=30)
    assert_race_outcome(backend, buyer_ids, topup)


# -- straight through the exchange service ----------------------------------------------


@dataclass
class Seeded:
    provider_id: int
    pool_id: int
    buyer_ids: list[int]


def seed(db: Database, *, nodes: int, cards_per_node: int, topups: list[int]) -> Seeded:
    """A provider with one H800 pool, and one buyer per top-up amount."""
    clock = SystemClock()
    with db.transaction() as session:
        provider = create_org(session, clock, name="provider", role=OrgRole.PROVIDER)
        capacity = CapacityService(session, clock, Principal(provider.id, OrgRole.PROVIDER))
        center = capacity.register_center(
            CenterIn(name="Guiyang-1", province="贵州", city="贵阳", pue=Decimal("1.2"))
        )
        pool = capacity.add_pool(
            center.id,
            PoolIn(
                name="h800",
                model="H800",
                nodes=nodes,
                cards_per_node=cards_per_node,
                inter_node="infiniband",
                price_fen=PRICE,
            ),
        )
        ledger = Ledger(session, clock)
        buyer_ids = []
        for i, topup in enumerate(topups):
            buyer = create_org(session, clock, name=f"buyer-{i}", role=OrgRole.BUYER)
            ledger.topup(buyer.id, topup)
            buyer_ids.append(buyer.id)
    return Seeded(provider.id, pool.id, buyer_ids)


def submit(db: Database, buyer_id: int, cards: int) -> Request:
    with db.transaction() as session:
        exchange = Exchange(session, SystemClock(), Settings(), Principal(buyer_id, OrgRole.BUYER))
        return exchange.submit(RequestIn(cards=cards, duration_s=3600))


def run_racers(count: int, work: Callable[[int], object]) -> list[object]:
    """Run ``work(i)`` for ``count`` threads released together; re-raise any failure."""
    barrier = threading.Barrier(count)

    def go(i: int) -> object:
        barrier.wait(timeout=60)
        return work(i)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(go, range(count)))


def test_fifty_buyers_race_for_ten_cards_in_the_exchange(backend: Database) -> None:
    topup = RACERS // BUYERS * PRICE
    seeded = seed(backend, nodes=2, cards_per_node=8, topups=[100_000] + [topup] * BUYERS)
    blocker, *racers = seeded.buyer_ids
    assert submit(backend, blocker, 6).status is RequestStatus.PLACED

    results = run_racers(RACERS, lambda i: submit(backend, racers[i % BUYERS], 1).status)

    assert results.count(RequestStatus.PLACED) <= 10
    assert live_cards(backend, racers) <= 10
    assert_nodes_consistent(backend)
    # What lost a race waits in the queue; one pass places what still fits.
    place_queued(backend, SystemClock(), Settings())
    assert_race_outcome(backend, racers, topup)


def test_racing_holds_never_overdraw_a_small_wallet(backend: Database) -> None:
    """Twelve requests, money for three: exactly three are placed, whatever the order."""
    seeded = seed(backend, nodes=4, cards_per_node=8, topups=[3 * PRICE])
    [buyer] = seeded.buyer_ids

    statuses = run_racers(12, lambda i: submit(backend, buyer, 1).status)

    assert statuses.count(RequestStatus.PLACED) == 3
    requests = requests_of(backend, [buyer])
    queued = [r for r in requests if r.status is RequestStatus.QUEUED]
    assert len(queued) == 9
    for r in queued:
        assert any("wallet balance" in reason for reason in r.reasons), r.reasons
    assert balance(backend, buyer, AccountKind.WALLET) == 0
    assert balance(backend, buyer, AccountKind.ESCROW) == 3 * PRICE
    assert live_cards(backend) == 3
    assert_nodes_consistent(backend)
    assert_books_balance(backend)


def test_racing_ledger_holds_never_overdraw(backend: Database) -> None:
    """Twenty holds of 300 fen on a 1000 fen wallet: three succeed, nothing goes negative."""
    seeded = seed(backend, nodes=1, cards_per_node=8, topups=[1000])
    [buyer] = seeded.buyer_ids

    def hold(_: int) -> bool:
        try:
            with backend.transaction() as session:
                Ledger(session, SystemClock()).post(
                    TransactionKind.HOLD,
                    [
                        Leg(buyer, AccountKind.WALLET, -300),
                        Leg(buyer, AccountKind.ESCROW, 300),
                    ],
                )
        except PaymentRequiredError:
            return False
        return True

    outcomes = run_racers(20, hold)

    assert outcomes.count(True) == 3
    assert balance(backend, buyer, AccountKind.WALLET) == 100
    assert balance(backend, buyer, AccountKind.ESCROW) == 900
    assert_books_balance(backend)
