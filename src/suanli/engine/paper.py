"""The baselines of the FGD paper (ATC'23), as its authors' simulator scores them.

Each mirrors one Go plugin of hkust-adsl/kubernetes-scheduler-simulator, integer
arithmetic and truncation included, with the constants it normalizes by: a node of at most
128 CPU cores (``MAX_CPU``) and 8 GPUs (``MAX_GPU``). All score only GPU nodes that
passed the filters; ties are broken by the engine's selection (uniform at random in the
paper's runs). GPUs inside the node: best fit for all of these except Random (random fit).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from suanli.engine.classes import IntArray
from suanli.engine.demand import MILLI, Demand
from suanli.engine.snapshot import Snapshot

MAX_CPU = 128_000  # milli-CPU of the largest node the paper normalizes by
MAX_GPU = 8_000  # milli-GPU of the largest node


def _clip(values: npt.NDArray[Any]) -> IntArray:
    return np.asarray(np.clip(values, 0, 100), dtype=np.int64)


class RandomScore:
    """Random: one candidate drawn uniformly scores 100, the rest 0."""

    name: ClassVar[str] = "random"

    def __init__(self, rng: np.random.Generator | None = None) -> None:
        self.rng = rng if rng is not None else np.random.default_rng(0)

    def score(self, snap: Snapshot, demand: Demand, rows: IntArray) -> IntArray:
        out = np.zeros(rows.size, dtype=np.int64)
        out[int(self.rng.integers(rows.size))] = 100
        return out


class DotProductScore:
    """DotProd (Tetris): least aligned free and asked (CPU, GPU) vectors score highest.

    ``int(100 * (1 - (cpu_free * cpu_ask / MAX_CPU^2 + gpu_free * gpu_ask / MAX_GPU^2) / 2))``
    with GPUs summed over the node ("merge" dimension, "max" normalization).
    """

    name: ClassVar[str] = "dotprod"
    scope: ClassVar[str] = "class"

    def score(self, snap: Snapshot, demand: Demand, rows: IntArray) -> IntArray:
        node_cpu = snap.node_cpu[rows] / MAX_CPU
        node_gpu = snap.gpu_free[rows].sum(axis=1) / MAX_GPU
        dot = node_cpu * (demand.cpu_milli / MAX_CPU) + node_gpu * (
            demand.total_gpu_milli / MAX_GPU
        )
        return _clip(np.trunc(100.0 * (1.0 - dot / 2.0)))


class GpuPackingScore:
    """GpuPacking: prefer shared GPUs, then used nodes' free GPUs, then idle nodes.

    1. a share fits on a partly used GPU: ``100 - (free_of_it // 10) // 10``, at least 50;
    2. else the node is partly used: ``50 - whole GPUs taken``, at least 33;
    3. the node is idle: ``max(33 - its GPUs, its GPUs)``. CPU-only demands score 0.
    """

    name: ClassVar[str] = "packing"
    scope: ClassVar[str] = "class"

    def score(self, snap: Snapshot, demand: Demand, rows: IntArray) -> IntArray:
        if demand.cards == 0:
            return np.zeros(rows.size, dtype=np.int64)
        gpus = snap.gpu_free[rows]
        count = snap.node_gpus[rows]
        whole = (gpus == MILLI).sum(axis=1)
        partial = (gpus >= demand.gpu_milli) & (gpus < MILLI)
        n_partial = partial.sum(axis=1)
        least = np.where(partial, gpus, MILLI).min(axis=1)
        shared = np.maximum(100 - (least // 10) // 10, 50)
        used = np.maximum(50 - (demand.per_node - np.minimum(n_partial, demand.per_node)), 33)
        idle = np.maximum(33 - whole, whole)
        out = np.where(n_partial >= demand.per_node, shared, used)
        return _clip(np.where(whole == count, idle, out))


class GpuClusteringScore:
    """GpuClustering: keep nodes to one kind of GPU work (shares, 1 GPU, 2 GPUs, ...).

    A quarter band by how the node's kinds relate to the demand's, and within the band
    ``25 * (MAX_GPU - free milli-GPU) // MAX_GPU``: only this kind 75+, this kind among
    others 50+, an idle node 25+, other kinds only 0+. CPU-only demands score 0.
    """

    name: ClassVar[str] = "clustering"

    def score(self, snap: Snapshot, demand: Demand, rows: IntArray) -> IntArray:
        if demand.cards == 0:
            return np.zeros(rows.size, dtype=np.int64)
        kind = 0 if demand.is_share else demand.per_node
        tags = snap.node_tags[rows]
        has = tags[:, kind] > 0
        kinds = (tags > 0).sum(axis=1)
        base = (25 * (MAX_GPU - snap.gpu_free[rows].sum(axis=1))) // MAX_GPU
        band = np.where(has, np.where(kinds == 1, 75, 50), np.where(kinds == 0, 25, 0))
        return _clip(base + band)


class PaperBestFitScore:
    """BestFit: least (CPU, GPU) left after placing, each weighted 1/2 and normalized.

    ``int(100 * (1 - (cpu_left / MAX_CPU / 2 + gpu_left / MAX_GPU / 2)))``, then rescaled
    min-max over the candidates (integer arithmetic, as Kubernetes' NormalizeScore).
    """

    name: ClassVar[str] = "bestfit-paper"

    def score(self, snap: Snapshot, demand: Demand, rows: IntArray) -> IntArray:
        cpu_left = (snap.node_cpu[rows] - demand.cpu_milli) / MAX_CPU * 0.5
        gpu_left = (snap.gpu_free[rows].sum(axis=1) - demand.total_gpu_milli) / MAX_GPU * 0.5
        raw = np.trunc((1.0 - (cpu_left + gpu_left)) * 100).astype(np.int64)
        low, high = int(raw.min()), int(raw.max())
        if high == low:
            return np.zeros(rows.size, dtype=np.int64)
        return _clip(((raw - low) * 100) // (high - low))
