"""Every input is bounded at the edge, on SQLite and PostgreSQL alike: ids above what an
``INTEGER`` holds, absurd amounts of money and text with control characters are a 4xx
naming the field, never a 500 and never a row written; a request's body is not read
before its key is known, nor beyond 1 MiB; a body with a thousand problems gets a short
answer; and the OpenAPI document states the bounds and each route's error answers."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from conftest import Market, make_center, make_pool, make_request, row_counts
from suanli.api.errors import MAX_PROBLEMS
from suanli.api.gate import MAX_BODY_BYTES
from suanli.kit.bounds import MAX_FEN, MAX_ID
from suanli.vocab import OrgRole

BIG = 2**31  # one more than an INTEGER column holds
HUGE = 2**63  # one more than a BIGINT column holds
ALL_THE_MONEY = 2**63 - 1  # ¥92,233,720,368,547,758.07
TEN_MB = 10 * 1024 * 1024


@dataclass
class Stage:
    """A small exchange, shared by the module: every call below is refused."""

    market: Market
    keys: dict[str, str]
    center_id: int
    lease_id: int
    now: str
    later: str


@pytest.fixture(scope="module")
def stage(module_market: Market) -> Stage:
    market = module_market
    provider = market.provider()
    center = make_center(provider.client)
    make_pool(provider.client, center.id)
    buyer = market.buyer(topup_fen=1_000_000)
    lease_id = make_request(buyer.client).lease_id
    assert lease_id is not None
    issuer = market.party(OrgRole.ISSUER)
    now = market.clock.now()
    keys = {
        "operator": market.operator.key,
        "provider": provider.key,
        "buyer": buyer.key,
        "issuer": issuer.key,
    }
    later = now + timedelta(days=30)
    return Stage(market, keys, center.id, lease_id, now.isoformat(), later.isoformat())


def program(s: Stage, **fields: Any) -> dict[str, Any]:
    base = {"name": "bounded", "budget_fen": 1_000_000, "rate": "0.3"}
    return base | {"valid_from": s.now, "valid_until": s.later} | fields


def heartbeat(s: Stage, **fields: Any) -> dict[str, Any]:
    return {"center_id": s.center_id, "driver": "slurm"} | fields


@dataclass(frozen=True)
class Case:
    id: str
    method: str
    path: str
    body: Callable[[Stage], Any] | None = None
    who: str = "operator"
    status: int = 422
    says: tuple[str, ...] = ()


LE_ID = f"less than or equal to {MAX_ID}"
LE_FEN = f"less than or equal to {MAX_FEN}"
NUL = "control character U+0000"

CASES = [
    # -- ids in paths: no object has them ---------------------------------------------
    Case("2^31 lease", "GET", f"/v1/leases/{BIG}", status=404, says=(f"lease {BIG} not found",)),
    Case("2^63 lease", "GET", f"/v1/leases/{HUGE}", status=404, says=(f"lease {HUGE} not found",)),
    Case("0 lease", "GET", "/v1/leases/0", status=404, says=("lease 0 not found",)),
    Case("-1 lease", "GET", "/v1/leases/-1", status=404, says=("lease -1 not found",)),
    Case(
        "2^31 program closed",
        "POST",
        f"/v1/vouchers/programs/{BIG}/close",
        status=404,
        says=(f"program {BIG} not found",),
    ),
    Case(
        "2^63 invoice as CSV",
        "GET",
        f"/v1/invoices/{HUGE}.csv",
        status=404,
        says=(f"invoice {HUGE} not found",),
    ),
    Case(
        "2^63 grant revoked, with a body",
        "POST",
        f"/v1/vouchers/grants/{HUGE}/revoke",
        lambda s: {"reason": "why"},
        status=404,
        says=(f"grant {HUGE} not found",),
    ),
    Case(
        "2^31 org's new key",
        "POST",
        f"/v1/orgs/{BIG}/keys",
        lambda s: {"label": "k"},
        status=404,
        says=(f"organization {BIG} not found",),
    ),
    # -- ids in queries ---------------------------------------------------------------
    Case("2^31 center in a query", "GET", f"/v1/leases?center_id={BIG}", says=("center_id", LE_ID)),
    Case(
        "2^63 center of an agent",
        "GET",
        f"/v1/agent/leases?center_id={HUGE}",
        who="provider",
        says=("center_id", LE_ID),
    ),
    Case("2^63 wallet", "GET", f"/v1/wallet?org_id={HUGE}", says=("org_id", LE_ID)),
    Case(
        "2^31 issuer of a program",
        "POST",
        f"/v1/vouchers/programs?issuer_id={BIG}",
        program,
        says=("issuer_id", LE_ID),
    ),
    # -- ids in bodies ----------------------------------------------------------------
    Case(
        "2^31 program of a grant",
        "POST",
        "/v1/vouchers/grants",
        lambda s: {"program_id": BIG, "requested_fen": 100},
        who="buyer",
        says=("program_id", LE_ID),
    ),
    Case(
        "2^63 center of a heartbeat",
        "POST",
        "/v1/agent/heartbeat",
        lambda s: heartbeat(s, center_id=HUGE),
        who="provider",
        says=("center_id", LE_ID),
    ),
    Case(
        "2^31 pool of a heartbeat",
        "POST",
        "/v1/agent/heartbeat",
        lambda s: heartbeat(s, pools=[{"pool_id": BIG, "total_cards": 8, "free_cards": 8}]),
        who="provider",
        says=("pools.0.pool_id", LE_ID),
    ),
    Case(
        "2^63 wallet topped up",
        "POST",
        "/v1/wallet/topup",
        lambda s: {"amount_fen": 100, "org_id": HUGE},
        says=("org_id", LE_ID),
    ),
    Case(
        "2^31 provider approved by a program",
        "POST",
        "/v1/vouchers/programs",
        lambda s: program(s, provider_ids=[1, BIG]),
        who="issuer",
        says=("provider_ids.1", LE_ID),
    ),
    Case(
        "2^63 buyer invoiced",
        "POST",
        "/v1/invoices",
        lambda s: {"buyer_id": HUGE, "period": "2026-01"},
        says=("buyer_id", LE_ID),
    ),
    # -- money and counts -------------------------------------------------------------
    Case(
        "budget of 2^63-1 fen",
        "POST",
        "/v1/vouchers/programs",
        lambda s: program(s, budget_fen=ALL_THE_MONEY),
        who="issuer",
        says=("budget_fen", LE_FEN),
    ),
    Case(
        "cap of 2^63 fen",
        "POST",
        "/v1/vouchers/programs",
        lambda s: program(s, cap_lifetime_fen=HUGE),
        who="issuer",
        says=("cap_lifetime_fen", LE_FEN),
    ),
    Case(
        "grant of 2^63-1 fen",
        "POST",
        "/v1/vouchers/grants",
        lambda s: {"program_id": 1, "requested_fen": ALL_THE_MONEY},
        who="buyer",
        says=("requested_fen", LE_FEN),
    ),
    Case(
        "top-up of 2^63-1 fen",
        "POST",
        "/v1/wallet/topup",
        lambda s: {"amount_fen": ALL_THE_MONEY},
        who="buyer",
        says=("amount_fen", LE_FEN),
    ),
    Case(
        "payout of 2^63-1 fen",
        "POST",
        "/v1/payouts",
        lambda s: {"amount_fen": ALL_THE_MONEY, "counterparty": "bank"},
        who="provider",
        says=("amount_fen", LE_FEN),
    ),
    Case(
        "price cap of 2^63-1 fen",
        "POST",
        "/v1/requests",
        lambda s: {"cards": 1, "duration_s": 3600, "max_price_fen": ALL_THE_MONEY},
        who="buyer",
        says=("max_price_fen", "less than or equal to 10000000"),
    ),
    Case(
        "2^63 card-seconds",
        "POST",
        "/v1/leases/{lease}/usage",
        lambda s: {"card_seconds": HUGE, "period_start": s.now, "period_end": s.now},
        who="provider",
        says=("card_seconds", "less than or equal to"),
    ),
    Case(
        "a program for centers of 2^31 cards",
        "POST",
        "/v1/vouchers/programs",
        lambda s: program(s, min_center_cards=BIG),
        who="issuer",
        says=("min_center_cards", "less than or equal to 10000000"),
    ),
    Case(
        "offers with 2^63 free cards",
        "GET",
        f"/v1/offers?min_free={HUGE}",
        who="buyer",
        says=("min_free",),
    ),
    Case(
        "buckets of 2^63 seconds",
        "GET",
        f"/v1/reports/utilization/series?step_s={HUGE}",
        says=("step_s",),
    ),
    Case(
        "a rack of 1E-100000 kW",
        "POST",
        "/v1/centers",
        lambda s: {"name": "c", "province": "贵州", "city": "贵阳", "rack_kw": "1E-100000"},
        who="provider",
        says=("rack_kw", "no more than 1 decimal place"),
    ),
    Case(
        "a start in the year 1",
        "POST",
        "/v1/requests",
        lambda s: {"cards": 1, "duration_s": 3600, "earliest_start": "0001-01-01T00:00:00+08:00"},
        who="buyer",
        says=("earliest_start", "years 1900 to 2999"),
    ),
    # -- control characters -----------------------------------------------------------
    Case(
        "NUL in an organization's name",
        "POST",
        "/v1/orgs",
        lambda s: {"name": "evil\x00corp", "role": "buyer"},
        says=("name", NUL, "position 4"),
    ),
    Case(
        "NUL in a center's name",
        "POST",
        "/v1/centers",
        lambda s: {"name": "\x00", "province": "贵州", "city": "贵阳"},
        who="provider",
        says=("name", NUL),
    ),
    Case(
        "escape in a city",
        "POST",
        "/v1/centers",
        lambda s: {"name": "c", "province": "贵州", "city": "贵\x1b[31m阳"},
        who="provider",
        says=("city", "control character U+001B"),
    ),
    Case(
        "line break in a program's name",
        "POST",
        "/v1/vouchers/programs",
        lambda s: program(s, name="two\nlines"),
        who="issuer",
        says=("name", "one line", "U+000A"),
    ),
    Case(
        "NUL in free text",
        "POST",
        "/v1/vouchers/grants",
        lambda s: {"program_id": 1, "requested_fen": 100, "purpose": "a\tb\nc\x00"},
        who="buyer",
        says=("purpose", NUL),
    ),
    Case(
        "NUL in an env name",
        "POST",
        "/v1/requests",
        lambda s: {
            "cards": 1,
            "duration_s": 3600,
            "workload": {"command": "x", "env": {"A\x00": "1"}},
        },
        who="buyer",
        says=("workload.env.A\\x00", NUL),
    ),
    Case("NUL in a query", "GET", "/v1/offers?province=%00", who="buyer", says=("province", NUL)),
    Case(
        "NUL in an owner",
        "POST",
        "/v1/orgs",
        lambda s: {"name": "fine", "role": "buyer", "owners": ["ok", "n\x00"]},
        says=("owners.1", NUL),
    ),
    Case(
        "DEL in a key's label",
        "POST",
        "/v1/orgs/1/keys",
        lambda s: {"label": "a\x7f"},
        says=("label", "U+007F"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_out_of_bounds_input_is_refused_clearly_and_writes_nothing(
    stage: Stage, case: Case
) -> None:
    market = stage.market
    before = row_counts(market.db)
    path = case.path.replace("{lease}", str(stage.lease_id))
    body = None if case.body is None else case.body(stage)
    headers = {"Authorization": f"Bearer {stage.keys[case.who]}"}

    response = market.http().request(case.method, path, json=body, headers=headers)

    assert response.status_code == case.status, response.text
    error = response.json()["error"]
    assert error["code"] == {404: "not_found", 422: "validation_error"}[case.status]
    for fragment in case.says:
        assert fragment in error["message"], error["message"]
    assert row_counts(market.db) == before


# -- bodies: the key first, then at most 1 MiB -----------------------------------------
def _raw(url: str, head: str, body: bytes = b"", timeout: float = 10) -> tuple[int, bytes]:
    """Send a raw HTTP/1.1 request (``head`` without the blank line); return the status
    and the response's body, read while the server may still expect more of ours."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as conn:
        conn.sendall(head.encode("latin-1") + b"\r\n\r\n" + body)
        received = b""
        while b"\r\n\r\n" not in received:
            received += conn.recv(65536)
        headers, _, rest = received.partition(b"\r\n\r\n")
        length = int(
            next(
                line.split(b":", 1)[1]
                for line in headers.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
        )
        while len(rest) < length:
            rest += conn.recv(65536)
        return int(headers.split(b" ", 2)[1]), rest


def _head(path: str, length: int, key: str | None = None) -> str:
    lines = [f"POST {path} HTTP/1.1", "Host: test", "Content-Type: application/json"]
    lines.append(f"Content-Length: {length}")
    if key:
        lines.append(f"Authorization: Bearer {key}")
    return "\r\n".join(lines)


def test_an_anonymous_body_is_refused_before_it_is_read(stage: Stage) -> None:
    """The server answers 401 on the head alone: it never waits for the 10 MB."""
    before = row_counts(stage.market.db)
    status, body = _raw(stage.market.url, _head("/v1/vouchers/programs", TEN_MB))
    assert status == 401
    assert json.loads(body)["error"]["message"].startswith("missing API key")
    assert row_counts(stage.market.db) == before


def test_a_body_under_a_wrong_key_is_refused_before_it_is_read(stage: Stage) -> None:
    key = "sk_" + "0" * 48
    status, body = _raw(stage.market.url, _head("/v1/requests", TEN_MB, key))
    assert status == 401
    assert json.loads(body)["error"] == {"code": "unauthenticated", "message": "invalid API key"}


def test_a_declared_body_over_the_limit_is_refused_unread(stage: Stage) -> None:
    head = _head("/v1/requests", MAX_BODY_BYTES + 1, stage.keys["buyer"])
    status, body = _raw(stage.market.url, head)
    assert status == 413
    error = json.loads(body)["error"]
    assert error["code"] == "payload_too_large"
    assert f"the limit is {MAX_BODY_BYTES} bytes" in error["message"]


def test_ten_megabytes_sent_anonymously_are_answered_at_once_and_in_brief(stage: Stage) -> None:
    before = row_counts(stage.market.db)
    flood = json.dumps({"name": "x" * TEN_MB, "budget_fen": 1})
    with httpx.Client(base_url=stage.market.url, timeout=30) as http:
        response = http.post("/v1/vouchers/programs", content=flood)
        assert response.status_code == 401
        assert len(response.content) < 200
        with_key = http.post(
            "/v1/vouchers/programs",
            content=flood,
            headers={"Authorization": f"Bearer {stage.keys['issuer']}"},
        )
        assert with_key.status_code == 413
        assert with_key.json()["error"]["code"] == "payload_too_large"
        assert http.get("/healthz").status_code == 200  # the connection is still good
    assert row_counts(stage.market.db) == before


def test_a_chunked_body_is_cut_off_at_the_limit(stage: Stage) -> None:
    chunk = b" " * 65536

    def chunks() -> Any:
        yield b'{"name": "'
        for _ in range(MAX_BODY_BYTES // len(chunk) + 2):
            yield chunk
        yield b'"}'

    with httpx.Client(base_url=stage.market.url, timeout=30) as http:
        response = http.post(
            "/v1/orgs",
            content=chunks(),
            headers={"Authorization": f"Bearer {stage.keys['operator']}"},
        )
    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "payload_too_large"


def test_a_body_nested_too_deep_is_a_400(stage: Stage) -> None:
    response = stage.market.http().post(
        "/v1/requests",
        content="[" * 200_000,
        headers={
            "Authorization": f"Bearer {stage.keys['buyer']}",
            "Content-Type": "application/json",
        },
    )
    assert response.status_code == 400, response.text
    assert set(response.json()["error"]) == {"code", "message"}


def test_a_thousand_problems_get_a_short_answer(stage: Stage) -> None:
    before = row_counts(stage.market.db)
    body = {"cards": 0, "duration_s": -1} | {f"field_{i}": i for i in range(1000)}
    response = stage.market.http().post(
        "/v1/requests", json=body, headers={"Authorization": f"Bearer {stage.keys['buyer']}"}
    )
    assert response.status_code == 422
    message = response.json()["error"]["message"]
    assert message.count(";") == MAX_PROBLEMS
    assert message.endswith(f"and {1002 - MAX_PROBLEMS} more")
    assert message.startswith("cards: Input should be greater than or equal to 1")
    assert len(response.content) < 1000
    assert row_counts(stage.market.db) == before


# -- the OpenAPI document ---------------------------------------------------------------
@pytest.fixture(scope="module")
def document(stage: Stage) -> dict[str, Any]:
    response = stage.market.http().get("/openapi.json")
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, operations in document["paths"].items()
        if path.startswith("/v1/")
        for method, operation in operations.items()
    ]


def test_every_operation_lists_its_error_answers_in_the_error_shape(
    document: dict[str, Any],
) -> None:
    error_ref = {"$ref": "#/components/schemas/ErrorOut"}
    assert set(document["components"]["schemas"]["ErrorOut"]["properties"]) == {"error"}
    assert "HTTPValidationError" not in document["components"]["schemas"]
    operations = _operations(document)
    assert len(operations) > 40
    for method, path, operation in operations:
        answers = operation["responses"]
        expected = {"401", "422"}
        if "requestBody" in operation:
            expected |= {"400", "413"}
        if "{" in path:
            expected.add("404")
        if method == "POST" and "201" in answers:
            expected.add("409")
        assert expected <= set(answers), (method, path, sorted(answers))
        for code, answer in answers.items():
            if code.startswith("4"):
                schema = answer["content"]["application/json"]["schema"]
                assert schema == error_ref, (method, path, code)
                assert answer["description"]


def test_ids_money_and_text_carry_their_bounds_into_the_document(
    document: dict[str, Any],
) -> None:
    for method, path, operation in _operations(document):
        for parameter in operation.get("parameters", []):
            name, where = parameter["name"], (method, path, parameter["name"])
            schema = parameter["schema"]
            schema = next((s for s in schema.get("anyOf", [schema]) if "type" in s), schema)
            if name.endswith("_id"):
                assert (schema["minimum"], schema["maximum"]) == (1, MAX_ID), where
            if schema.get("type") == "integer":
                assert "maximum" in schema, where
            if schema.get("type") == "string" and "format" not in schema:
                assert "maxLength" in schema or "enum" in schema, where
                if parameter["in"] == "query" and "enum" not in schema:
                    assert "pattern" in schema, where
    schemas = document["components"]["schemas"]
    budget = schemas["ProgramIn"]["properties"]["budget_fen"]
    assert budget["maximum"] == MAX_FEN and "10^12 fen" in budget["description"]
    for model, fields in schemas.items():
        if not model.endswith("In"):
            continue
        for name, field in fields.get("properties", {}).items():
            options = field.get("anyOf", [field])
            decimal = any(option.get("type") == "number" for option in options)
            for option in options:
                if option.get("type") in ("integer", "number"):
                    assert "maximum" in option, (model, name)
                if option.get("type") == "string" and "format" not in option and not decimal:
                    assert "maxLength" in option or "enum" in option, (model, name)
                    assert "pattern" in option, (model, name)
