"""A fake Kubernetes API server: just the REST calls the Kubernetes driver makes.

``http.server`` in a thread on 127.0.0.1 (a random port, plain HTTP), objects in memory as
JSON dicts. Nothing happens by itself: there is no scheduler, Job controller or garbage
collector, except that deleting a Job with propagation Background (or Foreground) removes
its pods. Tests play the controller with :meth:`FakeKube.start`, :meth:`FakeKube.succeed`,
:meth:`FakeKube.fail` and :meth:`FakeKube.exceed_deadline`.

Served::

    POST   /apis/batch/v1/namespaces/{ns}/jobs
    GET    /apis/batch/v1/namespaces/{ns}/jobs[?labelSelector=...]
    GET    /apis/batch/v1/namespaces/{ns}/jobs/{name}
    DELETE /apis/batch/v1/namespaces/{ns}/jobs/{name}[?propagationPolicy=...]
    GET    /api/v1/nodes
    GET    /api/v1/namespaces/{ns}/pods[?labelSelector=...&fieldSelector=...]
    GET    /api/v1/pods[?labelSelector=...&fieldSelector=...]

Label selectors: ``key``, ``key=value``, ``key!=value``, comma-separated. Field
selectors: ``path=value``, ``path!=value`` over dotted paths (``status.phase``). Errors are
``Status`` objects like the real server's. With ``token`` set, requests without
``Authorization: Bearer <token>`` get 401.
"""

from __future__ import annotations

import copy
import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

Obj = dict[str, Any]


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _get(obj: Obj, path: str) -> Any:
    value: Any = obj
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _labels_match(labels: dict[str, str], selector: str) -> bool:
    for term in filter(None, (t.strip() for t in selector.split(","))):
        if "!=" in term:
            key, value = term.split("!=", 1)
            if labels.get(key) == value:
                return False
        elif "=" in term:
            key, value = term.split("=", 1)
            if labels.get(key) != value.lstrip("="):
                return False
        elif term not in labels:
            return False
    return True


def _fields_match(obj: Obj, selector: str) -> bool:
    for term in filter(None, (t.strip() for t in selector.split(","))):
        if "!=" in term:
            path, value = term.split("!=", 1)
            if str(_get(obj, path) or "") == value:
                return False
        else:
            path, value = term.split("=", 1)
            if str(_get(obj, path) or "") != value.lstrip("="):
                return False
    return True


def status_error(code: int, reason: str, message: str) -> Obj:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


