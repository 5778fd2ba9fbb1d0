"""The rules of a voucher program, as pure functions of plain values.

Nothing here touches the database or the clock: the services gather the facts (the
program, the firm, the lease, what was already redeemed) and these functions decide.
That keeps the rules testable on their own (the property tests drive them directly).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from suanli.kit.money import round_fen, yuan
from suanli.store.models import Organization, VoucherProgram

SME_KINDS = frozenset({"sme", "startup"})
"""Firm kinds that count as small and medium enterprises (a start-up is one too)."""


def months_between(start: date, end: date) -> int:
    """Whole months from ``start`` to ``end`` (negative if ``end`` is earlier)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day < start.day:
        months -= 1
    return months


def add_months(at: datetime, months: int) -> datetime:
    """``at`` plus whole calendar months (the day clamped to the month's length)."""
    year, month0 = divmod(at.month - 1 + months, 12)
    year += at.year
    day = at.day
    while True:
        try:
            return at.replace(year=year, month=month0 + 1, day=day)
        except ValueError:
            day -= 1


# -- who may hold a grant ---------------------------------------------------------------
def buyer_reasons(program: VoucherProgram, buyer: Organization) -> list[str]:
    """Why ``buyer`` may not hold a grant in ``program`` (empty: it may)."""
    reasons: list[str] = []
    if buyer.id in program.blacklist:
        reasons.append(f"{buyer.name} is on the program's blacklist")
    if program.buyer_provinces and buyer.province not in program.buyer_provinces:
        where = buyer.province or "no province"
        reasons.append(
            f"{buyer.name} is registered in {where}; the program is for "
            f"{', '.join(program.buyer_provinces)}"
        )
    if program.buyer_cities and buyer.city not in program.buyer_cities:
        where = buyer.city or "no city"
        reasons.append(
            f"{buyer.name} is registered in {where}; the program is for "
            f"{', '.join(program.buyer_cities)}"
        )
    kind_ok = (buyer.kind or "") in program.buyer_kinds or (
        "sme" in program.buyer_kinds and buyer.kind in SME_KINDS
    )
    if program.buyer_kinds and not kind_ok:
        reasons.append(
            f"{buyer.name} is a {buyer.kind or 'firm of no stated kind'}; the program is "
            f"for {', '.join(program.buyer_kinds)}"
        )
    if program.buyer_industries and buyer.industry not in program.buyer_industries:
        reasons.append(
            f"{buyer.name}'s industry ({buyer.industry or 'not stated'}) is not among "
            f"{', '.join(program.buyer_industries)}"
        )
    return reasons


@dataclass(frozen=True, slots=True)
class FrozenRates:
    """A grant's rates, fixed at approval. ``until`` ends an early-and-small rate."""

    rate: Decimal
    domestic_rate: Decimal | None
    until: datetime | None
    basis: str


def grant_rates(program: VoucherProgram, buyer: Organization, at: datetime) -> FrozenRates:
    """The largest rate that applies to ``buyer`` at approval time ``at``."""
    options: list[tuple[Decimal, str]] = [(program.rate, "base rate")]
    if program.sme_rate is not None and buyer.kind in SME_KINDS:
        options.append((program.sme_rate, "SME rate"))
    if program.startup_rate is not None and buyer.kind == "startup":
        options.append((program.startup_rate, "start-up rate"))
    until = None
    if (
        program.early_small_rate is not None
        and buyer.kind in SME_KINDS
        and buyer.founded_on is not None
        and program.early_small_max_age_months is not None
        and months_between(buyer.founded_on, at.date()) <= program.early_small_max_age_months
    ):
        options.append((program.early_small_rate, "early-and-small rate"))
    rate, basis = max(options, key=lambda option: option[0])
    if basis == "early-and-small rate" and program.early_small_months is not None:
        until = add_months(at, program.early_small_months)
    domestic = None
    if program.domestic_rate is not None:
        domestic = max(rate, program.domestic_rate)
    return FrozenRates(rate=rate, domestic_rate=domestic, until=until, basis=basis)


