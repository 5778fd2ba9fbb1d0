"""Tenant isolation: other tenants' objects are 404 (never 403: no leaks), roles are
403 on endpoints they may not use, and the operator sees everything."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from conftest import (
    Market,
    Party,
    center_fields,
    make_center,
    make_pool,
    make_request,
    pool_fields,
    row_counts,
)
from suanli.capacity.schemas import CenterOut, PoolOut
from suanli.exchange.schemas import RequestOut
from suanli.vocab import LeaseStatus, RequestStatus


@dataclass
class Tenants:
    market: Market
    p1: Party
    p2: Party
    a: Party
    b: Party
    p1_center: CenterOut
    p1_pool: PoolOut
    p2_center: CenterOut
    p2_pool: PoolOut
    a_request: RequestOut
    a_lease: int

    def party(self, who: str) -> Party:
        parties = {"P1": self.p1, "P2": self.p2, "A": self.a, "B": self.b}
        return parties.get(who) or self.market.operator

    def ids(self) -> dict[str, int]:
        return {
            "a_request": self.a_request.id,
            "a_lease": self.a_lease,
            "a_org": self.a.org_id,
            "p1_center": self.p1_center.id,
            "p1_pool": self.p1_pool.id,
            "p1_org": self.p1.org_id,
        }


def build_tenants(market: Market) -> Tenants:
    p1, p2 = market.provider(name="provider-one"), market.provider(name="provider-two")
    p1_center = make_center(p1.client, name="Guiyang-1")
    p1_pool = make_pool(p1.client, p1_center.id, price_fen=1000)
    p2_center = make_center(p2.client, name="Wuhan-1", province="湖北", city="武汉")
    p2_pool = make_pool(p2.client, p2_center.id, price_fen=1100)
    a = market.buyer(name="buyer-a", topup_fen=100_000)
    b = market.buyer(name="buyer-b", topup_fen=100_000)
    a_request = make_request(a.client, cards=2, provinces=["贵州"])
    assert a_request.lease_id is not None
    return Tenants(
        market, p1, p2, a, b, p1_center, p1_pool, p2_center, p2_pool, a_request, a_request.lease_id
    )


@pytest.fixture
def tenants(market: Market) -> Tenants:
    """Two providers and two buyers on a fresh exchange; A's lease is placed at P1."""
    return build_tenants(market)


@pytest.fixture(scope="module")
def shared_tenants(module_market: Market) -> Tenants:
    """The same cast, shared by the table of refused calls (which change nothing);
    A's lease is running and the clock has moved on, so every lease verb applies."""
    t = build_tenants(module_market)
    t.p1.client.start_lease(t.a_lease)
    module_market.clock.advance(60)
    return t


def _usage_body(market: Market) -> dict[str, Any]:
    now = market.clock.now()
    return {
        "card_seconds": 1,
        "period_start": (now - timedelta(seconds=10)).isoformat(),
        "period_end": now.isoformat(),
    }


