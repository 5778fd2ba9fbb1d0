"""What the simulator replays: jobs, centers, and the fleet as an engine snapshot.

Each center is one pool of identical nodes (for Philly: one per virtual cluster, 8 GPUs a
node) in a snapshot built with the engine's :class:`~suanli.engine.SnapshotBuilder`. The
engine has no notion of a "center constraint", but it filters pools by province
(:class:`~suanli.engine.plugins.RegionFilter`), so every center gets its own province
value, its name; a job restricted to its home center asks for ``provinces={home}``.

A job of ``cards`` GPUs asks for one node when it fits on the largest node; otherwise it is
a gang of ``cards / p`` nodes with ``p`` GPUs each, ``p`` the largest divisor of ``cards``
not above the largest node (16 GPUs on 8-GPU nodes: 2 nodes of 8).
"""

from __future__ import annotations

from dataclasses import dataclass

from suanli.engine import Demand, PoolInfo, Snapshot, SnapshotBuilder

#: The scenarios a replay can run.
SCENARIOS: tuple[str, ...] = ("isolated", "exchange", "exchange+vouchers")
DEFAULT_SCENARIOS: tuple[str, ...] = ("isolated", "exchange")
"""What ``sim run`` and ``sim study`` compare unless told otherwise."""

GPU_MODEL = "GPU"
"""Every simulated node has the same accelerator: traces do not say which."""
PRICE_FEN = 100
"""One price everywhere, so the price policy falls through to its packing score."""


@dataclass(frozen=True, slots=True)
class Job:
    """One job of a trace: submitted ``submit`` seconds after the trace's epoch."""

    job_id: str
    submit: int
    duration: int
    cards: int
    home: str
    interruptible: bool = False
    """The job may be preempted by on-demand work (and then restarts later)."""


@dataclass(frozen=True, slots=True)
class Center:
    """A computing center: ``nodes`` nodes of ``gpus_per_node`` GPUs, and ``more`` groups
    of ``(nodes, gpus_per_node)`` where it has nodes of other sizes (each group one pool)."""

    name: str
    nodes: int
    gpus_per_node: int = 8
    more: tuple[tuple[int, int], ...] = ()

    @property
    def groups(self) -> tuple[tuple[int, int], ...]:
        """``(nodes, gpus_per_node)`` of each pool."""
        return ((self.nodes, self.gpus_per_node), *self.more)

    @property
    def cards(self) -> int:
        return sum(nodes * gpus for nodes, gpus in self.groups)


class Fleet:
    """The centers, in order; center ``i`` is engine center id ``i + 1`` (one pool per
    node group)."""

    def __init__(self, centers: tuple[Center, ...]) -> None:
        names = [c.name for c in centers]
        if len(set(names)) != len(names):
            raise ValueError("a center is listed twice")
        if not centers:
            raise ValueError("a fleet needs at least one center")
        self.centers = centers
        self.index = {c.name: i for i, c in enumerate(centers)}
        self.max_per_node = max(g for c in centers for _, g in c.groups)
        self._shapes: dict[int, int | None] = {}

    def with_homes(self, homes: set[str]) -> Fleet:
        """This fleet plus an empty center for each home that is not listed (its jobs can
        never run at home)."""
        missing = sorted(homes - set(self.index))
        if not missing:
            return self
        extra = tuple(Center(name, 0, self.max_per_node) for name in missing)
        return Fleet(self.centers + extra)

    @property
    def cards(self) -> int:
        return sum(c.cards for c in self.centers)

    def snapshot(self) -> Snapshot:
        """All nodes idle. Node ids count up from 0, center by center."""
        builder = SnapshotBuilder()
        node_id = pool_id = 0
        for i, center in enumerate(self.centers):
            for nodes, gpus in center.groups:
                builder.add_pool(
                    PoolInfo(
                        pool_id=pool_id,
                        center_id=i + 1,
                        label=center.name,
                        model=GPU_MODEL,
                        province=center.name,
                        price_fen=PRICE_FEN,
                        cards_per_node=gpus,
                        memory_gb=32,
                        tflops=100.0,
                        inter_node="infiniband",
                    )
                )
                for _ in range(nodes):
                    builder.add_node(node_id, pool_id)
                    node_id += 1
                pool_id += 1
        return builder.build()

    def demand(self, cards: int, home: str | None = None) -> Demand:
        """The engine's demand for a job of ``cards`` GPUs, at ``home`` only if given."""
        per_node = self._shapes.get(cards, 0)
        if per_node == 0:
            per_node = None
            if cards > self.max_per_node:
                per_node = max(d for d in range(1, self.max_per_node + 1) if cards % d == 0)
            self._shapes[cards] = per_node
        provinces = frozenset() if home is None else frozenset((home,))
        return Demand(cards=cards, cards_per_node=per_node, provinces=provinces)
