"""A small voucher market built through the services (no HTTP): an issuer, providers
with one center and pool each, buyers with wallets, one program, grants, leases."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from suanli.capacity.schemas import CenterIn, PoolIn
from suanli.capacity.service import CapacityService
from suanli.exchange.schemas import RequestIn, UsageIn
from suanli.exchange.service import Exchange
from suanli.kit.clock import ManualClock
from suanli.ledger import Ledger
from suanli.orgs.auth import Principal
from suanli.orgs.service import create_org
from suanli.settings import Settings
from suanli.store import Database
from suanli.store.models import Lease, VoucherRedemption
from suanli.vocab import AccountKind, LeaseStatus, OrgRole
from suanli.vouchers.schemas import GrantDecisionIn, GrantIn, ProgramIn
from suanli.vouchers.service import Vouchers

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
PRICE = 30_000  # fen per card-hour: ¥300
YEAR = timedelta(days=365)


def program_fields(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "name": "Hangzhou compute vouchers 2026",
        "budget_fen": 100_000_000,  # ¥1,000,000
        "funding_split": {"province": 1, "city": 1},
        "rate": Decimal("0.3"),
        "cap_per_firm_year_fen": 20_000_000,  # ¥200,000
        "valid_from": START - timedelta(days=1),
        "valid_until": START + YEAR,
    }
    fields.update(overrides)
    return fields


@dataclass
class World:
    db: Database
    clock: ManualClock
    issuer: int = 0
    providers: list[int] = field(default_factory=list)
    pools: list[int] = field(default_factory=list)
    buyers: list[int] = field(default_factory=list)
    program: int = 0

    # -- building ---------------------------------------------------------------------
    def org(self, name: str, role: OrgRole, **fields: Any) -> int:
        with self.db.transaction() as session:
            return create_org(session, self.clock, name=name, role=role, **fields).id

    def add_provider(
        self, name: str, *, nodes: int = 8, price: int = PRICE, province: str = "浙江", **org: Any
    ) -> int:
        provider = self.org(name, OrgRole.PROVIDER, **org)
        with self.db.transaction() as session:
            capacity = CapacityService(session, self.clock, Principal(provider, OrgRole.PROVIDER))
            center = capacity.register_center(
                CenterIn(name=f"{name}-dc", province=province, city="杭州")
            )
            pool = capacity.add_pool(
                center.id,
                PoolIn(
                    name="h800",
                    model="H800",
                    nodes=nodes,
                    cards_per_node=8,
                    inter_node="infiniband",
                    price_fen=price,
                ),
            )
        self.providers.append(provider)
        self.pools.append(pool.id)
        return provider

    def add_buyer(self, name: str, *, topup: int = 10**10, **org: Any) -> int:
        buyer = self.org(name, OrgRole.BUYER, **{"province": "浙江", "kind": "sme", **org})
        with self.db.transaction() as session:
            Ledger(session, self.clock).topup(buyer, topup)
        self.buyers.append(buyer)
        return buyer

    def add_program(self, **overrides: Any) -> int:
        if not self.issuer:
            self.issuer = self.org("Hangzhou voucher office", OrgRole.ISSUER)
        with self.db.transaction() as session:
            vouchers = Vouchers(session, self.clock, Principal(self.issuer, OrgRole.ISSUER))
            self.program = vouchers.create_program(ProgramIn(**program_fields(**overrides))).id
        return self.program

    def apply(self, buyer: int, requested_fen: int, program: int | None = None) -> int:
        with self.db.transaction() as session:
            vouchers = Vouchers(session, self.clock, Principal(buyer, OrgRole.BUYER))
            grant = vouchers.apply(
                GrantIn(program_id=program or self.program, requested_fen=requested_fen)
            )
            return grant.id

    def decide(self, grant: int, *, approve: bool = True, **fields: Any) -> None:
        with self.db.transaction() as session:
            vouchers = Vouchers(session, self.clock, Principal(self.issuer, OrgRole.ISSUER))
            vouchers.decide(grant, GrantDecisionIn(approve=approve, **fields))

    def grant(self, buyer: int, amount_fen: int, **fields: Any) -> int:
        grant = self.apply(buyer, amount_fen)
        self.decide(grant, **fields)
        return grant

    # -- leases -----------------------------------------------------------------------
    def place(self, buyer: int, *, cards: int = 8, hours: int = 100, **request: Any) -> int:
        with self.db.transaction() as session:
            exchange = Exchange(session, self.clock, Settings(), Principal(buyer, OrgRole.BUYER))
            submitted = exchange.submit(RequestIn(cards=cards, duration_s=hours * 3600, **request))
            session.flush()
            lease = session.scalars(select(Lease).where(Lease.request_id == submitted.id)).one()
            return lease.id

    def run(self, lease_id: int, *, used_share: Decimal = Decimal(1)) -> None:
        """Start a lease and meter ``used_share`` of its contracted card-time."""
        with self.db.transaction() as session:
            lease = session.get(Lease, lease_id)
            assert lease is not None
            operator = Exchange(
                session, self.clock, Settings(), Principal(lease.provider_id, OrgRole.PROVIDER)
            )
            operator.start(lease_id)
            started = self.clock.now()
            contracted = lease.cards * lease.duration_s
            duration = lease.duration_s
        self.clock.set(started + timedelta(seconds=duration))
        used = int(Decimal(contracted) * used_share)
        with self.db.transaction() as session:
            lease = session.get(Lease, lease_id)
            assert lease is not None
            operator = Exchange(
                session, self.clock, Settings(), Principal(lease.provider_id, OrgRole.PROVIDER)
            )
            operator.record_usage(
                lease_id,
                UsageIn(
                    card_seconds=used,
                    period_start=started,
                    period_end=started + timedelta(seconds=lease.duration_s),
                    external_id=f"meter-{lease_id}",
                ),
            )

    def complete(self, lease_id: int) -> Lease:
        with self.db.transaction() as session:
            lease = session.get(Lease, lease_id)
            assert lease is not None
            operator = Exchange(
                session, self.clock, Settings(), Principal(lease.provider_id, OrgRole.PROVIDER)
            )
            operator.complete(lease_id)
            session.flush()
            session.expunge(lease)
            return lease

    def lease(self, lease_id: int) -> Lease:
        with self.db.transaction() as session:
            lease = session.get(Lease, lease_id)
            assert lease is not None
            session.expunge(lease)
            return lease

    # -- reading ----------------------------------------------------------------------
    def fund(self, program: int | None = None) -> int:
        with self.db.transaction() as session:
            return Ledger(session, self.clock).balance(
                self.issuer, AccountKind.VOUCHER_FUND, program or self.program
            )

    def redeemed_by(self, buyer: int) -> int:
        with self.db.transaction() as session:
            net = VoucherRedemption.amount_fen - VoucherRedemption.clawed_back_fen
            stmt = select(func.coalesce(func.sum(net), 0)).where(
                VoucherRedemption.buyer_id == buyer
            )
            return int(session.scalar(stmt) or 0)

    def redemptions(self) -> list[VoucherRedemption]:
        with self.db.transaction() as session:
            found = list(session.scalars(select(VoucherRedemption).order_by(VoucherRedemption.id)))
            for r in found:
                session.expunge(r)
            return found

    def ended(self) -> list[Lease]:
        with self.db.transaction() as session:
            found = list(
                session.scalars(select(Lease).where(Lease.status == LeaseStatus.COMPLETED))
            )
            for lease in found:
                session.expunge(lease)
            return found
