"""Locks held by another connection, as the nightly sync holds them between two commits."""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from app.db.engines import engine_for, session_scope
from app.db.sqlite import writers_waiting

# On PostgreSQL, what the requests under test write: a sign-in, a lookup, a poster scan.
LOCKED_TABLES = ("region", "staff", "refresh_token", "person", "payout", "poster_scan")


def take_write_lock(connection: Connection, tables: tuple[str, ...] = LOCKED_TABLES) -> None:
    """What the sync holds between two commits. SQLite: the database's one write lock.
    PostgreSQL: `tables`, locked against every writer (EXCLUSIVE lets plain reads through, as
    SQLite's WAL does)."""
    if connection.dialect.name == "sqlite":
        connection.execute(text("UPDATE region SET name = name WHERE code = '511923000000'"))
    else:
        connection.execute(text(f"LOCK TABLE {', '.join(tables)} IN EXCLUSIVE MODE"))


def writer_waiting(session: Session) -> bool:
    """Whether another writer waits for the lock we hold: SQLite's writers' turn, PostgreSQL's
    own record of locks not granted yet."""
    if session.get_bind().dialect.name == "sqlite":
        return writers_waiting(session)
    waiting = text(
        "SELECT count(*) FROM pg_locks WHERE NOT granted"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    return bool(session.scalar(waiting))


@contextmanager
def another_writer(url: str, release: threading.Event, events: list[str]) -> Iterator[None]:
    """Another connection holds the write lock (as the sync does between two commits) until
    `release` is set; the block runs meanwhile. `events` gets "released" as it lets go."""
    engine = engine_for(url)
    holding = threading.Event()

    def write() -> None:
        with engine.connect() as connection:
            take_write_lock(connection)
            holding.set()
            release.wait(30)
            # Noted before the commit lets go: a request waiting for the lock can then be
            # answered, and noted, before this thread runs again (a busy machine did so once).
            events.append("released")
            connection.commit()

    writer = threading.Thread(target=write)
    writer.start()
    assert holding.wait(5)
    try:
        yield
    finally:
        release.set()
        writer.join()
        engine.dispose()


def release_once_waiting(release: threading.Event) -> None:
    """Sets `release` once a writer is seen waiting for the lock (10 s at most)."""
    with session_scope()() as session:
        deadline = time.monotonic() + 10
        while not writer_waiting(session) and time.monotonic() < deadline:
            session.rollback()
            time.sleep(0.01)
    release.set()
