"""Collects pools and nodes, then freezes them into a :class:`Snapshot`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from suanli.engine.demand import MILLI
from suanli.engine.snapshot import INTER_NODE_RANK, UNLIMITED, IntArray, PoolInfo, Snapshot


@dataclass(frozen=True, slots=True)
class _Node:
    node_id: int
    pool_row: int
    gpu_free: tuple[int, ...]
    cpu_free: int
    cpu_cap: int
    mem_free: int
    mem_cap: int


class SnapshotBuilder:
    """``add_pool`` then ``add_node`` for each node, then ``build``.

    A node has its pool's ``cards_per_node`` GPUs. Say how free they are either the legacy
    way, ``free`` whole cards (the first ``free`` GPUs idle, the rest busy), or per GPU with
    ``gpu_free`` (milli-GPU each); neither means all idle. CPU and memory default to the
    pool's per-node capacity, free.
    """

    def __init__(self) -> None:
        self._pools: list[PoolInfo] = []
        self._pool_row: dict[int, int] = {}
        self._nodes: list[_Node] = []

    def add_pool(self, info: PoolInfo) -> None:
        if info.pool_id in self._pool_row:
            raise ValueError(f"pool {info.pool_id} added twice")
        if info.inter_node not in INTER_NODE_RANK:
            raise ValueError(f"unknown inter-node interconnect {info.inter_node!r}")
        if info.cards_per_node < 0:
            raise ValueError(f"pool {info.pool_id} has a negative number of cards per node")
        self._pool_row[info.pool_id] = len(self._pools)
        self._pools.append(info)

    def add_node(
        self,
        node_id: int,
        pool_id: int,
        free: int | None = None,
        *,
        gpu_free: Sequence[int] | None = None,
        cpu_free: int | None = None,
        memory_free: int | None = None,
    ) -> None:
        if free is not None and free < 0:
            raise ValueError(f"node {node_id} has negative free cards")
        row = self._pool_row[pool_id]
        info = self._pools[row]
        count = info.cards_per_node
        if free is not None and gpu_free is not None:
            raise ValueError(f"node {node_id}: give free cards or free milli-GPU, not both")
        if gpu_free is None:
            whole = count if free is None else free
            if whole > count:
                raise ValueError(f"node {node_id} has more free cards than its {count}")
            gpu_free = [MILLI] * whole + [0] * (count - whole)
        if len(gpu_free) != count or any(not 0 <= g <= MILLI for g in gpu_free):
            raise ValueError(f"node {node_id} needs {count} GPUs with 0..{MILLI} milli free")
        cpu_cap = UNLIMITED if info.cpu_milli is None else info.cpu_milli
        mem_cap = UNLIMITED if info.memory_mib is None else info.memory_mib
        cpu = cpu_cap if cpu_free is None else cpu_free
        mem = mem_cap if memory_free is None else memory_free
        if not (0 <= cpu <= cpu_cap and 0 <= mem <= mem_cap):
            raise ValueError(f"node {node_id} has free CPU or memory outside 0..capacity")
        self._nodes.append(_Node(node_id, row, tuple(gpu_free), cpu, cpu_cap, mem, mem_cap))

    def build(self) -> Snapshot:
        pools = tuple(self._pools)
        models = tuple(sorted({p.model for p in pools}))
        provinces = tuple(sorted({p.province for p in pools}))
        model_ix = {m: i for i, m in enumerate(models)}
        prov_ix = {p: i for i, p in enumerate(provinces)}
        nodes = sorted(self._nodes, key=lambda n: n.node_id)
        if len({n.node_id for n in nodes}) != len(nodes):
            raise ValueError("a node id was added twice")
        width = max((len(n.gpu_free) for n in nodes), default=0)
        gpu = np.zeros((len(nodes), width), dtype=np.int64)
        for i, n in enumerate(nodes):
            gpu[i, : len(n.gpu_free)] = n.gpu_free

        def ints(values: Sequence[int]) -> IntArray:
            return np.array(values, dtype=np.int64)

        return Snapshot(
            pools=pools,
            pool_id=ints([p.pool_id for p in pools]),
            pool_price=ints([p.price_fen for p in pools]),
            pool_cards_per_node=ints([p.cards_per_node for p in pools]),
            pool_memory_gb=ints([p.memory_gb for p in pools]),
            pool_tflops=np.array([p.tflops for p in pools], dtype=np.float64),
            pool_inter_rank=ints([INTER_NODE_RANK[p.inter_node] for p in pools]),
            pool_model=ints([model_ix[p.model] for p in pools]),
            pool_province=ints([prov_ix[p.province] for p in pools]),
            models=models,
            provinces=provinces,
            node_id=ints([n.node_id for n in nodes]),
            node_pool=ints([n.pool_row for n in nodes]),
            node_gpus=ints([len(n.gpu_free) for n in nodes]),
            node_cpu_cap=ints([n.cpu_cap for n in nodes]),
            node_mem_cap=ints([n.mem_cap for n in nodes]),
            node_cpu=ints([n.cpu_free for n in nodes]),
            node_mem=ints([n.mem_free for n in nodes]),
            gpu_free=gpu,
            node_tags=np.zeros((len(nodes), width + 1), dtype=np.int64),
        )
