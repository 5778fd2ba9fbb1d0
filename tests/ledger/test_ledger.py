"""The double-entry ledger on a real SQLite database.

A Hypothesis state machine runs random sequences of top-ups, holds, captures,
releases and payouts against a model of the expected balances: every transaction sums
to zero, no floored account goes below zero, a movement the balance cannot cover raises
PaymentRequiredError and writes nothing, and every balance equals the model's.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select

from conftest import negative_floored_accounts, postings_total, unbalanced_transactions
from suanli.kit.clock import ManualClock
from suanli.kit.errors import PaymentRequiredError, ValidationError
from suanli.ledger import Ledger, Leg
from suanli.orgs.service import create_org
from suanli.store import Database
from suanli.store.models import (
    Account,
    Center,
    Lease,
    LedgerTransaction,
    Pool,
    Posting,
    Request,
)
from suanli.vocab import (
    AccountKind,
    CenterStatus,
    LeaseStatus,
    OrgRole,
    RequestStatus,
    TransactionKind,
)

CLOCK = ManualClock(datetime(2026, 11, 1, 8, 0, tzinfo=UTC))
RATES = [Decimal("0"), Decimal("0.05"), Decimal("0.1"), Decimal("0.333"), Decimal("1")]


@pytest.fixture(scope="module")
def sqlite_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """A real SQLite file shared by this module (each test makes its own organizations)."""
    path: Path = tmp_path_factory.mktemp("ledger") / "ledger.db"
    database = Database(f"sqlite:///{path}")
    database.migrate()
    yield database
    database.dispose()


@dataclass
class Cast:
    buyers: list[int]
    providers: list[int]
    leases: list[int]  # one lease per buyer (holds and captures name one)


def make_cast(db: Database, buyers: int = 2, providers: int = 2) -> Cast:
    """Organizations, and a lease per buyer for the ledger's lease references."""
    tag = uuid.uuid4().hex[:8]
    now = CLOCK.now()
    with db.transaction() as session:
        buyer_ids = [
            create_org(session, CLOCK, name=f"buyer-{tag}-{i}", role=OrgRole.BUYER).id
            for i in range(buyers)
        ]
        provider_ids = [
            create_org(session, CLOCK, name=f"provider-{tag}-{i}", role=OrgRole.PROVIDER).id
            for i in range(providers)
        ]
        center = Center(
            provider_id=provider_ids[0],
            name=f"center-{tag}",
            province="贵州",
            city="贵阳",
            pue=Decimal("1.2"),
            rack_kw=Decimal("20"),
            status=CenterStatus.ACTIVE,
            created_at=now,
        )
        session.add(center)
        session.flush()
        pool = Pool(
            center_id=center.id,
            name="h800",
            model="H800",
            nodes=1,
            cards_per_node=8,
            cpu_per_node=96,
            memory_gb_per_node=1024,
            intra_node="nvlink",
            inter_node="infiniband",
            inter_node_gbps=400,
            price_fen=1000,
            active=True,
            created_at=now,
        )
        session.add(pool)
        session.flush()
        lease_ids = []
        for buyer_id in buyer_ids:
            request = Request(
                buyer_id=buyer_id,
                cards=1,
                duration_s=3600,
                accepted_models=[],
                provinces=[],
                status=RequestStatus.PLACED,
                reasons=[],
                nearest=[],
                created_at=now,
                updated_at=now,
            )
            session.add(request)
            session.flush()
            lease = Lease(
                request_id=request.id,
                buyer_id=buyer_id,
                provider_id=provider_ids[0],
                center_id=center.id,
                pool_id=pool.id,
                model="H800",
                cards=1,
                duration_s=3600,
                price_fen=1000,
                hold_fen=0,
                charged_fen=0,
                status=LeaseStatus.PLACED,
                placed_at=now,
            )
            session.add(lease)
            session.flush()
            lease_ids.append(lease.id)
    return Cast(buyer_ids, provider_ids, lease_ids)


