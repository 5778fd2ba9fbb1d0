"""Subsidies paid when leases settle: who gets one, how much, and why not.

Every scenario runs the real exchange (placement, escrow, usage, capture) on the suite's
test database and checks the money to the fen.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from conftest import assert_books_balance, balance, row_counts
from suanli.kit.clock import ManualClock
from suanli.kit.errors import ConflictError, ValidationError
from suanli.orgs.auth import Principal
from suanli.store import Database
from suanli.store.models import VoucherFlag
from suanli.vocab import AccountKind, FlagKind, OrgRole, SettlementMode
from suanli.vouchers.schemas import GrantIn, RevokeIn
from suanli.vouchers.service import Vouchers

from .world import PRICE, START, World

CHARGE = 8 * 100 * PRICE  # 8 cards for 100 hours at ¥300: ¥240,000


@pytest.fixture
def world(db: Database) -> Iterator[World]:
    w = World(db, ManualClock(START))
    w.add_provider("Zhejiang Compute")
    w.add_program()
    yield w
    assert_books_balance(db)


def settle(world: World, buyer: int, **request: Any) -> int:
    lease = world.place(buyer, **request)
    world.run(lease)
    world.complete(lease)
    return lease


def test_thirty_percent_is_paid_from_the_fund_and_the_buyer_pays_the_rest(world: World) -> None:
    buyer = world.add_buyer("Lingxi AI", topup=CHARGE)
    world.grant(buyer, 10_000_000)
    fund_before = world.fund()

    lease = world.lease(settle(world, buyer))

    assert (lease.charged_fen, lease.subsidy_fen) == (CHARGE, CHARGE * 3 // 10)
    assert lease.voucher_note is not None and "30% of ¥240,000.00" in lease.voucher_note
    assert world.fund() == fund_before - CHARGE * 3 // 10
    assert balance(world.db, buyer, AccountKind.WALLET) == CHARGE * 3 // 10  # paid 70%
    assert balance(world.db, buyer, AccountKind.ESCROW) == 0
    provider = world.providers[0]
    assert balance(world.db, provider, AccountKind.EARNINGS) == CHARGE - CHARGE // 20  # 5% fee
    [redemption] = world.redemptions()
    assert (redemption.lease_id, redemption.amount_fen) == (lease.id, CHARGE * 3 // 10)


def test_a_related_party_lease_gets_nothing_and_says_why(world: World) -> None:
    related = world.add_provider("Cousin Cloud", province="江苏", group_name="West Lake Holdings")
    buyer = world.add_buyer("West Lake AI", group_name="West Lake Holdings")
    world.grant(buyer, 10_000_000)
    fund = world.fund()

    lease = world.lease(settle(world, buyer, provinces=["江苏"]))

    assert lease.provider_id == related
    assert lease.subsidy_fen == 0
    assert lease.voucher_note is not None
    assert "related-party" in lease.voucher_note and "West Lake Holdings" in lease.voucher_note
    assert world.fund() == fund
    assert world.redemptions() == []


def test_shared_owner_is_a_related_party(world: World) -> None:
    related = world.add_provider("Owner's DC", province="上海", owners=["Zhang San"], nodes=1)
    buyer = world.add_buyer("Owner's start-up", owners=["Zhang San", "Li Si"])
    world.grant(buyer, 10_000_000)

    ended = world.lease(settle(world, buyer, hours=1, provinces=["上海"]))

    assert ended.provider_id == related
    assert ended.subsidy_fen == 0
    assert ended.voucher_note is not None and "Zhang San" in ended.voucher_note


def test_an_expired_grant_is_not_used(world: World) -> None:
    buyer = world.add_buyer("Late AI")
    grant = world.apply(buyer, 10_000_000)
    world.decide(grant)
    lease = world.place(buyer, hours=1)
    world.run(lease)
    world.clock.set(START + timedelta(days=400))  # past the program's year, so the grant's
    ended = world.complete(lease)

    assert ended.subsidy_fen == 0
    assert ended.voucher_note is None  # no usable grant at all: nothing to explain
    assert world.redemptions() == []


def test_a_rejected_grant_cannot_be_spent(world: World) -> None:
    buyer = world.add_buyer("Refused AI")
    grant = world.apply(buyer, 10_000_000)
    world.decide(grant, approve=False, reason="not registered in Hangzhou")

    ended = world.lease(settle(world, buyer, hours=1))

    assert ended.subsidy_fen == 0
    assert world.redemptions() == []
    with pytest.raises(ConflictError, match="only applied grants"):
        world.decide(grant)


def test_the_earliest_expiring_grant_is_used_first(world: World) -> None:
    buyer = world.add_buyer("Two Grants AI")
    late = world.grant(buyer, 10_000_000)
    other = world.add_program(name="Short programme", valid_until=START + timedelta(days=30))
    early = world.apply(buyer, 10_000_000, program=other)
    world.decide(early)

    settle(world, buyer, hours=1)

    [redemption] = world.redemptions()
    assert redemption.grant_id == early
    assert redemption.grant_id != late


def test_caps_per_lease_firm_and_grant_cut_the_subsidy(world: World) -> None:
    small = world.add_program(name="Capped", cap_per_lease_fen=5_000_000)
    buyer = world.add_buyer("Capped AI")
    grant = world.apply(buyer, 30_000_000, program=small)
    world.decide(grant)
    world.program = small
    first = world.lease(settle(world, buyer))
    assert first.subsidy_fen == 5_000_000
    assert first.voucher_note is not None and "cap per lease" in first.voucher_note

    # The firm-year cap (¥200,000) binds after four leases of ¥50,000 each.
    for _ in range(3):
        settle(world, buyer)
    fifth = world.lease(settle(world, buyer))
    assert world.redeemed_by(buyer) == 20_000_000
    assert fifth.subsidy_fen == 0
    assert fifth.voucher_note is not None and "cap per firm and year is used up" in (
        fifth.voucher_note
    )


def test_tranches_release_only_after_metered_use(world: World) -> None:
    buyer = world.add_buyer("Tranche AI")
    grant = world.grant(buyer, 1_000_000, tranches_pct=[50, 50])
    with world.db.transaction() as session:
        vouchers = Vouchers(session, world.clock, issuer_of(world))
        with pytest.raises(ConflictError, match="no metered use yet"):
            vouchers.release_tranche(grant)
    first = world.lease(settle(world, buyer))
    assert first.subsidy_fen == 500_000  # the first half only
    with world.db.transaction() as session:
        released = Vouchers(session, world.clock, issuer_of(world)).release_tranche(grant)
        assert released.released_fen == 1_000_000
    second = world.lease(settle(world, buyer))
    assert second.subsidy_fen == 500_000


def issuer_of(world: World) -> Principal:
    return Principal(world.issuer, OrgRole.ISSUER)


@pytest.mark.parametrize("mode", list(SettlementMode))
def test_each_settlement_mode_moves_the_money_its_way(world: World, mode: SettlementMode) -> None:
    program = world.add_program(name=f"mode {mode}", settlement_mode=mode)
    world.program = program
    buyer = world.add_buyer(f"Mode AI {mode}", topup=CHARGE)
    world.grant(buyer, 10_000_000)

    lease = world.lease(settle(world, buyer))

    subsidy = CHARGE * 3 // 10
    assert lease.subsidy_fen == subsidy
    assert balance(world.db, buyer, AccountKind.WALLET) == subsidy  # net cost 70% either way
    [redemption] = world.redemptions()
    claimant = world.providers[0] if mode is SettlementMode.PROVIDER_CLAIM else buyer
    assert redemption.claimant_id == claimant


def test_revoke_with_clawback_takes_the_subsidy_back(world: World) -> None:
    one_hour = 8 * PRICE
    buyer = world.add_buyer("Clawed AI", topup=CHARGE + one_hour)
    grant = world.grant(buyer, 10_000_000)
    settle(world, buyer)
    fund = world.fund()
    with world.db.transaction() as session:
        Vouchers(session, world.clock, issuer_of(world)).revoke(
            grant, RevokeIn(reason="invoices did not match", claw_back=True)
        )
    assert world.fund() == fund + CHARGE * 3 // 10
    assert world.redeemed_by(buyer) == 0
    assert balance(world.db, buyer, AccountKind.WALLET) == one_hour  # paid the full charge
    # A revoked grant pays nothing more.
    later = world.lease(settle(world, buyer, hours=1))
    assert later.subsidy_fen == 0


def test_subsidized_leases_are_flagged_for_price_and_underuse(world: World) -> None:
    world.add_provider("Pricey DC", price=PRICE * 2, nodes=1)
    buyer = world.add_buyer("Idle AI")
    world.grant(buyer, 10_000_000)
    lease = world.place(buyer, cards=8, hours=10)
    world.run(lease, used_share=Decimal("0.25"))
    world.complete(lease)
    with world.db.transaction() as session:
        flags = {f.kind: f for f in session.scalars(select(VoucherFlag))}
    assert set(flags) == {FlagKind.UNDERUSED}
    assert flags[FlagKind.UNDERUSED].evidence["share"] == "0.2500"
    assert flags[FlagKind.UNDERUSED].lease_id == lease


def test_a_price_far_above_the_index_is_flagged(world: World) -> None:
    for i in range(2):
        world.add_provider(f"Fair DC {i}", nodes=1)
    pricey = world.add_provider("Pricey DC", price=PRICE * 2, nodes=1, province="江苏")
    buyer = world.add_buyer("Pricey AI")
    world.grant(buyer, 10_000_000)
    lease = world.lease(settle(world, buyer, hours=1, provinces=["江苏"]))
    assert lease.provider_id == pricey
    with world.db.transaction() as session:
        [flag] = session.scalars(select(VoucherFlag))
        assert flag.kind is FlagKind.PRICE_ABOVE_INDEX
        assert flag.evidence["price_fen"] == PRICE * 2
        assert flag.evidence["index_median_fen"] == str(PRICE)


def test_ineligible_buyers_cannot_apply_and_nothing_is_written(world: World) -> None:
    picky = world.add_program(name="Start-ups only", buyer_kinds=["startup"])
    buyer = world.add_buyer("Big Corp", kind="large")
    before = row_counts(world.db)
    with world.db.transaction() as session:
        vouchers = Vouchers(session, world.clock, principal_of(buyer))
        with pytest.raises(ValidationError, match=r"not eligible: .*startup"):
            vouchers.apply(GrantIn(program_id=picky, requested_fen=100))
    assert row_counts(world.db) == before


def principal_of(buyer: int) -> Principal:
    return Principal(buyer, OrgRole.BUYER)
