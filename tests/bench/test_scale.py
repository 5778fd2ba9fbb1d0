"""``suanli bench scale`` on a small fleet: the JSON, no overselling, determinism, the mixes.

The figures themselves (placements per second, latency, memory) are measured by running
the command at national scale, not asserted here.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable

import numpy as np
from typer.testing import CliRunner

from suanli.bench.scale import batch, online, run_scale
from suanli.bench.scale_fleet import build_scale_fleet
from suanli.bench.scale_requests import SHAPES, hold_for, make_requests
from suanli.cli.bench import bench_app
from suanli.engine import MILLI, Placement, Snapshot, make_engine

KEYS = [
    "cards",
    "centers",
    "requests",
    "snapshot_build_s",
    "placements_per_s",
    "p50_decision_ms",
    "p99_decision_ms",
    "batch_clear_s",
    "peak_rss_mb",
]
TIMINGS = {
    "snapshot_build_s",
    "placements_per_s",
    "p50_decision_ms",
    "p99_decision_ms",
    "batch_clear_s",
    "peak_rss_mb",
    "fleet_build_s",
    "online_s",
    "online_placed_per_s",
    "mean_decision_ms",
    "max_decision_ms",
}


def test_json_prints_the_figures_in_order() -> None:
    args = ["scale", "--cards", "2000", "--centers", "20", "--requests", "300", "--json"]
    result = CliRunner().invoke(bench_app, args)
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert list(figures)[: len(KEYS)] == KEYS
    assert (figures["cards"], figures["centers"], figures["requests"]) == (2000, 20, 300)
    assert figures["online_placed"] + figures["online_unplaced"] == 300
    assert 0 < figures["p50_decision_ms"] <= figures["p99_decision_ms"]
    assert figures["placements_per_s"] > 0 and figures["peak_rss_mb"] > 0


def test_bad_sizes_are_refused() -> None:
    result = CliRunner().invoke(bench_app, ["scale", "--cards", "0"])
    assert result.exit_code != 0


def used_by(placements: Iterable[Placement | None], snap: Snapshot) -> np.ndarray:
    """Milli-GPU each (row, GPU) is asked for by the placements."""
    used = np.zeros(snap.gpu_free.shape, dtype=np.int64)
    for placement in placements:
        for alloc in placement.allocations if placement is not None else ():
            for gpu in alloc.gpus:
                used[snap.row_of(alloc.node_id), gpu] += alloc.gpu_milli
    return used


def capacity(snap: Snapshot) -> np.ndarray:
    count = snap.node_gpus[:, None]
    return np.where(np.arange(snap.gpu_free.shape[1])[None, :] < count, MILLI, 0)


def test_no_placement_oversubscribes_any_node() -> None:
    fleet = build_scale_fleet(2000, 20, seed=3)
    requests = make_requests(fleet.pools, 500, seed=3, hold=hold_for(fleet.cards))
    snap = fleet.snapshot()
    live = online(make_engine("price"), snap, requests)
    assert live.placed > 0 and live.live
    used = used_by(live.live, snap)
    assert (used <= capacity(snap)).all()
    assert (snap.gpu_free == capacity(snap) - used).all(), "the snapshot holds what is leased"
    idle = fleet.snapshot()
    _, cleared = batch(make_engine("price"), idle, requests)
    used = used_by(cleared, idle)
    assert (used <= capacity(idle)).all()
    assert (idle.gpu_free == capacity(idle) - used).all()
    for placement, item in zip(cleared, requests, strict=True):
        if placement is not None:
            assert placement.gpu_milli == item.demand.total_gpu_milli


def test_a_seed_decides_everything_but_the_timings() -> None:
    first, again = run_scale(1500, 12, 200, seed=5), run_scale(1500, 12, 200, seed=5)
    assert {k: v for k, v in first.items() if k not in TIMINGS} == {
        k: v for k, v in again.items() if k not in TIMINGS
    }
    other = make_requests(build_scale_fleet(1500, 12, seed=6).pools, 200, seed=6)
    assert [r.demand for r in other] != [
        r.demand for r in make_requests(build_scale_fleet(1500, 12, seed=5).pools, 200, seed=5)
    ]


def test_the_fleet_is_about_the_size_asked() -> None:
    fleet = build_scale_fleet(300_000, 550)
    assert fleet.centers == 550 == len({p.center_id for p in fleet.pools})
    assert 300_000 - 8 <= fleet.cards <= 300_000
    provinces = {p.province for p in fleet.pools}
    assert len(provinces) >= 25
    models = Counter(p.model for p in fleet.pools)
    assert {"H800", "A100-80GB", "Ascend910B", "RTX4090", "L20"} <= set(models)
    assert build_scale_fleet(300_000, 550) == fleet


def test_the_request_mix_is_as_documented() -> None:
    fleet = build_scale_fleet(20_000, 40)
    requests = make_requests(fleet.pools, 20_000, seed=1, hold=100)
    demands = [r.demand for r in requests]
    gangs = [d for d in demands if d.node_count > 1]
    shares = [d for d in demands if d.is_share]
    assert abs(len(gangs) / 20_000 - 0.04) < 0.01 and abs(len(shares) / 20_000 - 0.18) < 0.01
    assert all(d.cards in (16, 32, 64, 128) and d.cards_per_node == 8 for d in gangs)
    assert all(d.inter_node in ("infiniband", "roce") and d.accepted_models for d in gangs)
    assert abs(sum(bool(d.provinces) for d in demands) / 20_000 - 0.3) < 0.02
    assert abs(sum(d.max_price_fen is not None for d in demands) / 20_000 - 0.4) < 0.02
    assert sum(p for p, *_ in SHAPES) == 1000
    assert 50 < np.mean([r.hold for r in requests]) < 150


def test_the_batch_fills_no_more_than_the_lp_bound_and_nearly_as_much() -> None:
    figures = run_scale(20_000, 40, 3_000, seed=2, bound=True)
    assert figures["batch_busy_pct"] <= figures["batch_bound_pct"] <= 100
    assert figures["batch_bound_pct"] <= figures["batch_asked_pct"]
    assert figures["batch_busy_pct"] >= figures["batch_bound_pct"] - 5
