"""The Slurm driver: its parsers (table-driven, no Slurm needed) and, on the real
one-machine Slurm of ``scripts/slurm/up.sh`` (fixture ``slurm``), whole jobs: run,
metered, failed, cancelled, refused, timed out, counted in the capacity.

The Slurm tests share one xdist worker (they compete for the same fake GPUs) and use
lease ids random per run, so that jobs of earlier runs, still in sacct, never match.
"""

from __future__ import annotations

import random
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conftest import SlurmCluster
from suanli.agent.drivers.base import (
    Capability,
    Capacity,
    DriverError,
    JobSpec,
    JobState,
    JobStatus,
)
from suanli.agent.drivers.slurm import (
    SlurmConfig,
    SlurmDriver,
    failure_reason,
    gpus_in_gres,
    gpus_in_tres,
    map_state,
    parse_exit_code,
    parse_slurm_time,
)

# -- parsers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slurm_state", "state"),
    [
        ("PENDING", JobState.PENDING),
        ("CONFIGURING", JobState.PENDING),
        ("REQUEUED", JobState.PENDING),
        ("RUNNING", JobState.RUNNING),
        ("COMPLETING", JobState.RUNNING),
        ("SUSPENDED", JobState.RUNNING),
        ("COMPLETED", JobState.COMPLETED),
        ("FAILED", JobState.FAILED),
        ("TIMEOUT", JobState.FAILED),
        ("NODE_FAIL", JobState.FAILED),
        ("OUT_OF_MEMORY", JobState.FAILED),
        ("BOOT_FAIL", JobState.FAILED),
        ("DEADLINE", JobState.FAILED),
        ("PREEMPTED", JobState.FAILED),
        ("CANCELLED", JobState.CANCELLED),
        ("CANCELLED by 0", JobState.CANCELLED),
        ("CANCELLED+", JobState.CANCELLED),
        ("running", JobState.RUNNING),
    ],
)
def test_state_mapping(slurm_state: str, state: JobState) -> None:
    assert map_state(slurm_state) is state


def test_unknown_state_is_an_error() -> None:
    with pytest.raises(DriverError, match="unknown Slurm job state 'WEIRD'"):
        map_state("WEIRD")


@pytest.mark.parametrize(
    ("text", "parsed"),
    [("0:0", (0, 0)), ("2:0", (2, 0)), ("0:9", (0, 9)), ("1:15", (1, 15)), ("3", (3, 0))],
)
def test_exit_code(text: str, parsed: tuple[int, int]) -> None:
    assert parse_exit_code(text) == parsed


def test_bad_exit_code() -> None:
    with pytest.raises(DriverError, match="unparsable Slurm ExitCode"):
        parse_exit_code("x:y")


@pytest.mark.parametrize(
    ("state", "code", "sig", "reason"),
    [
        ("COMPLETED", 0, 0, ""),
        ("FAILED", 3, 0, "the command failed: exit code 3 (Slurm FAILED)"),
        ("FAILED", 0, 9, "the command failed: killed by signal 9 (SIGKILL) (Slurm FAILED)"),
        ("TIMEOUT", 0, 0, "time limit reached (Slurm TIMEOUT)"),
        (
            "OUT_OF_MEMORY",
            0,
            9,
            "out of memory: killed by signal 9 (SIGKILL) (Slurm OUT_OF_MEMORY)",
        ),
        ("NODE_FAIL", 1, 0, "a node failed: exit code 1 (Slurm NODE_FAIL)"),
        ("CANCELLED by 1000", 0, 15, "cancelled by uid 1000 (Slurm CANCELLED)"),
        ("CANCELLED", 0, 0, "cancelled (Slurm CANCELLED)"),
    ],
)
def test_failure_reason(state: str, code: int, sig: int, reason: str) -> None:
    assert failure_reason(state, code, sig) == reason


