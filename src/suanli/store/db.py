"""Connecting to the database and owning transactions.

``Database(url)`` wraps one SQLAlchemy engine. ``transaction()`` is the only way code
gets a session: it commits when the block ends and rolls back on any exception, so a
failed call leaves nothing half-written. Services receive the session and never commit.

SQLite runs every transaction as ``BEGIN IMMEDIATE``: writers queue on the database lock
instead of failing on a read-to-write upgrade, which makes the embedded default safe
under concurrent API calls. PostgreSQL relies on row locks (see the repositories).

``transaction(write=False)`` is a read-only transaction: on SQLite a deferred ``BEGIN``
that takes no lock (in WAL mode it reads a snapshot while a writer holds the write
lock), with ``PRAGMA query_only`` on, so that a write in it fails at once instead of
now and then, on a lock upgrade; on PostgreSQL ``BEGIN READ ONLY``. A read-only
transaction may not write and may not take row locks (``SELECT ... FOR UPDATE``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from platformdirs import user_data_dir
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from suanli.store import models  # noqa: F401  (registers every table)
from suanli.store.base import Base

ENV_URL = "SUANLI_DATABASE_URL"

ON_DROP: list[Callable[[Engine], None]] = []
"""What forgets a database whose tables were dropped (caches kept by process)."""

READ_ONLY = "suanli_read_only"
"""The execution option that marks a connection's transaction read-only."""
_QUERY_ONLY = "suanli_query_only"
"""Whether ``PRAGMA query_only`` is on, in a SQLite connection's ``info``."""


def default_database_url() -> str:
    """``$SUANLI_DATABASE_URL``, else a SQLite file in the user's data directory."""
    if url := os.environ.get(ENV_URL):
        return url
    path = Path(user_data_dir("suanli", appauthor=False)) / "suanli.db"
    return f"sqlite:///{path}"


def normalize_url(url: str) -> str:
    """Accept ``postgres://`` / ``postgresql://`` and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        read_only = bool(conn.get_execution_options().get(READ_ONLY, False))
        if conn.info.get(_QUERY_ONLY, False) is not read_only:
            conn.exec_driver_sql(f"PRAGMA query_only={'ON' if read_only else 'OFF'}")
            conn.info[_QUERY_ONLY] = read_only
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


class Database:
    """One database, by URL. Cheap to share; make one per process."""

    def __init__(self, url: str | None = None, *, echo: bool = False) -> None:
        self.url = normalize_url(url or default_database_url())
        parsed = make_url(self.url)
        self.dialect = parsed.get_backend_name()
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if self.dialect == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        elif self.dialect == "postgresql":
            kwargs.update(pool_size=20, max_overflow=60, pool_pre_ping=True)
        self.engine = create_engine(self.url, **kwargs)
        if self.dialect == "sqlite":
            _configure_sqlite(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Session]:
        """A session inside one transaction: commit on success, roll back on error.
        ``write=False``: a read-only transaction (see the module docstring)."""
        if write:
            with self._sessions.begin() as session:
                yield session
            return
        options: dict[str, Any] = {READ_ONLY: True}
        if self.is_postgres:
            options["postgresql_readonly"] = True  # BEGIN READ ONLY; reset on release
        with self._sessions() as session, session.begin():
            session.connection(execution_options=options)
            yield session

    def migrate(self) -> None:
        """Bring the schema to the newest migration (creates it on an empty database)."""
        from suanli.store.migrate import upgrade

        upgrade(self.engine)

    def drop_all(self) -> None:
        """Remove every table (tests and demo resets only)."""
        from suanli.store.capacity_repo import forget
        from suanli.store.ledger_repo import forget_accounts

        forget_accounts(self.engine)
        forget(self.engine)
        for hook in ON_DROP:
            hook(self.engine)
        Base.metadata.drop_all(self.engine)
        with self.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")

    def dispose(self) -> None:
        self.engine.dispose()


def recreate_postgres_database(url: str, *, template: str | None = None) -> None:
    """Drop the PostgreSQL database ``url`` names (closing its connections) and create it
    again, empty or as a copy of the database ``template`` (benchmarks' fresh copies)."""
    parsed = make_url(normalize_url(url))
    name = parsed.database
    if not name or parsed.get_backend_name() != "postgresql":
        raise ValueError(f"not a PostgreSQL database URL: {url}")
    admin = create_engine(
        parsed.set(database="postgres"), isolation_level="AUTOCOMMIT", future=True
    )
    try:
        with admin.connect() as conn:
            quoted = conn.dialect.identifier_preparer.quote
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {quoted(name)} WITH (FORCE)")
            copy = f" TEMPLATE {quoted(template)}" if template else ""
            conn.exec_driver_sql(f"CREATE DATABASE {quoted(name)}{copy}")
    finally:
        admin.dispose()
