"""Which process runs the background work: one leader at a time.

Several API processes (``suanli serve --workers N``, or servers on several machines) may
serve one PostgreSQL database. The periodic work (queue passes, the silent-agent sweep)
must run in exactly one of them. The leader is the process holding a session-level
PostgreSQL advisory lock on a connection of its own: the server releases the lock when
that connection ends, so when the leader dies (even by SIGKILL) its backend goes and the
next process to try takes over at its next tick. Leadership is checked before each run
(the connection still answers), because it can be lost between two runs.

SQLite serves one process (the file is its lock), which is always the leader.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import Any

from sqlalchemy import text

from suanli.store import Database

log = logging.getLogger("suanli.leader")

LOCK_KEY = 0x5_0A_4C_10  # "suanli": one key for the whole exchange's background work
"""The advisory lock's key; later, one key per market shard."""


class Leadership:
    """Try to be the leader; :meth:`held` says whether this process is it right now."""

    def __init__(self, db: Database, key: int = LOCK_KEY) -> None:
        self.db = db
        self.key = key
        self.contending = False
        """Whether this process takes part in the election (its server runs a ticker)."""
        self._conn: Any = None
        self._lock = threading.Lock()

    def may_run(self) -> bool:
        """Whether background work may run here now: in the leader; or anywhere in a
        process that does not contend (a server without a ticker runs its own passes,
        as a lone server does)."""
        return not self.contending or self.held()

    @property
    def shared(self) -> bool:
        """Whether other processes may serve the same database (PostgreSQL)."""
        return self.db.dialect == "postgresql"

    @property
    def leading(self) -> bool:
        """Whether this process led at its last look (asks nobody; see :meth:`held`)."""
        return not self.shared or self._conn is not None

    def held(self) -> bool:
        """Whether this process leads now: keeps the lock if it has it, else tries once."""
        if not self.shared:
            return True
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.execute(text("SELECT 1"))
                    self._conn.rollback()
                    return True
                except Exception:  # the connection (and with it the lock) is gone
                    log.warning("lost the leader's connection; trying again")
                    self._drop()
            return self._try()

    def _try(self) -> bool:
        conn = None
        try:
            conn = self.db.engine.connect()
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key})
            if bool(got.scalar()):
                conn.commit()  # no transaction left open on the leader's connection
                self._conn = conn
                log.info("this process leads the background work")
                return True
            conn.rollback()
            conn.close()
        except Exception:
            log.exception("could not ask for leadership")
            if conn is not None:
                conn.invalidate()
        return False

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):  # already broken
                conn.invalidate()

    def release(self) -> None:
        """Give leadership up (a server stopping): the lock goes with the connection."""
        with self._lock:
            self.contending = False
            conn, self._conn = self._conn, None
            if conn is not None:
                try:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
                    conn.close()
                except Exception:
                    conn.invalidate()


_BY_URL: dict[str, Leadership] = {}
_BY_URL_LOCK = threading.Lock()


def leadership_of(db: Database) -> Leadership:
    """This process's one :class:`Leadership` for the database at ``db``'s URL (however
    many handles the process opened on it)."""
    key = str(db.url)
    with _BY_URL_LOCK:
        found = _BY_URL.get(key)
        if found is None:
            found = _BY_URL[key] = Leadership(db)
        return found
