"""An upper bound on the GPU allocation that ANY scheduler can reach on a node and pod list.

The FGD benchmark (openb trace) compares schedulers by the share of the cluster's
milli-GPU (1000 per GPU) they have allocated once pods worth 130% of the cluster's GPUs
have arrived. :func:`upper_bound` says how far from the limit such a number is.

Invariant
---------
For every node list, every pod list and every feasible placement ``P`` of any subset of
the pods::

    100 * alloc(P) / (1000 * total GPUs)  <=  upper_bound(nodes, pods)  <=  100

where a placement puts each chosen pod on one node that (i) has a GPU model the pod's
``gpu_spec`` accepts (empty = any), (ii) still has the pod's CPU and memory, and (iii)
gives each of the pod's ``num_gpu`` GPU parts of ``gpu_milli`` a *distinct* GPU of that
node, no GPU holding more than 1000 milli in total; ``alloc(P)`` is the sum of
``num_gpu * gpu_milli`` over placed pods. Whatever order pods arrive in and whatever an
online scheduler does, its final state is such a placement, so the bound holds for every
scheduler, online or offline. It is the optimum of a linear relaxation, so it may exceed
what is achievable (see "Looseness").

Pod kinds (anything else raises :class:`ValueError`): CPU-only (``num_gpu = 0``,
``gpu_milli = 0``); GPU-sharing (``num_gpu = 1``, ``0 < gpu_milli < 1000``: one part on
one GPU, shared with other sharing pods); whole-GPU (``num_gpu >= 1``,
``gpu_milli = 1000``: that many whole GPUs of one node).

Method and why each piece is valid
----------------------------------
*CPU-only pods are dropped.* They add nothing to ``alloc`` and removing a pod from a
feasible placement leaves it feasible, so the maximum over placements is the same without
them. For the same reason the LP may leave any pod out (supply rows are ``<=``).

*Aggregation.* Nodes with identical (cpu, memory, GPU count, model) form a type ``t``
with ``N_t`` nodes of capacity ``C_t``, ``M_t``, ``G_t``; pods with identical
(cpu, memory, num_gpu, gpu_milli, set of accepted models) form a shape ``s`` with ``n_s``
pods of size ``c_s``, ``m_s``, ``k_s``, ``g_s``. For a placement ``P`` let
``y[s,t]`` = number of pods of shape ``s`` that ``P`` puts on nodes of type ``t``. Every
constraint below is satisfied by these integers for every ``P``, and the objective
``sum y[s,t] * k_s * g_s`` equals ``alloc(P)``; so the LP optimum over real ``y >= 0`` is
at least ``alloc(P)``.

1. *Compatibility.* ``y[s,t]`` exists only if the model is accepted, ``k_s <= G_t``,
   ``c_s <= C_t`` and ``m_s <= M_t``: otherwise no single node of ``t`` can hold one such
   pod. CPU-only nodes (``G_t = 0``) therefore get no variable at all.
2. *Supply.* ``sum_t y[s,t] <= n_s``: a pod is placed at most once.
3. *Per-node caps (column bounds).* ``y[s,t] <= N_t * q[s,t]`` with
   ``q = min(C_t // c_s, M_t // m_s, (G_t * (1000 // g_s)) // k_s)``: one node holds at
   most that many such pods (integral counts of each resource; a GPU holds at most
   ``1000 // g_s`` parts of size ``g_s`` and the ``k_s`` parts of a pod lie on distinct
   GPUs). For whole-GPU pods this is ``floor(G_t / k_s)`` per node, e.g. at most one
   3-GPU pod on a 4-GPU node.
4. *Dual-feasible-function (DFF) rows.* Let ``B`` bins of capacity ``cap`` each hold
   items whose sizes sum to at most ``cap``. If ``f >= 0`` satisfies
   ``sum f(a_i) <= F`` for every multiset with ``sum a_i <= cap`` (a DFF), then summed
   over all bins ``sum_items f(a) <= B * F``. Per node type this is applied to

   - each node's CPU (``B = N_t``, ``cap = C_t``, one item ``c_s`` per pod), memory
     (``M_t``, ``m_s``) and milli-GPU (``cap = 1000 G_t``, item ``k_s g_s``);
   - each GPU of the type (``B = N_t G_t``, ``cap = 1000``): the items are GPU parts,
     ``k_s`` of size ``g_s`` per pod (a whole-GPU part fills its GPU alone);

   with these DFFs, all scaled to integer coefficients:

   - identity ``f(a) = a``, ``F = cap``: the plain CPU / memory / milli-GPU capacity;
   - threshold ``f(a) = [a >= θ]``, ``F = cap // θ``: items of size ``>= θ`` in one bin
     number at most ``cap // θ`` since their sizes add up. On GPUs this is "sharing pods
     of ``m`` milli: at most ``1000 // m`` per GPU", stated soundly for mixtures (all
     items of at least ``θ``); on node milli-GPU with ``θ = 1000 k`` it is "at most
     ``G_t // k`` pods of ``k`` or more whole GPUs per node" (the ``floor(G/k) * k``
     rule for mixtures of gang sizes). Per value of ``cap // θ`` only the smallest ``θ``
     is kept (it dominates the others);
   - Fekete-Schepers ``U^ε`` (``0 < 2ε <= cap``): ``f(a) = cap`` if ``a > cap - ε``,
     ``a`` if ``ε <= a <= cap - ε``, ``0`` if ``a < ε``; ``F = cap``. A bin holding an
     item larger than ``cap - ε`` (at most one, as ``cap - ε >= cap / 2``) has only
     items smaller than ``ε`` besides, which count 0; otherwise every item counts at
     most its size. ``ε`` ranges over the item sizes;
   - Fekete-Schepers ``u^(k)``, ``k = 1..4``: ``f(a) = k a`` if ``cap`` divides
     ``(k+1) a``, else ``floor((k+1) a / cap) * cap``; ``F = k cap``. Proof: with
     ``x = a / cap``, let ``I`` be the items with ``(k+1) x`` integral, ``J`` the rest,
     ``S = sum_I x`` (so ``(k+1) S`` is an integer). If ``J`` is empty the sum is
     ``k cap sum x <= k cap``. Otherwise ``sum_J floor((k+1) x) < (k+1)(1 - S)``, both
     sides integers, so it is ``<= k - (k+1) S`` and the sum is at most
     ``cap (k S + k - (k+1) S) <= k cap``.

   The capacity rows are in the LP from the start; the other DFF rows are kept in a pool
   and added when the LP solution violates one (row generation): every pool row is
   valid, so any subset gives a valid relaxation.

5. *GPU configurations (Gilmore-Gomory, per node type).* For a type with sharing sizes
   ``m_1..m_r``, a configuration is a vector ``p >= 0`` of integers with
   ``sum_i m_i p_i <= 1000`` (the sharing parts one GPU can hold); ``λ[t,p] >= 0`` counts
   the GPUs of type ``t`` holding exactly ``p``. In any placement each GPU of ``t`` holds
   either one whole-GPU part (then nothing else: 1000 + anything > 1000), or sharing
   parts forming one configuration, or nothing. Hence the count row
   ``sum_{whole s} k_s y[s,t] + sum_p λ[t,p] <= N_t G_t`` and, per size ``m``, the slot
   row ``sum_{sharing s with g_s = m} y[s,t] - sum_p p_m λ[t,p] <= 0`` hold (the latter
   with equality). This is the classic bin-packing configuration LP; it implies every
   GPU-level DFF row of item 4 and knows that e.g. 470 + 470 leaves 60 milli only
   pods of 50 can use. The exponentially many ``λ`` columns are generated on demand: the
   best configuration under the row duals is an unbounded knapsack over 1000 milli
   (exact dynamic programme), added while its reduced cost is positive.

   The naive per-GPU weight "a pod of ``m`` milli uses ``1 / (1000 // m)`` of a GPU"
   is NOT valid for mixtures (400 + 300 + 300 = 1000 fits one GPU but weighs
   1/2 + 1/3 + 1/3 > 1): configurations (or thresholds) are the sound forms of it.

*Certificate.* HiGHS works in floating point with tolerances and the last LP has only
some of the configurations, so its objective is not trusted as is. The value reported is
a weak-duality bound for the LP with ALL configurations and all generated rows: take
``π = max(0, row duals)``, raise the dual of each count row to the knapsack optimum under
``π`` (so every configuration column, of cost 0, is dual feasible), and set
``ρ_j = max(0, cost_j - (A^T π)_j)`` for the ``y`` columns, whose coefficients are all
``>= 0``; then ``b·π + u·ρ >= cost·y`` for every feasible point, whatever ``π`` is.
Coefficients and right-hand sides are integers below 2**53 (exact in floats); the float
evaluation carries a relative outward margin of 1e-9. The value is finally capped by
the capacity and by the total request.

*Looseness.* The relaxation still lets fractional pods spread over all nodes of a type
and does not tie a GPU's configuration to the CPU and memory of the node it sits on; it
also ignores arrival order (online schedulers must place a pod that fits when it
arrives). So the bound may exceed the best achievable allocation, never fall below it.
"""

