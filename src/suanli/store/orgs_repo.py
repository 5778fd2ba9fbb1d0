"""SQL for organizations and API keys."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from suanli.store.models import ApiKey, MetaEntry, Organization
from suanli.vocab import OrgRole


def by_id(session: Session, org_id: int) -> Organization | None:
    return session.get(Organization, org_id)


def by_name(session: Session, name: str) -> Organization | None:
    return session.scalars(select(Organization).where(Organization.name == name)).first()


def listing(session: Session, role: OrgRole | None = None) -> list[Organization]:
    stmt = select(Organization).order_by(Organization.id)
    if role is not None:
        stmt = stmt.where(Organization.role == role)
    return list(session.scalars(stmt))


def names(session: Session, org_ids: Iterable[int]) -> dict[int, str]:
    """Organization names by id, in one query (ids not found are left out)."""
    wanted = set(org_ids)
    if not wanted:
        return {}
    stmt = select(Organization.id, Organization.name).where(Organization.id.in_(wanted))
    return {row.id: row.name for row in session.execute(stmt)}


def key_by_prefix(session: Session, prefix: str) -> ApiKey | None:
    return session.scalars(select(ApiKey).where(ApiKey.prefix == prefix)).first()


def get_meta(session: Session, key: str) -> str | None:
    entry = session.get(MetaEntry, key)
    return None if entry is None else entry.value


def set_meta(session: Session, key: str, value: str) -> None:
    entry = session.get(MetaEntry, key)
    if entry is None:
        session.add(MetaEntry(key=key, value=value))
    else:
        entry.value = value