class FakeKube:
    """The server and its objects (see the module docstring)."""

    def __init__(self, *, token: str | None = "fake-token") -> None:
        self.token = token
        self.jobs: dict[tuple[str, str], Obj] = {}
        self.pods: dict[tuple[str, str], Obj] = {}
        self.nodes: dict[str, Obj] = {}
        self.requests: list[tuple[str, str, dict[str, list[str]]]] = []
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start_server(self) -> None:
        fake = self

        class Handler(_Handler):
            kube = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="fake-kube",
            daemon=True,
        )
        self._thread.start()

    def stop_server(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def kubeconfig(self, directory: Path, *, namespace: str = "default") -> Path:
        """A kubeconfig file that points at this server (token auth, plain HTTP)."""
        user: Obj = {"token": self.token} if self.token else {}
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
            "users": [{"name": "fake", "user": user}],
            "contexts": [
                {
                    "name": "fake",
                    "context": {"cluster": "fake", "user": "fake", "namespace": namespace},
                }
            ],
            "current-context": "fake",
        }
        path = directory / "kubeconfig"
        path.write_text(json.dumps(config))  # JSON is YAML
        return path

    # -- the cluster, as the tests drive it --------------------------------------------------

    def add_node(
        self, name: str, gpus: int, *, ready: bool = True, unschedulable: bool = False
    ) -> None:
        with self.lock:
            self.nodes[name] = {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {"name": name, "uid": str(uuid.uuid4())},
                "spec": {"unschedulable": unschedulable} if unschedulable else {},
                "status": {
                    "allocatable": {"cpu": "64", "memory": "512Gi", "nvidia.com/gpu": str(gpus)},
                    "capacity": {"cpu": "64", "memory": "512Gi", "nvidia.com/gpu": str(gpus)},
                    "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
                },
            }

    def add_pod(
        self, namespace: str, name: str, *, node: str | None, gpus: int, phase: str = "Running"
    ) -> None:
        """A pod that is not a Job's (another tenant's work, for capacity)."""
        container = {
            "name": "main",
            "image": "busybox",
            "resources": {"requests": {"nvidia.com/gpu": str(gpus)}},
        }
        with self.lock:
            self.pods[(namespace, name)] = {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": name, "namespace": namespace, "labels": {}},
                "spec": {"containers": [container], "nodeName": node}
                if node
                else {"containers": [container]},
                "status": {"phase": phase},
            }

    def job(self, name: str, namespace: str = "default") -> Obj:
        with self.lock:
            return copy.deepcopy(self.jobs[(namespace, name)])

    def job_pods(self, name: str, namespace: str = "default") -> list[Obj]:
        with self.lock:
            return [
                copy.deepcopy(pod)
                for (ns, _), pod in self.pods.items()
                if ns == namespace and pod["metadata"]["labels"].get("job-name") == name
            ]

    def start(
        self,
        name: str,
        *,
        at: datetime,
        running: bool = True,
        node: str = "gpu-1",
        waiting: str | None = None,
        namespace: str = "default",
    ) -> None:
        """The controller starts the Job: its pods exist, Running on ``node`` or Pending."""
        with self.lock:
            job = self.jobs[(namespace, name)]
            count = job["spec"].get("parallelism", 1)
            job["status"].update(startTime=rfc3339(at), active=count, ready=count if running else 0)
            template = job["spec"]["template"]
            for index in range(count):
                pod_name = f"{name}-{index}-{uuid.uuid4().hex[:5]}"
                labels = dict(template["metadata"].get("labels", {}))
                labels.update({"job-name": name, "batch.kubernetes.io/job-name": name})
                spec = copy.deepcopy(template["spec"])
                status: Obj = {"phase": "Running" if running else "Pending"}
                if running:
                    spec["nodeName"] = node
                    status["startTime"] = rfc3339(at)
                    status["containerStatuses"] = [
                        self._container_status(
                            c["name"], c["image"], {"running": {"startedAt": rfc3339(at)}}
                        )
                        for c in spec["containers"]
                    ]
                elif waiting:
                    status["containerStatuses"] = [
                        self._container_status(
                            c["name"], c["image"], {"waiting": {"reason": waiting}}
                        )
                        for c in spec["containers"]
                    ]
                self.pods[(namespace, pod_name)] = {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {"name": pod_name, "namespace": namespace, "labels": labels},
                    "spec": spec,
                    "status": status,
                }

    def succeed(self, name: str, *, at: datetime, namespace: str = "default") -> None:
        with self.lock:
            job = self.jobs[(namespace, name)]
            self._end_pods(namespace, name, "Succeeded", 0, "Completed", at)
            count = job["spec"].get("completions", 1)
            job["status"].update(
                active=0,
                ready=0,
                succeeded=count,
                completionTime=rfc3339(at),
                conditions=[
                    self._condition("SuccessCriteriaMet", "CompletionsReached", at),
                    self._condition("Complete", "CompletionsReached", at),
                ],
            )

    def fail(
        self,
        name: str,
        *,
        at: datetime,
        exit_code: int = 1,
        reason: str = "Error",
        namespace: str = "default",
    ) -> None:
        """A pod's container exits ``exit_code``; backoffLimit 0 fails the Job."""
        with self.lock:
            job = self.jobs[(namespace, name)]
            self._end_pods(namespace, name, "Failed", exit_code, reason, at)
            message = "Job has reached the specified backoff limit"
            job["status"].update(
                active=0,
                ready=0,
                failed=1,
                conditions=[
                    self._condition("FailureTarget", "BackoffLimitExceeded", at, message),
                    self._condition("Failed", "BackoffLimitExceeded", at, message),
                ],
            )

    def exceed_deadline(self, name: str, *, at: datetime, namespace: str = "default") -> None:
        """activeDeadlineSeconds passed: the controller kills the pods and fails the Job."""
        with self.lock:
            job = self.jobs[(namespace, name)]
            for key in [k for k, p in self.pods.items() if self._of(p, namespace, name)]:
                del self.pods[key]
            message = "Job was active longer than specified deadline"
            job["status"].update(
                active=0,
                ready=0,
                failed=job["status"].get("active", 1),
                conditions=[
                    self._condition("FailureTarget", "DeadlineExceeded", at, message),
                    self._condition("Failed", "DeadlineExceeded", at, message),
                ],
            )

    # -- internals -------------------------------------------------------------------------

    @staticmethod
    def _of(pod: Obj, namespace: str, name: str) -> bool:
        meta = pod["metadata"]
        return bool(meta["namespace"] == namespace and meta["labels"].get("job-name") == name)

    @staticmethod
    def _condition(kind: str, reason: str, at: datetime, message: str = "") -> Obj:
        condition = {
            "type": kind,
            "status": "True",
            "reason": reason,
            "lastProbeTime": rfc3339(at),
            "lastTransitionTime": rfc3339(at),
        }
        if message:
            condition["message"] = message
        return condition

    @staticmethod
    def _container_status(name: str, image: str, state: Obj) -> Obj:
        return {
            "name": name,
            "image": image,
            "imageID": "",
            "ready": "running" in state,
            "restartCount": 0,
            "state": state,
        }

    def _end_pods(
        self, namespace: str, name: str, phase: str, code: int, reason: str, at: datetime
    ) -> None:
        for pod in self.pods.values():
            if not self._of(pod, namespace, name):
                continue
            pod["status"]["phase"] = phase
            terminated = {
                "exitCode": code,
                "reason": reason,
                "startedAt": pod["status"].get("startTime", rfc3339(at)),
                "finishedAt": rfc3339(at),
            }
            pod["status"]["containerStatuses"] = [
                self._container_status(c["name"], c["image"], {"terminated": terminated})
                for c in pod["spec"]["containers"]
            ]

    def handle(self, method: str, raw_path: str, headers: Any, body: bytes) -> tuple[int, Obj]:
        parts = urlsplit(raw_path)
        query = parse_qs(parts.query)
        segments = [s for s in parts.path.split("/") if s]
        with self.lock:
            self.requests.append((method, parts.path, query))
            if self.token and headers.get("Authorization") != f"Bearer {self.token}":
                return 401, status_error(401, "Unauthorized", "Unauthorized")
            labels = query.get("labelSelector", [""])[0]
            fields = query.get("fieldSelector", [""])[0]
            match segments:
                case ["apis", "batch", "v1", "namespaces", ns, "jobs"] if method == "POST":
                    return self._create_job(ns, body)
                case ["apis", "batch", "v1", "namespaces", ns, "jobs"] if method == "GET":
                    items = [
                        job
                        for (n, _), job in sorted(self.jobs.items())
                        if n == ns and _labels_match(job["metadata"].get("labels", {}), labels)
                    ]
                    return 200, self._list("JobList", "batch/v1", items)
                case ["apis", "batch", "v1", "namespaces", ns, "jobs", name]:
                    job = self.jobs.get((ns, name))
                    if job is None:
                        return 404, status_error(404, "NotFound", f'jobs.batch "{name}" not found')
                    if method == "GET":
                        return 200, copy.deepcopy(job)
                    if method == "DELETE":
                        del self.jobs[(ns, name)]
                        policy = query.get("propagationPolicy", [""])[0]
                        if policy in ("Background", "Foreground"):
                            for key in [k for k, p in self.pods.items() if self._of(p, ns, name)]:
                                del self.pods[key]
                        return 200, {
                            "kind": "Status",
                            "apiVersion": "v1",
                            "metadata": {},
                            "status": "Success",
                            "details": {"name": name, "group": "batch", "kind": "jobs"},
                        }
                case ["api", "v1", "nodes"] if method == "GET":
                    return 200, self._list("NodeList", "v1", list(self.nodes.values()))
                case ["api", "v1", "pods"] if method == "GET":
                    return 200, self._list("PodList", "v1", self._select_pods(None, labels, fields))
                case ["api", "v1", "namespaces", ns, "pods"] if method == "GET":
                    return 200, self._list("PodList", "v1", self._select_pods(ns, labels, fields))
            return 404, status_error(404, "NotFound", f"the fake serves no {method} {parts.path}")

    def _select_pods(self, namespace: str | None, labels: str, fields: str) -> list[Obj]:
        return [
            pod
            for (ns, _), pod in sorted(self.pods.items())
            if (namespace is None or ns == namespace)
            and _labels_match(pod["metadata"].get("labels", {}), labels)
            and _fields_match(pod, fields)
        ]

    @staticmethod
    def _list(kind: str, api_version: str, items: list[Obj]) -> Obj:
        return {
            "kind": kind,
            "apiVersion": api_version,
            "metadata": {"resourceVersion": "1"},
            "items": copy.deepcopy(items),
        }

    def _create_job(self, namespace: str, body: bytes) -> tuple[int, Obj]:
        try:
            job = json.loads(body)
        except ValueError:
            return 400, status_error(400, "BadRequest", "the body is not JSON")
        meta = job.get("metadata") or {}
        name = meta.get("name")
        problems = []
        if not name:
            problems.append("metadata.name: Required value")
        if meta.get("namespace", namespace) != namespace:
            problems.append("metadata.namespace: does not match the namespace of the request")
        pod_spec = ((job.get("spec") or {}).get("template") or {}).get("spec") or {}
        if not pod_spec.get("containers"):
            problems.append("spec.template.spec.containers: Required value")
        if pod_spec.get("restartPolicy") not in ("Never", "OnFailure"):
            problems.append("spec.template.spec.restartPolicy: Unsupported value")
        for container in pod_spec.get("containers") or []:
            if not container.get("image"):
                problems.append("spec.template.spec.containers[0].image: Required value")
        if problems:
            return 422, status_error(
                422, "Invalid", f'Job.batch "{name}" is invalid: ' + "; ".join(problems)
            )
        if (namespace, name) in self.jobs:
            return 409, status_error(409, "AlreadyExists", f'jobs.batch "{name}" already exists')
        meta.update(
            namespace=namespace,
            uid=str(uuid.uuid4()),
            resourceVersion="1",
            creationTimestamp=rfc3339(datetime.now(UTC)),
        )
        job["metadata"] = meta
        job["status"] = {}
        self.jobs[(namespace, name)] = job
        return 201, copy.deepcopy(job)


class _Handler(BaseHTTPRequestHandler):
    kube: FakeKube

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        code, obj = self.kube.handle(self.command, self.path, self.headers, body)
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_DELETE = _serve  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def fake_kube(*, token: str | None = "fake-token") -> Iterator[FakeKube]:
    kube = FakeKube(token=token)
    kube.start_server()
    try:
        yield kube
    finally:
        kube.stop_server()
