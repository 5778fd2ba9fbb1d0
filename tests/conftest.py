"""Shared fixtures and helpers for the suanli test suite.

* ``db``: a fresh, migrated database per test. SQLite file in ``tmp_path`` by default;
  with ``SUANLI_TEST_DATABASE_URL`` set to a PostgreSQL URL, a scratch database is
  created on that server for each test and dropped afterwards.
* ``pg_url``: a scratch PostgreSQL database for tests that need PostgreSQL whatever
  ``SUANLI_TEST_DATABASE_URL`` says (marker ``postgres``). Skipped if no server answers,
  except under ``CI=true``, where that is a failure.
* ``serve`` / ``live_server``: uvicorn running ``create_app(db)`` in a thread on a free
  loopback port; tests talk to it with :class:`suanli.sdk.Client` or raw ``httpx``.
* ``market``: the live server plus an operator (made directly in the database) and
  factories for buyers and providers (made through the API).

Test modules import the plain helpers (``make_center``, ``wait_until``, ...) from here.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import uvicorn
from hypothesis import settings as hypothesis_settings
from psycopg import sql
from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url

from suanli.api import create_app
from suanli.capacity.schemas import CenterIn, CenterOut, PoolIn, PoolOut
from suanli.exchange.schemas import RequestIn, RequestOut
from suanli.kit.clock import Clock, ManualClock, SystemClock
from suanli.ledger import Ledger
from suanli.orgs.schemas import OrgIn
from suanli.orgs.service import create_key, create_org
from suanli.sdk import Client
from suanli.settings import Settings
from suanli.store import Database
from suanli.store.base import Base
from suanli.store.models import Account, Posting
from suanli.vocab import AccountKind, OrgRole

TEST_DB_ENV = "SUANLI_TEST_DATABASE_URL"
PG_ADMIN_ENV = "SUANLI_TEST_PG_URL"
DEFAULT_PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
IN_CI = os.environ.get("CI", "").lower() == "true"

# No example database in the work tree; no wall-clock deadlines on a shared 2-core box;
# the same examples on every CI run.
hypothesis_settings.register_profile("suanli", database=None, deadline=None)
hypothesis_settings.register_profile("suanli-ci", database=None, deadline=None, derandomize=True)
hypothesis_settings.load_profile("suanli-ci" if IN_CI else "suanli")

# Hypothesis writes a patch file for each failing example, importing libcst where it is
# installed; libcst warns (DeprecationWarning) on import, which warnings-as-errors turn
# into an INTERNALERROR that ends the whole run. Import it once here, quietly, and keep
# failing examples in the report only (no patch files in the work tree).
with warnings.catch_warnings(), contextlib.suppress(ImportError):
    warnings.simplefilter("ignore")
    import hypothesis.extra._patching  # noqa: F401


DATABASE_FREE = ("engine", "sim", "catalog", "bench")
"""Test folders that never open a database: run once, in the suite's SQLite pass. When
the suite's database is PostgreSQL they are deselected (pytest says how many), so the
PostgreSQL pass spends its time on what the database changes."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    url = os.environ.get(TEST_DB_ENV, "")
    if not (url and _is_postgres(url)):
        return
    here = Path(__file__).resolve().parent
    free = tuple(here / name for name in DATABASE_FREE)
    kept, dropped = [], []
    for item in items:
        path = Path(item.path)
        (dropped if any(path.is_relative_to(f) for f in free) else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item) -> None:
    """Drop Hypothesis's failing-example patch request (the report still shows them)."""
    if hasattr(item, "_hypothesis_failing_examples"):
        delattr(item, "_hypothesis_failing_examples")


