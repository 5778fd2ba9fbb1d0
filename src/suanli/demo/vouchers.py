"""The demo's voucher programmes: three city schemes modelled on published policies.

* Beijing (北京市经济和信息化局): 20% of the bill, a cap per firm and year, providers in
  the Beijing-Tianjin-Hebei hub and Inner Mongolia, related parties excluded.
* Shanghai (上海市经济和信息化委员会): 30%, and 100% for one year for firms younger than
  three years ("early and small"), funded city:district 1:1.
* Hangzhou (杭州市经济和信息化局): 20%, 30% on domestic accelerators, centers of at least
  100 cards, buyers registered in Hangzhou.

Budgets and caps are at demo scale (the demo replays one day of demand, which costs the
buyers about ¥10,000 in all), so that caps visibly bind; rates and rules are the
policies'. Every eligible buyer applies on the morning of the replay; all are approved
but the last two per programme, whose applications wait for the issuer.
One Beijing buyer belongs to the same group as a Beijing provider: its deals there get
no subsidy, with the reason on the lease.

Hangzhou's programme is the README tour's (:data:`TOUR_CITY`): its office is the demo's
``issuer`` profile and its first approved applicant the ``buyer`` profile, whose grant
is released in two halves (the tour releases the second).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from random import Random
from typing import Any

from sqlalchemy.orm import Session

from suanli.kit.clock import Clock
from suanli.orgs.auth import Principal
from suanli.orgs.service import create_org
from suanli.store import orgs_repo
from suanli.store.models import Organization
from suanli.vocab import OrgRole, SettlementMode
from suanli.vouchers.rules import buyer_reasons
from suanli.vouchers.schemas import GrantDecisionIn, GrantIn, ProgramIn
from suanli.vouchers.service import Vouchers

RELATED_GROUP = "Jingjin Digital Holdings (demo)"
"""The fictional group one Beijing buyer shares with a Beijing provider."""

HUB_BEIJING = ("北京", "天津", "河北", "内蒙古")
HUB_EAST = ("上海", "江苏", "浙江", "安徽")


@dataclass(frozen=True, slots=True)
class Scheme:
    issuer: str
    issuer_zh: str
    province: str
    city: str
    program: dict[str, Any]
    provider_provinces: tuple[str, ...]


def schemes() -> list[Scheme]:
    return [
        Scheme(
            issuer="Beijing Municipal Bureau of Economy and Information Technology",
            issuer_zh="北京市经济和信息化局",
            province="北京",
            city="北京",
            program={
                "name": "Beijing compute vouchers 2026 (demo scale)",
                "name_zh": "北京市算力券 2026（演示规模）",
                "budget_fen": 300_000,
                "funding_split": {"city": 1},
                "rate": Decimal("0.20"),
                "cap_per_firm_year_fen": 40_000,
                "buyer_provinces": ["北京"],
                "buyer_kinds": ["sme", "startup"],
                "settlement_mode": SettlementMode.DEDUCT,
            },
            provider_provinces=HUB_BEIJING,
        ),
        Scheme(
            issuer="Shanghai Municipal Commission of Economy and Informatization",
            issuer_zh="上海市经济和信息化委员会",
            province="上海",
            city="上海",
            program={
                "name": "Shanghai compute vouchers 2026 (demo scale)",
                "name_zh": "上海市算力券 2026（演示规模）",
                "budget_fen": 400_000,
                "funding_split": {"city": 1, "district": 1},
                "rate": Decimal("0.30"),
                "early_small_rate": Decimal("1"),
                "early_small_months": 12,
                "early_small_max_age_months": 36,
                "cap_per_firm_year_fen": 60_000,
                "cap_per_lease_fen": 20_000,
                "buyer_provinces": ["上海"],
                "settlement_mode": SettlementMode.DEDUCT,
            },
            provider_provinces=HUB_EAST,
        ),
        Scheme(
            issuer="Hangzhou Municipal Bureau of Economy and Information Technology",
            issuer_zh="杭州市经济和信息化局",
            province="浙江",
            city="杭州",
            program={
                "name": "Hangzhou compute vouchers 2026 (demo scale)",
                "name_zh": "杭州市算力券 2026（演示规模）",
                "budget_fen": 200_000,
                "funding_split": {"province": 1, "city": 1},
                "rate": Decimal("0.20"),
                "domestic_rate": Decimal("0.30"),
                "cap_per_firm_year_fen": 50_000,
                "buyer_cities": ["杭州"],
                "min_center_cards": 100,
                "settlement_mode": SettlementMode.REIMBURSE,
            },
            provider_provinces=(),
        ),
    ]


def founded_on(kind: str | None, rng: Random, today: date) -> date | None:
    """A plausible founding date: start-ups 6-30 months old, SMEs 3-15 years."""
    if kind == "startup":
        return today - timedelta(days=rng.randrange(180, 900))
    if kind == "sme":
        return today - timedelta(days=rng.randrange(3 * 365, 15 * 365))
    return None


def related_provider(providers: dict[str, tuple[int, str]]) -> int | None:
    """The first Beijing provider (by name): the demo's related party."""
    for name in sorted(providers):
        org_id, province = providers[name]
        if province == "北京":
            return org_id
    return None


