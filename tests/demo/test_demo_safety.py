"""``suanli demo`` is safe to run again, twice at once and to interrupt.

* A busy port is refused before any work (when the demo is to serve).
* A database another demo builds or serves is refused, untouched.
* A rerun issues the keys saved in the profiles again; a key it cannot issue again is
  replaced, loudly.
* Ctrl-C during the replay says what was left and exits 130; the next run starts over.
* While the demo serves, its centers' simulated agents end each lease when its time is up.

The demos run as their own processes on the suite's database (SQLite, or PostgreSQL when
the run names one), each replaying only the day's first requests, except the one that is
interrupted, which needs a replay long enough to interrupt.
"""

from __future__ import annotations

import json
import socket
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text
from tests.conftest import row_counts, wait_until
from tests.demo.demo_process import SMALL, demo, demo_env, free_port, run

from suanli.capacity.schemas import CenterIn, PoolIn
from suanli.capacity.service import CapacityService
from suanli.demo.centers import SimulatedCenters
from suanli.demo.lock import DemoBusyError, DemoLock
from suanli.demo.runner import run_demo
from suanli.exchange.schemas import RequestIn
from suanli.exchange.service import Exchange
from suanli.kit.clock import ManualClock
from suanli.orgs.auth import Principal
from suanli.orgs.service import authenticate
from suanli.sdk import Client
from suanli.settings import Settings
from suanli.store import Database, work_repo
from suanli.store.models import ApiKey, Lease, UsageRecord
from suanli.vocab import LeaseStatus, OrgRole

pytestmark = pytest.mark.slow

ROLES = ("operator", "provider", "buyer", "issuer")


def saved(config: Path) -> dict[str, str]:
    profiles = json.loads(config.read_text(encoding="utf-8"))["profiles"]
    return {role: profiles[role]["key"] for role in ROLES}


def fingerprint(db: Database) -> dict[str, Any]:
    """What a rebuild would change and serving does not: keys and the exchange's shape."""
    with db.transaction() as session:
        found: dict[str, Any] = {"keys": sorted(session.scalars(select(ApiKey.secret_hash)))}
        for table in ("organizations", "centers", "pools", "voucher_programs", "invoices"):
            found[table] = session.scalar(text(f"SELECT COUNT(*) FROM {table}"))
    return found


def test_a_busy_port_is_refused_before_any_work(db: Database, tmp_path: Path) -> None:
    env = demo_env(tmp_path / "config.json")
    before = row_counts(db)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        began = time.monotonic()
        done = run(["--db", db.url, "--port", str(port)], env, timeout=120)  # the whole day
        took = time.monotonic() - began
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip() == (
        f"error: port {port} on 127.0.0.1 is already in use: stop what serves there, or "
        "pick another port with --port"
    )
    assert took < 30  # the replay alone takes more than a minute
    assert row_counts(db) == before
    assert not (tmp_path / "config.json").exists()


def test_a_second_demo_on_a_database_in_use_is_refused(db: Database, tmp_path: Path) -> None:
    env = demo_env(tmp_path / "first.json")
    other = demo_env(tmp_path / "second.json")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with demo(["--db", db.url, "--port", str(port), *SMALL], env, tmp_path / "first") as first:
        first.serving(url)
        before = fingerprint(db)
        second = run(["--db", db.url, "--no-serve", *SMALL], other)
        assert second.returncode == 1
        assert f"is in use by another suanli demo (pid {first.proc.pid})" in second.stderr
        assert second.stderr.count("\n") == 1  # one line
        assert fingerprint(db) == before
        with Client(url, saved(tmp_path / "first.json")["buyer"]) as buyer:
            assert buyer.me().role == OrgRole.BUYER  # the first demo's keys still work
        assert first.interrupt() == 0
        assert "server stopped; the demo's data stays in" in first.stderr
        assert "Traceback" not in first.stderr and "ERROR" not in first.stderr
    # once the first demo stopped, the database is free again
    again = run(["--db", db.url, "--no-serve", "--requests", "5"], other)
    assert again.returncode == 0, again.stderr


