"""Voucher programs, grants, redemptions, clawbacks and anomaly flags."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from suanli.store.base import Base, UTCDateTime
from suanli.store.models._types import enum_type
from suanli.vocab import FlagKind, FlagStatus, GrantStatus, ProgramStatus, SettlementMode

RATE = Numeric(5, 4)
"""Subsidy rates: 0.0000 to 1.0000."""


class VoucherProgram(Base):
    """A city's (or district's) computing-power voucher scheme.

    Caps are in fen, ``None`` meaning no cap. Eligibility lists are empty when the
    program does not restrict on them. Rates: ``rate`` for everyone, overridden by the
    largest that applies of ``domestic_rate`` (domestic accelerators), ``sme_rate``,
    ``startup_rate`` and ``early_small_rate`` (firms younger than
    ``early_small_max_age_months``, for ``early_small_months`` after approval).
    """

    __tablename__ = "voucher_programs"
    __table_args__ = (
        UniqueConstraint("issuer_id", "name"),
        CheckConstraint("budget_fen > 0", name="budget_positive"),
        CheckConstraint("rate > 0 AND rate <= 1", name="rate_range"),
        CheckConstraint("valid_until > valid_from", name="window_ordered"),
        CheckConstraint("min_paid_fen >= 0", name="min_paid_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    name_zh: Mapped[str | None] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    budget_fen: Mapped[int] = mapped_column(BigInteger)
    funding_split: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    rate: Mapped[Decimal] = mapped_column(RATE)
    domestic_rate: Mapped[Decimal | None] = mapped_column(RATE)
    sme_rate: Mapped[Decimal | None] = mapped_column(RATE)
    startup_rate: Mapped[Decimal | None] = mapped_column(RATE)
    early_small_rate: Mapped[Decimal | None] = mapped_column(RATE)
    early_small_months: Mapped[int | None]
    early_small_max_age_months: Mapped[int | None]
    cap_per_lease_fen: Mapped[int | None] = mapped_column(BigInteger)
    cap_per_firm_year_fen: Mapped[int | None] = mapped_column(BigInteger)
    cap_lifetime_fen: Mapped[int | None] = mapped_column(BigInteger)
    cap_per_group_year_fen: Mapped[int | None] = mapped_column(BigInteger)
    buyer_provinces: Mapped[list[str]] = mapped_column(JSON, default=list)
    buyer_cities: Mapped[list[str]] = mapped_column(JSON, default=list)
    buyer_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    buyer_industries: Mapped[list[str]] = mapped_column(JSON, default=list)
    blacklist: Mapped[list[int]] = mapped_column(JSON, default=list)
    provider_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    provider_provinces: Mapped[list[str]] = mapped_column(JSON, default=list)
    min_center_cards: Mapped[int | None]
    items: Mapped[list[str]] = mapped_column(JSON, default=list)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime)
    min_paid_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    settlement_mode: Mapped[SettlementMode] = mapped_column(enum_type(SettlementMode))
    status: Mapped[ProgramStatus] = mapped_column(enum_type(ProgramStatus))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class VoucherGrant(Base):
    """A buyer's allowance in one program. Rates are frozen at approval.

    ``released_fen`` is what may be spent so far (tranches); ``redeemed_fen`` is kept
    equal to the sum of the grant's redemptions less clawbacks, under the program's row
    lock (the audit recomputes it)."""

    __tablename__ = "voucher_grants"
    __table_args__ = (
        CheckConstraint("requested_fen > 0", name="requested_positive"),
        CheckConstraint("released_fen >= 0", name="released_not_negative"),
        CheckConstraint("redeemed_fen >= 0", name="redeemed_not_negative"),
        CheckConstraint("redeemed_fen <= released_fen", name="redeemed_within_released"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("voucher_programs.id"), index=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    status: Mapped[GrantStatus] = mapped_column(enum_type(GrantStatus), index=True)
    purpose: Mapped[str] = mapped_column(Text, default="")
    requested_fen: Mapped[int] = mapped_column(BigInteger)
    approved_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    released_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    redeemed_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    rate: Mapped[Decimal | None] = mapped_column(RATE)
    domestic_rate: Mapped[Decimal | None] = mapped_column(RATE)
    tranches: Mapped[list[int]] = mapped_column(JSON, default=list)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text, default="")
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class VoucherRedemption(Base):
    """A voucher's share of one lease's charge: one per lease, whatever the mode."""

    __tablename__ = "voucher_redemptions"
    __table_args__ = (
        UniqueConstraint("lease_id"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("clawed_back_fen >= 0", name="clawback_not_negative"),
        CheckConstraint("clawed_back_fen <= amount_fen", name="clawback_within_amount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("voucher_programs.id"), index=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("voucher_grants.id"), index=True)
    lease_id: Mapped[int] = mapped_column(ForeignKey("leases.id"))
    buyer_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    claimant_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    mode: Mapped[SettlementMode] = mapped_column(enum_type(SettlementMode))
    group_name: Mapped[str | None] = mapped_column(String(200), index=True)
    year: Mapped[int]
    charge_fen: Mapped[int] = mapped_column(BigInteger)
    rate: Mapped[Decimal] = mapped_column(RATE)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    clawed_back_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class VoucherClawback(Base):
    """Subsidy taken back from whoever received it, into the program's fund."""

    __tablename__ = "voucher_clawbacks"
    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    redemption_id: Mapped[int] = mapped_column(ForeignKey("voucher_redemptions.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class VoucherFlag(Base):
    """An anomaly worth an issuer's look, with the evidence that raised it."""

    __tablename__ = "voucher_flags"
    __table_args__ = (UniqueConstraint("kind", "lease_id", "buyer_id", "provider_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[FlagKind] = mapped_column(enum_type(FlagKind), index=True)
    program_id: Mapped[int | None] = mapped_column(ForeignKey("voucher_programs.id"), index=True)
    lease_id: Mapped[int | None] = mapped_column(ForeignKey("leases.id"), index=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    summary: Mapped[str] = mapped_column(Text)
    status: Mapped[FlagStatus] = mapped_column(enum_type(FlagStatus), index=True)
    resolution: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
