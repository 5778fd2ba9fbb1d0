"""API shapes for voucher programs, grants, redemptions, clawbacks and flags.

Amounts are integer fen, rates decimal fractions (0.3 = 30%). Input models check what
can be checked without the database; the service checks the rest (organizations exist,
the budget covers an approval, ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Self

from annotated_types import Ge, Le, MaxLen
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from suanli.kit.bounds import FEN_BOUND, MAX_FEN, Id, Line, Text, plausible_time
from suanli.vocab import FlagKind, FlagStatus, GrantStatus, ProgramStatus, SettlementMode

if TYPE_CHECKING:
    from suanli.store.models import (
        VoucherClawback,
        VoucherFlag,
        VoucherGrant,
        VoucherProgram,
        VoucherRedemption,
    )

ITEMS = ("compute", "storage", "network")
"""What a program may pay for. The exchange sells compute; the rest are for schemes that
list them (and pay nothing here)."""

Rate = Field(gt=0, le=1, max_digits=5, decimal_places=4)
OptionalRate = Field(default=None, gt=0, le=1, max_digits=5, decimal_places=4)
Cap = Field(default=None, ge=0, le=MAX_FEN, description=f"fen, {FEN_BOUND}; omitted = no cap")

MAX_FUNDERS = 16
"""The most funders sharing one program's budget."""
MAX_WEIGHT = 1_000_000
"""The largest weight of one funder in a budget's split."""
MAX_CENTER_CARDS = 10_000_000
"""The largest ``min_center_cards`` a program may ask of a provider's centers."""

Province = Annotated[Line, MaxLen(32)]
Place = Annotated[Line, MaxLen(64)]
Label = Annotated[Line, MaxLen(64)]


class ProgramIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Line = Field(min_length=1, max_length=200)
    name_zh: Line | None = Field(default=None, max_length=200)
    budget_fen: int = Field(
        gt=0, le=MAX_FEN, description=f"the whole budget, paid in at creation; {FEN_BOUND}"
    )
    funding_split: dict[Annotated[Line, MaxLen(64)], Annotated[int, Le(MAX_WEIGHT)]] = Field(
        default_factory=lambda: {"city": 1},
        max_length=MAX_FUNDERS,
        description="who pays the budget, by weight, e.g. {'province': 1, 'city': 1}; at most "
        "16 funders, each weighing at most 1,000,000",
    )
    rate: Decimal = Rate
    domestic_rate: Decimal | None = OptionalRate
    sme_rate: Decimal | None = OptionalRate
    startup_rate: Decimal | None = OptionalRate
    early_small_rate: Decimal | None = OptionalRate
    early_small_months: int | None = Field(default=None, gt=0, le=120)
    early_small_max_age_months: int | None = Field(default=None, gt=0, le=600)
    cap_per_lease_fen: int | None = Cap
    cap_per_firm_year_fen: int | None = Cap
    cap_lifetime_fen: int | None = Cap
    cap_per_group_year_fen: int | None = Cap
    buyer_provinces: list[Province] = Field(default_factory=list, max_length=40)
    buyer_cities: list[Place] = Field(default_factory=list, max_length=400)
    buyer_kinds: list[Label] = Field(default_factory=list, max_length=10)
    buyer_industries: list[Label] = Field(default_factory=list, max_length=100)
    blacklist: list[Id] = Field(
        default_factory=list, max_length=10_000, description="buyers never paid for"
    )
    provider_ids: list[Id] = Field(
        default_factory=list, max_length=10_000, description="approved providers; [] = any"
    )
    provider_provinces: list[Province] = Field(default_factory=list, max_length=40)
    min_center_cards: int | None = Field(
        default=None, gt=0, le=MAX_CENTER_CARDS, description="at most 10,000,000"
    )
    items: list[Annotated[Line, MaxLen(16)]] = Field(
        default_factory=lambda: ["compute"], min_length=1, max_length=len(ITEMS)
    )
    valid_from: Annotated[datetime, AfterValidator(plausible_time)]
    valid_until: Annotated[datetime, AfterValidator(plausible_time)]
    min_paid_fen: int = Field(default=0, ge=0, le=MAX_FEN, description=FEN_BOUND)
    settlement_mode: SettlementMode = SettlementMode.DEDUCT

    @field_validator("funding_split")
    @classmethod
    def _split(cls, value: dict[str, int]) -> dict[str, int]:
        if not value:
            raise ValueError("funding_split needs at least one funder")
        for funder, weight in value.items():
            if not funder.strip() or len(funder) > 64:
                raise ValueError(f"funder name {funder!r} must be 1-64 characters")
            if weight <= 0:
                raise ValueError(f"funder {funder!r} has weight {weight}; weights are > 0")
        return value

    @field_validator("items")
    @classmethod
    def _items(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(ITEMS))
        if unknown:
            raise ValueError(f"unknown items {unknown}; known: {', '.join(ITEMS)}")
        return value

    @model_validator(mode="after")
    def _window(self) -> Self:
        if self.valid_from.tzinfo is None or self.valid_until.tzinfo is None:
            raise ValueError("valid_from and valid_until need a time zone (e.g. +08:00 or Z)")
        if self.valid_until <= self.valid_from:
            raise ValueError(
                f"valid_until {self.valid_until.isoformat()} is not after valid_from "
                f"{self.valid_from.isoformat()}"
            )
        if (self.early_small_rate is None) != (self.early_small_max_age_months is None):
            raise ValueError("early_small_rate and early_small_max_age_months go together")
        return self


