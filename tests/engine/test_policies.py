"""Each policy's score plugin, GPU picker and the fragmentation measure, table-driven.

Expected values are worked by hand from the FGD paper's definitions and its authors'
simulator (integer truncations included); see the comments on each table.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from engine.fleet import fleet, gpu_pool
from suanli.engine import Demand, DemandMix, Shape, Snapshot
from suanli.engine.fgd import FgdGpu, FgdScore
from suanli.engine.frag import FragMeter, FragModel
from suanli.engine.gpus import BestFitGpu, RandomFitGpu
from suanli.engine.ours import FILL_RATE, SuanliGpu, SuanliScore, cpu_per_gpu_milli, hole_waste
from suanli.engine.paper import (
    DotProductScore,
    GpuClusteringScore,
    GpuPackingScore,
    PaperBestFitScore,
    RandomScore,
)


def nodes(*states: tuple[list[int], int]) -> Snapshot:
    """4-GPU nodes (64 cores), one per ``(milli-GPU free per GPU, free CPU)``."""
    pool = gpu_pool(1, gpus=4, cpu=128_000, mem=1 << 20)
    return fleet([pool], [(i, 1, g, cpu, None) for i, (g, cpu) in enumerate(states)])


def rows(snap: Snapshot) -> npt.NDArray[np.int64]:
    return np.arange(snap.nodes, dtype=np.int64)


IDLE = [1000, 1000, 1000, 1000]

# -- the paper's baselines ------------------------------------------------------------------


def test_dotprod_prefers_the_least_aligned_node() -> None:
    # free (cpu, gpu) / (128 cores, 8 GPUs) . asked (8 cores, 1 GPU) / same, halved:
    # (0.5, 0.5).(0.0625, 0.125)/2 = 0.046875 -> 95;  (1, 0.5).(...)/2 = 0.0625 -> 93
    snap = nodes((IDLE, 64_000), (IDLE, 128_000))
    scores = DotProductScore().score(snap, Demand(cards=1, cpu_milli=8000), rows(snap))
    assert scores.tolist() == [95, 93]


@pytest.mark.parametrize(
    ("gpus", "demand", "expected"),
    [
        (IDLE, Demand(cards=1), 29),  # idle node: max(33 - 4 free GPUs, 4)
        (IDLE, Demand(cards=1, gpu_milli=300), 29),
        ([1000, 1000, 1000, 0], Demand(cards=1), 49),  # used node: 50 - 1 whole GPU taken
        ([1000, 1000, 0, 0], Demand(cards=2), 48),
        ([1000, 1000, 0, 0], Demand(cards=1, gpu_milli=300), 49),  # no shared GPU fits
        ([1000, 400, 0, 0], Demand(cards=1, gpu_milli=300), 96),  # shared: 100 - 40 // 10
        ([1000, 400, 900, 0], Demand(cards=1, gpu_milli=300), 96),  # least free shared GPU
        ([1000, 1000, 1000, 0], Demand(cards=0, cpu_milli=1), 0),  # CPU-only: 0
    ],
)
def test_gpu_packing(gpus: list[int], demand: Demand, expected: int) -> None:
    snap = nodes((gpus, 64_000))
    assert GpuPackingScore().score(snap, demand, rows(snap)).tolist() == [expected]


def test_gpu_clustering_keeps_kinds_together() -> None:
    snap = nodes((IDLE, 64_000), (IDLE, 64_000), (IDLE, 64_000), (IDLE, 64_000))
    snap.take(0, [3], 300, 0, 0)  # a share only
    snap.take(1, [3], 300, 0, 0)  # a share and a 1-GPU pod
    snap.take(1, [2], 1000, 0, 0)
    snap.take(3, [2, 3], 1000, 0, 0)  # a 2-GPU pod only
    # band + 25 * (8000 - free) // 8000: 75 + 13, 50 + 16, 25 + 12 (idle), 0 + 18
    demand = Demand(cards=1, gpu_milli=300)
    assert GpuClusteringScore().score(snap, demand, rows(snap)).tolist() == [88, 66, 37, 18]
    assert GpuClusteringScore().score(snap, Demand(cards=0, cpu_milli=1), rows(snap)).sum() == 0


def test_paper_best_fit_is_min_max_normalized() -> None:
    # raw int(100 * (1 - (cpu_left / 128000 + gpu_left / 8000) / 2)): 21, 90, 65
    snap = nodes(
        ([1000] * 4, 96_000),  # 4 GPUs free: gpu_left 3000
        ([1000, 1000, 0, 0], 16_000),
        ([1000, 1000, 1000, 0], 48_000),
    )
    # 8-GPU cases need a wider pool; check the arithmetic on 4-GPU nodes instead
    demand = Demand(cards=1, cpu_milli=8000)
    raw = [
        int((1 - ((96_000 - 8000) / 128_000 * 0.5 + 3000 / 8000 * 0.5)) * 100),
        int((1 - (8000 / 128_000 * 0.5 + 1000 / 8000 * 0.5)) * 100),
        int((1 - (40_000 / 128_000 * 0.5 + 2000 / 8000 * 0.5)) * 100),
    ]
    low, high = min(raw), max(raw)
    expected = [(r - low) * 100 // (high - low) for r in raw]
    assert PaperBestFitScore().score(snap, demand, rows(snap)).tolist() == expected
    assert expected[1] == 100 and expected[0] == 0
    same = nodes((IDLE, 1000), (IDLE, 1000))
    assert PaperBestFitScore().score(same, demand, rows(same)).tolist() == [0, 0]


def test_random_gives_one_candidate_the_top_score() -> None:
    snap = nodes(*[(IDLE, 64_000)] * 5)
    scores = RandomScore(np.random.default_rng(3)).score(snap, Demand(cards=1), rows(snap))
    assert sorted(scores.tolist()) == [0, 0, 0, 0, 100]


@pytest.mark.parametrize(
    ("picker", "expected"),
    [(BestFitGpu(), 1), (RandomFitGpu(np.random.default_rng(0)), None)],
)
def test_gpu_pickers_for_a_share(picker: BestFitGpu | RandomFitGpu, expected: int | None) -> None:
    snap = nodes(([1000, 400, 0, 900], 64_000))
    [gpu] = picker.pick(snap, Demand(cards=1, gpu_milli=300), 0)
    assert gpu == expected if expected is not None else gpu in (0, 1, 3)
    assert picker.pick(snap, Demand(cards=1), 0) == (0,)  # whole: lowest index
    assert picker.pick(snap, Demand(cards=0, cpu_milli=5), 0) == ()


# -- fragmentation, FGD and ours ------------------------------------------------------------

HALF, WHOLE = Shape(1000, 500, 1), Shape(1000, 1000, 1)
MIX = DemandMix((HALF, WHOLE), (0.5, 0.5))


@pytest.mark.parametrize(
    ("gpus", "cpu", "frag"),
    [
        ([1000, 1000, 0, 0], 8000, 0.0),  # both shapes fit, no GPU below their share
        ([1000, 300, 0, 0], 8000, 300.0),  # the 300 is below both shares: 0.5*300 + 0.5*300
        ([500, 500, 0, 0], 8000, 500.0),  # halves fit (0), a whole GPU does not: 0.5*1000
        ([1000, 1000, 0, 0], 500, 2000.0),  # too little CPU for either: all idle GPU
        ([0, 0, 0, 0], 8000, 0.0),
    ],
)
def test_fragmentation_follows_the_definition(gpus: list[int], cpu: int, frag: float) -> None:
    model = FragModel(MIX, ("G2",))
    values = model.frag(np.array([0]), np.array([cpu]), np.array([gpus]))
    assert values.tolist() == [frag]


def test_a_model_the_shape_refuses_is_all_fragment() -> None:
    mix = DemandMix((Shape(1000, 500, 1, "T4"),), (1.0,))
    model = FragModel(mix, ("G2", "T4"))
    values = model.frag(np.array([0, 1]), np.array([8000, 8000]), np.array([[1000], [1000]]))
    assert values.tolist() == [1000.0, 0.0]


def test_fgd_scores_the_best_gpu_and_picks_it() -> None:
    # X = [1000, 1000]: a half anywhere leaves 500 (< a whole): F 0 -> 250, int(100 sig(-.25)) 43
    # Y = [1000, 500]: F 250; the half on GPU 1 -> [1000, 0], F 0: int(100 sig(.25)) = 56
    snap = nodes(([1000, 1000, 0, 0], 8000), ([1000, 500, 0, 0], 8000))
    demand = Demand(cards=1, gpu_milli=500, cpu_milli=1000)
    assert FgdScore(MIX).score(snap, demand, rows(snap)).tolist() == [43, 56]
    assert FgdGpu(MIX).pick(snap, demand, 1) == (1,)
    assert FgdGpu(MIX).pick(snap, demand, 0) == (0,)  # equal scores: lowest index


def test_fgd_scores_are_memoized_per_class() -> None:
    snap = nodes(*[([1000, 500, 0, 0], 8000)] * 3)
    demand = Demand(cards=1, gpu_milli=500, cpu_milli=1000)
    first = FgdScore(MIX).score(snap, demand, rows(snap))
    assert len(set(snap.node_class.tolist())) == 1
    assert FgdScore(MIX).score(snap, demand, rows(snap)).tolist() == first.tolist() == [56] * 3


def test_suanli_keeps_cpu_where_gpus_need_it() -> None:
    # kappa = 1000 cpu per 750 milli-GPU; 6 cores on P leave 2 cores for 2 GPUs: 500 milli
    # stranded -> 50 - 500 / 10 = 0; Q has CPU to spare: 50. FGD cannot tell them apart.
    assert cpu_per_gpu_milli(MIX) == pytest.approx(1000 / 750)
    snap = nodes(([1000, 1000, 0, 0], 8000), ([1000, 1000, 0, 0], 100_000))
    demand = Demand(cards=0, cpu_milli=6000)
    assert SuanliScore(MIX).score(snap, demand, rows(snap)).tolist() == [0, 50]
    assert FgdScore(MIX).score(snap, demand, rows(snap)).tolist() == [50, 50]
    share = Demand(cards=1, gpu_milli=500, cpu_milli=1000)
    assert SuanliGpu(MIX).pick(nodes(([1000, 500, 0, 0], 8000)), share, 0) == (1,)


def test_suanli_scores_do_not_depend_on_what_was_scored_before() -> None:
    # The class path (suanli.engine.byclass) keeps a kind's score for good: the score must
    # be a function of the node's free capacity and the demand's shape alone.
    pool = gpu_pool(1, gpus=4, cpu=128_000, mem=1 << 20)
    snap = fleet([pool], [(0, 1, [1000, 1000, 0, 0], 64_000, 8000), (1, 1, None, 8000, None)])
    demand = Demand(cards=0, cpu_milli=4000, memory_mib=4096)
    fresh = SuanliScore(MIX).score(snap, demand, rows(snap)).tolist()
    busy = SuanliScore(MIX)
    for k in range(1, 20):
        share = Demand(cards=1, gpu_milli=500, cpu_milli=1000, memory_mib=1000 * k)
        busy.score(snap, share, rows(snap))
    assert busy.score(snap, demand, rows(snap)).tolist() == fresh


def test_hole_waste_charges_the_holes_few_shares_fit() -> None:
    # Shares of 800 are common, of 100 rare: the 200 beside an 800 mostly stays idle, the
    # 900 beside a 100 is soon taken by an 800 (which leaves a 100 hole).
    mix = DemandMix(
        (Shape(1000, 800, 1), Shape(1000, 100, 1), Shape(1000, 1000, 1)), (0.5, 0.01, 0.49)
    )
    value = hole_waste(mix)
    rho = (FILL_RATE * 0.01 / 0.51) ** 2  # chance a hole that only the 100 fits is filled
    v100 = (1 - rho) * 100
    assert value[0] == 0.0
    assert value[50] == 50.0  # nothing fits: all of it is lost
    assert value[100] == pytest.approx(v100)
    assert value[200] == pytest.approx((1 - rho) * 200 + rho * v100)
    assert value[900] < value[200] / 2
    # halves and wholes only: a half hole is always filled, so a GPU is never lost
    assert hole_waste(MIX)[[500, 700, 1000]].tolist() == [0.0, 200.0, 0.0]


def test_suanli_puts_a_share_where_the_hole_it_leaves_is_filled() -> None:
    # An 800 on the GPU with 900 free leaves 100, on an idle GPU 200: both rarely filled,
    # but the 900 hole would have been taken by an 800 anyway; the idle GPU is kept whole.
    mix = DemandMix(
        (Shape(1000, 800, 1), Shape(1000, 100, 1), Shape(1000, 1000, 1)), (0.5, 0.01, 0.49)
    )
    snap = nodes(([1000, 1000, 0, 0], 64_000), ([1000, 900, 0, 0], 64_000))
    demand = Demand(cards=1, gpu_milli=800, cpu_milli=1000)
    scores = SuanliScore(mix).score(snap, demand, rows(snap)).tolist()
    assert scores[1] > scores[0]
    assert SuanliGpu(mix).pick(snap, demand, 1) == (1,)


def test_the_frag_meter_follows_changes() -> None:
    snap = nodes(([1000, 1000, 0, 0], 8000), ([1000, 1000, 0, 0], 8000))
    meter = FragMeter(snap, MIX)
    assert meter.total == 0.0
    snap.take(1, [1], 500, 1000, 0)
    assert meter.update(np.array([1])) == 250.0


# -- the demand mix ------------------------------------------------------------------------


def test_typical_shapes_cover_the_threshold_most_frequent_first() -> None:
    a, b, c, d = Shape(1000, 0, 0), Shape(2000, 500, 1), Shape(3000, 1000, 1), Shape(900, 0, 0)
    mix = DemandMix.typical([a] * 5 + [b] * 3 + [c] + [d], coverage_pct=80)
    assert mix.shapes == (a, b)
    assert mix.weights == pytest.approx((0.625, 0.375))
    everything = DemandMix.typical([a] * 5 + [b] * 3 + [c] + [d], coverage_pct=100)
    assert everything.shapes == (a, b, c, d)  # equal counts: the larger CPU first
    assert sum(everything.weights) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("args", "shape"),
    [
        ((0, 0, 0, ""), Shape(100, 0, 0)),  # no CPU asked counts as 100 milli
        ((4000, 0, 0, "T4"), Shape(4000, 0, 0)),  # a CPU-only pod names no model
        ((4000, 1, 460, "T4|P100"), Shape(4000, 460, 1, "T4|P100")),
    ],
)
def test_shape_of_a_pod(args: tuple[int, int, int, str], shape: Shape) -> None:
    assert Shape.of(*args) == shape
    assert Shape(1, 1, 1, "T4|P100").models == frozenset({"T4", "P100"})


def test_a_mix_needs_shapes() -> None:
    with pytest.raises(ValueError, match="one weight per shape"):
        DemandMix((), ())
    with pytest.raises(ValueError, match="no pods"):
        DemandMix.typical([])
