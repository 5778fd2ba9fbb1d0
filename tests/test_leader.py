"""Several ``suanli serve`` processes on one PostgreSQL database: exactly one leads the
background work; when the leader is killed, another takes over within 10 s; ``--workers``
refuses SQLite."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from suanli.store import Database

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
