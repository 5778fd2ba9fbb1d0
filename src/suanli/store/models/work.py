"""Buyers' requests, the leases that place them, and metered usage."""

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
from suanli.vocab import LeaseStatus, RequestStatus


class Request(Base):
    """What a buyer asked for. Constraints are immutable once submitted."""

    __tablename__ = "requests"
    __table_args__ = (
        CheckConstraint("cards > 0", name="cards_positive"),
        CheckConstraint("duration_s > 0", name="duration_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    cards: Mapped[int]
    cards_per_node: Mapped[int | None]
    inter_node: Mapped[str | None] = mapped_column(String(16))
    accepted_models: Mapped[list[str]] = mapped_column(JSON, default=list)
    min_memory_gb: Mapped[int | None]
    min_tflops: Mapped[Decimal | None] = mapped_column(Numeric(8, 1))
    provinces: Mapped[list[str]] = mapped_column(JSON, default=list)
    max_price_fen: Mapped[int | None] = mapped_column(BigInteger)
    duration_s: Mapped[int] = mapped_column(BigInteger)
    earliest_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    interruptible: Mapped[bool] = mapped_column(default=False)
    use_voucher: Mapped[bool] = mapped_column(default=True)
    workload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """What to run: ``command`` or ``image``, ``env``, ``checkpoint_dir`` (see WorkloadIn)."""
    attempts: Mapped[int] = mapped_column(default=0)
    """How many leases this request has had; a requeued request runs again."""
    status: Mapped[RequestStatus] = mapped_column(enum_type(RequestStatus), index=True)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    nearest: Mapped[list[str]] = mapped_column(JSON, default=list)
    reasons_zh: Mapped[list[str] | None] = mapped_column(JSON, default=list)
    """``reasons`` in Chinese, item for item (None on rows older than the column)."""
    nearest_zh: Mapped[list[str] | None] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Lease(Base):
    """A placement: who rents which cards where, at what price, and its state."""

    __tablename__ = "leases"
    __table_args__ = (
        CheckConstraint("cards > 0", name="cards_positive"),
        CheckConstraint("hold_fen >= 0", name="hold_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    center_id: Mapped[int] = mapped_column(ForeignKey("centers.id"), index=True)
    pool_id: Mapped[int] = mapped_column(ForeignKey("pools.id"), index=True)
    model: Mapped[str] = mapped_column(String(32))
    cards: Mapped[int]
    duration_s: Mapped[int] = mapped_column(BigInteger)
    price_fen: Mapped[int] = mapped_column(BigInteger)
    hold_fen: Mapped[int] = mapped_column(BigInteger)
    charged_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    subsidy_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    voucher_note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[LeaseStatus] = mapped_column(enum_type(LeaseStatus), index=True)
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(Text)


class LeaseAllocation(Base):
    """Cards of one node held by one lease."""

    __tablename__ = "lease_allocations"
    __table_args__ = (CheckConstraint("cards > 0", name="cards_positive"),)

    lease_id: Mapped[int] = mapped_column(ForeignKey("leases.id"), primary_key=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id"), primary_key=True)
    cards: Mapped[int]


class LeaseTransition(Base):
    """One state change of a lease, with when and why. Append-only."""

    __tablename__ = "lease_transitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    lease_id: Mapped[int] = mapped_column(ForeignKey("leases.id"), index=True)
    from_status: Mapped[LeaseStatus | None] = mapped_column(enum_type(LeaseStatus))
    to_status: Mapped[LeaseStatus] = mapped_column(enum_type(LeaseStatus))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text, default="")


class UsageRecord(Base):
    """Metered card-seconds of a lease over a period, as the center reported them.

    ``external_id`` makes reports idempotent: the same report sent twice is one record.
    ``charge_transaction_id`` links the record to the ledger capture that billed it.
    """

    __tablename__ = "usage_records"
    __table_args__ = (
        UniqueConstraint("lease_id", "external_id"),
        CheckConstraint("card_seconds >= 0", name="card_seconds_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lease_id: Mapped[int] = mapped_column(ForeignKey("leases.id"), index=True)
    external_id: Mapped[str] = mapped_column(String(100))
    card_seconds: Mapped[int] = mapped_column(BigInteger)
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(32))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    charge_transaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("ledger_transactions.id"), index=True
    )
