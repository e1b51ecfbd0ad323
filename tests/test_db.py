"""Write requests and the nightly sync share one SQLite file: a write request waits for the
sync's commit instead of failing, and a read-only POST does not wait at all. The lookup's fast
path (FastSelect, the read lane) answers as SQLAlchemy would, first come, first served."""

import math
import threading
import time
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import bindparam, func, make_url, select, text
from sqlalchemy.orm import Session

from app.db.base import in_conditions, one_of
from app.db.engines import (
    SessionDep,
    bulk_write_session,
    engine_for,
    get_engine,
    session_scope,
)
from app.db.fastpath import (
    READ_LANE_THREADS,
    FastSelect,
    OwnConnection,
    ReadLaneRoute,
    in_read_lane,
    own_read_transaction,
    read_lane_size,
    read_transaction,
)
from app.db.sqlite import SORTS_ON_DISK, writers_waiting
from app.errors import Conflict, NotFound
from app.main import create_app
from app.regions.models import Region
from app.routing import ApiRoute, ApiRouter
from app.security import hash_password, verify_password
from tests.factories import DEFAULT_PASSWORD, make_staff
from tests.locks import another_writer, release_once_waiting, take_write_lock, writer_waiting
from tests.subsidies.factories import ID_A


def test_a_write_request_waits_for_another_writer_instead_of_failing(committed_db: str) -> None:
    with session_scope().begin() as session:
        make_staff(session, username="waiting-clerk")
    release = threading.Event()
    events: list[str] = []
    with (
        another_writer(committed_db, release, events),
        TestClient(create_app(configure_logs=False, schedule_jobs=False)) as client,
    ):
        releaser = threading.Thread(target=release_once_waiting, args=(release,))
        releaser.start()
        # Signing in reads the account, then writes a refresh token.
        response = client.post(
            "/api/v1/auth/token", data={"username": "waiting-clerk", "password": DEFAULT_PASSWORD}
        )
        events.append("answered")
        releaser.join()
    assert response.status_code == 200, response.text
    assert events == ["released", "answered"]  # it waited for the lock, then went in


def test_a_write_request_goes_in_at_the_syncs_next_commit_not_at_its_end(
    committed_db: str,
) -> None:
    # The sync writes for minutes and begins its next transaction as soon as it commits, an
    # instant SQLite's own wait for the lock seldom catches. A request that waits must go in
    # at the next commit: here the sync goes on until the request is answered, for 200
    # transactions at most (10 s, the request's own limit for its wait).
    # On PostgreSQL the stand-in locks only the table the sign-in writes last: a sign-in that
    # holds its account's row while the stand-in locked tables one by one deadlocked with it.
    locked = ("refresh_token",)
    with session_scope().begin() as session:
        make_staff(session, username="night-clerk")
    started = time.perf_counter()
    verify_password(hash_password(DEFAULT_PASSWORD), DEFAULT_PASSWORD)
    check_commits = math.ceil((time.perf_counter() - started) / 2 / 0.05)  # a check, in commits
    rounds: list[int] = []
    waited: list[int] = []  # the sync's commits made while a writer was waiting for the lock
    answered = threading.Event()

    def sync() -> None:
        with bulk_write_session() as session:
            for i in range(200):
                take_write_lock(session.connection(), locked)
                time.sleep(0.05)  # storing pages, holding the write lock
                if writer_waiting(session):
                    waited.append(i)
                session.commit()
                rounds.append(i)
                if answered.is_set():
                    return

    with TestClient(create_app(configure_logs=False, schedule_jobs=False)) as client:
        syncing = threading.Thread(target=sync)
        syncing.start()
        while len(rounds) < 2 and syncing.is_alive():
            time.sleep(0.01)
        asked = len(rounds)
        response = client.post(  # reads the account, then writes a refresh token
            "/api/v1/auth/token", data={"username": "night-clerk", "password": DEFAULT_PASSWORD}
        )
        took = len(rounds) - asked
        answered.set()
        syncing.join()
    assert response.status_code == 200, response.text
    # The request went in at the sync's next commit: at most one more commit (the one the sync
    # was already in) passed it by while it waited, and it was answered within a few of the
    # sync's commits beyond those its password check lasts (about one on a quick machine, five
    # on a slow one under load: measured here). Without the turn, SQLite's wait missed commit
    # after commit, and the request failed after 10 s or got in by chance, late. Counted in
    # the sync's commits, not in seconds. (A request whose write falls between a commit and the
    # sync's next transaction goes in without waiting at all: `waited` is empty.)
    assert len(waited) <= 2, waited
    assert took <= 4 + check_commits, f"answered after {took} of the sync's commits"


