"""Anomaly flags on subsidized deals, each with the evidence that raised it.

* ``price_above_index``: the lease's unit price is above ``PRICE_RATIO`` x the median list
  price of its accelerator model over active pools (the price index) - a classic way to
  inflate a subsidized bill.
* ``underused``: the lease metered less than ``USE_RATIO`` of the card-time it
  contracted - capacity bought to spend a voucher, not to compute.
* ``money_flowback``: an account that received a provider's payout paid money into a
  buyer's wallet, and that buyer holds subsidized leases with that provider - a kickback
  of the subsidy.

Flags never block a settlement; an issuer dismisses or confirms them (confirming claws
the subsidy back).
"""

from __future__ import annotations

from decimal import Decimal
from statistics import median
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from suanli.kit.clock import Clock
from suanli.kit.money import yuan
from suanli.store import capacity_repo, vouchers_repo, work_repo
from suanli.store.models import (
    Account,
    Lease,
    LedgerTransaction,
    Posting,
    VoucherFlag,
    VoucherProgram,
    VoucherRedemption,
)
from suanli.vocab import AccountKind, FlagKind, FlagStatus, TransactionKind

PRICE_RATIO = Decimal("1.3")
USE_RATIO = Decimal("0.5")


def raise_flag(
    session: Session,
    clock: Clock,
    kind: FlagKind,
    *,
    program_id: int | None,
    lease_id: int | None,
    buyer_id: int,
    provider_id: int,
    summary: str,
    evidence: dict[str, Any],
) -> VoucherFlag:
    """Record a flag once: the same anomaly seen again returns the first flag."""
    found = vouchers_repo.find_flag(session, kind, lease_id, buyer_id, provider_id)
    if found is not None:
        return found
    flag = VoucherFlag(
        kind=kind,
        program_id=program_id,
        lease_id=lease_id,
        buyer_id=buyer_id,
        provider_id=provider_id,
        summary=summary,
        evidence=evidence,
        status=FlagStatus.OPEN,
        resolution="",
        created_at=clock.now(),
    )
    session.add(flag)
    session.flush()
    return flag


def check_lease(
    session: Session,
    clock: Clock,
    lease: Lease,
    program: VoucherProgram,
    redemption: VoucherRedemption,
) -> list[VoucherFlag]:
    """Price and use checks on a lease that has just been subsidized."""
    raised: list[VoucherFlag] = []
    prices = capacity_repo.list_prices(session, lease.model)
    if prices:
        index = Decimal(median(prices))
        if Decimal(lease.price_fen) > PRICE_RATIO * index:
            ratio = Decimal(lease.price_fen) / index
            raised.append(
                raise_flag(
                    session,
                    clock,
                    FlagKind.PRICE_ABOVE_INDEX,
                    program_id=program.id,
                    lease_id=lease.id,
                    buyer_id=lease.buyer_id,
                    provider_id=lease.provider_id,
                    summary=(
                        f"lease {lease.id}: {lease.model} at {yuan(lease.price_fen)}/card-hour "
                        f"is {ratio:.2f}x the index median {yuan(int(index))}"
                    ),
                    evidence={
                        "model": lease.model,
                        "price_fen": lease.price_fen,
                        "index_median_fen": str(index),
                        "ratio": f"{ratio:.4f}",
                        "pools_in_index": len(prices),
                        "threshold": str(PRICE_RATIO),
                        "redemption_id": redemption.id,
                    },
                )
            )
    contracted = lease.cards * lease.duration_s
    used = work_repo.usage_total(session, lease.id)
    if contracted and Decimal(used) < USE_RATIO * contracted:
        share = Decimal(used) / contracted
        raised.append(
            raise_flag(
                session,
                clock,
                FlagKind.UNDERUSED,
                program_id=program.id,
                lease_id=lease.id,
                buyer_id=lease.buyer_id,
                provider_id=lease.provider_id,
                summary=(
                    f"lease {lease.id} metered {used / 3600:.1f} of {contracted / 3600:.1f} "
                    f"contracted card-hours ({share:.0%})"
                ),
                evidence={
                    "metered_card_seconds": used,
                    "contracted_card_seconds": contracted,
                    "share": f"{share:.4f}",
                    "threshold": str(USE_RATIO),
                    "redemption_id": redemption.id,
                },
            )
        )
    return raised


def scan_flowback(session: Session, clock: Clock) -> list[VoucherFlag]:
    """Match payout destinations against top-up sources (see the module docstring)."""
    payouts = _by_counterparty(session, TransactionKind.PAYOUT, AccountKind.EARNINGS)
    if not payouts:
        return []
    topups = _by_counterparty(session, TransactionKind.TOPUP, AccountKind.WALLET)
    pairs = {
        (r.buyer_id, r.provider_id): r.program_id
        for r in session.scalars(select(VoucherRedemption).order_by(VoucherRedemption.id))
    }
    raised: list[VoucherFlag] = []
    for counterparty, paid_out in payouts.items():
        for buyer_id, topup_txns in topups.get(counterparty, {}).items():
            for provider_id, payout_txns in paid_out.items():
                program_id = pairs.get((buyer_id, provider_id))
                if program_id is None:
                    continue
                raised.append(
                    raise_flag(
                        session,
                        clock,
                        FlagKind.MONEY_FLOWBACK,
                        program_id=program_id,
                        lease_id=None,
                        buyer_id=buyer_id,
                        provider_id=provider_id,
                        summary=(
                            f"account {counterparty} received provider {provider_id}'s "
                            f"payouts and topped up buyer {buyer_id}, which the provider "
                            "served with subsidy"
                        ),
                        evidence={
                            "counterparty": counterparty,
                            "payout_transactions": payout_txns,
                            "topup_transactions": topup_txns,
                        },
                    )
                )
    return raised


def _by_counterparty(
    session: Session, kind: TransactionKind, account_kind: AccountKind
) -> dict[str, dict[int, list[int]]]:
    """counterparty -> organization -> transaction ids, for ``kind`` transactions that
    touched that organization's ``account_kind`` account."""
    stmt = (
        select(LedgerTransaction.counterparty, Account.owner_id, LedgerTransaction.id)
        .join(Posting, Posting.transaction_id == LedgerTransaction.id)
        .join(Account, Account.id == Posting.account_id)
        .where(
            LedgerTransaction.kind == kind,
            LedgerTransaction.counterparty.is_not(None),
            Account.kind == account_kind,
        )
        .order_by(LedgerTransaction.id)
    )
    found: dict[str, dict[int, list[int]]] = {}
    for counterparty, owner_id, txn_id in session.execute(stmt):
        if counterparty is not None and owner_id is not None:
            found.setdefault(counterparty, {}).setdefault(owner_id, []).append(txn_id)
    return found
