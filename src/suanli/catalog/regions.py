"""Provinces of mainland China: English names and geographic regions.

The 31 provincial-level divisions of mainland China (22 provinces, 5 autonomous regions,
4 municipalities), keyed by their Chinese short name ("湖北", "内蒙古", "北京"). Lookups also
accept the full official form ("湖北省", "北京市", "内蒙古自治区", "广西壮族自治区", ...).

Regions follow the customary seven geographic divisions (七大地理分区): 华北 North,
华东 East, 华南 South, 华中 Central, 西南 Southwest, 西北 Northwest, 东北 Northeast.
English names are the pinyin names in official use, except 内蒙古 ("Inner Mongolia"), whose
English name is the established one; 西藏 is "Xizang" as in current official usage.
Hong Kong, Macao and Taiwan are not covered.
"""

from __future__ import annotations

__all__ = [
    "PROVINCES",
    "REGIONS",
    "normalize_province",
    "province_en",
    "province_zh",
    "provinces_in",
    "region_of",
]

REGIONS: tuple[str, ...] = (
    "North",
    "East",
    "South",
    "Central",
    "Southwest",
    "Northwest",
    "Northeast",
)

# Chinese short name -> (English name, region)
PROVINCES: dict[str, tuple[str, str]] = {
    "北京": ("Beijing", "North"),
    "天津": ("Tianjin", "North"),
    "河北": ("Hebei", "North"),
    "山西": ("Shanxi", "North"),
    "内蒙古": ("Inner Mongolia", "North"),
    "上海": ("Shanghai", "East"),
    "江苏": ("Jiangsu", "East"),
    "浙江": ("Zhejiang", "East"),
    "安徽": ("Anhui", "East"),
    "福建": ("Fujian", "East"),
    "江西": ("Jiangxi", "East"),
    "山东": ("Shandong", "East"),
    "广东": ("Guangdong", "South"),
    "广西": ("Guangxi", "South"),
    "海南": ("Hainan", "South"),
    "河南": ("Henan", "Central"),
    "湖北": ("Hubei", "Central"),
    "湖南": ("Hunan", "Central"),
    "重庆": ("Chongqing", "Southwest"),
    "四川": ("Sichuan", "Southwest"),
    "贵州": ("Guizhou", "Southwest"),
    "云南": ("Yunnan", "Southwest"),
    "西藏": ("Xizang", "Southwest"),
    "陕西": ("Shaanxi", "Northwest"),
    "甘肃": ("Gansu", "Northwest"),
    "青海": ("Qinghai", "Northwest"),
    "宁夏": ("Ningxia", "Northwest"),
    "新疆": ("Xinjiang", "Northwest"),
    "辽宁": ("Liaoning", "Northeast"),
    "吉林": ("Jilin", "Northeast"),
    "黑龙江": ("Heilongjiang", "Northeast"),
}

# Longest first, so "广西壮族自治区" loses the whole suffix rather than just "自治区".
_SUFFIXES: tuple[str, ...] = (
    "维吾尔自治区",
    "壮族自治区",
    "回族自治区",
    "自治区",
    "省",
    "市",
)


def normalize_province(zh: str) -> str:
    """Return the Chinese short name of a province given in short or full form.

    Raises ValueError naming the input if it is not a province of mainland China.
    """
    key = zh.strip()
    if key not in PROVINCES:
        for suffix in _SUFFIXES:
            if key.endswith(suffix) and key[: -len(suffix)] in PROVINCES:
                key = key[: -len(suffix)]
                break
    if key not in PROVINCES:
        raise ValueError(f"unknown province of mainland China: {zh!r}")
    return key


def province_en(zh: str) -> str:
    """English name of a province: ``province_en("湖北省") == "Hubei"``."""
    return PROVINCES[normalize_province(zh)][0]


def region_of(zh: str) -> str:
    """Geographic region of a province: ``region_of("四川") == "Southwest"``."""
    return PROVINCES[normalize_province(zh)][1]


_BY_ENGLISH: dict[str, str] = {en.lower(): zh for zh, (en, _) in PROVINCES.items()}
_BY_ENGLISH.update({"tibet": "西藏", "inner mongolia": "内蒙古", "innermongolia": "内蒙古"})


def province_zh(name: str) -> str:
    """The Chinese short name of a province given in Chinese or English, any case.

    ``province_zh("Guizhou") == province_zh("贵州省") == "贵州"``. Raises ValueError naming
    the input if it is neither.
    """
    english = _BY_ENGLISH.get(name.strip().lower())
    return english if english is not None else normalize_province(name)


def provinces_in(region: str) -> tuple[str, ...]:
    """Chinese short names of the provinces in a region (any case), in table order."""
    region = next((r for r in REGIONS if r.lower() == region.strip().lower()), region)
    if region not in REGIONS:
        raise ValueError(f"unknown region: {region!r} (expected one of {', '.join(REGIONS)})")
    return tuple(zh for zh, (_, r) in PROVINCES.items() if r == region)
