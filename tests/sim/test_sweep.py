"""Sweeps over policies x seeds x penalties x loads: every combination once, the same
figures on any backend (inline, process pool, Ray), the seeds folded, and the command."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from tests.conftest import IN_CI
from tests.sim.test_study import random_trace
from typer.testing import CliRunner

from suanli.cli.main import app
from suanli.sim.run import Replay, simulate
from suanli.sim.sweep import FIGURES, Grid, run_sweep, summarize

TRACE = random_trace(200, seed=9, gap=200)
GRID = Grid(
    scenarios=("isolated", "exchange"),
    policies=("price", "bestfit"),
    seeds=(0, 1),
    penalties=(0, 900),
    loads=(1.0, 3.0),
    interruptible=0.3,
)


def test_every_combination_once_and_isolated_ignores_the_penalty() -> None:
    replays = GRID.replays()
    # isolated: 2 policies x 2 loads x 2 seeds; exchange: also x 2 penalties
    assert len(replays) == 8 + 16
    assert len(set(replays)) == len(replays)
    assert {r.penalty_s for r in replays if r.scenario == "isolated"} == {300}
    with pytest.raises(ValueError, match="at least one of seeds"):
        Grid(seeds=())
    with pytest.raises(ValueError, match="unknown scenario 'nowhere'"):
        Grid(scenarios=("nowhere",))


def test_each_run_is_the_replay_itself_on_any_number_of_workers() -> None:
    inline = run_sweep(TRACE, GRID, workers=1)
    pooled = run_sweep(TRACE, GRID, workers=2)
    assert [r.as_dict() for r in inline] == [r.as_dict() for r in pooled]
    for run in inline[::5]:
        alone = simulate(TRACE, run.replay).metrics.as_dict()
        assert run.figures == {key: alone[key] for key in FIGURES}
    assert any(r.figures["preemptions"] for r in inline)  # the interruptible share is used
    assert inline[0].as_dict()["penalty_s"] is None


def test_summary_folds_the_seeds() -> None:
    runs = run_sweep(TRACE, GRID, workers=1)
    rows = summarize(runs)
    assert len(rows) == len(runs) // 2
    for row in rows:
        assert row["seeds"] == 2
        same = [
            r.figures["utilization"]
            for r in runs
            if (r.replay.scenario, r.replay.policy, r.replay.load)
            == (row["scenario"], row["policy"], row["load"])
            and r.as_dict()["penalty_s"] == row["penalty_s"]
        ]
        assert row["utilization_min"] == min(same)
        assert row["utilization_max"] == max(same)
        assert row["utilization_min"] <= row["utilization_mean"] <= row["utilization_max"]


def test_on_ray_the_same_figures() -> None:
    if importlib.util.find_spec("ray") is None:
        if IN_CI:
            pytest.fail("Ray is not installed (the test extra installs it)")
        pytest.skip("Ray is not installed")
    small = Grid(policies=("price",), seeds=(0, 1), penalties=(0,), loads=(2.0,), interruptible=0.3)
    assert [r.as_dict() for r in run_sweep(TRACE, small, ray_address="local")] == [
        r.as_dict() for r in run_sweep(TRACE, small, workers=1)
    ]


def test_the_command(tmp_path: Path) -> None:
    jobs = "job_id,submit,duration,cards,home\n" + "".join(
        f"{j.job_id},{j.submit},{j.duration},{j.cards},{j.home}\n" for j in TRACE.jobs
    )
    folder = tmp_path
    (folder / "jobs.csv").write_text(jobs)
    (folder / "centers.csv").write_text("c,nodes,gpus\na,2,8\nb,2,8\nc,1,8\n")
    files = [
        "--trace",
        "csv",
        "--jobs",
        str(folder / "jobs.csv"),
        "--vcs",
        str(folder / "centers.csv"),
    ]
    result = CliRunner().invoke(
        app,
        [
            "sim",
            "sweep",
            *files,
            "--policies",
            "price,bestfit",
            "--seeds",
            "0-1",
            "--penalties",
            "0,600",
            "--workers",
            "1",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert len(doc["runs"]) == 4 + 8
    assert len(doc["summary"]) == 2 + 4
    first = doc["runs"][0]
    assert (first["scenario"], first["policy"], first["seed"], first["penalty_s"]) == (
        "isolated",
        "price",
        0,
        None,
    )
    alone = simulate(TRACE, Replay("isolated", policy="price")).metrics.as_dict()
    assert first["utilization"] == alone["utilization"]
    table = CliRunner().invoke(app, ["sim", "sweep", *files, "--seeds", "3", "--workers", "1"])
    assert table.exit_code == 0 and "over the seeds" in table.stdout
    for extra, message in [
        (["--seeds", "2-1"], "--seeds takes whole numbers or ranges"),
        (["--penalties", "-5"], "--penalties takes whole numbers"),
        (["--policies", "nope"], "unknown policy 'nope'"),
        (["--loads", "0"], "load must be a positive number"),
        (["--interruptible", "2"], "--interruptible is a share in 0..1"),
        (["--workers", "0"], "--workers must be at least 1"),
    ]:
        bad = CliRunner().invoke(app, ["sim", "sweep", *files, *extra])
        assert bad.exit_code == 1, (extra, bad.stdout)
        assert bad.stderr.startswith("error: ") and bad.stderr.count("\n") == 1
        assert message in bad.stderr, (extra, bad.stderr)
