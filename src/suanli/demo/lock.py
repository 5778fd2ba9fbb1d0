"""One demo per database: the lock a building or serving ``suanli demo`` holds.

* SQLite: an exclusive ``flock`` on ``<database file>.demo-lock`` beside the database,
  which holds the owner's pid. The operating system drops the lock when the process
  ends, however it ends; the file stays (empty) and is reused.
* PostgreSQL: a session-level advisory lock, held on a connection of its own (in
  autocommit, so it holds no transaction open) for the life of the process; the
  connection's ``application_name`` carries the owner's pid. The server drops the lock
  when the connection closes, however the process ends; :meth:`DemoLock.release`
  unlocks and closes it.

A second demo on the same database is refused with :class:`DemoBusyError` before it touches
anything.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path
from typing import IO

from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url

from suanli.store import Database

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no lock file
    fcntl = None  # type: ignore[assignment]

ADVISORY_KEY = 0x5375616E  # "Suan"; below 2**31, so pg_locks shows it as objid
APPLICATION = "suanli demo (pid {pid})"
_PID = re.compile(r"\(pid (\d+)\)")


class DemoBusyError(Exception):
    """Another process holds the database's demo lock; ``pid`` is its process id, when
    known."""

    def __init__(self, pid: int | None) -> None:
        super().__init__(f"held by pid {pid}")
        self.pid = pid


class DemoLock:
    """Held from :meth:`acquire` until :meth:`release` (or the process ends)."""

    def __init__(self, handle: IO[str] | None = None, conn: Connection | None = None) -> None:
        self._handle = handle
        self._conn = conn

    @classmethod
    def acquire(cls, db: Database) -> DemoLock:
        """Take the lock of ``db`` or raise :class:`DemoBusyError`."""
        if db.is_postgres:
            return cls(conn=_advisory(db))
        path = lock_path(db)
        if path is None or fcntl is None:
            return cls()  # an in-memory database has no other user
        return cls(handle=_flock(path))

    def release(self) -> None:
        if self._handle is not None:
            with contextlib.suppress(OSError):
                self._handle.truncate(0)
                self._handle.close()  # closing the file drops the flock
            self._handle = None
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.scalar(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
            with contextlib.suppress(Exception):
                self._conn.invalidate()  # really closed, not back to the pool with our name
                self._conn.close()
            self._conn = None


def lock_path(db: Database) -> Path | None:
    """``<database file>.demo-lock`` for a SQLite file, else None."""
    name = make_url(db.url).database
    if not name or name == ":memory:" or name.startswith("file:"):
        return None
    database = Path(name).expanduser()
    return database.with_name(database.name + ".demo-lock")


def _flock(path: Path) -> IO[str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the process's life
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        owner = handle.read().strip()
        handle.close()
        raise DemoBusyError(int(owner) if owner.isdigit() else None) from None
    except BaseException:
        handle.close()
        raise
    handle.seek(0)
    handle.truncate(0)
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def _advisory(db: Database) -> Connection:
    conn = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        if conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY}):
            conn.execute(
                text("SELECT set_config('application_name', :name, false)"),
                {"name": APPLICATION.format(pid=os.getpid())},
            )
            return conn
        holder = conn.scalar(
            text(
                "SELECT a.application_name FROM pg_locks l "
                "JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND l.objid = :key "
                "AND l.classid = 0 AND l.objsubid = 1 "
                "AND l.database = (SELECT oid FROM pg_database "
                "WHERE datname = current_database())"
            ),
            {"key": ADVISORY_KEY},
        )
    except BaseException:
        conn.close()
        raise
    conn.close()
    found = _PID.search(holder or "")
    raise DemoBusyError(int(found.group(1)) if found else None)
