"""The generic CSV format and the Philly loader: good files, and bad rows named by line."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from suanli.bench.paper import shared_data
from suanli.sim.model import Center
from suanli.sim.traces import (
    OPENB_NODES,
    OPENB_PODS,
    PHILLY_JOBS,
    PHILLY_VCS,
    TraceError,
    load_centers,
    load_generic,
    load_openb,
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


def test_generic_interruptible_column(tmp_path: Path, centers: Path) -> None:
    text = (
        "job_id,submit,duration,cards,home,interruptible\nx,0,60,1,a,1\ny,1,60,1,a,\nz,2,6,1,a,no\n"
    )
    trace = load_generic(write(tmp_path, "jobs.csv", text), centers)
    assert [j.interruptible for j in trace.jobs] == [True, False, False]
    bad = write(
        tmp_path, "bad.csv", "job_id,submit,duration,cards,home,interruptible\nx,0,6,1,a,maybe\n"
    )
    with pytest.raises(TraceError, match="line 2: interruptible must be 1 or 0, not 'maybe'"):
        load_generic(bad, centers)


def test_openb_format(tmp_path: Path) -> None:
    nodes = write(
        tmp_path,
        "nodes.csv",
        "sn,cpu_milli,memory_mib,gpu,model\n"
        "n0,64000,262144,8,G2\nn1,64000,262144,8,G2\nn2,32000,131072,2,T4\n"
        "n3,32000,131072,4,T4\nn4,96000,393216,0,\n",
    )
    pods = write(
        tmp_path,
        "pods.csv",
        "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,"
        "creation_time,deletion_time,scheduled_time\n"
        "p0,1000,1024,1,500,,LS,Running,100,700,100\n"
        "p1,1000,1024,0,0,,LS,Running,0,50,0\n"
        "p2,1000,1024,2,1000,T4|G2,BE,Running,50,50,50\n"
        "p3,1000,1024,8,1000,A100|G2,LS,Running,300,400,300\n",
    )
    trace = load_openb(pods, nodes)
    assert trace.centers == (Center("G2", 2, 8), Center("T4", 1, 4, ((1, 2),)))
    assert sum(c.cards for c in trace.centers) == 22
    # p1 has no GPU; times relative to the first pod (p2 at 50); p2 lasts at least 1 s;
    # the sharing pod p0 takes one whole card; p2 and p3 go home to their spec's model
    got = [(j.job_id, j.submit, j.duration, j.cards, j.home, j.interruptible) for j in trace.jobs]
    assert got[0] == ("p2", 0, 1, 2, "T4", True)
    assert got[1][:4] == ("p0", 50, 600, 1)
    assert got[2] == ("p3", 250, 100, 8, "G2", False)
    # a pod without a spec is homed by its name, the same way every time
    assert load_openb(pods, nodes).jobs[1].home == got[1][4]
    bad = write(tmp_path, "bad.csv", "name,num_gpu,creation_time,deletion_time\np,1,10,5\n")
    with pytest.raises(TraceError, match="line 2: deleted before it was created"):
        load_openb(bad, nodes)
    with pytest.raises(TraceError, match="missing column"):
        load_openb(write(tmp_path, "nt.csv", "name,num_gpu\np,1\n"), nodes)


@pytest.mark.skipif(DATA is None, reason="no shared data folder")
def test_the_provided_openb_trace() -> None:
    assert DATA is not None
    trace = load_openb(DATA / OPENB_PODS, DATA / OPENB_NODES)
    assert sum(c.cards for c in trace.centers) == 6212
    assert len(trace.jobs) == 8152 - 1088  # the pods with GPUs
    assert {c.name for c in trace.centers} >= {"G2", "T4", "V100M16"}
    assert sum(j.interruptible for j in trace.jobs) > 0
