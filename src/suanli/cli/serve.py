"""``suanli serve``: migrate the database and run the API with uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from suanli.cli.admin import safe_url
from suanli.cli.errors import CliError
from suanli.store import Database


def serve(
    db_url: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Database URL (default: $SUANLI_DATABASE_URL, else a SQLite file in the "
            "user data directory).",
        ),
    ] = None,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8000,
    tick: Annotated[
        float, typer.Option("--tick", help="Seconds between passes over the request queue.")
    ] = 5.0,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            help="API processes (PostgreSQL only; background work runs in one, the leader).",
        ),
    ] = 1,
) -> None:
    """Migrate the database, then serve the API (and place queued requests every --tick s)."""
    import os

    import uvicorn

    from suanli.api.app import create_app
    from suanli.api.served import ENV_TICK
    from suanli.store.db import ENV_URL

    if not 0 < port < 65536:
        raise CliError(f"--port must be between 1 and 65535, got {port}")
    if tick < 0:
        raise CliError(f"--tick must not be negative, got {tick:g}")
    if not 1 <= workers <= 64:
        raise CliError(f"--workers must be between 1 and 64, got {workers}")
    db = Database(db_url)
    if workers > 1 and db.dialect != "postgresql":
        raise CliError(
            "--workers above 1 needs PostgreSQL: a SQLite file serves one process "
            "(give --db postgresql+psycopg://...)"
        )
    db.migrate()
    typer.echo(f"suanli: database {safe_url(db.url)}, {workers} process(es)", err=True)
    try:
        if workers == 1:
            uvicorn.run(create_app(db, tick_seconds=tick or None), host=host, port=port)
            return
        os.environ[ENV_URL] = db.url
        os.environ[ENV_TICK] = str(tick)
        uvicorn.run("suanli.api.served:app", factory=True, workers=workers, host=host, port=port)
    finally:
        db.dispose()
