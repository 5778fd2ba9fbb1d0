"""Tie-breaks: which of equally scored candidates the engine selects.

Each gives candidate rows a preference key (lower wins). The live exchange takes the
lowest node id (deterministic, easy to explain); Kubernetes draws uniformly at random; the
FGD authors' simulator (a patched scheduler) takes the lexicographically smallest node
name, and their node names start with a random rank drawn once per run, so in effect each
run has a fixed random priority order over nodes (:class:`NodePriority`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Protocol

import numpy as np

from suanli.engine.snapshot import IntArray, Snapshot


class TieBreak(Protocol):
    """Preference keys for candidate rows: among equal scores the lowest key is selected."""

    name: ClassVar[str]

    def keys(self, snap: Snapshot, rows: IntArray) -> IntArray: ...


class LowestNodeId:
    """The lowest node id wins."""

    name: ClassVar[str] = "lowest-id"
    static: ClassVar[bool] = True
    row_order: ClassVar[bool] = True

    def keys(self, snap: Snapshot, rows: IntArray) -> IntArray:
        return snap.node_id[rows]


class RandomTie:
    """A uniform draw from the generator (Kubernetes' reservoir sampling)."""

    name: ClassVar[str] = "random"

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def keys(self, snap: Snapshot, rows: IntArray) -> IntArray:
        return self.rng.permutation(rows.size).astype(np.int64)


class NodePriority:
    """A fixed rank per node id (lower first); nodes without a rank come last, by id."""

    name: ClassVar[str] = "priority"
    static: ClassVar[bool] = True

    def __init__(self, rank: Mapping[int, int]) -> None:
        self.rank = dict(rank)
        self._cache: tuple[IntArray, IntArray] | None = None

    def keys(self, snap: Snapshot, rows: IntArray) -> IntArray:
        if self._cache is None or self._cache[0] is not snap.node_id:
            worst = len(self.rank)
            per_row = np.array(
                [self.rank.get(int(n), worst + i) for i, n in enumerate(snap.node_id)],
                dtype=np.int64,
            )
            self._cache = (snap.node_id, per_row)
        return self._cache[1][rows]
