"""End to end on real parts: `suanli serve` on PostgreSQL, a real slurmctld/slurmd, and
the agent as its own process.

A buyer's request runs as a Slurm job; the lease goes placed -> running -> completed; the
usage the buyer is charged is what sacct reports. The agent is killed with SIGKILL in the
middle of the job and started again: the job's end and usage are reported exactly once.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from conftest import (
    Market,
    SlurmCluster,
    assert_books_balance,
    make_center,
    make_pool,
    wait_until,
)
from suanli.exchange.schemas import RequestIn, WorkloadIn
from suanli.kit.clock import SystemClock
from suanli.kit.money import usage_cost_fen
from suanli.store import Database
from suanli.store.models import UsageRecord
from suanli.vocab import LeaseStatus

pytestmark = [pytest.mark.slurm, pytest.mark.postgres, pytest.mark.xdist_group("slurm")]

PRICE = 3600  # fen per card-hour: a card-second costs a fen


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(pg_url: str, tmp_path: Path) -> Iterator[str]:
    """`suanli serve` on a scratch PostgreSQL database, as a real process."""
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "suanli", "serve", "--db", pg_url, "--port", str(port),
         "--tick", "0.5"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:

        def up() -> bool:
            try:
                return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(up, timeout=60, interval=0.2)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def sacct_card_seconds(slurm: SlurmCluster, job_id: str) -> int:
    """ElapsedRaw x allocated GPUs, as sacct reports them for the job's allocation."""
    done = subprocess.run(
        ["sacct", "-j", job_id, "-X", "-n", "-P", "--format=ElapsedRaw,AllocTRES"],
        env={**os.environ, **slurm.env},
        capture_output=True,
        text=True,
        timeout=20,
        check=True,
    )
    elapsed, tres = done.stdout.strip().splitlines()[0].split("|")
    gpus = next(int(item.split("=")[1]) for item in tres.split(",") if item.startswith("gres/gpu="))
    return int(elapsed) * gpus


def test_a_request_runs_as_a_slurm_job_and_sacct_usage_is_charged_once(
    slurm: SlurmCluster, server: str, pg_url: str, tmp_path: Path
) -> None:
    db = Database(pg_url)
    market = Market(db, server, SystemClock())  # type: ignore[arg-type]
    try:
        provider = market.provider(name="Slurm Center")
        center = make_center(provider.client, name="slurm-dc")
        pool = make_pool(
            provider.client,
            center.id,
            model="H800",
            nodes=slurm.nodes,
            cards_per_node=slurm.gpus_per_node,
            price_fen=PRICE,
        )
        buyer = market.buyer(topup_fen=10_000_000)
        request = buyer.client.submit_request(
            RequestIn(
                cards=2,
                duration_s=600,
                workload=WorkloadIn(command="sleep 4; echo hello from slurm"),
            )
        )
        lease_id = buyer.client.get_request(request.id).lease_id
        assert lease_id is not None
        command = [
            sys.executable, "-m", "suanli", "agent", "run", "--exchange", server,
            "--key", provider.key, "--center", str(center.id), "--pool", str(pool.id),
            "--driver", "slurm", "--partition", slurm.partition, "--poll", "0.5",
        ]  # fmt: skip
        env = {**os.environ, **slurm.env}
        log1 = (tmp_path / "agent1.log").open("w")
        first = subprocess.Popen(command, env=env, stderr=log1, cwd=tmp_path)
        try:
            wait_until(
                lambda: buyer.client.get_lease(lease_id).status is LeaseStatus.RUNNING,
                timeout=60,
                interval=0.2,
            )
        finally:
            first.send_signal(signal.SIGKILL)  # mid-job: the job runs on without it
            first.wait(timeout=10)
            log1.close()
        assert buyer.client.get_lease(lease_id).status is LeaseStatus.RUNNING
        log2 = (tmp_path / "agent2.log").open("w")
        second = subprocess.Popen(command, env=env, stderr=log2, cwd=tmp_path)
        try:
            wait_until(
                lambda: buyer.client.get_lease(lease_id).status is LeaseStatus.COMPLETED,
                timeout=90,
                interval=0.3,
            )
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=20)
            log2.close()
        assert second.returncode == 0, (tmp_path / "agent2.log").read_text()

        lease = buyer.client.get_lease(lease_id)
        assert [t.to_status for t in lease.transitions] == [
            LeaseStatus.PENDING,
            LeaseStatus.PLACED,
            LeaseStatus.RUNNING,
            LeaseStatus.COMPLETED,
        ]
        [usage] = buyer.client.list_usage(lease_id)
        assert usage.external_id.startswith("slurm:")
        job_id = usage.external_id.split(":", 1)[1]
        assert usage.card_seconds == sacct_card_seconds(slurm, job_id)
        assert usage.card_seconds >= 2 * 4
        assert lease.charged_fen == usage_cost_fen(usage.card_seconds, PRICE)
        wallet = buyer.client.wallet()
        assert wallet.available_fen == 10_000_000 - lease.charged_fen
        with db.transaction() as session:
            records = session.scalars(
                select(UsageRecord).where(UsageRecord.lease_id == lease_id)
            ).all()
            assert len(records) == 1 and records[0].charge_transaction_id is not None
        assert_books_balance(db)
    finally:
        market.close()
        db.dispose()
