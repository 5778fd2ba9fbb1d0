"""Small builders for engine snapshots, shared by the engine tests."""

from __future__ import annotations

from collections.abc import Iterable

from suanli.engine import Placement, PoolInfo, Snapshot, SnapshotBuilder

#: model -> (memory GB per card, dense FP16 TFLOPS per card), as in the catalog.
MODELS: dict[str, tuple[int, float]] = {
    "H800": (80, 989.4),
    "A100-80GB": (80, 312.0),
    "Ascend910B": (64, 376.0),
    "T4": (16, 65.0),
}


def pool(
    pool_id: int,
    *,
    model: str = "H800",
    province: str = "贵州",
    price: int = 1000,
    cards_per_node: int = 8,
    inter_node: str = "infiniband",
    center_id: int | None = None,
    label: str | None = None,
) -> PoolInfo:
    memory, tflops = MODELS[model]
    return PoolInfo(
        pool_id=pool_id,
        center_id=pool_id * 10 if center_id is None else center_id,
        label=label or f"center-{pool_id}/pool-{pool_id}",
        model=model,
        province=province,
        price_fen=price,
        cards_per_node=cards_per_node,
        memory_gb=memory,
        tflops=tflops,
        inter_node=inter_node,
    )


def snapshot(pools: Iterable[PoolInfo], nodes: Iterable[tuple[int, int, int]] = ()) -> Snapshot:
    """Pools, and nodes as ``(node_id, pool_id, free_cards)``."""
    builder = SnapshotBuilder()
    for info in pools:
        builder.add_pool(info)
    for node_id, pool_id, free in nodes:
        builder.add_node(node_id, pool_id, free)
    return builder.build()


def free_of(snap: Snapshot) -> dict[int, int]:
    """Wholly free cards by node id."""
    return {int(n): int(f) for n, f in zip(snap.node_id, snap.whole_free(), strict=True)}


def spots(placement: Placement) -> list[tuple[int, int]]:
    """A placement's allocations as ``(node_id, cards)``."""
    return [(a.node_id, a.cards) for a in placement.allocations]
