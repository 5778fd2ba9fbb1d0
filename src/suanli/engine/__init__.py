"""The placement engine: pure matching of requests to free capacity.

No database, network or clock: it works on a :class:`Snapshot` of free capacity (NumPy
arrays, one row per node) and a :class:`Demand`, and returns a :class:`Placement` or an
:class:`Unplaced` with reasons and the nearest alternatives. The live exchange, the demo
and (later) the simulator all call the same :class:`Engine`.

A decision runs the pipeline of the Kubernetes scheduling framework: filter (hard
constraints, each a named plugin that says why it excluded what it excluded) -> score
(integer 0-100 per plugin, weighted) -> select -> reserve / unreserve.
"""

from suanli.engine.demand import Allocation, Demand, Placement, Unplaced
from suanli.engine.pipeline import Engine
from suanli.engine.snapshot import INTER_NODE_RANK, PoolInfo, Snapshot, SnapshotBuilder

__all__ = [
    "INTER_NODE_RANK",
    "Allocation",
    "Demand",
    "Engine",
    "Placement",
    "PoolInfo",
    "Snapshot",
    "SnapshotBuilder",
    "Unplaced",
]
