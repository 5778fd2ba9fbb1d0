"""Invariants of the money, for random sequences of movements (Hypothesis).

The ledger is driven with random top-ups, escrow holds, usage captures, voucher
redemptions, refunds (releases) and clawbacks, each with a random amount and a random
organization. A plain-Python model says what each movement should do (including which
ones must be refused because an account would fall below zero); after every sequence:
every transaction sums to zero, no floored account is below zero, every balance equals
the model's, and the providers' earnings plus the fees equal the usage captured.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import fresh_database, negative_floored_accounts, unbalanced_transactions
from suanli.kit.clock import ManualClock
from suanli.kit.errors import PaymentRequiredError
from suanli.kit.money import fee_fen
from suanli.ledger import Ledger, Leg
from suanli.orgs.service import create_org
from suanli.store import Database
from suanli.vocab import AccountKind, OrgRole, TransactionKind
from suanli.vouchers.rules import LIMIT_NAMES, Headroom, subsidy
from suanli.vouchers.service import split_budget, tranche_amounts

CLOCK = ManualClock(datetime(2026, 5, 1, tzinfo=UTC))
FEE = Decimal("0.05")
_names = itertools.count()


@pytest.fixture(scope="module")
def ledger_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    with fresh_database(tmp_path_factory.mktemp("props")) as database:
        yield database


amounts = st.integers(min_value=1, max_value=50_000)
movement = st.tuples(
    st.sampled_from(["topup", "hold", "capture", "redeem", "release", "clawback"]),
    st.integers(min_value=0, max_value=1),  # which buyer
    amounts,
)


@given(budget=st.integers(min_value=0, max_value=100_000), steps=st.lists(movement, max_size=40))
def test_random_movements_keep_the_books(
    ledger_db: Database, budget: int, steps: list[tuple[str, int, int]]
) -> None:
    with ledger_db.transaction() as session:
        tag = next(_names)
        buyers = [
            create_org(session, CLOCK, name=f"p-buyer-{tag}-{i}", role=OrgRole.BUYER).id
            for i in range(2)
        ]
        provider = create_org(session, CLOCK, name=f"p-prov-{tag}", role=OrgRole.PROVIDER).id
        issuer = create_org(session, CLOCK, name=f"p-iss-{tag}", role=OrgRole.ISSUER).id
        fund_key = issuer  # one fund (program_id None is fine for the ledger's own rules)
        ledger = Ledger(session, CLOCK)
        model: Counter[tuple[int, AccountKind]] = Counter()
        if budget:
            ledger.post(
                TransactionKind.PROGRAM_FUNDING,
                [
                    Leg(None, AccountKind.FUNDING, -budget),
                    Leg(fund_key, AccountKind.VOUCHER_FUND, budget),
                ],
            )
            model[(fund_key, AccountKind.VOUCHER_FUND)] += budget
        captured = 0
        for name, which, amount in steps:
            buyer = buyers[which]
            wallet, escrow = (buyer, AccountKind.WALLET), (buyer, AccountKind.ESCROW)
            fund = (fund_key, AccountKind.VOUCHER_FUND)
            try:
                if name == "topup":
                    ledger.topup(buyer, amount)
                    model[wallet] += amount
                elif name == "hold":
                    short = model[wallet] < amount
                    ledger.hold(buyer, amount, lease_id=None)  # type: ignore[arg-type]
                    assert not short
                    model[wallet] -= amount
                    model[escrow] += amount
                elif name == "capture":
                    short = model[escrow] < amount
                    done = ledger.capture(buyer, provider, amount, FEE, lease_id=None)  # type: ignore[arg-type]
                    assert not short
                    model[escrow] -= amount
                    model[(provider, AccountKind.EARNINGS)] += done.provider_fen
                    model[(-1, AccountKind.FEE)] += done.fee_fen
                    assert done.fee_fen == fee_fen(amount, FEE)
                    captured += amount
                elif name == "redeem":
                    short = model[fund] < amount
                    ledger.post(
                        TransactionKind.REDEMPTION,
                        [
                            Leg(fund_key, AccountKind.VOUCHER_FUND, -amount),
                            Leg(buyer, AccountKind.ESCROW, amount),
                        ],
                    )
                    assert not short
                    model[fund] -= amount
                    model[escrow] += amount
                elif name == "release":
                    short = model[escrow] < amount
                    ledger.release(buyer, amount, lease_id=None)  # type: ignore[arg-type]
                    assert not short
                    model[escrow] -= amount
                    model[wallet] += amount
                else:  # clawback
                    short = model[wallet] < amount
                    ledger.post(
                        TransactionKind.CLAWBACK,
                        [
                            Leg(buyer, AccountKind.WALLET, -amount),
                            Leg(fund_key, AccountKind.VOUCHER_FUND, amount),
                        ],
                    )
                    assert not short
                    model[wallet] -= amount
                    model[fund] += amount
            except PaymentRequiredError:
                assert short, f"{name} of {amount} refused although the model allows it"
        for (owner, kind), expected in model.items():
            if owner == -1:
                continue
            assert ledger.balance(owner, kind) == expected, (owner, kind)
        earned = ledger.balance(provider, AccountKind.EARNINGS)
        fees = model[(-1, AccountKind.FEE)]
        assert earned + fees == captured  # every fen captured went to the provider or the fee
        session.flush()
    assert unbalanced_transactions(ledger_db) == []
    assert negative_floored_accounts(ledger_db) == []


limits = st.one_of(st.none(), st.integers(min_value=-5, max_value=10**7))


@given(
    charge=st.integers(min_value=0, max_value=10**9),
    rate=st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(1), places=4),
    per_lease=limits,
    firm_year=limits,
    lifetime=limits,
    group_year=limits,
    grant=st.integers(min_value=-5, max_value=10**7),
    fund=st.integers(min_value=-5, max_value=10**8),
)
def test_a_subsidy_never_passes_any_limit(
    charge: int,
    rate: Decimal,
    per_lease: int | None,
    firm_year: int | None,
    lifetime: int | None,
    group_year: int | None,
    grant: int,
    fund: int,
) -> None:
    room = Headroom(per_lease, firm_year, lifetime, group_year, grant, fund)
    paid = subsidy(charge, rate, room)
    assert 0 <= paid.amount_fen <= paid.full_fen <= charge
    for name in LIMIT_NAMES:
        limit = getattr(room, name)
        if limit is not None:
            assert paid.amount_fen <= max(limit, 0)
    if paid.limited_by is None:
        assert paid.amount_fen == paid.full_fen
    else:
        assert paid.amount_fen == max(getattr(room, paid.limited_by), 0)
    assert abs(Decimal(paid.full_fen) - Decimal(charge) * rate) <= Decimal("0.5")


@given(
    budget=st.integers(min_value=1, max_value=10**12),
    weights=st.dictionaries(
        st.text("abcdefgh", min_size=1, max_size=5),
        st.integers(min_value=1, max_value=9),
        min_size=1,
        max_size=4,
    ),
)
def test_a_budget_split_adds_up_to_the_fen(budget: int, weights: dict[str, int]) -> None:
    shares = split_budget(budget, weights)
    assert sum(share for _, share in shares) == budget
    total = sum(weights.values())
    for funder, share in shares:
        assert abs(share * total - budget * weights[funder]) <= total


@given(
    approved=st.integers(min_value=1, max_value=10**12),
    cuts=st.lists(st.integers(min_value=1, max_value=99), max_size=4, unique=True),
)
def test_tranches_add_up_to_the_approved_amount(approved: int, cuts: list[int]) -> None:
    points = [0, *sorted(cuts), 100]
    percents = [b - a for a, b in itertools.pairwise(points)]
    tranches = tranche_amounts(approved, percents)
    assert sum(tranches) == approved
    assert all(t >= 0 for t in tranches)
