"""The activation study: a sweep worked out by hand, worker-count independence, the
report, the plots and the JSON; the hourly series of allocated card-seconds.

The hand-checked trace: centers A and B, one node of 8 GPUs each; 40 jobs of 8 GPUs for
400 s, all at home A, submitted every 1,000 s. At load L they arrive every 1000 / L s
(floored), so:

- isolated (A only): no job waits while 1000 / L >= 400, i.e. L <= 2.5; above, each job
  waits a little longer than the one before. With a target p95 of 0 s the grid passes 1
  and 2 and fails 3; bisection tries 2.5 (passes), 2.7 and 2.6 (fail): max load 2.5. The
  arrival window is 400 * 39 s, in which jobs 0..38 run whole on 8 of 16 cards: 0.5.
- exchange without locality penalty (A or B): no wait while 1000 / L >= 200, L <= 5; the
  grid passes up to 4 and fails 6; bisection finds 5.0. Window 200 * 39 s; jobs 0..37 run
  whole and job 38 for its first 200 s: (38 + 0.5) * 3200 / (16 * 200 * 39) = 38.5 / 39.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from suanli.cli.main import app
from suanli.sim.metrics import BUCKET_S, hourly
from suanli.sim.model import Center, Job
from suanli.sim.plots import PLOTS
from suanli.sim.run import Replay, simulate
from suanli.sim.study import JSON_KEYS, Settings, run_study
from suanli.sim.traces import Trace

EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n"
EVEN = Trace(
    "even",
    EPOCH,
    tuple(Job(f"j{k}", 1000 * k, 400, 8, "A") for k in range(40)),
    (Center("A", 1, 8), Center("B", 1, 8)),
)


def random_trace(n: int = 300, seed: int = 5, gap: int = 400) -> Trace:
    """Seeded jobs on three small centers; ``gap``: the most seconds between arrivals."""
    draw = random.Random(seed)
    jobs = []
    at = 0
    for k in range(n):
        at += draw.randrange(0, gap)
        cards = draw.choice([1, 1, 1, 1, 2, 4, 8, 16])
        home = draw.choice(["a", "a", "a", "b", "c"])
        jobs.append(Job(f"j{k}", at, draw.randrange(60, 7200), cards, home))
    centers = (Center("a", 2, 8), Center("b", 2, 8), Center("c", 1, 8))
    return Trace("random", EPOCH, tuple(jobs), centers)


def test_the_sweep_finds_the_loads_worked_out_by_hand() -> None:
    study = run_study(EVEN, Settings(target_s=0, penalty_s=0), workers=1)
    iso, exc = study.scenarios["isolated"], study.scenarios["exchange"]
    assert iso.max_load == 2.5 and not iso.capped
    assert exc.max_load == 5.0 and not exc.capped
    assert sorted(iso.points) == [1, 2, 2.5, 2.6, 2.7, 3, 4, 6, 8]
    assert sorted(exc.points) == [1, 2, 3, 4, 5, 5.1, 5.2, 5.5, 6, 8]
    assert iso.utilization_at_target == 0.5
    assert exc.utilization_at_target == pytest.approx(38.5 / 39)
    assert iso.points[2.6].wait_p95_s and iso.points[2.6].wait_p95_s > 0
    assert study.replays == 2 * 6 + 3 + 4


def test_a_target_no_load_meets_and_a_target_every_load_meets() -> None:
    study = run_study(EVEN, Settings(target_s=10**9, grid=(1, 2), penalty_s=0), workers=1)
    for s in study.scenarios.values():
        assert s.capped and s.max_load == 64
    slow = Trace(
        "slow", EPOCH, tuple(Job(f"j{k}", k, 400, 8, "A") for k in range(40)), EVEN.centers
    )
    study = run_study(slow, Settings(target_s=0, grid=(1,), scenarios=("isolated",)), workers=1)
    assert study.scenarios["isolated"].max_load is None
    assert study.scenarios["isolated"].utilization_at_target is None


def test_the_same_figures_with_one_and_two_workers() -> None:
    trace = random_trace(gap=4000)
    settings = Settings(target_s=1800, grid=(1, 2, 4))
    one = run_study(trace, settings, workers=1).as_dict()
    two = run_study(trace, settings, workers=2).as_dict()
    assert one == two
    for figures in one["scenarios"].values():
        assert figures["max_load_at_target"] is not None


def test_hourly_card_seconds_add_up_to_the_allocated_ones() -> None:
    assert hourly([(2, 0, 7300)], 0, 7300) == (7200, 7200, 200)
    assert hourly([(1, 100, 3700), (3, 3600, 3601)], 0, 4000) == (3500, 103)
    assert hourly([(1, -50, 10_000)], 0, 3600) == (3600,)
    assert hourly([(1, 0, 10)], 5, 5) == ()
    for scenario in ("isolated", "exchange"):
        for span in ("arrivals", "all"):
            m = simulate(random_trace(), Replay(scenario, 3.0, span=span)).metrics
            assert sum(m.hourly_card_s) == m.allocated_card_s
            assert len(m.hourly_card_s) == -(-(m.span_end - m.span_start) // BUCKET_S)
            util = m.hourly_utilization()
            assert all(0 <= u <= 1 for u in util)


def test_the_command_writes_the_report_and_the_plots(tmp_path: Path) -> None:
    trace = random_trace()
    jobs, centers = tmp_path / "jobs.csv", tmp_path / "centers.csv"
    rows = ["job_id,submit,duration,cards,home"]
    rows += [f"{j.job_id},{j.submit},{j.duration},{j.cards},{j.home}" for j in trace.jobs]
    jobs.write_text("\n".join(rows) + "\n")
    centers.write_text("center,nodes,gpus_per_node\na,2,8\nb,2,8\nc,1,8\n")
    out = tmp_path / "study"
    args = ["sim", "study", "--trace", "csv", "--jobs", str(jobs), "--vcs", str(centers)]
    args += ["--out", str(out), "--json", "--workers", "1", "--loads", "1,2,4"]
    result = CliRunner().invoke(app, [*args, "--target-p95", "1800"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert list(doc["scenarios"]) == ["isolated", "exchange"]
    for figures in doc["scenarios"].values():
        assert set(figures) >= {*JSON_KEYS, "max_load_at_target", "utilization_at_target"}
        assert figures["jobs"] == 300
    run = CliRunner().invoke(
        app, ["sim", "run", "--trace", "csv", "--jobs", str(jobs), "--vcs", str(centers), "--json"]
    )
    base = json.loads(run.stdout)["scenarios"]
    for name, figures in doc["scenarios"].items():
        assert {k: figures[k] for k in JSON_KEYS} == {k: base[name][k] for k in JSON_KEYS}
    text = (out / "report.md").read_text()
    assert "isolated" in text and "exchange" in text and "suanli sim study" in text
    assert "utilization at target" in text
    for name in PLOTS:
        assert (out / name).read_bytes()[:8] == PNG
        assert f"]({name})" in text


def test_bad_options_are_refused(tmp_path: Path) -> None:
    def study(*args: str) -> int:
        return CliRunner().invoke(app, ["sim", "study", "--out", str(tmp_path), *args]).exit_code

    assert study("--loads", "1,x") != 0
    assert study("--loads", "0,1") != 0
    assert study("--workers", "0") != 0
    assert study("--scenario", "nope") != 0
