"""A driver that runs each lease as one Kubernetes ``batch/v1`` Job.

Tested against an in-process fake API server (``tests/agent/fake_kube.py``) that
implements just the REST calls below, NOT against a real cluster: the object shapes
follow the Kubernetes API, but scheduling, the Job controller, the device plugin and
garbage collection are simulated by the tests.

One Job per lease, named :func:`~suanli.agent.drivers.base.job_name`
(``suanli-lease-<id>``) in the configured namespace and labelled
``suanli.io/lease=<id>`` (the pods too), so ``jobs()`` finds them again after a restart by
label selector. The Job has ``backoffLimit: 0`` (a failed pod fails the lease; the
exchange decides about retries), ``activeDeadlineSeconds = duration_s`` (counted by
Kubernetes from the Job's start, so time spent pulling the image counts) and one
container:

* ``spec.image``: that image, its own entrypoint; with a ``command`` too, the command
  runs as ``bash -lc COMMAND`` in the image (which must have bash);
* only ``spec.command``: the configured ``command_image`` running ``bash -lc COMMAND``;

with ``spec.env`` plus ``SUANLI_LEASE_ID``, ``SUANLI_JOB_ID``, ``SUANLI_CARDS``,
``SUANLI_NODES`` and ``SUANLI_DURATION_S``, and ``resources.limits`` of
``nvidia.com/gpu: cards_per_node``. With ``gpu_type_label`` set, ``spec.gpu_type`` becomes
a node selector on that label (e.g. ``nvidia.com/gpu.product``).

Multi-node specs are refused unless ``indexed_jobs=True``: then the Job is an Indexed Job
with ``parallelism = completions = nodes``, one pod per node, each with its
``JOB_COMPLETION_INDEX``. That is not a gang: Kubernetes may start the pods at different
times, and no headless Service is made for them to find each other, so it only suits
work that coordinates by other means. Only then does the driver claim MULTI_NODE.

Job ids are ``<namespace>/<job name>``. Status: a Job with a ``Complete`` condition is
completed; with ``Failed``, failed with the reason ``time limit`` (``DeadlineExceeded``)
or the failed pod's termination (``exit code 3``, ``OOMKilled (exit code 137)``); active,
it is running once one of its pods is in phase Running, else pending (with the waiting
reason, e.g. ``ImagePullBackOff``). ``cancel()`` deletes the Job (propagation
``Background``: the garbage collector removes the pods). After that the cluster forgets
it: ``status()`` of a Job that no longer exists is CANCELLED ("deleted"), and ``usage()``
is known only to the driver instance that cancelled it (start to cancel, kept in memory);
after a restart it is None, and the agent meters a cancelled lease itself.

``usage()`` = (``completionTime``, or the Failed condition's ``lastTransitionTime``,
minus ``startTime``) x the Job's GPUs (limit x parallelism). ``capacity()`` sums
``nvidia.com/gpu`` allocatable over Ready, schedulable nodes, minus the GPU requests of the
pods bound to those nodes that have not ended (any namespace).

Configuration: a kubeconfig path (default ``$KUBECONFIG`` or ``~/.kube/config``) and an
optional context, or ``in_cluster=True`` (the pod's service account), or a ready
``ApiClient``; the namespace. Call :meth:`KubernetesDriver.close` (or use ``with``) to
release the connection pool.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import urllib3
from kubernetes import config as kube_config
from kubernetes.client import (
    ApiClient,
    BatchV1Api,
    Configuration,
    CoreV1Api,
    V1Job,
    V1Pod,
)
from kubernetes.client.exceptions import ApiException, OpenApiException
from kubernetes.config.config_exception import ConfigException

from suanli.agent.drivers.base import (
    Capability,
    Capacity,
    DriverError,
    JobSpec,
    JobState,
    JobStatus,
    Usage,
    lease_of,
)

LEASE_LABEL = "suanli.io/lease"
MANAGED_BY = ("app.kubernetes.io/managed-by", "suanli")
GPU_RESOURCE = "nvidia.com/gpu"
DEFAULT_COMMAND_IMAGE = "nvidia/cuda:12.4.1-runtime-ubuntu22.04"
CONTAINER = "lease"
ENDED_PHASES = ("Succeeded", "Failed")

T = TypeVar("T")


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _quantity(value: str | None, what: str) -> int:
    """A whole-number resource quantity (GPUs are never fractional)."""
    if value is None or value == "":
        return 0
    try:
        return int(value)
    except ValueError:
        raise DriverError(f"{what}: {value!r} is not a whole number of GPUs") from None


def _api_message(exc: ApiException) -> str:
    """The API server's own message (from its Status body), else the HTTP reason."""
    body = exc.body
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str):
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("message"), str):
            return str(data["message"])
    return str(exc.reason or "error")


