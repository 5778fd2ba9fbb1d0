"""API shapes for centers, pools and the public capacity listing."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from suanli.kit.bounds import Line
from suanli.vocab import CenterStatus

InterNode = Line

MAX_PRICE_FEN = 10_000_000
"""The highest price per card-hour, in fen: ¥100,000 (an H800 card-hour lists near ¥15)."""
MAX_NODES = 4096
"""The most nodes in one pool: a large cluster on one fabric (4096 nodes of 8 cards is
32,768 cards). A bigger center lists several pools. Adding a pool writes a row per
node, so the bound also bounds that call's work."""
MAX_CARDS_PER_NODE = 64
"""The most accelerator cards in one node."""
PRICE_DOC = "price per card-hour in fen, at most 10^7 (¥100,000)"


class CenterIn(BaseModel):
    """A center to register."""

    model_config = ConfigDict(extra="forbid")

    name: Line = Field(min_length=1, max_length=200)
    name_zh: Line | None = Field(default=None, max_length=200)
    province: Line = Field(min_length=1, max_length=32, description="e.g. 贵州 or Guizhou")
    city: Line = Field(min_length=1, max_length=64)
    pue: Decimal = Field(
        default=Decimal("1.3"),
        ge=1,
        le=3,
        decimal_places=2,
        description="power usage effectiveness, 1 to 3 with two decimals",
    )
    rack_kw: Decimal = Field(
        default=Decimal("12"),
        gt=0,
        le=300,
        decimal_places=1,
        description="kW per rack, at most 300 with one decimal",
    )
    status: CenterStatus = CenterStatus.ACTIVE


class CenterPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: CenterStatus | None = None
    pue: Decimal | None = Field(default=None, ge=1, le=3, decimal_places=2)
    rack_kw: Decimal | None = Field(default=None, gt=0, le=300, decimal_places=1)


class CenterOut(BaseModel):
    id: int
    provider_id: int
    name: str
    name_zh: str | None
    province: str
    city: str
    pue: Decimal
    rack_kw: Decimal
    status: CenterStatus
    created_at: datetime
    cards: int = 0
    cards_free: int = 0


class PoolIn(BaseModel):
    """Identical nodes of one accelerator model to list at one price."""

    model_config = ConfigDict(extra="forbid")

    name: Line = Field(min_length=1, max_length=100)
    model: Line = Field(min_length=1, max_length=32, description="catalog id, e.g. H800")
    nodes: int = Field(
        ge=1, le=MAX_NODES, description=f"identical nodes, 1 to {MAX_NODES:,} in one pool"
    )
    cards_per_node: int = Field(
        ge=1,
        le=MAX_CARDS_PER_NODE,
        description=f"accelerator cards in each node, 1 to {MAX_CARDS_PER_NODE}",
    )
    cpu_per_node: int = Field(default=96, ge=1, le=4096, description="CPU cores, at most 4096")
    memory_gb_per_node: int = Field(
        default=1024, ge=1, le=65536, description="host memory in GB, at most 65,536"
    )
    intra_node: Line = Field(default="pcie", max_length=16)
    inter_node: InterNode = Field(
        default="ethernet", max_length=16, description="none|ethernet|roce|infiniband"
    )
    inter_node_gbps: int = Field(default=100, ge=0, le=100_000, description="at most 100,000")
    price_fen: int = Field(gt=0, le=MAX_PRICE_FEN, description=PRICE_DOC)


class PoolPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    price_fen: int | None = Field(default=None, gt=0, le=MAX_PRICE_FEN, description=PRICE_DOC)
    active: bool | None = None


class PoolOut(BaseModel):
    id: int
    center_id: int
    name: str
    model: str
    nodes: int
    cards_per_node: int
    cpu_per_node: int
    memory_gb_per_node: int
    intra_node: str
    inter_node: str
    inter_node_gbps: int
    price_fen: int
    active: bool
    created_at: datetime
    cards: int
    cards_free: int
    reported_total_cards: int | None = Field(
        default=None, description="the center agent's count of the cluster's cards"
    )
    reported_free_cards: int | None = Field(
        default=None, description="the agent's count of free cards: no more is offered"
    )
    capacity_reported_at: datetime | None = None


class OfferOut(BaseModel):
    """One pool as buyers see it when browsing the market."""

    pool_id: int
    center_id: int
    center: str
    center_zh: str | None = Field(default=None, description="the center's Chinese name")
    province: str
    city: str
    model: str
    memory_gb: int
    fp16_tflops: Decimal
    cards_per_node: int
    inter_node: str
    price_fen: int
    cards: int
    cards_free: int
