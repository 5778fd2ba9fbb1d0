"""Helpers for the CLI tests: an in-process transport, a runner, the test world."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import anyio
import httpx
from fastapi import FastAPI
from typer.testing import CliRunner, Result

from suanli.cli.main import app as cli_app
from suanli.kit.clock import ManualClock

START = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
ENV = ("SUANLI_URL", "SUANLI_API_KEY", "SUANLI_PROFILE", "SUANLI_DATABASE_URL")


class AppTransport(httpx.BaseTransport):
    """A synchronous httpx transport that runs an ASGI app in process, to completion."""

    def __init__(self, app: FastAPI) -> None:
        self._asgi = httpx.ASGITransport(app=app)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()

        async def run() -> tuple[int, httpx.Headers, bytes]:
            response = await self._asgi.handle_async_request(request)
            return response.status_code, response.headers, await response.aread()

        status, headers, content = anyio.run(run)
        return httpx.Response(status, headers=headers, content=content)


@dataclass
class Cli:
    """Runs ``suanli ...`` and checks its exit status."""

    runner: CliRunner
    db_url: str
    clock: ManualClock
    urls: list[str]

    def __call__(self, *args: str, key: str | None = None, code: int = 0) -> Result:
        argv = ([] if key is None else ["--key", key]) + list(args)
        result = self.runner.invoke(cli_app, argv)
        assert result.exit_code == code, (argv, result.stdout, result.stderr, result.exception)
        if code == 1:  # an expected failure: one line on stderr, nothing on stdout
            assert result.stdout == ""
            assert result.stderr.startswith("error: ")
            assert result.stderr.count("\n") == 1, result.stderr
        return result

    def json(self, *args: str, key: str | None = None) -> Any:
        return json.loads(self(*args, "--json", key=key).stdout)

    def admin(self, *args: str) -> Any:
        return self.json("admin", *args, "--db", self.db_url)


@dataclass
class World:
    """An operator, a provider with one H800 pool (4 x 8 cards, ¥12.50) and a buyer."""

    operator: str
    provider: str
    buyer: str
    center_id: int
    pool_id: int