from __future__ import annotations

import csv
import math
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import highspy
import numpy as np
import numpy.typing as npt

__all__ = [
    "MILLI_PER_GPU",
    "BoundReport",
    "NodeLike",
    "NodeRow",
    "PodLike",
    "PodRow",
    "bound_report",
    "load_nodes",
    "load_pods",
    "upper_bound",
]

MILLI_PER_GPU = 1000
"""Milli-GPU in one GPU."""

_U_K_MAX = 4
"""Fekete-Schepers ``u^(k)`` rows are added for ``k = 1.._U_K_MAX``."""

_MARGIN = 1e-9
"""Relative outward margin on the float evaluation of the weak-duality certificate."""

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


class NodeLike(Protocol):
    """A node as in ``openb_node_list_*.csv`` (``gpu = 0``, ``model = ""`` for CPU-only)."""

    @property
    def cpu_milli(self) -> int: ...
    @property
    def memory_mib(self) -> int: ...
    @property
    def gpu(self) -> int: ...
    @property
    def model(self) -> str: ...


class PodLike(Protocol):
    """A pod as in ``openb_pod_list_*.csv``; ``gpu_spec`` is ``"A|B"`` or ``""`` (any)."""

    @property
    def cpu_milli(self) -> int: ...
    @property
    def memory_mib(self) -> int: ...
    @property
    def num_gpu(self) -> int: ...
    @property
    def gpu_milli(self) -> int: ...
    @property
    def gpu_spec(self) -> str: ...


