"""The demo fleet: real Chinese computing centers listing their spare accelerator pools.

Every center is a row of the packaged ``data/centers.csv`` (101 real intelligent computing
centers in 30 provinces, from public reports; see ``data/README.md``). Operational and
under-construction centers are ``"active"`` and list pools; planned ones list none.

A pool models the SPARE capacity a center lists on the exchange, not its whole size.
The seeded model (only integers and Decimal, no floats):

- Size level ``L`` = bit length of the reported capacity in PFLOPS, clamped to 3..17 (a
  log2 scale); when the capacity is not reported, ``L`` is drawn from 7..12 (~100-3,000 PF).
- Pools: ``1 + (L - 4) // 4`` plus a draw of -1/0/+1, clamped to 1..4. A center whose
  source names domestic accelerators gets one pool per domestic family (and NVIDIA pools
  only when the source also says GPU, or for an operator that runs both).
- Nodes: a base of 2..``clamp(L + 1, 6, 16)`` nodes; pools of 1- or 2-card nodes (A10,
  L20, T4, P100) get 4x that many nodes and 4-card nodes 2x, so pools hold similar numbers
  of cards whatever the node shape.
- NVIDIA node shapes (cards, vCPU, memory per node, and the model mix) are drawn from the
  real Alibaba fleets aggregated in ``data/node_shapes.csv``, weighted by their GPU count;
  domestic pools use the typical server shape of their family.
- Interconnect: NVLink within SXM-class nodes, HCCS for Ascend, MLU-Link for Cambricon,
  else PCIe (also Hygon DCU-K100 and Kunlunxin P800, as in the accelerator catalog);
  InfiniBand between H100/H800/A100/A800 nodes three times in four (else RoCE), H20 half
  and half, RoCE for the domestic cards and V100, Ethernet for inference cards and P100.
- Price: the model's list price (``data/accelerators.csv``) times one per-center factor
  drawn from 85.0%..115.0%, rounded to whole fen.
- PUE 1.15-1.30 in the cool North-west, North-east, Inner Mongolia, Hebei, Shanxi, Guizhou
  and Yunnan, else 1.20-1.50; rack density 20-40 kW for AI/intelligent computing centers,
  8-25 kW for general data centers.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources
from random import Random

from suanli.catalog.regions import region_of

__all__ = [
    "AcceleratorInfo",
    "CenterSpec",
    "PoolSpec",
    "accelerators",
    "build_fleet",
    "read_data_csv",
]


@dataclass(frozen=True, slots=True)
class PoolSpec:
    """Spare capacity of one accelerator model that a center lists on the exchange."""

    model: str
    nodes: int
    cards_per_node: int
    cpu_per_node: int
    memory_gb_per_node: int
    intra_node: str  # "nvlink" | "pcie" | "hccs" | "xgmi" | "mlu-link" | "xpu-link"
    inter_node: str  # "none" | "ethernet" | "roce" | "infiniband"
    inter_node_gbps: int
    price_fen: int  # per card-hour

    @property
    def cards(self) -> int:
        return self.nodes * self.cards_per_node


@dataclass(frozen=True, slots=True)
class CenterSpec:
    """A real computing center (name and place from public reports) with its pools."""

    name: str
    name_zh: str
    province: str  # Chinese short name as in the CSV, e.g. "湖北"
    city: str
    operator: str
    pue: Decimal
    rack_kw: Decimal
    status: str  # "active" | "planned"
    pools: tuple[PoolSpec, ...]


@dataclass(frozen=True, slots=True)
class AcceleratorInfo:
    """Packaged facts about one accelerator model (see ``data/accelerators.csv``)."""

    model: str
    vendor: str
    domestic: bool
    fp16_tflops: Decimal
    memory_gb: int
    price_fen: int  # list price per card-hour, before any center's jitter


@cache
def read_data_csv(name: str) -> tuple[dict[str, str], ...]:
    """Rows of a CSV file packaged in ``suanli/demo/data``."""
    path = resources.files("suanli.demo").joinpath("data").joinpath(name)
    return tuple(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


@cache
def _accelerators() -> tuple[AcceleratorInfo, ...]:
    return tuple(
        AcceleratorInfo(
            model=r["model"],
            vendor=r["vendor"],
            domestic=r["domestic"] == "yes",
            fp16_tflops=Decimal(r["fp16_tflops"]),
            memory_gb=int(r["memory_gb"]),
            price_fen=int(r["price_fen"]),
        )
        for r in read_data_csv("accelerators.csv")
    )


def accelerators() -> dict[str, AcceleratorInfo]:
    """Every catalog model id the demo knows, in catalog order, with specs and list price."""
    return {a.model: a for a in _accelerators()}


@dataclass(frozen=True, slots=True)
class _Shape:
    model: str
    cards_per_node: int
    cpu: int
    memory_gb: int
    weight: int  # GPUs of this shape in the source fleet (0 for typical-server rows)


@cache
def _shapes() -> tuple[_Shape, ...]:
    return tuple(
        _Shape(
            model=r["model"],
            cards_per_node=int(r["cards_per_node"]),
            cpu=int(r["cpu"]),
            memory_gb=int(r["memory_gb"]),
            weight=int(r["nodes"]) * int(r["cards_per_node"]),
        )
        for r in read_data_csv("node_shapes.csv")
    )


_ACTIVE = {"operational": "active", "under construction": "active", "planned": "planned"}
_SXM = frozenset({"H100", "H800", "A100-80GB", "A800", "H20", "V100", "V100-16GB"})
_INTRA = {"Ascend910B": "hccs", "Ascend910C": "hccs", "MLU370": "mlu-link"}
# model -> (per-mille chance of InfiniBand, Gbit/s per node); the rest is RoCE
_FABRIC: dict[str, tuple[int, int]] = {
    "H100": (750, 3200),
    "H800": (750, 3200),
    "A100-80GB": (750, 1600),
    "A800": (750, 1600),
    "H20": (500, 1600),
    "V100": (0, 100),
    "V100-16GB": (0, 100),
    "Ascend910B": (0, 1600),
    "Ascend910C": (0, 3200),
    "DCU-K100": (0, 800),
    "MLU370": (0, 400),
    "P800": (0, 1600),
}
_COOL = frozenset({"内蒙古", "河北", "山西", "贵州", "云南"})
_AI_WORDS = (
    "intelligent computing",
    "artificial intelligence",
    " ai ",
    "cloud brain",
    "supercomput",
)


def _pick(rng: Random, shapes: list[_Shape]) -> _Shape:
    """Weighted draw with integer arithmetic only."""
    ticket = rng.randrange(sum(s.weight for s in shapes))
    for shape in shapes:
        ticket -= shape.weight
        if ticket < 0:
            return shape
    raise AssertionError("unreachable")  # pragma: no cover


def _level(capacity: str, rng: Random) -> int:
    if not capacity:
        return rng.randint(7, 12)
    return min(17, max(3, int(Decimal(capacity)).bit_length()))


def _interconnect(model: str, cards_per_node: int, rng: Random) -> tuple[str, str, int]:
    intra = _INTRA.get(model, "nvlink" if model in _SXM and cards_per_node > 1 else "pcie")
    if model in _FABRIC:
        ib_per_mille, gbps = _FABRIC[model]
        inter = "infiniband" if rng.randrange(1000) < ib_per_mille else "roce"
        if inter == "roce" and model in {"A100-80GB", "A800"}:
            gbps //= 2  # RoCE builds of these are typically 4 x 200G
        return intra, inter, gbps
    return intra, "ethernet", 100 if cards_per_node >= 4 else 25


def _plan(row: dict[str, str], level: int, rng: Random) -> list[_Shape]:
    """The node shapes (one per pool) that an active center lists."""
    shapes = _shapes()
    domestic = [m for m in row["domestic_models"].split(";") if m]
    nvidia = row["nvidia_pools"] == "yes"
    chosen = [next(s for s in shapes if s.model == m and s.weight == 0) for m in domestic]
    if not nvidia:
        return chosen
    wanted = min(4, max(1 + (level - 4) // 4 + rng.randint(-1, 1), len(chosen) + 1, 1))
    candidates = [s for s in shapes if s.weight > 0]
    while len(chosen) < wanted:
        shape = _pick(rng, candidates)
        chosen.append(shape)
        candidates = [s for s in candidates if s.model != shape.model]
    return chosen


def _pools(row: dict[str, str], rng: Random) -> tuple[PoolSpec, ...]:
    level = _level(row["capacity_pflops"], rng)
    jitter = rng.randint(-150, 150)  # per mille, one factor per center
    prices = accelerators()
    pools = []
    for shape in _plan(row, level, rng):
        base = rng.randint(2, min(16, max(6, level + 1)))
        nodes = base * max(1, min(4, 8 // shape.cards_per_node))
        intra, inter, gbps = _interconnect(shape.model, shape.cards_per_node, rng)
        price = (prices[shape.model].price_fen * (1000 + jitter) + 500) // 1000
        pools.append(
            PoolSpec(
                model=shape.model,
                nodes=nodes,
                cards_per_node=shape.cards_per_node,
                cpu_per_node=shape.cpu,
                memory_gb_per_node=shape.memory_gb,
                intra_node=intra,
                inter_node=inter,
                inter_node_gbps=gbps,
                price_fen=max(1, price),
            )
        )
    return tuple(pools)


def _site(row: dict[str, str], rng: Random) -> tuple[Decimal, Decimal]:
    cool = row["province"] in _COOL or region_of(row["province"]) in {"Northwest", "Northeast"}
    pue = Decimal(rng.randint(115, 130) if cool else rng.randint(120, 150)) / 100
    name = f" {row['name_en'].lower()} "
    ai = "智算" in row["name_zh"] or any(word in name for word in _AI_WORDS)
    rack_kw = Decimal(rng.randint(200, 400) if ai else rng.randint(80, 250)) / 10
    return pue, rack_kw


def build_fleet(seed: int = 7) -> list[CenterSpec]:
    """All demo centers, in the order of ``data/centers.csv``; deterministic for a seed."""
    fleet = []
    for index, row in enumerate(read_data_csv("centers.csv")):
        rng = Random(f"suanli-fleet:{seed}:{index}")
        status = _ACTIVE[row["status"]]
        pue, rack_kw = _site(row, rng)
        fleet.append(
            CenterSpec(
                name=row["name_en"],
                name_zh=row["name_zh"],
                province=row["province"],
                city=row["city"],
                operator=row["operator"],
                pue=pue,
                rack_kw=rack_kw,
                status=status,
                pools=_pools(row, rng) if status == "active" else (),
            )
        )
    return fleet