def counts(db: Database) -> tuple[int, int, int]:
    with db.transaction() as session:
        return tuple(  # type: ignore[return-value]
            int(session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (LedgerTransaction, Posting, Account)
        )


def move(db: Database, work: Callable[[Ledger], object]) -> None:
    with db.transaction() as session:
        work(Ledger(session, CLOCK))


def balance_of(db: Database, owner_id: int | None, kind: AccountKind) -> int:
    with db.transaction() as session:
        return Ledger(session, CLOCK).balance(owner_id, kind)


def expected_fee(amount: int, rate: Decimal) -> int:
    """Written out here rather than borrowed from kit.money."""
    return int((Decimal(amount) * rate).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


# -- the state machine ---------------------------------------------------------------------

BUYER = st.integers(0, 1)
PROVIDER = st.integers(0, 1)
AMOUNT = st.integers(1, 2_000_000)


class LedgerMachine(RuleBasedStateMachine):
    db: Database

    def __init__(self) -> None:
        super().__init__()
        self.cast = make_cast(self.db)
        self.wallet = [0, 0]
        self.escrow = [0, 0]
        self.earnings = [0, 0]
        self.fee_start = balance_of(self.db, None, AccountKind.FEE)
        self.funding_start = balance_of(self.db, None, AccountKind.FUNDING)
        self.fee = 0
        self.funding = 0

    def refused(self, work: Callable[[Ledger], object]) -> None:
        """A movement the balance cannot cover: 402, and not one row written."""
        before = counts(self.db)
        with pytest.raises(PaymentRequiredError):
            move(self.db, work)
        assert counts(self.db) == before

    @rule(b=BUYER, amount=AMOUNT)
    def topup(self, b: int, amount: int) -> None:
        move(self.db, lambda ledger: ledger.topup(self.cast.buyers[b], amount))
        self.wallet[b] += amount
        self.funding -= amount

    @rule(b=BUYER, amount=AMOUNT)
    def hold(self, b: int, amount: int) -> None:
        buyer, lease = self.cast.buyers[b], self.cast.leases[b]
        if amount > self.wallet[b]:
            self.refused(lambda ledger: ledger.hold(buyer, amount, lease_id=lease))
            return
        move(self.db, lambda ledger: ledger.hold(buyer, amount, lease_id=lease))
        self.wallet[b] -= amount
        self.escrow[b] += amount

    @rule(b=BUYER)
    def hold_everything(self, b: int) -> None:
        if self.wallet[b]:
            self.hold(b, self.wallet[b])

    @rule(b=BUYER, p=PROVIDER, amount=AMOUNT, rate=st.sampled_from(RATES))
    def capture(self, b: int, p: int, amount: int, rate: Decimal) -> None:
        buyer, provider, lease = self.cast.buyers[b], self.cast.providers[p], self.cast.leases[b]

        def work(ledger: Ledger) -> None:
            done = ledger.capture(buyer, provider, amount, rate, lease_id=lease)
            fee = expected_fee(amount, rate)
            assert (done.charged_fen, done.provider_fen, done.fee_fen) == (
                amount,
                amount - fee,
                fee,
            )

        if amount > self.escrow[b]:
            self.refused(work)
            return
        move(self.db, work)
        fee = expected_fee(amount, rate)
        self.escrow[b] -= amount
        self.earnings[p] += amount - fee
        self.fee += fee

    @rule(b=BUYER, p=PROVIDER, rate=st.sampled_from(RATES))
    def capture_everything(self, b: int, p: int, rate: Decimal) -> None:
        if self.escrow[b]:
            self.capture(b, p, self.escrow[b], rate)

    @rule(b=BUYER, amount=AMOUNT)
    def release(self, b: int, amount: int) -> None:
        buyer, lease = self.cast.buyers[b], self.cast.leases[b]
        if amount > self.escrow[b]:
            self.refused(lambda ledger: ledger.release(buyer, amount, lease_id=lease))
            return
        move(self.db, lambda ledger: ledger.release(buyer, amount, lease_id=lease))
        self.escrow[b] -= amount
        self.wallet[b] += amount

    @rule(b=BUYER)
    def release_everything(self, b: int) -> None:
        if self.escrow[b]:
            self.release(b, self.escrow[b])

    @rule(p=PROVIDER, amount=AMOUNT)
    def payout(self, p: int, amount: int) -> None:
        provider = self.cast.providers[p]
        if amount > self.earnings[p]:
            self.refused(lambda ledger: ledger.payout(provider, amount))
            return
        move(self.db, lambda ledger: ledger.payout(provider, amount))
        self.earnings[p] -= amount
        self.funding += amount

    @rule(p=PROVIDER)
    def payout_everything(self, p: int) -> None:
        if self.earnings[p]:
            self.payout(p, self.earnings[p])

    @invariant()
    def balances_are_the_models(self) -> None:
        for i, buyer in enumerate(self.cast.buyers):
            assert balance_of(self.db, buyer, AccountKind.WALLET) == self.wallet[i]
            assert balance_of(self.db, buyer, AccountKind.ESCROW) == self.escrow[i]
        for i, provider in enumerate(self.cast.providers):
            assert balance_of(self.db, provider, AccountKind.EARNINGS) == self.earnings[i]
        assert balance_of(self.db, None, AccountKind.FEE) == self.fee_start + self.fee
        assert balance_of(self.db, None, AccountKind.FUNDING) == self.funding_start + self.funding

    @invariant()
    def books_balance(self) -> None:
        assert unbalanced_transactions(self.db) == []
        assert negative_floored_accounts(self.db) == []
        assert postings_total(self.db) == 0


def test_random_movements_keep_the_books(sqlite_db: Database) -> None:
    machine = type("Machine", (LedgerMachine,), {"db": sqlite_db})
    run_state_machine_as_test(  # type: ignore[no-untyped-call]
        machine, settings=settings(max_examples=25, stateful_step_count=30, deadline=None)
    )


# -- units ---------------------------------------------------------------------------------


@pytest.fixture
def cast(sqlite_db: Database) -> Cast:
    return make_cast(sqlite_db)


def test_unbalanced_legs_are_a_programming_error(sqlite_db: Database, cast: Cast) -> None:
    before = counts(sqlite_db)
    with pytest.raises(ValueError, match="unbalanced topup transaction"):
        move(
            sqlite_db,
            lambda ledger: ledger.post(
                TransactionKind.TOPUP,
                [
                    Leg(None, AccountKind.FUNDING, -100),
                    Leg(cast.buyers[0], AccountKind.WALLET, 99),
                ],
            ),
        )
    assert counts(sqlite_db) == before


def _hold(cast: Cast, amount: int) -> Callable[[Ledger], object]:
    return lambda ledger: ledger.hold(cast.buyers[0], amount, lease_id=cast.leases[0])


def _capture(cast: Cast, amount: int) -> Callable[[Ledger], object]:
    return lambda ledger: ledger.capture(
        cast.buyers[0], cast.providers[0], amount, Decimal("0.05"), lease_id=cast.leases[0]
    )


def _release(cast: Cast, amount: int) -> Callable[[Ledger], object]:
    return lambda ledger: ledger.release(cast.buyers[0], amount, lease_id=cast.leases[0])


def _topup(cast: Cast, amount: int) -> Callable[[Ledger], object]:
    return lambda ledger: ledger.topup(cast.buyers[0], amount)


def _payout(cast: Cast, amount: int) -> Callable[[Ledger], object]:
    return lambda ledger: ledger.payout(cast.providers[0], amount)


MOVEMENTS: dict[str, Callable[[Cast, int], Callable[[Ledger], object]]] = {
    "topup": _topup,
    "hold": _hold,
    "capture": _capture,
    "release": _release,
    "payout": _payout,
}


@pytest.mark.parametrize("amount", [0, -500])
@pytest.mark.parametrize("kind", list(MOVEMENTS))
def test_movements_refuse_amounts_that_are_not_positive(
    sqlite_db: Database, cast: Cast, kind: str, amount: int
) -> None:
    """Every movement goes one way: a negative hold must not turn into a release."""
    # Money everywhere, so that a reversed movement would have something to move.
    move(sqlite_db, _topup(cast, 10_000))
    move(sqlite_db, _hold(cast, 5_000))
    move(sqlite_db, _capture(cast, 2_000))
    before = counts(sqlite_db)
    with pytest.raises(ValidationError, match="must be positive"):
        move(sqlite_db, MOVEMENTS[kind](cast, amount))
    assert counts(sqlite_db) == before


def test_a_short_wallet_says_what_is_missing(sqlite_db: Database, cast: Cast) -> None:
    move(sqlite_db, _topup(cast, 1050))
    with pytest.raises(PaymentRequiredError) as err:
        move(sqlite_db, _hold(cast, 4000))
    assert err.value.message == (
        "wallet balance ¥10.50 is below the escrow hold ¥40.00; top up to place this request"
    )
    assert err.value.status_code == 402


def test_funding_has_no_floor_and_accounts_are_made_once(sqlite_db: Database, cast: Cast) -> None:
    start = balance_of(sqlite_db, None, AccountKind.FUNDING)
    for _ in range(3):
        move(sqlite_db, _topup(cast, 700))
    assert balance_of(sqlite_db, None, AccountKind.FUNDING) == start - 2100
    assert balance_of(sqlite_db, cast.buyers[0], AccountKind.WALLET) == 2100
    assert balance_of(sqlite_db, cast.buyers[1], AccountKind.WALLET) == 0  # no account yet
    with sqlite_db.transaction() as session:
        kinds = session.scalars(
            select(Account.kind).where(Account.owner_id == cast.buyers[0]).order_by(Account.kind)
        )
        assert list(kinds) == [AccountKind.WALLET]
        platform = session.scalars(select(Account).where(Account.owner_id.is_(None)))
        floors = {a.kind: a.has_floor for a in platform}
    assert floors[AccountKind.FUNDING] is False
    assert all(floors[k] for k in floors if k is not AccountKind.FUNDING)


def test_legs_on_one_account_are_merged(sqlite_db: Database, cast: Cast) -> None:
    buyer = cast.buyers[0]
    move(sqlite_db, _topup(cast, 1000))
    with sqlite_db.transaction() as session:
        txn = Ledger(session, CLOCK).post(
            TransactionKind.HOLD,
            [
                Leg(buyer, AccountKind.WALLET, -300),
                Leg(buyer, AccountKind.WALLET, -200),
                Leg(buyer, AccountKind.ESCROW, 500),
                Leg(buyer, AccountKind.WALLET, 100),
                Leg(buyer, AccountKind.ESCROW, -100),
            ],
        )
        amounts = sorted(
            session.scalars(select(Posting.amount).where(Posting.transaction_id == txn.id))
        )
    assert amounts == [-400, 400]
    assert balance_of(sqlite_db, buyer, AccountKind.WALLET) == 600
