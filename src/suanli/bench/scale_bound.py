"""How much could any batch clearing place? An LP bound (HiGHS) for ``bench scale --bound``.

The engine's batch mode is one greedy pass (scarcest, then biggest first, see
:mod:`suanli.engine.batch`). Whether an exact assignment
(a MILP over requests x nodes) would pay is answered by an upper bound on what *any*
assignment can place: requests with the same feasible pools (after the engine's own
filters: models, region, price cap, node shape, fabric) form a group asking for the sum
of their milli-GPU; each pool offers its free milli-GPU; the transportation LP

    max sum x[g, p]   s.t.   sum_p x[g, p] <= asked[g],   sum_g x[g, p] <= free[p],   x >= 0

over feasible pairs relaxes both integrality (a request is placed whole or not at all)
and packing (cards of one request must share a node, gangs whole nodes), so its optimum
bounds every clearing from above. At national scale it has a few thousand groups and
tens of thousands of pairs, which HiGHS solves in well under a second.
"""

from __future__ import annotations

from collections.abc import Sequence

import highspy
import numpy as np

from suanli.engine import Demand, Engine, Snapshot
from suanli.engine.filtering import alive_pools

__all__ = ["placeable_bound"]


def placeable_bound(engine: Engine, snap: Snapshot, demands: Sequence[Demand]) -> float:
    """An upper bound on the milli-GPU of ``demands`` that fits ``snap``'s free capacity."""
    asked: dict[bytes, int] = {}
    for demand in demands:
        key = alive_pools(snap, engine.filters, demand).tobytes()
        asked[key] = asked.get(key, 0) + demand.total_gpu_milli
    free = np.bincount(snap.node_pool, weights=snap.gpu_free.sum(axis=1), minlength=len(snap.pools))
    groups = len(asked)
    rows: list[int] = []  # column j, a feasible pair, has a 1 in rows[2j] and rows[2j + 1]
    for g, key in enumerate(asked):
        for p in np.flatnonzero(np.frombuffer(key, dtype=np.bool_)).tolist():
            rows += [g, groups + p]
    n = len(rows) // 2
    if n == 0:
        return 0.0
    highs = highspy.Highs()  # type: ignore[no-untyped-call]
    highs.setOptionValue("output_flag", False)
    upper = np.concatenate([np.array(list(asked.values()), dtype=np.float64), free])
    empty = np.zeros(len(upper), dtype=np.int64)  # rows start empty; columns fill them
    highs.addRows(len(upper), np.zeros(len(upper)), upper, 0, empty, empty[:0], np.zeros(0))
    index = np.array(rows, dtype=np.int64)
    starts = np.arange(0, 2 * n, 2, dtype=np.int64)
    highs.addCols(
        n,
        np.ones(n),
        np.zeros(n),
        np.full(n, highspy.kHighsInf),
        2 * n,
        starts,
        index,
        np.ones(2 * n),
    )
    highs.changeObjectiveSense(highspy.ObjSense.kMaximize)
    highs.run()
    status = highs.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        raise RuntimeError(f"HiGHS did not solve the bound LP: {highs.modelStatusToString(status)}")
    return float(highs.getObjectiveValue())
