"""FGD: place each demand where it increases the cluster's fragmentation least.

As the authors' ``FGDScore`` plugin (hkust-adsl/kubernetes-scheduler-simulator):

* score(node) = ``int(sigmoid((F_before - F_after) / 1000) * 100)``, where ``F_after`` is the
  node's fragmentation once the demand is placed; the truncation to an integer makes
  nearby nodes tie, and Kubernetes breaks ties uniformly at random;
* a share of a GPU is tried on every GPU with room; the node scores its best GPU, and the
  demand gets the lowest-index GPU with that score;
* whole GPUs take the lowest-index wholly free GPUs; CPU-only demands change only CPU.

Scores are computed once per (node class, demand shape) and memoized on the snapshot's
class registry, which is what makes a 10,000-pod trace take seconds, not half an hour.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import ClassVar

import numpy as np

from suanli.engine.classes import FloatArray, IntArray, table
from suanli.engine.demand import MILLI, Demand
from suanli.engine.frag import class_frag, frag_model
from suanli.engine.gpus import whole_gpus
from suanli.engine.mix import DemandMix
from suanli.engine.snapshot import Snapshot


def after_states(
    snap: Snapshot, demand: Demand, rows: IntArray
) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """Every way of placing ``demand`` on each row: (option row index, cpu, gpus, gpu slot).

    One option per row for whole GPUs and CPU-only demands (slot -1); one per fitting GPU
    for a share (slot = the GPU taken).
    """
    gpus = snap.gpu_free[rows]
    cpu = snap.node_cpu[rows] - demand.cpu_milli
    if demand.is_share:
        owner, slot = np.nonzero(gpus >= demand.gpu_milli)
        after = gpus[owner].copy()
        after[np.arange(owner.size), slot] -= demand.gpu_milli
        return owner, cpu[owner], after, slot
    owner = np.arange(rows.size)
    if demand.cards:
        full = gpus == MILLI
        take = full & (np.cumsum(full, axis=1) <= demand.per_node)
        gpus = gpus - take * MILLI
    return owner, cpu, gpus, np.full(rows.size, -1)


def frag_drops(snap: Snapshot, mix: DemandMix, demand: Demand, rows: IntArray) -> FloatArray:
    """``F_before - F_after`` of each option of :func:`after_states` (milli-GPU)."""
    owner, cpu, gpus, _ = after_states(snap, demand, rows)
    before = class_frag(snap, mix, rows)[owner]
    after = frag_model(snap, mix).frag(snap.node_model[rows][owner], cpu, gpus)
    return np.asarray(before - after, dtype=np.float64)


def class_scores(
    snap: Snapshot,
    key: Hashable,
    rows: IntArray,
    options: Callable[[IntArray], tuple[IntArray, FloatArray]],
    floor: float,
) -> IntArray:
    """Each row's score, memoized per node class under ``key``.

    For the classes not scored yet, ``options(reps)`` gives, for one representative row of
    each, every option's row index (into ``reps``) and score; a class scores its best
    option (``floor`` when it has none).
    """
    memo = table(snap.classes, key)
    cls = snap.node_class[rows]
    values = memo.get(cls)
    missing = np.isnan(values)
    if missing.any():
        ids, first = np.unique(cls[missing], return_index=True)
        reps = rows[missing][first]
        owner, option = options(reps)
        best = np.full(reps.size, floor)
        np.maximum.at(best, owner, option)
        memo.put(ids, best)
        values = memo.get(cls)
    return values.astype(np.int64)


def fgd_scores(snap: Snapshot, mix: DemandMix, demand: Demand, rows: IntArray) -> FloatArray:
    """The integer FGD score of each option of :func:`after_states` (as floats)."""
    drop = frag_drops(snap, mix, demand, rows)
    return np.trunc((1.0 / (1.0 + np.exp(-drop / 1000.0))) * 100.0)


class FgdScore:
    """The paper's FGD node score, 0-100 (see the module docstring)."""

    name: ClassVar[str] = "fgd"
    scope: ClassVar[str] = "class"

    def __init__(self, mix: DemandMix) -> None:
        self.mix = mix

    def score(self, snap: Snapshot, demand: Demand, rows: IntArray) -> IntArray:
        key = ("fgd", self.mix, demand.cpu_milli, demand.per_node, demand.milli_per_gpu)

        def options(reps: IntArray) -> tuple[IntArray, FloatArray]:
            owner = after_states(snap, demand, reps)[0]
            return owner, fgd_scores(snap, self.mix, demand, reps)

        return class_scores(snap, key, rows, options, -1.0)


class FgdGpu:
    """A share goes to the lowest-index GPU with the best FGD score; whole GPUs lowest first."""

    name: ClassVar[str] = "fgd-gpu"

    def __init__(self, mix: DemandMix) -> None:
        self.mix = mix

    def pick(self, snap: Snapshot, demand: Demand, row: int) -> tuple[int, ...]:
        if demand.cards == 0:
            return ()
        if not demand.is_share:
            return whole_gpus(snap, row, demand.per_node)
        rows = np.array([row], dtype=np.int64)
        _, _, _, slot = after_states(snap, demand, rows)
        scores = fgd_scores(snap, self.mix, demand, rows)
        return (int(slot[int(np.argmax(scores))]),)  # argmax: first (lowest slot) of the best
