"""``suanli sim run`` on a small synthetic trace: the JSON, determinism, bad input."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from suanli.cli.main import app

KEYS = {
    "jobs",
    "utilization",
    "idle_card_hours",
    "wait_p50_s",
    "wait_p95_s",
    "wait_p99_s",
    "jct_mean_s",
    "never_ran",
}


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    """300 seeded jobs on three small centers, busy enough to queue at load 3."""
    draw = random.Random(5)
    homes = ["a", "a", "a", "b", "c"]
    rows = ["job_id,submit,duration,cards,home"]
    at = 0
    for k in range(300):
        at += draw.randrange(0, 400)
        cards = draw.choice([1, 1, 1, 1, 2, 4, 8, 16])
        rows.append(f"j{k},{at},{draw.randrange(60, 7200)},{cards},{draw.choice(homes)}")
    jobs = tmp_path / "jobs.csv"
    jobs.write_text("\n".join(rows) + "\n")
    centers = tmp_path / "centers.csv"
    centers.write_text("center,nodes,gpus_per_node\na,2,8\nb,2,8\nc,1,8\n")
    return jobs, centers


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["sim", "run", *args])
    return result.exit_code, result.stdout, result.stderr


def test_json_per_scenario_and_the_same_for_the_same_seed(files: tuple[Path, Path]) -> None:
    jobs, centers = files
    args = ["--trace", "csv", "--jobs", str(jobs), "--vcs", str(centers), "--load", "3"]
    code, out, err = run(*args, "--json", "--seed", "7", "--policy", "random")
    assert code == 0, err
    doc = json.loads(out)
    assert list(doc["scenarios"]) == ["isolated", "exchange"]
    for figures in doc["scenarios"].values():
        assert set(figures) >= KEYS
        assert figures["jobs"] == 300
    isolated, exchange = doc["scenarios"]["isolated"], doc["scenarios"]["exchange"]
    assert isolated["wait_p95_s"] > 0  # the trace does queue
    assert exchange["never_ran"] <= isolated["never_ran"]
    assert exchange["ran_away_from_home"] > 0
    again = run(*args, "--json", "--seed", "7", "--policy", "random")
    assert again[1] == out
    code, one, _ = run(*args, "--json", "--scenario", "exchange", "--limit", "50")
    assert code == 0
    assert list(json.loads(one)["scenarios"]) == ["exchange"]
    assert json.loads(one)["scenarios"]["exchange"]["jobs"] == 50


def test_tables_for_people(files: tuple[Path, Path]) -> None:
    jobs, centers = files
    code, out, err = run("--trace", "csv", "--jobs", str(jobs), "--vcs", str(centers))
    assert code == 0, err
    assert "wait_p95_s" in out and "isolated util." in out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--load", "-1"], "error: --load must be a positive number, not -1"),
        (["--scenario", "pooled"], "error: unknown scenario 'pooled'"),
        (["--limit", "0"], "error: --limit must be positive"),
        (["--penalty", "-5"], "error: --penalty must not be negative"),
        (["--policy", "fgd"], "error: unknown policy 'fgd' for the simulator"),
        (["--trace", "kaggle"], "error: unknown trace 'kaggle'"),
    ],
)
def test_bad_input_is_one_line(files: tuple[Path, Path], extra: list[str], message: str) -> None:
    jobs, centers = files
    code, _, err = run("--trace", "csv", "--jobs", str(jobs), "--vcs", str(centers), *extra)
    assert code == 1
    assert err.startswith(message) and err.count("\n") == 1


def test_missing_and_bad_files(tmp_path: Path, files: tuple[Path, Path]) -> None:
    _, centers = files
    code, _, err = run("--trace", "csv", "--jobs", str(tmp_path / "no.csv"), "--vcs", str(centers))
    assert (code, err) == (1, f"error: no such file: {tmp_path / 'no.csv'}\n")
    code, _, err = run("--trace", "csv", "--vcs", str(centers))
    assert (code, err) == (1, "error: --trace csv needs --jobs FILE and --vcs FILE\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("job_id,submit,duration,cards,home\nx,0,60,zero,a\n")
    code, _, err = run("--trace", "csv", "--jobs", str(bad), "--vcs", str(centers))
    assert code == 1 and "line 2: cards must be a whole number" in err


def test_interruptible_share_preempts(files: tuple[Path, Path]) -> None:
    jobs, centers = files
    args = ("--trace", "csv", "--jobs", str(jobs), "--vcs", str(centers), "--load", "3")
    code, out, _ = run(*args, "--interruptible", "0.5", "--json")
    assert code == 0
    figures = json.loads(out)["scenarios"]["isolated"]
    assert figures["preemptions"] > 0 and figures["lost_card_hours"] > 0
    code, out, _ = run(*args, "--json")
    assert json.loads(out)["scenarios"]["isolated"]["preemptions"] == 0
    code, _, err = run(*args, "--interruptible", "-0.1")
    assert (code, err) == (1, "error: --interruptible is a share in 0..1, not -0.1\n")
