"""Read-only transactions: ``Database.transaction(write=False)``.

On SQLite a read begins a deferred transaction (``BEGIN``, no lock), so it reads the
last committed state at once while a writer holds the write lock (``BEGIN IMMEDIATE``);
a write inside it fails at once. On PostgreSQL it is ``BEGIN READ ONLY``. Transactions
that may write are unchanged, and a connection used for a read writes again afterwards.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from conftest import statements
from suanli.store import Database
from suanli.store.orgs_repo import get_meta, set_meta

FAST_S = 3.0
"""A read well under SQLite's busy timeout (30 s) finishes within this."""


@contextmanager
def writer_holding_the_lock(db: Database, key: str = "held") -> Iterator[None]:
    """Another thread inside a transaction that may write, having written ``key``
    (uncommitted); on SQLite it holds the database's write lock until the block ends."""
    holding, done = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def hold() -> None:
        try:
            with db.transaction() as session:
                set_meta(session, key, "uncommitted")
                session.flush()
                holding.set()
                done.wait(60)
        except BaseException as exc:  # reported by the test's thread
            failures.append(exc)
            holding.set()

    thread = threading.Thread(target=hold, name="writer", daemon=True)
    thread.start()
    assert holding.wait(30), "the writer did not begin"
    assert not failures, failures
    try:
        yield
    finally:
        done.set()
        thread.join(30)
    assert not failures, failures


def _read_only(session: Session) -> bool:
    """Whether the session's transaction is read-only, as the database says."""
    if session.get_bind().dialect.name == "postgresql":
        return session.execute(text("SHOW transaction_read_only")).scalar() == "on"
    return session.execute(text("PRAGMA query_only")).scalar() == 1


def test_a_read_does_not_wait_for_a_writer(db: Database) -> None:
    if db.is_postgres:
        pytest.skip("PostgreSQL readers never wait for writers")
    with db.transaction() as session:
        set_meta(session, "committed", "yes")
    second_writer_done = threading.Event()

    def second_writer() -> None:
        with db.transaction() as session:
            set_meta(session, "second", "yes")
        second_writer_done.set()

    with writer_holding_the_lock(db):
        started = time.monotonic()
        with db.transaction(write=False) as session:
            assert get_meta(session, "committed") == "yes"
            assert get_meta(session, "held") is None  # not committed: not seen
        assert time.monotonic() - started < FAST_S
        # the lock is really held: a second writer waits for it
        waiting = threading.Thread(target=second_writer, daemon=True)
        waiting.start()
        assert not second_writer_done.wait(0.5)
    assert second_writer_done.wait(30)
    waiting.join(30)
    with db.transaction(write=False) as session:
        assert get_meta(session, "held") == "uncommitted"
        assert get_meta(session, "second") == "yes"


def test_many_reads_go_on_while_a_writer_holds_the_lock(db: Database) -> None:
    if db.is_postgres:
        pytest.skip("PostgreSQL readers never wait for writers")
    took: list[float] = []
    failures: list[BaseException] = []

    def read() -> None:
        try:
            started = time.monotonic()
            with db.transaction(write=False) as session:
                session.execute(text("SELECT count(*) FROM organizations")).scalar()
            took.append(time.monotonic() - started)
        except BaseException as exc:
            failures.append(exc)

    with writer_holding_the_lock(db):
        readers = [threading.Thread(target=read, daemon=True) for _ in range(8)]
        for reader in readers:
            reader.start()
        for reader in readers:
            reader.join(30)
    assert not failures, failures
    assert len(took) == 8
    assert max(took) < FAST_S


def test_a_read_only_transaction_refuses_writes(db: Database) -> None:
    with db.transaction(write=False) as session:
        set_meta(session, "written", "in a read")
        with pytest.raises(DBAPIError):
            session.flush()
    with db.transaction(write=False) as session:
        assert get_meta(session, "written") is None


def test_reads_are_read_only_and_writes_are_not_after_them(db: Database) -> None:
    for _ in range(3):  # the pool hands the same connection back and forth
        with db.transaction(write=False) as session:
            assert _read_only(session)
        with db.transaction() as session:
            assert not _read_only(session)
            set_meta(session, "after-a-read", "ok")
            session.flush()
            session.execute(text("DELETE FROM meta WHERE key = 'after-a-read'"))
    with db.transaction(write=False) as session:
        assert get_meta(session, "after-a-read") is None


def test_sqlite_begins_immediate_only_for_transactions_that_may_write(db: Database) -> None:
    if db.is_postgres:
        pytest.skip("SQLite only")
    with statements(db) as seen, db.transaction() as session:
        session.execute(text("SELECT 1"))
    assert "BEGIN IMMEDIATE" in seen
    with statements(db) as seen, db.transaction(write=False) as session:
        session.execute(text("SELECT 1"))
    assert "BEGIN" in seen
    assert "BEGIN IMMEDIATE" not in seen