class KubernetesDriver:
    """Runs leases as Kubernetes Jobs (see the module docstring)."""

    name = "kubernetes"

    def __init__(
        self,
        *,
        namespace: str = "default",
        kubeconfig: Path | str | None = None,
        context: str | None = None,
        in_cluster: bool = False,
        api_client: ApiClient | None = None,
        command_image: str = DEFAULT_COMMAND_IMAGE,
        indexed_jobs: bool = False,
        gpu_resource: str = GPU_RESOURCE,
        gpu_type_label: str | None = None,
        request_timeout_s: float = 30.0,
    ) -> None:
        if not namespace:
            raise DriverError("kubernetes driver: the namespace must not be empty")
        if not command_image:
            raise DriverError("kubernetes driver: command_image must not be empty")
        if request_timeout_s <= 0:
            raise DriverError("kubernetes driver: request_timeout_s must be positive")
        self.namespace = namespace
        self.command_image = command_image
        self.indexed_jobs = indexed_jobs
        self.gpu_resource = gpu_resource
        self.gpu_type_label = gpu_type_label
        self.request_timeout_s = request_timeout_s
        caps = {
            Capability.GPU,
            Capability.CONTAINERS,
            Capability.COMMANDS,
            Capability.ACCOUNTING,
            Capability.CAPACITY,
        }
        if indexed_jobs:
            caps.add(Capability.MULTI_NODE)
        self.capabilities = frozenset(caps)
        self.scope = ""
        self._owns_client = api_client is None
        self.api_client = (
            api_client if api_client is not None else self._connect(kubeconfig, context, in_cluster)
        )
        self._batch = BatchV1Api(self.api_client)
        self._core = CoreV1Api(self.api_client)
        # What this instance saw when it cancelled (the cluster forgets a deleted Job).
        self._cancelled: dict[str, JobStatus] = {}
        self._cancelled_gpus: dict[str, int] = {}

    @staticmethod
    def _connect(kubeconfig: Path | str | None, context: str | None, in_cluster: bool) -> ApiClient:
        configuration = Configuration()
        if in_cluster:
            if kubeconfig is not None:
                raise DriverError("kubernetes driver: give a kubeconfig or in_cluster, not both")
            try:
                kube_config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
            except ConfigException as exc:
                raise DriverError(
                    f"kubernetes driver: not running in a cluster ({exc}); give a kubeconfig"
                ) from None
        else:
            if kubeconfig is None:
                first = os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
                kubeconfig = first or Path.home() / ".kube" / "config"
            path = Path(kubeconfig).expanduser()
            if not path.is_file():
                raise DriverError(f"kubernetes driver: kubeconfig {path} does not exist")
            try:
                kube_config.load_kube_config(  # type: ignore[no-untyped-call]
                    config_file=str(path),
                    context=context,
                    client_configuration=configuration,
                    persist_config=False,
                )
            except (ConfigException, OSError, ValueError, KeyError, TypeError) as exc:
                detail = (
                    str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                )
                raise DriverError(
                    f"kubernetes driver: cannot load kubeconfig {path}: {detail}"
                ) from None
        configuration.retries = False  # the agent retries with backoff; fail fast here
        return ApiClient(configuration)

    def close(self) -> None:
        """Release the connection pool (only of a client the driver made itself)."""
        if self._owns_client:
            self.api_client.close()  # type: ignore[no-untyped-call]

    def __enter__(self) -> KubernetesDriver:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- the driver calls ------------------------------------------------------------------

    def submit(self, spec: JobSpec) -> str:
        manifest = self.manifest(spec)
        body = V1Job.from_dict(manifest)
        assert body is not None
        job_id = f"{self.namespace}/{spec.name}"
        try:
            self._call(
                f"create Job {job_id}",
                lambda: self._batch.create_namespaced_job(
                    self.namespace, body, _request_timeout=self.request_timeout_s
                ),
                allow=(409,),
            )
        except _ExpectedStatusError:
            existing = self._read(spec.name)
            labels = (existing.metadata.labels if existing and existing.metadata else None) or {}
            if existing is None or labels.get(LEASE_LABEL) != str(spec.lease_id):
                raise DriverError(
                    f"Job {job_id} exists but was not made by suanli for lease {spec.lease_id}"
                ) from None
        self._cancelled.pop(job_id, None)
        return job_id

    def jobs(self) -> dict[int, str]:
        listed = self._call(
            f"list Jobs in namespace {self.namespace}",
            lambda: self._batch.list_namespaced_job(
                self.namespace, label_selector=LEASE_LABEL, _request_timeout=self.request_timeout_s
            ),
        )
        found: dict[int, str] = {}
        for job in listed.items:
            name = job.metadata.name if job.metadata else None
            lease_id = lease_of(name, self.scope) if name else None
            if lease_id is not None:
                found[lease_id] = f"{self.namespace}/{name}"
        return found

    def status(self, job_id: str) -> JobStatus:
        name, lease_id = self._parse(job_id)
        job = self._read(name)
        if job is None:
            known = self._cancelled.get(job_id)
            if known is not None:
                return known
            return JobStatus(
                job_id,
                lease_id,
                JobState.CANCELLED,
                reason="deleted: the Job no longer exists (cancelled, or removed by hand)",
            )
        return self._status(job_id, lease_id, job)

    def cancel(self, job_id: str) -> None:
        name, lease_id = self._parse(job_id)
        job = self._read(name)
        if job is None:
            return
        before = self._status(job_id, lease_id, job)
        if before.state.ended:
            return
        try:
            self._call(
                f"delete Job {job_id}",
                lambda: self._batch.delete_namespaced_job(
                    name,
                    self.namespace,
                    propagation_policy="Background",
                    _request_timeout=self.request_timeout_s,
                ),
                allow=(404,),
            )
        except _ExpectedStatusError:
            return
        now = datetime.now(UTC)
        self._cancelled[job_id] = JobStatus(
            job_id,
            lease_id,
            JobState.CANCELLED,
            before.started_at,
            now,
            reason="cancelled",
        )
        self._cancelled_gpus[job_id] = self._gpus(job)

    def usage(self, job_id: str) -> Usage | None:
        name, lease_id = self._parse(job_id)
        job = self._read(name)
        if job is None:
            status = self._cancelled.get(job_id)
            gpus = self._cancelled_gpus.get(job_id, 0)
        else:
            status = self._status(job_id, lease_id, job)
            gpus = self._gpus(job)
        if status is None or not status.state.ended:
            return None
        if status.ended_at is None:
            return None
        started = status.started_at or status.ended_at  # failed before any pod started
        seconds = max(0.0, (status.ended_at - started).total_seconds())
        return Usage(job_id, round(seconds) * gpus, started, status.ended_at)

    def capacity(self) -> Capacity:
        nodes = self._call(
            "list nodes", lambda: self._core.list_node(_request_timeout=self.request_timeout_s)
        )
        total = 0
        ready: set[str] = set()
        for node in nodes.items:
            node_name = node.metadata.name if node.metadata else None
            if node_name is None or (node.spec is not None and node.spec.unschedulable):
                continue
            conditions = (node.status.conditions if node.status else None) or []
            if not any(c.type == "Ready" and c.status == "True" for c in conditions):
                continue
            allocatable = (node.status.allocatable if node.status else None) or {}
            total += _quantity(allocatable.get(self.gpu_resource), f"node {node_name}")
            ready.add(node_name)
        selector = ",".join(f"status.phase!={phase}" for phase in ENDED_PHASES)
        pods = self._call(
            "list pods",
            lambda: self._core.list_pod_for_all_namespaces(
                field_selector=selector, _request_timeout=self.request_timeout_s
            ),
        )
        used = 0
        for pod in pods.items:
            if pod.spec is None or pod.spec.node_name not in ready:
                continue
            if pod.status is not None and pod.status.phase in ENDED_PHASES:
                continue
            used += self._pod_gpus(pod)
        return Capacity(total_cards=total, free_cards=max(0, total - used))

    # -- the Job ---------------------------------------------------------------------------

    def manifest(self, spec: JobSpec) -> dict[str, Any]:
        """The Job for ``spec`` as the API takes it (refusing what this driver cannot run)."""
        if spec.command is None and spec.image is None:
            raise DriverError(f"lease {spec.lease_id} has neither a command nor an image")
        if spec.cards < 1 or spec.nodes < 1 or spec.duration_s < 1:
            raise DriverError(
                f"lease {spec.lease_id}: cards, nodes and duration_s must be positive "
                f"(got {spec.cards}, {spec.nodes}, {spec.duration_s})"
            )
        if spec.nodes > 1 and not self.indexed_jobs:
            raise DriverError(
                f"lease {spec.lease_id} spans {spec.nodes} nodes; this driver runs multi-node "
                "leases only with indexed_jobs enabled"
            )
        if spec.cards % spec.nodes:
            raise DriverError(
                f"lease {spec.lease_id}: {spec.cards} cards do not split evenly over "
                f"{spec.nodes} nodes"
            )
        lease = str(spec.lease_id)
        env = dict(spec.env)
        env.update(
            SUANLI_LEASE_ID=lease,
            SUANLI_JOB_ID=f"{self.namespace}/{spec.name}",
            SUANLI_CARDS=str(spec.cards),
            SUANLI_NODES=str(spec.nodes),
            SUANLI_DURATION_S=str(spec.duration_s),
        )
        container: dict[str, Any] = {
            "name": CONTAINER,
            "image": spec.image if spec.image is not None else self.command_image,
            "env": [{"name": key, "value": value} for key, value in env.items()],
            "resources": {"limits": {self.gpu_resource: str(spec.cards_per_node)}},
        }
        if spec.command is not None:
            container["command"] = ["bash", "-lc", spec.command]
        pod_spec: dict[str, Any] = {"restartPolicy": "Never", "containers": [container]}
        if self.gpu_type_label and spec.gpu_type:
            pod_spec["nodeSelector"] = {self.gpu_type_label: spec.gpu_type}
        labels = {LEASE_LABEL: lease, MANAGED_BY[0]: MANAGED_BY[1]}
        job_spec: dict[str, Any] = {
            "backoffLimit": 0,
            "activeDeadlineSeconds": spec.duration_s,
            "template": {"metadata": {"labels": dict(labels)}, "spec": pod_spec},
        }
        if spec.nodes > 1:
            job_spec.update(
                completionMode="Indexed", completions=spec.nodes, parallelism=spec.nodes
            )
        return {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": spec.name, "namespace": self.namespace, "labels": labels},
            "spec": job_spec,
        }

    def _status(self, job_id: str, lease_id: int, job: V1Job) -> JobStatus:
        status = job.status
        started = _utc(status.start_time) if status else None
        if job.metadata is not None and job.metadata.deletion_timestamp is not None:
            ended = _utc(job.metadata.deletion_timestamp)
            return JobStatus(job_id, lease_id, JobState.CANCELLED, started, ended, None, "deleted")
        conditions = {
            c.type: c for c in ((status.conditions if status else None) or []) if c.status == "True"
        }
        complete = conditions.get("Complete")
        if complete is not None:
            ended = _utc(status.completion_time if status else None) or _utc(
                complete.last_transition_time
            )
            return JobStatus(job_id, lease_id, JobState.COMPLETED, started, ended, 0)
        failed = conditions.get("Failed")
        if failed is not None:
            ended = _utc(failed.last_transition_time)
            if failed.reason == "DeadlineExceeded":
                return JobStatus(
                    job_id, lease_id, JobState.FAILED, started, ended, None, "time limit"
                )
            code, reason = self._failure(lease_id)
            if not reason:
                reason = ": ".join(part for part in (failed.reason, failed.message) if part)
            return JobStatus(
                job_id, lease_id, JobState.FAILED, started, ended, code, reason or "failed"
            )
        if "Suspended" in conditions:
            return JobStatus(job_id, lease_id, JobState.PENDING, started, reason="suspended")
        pods = self._pods(lease_id)
        if any(pod.status is not None and pod.status.phase == "Running" for pod in pods):
            return JobStatus(job_id, lease_id, JobState.RUNNING, started)
        return JobStatus(job_id, lease_id, JobState.PENDING, started, reason=self._waiting(pods))

    def _failure(self, lease_id: int) -> tuple[int | None, str]:
        """Exit code and words for the failed pod of a lease, if the pod is still there."""
        for pod in self._pods(lease_id):
            if pod.status is None or pod.status.phase != "Failed":
                continue
            for container in pod.status.container_statuses or []:
                terminated = container.state.terminated if container.state else None
                if terminated is None:
                    continue
                code = terminated.exit_code
                if terminated.reason and terminated.reason not in ("Error", "Completed"):
                    return code, f"{terminated.reason} (exit code {code})"
                return code, f"exit code {code}"
            if pod.status.reason:
                words = f"{pod.status.reason}: {pod.status.message}" if pod.status.message else ""
                return None, words or pod.status.reason
        return None, ""

    @staticmethod
    def _waiting(pods: list[V1Pod]) -> str:
        for pod in pods:
            for container in (pod.status.container_statuses if pod.status else None) or []:
                waiting = container.state.waiting if container.state else None
                if waiting is not None and waiting.reason:
                    return waiting.reason
        return ""

    def _gpus(self, job: V1Job) -> int:
        spec = job.spec
        if spec is None:
            return 0
        per_pod = 0
        for container in (spec.template.spec.containers if spec.template.spec else None) or []:
            limits = (container.resources.limits if container.resources else None) or {}
            where = f"Job {job.metadata.name if job.metadata else '?'}"
            per_pod += _quantity(limits.get(self.gpu_resource), where)
        return per_pod * (spec.parallelism or 1)

    def _pod_gpus(self, pod: V1Pod) -> int:
        if pod.spec is None:
            return 0
        where = f"pod {pod.metadata.name if pod.metadata else '?'}"

        def wanted(containers: list[Any] | None) -> list[int]:
            amounts = []
            for container in containers or []:
                resources = container.resources
                requests = (resources.requests if resources else None) or {}
                limits = (resources.limits if resources else None) or {}
                amount = requests.get(self.gpu_resource, limits.get(self.gpu_resource))
                amounts.append(_quantity(amount, where))
            return amounts

        return max(
            sum(wanted(pod.spec.containers)), max(wanted(pod.spec.init_containers), default=0)
        )

    # -- API helpers -----------------------------------------------------------------------

    def _parse(self, job_id: str) -> tuple[str, int]:
        namespace, _, name = job_id.partition("/")
        lease_id = lease_of(name, self.scope)
        if not name or lease_id is None:
            raise DriverError(f"not a kubernetes driver job id: {job_id!r}")
        if namespace != self.namespace:
            raise DriverError(
                f"job {job_id} is in namespace {namespace!r}; this driver uses {self.namespace!r}"
            )
        return name, lease_id

    def _read(self, name: str) -> V1Job | None:
        try:
            return self._call(
                f"read Job {self.namespace}/{name}",
                lambda: self._batch.read_namespaced_job(
                    name, self.namespace, _request_timeout=self.request_timeout_s
                ),
                allow=(404,),
            )
        except _ExpectedStatusError:
            return None

    def _pods(self, lease_id: int) -> list[V1Pod]:
        listed = self._call(
            f"list pods of lease {lease_id}",
            lambda: self._core.list_namespaced_pod(
                self.namespace,
                label_selector=f"{LEASE_LABEL}={lease_id}",
                _request_timeout=self.request_timeout_s,
            ),
        )
        return list(listed.items)

    def _call(self, what: str, call: Callable[[], T], allow: tuple[int, ...] = ()) -> T:
        """Run one API call; its failures become one-line :class:`DriverError`s."""
        try:
            return call()
        except ApiException as exc:
            if exc.status in allow:
                raise _ExpectedStatusError from None
            raise DriverError(
                f"kubernetes: {what} failed: {exc.status} {_api_message(exc)}"
            ) from None
        except urllib3.exceptions.HTTPError as exc:
            host = self.api_client.configuration.host
            raise DriverError(
                f"kubernetes: {what} failed: cannot reach the API server at {host} "
                f"({type(exc).__name__})"
            ) from None
        except (OpenApiException, ValueError) as exc:
            raise DriverError(f"kubernetes: {what} failed: unexpected answer ({exc})") from None


class _ExpectedStatusError(Exception):
    """An API status the caller expects (404, 409) and handles itself."""
