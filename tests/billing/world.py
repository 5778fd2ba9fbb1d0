"""A small billing world over the live API: one provider with a ¥10/card-hour H800
pool, buyers with wallets, leases run to their end, and a voucher program set up
through the voucher service (no voucher API needed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from conftest import Market, Party, make_center, make_pool, make_request
from suanli.exchange.schemas import LeaseOut, UsageIn
from suanli.kit.clock import ManualClock
from suanli.orgs.service import create_org
from suanli.store import Database
from suanli.vocab import OrgRole, SettlementMode
from suanli.vouchers.schemas import GrantDecisionIn, GrantIn, ProgramIn
from suanli.vouchers.service import Vouchers

PRICE = 1000  # fen per card-hour
TOPUP = 1_000_000


@dataclass
class Supply:
    provider: Party
    center_id: int
    pool_id: int


def supply(market: Market, *, center_name: str | None = None) -> Supply:
    provider = market.provider()
    center = make_center(provider.client, **({"name": center_name} if center_name else {}))
    pool = make_pool(provider.client, center.id, price_fen=PRICE, nodes=2, cards_per_node=8)
    return Supply(provider, center.id, pool.id)


def run_lease(
    market: Market,
    where: Supply,
    buyer: Party,
    *,
    cards: int,
    card_seconds: int,
    use_voucher: bool = True,
) -> LeaseOut:
    """Place, start, meter ``card_seconds`` over one hour, complete: the ended lease."""
    request = make_request(buyer.client, cards=cards, duration_s=7200, use_voucher=use_voucher)
    assert request.lease_id is not None, request.reasons
    where.provider.client.start_lease(request.lease_id)
    market.clock.advance(3600)
    now = market.clock.now()
    where.provider.client.record_usage(
        request.lease_id,
        UsageIn(
            card_seconds=card_seconds,
            period_start=now - timedelta(hours=1),
            period_end=now,
            external_id=f"meter-{request.lease_id}",
        ),
    )
    return where.provider.client.complete_lease(request.lease_id, "done")


def voucher_program(
    db: Database,
    clock: ManualClock,
    buyer_id: int,
    *,
    rate: str = "0.3",
    mode: SettlementMode = SettlementMode.DEDUCT,
) -> int:
    """An issuer, a funded program and an approved grant for ``buyer_id``: the program id."""
    now = clock.now()
    with db.transaction() as session:
        issuer = create_org(session, clock, name=f"voucher office {buyer_id}", role=OrgRole.ISSUER)
        vouchers = Vouchers(session, clock, None)
        program = vouchers.create_program(
            ProgramIn(
                name=f"compute vouchers for {buyer_id}",
                budget_fen=10_000_000,
                rate=Decimal(rate),
                valid_from=now - timedelta(days=1),
                valid_until=now + timedelta(days=365),
                settlement_mode=mode,
            ),
            issuer_id=issuer.id,
        )
        grant = vouchers.apply(
            GrantIn(program_id=program.id, requested_fen=1_000_000, buyer_id=buyer_id)
        )
        vouchers.decide(grant.id, GrantDecisionIn(approve=True))
        return program.id
