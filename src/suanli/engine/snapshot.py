"""A snapshot of free capacity as arrays: pools in one table, nodes in another.

Node row ``i`` belongs to pool ``node_pool[i]`` (a row of the pool arrays) and has
``node_cpu[i]`` milli-CPU, ``node_mem[i]`` MiB and ``gpu_free[i, j]`` milli-GPU free on
its GPU ``j``. Pool attributes (model, price, province, fabric, ...) are looked up through
``node_pool``, so filters and scores are vectorized over nodes. Rows ascend by node id.

Invariants, kept by :meth:`Snapshot.take` / :meth:`Snapshot.give` (the only writers):

* ``0 <= gpu_free[i, j] <= 1000`` for ``j < node_gpus[i]``; ``gpu_free[i, j] == 0`` beyond
  (those slots do not exist and can never be allocated);
* ``0 <= node_cpu[i] <= node_cpu_cap[i]`` and ``0 <= node_mem[i] <= node_mem_cap[i]``;
* ``node_class[i]`` is the interned class of the row's current state (see ``classes``);
* ``node_tags[i, t]`` counts the GPU workloads of kind ``t`` on the node (``t`` 0: a share
  of a GPU, ``t`` k: k whole GPUs), which GPU-clustering scores read;
* :attr:`Snapshot.index` lists the live classes, their members and the wholly free GPUs
  per pool (see ``index``), which decisions over classes read.

Pools that do not track CPU or memory (the whole-card exchange) get :data:`UNLIMITED`.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np

from suanli.engine.classes import FloatArray, IntArray, NodeClasses
from suanli.engine.demand import MILLI
from suanli.engine.index import ClassIndex
from suanli.engine.wholecards import WholeCards

#: Inter-node interconnects, weakest first; a gang needs at least the rank it asks for.
INTER_NODE_RANK: dict[str, int] = {"none": 0, "ethernet": 1, "roce": 2, "infiniband": 3}

#: Free CPU / memory of a node whose pool does not track them.
UNLIMITED = 1 << 60

__all__ = ["INTER_NODE_RANK", "UNLIMITED", "FloatArray", "IntArray", "PoolInfo", "Snapshot"]


@dataclass(frozen=True, slots=True)
class PoolInfo:
    """What the engine needs to know about one pool (identical nodes at one price)."""

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
    cpu_milli: int | None = None
    """CPU per node in milli-cores; None = not tracked."""
    memory_mib: int | None = None
    """Host memory per node in MiB; None = not tracked."""
    label_zh: str | None = None
    """The label in Chinese (the center's Chinese name), for reasons; None = ``label``."""


@dataclass(slots=True)
class Snapshot:
    """Free capacity. Only the node state arrays change, through take / give."""

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
    node_gpus: IntArray
    node_cpu_cap: IntArray
    node_mem_cap: IntArray
    node_cpu: IntArray
    node_mem: IntArray
    gpu_free: IntArray
    node_tags: IntArray
    classes: NodeClasses = field(default_factory=NodeClasses, repr=False)
    node_class: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    _node_row: dict[int, int] = field(default_factory=dict, repr=False)
    _index: ClassIndex | None = field(default=None, repr=False)
    cache: dict[Hashable, object] = field(default_factory=dict, repr=False)
    """What engines remember about this very snapshot (tie keys, memos checked against its
    index); a copy starts empty."""

    def __post_init__(self) -> None:
        self.classes.bind(self.pool_model.tolist())
        if self.node_class.shape[0] != self.node_id.shape[0]:
            self.node_class = self._classes_of_all()
        if self._index is None:
            self._index = ClassIndex.of(self.classes, len(self.pools), self.node_class.tolist())

    def _classes_of_all(self) -> IntArray:
        """Every row's class (interned in row order), in one pass."""
        ordered = (-np.sort(-self.gpu_free, axis=1)).tolist()
        intern = self.classes.intern
        return np.array(
            [
                intern((pool, cpu, mem, tuple(gpus[:count])))
                for pool, cpu, mem, gpus, count in zip(
                    self.node_pool.tolist(),
                    self.node_cpu.tolist(),
                    self.node_mem.tolist(),
                    ordered,
                    self.node_gpus.tolist(),
                    strict=True,
                )
            ],
            dtype=np.int64,
        )

    @property
    def index(self) -> ClassIndex:
        """Live classes per pool, kept in step with every write (see ``index``)."""
        assert self._index is not None
        return self._index

    # -- reading ------------------------------------------------------------------------
    @property
    def nodes(self) -> int:
        return int(self.node_id.shape[0])

    @property
    def max_gpus(self) -> int:
        return int(self.gpu_free.shape[1])

    @property
    def node_model(self) -> IntArray:
        """Model index (into ``models``) of each node row."""
        return self.pool_model[self.node_pool]

    @property
    def node_free(self) -> WholeCards:
        """Free whole cards per node row: a live view (legacy API; prefer ``gpu_free``)."""
        return WholeCards(self)

    def whole_free(self) -> IntArray:
        """Fully free GPUs per node row."""
        return np.asarray((self.gpu_free == MILLI).sum(axis=1), dtype=np.int64)

    def row_of(self, node_id: int) -> int:
        """The array row of a node id."""
        if not self._node_row:
            self._node_row.update((int(n), i) for i, n in enumerate(self.node_id))
        return self._node_row[node_id]

    def free_cards(self) -> int:
        """Fully free GPUs in the whole snapshot."""
        return int((self.gpu_free == MILLI).sum())

    def free_gpu_milli(self) -> int:
        return int(self.gpu_free.sum())

    def copy(self) -> Snapshot:
        """An independent copy whose free capacity can change without touching this one."""
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
            node_gpus=self.node_gpus,
            node_cpu_cap=self.node_cpu_cap,
            node_mem_cap=self.node_mem_cap,
            node_cpu=self.node_cpu.copy(),
            node_mem=self.node_mem.copy(),
            gpu_free=self.gpu_free.copy(),
            node_tags=self.node_tags.copy(),
            classes=self.classes,
            node_class=self.node_class.copy(),
            _node_row=self._node_row,
            _index=self.index.copy(),
        )

    # -- writing ------------------------------------------------------------------------
    def check_take(
        self, row: int, gpus: Sequence[int], milli: int, cpu: int, mem: int
    ) -> str | None:
        """Why ``take`` would fail (a sentence), or None if it fits."""
        return self._why_not(row, gpus, milli, cpu, mem, self.gpu_free[row].tolist())

    def _why_not(
        self, row: int, gpus: Sequence[int], milli: int, cpu: int, mem: int, free: list[int]
    ) -> str | None:
        node = f"node {int(self.node_id[row])}"
        if len(set(gpus)) != len(gpus):
            return f"{node}: a GPU is named twice"
        count = int(self.node_gpus[row])
        for gpu in gpus:
            if not 0 <= gpu < count:
                return f"{node} has no GPU {gpu}"
            if free[gpu] < milli:
                return f"{node} GPU {gpu} has less than {milli} milli-GPU free"
        if (cpu and int(self.node_cpu[row]) < cpu) or (mem and int(self.node_mem[row]) < mem):
            return f"{node} has too little free CPU or memory"
        return None

    def take(self, row: int, gpus: Sequence[int], milli: int, cpu: int, mem: int) -> None:
        """Take ``milli`` of each GPU in ``gpus`` and ``cpu`` / ``mem`` from node ``row``."""
        free = self.gpu_free[row].tolist()
        old = int(self.node_class[row])
        key = self.classes.keys[old]  # (pool, free CPU, free memory, GPUs): the row's state
        count = len(key[3])
        if len(gpus) == 1:  # checked quickly here; sentences only for what does not fit
            gpu = gpus[0]
            fits = 0 <= gpu < count and free[gpu] >= milli
        else:
            fits = len(set(gpus)) == len(gpus)
            for gpu in gpus:
                if not (0 <= gpu < count and free[gpu] >= milli):
                    fits = False
                    break
        if not fits or (cpu and key[1] < cpu) or (mem and key[2] < mem):
            raise ValueError(self._why_not(row, gpus, milli, cpu, mem, free))
        self._apply(row, gpus, -milli, -cpu, -mem, 1, free, old)

    def give(self, row: int, gpus: Sequence[int], milli: int, cpu: int, mem: int) -> None:
        """The exact inverse of :meth:`take` with the same arguments."""
        free = self.gpu_free[row].tolist()
        for gpu in gpus:
            if free[gpu] + milli > MILLI:
                node = int(self.node_id[row])
                raise ValueError(f"node {node} GPU {gpu} would have more than a whole GPU")
        if (cpu and int(self.node_cpu[row]) + cpu > int(self.node_cpu_cap[row])) or (
            mem and int(self.node_mem[row]) + mem > int(self.node_mem_cap[row])
        ):
            node = int(self.node_id[row])
            raise ValueError(f"node {node} would have more CPU or memory than it has")
        self._apply(row, gpus, milli, cpu, mem, -1, free)

    def set_whole_free(self, row: int, value: int) -> None:
        """Legacy write of a node's free whole cards: release fully used GPUs (highest index
        first) or take fully free ones (lowest index first) until ``value`` are free."""
        count = int(self.node_gpus[row])
        current = int((self.gpu_free[row, :count] == MILLI).sum())
        node = int(self.node_id[row])
        if not 0 <= value <= count:
            raise ValueError(f"node {node} cannot have {value} free cards")
        if value > current:
            used = [j for j in range(count - 1, -1, -1) if int(self.gpu_free[row, j]) == 0]
            if len(used) < value - current:
                raise ValueError(f"node {node} has only {len(used)} whole cards in use")
            self._apply(row, used[: value - current], MILLI, 0, 0, 0, self.gpu_free[row].tolist())
        elif value < current:
            free = [j for j in range(count) if int(self.gpu_free[row, j]) == MILLI]
            self._apply(row, free[: current - value], -MILLI, 0, 0, 0, self.gpu_free[row].tolist())

    def _apply(
        self,
        row: int,
        gpus: Sequence[int],
        milli: int,
        cpu: int,
        mem: int,
        sign: int,
        values: list[int],
        old: int | None = None,
    ) -> None:
        """Add ``milli`` to ``gpus`` of ``row`` (whose free milli-GPU are ``values``), ``cpu``
        and ``mem``; count the workload in the tags (``sign``); move the row's class (``old``,
        if the caller has read it)."""
        if gpus:
            if len(gpus) == 1:
                gpu = gpus[0]
                values[gpu] = self.gpu_free[row, gpu] = values[gpu] + milli
            else:
                for gpu in gpus:
                    values[gpu] += milli
                self.gpu_free[row] = values  # (the whole row: one write)
            self.node_tags[row, 0 if -MILLI < milli < MILLI else len(gpus)] += sign
        if cpu:
            self.node_cpu[row] += cpu
        if mem:
            self.node_mem[row] += mem
        classes = self.classes
        if old is None:
            old = int(self.node_class[row])
        pool, old_cpu, old_mem, old_gpus = classes.keys[old]  # the row's state until now
        if len(old_gpus) > 1:
            state = tuple(sorted(values[: len(old_gpus)], reverse=True))
        else:
            state = tuple(values[: len(old_gpus)])
        key = (pool, old_cpu + cpu, old_mem + mem, state)
        new = classes.ids.get(key)
        if new is None:
            new = classes.intern(key)
        if new != old:
            self.node_class[row] = new
            index = self._index
            assert index is not None
            index.move(row, old, new)

    def _class_of(self, row: int) -> int:
        count = int(self.node_gpus[row])
        gpus = tuple(sorted(self.gpu_free[row, :count].tolist(), reverse=True))
        key = (int(self.node_pool[row]), int(self.node_cpu[row]), int(self.node_mem[row]), gpus)
        return self.classes.intern(key)
