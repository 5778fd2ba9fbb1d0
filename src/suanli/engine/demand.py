"""What the engine is asked to place, and what it answers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Demand:
    """A request's shape and hard constraints, as the engine sees them.

    ``cards_per_node`` None means all ``cards`` on one node; otherwise the request is a
    gang of ``cards // cards_per_node`` nodes in one pool, linked by at least
    ``inter_node``. Empty ``accepted_models`` / ``provinces`` mean "any".
    """

    cards: int
    cards_per_node: int | None = None
    inter_node: str | None = None
    accepted_models: frozenset[str] = frozenset()
    min_memory_gb: int | None = None
    min_tflops: float | None = None
    provinces: frozenset[str] = frozenset()
    max_price_fen: int | None = None

    def __post_init__(self) -> None:
        if self.cards <= 0:
            raise ValueError("cards must be positive")
        if self.cards_per_node is not None and (
            self.cards_per_node <= 0 or self.cards % self.cards_per_node
        ):
            raise ValueError("cards must be a positive multiple of cards_per_node")

    @property
    def per_node(self) -> int:
        return self.cards if self.cards_per_node is None else self.cards_per_node

    @property
    def node_count(self) -> int:
        return self.cards // self.per_node


@dataclass(frozen=True, slots=True)
class Allocation:
    """``cards`` cards on node ``node_id``."""

    node_id: int
    cards: int


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


@dataclass(frozen=True, slots=True)
class Unplaced:
    """Why a demand fits nowhere now, and the closest things that exist."""

    reasons: tuple[str, ...]
    nearest: tuple[str, ...]
