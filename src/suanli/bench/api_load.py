"""``suanli bench api``: the whole exchange under many concurrent clients.

1. A copy of the demo exchange: built once per database server (PostgreSQL: a template
   database; SQLite: a file beside the target) and copied for each run, so every run
   starts from the same state.
2. An API key for each demo buyer, then ``suanli serve --workers N`` on the copy, as an
   operator would run it.
3. ``clients`` concurrent clients (one asyncio task each, keep-alive connections), each a
   demo buyer, for ``seconds``: submits (half the calls), cancels of their own earlier
   requests, top-ups and reads (the request list, the market), with seeded choices.
4. The server stopped, the copy audited: the ledger's invariants (``audit_ledger``) and
   no node promised more cards than it has.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from random import Random
from typing import Any

import aiohttp
import httpx
from sqlalchemy.engine import make_url

from suanli.store import Database, orgs_repo, work_repo
from suanli.store.db import recreate_postgres_database
from suanli.store.migrate import MIGRATIONS
from suanli.vocab import OrgRole

TEMPLATE_MARK = "bench_api_template"
TEMPLATE_VERSION = "1"
"""Bump when the demo changes in a way the benchmark's figures should not straddle."""

Progress = Callable[[str], None]


@dataclass
class Tally:
    """What the clients saw."""

    calls: int = 0
    submits: int = 0
    submit_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors_5xx: int = 0
    failures: int = 0
    """Calls that got no HTTP answer at all (connection refused or reset, timeout)."""


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# -- 1. the copy of the demo ---------------------------------------------------------------


def _build_demo(db: Database, progress: Progress) -> None:
    from suanli.demo.runner import run_demo

    db.migrate()
    progress("building the demo exchange (once per database server)")
    run_demo(db)
    with db.transaction() as session:
        orgs_repo.set_meta(session, TEMPLATE_MARK, _template_version())


def _template_version() -> str:
    """The template's mark: stale once the schema gains a migration."""
    newest = max(p.stem for p in (MIGRATIONS / "versions").glob("[0-9]*.py"))
    return f"{TEMPLATE_VERSION}:{newest}"


def _is_template(db: Database) -> bool:
    try:
        with db.transaction() as session:
            return orgs_repo.get_meta(session, TEMPLATE_MARK) == _template_version()
    except Exception:  # no schema yet
        return False


def prepare_copy(url: str, progress: Progress) -> Database:
    """The database at ``url``, made a fresh copy of the demo exchange."""
    target = Database(url)
    if target.dialect == "postgresql":
        name = make_url(target.url).database or "suanli_bench"
        template_url = (
            make_url(target.url)
            .set(database=f"{name}_template")
            .render_as_string(hide_password=False)
        )
        target.dispose()
        template = Database(template_url)
        if not _is_template(template):
            template.dispose()
            recreate_postgres_database(template_url)
            template = Database(template_url)
            _build_demo(template, progress)
        template.dispose()
        recreate_postgres_database(url, template=f"{name}_template")
        return Database(url)
    path = Path(make_url(target.url).database or "bench.db")
    target.dispose()
    template_path = path.with_name(path.name + ".template")
    template = Database(f"sqlite:///{template_path}")
    if not _is_template(template):
        template.dispose()
        template_path.unlink(missing_ok=True)
        template = Database(f"sqlite:///{template_path}")
        _build_demo(template, progress)
    template.dispose()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(template_path, path)
    return Database(f"sqlite:///{path}")


# -- 2. keys and the server ----------------------------------------------------------------