def test_a_rerun_keeps_the_saved_keys(db: Database, tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    env = demo_env(config)
    args = ["--db", db.url, "--no-serve", *SMALL]
    first = run(args, env)
    assert first.returncode == 0, first.stderr
    assert "try next" in first.stdout and "suanli lease show 1" in first.stdout
    keys = saved(config)

    second = run(args, env)
    assert second.returncode == 0, second.stderr
    assert "API keys kept for operator, provider, buyer, issuer" in second.stderr
    assert "NEW API keys" not in second.stderr
    assert saved(config) == keys
    with db.transaction() as session:
        for role, key in keys.items():
            assert authenticate(session, key).role == OrgRole(role)

    # a saved key the demo cannot issue again is replaced, and it says so loudly
    raw = json.loads(config.read_text(encoding="utf-8"))
    raw["profiles"]["buyer"]["key"] = "sk_not-a-key"
    config.write_text(json.dumps(raw), encoding="utf-8")
    third = run(args, env)
    assert third.returncode == 0, third.stderr
    assert "NEW API keys for buyer" in third.stderr
    now = saved(config)
    assert now["buyer"] != "sk_not-a-key" and now["operator"] == keys["operator"]
    with db.transaction() as session:
        assert authenticate(session, now["buyer"]).role == OrgRole.BUYER


def _replaying(url: str) -> bool:
    """Whether the demo at ``url`` is past its setup, into the replay (a plain engine:
    the suite's SQLite engine would take the write lock to read)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(text("SELECT COUNT(*) FROM requests")) or 0) > 5
    except Exception:  # the tables are being made
        return False
    finally:
        engine.dispose()


def test_ctrl_c_during_the_replay_says_what_is_left_and_exits_130(
    db: Database, tmp_path: Path
) -> None:
    env = demo_env(tmp_path / "config.json")
    with demo(["--db", db.url, "--no-serve"], env, tmp_path / "demo") as running:
        wait_until(lambda: _replaying(db.url), timeout=120, interval=0.2)
        assert running.interrupt() == 130
        lines = [line for line in running.stderr.splitlines() if "interrupted" in line]
    assert lines == [
        f"interrupted: {db.url} holds a partly built demo exchange; run `suanli demo` "
        "again to start over cleanly"
    ]
    again = run(["--db", db.url, "--no-serve", "--requests", "5"], env)
    assert again.returncode == 0, again.stderr


def test_one_demo_per_database(db: Database) -> None:
    held = DemoLock.acquire(db)
    try:
        with pytest.raises(DemoBusyError) as refused:
            DemoLock.acquire(db)
        assert refused.value.pid is not None
    finally:
        held.release()
    DemoLock.acquire(db).release()  # free again


def test_a_lease_whose_time_is_up_while_serving_ends(db: Database) -> None:
    settings = Settings()
    demo_run = run_demo(db, requests=5)
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    buyer = Principal(demo_run.tour.buyer_id, OrgRole.BUYER)
    provider = demo_run.tour.provider_id
    with db.transaction() as session:
        # a center of the provider's own (not the demo's): nobody simulates its agent
        capacity = CapacityService(session, clock, Principal(provider, OrgRole.PROVIDER))
        own = capacity.register_center(CenterIn(name="By hand", province="西藏", city="拉萨"))
        capacity.add_pool(
            own.id, PoolIn(name="p800", model="P800", nodes=1, cards_per_node=8, price_fen=500)
        )
        exchange = Exchange(session, clock, settings, buyer)
        short = exchange.submit(RequestIn(cards=1, min_memory_gb=16, duration_s=60))
        manual = exchange.submit(RequestIn(cards=1, provinces=["西藏"], duration_s=60))
        short_lease = work_repo.live_lease_of(session, short.id)
        manual_lease = work_repo.live_lease_of(session, manual.id)
        assert short_lease is not None and manual_lease is not None
        assert short_lease.center_id in demo_run.center_ids
        assert manual_lease.center_id == own.id
        ids = short_lease.id, manual_lease.id

    def status(lease_id: int) -> LeaseStatus:
        with db.transaction() as session:
            found = session.get(Lease, lease_id)
            assert found is not None
            return found.status

    centers = SimulatedCenters(db, clock, settings, demo_run.center_ids, interval=0.02)
    centers.start()
    try:
        wait_until(lambda: status(ids[0]) is LeaseStatus.RUNNING)
        clock.advance(59)
        time.sleep(0.2)
        assert status(ids[0]) is LeaseStatus.RUNNING  # a second to go
        clock.advance(1)
        wait_until(lambda: status(ids[0]) is LeaseStatus.COMPLETED)
    finally:
        centers.stop()
    assert status(ids[1]) is LeaseStatus.PLACED  # its provider starts it, not the demo
    with db.transaction() as session:
        used = session.scalar(
            select(func.sum(UsageRecord.card_seconds)).where(UsageRecord.lease_id == ids[0])
        )
        lease = session.get(Lease, ids[0])
        assert lease is not None
        assert used == 60 and lease.charged_fen > 0 and lease.end_reason == "job finished"
