"""GPU fragmentation as FGD defines it, vectorized and memoized per node class.

For node ``n`` and typical shape ``m`` the fragment is all of ``n``'s idle milli-GPU when
``m`` cannot run there at all (CPU-only shape, model not accepted, too little CPU, too few
GPUs with ``m``'s share free), else the idle milli-GPU of the GPUs whose free share is
below ``m``'s. ``F_n = sum_m p_m fragment_n(m)``; the cluster's fragmentation is
``sum_n F_n``.

The sum is accumulated exactly as the authors' Go code does (per shape, into the seven
quadrant buckets, then the buckets except "satisfied" in order), so equal states give
bit-identical floats and FGD's integer scores tie where theirs do. Memory is not part of
the definition. A node's ``F`` depends only on its class (see :mod:`.classes`), so it is
computed once per class and read back from a :class:`~suanli.engine.classes.ClassTable`.
"""

from __future__ import annotations

import numpy as np

from suanli.engine.classes import ClassTable, FloatArray, IntArray, table
from suanli.engine.mix import DemandMix
from suanli.engine.snapshot import Snapshot


class FragModel:
    """A demand mix compiled against a snapshot's model list."""

    def __init__(self, mix: DemandMix, models: tuple[str, ...]) -> None:
        shapes = mix.shapes
        self.mix = mix
        self.p = np.array(mix.weights, dtype=np.float64)
        self.cpu = np.array([s.cpu_milli for s in shapes], dtype=np.int64)
        self.milli = np.array([s.gpu_milli for s in shapes], dtype=np.int64)
        self.count = np.array([s.gpus for s in shapes], dtype=np.int64)
        self.gpu_shape = self.milli > 0
        # access[m, k]: shape m accepts model k
        self.access = np.array(
            [[not s.models or model in s.models for model in models] for s in shapes],
            dtype=np.bool_,
        ).reshape(len(shapes), len(models))

    def frag(self, model: IntArray, cpu: IntArray, gpus: IntArray) -> FloatArray:
        """``F`` of each state (rows of ``model``, ``cpu``, ``gpus``)."""
        if model.size == 0:
            return np.zeros(0)
        total = gpus.sum(axis=1).astype(np.float64)
        fits = gpus[:, None, :] >= self.milli[None, :, None]
        hosted = fits.sum(axis=2) >= self.count[None, :]
        small = total[:, None] - (gpus[:, None, :] * fits).sum(axis=2)  # idle below m's share
        access = self.access[:, model].T
        cpu_ok = cpu[:, None] >= self.cpu[None, :]
        gpu = self.gpu_shape[None, :]
        whole = self.p[None, :] * total[:, None]
        part = self.p[None, :] * small
        zero = np.zeros_like(whole)
        satisfied = gpu & access & hosted & cpu_ok
        buckets = (
            np.where(gpu & access & ~hosted & ~cpu_ok, whole, zero),  # q1: lacks both
            np.where(gpu & access & ~hosted & cpu_ok, whole, np.where(satisfied, part, zero)),
            np.where(gpu & access & hosted & ~cpu_ok, whole, zero),  # q4: lacks CPU
            np.where(~gpu & cpu_ok, whole, zero),  # CPU-only shape that fits
            np.where(~gpu & ~cpu_ok, whole, zero),  # CPU-only shape that does not
            np.where(gpu & ~access, whole, zero),  # model not accepted
        )
        out = np.zeros(total.shape[0])
        for bucket in buckets:  # per bucket a running sum over shapes, as Go adds them
            out = out + np.add.accumulate(bucket, axis=1)[:, -1]
        return out


def frag_model(snap: Snapshot, mix: DemandMix) -> FragModel:
    """The mix compiled for ``snap`` (memoized on its class registry)."""
    key = ("frag-model", mix)
    found = snap.classes.memo.get(key)
    if not isinstance(found, FragModel):
        found = FragModel(mix, snap.models)
        snap.classes.memo[key] = found
    return found


def class_frag(snap: Snapshot, mix: DemandMix, rows: IntArray) -> FloatArray:
    """``F`` of the node rows' current states, computed once per class."""
    memo: ClassTable = table(snap.classes, ("frag", mix))
    cls = snap.node_class[rows]
    values = memo.get(cls)
    missing = np.isnan(values)
    if missing.any():
        ids, first = np.unique(cls[missing], return_index=True)
        reps = rows[missing][first]
        model = frag_model(snap, mix)
        memo.put(ids, model.frag(snap.node_model[reps], snap.node_cpu[reps], snap.gpu_free[reps]))
        values = memo.get(cls)
    return values


class FragMeter:
    """The cluster's fragmentation, kept up to date row by row as nodes change."""

    def __init__(self, snap: Snapshot, mix: DemandMix) -> None:
        self.snap = snap
        self.mix = mix
        self.per_node = class_frag(snap, mix, np.arange(snap.nodes, dtype=np.int64))
        self.total = float(self.per_node.sum())

    def update(self, rows: IntArray) -> float:
        """Re-read ``rows`` after they changed; the new total."""
        fresh = class_frag(self.snap, self.mix, rows)
        self.total += float(fresh.sum() - self.per_node[rows].sum())
        self.per_node[rows] = fresh
        return self.total
