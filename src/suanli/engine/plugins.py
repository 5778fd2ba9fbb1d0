"""The engine's plugins: filters (hard constraints) and scores (soft preferences).

Each plugin has a ``name``. A filter returns a boolean mask over pools (or nodes) and,
for what it excluded, a sentence a buyer can act on. A score returns integers 0-100
over candidate nodes, higher is better; the pipeline weights and adds them.
"""

from __future__ import annotations

from typing import ClassVar, Protocol

import numpy as np
import numpy.typing as npt

from suanli.engine.demand import Demand
from suanli.engine.snapshot import INTER_NODE_RANK, IntArray, Snapshot
from suanli.kit.money import yuan

BoolArray = npt.NDArray[np.bool_]


class PoolFilter(Protocol):
    """A hard constraint decided per pool."""

    name: ClassVar[str]

    def mask(self, snap: Snapshot, demand: Demand) -> BoolArray: ...

    def explain(self, demand: Demand, excluded: int) -> str: ...


def _pools(n: int) -> str:
    return f"{n} pool{'s' if n != 1 else ''}"


class ModelFilter:
    """Accepted accelerator models, minimum memory per card, minimum TFLOPS per card."""

    name: ClassVar[str] = "model"

    def mask(self, snap: Snapshot, demand: Demand) -> BoolArray:
        ok = np.ones(len(snap.pools), dtype=np.bool_)
        if demand.accepted_models:
            wanted = [i for i, m in enumerate(snap.models) if m in demand.accepted_models]
            ok &= np.isin(snap.pool_model, wanted)
        if demand.min_memory_gb is not None:
            ok &= snap.pool_memory_gb >= demand.min_memory_gb
        if demand.min_tflops is not None:
            ok &= snap.pool_tflops >= demand.min_tflops
        return ok

    def explain(self, demand: Demand, excluded: int) -> str:
        wants = []
        if demand.accepted_models:
            wants.append("/".join(sorted(demand.accepted_models)))
        if demand.min_memory_gb is not None:
            wants.append(f">= {demand.min_memory_gb} GB per card")
        if demand.min_tflops is not None:
            wants.append(f">= {demand.min_tflops:g} TFLOPS per card")
        return f"{_pools(excluded)} offer no accelerator matching {', '.join(wants)}"


class RegionFilter:
    """Only pools in the provinces the buyer named."""

    name: ClassVar[str] = "region"

    def mask(self, snap: Snapshot, demand: Demand) -> BoolArray:
        if not demand.provinces:
            return np.ones(len(snap.pools), dtype=np.bool_)
        wanted = [i for i, p in enumerate(snap.provinces) if p in demand.provinces]
        return np.isin(snap.pool_province, wanted)

    def explain(self, demand: Demand, excluded: int) -> str:
        return f"{_pools(excluded)} are outside {'/'.join(sorted(demand.provinces))}"


class PriceFilter:
    """Only pools priced at or under the buyer's cap per card-hour."""

    name: ClassVar[str] = "price"

    def mask(self, snap: Snapshot, demand: Demand) -> BoolArray:
        if demand.max_price_fen is None:
            return np.ones(len(snap.pools), dtype=np.bool_)
        return snap.pool_price <= demand.max_price_fen

    def explain(self, demand: Demand, excluded: int) -> str:
        cap = yuan(demand.max_price_fen or 0)
        return f"{_pools(excluded)} cost more than {cap}/card-hour"


class ShapeFilter:
    """Nodes big enough for the per-node share; for gangs, a fast enough fabric."""

    name: ClassVar[str] = "shape"

    def mask(self, snap: Snapshot, demand: Demand) -> BoolArray:
        ok = snap.pool_cards_per_node >= demand.per_node
        if demand.node_count > 1:
            need = INTER_NODE_RANK[demand.inter_node or "ethernet"]
            ok &= snap.pool_inter_rank >= need
        return np.asarray(ok, dtype=np.bool_)

    def explain(self, demand: Demand, excluded: int) -> str:
        text = f"{_pools(excluded)} have fewer than {demand.per_node} cards per node"
        if demand.node_count > 1:
            text += f" or no {demand.inter_node or 'network'} between nodes"
        return text


DEFAULT_FILTERS: tuple[PoolFilter, ...] = (
    ModelFilter(),
    RegionFilter(),
    PriceFilter(),
    ShapeFilter(),
)


class NodeScore(Protocol):
    """A soft preference over candidate node rows, 0-100."""

    name: ClassVar[str]

    def score(self, snap: Snapshot, demand: Demand, rows: IntArray) -> IntArray: ...


def _normalize_low_is_best(values: IntArray) -> IntArray:
    low, high = int(values.min()), int(values.max())
    if high == low:
        return np.full(values.shape, 100, dtype=np.int64)
    return ((high - values) * 100) // (high - low)


class PriceScore:
    """Cheaper is better, relative to the cheapest and dearest candidates."""

    name: ClassVar[str] = "price"

    def score(self, snap: Snapshot, demand: Demand, rows: IntArray) -> IntArray:
        return _normalize_low_is_best(snap.pool_price[snap.node_pool[rows]])


class BestFitScore:
    """Fewer cards left idle on the node after placing is better (keeps nodes whole)."""

    name: ClassVar[str] = "bestfit"

    def score(self, snap: Snapshot, demand: Demand, rows: IntArray) -> IntArray:
        leftover = snap.node_free[rows] - demand.per_node
        per_node = snap.pool_cards_per_node[snap.node_pool[rows]]
        return 100 - (leftover * 100) // np.maximum(per_node, 1)


DEFAULT_SCORES: tuple[tuple[NodeScore, int], ...] = ((PriceScore(), 100), (BestFitScore(), 1))