@pytest.fixture(autouse=True)
def _xdist_group_kept(request: pytest.FixtureRequest) -> None:
    """Fail a grouped test that ``--dist loadgroup`` did not keep in its group.

    The groups keep the concurrency tests on one worker (a bounded connection count),
    the Slurm tests off each other's jobs and the console's demo exchange built once.
    xdist passes a group by appending ``@name`` to the test id; with pytest 9.2 that
    append silently no longer takes (pytest-xdist issue 1386, hence the pin in
    pyproject) and the tests are spread as if unmarked, passing or failing by the luck
    of ordering. Under a loadgroup worker a grouped test without ``@`` fails here.
    """
    config = request.config
    node = request.node
    if (
        hasattr(config, "workerinput")
        and config.getvalue("loadgroup")
        and node.get_closest_marker("xdist_group") is not None
        and "@" not in node.nodeid
    ):
        pytest.fail(
            f"--dist loadgroup ignored the xdist_group of {node.nodeid}: this pytest and "
            "pytest-xdist do not keep groups together (see pyproject's pytest pin)"
        )


# -- databases ---------------------------------------------------------------------------


def _libpq(url: str, database: str) -> str:
    """A psycopg conninfo for ``database`` on the server of the SQLAlchemy ``url``."""
    parsed = make_url(url).set(drivername="postgresql", database=database)
    return parsed.render_as_string(hide_password=False)


def _scratch_name(prefix: str) -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return f"{prefix}_{worker}_{uuid.uuid4().hex[:12]}".lower()[:63]


