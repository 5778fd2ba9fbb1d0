"""Creating organizations and keys; turning a presented key into a :class:`Principal`."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import date
from weakref import WeakKeyDictionary

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from suanli.catalog.regions import province_zh
from suanli.kit.clock import Clock
from suanli.kit.errors import AuthenticationError, ConflictError, ValidationError
from suanli.orgs.auth import Principal
from suanli.store import orgs_repo as repo
from suanli.store.db import ON_DROP
from suanli.store.models import ApiKey, Organization
from suanli.vocab import OrgRole

KEY_PREFIX = "sk_"
_PREFIX_LEN = 12
_MAX_BODY = 128


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A new key. ``secret`` is shown once and never stored."""

    id: int
    org_id: int
    secret: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_org(
    session: Session,
    clock: Clock,
    *,
    name: str,
    role: OrgRole,
    name_zh: str | None = None,
    province: str | None = None,
    city: str | None = None,
    kind: str | None = None,
    industry: str | None = None,
    founded_on: date | None = None,
    group_name: str | None = None,
    owners: list[str] | None = None,
) -> Organization:
    name = name.strip()
    if not name:
        raise ValidationError("organization name must not be empty")
    if province is not None:
        try:
            province = province_zh(province)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc
    if repo.by_name(session, name) is not None:
        raise ConflictError(f"an organization named {name!r} already exists")
    org = Organization(
        name=name,
        name_zh=name_zh,
        role=role,
        province=province,
        city=city,
        kind=kind,
        industry=industry,
        founded_on=founded_on,
        group_name=(group_name or "").strip() or None,
        owners=sorted({o.strip() for o in owners or [] if o.strip()}),
        created_at=clock.now(),
    )
    session.add(org)
    session.flush()
    return org


def create_key(
    session: Session, clock: Clock, org_id: int, label: str = "", *, secret: str | None = None
) -> IssuedKey:
    """A new API key for the organization: a random secret, or ``secret`` when given (the
    demo issues the keys saved in a user's profiles again when it rebuilds its database).
    A given secret must look like the keys made here (``sk_`` and 12 to 128 letters or
    digits) and its first 12 characters after ``sk_`` must not start another key."""
    if repo.by_id(session, org_id) is None:
        raise ValidationError(f"organization {org_id} does not exist")
    if secret is None:
        body = secrets.token_hex(24)
        secret = f"{KEY_PREFIX}{body}"
    else:
        body = secret.removeprefix(KEY_PREFIX)
        if (
            not secret.startswith(KEY_PREFIX)
            or not _PREFIX_LEN <= len(body) <= _MAX_BODY
            or not (body.isascii() and body.isalnum())
        ):
            raise ValidationError(
                f"an API key is {KEY_PREFIX!r} and {_PREFIX_LEN} to {_MAX_BODY} letters or digits"
            )
        if repo.key_by_prefix(session, body[:_PREFIX_LEN]) is not None:
            raise ConflictError("another API key starts like this one")
    key = ApiKey(
        org_id=org_id,
        prefix=body[:_PREFIX_LEN],
        secret_hash=_hash(secret),
        label=label,
        created_at=clock.now(),
    )
    session.add(key)
    session.flush()
    return IssuedKey(id=key.id, org_id=org_id, secret=secret)


KNOWN_KEY_S = 2.0
"""How long a process trusts a key it checked without asking the database again: a
revoked key stops working within this time on every process."""

_known: WeakKeyDictionary[Engine, dict[str, tuple[Principal, float]]] = WeakKeyDictionary()
_known_lock = threading.Lock()
_KNOWN_MAX = 10_000


def _forget_keys(engine: Engine) -> None:
    with _known_lock:
        _known.pop(engine, None)


ON_DROP.append(_forget_keys)


def authenticate(session: Session, presented: str | None) -> Principal:
    """The caller behind a key, or 401 with what was wrong. A key found valid is trusted
    for :data:`KNOWN_KEY_S` without another lookup."""
    if not presented:
        raise AuthenticationError("missing API key: send 'Authorization: Bearer sk_...'")
    digest = _hash(presented)
    engine = session.get_bind().engine
    now = time.monotonic()
    with _known_lock:
        found = _known.get(engine, {}).get(digest)
    if found is not None and found[1] > now:
        return found[0]
    principal = _look_up(session, presented)
    with _known_lock:
        known = _known.setdefault(engine, {})
        if len(known) >= _KNOWN_MAX:
            known.clear()
        known[digest] = (principal, now + KNOWN_KEY_S)
    return principal


def _look_up(session: Session, presented: str) -> Principal:
    if not presented.startswith(KEY_PREFIX) or len(presented) < len(KEY_PREFIX) + _PREFIX_LEN:
        raise AuthenticationError("malformed API key: keys start with 'sk_'")
    key = repo.key_by_prefix(session, presented[len(KEY_PREFIX) : len(KEY_PREFIX) + _PREFIX_LEN])
    if key is None or not hmac.compare_digest(key.secret_hash, _hash(presented)):
        raise AuthenticationError("invalid API key")
    if key.revoked_at is not None:
        raise AuthenticationError("API key has been revoked")
    org = repo.by_id(session, key.org_id)
    if org is None:  # pragma: no cover - foreign key makes this impossible
        raise AuthenticationError("invalid API key")
    return Principal(org_id=org.id, role=org.role)
