"""Step 1 of a decision: the pool filters, memoized.

Pools never change within a snapshot's class registry, so what a filter says about a
demand is worked out once and kept on the registry's memo:

* per filter, its mask for the demand fields it reads (:meth:`key` of the built-in
  filters; a filter without one is asked every time a new signature shows up);
* per demand signature (:func:`signature`), the surviving pools, and separately the
  filters' statuses, which only an unplaced demand needs (reasons are sentences).
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np

from suanli.engine.demand import Code, Demand, Status
from suanli.engine.protocols import BoolArray, PoolFilter
from suanli.engine.snapshot import Snapshot

__all__ = ["alive_pools", "every_pool", "filter_statuses", "pool_mask", "signature"]


def signature(demand: Demand) -> Hashable:
    """The demand's hard constraints, as the pool filters see them."""
    return (
        demand.accepted_models,
        demand.min_memory_gb,
        demand.min_tflops,
        demand.provinces,
        demand.max_price_fen,
        demand.per_node,
        demand.node_count > 1 and (demand.inter_node or "ethernet"),
    )


def pool_mask(snap: Snapshot, plugin: PoolFilter, demand: Demand) -> BoolArray:
    """One filter's mask (memoized by its ``key`` when it has one): shared, read only."""
    keyer = getattr(plugin, "key", None)
    if keyer is None:
        return plugin.mask(snap, demand)
    key = ("pool-mask", plugin, keyer(demand))
    found = snap.classes.memo.get(key)
    if found is None:
        found = snap.classes.memo[key] = plugin.mask(snap, demand)
    return found  # type: ignore[return-value]


def every_pool(snap: Snapshot) -> BoolArray:
    """The mask of all pools, one shared array: :func:`alive_pools` returns this very
    object when no pool is cut, so that callers can skip masking."""
    found = snap.classes.memo.get("every-pool")
    if found is None:
        found = snap.classes.memo["every-pool"] = np.ones(len(snap.pools), dtype=np.bool_)
    return found  # type: ignore[return-value]


def alive_pools(snap: Snapshot, filters: tuple[PoolFilter, ...], demand: Demand) -> BoolArray:
    """The pools that pass every filter: a shared mask, not to be written to."""
    key = ("alive-pools", filters, signature(demand))
    found = snap.classes.memo.get(key)
    if found is None:
        alive = np.ones(len(snap.pools), dtype=np.bool_)
        for plugin in filters:
            alive &= pool_mask(snap, plugin, demand)
        found = snap.classes.memo[key] = every_pool(snap) if alive.all() else alive
    return found  # type: ignore[return-value]


def filter_statuses(
    snap: Snapshot, filters: tuple[PoolFilter, ...], demand: Demand
) -> tuple[BoolArray, tuple[Status, ...]]:
    """The surviving pools and each filter's status, in order (shared, not to be written)."""
    key = ("pool-statuses", filters, signature(demand))
    found = snap.classes.memo.get(key)
    if found is None:
        alive = np.ones(len(snap.pools), dtype=np.bool_)
        statuses: list[Status] = []
        for plugin in filters:
            mask = pool_mask(snap, plugin, demand)
            cut = int((alive & ~mask).sum())
            if cut:
                reason = plugin.explain(demand, cut)
                statuses.append(Status(plugin.name, Code.UNRESOLVABLE, (reason,)))
            else:
                statuses.append(Status(plugin.name, Code.SUCCESS))
            alive &= mask
        found = snap.classes.memo[key] = (alive, tuple(statuses))
    return found  # type: ignore[return-value]
