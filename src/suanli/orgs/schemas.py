"""API shapes for organizations and keys."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from suanli.store.models import Organization
from suanli.vocab import OrgRole


class OrgIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    role: OrgRole
    name_zh: str | None = Field(default=None, max_length=200)
    province: str | None = Field(default=None, max_length=32)
    city: str | None = Field(default=None, max_length=64)
    kind: str | None = Field(default=None, max_length=32, description="sme, startup, lab, ...")


class OrgOut(BaseModel):
    id: int
    name: str
    name_zh: str | None
    role: OrgRole
    province: str | None
    city: str | None
    kind: str | None
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
            created_at=org.created_at,
        )


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field(default="", max_length=100)


class KeyOut(BaseModel):
    id: int
    org_id: int
    key: str = Field(description="shown once; store it safely")
