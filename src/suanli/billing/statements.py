"""A provider's statement for a period: computed from leases and the ledger, not stored.

1. Lines: every lease at the provider's centers that ended in the period, with its
   card-hours, its gross charge, the part of it a voucher funded, and how its CAPTURE
   transaction split the charge: the FEE posting (the platform's fee) and the EARNINGS
   posting (the provider's net). A lease with nothing metered has no capture: 0 and 0.
2. Card-hours, charge and net summed by accelerator model.
3. The provider's earnings account over the period: its balance before the period
   (opening) and at its end (closing); the PAYOUT transactions in the period; and any
   other movement of the account (an adjustment, e.g. a voucher clawed back from the
   provider), so that ``closing = opening + net + adjustments - payouts`` to the fen.

A period that is still running may be asked for; ``complete`` is then false and the
closing balance is the balance so far.

Visibility: a provider reads its own statements; the operator anyone's (and must name
the provider). Other tenants answer 404.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy.orm import Session

from suanli.billing.periods import Period
from suanli.billing.schemas import (
    ModelHours,
    StatementAdjustment,
    StatementLine,
    StatementOut,
    StatementPayout,
    card_hours,
)
from suanli.kit.clock import Clock
from suanli.kit.errors import NotFoundError, PermissionDeniedError, ValidationError
from suanli.kit.money import CNY
from suanli.orgs.auth import Principal, Scope
from suanli.store import billing_repo, ledger_repo, orgs_repo
from suanli.vocab import AccountKind, OrgRole, TransactionKind


def provider_of(session: Session, principal: Principal | None, asked: int | None) -> int:
    """Whose statement or payout: the caller's own, or anyone's for the operator."""
    p = principal
    if p is not None and not p.is_operator:
        if asked not in (None, p.org_id):
            raise NotFoundError("organization", asked)
        if p.role is not OrgRole.PROVIDER:
            raise PermissionDeniedError(
                f"organization {p.org_id} is a {p.role}; only providers have earnings"
            )
        return p.org_id
    if asked is None:
        raise ValidationError("the operator must name the provider_id")
    org = orgs_repo.by_id(session, asked)
    if org is None:
        raise ValidationError(f"provider_id: organization {asked} does not exist")
    if org.role is not OrgRole.PROVIDER:
        raise ValidationError(f"provider_id: organization {asked} is a {org.role}, not a provider")
    return asked


def statement(
    session: Session,
    clock: Clock,
    principal: Principal | None,
    period: Period,
    provider_id: int | None = None,
) -> StatementOut:
    """The provider's statement for ``period`` (see the module docstring)."""
    if principal is not None:
        principal.require(Scope.BILLING_READ)
    provider = provider_of(session, principal, provider_id)

    # 1. one line per lease that ended in the period
    leases = billing_repo.provider_leases(session, provider, period.start, period.end)
    ids = [lease.id for lease in leases]
    usage = billing_repo.usage_totals(session, ids)
    splits = billing_repo.capture_splits(session, ids, provider)
    centers = billing_repo.center_names(session, [lease.center_id for lease in leases])
    lines: list[StatementLine] = []
    for lease in leases:
        split = splits.get(lease.id)
        assert lease.ended_at is not None
        lines.append(
            StatementLine(
                lease_id=lease.id,
                buyer_id=lease.buyer_id,
                center_id=lease.center_id,
                center_name=centers.get(lease.center_id, ""),
                model=lease.model,
                cards=lease.cards,
                card_seconds=usage[lease.id],
                card_hours=card_hours(usage[lease.id]),
                price_fen=lease.price_fen,
                ended_at=lease.ended_at,
                charge_fen=lease.charged_fen,
                voucher_fen=lease.subsidy_fen,
                fee_fen=split.fee_fen if split else 0,
                net_fen=split.provider_fen if split else 0,
                capture_transaction_id=split.transaction_id if split else None,
            )
        )

    # 2. by model
    by_model: dict[str, list[StatementLine]] = defaultdict(list)
    for line in lines:
        by_model[line.model].append(line)
    models = [
        ModelHours(
            model=model,
            leases=len(rows),
            card_seconds=sum(r.card_seconds for r in rows),
            card_hours=card_hours(sum(r.card_seconds for r in rows)),
            charge_fen=sum(r.charge_fen for r in rows),
            net_fen=sum(r.net_fen for r in rows),
        )
        for model, rows in sorted(by_model.items())
    ]

    # 3. the earnings account over the period
    payouts: list[StatementPayout] = []
    adjustments: list[StatementAdjustment] = []
    opening = closing = 0
    account = ledger_repo.account_ref(session, provider, AccountKind.EARNINGS, CNY)
    if account is not None:
        opening = billing_repo.balance_before(session, account.id, period.start)
        closing = billing_repo.balance_before(session, account.id, period.end)
        captured = {split.transaction_id for split in splits.values()}
        for move in billing_repo.movements(session, account.id, period.start, period.end):
            if move.transaction_id in captured:
                continue
            if move.kind is TransactionKind.PAYOUT:
                payouts.append(
                    StatementPayout(
                        transaction_id=move.transaction_id,
                        amount_fen=-move.amount,
                        counterparty=move.counterparty,
                        created_at=move.created_at,
                    )
                )
            else:
                adjustments.append(
                    StatementAdjustment(
                        transaction_id=move.transaction_id,
                        kind=move.kind.value,
                        lease_id=move.lease_id,
                        amount_fen=move.amount,
                        memo=move.memo,
                        created_at=move.created_at,
                    )
                )
    return StatementOut(
        provider_id=provider,
        provider_name=billing_repo.org_name(session, provider),
        period=period.label,
        period_start=period.start,
        period_end=period.end,
        complete=period.end <= clock.now(),
        currency=CNY,
        lines=lines,
        by_model=models,
        gross_fen=sum(line.charge_fen for line in lines),
        voucher_fen=sum(line.voucher_fen for line in lines),
        fee_fen=sum(line.fee_fen for line in lines),
        net_fen=sum(line.net_fen for line in lines),
        payouts=payouts,
        payouts_fen=sum(p.amount_fen for p in payouts),
        adjustments=adjustments,
        adjustments_fen=sum(a.amount_fen for a in adjustments),
        opening_earnings_fen=opening,
        closing_earnings_fen=closing,
    )
