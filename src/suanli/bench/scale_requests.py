"""The request mix of ``suanli bench scale``: what SME buyers of a national exchange ask for.

Seeded (``random.Random``), integers only. Each request draws, independently:

===================== ======= =================================================================
kind                  share   shape
===================== ======= =================================================================
whole cards, one node 78%     1 card 33%, 2 cards 15%, 4 cards 13%, 8 cards 17% (of all)
share of one GPU      18%     500 (11%) or 250 (7%) milli-GPU: inference, notebooks
gang                  4%      16 (2%), 32 (1.2%), 64 (0.6%), 128 (0.2%) cards, 8 per node, over
                              InfiniBand (40%) or at least RoCE (60%)
===================== ======= =================================================================

Multi-node jobs are a few percent of the jobs in public GPU traces (the Philly day in the
demo data: 3 of 3,205 jobs ask for 16 cards or more), though a large share of card-hours;
4% of requests is generous to the harder case.

- Accepted models: gangs name a training list (H800/H100, the A800/A100 pair, H20, Ascend);
  shares name an inference list (L20/L40S/A10, RTX 4090, A10/T4, V100s) or, one in three,
  any model; whole cards name either kind of list, or (one in four) any model.
- Province: 30% are constrained (data residency): two in three to one province, drawn by
  the fleet's cards per province, one in three to that province's whole region.
- Price cap: 40% cap the price per card-hour at the dearest accepted model's list price
  (the median list price for "any") times 90%, 100%, 110% or 125%, rounded to 10 fen.
- Duration: each request is released after a number of later arrivals drawn from an
  exponential distribution with mean ``hold`` (see :func:`hold_for`), so that the fleet
  settles near a target utilization instead of filling up.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from random import Random
from typing import TypeVar

from suanli.catalog.regions import provinces_in, region_of
from suanli.demo.fleet import accelerators
from suanli.engine import Demand, PoolInfo

__all__ = ["TimedDemand", "hold_for", "make_requests", "mean_cards"]

T = TypeVar("T")

TRAIN: tuple[tuple[str, ...], ...] = (
    ("H800", "H100"),
    ("H800", "H100", "A800", "A100-80GB"),
    ("A800", "A100-80GB"),
    ("H20",),
    ("H800", "H100", "H20"),
    ("Ascend910B", "Ascend910C"),
)
INFER: tuple[tuple[str, ...], ...] = (
    ("L20", "L40S", "A10"),
    ("RTX4090",),
    ("A10", "T4"),
    ("V100", "V100-16GB"),
    ("RTX4090", "L20", "L40S"),
)
# (per mille, cards, cards per node or None, gpu milli)
SHAPES: tuple[tuple[int, int, int | None, int], ...] = (
    (330, 1, None, 1000),
    (150, 2, None, 1000),
    (130, 4, None, 1000),
    (170, 8, None, 1000),
    (110, 1, None, 500),
    (70, 1, None, 250),
    (20, 16, 8, 1000),
    (12, 32, 8, 1000),
    (6, 64, 8, 1000),
    (2, 128, 8, 1000),
)
CAP_PCT = (90, 100, 110, 125)


@dataclass(frozen=True, slots=True)
class TimedDemand:
    """A request and after how many later arrivals it is released."""

    demand: Demand
    hold: int


def mean_cards() -> float:
    """Mean GPUs a request takes (a share counts as its fraction)."""
    return sum(p * cards * milli / 1000 for p, cards, _, milli in SHAPES) / 1000


def hold_for(fleet_cards: int, utilization_pct: int = 75) -> int:
    """Mean hold (in arrivals) that keeps about ``utilization_pct`` of the cards busy."""
    return max(1, round(fleet_cards * utilization_pct / 100 / mean_cards()))


def _draw(rng: Random, weights: Sequence[tuple[int, T]]) -> T:
    """A weighted draw, integers only."""
    ticket = rng.randrange(sum(w for w, _ in weights))
    for weight, value in weights:
        ticket -= weight
        if ticket < 0:
            return value
    raise AssertionError("unreachable")  # pragma: no cover


def _models(rng: Random, gang: bool, share: bool) -> tuple[str, ...]:
    if gang:
        return rng.choice(TRAIN)
    if share:
        return () if rng.randrange(3) == 0 else rng.choice(INFER)
    if rng.randrange(4) == 0:
        return ()
    return rng.choice(TRAIN + INFER)


def _cap(rng: Random, models: tuple[str, ...], median: int) -> int:
    prices = accelerators()
    base = max((prices[m].price_fen for m in models), default=median)
    return max(10, (base * rng.choice(CAP_PCT) // 100 + 5) // 10 * 10)


def make_requests(
    pools: tuple[PoolInfo, ...], count: int, seed: int = 7, *, hold: int = 1
) -> list[TimedDemand]:
    """``count`` requests for a fleet of ``pools`` (see the module docstring)."""
    rng = Random(f"suanli-scale-requests:{seed}")
    shapes = [(p, (c, n, m)) for p, c, n, m in SHAPES]
    weight = Counter[str]()
    for info in pools:
        weight[info.province] += info.cards_per_node
    provinces = [(w, p) for p, w in sorted(weight.items())]
    listed = sorted(a.price_fen for a in accelerators().values())
    median = listed[len(listed) // 2]
    out = []
    for _ in range(count):
        cards, per_node, milli = _draw(rng, shapes)
        gang = per_node is not None
        models = _models(rng, gang, milli < 1000)
        where: frozenset[str] = frozenset()
        if provinces and rng.randrange(10) < 3:
            home = _draw(rng, provinces)
            where = frozenset([home])
            if rng.randrange(3) == 0:
                where = frozenset(provinces_in(region_of(home)))
        cap = _cap(rng, models, median) if rng.randrange(10) < 4 else None
        demand = Demand(
            cards=cards,
            cards_per_node=per_node,
            inter_node=("infiniband" if rng.randrange(10) < 4 else "roce") if gang else None,
            accepted_models=frozenset(models),
            provinces=where,
            max_price_fen=cap,
            gpu_milli=milli,
        )
        out.append(TimedDemand(demand, int(rng.expovariate(1.0 / hold)) + 1))
    return out
