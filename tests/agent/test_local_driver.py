"""The local driver: real processes under a temporary state directory."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import wait_until
from suanli.agent.drivers.base import Capability, DriverError, JobSpec, JobState
from suanli.agent.drivers.local import LocalDriver

# Generous: every job starts a login shell (``bash -lc``), slow on a loaded machine.
WAIT = 60.0


def spec(lease_id: int, command: str | None = "true", **fields: object) -> JobSpec:
    values: dict[str, object] = {"cards": 1, "nodes": 1, "duration_s": 60}
    values.update(fields)
    return JobSpec(lease_id=lease_id, command=command, **values)  # type: ignore[arg-type]


def running(pid: int) -> bool:
    """Whether ``pid`` is a live process (zombies count as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def group(pgid: int) -> list[int]:
    """The live (not zombie) processes of process group ``pgid``."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if fields[0] != "Z" and int(fields[2]) == pgid:
                members.append(int(entry.name))
    return members


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def driver(state: Path) -> Iterator[LocalDriver]:
    driver = LocalDriver(state, cards=8, grace_s=0.5)
    yield driver
    for job_id in LocalDriver(state, cards=8, grace_s=0.2).jobs().values():
        driver.cancel(job_id)


def ended(driver: LocalDriver, job_id: str) -> bool:
    return driver.status(job_id).state.ended


def test_capabilities() -> None:
    assert LocalDriver.capabilities == {
        Capability.COMMANDS,
        Capability.CAPACITY,
        Capability.ACCOUNTING,
    }


def test_submit_runs_and_completes_with_usage(driver: LocalDriver, state: Path) -> None:
    command = 'echo "lease=$SUANLI_LEASE_ID job=$SUANLI_JOB_ID ckpt=$SUANLI_CKPT"; sleep 1'
    job_id = driver.submit(spec(7, command, cards=2, env={"SUANLI_CKPT": "/ckpt/7"}))
    assert job_id == "local-7-1"
    status = driver.status(job_id)
    assert status.state is JobState.RUNNING
    assert status.lease_id == 7
    assert status.started_at is not None
    assert driver.usage(job_id) is None
    wait_until(lambda: ended(driver, job_id), timeout=WAIT)
    status = driver.status(job_id)
    assert status.state is JobState.COMPLETED
    assert status.exit_code == 0
    assert status.started_at is not None and status.ended_at is not None
    elapsed = (status.ended_at - status.started_at).total_seconds()
    assert elapsed >= 1
    usage = driver.usage(job_id)
    assert usage is not None
    assert usage.card_seconds == round(elapsed) * 2
    assert (usage.started_at, usage.ended_at) == (status.started_at, status.ended_at)
    job_dir = state / "suanli-lease-7"
    log = (job_dir / "stdout.log").read_text()
    assert log.strip() == "lease=7 job=local-7-1 ckpt=/ckpt/7"
    for name in ("pid", "started_at", "exit_code", "ended_at", "stdout.log", "spec.json"):
        assert (job_dir / name).is_file()


def test_the_agents_environment_does_not_leak(
    driver: LocalDriver, state: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUANLI_AGENT_SECRET", "s3cret")
    job_id = driver.submit(spec(8, 'echo "[${SUANLI_AGENT_SECRET:-}] $PWD"'))
    wait_until(lambda: ended(driver, job_id), timeout=WAIT)
    job_dir = (state / "suanli-lease-8").resolve()
    assert (job_dir / "stdout.log").read_text().strip() == f"[] {job_dir}"


def test_failing_command_reports_its_exit_code(driver: LocalDriver) -> None:
    job_id = driver.submit(spec(9, "echo oops >&2; exit 3"))
    wait_until(lambda: ended(driver, job_id), timeout=WAIT)
    status = driver.status(job_id)
    assert status.state is JobState.FAILED
    assert status.exit_code == 3
    assert "exit code 3" in status.reason
    usage = driver.usage(job_id)
    assert usage is not None and usage.card_seconds >= 0


def test_a_signal_is_named(driver: LocalDriver) -> None:
    job_id = driver.submit(spec(10, "kill -SEGV $$"))
    wait_until(lambda: ended(driver, job_id), timeout=WAIT)
    status = driver.status(job_id)
    assert status.state is JobState.FAILED
    assert status.reason == "killed by SIGSEGV (exit code 139)"


def test_time_limit_kills_the_command_and_its_children(driver: LocalDriver, state: Path) -> None:
    job_id = driver.submit(spec(11, "sleep 30 & echo $! > child.pid; wait", duration_s=1, cards=3))
    wait_until(lambda: ended(driver, job_id), timeout=WAIT)
    status = driver.status(job_id)
    assert status.state is JobState.FAILED
    assert status.reason == "time limit"
    assert status.started_at is not None and status.ended_at is not None
    assert 1 <= (status.ended_at - status.started_at).total_seconds() < WAIT
    usage = driver.usage(job_id)
    assert usage is not None
    assert usage.card_seconds >= 3
    child = int((state / "suanli-lease-11" / "child.pid").read_text())
    wait_until(lambda: not running(child), timeout=WAIT)


def test_cancel_stops_the_process_group(driver: LocalDriver, state: Path) -> None:
    job_id = driver.submit(spec(12, "sleep 30 & echo $! > child.pid; wait", cards=2))
    wait_until(lambda: (state / "suanli-lease-12" / "child.pid").exists(), timeout=WAIT)
    child = int((state / "suanli-lease-12" / "child.pid").read_text())
    pid = int((state / "suanli-lease-12" / "pid").read_text())
    assert running(child)
    driver.cancel(job_id)
    status = driver.status(job_id)
    assert status.state is JobState.CANCELLED
    assert status.ended_at is not None
    assert not running(pid)
    wait_until(lambda: not running(child), timeout=WAIT)
    usage = driver.usage(job_id)
    assert usage is not None and usage.card_seconds >= 0
    driver.cancel(job_id)  # already ended: a no-op
    assert driver.status(job_id) == status


def test_cancel_kills_what_ignores_sigterm(driver: LocalDriver, state: Path) -> None:
    job_id = driver.submit(spec(13, "trap '' TERM; echo ready; sleep 30"))
    log = state / "suanli-lease-13" / "stdout.log"
    wait_until(lambda: log.exists() and "ready" in log.read_text(), timeout=WAIT)
    driver.cancel(job_id)
    assert driver.status(job_id).state is JobState.CANCELLED
    pid = int((state / "suanli-lease-13" / "pid").read_text())
    assert group(pid) == []


def test_cancel_of_an_ended_job_is_a_no_op(driver: LocalDriver) -> None:
    job_id = driver.submit(spec(14, "exit 0"))
    wait_until(lambda: ended(driver, job_id), timeout=WAIT)
    driver.cancel(job_id)
    assert driver.status(job_id).state is JobState.COMPLETED


def test_submit_is_idempotent(driver: LocalDriver, state: Path) -> None:
    first = driver.submit(spec(15, "sleep 30"))
    pid = (state / "suanli-lease-15" / "pid").read_text()
    assert driver.submit(spec(15, "sleep 30")) == first
    assert LocalDriver(state).submit(spec(15, "sleep 30")) == first
    assert (state / "suanli-lease-15" / "pid").read_text() == pid
    assert driver.jobs() == {15: first}
    assert driver.capacity().free_cards == 7
    assert driver.submit(spec(16, "true")) == "local-16-2"


def test_a_half_done_submit_is_finished_by_the_next(driver: LocalDriver, state: Path) -> None:
    job_id = driver.submit(spec(17, "exit 0"))
    wait_until(lambda: ended(driver, job_id), timeout=WAIT)
    job_dir = state / "suanli-lease-17"
    for name in ("pid", "exit_code", "ended_at"):
        (job_dir / name).unlink()
    assert driver.status(job_id).state is JobState.PENDING
    assert driver.usage(job_id) is None
    assert driver.submit(spec(17, "exit 0")) == job_id
    wait_until(lambda: ended(driver, job_id), timeout=WAIT)
    assert driver.status(job_id).state is JobState.COMPLETED


def test_cancel_before_the_start_costs_nothing(driver: LocalDriver, state: Path) -> None:
    job_id = driver.submit(spec(18, "exit 0"))
    wait_until(lambda: ended(driver, job_id), timeout=WAIT)
    for name in ("pid", "started_at", "exit_code", "ended_at"):
        (state / "suanli-lease-18" / name).unlink()
    driver.cancel(job_id)
    status = driver.status(job_id)
    assert (status.state, status.started_at) == (JobState.CANCELLED, None)
    usage = driver.usage(job_id)
    assert usage is not None and usage.card_seconds == 0
    assert driver.submit(spec(18, "exit 0")) == job_id  # not started again
    assert driver.status(job_id).state is JobState.CANCELLED


def test_a_new_instance_finds_every_job_and_its_state(state: Path) -> None:
    before = LocalDriver(state, cards=8, grace_s=0.2)
    done = before.submit(spec(21, "exit 0", cards=1))
    failed = before.submit(spec(22, "exit 5", cards=1))
    live = before.submit(spec(23, "sleep 30", cards=4))
    wait_until(lambda: ended(before, done) and ended(before, failed), timeout=WAIT)

    after = LocalDriver(state, cards=8, grace_s=0.2)
    assert after.jobs() == {21: done, 22: failed, 23: live}
    assert after.status(done).state is JobState.COMPLETED
    assert after.status(failed).state is JobState.FAILED
    assert after.status(failed).exit_code == 5
    assert after.status(live).state is JobState.RUNNING
    assert after.capacity().free_cards == 4
    usage = after.usage(done)
    assert usage is not None and usage.job_id == done
    after.cancel(live)
    assert after.status(live).state is JobState.CANCELLED
    assert after.capacity().free_cards == 8


def test_a_process_killed_from_outside_is_failed(driver: LocalDriver, state: Path) -> None:
    job_id = driver.submit(spec(24, "sleep 30"))
    pid = int((state / "suanli-lease-24" / "pid").read_text())
    os.killpg(pid, signal.SIGKILL)
    wait_until(lambda: ended(driver, job_id), timeout=WAIT)
    status = driver.status(job_id)
    assert status.state is JobState.FAILED
    assert status.exit_code is None
    assert "vanished" in status.reason
    assert status.ended_at is not None
    assert driver.usage(job_id) is not None
    assert LocalDriver(state).status(job_id) == status


def test_capacity_counts_the_cards_of_running_jobs(state: Path) -> None:
    driver = LocalDriver(state, cards=4, grace_s=0.2)
    assert (driver.capacity().total_cards, driver.capacity().free_cards) == (4, 4)
    big = driver.submit(spec(31, "sleep 30", cards=3))
    assert driver.capacity().free_cards == 1
    with pytest.raises(DriverError, match=r"lease 32 needs 2 cards; 1 of 4 virtual cards"):
        driver.submit(spec(32, "sleep 30", cards=2))
    assert 32 not in driver.jobs()
    small = driver.submit(spec(33, "exit 0", cards=1))
    wait_until(lambda: ended(driver, small), timeout=WAIT)
    assert driver.capacity().free_cards == 1
    driver.cancel(big)
    assert driver.capacity().free_cards == 4
    assert driver.submit(spec(32, "exit 0", cards=2)).startswith("local-32-")


def test_image_only_specs_are_refused(driver: LocalDriver) -> None:
    with pytest.raises(DriverError, match=r"not images: lease 41 has only an image \(pytorch"):
        driver.submit(spec(41, None, image="pytorch/pytorch:2.3"))
    assert driver.jobs() == {}


def test_bad_configuration_is_a_clear_error(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    with pytest.raises(DriverError, match=r"cannot use state directory .*file"):
        LocalDriver(not_a_dir / "state")
    with pytest.raises(DriverError, match=r"cards must be at least 1, not 0"):
        LocalDriver(tmp_path / "state", cards=0)
    with pytest.raises(DriverError, match=r"grace_s must not be negative"):
        LocalDriver(tmp_path / "state", grace_s=-1)


def test_unknown_jobs_are_errors(driver: LocalDriver) -> None:
    with pytest.raises(DriverError, match=r"not a local driver job id: 'slurm-1'"):
        driver.status("slurm-1")
    with pytest.raises(DriverError, match=r"unknown job local-5-9"):
        driver.status("local-5-9")
    job_id = driver.submit(spec(5, "true"))
    with pytest.raises(DriverError, match=r"unknown job local-5-9"):
        driver.cancel("local-5-9")
    assert job_id != "local-5-9"


def test_default_state_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    driver = LocalDriver()
    assert driver.state_dir == tmp_path / "xdg" / "suanli" / "local-driver"
    assert driver.state_dir.is_dir()
