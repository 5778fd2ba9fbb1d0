"""The agent's loop: make the cluster match the exchange, and tell the exchange what ran.

Each pass (:meth:`Agent.tick`), in numbered steps:

1. Heartbeat, with the cluster's own count of total and free cards for the center's pool
   (when the driver can count and the pool is known). The answer carries the exchange's
   clock, which bounds every time the agent reports.
2. Read the center's live leases from the exchange and the jobs from the cluster (by
   job name, so a restarted agent finds everything again: nothing is kept in memory
   that a restart could lose, except retry counters).
3. Per lease: no job yet -> submit one (a lease the cluster refuses ``SUBMIT_TRIES``
   times fails with the cluster's reason); job running -> report the start (with the
   job's start time); job ended -> report its metered usage (one record whose id is the
   job's, so a repeated report is one record) and then the end (completed, or failed
   with the cluster's reason). Every report is idempotent, so a pass cut short by a
   crash is simply done again.
4. Jobs whose lease is no longer live on the exchange (cancelled by the buyer, moved
   elsewhere) are cancelled on the cluster.

:meth:`Agent.run` repeats passes every ``poll_s`` seconds; a failed pass (exchange down,
key refused, cluster error) is logged in one line and retried after an exponential
backoff with jitter (1 s doubling to ``max_backoff_s``). The agent does not crash.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import httpx

from suanli.agent.drivers.base import Capability, Driver, DriverError, JobSpec, JobState
from suanli.exchange.agents import AgentLeaseOut, HeartbeatIn, PoolCapacityIn
from suanli.exchange.schemas import UsageIn
from suanli.sdk.client import ApiError, Client
from suanli.vocab import LeaseStatus

log = logging.getLogger("suanli.agent")

SUBMIT_TRIES = 3
REASON_MAX = 500  # what the exchange keeps of a reason


@dataclass
class TickReport:
    """What one pass did, for logs and tests."""

    submitted: list[int] = field(default_factory=list)
    started: list[int] = field(default_factory=list)
    completed: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    cancelled_jobs: list[str] = field(default_factory=list)
    waiting_for_usage: list[int] = field(default_factory=list)


def spec_of(lease: AgentLeaseOut, scope: str = "") -> JobSpec:
    """The cluster job for a lease. Without a workload the cards are held for the
    lease's duration (a plain rental); the job learns its lease, attempt and checkpoint
    directory through SUANLI_* variables."""
    workload = lease.workload
    env = {str(k): str(v) for k, v in dict(workload.get("env") or {}).items()}
    env.update(
        SUANLI_LEASE_ID=str(lease.lease_id),
        SUANLI_REQUEST_ID=str(lease.request_id),
        SUANLI_ATTEMPT=str(lease.attempt),
        SUANLI_CARDS=str(lease.cards),
    )
    if workload.get("checkpoint_dir"):
        env["SUANLI_CHECKPOINT_DIR"] = str(workload["checkpoint_dir"])
    command = workload.get("command")
    image = workload.get("image")
    if command is None and image is None:
        command = f"sleep {lease.duration_s}"
    return JobSpec(
        lease_id=lease.lease_id,
        cards=lease.cards,
        nodes=lease.nodes,
        duration_s=lease.duration_s,
        command=command,
        image=image,
        env=env,
        gpu_type=lease.model.lower(),
        scope=scope,
    )


class Agent:
    """One center's agent: ``client`` talks to the exchange, ``driver`` to the cluster."""

    def __init__(
        self,
        client: Client,
        driver: Driver,
        center_id: int,
        *,
        pool_id: int | None = None,
        poll_s: float = 5.0,
        max_backoff_s: float = 60.0,
    ) -> None:
        self.client = client
        self.driver = driver
        self.center_id = center_id
        self.pool_id = pool_id
        self.poll_s = poll_s
        self.max_backoff_s = max_backoff_s
        self.submit_failures: dict[int, int] = {}
        self._stop = threading.Event()

    # -- one pass -----------------------------------------------------------------------
    def tick(self) -> TickReport:
        report = TickReport()
        now = self._heartbeat()
        leases = self.client.agent_leases(self.center_id)
        jobs = self.driver.jobs()
        live = {lease.lease_id for lease in leases}
        for lease in leases:
            self._reconcile(lease, jobs.get(lease.lease_id), now, report)
        for lease_id, job_id in sorted(jobs.items()):
            if lease_id not in live and not self.driver.status(job_id).state.ended:
                self.driver.cancel(job_id)
                report.cancelled_jobs.append(job_id)
                log.info("cancelled job %s: lease %s is no longer live", job_id, lease_id)
        return report

    def _heartbeat(self) -> datetime:
        pools: list[PoolCapacityIn] = []
        if self.pool_id is not None and Capability.CAPACITY in self.driver.capabilities:
            capacity = self.driver.capacity()
            pools.append(
                PoolCapacityIn(
                    pool_id=self.pool_id,
                    total_cards=capacity.total_cards,
                    free_cards=min(capacity.free_cards, capacity.total_cards),
                )
            )
        beat = self.client.heartbeat(
            HeartbeatIn(center_id=self.center_id, driver=self.driver.name, pools=pools)
        )
        self.driver.scope = beat.exchange_id
        return beat.server_time

    def _reconcile(
        self, lease: AgentLeaseOut, job_id: str | None, now: datetime, report: TickReport
    ) -> None:
        if job_id is None:
            if lease.status is LeaseStatus.RUNNING:
                self.client.fail_lease(
                    lease.lease_id, "the cluster has no job for this running lease (lost)"
                )
                report.failed.append(lease.lease_id)
                return
            job_id = self._submit(lease, report)
            if job_id is None:
                return
        status = self.driver.status(job_id)
        if status.state is JobState.PENDING:
            return
        if status.started_at is not None and status.started_at > now:
            return  # started after this pass's heartbeat: report it with the next one
        if lease.status is not LeaseStatus.RUNNING:
            at = max(status.started_at or now, lease.placed_at)
            started = self.client.start_lease(lease.lease_id, at=at)
            lease = lease.model_copy(update={"started_at": started.started_at})
            report.started.append(lease.lease_id)
        if not status.state.ended:
            return
        usage = self.driver.usage(job_id)
        if usage is None or usage.ended_at > now:  # not measured yet, or newer than now
            report.waiting_for_usage.append(lease.lease_id)
            return
        self._report_usage(lease, job_id, usage.card_seconds, usage.started_at, usage.ended_at)
        if status.state is JobState.COMPLETED:
            self.client.complete_lease(lease.lease_id, f"job {job_id} completed")
            report.completed.append(lease.lease_id)
        else:
            reason = status.reason or f"job {job_id} {status.state}"
            self.client.fail_lease(lease.lease_id, reason[:REASON_MAX])
            report.failed.append(lease.lease_id)

    def _submit(self, lease: AgentLeaseOut, report: TickReport) -> str | None:
        try:
            job_id = self.driver.submit(spec_of(lease, self.driver.scope))
        except DriverError as exc:
            tries = self.submit_failures.get(lease.lease_id, 0) + 1
            self.submit_failures[lease.lease_id] = tries
            log.error(
                "lease %s: the cluster refused the job (%s/%s): %s",
                lease.lease_id,
                tries,
                SUBMIT_TRIES,
                exc,
            )
            if tries >= SUBMIT_TRIES:
                self.client.fail_lease(
                    lease.lease_id, f"the cluster refused the job: {exc}"[:REASON_MAX]
                )
                report.failed.append(lease.lease_id)
            return None
        self.submit_failures.pop(lease.lease_id, None)
        report.submitted.append(lease.lease_id)
        log.info("lease %s: submitted as job %s", lease.lease_id, job_id)
        return job_id

    def _report_usage(
        self,
        lease: AgentLeaseOut,
        job_id: str,
        card_seconds: int,
        started: datetime,
        ended: datetime,
    ) -> None:
        """One usage record for the whole job, inside what the exchange accepts: after
        the lease's start (the job ended before ``now``), at most cards x span and the
        contract."""
        begin = max(started, lease.started_at or started)
        end = max(ended, begin)
        span = int((end - begin).total_seconds())
        used = max(0, min(card_seconds, lease.cards * span, lease.cards * lease.duration_s))
        if used == 0:
            return
        self.client.record_usage(
            lease.lease_id,
            UsageIn(
                card_seconds=used,
                period_start=begin,
                period_end=end,
                external_id=f"{self.driver.name}:{job_id}",
                source=f"agent:{self.driver.name}",
            ),
        )

    # -- the loop -----------------------------------------------------------------------
    def run(
        self, *, passes: int | None = None, on_pass: Callable[[TickReport], None] | None = None
    ) -> None:
        """Run passes until :meth:`stop` (or ``passes`` passes), never raising."""
        first = min(1.0, self.max_backoff_s)
        backoff = first
        done = 0
        while not self._stop.is_set() and (passes is None or done < passes):
            done += 1
            try:
                result = self.tick()
            except Exception as exc:  # the agent must outlive any one failure
                log.error("pass failed: %s; retrying in %.1f s", describe(exc), backoff)
                self._stop.wait(backoff * random.uniform(0.5, 1.0))
                backoff = min(backoff * 2, self.max_backoff_s)
                continue
            backoff = first
            if on_pass is not None:
                on_pass(result)
            self._stop.wait(self.poll_s)

    def stop(self) -> None:
        self._stop.set()


def describe(exc: BaseException) -> str:
    """One line for the log: what failed, in the user's terms."""
    if isinstance(exc, ApiError):
        if exc.status == 0:  # the SDK's code for "no answer at all"
            return f"cannot reach the exchange: {exc.message}"
        if exc.status == 401:
            return f"the exchange refused the agent's key (401): {exc.message}"
        return f"the exchange answered {exc.status}: {exc.message}"
    if isinstance(exc, httpx.TransportError):
        return f"cannot reach the exchange: {exc.__class__.__name__}: {exc}"
    if isinstance(exc, DriverError):
        return f"cluster error: {exc}"
    return f"{exc.__class__.__name__}: {exc}"
