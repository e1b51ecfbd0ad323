"""SQLite specifics: the engine and its pragmas, the execution options its transactions act on,
and how writers take turns at its one write lock (within a process and between processes).

PostgreSQL needs none of this: its writers lock rows, not the database."""

import contextlib
import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session

# An execution option: this transaction will write. On SQLite it then takes the write lock as it
# begins, waiting for it (busy_timeout) while another connection writes (the nightly sync, a
# commit every half second): a transaction that read first and writes later fails at once,
# unable to wait, when another connection committed in between.
WRITE_INTENT = "lianyun_write_intent"
# An execution option, with WRITE_INTENT: a writer of many transactions in a row (the sync).
# On SQLite, writers waiting for the lock when one of its transactions begins go first (see
# _WritersTurn), so that they wait about one of its transactions, not many.
GIVES_WAY = "lianyun_gives_way"
# An execution option: the writer has checked every reference its rows make (the sync: villages
# against the region table, each person written before their lines, in the same transaction;
# nothing ever deletes a region or a person). On SQLite its transactions then skip the
# foreign-key checks, two index probes a payout line; on PostgreSQL too when the role may (see
# app.db.postgres). Every other connection still enforces them, so no row the sync refers to
# can go away.
REFERENCES_CHECKED = "lianyun_references_checked"
# An execution option: this transaction sorts and groups whole tables (a screening run). On
# SQLite its temporary tables and B-trees then go to a temporary file, paged through a small
# cache, instead of the process's memory, where they grew with the payouts (47 MB at 1 000 000
# lines: docs/performance.md#sorts-on-disk), and its page cache, which also bounds what the
# sorter keeps in memory, is 4 MiB (13-14 MB less at its peak, as fast:
# docs/performance.md#a-smaller-cache-for-sorts); both set back at check-in. PostgreSQL's
# work_mem bounds them already.
SORTS_ON_DISK = "lianyun_sorts_on_disk"

FOREIGN_KEYS = "PRAGMA foreign_keys=ON"  # but in transactions with REFERENCES_CHECKED
TEMP_STORE = "PRAGMA temp_store=MEMORY"  # but in transactions with SORTS_ON_DISK
CACHE_SIZE = "PRAGMA cache_size=-16384"  # the same
PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    FOREIGN_KEYS,
    "PRAGMA busy_timeout=10000",
    "PRAGMA synchronous=NORMAL",
    # 16 MiB a connection: the pages a sync page writes to stay in memory; more only grew the
    # sync's RSS with the database (docs/performance.md#page-cache)
    CACHE_SIZE,
    TEMP_STORE,
    "PRAGMA wal_autocheckpoint=20000",
)


class _WritersTurn:
    """On SQLite, one connection writes at a time, and the sync writes for minutes, committing
    about every half second. SQLite's own wait for the lock (busy_timeout) polls at growing
    intervals, up to 100 ms, so a request that waits for it would seldom catch the instant
    between two of the sync's transactions (see docs/performance.md#writers-turn). Hence an
    advisory lock on a file beside the database, between processes as within one:

    - a writer holds it shared while it waits for the write lock (`waiting`);
    - a writer that gives way (the sync, see GIVES_WAY) takes it exclusive, for an instant,
      before each of its transactions (`give_way`): so it waits until every writer waiting
      then has had the write lock, for `patience` seconds at most, then goes on (writers that
      keep coming cannot hold it back);
    - and it commits early when it sees one waiting (`anyone_waiting`, see `writers_waiting`).
    """

    def __init__(self, path: Path, patience: float = 1.0) -> None:
        self.path = path
        self.patience = patience

    def _open(self) -> int | None:
        """A descriptor of its own (a lock per waiting writer, threads too); None when the file
        cannot be had (made by another user, a read-only directory): writers then simply wait
        as SQLite lets them, as before."""
        try:
            # Read-only is enough for flock, so a file another user made serves too.
            return os.open(self.path, os.O_RDONLY | os.O_CREAT, 0o644)
        except OSError:
            return None

    @contextmanager
    def waiting(self) -> Iterator[None]:
        descriptor = self._open()
        try:
            if descriptor is not None:
                with contextlib.suppress(OSError):  # no locks on this file system: as before
                    fcntl.flock(descriptor, fcntl.LOCK_SH)
            yield
        finally:
            if descriptor is not None:
                os.close(descriptor)  # releases the lock

    def _try_exclusive(self, descriptor: int) -> bool:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        except OSError:  # no locks on this file system: no one is seen waiting
            return True
        return True

    def anyone_waiting(self) -> bool:
        descriptor = self._open()
        if descriptor is None:
            return False
        try:
            return not self._try_exclusive(descriptor)
        finally:
            os.close(descriptor)

    def give_way(self) -> None:
        descriptor = self._open()
        if descriptor is None:
            return
        try:
            deadline = time.monotonic() + self.patience
            while not self._try_exclusive(descriptor) and time.monotonic() < deadline:
                time.sleep(0.001)
        finally:
            os.close(descriptor)