def test_writes_go_on_when_the_writers_turn_file_cannot_be_made(committed_db: str) -> None:
    # Made by another user, or a directory that became read-only: writers then just wait as
    # SQLite lets them; nothing fails for it. (PostgreSQL takes no such file: writes go on.)
    url = make_url(committed_db)
    if url.get_backend_name() == "sqlite":
        Path(f"{url.database}-writers").symlink_to("/nonexistent/lianyun-writers")
    with session_scope().begin() as session:
        make_staff(session, username="clerk-without-turns")
    with TestClient(create_app(configure_logs=False, schedule_jobs=False)) as client:
        response = client.post(
            "/api/v1/auth/token",
            data={"username": "clerk-without-turns", "password": DEFAULT_PASSWORD},
        )
    assert response.status_code == 200, response.text
    with bulk_write_session() as session:
        assert not writers_waiting(session)
        session.execute(text("UPDATE region SET name = name WHERE code = '511923000000'"))
        session.commit()


def test_a_read_only_post_does_not_wait_for_a_writer(committed_db: str) -> None:
    events: list[str] = []
    with (
        another_writer(committed_db, threading.Event(), events),
        TestClient(create_app(configure_logs=False, schedule_jobs=False)) as client,
    ):
        # The lookup is a POST (an ID number must not go in a URL) that only reads; it is
        # answered while the writer still holds the lock.
        response = client.post(
            "/api/v1/subsidies/lookup", json={"id_number": ID_A, "name": "张秀英"}
        )
        events.append("answered")
    assert response.status_code == 404 and response.json()["code"] == "person_not_found"
    assert events == ["answered", "released"]


def test_fast_select_returns_what_sqlalchemy_returns(session: Session) -> None:
    statement = (
        select(Region.code, Region.name, func.length(Region.name))
        .where(Region.parent_code == bindparam("parent"), Region.level == "village")
        .order_by(Region.code)
    )
    fast = FastSelect(statement)
    expected = [tuple(row) for row in session.execute(statement, {"parent": "511923001000"})]
    assert expected  # the township has villages
    connection = session.connection()
    assert [tuple(row) for row in fast.rows(connection, parent="511923001000")] == expected
    assert fast.rows(connection, parent="no such township") == []
    with pytest.raises(KeyError):  # a parameter the statement needs is never silently NULL
        fast.rows(connection)


def test_the_read_lane_lets_reads_in_in_the_order_they_came_its_size_at_a_time() -> None:
    """On SQLite one at a time, on the loop itself; on PostgreSQL READ_LANE_THREADS at once."""
    if get_engine().dialect.name == "sqlite":
        _reads_one_at_a_time_in_order_on_the_loop()
    else:
        _reads_two_at_once_in_order_through_gates()


def _reads_one_at_a_time_in_order_on_the_loop() -> None:
    events: list[tuple[str, int]] = []

    def read(n: int) -> int:
        events.append(("start", n))
        time.sleep(0.01)
        events.append(("end", n))
        return n * n

    async def main() -> list[int]:
        results: list[int] = []

        async def one(n: int) -> None:
            results.append(await in_read_lane(lambda: read(n)))

        async with anyio.create_task_group() as group:
            for n in range(5):
                group.start_soon(one, n)
                await anyio.sleep(0.001)  # they arrive in this order
        return results

    assert anyio.run(main) == [0, 1, 4, 9, 16]
    assert events == [(step, n) for n in range(5) for step in ("start", "end")]
    assert read_lane_size() == 1


