"""A wrong ``--url``: one clear line, exit status 1, no traceback.

The CLI and the SDK run against real sockets on 127.0.0.1: a closed port (the connection
is refused), a port that accepts but never answers, and small HTTP servers that are not
suanli (an HTML 404 page, another JSON API's ``{"detail": "Not Found"}``, a page that
answers 200 to everything, a broken proxy). A server whose ``/healthz`` answers like
suanli's is an exchange, and its missing route is said to be that, not "no suanli API".
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from suanli.api.app import create_app
from suanli.cli.errors import START_HINT
from suanli.kit.clock import ManualClock
from suanli.sdk.client import ApiError, Client, NotSuanliError, UnreachableError
from suanli.store import Database

from .harness import ENV, START, AppTransport, Cli

Answer = tuple[int, str, bytes]
"""HTTP status, content type and body."""


def html_404(path: str) -> Answer:
    page = b"<!DOCTYPE html><html><head><title>404 Not Found</title></head><body>no</body></html>"
    return 404, "text/html; charset=utf-8", page


def detail_404(path: str) -> Answer:
    return 404, "application/json", b'{"detail":"Not Found"}'


def everything_200(path: str) -> Answer:
    return 200, "text/html", b"<html><head><title>My app</title></head><body>hi</body></html>"


def json_200(path: str) -> Answer:
    return 200, "application/json", b'{"ok": true}'


def bad_gateway(path: str) -> Answer:
    return 502, "text/plain", b"upstream unavailable"


def old_suanli(path: str) -> Answer:
    """An exchange without the newer routes: its /healthz answers as suanli's does."""
    if path == "/healthz":
        body = {"status": "ok", "version": "0.0.9", "database": "sqlite"}
        return 200, "application/json", json.dumps(body).encode()
    return 404, "application/json", b'{"detail":"Not Found"}'