WAITING = 2
"""Applications per programme the demo leaves for the issuer to decide."""

TOUR_CITY = "杭州"
"""The city whose programme the README tour uses (see the module docstring)."""

TOUR_TRANCHES = [50, 50]
"""How the tour buyer's grant is released: half at approval, half after metered use."""


@dataclass
class VoucherSetup:
    """What :func:`setup_vouchers` made: the programmes, and the tour's issuer, buyer
    and grant (None when no buyer of the tour's city is eligible)."""

    program_ids: list[int] = field(default_factory=list)
    tour_issuer_id: int | None = None
    tour_buyer_id: int | None = None
    tour_grant_id: int | None = None


def setup_vouchers(
    session: Session,
    clock: Clock,
    providers: dict[str, tuple[int, str]],
    buyers: list[Organization],
) -> VoucherSetup:
    """Issuers, programmes and grants: every eligible buyer applies; all are approved but
    the last :data:`WAITING` of each programme, whose applications wait for the issuer.
    The first approved applicant of the tour's programme gets its grant in
    :data:`TOUR_TRANCHES`."""
    now = clock.now()
    made = VoucherSetup()
    for scheme in schemes():
        issuer = create_org(
            session,
            clock,
            name=scheme.issuer,
            name_zh=scheme.issuer_zh,
            role=OrgRole.ISSUER,
            province=scheme.province,
            city=scheme.city,
            kind="government",
        )
        tour = scheme.city == TOUR_CITY
        if tour:
            made.tour_issuer_id = issuer.id
        approved = [
            org_id
            for org_id, province in providers.values()
            if not scheme.provider_provinces or province in scheme.provider_provinces
        ]
        fields = dict(scheme.program)
        fields.update(
            provider_ids=sorted(set(approved)) if scheme.provider_provinces else [],
            valid_from=now - timedelta(days=30),
            valid_until=now + timedelta(days=335),
        )
        vouchers = Vouchers(session, clock, Principal(issuer.id, OrgRole.ISSUER))
        program = vouchers.create_program(ProgramIn(**fields))
        made.program_ids.append(program.id)
        eligible = [b for b in buyers if not buyer_reasons(program, b)]
        waiting = {b.id for b in eligible[1:][-WAITING:]}  # never the only one
        for buyer in eligible:
            as_buyer = Vouchers(session, clock, Principal(buyer.id, OrgRole.BUYER))
            grant = as_buyer.apply(
                GrantIn(
                    program_id=program.id,
                    requested_fen=program.cap_per_firm_year_fen or 50_000,
                    purpose="fine-tuning and inference for our products",
                )
            )
            if buyer.id in waiting:
                continue
            decision = GrantDecisionIn(approve=True)
            if tour and made.tour_buyer_id is None:
                decision = GrantDecisionIn(approve=True, tranches_pct=TOUR_TRANCHES)
                made.tour_buyer_id, made.tour_grant_id = buyer.id, grant.id
            vouchers.decide(grant.id, decision)
    return made


def relate(session: Session, provider_id: int | None, buyer: Organization) -> None:
    """Put a buyer and a provider in the same group (the demo's related-party deal)."""
    provider = orgs_repo.by_id(session, provider_id) if provider_id is not None else None
    if provider is None:
        return
    provider.group_name = RELATED_GROUP
    buyer.group_name = RELATED_GROUP
