"""The demand mix: the "typical" shapes of a workload and how often each arrives.

FGD (ATC'23, "Beware of Fragmentation") measures fragmentation against the shapes a
cluster actually sees: group the pods by (CPU, GPUs, milli-GPU per GPU, accepted models),
sort the groups by count (ties: larger CPU, then milli-GPU, then GPUs, then model list
first, as the authors' Go code sorts), and keep the most frequent until they cover 95% of
the pods, adding one group at a time; their frequencies are then rescaled to sum to 1.
Memory is not part of a shape, as in the authors' simulator.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

#: A pod asking for no CPU counts as this much (Kubernetes' non-zero default request).
DEFAULT_CPU_REQUEST = 100


@dataclass(frozen=True, slots=True, order=True)
class Shape:
    """One pod shape: CPU, milli-GPU per GPU (0: CPU-only), GPU count, accepted models.

    ``spec`` is the accepted-model list as the trace writes it (``"V100M16|V100M32"``,
    empty = any model); two spellings of one set are two shapes, as in the simulator.
    """

    cpu_milli: int
    gpu_milli: int
    gpus: int
    spec: str = ""

    @property
    def models(self) -> frozenset[str]:
        return frozenset(m for m in self.spec.split("|") if m)

    @classmethod
    def of(cls, cpu_milli: int, gpus: int, gpu_milli: int, spec: str = "") -> Shape:
        """The shape of a pod as the simulator reads it (a CPU-only pod names no model)."""
        gpu = bool(gpus and gpu_milli)
        return cls(
            cpu_milli or DEFAULT_CPU_REQUEST,
            gpu_milli if gpu else 0,
            gpus if gpu else 0,
            spec if gpu else "",
        )


@dataclass(frozen=True, slots=True)
class DemandMix:
    """Typical shapes (most frequent first) and their frequencies (summing to 1)."""

    shapes: tuple[Shape, ...]
    weights: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.shapes) != len(self.weights) or not self.shapes:
            raise ValueError("a demand mix needs one weight per shape, and some shapes")

    @classmethod
    def typical(cls, pods: Iterable[Shape], coverage_pct: int = 95, step: int = 1) -> DemandMix:
        """The authors' typical pods (``GetTypicalPods``), floating point order included."""
        counts = Counter(pods)
        total = float(sum(counts.values()))
        if not counts:
            raise ValueError("no pods to learn a demand mix from")
        ranked = sorted(
            counts.items(),
            key=lambda kv: (kv[1], kv[0].cpu_milli, kv[0].gpu_milli, kv[0].gpus, kv[0].spec),
            reverse=True,
        )
        expected = float(coverage_pct) * total / 100.0
        taken = cumulative = 0
        ratios: list[float] = []
        limit = 0
        while cumulative < expected:
            limit += step
            while taken < limit and taken < len(ranked):
                cumulative += ranked[taken][1]
                ratios.append(ranked[taken][1] / total)
                taken += 1
            if taken == len(ranked):
                break
        if taken < len(ranked):
            scale = cumulative / total
            ratios = [r / scale for r in ratios]
        return cls(tuple(s for s, _ in ranked[:taken]), tuple(ratios))
