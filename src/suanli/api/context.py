"""What every endpoint needs: the database, the clock, the settings, the caller.

Endpoints run their work inside :meth:`Context.run` (reads and simple changes) or
:meth:`Context.create` (creates, honouring ``Idempotency-Key``): one transaction that
commits before the response is built, or rolls back entirely on any error. The caller is
the one the gate (:mod:`suanli.api.gate`) authenticated before reading the request's
body, or, for a request without a body, the key looked up in that transaction.

A ``GET`` runs in a read-only transaction (:meth:`suanli.store.Database.transaction`
with ``write=False``): on SQLite it does not wait for the write lock, so reads go on
while a writer holds it. No ``GET`` route writes; one that must would pass
``write=True`` to :meth:`Context.run`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, TypeVar

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from suanli.api.gate import PRINCIPAL, presented_key
from suanli.api.limits import RateLimiter
from suanli.kit.clock import Clock
from suanli.kit.errors import ConflictError, IdempotencyConflictError
from suanli.orgs.auth import Principal
from suanli.orgs.service import authenticate
from suanli.settings import Settings
from suanli.store import Database
from suanli.store.models import IdempotencyRecord

T = TypeVar("T")

bearer = HTTPBearer(auto_error=False, description="An API key: sk_...")


READ_METHODS = frozenset({"GET", "HEAD"})
"""The methods whose work runs read-only by default (see :meth:`Context.run`)."""


@dataclass(frozen=True, slots=True)
class AppState:
    db: Database
    clock: Clock
    settings: Settings
    limiter: RateLimiter = field(init=False)
    """The app's rate limits (:mod:`suanli.api.limits`), made from ``settings``; the
    gate consults it before any other work."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "limiter", RateLimiter.of(self.settings))


@dataclass(frozen=True, slots=True)
class Context:
    state: AppState
    key: str | None
    idempotency_key: str | None
    method: str
    path: str
    principal: Principal | None = None
    """The caller, when the gate authenticated it already."""

    @property
    def db(self) -> Database:
        return self.state.db

    def caller(self, session: Session) -> Principal:
        """Who is calling: the gate's answer, else the key looked up in ``session``."""
        if self.principal is not None:
            return self.principal
        return authenticate(session, self.key)

    def run(self, work: Callable[[Session, Principal], T], *, write: bool | None = None) -> T:
        """Authenticate and run ``work`` in one transaction: read-only for a ``GET``
        (``write`` left ``None``), else one that may write; ``write`` says which."""
        if write is None:
            write = self.method not in READ_METHODS
        with self.db.transaction(write=write) as session:
            return work(session, self.caller(session))

    def create(
        self,
        body: BaseModel | None,
        work: Callable[[Session, Principal], BaseModel],
        *,
        status_code: int = 201,
    ) -> JSONResponse:
        """Run a create (or another change, such as a cancel, answering ``status_code``)
        once per ``Idempotency-Key``; a retry gets the first answer."""
        if self.idempotency_key is None:
            result = self.run(work)
            return JSONResponse(result.model_dump(mode="json"), status_code=status_code)
        digest = hashlib.sha256(
            json.dumps(
                body.model_dump(mode="json") if body is not None else None, sort_keys=True
            ).encode()
        ).hexdigest()
        try:
            with self.db.transaction() as session:
                principal = self.caller(session)
                self._serialize(session, principal.org_id)
                stored = self._stored(session, principal.org_id, digest)
                if stored is not None:
                    return stored
                content = work(session, principal).model_dump(mode="json")
                session.add(
                    IdempotencyRecord(
                        org_id=principal.org_id,
                        key=self.idempotency_key,
                        method=self.method,
                        path=self.path,
                        body_hash=digest,
                        status_code=status_code,
                        response=json.dumps(content),
                        created_at=self.state.clock.now(),
                    )
                )
                session.flush()
        except (IntegrityError, ConflictError):
            # A concurrent call with the same key may have won the race (on SQLite, or
            # where the lock below is unavailable): answer with its result if it exists.
            with self.db.transaction() as session:
                principal = self.caller(session)
                stored = self._stored(session, principal.org_id, digest)
                if stored is None:
                    raise
                return stored
        return JSONResponse(content, status_code=status_code)

    def _serialize(self, session: Session, org_id: int) -> None:
        """On PostgreSQL, make same-key calls of one organization wait for each other
        (a transaction-scoped advisory lock), so a retry sees the first call's answer.
        SQLite's BEGIN IMMEDIATE already runs writers one at a time."""
        if self.db.is_postgres:
            seed = hashlib.sha256(f"{org_id}:{self.idempotency_key}".encode()).digest()
            lock_id = int.from_bytes(seed[:8], "big", signed=True)
            session.execute(select(func.pg_advisory_xact_lock(lock_id)))

    def _stored(self, session: Session, org_id: int, digest: str) -> JSONResponse | None:
        record = session.scalars(
            select(IdempotencyRecord).where(
                IdempotencyRecord.org_id == org_id,
                IdempotencyRecord.key == self.idempotency_key,
            )
        ).first()
        if record is None:
            return None
        if (record.method, record.path, record.body_hash) != (self.method, self.path, digest):
            raise IdempotencyConflictError(
                f"Idempotency-Key {self.idempotency_key!r} was used for a different request"
            )
        return JSONResponse(json.loads(record.response), status_code=record.status_code)


def get_context(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)] = None,
) -> Context:
    state: AppState = request.app.state.suanli
    # ``credentials`` (the bearer scheme) puts the key into the OpenAPI document; a
    # non-Bearer header is passed on whole, for authenticate() to explain what is wrong.
    key = presented_key(request.headers.get("Authorization"))
    return Context(
        state,
        key,
        idempotency_key,
        request.method,
        request.url.path,
        getattr(request.state, PRINCIPAL, None),
    )


Ctx = Annotated[Context, Depends(get_context)]
