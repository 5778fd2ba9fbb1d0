"""The agent against a live exchange, with the local driver (real processes, real time).

* a buyer's workload runs as a job; the lease goes placed -> running -> completed and the
  buyer is charged exactly the metered use, once;
* the agent killed with SIGKILL mid-job and started again loses and double-counts nothing;
* with two centers, the one whose agent falls silent is taken offline and its queued
  lease moves to the other within the timeout;
* a wrong key, an unreachable exchange and a job the cluster refuses are logged and
  retried; the agent does not crash.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import Market, Party, assert_books_balance, make_center, make_pool, wait_until
from suanli.agent.drivers.base import job_name
from suanli.agent.drivers.local import LocalDriver
from suanli.agent.runner import Agent
from suanli.exchange.schemas import RequestIn, WorkloadIn
from suanli.kit.clock import SystemClock
from suanli.kit.money import usage_cost_fen
from suanli.settings import Settings
from suanli.store import Database
from suanli.store.models import LedgerTransaction, UsageRecord
from suanli.vocab import CenterStatus, LeaseStatus, RequestStatus, TransactionKind

pytestmark = pytest.mark.xdist_group("agent")

TIMEOUT_S = 2
PRICE = 3600  # fen per card-hour: one card-second costs one fen


@dataclass
class Site:
    provider: Party
    center_id: int
    pool_id: int
    state_dir: Path


@pytest.fixture
def live(db: Database, serve: Callable[..., str]) -> Iterator[Market]:
    """A live exchange on the real clock, sweeping silent centers every 0.2 s."""
    settings = Settings(agent_timeout_s=TIMEOUT_S)
    url = serve(db, clock=SystemClock(), settings=settings, tick_seconds=0.2)
    market = Market(db, url, SystemClock())  # type: ignore[arg-type]
    yield market
    market.close()


def site(market: Market, tmp_path: Path, name: str, price: int = PRICE) -> Site:
    provider = market.provider(name=f"{name}-provider")
    center = make_center(provider.client, name=name)
    pool = make_pool(
        provider.client, center.id, nodes=1, cards_per_node=8, price_fen=price, model="H800"
    )
    return Site(provider, center.id, pool.id, tmp_path / name)


def agent_for(s: Site, **kw: float) -> Agent:
    driver = LocalDriver(s.state_dir, cards=8, grace_s=1)
    return Agent(s.provider.client, driver, s.center_id, pool_id=s.pool_id, poll_s=0.1, **kw)


def submit(buyer: Party, command: str, cards: int = 2, **fields: object) -> int:
    request = buyer.client.submit_request(
        RequestIn(
            cards=cards,
            duration_s=600,
            workload=WorkloadIn(command=command, checkpoint_dir="/ckpt/run-1"),
            **fields,  # type: ignore[arg-type]
        )
    )
    return request.id


def lease_of(buyer: Party, request_id: int) -> int:
    found = buyer.client.get_request(request_id)
    assert found.lease_id is not None, found.reasons
    return found.lease_id


def test_a_workload_runs_and_the_buyer_pays_the_metered_use_once(
    live: Market, tmp_path: Path, db: Database
) -> None:
    s = site(live, tmp_path, "alpha")
    buyer = live.buyer(topup_fen=10_000_000)
    request_id = submit(buyer, "sleep 1; echo done")
    lease_id = lease_of(buyer, request_id)
    agent = agent_for(s)

    def ended() -> bool:
        agent.tick()
        return buyer.client.get_lease(lease_id).status is LeaseStatus.COMPLETED

    wait_until(ended, timeout=30, interval=0.2)

    lease = buyer.client.get_lease(lease_id)
    statuses = [t.to_status for t in lease.transitions]
    assert statuses == [
        LeaseStatus.PENDING,
        LeaseStatus.PLACED,
        LeaseStatus.RUNNING,
        LeaseStatus.COMPLETED,
    ]
    [usage] = buyer.client.list_usage(lease_id)
    assert usage.external_id.startswith("local:")
    assert 2 * 1 <= usage.card_seconds <= 2 * 4  # two cards, about one second
    assert lease.charged_fen == usage_cost_fen(usage.card_seconds, PRICE)
    job_dir = s.state_dir / job_name(lease_id, agent.driver.scope)
    assert agent.driver.scope  # the exchange's id: jobs of other exchanges are not ours
    assert (job_dir / "stdout.log").read_text().strip() == "done"
    # Passes after the end report nothing more.
    agent.tick()
    assert len(buyer.client.list_usage(lease_id)) == 1
    with db.transaction() as session:
        captures = session.scalars(
            select(LedgerTransaction).where(
                LedgerTransaction.lease_id == lease_id,
                LedgerTransaction.kind == TransactionKind.CAPTURE,
            )
        ).all()
        assert len(captures) == 1
    assert_books_balance(db)


def test_sigkill_mid_job_loses_nothing_and_counts_once(
    live: Market, tmp_path: Path, db: Database
) -> None:
    s = site(live, tmp_path, "beta")
    buyer = live.buyer(topup_fen=10_000_000)
    request_id = submit(buyer, "sleep 3; echo survived")
    lease_id = lease_of(buyer, request_id)
    command = [
        sys.executable, "-m", "suanli", "agent", "run",
        "--exchange", live.url, "--key", s.provider.key, "--center", str(s.center_id),
        "--pool", str(s.pool_id), "--driver", "local", "--state-dir", str(s.state_dir),
        "--poll", "0.2",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    first = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(
            lambda: buyer.client.get_lease(lease_id).status is LeaseStatus.RUNNING, timeout=30
        )
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        assert first.stderr is not None
        first.stderr.close()
    assert buyer.client.get_lease(lease_id).status is LeaseStatus.RUNNING
    second = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(
            lambda: buyer.client.get_lease(lease_id).status is LeaseStatus.COMPLETED,
            timeout=40,
            interval=0.2,
        )
    finally:
        second.send_signal(signal.SIGTERM)
        _, log = second.communicate(timeout=20)
    assert second.returncode == 0, log
    lease = buyer.client.get_lease(lease_id)
    [usage] = buyer.client.list_usage(lease_id)
    assert 2 * 3 <= usage.card_seconds <= 2 * 8
    assert lease.charged_fen == usage_cost_fen(usage.card_seconds, PRICE)
    assert [t.to_status for t in lease.transitions].count(LeaseStatus.RUNNING) == 1
    job_dirs = list(s.state_dir.glob("suanli-lease-*"))
    assert len(job_dirs) == 1  # one job: the restart found it rather than starting another
    assert (job_dirs[0] / "stdout.log").read_text().strip() == "survived"
    with db.transaction() as session:
        records = session.scalars(select(UsageRecord).where(UsageRecord.lease_id == lease_id)).all()
        assert len(records) == 1 and records[0].charge_transaction_id is not None
    assert_books_balance(db)


def test_a_silent_centers_queued_lease_moves_to_the_other_center(
    live: Market, tmp_path: Path
) -> None:
    cheap = site(live, tmp_path, "cheap", price=PRICE)
    other = site(live, tmp_path, "other", price=PRICE * 2)
    quiet = agent_for(cheap)
    quiet.tick()  # the cheap center's agent was seen once, then stops
    runner = agent_for(other)
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    try:
        buyer = live.buyer(topup_fen=10_000_000)
        request_id = submit(buyer, "sleep 1")
        first = buyer.client.get_lease(lease_of(buyer, request_id))
        assert first.center_id == cheap.center_id
        began = time.monotonic()

        def moved() -> bool:
            found = buyer.client.get_request(request_id)
            return found.lease_id is not None and found.lease_id != first.id

        wait_until(moved, timeout=TIMEOUT_S + 10, interval=0.1)
        took = time.monotonic() - began
        second = buyer.client.get_lease(lease_of(buyer, request_id))
        assert second.center_id == other.center_id
        assert took < TIMEOUT_S + 3, took
        old = buyer.client.get_lease(first.id)
        assert old.status is LeaseStatus.CANCELLED
        assert old.end_reason is not None and "silent" in old.end_reason
        assert old.charged_fen == 0
        center = other.provider.client.get_center(other.center_id)
        assert center.status is CenterStatus.ACTIVE
        gone = cheap.provider.client.get_center(cheap.center_id)
        assert gone.status is CenterStatus.OFFLINE
        wait_until(
            lambda: buyer.client.get_lease(second.id).status is LeaseStatus.COMPLETED,
            timeout=30,
            interval=0.2,
        )
        assert buyer.client.get_request(request_id).status is RequestStatus.FINISHED
        assert buyer.client.get_request(request_id).attempts == 2
    finally:
        runner.stop()
        thread.join(timeout=10)
    # The silent agent comes back: its center is active again.
    quiet.tick()
    assert cheap.provider.client.get_center(cheap.center_id).status is CenterStatus.ACTIVE


def test_errors_are_logged_and_retried_and_the_agent_survives(
    live: Market, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    s = site(live, tmp_path, "gamma")
    caplog.set_level(logging.INFO, logger="suanli.agent")
    # A wrong key: every pass is refused, logged, and retried after a backoff.
    wrong = live.client("sk_" + "0" * 48)
    agent = Agent(wrong, LocalDriver(s.state_dir), s.center_id, poll_s=0.01, max_backoff_s=0.05)
    agent.run(passes=3)
    refused = [r for r in caplog.records if "refused the agent's key (401)" in r.message]
    assert len(refused) == 3
    # The exchange down: the same.
    caplog.clear()
    from suanli.sdk import Client

    with Client("http://127.0.0.1:9", api_key=s.provider.key) as down:
        agent = Agent(down, LocalDriver(s.state_dir), s.center_id, poll_s=0.01, max_backoff_s=0.05)
        agent.run(passes=2)
    assert sum("cannot reach the exchange" in r.message for r in caplog.records) == 2
    # A job the cluster refuses (the local driver runs no images): the lease fails after
    # three tries, with the cluster's reason.
    caplog.clear()
    buyer = live.buyer(topup_fen=10_000_000)
    request = buyer.client.submit_request(
        RequestIn(cards=1, duration_s=600, workload=WorkloadIn(image="pytorch/pytorch:2.4"))
    )
    lease_id = lease_of(buyer, request.id)
    agent = agent_for(s)
    for _ in range(3):
        agent.tick()
    lease = buyer.client.get_lease(lease_id)
    assert lease.status is LeaseStatus.FAILED
    assert lease.end_reason is not None and "the cluster refused the job" in lease.end_reason
    assert lease.charged_fen == 0
    assert sum("refused the job" in r.message for r in caplog.records) == 3


def test_interruptible_work_is_preempted_and_requeued_with_its_checkpoint(
    live: Market, tmp_path: Path
) -> None:
    s = site(live, tmp_path, "delta")
    buyer = live.buyer(topup_fen=10_000_000)
    request_id = submit(buyer, 'echo "$SUANLI_CHECKPOINT_DIR $SUANLI_ATTEMPT"; sleep 30',
                        interruptible=True)  # fmt: skip
    lease_id = lease_of(buyer, request_id)
    agent = agent_for(s)

    def said(lease: int) -> str:
        path = s.state_dir / job_name(lease, agent.driver.scope) / "stdout.log"
        return path.read_text().strip()

    def running() -> bool:
        agent.tick()
        return buyer.client.get_lease(lease_id).status is LeaseStatus.RUNNING

    wait_until(running, timeout=20, interval=0.2)
    wait_until(lambda: said(lease_id) != "", timeout=10)
    preempted = s.provider.client.preempt_lease(lease_id, "room for on-demand work")
    assert preempted.status is LeaseStatus.PREEMPTED
    agent.tick()  # cancels the job of the lease that is no longer live

    def placed_again() -> bool:
        found = buyer.client.get_request(request_id)
        return found.lease_id is not None and found.lease_id != lease_id

    wait_until(placed_again, timeout=10)
    again = buyer.client.get_request(request_id)
    assert again.attempts == 2
    second = again.lease_id
    assert second is not None

    def running_again() -> bool:
        agent.tick()
        return buyer.client.get_lease(second).status is LeaseStatus.RUNNING

    wait_until(running_again, timeout=20, interval=0.2)

    wait_until(lambda: said(second) != "", timeout=10)
    assert said(second).splitlines()[0] == "/ckpt/run-1 2"
    assert said(lease_id).splitlines()[0] == "/ckpt/run-1 1"
    assert Decimal(buyer.client.get_lease(lease_id).charged_fen) >= 0
    s.provider.client.preempt_lease(second, "test over")
    agent.tick()


def test_a_failed_job_fails_its_lease_with_the_exit_reason_and_charges_its_use(
    live: Market, tmp_path: Path
) -> None:
    s = site(live, tmp_path, "epsilon")
    buyer = live.buyer(topup_fen=10_000_000)
    request_id = submit(buyer, "sleep 1; exit 3")
    lease_id = lease_of(buyer, request_id)
    agent = agent_for(s)

    def ended() -> bool:
        agent.tick()
        return buyer.client.get_lease(lease_id).status is LeaseStatus.FAILED

    wait_until(ended, timeout=30, interval=0.2)
    lease = buyer.client.get_lease(lease_id)
    assert lease.end_reason is not None and "exit code 3" in lease.end_reason
    [usage] = buyer.client.list_usage(lease_id)
    assert lease.charged_fen == usage_cost_fen(usage.card_seconds, PRICE) > 0
    assert buyer.client.get_request(request_id).status is RequestStatus.FINISHED


def test_the_clusters_own_free_count_caps_what_is_offered(live: Market, tmp_path: Path) -> None:
    s = site(live, tmp_path, "zeta")
    agent = Agent(
        s.provider.client, LocalDriver(s.state_dir, cards=2), s.center_id, pool_id=s.pool_id
    )
    agent.tick()  # the cluster says: 2 of its cards are free (the pool lists 8)
    pool = s.provider.client.get_pool(s.pool_id)
    assert (pool.reported_total_cards, pool.reported_free_cards) == (2, 2)
    assert (pool.cards, pool.cards_free) == (8, 2)  # offered: what the cluster has free
    buyer = live.buyer(topup_fen=10_000_000)
    big = buyer.client.submit_request(RequestIn(cards=4, duration_s=600))
    assert big.status is RequestStatus.QUEUED
    small = buyer.client.submit_request(RequestIn(cards=2, duration_s=600))
    assert small.status is RequestStatus.PLACED
