"""Engine, sessions and the declarative base. Only this module opens transactions."""

import contextlib
import fcntl
import json
import os
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, ClassVar, TypeVar, cast

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from anyio import CapacityLimiter, to_thread
from anyio.lowlevel import RunVar
from fastapi import Depends, Request
from sqlalchemy import (
    Connection,
    DateTime,
    Engine,
    MetaData,
    String,
    any_,
    bindparam,
    create_engine,
    event,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from app.config import get_settings
from app.errors import LianyunError

ROOT = Path(__file__).resolve().parent.parent
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on the way in and out, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime}


def utcnow() -> datetime:
    return datetime.now(UTC)


class _WritersTurn:
    """On SQLite, one connection writes at a time, and the sync writes for minutes, committing
    about every half second. SQLite's own wait for the lock (busy_timeout) polls at growing
    intervals, up to 100 ms, so a request that waits for it would seldom catch the instant
    between two of the sync's transactions (`scripts/bench_sync_writers`). Hence an advisory
    lock on a file beside the database, between processes as within one:

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


# --- speed: the writers of one process queue for SQLite's write lock --------------------------
# Request writers of one worker take this lock before BEGIN IMMEDIATE and give it back at commit
# or rollback, so they line up in the process instead of each polling SQLite's lock (its busy
# handler sleeps in growing steps, up to 100 ms, and a waiter that keeps losing the race waits
# seconds). It never replaces SQLite's lock: writers of other processes (the sync, a second
# worker) still meet at BEGIN IMMEDIATE, and past WRITER_QUEUE_SECONDS a writer goes on as before.
# 32 clients voting at once on one worker, p99: 2 644 ms before, 185–232 ms after (three runs of
# `scripts/bench_inquiries --no-postgres`, 2026-12-06; throughput is bound by the one writer).
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


def _configure_sqlite(engine: Engine) -> None:
    turn = _writers_turn(engine.url.database)
    queue = _queue_writers(engine)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself so that SAVEPOINTs work (pysqlite's own
        # transaction handling does not).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "PRAGMA journal_mode=WAL",
            "PRAGMA foreign_keys=ON",
            "PRAGMA busy_timeout=10000",
            "PRAGMA synchronous=NORMAL",
            "PRAGMA cache_size=-65536",  # 64 MiB: random-key index inserts stay in memory
            "PRAGMA temp_store=MEMORY",
            "PRAGMA wal_autocheckpoint=20000",
        ):
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        options = connection.get_execution_options()
        # On the driver itself: SQLAlchemy's execution path costs more than the BEGIN, on every
        # transaction.
        driver: Any = connection.connection.driver_connection
        if options.get(REFERENCES_CHECKED):
            # Only outside a transaction does this take effect; turned on again at check-in.
            driver.execute("PRAGMA foreign_keys=OFF")
            connection.connection.info[REFERENCES_CHECKED] = True
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
        if record.info.pop(REFERENCES_CHECKED, False):
            dbapi_connection.execute("PRAGMA foreign_keys=ON")


@lru_cache
def engine_for(url: str) -> Engine:
    if url.startswith("sqlite"):
        # The pool never makes a checkout wait (no limit on overflow): reads run on the event
        # loop (see in_read_lane), which must never wait for a connection that only the loop
        # could give back. SQLite's connections are in-process and cheap; FastAPI's thread pool
        # bounds how many are open at once.
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 10},
            pool_size=5,
            max_overflow=-1,
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def get_engine() -> Engine:
    return engine_for(get_settings().database_url)


@lru_cache
def _sessionmaker_for(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def session_scope() -> sessionmaker[Session]:
    """For code outside a request: `with session_scope().begin() as session: ...`."""
    return _sessionmaker_for(get_engine())


def bulk_write_session_scope() -> sessionmaker[Session]:
    """Like `session_scope`, for the sync: it writes in every transaction (see WRITE_INTENT),
    lets waiting writers go first (GIVES_WAY) and checks its rows' references itself (see
    REFERENCES_CHECKED)."""
    return _sessionmaker_for(_bulk_writing(get_engine()))


@lru_cache
def _bulk_writing(engine: Engine) -> Engine:
    return engine.execution_options(
        **{WRITE_INTENT: True, GIVES_WAY: True, REFERENCES_CHECKED: True}
    )


@contextmanager
def transaction(session: Session, *, nested: bool = False) -> Iterator[Session]:
    """Commit on success and on an error whose `keep_writes` is set (a refresh token reused by
    a thief must stay revoked although the request fails); roll back on any other error."""
    tx = session.begin_nested() if nested else session.begin()
    try:
        yield session
    except LianyunError as exc:
        if exc.keep_writes:
            tx.commit()
        else:
            tx.rollback()
        raise
    except BaseException:
        tx.rollback()
        raise
    tx.commit()


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
# foreign-key checks, two index probes a payout line. Every other connection still enforces
# them, so no row the sync refers to can go away; PostgreSQL always checks.
REFERENCES_CHECKED = "lianyun_references_checked"
_READ_METHODS = {"GET", "HEAD", "OPTIONS"}


_T = TypeVar("_T")


async def in_read_lane(work: Callable[[], _T]) -> _T:
    """Run `work`, a short blocking read (the villager's lookup), on the read lane: one read at
    a time per event loop, first come, first served.

    On SQLite the lane is the event loop's own thread. A read there is a few hundred
    microseconds of work in this process that waits for no other: in WAL mode readers do not
    wait for writers, and the pool never makes a checkout wait (see engine_for). Handing it to
    a thread cost more than the read, as the GIL went back and forth between the two threads
    (`scripts/bench_subsidies --compare`: see the README's figures).

    On PostgreSQL a read waits for the server, so the lane is a thread of its own, and the
    loop keeps reading the next requests meanwhile. There, in one run, the loop itself served
    a little more but with a worse p99; and FastAPI's pool of 40 threads contending for one GIL
    served lookups at about half the rate one thread does."""
    if get_engine().dialect.name == "sqlite":
        return work()
    try:
        lane = _READ_LANE.get()
    except LookupError:
        lane = CapacityLimiter(1)
        _READ_LANE.set(lane)
    return await to_thread.run_sync(work, limiter=lane)


_READ_LANE: RunVar[CapacityLimiter] = RunVar("read_lane")


def get_session(request: Request) -> Iterator[Session]:
    with session_scope()() as session, transaction(session):
        if request.method not in _READ_METHODS:
            session.connection(execution_options={WRITE_INTENT: True})
        yield session


async def get_read_session() -> AsyncIterator[Session]:
    with session_scope()() as session, transaction(session):
        yield session


@contextmanager
def read_transaction() -> Iterator[Connection]:
    """A read transaction on a Core connection, for the villager's lookup: opening and closing
    it costs less than half a Session's (`scripts/bench_db_paths`: 41 against 100 µs)."""
    with get_engine().connect() as connection, connection.begin():
        yield connection


ReadTransaction = Callable[[], AbstractContextManager[Connection]]


async def get_read_transaction() -> ReadTransaction:
    """`read_transaction` itself, to be entered on the read lane. On PostgreSQL a connection is
    then taken from the pool, and pinged, off the event loop, where waiting for a free one would
    stall every request, including those that would give one back. On SQLite the lane is the
    loop, and the pool never makes it wait."""
    return read_transaction


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
# For a POST that only reads (an ID number or a receipt code must not go in a URL): it neither
# waits for nor holds the write lock.
ReadSessionDep = Annotated[Session, Depends(get_read_session, scope="function")]
ReadTransactionDep = Annotated[ReadTransaction, Depends(get_read_transaction)]


def alembic_config(url: str | None = None) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = url or get_settings().database_url
    return config


def upgrade_head(url: str | None = None) -> None:
    command.upgrade(alembic_config(url), "head")


def head_revisions() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def current_revisions(connection: Connection) -> set[str]:
    return set(MigrationContext.configure(connection).get_current_heads())


def dialect_insert(session: Session, table: Any) -> Any:
    """An INSERT that takes `on_conflict_do_update/nothing` on SQLite and PostgreSQL alike."""
    return _insert_for(session.get_bind().dialect.name)(table)


def _insert_for(dialect_name: str) -> Callable[[Any], Any]:
    if dialect_name == "postgresql":
        return pg_insert
    return sqlite_insert


def one_of(session: Session, column: Any, values: list[str]) -> Any:
    """`column IN (values)` bound as one parameter: an array on PostgreSQL, a JSON array read by
    json_each on SQLite. Rendering thousands of separate parameters costs more than the query."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam("values", values, type_=ARRAY(String)))
    items: Any = select(literal_column("value")).select_from(
        func.json_each(bindparam("values", json.dumps(values)))
    )
    return column.in_(items.scalar_subquery())


# SQLAlchemy's Date sends ISO text to SQLite; so do bulk writes that go to the driver directly.
sqlite3.register_adapter(date, date.isoformat)


class BulkInsert:
    """An INSERT for many rows at once, built by `build(insert)` from a dialect's `insert` and
    compiled once per dialect, run with the driver's own executemany on plain tuples in
    `columns` order. SQLAlchemy's per-row parameter handling costs more than writing the row
    itself when the sync writes a million rows; this keeps the statement SQLAlchemy's."""

    def __init__(self, build: Callable[[Any], Any], columns: Sequence[str]) -> None:
        self.build = build
        self.columns = tuple(columns)
        self._sql: dict[str, str] = {}

    def sql(self, dialect: Dialect) -> str:
        if dialect.name not in self._sql:
            # Positional placeholders, so that rows can be tuples on every driver.
            compiled = self.build(_insert_for(dialect.name)).compile(dialect=_positional(dialect))
            if tuple(compiled.positiontup or ()) != self.columns:
                raise ValueError(f"columns {self.columns} != {compiled.positiontup}")
            self._sql[dialect.name] = compiled.string
        return self._sql[dialect.name]

    def execute(self, session: Session, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            connection = session.connection()
            connection.exec_driver_sql(self.sql(connection.dialect), rows)


def _positional(dialect: Dialect) -> Dialect:
    """The dialect itself, or one like it that renders positional placeholders (%s)."""
    return dialect if dialect.positional else cast(Any, type(dialect))(paramstyle="format")


_REQUIRED = object()


class FastSelect:
    """A Core SELECT compiled once per dialect and run on the driver's cursor, for the hottest
    reads (the villager's lookup): SQLAlchemy's per-execution work (cache key, context, result
    rows) costs several times a query that reads a few index entries. Rows come back as plain
    tuples with the driver's own types: SQLite gives dates as ISO text, which Pydantic reads
    as dates. Parameters are the statement's named `bindparam`s; values bound in the
    statement itself (`status == "paid"`) are kept. Placeholders are positional, so an
    expression repeated in GROUP BY must hold no bound value (PostgreSQL would see two
    different expressions): write its constants with `literal_column`."""

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self._compiled: dict[str, tuple[str, tuple[tuple[str, Any], ...]]] = {}

    def _for(self, dialect: Dialect) -> tuple[str, tuple[tuple[str, Any], ...]]:
        if dialect.name not in self._compiled:
            compiled = self.statement.compile(dialect=_positional(dialect))
            binds = [compiled.binds[name] for name in compiled.positiontup]
            slots = tuple((b.key, _REQUIRED if b.required else b.value) for b in binds)
            self._compiled[dialect.name] = (compiled.string, slots)
        return self._compiled[dialect.name]

    def rows(self, connection: Connection, **params: Any) -> Sequence[Any]:
        sql, slots = self._for(connection.dialect)
        values = tuple(params[name] if fixed is _REQUIRED else fixed for name, fixed in slots)
        cursor = connection.connection.cursor()
        try:
            cursor.execute(sql, values)
            return cursor.fetchall()
        finally:
            cursor.close()