class ProgramOut(BaseModel):
    id: int
    issuer_id: int
    name: str
    name_zh: str | None
    currency: str
    budget_fen: int
    funding_split: dict[str, int]
    rate: Decimal
    domestic_rate: Decimal | None
    sme_rate: Decimal | None
    startup_rate: Decimal | None
    early_small_rate: Decimal | None
    early_small_months: int | None
    early_small_max_age_months: int | None
    cap_per_lease_fen: int | None
    cap_per_firm_year_fen: int | None
    cap_lifetime_fen: int | None
    cap_per_group_year_fen: int | None
    buyer_provinces: list[str]
    buyer_cities: list[str]
    buyer_kinds: list[str]
    buyer_industries: list[str]
    blacklist: list[int]
    provider_ids: list[int]
    provider_provinces: list[str]
    min_center_cards: int | None
    items: list[str]
    valid_from: datetime
    valid_until: datetime
    min_paid_fen: int
    settlement_mode: SettlementMode
    status: ProgramStatus
    fund_fen: int = Field(description="what is left in the program's fund")
    created_at: datetime
    closed_at: datetime | None

    @classmethod
    def of(cls, program: VoucherProgram, fund_fen: int) -> ProgramOut:
        fields = {name: getattr(program, name) for name in cls.model_fields if name != "fund_fen"}
        return cls(fund_fen=fund_fen, **fields)


class GrantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    program_id: Id
    requested_fen: int = Field(gt=0, le=MAX_FEN, description=FEN_BOUND)
    purpose: Text = Field(default="", max_length=2000)
    buyer_id: Id | None = Field(
        default=None, description="operator only: apply on a buyer's behalf"
    )


class GrantDecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    approve: bool
    reason: Text = Field(default="", max_length=2000)
    approved_fen: int | None = Field(
        default=None, gt=0, le=MAX_FEN, description=f"default: as requested; {FEN_BOUND}"
    )
    tranches_pct: list[Annotated[int, Ge(1), Le(100)]] = Field(
        default_factory=lambda: [100],
        min_length=1,
        max_length=12,
        description="percent released at approval, then at each later release",
    )

    @field_validator("tranches_pct")
    @classmethod
    def _tranches(cls, value: list[int]) -> list[int]:
        if any(p <= 0 for p in value) or sum(value) != 100:
            raise ValueError(f"tranches {value} must be positive percentages summing to 100")
        return value

    @model_validator(mode="after")
    def _rejection_reason(self) -> Self:
        if not self.approve and not self.reason.strip():
            raise ValueError("a rejection needs a reason")
        return self


class RevokeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Text = Field(min_length=1, max_length=2000)
    claw_back: bool = Field(default=False, description="also take back what it redeemed")


class GrantOut(BaseModel):
    id: int
    program_id: int
    buyer_id: int
    buyer_name: str = Field(default="", description="the applicant, as the issuer reads it")
    status: GrantStatus
    purpose: str
    requested_fen: int
    approved_fen: int
    released_fen: int
    redeemed_fen: int
    pending_tranches_fen: list[int]
    rate: Decimal | None
    domestic_rate: Decimal | None
    expires_at: datetime | None
    reason: str
    applied_at: datetime
    decided_at: datetime | None

    @classmethod
    def of(cls, grant: VoucherGrant, buyer_name: str = "") -> GrantOut:
        return cls(
            id=grant.id,
            program_id=grant.program_id,
            buyer_id=grant.buyer_id,
            buyer_name=buyer_name,
            status=grant.status,
            purpose=grant.purpose,
            requested_fen=grant.requested_fen,
            approved_fen=grant.approved_fen,
            released_fen=grant.released_fen,
            redeemed_fen=grant.redeemed_fen,
            pending_tranches_fen=list(grant.tranches),
            rate=grant.rate,
            domestic_rate=grant.domestic_rate,
            expires_at=grant.expires_at,
            reason=grant.reason,
            applied_at=grant.applied_at,
            decided_at=grant.decided_at,
        )


class RedemptionOut(BaseModel):
    id: int
    program_id: int
    grant_id: int
    lease_id: int
    buyer_id: int
    buyer_name: str = ""
    provider_id: int
    provider_name: str = ""
    claimant_id: int
    mode: SettlementMode
    year: int
    charge_fen: int
    rate: Decimal
    amount_fen: int
    clawed_back_fen: int
    transaction_id: int
    usage_record_ids: list[int]
    created_at: datetime

    @classmethod
    def of(
        cls,
        redemption: VoucherRedemption,
        usage_record_ids: list[int],
        names: Mapping[int, str] | None = None,
    ) -> RedemptionOut:
        named = names or {}
        derived = {"usage_record_ids", "buyer_name", "provider_name"}
        return cls(
            usage_record_ids=usage_record_ids,
            buyer_name=named.get(redemption.buyer_id, ""),
            provider_name=named.get(redemption.provider_id, ""),
            **{name: getattr(redemption, name) for name in cls.model_fields if name not in derived},
        )


class ClawbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount_fen: int | None = Field(
        default=None, gt=0, le=MAX_FEN, description=f"default: all that is left; {FEN_BOUND}"
    )
    reason: Text = Field(min_length=1, max_length=2000)


class ClawbackOut(BaseModel):
    id: int
    redemption_id: int
    amount_fen: int
    reason: str
    transaction_id: int
    created_at: datetime

    @classmethod
    def of(cls, clawback: VoucherClawback) -> ClawbackOut:
        return cls(**{name: getattr(clawback, name) for name in cls.model_fields})


class FlagResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: FlagStatus
    resolution: Text = Field(min_length=1, max_length=2000)
    claw_back: bool = Field(default=False, description="confirmed: take the subsidy back")

    @field_validator("status")
    @classmethod
    def _final(cls, value: FlagStatus) -> FlagStatus:
        if value is FlagStatus.OPEN:
            raise ValueError("a flag is resolved as dismissed or confirmed")
        return value


class FlagOut(BaseModel):
    id: int
    kind: FlagKind
    program_id: int | None
    lease_id: int | None
    buyer_id: int
    provider_id: int
    summary: str
    evidence: dict[str, Any]
    status: FlagStatus
    resolution: str
    created_at: datetime
    resolved_at: datetime | None

    @classmethod
    def of(cls, flag: VoucherFlag) -> FlagOut:
        return cls(**{name: getattr(flag, name) for name in cls.model_fields})
