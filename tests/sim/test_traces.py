"""The generic CSV format and the Philly loader: good files, and bad rows named by line."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from suanli.bench.paper import shared_data
from suanli.sim.model import Center
from suanli.sim.traces import (
    PHILLY_JOBS,
    PHILLY_VCS,
    TraceError,
    load_centers,
    load_generic,
    load_philly,
)

HEADER = "job_id,submit,duration,cards,home\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def centers(tmp_path: Path) -> Path:
    return write(tmp_path, "centers.csv", "center,nodes,gpus_per_node\na,2,8\nb,1,4\nc,3\n")


def test_centers_with_and_without_gpus_per_node(centers: Path) -> None:
    assert load_centers(centers) == (Center("a", 2, 8), Center("b", 1, 4), Center("c", 3, 8))


def test_generic_jobs_in_seconds_sorted_by_submit(tmp_path: Path, centers: Path) -> None:
    jobs = write(tmp_path, "jobs.csv", HEADER + "x,100,60,1,a\ny,40,3600.0,8,b\nz,100,5,2,zz\n")
    trace = load_generic(jobs, centers)
    assert [(j.job_id, j.submit, j.duration, j.cards, j.home) for j in trace.jobs] == [
        ("y", 0, 3600, 8, "b"),
        ("x", 60, 60, 1, "a"),
        ("z", 60, 5, 2, "zz"),
    ]
    assert trace.epoch == datetime(1970, 1, 1, 0, 0, 40, tzinfo=UTC)
    assert trace.limited(1).jobs == trace.jobs[:1]


def test_generic_jobs_with_times(tmp_path: Path, centers: Path) -> None:
    text = HEADER + "x,2024-05-01T08:10:00+08:00,60,1,a\ny,2024-05-01 00:00:00,60,1,a\n"
    trace = load_generic(write(tmp_path, "jobs.csv", text), centers)
    assert trace.epoch == datetime(2024, 5, 1, tzinfo=UTC)
    assert [(j.job_id, j.submit) for j in trace.jobs] == [("y", 0), ("x", 600)]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("x,0,60,0,a\n", "line 2: cards must be a whole number >= 1, not '0'"),
        ("x,0,1.5,1,a\n", "line 2: duration must be a whole number >= 1, not '1.5'"),
        ("x,0,ten,1,a\n", "line 2: duration must be a whole number >= 1, not 'ten'"),
        ("x,0,60,1,a\nx,1,60,1,a\n", "line 3: job_id 'x' appears twice"),
        ("x,0,60,1,a\ny,2024-01-01,60,1,a\n", "line 3: mixes seconds and times"),
        ("x,yesterday,60,1,a\n", "line 2: submit 'yesterday' is not a time"),
        ("x,0,60,1\n", "line 2: wrong number of fields"),
        ("x,0,60,1,a,extra\n", "line 2: wrong number of fields"),
        (",0,60,1,a\n", "line 2: job_id is empty"),
        ("x,0,60,1,\n", "line 2: home is empty"),
    ],
)
def test_bad_job_rows_are_named(tmp_path: Path, centers: Path, body: str, message: str) -> None:
    jobs = write(tmp_path, "jobs.csv", HEADER + body)
    with pytest.raises(TraceError, match=message) as caught:
        load_generic(jobs, centers)
    assert str(jobs) in str(caught.value)


def test_missing_columns_and_files(tmp_path: Path, centers: Path) -> None:
    jobs = write(tmp_path, "jobs.csv", "job_id,submit,duration\nx,0,1\n")
    with pytest.raises(TraceError, match="missing column"):
        load_generic(jobs, centers)
    with pytest.raises(TraceError, match="cannot read"):
        load_generic(tmp_path / "nope.csv", centers)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("a,2\na,3\n", "line 3: center 'a' is listed twice"),
        ("a,-1\n", "line 2: nodes must be a whole number >= 0"),
        ("a,1,0\n", "line 2: gpus_per_node must be a whole number >= 1"),
        ("", "no centers"),
    ],
)
def test_bad_center_rows_are_named(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(TraceError, match=message):
        load_centers(write(tmp_path, "c.csv", "name,nodes,gpus_per_node\n" + body))


def test_philly_format(tmp_path: Path) -> None:
    jobs = write(
        tmp_path,
        "jobs.csv",
        "timestamp,duration,num_gpus,gpu_time,cluster\n"
        "2017-10-03 00:01:00,120.0,1,120.0,vc1\n"
        "2017-10-03 00:00:00,60.0,16,960.0,vc2\n",
    )
    vcs = write(tmp_path, "vcs.csv", "vc,node num\nvc1,2\nvc2,1\n")
    trace = load_philly(jobs, vcs)
    assert trace.epoch == datetime(2017, 10, 3, tzinfo=UTC)
    assert [(j.job_id, j.submit, j.cards, j.home) for j in trace.jobs] == [
        ("3", 0, 16, "vc2"),
        ("2", 60, 1, "vc1"),
    ]
    assert trace.centers == (Center("vc1", 2, 8), Center("vc2", 1, 8))
    bad = write(tmp_path, "bad.csv", "timestamp,duration,num_gpus,gpu_time,cluster\nnow,1,1,1,a\n")
    with pytest.raises(TraceError, match="line 2: bad timestamp"):
        load_philly(bad, vcs)


DATA = shared_data()


@pytest.mark.skipif(DATA is None, reason="no shared data folder")
def test_the_provided_philly_slice() -> None:
    assert DATA is not None
    trace = load_philly(DATA / PHILLY_JOBS, DATA / PHILLY_VCS)
    assert len(trace.jobs) == 30_065
    assert len(trace.centers) == 11
    assert sum(c.cards for c in trace.centers) == 352 * 8
    assert trace.jobs[0].submit == 0
    assert all(a.submit <= b.submit for a, b in zip(trace.jobs, trace.jobs[1:], strict=False))