@contextlib.contextmanager
def scratch_postgres(server_url: str, prefix: str) -> Iterator[str]:
    """Create an empty database on the server of ``server_url``; drop it afterwards.

    Yields its SQLAlchemy URL. Names carry the xdist worker and a random part, so
    parallel workers and runs never collide.
    """
    admin = _libpq(server_url, "postgres")
    name = _scratch_name(prefix)
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = make_url(server_url).set(drivername="postgresql+psycopg", database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _is_postgres(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


@contextlib.contextmanager
def fresh_database(directory: Path) -> Iterator[Database]:
    """A fresh, migrated database: PostgreSQL scratch or a SQLite file in ``directory``."""
    url = os.environ.get(TEST_DB_ENV, "")
    if url and _is_postgres(url):
        prefix = make_url(url).database or "suanli_test"
        with scratch_postgres(url, prefix) as scratch:
            database = Database(scratch)
            try:
                database.migrate()
                yield database
            finally:
                database.dispose()
        return
    database = Database(f"sqlite:///{directory / 'suanli.db'}")
    try:
        database.migrate()
        yield database
    finally:
        database.dispose()


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    """A fresh, migrated database for one test (see the module docstring)."""
    with fresh_database(tmp_path) as database:
        yield database


@pytest.fixture(scope="module")
def module_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """One database shared by a module's tests (for read-only or refused calls)."""
    with fresh_database(tmp_path_factory.mktemp("db")) as database:
        yield database


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A scratch PostgreSQL database (empty, not migrated) for tests that need one."""
    admin = os.environ.get(PG_ADMIN_ENV, DEFAULT_PG_ADMIN)
    try:
        with psycopg.connect(_libpq(admin, "postgres"), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as exc:
        message = f"PostgreSQL is not reachable at {make_url(admin)!r}: {exc}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    with scratch_postgres(admin, "suanli_pg") as url:
        yield url


@pytest.fixture
def pg_db(pg_url: str) -> Iterator[Database]:
    """A migrated scratch PostgreSQL database (see ``pg_url``)."""
    database = Database(pg_url)
    try:
        database.migrate()
        yield database
    finally:
        database.dispose()


def row_counts(db: Database) -> dict[str, int]:
    """Rows in every table, for "nothing was written" checks."""
    with db.transaction() as session:
        return {
            table.name: int(session.scalar(select(func.count()).select_from(table)) or 0)
            for table in Base.metadata.sorted_tables
        }


def unbalanced_transactions(db: Database) -> list[tuple[int, int]]:
    """Ledger transactions whose postings do not sum to zero, with their sums."""
    with db.transaction() as session:
        stmt = (
            select(Posting.transaction_id, func.sum(Posting.amount))
            .group_by(Posting.transaction_id)
            .having(func.sum(Posting.amount) != 0)
        )
        return [(int(t), int(s)) for t, s in session.execute(stmt)]


def negative_floored_accounts(db: Database) -> list[tuple[int, str, int]]:
    """Accounts with a floor whose balance is below zero."""
    with db.transaction() as session:
        stmt = (
            select(Account.id, Account.kind, func.sum(Posting.amount))
            .join(Posting, Posting.account_id == Account.id)
            .where(Account.has_floor.is_(True))
            .group_by(Account.id, Account.kind)
            .having(func.sum(Posting.amount) < 0)
        )
        return [(int(a), str(k), int(s)) for a, k, s in session.execute(stmt)]


def postings_total(db: Database) -> int:
    with db.transaction() as session:
        return int(session.scalar(select(func.coalesce(func.sum(Posting.amount), 0))) or 0)


def balance(db: Database, owner_id: int | None, kind: AccountKind) -> int:
    """An account's balance read straight from the postings."""
    with db.transaction() as session:
        return Ledger(session, SystemClock()).balance(owner_id, kind)


def assert_books_balance(db: Database) -> None:
    """Every ledger transaction sums to zero and no floored account is negative."""
    assert unbalanced_transactions(db) == []
    assert negative_floored_accounts(db) == []
    assert postings_total(db) == 0


@contextlib.contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """The SQL sent to ``db`` while the block runs (a server in this process included)."""
    seen: list[str] = []

    def collect(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", collect)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", collect)


def wait_until(
    predicate: Callable[[], bool], *, timeout: float = 10.0, interval: float = 0.02
) -> None:
    """Poll ``predicate`` until it holds; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"condition not reached within {timeout} s")
        time.sleep(interval)


# -- the live server ---------------------------------------------------------------------


@dataclass
class LiveServer:
    url: str
    server: uvicorn.Server
    thread: threading.Thread
    sock: socket.socket

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.sock.close()


def start_server(
    db: Database,
    *,
    clock: Clock | None = None,
    settings: Settings | None = None,
    tick_seconds: float | None = None,
) -> LiveServer:
    """``create_app(db)`` under uvicorn in a background thread; returns once it answers."""
    app = create_app(db, clock=clock, settings=settings, tick_seconds=tick_seconds)
    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY only on sockets that say so; without
    # it every response waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="on",
        ws="none",
        http="h11",
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"uvicorn-{port}", daemon=True
    )
    thread.start()
    live = LiveServer(f"http://127.0.0.1:{port}", server, thread, sock)
    deadline = time.monotonic() + 15
    with httpx.Client(base_url=live.url, timeout=2) as probe:
        while True:
            if not thread.is_alive():
                sock.close()
                pytest.fail("the API server thread died while starting")
            if server.started:
                try:
                    if probe.get("/healthz").status_code == 200:
                        return live
                except httpx.TransportError:
                    pass
            if time.monotonic() > deadline:
                live.stop()
                pytest.fail("the API server did not answer /healthz within 15 s")
            time.sleep(0.01)


@pytest.fixture
def serve() -> Iterator[Callable[..., str]]:
    """Start live servers on demand (``serve(db, clock=..., settings=...)`` -> base URL)."""
    servers: list[LiveServer] = []

    def start(
        db: Database,
        *,
        clock: Clock | None = None,
        settings: Settings | None = None,
        tick_seconds: float | None = None,
    ) -> str:
        live = start_server(db, clock=clock, settings=settings, tick_seconds=tick_seconds)
        servers.append(live)
        return live.url

    yield start
    for live in servers:
        live.stop()


@pytest.fixture
def clock() -> ManualClock:
    """The server's clock: it moves only when a test advances it."""
    return ManualClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def live_server(db: Database, clock: ManualClock, serve: Callable[..., str]) -> str:
    return serve(db, clock=clock)


# -- parties and factories ----------------------------------------------------------------


@dataclass
class Party:
    """An organization with an API key and a client that uses it."""

    org_id: int
    name: str
    key: str
    client: Client


class Market:
    """A live exchange: its server URL, database, clock, operator and party factories."""

    def __init__(self, db: Database, url: str, clock: ManualClock) -> None:
        self.db = db
        self.url = url
        self.clock = clock
        self._clients: list[Client] = []
        self._raw: list[httpx.Client] = []
        with db.transaction() as session:
            org = create_org(
                session,
                SystemClock(),
                name=f"operator-{uuid.uuid4().hex[:8]}",
                role=OrgRole.OPERATOR,
            )
            issued = create_key(session, SystemClock(), org.id, "tests")
        self.operator = Party(org.id, org.name, issued.secret, self.client(issued.secret))

    def client(self, key: str | None = None) -> Client:
        client = Client(self.url, api_key=key)
        self._clients.append(client)
        return client

    def http(self) -> httpx.Client:
        """A raw HTTP client (for malformed input); closed with the market."""
        raw = httpx.Client(base_url=self.url, timeout=30)
        self._raw.append(raw)
        return raw

    def party(self, role: OrgRole, name: str | None = None) -> Party:
        org = self.operator.client.create_org(
            OrgIn(name=name or f"{role}-{uuid.uuid4().hex[:8]}", role=role)
        )
        key = self.operator.client.create_key(org.id, "tests").key
        return Party(org.id, org.name, key, self.client(key))

    def buyer(self, *, name: str | None = None, topup_fen: int = 0) -> Party:
        buyer = self.party(OrgRole.BUYER, name)
        if topup_fen:
            buyer.client.topup(topup_fen)
        return buyer

    def provider(self, *, name: str | None = None) -> Party:
        return self.party(OrgRole.PROVIDER, name)

    def close(self) -> None:
        for client in self._clients:
            client.close()
        for raw in self._raw:
            raw.close()


@pytest.fixture
def make_market(
    serve: Callable[..., str], clock: ManualClock
) -> Iterator[Callable[[Database], Market]]:
    """Markets over any database (for example a PostgreSQL one from ``pg_url``)."""
    markets: list[Market] = []

    def make(db: Database) -> Market:
        market = Market(db, serve(db, clock=clock), clock)
        markets.append(market)
        return market

    yield make
    for market in markets:
        market.close()


@pytest.fixture(scope="module")
def module_http(module_db: Database) -> Iterator[httpx.Client]:
    """A live server over ``module_db`` and a plain HTTP client to it (no key set)."""
    live = start_server(module_db)
    try:
        with httpx.Client(base_url=live.url, timeout=30) as http:
            yield http
    finally:
        live.stop()


@pytest.fixture(scope="module")
def module_market(module_db: Database) -> Iterator[Market]:
    """A live exchange over ``module_db``, shared by a module's tests."""
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    live = start_server(module_db, clock=clock)
    market = Market(module_db, live.url, clock)
    try:
        yield market
    finally:
        market.close()
        live.stop()


@pytest.fixture
def market(db: Database, live_server: str, clock: ManualClock) -> Iterator[Market]:
    """A live exchange over the test's database."""
    market = Market(db, live_server, clock)
    yield market
    market.close()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def center_fields(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "name": unique("center"),
        "province": "贵州",
        "city": "贵阳",
        "pue": Decimal("1.25"),
        "rack_kw": Decimal("20"),
    }
    fields.update(overrides)
    return fields


def pool_fields(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "name": unique("pool"),
        "model": "H800",
        "nodes": 2,
        "cards_per_node": 8,
        "inter_node": "infiniband",
        "intra_node": "nvlink",
        "price_fen": 1200,
    }
    fields.update(overrides)
    return fields


def request_fields(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {"cards": 1, "duration_s": 3600}
    fields.update(overrides)
    return fields


def make_center(client: Client, **overrides: Any) -> CenterOut:
    return client.register_center(CenterIn(**center_fields(**overrides)))


def make_pool(client: Client, center_id: int, **overrides: Any) -> PoolOut:
    return client.add_pool(center_id, PoolIn(**pool_fields(**overrides)))


def make_request(client: Client, **overrides: Any) -> RequestOut:
    return client.submit_request(RequestIn(**request_fields(**overrides)))


def make_supply(market: Market, **pool_overrides: Any) -> tuple[Party, CenterOut, PoolOut]:
    """A provider with one center and one pool."""
    provider = market.provider()
    center = make_center(provider.client)
    pool = make_pool(provider.client, center.id, **pool_overrides)
    return provider, center, pool


# -- a real Slurm on this machine (scripts/slurm/up.sh) -----------------------------------


SLURM_DIR_ENV = "SUANLI_SLURM_DIR"
SLURM_UP = Path(__file__).resolve().parents[1] / "scripts" / "slurm" / "up.sh"


@dataclass(frozen=True)
class SlurmCluster:
    """The one-machine Slurm that ``scripts/slurm/up.sh`` runs: its config and shape."""

    directory: Path
    conf: Path
    partition: str
    nodes: int
    gpus_per_node: int
    gpu_type: str
    env: dict[str, str]
    """What the Slurm tools need (``SLURM_CONF``), to add to a subprocess environment."""


def _slurm_env_file(directory: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    with contextlib.suppress(OSError):
        for line in (directory / "env").read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep:
                values[key.strip()] = value.strip()
    return values


def _slurm_answers(values: dict[str, str]) -> bool:
    """scontrol, sinfo and sacct all answer with this config."""
    import subprocess  # here, not at the top: this block is appended to the module

    if "SLURM_CONF" not in values:
        return False
    env = {**os.environ, "SLURM_CONF": values["SLURM_CONF"]}
    probes = [["scontrol", "ping"], ["sinfo", "-h", "-o", "%T"], ["sacct", "-n", "-X", "-S", "now"]]
    for probe in probes:
        try:
            done = subprocess.run(probe, env=env, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return False
        if done.returncode != 0 or (probe[0] == "scontrol" and "is UP" not in done.stdout):
            return False
    return True


SLURM_DOWN = SLURM_UP.with_name("down.sh")


@pytest.fixture(scope="session")
def slurm() -> Iterator[SlurmCluster]:
    """A running Slurm (marker ``slurm``): started with ``scripts/slurm/up.sh`` unless it
    already answers, and then stopped again with ``scripts/slurm/down.sh`` when the
    session ends (one that was already running is left running). Skipped when it cannot
    be started, except under ``CI=true``, where that is a failure."""
    import subprocess

    directory = Path(os.environ.get(SLURM_DIR_ENV) or "/tmp/suanli-slurm")
    values = _slurm_env_file(directory)
    started = False
    if not _slurm_answers(values):
        started = True
        try:
            done = subprocess.run(
                [str(SLURM_UP)],
                env={**os.environ, SLURM_DIR_ENV: str(directory)},
                capture_output=True,
                text=True,
                timeout=300,
            )
            problem = (
                ""
                if done.returncode == 0
                else (done.stderr.strip().splitlines() or ["no output"])[-1]
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            problem = f"{SLURM_UP.name} did not finish: {exc}"
        values = _slurm_env_file(directory)
        if not problem and not _slurm_answers(values):
            problem = "up.sh finished but scontrol/sinfo/sacct do not answer"
        if problem:
            message = f"Slurm is not available: {problem}"
            if IN_CI:
                pytest.fail(message)
            pytest.skip(message)
    try:
        yield SlurmCluster(
            directory=directory,
            conf=Path(values["SLURM_CONF"]),
            partition=values.get("SUANLI_SLURM_PARTITION", "gpu"),
            nodes=int(values.get("SUANLI_SLURM_NODES", "2")),
            gpus_per_node=int(values.get("SUANLI_SLURM_GPUS_PER_NODE", "8")),
            gpu_type=values.get("SUANLI_SLURM_GPU_TYPE", "h800"),
            env={"SLURM_CONF": values["SLURM_CONF"]},
        )
    finally:
        if started:
            subprocess.run(
                [str(SLURM_DOWN)],
                env={**os.environ, SLURM_DIR_ENV: str(directory)},
                capture_output=True,
                timeout=120,
                check=False,
            )
