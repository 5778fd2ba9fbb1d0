"""The OpenAPI document, fuzzed: Schemathesis generates requests for every operation from
the document the running server publishes, and sends them as each role would (an
operator, a provider, a buyer, a voucher issuer) to a small exchange whose first ids
exist. No answer may be a 5xx, and every answer's status must be one the document lists
for its operation (so the document's 4xx answers stay complete), with a body that fits
the schema it gives for that status.

Bounded and repeatable: a fixed number of examples per operation, derandomized, about a
minute on SQLite or PostgreSQL (whichever ``SUANLI_TEST_DATABASE_URL`` chooses). Valid
requests are generated for every role; invalid ones (``negative``: wrong types, values
out of range, missing fields) for the operator only: validation comes before any role
check, and should an invalid request slip through it, the operator's key takes it on
into the service (another role's would stop at a 403).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.errors import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from conftest import Market, make_center, make_pool, make_request, start_server
from suanli.kit.clock import ManualClock
from suanli.store import Database
from suanli.vocab import OrgRole
from suanli.vouchers.schemas import GrantIn, ProgramIn

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("fuzz")]

EXAMPLES = 10
"""Generated requests per operation, role and mode (valid or invalid)."""

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
]

ROLES = {
    "operator": (GenerationMode.POSITIVE, GenerationMode.NEGATIVE),
    "provider": (GenerationMode.POSITIVE,),
    "buyer": (GenerationMode.POSITIVE,),
    "issuer": (GenerationMode.POSITIVE,),
}


@dataclass
class Exchange:
    url: str
    keys: dict[str, str]
    schema: Any


@pytest.fixture(scope="module")
def exchange(module_db: Database) -> Iterator[Exchange]:
    """The live server over the suite's database, with a center, a pool, a placed request,
    a voucher program and a grant application: ids 1 exist for most kinds."""
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    live = start_server(module_db, clock=clock)
    market = Market(module_db, live.url, clock)
    try:
        provider = market.provider()
        center = make_center(provider.client)
        make_pool(provider.client, center.id)
        buyer = market.buyer(topup_fen=10_000_000)
        make_request(buyer.client)
        issuer = market.party(OrgRole.ISSUER)
        now = clock.now()
        voucher = ProgramIn(
            name=f"fuzz-{uuid.uuid4().hex[:8]}",
            budget_fen=1_000_000,
            rate=Decimal("0.3"),
            valid_from=now - timedelta(days=1),
            valid_until=now + timedelta(days=365),
        )
        program = issuer.client.create_program(voucher)
        buyer.client.apply_grant(GrantIn(program_id=program.id, requested_fen=10_000))
        keys = {
            "operator": market.operator.key,
            "provider": provider.key,
            "buyer": buyer.key,
            "issuer": issuer.key,
        }
        schema = schemathesis.openapi.from_url(f"{live.url}/openapi.json", timeout=60)
        yield Exchange(live.url, keys, schema)
    finally:
        market.close()
        live.stop()


def _fuzz(exchange: Exchange, operation: Any, mode: GenerationMode, key: str) -> list[str]:
    """Send ``EXAMPLES`` generated requests; the failures, one line each and a curl."""
    failures: list[str] = []
    headers = {"Authorization": f"Bearer {key}"}
    session = requests.Session()

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        response = case.call(base_url=exchange.url, session=session, headers=headers, timeout=60)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (AssertionError, FailureGroup) as problem:
            found = problem.exceptions if isinstance(problem, FailureGroup) else [problem]
            titles = "; ".join(getattr(f, "title", str(f)) for f in found)
            curl = case.as_curl_command(headers=headers, base_url=exchange.url)
            failures.append(
                f"{operation.label} [{mode.value}]: {response.status_code}, {titles}\n    {curl}"
            )

    with session, contextlib.suppress(Unsatisfiable):  # nothing to make invalid
        run()
    return failures


@pytest.mark.parametrize("role", list(ROLES))
def test_no_generated_request_gets_a_server_error_or_an_undocumented_answer(
    exchange: Exchange, role: str
) -> None:
    failures: list[str] = []
    operations = [result.ok() for result in exchange.schema.get_all_operations()]
    assert len(operations) > 40
    for operation in operations:
        for mode in ROLES[role]:
            failures += _fuzz(exchange, operation, mode, exchange.keys[role])
    assert not failures, f"{len(failures)} failures as {role}:\n" + "\n".join(failures)
