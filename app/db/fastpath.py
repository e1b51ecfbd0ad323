"""The fast path: statements run below SQLAlchemy's per-execution work, and the read and write
lanes.

When: only where SQLAlchemy's own work costs more than the database's, as a script under
scripts/ measures (docs/performance.md): the villager's lookup (FastSelect, read_transaction,
in_read_lane), the 阳光问廉 vote (FastSelect, in_write_lane) and the sync's bulk writes
(BulkInsert on SQLite; copy_rows and StagedInsert, by COPY, on PostgreSQL). All else
takes a Session from app.db.engines.
Rules: statements are SQLAlchemy Core, built once (filters as bound parameters) and compiled
once per dialect; rows are plain tuples with the driver's types (SQLite gives dates as ISO
text); work on the read lane is one short read that never writes.
Cost: no ORM objects, no result types, no SQLAlchemy events on these statements, so the code
must know each driver's types; and the read lane runs one read at a time on SQLite, on the
event loop itself (a slow read there holds up every request of the worker), two on PostgreSQL."""

import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Annotated, Any, NamedTuple, Protocol, TypeVar, cast
from weakref import WeakKeyDictionary

from anyio import CapacityLimiter, to_thread
from anyio.lowlevel import RunVar
from fastapi import Depends
from sqlalchemy import Column, MetaData, Table, event
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import Session

from app.db.base import insert_for
from app.db.engines import get_engine
from app.routing import ApiRoute, run_by

_T = TypeVar("_T")
_REQUIRED = object()


class ReadConnection(Protocol):
    """What a FastSelect runs on: a SQLAlchemy `Connection`, or an `OwnConnection`."""

    @property
    def dialect(self) -> Dialect: ...

    @property
    def connection(self) -> Any: ...  # the driver's, or the pool's proxy of it: `.cursor()`


