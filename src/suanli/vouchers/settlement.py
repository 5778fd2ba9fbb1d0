"""Paying a voucher's share of a lease's charge when the lease settles.

Called by the exchange inside the transaction that ends a lease, after the lease's
metered usage has been priced and before the charge is captured from escrow:

1. Nothing to do for a zero charge, a request that declined vouchers, or a buyer with
   no usable grant (approved, unexpired, released and unspent, program active).
2. A related-party lease (buyer and provider share a group or an owner) gets nothing,
   with the reason on the lease.
3. Grants are tried earliest-expiring first. A program that does not pay for this lease
   (provider not approved, region lock, centre too small, validity, minimum charge) is
   skipped with its reason. The first that pays locks its program row and then the
   grant (lock order: ... nodes -> program -> grant -> accounts), recomputes every cap
   from the committed redemptions, and pays ``rate x charge`` cut to the tightest of:
   the cap per lease, per firm and year, per firm for life, per group and year, the
   grant's released amount and the fund's balance. One redemption per lease.
4. The fund pays: into the buyer's escrow (deducted at checkout; provider claims) or its
   wallet (reimbursed), one balanced ledger transaction, and the redemption row records
   it. Anomalies are checked on every subsidized lease.

Holding the program's row lock while reading the totals and writing the redemption is
what keeps budgets and caps exact when many leases settle at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from suanli.catalog import accelerators
from suanli.kit.clock import Clock
from suanli.kit.money import percent, yuan
from suanli.ledger import Ledger
from suanli.ledger.service import Leg
from suanli.store import capacity_repo, orgs_repo, vouchers_repo
from suanli.store.models import Lease, Organization, VoucherGrant, VoucherProgram, VoucherRedemption
from suanli.vocab import AccountKind, GrantStatus, ProgramStatus, SettlementMode
from suanli.vouchers import flags, rules

CHINA = ZoneInfo("Asia/Shanghai")
"""Caps per year follow the calendar year in China."""


@dataclass(frozen=True, slots=True)
class VoucherOutcome:
    """What settlement did: ``escrow_fen`` of the subsidy went into the buyer's escrow
    (and so is captured or released with the hold)."""

    amount_fen: int
    escrow_fen: int
    note: str | None
    redemption: VoucherRedemption | None


NONE = VoucherOutcome(0, 0, None, None)


def cap_year(at: datetime) -> int:
    return at.astimezone(CHINA).year


def settle_voucher(
    session: Session, clock: Clock, ledger: Ledger, lease: Lease, charge_fen: int
) -> VoucherOutcome:
    """Pay the voucher share of ``charge_fen`` for ``lease`` (see the module docstring)."""
    decision = decide_voucher(
        session,
        ledger,
        LeaseParties(lease.buyer_id, lease.provider_id, lease.center_id, lease.model),
        charge_fen,
        clock.now(),
        lock=True,
    )
    if decision.choice is None:
        return NONE if decision.note is None else VoucherOutcome(0, 0, decision.note, None)
    c = decision.choice
    return _redeem(session, clock, ledger, lease, c.program, c.grant, charge_fen, c.rate, c.paid)


@dataclass(frozen=True, slots=True)
class LeaseParties:
    """Who a (possibly hypothetical) lease is between, where, and on what model."""

    buyer_id: int
    provider_id: int
    center_id: int
    model: str


@dataclass(frozen=True, slots=True)
class VoucherChoice:
    """The grant that would pay, at which rate, and how much."""

    program: VoucherProgram
    grant: VoucherGrant
    rate: Decimal
    paid: rules.Subsidy


@dataclass(frozen=True, slots=True)
class VoucherDecision:
    """A grant that pays (``choice``), or None with why not (``note``; None when the
    buyer has no usable grant or the charge is zero)."""

    choice: VoucherChoice | None
    note: str | None


def decide_voucher(
    session: Session,
    ledger: Ledger,
    parties: LeaseParties,
    charge_fen: int,
    now: datetime,
    *,
    lock: bool,
) -> VoucherDecision:
    """Which grant pays how much of ``charge_fen`` if the lease settles at ``now``:
    steps 1-3 of the module docstring, writing nothing. Settlement passes ``lock=True``
    (program then grant row locks, re-checked); a quote passes ``lock=False`` and
    reads the same rows and totals without locking them."""
    if charge_fen <= 0:
        return VoucherDecision(None, None)
    grants = vouchers_repo.usable_grants(session, parties.buyer_id, now)
    if not grants:
        return VoucherDecision(None, None)
    buyer = orgs_repo.by_id(session, parties.buyer_id)
    provider = orgs_repo.by_id(session, parties.provider_id)
    center = capacity_repo.center(session, parties.center_id)
    assert buyer is not None and provider is not None and center is not None
    related = rules.related_party(buyer, provider)
    if related is not None:
        return VoucherDecision(None, f"no voucher: {related} (related-party deal)")
    facts = rules.LeaseFacts(
        provider_id=provider.id,
        center_province=center.province,
        center_cards=capacity_repo.center_cards(session, center.id),
        item="compute",
        charge_fen=charge_fen,
        settled_at=now,
    )
    domestic = accelerators.get(parties.model).domestic
    reasons: list[str] = []
    for candidate in grants:
        program = vouchers_repo.program(session, candidate.program_id)
        assert program is not None
        problems = rules.lease_reasons(program, facts)
        if problems:
            reasons.extend(problems)
            continue
        grant: VoucherGrant | None = candidate
        if lock:
            program = vouchers_repo.program(session, program.id, lock=True)
            grant = vouchers_repo.grant(session, candidate.id, lock=True)
        assert program is not None and grant is not None
        if not _still_usable(program, grant, now):
            continue
        rate = rules.lease_rate(grant.rate or Decimal(0), grant.domestic_rate, domestic)
        room = _headroom(session, ledger, program, grant, buyer, now)
        paid = rules.subsidy(charge_fen, rate, room)
        if paid.amount_fen <= 0:
            limit = rules.LIMIT_NAMES.get(paid.limited_by or "", "the rate")
            reasons.append(f"program {program.name}: {limit} is used up")
            continue
        return VoucherDecision(VoucherChoice(program, grant, rate, paid), None)
    if not reasons:
        return VoucherDecision(None, None)
    return VoucherDecision(None, "no voucher: " + "; ".join(dict.fromkeys(reasons)))


def voucher_note(
    program: VoucherProgram, charge_fen: int, rate: Decimal, paid: rules.Subsidy
) -> str:
    """``voucher ¥X from program P (30% of ¥Y, deduct)``, and the limit that cut it."""
    mode = program.settlement_mode
    note = (
        f"voucher {yuan(paid.amount_fen)} from program {program.name} "
        f"({percent(rate)} of {yuan(charge_fen)}, {mode.value.replace('_', ' ')})"
    )
    if paid.limited_by is not None:
        note += f"; limited by {rules.LIMIT_NAMES[paid.limited_by]}"
    return note


def _still_usable(program: VoucherProgram, grant: VoucherGrant, now: datetime) -> bool:
    """Re-checked under the locks: another transaction may have changed either."""
    return (
        program.status is ProgramStatus.ACTIVE
        and grant.status is GrantStatus.APPROVED
        and grant.expires_at is not None
        and grant.expires_at > now
        and grant.released_fen > grant.redeemed_fen
    )


def _headroom(
    session: Session,
    ledger: Ledger,
    program: VoucherProgram,
    grant: VoucherGrant,
    buyer: Organization,
    now: datetime,
) -> rules.Headroom:
    year = cap_year(now)

    def left(cap: int | None, used: int) -> int | None:
        return None if cap is None else cap - used

    firm_year = left(
        program.cap_per_firm_year_fen,
        vouchers_repo.redeemed_fen(session, program.id, buyer_id=buyer.id, year=year),
    )
    lifetime = left(
        program.cap_lifetime_fen, vouchers_repo.redeemed_fen(session, program.id, buyer_id=buyer.id)
    )
    group_year = None
    if buyer.group_name:
        group_year = left(
            program.cap_per_group_year_fen,
            vouchers_repo.redeemed_fen(session, program.id, group_name=buyer.group_name, year=year),
        )
    return rules.Headroom(
        per_lease=program.cap_per_lease_fen,
        firm_year=firm_year,
        firm_lifetime=lifetime,
        group_year=group_year,
        grant=grant.released_fen - grant.redeemed_fen,
        fund=ledger.balance(program.issuer_id, AccountKind.VOUCHER_FUND, program.id),
    )


def _redeem(
    session: Session,
    clock: Clock,
    ledger: Ledger,
    lease: Lease,
    program: VoucherProgram,
    grant: VoucherGrant,
    charge_fen: int,
    rate: Decimal,
    paid: rules.Subsidy,
) -> VoucherOutcome:
    mode = program.settlement_mode
    into = AccountKind.WALLET if mode is SettlementMode.REIMBURSE else AccountKind.ESCROW
    txn = ledger.redeem(
        program.issuer_id,
        program.id,
        paid.amount_fen,
        to=Leg(lease.buyer_id, into, 0),
        lease_id=lease.id,
    )
    buyer = orgs_repo.by_id(session, lease.buyer_id)
    redemption = VoucherRedemption(
        program_id=program.id,
        grant_id=grant.id,
        lease_id=lease.id,
        buyer_id=lease.buyer_id,
        provider_id=lease.provider_id,
        claimant_id=lease.provider_id if mode is SettlementMode.PROVIDER_CLAIM else lease.buyer_id,
        mode=mode,
        group_name=buyer.group_name if buyer is not None else None,
        year=cap_year(clock.now()),
        charge_fen=charge_fen,
        rate=rate,
        amount_fen=paid.amount_fen,
        clawed_back_fen=0,
        transaction_id=txn.id,
        created_at=clock.now(),
    )
    session.add(redemption)
    grant.redeemed_fen += paid.amount_fen
    session.flush()
    note = voucher_note(program, charge_fen, rate, paid)
    flags.check_lease(session, clock, lease, program, redemption)
    escrow = paid.amount_fen if into is AccountKind.ESCROW else 0
    return VoucherOutcome(paid.amount_fen, escrow, note, redemption)
