"""``GET /v1/offers`` filters: memory per card, the pools' fabric, the region."""

from __future__ import annotations

import pytest

from conftest import Market, make_center, make_pool
from suanli.capacity.schemas import OfferOut
from suanli.sdk import ApiError


@pytest.fixture
def pools(market: Market) -> dict[str, int]:
    provider = market.provider()
    guiyang = make_center(provider.client, province="贵州", city="贵阳")
    hangzhou = make_center(provider.client, province="Zhejiang", city="杭州")
    return {
        "h800-ib": make_pool(provider.client, guiyang.id, model="H800").id,
        "910b-roce": make_pool(
            provider.client, guiyang.id, model="910B", inter_node="roce", intra_node="hccs"
        ).id,
        "a800-eth": make_pool(
            provider.client, hangzhou.id, model="A800", inter_node="ethernet", intra_node="pcie"
        ).id,
    }


def ids(found: list[OfferOut]) -> set[int]:
    return {o.pool_id for o in found}


def test_filters_narrow_the_listing(market: Market, pools: dict[str, int]) -> None:
    client = market.buyer().client
    assert ids(client.offers()) == set(pools.values())
    # H800 and A800 have 80 GB per card, the 910B 64 GB
    assert ids(client.offers(min_memory_gb=80)) == {pools["h800-ib"], pools["a800-eth"]}
    assert ids(client.offers(min_memory_gb=65)) == {pools["h800-ib"], pools["a800-eth"]}
    assert ids(client.offers(min_memory_gb=64)) == set(pools.values())
    assert ids(client.offers(inter_node="roce")) == {pools["910b-roce"]}
    assert ids(client.offers(inter_node="infiniband")) == {pools["h800-ib"]}
    assert ids(client.offers(region="Southwest")) == {pools["h800-ib"], pools["910b-roce"]}
    assert ids(client.offers(region="east")) == {pools["a800-eth"]}
    assert ids(client.offers(region="Northeast")) == set()
    assert ids(client.offers(region="Southwest", min_memory_gb=80, inter_node="infiniband")) == {
        pools["h800-ib"]
    }
    assert ids(client.offers(region="Southwest", province="浙江")) == set()


@pytest.mark.parametrize(
    ("params", "words"),
    [
        pytest.param({"region": "Atlantis"}, ["Atlantis", "Southwest", "Northeast"], id="region"),
        pytest.param({"inter_node": "carrier-pigeon"}, ["carrier-pigeon", "roce"], id="fabric"),
        pytest.param({"min_memory_gb": 0}, ["min_memory_gb"], id="memory"),
    ],
)
def test_bad_filters_say_what_is_valid(
    market: Market, params: dict[str, object], words: list[str]
) -> None:
    client = market.buyer().client
    with pytest.raises(ApiError) as refused:
        client.offers(**params)  # type: ignore[arg-type]
    assert refused.value.status == 422
    for word in words:
        assert word in refused.value.message