def _reads_two_at_once_in_order_through_gates() -> None:
    """Each read waits at its own gate: the lane lets in the first READ_LANE_THREADS to come,
    no more while they read, and the next to come each time one of them ends."""
    started: list[int] = []
    lock = threading.Lock()
    gates = [threading.Event() for _ in range(5)]

    def read(n: int) -> int:
        with lock:
            started.append(n)
        if not gates[n].wait(timeout=10):
            raise TimeoutError(n)
        return n

    async def until_started(count: int) -> None:
        with anyio.fail_after(10):
            while len(started) < count:
                await anyio.sleep(0.001)

    async def main() -> list[list[int]]:
        seen = []
        async with anyio.create_task_group() as group:
            for n in range(5):
                group.start_soon(in_read_lane, partial(read, n))
                await anyio.sleep(0.001)  # they arrive in this order
            await until_started(READ_LANE_THREADS)
            await anyio.sleep(0.05)  # time enough for a third, were it let in
            seen.append(sorted(started))
            for n in range(5):
                gates[n].set()
                await until_started(min(5, READ_LANE_THREADS + n + 1))
            seen.append(started[READ_LANE_THREADS:])
        return seen

    first, then = anyio.run(main)
    assert READ_LANE_THREADS == read_lane_size() > 1
    assert first == list(range(READ_LANE_THREADS))
    assert then == list(range(READ_LANE_THREADS, 5))


def test_a_read_lane_route_runs_its_handler_on_the_lane_and_a_plain_route_in_the_pool() -> None:
    """Four requests at once: the lookup's kind of route reads the lane's size at a time (one on
    SQLite, two on PostgreSQL), an ordinary route's `def` handlers overlap in FastAPI's pool.
    Both routes are copied by `include_router`, as the app's are."""
    running = {"now": 0, "most": 0}
    lock = threading.Lock()

    def read() -> dict[str, int]:
        with lock:
            running["now"] += 1
            running["most"] = max(running["most"], running["now"])
        time.sleep(0.02)
        with lock:
            running["now"] -= 1
        return {"ok": 1}

    lane, pool = ApiRouter(route_class=ReadLaneRoute), ApiRouter(route_class=ApiRoute)
    lane.get("/lane")(read)
    pool.get("/pool")(read)
    app = FastAPI()
    app.include_router(lane)
    app.include_router(pool)

    async def most_at_once(path: str) -> int:
        running["most"] = 0
        transport = httpx.ASGITransport(app=app)
        client = httpx.AsyncClient(transport=transport, base_url="http://test")
        async with client, anyio.create_task_group() as group:
            for _ in range(4):
                group.start_soon(client.get, path)
        return running["most"]

    assert anyio.run(most_at_once, "/lane") == read_lane_size()
    assert anyio.run(most_at_once, "/pool") > read_lane_size()


def test_sqlite_never_makes_a_connection_wait_for_the_pool(tmp_path: Path) -> None:
    # On SQLite the lookup reads on the event loop: waiting there for a connection that only
    # the loop can give back (other requests end on the loop) would stall the whole process.
    engine = engine_for(f"sqlite:///{tmp_path / 'pool.db'}")
    with ExitStack() as stack:
        held = [stack.enter_context(engine.connect()) for _ in range(40)]  # FastAPI's threads
        with engine.connect() as one_more:
            assert one_more.execute(text("SELECT 1")).scalar_one() == 1
        assert len(held) == 40
    engine.dispose()