@lru_cache
def _writers_turn(database: str | None) -> _WritersTurn | None:
    """For a SQLite database file."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return _WritersTurn(Path(database + "-writers"))


def writers_waiting(session: Session) -> bool:
    """Whether another writer waits for SQLite's write lock now (for a writer that holds it
    long and GIVES_WAY); never on PostgreSQL, where writers do not wait for one another."""
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        return False
    turn = _writers_turn(bind.engine.url.database)
    return turn is not None and turn.anyone_waiting()


# The request writers of one process queue for SQLite's write lock: each takes this lock before
# BEGIN IMMEDIATE and gives it back at commit or rollback, so they line up in the process instead
# of each polling SQLite's lock (its busy handler sleeps in growing steps, up to 100 ms, and a
# waiter that keeps losing the race waits seconds; see docs/performance.md#writer-queue). It
# never replaces SQLite's lock: writers of other processes (the sync, a second worker) still meet
# at BEGIN IMMEDIATE, and past WRITER_QUEUE_SECONDS a writer goes on as before.
WRITER_QUEUE_SECONDS = 10.0
_HOLDS_QUEUE = "lianyun_holds_writer_queue"


def _queue_writers(engine: Engine) -> threading.Lock:
    queue = threading.Lock()

    def release(connection: Connection) -> None:
        if connection.connection.info.pop(_HOLDS_QUEUE, False):
            queue.release()

    event.listen(engine, "commit", release)
    event.listen(engine, "rollback", release)

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:  # a connection lost mid-way
        if record.info.pop(_HOLDS_QUEUE, False):
            queue.release()

    return queue


# The execution options that change pragmas for their transaction: the pragmas run before its
# BEGIN, and those that set them back at check-in. All outside a transaction: foreign_keys
# takes effect only there, and a change of temp_store within one fails once the connection has
# temporary tables (it drops them: a screening run makes its own).
_OPTION_PRAGMAS = {
    REFERENCES_CHECKED: (("PRAGMA foreign_keys=OFF",), (FOREIGN_KEYS,)),
    SORTS_ON_DISK: (
        ("PRAGMA temp_store=FILE", "PRAGMA cache_size=-4096"),
        (TEMP_STORE, CACHE_SIZE),
    ),
}


def sqlite_engine(url: str) -> Engine:
    """An engine for a SQLite URL, with its pragmas, the execution options above and the
    writers' turns. The pool never makes a checkout wait (no limit on overflow): reads run on
    the event loop (see app.db.fastpath.in_read_lane), which must never wait for a connection
    that only the loop could give back. SQLite's connections are in-process and cheap;
    FastAPI's thread pool bounds how many are open at once."""
    # Dates as ISO text, as SQLAlchemy's Date sends them, for the statements that go to the
    # driver directly (app.db.fastpath); Python 3.12 deprecates sqlite3's own date adapter.
    sqlite3.register_adapter(date, date.isoformat)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 10},
        pool_size=5,
        max_overflow=-1,
        # The connection handed back last is handed out first: the others, left alone, do not
        # fill a page cache and prepared statements too (the screening after a sync mostly
        # reads on the connection the sync handed back, with a smaller cache of its own; see
        # docs/performance.md#one-connection-for-the-sync).
        pool_use_lifo=True,
    )
    turn = _writers_turn(engine.url.database)
    queue = _queue_writers(engine)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself so that SAVEPOINTs work (pysqlite's own
        # transaction handling does not).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        options = connection.get_execution_options()
        # On the driver itself: SQLAlchemy's execution path costs more than the BEGIN, on every
        # transaction.
        driver: Any = connection.connection.driver_connection
        for option, (pragmas, _set_back) in _OPTION_PRAGMAS.items():
            if options.get(option):
                # noted first: set back at check-in even when one of them fails
                connection.connection.info[option] = True
                for pragma in pragmas:
                    driver.execute(pragma)
        if not options.get(WRITE_INTENT):
            driver.execute("BEGIN")
        elif turn is None:
            driver.execute("BEGIN IMMEDIATE")
        elif options.get(GIVES_WAY):
            turn.give_way()
            driver.execute("BEGIN IMMEDIATE")
        else:
            if queue.acquire(timeout=WRITER_QUEUE_SECONDS):
                connection.connection.info[_HOLDS_QUEUE] = True
            with turn.waiting():
                driver.execute("BEGIN IMMEDIATE")

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_connection: Any, record: Any) -> None:
        options = [option for option in _OPTION_PRAGMAS if record.info.pop(option, False)]
        if dbapi_connection is None:  # invalidated and closed: nothing of it is kept
            return
        for option in options:
            for pragma in _OPTION_PRAGMAS[option][1]:
                dbapi_connection.execute(pragma)

    return engine