@pytest.mark.parametrize(
    ("tres", "gpus"),
    [
        ("billing=2,cpu=2,gres/gpu=2,mem=2G,node=1", 2),
        ("billing=1,cpu=1,gres/gpu:h800=4,gres/gpu=4,mem=1G,node=1", 4),
        ("cpu=1,gres/gpu:a100=2,gres/gpu:h800=3", 5),
        ("billing=1,cpu=1,mem=1G,node=1", 0),
        ("", 0),
        ("cpu=2,gres/gpumem=80G,gres/gpu=16,node=2", 16),
    ],
)
def test_gpus_in_tres(tres: str, gpus: int) -> None:
    assert gpus_in_tres(tres) == gpus


@pytest.mark.parametrize(
    ("gres", "gpus"),
    [
        ("gpu:h800:8", 8),
        ("gpu:h800:8(S:0-1)", 8),
        ("gpu:4", 4),
        ("gpu:h800:3(IDX:0-2)", 3),
        ("gpu:h800:0(IDX:N/A)", 0),
        ("gpu:a100:2(IDX:0,3),gpu:h800:1(IDX:5)", 3),
        ("gpu:h800:8,shard:h800:64", 8),
        ("(null)", 0),
        ("", 0),
    ],
)
def test_gpus_in_gres(gres: str, gpus: int) -> None:
    assert gpus_in_gres(gres) == gpus


@pytest.mark.parametrize("text", ["Unknown", "None", "N/A", "", "(null)"])
def test_no_time(text: str) -> None:
    assert parse_slurm_time(text) is None


def test_times_are_local_made_utc() -> None:
    parsed = parse_slurm_time("2026-05-01T12:30:05")
    expected = datetime(2026, 5, 1, 12, 30, 5).astimezone().astimezone(UTC)
    assert parsed == expected
    assert parsed is not None and parsed.tzinfo is UTC


def test_capabilities_have_no_containers() -> None:
    capabilities = SlurmDriver().capabilities
    assert Capability.CONTAINERS not in capabilities
    assert {Capability.GPU, Capability.ACCOUNTING, Capability.CAPACITY} <= capabilities


@pytest.mark.parametrize(
    ("scope", "name", "lease"),
    [
        ("", "suanli-lease-5", 5),
        ("", "suanli-lease-x9-5", None),
        ("", "other-5", None),
        ("x9", "suanli-lease-x9-5", 5),
        ("x9", "suanli-lease-5", None),
        ("x9", "suanli-lease-y1-5", None),
    ],
)
def test_job_names_by_scope(scope: str, name: str, lease: int | None) -> None:
    driver = SlurmDriver()
    driver.scope = scope
    assert driver._lease_of(name) == lease


def test_an_image_alone_is_refused() -> None:
    spec = JobSpec(lease_id=1, cards=1, nodes=1, duration_s=60, image="pytorch:2")
    with pytest.raises(DriverError, match=r"cannot run suanli-lease-1: image 'pytorch:2'"):
        SlurmDriver(SlurmConfig(bin_dir=Path("/nonexistent"))).submit(spec)


def test_cards_must_split_over_nodes(tmp_path: Path) -> None:
    spec = JobSpec(lease_id=1, cards=3, nodes=2, duration_s=60, command="true")
    driver = SlurmDriver(SlurmConfig(workdir=tmp_path))
    with pytest.raises(DriverError, match="3 cards do not split evenly over 2 nodes"):
        driver._sbatch(spec)