def serve(answer: Callable[[str], Answer]) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, kind, body = answer(self.path.split("?")[0])
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def closed_port() -> Iterator[str]:
    """A port bound but not listening: connecting to it is refused."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


@pytest.fixture
def silent_port() -> Iterator[str]:
    """A port that accepts connections (the kernel's backlog) but never answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


@pytest.fixture
def html_site() -> Iterator[str]:
    yield from serve(html_404)


@pytest.fixture
def detail_site() -> Iterator[str]:
    yield from serve(detail_404)


@pytest.fixture
def real_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """The CLI as users run it: the SDK's own client, over the network."""
    monkeypatch.setenv("SUANLI_CONFIG", str(tmp_path / "config.json"))
    monkeypatch.setenv("COLUMNS", "200")
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    return Cli(CliRunner(), "", ManualClock(START), [])


# -- the command line ------------------------------------------------------------------


def test_a_refused_connection_says_to_start_an_exchange(real_cli: Cli, closed_port: str) -> None:
    result = real_cli("--url", closed_port + "/", "whoami", key="sk_x", code=1)
    assert (
        result.stderr == f"error: cannot reach {closed_port} (connection refused); {START_HINT}\n"
    )
    assert "`suanli serve` or `suanli demo`" in result.stderr


def test_an_html_server_is_no_suanli_api(real_cli: Cli, html_site: str) -> None:
    result = real_cli("--url", html_site, "whoami", key="sk_x", code=1)
    assert result.stderr == (
        f"error: no suanli API at {html_site} "
        '(GET /v1/orgs/me answered HTTP 404 with an HTML page "404 Not Found")\n'
    )


def test_another_json_api_is_no_suanli_api(real_cli: Cli, detail_site: str) -> None:
    result = real_cli("--url", detail_site, "wallet", "balance", key="sk_x", code=1)
    assert result.stderr.startswith(f"error: no suanli API at {detail_site} (")
    assert '{"detail":"Not Found"}' in result.stderr


def test_a_url_without_scheme_or_with_an_unknown_host(
    real_cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = real_cli("--url", "127.0.0.1:8000", "whoami", key="sk_x", code=1)
    assert "must start with http:// or https://" in bad.stderr and "check --url" in bad.stderr
    resolve = socket.getaddrinfo

    def no_such_host(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "no-such-host.invalid":  # answered here: no resolver is asked
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return resolve(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    unknown = real_cli("--url", "http://no-such-host.invalid", "whoami", key="sk_x", code=1)
    assert unknown.stderr == (
        "error: cannot reach http://no-such-host.invalid (unknown host no-such-host.invalid); "
        "check --url (or the profile's url)\n"
    )


@pytest.mark.slow
def test_the_installed_command_prints_no_traceback(
    closed_port: str, html_site: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ENV}
    for url, expected in [(closed_port, "cannot reach"), (html_site, "no suanli API at")]:
        done = subprocess.run(
            [sys.executable, "-m", "suanli", "--url", url, "--key", "sk_x", "whoami"],
            capture_output=True,
            text=True,
            timeout=120,
            env={**env, "SUANLI_CONFIG": str(tmp_path / "config.json")},
        )
        assert done.returncode == 1, done
        assert done.stdout == ""
        assert done.stderr.startswith(f"error: {expected} {url}"), done.stderr
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr


# -- the SDK ---------------------------------------------------------------------------


def test_sdk_refused(closed_port: str) -> None:
    with Client(closed_port, "sk_x") as client, pytest.raises(UnreachableError) as refused:
        client.me()
    error = refused.value
    assert isinstance(error, ApiError) and not isinstance(error, NotSuanliError)
    assert (error.status, error.code, error.kind) == (0, "unreachable", "refused")
    assert error.url == closed_port and error.reason == "connection refused"
    assert error.message == f"cannot reach {closed_port} (connection refused)"
    assert str(error) == error.message


def test_sdk_timeout(silent_port: str) -> None:
    with (
        Client(silent_port, "sk_x", timeout=0.3) as client,
        pytest.raises(UnreachableError) as late,
    ):
        client.healthz()
    assert late.value.kind == "timeout"
    assert late.value.message == f"cannot reach {silent_port} (no answer in time)"


@pytest.mark.parametrize(
    ("answer", "status", "detail"),
    [
        (html_404, 404, 'GET /v1/orgs/me answered HTTP 404 with an HTML page "404 Not Found"'),
        (detail_404, 404, 'GET /v1/orgs/me answered HTTP 404 with {"detail":"Not Found"}'),
        (everything_200, 200, 'GET /v1/orgs/me answered HTTP 200 with an HTML page "My app"'),
        (json_200, 200, "GET /v1/orgs/me answered with JSON that is not suanli's"),
    ],
)
def test_sdk_not_suanli(answer: Callable[[str], Answer], status: int, detail: str) -> None:
    for url in serve(answer):
        with Client(url, "sk_x") as client, pytest.raises(NotSuanliError) as wrong:
            client.me()
        error = wrong.value
        assert isinstance(error, ApiError) and not isinstance(error, UnreachableError)
        assert (error.status, error.code, error.url, error.detail) == (
            status,
            "not_suanli",
            url,
            detail,
        )
        assert error.message == f"no suanli API at {url} ({detail})"


def test_sdk_a_broken_server_is_not_called_not_suanli() -> None:
    for url in serve(bad_gateway):
        with Client(url, "sk_x") as client, pytest.raises(ApiError) as failed:
            client.me()
        assert type(failed.value) is ApiError
        assert (failed.value.status, failed.value.code) == (502, "server_error")
        assert failed.value.message == (
            f"the server at {url} failed: "
            "GET /v1/orgs/me answered HTTP 502 with upstream unavailable"
        )


def test_sdk_an_exchange_without_the_route_is_an_exchange() -> None:
    for url in serve(old_suanli):
        with Client(url, "sk_x") as client, pytest.raises(ApiError) as missing:
            client.me()
        assert type(missing.value) is ApiError
        assert (missing.value.status, missing.value.code) == (404, "no_route")
        assert "(suanli 0.0.9) has no GET /v1/orgs/me" in missing.value.message


def test_sdk_suanli_errors_stay_suanli_errors(db: Database) -> None:
    api = create_app(db, clock=ManualClock(START))
    with Client("http://testserver", "sk_" + "0" * 48, transport=AppTransport(api)) as client:
        with pytest.raises(ApiError) as refused:
            client.me()
        assert type(refused.value) is ApiError
        assert (refused.value.status, refused.value.code) == (401, "unauthenticated")
        with pytest.raises(ApiError) as missing:
            client._send("GET", "/v1/no-such-route")
        assert type(missing.value) is ApiError and missing.value.code == "not_found"
        assert "no route GET /v1/no-such-route" in missing.value.message
        assert client.healthz()["status"] == "ok"
