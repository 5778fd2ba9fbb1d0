"""The openb benchmark: the FGD paper's experiment, run through the real engine.

For each policy and seed: build the cluster's snapshot, make the arrival order (shuffle
and inflate, :mod:`.protocol`), place the pods one by one in that order (no departures; a
pod that fits nowhere stays unplaced), and after every arrival log the arrived GPU
request, the allocated milli-GPU and the fragmentation (FGD's definition, against the
typical shapes of the original pod list). The figures are read off that log as the
authors' analysis scripts do: every logged point whose arrived request rounds to N% of the
cluster's GPUs is averaged for "at N%".

Typical use::

    pods = load_pods(Path("openb_pod_list_default.csv"))
    cluster = load_nodes(Path("openb_node_list_gpu_node.csv"))
    figures = run(pods, cluster, ["fgd", "bestfit"], seeds=range(42, 52))
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from suanli.bench.protocol import Arrival, Workload, arrivals, recorded_arrivals, workload
from suanli.bench.trace import Cluster, Node, Pod, load_nodes, load_pods
from suanli.engine import DemandMix, Engine, make_engine
from suanli.engine.frag import FragMeter
from suanli.engine.select import NodePriority

__all__ = [
    "Arrival",
    "Cluster",
    "Figures",
    "Node",
    "Pod",
    "Run",
    "Workload",
    "arrivals",
    "figures",
    "load_nodes",
    "load_pods",
    "mean_figures",
    "plan",
    "recorded_arrivals",
    "run",
    "simulate",
    "typical_mix",
    "workload",
]

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Run:
    """The log of one simulation: one entry per arrival, in arrival order."""

    policy: str
    seed: int
    total_gpus: int
    arrived_milli: npt.NDArray[np.int64]
    used_milli: npt.NDArray[np.int64]
    frag_milli: npt.NDArray[np.float64]
    node: npt.NDArray[np.int64]
    """Index (in the node list) of the node each arrival went to; -1: unplaced."""

    @property
    def placed(self) -> npt.NDArray[np.bool_]:
        return np.asarray(self.node >= 0, dtype=np.bool_)

    @property
    def arrived_pct(self) -> npt.NDArray[np.float64]:
        return self.arrived_milli / self.total_gpus / 10

    @property
    def alloc_pct(self) -> npt.NDArray[np.float64]:
        return self.used_milli / self.total_gpus / 10


@dataclass(frozen=True)
class Figures:
    """The paper's four figures (percent of the cluster's GPUs)."""

    alloc_pct_at_100: float
    alloc_pct_at_130: float
    frag_pct_at_100: float
    unalloc_pct_at_130: float

    def as_dict(self) -> dict[str, float]:
        return {
            "alloc_pct_at_100": self.alloc_pct_at_100,
            "alloc_pct_at_130": self.alloc_pct_at_130,
            "frag_pct_at_100": self.frag_pct_at_100,
            "unalloc_pct_at_130": self.unalloc_pct_at_130,
        }


def typical_mix(pods: Iterable[Pod]) -> DemandMix:
    """FGD's typical shapes of a pod list (95% coverage, one shape at a time)."""
    return DemandMix.typical(p.shape for p in pods)


