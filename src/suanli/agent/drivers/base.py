"""What every cluster driver offers the agent: submit, status, cancel, usage, capacity.

A driver knows nothing about the exchange. It runs one job per lease, named
:func:`job_name` so that after a restart the agent finds the jobs again from what the
cluster says (``jobs()``), never from memory. Every call may raise :class:`DriverError`
with a message that says what went wrong; the agent logs it and retries with backoff.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

JOB_PREFIX = "suanli-lease-"


def job_name(lease_id: int, scope: str = "") -> str:
    """``suanli-lease-<scope>-<id>``: ``scope`` is the exchange's id, so that the jobs of
    another exchange (or of an earlier database, whose lease ids start again at 1)
    sharing the cluster are never taken for this one's."""
    return f"{JOB_PREFIX}{scope}-{lease_id}" if scope else f"{JOB_PREFIX}{lease_id}"


def lease_of(name: str, scope: str = "") -> int | None:
    """The lease id in a job name made by :func:`job_name` with ``scope``, else None."""
    prefix = f"{JOB_PREFIX}{scope}-" if scope else JOB_PREFIX
    if not name.startswith(prefix):
        return None
    tail = name[len(prefix) :]
    return int(tail) if tail.isdigit() else None


class Capability(StrEnum):
    """What a driver can do beyond the basics."""

    GPU = "gpu"
    """Allocates whole GPUs to a job (GRES, device plugins)."""
    MULTI_NODE = "multi_node"
    """Runs one job over several nodes (gangs)."""
    CONTAINERS = "containers"
    """Runs a container image."""
    COMMANDS = "commands"
    """Runs a shell command."""
    ACCOUNTING = "accounting"
    """Reports usage measured by the cluster itself (e.g. sacct)."""
    CAPACITY = "capacity"
    """Reports the cluster's real total and free GPUs."""


class JobState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def ended(self) -> bool:
        return self in (JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED)


@dataclass(frozen=True, slots=True)
class JobSpec:
    """One lease as a cluster job. ``command`` or ``image`` says what to run; ``env`` is
    passed through (the agent adds SUANLI_* variables, e.g. the checkpoint directory)."""

    lease_id: int
    cards: int
    nodes: int
    duration_s: int
    command: str | None = None
    image: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    gpu_type: str | None = None
    scope: str = ""

    @property
    def name(self) -> str:
        return job_name(self.lease_id, self.scope)

    @property
    def cards_per_node(self) -> int:
        return self.cards // self.nodes


@dataclass(frozen=True, slots=True)
class JobStatus:
    """A job as the cluster sees it. ``reason`` explains a failure (exit code, signal,
    time limit, node failure) in words."""

    job_id: str
    lease_id: int
    state: JobState
    started_at: datetime | None = None
    ended_at: datetime | None = None
    exit_code: int | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Usage:
    """Metered use of one ended (or running) job: GPU-seconds between start and end."""

    job_id: str
    card_seconds: int
    started_at: datetime
    ended_at: datetime


@dataclass(frozen=True, slots=True)
class Capacity:
    """The cluster's (partition's) GPUs: all of them and those free now."""

    total_cards: int
    free_cards: int


class DriverError(Exception):
    """A cluster call failed; ``str(error)`` says what and why, in one line."""


class Driver(Protocol):
    """The five calls (plus ``jobs``, for recovery) every driver implements."""

    name: str
    capabilities: frozenset[Capability]
    scope: str
    """Whose jobs these are (the exchange's id): set by the agent after its first
    heartbeat; names and ``jobs()`` only ever cover this scope."""

    def submit(self, spec: JobSpec) -> str:
        """Start a job for ``spec`` and return its id. A job of the same name that
        already exists is returned instead (idempotent)."""
        ...

    def jobs(self) -> dict[int, str]:
        """Lease id -> job id of every job this driver made that the cluster still
        knows (pending, running or recently ended)."""
        ...

    def status(self, job_id: str) -> JobStatus:
        """The job's state now."""
        ...

    def cancel(self, job_id: str) -> None:
        """Stop a job (no-op if it already ended)."""
        ...

    def usage(self, job_id: str) -> Usage | None:
        """Measured use of an ended job, or None while it is not known yet."""
        ...

    def capacity(self) -> Capacity:
        """Total and free GPUs of what this driver schedules onto."""
        ...
