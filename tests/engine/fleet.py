"""Builders for v2 snapshots (CPU, memory and milli-GPU per GPU), shared by engine tests."""

from __future__ import annotations

from collections.abc import Sequence

from suanli.engine import PoolInfo, Snapshot, SnapshotBuilder


def gpu_pool(
    pool_id: int,
    *,
    model: str = "G2",
    gpus: int = 8,
    cpu: int = 96_000,
    mem: int = 393_216,
    price: int = 1000,
    province: str = "贵州",
    inter_node: str = "infiniband",
) -> PoolInfo:
    """A pool of identical nodes that tracks CPU (milli) and memory (MiB) per node."""
    return PoolInfo(
        pool_id=pool_id,
        center_id=pool_id * 10,
        label=f"center-{pool_id}/{model}",
        model=model,
        province=province,
        price_fen=price,
        cards_per_node=gpus,
        memory_gb=32,
        tflops=100.0,
        inter_node=inter_node,
        cpu_milli=cpu,
        memory_mib=mem,
    )


def fleet(
    pools: Sequence[PoolInfo],
    nodes: Sequence[tuple[int, int, Sequence[int] | None, int | None, int | None]],
) -> Snapshot:
    """Nodes as ``(node_id, pool_id, milli-GPU free per GPU or None, cpu free, mem free)``."""
    builder = SnapshotBuilder()
    for info in pools:
        builder.add_pool(info)
    for node_id, pool_id, gpus, cpu, mem in nodes:
        builder.add_node(node_id, pool_id, gpu_free=gpus, cpu_free=cpu, memory_free=mem)
    return builder.build()