# who, method, path, body ("usage" = a valid usage report), expected status
CASES: list[tuple[str, str, str, Any, int]] = [
    # buyer B and buyer A's things
    ("B", "GET", "/v1/requests/{a_request}", None, 404),
    ("B", "POST", "/v1/requests/{a_request}/cancel", None, 404),
    ("B", "POST", "/v1/requests/{a_request}/cancel", {"reason": "mine now"}, 404),
    ("B", "GET", "/v1/leases/{a_lease}", None, 404),
    ("B", "GET", "/v1/leases/{a_lease}/usage", None, 404),
    ("B", "GET", "/v1/wallet?org_id={a_org}", None, 404),
    ("B", "POST", "/v1/wallet/topup", {"amount_fen": 100, "org_id": "{a_org}"}, 404),
    # provider P2 and provider P1's things
    ("P2", "GET", "/v1/centers/{p1_center}", None, 404),
    ("P2", "PATCH", "/v1/centers/{p1_center}", {"status": "offline"}, 404),
    ("P2", "GET", "/v1/pools/{p1_pool}", None, 404),
    ("P2", "PATCH", "/v1/pools/{p1_pool}", {"price_fen": 1}, 404),
    ("P2", "PATCH", "/v1/pools/{p1_pool}", {"active": False}, 404),
    ("P2", "GET", "/v1/pools?center_id={p1_center}", None, 404),
    ("P2", "POST", "/v1/centers/{p1_center}/pools", "pool", 404),
    ("P2", "GET", "/v1/leases/{a_lease}", None, 404),
    ("P2", "GET", "/v1/leases/{a_lease}/usage", None, 404),
    ("P2", "POST", "/v1/leases/{a_lease}/start", None, 404),
    ("P2", "POST", "/v1/leases/{a_lease}/usage", "usage", 404),
    ("P2", "POST", "/v1/leases/{a_lease}/complete", None, 404),
    ("P2", "POST", "/v1/leases/{a_lease}/fail", {"reason": "sabotage"}, 404),
    ("P2", "GET", "/v1/wallet?org_id={p1_org}", None, 404),
    # buyer keys on provider-only and operator-only endpoints
    ("A", "POST", "/v1/centers", "center", 403),
    ("A", "GET", "/v1/centers", None, 403),
    ("A", "GET", "/v1/centers/{p1_center}", None, 403),
    ("A", "PATCH", "/v1/centers/{p1_center}", {"status": "offline"}, 403),
    ("A", "GET", "/v1/pools", None, 403),
    ("A", "GET", "/v1/pools/{p1_pool}", None, 403),
    ("A", "POST", "/v1/centers/{p1_center}/pools", "pool", 403),
    ("A", "PATCH", "/v1/pools/{p1_pool}", {"price_fen": 1}, 403),
    ("A", "POST", "/v1/leases/{a_lease}/start", None, 403),
    ("A", "POST", "/v1/leases/{a_lease}/usage", "usage", 403),
    ("A", "POST", "/v1/leases/{a_lease}/complete", None, 403),
    ("A", "POST", "/v1/leases/{a_lease}/fail", {"reason": "no"}, 403),
    ("A", "GET", "/v1/reports/utilization", None, 403),
    ("A", "GET", "/v1/orgs", None, 403),
    ("A", "POST", "/v1/orgs", {"name": "evil", "role": "operator"}, 403),
    ("A", "POST", "/v1/orgs/{a_org}/keys", {"label": "x"}, 403),
    # provider keys on buyer-only endpoints
    ("P1", "POST", "/v1/requests", {"cards": 1, "duration_s": 60}, 403),
    ("P1", "GET", "/v1/requests", None, 403),
    ("P1", "GET", "/v1/requests/{a_request}", None, 403),
    ("P1", "POST", "/v1/requests/{a_request}/cancel", None, 403),
    ("P1", "POST", "/v1/wallet/topup", {"amount_fen": 100}, 403),
    ("P1", "POST", "/v1/orgs", {"name": "evil", "role": "operator"}, 403),
]


def _fill(value: Any, ids: dict[str, int]) -> Any:
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


def _body(spec: Any, market: Market, ids: dict[str, int]) -> Any:
    if spec == "usage":
        return _usage_body(market)
    if spec == "center":
        return {k: str(v) for k, v in center_fields().items()}
    if spec == "pool":
        return pool_fields()
    return _fill(spec, ids)


@pytest.mark.parametrize(
    ("who", "method", "path", "body", "status"),
    CASES,
    ids=[f"{c[0]}-{c[1]}-{c[2]}-{c[4]}" for c in CASES],
)
def test_other_tenants_and_other_roles_are_refused(
    shared_tenants: Tenants, who: str, method: str, path: str, body: Any, status: int
) -> None:
    tenants = shared_tenants
    market = tenants.market
    db = market.db
    ids = tenants.ids()
    provider_client = tenants.p1.client
    before = row_counts(db)
    party = tenants.party(who)

    http = market.http()
    response = http.request(
        method,
        _fill(path, ids),
        json=_body(body, market, ids),
        headers={"Authorization": f"Bearer {party.key}"},
    )

    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == {403: "forbidden", 404: "not_found"}[status]
    if status == 404:
        assert "not found" in error["message"]
    else:
        assert str(party.client.me().role) in error["message"]
    assert row_counts(db) == before
    # nothing changed either
    assert tenants.a.client.get_request(tenants.a_request.id).status is RequestStatus.PLACED
    assert tenants.a.client.get_lease(tenants.a_lease).status is LeaseStatus.RUNNING
    pool = provider_client.get_pool(tenants.p1_pool.id)
    assert (pool.price_fen, pool.active) == (1000, True)
    assert provider_client.get_center(tenants.p1_center.id).status == "active"