def test_the_lookups_reads_are_one_moment_on_sqlite_and_each_statement_its_own_on_postgresql(
    committed_db: str,
) -> None:
    # A sync commits between two of the lookup's statements. On SQLite they read in one
    # transaction and the second does not see it; on PostgreSQL each reads what was committed
    # when it began, in autocommit (no BEGIN and COMMIT round trips: within a transaction
    # PostgreSQL's READ COMMITTED would show the same), and the pool gets the connection back
    # as it was, no transaction open.
    name_of = FastSelect(select(Region.name).where(Region.code == bindparam("code")))
    county = "511923000000"
    with read_transaction() as reads:
        before = name_of.rows(reads, code=county)[0][0]
        with session_scope().begin() as session:
            session.execute(text("UPDATE region SET name = '新名' WHERE code = :c"), {"c": county})
        after = name_of.rows(reads, code=county)[0][0]
        postgresql = reads.dialect.name == "postgresql"
        driver: Any = reads.connection.driver_connection if postgresql else None
        autocommit = postgresql and driver.autocommit
    if make_url(committed_db).get_backend_name() == "sqlite":
        assert after == before
    else:
        assert after == "新名"
        assert autocommit
        assert not driver.autocommit  # given back to the pool as it was, no transaction open
        assert driver.info.transaction_status.name == "IDLE"


def test_the_sqlite_read_lane_reads_one_moment_each_time_on_its_own_connection(
    tmp_path: Path,
) -> None:
    # The lookup's reads on SQLite: a person and their lines come from one moment of the data
    # (a sync committing in between is seen whole or not at all), the next lookup sees that
    # commit, and a lookup that fails (or a rollback that failed) leaves the connection ready
    # for the next.
    engine = engine_for(f"sqlite:///{tmp_path / 'lane.db'}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE line (amount INTEGER)")
        connection.exec_driver_sql("INSERT INTO line VALUES (100)")

    def total(own: OwnConnection) -> int:
        return int(own.connection.execute("SELECT sum(amount) FROM line").fetchone()[0])

    with own_read_transaction(engine) as own:
        assert total(own) == 100
        with engine.begin() as writer:  # the sync commits while the lookup reads
            writer.exec_driver_sql("INSERT INTO line VALUES (50)")
        assert total(own) == 100
    with pytest.raises(ZeroDivisionError), own_read_transaction(engine) as again:
        assert again.connection is own.connection  # the thread's own, kept
        assert total(again) == 150
        _ = 1 / 0
    with own_read_transaction(engine) as after_failure:
        assert total(after_failure) == 150
    assert not own.connection.in_transaction
    own.connection.execute("BEGIN")  # as if a rollback had failed: the next lookup still reads
    with own_read_transaction(engine) as healed:
        assert total(healed) == 150

    other: list[OwnConnection] = []

    def read_elsewhere() -> None:
        with own_read_transaction(engine) as there:
            other.append(there)

    thread = threading.Thread(target=read_elsewhere)
    thread.start()
    thread.join()
    assert other and other[0].connection is not own.connection  # a connection a thread
    engine.dispose()  # as when the database file is replaced: the next lookup connects anew
    with own_read_transaction(engine) as after_dispose:
        assert after_dispose.connection is not own.connection
        assert total(after_dispose) == 150
    engine.dispose()


def _renaming_app() -> FastAPI:
    """The app with two routes of its own on `SessionDep`: a read, and a write that renames a
    village, then fails as asked."""
    app = create_app(configure_logs=False, schedule_jobs=False)

    @app.get("/test/regions/{code}")
    def read_name(code: str, session: SessionDep, suffix: str = "") -> str:
        region = session.get(Region, code)
        if region is None:
            raise NotFound("没有这个地区")
        if suffix:  # a GET that writes, as a poster's scan is counted
            region.name += suffix
        return region.name

    @app.post("/test/regions/{code}")
    def rename(code: str, name: str, session: SessionDep, fail: str = "") -> str:
        region = session.get(Region, code)
        assert region is not None
        region.name = name
        session.flush()
        if fail == "kept":
            error = Conflict("失败，但改名留下")
            error.keep_writes = True
            raise error
        if fail == "refused":
            raise Conflict("失败，改名撤销")
        if fail == "crash":
            raise RuntimeError("失败，改名撤销")
        return name

    return app


