"""Engines, sessions and transactions. Only this package opens transactions: a request gets one
through `SessionDep` (or `ReadSessionDep`), other code through `session_scope`."""

from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from functools import lru_cache
from typing import Annotated, Any

import anyio.to_thread
from anyio import CancelScope, CapacityLimiter
from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from app.config import get_settings
from app.db.postgres import postgres_engine
from app.db.sqlite import (
    GIVES_WAY,
    REFERENCES_CHECKED,
    SORTS_ON_DISK,
    WRITE_INTENT,
    sqlite_engine,
)
from app.errors import LianyunError
from app.routing import ApiRoute

_READ_METHODS = {"GET", "HEAD", "OPTIONS"}


def is_sqlite(url: str) -> bool:
    """Whether a database URL is SQLite's (embedded); any other is PostgreSQL's."""
    return url.startswith("sqlite")


@lru_cache
def engine_for(url: str) -> Engine:
    if is_sqlite(url):
        return sqlite_engine(url)
    return postgres_engine(url)


def get_engine() -> Engine:
    return engine_for(get_settings().database_url)


@lru_cache
def _sessionmaker_for(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def session_scope() -> sessionmaker[Session]:
    """For code outside a request: `with session_scope().begin() as session: ...`."""
    return _sessionmaker_for(get_engine())


@contextmanager
def bulk_write_session() -> Iterator[Session]:
    """A Session for the sync: it writes in every transaction (see WRITE_INTENT), lets waiting
    writers go first (GIVES_WAY) and checks its rows' references itself (see
    REFERENCES_CHECKED). On SQLite all its transactions go on one connection, held until the
    block ends: from the pool, a transaction could get another connection (the lease's
    heartbeat takes one between two of them), which then filled a page cache and prepared
    statements of its own (docs/performance.md#one-connection-for-the-sync). On PostgreSQL
    each transaction takes one from the pool, which checks it first (`pool_pre_ping`), so a
    connection the server dropped between two of them is replaced, not the run failed."""
    engine = _bulk_writing(get_engine())
    if engine.dialect.name != "sqlite":
        with _sessionmaker_for(engine)() as session:
            yield session
        return
    with (
        engine.connect() as connection,
        Session(bind=connection, expire_on_commit=False) as session,
    ):
        yield session


def sorting_session_scope() -> sessionmaker[Session]:
    """Like `session_scope`, for a transaction that sorts and groups whole tables (a screening
    run): on SQLite its temporary tables go to a file, so that the process does not grow with
    the payouts (see SORTS_ON_DISK)."""
    return _sessionmaker_for(_sorting(get_engine()))


@lru_cache
def _sorting(engine: Engine) -> Engine:
    return engine.execution_options(**{SORTS_ON_DISK: True})


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


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's Session, in one transaction (`transaction`).

    A read's transaction begins without a word to the database, so its Session is opened on
    the event loop: a hop to a worker thread and back costs more
    (docs/performance.md#session-hops). A write's is opened in a thread, since it first waits
    for SQLite's write turn (WRITE_INTENT). Closing commits or rolls back, which may write (a
    GET may record a scan or an audit line) and wait for the disk or the server: always in a
    thread. As FastAPI does for a blocking dependency, the close runs whatever cancels the
    request, on a thread of its own rather than one of the pool's, which may all be waiting
    for the turn this one holds."""
    writes = request.method not in _READ_METHODS
    sessions = sorting_session_scope if request.scope.get(_SORTS) else session_scope
    if writes:
        session, opened = await run_in_threadpool(_open_session, writes, sessions)
    else:
        session, opened = _open_session(writes, sessions)
    try:
        yield session
    except BaseException as exc:
        with CancelScope(shield=True):
            await _in_own_thread(opened.__exit__, type(exc), exc, exc.__traceback__)
        raise
    with CancelScope(shield=True):
        await _in_own_thread(opened.close)


def _open_session(
    writes: bool, sessions: Callable[[], sessionmaker[Session]]
) -> tuple[Session, ExitStack]:
    """A Session in its transaction, and what closes both; for a write, its write turn taken."""
    with ExitStack() as stack:
        session = stack.enter_context(sessions()())
        stack.enter_context(transaction(session))
        if writes:
            session.connection(execution_options={WRITE_INTENT: True})
        return session, stack.pop_all()


_SORTS = "lianyun.sorts_whole_tables"


class SortingRoute(ApiRoute):
    """A route whose request sorts and groups whole tables in its transaction (a staff
    member's screening run; a list uploaded or a standard set, which screen again): its
    request's Session (`SessionDep`, one for the request and its dependencies, as on any
    route) comes from `sorting_session_scope`, so that on SQLite the API worker does not grow
    with the payouts (see SORTS_ON_DISK)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def sorting_handler(request: Request) -> Response:
            request.scope[_SORTS] = True
            return await handler(request)

        return sorting_handler


async def _in_own_thread(work: Callable[..., object], *args: object) -> None:
    await anyio.to_thread.run_sync(work, *args, limiter=CapacityLimiter(1))


async def get_read_session() -> AsyncIterator[Session]:
    with session_scope()() as session, transaction(session):
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
# For a POST that only reads (an ID number or a receipt code must not go in a URL): it neither
# waits for nor holds the write lock.
ReadSessionDep = Annotated[Session, Depends(get_read_session, scope="function")]


@contextmanager
def write_transaction() -> Iterator[Session]:
    """A writing request's transaction, opened and closed inside one piece of blocking work.
    `SessionDep` takes SQLite's write turn when its dependency is entered, in one thread of
    FastAPI's pool, and the handler runs later in another: with more concurrent writers than
    the pool has threads, every thread can be waiting for the turn that a request holding it
    cannot use for want of a thread. A hot write route that does all its work in one
    `run_in_threadpool` call holds the turn only while it works."""
    with session_scope()() as session, transaction(session):
        session.connection(execution_options={WRITE_INTENT: True})
        yield session


WriteTransaction = Callable[[], AbstractContextManager[Session]]


async def get_write_transaction() -> WriteTransaction:
    """`write_transaction` itself, to be entered inside the route's one blocking call (tests
    swap it for a savepoint of their own transaction)."""
    return write_transaction


WriteTransactionDep = Annotated[WriteTransaction, Depends(get_write_transaction)]
