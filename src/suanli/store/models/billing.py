"""Invoices: what a buyer was billed for a period, one line per lease. Issued once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from suanli.store.base import Base, UTCDateTime


class Invoice(Base):
    """A buyer's bill for the leases that ended in ``[period_start, period_end)``."""

    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("buyer_id", "period_start", "period_end"),
        CheckConstraint("period_end > period_start", name="period_ordered"),
        CheckConstraint("net_fen = gross_fen - voucher_fen", name="net_is_gross_less_voucher"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime)
    currency: Mapped[str] = mapped_column(String(3))
    gross_fen: Mapped[int] = mapped_column(BigInteger)
    voucher_fen: Mapped[int] = mapped_column(BigInteger)
    net_fen: Mapped[int] = mapped_column(BigInteger)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)


class InvoiceLine(Base):
    """One lease on an invoice: card-hours of one model at one price."""

    __tablename__ = "invoice_lines"
    __table_args__ = (
        UniqueConstraint("lease_id"),
        CheckConstraint("net_fen = charge_fen - voucher_fen", name="net_is_charge_less_voucher"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    lease_id: Mapped[int] = mapped_column(ForeignKey("leases.id"))
    center_id: Mapped[int] = mapped_column(ForeignKey("centers.id"))
    model: Mapped[str] = mapped_column(String(32))
    cards: Mapped[int]
    card_seconds: Mapped[int] = mapped_column(BigInteger)
    price_fen: Mapped[int] = mapped_column(BigInteger)
    charge_fen: Mapped[int] = mapped_column(BigInteger)
    voucher_fen: Mapped[int] = mapped_column(BigInteger)
    net_fen: Mapped[int] = mapped_column(BigInteger)
    program_id: Mapped[int | None] = mapped_column(ForeignKey("voucher_programs.id"))