def test_not_found_does_not_reveal_existence(shared_tenants: Tenants) -> None:
    """Another tenant's id and an id that never existed answer the same way."""
    tenants = shared_tenants
    http = tenants.market.http()
    headers = {"Authorization": f"Bearer {tenants.b.key}"}
    theirs = http.get(f"/v1/requests/{tenants.a_request.id}", headers=headers)
    missing = http.get("/v1/requests/987654", headers=headers)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["error"]["message"] == f"request {tenants.a_request.id} not found"
    assert missing.json()["error"]["message"] == "request 987654 not found"


def test_listings_show_only_own_objects(shared_tenants: Tenants) -> None:
    t = shared_tenants
    assert [r.id for r in t.a.client.list_requests()] == [t.a_request.id]
    assert t.b.client.list_requests() == []
    assert [x.id for x in t.a.client.list_leases()] == [t.a_lease]
    assert t.b.client.list_leases() == []

    assert [c.id for c in t.p1.client.list_centers()] == [t.p1_center.id]
    assert [c.id for c in t.p2.client.list_centers()] == [t.p2_center.id]
    assert [p.id for p in t.p1.client.list_pools()] == [t.p1_pool.id]
    assert [p.id for p in t.p2.client.list_pools()] == [t.p2_pool.id]
    assert [x.id for x in t.p1.client.list_leases()] == [t.a_lease]
    assert t.p2.client.list_leases() == []
    assert t.p2.client.list_leases(center_id=t.p1_center.id) == []

    # The market listing is public: everyone sees both pools, but no owner's secrets.
    for party in (t.a, t.b, t.p1, t.p2):
        assert {o.pool_id for o in party.client.offers()} == {t.p1_pool.id, t.p2_pool.id}


def test_the_lease_parties_see_it(tenants: Tenants) -> None:
    t = tenants
    assert t.a.client.get_lease(t.a_lease).buyer_id == t.a.org_id
    assert t.p1.client.get_lease(t.a_lease).provider_id == t.p1.org_id
    assert t.p1.client.start_lease(t.a_lease).status is LeaseStatus.RUNNING


def test_operator_sees_and_operates_everything(tenants: Tenants) -> None:
    t = tenants
    op = t.market.operator.client
    assert t.a_request.id in {r.id for r in op.list_requests()}
    assert op.get_request(t.a_request.id).buyer_id == t.a.org_id
    assert op.get_lease(t.a_lease).id == t.a_lease
    assert t.a_lease in {x.id for x in op.list_leases()}
    assert {c.id for c in op.list_centers()} == {t.p1_center.id, t.p2_center.id}
    assert {p.id for p in op.list_pools()} == {t.p1_pool.id, t.p2_pool.id}
    assert op.get_center(t.p2_center.id).provider_id == t.p2.org_id
    assert op.get_pool(t.p1_pool.id).center_id == t.p1_center.id
    assert op.wallet(t.a.org_id).escrow_fen == t.a.client.wallet().escrow_fen > 0
    assert {o.name for o in op.list_orgs()} >= {"provider-one", "buyer-a", "buyer-b"}
    op.topup(500, org_id=t.b.org_id)
    assert t.b.client.wallet().available_fen == 100_500
    assert op.start_lease(t.a_lease).status is LeaseStatus.RUNNING
    assert op.complete_lease(t.a_lease).status is LeaseStatus.COMPLETED
    assert t.a.client.get_request(t.a_request.id).status is RequestStatus.FINISHED