@dataclass(frozen=True, slots=True)
class NodeRow:
    """One row of an openb node list."""

    cpu_milli: int
    memory_mib: int
    gpu: int
    model: str
    sn: str = ""


@dataclass(frozen=True, slots=True)
class PodRow:
    """One row of an openb pod list (only the columns the bound needs, plus the name)."""

    cpu_milli: int
    memory_mib: int
    num_gpu: int
    gpu_milli: int
    gpu_spec: str = ""
    name: str = ""


def load_nodes(path: str | Path) -> list[NodeRow]:
    """Read an openb node list (columns ``sn, cpu_milli, memory_mib, gpu, model``)."""
    with Path(path).open(newline="", encoding="utf-8") as fh:
        return [
            NodeRow(
                cpu_milli=int(row["cpu_milli"]),
                memory_mib=int(row["memory_mib"]),
                gpu=int(row["gpu"]),
                model=(row.get("model") or "").strip(),
                sn=row.get("sn") or "",
            )
            for row in csv.DictReader(fh)
        ]


def load_pods(path: str | Path) -> list[PodRow]:
    """Read an openb pod list; ``gpu_spec`` is optional (the ``multigpu`` files lack it)."""
    with Path(path).open(newline="", encoding="utf-8") as fh:
        return [
            PodRow(
                cpu_milli=int(row["cpu_milli"]),
                memory_mib=int(row["memory_mib"]),
                num_gpu=int(row["num_gpu"]),
                gpu_milli=int(row["gpu_milli"]),
                gpu_spec=(row.get("gpu_spec") or "").strip(),
                name=row.get("name") or "",
            )
            for row in csv.DictReader(fh)
        ]


