"""API shapes for invoices, statements and payouts. Amounts are integer fen."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from suanli.kit.bounds import FEN_BOUND, MAX_FEN, Id, Instant, Line
from suanli.kit.money import SECONDS_PER_HOUR


def card_hours(card_seconds: int) -> Decimal:
    """Card-seconds as card-hours, exact to 1/10000 of an hour (for reading only:
    charges are computed from card-seconds)."""
    return (Decimal(card_seconds) / SECONDS_PER_HOUR).quantize(Decimal("0.0001"))


# -- invoices -----------------------------------------------------------------------------
class InvoiceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    buyer_id: Id | None = Field(
        default=None, description="operator only: whose invoice (default: yours)"
    )
    period: Line | None = Field(
        default=None, max_length=32, description="a calendar month, YYYY-MM (China time)"
    )
    start: Instant | None = Field(default=None, description="instead of period")
    end: Instant | None = Field(default=None, description="instead of period (exclusive)")


class InvoiceLineOut(BaseModel):
    id: int
    lease_id: int
    center_id: int
    center_name: str
    model: str
    cards: int
    card_seconds: int
    card_hours: Decimal
    price_fen: int = Field(description="fen per card-hour")
    charge_fen: int
    voucher_fen: int
    net_fen: int
    program_id: int | None


class InvoiceSummary(BaseModel):
    id: int
    number: str
    buyer_id: int
    buyer_name: str
    period: str = Field(description="YYYY-MM, or start/end for a custom period")
    period_start: datetime
    period_end: datetime
    currency: str
    gross_fen: int
    voucher_fen: int
    net_fen: int
    line_count: int
    issued_at: datetime


class InvoiceOut(InvoiceSummary):
    lines: list[InvoiceLineOut]


# -- statements ---------------------------------------------------------------------------
class StatementLine(BaseModel):
    lease_id: int
    buyer_id: int
    center_id: int
    center_name: str
    model: str
    cards: int
    card_seconds: int
    card_hours: Decimal
    price_fen: int
    ended_at: datetime
    charge_fen: int = Field(description="what the lease was charged (gross)")
    voucher_fen: int = Field(description="of which paid by a voucher program")
    fee_fen: int = Field(description="platform fee, from the capture's FEE posting")
    net_fen: int = Field(description="provider's earnings, from the capture's EARNINGS posting")
    capture_transaction_id: int | None


class ModelHours(BaseModel):
    model: str
    leases: int
    card_seconds: int
    card_hours: Decimal
    charge_fen: int
    net_fen: int


class StatementPayout(BaseModel):
    transaction_id: int
    amount_fen: int
    counterparty: str | None
    created_at: datetime


class StatementAdjustment(BaseModel):
    """Another movement of the earnings account (e.g. a voucher clawback)."""

    transaction_id: int
    kind: str
    lease_id: int | None
    amount_fen: int
    memo: str
    created_at: datetime


class StatementOut(BaseModel):
    """``closing = opening + net + adjustments - payouts``, to the fen."""

    provider_id: int
    provider_name: str
    period: str
    period_start: datetime
    period_end: datetime
    complete: bool = Field(description="false while the period is still running")
    currency: str
    lines: list[StatementLine]
    by_model: list[ModelHours]
    gross_fen: int
    voucher_fen: int
    fee_fen: int
    net_fen: int
    payouts: list[StatementPayout]
    payouts_fen: int
    adjustments: list[StatementAdjustment]
    adjustments_fen: int
    opening_earnings_fen: int
    closing_earnings_fen: int


# -- payouts ------------------------------------------------------------------------------
class PayoutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount_fen: int = Field(
        gt=0, le=MAX_FEN, description=f"amount in fen (¥1 = 100 fen), {FEN_BOUND}"
    )
    counterparty: Line = Field(
        min_length=1, max_length=64, description="the bank account the money goes to"
    )
    provider_id: Id | None = Field(
        default=None, description="operator only: whose earnings (default: yours)"
    )

    @field_validator("counterparty")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("counterparty must name an account, not be blank")
        return value


class PayoutOut(BaseModel):
    transaction_id: int
    provider_id: int
    amount_fen: int
    counterparty: str | None
    created_at: datetime


class PayoutResult(PayoutOut):
    earnings_fen: int = Field(description="the provider's earnings balance after the payout")
