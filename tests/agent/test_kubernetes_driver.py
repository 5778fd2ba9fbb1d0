"""The Kubernetes driver against the fake API server of ``fake_kube`` (no real cluster)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.fake_kube import FakeKube, fake_kube
from suanli.agent.drivers.base import Capability, DriverError, JobSpec, JobState
from suanli.agent.drivers.kubernetes import DEFAULT_COMMAND_IMAGE, KubernetesDriver

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def spec(lease_id: int, command: str | None = "python train.py", **fields: object) -> JobSpec:
    values: dict[str, object] = {"cards": 2, "nodes": 1, "duration_s": 3600}
    values.update(fields)
    return JobSpec(lease_id=lease_id, command=command, **values)  # type: ignore[arg-type]


@pytest.fixture
def kube() -> Iterator[FakeKube]:
    with fake_kube() as server:
        server.add_node("gpu-1", 8)
        yield server


@pytest.fixture
def config(kube: FakeKube, tmp_path: Path) -> Path:
    return kube.kubeconfig(tmp_path)


@pytest.fixture
def driver(config: Path) -> Iterator[KubernetesDriver]:
    with KubernetesDriver(namespace="default", kubeconfig=config) as driver:
        yield driver


def test_capabilities(driver: KubernetesDriver, config: Path) -> None:
    assert driver.capabilities == {
        Capability.GPU,
        Capability.CONTAINERS,
        Capability.COMMANDS,
        Capability.ACCOUNTING,
        Capability.CAPACITY,
    }
    with KubernetesDriver(kubeconfig=config, indexed_jobs=True) as indexed:
        assert Capability.MULTI_NODE in indexed.capabilities


def test_submit_makes_one_job_per_lease(driver: KubernetesDriver, kube: FakeKube) -> None:
    job_id = driver.submit(spec(7, env={"SUANLI_CHECKPOINT_DIR": "/ckpt/7"}))
    assert job_id == "default/suanli-lease-7"
    job = kube.job("suanli-lease-7")
    assert job["metadata"]["labels"] == {
        "suanli.io/lease": "7",
        "app.kubernetes.io/managed-by": "suanli",
    }
    assert job["spec"]["backoffLimit"] == 0
    assert job["spec"]["activeDeadlineSeconds"] == 3600
    assert "completionMode" not in job["spec"]
    template = job["spec"]["template"]
    assert template["metadata"]["labels"]["suanli.io/lease"] == "7"
    assert template["spec"]["restartPolicy"] == "Never"
    [container] = template["spec"]["containers"]
    assert container["image"] == DEFAULT_COMMAND_IMAGE
    assert container["command"] == ["bash", "-lc", "python train.py"]
    assert container["resources"] == {"limits": {"nvidia.com/gpu": "2"}}
    env = {item["name"]: item["value"] for item in container["env"]}
    assert env == {
        "SUANLI_CHECKPOINT_DIR": "/ckpt/7",
        "SUANLI_LEASE_ID": "7",
        "SUANLI_JOB_ID": "default/suanli-lease-7",
        "SUANLI_CARDS": "2",
        "SUANLI_NODES": "1",
        "SUANLI_DURATION_S": "3600",
    }
    assert driver.status(job_id).state is JobState.PENDING
    assert driver.jobs() == {7: job_id}


def test_images_run_as_given(driver: KubernetesDriver, kube: FakeKube) -> None:
    driver.submit(spec(8, None, image="registry.local/llm:1"))
    [container] = kube.job("suanli-lease-8")["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "registry.local/llm:1"
    assert "command" not in container
    driver.submit(spec(9, "torchrun train.py", image="registry.local/llm:1"))
    [container] = kube.job("suanli-lease-9")["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "registry.local/llm:1"
    assert container["command"] == ["bash", "-lc", "torchrun train.py"]
    with pytest.raises(DriverError, match="lease 10 has neither a command nor an image"):
        driver.submit(spec(10, None))


def test_gpu_type_becomes_a_node_selector(config: Path, kube: FakeKube) -> None:
    with KubernetesDriver(kubeconfig=config, gpu_type_label="nvidia.com/gpu.product") as driver:
        driver.submit(spec(11, gpu_type="H800"))
        driver.submit(spec(12))
    assert kube.job("suanli-lease-11")["spec"]["template"]["spec"]["nodeSelector"] == {
        "nvidia.com/gpu.product": "H800"
    }
    assert "nodeSelector" not in kube.job("suanli-lease-12")["spec"]["template"]["spec"]


def test_pending_running_completed_with_usage(driver: KubernetesDriver, kube: FakeKube) -> None:
    job_id = driver.submit(spec(21, cards=4))
    status = driver.status(job_id)
    assert (status.state, status.started_at) == (JobState.PENDING, None)

    kube.start("suanli-lease-21", at=T0, running=False, waiting="ContainerCreating")
    status = driver.status(job_id)
    assert status.state is JobState.PENDING
    assert status.reason == "ContainerCreating"

    kube.start("suanli-lease-21", at=T0)
    status = driver.status(job_id)
    assert status.state is JobState.RUNNING
    assert status.started_at == T0
    assert driver.usage(job_id) is None

    kube.succeed("suanli-lease-21", at=T0 + timedelta(seconds=90))
    status = driver.status(job_id)
    assert status.state is JobState.COMPLETED
    assert status.exit_code == 0
    assert (status.started_at, status.ended_at) == (T0, T0 + timedelta(seconds=90))
    usage = driver.usage(job_id)
    assert usage is not None
    assert usage.card_seconds == 90 * 4
    assert (usage.started_at, usage.ended_at) == (T0, T0 + timedelta(seconds=90))


def test_a_failed_pod_gives_its_exit_code(driver: KubernetesDriver, kube: FakeKube) -> None:
    job_id = driver.submit(spec(22))
    kube.start("suanli-lease-22", at=T0)
    kube.fail("suanli-lease-22", at=T0 + timedelta(seconds=30), exit_code=3)
    status = driver.status(job_id)
    assert status.state is JobState.FAILED
    assert status.exit_code == 3
    assert status.reason == "exit code 3"
    assert status.ended_at == T0 + timedelta(seconds=30)
    usage = driver.usage(job_id)
    assert usage is not None and usage.card_seconds == 30 * 2

    oom = driver.submit(spec(23))
    kube.start("suanli-lease-23", at=T0)
    kube.fail("suanli-lease-23", at=T0 + timedelta(seconds=5), exit_code=137, reason="OOMKilled")
    status = driver.status(oom)
    assert (status.state, status.exit_code) == (JobState.FAILED, 137)
    assert status.reason == "OOMKilled (exit code 137)"


def test_the_deadline_is_the_time_limit(driver: KubernetesDriver, kube: FakeKube) -> None:
    job_id = driver.submit(spec(24, duration_s=600))
    kube.start("suanli-lease-24", at=T0)
    kube.exceed_deadline("suanli-lease-24", at=T0 + timedelta(seconds=601))
    status = driver.status(job_id)
    assert status.state is JobState.FAILED
    assert status.reason == "time limit"
    assert status.exit_code is None
    usage = driver.usage(job_id)
    assert usage is not None and usage.card_seconds == 601 * 2


def test_cancel_deletes_the_job_in_the_background(
    driver: KubernetesDriver, kube: FakeKube, config: Path
) -> None:
    job_id = driver.submit(spec(25))
    kube.start("suanli-lease-25", at=datetime.now(UTC) - timedelta(seconds=60))
    assert len(kube.job_pods("suanli-lease-25")) == 1
    driver.cancel(job_id)
    deletes = [(path, query) for method, path, query in kube.requests if method == "DELETE"]
    assert deletes == [
        (
            "/apis/batch/v1/namespaces/default/jobs/suanli-lease-25",
            {"propagationPolicy": ["Background"]},
        )
    ]
    assert ("default", "suanli-lease-25") not in kube.jobs
    assert kube.job_pods("suanli-lease-25") == []
    status = driver.status(job_id)
    assert status.state is JobState.CANCELLED
    usage = driver.usage(job_id)
    assert usage is not None
    assert 60 * 2 <= usage.card_seconds <= 70 * 2
    driver.cancel(job_id)  # gone: a no-op
    assert driver.jobs() == {}
    with KubernetesDriver(kubeconfig=config) as restarted:
        status = restarted.status(job_id)
        assert status.state is JobState.CANCELLED
        assert "deleted" in status.reason
        assert restarted.usage(job_id) is None


def test_cancel_of_an_ended_job_keeps_it(driver: KubernetesDriver, kube: FakeKube) -> None:
    job_id = driver.submit(spec(26))
    kube.start("suanli-lease-26", at=T0)
    kube.succeed("suanli-lease-26", at=T0 + timedelta(seconds=10))
    driver.cancel(job_id)
    assert driver.status(job_id).state is JobState.COMPLETED
    assert not any(method == "DELETE" for method, _, _ in kube.requests)


def test_submit_is_idempotent(driver: KubernetesDriver, kube: FakeKube) -> None:
    first = driver.submit(spec(27))
    assert driver.submit(spec(27)) == first
    posts = [path for method, path, _ in kube.requests if method == "POST"]
    assert len(posts) == 2  # the second got 409 AlreadyExists
    assert driver.jobs() == {27: first}

    with kube.lock:
        del kube.jobs[("default", "suanli-lease-27")]["metadata"]["labels"]["suanli.io/lease"]
    with pytest.raises(DriverError, match="exists but was not made by suanli for lease 27"):
        driver.submit(spec(27))


def test_a_new_instance_finds_the_jobs_and_their_states(config: Path, kube: FakeKube) -> None:
    with KubernetesDriver(kubeconfig=config) as before:
        waiting = before.submit(spec(31))
        running = before.submit(spec(32))
        done = before.submit(spec(33))
        failed = before.submit(spec(34))
    kube.start("suanli-lease-32", at=T0)
    kube.start("suanli-lease-33", at=T0)
    kube.succeed("suanli-lease-33", at=T0 + timedelta(seconds=20))
    kube.start("suanli-lease-34", at=T0)
    kube.fail("suanli-lease-34", at=T0 + timedelta(seconds=5), exit_code=2)
    with kube.lock:  # someone else's Job in the namespace
        kube.jobs[("default", "other")] = {"metadata": {"name": "other"}, "spec": {}, "status": {}}

    with KubernetesDriver(kubeconfig=config) as after:
        assert after.jobs() == {31: waiting, 32: running, 33: done, 34: failed}
        assert after.status(waiting).state is JobState.PENDING
        assert after.status(running).state is JobState.RUNNING
        assert after.status(done).state is JobState.COMPLETED
        assert after.status(failed).reason == "exit code 2"
        usage = after.usage(done)
        assert usage is not None and usage.card_seconds == 20 * 2
    lists = [query for method, path, query in kube.requests if path.endswith("/jobs")]
    assert {"labelSelector": ["suanli.io/lease"]} in lists


def test_namespaces_are_kept_apart(config: Path, kube: FakeKube) -> None:
    with KubernetesDriver(namespace="tenant-a", kubeconfig=config) as a:
        job_id = a.submit(spec(41))
        assert job_id == "tenant-a/suanli-lease-41"
        assert ("tenant-a", "suanli-lease-41") in kube.jobs
        with KubernetesDriver(namespace="tenant-b", kubeconfig=config) as b:
            assert b.jobs() == {}
            with pytest.raises(DriverError, match="in namespace 'tenant-a'; this driver uses"):
                b.status(job_id)


def test_capacity_is_ready_gpus_minus_running_requests(
    driver: KubernetesDriver, kube: FakeKube
) -> None:
    kube.add_node("gpu-2", 8)
    kube.add_node("gpu-3", 8, ready=False)
    kube.add_node("gpu-4", 8, unschedulable=True)
    assert driver.capacity().total_cards == 16
    assert driver.capacity().free_cards == 16

    job_id = driver.submit(spec(51, cards=2))
    kube.start("suanli-lease-51", at=T0, node="gpu-1")
    kube.add_pod("team-x", "notebook", node="gpu-2", gpus=4)
    kube.add_pod("team-x", "done", node="gpu-2", gpus=8, phase="Succeeded")
    kube.add_pod("team-x", "unscheduled", node=None, gpus=8, phase="Pending")
    kube.add_pod("team-x", "on-a-broken-node", node="gpu-3", gpus=8)
    capacity = driver.capacity()
    assert (capacity.total_cards, capacity.free_cards) == (16, 10)

    driver.cancel(job_id)
    assert driver.capacity().free_cards == 12
    pod_lists = [query for method, path, query in kube.requests if path == "/api/v1/pods"]
    assert pod_lists[-1] == {"fieldSelector": ["status.phase!=Succeeded,status.phase!=Failed"]}


def test_multi_node_needs_indexed_jobs(
    driver: KubernetesDriver, config: Path, kube: FakeKube
) -> None:
    with pytest.raises(DriverError, match=r"spans 2 nodes; .* only with indexed_jobs"):
        driver.submit(spec(61, cards=16, nodes=2))
    assert driver.jobs() == {}
    with KubernetesDriver(kubeconfig=config, indexed_jobs=True) as indexed:
        with pytest.raises(DriverError, match="3 cards do not split evenly over 2 nodes"):
            indexed.submit(spec(62, cards=3, nodes=2))
        job_id = indexed.submit(spec(63, cards=16, nodes=2))
        job = kube.job("suanli-lease-63")["spec"]
        assert (job["completionMode"], job["completions"], job["parallelism"]) == (
            "Indexed",
            2,
            2,
        )
        [container] = job["template"]["spec"]["containers"]
        assert container["resources"] == {"limits": {"nvidia.com/gpu": "8"}}
        kube.start("suanli-lease-63", at=T0)
        assert len(kube.job_pods("suanli-lease-63")) == 2
        assert indexed.status(job_id).state is JobState.RUNNING
        kube.succeed("suanli-lease-63", at=T0 + timedelta(seconds=10))
        usage = indexed.usage(job_id)
        assert usage is not None and usage.card_seconds == 10 * 16


def test_bad_configuration_is_a_clear_error(tmp_path: Path, kube: FakeKube) -> None:
    with pytest.raises(DriverError, match=r"kubeconfig .*missing does not exist"):
        KubernetesDriver(kubeconfig=tmp_path / "missing")
    garbage = tmp_path / "garbage"
    garbage.write_text("clusters: 3\n")
    with pytest.raises(DriverError, match=r"cannot load kubeconfig .*garbage: "):
        KubernetesDriver(kubeconfig=garbage)
    with pytest.raises(DriverError, match="not running in a cluster"):
        KubernetesDriver(in_cluster=True)
    with pytest.raises(DriverError, match="namespace must not be empty"):
        KubernetesDriver(namespace="", kubeconfig=kube.kubeconfig(tmp_path))


def test_api_failures_are_one_line_errors(tmp_path: Path, kube: FakeKube) -> None:
    config = kube.kubeconfig(tmp_path)
    kube.token = "rotated"
    with KubernetesDriver(kubeconfig=config) as driver:
        with pytest.raises(
            DriverError,
            match=r"^kubernetes: list Jobs in namespace default "
            r"failed: 401 Unauthorized$",
        ):
            driver.jobs()
        kube.token = "fake-token"
        with pytest.raises(DriverError, match="not a kubernetes driver job id: 'local-1-1'"):
            driver.status("local-1-1")
        kube.stop_server()
        with pytest.raises(
            DriverError, match=r"cannot reach the API server at http://127\.0\.0\.1"
        ):
            driver.capacity()


def test_an_invalid_job_is_refused_with_the_servers_words(
    driver: KubernetesDriver,
) -> None:
    with pytest.raises(DriverError, match=r"422 Job.batch \"suanli-lease-71\" is invalid: .*image"):
        driver.submit(spec(71, None, image=""))
