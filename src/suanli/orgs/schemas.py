"""API shapes for organizations and keys."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from suanli.vocab import OrgRole

if TYPE_CHECKING:
    from suanli.store.models import Organization


class OrgIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    role: OrgRole
    name_zh: str | None = Field(default=None, max_length=200)
    province: str | None = Field(default=None, max_length=32)
    city: str | None = Field(default=None, max_length=64)
    kind: str | None = Field(default=None, max_length=32, description="sme, startup, lab, ...")
    industry: str | None = Field(default=None, max_length=64)
    founded_on: date | None = None
    group_name: str | None = Field(
        default=None, max_length=200, description="corporate group (related parties)"
    )
    owners: list[str] = Field(
        default_factory=list, max_length=50, description="beneficial owners (related parties)"
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

    label: str = Field(default="", max_length=100)


class KeyOut(BaseModel):
    id: int
    org_id: int
    key: str = Field(description="shown once; store it safely")
