"""Several ``suanli serve`` processes on one PostgreSQL database: exactly one leads the
background work; when the leader is killed, another takes over within 10 s; under load
through both, nothing is oversold or placed twice; ``--workers`` refuses SQLite."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import func, select

from conftest import center_fields, pool_fields
from suanli.capacity.schemas import CenterIn, PoolIn
from suanli.capacity.service import CapacityService
from suanli.kit.clock import SystemClock
from suanli.ledger import Ledger
from suanli.ledger.audit import audit_ledger
from suanli.orgs.auth import Principal
from suanli.orgs.service import create_key, create_org
from suanli.store import Database, work_repo
from suanli.store.models import Lease, LeaseAllocation, Node
from suanli.vocab import OrgRole

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.xdist_group("concurrency")]

TICK = "0.5"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(url: str, port: int, *extra: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "suanli", "serve", "--db", url, "--port", str(port)]
    return subprocess.Popen(
        [*command, "--tick", TICK, *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def health(port: int) -> dict[str, object] | None:
    try:
        answer = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
    except httpx.HTTPError:
        return None
    return dict(answer.json()) if answer.status_code == 200 else None


def leaders(ports: list[int]) -> list[int]:
    return [p for p in ports if (h := health(p)) is not None and h.get("leader") is True]


def wait_for(check: object, seconds: float) -> float:
    """Poll ``check()`` until true; return how long it took (fail after ``seconds``)."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if check():  # type: ignore[operator]
            return time.monotonic() - started
        time.sleep(0.1)
    pytest.fail(f"not within {seconds} s")


@pytest.fixture
def servers(pg_db: Database) -> Iterator[tuple[list[subprocess.Popen[bytes]], list[int]]]:
    ports = [free_port(), free_port()]
    procs = [serve(pg_db.url, port) for port in ports]
    try:
        wait_for(lambda: all(health(p) is not None for p in ports), 60)
        yield procs, ports
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_one_leader_at_a_time_and_another_takes_over_when_it_dies(
    servers: tuple[list[subprocess.Popen[bytes]], list[int]],
) -> None:
    procs, ports = servers
    wait_for(lambda: len(leaders(ports)) == 1, 10)
    for _ in range(10):  # and it stays one
        assert len(leaders(ports)) == 1
        time.sleep(0.2)
    (leader,) = leaders(ports)
    killed = procs[ports.index(leader)]
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=10)
    other = next(p for p in ports if p != leader)
    took = wait_for(lambda: leaders([other]) == [other], 10)
    assert took < 10


def test_workers_need_postgresql(tmp_path: object) -> None:
    command = [sys.executable, "-m", "suanli", "serve", "--db", f"sqlite:///{tmp_path}/x.db"]
    done = subprocess.run(
        [*command, "--workers", "2", "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith("error: --workers above 1 needs")


SECONDS = 6.0
THREADS = 8


def _market(db: Database) -> list[str]:
    """One provider with 4 nodes of 8 cards; four buyers with money; their keys."""
    clock = SystemClock()
    with db.transaction() as session:
        provider = create_org(session, clock, name="Guiyang DC", role=OrgRole.PROVIDER)
        capacity = CapacityService(session, clock, Principal(provider.id, OrgRole.PROVIDER))
        center = capacity.register_center(CenterIn(**center_fields()))
        capacity.add_pool(center.id, PoolIn(**pool_fields(nodes=4, price_fen=100)))
        keys = []
        for n in range(4):
            buyer = create_org(session, clock, name=f"buyer {n}", role=OrgRole.BUYER)
            Ledger(session, clock).topup(buyer.id, 10**9)
            keys.append(create_key(session, clock, buyer.id, "load").secret)
    return keys


def test_two_processes_under_load_never_oversell_or_place_twice(
    pg_db: Database, servers: tuple[list[subprocess.Popen[bytes]], list[int]]
) -> None:
    """Buyers submit and cancel through both processes at once while the leader places
    the queue: the books and the nodes agree afterwards, and one process led throughout."""
    _, ports = servers
    keys = _market(pg_db)
    wait_for(lambda: len(leaders(ports)) == 1, 10)
    statuses: Counter[int] = Counter()
    seen_leaders: list[int] = []
    lock = threading.Lock()
    deadline = time.monotonic() + SECONDS

    def work(n: int) -> None:
        rng = random.Random(n)
        mine: list[int] = []
        clients = [
            httpx.Client(
                base_url=f"http://127.0.0.1:{port}",
                headers={"Authorization": f"Bearer {keys[n % len(keys)]}"},
                timeout=30,
            )
            for port in ports
        ]
        try:
            while time.monotonic() < deadline:
                http = rng.choice(clients)  # either process
                if mine and rng.random() < 0.4:
                    answer = http.post(f"/v1/requests/{mine.pop(rng.randrange(len(mine)))}/cancel")
                else:
                    body = {"cards": rng.choice((1, 2, 4, 8)), "duration_s": 600}
                    answer = http.post("/v1/requests", json=body)
                    if answer.status_code == 201:
                        mine.append(int(answer.json()["id"]))
                with lock:
                    statuses[answer.status_code] += 1
        finally:
            for client in clients:
                client.close()

    def watch() -> None:
        while time.monotonic() < deadline:
            seen_leaders.append(len(leaders(ports)))
            time.sleep(0.2)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    threads.append(threading.Thread(target=watch))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=SECONDS + 60)

    assert not [s for s in statuses if s >= 500], statuses
    assert statuses[201] > 20, statuses
    assert seen_leaders and set(seen_leaders) == {1}, seen_leaders  # one leader throughout
    time.sleep(2 * float(TICK))  # the leader's last passes
    with pg_db.transaction() as session:
        assert work_repo.oversold_cards(session) == 0
        live = select(Lease.request_id).where(Lease.status.in_(work_repo.LIVE))
        twice = session.execute(live.group_by(Lease.request_id).having(func.count() > 1)).all()
        assert twice == []  # no request on two live leases
        held = dict(
            session.execute(
                select(LeaseAllocation.node_id, func.sum(LeaseAllocation.cards))
                .join(Lease, Lease.id == LeaseAllocation.lease_id)
                .where(Lease.status.in_(work_repo.LIVE))
                .group_by(LeaseAllocation.node_id)
            ).all()
        )
        for node in session.scalars(select(Node)):  # each node's counter is its leases'
            assert node.cards_free == node.cards_total - held.get(node.id, 0), node.id
        assert audit_ledger(session, None).ok