def test_sbatch_arguments_and_script(tmp_path: Path) -> None:
    config = SlurmConfig(partition="p", workdir=tmp_path, sbatch_args=("--qos=x",))
    spec = JobSpec(
        lease_id=42,
        cards=4,
        nodes=1,
        duration_s=61,
        command="echo 'hi there'",
        env={"A": "x y", "SUANLI_CKPT": "/c"},
        gpu_type="h800",
    )
    args, script = SlurmDriver(config)._sbatch(spec)
    assert args[:7] == [
        "--parsable",
        "--job-name",
        "suanli-lease-42",
        "--partition",
        "p",
        "--nodes",
        "1",
    ]
    assert "--time=2" in args  # 61 s -> 2 minutes
    assert "--gres=gpu:h800:4" in args
    assert args[-1] == "--qos=x"
    assert "export A='x y'\n" in script
    assert "export SUANLI_CKPT=/c\n" in script
    assert script.endswith("exec bash -c 'echo '\"'\"'hi there'\"'\"''\n")
    gang = JobSpec(lease_id=43, cards=4, nodes=2, duration_s=60, command="true")
    args, script = SlurmDriver(config)._sbatch(gang)
    assert "--gres=gpu:2" in args
    assert "exec srun --nodes=2 --ntasks-per-node=1 bash -c true" in script
    login = replace(config, login_shell=True)
    _args, script = SlurmDriver(login)._sbatch(gang)
    assert "exec srun --nodes=2 --ntasks-per-node=1 bash -lc true" in script


_NODES = "\n".join(
    [  # scontrol -o -d show node, shortened; n1 with the spaces of a real OS= value
        "NodeName=n1 Arch=x86_64 Gres=gpu:h800:8(S:0) OS=Linux 6.1 #1 SMP PREEMPT_DYNAMIC"
        " State=MIXED Partitions=gpu GresUsed=gpu:h800:3(IDX:0-2) Reason=x",
        "NodeName=n2 Gres=gpu:h800:8 State=IDLE+DRAIN Partitions=gpu,debug"
        " GresUsed=gpu:h800:0(IDX:N/A) Reason=bad gpu State=IDLE",
        "NodeName=n3 Gres=gpu:h800:8 State=IDLE* Partitions=gpu GresUsed=gpu:h800:0(IDX:N/A)",
        "NodeName=n4 Gres=gpu:a100:4 State=ALLOCATED Partitions=debug,gpu"
        " GresUsed=gpu:a100:4(IDX:0-3)",
        "NodeName=n5 Gres=gpu:h800:8 State=IDLE Partitions=cpu GresUsed=gpu:h800:0(IDX:N/A)",
        "NodeName=n6 Gres=(null) State=IDLE Partitions=gpu GresUsed=",
    ]
)