class FastSelect:
    """A Core SELECT (or a write with RETURNING) compiled once per dialect, run on the driver's
    cursor in the connection's transaction: SQLAlchemy's per-execution work costs more than a
    read of a few index entries (docs/performance.md#compiled-selects). Rows are tuples of the
    driver's types (SQLite: dates as ISO text); parameters are the statement's `bindparam`s.
    Placeholders are positional: an expression repeated in GROUP BY binds no value."""

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

    def rows(self, connection: ReadConnection, **params: Any) -> Sequence[Any]:
        sql, slots = self._for(connection.dialect)
        values = tuple(params[name] if fixed is _REQUIRED else fixed for name, fixed in slots)
        cursor = connection.connection.cursor()
        try:
            cursor.execute(sql, values)
            return cast(Sequence[Any], cursor.fetchall())
        finally:
            cursor.close()


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
            compiled = self.build(insert_for(dialect.name)).compile(dialect=_positional(dialect))
            if tuple(compiled.positiontup or ()) != self.columns:
                raise ValueError(f"columns {self.columns} != {compiled.positiontup}")
            self._sql[dialect.name] = compiled.string
        return self._sql[dialect.name]

    def execute(self, session: Session, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            connection = session.connection()
            connection.exec_driver_sql(self.sql(connection.dialect), rows)


def copy_rows(
    session: Session, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """PostgreSQL only: `rows` (tuples in `columns` order) into `table` by COPY, for rows that
    are all new: one stream, not a statement a row (docs/performance.md#copy). A key already
    stored fails the whole COPY, as it fails an INSERT; a column left out takes its server
    default (none of ours has one: give the time as a value, `transaction_time`)."""
    names = ", ".join(f'"{c}"' for c in columns)
    _copy(session, f'COPY "{table.name}" ({names}) FROM STDIN', rows)


def transaction_time(session: Session) -> Any:
    """The time the database gives `current_timestamp` in this transaction (its start)."""
    return session.connection().exec_driver_sql("SELECT current_timestamp").scalar_one()


class StagedInsert:
    """PostgreSQL only: many rows, some perhaps stored already, merged into a table by one
    statement. The rows (tuples in `columns` order) go by COPY into a temporary table with those
    columns of `table` (dropped at commit), and `build(insert, staged)`, given the dialect's
    `insert` and that table, makes the INSERT … SELECT … ON CONFLICT that takes them from it."""

    def __init__(
        self, table: Table, columns: Sequence[str], build: Callable[[Any, Table], Any]
    ) -> None:
        self.table, self.columns = table, tuple(columns)
        self.staged = Table(
            f"staged_{table.name}", MetaData(), *(Column(c, table.c[c].type) for c in columns)
        )
        self.build = build
        self._sql: str | None = None

    def execute(self, session: Session, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        connection = session.connection()
        if self._sql is None:
            self._sql = str(
                self.build(insert_for("postgresql"), self.staged).compile(
                    dialect=connection.dialect
                )
            )
        staged = self.staged.name
        names = ", ".join(f'"{c}"' for c in self.columns)
        source = f'SELECT {names} FROM "{self.table.name}" WITH NO DATA'  # noqa: S608 (our names)
        # Made by the first use in a transaction; emptied by each use after it.
        connection.exec_driver_sql(
            f'CREATE TEMPORARY TABLE IF NOT EXISTS "{staged}" ON COMMIT DROP AS {source}'
        )
        connection.exec_driver_sql(f'TRUNCATE "{staged}"')
        _copy(session, f'COPY "{staged}" ({names}) FROM STDIN', rows)
        connection.exec_driver_sql(self._sql)


def _copy(session: Session, sql: str, rows: Iterable[Sequence[Any]]) -> None:
    driver = session.connection().connection.driver_connection
    with driver.cursor() as cursor, cursor.copy(sql) as copy:  # type: ignore[union-attr]
        for row in rows:
            copy.write_row(row)


def _positional(dialect: Dialect) -> Dialect:
    """The dialect itself, or one like it that renders positional placeholders (%s)."""
    return dialect if dialect.positional else cast(Any, type(dialect))(paramstyle="format")


# On PostgreSQL, where a lookup waits for the server four times, a second thread reads while the
# first waits (docs/performance.md#read-lane).
READ_LANE_THREADS = 2


async def in_read_lane(work: Callable[[], _T]) -> _T:
    """Run `work`, a short blocking read (the villager's lookup), on the read lane: first come,
    first served, `read_lane_size()` at a time per event loop. On SQLite the lane is the loop's
    own thread: the read waits for no other (WAL readers do not wait for writers) and a thread
    hop costs more than the read. On PostgreSQL a read waits for the server, so the lane is
    anyio's worker threads under a limit of its own, READ_LANE_THREADS reads at once (not
    FastAPI's limit of 40, whose threads contend for one GIL), while the loop goes on
    (docs/performance.md#read-lane)."""
    if _lane_is_the_loop():
        return work()
    try:
        lane = _READ_LANE.get()
    except LookupError:
        lane = CapacityLimiter(READ_LANE_THREADS)
        _READ_LANE.set(lane)
    return await to_thread.run_sync(work, limiter=lane)


def read_lane_size() -> int:
    """How many reads the read lane runs at once: one on SQLite, READ_LANE_THREADS elsewhere."""
    return 1 if _lane_is_the_loop() else READ_LANE_THREADS


def _lane_is_the_loop() -> bool:
    """On SQLite the read lane is the event loop's own thread."""
    return get_engine().dialect.name == "sqlite"


_READ_LANE: RunVar[CapacityLimiter] = RunVar("read_lane")

WRITE_LANE_THREADS = 4  # on PostgreSQL, where writes to different rows go on at once


async def in_write_lane(work: Callable[[], _T]) -> _T:
    """Run `work`, a villager's short write (a vote: its whole transaction), on the write lane:
    on SQLite one thread (writes go one at a time anyway), on PostgreSQL WRITE_LANE_THREADS.
    Not FastAPI's pool, where every waiting writer held a thread and a connection and 32
    threads contended for one GIL (docs/performance.md#vote)."""
    try:
        lane = _WRITE_LANE.get()
    except LookupError:
        sqlite = get_engine().dialect.name == "sqlite"
        lane = CapacityLimiter(1 if sqlite else WRITE_LANE_THREADS)
        _WRITE_LANE.set(lane)
    return await to_thread.run_sync(work, limiter=lane)


_WRITE_LANE: RunVar[CapacityLimiter] = RunVar("write_lane")


@contextmanager
def read_transaction() -> Iterator[ReadConnection]:
    """The villager's lookup's reads, entered on the read lane. On SQLite one read transaction
    on the lane's own connection (`own_read_transaction`): its statements read one moment of
    the data. On PostgreSQL a Core connection of the pool (cheaper than a Session,
    docs/performance.md#core-read-transaction) in autocommit: each statement reads what was
    committed when it began, without the BEGIN and COMMIT that were two of a lookup's six round
    trips to the server (docs/performance.md#postgresql-reads-without-begin)."""
    engine = get_engine()
    if engine.dialect.name == "sqlite":
        with own_read_transaction(engine) as own:
            yield own
    else:
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT")
            yield connection


class OwnConnection(NamedTuple):
    """A thread's own driver connection and its dialect: a ReadConnection."""

    dialect: Dialect
    connection: sqlite3.Connection


_OWN: WeakKeyDictionary[Engine, threading.local] = WeakKeyDictionary()


@contextmanager
def own_read_transaction(engine: Engine) -> Iterator[OwnConnection]:
    """SQLite: a read transaction on this thread's own connection, taken from the pool (its
    pragmas) and detached from it, kept until the engine is disposed; BEGIN and ROLLBACK on the
    driver. For the read lane, where a checkout and a Core transaction cost a lookup about 50
    µs in a request (docs/performance.md#own-read-connection)."""
    if (threads := _OWN.get(engine)) is None:
        threads = _OWN[engine] = threading.local()
        event.listen(engine, "engine_disposed", lambda disposed: _OWN.pop(disposed, None))
    own: OwnConnection | None = getattr(threads, "own", None)
    if own is None:
        pooled = engine.raw_connection()
        driver = cast(sqlite3.Connection, pooled.driver_connection)
        pooled.detach()
        own = threads.own = OwnConnection(engine.dialect, driver)
    if own.connection.in_transaction:  # a rollback that failed: not left open for good
        own.connection.rollback()
    own.connection.execute("BEGIN")
    try:
        yield own
    finally:
        own.connection.rollback()  # it only read: ending it either way is the same


ReadTransaction = Callable[[], AbstractContextManager[ReadConnection]]


async def get_read_transaction() -> ReadTransaction:
    """`read_transaction` itself, to be entered on the read lane: on PostgreSQL a connection is
    then taken from the pool, and pinged, off the event loop (where a wait would stall it)."""
    return read_transaction


ReadTransactionDep = Annotated[ReadTransaction, Depends(get_read_transaction)]


class ReadLaneRoute(ApiRoute):
    """A route whose plain `def` handler, a short blocking read, runs on the read lane
    (`in_read_lane`: on SQLite the event loop itself, on PostgreSQL worker threads, two reads
    at once), not under FastAPI's limit of 40 threads. Its dependencies run first, as on every
    route, and must not block the loop themselves (`app.ratelimit.hit_off_loop`)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, run_by(in_read_lane, endpoint), **kwargs)