@dataclass(frozen=True, slots=True)
class BoundReport:
    """The bound with the numbers behind it.

    ``percent`` is :func:`upper_bound`'s value; ``bound_milli`` the certified bound on
    allocated milli-GPU (``percent = min(100, 100 * bound_milli / capacity_milli)``);
    ``lp_milli`` HiGHS's own optimum (equal up to solver tolerance); ``requested_milli``
    the total GPU request of all pods.
    """

    percent: float
    bound_milli: float
    lp_milli: float
    capacity_milli: int
    requested_milli: int
    node_types: int
    pod_shapes: int
    columns: int
    rows: int
    gpu_configs: int
    rounds: int
    seconds: float


@dataclass(frozen=True, slots=True)
class _NodeType:
    cpu: int
    mem: int
    gpus: int
    model: str


@dataclass(frozen=True, slots=True)
class _Shape:
    cpu: int
    mem: int
    num_gpu: int
    gpu_milli: int
    models: frozenset[str]  # empty = any model

    def accepts(self, model: str) -> bool:
        return not self.models or model in self.models


def _node_type(node: NodeLike) -> _NodeType:
    cpu, mem, gpus = int(node.cpu_milli), int(node.memory_mib), int(node.gpu)
    if cpu < 0 or mem < 0 or gpus < 0:
        raise ValueError(f"node with negative capacity: {node!r}")
    return _NodeType(cpu, mem, gpus, str(node.model).strip())


def _shape(pod: PodLike) -> _Shape:
    cpu, mem = int(pod.cpu_milli), int(pod.memory_mib)
    k, g = int(pod.num_gpu), int(pod.gpu_milli)
    if cpu < 0 or mem < 0:
        raise ValueError(f"pod with negative request: {pod!r}")
    cpu_only = k == 0 and g == 0
    sharing = k == 1 and 0 < g < MILLI_PER_GPU
    whole = k >= 1 and g == MILLI_PER_GPU
    if not (cpu_only or sharing or whole):
        raise ValueError(
            f"unsupported pod shape num_gpu={k}, gpu_milli={g}: expected CPU-only (0, 0), "
            f"sharing (1, 1..999) or whole GPUs (k >= 1, 1000)"
        )
    models = frozenset(m.strip() for m in str(pod.gpu_spec).split("|") if m.strip())
    return _Shape(cpu, mem, k, g, models)


