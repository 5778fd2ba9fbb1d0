"""``/docs`` and ``/redoc`` in a real browser, with nothing reachable but the server.

Every request the page makes is recorded and anything not to the server is refused and
fails the test; so does any JavaScript error, console error or Content-Security-Policy
violation. Swagger UI must draw the API's operations under the title "suanli".
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Route
from tests.conftest import start_server

from suanli.store import Database

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("console")]


@pytest.fixture(scope="module")
def site(module_db: Database) -> Iterator[str]:
    live = start_server(module_db)
    try:
        yield live.url
    finally:
        live.stop()


@dataclass
class Watched:
    page: Page
    base: str
    seen: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def ours(self, url: str) -> bool:
        return url.startswith((self.base + "/", "data:", "blob:"))

    @property
    def outside(self) -> list[str]:
        return [u for u in self.seen if not self.ours(u)]


@pytest.fixture
def watched(browser: Browser, site: str) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    watch = Watched(page, site)
    page.on("request", lambda request: watch.seen.append(request.url))

    def refuse(route: Route) -> None:
        if watch.ours(route.request.url):
            route.continue_()
        else:
            route.abort()

    def console(message: ConsoleMessage) -> None:
        # CSP violations are reported as console errors ("Refused to ...").
        if message.type == "error" or "Content Security Policy" in message.text:
            watch.problems.append(f"console {message.type}: {message.text}")

    context.route("**/*", refuse)
    page.on("pageerror", lambda exc: watch.problems.append(f"page error: {exc}"))
    page.on("console", console)
    page.on(
        "requestfailed",
        lambda request: watch.problems.append(f"request failed: {request.url}"),
    )
    try:
        yield watch
    finally:
        context.close()
    assert not watch.outside, f"requests outside the server: {watch.outside}"
    assert not watch.problems, "\n".join(watch.problems)


def csp_violations(page: Page) -> None:
    """Record ``securitypolicyviolation`` events (the console line can be missed)."""
    page.add_init_script(
        "window.__csp = [];"
        "document.addEventListener('securitypolicyviolation', e =>"
        " window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
    )


def test_swagger_ui_renders_the_operations_offline(watched: Watched) -> None:
    page = watched.page
    csp_violations(page)
    response = page.goto(watched.base + "/docs")
    assert response is not None and response.status == 200
    assert "script-src 'self';" in (response.headers.get("content-security-policy") or "")
    page.locator(".opblock").first.wait_for(state="visible")
    assert "suanli" in page.locator(".info .title").inner_text()
    assert page.locator(".opblock").count() > 10
    assert "/healthz" in page.locator(".opblock-summary-path").all_inner_texts()
    # try an operation against this server, through the page
    page.locator("#operations-health-healthz_healthz_get .opblock-summary").click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    page.locator(".live-responses-table .response-col_status").first.wait_for()
    assert '"status": "ok"' in page.locator(".live-responses-table").inner_text()
    assert page.evaluate("window.__csp") == []
    assert any(u.endswith("/openapi.json") for u in watched.seen)


def test_redoc_renders_offline(watched: Watched) -> None:
    page = watched.page
    csp_violations(page)
    response = page.goto(watched.base + "/redoc")
    assert response is not None and response.status == 200
    page.locator(".api-info h1").wait_for(state="visible")
    assert "suanli" in page.locator(".api-info h1").inner_text()
    page.get_by_text("/healthz").first.wait_for(state="attached")
    assert page.evaluate("window.__csp") == []
