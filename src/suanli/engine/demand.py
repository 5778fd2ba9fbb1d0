"""What the engine is asked to place, and what it answers.

Units everywhere: GPU in milli (1000 = one whole GPU), CPU in milli-cores, memory in MiB.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from suanli.engine.reasons import describe

#: One whole GPU, in milli-GPU.
MILLI = 1000


class Code(StrEnum):
    """How a decision (or one plugin's part of it) came out."""

    SUCCESS = "success"
    """The plugin passed the candidates it was given, or the demand was placed."""
    UNSCHEDULABLE = "unschedulable"
    """Nothing fits now, but something listed would fit once capacity frees up."""
    UNRESOLVABLE = "unresolvable"
    """No listed capacity could ever take it as asked: relax the request."""


@dataclass(frozen=True, slots=True)
class Status:
    """One plugin's verdict: its name, a code and, when it cut anything, why."""

    plugin: str
    code: Code
    reasons: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.code is Code.SUCCESS


@dataclass(frozen=True, slots=True)
class Demand:
    """A request's shape and hard constraints, as the engine sees them.

    ``cards`` GPUs in all: ``cards_per_node`` on each of ``cards // cards_per_node`` nodes
    of one pool linked by at least ``inter_node`` (a gang), or all on one node when
    ``cards_per_node`` is None. ``gpu_milli`` is the share of each GPU: below 1000 the
    demand is a fraction of one GPU (then ``cards`` is 1). ``cards`` 0 is a CPU-only
    demand. ``cpu_milli`` and ``memory_mib`` are needed on every node of the placement.
    Empty ``accepted_models`` / ``provinces`` mean "any".

    Whole-card exchange requests keep their old form: ``Demand(cards=8)`` is 8 whole GPUs
    with no CPU or memory asked.

    ``split`` says the buyer left the shape open (no ``cards_per_node``): where no node
    of a pool is big enough, the engine may spread the cards over several of its nodes
    (:meth:`suanli.engine.Engine.shapes`), linked by at least ``inter_node`` (ethernet
    when None).
    """

    cards: int
    cards_per_node: int | None = None
    inter_node: str | None = None
    accepted_models: frozenset[str] = frozenset()
    min_memory_gb: int | None = None
    min_tflops: float | None = None
    provinces: frozenset[str] = frozenset()
    max_price_fen: int | None = None
    gpu_milli: int = MILLI
    cpu_milli: int = 0
    memory_mib: int = 0
    split: bool = False

    def __post_init__(self) -> None:
        if self.cpu_milli < 0 or self.memory_mib < 0:
            raise ValueError("CPU and memory must not be negative")
        if self.cards < 0 or (self.cards == 0 and not (self.cpu_milli or self.memory_mib)):
            raise ValueError("cards must be positive (or the demand must ask for CPU or memory)")
        if self.cards_per_node is not None and (
            self.cards_per_node <= 0 or self.cards % self.cards_per_node
        ):
            raise ValueError("cards must be a positive multiple of cards_per_node")
        if not 0 < self.gpu_milli <= MILLI:
            raise ValueError(f"gpu_milli must be in 1..{MILLI}")
        if self.gpu_milli < MILLI and self.cards != 1:
            raise ValueError("a share of a GPU (gpu_milli < 1000) is for exactly one GPU")

    @property
    def per_node(self) -> int:
        """GPUs on each node of the placement."""
        return self.cards if self.cards_per_node is None else self.cards_per_node

    @property
    def node_count(self) -> int:
        return 1 if self.cards == 0 else self.cards // self.per_node

    @property
    def is_share(self) -> bool:
        return self.cards == 1 and self.gpu_milli < MILLI

    @property
    def milli_per_gpu(self) -> int:
        """Milli-GPU taken from each GPU used; 0 for a CPU-only demand."""
        return self.gpu_milli if self.cards else 0

    @property
    def total_gpu_milli(self) -> int:
        return self.cards * self.milli_per_gpu

    def describe(self) -> str:
        """The per-node shape in words, for reasons: '8 free cards', '0.46 of a free GPU'."""
        return self.describe_both()[0]

    def describe_both(self) -> tuple[str, str]:
        """The per-node shape in English and Chinese (see :mod:`suanli.engine.reasons`)."""
        return describe(
            self.cards,
            self.per_node,
            self.gpu_milli / MILLI if self.is_share else None,
            self.cpu_milli / 1000,
            self.memory_mib / 1024,
        )


@dataclass(frozen=True, slots=True)
class Allocation:
    """What one node gives: ``cards`` GPUs (indices ``gpus``), each ``gpu_milli`` of it.

    ``gpus`` empty is the legacy form (whole cards, whichever are free); the engine always
    names the GPUs it chose. CPU and memory are taken once per node.
    """

    node_id: int
    cards: int
    gpus: tuple[int, ...] = ()
    gpu_milli: int = MILLI
    cpu_milli: int = 0
    memory_mib: int = 0

    def __post_init__(self) -> None:
        if self.gpus and len(self.gpus) != self.cards:
            raise ValueError("an allocation names one GPU index per card")


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a demand goes: one pool, one or more nodes, at the pool's price."""

    pool_id: int
    center_id: int
    price_fen: int
    allocations: tuple[Allocation, ...]
    score: int

    @property
    def cards(self) -> int:
        return sum(a.cards for a in self.allocations)

    @property
    def gpu_milli(self) -> int:
        """Milli-GPU taken in all."""
        return sum(a.cards * a.gpu_milli for a in self.allocations)


@dataclass(frozen=True, slots=True)
class Unplaced:
    """Why a demand fits nowhere now, and the closest things that exist."""

    reasons: tuple[str, ...]
    nearest: tuple[str, ...]
    code: Code = Code.UNSCHEDULABLE
