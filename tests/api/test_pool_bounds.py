"""A pool is bounded: at most 4096 nodes of at most 64 cards. Beyond either bound a pool
is a 422 naming the field and the bound, at once and with nothing written (adding a pool
writes a row per node); at the bounds it is listed; the document states both."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from conftest import Market, make_center, pool_fields, row_counts
from suanli.capacity.schemas import MAX_CARDS_PER_NODE, MAX_NODES


def test_the_bounds() -> None:
    assert (MAX_NODES, MAX_CARDS_PER_NODE) == (4096, 64)


def _add(http: httpx.Client, key: str, center_id: int, **fields: Any) -> httpx.Response:
    return http.post(
        f"/v1/centers/{center_id}/pools",
        headers={"Authorization": f"Bearer {key}"},
        json=pool_fields(**fields),
    )


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"nodes": 4097}, "nodes: Input should be less than or equal to 4096"),
        ({"nodes": 100_000, "cards_per_node": 64}, "less than or equal to 4096"),
        ({"cards_per_node": 65}, "cards_per_node: Input should be less than or equal to 64"),
        ({"nodes": 100_000, "cards_per_node": 1000}, "less than or equal to 64"),
    ],
)
def test_a_pool_beyond_the_bounds_is_refused_at_once(
    module_market: Market, fields: dict[str, Any], named: str
) -> None:
    provider = module_market.provider()
    center = make_center(provider.client)
    http = module_market.http()
    before = row_counts(module_market.db)
    started = time.monotonic()
    response = _add(http, provider.key, center.id, **fields)
    took = time.monotonic() - started
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert named in error["message"]
    assert took < 2.0
    assert row_counts(module_market.db) == before


def test_a_pool_at_the_bounds_is_listed(module_market: Market) -> None:
    provider = module_market.provider()
    center = make_center(provider.client)
    response = _add(
        module_market.http(),
        provider.key,
        center.id,
        nodes=MAX_NODES,
        cards_per_node=MAX_CARDS_PER_NODE,
    )
    assert response.status_code == 201, response.text
    pool = response.json()
    assert (pool["nodes"], pool["cards_per_node"]) == (MAX_NODES, MAX_CARDS_PER_NODE)
    assert pool["cards"] == pool["cards_free"] == MAX_NODES * MAX_CARDS_PER_NODE


def test_the_document_states_the_bounds(module_market: Market) -> None:
    document = module_market.http().get("/openapi.json").json()
    fields = document["components"]["schemas"]["PoolIn"]["properties"]
    assert (fields["nodes"]["minimum"], fields["nodes"]["maximum"]) == (1, MAX_NODES)
    assert "4,096" in fields["nodes"]["description"]
    cards = fields["cards_per_node"]
    assert (cards["minimum"], cards["maximum"]) == (1, MAX_CARDS_PER_NODE)
    assert "64" in cards["description"]
    offers = document["paths"]["/v1/offers"]["get"]["parameters"]
    min_free = next(p for p in offers if p["name"] == "min_free")
    assert min_free["schema"]["maximum"] == MAX_NODES * MAX_CARDS_PER_NODE
    assert f"{MAX_NODES * MAX_CARDS_PER_NODE:,}" in min_free["description"]