def simulate(
    cluster: Cluster,
    order: Sequence[Arrival],
    policy: str,
    *,
    mix: DemandMix,
    seed: int = 0,
    node_rank: dict[int, int] | None = None,
    engine: Engine | None = None,
    progress: Progress | None = None,
) -> Run:
    """Place ``order`` one by one on an idle ``cluster`` with ``policy``; log every arrival.

    Ties between equally scored nodes go to the lowest ``node_rank`` (the authors'
    simulator's rule, see :mod:`.protocol`) or, without ranks, to a uniform draw from a
    generator seeded with ``seed`` (which also drives the random policy).
    """
    snap = cluster.snapshot()
    tie = NodePriority(node_rank) if node_rank is not None else None
    engine = engine or make_engine(policy, mix=mix, rng=np.random.default_rng(seed), tie=tie)
    meter = FragMeter(snap, mix)
    n = len(order)
    arrived = np.zeros(n, dtype=np.int64)
    used = np.zeros(n, dtype=np.int64)
    frag = np.zeros(n)
    node = np.full(n, -1, dtype=np.int64)
    demands: dict[Pod, object] = {}
    total_arrived = total_used = 0
    for i, arrival in enumerate(order):
        pod = arrival.pod
        demand = demands.get(pod)
        if demand is None:
            demand = demands[pod] = pod.demand()
        total_arrived += pod.gpu_milli_total
        placement = engine.choose(snap, demand)  # type: ignore[arg-type]
        if placement is not None:
            Engine.reserve(snap, placement)
            total_used += placement.gpu_milli
            meter.update(np.array([snap.row_of(a.node_id) for a in placement.allocations]))
            node[i] = placement.allocations[0].node_id
        arrived[i], used[i], frag[i] = total_arrived, total_used, meter.total
        if progress is not None and (i + 1) % 500 == 0:
            progress(500)
    if progress is not None and n % 500:
        progress(n % 500)
    return Run(policy, seed, cluster.total_gpus, arrived, used, frag, node)


def _at(run: Run, values: npt.NDArray[np.float64], pct: int) -> float:
    """The authors' reading: mean of the points whose arrival rounds to ``pct`` (or +-1)."""
    arrive = np.array([round(float(x), 0) for x in run.arrived_pct])
    picked = values[arrive == pct]
    if picked.size == 0:
        picked = values[(arrive >= pct - 1) & (arrive <= pct + 1)]
    return float("nan") if picked.size == 0 else float(picked.mean())


def figures(run: Run) -> Figures:
    """The paper's figures for one run, rounded to 2 decimals as the authors do."""
    alloc = np.array([round(float(x), 2) for x in run.alloc_pct])
    frag_pct = run.frag_milli / 1000 / run.total_gpus * 100
    at130 = round(_at(run, alloc, 130), 2)
    return Figures(
        alloc_pct_at_100=round(_at(run, alloc, 100), 2),
        alloc_pct_at_130=at130,
        frag_pct_at_100=round(_at(run, frag_pct, 100), 2),
        unalloc_pct_at_130=round(100 - at130, 2),
    )


def mean_figures(per_seed: Sequence[Figures]) -> Figures:
    """The mean of each figure over seeds (rounded to 2 decimals)."""

    def mean(name: str) -> float:
        return round(float(np.mean([getattr(f, name) for f in per_seed])), 2)

    return Figures(
        mean("alloc_pct_at_100"),
        mean("alloc_pct_at_130"),
        mean("frag_pct_at_100"),
        mean("unalloc_pct_at_130"),
    )


def plan(pods: Sequence[Pod], cluster: Cluster, seeds: Iterable[int]) -> dict[int, Workload]:
    """Each seed's arrival order and node priority."""
    return {seed: workload(pods, cluster, seed) for seed in seeds}


def run(
    pods: Sequence[Pod],
    cluster: Cluster,
    policies: Sequence[str],
    seeds: Iterable[int],
    *,
    workloads: dict[int, Workload] | None = None,
    progress: Progress | None = None,
    keep: list[Run] | None = None,
) -> dict[str, Figures]:
    """Every policy on every seed's workload; mean figures per policy.

    Runs are appended to ``keep`` when given (for plots).
    """
    mix = typical_mix(pods)
    workloads = workloads if workloads is not None else plan(pods, cluster, seeds)
    per_policy: dict[str, list[Figures]] = {p: [] for p in policies}
    for seed, work in workloads.items():
        for policy in policies:
            one = simulate(
                cluster,
                work.arrivals,
                policy,
                mix=mix,
                seed=seed,
                node_rank=work.node_rank,
                progress=progress,
            )
            per_policy[policy].append(figures(one))
            if keep is not None:
                keep.append(one)
    return {p: mean_figures(f) for p, f in per_policy.items()}
