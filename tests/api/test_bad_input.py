"""Bad input gets a clear 4xx naming what was wrong, and nothing is written."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from conftest import Market, make_center, make_pool, make_request, row_counts
from suanli.vocab import LeaseStatus

MISSING = 999_999


@dataclass
class Stage:
    """A small exchange shared by the table: refused calls change nothing."""

    market: Market
    buyer_key: str
    provider_key: str
    center_id: int
    center_name: str
    pool_id: int
    pool_name: str
    placed_lease: int
    running_lease: int
    started: datetime

    @property
    def now(self) -> datetime:
        return self.market.clock.now()

    def ids(self) -> dict[str, Any]:
        return {
            "center": self.center_id,
            "pool": self.pool_id,
            "placed": self.placed_lease,
            "running": self.running_lease,
            "missing": MISSING,
        }


@pytest.fixture(scope="module")
def stage(module_market: Market) -> Stage:
    market = module_market
    provider = market.provider()
    center = make_center(provider.client, name="Guiyang-1")
    pool = make_pool(provider.client, center.id, name="h800-a", nodes=2, cards_per_node=8)
    buyer = market.buyer(topup_fen=1_000_000)
    placed = make_request(buyer.client, cards=1, duration_s=3600)
    running = make_request(buyer.client, cards=1, duration_s=3600)
    assert placed.lease_id is not None and running.lease_id is not None
    started = provider.client.start_lease(running.lease_id).started_at
    assert started is not None
    market.clock.advance(600)
    return Stage(
        market,
        buyer.key,
        provider.key,
        center.id,
        center.name,
        pool.id,
        pool.name,
        placed.lease_id,
        running.lease_id,
        started,
    )


Body = Any  # a JSON value, or a function of the stage that makes one


@dataclass(frozen=True)
class Case:
    id: str
    method: str
    path: str
    body: Body = None
    status: int = 422
    says: tuple[str, ...] = ()
    who: str = "buyer"  # buyer | provider | none | wrong | malformed | basic
    raw: str | None = None  # a body sent as is (not JSON-encoded)
    headers: tuple[tuple[str, str], ...] = ()


def request(**fields: Any) -> dict[str, Any]:
    return {"cards": 1, "duration_s": 3600} | fields


def pool(**fields: Any) -> dict[str, Any]:
    base = {"name": "new-pool", "model": "H800", "nodes": 1, "cards_per_node": 8, "price_fen": 900}
    return base | fields


def center(**fields: Any) -> dict[str, Any]:
    return {"name": "new-center", "province": "贵州", "city": "贵阳"} | fields


def usage(card_seconds: int, start: int, end: int) -> Callable[[Stage], dict[str, Any]]:
    """A usage report over [started + start s, started + end s]."""

    def build(s: Stage) -> dict[str, Any]:
        return {
            "card_seconds": card_seconds,
            "period_start": (s.started + timedelta(seconds=start)).isoformat(),
            "period_end": (s.started + timedelta(seconds=end)).isoformat(),
        }

    return build


GE1 = "Input should be greater than or equal to 1"
GT0 = "Input should be greater than 0"
NOT_INT = "Input should be a valid integer"

CASES = [
    # -- requests ---------------------------------------------------------------------
    Case("negative cards", "POST", "/v1/requests", request(cards=-4), says=("cards", GE1)),
    Case("zero cards", "POST", "/v1/requests", request(cards=0), says=("cards", GE1)),
    Case("text cards", "POST", "/v1/requests", request(cards="two"), says=("cards", NOT_INT)),
    Case("fractional cards", "POST", "/v1/requests", request(cards=1.5), says=("cards", NOT_INT)),
    Case("zero duration", "POST", "/v1/requests", request(duration_s=0), says=("duration_s", GT0)),
    Case(
        "negative duration", "POST", "/v1/requests", request(duration_s=-60), says=("duration_s",)
    ),
    Case(
        "duration over a year",
        "POST",
        "/v1/requests",
        request(duration_s=400 * 86400),
        says=("duration_s",),
    ),
    Case(
        "missing duration",
        "POST",
        "/v1/requests",
        {"cards": 1},
        says=("duration_s", "Field required"),
    ),
    Case(
        "unknown model",
        "POST",
        "/v1/requests",
        request(accepted_models=["H800", "Z9000"]),
        says=("unknown accelerator model 'Z9000'",),
    ),
    Case(
        "unknown province",
        "POST",
        "/v1/requests",
        request(provinces=["Atlantis"]),
        says=("unknown province", "Atlantis"),
    ),
    Case(
        "unknown region",
        "POST",
        "/v1/requests",
        request(regions=["Middle-earth"]),
        says=("unknown region", "Middle-earth"),
    ),
    Case(
        "cards not a multiple of cards_per_node",
        "POST",
        "/v1/requests",
        request(cards=12, cards_per_node=8),
        says=("cards (12) must be a multiple of cards_per_node (8)",),
    ),
    Case(
        "unknown gang fabric",
        "POST",
        "/v1/requests",
        request(cards=16, cards_per_node=8, inter_node="carrier-pigeon"),
        says=("unknown inter_node 'carrier-pigeon'",),
    ),
    Case(
        "fabric on a single node",
        "POST",
        "/v1/requests",
        request(cards=8, cards_per_node=8, inter_node="infiniband"),
        says=("inter_node applies only when the cards may span nodes",),
    ),
    Case(
        "fabric for one card",
        "POST",
        "/v1/requests",
        request(cards=1, inter_node="infiniband"),
        says=("inter_node applies only when the cards may span nodes",),
    ),
    Case(
        "negative price cap",
        "POST",
        "/v1/requests",
        request(max_price_fen=-5),
        says=("max_price_fen", GT0),
    ),
    Case(
        "unknown field",
        "POST",
        "/v1/requests",
        request(gpus=4),
        says=("gpus", "Extra inputs are not permitted"),
    ),
    Case(
        "naive start time",
        "POST",
        "/v1/requests",
        request(earliest_start="2030-01-01T08:00:00"),
        says=("earliest_start", "timezone"),
    ),
    Case(
        "malformed JSON",
        "POST",
        "/v1/requests",
        raw='{"cards": 1, "duration_s": ',
        status=400,
        says=("malformed JSON",),
    ),
    Case("JSON list", "POST", "/v1/requests", [1, 2], says=("dictionary",)),
    Case("no body", "POST", "/v1/requests", raw="", says=("Field required",)),
    Case(
        "overlong idempotency key",
        "POST",
        "/v1/requests",
        request(),
        headers=(("Idempotency-Key", "k" * 256),),
        says=("Idempotency-Key", "255"),
    ),
    # -- keys -------------------------------------------------------------------------
    Case("missing key", "POST", "/v1/requests", request(), 401, ("missing API key",), "none"),
    Case("wrong key", "POST", "/v1/requests", request(), 401, ("invalid API key",), "wrong"),
    Case(
        "malformed key", "POST", "/v1/requests", request(), 401, ("malformed API key",), "malformed"
    ),
    Case("basic auth", "GET", "/v1/wallet", None, 401, ("malformed API key",), "basic"),
    Case("missing key on a read", "GET", "/v1/requests", None, 401, ("missing API key",), "none"),
    # -- money ------------------------------------------------------------------------
    Case(
        "negative top-up",
        "POST",
        "/v1/wallet/topup",
        {"amount_fen": -100},
        says=("amount_fen", GT0),
    ),
    Case("zero top-up", "POST", "/v1/wallet/topup", {"amount_fen": 0}, says=("amount_fen", GT0)),
    Case(
        "fractional fen",
        "POST",
        "/v1/wallet/topup",
        {"amount_fen": 10.5},
        says=("amount_fen", NOT_INT),
    ),
    Case(
        "top-up in words",
        "POST",
        "/v1/wallet/topup",
        {"amount_fen": "100 yuan"},
        says=("amount_fen", NOT_INT),
    ),
    Case(
        "absurd top-up",
        "POST",
        "/v1/wallet/topup",
        {"amount_fen": 10**14},
        says=("amount_fen",),
    ),
    # -- unknown ids ------------------------------------------------------------------
    Case(
        "unknown lease", "GET", "/v1/leases/{missing}", status=404, says=("lease 999999 not found",)
    ),
    Case(
        "unknown request",
        "GET",
        "/v1/requests/{missing}",
        status=404,
        says=("request 999999 not found",),
    ),
    Case(
        "cancel unknown request",
        "POST",
        "/v1/requests/{missing}/cancel",
        status=404,
        says=("request 999999 not found",),
    ),
    Case(
        "start unknown lease",
        "POST",
        "/v1/leases/{missing}/start",
        status=404,
        says=("lease 999999 not found",),
        who="provider",
    ),
    Case(
        "complete unknown lease",
        "POST",
        "/v1/leases/{missing}/complete",
        status=404,
        says=("lease 999999 not found",),
        who="provider",
    ),
    Case(
        "usage on unknown lease",
        "POST",
        "/v1/leases/{missing}/usage",
        usage(1, 0, 10),
        status=404,
        says=("lease 999999 not found",),
        who="provider",
    ),
    Case(
        "unknown pool",
        "GET",
        "/v1/pools/{missing}",
        status=404,
        says=("pool 999999 not found",),
        who="provider",
    ),
    Case(
        "unknown center",
        "GET",
        "/v1/centers/{missing}",
        status=404,
        says=("center 999999 not found",),
        who="provider",
    ),
    Case(
        "pool in unknown center",
        "POST",
        "/v1/centers/{missing}/pools",
        pool(),
        status=404,
        says=("center 999999 not found",),
        who="provider",
    ),
    Case("non-numeric lease id", "GET", "/v1/leases/abc", says=("lease_id", NOT_INT)),
    # -- usage and lease states -------------------------------------------------------
    Case(
        "usage beyond cards x period",
        "POST",
        "/v1/leases/{running}/usage",
        usage(61, 0, 60),
        says=("61 card-seconds is more than 1 cards can use in 60 s",),
        who="provider",
    ),
    Case(
        "usage on a placed lease",
        "POST",
        "/v1/leases/{placed}/usage",
        usage(1, 0, 10),
        status=409,
        says=("usage needs a running lease",),
        who="provider",
    ),
    Case(
        "negative usage",
        "POST",
        "/v1/leases/{running}/usage",
        usage(-1, 0, 10),
        says=("card_seconds",),
        who="provider",
    ),
    Case(
        "usage period backwards",
        "POST",
        "/v1/leases/{running}/usage",
        usage(1, 20, 10),
        says=("period_end is before period_start",),
        who="provider",
    ),
    Case(
        "usage in the future",
        "POST",
        "/v1/leases/{running}/usage",
        usage(1, 0, 3600),
        says=("between the lease's start and now",),
        who="provider",
    ),
    Case(
        "usage before the start",
        "POST",
        "/v1/leases/{running}/usage",
        usage(1, -60, 10),
        says=("between the lease's start and now",),
        who="provider",
    ),
    Case(
        "start a lease in the future",
        "POST",
        "/v1/leases/{placed}/start",
        {"at": "2999-01-01T00:00:00Z"},
        says=("must lie between the placement",),
        who="provider",
    ),
    Case(
        "start a lease at a naive time",
        "POST",
        "/v1/leases/{placed}/start",
        {"at": "2026-01-01T00:00:00"},
        says=("at",),
        who="provider",
    ),
    Case(
        "preempt on-demand work",
        "POST",
        "/v1/leases/{running}/preempt",
        status=409,
        says=("not interruptible",),
        who="provider",
    ),
    Case(
        "heartbeat for a pool of another center",
        "POST",
        "/v1/agent/heartbeat",
        {
            "center_id": 1,
            "driver": "slurm",
            "pools": [{"pool_id": 99999, "total_cards": 8, "free_cards": 8}],
        },
        says=("not a pool of center",),
        who="provider",
    ),
    Case(
        "heartbeat with more free than total",
        "POST",
        "/v1/agent/heartbeat",
        {
            "center_id": 1,
            "driver": "slurm",
            "pools": [{"pool_id": 1, "total_cards": 8, "free_cards": 9}],
        },
        says=("more than the 8 in all",),
        who="provider",
    ),
    Case(
        "a workload with neither command nor image",
        "POST",
        "/v1/requests",
        request(workload={"env": {"A": "1"}}),
        says=("a command or an image",),
    ),
    Case(
        "a workload setting SUANLI_ variables",
        "POST",
        "/v1/requests",
        request(workload={"command": "true", "env": {"SUANLI_LEASE_ID": "1"}}),
        says=("set by the exchange",),
    ),
    Case(
        "complete a lease never started",
        "POST",
        "/v1/leases/{placed}/complete",
        status=409,
        says=("cannot become completed",),
        who="provider",
    ),
    # -- pools ------------------------------------------------------------------------
    Case(
        "pool with unknown inter_node",
        "POST",
        "/v1/centers/{center}/pools",
        pool(inter_node="token-ring"),
        says=("unknown inter_node 'token-ring'",),
        who="provider",
    ),
    Case(
        "pool with unknown intra_node",
        "POST",
        "/v1/centers/{center}/pools",
        pool(intra_node="carrier-pigeon"),
        says=("unknown intra_node 'carrier-pigeon'",),
        who="provider",
    ),
    Case(
        "pool of unknown model",
        "POST",
        "/v1/centers/{center}/pools",
        pool(model="Z9000"),
        says=("unknown accelerator model 'Z9000'",),
        who="provider",
    ),
    Case(
        "pool without nodes",
        "POST",
        "/v1/centers/{center}/pools",
        pool(nodes=0),
        says=("nodes", GE1),
        who="provider",
    ),
    Case(
        "free pool",
        "POST",
        "/v1/centers/{center}/pools",
        pool(price_fen=0),
        says=("price_fen", GT0),
        who="provider",
    ),
    Case(
        "pool priced in fractions of a fen",
        "POST",
        "/v1/centers/{center}/pools",
        pool(price_fen=12.5),
        says=("price_fen", NOT_INT),
        who="provider",
    ),
    Case(
        "pool name taken",
        "POST",
        "/v1/centers/{center}/pools",
        pool(name="h800-a"),
        status=409,
        says=("already has a pool named 'h800-a'",),
        who="provider",
    ),
    Case(
        "negative pool price patch",
        "PATCH",
        "/v1/pools/{pool}",
        {"price_fen": -1},
        says=("price_fen", GT0),
        who="provider",
    ),
    # -- centers ----------------------------------------------------------------------
    Case(
        "center with PUE below 1",
        "POST",
        "/v1/centers",
        center(pue="0.9"),
        says=("pue", GE1),
        who="provider",
    ),
    Case(
        "center PUE patch below 1",
        "PATCH",
        "/v1/centers/{center}",
        {"pue": 0.5},
        says=("pue", GE1),
        who="provider",
    ),
    Case(
        "center in unknown province",
        "POST",
        "/v1/centers",
        center(province="Atlantis"),
        says=("unknown province", "Atlantis"),
        who="provider",
    ),
    Case(
        "center without name",
        "POST",
        "/v1/centers",
        center(name=""),
        says=("name", "at least 1 character"),
        who="provider",
    ),
    Case(
        "center without racks",
        "POST",
        "/v1/centers",
        center(rack_kw=0),
        says=("rack_kw", GT0),
        who="provider",
    ),
    Case(
        "center in unknown status",
        "POST",
        "/v1/centers",
        center(status="exploded"),
        says=("status",),
        who="provider",
    ),
    Case(
        "center name taken",
        "POST",
        "/v1/centers",
        center(name="Guiyang-1"),
        status=409,
        says=("already have a center named 'Guiyang-1'",),
        who="provider",
    ),
    # -- queries ----------------------------------------------------------------------
    Case(
        "offers of unknown model",
        "GET",
        "/v1/offers?model=Z9000",
        says=("unknown accelerator model 'Z9000'",),
    ),
    Case("offers with negative min_free", "GET", "/v1/offers?min_free=-1", says=("min_free",)),
    Case(
        "report window backwards",
        "GET",
        "/v1/reports/utilization?start=2030-01-02T00:00:00Z&end=2030-01-01T00:00:00Z",
        says=("must end after it starts",),
        who="provider",
    ),
    Case(
        "report by planet",
        "GET",
        "/v1/reports/utilization?by=planet",
        says=("by",),
        who="provider",
    ),
    Case(
        "lease listing with unknown status",
        "GET",
        "/v1/leases?status=sleeping",
        says=("status",),
    ),
]


def _headers(case: Case, stage: Stage) -> dict[str, str]:
    keys = {
        "buyer": f"Bearer {stage.buyer_key}",
        "provider": f"Bearer {stage.provider_key}",
        "wrong": "Bearer sk_" + "0" * 48,
        "malformed": "Bearer abc",
        "basic": "Basic dXNlcjpwYXNz",
    }
    headers = dict(case.headers)
    if case.who in keys:
        headers["Authorization"] = keys[case.who]
    return headers


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_clearly_and_writes_nothing(stage: Stage, case: Case) -> None:
    market = stage.market
    before = row_counts(market.db)
    body = case.body(stage) if callable(case.body) else case.body
    content = case.raw if case.raw is not None else None if body is None else json.dumps(body)
    headers = _headers(case, stage)
    if content is not None:
        headers["Content-Type"] = "application/json"

    response = market.http().request(
        case.method, case.path.format(**stage.ids()), content=content, headers=headers
    )

    assert response.status_code == case.status, response.text
    error = response.json()["error"]
    assert set(error) == {"code", "message"}
    assert error["code"]
    for fragment in case.says:
        assert fragment in error["message"], error["message"]
    assert row_counts(market.db) == before


def test_refused_calls_left_the_stage_as_it_was(stage: Stage) -> None:
    client = stage.market.client(stage.provider_key)
    assert client.get_lease(stage.placed_lease).status is LeaseStatus.PLACED
    assert client.get_lease(stage.running_lease).status is LeaseStatus.RUNNING
    assert client.get_lease(stage.running_lease).usage_card_seconds == 0
    assert client.get_pool(stage.pool_id).price_fen == 1200
    assert client.get_center(stage.center_id).pue == Decimal("1.25")
    assert [c.name for c in client.list_centers()] == [stage.center_name]
    assert [p.name for p in client.list_pools()] == [stage.pool_name]
