"""The engine's filters: hard constraints per pool, and the fit of free capacity per node.

A pool filter returns a boolean mask over pools and, for what it excluded, a sentence a
buyer can act on; what it cuts can never fit however capacity changes (unresolvable). The
fit filter works per node on current free capacity (unschedulable when it cuts all).
Scores live in :mod:`suanli.engine.scores`, :mod:`suanli.engine.paper` and
:mod:`suanli.engine.ours`; they are re-exported here for old imports.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import ClassVar

import numpy as np

from suanli.engine import reasons
from suanli.engine.demand import Demand
from suanli.engine.protocols import BoolArray, GpuPicker, NodeFilter, NodeScore, PoolFilter
from suanli.engine.scores import BestFitScore, PriceScore
from suanli.engine.snapshot import INTER_NODE_RANK, IntArray, Snapshot

__all__ = [
    "DEFAULT_FILTERS",
    "BestFitScore",
    "BoolArray",
    "FitFilter",
    "GpuPicker",
    "ModelFilter",
    "NodeFilter",
    "NodeScore",
    "PoolFilter",
    "PriceFilter",
    "PriceScore",
    "RegionFilter",
    "ShapeFilter",
]


class ModelFilter:
    """Accepted accelerator models, minimum memory per card, minimum TFLOPS per card."""

    name: ClassVar[str] = "model"

    def key(self, demand: Demand) -> Hashable:
        """The demand fields the mask reads."""
        return (demand.accepted_models, demand.min_memory_gb, demand.min_tflops)

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
        return reasons.off_model(
            excluded, demand.accepted_models, demand.min_memory_gb, demand.min_tflops
        )


class RegionFilter:
    """Only pools in the provinces the buyer named."""

    name: ClassVar[str] = "region"

    def key(self, demand: Demand) -> Hashable:
        return demand.provinces

    def mask(self, snap: Snapshot, demand: Demand) -> BoolArray:
        if not demand.provinces:
            return np.ones(len(snap.pools), dtype=np.bool_)
        wanted = [i for i, p in enumerate(snap.provinces) if p in demand.provinces]
        return np.isin(snap.pool_province, wanted)

    def explain(self, demand: Demand, excluded: int) -> str:
        return reasons.off_region(excluded, demand.provinces)


class PriceFilter:
    """Only pools priced at or under the buyer's cap per card-hour."""

    name: ClassVar[str] = "price"

    def key(self, demand: Demand) -> Hashable:
        return demand.max_price_fen

    def mask(self, snap: Snapshot, demand: Demand) -> BoolArray:
        if demand.max_price_fen is None:
            return np.ones(len(snap.pools), dtype=np.bool_)
        return np.asarray(snap.pool_price <= demand.max_price_fen, dtype=np.bool_)

    def explain(self, demand: Demand, excluded: int) -> str:
        return reasons.off_price(excluded, demand.max_price_fen or 0)


class ShapeFilter:
    """Nodes big enough for the per-node share; for gangs, a fast enough fabric."""

    name: ClassVar[str] = "shape"

    def key(self, demand: Demand) -> Hashable:
        return (demand.per_node, demand.node_count > 1 and (demand.inter_node or "ethernet"))

    def mask(self, snap: Snapshot, demand: Demand) -> BoolArray:
        ok = snap.pool_cards_per_node >= demand.per_node
        if demand.node_count > 1:
            need = INTER_NODE_RANK[demand.inter_node or "ethernet"]
            ok &= snap.pool_inter_rank >= need
        return np.asarray(ok, dtype=np.bool_)

    def explain(self, demand: Demand, excluded: int) -> str:
        fabric = (demand.inter_node or "ethernet") if demand.node_count > 1 else None
        return reasons.off_shape(excluded, demand.per_node, fabric)


class FitFilter:
    """Nodes with the demand's CPU, memory and ``per_node`` GPUs of ``gpu_milli`` free each."""

    name: ClassVar[str] = "fit"
    scope: ClassVar[str] = "class"

    def node_mask(self, snap: Snapshot, demand: Demand) -> BoolArray:
        return self.rows_mask(snap, demand, slice(None))

    def rows_mask(self, snap: Snapshot, demand: Demand, rows: IntArray | slice) -> BoolArray:
        """The fit of the given rows (all rows for ``slice(None)``)."""
        ok = snap.node_cpu[rows] >= demand.cpu_milli
        if demand.memory_mib:
            ok &= snap.node_mem[rows] >= demand.memory_mib
        if demand.cards:
            fitting = (snap.gpu_free[rows] >= demand.gpu_milli).sum(axis=1)
            ok &= fitting >= demand.per_node
        return np.asarray(ok, dtype=np.bool_)

    @staticmethod
    def explain(demand: Demand, pools: int) -> str:
        shape = demand.describe_both()
        if demand.node_count == 1:
            return reasons.fit_single(pools, shape)
        return reasons.fit_gang(pools, demand.node_count, shape)


DEFAULT_FILTERS: tuple[PoolFilter, ...] = (
    ModelFilter(),
    RegionFilter(),
    PriceFilter(),
    ShapeFilter(),
)
