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
) -> None:
    """Migrate the database, then serve the API (and place queued requests every --tick s)."""
    import uvicorn

    from suanli.api.app import create_app

    if not 0 < port < 65536:
        raise CliError(f"--port must be between 1 and 65535, got {port}")
    if tick < 0:
        raise CliError(f"--tick must not be negative, got {tick:g}")
    db = Database(db_url)
    db.migrate()
    typer.echo(f"suanli: database {safe_url(db.url)}", err=True)
    try:
        uvicorn.run(create_app(db, tick_seconds=tick or None), host=host, port=port)
    finally:
        db.dispose()
