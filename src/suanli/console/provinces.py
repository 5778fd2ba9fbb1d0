"""China's provinces as a tile grid: each a square at roughly its place on the map.

A tile grid (a cartogram of equal squares) keeps every province, the small eastern ones
included, equally visible and clickable, which a true map does not; it needs no map data
from elsewhere. Rows run north to south, columns west to east.
"""

from __future__ import annotations

from suanli.catalog.regions import PROVINCES

#: Chinese short name -> (row, column).
GRID: dict[str, tuple[int, int]] = {
    "黑龙江": (0, 8),
    "新疆": (1, 1),
    "内蒙古": (1, 5),
    "吉林": (1, 8),
    "甘肃": (2, 3),
    "宁夏": (2, 4),
    "山西": (2, 5),
    "河北": (2, 6),
    "北京": (2, 7),
    "辽宁": (2, 8),
    "青海": (3, 2),
    "陕西": (3, 4),
    "河南": (3, 5),
    "山东": (3, 6),
    "天津": (3, 7),
    "西藏": (4, 1),
    "四川": (4, 3),
    "重庆": (4, 4),
    "湖北": (4, 5),
    "安徽": (4, 6),
    "江苏": (4, 7),
    "上海": (4, 8),
    "云南": (5, 3),
    "贵州": (5, 4),
    "湖南": (5, 5),
    "江西": (5, 6),
    "浙江": (5, 7),
    "广西": (6, 4),
    "广东": (6, 5),
    "福建": (6, 6),
    "海南": (7, 4),
}


def province_tiles() -> list[dict[str, object]]:
    """Every province with its English name, region and tile."""
    return [
        {"name": name, "name_en": en, "region": region, "row": GRID[name][0], "col": GRID[name][1]}
        for name, (en, region) in PROVINCES.items()
    ]
