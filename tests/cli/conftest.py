"""The CLI against a real app on a temporary SQLite database, with no network.

``suanli.cli.context.make_client`` is replaced by a client whose transport runs the
FastAPI app in process (:class:`~.harness.AppTransport`); the app runs on a manual clock
so that lease times and usage periods are exact.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from suanli.api.app import create_app
from suanli.cli import context
from suanli.kit.clock import ManualClock
from suanli.sdk.client import Client
from suanli.store import Database

from .harness import ENV, START, AppTransport, Cli, World


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path}/t.db")
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture
def cli(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    clock = ManualClock(START)
    api = create_app(db, clock=clock)
    urls: list[str] = []

    def make_client(url: str, key: str | None) -> Client:
        urls.append(url)
        return Client("http://testserver", key, transport=AppTransport(api))

    monkeypatch.setattr(context, "make_client", make_client)
    monkeypatch.setenv("SUANLI_CONFIG", str(tmp_path / "config.json"))
    monkeypatch.setenv("COLUMNS", "200")
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    return Cli(CliRunner(), db.url, clock, urls)


@pytest.fixture
def world(cli: Cli) -> World:
    operator = cli.admin("init")["key"]
    provider_org = cli.admin("create-org", "Guiyang Compute", "--role", "provider")
    cli.admin("create-org", "Lanting AI", "--role", "buyer", "--kind", "startup")
    provider = cli.admin("create-key", str(provider_org["id"]))["key"]
    buyer = cli.admin("create-key", "Lanting AI")["key"]
    center = cli.json(
        "center", "register", "Guiyang-2", "--province", "Guizhou", "--city", "贵阳", key=provider
    )
    pool = cli.json(
        *("pool", "add", str(center["id"]), "h800-a", "--model", "H800", "--nodes", "4"),
        *("--cards-per-node", "8", "--price", "12.50", "--intra", "nvlink"),
        *("--inter", "infiniband", "--inter-gbps", "400"),
        key=provider,
    )
    return World(operator, provider, buyer, center["id"], pool["id"])
