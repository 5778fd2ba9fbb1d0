"""The placement engine: pure matching of requests to free capacity.

No database, network or clock: it works on a :class:`Snapshot` of free capacity (NumPy
arrays: per node free CPU, memory and milli-GPU per GPU) and a :class:`Demand`, and returns
a :class:`Placement` (which node, which GPUs, how much of each) or an :class:`Unplaced`
with reasons and the nearest alternatives. The live exchange, the demo, the simulator and
the benchmarks all call the same :class:`Engine`.

A decision runs the pipeline of the Kubernetes scheduling framework: filter (hard
constraints, each a named plugin that says why it excluded what it excluded) -> score
(integer 0-100 per plugin, weighted) -> select -> reserve / unreserve. Policies (the FGD
paper's baselines, FGD itself and ours) are named engine configurations, see
:func:`make_engine`.

At national scale (hundreds of thousands of cards) a decision does not look at single
nodes: nodes in the same state are one class, the snapshot keeps an index of the live
classes (:mod:`.index`), filters are memoized per demand signature (:mod:`.filtering`),
and the select step ranks classes with the very same plugins (:mod:`.byclass`).
``Engine.clear`` clears a batch of demands in one pass, scarcest and biggest first
(:mod:`.batch`).
"""

from suanli.engine.builder import SnapshotBuilder
from suanli.engine.demand import (
    MILLI,
    Allocation,
    Code,
    Demand,
    Placement,
    Status,
    Unplaced,
)
from suanli.engine.mix import DemandMix, Shape
from suanli.engine.pipeline import Engine
from suanli.engine.policies import POLICIES, make_engine
from suanli.engine.snapshot import INTER_NODE_RANK, UNLIMITED, PoolInfo, Snapshot

__all__ = [
    "INTER_NODE_RANK",
    "MILLI",
    "POLICIES",
    "UNLIMITED",
    "Allocation",
    "Code",
    "Demand",
    "DemandMix",
    "Engine",
    "Placement",
    "PoolInfo",
    "Shape",
    "Snapshot",
    "SnapshotBuilder",
    "Status",
    "Unplaced",
    "make_engine",
]
