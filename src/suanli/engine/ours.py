"""``suanli``: place each demand where it wastes the least GPU, counting CPU-stranded GPUs.

FGD charges a placement with the GPU fragmentation it adds against the typical shapes.
That misses the most common way GPUs go to waste on real fleets: a node whose CPU is used
up (by CPU-only pods, or GPU pods asking many cores) cannot host GPU work on its idle GPUs,
but FGD only notices when a typical shape stops fitting, so until then every node ties and
CPU-heavy work lands anywhere. We add the GPU *stranded* by missing CPU:

    stranded(node) = max(0, free milli-GPU - free milli-CPU / kappa)

where ``kappa`` is the CPU the mix asks per milli-GPU (its GPU shapes, weighted by
frequency). A node keeping enough CPU for its free GPUs strands nothing; CPU-rich nodes
(2-GPU T4 boxes with 104 cores) absorb CPU-only pods at no cost. The score is the waste
avoided, in milli-GPU:

    (F_before - F_after) + (stranded_before - stranded_after)

mapped to 0-100 as ``50 + waste_avoided / 10`` (clipped: 10 milli-GPU per point). A share
of a GPU goes to the GPU whose fragmentation drops most (lowest index on ties). Like FGD
it is computed once per (node class, demand shape) and memoized.

Measured on the five openb traces (the FGD paper's protocol, mean of seeds 42-51), GPU
allocation at 130% arrival, FGD -> suanli: default 95.39 -> 95.92, cpu050 95.21 -> 95.92,
gpushare40 94.15 -> 94.62, gpuspec10 94.95 -> 95.80, multigpu20 95.65 -> 96.48. Variants
that did not help (measured, then dropped): FGD on the exact, unquantized fragmentation
drop (-1 point: FGD's coarse integer score plus a fixed node priority packs better),
coarser or finer quantization (+-0.1), best-fit GPU choice for shares (+0.02).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from suanli.engine.classes import FloatArray, IntArray, table
from suanli.engine.demand import Demand
from suanli.engine.fgd import after_states, frag_drops
from suanli.engine.gpus import whole_gpus
from suanli.engine.mix import DemandMix
from suanli.engine.snapshot import Snapshot

MILLI_PER_POINT = 10


def cpu_per_gpu_milli(mix: DemandMix) -> float:
    """``kappa``: milli-CPU the mix's GPU shapes ask per milli-GPU (frequency weighted)."""
    cpu = sum(p * s.cpu_milli for s, p in zip(mix.shapes, mix.weights, strict=True) if s.gpus)
    gpu = sum(p * s.gpus * s.gpu_milli for s, p in zip(mix.shapes, mix.weights, strict=True))
    return cpu / gpu if gpu and cpu else 0.0


def stranded(gpu_free: FloatArray, cpu_free: FloatArray, kappa: float) -> FloatArray:
    """Milli-GPU that the free CPU cannot feed (0 when ``kappa`` is 0)."""
    if kappa <= 0:
        return np.zeros_like(gpu_free)
    return np.maximum(0.0, gpu_free - cpu_free / kappa)


def waste_avoided(snap: Snapshot, mix: DemandMix, demand: Demand, rows: IntArray) -> FloatArray:
    """Fragmentation drop plus stranding drop of each option of :func:`after_states`."""
    owner, *_ = after_states(snap, demand, rows)
    kappa = cpu_per_gpu_milli(mix)
    gpu = snap.gpu_free[rows].sum(axis=1).astype(np.float64)
    cpu = snap.node_cpu[rows].astype(np.float64)
    before = stranded(gpu, cpu, kappa)
    after = stranded(gpu - demand.total_gpu_milli, cpu - demand.cpu_milli, kappa)
    return frag_drops(snap, mix, demand, rows) + (before - after)[owner]


class SuanliScore:
    """Our node score, 0-100 (see the module docstring)."""

    name: ClassVar[str] = "suanli"
    scope: ClassVar[str] = "class"

    def __init__(self, mix: DemandMix) -> None:
        self.mix = mix

    def score(self, snap: Snapshot, demand: Demand, rows: IntArray) -> IntArray:
        key = ("suanli", self.mix, demand.cpu_milli, demand.per_node, demand.milli_per_gpu)
        memo = table(snap.classes, key)
        cls = snap.node_class[rows]
        values = memo.get(cls)
        missing = np.isnan(values)
        if missing.any():
            ids, first = np.unique(cls[missing], return_index=True)
            reps = rows[missing][first]
            owner, *_ = after_states(snap, demand, reps)
            option = waste_avoided(snap, self.mix, demand, reps)
            best = np.full(reps.size, -np.inf)
            np.maximum.at(best, owner, option)
            memo.put(ids, np.clip(np.trunc(50.0 + best / MILLI_PER_POINT), 0, 100))
            values = memo.get(cls)
        return values.astype(np.int64)


class SuanliGpu:
    """A share goes to the GPU whose fragmentation drops most; whole GPUs lowest first."""

    name: ClassVar[str] = "suanli-gpu"

    def __init__(self, mix: DemandMix) -> None:
        self.mix = mix

    def pick(self, snap: Snapshot, demand: Demand, row: int) -> tuple[int, ...]:
        if demand.cards == 0:
            return ()
        if not demand.is_share:
            return whole_gpus(snap, row, demand.per_node)
        rows = np.array([row], dtype=np.int64)
        _, _, _, slot = after_states(snap, demand, rows)
        drops = frag_drops(snap, self.mix, demand, rows)
        return (int(slot[int(np.argmax(drops))]),)
