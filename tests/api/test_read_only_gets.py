"""Every ``GET`` runs in a read-only transaction: on SQLite each one answers at once, with
its usual answer, while another transaction holds the database's write lock (a ``GET``
that waited for the lock would take SQLite's 30 s busy timeout; one that wrote would be
refused by the read-only transaction, a 500). On PostgreSQL the same sweep proves that no
``GET`` writes or takes a row lock (``BEGIN READ ONLY`` refuses both).
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from conftest import Market, make_center, make_pool, make_request
from suanli.store import Database
from suanli.store.orgs_repo import set_meta
from suanli.vocab import OrgRole
from suanli.vouchers.schemas import GrantIn, ProgramIn

ANSWER_WITHIN_S = 5.0
"""Each ``GET`` answers within this (SQLite's busy timeout is 30 s)."""


@contextlib.contextmanager
def writer_holding_the_lock(db: Database) -> Iterator[None]:
    """Another thread inside a transaction that has written (uncommitted): on SQLite it
    holds the database's write lock until the block ends."""
    if db.is_postgres:  # readers never wait for writers there
        yield
        return
    holding, done = threading.Event(), threading.Event()

    def hold() -> None:
        with db.transaction() as session:
            set_meta(session, f"held-{uuid.uuid4().hex[:8]}", "uncommitted")
            session.flush()
            holding.set()
            done.wait(120)

    thread = threading.Thread(target=hold, name="writer", daemon=True)
    thread.start()
    assert holding.wait(30), "the writer did not begin"
    try:
        yield
    finally:
        done.set()
        thread.join(30)


def _filled(path: str, ids: dict[str, int]) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        return "csv" if name == "fmt" else str(ids.get(name, 1))

    return re.sub(r"\{(\w+)(?::\w+)?\}", fill, path)


def _gets(
    document: dict[str, Any], ids: dict[str, int], period: str
) -> list[tuple[str, dict[str, int | str]]]:
    """Every ``GET`` of the document: its path with ids filled in, its required query
    (and a statement's period and provider)."""
    found = []
    for path, operations in document["paths"].items():
        operation = operations.get("get")
        if operation is None:
            continue
        query: dict[str, int | str] = {
            p["name"]: ids.get(p["name"], 1)
            for p in operation.get("parameters", [])
            if p["in"] == "query" and p.get("required")
        }
        if path.startswith("/v1/statements"):
            query.update(period=period, provider_id=ids["provider_id"])
        found.append((_filled(path, ids), query))
    return found


def test_every_get_answers_while_a_writer_holds_the_lock(market: Market) -> None:
    provider = market.provider()
    center = make_center(provider.client)
    pool = make_pool(provider.client, center.id)
    buyer = market.buyer(topup_fen=10_000_000)
    request = make_request(buyer.client)
    assert request.lease_id is not None
    issuer = market.party(OrgRole.ISSUER)
    now = market.clock.now()
    program = issuer.client.create_program(
        ProgramIn(
            name=f"reads-{uuid.uuid4().hex[:8]}",
            budget_fen=1_000_000,
            rate=Decimal("0.3"),
            valid_from=now - timedelta(days=1),
            valid_until=now + timedelta(days=365),
        )
    )
    grant = buyer.client.apply_grant(GrantIn(program_id=program.id, requested_fen=10_000))
    ids = {
        "center_id": center.id,
        "pool_id": pool.id,
        "request_id": request.id,
        "lease_id": request.lease_id,
        "program_id": program.id,
        "grant_id": grant.id,
        "org_id": buyer.org_id,
        "provider_id": provider.org_id,
    }
    http = market.http()
    document = http.get("/openapi.json").json()
    gets = _gets(document, ids, now.strftime("%Y-%m"))
    assert len(gets) > 30
    assert ("/healthz", {}) in gets
    keys = {
        "operator": market.operator.key,
        "provider": provider.key,
        "buyer": buyer.key,
        "issuer": issuer.key,
    }
    answers: dict[tuple[str, str], int] = {}
    slow: list[str] = []
    with writer_holding_the_lock(market.db):
        for role, key in keys.items():
            headers = {"Authorization": f"Bearer {key}"}
            for path, query in gets:
                started = time.monotonic()
                try:
                    response = http.get(
                        path, params=query, headers=headers, timeout=ANSWER_WITHIN_S
                    )
                except httpx.TimeoutException:  # waiting for the lock, surely: stop here
                    pytest.fail(f"{role} GET {path}: no answer within {ANSWER_WITHIN_S} s")
                took = time.monotonic() - started
                if took > ANSWER_WITHIN_S:
                    slow.append(f"{role} GET {path}: {took:.1f} s")
                answers[role, path] = response.status_code
    assert not slow, slow
    failed = {where: code for where, code in answers.items() if code >= 500}
    assert not failed, failed
    refused = {where: code for where, code in answers.items() if code not in (200, 403, 404)}
    assert not refused, refused  # no 401, 409, 422 or 429 on a well-formed read
    expected_ok = [
        ("operator", "/healthz"),
        ("operator", "/v1/orgs"),
        ("buyer", "/v1/orgs/me"),
        ("provider", "/v1/orgs/me"),
        ("buyer", "/v1/requests"),
        ("buyer", f"/v1/requests/{request.id}"),
        ("buyer", "/v1/leases"),
        ("provider", "/v1/leases"),
        ("buyer", f"/v1/leases/{request.lease_id}"),
        ("buyer", "/v1/wallet"),
        ("provider", "/v1/centers"),
        ("provider", f"/v1/centers/{center.id}"),
        ("provider", "/v1/pools"),
        ("provider", f"/v1/pools/{pool.id}"),
        ("buyer", "/v1/offers"),
        ("provider", "/v1/agent/leases"),
        ("operator", "/v1/reports/overview"),
        ("operator", "/v1/reports/utilization"),
        ("buyer", "/v1/reports/prices"),
        ("provider", "/v1/statements"),
        ("operator", "/v1/statements.csv"),
        ("operator", "/v1/audit/ledger"),
        ("issuer", "/v1/vouchers/programs"),
        ("issuer", f"/v1/vouchers/grants/{grant.id}"),
        ("buyer", "/v1/invoices"),
    ]
    not_ok = {where: answers.get(where) for where in expected_ok if answers.get(where) != 200}
    assert not not_ok, not_ok