def lease_rate(rate: Decimal, domestic_rate: Decimal | None, domestic: bool) -> Decimal:
    """The frozen rate that applies to a lease of a domestic (or foreign) accelerator."""
    return domestic_rate if domestic and domestic_rate is not None else rate


# -- which leases a program pays for ----------------------------------------------------
def related_party(buyer: Organization, provider: Organization) -> str | None:
    """Why ``buyer`` and ``provider`` are related parties, or None."""
    if buyer.group_name and buyer.group_name == provider.group_name:
        return f"buyer and provider belong to the same group ({buyer.group_name})"
    shared = sorted(set(buyer.owners) & set(provider.owners))
    if shared:
        return f"buyer and provider share an owner ({', '.join(shared)})"
    return None


@dataclass(frozen=True, slots=True)
class LeaseFacts:
    """What a program needs to know about a lease it might subsidize."""

    provider_id: int
    center_province: str | None
    center_cards: int
    item: str
    charge_fen: int
    settled_at: datetime


def lease_reasons(program: VoucherProgram, lease: LeaseFacts) -> list[str]:
    """Why ``program`` does not pay for ``lease`` (empty: it may)."""
    reasons: list[str] = []
    if not program.valid_from <= lease.settled_at < program.valid_until:
        reasons.append(
            f"program {program.name} is valid {program.valid_from.date()} to "
            f"{program.valid_until.date()}"
        )
    if program.provider_ids and lease.provider_id not in program.provider_ids:
        reasons.append(f"the provider is not on program {program.name}'s approved list")
    if program.provider_provinces and lease.center_province not in program.provider_provinces:
        reasons.append(
            f"the center is in {lease.center_province or 'no province'}; program "
            f"{program.name} pays only for centers in {', '.join(program.provider_provinces)}"
        )
    if program.min_center_cards is not None and lease.center_cards < program.min_center_cards:
        reasons.append(
            f"the center lists {lease.center_cards} cards; program {program.name} needs "
            f"at least {program.min_center_cards}"
        )
    if program.items and lease.item not in program.items:
        reasons.append(f"program {program.name} does not pay for {lease.item}")
    if lease.charge_fen < program.min_paid_fen:
        reasons.append(
            f"the charge {yuan(lease.charge_fen)} is below program {program.name}'s minimum "
            f"{yuan(program.min_paid_fen)}"
        )
    return reasons


# -- how much ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Headroom:
    """What each limit still allows, in fen (None: no such limit)."""

    per_lease: int | None
    firm_year: int | None
    firm_lifetime: int | None
    group_year: int | None
    grant: int
    fund: int


LIMIT_NAMES = {
    "per_lease": "the cap per lease",
    "firm_year": "the cap per firm and year",
    "firm_lifetime": "the lifetime cap per firm",
    "group_year": "the cap per group and year",
    "grant": "the grant's released amount",
    "fund": "the program's remaining budget",
}


@dataclass(frozen=True, slots=True)
class Subsidy:
    """The voucher's share of a charge, and the limit that cut it (if any)."""

    amount_fen: int
    full_fen: int
    limited_by: str | None


def subsidy(charge_fen: int, rate: Decimal, room: Headroom) -> Subsidy:
    """``rate`` of ``charge_fen`` (half-even to the fen), cut to the tightest limit.

    Never more than the charge, never negative, never above any limit."""
    if charge_fen < 0:
        raise ValueError("a charge cannot be negative")
    if not Decimal(0) <= rate <= Decimal(1):
        raise ValueError(f"rate {rate} is not between 0 and 1")
    full = min(round_fen(Decimal(charge_fen) * rate), charge_fen)
    amount, limited_by = full, None
    for name in LIMIT_NAMES:
        limit = getattr(room, name)
        if limit is not None and max(limit, 0) < amount:
            amount, limited_by = max(limit, 0), name
    return Subsidy(amount_fen=amount, full_fen=full, limited_by=limited_by)
