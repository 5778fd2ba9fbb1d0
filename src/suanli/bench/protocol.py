"""The FGD paper's workload protocol, draw for draw as the authors' simulator makes it.

For seed ``s`` (``SortClusterPods`` and ``TunePodsByNodeTotalResource`` in
hkust-adsl/kubernetes-scheduler-simulator, run with ``shufflePod: true`` and a tuning
ratio of 1.3):

1. Go's global ``math/rand`` is seeded with ``s``; one ``rand.Int()`` is drawn (a debug log
   line evaluates it whether or not it is printed).
2. The pods, sorted by name, are shuffled with ``rand.Shuffle``.
3. Inflation: draw ``rand.Intn(n)`` over the pods sorted by name and append a copy
   (``<name>-tuned-<i>``) while the total GPU request stays within 1.3 x the cluster's
   GPUs; the first draw that would go over ends it. As in their code, that check adds the
   drawn pod's milli-GPU *per GPU*, not its total; nothing is trimmed afterwards.

4. Ten more draws happen (the scheduler's informers each draw a watch timeout), then the
   nodes, sorted by name, are renamed ``%04d-<name>`` with ``rand.Perm``; the authors'
   patched scheduler breaks score ties by the smallest name, so that permutation is a
   fixed node priority for the run (:attr:`Workload.node_rank`).

The typical shapes (the demand mix of FGD) come from the original pods, not the inflated
list. With seed 42 on ``openb_pod_list_default`` this reproduces the authors' recorded
arrival order exactly, and their tie-breaks (tests/bench).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from suanli.bench.gorand import GoRand
from suanli.bench.trace import Cluster, Pod

INFLATION = 1.3
INFORMER_DRAWS = 10


@dataclass(frozen=True, slots=True)
class Arrival:
    """One arriving pod: the copy's name and the trace row it was drawn from."""

    name: str
    pod: Pod


@dataclass(frozen=True, slots=True)
class Workload:
    """One seed's arrival order and node priority (rank by node index, lower first)."""

    arrivals: list[Arrival]
    node_rank: dict[int, int]


def workload(pods: Sequence[Pod], cluster: Cluster, seed: int) -> Workload:
    """Arrivals and node priority for ``seed`` (see the module docstring)."""
    rand = GoRand(seed)
    order = _arrivals(pods, cluster.total_gpus, rand)
    for _ in range(INFORMER_DRAWS):
        rand.int63()
    by_name = sorted(range(len(cluster.nodes)), key=lambda i: cluster.nodes[i].name)
    perm = rand.perm(len(by_name))
    return Workload(order, {node: perm[k] for k, node in enumerate(by_name)})


def arrivals(pods: Sequence[Pod], total_gpus: int, seed: int) -> list[Arrival]:
    """Shuffle and inflate ``pods`` for ``seed`` (see the module docstring)."""
    return _arrivals(pods, total_gpus, GoRand(seed))


def _arrivals(pods: Sequence[Pod], total_gpus: int, rand: GoRand) -> list[Arrival]:
    by_name = sorted(pods, key=lambda p: p.name)
    rand.int63()
    order = list(by_name)

    def swap(i: int, j: int) -> None:
        order[i], order[j] = order[j], order[i]

    rand.shuffle(len(order), swap)
    out = [Arrival(p.name, p) for p in order]
    requested = sum(p.gpu_milli_total for p in order)
    target = INFLATION * float(total_gpus * 1000)
    if float(requested) > target or not by_name:
        return out
    tuned = 0
    while True:
        pod = by_name[rand.intn(len(by_name))]
        if float(requested + pod.gpu_milli) > target:
            return out
        requested += pod.gpu_milli_total
        out.append(Arrival(f"{pod.name}-tuned-{tuned}", pod))
        tuned += 1


def recorded_arrivals(path: Path, pods: Sequence[Pod]) -> list[Arrival]:
    """An arrival order written by the authors' simulator (``pod``, ``source_pod`` columns)."""
    by_name = {p.name: p for p in pods}
    with path.open(newline="") as f:
        return [Arrival(row["pod"], by_name[row["source_pod"]]) for row in csv.DictReader(f)]
