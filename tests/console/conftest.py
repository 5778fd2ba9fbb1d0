"""The console in a real browser: Debian's chromium driven by Playwright.

One demo exchange (the very ``suanli demo`` data) is served
for the whole module group; each test gets a fresh browser context (no key stored) and a
guard that records every request the page makes: anything not to the server fails the
test. Screenshots go to ``$SUANLI_ARTIFACTS/console/`` (default ``artifacts/``).

Without chromium at :data:`CHROMIUM` the tests are skipped, except under ``CI=true``,
where that is a failure (``.ci/run`` installs it).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Route, sync_playwright
from tests.conftest import IN_CI, LiveServer, fresh_database, start_server

from suanli.demo.runner import run_demo
from suanli.store import Database

CHROMIUM = Path(os.environ.get("SUANLI_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(os.environ.get("SUANLI_ARTIFACTS", "artifacts")) / "console"


@dataclass
class Demo:
    url: str
    keys: dict[str, str]
    db: Database


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """The demo's exchange (on the suite's database: SQLite, or PostgreSQL when the run
    names one), served with a queue pass every second. The replay stops after the
    day's first 600 requests: every page has data, in a fraction of the time."""
    with fresh_database(tmp_path_factory.mktemp("console")) as db:
        run = run_demo(db, requests=600)
        live: LiveServer = start_server(db, tick_seconds=1.0)
        try:
            yield Demo(live.url, run.keys, db)
        finally:
            live.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Module scope on purpose: while Playwright's sync API is open it keeps an asyncio
    loop marked running on this thread, and any other test the worker runs meanwhile
    (the CLI's in-process transport, anything calling ``asyncio.run``) fails with
    "Cannot run the event loop while another loop is running"."""
    if not CHROMIUM.exists() and shutil.which(str(CHROMIUM)) is None:
        message = f"no chromium at {CHROMIUM} (apt-get install chromium)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as pw:
        launched = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Guarded:
    """A page and every URL it asked for; ``outside`` lists those not to the server."""

    page: Page
    base: str
    seen: list[str] = field(default_factory=list)

    @property
    def outside(self) -> list[str]:
        return [
            u
            for u in self.seen
            if not (u.startswith(self.base + "/") or u.startswith(("data:", "blob:")))
        ]


@pytest.fixture
def guarded(browser: Browser, demo_site: Demo) -> Iterator[Guarded]:
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(20_000)
    guard = Guarded(page, demo_site.url)
    page.on("request", lambda request: guard.seen.append(request.url))

    def refuse(route: Route) -> None:
        url = route.request.url
        if url.startswith(demo_site.url + "/") or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", refuse)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield guard
    finally:
        context.close()
    assert not guard.outside, f"requests outside the server: {guard.outside}"
    assert not errors, f"JavaScript errors: {errors}"


def login(guard: Guarded, key: str) -> None:
    page = guard.page
    page.goto(guard.base + "/console/")
    page.get_by_test_id("key").fill(key)
    page.get_by_test_id("login").click()
    page.get_by_test_id("logout").wait_for(state="visible")


def screenshot(guard: Guarded, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    guard.page.screenshot(path=str(path), full_page=True)
    return path
