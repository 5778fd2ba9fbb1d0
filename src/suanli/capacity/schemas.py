"""API shapes for centers, pools and the public capacity listing."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from suanli.vocab import CenterStatus

InterNode = str


class CenterIn(BaseModel):
    """A center to register."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    name_zh: str | None = Field(default=None, max_length=200)
    province: str = Field(min_length=1, max_length=32, description="e.g. 贵州 or Guizhou")
    city: str = Field(min_length=1, max_length=64)
    pue: Decimal = Field(
        default=Decimal("1.3"), ge=1, le=3, description="power usage effectiveness"
    )
    rack_kw: Decimal = Field(default=Decimal("12"), gt=0, le=300, description="kW per rack")
    status: CenterStatus = CenterStatus.ACTIVE


class CenterPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: CenterStatus | None = None
    pue: Decimal | None = Field(default=None, ge=1, le=3)
    rack_kw: Decimal | None = Field(default=None, gt=0, le=300)


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

    name: str = Field(min_length=1, max_length=100)
    model: str = Field(min_length=1, max_length=40, description="catalog id, e.g. H800")
    nodes: int = Field(ge=1, le=100_000)
    cards_per_node: int = Field(ge=1, le=64)
    cpu_per_node: int = Field(default=96, ge=1, le=4096)
    memory_gb_per_node: int = Field(default=1024, ge=1, le=65536)
    intra_node: str = Field(default="pcie", max_length=16)
    inter_node: InterNode = Field(default="ethernet", description="none|ethernet|roce|infiniband")
    inter_node_gbps: int = Field(default=100, ge=0, le=100_000)
    price_fen: int = Field(gt=0, le=10_000_000, description="price per card-hour in fen")


class PoolPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    price_fen: int | None = Field(default=None, gt=0, le=10_000_000)
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
