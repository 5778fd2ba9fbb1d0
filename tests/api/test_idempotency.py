"""``Idempotency-Key`` on creates: a retry gets the first answer and creates nothing;
a key reused for something else is a 409; racing retries create exactly one object."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest

from conftest import (
    Market,
    assert_books_balance,
    make_center,
    make_pool,
    make_request,
    row_counts,
)
from suanli.api.routers import orgs as orgs_router
from suanli.capacity.service import CapacityService
from suanli.exchange.schemas import RequestIn, UsageIn
from suanli.exchange.service import Exchange
from suanli.sdk import ApiError
from suanli.store import Database


@dataclass
class Scene:
    market: Market
    keys: dict[str, str]  # role -> API key
    ids: dict[str, int]


def build_scene(market: Market) -> Scene:
    """A provider with a pool, and a buyer with money and a running lease."""
    provider = market.provider()
    center = make_center(provider.client)
    make_pool(provider.client, center.id, nodes=4, cards_per_node=8, price_fen=1000)
    buyer = market.buyer(topup_fen=1_000_000)
    running = make_request(buyer.client, cards=1, duration_s=7200)
    assert running.lease_id is not None
    provider.client.start_lease(running.lease_id)
    market.clock.advance(600)
    return Scene(
        market,
        {"buyer": buyer.key, "provider": provider.key, "operator": market.operator.key},
        {"center": center.id, "running": running.lease_id, "buyer": buyer.org_id},
    )


@pytest.fixture
def scene(market: Market) -> Scene:
    return build_scene(market)


def _usage(scene: Scene, card_seconds: int) -> dict[str, Any]:
    now = scene.market.clock.now()
    return {
        "card_seconds": card_seconds,
        "period_start": (now - timedelta(seconds=60)).isoformat(),
        "period_end": now.isoformat(),
    }


@dataclass(frozen=True)
class Create:
    """One kind of create: who calls it, where, two different bodies, and what it adds."""

    id: str
    who: str
    path: str
    body: Callable[[Scene], Any]
    other_body: Callable[[Scene], Any]
    adds: dict[str, int]


CREATES = [
    Create(
        "request",
        "buyer",
        "/v1/requests",
        lambda s: {"cards": 2, "duration_s": 3600},
        lambda s: {"cards": 3, "duration_s": 3600},
        {
            "requests": 1,
            "leases": 1,
            "lease_allocations": 1,
            "lease_transitions": 2,
            "ledger_transactions": 1,
            "postings": 2,
        },
    ),
    Create(
        "topup",
        "buyer",
        "/v1/wallet/topup",
        lambda s: {"amount_fen": 500},
        lambda s: {"amount_fen": 5000},
        {"ledger_transactions": 1, "postings": 2},
    ),
    Create(
        "center",
        "provider",
        "/v1/centers",
        lambda s: {"name": "Qingyang-1", "province": "甘肃", "city": "庆阳"},
        lambda s: {"name": "Qingyang-2", "province": "甘肃", "city": "庆阳"},
        {"centers": 1},
    ),
    Create(
        "pool",
        "provider",
        "/v1/centers/{center}/pools",
        lambda s: {
            "name": "l20",
            "model": "L20",
            "nodes": 2,
            "cards_per_node": 8,
            "price_fen": 400,
        },
        lambda s: {
            "name": "l20",
            "model": "L20",
            "nodes": 3,
            "cards_per_node": 8,
            "price_fen": 400,
        },
        {"pools": 1, "nodes": 2},
    ),
    Create(
        "usage",
        "provider",
        "/v1/leases/{running}/usage",
        lambda s: _usage(s, 30),
        lambda s: _usage(s, 40),
        {"usage_records": 1},
    ),
    Create(
        "org",
        "operator",
        "/v1/orgs",
        lambda s: {"name": "Lab-7", "role": "buyer"},
        lambda s: {"name": "Lab-8", "role": "buyer"},
        {"organizations": 1},
    ),
    Create(
        "key",
        "operator",
        "/v1/orgs/{buyer}/keys",
        lambda s: {"label": "ci"},
        lambda s: {"label": "laptop"},
        {"api_keys": 1},
    ),
]


def _post(
    scene: Scene, create: Create, body: Any, key: str, *, who: str | None = None
) -> httpx.Response:
    return scene.market.http().post(
        create.path.format(**scene.ids),
        json=body,
        headers={
            "Authorization": f"Bearer {scene.keys[who or create.who]}",
            "Idempotency-Key": key,
        },
    )


def _added(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {t: after[t] - before[t] for t in after if after[t] != before[t]}


@pytest.mark.parametrize("create", CREATES, ids=[c.id for c in CREATES])
def test_same_key_twice_creates_once_and_answers_the_same(
    scene: Scene, db: Database, create: Create
) -> None:
    key = str(uuid.uuid4())
    body = create.body(scene)
    before = row_counts(db)
    first = _post(scene, create, body, key)
    assert first.status_code == 201, first.text
    middle = row_counts(db)
    second = _post(scene, create, body, key)
    assert second.status_code == 201, second.text
    assert second.json() == first.json()
    assert row_counts(db) == middle
    assert _added(before, middle) == create.adds | {"idempotency_records": 1}
    assert_books_balance(db)


@pytest.mark.parametrize("create", CREATES, ids=[c.id for c in CREATES])
def test_same_key_with_another_body_is_a_conflict(
    scene: Scene, db: Database, create: Create
) -> None:
    key = str(uuid.uuid4())
    assert _post(scene, create, create.body(scene), key).status_code == 201
    before = row_counts(db)
    response = _post(scene, create, create.other_body(scene), key)
    assert response.status_code == 409, response.text
    error = response.json()["error"]
    assert error["code"] == "idempotency_conflict"
    assert key in error["message"] and "different request" in error["message"]
    assert row_counts(db) == before


def test_same_key_on_another_endpoint_is_a_conflict(scene: Scene, db: Database) -> None:
    request, topup = CREATES[0], CREATES[1]
    key = str(uuid.uuid4())
    assert _post(scene, request, request.body(scene), key).status_code == 201
    before = row_counts(db)
    response = _post(scene, topup, topup.body(scene), key)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_conflict"
    assert row_counts(db) == before


def test_keys_belong_to_one_organization(market: Market, scene: Scene, db: Database) -> None:
    other = market.buyer(topup_fen=1_000_000)
    request = CREATES[0]
    key = "shared-key"
    mine = _post(scene, request, request.body(scene), key)
    scene.keys["other"] = other.key
    theirs = _post(scene, request, request.body(scene), key, who="other")
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    assert {mine.json()["buyer_id"], theirs.json()["buyer_id"]} == {
        scene.ids["buyer"],
        other.org_id,
    }


def test_a_refused_create_does_not_use_up_the_key(scene: Scene, db: Database) -> None:
    request = CREATES[0]
    key = str(uuid.uuid4())
    refused = _post(scene, request, {"cards": 0, "duration_s": 3600}, key)
    assert refused.status_code == 422
    created = _post(scene, request, request.body(scene), key)
    assert created.status_code == 201, created.text


def test_a_retry_after_changes_still_gets_the_first_answer(market: Market, scene: Scene) -> None:
    buyer = market.client(scene.keys["buyer"])
    first = buyer.submit_request(RequestIn(cards=1, duration_s=60), idempotency_key="retry-me")
    buyer.cancel_request(first.id)
    again = buyer.submit_request(RequestIn(cards=1, duration_s=60), idempotency_key="retry-me")
    assert again == first
    assert [r.id for r in buyer.list_requests() if r.id == first.id] == [first.id]
    assert buyer.get_request(first.id).status == "cancelled"


def test_sdk_retries_a_metered_report_safely(market: Market, scene: Scene) -> None:
    """The same meter reading sent twice (same ``external_id``) is one record."""
    provider = market.client(scene.keys["provider"])
    lease = scene.ids["running"]
    now = market.clock.now()
    reading = UsageIn(
        card_seconds=50,
        period_start=now - timedelta(seconds=60),
        period_end=now,
        external_id="meter-7",
    )
    first = provider.record_usage(lease, reading)
    second = provider.record_usage(lease, reading)  # a fresh Idempotency-Key each time
    assert first == second
    with pytest.raises(ApiError) as err:
        provider.record_usage(lease, reading.model_copy(update={"card_seconds": 51}))
    assert err.value.status == 409
    assert "meter-7" in err.value.message
    assert [u.id for u in provider.list_usage(lease)] == [first.id]


@pytest.mark.parametrize("create", CREATES[:2], ids=[c.id for c in CREATES[:2]])
def test_racing_retries_create_exactly_one_object(
    scene: Scene, db: Database, create: Create
) -> None:
    """Money-moving creates sent eight times at once: one request, one top-up.
    (Creates that check names are raced deterministically in the test after this.)"""
    threads = 8
    key = str(uuid.uuid4())
    body = create.body(scene)
    barrier = threading.Barrier(threads)
    before = row_counts(db)

    def send(_: int) -> httpx.Response:
        with httpx.Client(base_url=scene.market.url, timeout=60) as http:
            barrier.wait(timeout=30)
            return http.post(
                create.path.format(**scene.ids),
                json=body,
                headers={
                    "Authorization": f"Bearer {scene.keys[create.who]}",
                    "Idempotency-Key": key,
                },
            )

    with ThreadPoolExecutor(threads) as pool:
        responses = list(pool.map(send, range(threads)))

    assert [r.status_code for r in responses] == [201] * threads, [
        r.text for r in responses if r.status_code != 201
    ]
    assert len({r.text for r in responses}) == 1
    assert _added(before, row_counts(db)) == create.adds | {"idempotency_records": 1}
    assert_books_balance(db)


# The work of a create, by kind, that the test below holds up inside the first call.
SLOWED: dict[str, tuple[object, str]] = {
    "request": (Exchange, "submit"),
    "center": (CapacityService, "register_center"),
    "pool": (CapacityService, "add_pool"),
    "org": (orgs_router, "create_org"),
}


@pytest.mark.postgres
@pytest.mark.parametrize("kind", list(SLOWED))
def test_a_retry_that_overtakes_the_first_call_gets_the_same_answer(
    pg_db: Database,
    make_market: Callable[[Database], Market],
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
) -> None:
    """The first call is still working when its retry arrives: both must answer alike
    with one object (PostgreSQL: SQLite runs one writer at a time, so they cannot overlap)."""
    scene = build_scene(make_market(pg_db))
    create = next(c for c in CREATES if c.id == kind)
    target, name = SLOWED[kind]
    original = getattr(target, name)
    inside, resume = threading.Event(), threading.Event()
    calls: list[int] = []

    def held_up(*args: Any, **kwargs: Any) -> Any:
        calls.append(len(calls))
        if len(calls) == 1:
            inside.set()
            assert resume.wait(30)
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, held_up)
    key = str(uuid.uuid4())
    body = create.body(scene)
    before = row_counts(pg_db)
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(_post, scene, create, body, key)
        assert inside.wait(30)
        # The retry is in flight while the first call is held: it may wait for the first
        # (the exchange serializes same-key calls) or overtake it; either way both calls
        # must end with the same single object.
        second = pool.submit(_post, scene, create, body, key)
        time.sleep(0.5)
        resume.set()
        answer = first.result(timeout=60)
        retry = second.result(timeout=60)

    assert retry.status_code == 201, retry.text
    assert answer.status_code == 201, answer.text
    assert answer.json() == retry.json()
    assert _added(before, row_counts(pg_db)) == create.adds | {"idempotency_records": 1}


def test_a_retried_cancel_answers_what_the_first_did(market: Market, db: Database) -> None:
    provider = market.provider()
    center = make_center(provider.client)
    make_pool(provider.client, center.id, nodes=1, cards_per_node=8)
    buyer = market.buyer(topup_fen=10_000_000)
    request = make_request(buyer.client, cards=8)
    headers = {"Authorization": f"Bearer {buyer.key}", "Idempotency-Key": str(uuid.uuid4())}
    path = f"/v1/requests/{request.id}/cancel"
    with httpx.Client(base_url=market.url, timeout=30) as http:
        first = http.post(path, json={"reason": "not needed"}, headers=headers)
        before = row_counts(db)
        again = http.post(path, json={"reason": "not needed"}, headers=headers)
        assert (first.status_code, again.status_code) == (200, 200)
        assert again.json() == first.json() and first.json()["status"] == "cancelled"
        assert row_counts(db) == before  # the retry changed nothing
        other = http.post(path, headers={**headers, "Idempotency-Key": str(uuid.uuid4())})
        assert other.status_code == 409 and "already cancelled" in other.json()["error"]["message"]
        reused = http.post(path, json={"reason": "other"}, headers=headers)
        assert reused.status_code == 409  # the same key for another body
    assert_books_balance(db)