def buyer_keys(db: Database) -> list[str]:
    """A fresh API key for every buyer organization of the copy."""
    from suanli.kit.clock import SystemClock
    from suanli.orgs.service import create_key

    clock = SystemClock()
    with db.transaction() as session:
        buyers = orgs_repo.listing(session, OrgRole.BUYER)
        return [create_key(session, clock, org.id, "bench").secret for org in buyers]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def running_server(url: str, workers: int, port: int) -> Iterator[str]:
    """``suanli serve`` on ``url`` until the block ends (SIGTERM, then SIGKILL)."""
    command = [sys.executable, "-m", "suanli", "serve", "--db", url, "--port", str(port)]
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed below, after the server
    proc = subprocess.Popen(
        [*command, "--workers", str(workers)],
        stdout=subprocess.DEVNULL,
        stderr=log,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                log.seek(0)
                said = log.read().decode(errors="replace")[-500:]
                raise RuntimeError(f"suanli serve exited ({proc.returncode}): {said}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("suanli serve did not answer within 120 s")
            time.sleep(0.2)
        yield base
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        log.close()


# -- 3. the clients ------------------------------------------------------------------------


async def _call(
    http: aiohttp.ClientSession, method: str, path: str, headers: dict[str, str], **kw: Any
) -> tuple[int, Any]:
    async with http.request(method, path, headers=headers, **kw) as answer:
        body = await answer.json(content_type=None) if answer.status == 201 else None
        await answer.read()
        return answer.status, body


async def _client(
    http: aiohttp.ClientSession, key: str, rng: Random, until: float, tally: Tally
) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    mine: list[int] = []
    while time.monotonic() < until:
        roll = rng.random()
        started = time.perf_counter()
        submit = False
        try:
            if roll < 0.5:
                submit = True
                body = {
                    "cards": rng.choice((1, 1, 1, 2, 4, 8)),
                    "duration_s": rng.choice((600, 1800, 3600, 7200)),
                }
                status, created = await _call(http, "POST", "/v1/requests", headers, json=body)
                if status == 201:
                    mine.append(int(created["id"]))
            elif roll < 0.65 and mine:
                rid = mine.pop(rng.randrange(len(mine)))
                status, _ = await _call(http, "POST", f"/v1/requests/{rid}/cancel", headers)
            elif roll < 0.75:
                topup = {"amount_fen": rng.randint(100, 100_000)}
                status, _ = await _call(http, "POST", "/v1/wallet/topup", headers, json=topup)
            elif roll < 0.9:
                status, _ = await _call(http, "GET", "/v1/requests", headers, params={"limit": 20})
            else:
                status, _ = await _call(http, "GET", "/v1/offers", headers, params={"min_free": 1})
        except (TimeoutError, aiohttp.ClientError):
            tally.calls += 1
            tally.failures += 1
            continue
        elapsed = (time.perf_counter() - started) * 1000
        tally.calls += 1
        tally.statuses[status] = tally.statuses.get(status, 0) + 1
        if status >= 500:
            tally.errors_5xx += 1
        if submit and status == 201:
            tally.submits += 1
            tally.submit_ms.append(elapsed)


async def drive(base: str, keys: list[str], clients: int, seconds: float, seed: int) -> Tally:
    """``clients`` concurrent buyers for ``seconds``. The client is aiohttp: at 50
    connections it spends about a twentieth of the CPU per call that httpx's pool does,
    which on a small machine would otherwise be taken from the server it measures."""
    tally = Tally()
    connector = aiohttp.TCPConnector(limit=clients)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(base, connector=connector, timeout=timeout) as http:
        until = time.monotonic() + seconds
        await asyncio.gather(
            *(
                _client(http, keys[i % len(keys)], Random(seed * 7919 + i), until, tally)
                for i in range(clients)
            )
        )
    return tally


# -- 4. the audit --------------------------------------------------------------------------


def audit(db: Database) -> tuple[bool, int, list[str]]:
    """Whether the ledger audits clean, the cards oversold, and the audit's findings."""
    from suanli.ledger.audit import audit_ledger

    with db.transaction() as session:
        found = audit_ledger(session, None)
        oversold = work_repo.oversold_cards(session)
    problems = [f"{name}: {items[:3]}" for name, items in found.details.items() if items]
    return found.ok, oversold, problems


@dataclass
class ApiBench:
    requests_per_s: float
    submits_per_s: float
    submit_p50_ms: float
    submit_p99_ms: float
    errors_5xx: int
    oversold_cards: int
    audit_ok: bool
    calls: int
    no_answer: int
    statuses: dict[int, int]
    workers: int
    clients: int
    seconds: float
    database: str
    audit_findings: list[str]


def run_api_bench(
    url: str,
    *,
    workers: int,
    clients: int,
    seconds: float,
    seed: int = 1,
    progress: Progress | None = None,
) -> ApiBench:
    say = progress or (lambda _: None)
    db = prepare_copy(url, say)
    keys = buyer_keys(db)
    dialect = db.dialect
    db.dispose()
    say(f"serving {dialect} with {workers} process(es); {clients} clients for {seconds:g} s")
    with running_server(url, workers, free_port()) as base:
        started = time.monotonic()
        tally = asyncio.run(drive(base, keys, clients, seconds, seed))
        took = time.monotonic() - started
    say("auditing the books and the nodes")
    db = Database(url)
    try:
        ok, oversold, findings = audit(db)
    finally:
        db.dispose()
    return ApiBench(
        requests_per_s=round(tally.calls / took, 1),
        submits_per_s=round(tally.submits / took, 1),
        submit_p50_ms=round(statistics.median(tally.submit_ms), 1) if tally.submit_ms else 0.0,
        submit_p99_ms=round(_percentile(tally.submit_ms, 0.99), 1),
        errors_5xx=tally.errors_5xx,
        oversold_cards=oversold,
        audit_ok=ok,
        calls=tally.calls,
        no_answer=tally.failures,
        statuses=dict(sorted(tally.statuses.items())),
        workers=workers,
        clients=clients,
        seconds=round(took, 1),
        database=dialect,
        audit_findings=findings,
    )