class _Rows:
    """Rows ``sum coef * y <= rhs`` over the ``y`` columns, integer coefficients >= 0."""

    def __init__(self) -> None:
        self.index: list[IntArray] = []
        self.value: list[IntArray] = []
        self.rhs: list[int] = []
        self._seen: set[tuple[bytes, bytes, int]] = set()

    def __len__(self) -> int:
        return len(self.rhs)

    def add(self, cols: IntArray, coefs: IntArray, rhs: int, *, keep: bool = False) -> int:
        """Add a row; return its id, or -1 if it is empty or a duplicate (unless ``keep``)."""
        nonzero = coefs > 0
        cols, coefs = cols[nonzero], coefs[nonzero]
        key = (cols.tobytes(), coefs.tobytes(), rhs)
        if not keep and (cols.size == 0 or key in self._seen):
            return -1
        self._seen.add(key)
        self.index.append(cols)
        self.value.append(coefs)
        self.rhs.append(rhs)
        return len(self.rhs) - 1

    def csr(self, ids: Sequence[int]) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
        """``starts, index, value, rhs`` of the rows ``ids``."""
        lengths = np.asarray([self.index[i].size for i in ids], dtype=np.int64)
        starts = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
        index = np.concatenate([self.index[i] for i in ids]).astype(np.int64)
        value = np.concatenate([self.value[i] for i in ids]).astype(np.float64)
        rhs = np.asarray([self.rhs[i] for i in ids], dtype=np.float64)
        return starts, index, value, rhs


