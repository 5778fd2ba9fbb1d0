"""The engine's extension points: one small interface per step of the pipeline.

* :class:`PoolFilter` -- a hard constraint decided per pool (model, region, price, ...).
* :class:`NodeFilter` -- a hard constraint decided per node (free CPU, memory, GPUs).
* :class:`NodeScore` -- a soft preference over candidate node rows, integers 0-100.
* :class:`GpuPicker` -- which GPU indices of the chosen node a demand gets.

Every plugin has a ``name``; filters also say, for what they cut, a sentence a buyer can act
on, and the pipeline turns that into a :class:`~suanli.engine.demand.Status`.
"""

from __future__ import annotations

from typing import ClassVar, Protocol

import numpy as np
import numpy.typing as npt

from suanli.engine.demand import Demand
from suanli.engine.snapshot import IntArray, Snapshot

BoolArray = npt.NDArray[np.bool_]


class PoolFilter(Protocol):
    """A hard constraint decided per pool: capacity can never change its verdict."""

    name: ClassVar[str]

    def mask(self, snap: Snapshot, demand: Demand) -> BoolArray: ...

    def explain(self, demand: Demand, excluded: int) -> str: ...


class NodeFilter(Protocol):
    """A hard constraint decided per node row, on its current free capacity."""

    name: ClassVar[str]

    def node_mask(self, snap: Snapshot, demand: Demand) -> BoolArray: ...


class NodeScore(Protocol):
    """A soft preference over candidate node rows (all of which fit), 0-100, higher is better."""

    name: ClassVar[str]

    def score(self, snap: Snapshot, demand: Demand, rows: IntArray) -> IntArray: ...


class GpuPicker(Protocol):
    """The GPUs of node ``row`` a demand takes (``demand.per_node`` indices, all fitting)."""

    name: ClassVar[str]

    def pick(self, snap: Snapshot, demand: Demand, row: int) -> tuple[int, ...]: ...
