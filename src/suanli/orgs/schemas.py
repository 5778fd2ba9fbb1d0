"""API shapes for organizations and keys."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

from annotated_types import MaxLen
from pydantic import BaseModel, ConfigDict, Field

from suanli.kit.bounds import Line
from suanli.vocab import OrgRole

if TYPE_CHECKING:
    from suanli.store.models import Organization


class OrgIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Line = Field(min_length=1, max_length=200)
    role: OrgRole
    name_zh: Line | None = Field(default=None, max_length=200)
    province: Line | None = Field(default=None, max_length=32)
    city: Line | None = Field(default=None, max_length=64)
    kind: Line | None = Field(default=None, max_length=32, description="sme, startup, lab, ...")
    industry: Line | None = Field(default=None, max_length=64)
    founded_on: date | None = None
    group_name: Line | None = Field(
        default=None, max_length=200, description="corporate group (related parties)"
    )
    owners: list[Annotated[Line, MaxLen(200)]] = Field(
        default_factory=list,
        max_length=50,
        description="beneficial owners (related parties): at most 50 names of 200 characters",
    )


class OrgOut(BaseModel):
    id: int
    name: str
    name_zh: str | None
    role: OrgRole
    province: str | None
    city: str | None
    kind: str | None
    industry: str | None
    founded_on: date | None
    group_name: str | None
    owners: list[str]
    created_at: datetime

    @classmethod
    def of(cls, org: Organization) -> OrgOut:
        return cls(
            id=org.id,
            name=org.name,
            name_zh=org.name_zh,
            role=org.role,
            province=org.province,
            city=org.city,
            kind=org.kind,
            industry=org.industry,
            founded_on=org.founded_on,
            group_name=org.group_name,
            owners=list(org.owners or []),
            created_at=org.created_at,
        )


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: Line = Field(default="", max_length=100)


class KeyOut(BaseModel):
    id: int
    org_id: int
    key: str = Field(description="shown once; store it safely")
