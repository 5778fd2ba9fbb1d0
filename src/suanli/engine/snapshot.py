"""A snapshot of free capacity as arrays: pools in one table, nodes in another.

Node ``i`` belongs to pool ``node_pool[i]`` (a row index into the pool arrays) and has
``node_free[i]`` free cards. Pool attributes (model, price, province, ...) are looked up
through that index, so filters and scores are vectorized over nodes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

#: Inter-node interconnects, weakest first; a gang needs at least the rank it asks for.
INTER_NODE_RANK: dict[str, int] = {"none": 0, "ethernet": 1, "roce": 2, "infiniband": 3}

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class PoolInfo:
    """What the engine needs to know about one pool."""

    pool_id: int
    center_id: int
    label: str
    model: str
    province: str
    price_fen: int
    cards_per_node: int
    memory_gb: int
    tflops: float
    inter_node: str


@dataclass(slots=True)
class Snapshot:
    """Free capacity. Only ``node_free`` changes (through reserve / unreserve)."""

    pools: tuple[PoolInfo, ...]
    pool_id: IntArray
    pool_price: IntArray
    pool_cards_per_node: IntArray
    pool_memory_gb: IntArray
    pool_tflops: FloatArray
    pool_inter_rank: IntArray
    pool_model: IntArray
    pool_province: IntArray
    models: tuple[str, ...]
    provinces: tuple[str, ...]
    node_id: IntArray
    node_pool: IntArray
    node_free: IntArray
    _node_row: dict[int, int] = field(default_factory=dict, repr=False)

    @property
    def nodes(self) -> int:
        return int(self.node_id.shape[0])

    def row_of(self, node_id: int) -> int:
        """The array row of a node id."""
        if not self._node_row:
            self._node_row.update((int(n), i) for i, n in enumerate(self.node_id))
        return self._node_row[node_id]

    def free_cards(self) -> int:
        return int(self.node_free.sum())

    def copy(self) -> Snapshot:
        """An independent copy whose free counts can change without touching this one."""
        return Snapshot(
            pools=self.pools,
            pool_id=self.pool_id,
            pool_price=self.pool_price,
            pool_cards_per_node=self.pool_cards_per_node,
            pool_memory_gb=self.pool_memory_gb,
            pool_tflops=self.pool_tflops,
            pool_inter_rank=self.pool_inter_rank,
            pool_model=self.pool_model,
            pool_province=self.pool_province,
            models=self.models,
            provinces=self.provinces,
            node_id=self.node_id,
            node_pool=self.node_pool,
            node_free=self.node_free.copy(),
            _node_row=self._node_row,
        )


class SnapshotBuilder:
    """Collects pools and nodes, then freezes them into arrays."""

    def __init__(self) -> None:
        self._pools: list[PoolInfo] = []
        self._pool_row: dict[int, int] = {}
        self._nodes: list[tuple[int, int, int]] = []

    def add_pool(self, info: PoolInfo) -> None:
        if info.pool_id in self._pool_row:
            raise ValueError(f"pool {info.pool_id} added twice")
        if info.inter_node not in INTER_NODE_RANK:
            raise ValueError(f"unknown inter-node interconnect {info.inter_node!r}")
        self._pool_row[info.pool_id] = len(self._pools)
        self._pools.append(info)

    def add_node(self, node_id: int, pool_id: int, free: int) -> None:
        if free < 0:
            raise ValueError(f"node {node_id} has negative free cards")
        self._nodes.append((node_id, self._pool_row[pool_id], free))

    def build(self) -> Snapshot:
        pools = tuple(self._pools)
        models = tuple(sorted({p.model for p in pools}))
        provinces = tuple(sorted({p.province for p in pools}))
        model_ix = {m: i for i, m in enumerate(models)}
        prov_ix = {p: i for i, p in enumerate(provinces)}
        nodes = sorted(self._nodes)
        return Snapshot(
            pools=pools,
            pool_id=np.array([p.pool_id for p in pools], dtype=np.int64),
            pool_price=np.array([p.price_fen for p in pools], dtype=np.int64),
            pool_cards_per_node=np.array([p.cards_per_node for p in pools], dtype=np.int64),
            pool_memory_gb=np.array([p.memory_gb for p in pools], dtype=np.int64),
            pool_tflops=np.array([p.tflops for p in pools], dtype=np.float64),
            pool_inter_rank=np.array(
                [INTER_NODE_RANK[p.inter_node] for p in pools], dtype=np.int64
            ),
            pool_model=np.array([model_ix[p.model] for p in pools], dtype=np.int64),
            pool_province=np.array([prov_ix[p.province] for p in pools], dtype=np.int64),
            models=models,
            provinces=provinces,
            node_id=np.array([n[0] for n in nodes], dtype=np.int64),
            node_pool=np.array([n[1] for n in nodes], dtype=np.int64),
            node_free=np.array([n[2] for n in nodes], dtype=np.int64),
        )