def test_capacity_from_scontrol_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    driver = SlurmDriver(SlurmConfig(partition="gpu"))

    def fake_run(tool: str, args: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        assert (tool, args) == ("scontrol", ["-o", "-d", "show", "node"])
        return subprocess.CompletedProcess([tool, *args], 0, _NODES, "")

    monkeypatch.setattr(driver, "_run", fake_run)
    # n1 (8, 3 used) and n4 (4, all used); n2 drained, n3 not responding, n5 elsewhere.
    assert driver.capacity() == Capacity(total_cards=12, free_cards=5)


# -- on a real Slurm -----------------------------------------------------------------------


def _wait(
    driver: SlurmDriver, job_id: str, until: set[JobState], *, timeout: float = 30
) -> JobStatus:
    deadline = time.monotonic() + timeout
    while True:
        status = driver.status(job_id)
        if status.state in until:
            return status
        if time.monotonic() > deadline:
            pytest.fail(f"job {job_id} still {status.state} after {timeout} s, not {until}")
        time.sleep(0.1)


def _sacct(cluster: SlurmCluster, job_id: str, fields: str) -> list[str]:
    done = subprocess.run(
        ["sacct", "-X", "-n", "-P", "-j", job_id, f"--format={fields}"],
        env={"PATH": "/usr/bin:/bin", "SLURM_TIME_FORMAT": "standard", **cluster.env},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return done.stdout.strip().split("|")


_RUN = random.randrange(10**6, 10**7) * 100  # lease ids of this run: _RUN + small n


@pytest.fixture(scope="module")
def driver(slurm: SlurmCluster, tmp_path_factory: pytest.TempPathFactory) -> SlurmDriver:
    # An empty HOME: a login shell would read /etc/profile, not this machine's user
    # profile (whose pyenv rehash, killed by scancel, leaves a lock behind).
    home = tmp_path_factory.mktemp("slurm-home")
    return SlurmDriver(
        SlurmConfig(
            partition=slurm.partition,
            slurm_conf=slurm.conf,
            workdir=tmp_path_factory.mktemp("slurm-jobs"),
            job_env={"HOME": str(home)},
        )
    )


@pytest.fixture(scope="module")
def time_limited(driver: SlurmDriver) -> Iterator[str]:
    """A job over its time limit (1 minute, Slurm's least), started first so that its
    minute runs while the other tests do; test_time_limit (last) waits for it."""
    spec = JobSpec(lease_id=_RUN + 99, cards=1, nodes=1, duration_s=1, command="sleep 600")
    job_id = driver.submit(spec)
    yield job_id
    driver.cancel(job_id)


@pytest.mark.slurm
@pytest.mark.xdist_group("slurm")
@pytest.mark.usefixtures("time_limited")
class TestOnSlurm:
    def test_job_runs_is_metered_and_found_again(
        self, driver: SlurmDriver, slurm: SlurmCluster
    ) -> None:
        spec = JobSpec(
            lease_id=_RUN + 1,
            cards=2,
            nodes=1,
            duration_s=60,
            command='sleep 2; echo "ok $GREETING $CUDA_VISIBLE_DEVICES"',
            env={"GREETING": "hello world"},
            gpu_type=slurm.gpu_type,
        )
        started = time.monotonic()
        job_id = driver.submit(spec)
        first = driver.status(job_id)
        assert first.state in (JobState.PENDING, JobState.RUNNING)
        assert first.lease_id == spec.lease_id
        assert driver.submit(spec) == job_id  # idempotent while it runs
        running = _wait(driver, job_id, {JobState.RUNNING, JobState.COMPLETED})
        assert running.started_at is not None and running.started_at.tzinfo is UTC
        assert driver.jobs()[spec.lease_id] == job_id

        done = _wait(driver, job_id, {JobState.COMPLETED, JobState.FAILED})
        turnaround = time.monotonic() - started
        assert done.state is JobState.COMPLETED, done.reason
        assert done.exit_code == 0 and done.reason == ""
        assert done.started_at is not None and done.ended_at is not None
        assert abs((done.started_at - datetime.now(UTC)).total_seconds()) < 60

        usage = driver.usage(job_id)
        while usage is None:  # sacct lags completion by about a second
            assert time.monotonic() - started < turnaround + 15
            time.sleep(0.1)
            usage = driver.usage(job_id)
        elapsed, tres = _sacct(slurm, job_id, "ElapsedRaw,AllocTRES")
        assert "gres/gpu=2" in tres
        assert usage.card_seconds == int(elapsed) * 2
        assert 2 <= int(elapsed) <= 10
        assert int((usage.ended_at - usage.started_at).total_seconds()) == int(elapsed)

        assert driver.submit(spec) == job_id  # idempotent after it ended, too
        assert driver.jobs()[spec.lease_id] == job_id
        output = Path(driver.config.workdir, f"{spec.name}-{job_id}.out").read_text()
        assert re.search(r"^ok hello world \d+,\d+$", output, re.MULTILINE), output

    def test_failing_command(self, driver: SlurmDriver) -> None:
        spec = JobSpec(lease_id=_RUN + 2, cards=1, nodes=1, duration_s=60, command="exit 3")
        job_id = driver.submit(spec)
        status = _wait(driver, job_id, {JobState.COMPLETED, JobState.FAILED})
        assert status.state is JobState.FAILED
        assert status.exit_code == 3
        assert "exit code 3" in status.reason

    def test_cancel(self, driver: SlurmDriver) -> None:
        spec = JobSpec(lease_id=_RUN + 3, cards=1, nodes=1, duration_s=600, command="sleep 600")
        job_id = driver.submit(spec)
        _wait(driver, job_id, {JobState.RUNNING})
        driver.cancel(job_id)
        status = _wait(driver, job_id, {JobState.CANCELLED, JobState.FAILED, JobState.COMPLETED})
        assert status.state is JobState.CANCELLED
        assert "cancelled" in status.reason
        driver.cancel(job_id)  # already gone: no error
        assert driver.submit(spec) == job_id  # the lease's job ended; not started again

    def test_more_gpus_than_a_node_has_is_refused(
        self, driver: SlurmDriver, slurm: SlurmCluster
    ) -> None:
        spec = JobSpec(
            lease_id=_RUN + 4,
            cards=slurm.gpus_per_node + 1,
            nodes=1,
            duration_s=60,
            command="true",
        )
        for _ in range(2):  # the refused job Slurm records as FAILED is not "the lease's job"
            with pytest.raises(DriverError, match="sbatch refused suanli-lease-") as error:
                driver.submit(spec)
            assert "Requested node configuration is not available" in str(error.value)
            assert "\n" not in str(error.value)
        assert spec.lease_id not in driver.jobs()

    def test_gang_over_two_nodes(self, driver: SlurmDriver, slurm: SlurmCluster) -> None:
        if slurm.nodes < 2:
            pytest.skip("needs two Slurm nodes")
        spec = JobSpec(
            lease_id=_RUN + 5,
            cards=2,
            nodes=2,
            duration_s=60,
            command='echo "node $SLURM_NODEID $TAG"',
            env={"TAG": "gang"},
        )
        job_id = driver.submit(spec)
        status = _wait(driver, job_id, {JobState.COMPLETED, JobState.FAILED})
        assert status.state is JobState.COMPLETED, status.reason
        output = Path(driver.config.workdir, f"{spec.name}-{job_id}.out").read_text()
        assert "node 0 gang" in output
        assert "node 1 gang" in output

    def test_capacity(self, driver: SlurmDriver, slurm: SlurmCluster) -> None:
        total = slurm.nodes * slurm.gpus_per_node
        before = driver.capacity()
        assert before.total_cards == total
        assert before.free_cards <= total
        spec = JobSpec(lease_id=_RUN + 6, cards=3, nodes=1, duration_s=60, command="sleep 30")
        job_id = driver.submit(spec)
        try:
            _wait(driver, job_id, {JobState.RUNNING})
            during = driver.capacity()
            assert during.total_cards == total
            assert during.free_cards <= total - 3
        finally:
            driver.cancel(job_id)
        _wait(driver, job_id, {JobState.CANCELLED})
        # The other live job here (time_limited) can only end meanwhile, never start: so
        # the cards free after the cancel are at least ours more than while it ran.
        deadline = time.monotonic() + 15
        after = driver.capacity()
        while after.free_cards < during.free_cards + 3 and time.monotonic() < deadline:
            time.sleep(0.2)
            after = driver.capacity()
        assert after.free_cards >= during.free_cards + 3
        with pytest.raises(DriverError, match="partition 'nope' has no nodes"):
            SlurmDriver(SlurmConfig(partition="nope", slurm_conf=slurm.conf)).capacity()

    def test_time_limit(self, driver: SlurmDriver, time_limited: str) -> None:
        # Slurm counts limits in minutes and checks them every 30 s: 60-90 s in all.
        status = _wait(driver, time_limited, {JobState.FAILED, JobState.COMPLETED}, timeout=150)
        assert status.state is JobState.FAILED
        assert "time limit" in status.reason
        usage = driver.usage(time_limited)
        deadline = time.monotonic() + 15
        while usage is None and time.monotonic() < deadline:
            time.sleep(0.1)
            usage = driver.usage(time_limited)
        assert usage is not None and usage.card_seconds >= 60
