"""Computing centers, their node pools, and the nodes whose free cards are leased."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
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
from suanli.vocab import CenterStatus


class Center(Base):
    """A computing center run by a provider."""

    __tablename__ = "centers"
    __table_args__ = (
        UniqueConstraint("provider_id", "name"),
        CheckConstraint("pue >= 1", name="pue_at_least_one"),
        CheckConstraint("rack_kw > 0", name="rack_kw_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    name_zh: Mapped[str | None] = mapped_column(String(200))
    province: Mapped[str] = mapped_column(String(32), index=True)
    city: Mapped[str] = mapped_column(String(64))
    pue: Mapped[Decimal] = mapped_column(Numeric(4, 2))
    rack_kw: Mapped[Decimal] = mapped_column(Numeric(6, 1))
    status: Mapped[CenterStatus] = mapped_column(enum_type(CenterStatus))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    agent_driver: Mapped[str | None] = mapped_column(String(16))
    last_heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    offline_reason: Mapped[str | None] = mapped_column(Text)
    """Set when the exchange took the center offline itself (a silent agent); a heartbeat
    brings such a center back. Centers an operator closed are left alone."""


class Pool(Base):
    """Identical nodes of one accelerator model in one center, at one price."""

    __tablename__ = "pools"
    __table_args__ = (
        UniqueConstraint("center_id", "name"),
        CheckConstraint("nodes > 0", name="nodes_positive"),
        CheckConstraint("cards_per_node > 0", name="cards_per_node_positive"),
        CheckConstraint("price_fen > 0", name="price_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    center_id: Mapped[int] = mapped_column(ForeignKey("centers.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    model: Mapped[str] = mapped_column(String(32), index=True)
    nodes: Mapped[int]
    cards_per_node: Mapped[int]
    cpu_per_node: Mapped[int]
    memory_gb_per_node: Mapped[int]
    intra_node: Mapped[str] = mapped_column(String(16))
    inter_node: Mapped[str] = mapped_column(String(16))
    inter_node_gbps: Mapped[int]
    price_fen: Mapped[int] = mapped_column(BigInteger)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reported_total_cards: Mapped[int | None]
    reported_free_cards: Mapped[int | None]
    """The center's agent's count of free cards in the cluster partition behind this pool
    (its own work included): placement never takes more than this."""
    capacity_reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    epoch: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0", index=True)
    """The capacity epoch (:class:`CapacityEpoch`) of the last commit that changed this
    pool's free cards or terms: snapshot caches re-read the pools newer than theirs."""


class Node(Base):
    """One server of a pool. ``cards_free`` is the only counter the exchange updates
    to reserve capacity; the check constraint makes overselling impossible."""

    __tablename__ = "nodes"
    __table_args__ = (
        UniqueConstraint("pool_id", "index"),
        CheckConstraint("cards_free >= 0 AND cards_free <= cards_total", name="free_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pool_id: Mapped[int] = mapped_column(ForeignKey("pools.id"), index=True)
    index: Mapped[int]
    cards_total: Mapped[int]
    cards_free: Mapped[int]


class CapacityEpoch(Base):
    """One row (id 1) counting the commits that changed capacity.

    ``epoch`` goes up with every commit that took or gave back cards or changed a pool
    or center; ``structure`` only with those that changed which pools are offered or on
    what terms (a pool added or changed, a center's status, an agent's count). Both are
    raised as the last step before the commit, holding this row's lock until the commit
    ends, so epochs are visible in the order they were given out: a reader that sees
    epoch ``e`` sees every change up to ``e``."""

    __tablename__ = "capacity_epoch"

    id: Mapped[int] = mapped_column(primary_key=True)
    epoch: Mapped[int] = mapped_column(BigInteger, default=0)
    structure: Mapped[int] = mapped_column(BigInteger, default=0)
