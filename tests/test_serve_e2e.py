"""The whole flow against a real ``suanli serve`` process, driven by the CLI and the SDK.

Runs on whatever database the suite uses (SQLite by default, PostgreSQL under
``SUANLI_TEST_DATABASE_URL``): register center -> add pool -> top up -> submit request ->
lease placed -> started -> usage recorded -> completed -> buyer charged, provider credited.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from conftest import assert_books_balance, balance
from suanli.exchange.schemas import UsageIn
from suanli.kit.money import fee_fen, usage_cost_fen
from suanli.sdk import Client
from suanli.store import Database
from suanli.vocab import AccountKind, LeaseStatus, RequestStatus


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "suanli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


@pytest.fixture
def served(db: Database, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    env = {**os.environ, "SUANLI_CONFIG": str(tmp_path / "config.json")}
    env.pop("SUANLI_API_KEY", None)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    url_db = db.engine.url.render_as_string(hide_password=False)
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "suanli", "serve", "--db", url_db, "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"suanli serve did not start: {proc.stderr.read() if proc.stderr else ''}"
                )
            time.sleep(0.1)
        yield url, {**env, "SUANLI_URL": url, "SUANLI_DB": url_db}
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        log.close()


def test_flow_against_suanli_serve(db: Database, served: tuple[str, dict[str, str]]) -> None:
    url, env = served
    init = _cli("admin", "init", "--db", env["SUANLI_DB"], "--json", env=env)
    assert init.returncode == 0, init.stderr
    operator = json.loads(init.stdout)["key"]

    def org(name: str, role: str) -> str:
        made = _cli(
            "--key",
            operator,
            "admin",
            "create-org",
            name,
            "--role",
            role,
            "--db",
            env["SUANLI_DB"],
            "--json",
            env=env,
        )
        assert made.returncode == 0, made.stderr
        key = _cli("admin", "create-key", name, "--db", env["SUANLI_DB"], "--json", env=env)
        assert key.returncode == 0, key.stderr
        return str(json.loads(key.stdout)["key"])

    provider_key, buyer_key = org("Guiyang Compute", "provider"), org("Tiny Labs", "buyer")

    def as_(key: str, *args: str) -> dict[str, object]:
        done = _cli("--key", key, *args, "--json", env=env)
        assert done.returncode == 0, done.stderr
        parsed: dict[str, object] = json.loads(done.stdout)
        return parsed

    center = as_(
        provider_key, "center", "register", "Guiyang-2", "--province", "贵州", "--city", "贵阳"
    )
    pool = as_(
        provider_key,
        "pool",
        "add",
        str(center["id"]),
        "h800-a",
        "--model",
        "H800",
        "--nodes",
        "2",
        "--cards-per-node",
        "8",
        "--price",
        "11.50",
        "--intra",
        "nvlink",
        "--inter",
        "infiniband",
    )
    assert pool["cards_free"] == 16
    as_(buyer_key, "wallet", "topup", "10000")
    request = as_(
        buyer_key,
        "request",
        "submit",
        "--cards",
        "4",
        "--model",
        "H800",
        "--hours",
        "2",
        "--max-price",
        "12",
    )
    assert request["status"] == RequestStatus.PLACED
    lease_id = int(str(request["lease_id"]))

    with Client(url, provider_key) as provider, Client(url, buyer_key) as buyer:
        lease = buyer.get_lease(lease_id)
        assert (lease.status, lease.cards, lease.price_fen) == (LeaseStatus.PLACED, 4, 1150)
        hold = usage_cost_fen(4 * 2 * 3600, 1150)
        assert lease.hold_fen == hold == 9200
        started = provider.start_lease(lease_id).started_at
        assert started is not None
        time.sleep(1.1)
        card_seconds = 4
        provider.record_usage(
            lease_id,
            UsageIn(
                card_seconds=card_seconds,
                period_start=started,
                period_end=datetime.now(UTC),
                external_id="meter-1",
            ),
        )
        done = provider.complete_lease(lease_id)
        assert done.status is LeaseStatus.COMPLETED
        charge = usage_cost_fen(card_seconds, 1150)
        assert done.charged_fen == charge
        wallet = buyer.wallet()
        assert (wallet.available_fen, wallet.escrow_fen) == (1_000_000 - charge, 0)
        earned = provider.wallet().earnings_fen
        assert earned == charge - fee_fen(charge, Decimal("0.05"))
        assert [t.to_status for t in buyer.get_lease(lease_id).transitions] == [
            LeaseStatus.PENDING,
            LeaseStatus.PLACED,
            LeaseStatus.RUNNING,
            LeaseStatus.COMPLETED,
        ]
    assert balance(db, None, AccountKind.FEE) == fee_fen(charge, Decimal("0.05"))
    assert_books_balance(db)
