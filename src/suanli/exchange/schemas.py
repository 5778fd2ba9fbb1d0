"""API shapes for requests, leases and usage."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from annotated_types import MaxLen
from pydantic import BaseModel, ConfigDict, Field, model_validator

from suanli.capacity.schemas import MAX_CARDS_PER_NODE, MAX_PRICE_FEN, PRICE_DOC
from suanli.kit.bounds import Instant, Line, Text
from suanli.vocab import LeaseStatus, RequestStatus

MAX_DURATION_S = 366 * 24 * 3600
"""The longest request: a leap year."""
MAX_CARDS = 100_000
"""The most cards one request may ask for."""
MAX_CARD_SECONDS = MAX_CARDS * MAX_DURATION_S
"""The most card-seconds one usage report may carry: every card of the largest request
for the longest time (about 3.2 x 10**12)."""


ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class WorkloadIn(BaseModel):
    """What the center runs for a request: a shell command or a container image."""

    model_config = ConfigDict(extra="forbid")

    command: Text | None = Field(default=None, min_length=1, max_length=10_000)
    image: str | None = Field(
        default=None, min_length=1, max_length=500, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/:@-]*$"
    )
    env: dict[Annotated[Line, MaxLen(255)], Annotated[Text, MaxLen(4096)]] = Field(
        default_factory=dict,
        max_length=100,
        description="at most 100 variables; names of at most 255 characters, values 4096",
    )
    checkpoint_dir: Line | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        description="where the job keeps checkpoints; a requeued job gets it back",
    )

    @model_validator(mode="after")
    def _what(self) -> WorkloadIn:
        if self.command is None and self.image is None:
            raise ValueError("a workload needs a command or an image")
        for name in self.env:
            if not ENV_NAME.match(name):
                raise ValueError(f"env name {name!r} is not a valid variable name")
            if name.startswith("SUANLI_"):
                raise ValueError(f"env name {name!r}: SUANLI_* variables are set by the exchange")
        return self


class RequestIn(BaseModel):
    """What a buyer wants: how many cards, of what, where, for how long, at what price."""

    model_config = ConfigDict(extra="forbid")

    cards: int = Field(
        ge=1, le=MAX_CARDS, description="number of accelerator cards, at most 100,000"
    )
    cards_per_node: int | None = Field(
        default=None,
        ge=1,
        le=MAX_CARDS_PER_NODE,
        description="gang: this many cards on each of several nodes; left out, the exchange "
        "spreads a request larger than any node over nodes of one pool",
    )
    inter_node: Line | None = Field(
        default=None,
        max_length=16,
        description="fabric between the nodes, at least: ethernet|roce|infiniband (a gang, "
        "or an open shape should it be spread over nodes)",
    )
    accepted_models: list[Annotated[Line, MaxLen(32)]] = Field(
        default_factory=list, max_length=32, description="catalog ids, at most 32"
    )
    min_memory_gb: int | None = Field(
        default=None, ge=1, le=4096, description="memory per card in GB, at most 4096"
    )
    min_tflops: Decimal | None = Field(
        default=None,
        gt=0,
        le=100_000,
        decimal_places=1,
        description="dense FP16 TFLOPS per card, at most 100,000 with one decimal",
    )
    provinces: list[Annotated[Line, MaxLen(32)]] = Field(default_factory=list, max_length=40)
    regions: list[Annotated[Line, MaxLen(32)]] = Field(default_factory=list, max_length=10)
    max_price_fen: int | None = Field(
        default=None, gt=0, le=MAX_PRICE_FEN, description=f"cap on the {PRICE_DOC}"
    )
    duration_s: int = Field(
        gt=0,
        le=MAX_DURATION_S,
        description="how long the cards are needed, in seconds; at most 366 days",
    )
    earliest_start: Instant | None = None
    interruptible: bool = False
    use_voucher: bool = Field(
        default=True, description="pay part of the charge with an approved voucher grant"
    )
    workload: WorkloadIn | None = None

    @model_validator(mode="after")
    def _shape(self) -> RequestIn:
        if self.cards_per_node is not None and self.cards % self.cards_per_node:
            raise ValueError(
                f"cards ({self.cards}) must be a multiple of cards_per_node ({self.cards_per_node})"
            )
        if self.inter_node is not None and (self.cards == 1 or self.cards_per_node == self.cards):
            raise ValueError(
                "inter_node applies only when the cards may span nodes (more than one card, "
                "and cards_per_node left out or below cards)"
            )
        return self


class RequestOut(BaseModel):
    id: int
    buyer_id: int
    cards: int
    cards_per_node: int | None
    inter_node: str | None
    accepted_models: list[str]
    min_memory_gb: int | None
    min_tflops: Decimal | None
    provinces: list[str]
    max_price_fen: int | None
    duration_s: int
    earliest_start: datetime | None
    interruptible: bool
    use_voucher: bool
    workload: dict[str, Any]
    attempts: int
    status: RequestStatus
    reasons: list[str]
    nearest: list[str]
    reasons_zh: list[str] = Field(
        default_factory=list, description="reasons in Chinese, item for item"
    )
    nearest_zh: list[str] = Field(
        default_factory=list, description="nearest offers in Chinese, item for item"
    )
    lease_id: int | None
    created_at: datetime
    updated_at: datetime


class AllocationOut(BaseModel):
    node_id: int
    cards: int


class TransitionOut(BaseModel):
    from_status: LeaseStatus | None
    to_status: LeaseStatus
    at: datetime
    reason: str


class LeaseOut(BaseModel):
    id: int
    request_id: int
    buyer_id: int
    provider_id: int
    center_id: int
    pool_id: int
    model: str
    cards: int
    duration_s: int
    price_fen: int
    hold_fen: int
    charged_fen: int
    subsidy_fen: int = Field(description="paid by a voucher program (part of charged_fen)")
    voucher_note: str | None = Field(description="the voucher paid, or why none did")
    usage_card_seconds: int
    status: LeaseStatus
    placed_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    end_reason: str | None
    allocations: list[AllocationOut]
    transitions: list[TransitionOut]


class UsageIn(BaseModel):
    """Metered use of a lease over a period, as the center measured it."""

    model_config = ConfigDict(extra="forbid")

    card_seconds: int = Field(
        ge=0,
        le=MAX_CARD_SECONDS,
        description="metered use; at most 100,000 cards for 366 days (3,162,240,000,000)",
    )
    period_start: Instant
    period_end: Instant
    external_id: Line | None = Field(
        default=None, max_length=100, description="the meter's id; resending it is a no-op"
    )
    source: Line = Field(default="agent", max_length=32)

    @model_validator(mode="after")
    def _period(self) -> UsageIn:
        if self.period_end < self.period_start:
            raise ValueError("period_end is before period_start")
        return self


class UsageOut(BaseModel):
    id: int
    lease_id: int
    external_id: str
    card_seconds: int
    period_start: datetime
    period_end: datetime
    source: str
    charge_transaction_id: int | None


class StartIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: Instant | None = Field(default=None, description="when the work started")
    reason: Text = Field(default="", max_length=500)


class EndIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Text = Field(default="", max_length=500)
