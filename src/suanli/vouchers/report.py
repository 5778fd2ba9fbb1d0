"""The voucher report: where each program's money went, read back from the books.

Per program (an issuer sees its own programs, the operator all of them):

* Money: ``budget_fen``; ``funded_fen`` (PROGRAM_FUNDING postings into its fund, by
  funder); ``redeemed_fen`` (redemptions net of clawbacks); ``clawed_back_fen``;
  ``returned_fen`` (PROGRAM_CLOSE); ``remaining_fen`` = the fund account's balance, so
  ``funded - redeemed - returned = remaining`` when the books are right.
* Promises: ``committed_fen`` = approved - redeemed over approved grants not yet expired;
  ``expired_fen`` = approved - redeemed over approved grants past ``expires_at`` (money
  promised and left unused). Grants are also counted by status.
* Caps: per firm, net redeemed this (China calendar) year and for life; the largest
  total of one firm in one year (``largest_firm_year_fen``, any year) against
  ``cap_per_firm_year_fen``; ``within_caps`` is false when any firm-year, firm lifetime,
  group-year or single redemption is above its cap (each breach is listed).
  ``within_budget``: redeemed <= budget and the fund is not below zero.
* Concentration: each provider's share of the net redeemed; the top share and the
  Herfindahl-Hirschman index (sum of squared percentage shares, 0 to 10,000).
* Prices: over the program's subsidized leases, the mean price per metered card-hour
  before the subsidy (charged / card-hours) and after it ((charged - net subsidy) /
  card-hours), against the price index: the median list price of each model over active
  pools at active centers (:func:`suanli.store.capacity_repo.list_prices`), weighted by
  the leases' metered card-hours. Subsidy per activated card-hour = net redeemed /
  metered card-hours of the subsidized leases.
* Open anomaly flags, by kind.

Shares and ratios are decimals rounded half-even (4 places), fen per card-hour to 0.01.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from statistics import median

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from suanli.kit.clock import Clock
from suanli.kit.errors import NotFoundError, PermissionDeniedError
from suanli.orgs.auth import Principal, Scope
from suanli.store import capacity_repo, report_repo, vouchers_repo
from suanli.store.models import VoucherProgram
from suanli.vocab import GrantStatus, OrgRole, ProgramStatus, SettlementMode, TransactionKind
from suanli.vouchers.settlement import cap_year

SHARE = Decimal("0.0001")
CENTS = Decimal("0.01")


def _q(value: Decimal, places: Decimal) -> Decimal:
    return value.quantize(places, rounding=ROUND_HALF_EVEN)


class FunderShare(BaseModel):
    funder: str
    funded_fen: int


class FirmTotals(BaseModel):
    """One firm's net redemptions in a program, against the program's caps."""

    buyer_id: int
    name: str
    year_fen: int = Field(description="net redeemed in the report's year")
    largest_year_fen: int = Field(description="net redeemed in its largest year")
    lifetime_fen: int
    redemptions: int
    within_caps: bool


class ProviderShare(BaseModel):
    provider_id: int
    name: str
    redeemed_fen: int
    share: Decimal


class ModelPrice(BaseModel):
    """Subsidized leases of one accelerator model against its price index."""

    model: str
    leases: int
    card_hours: Decimal
    mean_price_fen: Decimal | None
    after_subsidy_fen: Decimal | None
    index_price_fen: Decimal | None = Field(description="median list price over active pools")


class PriceComparison(BaseModel):
    """Mean price per metered card-hour of subsidized leases, before and after the
    subsidy, against the card-hour-weighted price index of the same models."""

    card_hours: Decimal
    mean_price_fen: Decimal | None
    after_subsidy_fen: Decimal | None
    index_price_fen: Decimal | None
    price_to_index: Decimal | None
    after_subsidy_to_index: Decimal | None
    by_model: list[ModelPrice]


class ProgramReport(BaseModel):
    id: int
    name: str
    issuer_id: int
    status: ProgramStatus
    settlement_mode: SettlementMode
    currency: str
    valid_from: datetime
    valid_until: datetime
    budget_fen: int
    funded_fen: int
    funders: list[FunderShare]
    redeemed_fen: int = Field(description="net of clawbacks")
    clawed_back_fen: int
    remaining_fen: int = Field(description="the fund account's balance")
    committed_fen: int
    expired_fen: int
    returned_fen: int
    used_share: Decimal = Field(description="redeemed / budget")
    grants: dict[str, int]
    redemptions: int
    cap_per_lease_fen: int | None
    cap_per_firm_year_fen: int | None
    cap_lifetime_fen: int | None
    cap_per_group_year_fen: int | None
    largest_firm_year_fen: int
    largest_firm_lifetime_fen: int
    firms: list[FirmTotals]
    within_caps: bool
    cap_breaches: list[str]
    within_budget: bool
    providers: list[ProviderShare]
    top_provider_share: Decimal | None
    hhi: Decimal | None = Field(description="0-10,000; None when nothing was redeemed")
    prices: PriceComparison
    metered_card_hours: Decimal
    subsidy_per_card_hour_fen: Decimal | None
    open_flags: dict[str, int]


class VoucherReport(BaseModel):
    generated_at: datetime
    year: int = Field(description="the calendar year (China) of the per-firm year totals")
    programs: list[ProgramReport]


def _visible_programs(
    session: Session, principal: Principal | None, program_id: int | None
) -> list[VoucherProgram]:
    if principal is not None:
        principal.require(Scope.REPORTS_READ)
        if not principal.is_operator and principal.role is not OrgRole.ISSUER:
            raise PermissionDeniedError(
                f"a {principal.role} key may not read voucher reports (issuers and the "
                "operator only)"
            )
    issuer = None if principal is None or principal.is_operator else principal.org_id
    programs = vouchers_repo.programs(session, issuer_id=issuer)
    if program_id is not None:
        programs = [p for p in programs if p.id == program_id]
        if not programs:
            raise NotFoundError("voucher program", program_id)
    return programs


def voucher_report(
    session: Session, clock: Clock, principal: Principal | None, *, program_id: int | None = None
) -> VoucherReport:
    """The report over the programs ``principal`` may see (None: all of them)."""
    now = clock.now()
    year = cap_year(now)
    programs = _visible_programs(session, principal, program_id)
    ids = [p.id for p in programs]
    flows = report_repo.fund_flows(session, ids)
    funders = report_repo.funding_by_funder(session, ids)
    balances = report_repo.fund_balances(session, ids)
    sums = report_repo.redemption_sums(session, ids)
    firm_years = report_repo.firm_year_totals(session, ids)
    group_years = report_repo.group_year_totals(session, ids)
    providers = report_repo.provider_totals(session, ids)
    over_lease = report_repo.redemptions_above(session, ids)
    leases = report_repo.subsidized_leases(session, ids)
    grants = report_repo.grant_facts(session, ids)
    flags = report_repo.open_flags(session, ids)
    names = report_repo.org_names(
        session,
        sorted({b for _, b, _, _, _ in firm_years} | {v for d in providers.values() for v in d}),
    )
    index_cache: dict[str, Decimal | None] = {}

    def index_price(model: str) -> Decimal | None:
        if model not in index_cache:
            prices = capacity_repo.list_prices(session, model)
            index_cache[model] = Decimal(median(prices)) if prices else None
        return index_cache[model]

    reports = []
    for program in programs:
        pid = program.id
        totals = sums.get(pid, report_repo.RedemptionSums(0, 0, 0))
        flow = flows.get(pid, {})
        remaining = balances.get(pid, 0)
        firms = _firms(program, year, [row for row in firm_years if row[0] == pid], names)
        breaches = _breaches(
            program,
            [row for row in firm_years if row[0] == pid],
            [row for row in group_years if row[0] == pid],
            [row for row in over_lease if row[0] == pid],
            names,
        )
        committed, expired, by_status = _grant_totals(
            [g for g in grants if g.program_id == pid], now
        )
        program_leases = [lease for lease in leases if lease.program_id == pid]
        card_seconds = sum(lease.card_seconds for lease in program_leases)
        card_hours = Decimal(card_seconds) / 3600
        shares, top, hhi = _concentration(providers.get(pid, {}), totals.net_fen, names)
        reports.append(
            ProgramReport(
                id=pid,
                name=program.name,
                issuer_id=program.issuer_id,
                status=program.status,
                settlement_mode=program.settlement_mode,
                currency=program.currency,
                valid_from=program.valid_from,
                valid_until=program.valid_until,
                budget_fen=program.budget_fen,
                funded_fen=flow.get(TransactionKind.PROGRAM_FUNDING, 0),
                funders=[
                    FunderShare(funder=f, funded_fen=v) for f, v in funders.get(pid, {}).items()
                ],
                redeemed_fen=totals.net_fen,
                clawed_back_fen=totals.clawed_back_fen,
                remaining_fen=remaining,
                committed_fen=committed,
                expired_fen=expired,
                returned_fen=-flow.get(TransactionKind.PROGRAM_CLOSE, 0),
                used_share=_q(Decimal(totals.net_fen) / program.budget_fen, SHARE),
                grants=by_status,
                redemptions=totals.count,
                cap_per_lease_fen=program.cap_per_lease_fen,
                cap_per_firm_year_fen=program.cap_per_firm_year_fen,
                cap_lifetime_fen=program.cap_lifetime_fen,
                cap_per_group_year_fen=program.cap_per_group_year_fen,
                largest_firm_year_fen=max((f.largest_year_fen for f in firms), default=0),
                largest_firm_lifetime_fen=max((f.lifetime_fen for f in firms), default=0),
                firms=firms,
                within_caps=not breaches,
                cap_breaches=breaches,
                within_budget=totals.net_fen <= program.budget_fen and remaining >= 0,
                providers=shares,
                top_provider_share=top,
                hhi=hhi,
                prices=_prices(program_leases, index_price),
                metered_card_hours=_q(card_hours, CENTS),
                subsidy_per_card_hour_fen=(
                    _q(Decimal(totals.net_fen) / card_hours, CENTS) if card_seconds else None
                ),
                open_flags=dict(sorted(flags.get(pid, {}).items())),
            )
        )
    return VoucherReport(generated_at=now, year=year, programs=reports)


def _firms(
    program: VoucherProgram,
    year: int,
    rows: list[tuple[int, int, int, int, int]],
    names: dict[int, str],
) -> list[FirmTotals]:
    by_firm: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for _pid, buyer, yr, net, count in rows:
        by_firm[buyer].append((yr, net, count))
    firms = []
    for buyer, years in by_firm.items():
        lifetime = sum(net for _, net, _ in years)
        largest = max(net for _, net, _ in years)
        within = not (
            (program.cap_per_firm_year_fen is not None and largest > program.cap_per_firm_year_fen)
            or (program.cap_lifetime_fen is not None and lifetime > program.cap_lifetime_fen)
        )
        firms.append(
            FirmTotals(
                buyer_id=buyer,
                name=names.get(buyer, f"organization {buyer}"),
                year_fen=sum(net for yr, net, _ in years if yr == year),
                largest_year_fen=largest,
                lifetime_fen=lifetime,
                redemptions=sum(count for _, _, count in years),
                within_caps=within,
            )
        )
    firms.sort(key=lambda f: (-f.lifetime_fen, f.buyer_id))
    return firms


def _breaches(
    program: VoucherProgram,
    firm_years: list[tuple[int, int, int, int, int]],
    group_years: list[tuple[int, str, int, int]],
    over_lease: list[tuple[int, int, int, int]],
    names: dict[int, str],
) -> list[str]:
    found = []
    cap = program.cap_per_firm_year_fen
    lifetime: dict[int, int] = defaultdict(int)
    for _pid, buyer, yr, net, _count in firm_years:
        lifetime[buyer] += net
        if cap is not None and net > cap:
            found.append(f"{names.get(buyer, buyer)} redeemed {net} fen in {yr}, cap {cap}")
    cap = program.cap_lifetime_fen
    if cap is not None:
        found.extend(
            f"{names.get(buyer, buyer)} redeemed {net} fen in all, lifetime cap {cap}"
            for buyer, net in lifetime.items()
            if net > cap
        )
    cap = program.cap_per_group_year_fen
    if cap is not None:
        found.extend(
            f"group {group} redeemed {net} fen in {yr}, cap {cap}"
            for _pid, group, yr, net in group_years
            if net > cap
        )
    found.extend(
        f"redemption {rid} paid {amount} fen, cap per lease {cap}"
        for _pid, rid, amount, cap in over_lease
    )
    return found


def _grant_totals(
    grants: list[report_repo.GrantFacts], now: datetime
) -> tuple[int, int, dict[str, int]]:
    committed = expired = 0
    by_status = {status.value: 0 for status in GrantStatus}
    for grant in grants:
        by_status[grant.status.value] += 1
        if grant.status is not GrantStatus.APPROVED:
            continue
        left = grant.approved_fen - grant.redeemed_fen
        if grant.expires_at is not None and grant.expires_at <= now:
            expired += left
        else:
            committed += left
    return committed, expired, by_status


def _concentration(
    by_provider: dict[int, int], total: int, names: dict[int, str]
) -> tuple[list[ProviderShare], Decimal | None, Decimal | None]:
    if total <= 0:
        shares = [
            ProviderShare(
                provider_id=p, name=names.get(p, str(p)), redeemed_fen=v, share=Decimal(0)
            )
            for p, v in sorted(by_provider.items())
        ]
        return shares, None, None
    shares = [
        ProviderShare(
            provider_id=p,
            name=names.get(p, f"organization {p}"),
            redeemed_fen=v,
            share=_q(Decimal(v) / total, SHARE),
        )
        for p, v in by_provider.items()
    ]
    shares.sort(key=lambda s: (-s.redeemed_fen, s.provider_id))
    hhi = sum((Decimal(v) * 100 / total) ** 2 for v in by_provider.values())
    return shares, shares[0].share, _q(Decimal(hhi), CENTS)


def _per_hour(fen: int, card_seconds: int) -> Decimal | None:
    return _q(Decimal(fen) * 3600 / card_seconds, CENTS) if card_seconds else None


def _prices(
    leases: list[report_repo.SubsidizedLease], index_price: Callable[[str], Decimal | None]
) -> PriceComparison:
    by_model: dict[str, list[report_repo.SubsidizedLease]] = defaultdict(list)
    for lease in leases:
        by_model[lease.model].append(lease)
    rows = []
    weighted = Decimal(0)
    indexed_seconds = 0
    indexed_charged = indexed_after = 0
    for model, group in sorted(by_model.items()):
        seconds = sum(lease.card_seconds for lease in group)
        charged = sum(lease.charged_fen for lease in group)
        after = charged - sum(lease.subsidy_fen for lease in group)
        index = index_price(model)
        rows.append(
            ModelPrice(
                model=model,
                leases=len(group),
                card_hours=_q(Decimal(seconds) / 3600, CENTS),
                mean_price_fen=_per_hour(charged, seconds),
                after_subsidy_fen=_per_hour(after, seconds),
                index_price_fen=None if index is None else _q(index, CENTS),
            )
        )
        if index is not None and seconds:
            weighted += index * seconds
            indexed_seconds += seconds
            indexed_charged += charged
            indexed_after += after
    seconds = sum(lease.card_seconds for lease in leases)
    charged = sum(lease.charged_fen for lease in leases)
    after = charged - sum(lease.subsidy_fen for lease in leases)
    index_fen = weighted / indexed_seconds if indexed_seconds else None
    return PriceComparison(
        card_hours=_q(Decimal(seconds) / 3600, CENTS),
        mean_price_fen=_per_hour(charged, seconds),
        after_subsidy_fen=_per_hour(after, seconds),
        index_price_fen=None if index_fen is None else _q(index_fen, CENTS),
        price_to_index=(
            None
            if index_fen is None
            else _q(Decimal(indexed_charged) * 3600 / indexed_seconds / index_fen, SHARE)
        ),
        after_subsidy_to_index=(
            None
            if index_fen is None
            else _q(Decimal(indexed_after) * 3600 / indexed_seconds / index_fen, SHARE)
        ),
        by_model=rows,
    )
