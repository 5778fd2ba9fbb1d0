"""Job names carry the exchange's id: another exchange's job for "lease 1" is not ours."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from suanli.agent.drivers.base import JobSpec, job_name, lease_of
from suanli.agent.drivers.local import LocalDriver


@pytest.mark.parametrize(
    ("name", "scope", "lease"),
    [
        ("suanli-lease-7", "", 7),
        ("suanli-lease-ab12cd34-7", "ab12cd34", 7),
        ("suanli-lease-ab12cd34-7", "", None),  # a scoped job is not an unscoped one's
        ("suanli-lease-7", "ab12cd34", None),
        ("suanli-lease-ffffffff-7", "ab12cd34", None),  # another exchange's
        ("suanli-lease-ab12cd34-x", "ab12cd34", None),
        ("other-job", "", None),
    ],
)
def test_lease_of_reads_only_its_own_scope(name: str, scope: str, lease: int | None) -> None:
    assert lease_of(name, scope) == lease


@pytest.mark.parametrize("scope", ["", "ab12cd34"])
def test_names_round_trip(scope: str) -> None:
    assert lease_of(job_name(42, scope), scope) == 42
    assert JobSpec(lease_id=42, cards=1, nodes=1, duration_s=1, scope=scope).name == job_name(
        42, scope
    )


def test_a_driver_sees_only_the_jobs_of_its_scope(tmp_path: Path) -> None:
    mine, theirs = LocalDriver(tmp_path, grace_s=0), LocalDriver(tmp_path, grace_s=0)
    mine.scope, theirs.scope = "aaaa0001", "bbbb0002"
    spec = JobSpec(lease_id=1, cards=1, nodes=1, duration_s=30, command="sleep 30")
    job = theirs.submit(replace(spec, scope=theirs.scope))
    try:
        assert mine.jobs() == {}
        own = mine.submit(replace(spec, scope=mine.scope))
        assert own != job
        assert mine.jobs() == {1: own}
        assert theirs.jobs() == {1: job}
        mine.cancel(own)
    finally:
        theirs.cancel(job)