def test_a_request_session_commits_a_write_and_rolls_back_a_failed_one(committed_db: str) -> None:
    village = "511923103204"  # 三官寨村
    with TestClient(_renaming_app(), raise_server_exceptions=False) as client:
        assert client.get(f"/test/regions/{village}").json() == "三官寨村"
        assert client.post(f"/test/regions/{village}?name=甲村").status_code == 200
        assert client.get(f"/test/regions/{village}").json() == "甲村"
        assert client.post(f"/test/regions/{village}?name=乙村&fail=refused").status_code == 409
        assert client.post(f"/test/regions/{village}?name=丙村&fail=crash").status_code == 500
        assert client.get(f"/test/regions/{village}").json() == "甲村"
        assert client.post(f"/test/regions/{village}?name=丁村&fail=kept").status_code == 409
        assert client.get(f"/test/regions/{village}").json() == "丁村"
        assert client.get("/test/regions/000000000000").status_code == 404  # a failed read
        assert client.get(f"/test/regions/{village}?suffix=一").json() == "丁村一"
    with session_scope()() as session:
        assert session.get(Region, village).name == "丁村一"  # type: ignore[union-attr]
    # every request's connection went back to the pool: none is left checked out
    assert engine_for(committed_db).pool.checkedout() == 0  # type: ignore[attr-defined]


def test_a_sorting_transaction_keeps_its_temporary_tables_in_a_file_and_then_memory_again(
    tmp_path: Path,
) -> None:
    # A screening run's (SORTS_ON_DISK): in memory, what it grouped and sorted grew the process
    # with the payouts. Every other transaction keeps them in memory, where they cost less.
    engine = engine_for(f"sqlite:///{tmp_path / 'sorts.db'}")
    sorting = engine.execution_options(**{SORTS_ON_DISK: True})
    # temp_store (2: memory, 1: a file) and the page cache (in KiB), which also bounds what the
    # sorter keeps in memory
    usual, on_disk = (2, -16384), (1, -4096)

    def pragmas(connection: Any) -> tuple[tuple[int, int], int]:
        driver = connection.connection.driver_connection
        store = connection.execute(text("PRAGMA temp_store")).scalar_one()
        cache = connection.execute(text("PRAGMA cache_size")).scalar_one()
        return (store, cache), id(driver)

    with engine.begin() as connection:
        before, driver = pragmas(connection)
    with sorting.begin() as connection:
        during, sorting_driver = pragmas(connection)
        connection.execute(text("CREATE TEMPORARY TABLE pairs (person_id INTEGER PRIMARY KEY)"))
        connection.execute(text("INSERT INTO pairs VALUES (1), (2)"))
        assert connection.execute(text("SELECT count(*) FROM pairs")).scalar_one() == 2
    with engine.begin() as connection:
        after, after_driver = pragmas(connection)
    assert (before, during, after) == (usual, on_disk, usual)
    assert driver == sorting_driver == after_driver  # one connection, set back at check-in
    # A connection lost in such a transaction is closed and goes back to the pool: there is
    # nothing to set back (the check-in once failed on it, and the pool kept it checked out).
    lost = sorting.connect()
    lost.begin()
    lost.invalidate()
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    engine.dispose()


def test_two_lists_bound_as_one_parameter_each_in_one_statement_keep_their_own_values(
    session: Session,
) -> None:
    # one_of and in_conditions bind a whole list as one parameter: two in one statement once
    # shared a name, and one list silently stood for both.
    villages = [
        code
        for (code,) in session.execute(select(Region.code).order_by(Region.code).limit(3)).all()
    ]
    first, second = (
        one_of(session, Region.code, villages[:2]),
        one_of(session, Region.code, villages[1:]),
    )
    both = session.scalars(select(Region.code).where(first, second)).all()
    assert both == [villages[1]]
    (by_first,) = in_conditions(session, Region.code, villages[:1])
    (by_third,) = in_conditions(session, Region.code, villages[2:])
    assert session.scalars(select(Region.code).where(by_first | by_third)).all() == [
        villages[0],
        villages[2],
    ]
