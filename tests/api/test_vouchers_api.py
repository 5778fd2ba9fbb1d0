"""Voucher programs over HTTP against a live server: an issuer funds a program, a buyer
applies, the issuer approves in tranches, a lease settles with the subsidy, the issuer
releases, revokes, claws back and resolves flags; other tenants get 404, other roles
403, and bad input a 4xx naming the field with nothing written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from conftest import (
    Market,
    Party,
    assert_books_balance,
    balance,
    make_request,
    make_supply,
    row_counts,
)
from suanli.exchange.schemas import LeaseOut, UsageIn
from suanli.ledger import Ledger
from suanli.sdk import ApiError, Client
from suanli.store import Database
from suanli.vocab import AccountKind, FlagKind, FlagStatus, GrantStatus, OrgRole, ProgramStatus
from suanli.vouchers.schemas import (
    ClawbackIn,
    FlagResolveIn,
    GrantDecisionIn,
    GrantIn,
    ProgramIn,
    RevokeIn,
)

TOPUP = 1_000_000
BUDGET = 1_000_001  # odd: the province and the city pay 500,001 and 500,000
PRICE = 1000  # fen per card-hour


def program_in(market: Market, **overrides: Any) -> ProgramIn:
    now = market.clock.now()
    fields: dict[str, Any] = {
        "name": "Guiyang compute voucher",
        "budget_fen": BUDGET,
        "funding_split": {"province": 1, "city": 1},
        "rate": Decimal("0.3"),
        "valid_from": now - timedelta(days=1),
        "valid_until": now + timedelta(days=365),
    }
    fields.update(overrides)
    return ProgramIn(**fields)


def approve(client: Client, grant_id: int, **fields: Any) -> Any:
    return client.decide_grant(grant_id, GrantDecisionIn(approve=True, **fields))


def run_lease(
    market: Market,
    buyer: Party,
    provider: Party,
    *,
    cards: int = 4,
    hours: int = 2,
    card_seconds: int = 4 * 3600,
) -> tuple[LeaseOut, int]:
    """Place, start, meter and complete a lease; returns it and its usage record id."""
    request = make_request(buyer.client, cards=cards, duration_s=hours * 3600)
    assert request.lease_id is not None, request.reasons
    provider.client.start_lease(request.lease_id)
    market.clock.advance(3600)
    usage = provider.client.record_usage(
        request.lease_id,
        UsageIn(
            card_seconds=card_seconds,
            period_start=market.clock.now() - timedelta(hours=1),
            period_end=market.clock.now(),
        ),
    )
    return provider.client.complete_lease(request.lease_id, "done"), usage.id


def expect(status: int, call: Any, *args: Any, **kwargs: Any) -> ApiError:
    with pytest.raises(ApiError) as err:
        call(*args, **kwargs)
    assert err.value.status == status, err.value.message
    return err.value


# -- the whole flow ------------------------------------------------------------------------
def test_program_grant_lease_redemption_release_revoke(market: Market, db: Database) -> None:
    issuer = market.party(OrgRole.ISSUER)
    provider, _, _ = make_supply(market, price_fen=PRICE, nodes=1, cards_per_node=8)
    buyer = market.buyer(topup_fen=TOPUP)

    program = issuer.client.create_program(program_in(market), idempotency_key="prog-1")
    again = issuer.client.create_program(program_in(market), idempotency_key="prog-1")
    assert again == program
    assert (program.issuer_id, program.status) == (issuer.org_id, ProgramStatus.ACTIVE)
    assert (program.budget_fen, program.fund_fen, program.rate) == (BUDGET, BUDGET, Decimal("0.3"))
    assert [p.id for p in issuer.client.list_programs(mine=True)] == [program.id]
    assert buyer.client.get_program(program.id).fund_fen == BUDGET  # buyers see programs
    assert balance(db, None, AccountKind.FUNDING) == -TOPUP - BUDGET

    grant = buyer.client.apply_grant(
        GrantIn(program_id=program.id, requested_fen=10_000, purpose="fine-tune")
    )
    assert (grant.status, grant.buyer_id, grant.released_fen) == (
        GrantStatus.APPLIED,
        buyer.org_id,
        0,
    )
    assert expect(409, issuer.client.release_tranche, grant.id).message.endswith("is applied")
    # the issuer reads who applied by name, in the listing and on the grant
    [waiting] = issuer.client.list_grants(status=GrantStatus.APPLIED)
    assert (waiting.id, waiting.buyer_name) == (grant.id, buyer.name) and buyer.name
    assert grant.buyer_name == issuer.client.get_grant(grant.id).buyer_name == buyer.name

    approved = approve(issuer.client, grant.id, tranches_pct=[50, 50])
    assert approved.status is GrantStatus.APPROVED
    assert (approved.approved_fen, approved.released_fen) == (10_000, 5_000)
    assert approved.pending_tranches_fen == [5_000]
    assert approved.rate == Decimal("0.3")
    assert approved.reason == "approved at the base rate"
    # the next tranche follows metered use only
    refused = expect(409, issuer.client.release_tranche, grant.id)
    assert "no metered use" in refused.message
    assert issuer.client.get_grant(grant.id).released_fen == 5_000

    lease, usage_id = run_lease(market, buyer, provider)  # 4 card-hours at ¥10 = ¥40
    assert (lease.charged_fen, lease.subsidy_fen) == (4_000, 1_200)
    assert lease.voucher_note is not None and "Guiyang compute voucher" in lease.voucher_note
    wallet = buyer.client.wallet()
    assert (wallet.available_fen, wallet.escrow_fen) == (TOPUP - 4_000 + 1_200, 0)

    [redemption] = issuer.client.list_redemptions(program_id=program.id)
    assert (redemption.lease_id, redemption.grant_id) == (lease.id, grant.id)
    assert (redemption.charge_fen, redemption.amount_fen) == (4_000, lease.subsidy_fen)
    assert redemption.usage_record_ids == [usage_id]
    assert (redemption.buyer_name, redemption.provider_name) == (buyer.name, provider.name)
    assert buyer.client.list_redemptions() == [redemption]
    assert provider.client.list_redemptions() == [redemption]
    assert issuer.client.get_program(program.id).fund_fen == BUDGET - 1_200
    assert issuer.client.get_grant(grant.id).redeemed_fen == 1_200

    released = issuer.client.release_tranche(grant.id)
    assert (released.released_fen, released.pending_tranches_fen) == (10_000, [])
    assert "no tranche left" in expect(409, issuer.client.release_tranche, grant.id).message

    revoked = issuer.client.revoke_grant(grant.id, RevokeIn(reason="misuse", claw_back=True))
    assert (revoked.status, revoked.reason, revoked.redeemed_fen) == (
        GrantStatus.REVOKED,
        "misuse",
        0,
    )
    [clawed] = buyer.client.list_redemptions()
    assert clawed.clawed_back_fen == 1_200
    assert buyer.client.wallet().available_fen == TOPUP - 4_000
    assert issuer.client.get_program(program.id).fund_fen == BUDGET
    assert [g.id for g in buyer.client.list_grants(status="revoked")] == [grant.id]
    assert buyer.client.list_grants(status="approved") == []

    closed = issuer.client.close_program(program.id)
    assert (closed.status, closed.fund_fen) == (ProgramStatus.CLOSED, 0)
    assert closed.closed_at == market.clock.now()
    assert balance(db, None, AccountKind.FUNDING) == -TOPUP
    assert "already closed" in expect(409, issuer.client.close_program, program.id).message
    assert_books_balance(db)


def test_partial_clawback_and_operator_acting_for_an_issuer(market: Market, db: Database) -> None:
    issuer = market.party(OrgRole.ISSUER)
    provider, _, _ = make_supply(market, price_fen=PRICE, nodes=1, cards_per_node=8)
    buyer = market.buyer(topup_fen=TOPUP)
    operator = market.operator.client
    program = operator.create_program(
        program_in(market, settlement_mode="reimburse", rate=Decimal("0.5")),
        issuer_id=issuer.org_id,
    )
    assert (program.issuer_id, program.settlement_mode) == (issuer.org_id, "reimburse")
    grant = buyer.client.apply_grant(GrantIn(program_id=program.id, requested_fen=50_000))
    approve(operator, grant.id, approved_fen=20_000)
    lease, _ = run_lease(market, buyer, provider)
    assert lease.subsidy_fen == 2_000  # reimbursed into the wallet, not the escrow
    assert buyer.client.wallet().available_fen == TOPUP - 4_000 + 2_000

    [redemption] = issuer.client.list_redemptions()
    clawback = issuer.client.claw_back(
        redemption.id, ClawbackIn(amount_fen=500, reason="price check"), idempotency_key="cb-1"
    )
    retry = issuer.client.claw_back(
        redemption.id, ClawbackIn(amount_fen=500, reason="price check"), idempotency_key="cb-1"
    )
    assert retry == clawback
    assert (clawback.amount_fen, clawback.redemption_id) == (500, redemption.id)
    too_much = expect(
        422, issuer.client.claw_back, redemption.id, ClawbackIn(amount_fen=1_501, reason="x")
    )
    assert "¥15.00 left" in too_much.message
    rest = operator.claw_back(redemption.id, ClawbackIn(reason="all the rest"))
    assert rest.amount_fen == 1_500
    assert buyer.client.wallet().available_fen == TOPUP - 4_000
    assert issuer.client.get_program(program.id).fund_fen == BUDGET
    assert_books_balance(db)


# -- flags ---------------------------------------------------------------------------------
def test_underused_lease_flag_confirmed_claws_back(market: Market, db: Database) -> None:
    issuer, other_issuer = market.party(OrgRole.ISSUER), market.party(OrgRole.ISSUER)
    provider, _, _ = make_supply(market, price_fen=PRICE, nodes=1, cards_per_node=8)
    buyer, other_buyer = market.buyer(topup_fen=TOPUP), market.buyer()
    program = issuer.client.create_program(program_in(market))
    grant = buyer.client.apply_grant(GrantIn(program_id=program.id, requested_fen=10_000))
    approve(issuer.client, grant.id)
    # 1 card for 2 hours, 0.5 card-hours metered: ¥5 charged, ¥1.50 paid by the voucher
    lease, _ = run_lease(market, buyer, provider, cards=1, card_seconds=1800)
    assert lease.subsidy_fen == 150

    [flag] = issuer.client.list_flags()
    assert (flag.kind, flag.status, flag.lease_id) == (
        FlagKind.UNDERUSED,
        FlagStatus.OPEN,
        lease.id,
    )
    assert (flag.program_id, flag.buyer_id, flag.provider_id) == (
        program.id,
        buyer.org_id,
        provider.org_id,
    )
    assert flag.evidence["metered_card_seconds"] == 1800
    assert buyer.client.list_flags() == [flag]
    assert provider.client.get_flag(flag.id) == flag
    assert issuer.client.list_flags(status="dismissed") == []
    assert issuer.client.list_flags(kind="price_above_index") == []
    assert other_issuer.client.list_flags() == []
    assert other_buyer.client.list_flags() == []

    before = row_counts(db)
    expect(404, other_issuer.client.get_flag, flag.id)
    expect(404, other_buyer.client.get_flag, flag.id)
    confirm = FlagResolveIn(status=FlagStatus.CONFIRMED, resolution="idle cards", claw_back=True)
    expect(404, other_issuer.client.resolve_flag, flag.id, confirm)
    expect(403, buyer.client.resolve_flag, flag.id, confirm)
    expect(403, provider.client.resolve_flag, flag.id, confirm)
    dismiss_and_claw = FlagResolveIn(status=FlagStatus.DISMISSED, resolution="ok", claw_back=True)
    refused = expect(422, issuer.client.resolve_flag, flag.id, dismiss_and_claw)
    assert refused.message.startswith("claw_back")
    assert row_counts(db) == before

    resolved = issuer.client.resolve_flag(flag.id, confirm)
    assert resolved.status is FlagStatus.CONFIRMED
    assert resolved.resolved_at == market.clock.now()
    [redemption] = issuer.client.list_redemptions()
    assert resolved.resolution == f"idle cards (clawed back ¥1.50 of redemption {redemption.id})"
    assert redemption.clawed_back_fen == 150
    assert issuer.client.get_grant(grant.id).redeemed_fen == 0
    assert "already confirmed" in expect(409, issuer.client.resolve_flag, flag.id, confirm).message
    assert issuer.client.list_flags(status="open") == []
    assert_books_balance(db)


def test_flowback_scan_and_dismissal(market: Market, db: Database) -> None:
    issuer = market.party(OrgRole.ISSUER)
    provider, _, _ = make_supply(market, price_fen=PRICE, nodes=1, cards_per_node=8)
    buyer = market.buyer(topup_fen=TOPUP)
    program = issuer.client.create_program(program_in(market))
    grant = buyer.client.apply_grant(GrantIn(program_id=program.id, requested_fen=10_000))
    approve(issuer.client, grant.id)
    run_lease(market, buyer, provider)
    assert issuer.client.list_flags() == []
    assert issuer.client.scan_flags() == []

    # the provider's earnings go to an account that then tops up the subsidized buyer
    with db.transaction() as session:
        Ledger(session, market.clock).payout(provider.org_id, 1_000, counterparty="bank:6222-01")
    buyer.client.topup(1_000, counterparty="bank:6222-01")
    expect(403, buyer.client.scan_flags)
    expect(403, provider.client.scan_flags)
    [flag] = issuer.client.scan_flags()
    assert (flag.kind, flag.lease_id, flag.program_id) == (
        FlagKind.MONEY_FLOWBACK,
        None,
        program.id,
    )
    assert flag.evidence["counterparty"] == "bank:6222-01"
    assert market.operator.client.scan_flags() == [flag]
    assert market.party(OrgRole.ISSUER).client.scan_flags() == []

    dismissed = issuer.client.resolve_flag(
        flag.id, FlagResolveIn(status=FlagStatus.DISMISSED, resolution="a salary payment")
    )
    assert (dismissed.status, dismissed.resolution) == (FlagStatus.DISMISSED, "a salary payment")
    [redemption] = issuer.client.list_redemptions()
    assert redemption.clawed_back_fen == 0
    assert issuer.client.scan_flags() == [dismissed]  # raised once, not again
    assert_books_balance(db)


def test_flowback_flag_confirmed_claws_back_the_pairs_subsidies(
    market: Market, db: Database
) -> None:
    issuer = market.party(OrgRole.ISSUER)
    provider, _, _ = make_supply(market, price_fen=PRICE, nodes=1, cards_per_node=8)
    buyer = market.buyer(topup_fen=TOPUP)
    program = issuer.client.create_program(program_in(market))
    grant = buyer.client.apply_grant(GrantIn(program_id=program.id, requested_fen=10_000))
    approve(issuer.client, grant.id)
    run_lease(market, buyer, provider)
    run_lease(market, buyer, provider)
    with db.transaction() as session:
        Ledger(session, market.clock).payout(provider.org_id, 1_000, counterparty="acct-9")
    buyer.client.topup(1_000, counterparty="acct-9")  # the top-up runs the scan itself
    [flag] = issuer.client.list_flags(kind="money_flowback")
    resolved = issuer.client.resolve_flag(
        flag.id,
        FlagResolveIn(status=FlagStatus.CONFIRMED, resolution="kickback", claw_back=True),
    )
    assert resolved.resolution.count("¥12.00 of redemption") == 2
    redemptions = issuer.client.list_redemptions()
    assert [r.clawed_back_fen for r in redemptions] == [1_200, 1_200]
    assert issuer.client.get_program(program.id).fund_fen == BUDGET
    assert_books_balance(db)


# -- isolation and roles -------------------------------------------------------------------
@dataclass
class Stage:
    """Two issuers, two buyers, a provider; issuer A's program with a grant, a
    redemption and a flag. The tests here only make refused (or read-only) calls."""

    market: Market
    issuer: Party
    other_issuer: Party
    buyer: Party
    other_buyer: Party
    provider: Party
    program_id: int
    grant_id: int
    applied_grant_id: int
    redemption_id: int
    flag_id: int

    @property
    def now(self) -> datetime:
        return self.market.clock.now()


@pytest.fixture(scope="module")
def stage(module_market: Market) -> Stage:
    market = module_market
    issuer, other_issuer = market.party(OrgRole.ISSUER), market.party(OrgRole.ISSUER)
    provider, _, _ = make_supply(market, price_fen=PRICE, nodes=2, cards_per_node=8)
    buyer, other_buyer = market.buyer(topup_fen=TOPUP), market.buyer(topup_fen=TOPUP)
    program = issuer.client.create_program(program_in(market))
    grant = buyer.client.apply_grant(GrantIn(program_id=program.id, requested_fen=10_000))
    approve(issuer.client, grant.id, tranches_pct=[50, 50])
    run_lease(market, buyer, provider, cards=1, card_seconds=600)  # underused: a flag
    applied = other_buyer.client.apply_grant(GrantIn(program_id=program.id, requested_fen=5_000))
    [redemption] = issuer.client.list_redemptions()
    [flag] = issuer.client.list_flags()
    return Stage(
        market,
        issuer,
        other_issuer,
        buyer,
        other_buyer,
        provider,
        program.id,
        grant.id,
        applied.id,
        redemption.id,
        flag.id,
    )


def test_other_tenants_get_404_and_nothing_changes(stage: Stage) -> None:
    s = stage
    before = row_counts(s.market.db)
    stranger = s.other_issuer.client
    confirm = FlagResolveIn(status=FlagStatus.CONFIRMED, resolution="x", claw_back=True)
    refused = [
        (stranger.close_program, (s.program_id,)),
        (stranger.get_grant, (s.grant_id,)),
        (stranger.decide_grant, (s.applied_grant_id, GrantDecisionIn(approve=True))),
        (stranger.release_tranche, (s.grant_id,)),
        (stranger.revoke_grant, (s.grant_id, RevokeIn(reason="x", claw_back=True))),
        (stranger.claw_back, (s.redemption_id, ClawbackIn(reason="x"))),
        (stranger.get_flag, (s.flag_id,)),
        (stranger.resolve_flag, (s.flag_id, confirm)),
        (s.other_buyer.client.get_grant, (s.grant_id,)),
        (s.buyer.client.get_grant, (s.applied_grant_id,)),
        (s.other_buyer.client.get_flag, (s.flag_id,)),
    ]
    for call, args in refused:
        error = expect(404, call, *args)
        assert "not found" in error.message
    # an issuer may not create a program in another issuer's name
    expect(404, stranger.create_program, program_in(s.market), issuer_id=s.issuer.org_id)
    assert stranger.list_grants() == []
    assert stranger.list_grants(program_id=s.program_id) == []
    assert stranger.list_redemptions() == []
    assert stranger.list_redemptions(program_id=s.program_id) == []
    assert stranger.list_programs(mine=True) == []
    assert [g.id for g in s.other_buyer.client.list_grants()] == [s.applied_grant_id]
    assert s.other_buyer.client.list_redemptions() == []
    assert s.other_buyer.client.list_flags() == []
    # the operator sees everything
    operator = s.market.operator.client
    assert {g.id for g in operator.list_grants()} >= {s.grant_id, s.applied_grant_id}
    assert [r.id for r in operator.list_redemptions()] == [s.redemption_id]
    assert operator.get_flag(s.flag_id).id == s.flag_id
    assert row_counts(s.market.db) == before


def test_roles_without_the_scope_get_403(stage: Stage) -> None:
    s = stage
    before = row_counts(s.market.db)
    buyer, provider, issuer = s.buyer.client, s.provider.client, s.issuer.client
    refused = [
        (buyer.create_program, (program_in(s.market, name="mine"),)),
        (provider.create_program, (program_in(s.market, name="mine"),)),
        (buyer.close_program, (s.program_id,)),
        (provider.apply_grant, (GrantIn(program_id=s.program_id, requested_fen=100),)),
        (issuer.apply_grant, (GrantIn(program_id=s.program_id, requested_fen=100),)),
        (buyer.decide_grant, (s.applied_grant_id, GrantDecisionIn(approve=True))),
        (buyer.release_tranche, (s.grant_id,)),
        (buyer.revoke_grant, (s.grant_id, RevokeIn(reason="x"))),
        (buyer.claw_back, (s.redemption_id, ClawbackIn(reason="x"))),
        (provider.claw_back, (s.redemption_id, ClawbackIn(reason="x"))),
        (buyer.scan_flags, ()),
    ]
    for call, args in refused:
        error = expect(403, call, *args)
        assert "may not use vouchers:" in error.message
    assert row_counts(s.market.db) == before


# -- bad input -----------------------------------------------------------------------------
MISSING = 999_999


def _program_body(stage: Stage, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "bad",
        "budget_fen": 100_000,
        "rate": "0.3",
        "valid_from": (stage.now - timedelta(days=1)).isoformat(),
        "valid_until": (stage.now + timedelta(days=30)).isoformat(),
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


BAD_PROGRAMS: list[tuple[str, dict[str, Any], int, str]] = [
    ("negative-budget", {"budget_fen": -100}, 422, "budget_fen"),
    ("zero-budget", {"budget_fen": 0}, 422, "budget_fen"),
    ("rate-above-100", {"rate": "1.5"}, 422, "rate"),
    ("rate-zero", {"rate": "0"}, 422, "rate"),
    ("sme-rate-above-100", {"sme_rate": "1.01"}, 422, "sme_rate"),
    ("negative-cap", {"cap_per_lease_fen": -1}, 422, "cap_per_lease_fen"),
    ("negative-firm-cap", {"cap_per_firm_year_fen": -5}, 422, "cap_per_firm_year_fen"),
    ("reversed-dates", {"valid_until": "REVERSED"}, 422, "valid_until"),
    ("naive-dates", {"valid_from": "2025-01-01T00:00:00"}, 422, "time zone"),
    ("unknown-provider", {"provider_ids": [MISSING]}, 422, "provider_ids"),
    ("buyer-as-provider", {"provider_ids": ["BUYER"]}, 422, "provider_ids"),
    ("unknown-blacklisted", {"blacklist": [MISSING]}, 422, "blacklist"),
    ("zero-weight-funder", {"funding_split": {"city": 0}}, 422, "funding_split"),
    ("unknown-item", {"items": ["gpus"]}, 422, "items"),
    ("negative-min-paid", {"min_paid_fen": -1}, 422, "min_paid_fen"),
    ("unknown-mode", {"settlement_mode": "cash"}, 422, "settlement_mode"),
    ("unknown-field", {"colour": "red"}, 422, "colour"),
    ("early-small-alone", {"early_small_rate": "0.5"}, 422, "early_small"),
]


@pytest.mark.parametrize(
    ("overrides", "status", "names"),
    [pytest.param(o, st, n, id=i) for i, o, st, n in BAD_PROGRAMS],
)
def test_bad_program_is_refused_naming_the_field(
    stage: Stage, overrides: dict[str, Any], status: int, names: str
) -> None:
    fixed = {
        k: (
            (stage.now - timedelta(days=2)).isoformat()
            if v == "REVERSED"
            else [stage.buyer.org_id]
            if v == ["BUYER"]
            else v
        )
        for k, v in overrides.items()
    }
    before = row_counts(stage.market.db)
    http = stage.market.http()
    response = http.post(
        "/v1/vouchers/programs",
        json=_program_body(stage, **fixed),
        headers={"Authorization": f"Bearer {stage.issuer.key}"},
    )
    assert response.status_code == status, response.text
    assert names in response.json()["error"]["message"]
    assert row_counts(stage.market.db) == before


G = "/v1/vouchers/grants"
R = "/v1/vouchers/redemptions"
F = "/v1/vouchers/flags"
BAD_CALLS: list[tuple[str, str, str, dict[str, Any] | None, int, str]] = [
    # (id, who calls, path, body (None: GET), status, text in the message)
    ("unknown-program", "buyer", G, {"program_id": MISSING, "requested_fen": 100}, 422,
     "program_id: voucher program 999999 does not exist"),
    ("zero-request", "buyer", G, {"program_id": "{program}", "requested_fen": 0}, 422,
     "requested_fen"),
    ("get-unknown-program", "buyer", f"/v1/vouchers/programs/{MISSING}", None, 404,
     "voucher program 999999 not found"),
    ("reject-without-reason", "issuer", G + "/{applied}/decision", {"approve": False}, 422,
     "a rejection needs a reason"),
    ("reject-blank-reason", "issuer", G + "/{applied}/decision",
     {"approve": False, "reason": "  "}, 422, "a rejection needs a reason"),
    ("tranches-not-100", "issuer", G + "/{applied}/decision",
     {"approve": True, "tranches_pct": [60, 50]}, 422, "tranches_pct"),
    ("tranche-zero", "issuer", G + "/{applied}/decision",
     {"approve": True, "tranches_pct": [100, 0]}, 422, "tranches_pct"),
    ("approve-zero", "issuer", G + "/{applied}/decision",
     {"approve": True, "approved_fen": 0}, 422, "approved_fen"),
    ("approve-beyond-budget", "issuer", G + "/{applied}/decision",
     {"approve": True, "approved_fen": BUDGET}, 409, "uncommitted budget"),
    ("decide-approved", "issuer", G + "/{grant}/decision", {"approve": True}, 409,
     "only applied grants"),
    ("decide-unknown", "issuer", f"{G}/{MISSING}/decision", {"approve": True}, 404,
     "voucher grant 999999 not found"),
    ("revoke-without-reason", "issuer", G + "/{grant}/revoke", {}, 422, "reason"),
    ("revoke-applied", "issuer", G + "/{applied}/revoke", {"reason": "x"}, 409,
     "only approved grants"),
    ("clawback-too-much", "issuer", R + "/{redemption}/clawback",
     {"amount_fen": 10**9, "reason": "x"}, 422, "left to claw back"),
    ("clawback-no-reason", "issuer", R + "/{redemption}/clawback", {"amount_fen": 1}, 422,
     "reason"),
    ("clawback-unknown", "issuer", f"{R}/{MISSING}/clawback", {"reason": "x"}, 404,
     "voucher redemption 999999 not found"),
    ("flag-back-to-open", "issuer", F + "/{flag}/resolve",
     {"status": "open", "resolution": "x"}, 422, "dismissed or confirmed"),
    ("flag-no-resolution", "issuer", F + "/{flag}/resolve", {"status": "dismissed"}, 422,
     "resolution"),
    ("flag-unknown", "issuer", f"{F}/{MISSING}/resolve",
     {"status": "dismissed", "resolution": "x"}, 404, "voucher flag 999999 not found"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("who", "path", "body", "status", "text"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD_CALLS],
)
def test_bad_grant_clawback_and_flag_calls(
    stage: Stage, who: str, path: str, body: dict[str, Any] | None, status: int, text: str
) -> None:
    ids = {
        "program": stage.program_id,
        "grant": stage.grant_id,
        "applied": stage.applied_grant_id,
        "redemption": stage.redemption_id,
        "flag": stage.flag_id,
    }
    key = stage.issuer.key if who == "issuer" else stage.buyer.key
    headers = {"Authorization": f"Bearer {key}"}
    url = path.format(**ids)
    before = row_counts(stage.market.db)
    http = stage.market.http()
    if body is None:
        response = http.get(url, headers=headers)
    else:
        filled = {k: ids[v[1:-1]] if v == "{program}" else v for k, v in body.items()}
        response = http.post(url, json=filled, headers=headers)
    assert response.status_code == status, response.text
    assert text in response.json()["error"]["message"]
    assert row_counts(stage.market.db) == before
    assert stage.market.operator.client.get_grant(stage.applied_grant_id).status == "applied"


def test_ineligible_buyer_and_closed_program(market: Market, db: Database) -> None:
    issuer = market.party(OrgRole.ISSUER)
    buyer = market.buyer()
    program = issuer.client.create_program(
        program_in(market, blacklist=[buyer.org_id], buyer_provinces=["贵州"])
    )
    before = row_counts(db)
    refused = expect(422, buyer.client.apply_grant, GrantIn(program_id=program.id, requested_fen=1))
    assert "not eligible" in refused.message and "blacklist" in refused.message
    assert "贵州" in refused.message
    assert row_counts(db) == before
    issuer.client.close_program(program.id)
    other = market.buyer()
    closed = expect(409, other.client.apply_grant, GrantIn(program_id=program.id, requested_fen=1))
    assert "is closed" in closed.message
    # a name is unique per issuer
    taken = expect(409, issuer.client.create_program, program_in(market))
    assert "already runs a program named" in taken.message
    assert_books_balance(db)
