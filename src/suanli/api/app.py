"""The FastAPI application: ``create_app(db)`` wires routers, errors and the queue."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from suanli import __version__
from suanli.api import errors
from suanli.api.context import AppState
from suanli.api.docs import install_docs
from suanli.api.gate import Gate
from suanli.api.leader import leadership_of
from suanli.api.queue import Ticker
from suanli.api.routers import agent as agent_routes
from suanli.api.routers import audit as audit_routes
from suanli.api.routers import billing as billing_routes
from suanli.api.routers import capacity, leases, orgs, reports, requests, vouchers, wallet
from suanli.console import mount_console
from suanli.kit.clock import Clock, SystemClock
from suanli.settings import Settings
from suanli.store import Database

DESCRIPTION = """
suanli (算力) pools the spare accelerators of many computing centers and rents them by
the card-hour. Authenticate with an API key: `Authorization: Bearer sk_...`.
Money is integer fen (¥1 = 100 fen). Creates accept an `Idempotency-Key` header.
Errors are `{"error": {"code": ..., "message": ...}}` with a 4xx status.
Every input is bounded: ids are 1 to 2147483647 (a larger one in a path is a 404), amounts
of money at most 10^12 fen, text free of control characters, a body at most 1 MiB; a
request with a body is authenticated before its body is read. Each API key (or, without
one, each client address) may make 200 calls a second with bursts of 400; beyond that the
answer is 429 with `Retry-After`.
"""


def create_app(
    db: Database,
    *,
    clock: Clock | None = None,
    settings: Settings | None = None,
    tick_seconds: float | None = None,
) -> FastAPI:
    """The API over ``db``. ``tick_seconds`` starts a periodic queue pass (servers only)."""
    state = AppState(db=db, clock=clock or SystemClock(), settings=settings or Settings.from_env())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = state.settings.threads
        ticker = Ticker(state, tick_seconds) if tick_seconds else None
        if ticker:
            ticker.start()
        try:
            yield
        finally:
            if ticker:
                ticker.stop()

    app = FastAPI(
        title="suanli",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.suanli = state
    errors.install(app)
    app.add_middleware(Gate, db=db)
    for module in (orgs, capacity, requests, leases, wallet, reports, vouchers):
        app.include_router(module.router)
    app.include_router(agent_routes.router)
    app.include_router(audit_routes.router)
    app.include_router(billing_routes.router)
    app.include_router(requests.quotes_router)
    errors.document_errors(app)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str | bool]:
        """Up, the database answers; ``leader``: this process runs the background work."""
        with db.transaction(write=False) as session:
            session.connection().exec_driver_sql("SELECT 1")
        return {
            "status": "ok",
            "version": __version__,
            "database": db.dialect,
            "leader": leadership_of(db).leading,
        }

    mount_console(app)
    install_docs(app)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/console/")

    return app
