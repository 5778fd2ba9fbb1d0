"""Pod and node lists in the openb format (Alibaba cluster-trace-gpu-v2023), as engine inputs.

Pods: ``name, cpu_milli, memory_mib, num_gpu, gpu_milli[, gpu_spec, qos, pod_phase,
creation_time, deletion_time, scheduled_time]`` (the ``multigpu*`` files stop after
``gpu_milli``). Nodes: ``sn, cpu_milli, memory_mib, gpu, model``.

A node list becomes a snapshot with one pool per distinct (model, GPUs, CPU, memory); node
ids are the rows of the file. A pod becomes a :class:`~suanli.engine.Demand`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from suanli.engine import Demand, PoolInfo, Shape, Snapshot, SnapshotBuilder


@dataclass(frozen=True, slots=True)
class Pod:
    """One task of the trace (a fraction of one GPU when ``num_gpu`` is 1 and milli < 1000)."""

    name: str
    cpu_milli: int
    memory_mib: int
    num_gpu: int
    gpu_milli: int
    gpu_spec: str = ""

    @property
    def gpu_milli_total(self) -> int:
        return self.num_gpu * self.gpu_milli

    @property
    def shape(self) -> Shape:
        return Shape.of(self.cpu_milli, self.num_gpu, self.gpu_milli, self.gpu_spec)

    def demand(self) -> Demand:
        gpus = self.num_gpu if self.gpu_milli else 0
        return Demand(
            cards=gpus,
            gpu_milli=self.gpu_milli if gpus else 1000,
            cpu_milli=self.cpu_milli,
            memory_mib=self.memory_mib,
            accepted_models=frozenset(m for m in self.gpu_spec.split("|") if m)
            if gpus
            else frozenset(),
        )


@dataclass(frozen=True, slots=True)
class Node:
    """One machine of the cluster."""

    name: str
    cpu_milli: int
    memory_mib: int
    gpus: int
    model: str

    @property
    def gpu(self) -> int:
        """GPUs, under the node list's column name."""
        return self.gpus


@dataclass(frozen=True)
class Cluster:
    """A node list, and the snapshot it starts from."""

    nodes: tuple[Node, ...]

    @property
    def total_gpus(self) -> int:
        return sum(n.gpus for n in self.nodes)

    @cached_property
    def _kinds(self) -> dict[tuple[str, int, int, int], int]:
        kinds: dict[tuple[str, int, int, int], int] = {}
        for n in self.nodes:
            kinds.setdefault((n.model, n.gpus, n.cpu_milli, n.memory_mib), len(kinds) + 1)
        return kinds

    def snapshot(self) -> Snapshot:
        """All nodes idle."""
        builder = SnapshotBuilder()
        for (model, gpus, cpu, mem), pool_id in self._kinds.items():
            builder.add_pool(
                PoolInfo(
                    pool_id=pool_id,
                    center_id=1,
                    label=f"{model}x{gpus}/{cpu // 1000}c/{mem // 1024}G",
                    model=model,
                    province="",
                    price_fen=0,
                    cards_per_node=gpus,
                    memory_gb=0,
                    tflops=0.0,
                    inter_node="none",
                    cpu_milli=cpu,
                    memory_mib=mem,
                )
            )
        for i, n in enumerate(self.nodes):
            builder.add_node(i, self._kinds[(n.model, n.gpus, n.cpu_milli, n.memory_mib)])
        return builder.build()


def _int(row: dict[str, str], key: str) -> int:
    value = (row.get(key) or "0").strip()
    return int(float(value)) if value else 0


def load_pods(path: Path) -> list[Pod]:
    """The pods of an openb pod list, in file order (extra columns are ignored)."""
    with path.open(newline="") as f:
        return [
            Pod(
                name=row["name"],
                cpu_milli=_int(row, "cpu_milli"),
                memory_mib=_int(row, "memory_mib"),
                num_gpu=_int(row, "num_gpu"),
                gpu_milli=_int(row, "gpu_milli"),
                gpu_spec=(row.get("gpu_spec") or "").strip(),
            )
            for row in csv.DictReader(f)
        ]


def load_nodes(path: Path) -> Cluster:
    """The nodes of an openb node list, in file order."""
    with path.open(newline="") as f:
        nodes = tuple(
            Node(
                name=row["sn"],
                cpu_milli=_int(row, "cpu_milli"),
                memory_mib=_int(row, "memory_mib"),
                gpus=_int(row, "gpu"),
                model=(row.get("model") or "").strip(),
            )
            for row in csv.DictReader(f)
        )
    return Cluster(nodes)
