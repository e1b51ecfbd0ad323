"""The fast path: statements run below SQLAlchemy's per-execution work, and the read and write
lanes.

When: only where SQLAlchemy's own work costs more than the database's, as a script under
scripts/ measures (docs/performance.md): today the villager's lookup (FastSelect,
read_transaction, in_read_lane), the 阳光问廉 vote (FastSelect for its UPDATE and INSERT …
RETURNING, in_write_lane) and the sync's bulk writes (BulkInsert on SQLite; copy_rows and
StagedInsert, by COPY, on PostgreSQL; one_of). Everything else takes a Session from
app.db.engines.
Rules: statements are SQLAlchemy Core, built once (filters as bound parameters) and compiled
once per dialect; rows are plain tuples with the driver's types (SQLite gives dates as ISO
text); work on the read lane is one short read that never writes.
Cost: no ORM objects, no result types, no SQLAlchemy events on these statements, so the code
must know each driver's types; and the read lane runs one read at a time, on SQLite on the
event loop itself, so a slow read there holds up every request of the worker."""

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Annotated, Any, TypeVar, cast

from anyio import CapacityLimiter, to_thread
from anyio.lowlevel import RunVar
from fastapi import Depends
from sqlalchemy import (
    Column,
    Connection,
    MetaData,
    String,
    Table,
    any_,
    bindparam,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from app.db.base import insert_for
from app.db.engines import get_engine
from app.routing import ApiRoute, run_by

_T = TypeVar("_T")
_REQUIRED = object()


class FastSelect:
    """A Core SELECT (or a write with RETURNING) compiled once per dialect and run on the
    driver's cursor, for the hottest statements (the villager's lookup, a vote): SQLAlchemy's
    per-execution work (cache key, context, result rows) costs more than a query that reads a
    few index entries (see docs/performance.md#compiled-selects). A write runs in the
    transaction of the connection it is given. Rows come back as plain tuples with the
    driver's own types: SQLite gives dates as ISO text, which Pydantic reads as dates.
    Parameters are the statement's named `bindparam`s; values bound in the statement itself
    (`status == "paid"`) are kept. Placeholders are positional, so an expression repeated in
    GROUP BY must hold no bound value (PostgreSQL would see two different expressions): write
    its constants with `literal_column`."""

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
    """PostgreSQL only: many rows merged into a table by one statement. The rows (tuples in
    `columns` order) go by COPY into a temporary table with those columns of `table` (made in
    the transaction, dropped at its commit), and `build(insert, staged)`, given the dialect's
    `insert` and that table, makes the INSERT … SELECT … ON CONFLICT that takes them from it.
    For rows some of which may be stored already, where COPY alone cannot say what to do."""

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


def one_of(session: Session, column: Any, values: list[str]) -> Any:
    """`column IN (values)` bound as one parameter: an array on PostgreSQL, a JSON array read by
    json_each on SQLite. Rendering thousands of separate parameters costs more than the query."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam("values", values, type_=ARRAY(String)))
    items: Any = select(literal_column("value")).select_from(
        func.json_each(bindparam("values", json.dumps(values)))
    )
    return column.in_(items.scalar_subquery())


async def in_read_lane(work: Callable[[], _T]) -> _T:
    """Run `work`, a short blocking read (the villager's lookup), on the read lane: one read at
    a time per event loop, first come, first served.

    On SQLite the lane is the event loop's own thread: a read there is a short piece of work in
    this process that waits for no other (in WAL mode readers do not wait for writers, and the
    pool never makes a checkout wait, see app.db.sqlite.sqlite_engine), and handing it to a
    thread costs more than the read. On PostgreSQL a read waits for the server, so the lane is
    a thread of its own, and the loop keeps reading the next requests meanwhile: one thread,
    not FastAPI's pool, whose threads contend for one GIL. See docs/performance.md#read-lane."""
    if get_engine().dialect.name == "sqlite":
        return work()
    try:
        lane = _READ_LANE.get()
    except LookupError:
        lane = CapacityLimiter(1)
        _READ_LANE.set(lane)
    return await to_thread.run_sync(work, limiter=lane)


_READ_LANE: RunVar[CapacityLimiter] = RunVar("read_lane")

# Threads of the write lane on PostgreSQL, where writes to different rows go on at once.
WRITE_LANE_THREADS = 4


async def in_write_lane(work: Callable[[], _T]) -> _T:
    """Run `work`, a villager's short write (a vote: its whole transaction), on the write lane:
    on SQLite one thread, since writes go one at a time anyway; on PostgreSQL a few
    (WRITE_LANE_THREADS). Not FastAPI's pool: there every waiting writer held a thread and a
    connection (SQLite's pool opened and closed one past its five for each), and 32 threads
    contended for one GIL (see docs/performance.md#vote)."""
    try:
        lane = _WRITE_LANE.get()
    except LookupError:
        sqlite = get_engine().dialect.name == "sqlite"
        lane = CapacityLimiter(1 if sqlite else WRITE_LANE_THREADS)
        _WRITE_LANE.set(lane)
    return await to_thread.run_sync(work, limiter=lane)


_WRITE_LANE: RunVar[CapacityLimiter] = RunVar("write_lane")


@contextmanager
def read_transaction() -> Iterator[Connection]:
    """A read transaction on a Core connection, for the villager's lookup: cheaper to open and
    close than a Session's (see docs/performance.md#core-read-transaction)."""
    with get_engine().connect() as connection, connection.begin():
        yield connection


ReadTransaction = Callable[[], AbstractContextManager[Connection]]


async def get_read_transaction() -> ReadTransaction:
    """`read_transaction` itself, to be entered on the read lane. On PostgreSQL a connection is
    then taken from the pool, and pinged, off the event loop, where waiting for a free one would
    stall every request, including those that would give one back. On SQLite the lane is the
    loop, and the pool never makes it wait."""
    return read_transaction


ReadTransactionDep = Annotated[ReadTransaction, Depends(get_read_transaction)]


class ReadLaneRoute(ApiRoute):
    """A route whose plain `def` handler, a short blocking read, runs on the read lane
    (`in_read_lane`: on SQLite the event loop itself, on PostgreSQL one thread of its
    own), not on FastAPI's pool of threads. Its dependencies run first, as on every route, and
    must not block the loop themselves (`app.ratelimit.hit_off_loop`)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, run_by(in_read_lane, endpoint), **kwargs)