def _dff_rows(
    rows: _Rows, cols: IntArray, sizes: IntArray, mult: IntArray, cap: int, bins: int
) -> list[int]:
    """Add the rows of item 4 for one bin system and return their ids.

    ``bins`` bins of capacity ``cap``; one unit of column ``cols[i]`` puts ``mult[i]``
    items of size ``sizes[i] <= cap`` into them. The identity row is left to the caller.
    """
    if bins <= 0 or cap <= 0 or cols.size == 0:
        return []
    ids: list[int] = []
    positive = np.unique(sizes[sizes > 0]).tolist()
    smallest: dict[int, int] = {}  # cap // θ -> the smallest θ with it (dominates the rest)
    for theta in positive:  # ascending
        smallest.setdefault(cap // theta, theta)
    for per_bin, theta in smallest.items():  # thresholds
        ids.append(rows.add(cols, mult * (sizes >= theta), per_bin * bins))
    for eps in positive:  # Fekete-Schepers U^ε, 2ε <= cap
        if 2 * eps > cap:
            break
        coef = np.where(sizes > cap - eps, cap, np.where(sizes >= eps, sizes, 0))
        ids.append(rows.add(cols, mult * coef, cap * bins))
    for k in range(1, _U_K_MAX + 1):  # Fekete-Schepers u^(k)
        q, r = np.divmod((k + 1) * sizes, cap)
        ids.append(rows.add(cols, mult * np.where(r == 0, k * sizes, q * cap), k * cap * bins))
    return [i for i in ids if i >= 0]


def _knapsack(sizes: Sequence[int], values: Sequence[float], cap: int) -> tuple[float, list[int]]:
    """Unbounded knapsack: max ``values @ p`` over integers ``p >= 0``, ``sizes @ p <= cap``.

    Returns the optimum (in floats) and a feasible ``p`` attaining it up to rounding.
    """
    unit = math.gcd(cap, *sizes)
    width = cap // unit
    weights = [size // unit for size in sizes]
    best = np.zeros(width + 1, dtype=np.float64)  # best[c]: max value with weight <= c
    for w, value in zip(weights, values, strict=True):
        if value <= 0.0 or w > width:
            continue
        padded = np.full(-(-(width + 1) // w) * w, -np.inf)
        padded[: width + 1] = best
        grid = padded.reshape(-1, w)  # row i, column r: capacity r + i * w
        steps = np.arange(grid.shape[0], dtype=np.float64)[:, None] * value
        grid = np.maximum.accumulate(grid - steps, axis=0) + steps
        best = np.maximum(best, grid.reshape(-1)[: width + 1])
    count = [0] * len(sizes)
    c = width
    while c > 0 and best[c] > 0.0:
        tol = 1e-9 * (1.0 + float(best[c]))
        for i, (w, value) in enumerate(zip(weights, values, strict=True)):
            if value > 0.0 and w <= c and abs(best[c - w] + value - best[c]) <= tol:
                count[i] += 1
                c -= w
                break
        else:
            c -= 1
    return float(best[width]), count


@dataclass
class _GpuLevel:
    """Item 5 for one node type that hosts sharing pods."""

    count_row: int  # row id: whole-GPU parts + configured GPUs <= N_t * G_t
    sizes: list[int]  # distinct sharing milli on this type
    slot_rows: list[int]  # row id per size: pods of that size - slots of that size <= 0
    configs: set[tuple[int, ...]]


class _Master:
    """The LP in HiGHS: ``y`` columns, rows of a :class:`_Rows` added on demand, and
    GPU-configuration columns (coefficient 1 in a count row, ``-p_m`` in slot rows)."""

    def __init__(self, rows: _Rows, cost: FloatArray, upper: FloatArray) -> None:
        self.rows = rows
        self.order: list[int] = []  # HiGHS row i is rows[order[i]]
        self.position: dict[int, int] = {}
        self.configs = 0
        self.highs = highspy.Highs()  # type: ignore[no-untyped-call]
        self.highs.setOptionValue("output_flag", False)
        self.highs.setOptionValue("threads", 1)
        # Primal simplex: new columns and rows keep the basis primal feasible, so each
        # round of generation restarts from where the last one ended.
        self.highs.setOptionValue("simplex_strategy", 4)
        n = cost.size
        none_i, none_f = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        starts = np.zeros(n, dtype=np.int64)
        self.highs.addCols(n, cost, np.zeros(n), upper, 0, starts, none_i, none_f)
        self.highs.changeObjectiveSense(highspy.ObjSense.kMaximize)

    def add_rows(self, ids: Sequence[int]) -> None:
        ids = [i for i in ids if i not in self.position]
        if not ids:
            return
        starts, index, value, rhs = self.rows.csr(ids)
        lower = np.full(len(ids), -highspy.kHighsInf)
        self.highs.addRows(len(ids), lower, rhs, int(index.size), starts, index, value)
        for i in ids:
            self.position[i] = len(self.order)
            self.order.append(i)

    def add_config(self, level: _GpuLevel, config: tuple[int, ...]) -> None:
        level.configs.add(config)
        self.configs += 1
        used = [(row, n) for row, n in zip(level.slot_rows, config, strict=True) if n]
        index = np.asarray(
            [self.position[level.count_row]] + [self.position[row] for row, _ in used],
            dtype=np.int64,
        )
        value = np.asarray([1.0] + [-float(n) for _, n in used], dtype=np.float64)
        self.highs.addCols(
            1,
            np.zeros(1),
            np.zeros(1),
            np.full(1, highspy.kHighsInf),
            int(index.size),
            np.zeros(1, dtype=np.int64),
            index,
            value,
        )

    def solve(self) -> tuple[float, FloatArray, FloatArray]:
        """Solve; return the objective, ``x`` of the ``y`` columns and ``π >= 0`` by row id."""
        self.highs.run()
        status = self.highs.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            name = self.highs.modelStatusToString(status)
            raise RuntimeError(f"HiGHS did not solve the bound LP: {name}")
        solution = self.highs.getSolution()
        x = np.asarray(solution.col_value, dtype=np.float64)
        pi = np.zeros(len(self.rows), dtype=np.float64)
        pi[self.order] = np.maximum(np.asarray(solution.row_dual, dtype=np.float64), 0.0)
        return float(self.highs.getObjectiveValue()), x, pi


def bound_report(
    nodes: Iterable[NodeLike], pods: Iterable[PodLike], *, max_rounds: int = 500
) -> BoundReport:
    """Solve the relaxation of the module docstring and return the bound with its data.

    ``max_rounds`` caps the rounds of column and row generation: stopping early gives a
    weaker but still valid bound (the certificate does not need convergence).
    Raises :class:`ValueError` for a cluster without GPUs or an unsupported pod shape, and
    :class:`RuntimeError` if HiGHS does not report an optimal solution.
    """
    started = time.perf_counter()
    type_count: Counter[_NodeType] = Counter(_node_type(n) for n in nodes)
    shape_count: Counter[_Shape] = Counter(_shape(p) for p in pods)
    capacity = MILLI_PER_GPU * sum(t.gpus * n for t, n in type_count.items())
    if capacity <= 0:
        raise ValueError("the cluster has no GPUs: the allocation share is undefined")
    requested = sum(s.num_gpu * s.gpu_milli * n for s, n in shape_count.items())
    types = sorted(
        (t for t in type_count if t.gpus > 0), key=lambda t: (t.model, t.gpus, t.cpu, t.mem)
    )
    shapes = sorted(
        (s for s in shape_count if s.num_gpu > 0),
        key=lambda s: (s.num_gpu, s.gpu_milli, s.cpu, s.mem, sorted(s.models)),
    )

    # Columns y[s, t] with their per-node caps (items 1 and 3).
    col_shape: list[int] = []
    col_type: list[int] = []
    col_upper: list[int] = []
    for si, s in enumerate(shapes):
        for ti, t in enumerate(types):
            fits = s.num_gpu <= t.gpus and s.cpu <= t.cpu and s.mem <= t.mem
            if not (fits and s.accepts(t.model)):
                continue
            per_node = (t.gpus * (MILLI_PER_GPU // s.gpu_milli)) // s.num_gpu
            if s.cpu > 0:
                per_node = min(per_node, t.cpu // s.cpu)
            if s.mem > 0:
                per_node = min(per_node, t.mem // s.mem)
            col_shape.append(si)
            col_type.append(ti)
            col_upper.append(min(shape_count[s], type_count[t] * per_node))
    n_cols = len(col_shape)

    def report(bound: float, lp: float, rows: int, configs: int, rounds: int) -> BoundReport:
        bound = min(bound, float(capacity), float(requested))
        return BoundReport(
            percent=min(100.0, 100.0 * bound / capacity),
            bound_milli=bound,
            lp_milli=lp,
            capacity_milli=capacity,
            requested_milli=requested,
            node_types=len(type_count),
            pod_shapes=len(shape_count),
            columns=n_cols,
            rows=rows,
            gpu_configs=configs,
            rounds=rounds,
            seconds=time.perf_counter() - started,
        )

    if n_cols == 0:
        return report(0.0, 0.0, 0, 0, 0)

    c_shape = np.asarray(col_shape, dtype=np.int64)
    c_type = np.asarray(col_type, dtype=np.int64)
    cpu = np.asarray([s.cpu for s in shapes], dtype=np.int64)[c_shape]
    mem = np.asarray([s.mem for s in shapes], dtype=np.int64)[c_shape]
    k = np.asarray([s.num_gpu for s in shapes], dtype=np.int64)[c_shape]
    g = np.asarray([s.gpu_milli for s in shapes], dtype=np.int64)[c_shape]
    whole = g == MILLI_PER_GPU
    cost = (k * g).astype(np.float64)
    upper = np.asarray(col_upper, dtype=np.float64)
    all_cols = np.arange(n_cols, dtype=np.int64)

    rows = _Rows()
    initial: list[int] = []  # in the LP from the start
    cuts: list[int] = []  # valid rows added once the LP solution violates them
    for si, s in enumerate(shapes):  # supply (item 2)
        same = all_cols[c_shape == si]
        initial.append(rows.add(same, np.ones(same.size, dtype=np.int64), shape_count[s]))
    levels: list[_GpuLevel] = []
    for ti, t in enumerate(types):
        on = c_type == ti
        cols, n_t = all_cols[on], type_count[t]
        ones = np.ones(cols.size, dtype=np.int64)
        # Per GPU (item 5): count row, one slot row per sharing size, DFF rows as cuts.
        count_row = rows.add(cols, np.where(whole[on], k[on], 0), n_t * t.gpus, keep=True)
        initial.append(count_row)
        sizes = sorted(set(g[on & ~whole].tolist()))
        if sizes:
            slot_rows = []
            for m in sizes:
                same = all_cols[on & (g == m)]
                slot_rows.append(rows.add(same, np.ones(same.size, dtype=np.int64), 0, keep=True))
            initial.extend(slot_rows)
            levels.append(_GpuLevel(count_row, sizes, slot_rows, set()))
        cuts.extend(_dff_rows(rows, cols, g[on], k[on], MILLI_PER_GPU, n_t * t.gpus))
        # Per node (item 4): CPU, memory and milli-GPU capacity, DFF rows as cuts.
        for size, cap in (
            (cpu[on], t.cpu),
            (mem[on], t.mem),
            ((k * g)[on], t.gpus * MILLI_PER_GPU),
        ):
            initial.append(rows.add(cols, size, cap * n_t))
            cuts.extend(_dff_rows(rows, cols, size, ones, cap, n_t))
    initial = [i for i in initial if i >= 0]

    master = _Master(rows, cost, upper)
    master.add_rows(initial)
    for level in levels:  # start with the homogeneous configuration of each size
        for i, m in enumerate(level.sizes):
            config = [0] * len(level.sizes)
            config[i] = MILLI_PER_GPU // m
            master.add_config(level, tuple(config))
    cut_starts, cut_index, cut_value, cut_rhs = rows.csr(cuts) if cuts else _no_rows()
    cut_of = np.repeat(np.arange(len(cuts)), np.diff(np.append(cut_starts, cut_index.size)))

    rounds = 0
    while True:
        lp_milli, x, pi = master.solve()
        rounds += 1
        grow = rounds < max_rounds
        added = False
        for level in levels:  # pricing: the best GPU configuration of the type under π
            best, config = _knapsack(level.sizes, pi[level.slot_rows].tolist(), MILLI_PER_GPU)
            best *= 1.0 + _MARGIN  # outward rounding
            if grow and best > pi[level.count_row] + 1e-9 * (1.0 + best):
                key = tuple(config)
                if any(key) and key not in level.configs:
                    master.add_config(level, key)
                    added = True
            pi[level.count_row] = max(pi[level.count_row], best)
        if grow and cuts:  # separation: cuts violated by the LP solution
            activity = np.bincount(cut_of, weights=cut_value * x[cut_index], minlength=len(cuts))
            violated = activity > cut_rhs * (1.0 + 1e-9) + 1e-6
            new = [
                cuts[i] for i in np.flatnonzero(violated).tolist() if cuts[i] not in master.position
            ]
            if new:
                master.add_rows(new)
                added = True
        if not added:
            break

    # Weak duality over the LP with ALL configurations: π >= 0, the count rows raised to
    # the best configuration's value (so every configuration column is dual feasible) and
    # ρ for the y columns, whose coefficients are all >= 0.
    starts, index, value, rhs = rows.csr(master.order)
    pi_lp = pi[master.order]
    row_of = np.repeat(np.arange(len(master.order)), np.diff(np.append(starts, index.size)))
    priced = np.bincount(index, weights=value * pi_lp[row_of], minlength=n_cols)
    rho = np.maximum(cost - priced * (1.0 - _MARGIN), 0.0)
    certified = (float(rhs @ pi_lp) + float(upper @ rho)) * (1.0 + _MARGIN)
    return report(certified, lp_milli, len(master.order), master.configs, rounds)


def _no_rows() -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
    none_i = np.zeros(0, dtype=np.int64)
    return none_i, none_i, np.zeros(0, dtype=np.float64), np.zeros(0, dtype=np.float64)


def upper_bound(nodes: Sequence[NodeLike], pods: Sequence[PodLike]) -> float:
    """Upper bound (0-100) on the % of the cluster's milli-GPU any placement of ``pods``
    on ``nodes`` allocates; see the module docstring for the invariant and its proof."""
    return bound_report(nodes, pods).percent
