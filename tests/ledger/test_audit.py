"""The ledger audit: a clean voucher flow audits to all zeros; each kind of corruption,
written straight into the tables with SQL, is counted by its own check and no other.

:func:`build_scenario` (also used by the voucher report tests) runs a small exchange
through the services on a manual clock:

* issuer "Guiyang Data Bureau" runs program "compute voucher": budget ¥1,000 paid in by
  province and city (¥500 each), rate 50%, early-and-small rate 60% for one month
  (start-ups under 12 months), cap ¥25 per firm and year, deduct at checkout; a second
  issuer runs a program with no grants (for visibility);
* provider P1: an H800 pool at ¥10/card-hour (2 x 8 cards); provider P2: an A800 pool
  at ¥8 (1 x 8 cards);
* firm A (grant ¥50): L1 4 cards x 1 h on P1 = ¥40, voucher ¥20; L2 2 cards x 1 h =
  ¥20, voucher ¥10 cut to ¥5 by the firm-year cap; ¥2 of L2's voucher clawed back;
* firm B (grant ¥40): L3 3 cards x 1 h on P2 = ¥24, voucher ¥12; L5 1 card-second on
  P1, which costs 0.28 fen: no charge, no capture, no voucher;
* firm C, a start-up (grant ¥20 at 60% until one month after approval): L4 1 card for
  3 h on P1 metered 1 card-hour = ¥10, voucher ¥6, flagged underused;
* firm D applies and is rejected.

Afterwards the clock stands 45 days later, past C's grant's expiry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from suanli.capacity.schemas import CenterIn, PoolIn
from suanli.capacity.service import CapacityService
from suanli.exchange.schemas import RequestIn, UsageIn
from suanli.exchange.service import Exchange
from suanli.kit.clock import ManualClock
from suanli.kit.errors import PermissionDeniedError
from suanli.ledger import Ledger
from suanli.ledger.audit import CHECKS, audit_ledger
from suanli.orgs.auth import Principal
from suanli.orgs.service import create_org
from suanli.settings import Settings
from suanli.store import Database, vouchers_repo, work_repo
from suanli.store.models import (
    Account,
    Lease,
    LedgerTransaction,
    Posting,
    UsageRecord,
    VoucherGrant,
    VoucherProgram,
    VoucherRedemption,
)
from suanli.vocab import AccountKind, OrgRole, TransactionKind
from suanli.vouchers.schemas import ClawbackIn, GrantDecisionIn, GrantIn, ProgramIn
from suanli.vouchers.service import Vouchers

START = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


@dataclass
class Scenario:
    issuer: int
    other_issuer: int
    program: int
    other_program: int
    providers: dict[str, int]
    buyers: dict[str, int]
    grants: dict[str, int]
    leases: dict[str, int]


def _org(session: Session, clock: ManualClock, name: str, role: OrgRole, **kw: object) -> int:
    return create_org(session, clock, name=name, role=role, **kw).id  # type: ignore[arg-type]


def _supply(
    session: Session, clock: ManualClock, provider: int, model: str, price: int, nodes: int
) -> None:
    capacity = CapacityService(session, clock, Principal(provider, OrgRole.PROVIDER))
    center = capacity.register_center(
        CenterIn(
            name=f"center of {provider}",
            province="贵州",
            city="贵阳",
            pue=Decimal("1.2"),
            rack_kw=Decimal("20"),
        )
    )
    capacity.add_pool(
        center.id,
        PoolIn(
            name=f"{model.lower()}-1",
            model=model,
            nodes=nodes,
            cards_per_node=8,
            cpu_per_node=64,
            memory_gb_per_node=1024,
            intra_node="nvlink",
            inter_node="infiniband",
            inter_node_gbps=400,
            price_fen=price,
        ),
    )


def build_scenario(db: Database, clock: ManualClock) -> Scenario:
    """The exchange of the module docstring, built through the services."""
    now = clock.now()
    with db.transaction() as session:
        issuer = _org(session, clock, "Guiyang Data Bureau", OrgRole.ISSUER)
        other_issuer = _org(session, clock, "Zunyi Data Bureau", OrgRole.ISSUER)
        providers = {
            "P1": _org(session, clock, "P1 Compute", OrgRole.PROVIDER),
            "P2": _org(session, clock, "P2 Compute", OrgRole.PROVIDER),
        }
        buyers = {
            "A": _org(session, clock, "Firm A", OrgRole.BUYER, kind="sme"),
            "B": _org(session, clock, "Firm B", OrgRole.BUYER, kind="sme"),
            "C": _org(
                session,
                clock,
                "Firm C",
                OrgRole.BUYER,
                kind="startup",
                founded_on=date(2025, 1, 1),
            ),
            "D": _org(session, clock, "Firm D", OrgRole.BUYER, kind="sme"),
        }
        _supply(session, clock, providers["P1"], "H800", 1000, 2)
        _supply(session, clock, providers["P2"], "A800", 800, 1)
        ledger = Ledger(session, clock)
        for buyer in buyers.values():
            ledger.topup(buyer, 100_000)
        vouchers = Vouchers(session, clock, None)
        program = vouchers.create_program(
            ProgramIn(
                name="compute voucher",
                budget_fen=100_000,
                funding_split={"province": 1, "city": 1},
                rate=Decimal("0.5"),
                early_small_rate=Decimal("0.6"),
                early_small_months=1,
                early_small_max_age_months=12,
                cap_per_firm_year_fen=2_500,
                valid_from=now - timedelta(days=1),
                valid_until=datetime(2035, 1, 1, tzinfo=UTC),
            ),
            issuer_id=issuer,
        ).id
        other_program = vouchers.create_program(
            ProgramIn(
                name="other voucher",
                budget_fen=10_000,
                rate=Decimal("0.3"),
                valid_from=now - timedelta(days=1),
                valid_until=datetime(2035, 1, 1, tzinfo=UTC),
            ),
            issuer_id=other_issuer,
        ).id
        grants = {}
        for firm, amount in (("A", 5_000), ("B", 4_000), ("C", 2_000), ("D", 1_000)):
            grant = vouchers.apply(
                GrantIn(program_id=program, requested_fen=amount, buyer_id=buyers[firm])
            )
            grants[firm] = grant.id
            decision = (
                GrantDecisionIn(approve=False, reason="no business plan")
                if firm == "D"
                else GrantDecisionIn(approve=True)
            )
            vouchers.decide(grant.id, decision)
    shapes = {
        "L1": ("A", "H800", 4, 3600, 4 * 3600),
        "L2": ("A", "H800", 2, 3600, 2 * 3600),
        "L3": ("B", "A800", 3, 3600, 3 * 3600),
        "L4": ("C", "H800", 1, 3 * 3600, 3600),
        "L5": ("B", "H800", 1, 3600, 1),
    }
    leases: dict[str, int] = {}
    settings = Settings()
    for name, (firm, model, cards, duration, _used) in shapes.items():
        with db.transaction() as session:
            buyer = Exchange(session, clock, settings, Principal(buyers[firm], OrgRole.BUYER))
            request = buyer.submit(
                RequestIn(cards=cards, duration_s=duration, accepted_models=[model])
            )
            lease = work_repo.live_lease_of(session, request.id)
            assert lease is not None, request.reasons
            Exchange(session, clock, settings).start(lease.id)
            leases[name] = lease.id
    started = clock.now()
    clock.advance(3600)
    for name, (_firm, _model, _cards, _duration, used) in shapes.items():
        with db.transaction() as session:
            exchange = Exchange(session, clock, settings)
            exchange.record_usage(
                leases[name],
                UsageIn(card_seconds=used, period_start=started, period_end=clock.now()),
            )
            exchange.complete(leases[name])
    with db.transaction() as session:
        redemption = vouchers_repo.redemption_of_lease(session, leases["L2"])
        assert redemption is not None
        Vouchers(session, clock, None).claw_back(
            redemption.id, ClawbackIn(amount_fen=200, reason="billing error")
        )
    clock.set(START + timedelta(days=45))
    return Scenario(issuer, other_issuer, program, other_program, providers, buyers, grants, leases)


@pytest.fixture
def scenario(db: Database) -> Scenario:
    return build_scenario(db, ManualClock(START))


def audit(db: Database) -> dict[str, int]:
    with db.transaction() as session:
        found = audit_ledger(session, None)
    return {name: getattr(found, name) for name in ("ok", "transactions", *CHECKS)}


def problems(db: Database) -> dict[str, int]:
    return {name: count for name, count in audit(db).items() if name in CHECKS and count}


def test_clean_flow_audits_to_zero(db: Database, scenario: Scenario) -> None:
    found = audit(db)
    assert found["ok"] is True
    assert {name: found[name] for name in CHECKS} == dict.fromkeys(CHECKS, 0)
    with db.transaction() as session:
        # the tiny lease: usage on record, below a fen, so legitimately no capture
        [record] = work_repo.usage_records(session, scenario.leases["L5"])
        assert record.charge_transaction_id is None
        count = session.query(LedgerTransaction).count()
        assert found["transactions"] == count
        kinds = session.scalars(
            select(LedgerTransaction.kind).where(
                LedgerTransaction.kind.in_([TransactionKind.REDEMPTION, TransactionKind.CLAWBACK])
            )
        ).all()
        assert sorted(kinds) == sorted(
            [TransactionKind.REDEMPTION] * 4 + [TransactionKind.CLAWBACK]
        )


def test_only_the_operator_audits(db: Database, scenario: Scenario) -> None:
    with db.transaction() as session, pytest.raises(PermissionDeniedError):
        audit_ledger(session, Principal(scenario.issuer, OrgRole.ISSUER))
    with db.transaction() as session:
        assert audit_ledger(session, Principal(1, OrgRole.OPERATOR)).ok


# -- corruptions, each written with SQL ---------------------------------------------------
def _account(session: Session, owner: int | None, kind: AccountKind) -> int:
    owner_is = Account.owner_id.is_(None) if owner is None else Account.owner_id == owner
    return session.scalars(select(Account.id).where(owner_is, Account.kind == kind)).one()


def _insert(
    session: Session, kind: TransactionKind, postings: list[tuple[int, int]], lease: int | None
) -> int:
    txn = LedgerTransaction(kind=kind, lease_id=lease, memo="forged", created_at=START)
    session.add(txn)
    session.flush()
    session.add_all(Posting(transaction_id=txn.id, account_id=a, amount=v) for a, v in postings)
    for a, v in postings:  # a careful forger keeps the balances in step
        session.execute(update(Account).where(Account.id == a).values(balance=Account.balance + v))
    return txn.id


def _redemption(session: Session, lease: int) -> VoucherRedemption:
    found = vouchers_repo.redemption_of_lease(session, lease)
    assert found is not None
    return found


def unbalanced_posting(session: Session, s: Scenario) -> None:
    funding = _account(session, None, AccountKind.FUNDING)
    first = session.scalars(
        select(Posting.id).where(Posting.account_id == funding).order_by(Posting.id)
    ).first()
    session.execute(update(Posting).where(Posting.id == first).values(amount=Posting.amount + 1))


def balance_tampered(session: Session, s: Scenario) -> None:
    wallet = _account(session, s.buyers["D"], AccountKind.WALLET)
    session.execute(update(Account).where(Account.id == wallet).values(balance=Account.balance + 1))


def negative_wallet(session: Session, s: Scenario) -> None:
    wallet = _account(session, s.buyers["D"], AccountKind.WALLET)
    funding = _account(session, None, AccountKind.FUNDING)
    _insert(session, TransactionKind.PAYOUT, [(wallet, -100_001), (funding, 100_001)], None)


def usage_never_charged(session: Session, s: Scenario) -> None:
    session.add(
        UsageRecord(
            lease_id=s.leases["L3"],
            external_id="late-meter",
            card_seconds=3600,
            period_start=START,
            period_end=START + timedelta(hours=1),
            source="agent",
            recorded_at=START,
        )
    )


def capture_without_usage(session: Session, s: Scenario) -> None:
    _insert(session, TransactionKind.CAPTURE, [], None)


def usage_unlinked_from_capture(session: Session, s: Scenario) -> None:
    session.execute(
        update(UsageRecord)
        .where(UsageRecord.lease_id == s.leases["L4"])
        .values(charge_transaction_id=None)
    )


def redemption_over_caps(session: Session, s: Scenario) -> None:
    session.execute(
        update(VoucherProgram)
        .where(VoucherProgram.id == s.program)
        .values(cap_per_firm_year_fen=2_000, cap_per_lease_fen=1_500)
    )


def grant_redeemed_wrong(session: Session, s: Scenario) -> None:
    session.execute(
        update(VoucherGrant).where(VoucherGrant.id == s.grants["A"]).values(redeemed_fen=2_400)
    )


def lease_charged_wrong(session: Session, s: Scenario) -> None:
    session.execute(
        update(Lease).where(Lease.id == s.leases["L3"]).values(charged_fen=Lease.charged_fen + 1)
    )


def lease_subsidy_wrong(session: Session, s: Scenario) -> None:
    session.execute(update(Lease).where(Lease.id == s.leases["L1"]).values(subsidy_fen=1_999))


def redemption_points_elsewhere(session: Session, s: Scenario) -> None:
    other = _redemption(session, s.leases["L1"]).transaction_id
    session.execute(
        update(VoucherRedemption)
        .where(VoucherRedemption.lease_id == s.leases["L3"])
        .values(transaction_id=other)
    )


def fund_overdrawn(session: Session, s: Scenario) -> None:
    program = session.get(VoucherProgram, s.program)
    assert program is not None
    fund = session.scalars(
        select(Account.id).where(
            Account.kind == AccountKind.VOUCHER_FUND, Account.program_id == s.program
        )
    ).one()
    funding = _account(session, None, AccountKind.FUNDING)
    _insert(session, TransactionKind.PROGRAM_CLOSE, [(fund, -96_000), (funding, 96_000)], None)


CORRUPTIONS: list[tuple[Callable[[Session, Scenario], None], dict[str, int]]] = [
    (unbalanced_posting, {"unbalanced": 1}),  # on the funding account: no kept balance
    (balance_tampered, {"balance_mismatch": 1}),
    (negative_wallet, {"negative_balances": 1}),
    (usage_never_charged, {"usage_without_charge": 1}),
    (capture_without_usage, {"charge_without_usage": 1}),
    (
        usage_unlinked_from_capture,
        {"usage_without_charge": 1, "charge_without_usage": 1, "redemptions_without_usage": 1},
    ),
    (redemption_over_caps, {"cap_breaches": 2}),
    (grant_redeemed_wrong, {"grant_redeemed_mismatch": 1}),
    (lease_charged_wrong, {"lease_charge_mismatch": 1}),
    (lease_subsidy_wrong, {"redemption_mismatch": 1}),
    (redemption_points_elsewhere, {"redemption_mismatch": 1}),
    (fund_overdrawn, {"negative_balances": 1, "fund_overdrawn": 1}),
]


@pytest.mark.parametrize(
    ("corrupt", "expected"), CORRUPTIONS, ids=lambda c: getattr(c, "__name__", "")
)
def test_each_corruption_is_found(
    db: Database,
    scenario: Scenario,
    corrupt: Callable[[Session, Scenario], None],
    expected: dict[str, int],
) -> None:
    assert problems(db) == {}
    with db.transaction() as session:
        corrupt(session, scenario)
    assert problems(db) == expected
    assert audit(db)["ok"] is False
