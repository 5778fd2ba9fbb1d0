"""A national-scale fleet for ``suanli bench scale``, grown from the demo fleet.

China's intelligent-compute fleet is a few hundred centers holding a few hundred thousand
accelerators. The demo fleet (:mod:`suanli.demo.fleet`) models 101 real centers with node
shapes from the real Alibaba fleets and the demo's price model; this module replicates it
to any number of centers and cards, deterministically for a seed:

- Center ``i`` copies active demo center ``i mod A`` (``A`` = the demo's active centers, in
  the order of its ``centers.csv``), drawn with the demo's seeded model for seed
  ``seed * 1000 + i // A``: each replica keeps its template's province, accelerator plan and
  size class but draws its own pools, node shapes, fabric and price jitter.
- Every pool's node count is then scaled by one factor so that the fleet holds about
  ``cards`` cards: the integer part of each scaled count (at least one node), then one more
  node per pool, largest remainder first, while that still fits under ``cards``.
- Pools list whole cards as the live exchange does (hosts' CPU and memory are rented with
  the cards, not tracked); memory and TFLOPS per card come from the demo's accelerator table.

Pool ids are ``8 * center + pool`` and node ids count up from 0, pool by pool.
"""

from __future__ import annotations

from dataclasses import dataclass

from suanli.demo.fleet import CenterSpec, accelerators, build_fleet
from suanli.engine import PoolInfo, Snapshot, SnapshotBuilder

__all__ = ["ScaleFleet", "build_scale_fleet"]

POOLS_PER_CENTER = 8


@dataclass(frozen=True, slots=True)
class ScaleFleet:
    """Pools and how many nodes each has (all idle at the start)."""

    pools: tuple[PoolInfo, ...]
    nodes: tuple[int, ...]
    centers: int

    @property
    def cards(self) -> int:
        return sum(p.cards_per_node * n for p, n in zip(self.pools, self.nodes, strict=True))

    @property
    def node_count(self) -> int:
        return sum(self.nodes)

    def snapshot(self) -> Snapshot:
        """All nodes idle, built through the engine's :class:`SnapshotBuilder`."""
        builder = SnapshotBuilder()
        node_id = 0
        for info, count in zip(self.pools, self.nodes, strict=True):
            builder.add_pool(info)
            for _ in range(count):
                builder.add_node(node_id, info.pool_id)
                node_id += 1
        return builder.build()


def _templates(centers: int, seed: int) -> list[tuple[int, CenterSpec]]:
    """``(replica, center)`` for each of ``centers`` centers (replica 0 first)."""
    chosen: list[tuple[int, CenterSpec]] = []
    replica = 0
    while len(chosen) < centers:
        active = [c for c in build_fleet(seed * 1000 + replica) if c.pools]
        if not active:  # pragma: no cover - the packaged data has active centers
            raise ValueError("the demo fleet has no active center")
        chosen += [(replica, c) for c in active[: centers - len(chosen)]]
        replica += 1
    return chosen


def _scaled(sizes: list[tuple[int, int]], cards: int) -> list[int]:
    """Node counts for pools of ``(nodes, cards_per_node)``, scaled to about ``cards``."""
    total = sum(n * c for n, c in sizes)
    exact = [(n * cards, total) for n, _ in sizes]  # nodes * cards / total, as a fraction
    counts = [max(1, num // den) for num, den in exact]
    room = cards - sum(k * c for k, (_, c) in zip(counts, sizes, strict=True))
    order = sorted(range(len(sizes)), key=lambda i: (-(exact[i][0] % exact[i][1]), i))
    for i in order:
        per = sizes[i][1]
        if per <= room:
            counts[i] += 1
            room -= per
    return counts


def build_scale_fleet(cards: int, centers: int, seed: int = 7) -> ScaleFleet:
    """``centers`` centers holding about ``cards`` cards (see the module docstring)."""
    if cards <= 0 or centers <= 0:
        raise ValueError("a fleet needs some cards and some centers")
    specs = accelerators()
    pools: list[PoolInfo] = []
    sizes: list[tuple[int, int]] = []
    for index, (replica, center) in enumerate(_templates(centers, seed)):
        for j, spec in enumerate(center.pools[:POOLS_PER_CENTER]):
            acc = specs[spec.model]
            pools.append(
                PoolInfo(
                    pool_id=POOLS_PER_CENTER * index + j,
                    center_id=index + 1,
                    label=f"{center.name} #{replica + 1}/{spec.model}",
                    model=spec.model,
                    province=center.province,
                    price_fen=spec.price_fen,
                    cards_per_node=spec.cards_per_node,
                    memory_gb=acc.memory_gb,
                    tflops=float(acc.fp16_tflops),
                    inter_node=spec.inter_node,
                )
            )
            sizes.append((spec.nodes, spec.cards_per_node))
    return ScaleFleet(tuple(pools), tuple(_scaled(sizes, cards)), centers)
