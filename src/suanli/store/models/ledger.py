"""The double-entry book: accounts, transactions and their postings (fen, signed).

A posting's ``amount`` raises its account's balance when positive and lowers it when
negative. Every transaction's postings sum to zero. Balances are the sum of postings;
nothing stores or edits a balance.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from suanli.store.base import Base, UTCDateTime
from suanli.store.models._types import enum_type
from suanli.vocab import AccountKind, TransactionKind


class Account(Base):
    """One account of one owner (``owner_id`` NULL = the platform) in one currency.

    ``program_id`` is set on voucher funds only: an issuer has one fund per program."""

    __tablename__ = "accounts"
    __table_args__ = (
        # NULL owner (the platform) and NULL program (not a fund) count as equal, so two
        # racing transactions cannot both create the same account (PostgreSQL 15+).
        UniqueConstraint(
            "owner_id", "kind", "currency", "program_id", postgresql_nulls_not_distinct=True
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    kind: Mapped[AccountKind] = mapped_column(enum_type(AccountKind))
    currency: Mapped[str] = mapped_column(String(3))
    program_id: Mapped[int | None] = mapped_column(ForeignKey("voucher_programs.id"), index=True)
    has_floor: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    balance: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    """The sum of the account's postings, kept with every posting under the account's row
    lock, so a movement checks a floor without summing the history. The audit compares
    it with the postings (``balance_mismatch``). The platform's own accounts (no owner:
    funding, fees) keep none (0 here): their balance is the sum of their postings."""


class LedgerTransaction(Base):
    """A balanced set of postings that happened together, for one reason."""

    __tablename__ = "ledger_transactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[TransactionKind] = mapped_column(enum_type(TransactionKind), index=True)
    lease_id: Mapped[int | None] = mapped_column(ForeignKey("leases.id"), index=True)
    memo: Mapped[str] = mapped_column(Text, default="")
    counterparty: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Posting(Base):
    """One signed amount in fen on one account, part of one transaction."""

    __tablename__ = "postings"

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
