"""Rate limits per API key (per client address without one): beyond a key's burst a call
is answered 429 in the error shape with ``Retry-After`` (whole seconds, at least 1),
before any database work; other keys go on; after the wait the key may call again; with
the limit off nothing is refused; the defaults leave room for heavy honest use."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from conftest import row_counts, statements
from suanli.api.limits import RateLimiter, caller_of
from suanli.kit.clock import SystemClock
from suanli.orgs.service import create_key, create_org
from suanli.settings import DEFAULT_RATE_BURST, DEFAULT_RATE_PER_S, Settings
from suanli.store import Database
from suanli.vocab import OrgRole

# -- the limiter ---------------------------------------------------------------------------


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_burst_then_says_how_long_to_wait() -> None:
    clock = FakeTime()
    limiter = RateLimiter(0.5, 2, clock=clock)
    assert [limiter.take("a"), limiter.take("a")] == [0, 0]
    assert limiter.take("a") == 2  # one token takes 2 s at 0.5 a second
    clock.now += 1.5
    assert limiter.take("a") == 1  # a quarter token short: still a whole second
    clock.now += 0.5
    assert limiter.take("a") == 0
    assert limiter.take("a") == 2


def test_each_caller_has_its_own_bucket() -> None:
    limiter = RateLimiter(1, 1, clock=FakeTime())
    assert limiter.take("a") == 0
    assert limiter.take("a") == 1
    assert limiter.take("b") == 0


def test_a_bucket_refills_to_its_burst_and_no_more() -> None:
    clock = FakeTime()
    limiter = RateLimiter(10, 3, clock=clock)
    for _ in range(3):
        assert limiter.take("a") == 0
    clock.now += 3600
    assert [limiter.take("a") for _ in range(4)] == [0, 0, 0, 1]


@pytest.mark.parametrize(("rate", "burst"), [(0, 10), (10, 0), (0, 0)])
def test_zero_turns_the_limit_off(rate: float, burst: int) -> None:
    limiter = RateLimiter(rate, burst, clock=FakeTime())
    assert not limiter.enabled
    assert all(limiter.take("a") == 0 for _ in range(10_000))
    assert limiter.callers == 0


def test_bad_limits_are_refused() -> None:
    for rate, burst in [(-1, 10), (1, -1), (float("nan"), 1), (float("inf"), 1)]:
        with pytest.raises(ValueError, match="must be"):
            RateLimiter(rate, burst)


def test_the_table_of_buckets_is_bounded_and_forgets_full_buckets_first() -> None:
    clock = FakeTime()
    limiter = RateLimiter(1, 2, clock=clock, max_buckets=100)
    for i in range(100):
        limiter.take(f"idle-{i}")
    clock.now += 10  # the idle callers' buckets are full again
    assert limiter.take("busy") == 0
    assert limiter.take("busy") == 0
    assert limiter.take("busy") == 1
    for i in range(60):  # overflows the table twice: full buckets are forgotten first
        limiter.take(f"new-{i}")
        assert limiter.callers <= 100
    assert limiter.take("busy") == 1  # still remembered: still empty
    for i in range(1000):  # then the least recently used
        limiter.take(f"newer-{i}")
        assert limiter.callers <= 100
    assert limiter.take("newer-999") == 0
    assert limiter.take("busy") == 0  # forgotten at last: a new, full bucket


def test_the_default_limits_leave_room_for_a_busy_benchmark() -> None:
    """The API load benchmark: about 50 clients over 8 keys, up to about 1000 calls a
    second in all, so the busiest key (7 clients of 50) about 140 a second."""
    clock = FakeTime()
    limiter = RateLimiter(DEFAULT_RATE_PER_S, DEFAULT_RATE_BURST, clock=clock)
    keys = [f"key-{i}" for i in range(8)]
    clients = [keys[i % len(keys)] for i in range(50)]
    for _ in range(60 * 20):  # 60 s, 1000 calls a second, in rounds of 50
        for key in clients:
            assert limiter.take(key) == 0
        clock.now += 0.05
    assert all(limiter.take("burst") == 0 for _ in range(DEFAULT_RATE_BURST))
    assert limiter.take("burst") == 1


def test_callers_are_known_by_a_digest_of_the_key_else_by_address() -> None:
    key = "sk_" + "x" * 60
    caller = caller_of(key, ("10.0.0.1", 5000))
    assert key not in caller and "x" * 8 not in caller
    assert caller == caller_of(key, ("10.0.0.2", 6000))
    assert caller != caller_of(key + "y", None)
    assert caller_of(None, ("10.0.0.1", 5000)) == caller_of(None, ["10.0.0.1", 1])
    assert caller_of(None, ("10.0.0.1", 5000)) != caller_of(None, ("10.0.0.2", 5000))
    assert caller_of(None, None) == "address:unknown"


# -- settings ------------------------------------------------------------------------------


def test_settings_read_the_limits_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SUANLI_RATE_PER_S", raising=False)
    monkeypatch.delenv("SUANLI_RATE_BURST", raising=False)
    settings = Settings.from_env()
    assert (settings.rate_per_s, settings.rate_burst) == (DEFAULT_RATE_PER_S, DEFAULT_RATE_BURST)
    assert Settings() == settings
    monkeypatch.setenv("SUANLI_RATE_PER_S", "2.5")
    monkeypatch.setenv("SUANLI_RATE_BURST", "7")
    settings = Settings.from_env()
    assert (settings.rate_per_s, settings.rate_burst) == (2.5, 7)
    monkeypatch.setenv("SUANLI_RATE_PER_S", "0")
    assert not RateLimiter.of(Settings.from_env()).enabled


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SUANLI_RATE_PER_S", "fast"),
        ("SUANLI_RATE_PER_S", "-1"),
        ("SUANLI_RATE_PER_S", "nan"),
        ("SUANLI_RATE_PER_S", "inf"),
        ("SUANLI_RATE_BURST", "1.5"),
        ("SUANLI_RATE_BURST", "-3"),
        ("SUANLI_RATE_BURST", ""),
        ("SUANLI_RATE_BURST", "²"),
    ],
)
def test_settings_refuse_bad_limits(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=name):
        Settings.from_env()


# -- over HTTP -----------------------------------------------------------------------------

PER_S = 2.0
BURST = 3
TINY = Settings(rate_per_s=PER_S, rate_burst=BURST)


def new_key(db: Database, role: OrgRole = OrgRole.BUYER) -> str:
    """An organization and its API key, made in the database (no call spent on it)."""
    with db.transaction() as session:
        org = create_org(session, SystemClock(), name=f"{role}-{uuid.uuid4().hex[:8]}", role=role)
        return create_key(session, SystemClock(), org.id, "tests").secret


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def assert_limited(response: httpx.Response) -> int:
    assert response.status_code == 429, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == "rate_limited"
    message = body["error"]["message"]
    assert f"{PER_S:g} a second" in message and f"{BURST} at once" in message
    wait = response.headers["Retry-After"]
    assert wait.isdigit() and int(wait) >= 1
    assert f"retry in {wait} s" in message
    return int(wait)


@pytest.fixture
def tiny(db: Database, serve: Callable[..., str]) -> Iterator[httpx.Client]:
    """A live server whose keys may make 3 calls at once, then 2 a second."""
    with httpx.Client(base_url=serve(db, settings=TINY), timeout=30) as http:
        yield http


def test_beyond_its_burst_a_key_is_refused_until_it_waits(db: Database, tiny: httpx.Client) -> None:
    key, other = new_key(db), new_key(db)
    for _ in range(BURST):
        assert tiny.get("/v1/orgs/me", headers=bearer(key)).status_code == 200
    with statements(db) as seen:
        wait = assert_limited(tiny.get("/v1/orgs/me", headers=bearer(key)))
        assert_limited(tiny.get("/v1/wallet", headers=bearer(key)))
    assert seen == []  # refused before any database work
    assert tiny.get("/v1/orgs/me", headers=bearer(other)).status_code == 200
    time.sleep(wait)
    assert tiny.get("/v1/orgs/me", headers=bearer(key)).status_code == 200


def test_a_limited_call_with_a_body_is_refused_before_it_is_read(
    db: Database, tiny: httpx.Client
) -> None:
    key = new_key(db)
    for _ in range(BURST):
        assert tiny.get("/v1/wallet", headers=bearer(key)).status_code == 200
    before = row_counts(db)
    with statements(db) as seen:
        valid = tiny.post("/v1/wallet/topup", headers=bearer(key), json={"amount_fen": 100})
        invalid = tiny.post("/v1/wallet/topup", headers=bearer(key), json={"amount_fen": -1})
        unknown = tiny.post("/v1/requests", headers=bearer(key), content=b"{" * 10_000)
    assert seen == []
    for response in (valid, invalid, unknown):
        assert_limited(response)
    assert row_counts(db) == before


def test_calls_without_a_key_are_limited_by_address(db: Database, tiny: httpx.Client) -> None:
    for _ in range(BURST):
        assert tiny.get("/v1/orgs/me").status_code == 401
    response = tiny.get("/v1/orgs/me")
    assert_limited(response)
    assert "no API key" in response.json()["error"]["message"]
    assert tiny.get("/v1/orgs/me", headers=bearer(new_key(db))).status_code == 200
    assert tiny.get("/healthz").status_code == 200  # only the API is limited
    assert tiny.get("/openapi.json").status_code == 200


@pytest.mark.parametrize(
    "settings", [Settings(rate_per_s=0, rate_burst=1), Settings(rate_per_s=1, rate_burst=0)]
)
def test_with_the_limit_off_nothing_is_refused(
    db: Database, serve: Callable[..., str], settings: Settings
) -> None:
    key = new_key(db)
    with httpx.Client(base_url=serve(db, settings=settings), timeout=30) as http:
        codes = {http.get("/v1/orgs/me", headers=bearer(key)).status_code for _ in range(60)}
        codes |= {http.get("/v1/orgs/me").status_code for _ in range(20)}
    assert codes == {200, 401}


def test_the_document_lists_429_with_retry_after(module_http: httpx.Client) -> None:
    document = module_http.get("/openapi.json").json()
    operations = [
        operation
        for path, operations in document["paths"].items()
        if path.startswith("/v1/")
        for operation in operations.values()
    ]
    assert len(operations) > 40
    for operation in operations:
        answer = operation["responses"]["429"]
        assert answer["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorOut"
        }
        assert answer["headers"]["Retry-After"]["schema"] == {"type": "integer", "minimum": 1}
