"""Provinces of mainland China: names, normalization and regions."""

from __future__ import annotations

import pytest

from suanli.catalog.regions import (
    PROVINCES,
    REGIONS,
    normalize_province,
    province_en,
    provinces_in,
    region_of,
)


@pytest.mark.parametrize(
    ("zh", "en", "region"),
    [
        ("湖北", "Hubei", "Central"),
        ("湖北省", "Hubei", "Central"),
        ("北京市", "Beijing", "North"),
        ("上海", "Shanghai", "East"),
        ("内蒙古自治区", "Inner Mongolia", "North"),
        ("广西壮族自治区", "Guangxi", "South"),
        ("宁夏回族自治区", "Ningxia", "Northwest"),
        ("新疆维吾尔自治区", "Xinjiang", "Northwest"),
        ("西藏自治区", "Xizang", "Southwest"),
        ("山西", "Shanxi", "North"),
        ("陕西省", "Shaanxi", "Northwest"),
        ("重庆市", "Chongqing", "Southwest"),
        ("黑龙江省", "Heilongjiang", "Northeast"),
        ("广东", "Guangdong", "South"),
        (" 四川 ", "Sichuan", "Southwest"),
    ],
)
def test_lookup(zh: str, en: str, region: str) -> None:
    assert province_en(zh) == en
    assert region_of(zh) == region


@pytest.mark.parametrize("bad", ["", "湖", "香港", "台湾省", "Hubei", "北京省份", "省"])
def test_unknown_province_raises_naming_it(bad: str) -> None:
    with pytest.raises(ValueError, match="unknown province") as info:
        region_of(bad)
    assert repr(bad) in str(info.value)
    with pytest.raises(ValueError, match="unknown province"):
        province_en(bad)


def test_table_covers_mainland() -> None:
    assert len(PROVINCES) == 31
    assert {region for _, region in PROVINCES.values()} == set(REGIONS)
    assert len({en for en, _ in PROVINCES.values()}) == 31
    assert sum(len(provinces_in(r)) for r in REGIONS) == 31
    assert all(normalize_province(zh) == zh for zh in PROVINCES)


@pytest.mark.parametrize(
    ("region", "members"),
    [
        ("Northeast", ("辽宁", "吉林", "黑龙江")),
        ("South", ("广东", "广西", "海南")),
        ("Central", ("河南", "湖北", "湖南")),
    ],
)
def test_provinces_in(region: str, members: tuple[str, ...]) -> None:
    assert provinces_in(region) == members


def test_provinces_in_unknown_region() -> None:
    with pytest.raises(ValueError, match="unknown region"):
        provinces_in("Midwest")
