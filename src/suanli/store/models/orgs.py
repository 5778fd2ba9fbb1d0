"""Organizations and their API keys."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from suanli.store.base import Base, UTCDateTime
from suanli.store.models._types import enum_type
from suanli.vocab import OrgRole


class Organization(Base):
    """A firm, a center operator, a voucher office or the platform itself.

    ``kind`` is the firm's size class (``sme``, ``startup``, ``lab``, ...); ``group_name``
    its corporate group and ``owners`` its beneficial owners: two organizations sharing
    either are related parties, and no voucher pays for deals between them."""

    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    name_zh: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[OrgRole] = mapped_column(enum_type(OrgRole))
    province: Mapped[str | None] = mapped_column(String(32))
    city: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str | None] = mapped_column(String(32))
    industry: Mapped[str | None] = mapped_column(String(64))
    founded_on: Mapped[date | None]
    group_name: Mapped[str | None] = mapped_column(String(200), index=True)
    owners: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ApiKey(Base):
    """An API key. Only its SHA-256 is stored; ``prefix`` finds it without a scan."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
