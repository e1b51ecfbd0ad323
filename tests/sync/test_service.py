import json
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date
from typing import Any

import pytest
from sqlalchemy import create_engine, event, func, insert, or_, select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.pool import NullPool

from app.config import get_settings
from app.db.engines import engine_for, get_engine, session_scope
from app.db.sqlite import GIVES_WAY
from app.regions.models import Region
from app.subsidies import service as subsidies_service
from app.subsidies.models import Payout, PayoutVersion, Person
from app.sync import service, steps
from app.sync.client import FeedClient
from app.sync.lease import SyncAlreadyRunning
from app.sync.models import RejectedRecord, SyncCursor
from app.sync.pages import FeedPages, PageSourceFactory
from app.sync.pipeline import PageStream
from tests.factories import SANGUANZHAI
from tests.subsidies.factories import ID_A, ID_B
from tests.sync.feed_server import TOKEN, TinyFeed, serving
from tests.sync.leases import acquire_lease, release_lease

BAD_CHECKSUM = ID_A[:-1] + "1"


def record(n: int, **overrides: Any) -> dict[str, Any]:
    base = {
        "record_id": f"PC202610-{n:07d}",
        "version": 1,
        "id_number": ID_A if n % 2 else ID_B,
        "name": "张秀英" if n % 2 else "欧阳明华",
        "village_code": SANGUANZHAI,
        "category_code": "05",
        "item_name": "城乡居民基础养老金",
        "amount": "143.00",
        "period": "2026-10",
        "paid_at": "2026-10-10",
        "status": "paid",
        "department": "县社会保险事业管理局",
    }
    return {**base, **overrides}


def feed_records() -> list[Any]:
    good = [record(n) for n in range(1, 21)]
    bad = [
        record(101, id_number=BAD_CHECKSUM),
        record(102, amount="-5.00"),
        record(103, amount="abc"),
        {k: v for k, v in record(104).items() if k != "period"},
        record(105, village_code="511923999201"),
        record(106, category_code="99"),
        record(107, paid_at="2026-02-30"),
        "not an object",
    ]
    corrections = [record(3, version=2, amount="153.00"), record(4, version=2, status="reversed")]
    replays = [record(5), record(1, version=1)]
    return good[:10] + bad[:4] + good[10:] + bad[4:] + corrections + replays


@pytest.fixture
def feed() -> Iterator[tuple[TinyFeed, str]]:
    tiny = TinyFeed(feed_records(), failures={"7": [503, 502]})
    with serving(tiny) as url:
        yield tiny, url


def client_for(url: str) -> FeedClient:
    return FeedClient(url, TOKEN, max_attempts=4, backoff_initial=0.01, backoff_max=0.05)


def count(model: Any) -> int:
    with session_scope()() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.mark.parametrize("pages", [PageStream, FeedPages], ids=["child-process", "in-process"])
def test_a_full_run_stores_good_records_and_quarantines_bad_ones(
    committed_db: str, feed: tuple[TinyFeed, str], pages: PageSourceFactory
) -> None:
    _, url = feed
    run = service.run_sync(
        get_settings(), trigger="cli", client=client_for(url), page_size=7, pages=pages
    )
    assert run.outcome == "succeeded", run.error
    total = len(feed_records())
    assert run.fetched == total
    assert (run.created, run.updated, run.rejected) == (20, 2, 8)
    assert run.unchanged == 2
    assert run.created + run.updated + run.unchanged + run.rejected == run.fetched
    assert count(Payout) == 20 and count(PayoutVersion) == 2 and count(Person) == 2
    with session_scope()() as session:
        reasons = set(session.scalars(select(RejectedRecord.reason)))
        assert reasons == {
            "id_number_invalid",
            "amount_invalid",
            "missing_field",
            "unknown_village",
            "unknown_category",
            "date_invalid",
            "not_an_object",
        }
        dumped = json.dumps(
            [r.payload for r in session.scalars(select(RejectedRecord))], ensure_ascii=False
        )
        cursor = session.get(SyncCursor, steps.FEED)
        assert cursor is not None and cursor.cursor == str(total)
    for secret in (ID_A, ID_B, BAD_CHECKSUM, "张秀英", "欧阳明华"):
        assert secret not in dumped


def test_every_stored_line_refers_to_a_stored_person_and_a_known_village(
    committed_db: str, feed: tuple[TinyFeed, str]
) -> None:
    """The sync's own transactions skip the foreign-key checks (on PostgreSQL when the role
    may), as it checks the references itself: what it stores still refers only to what exists,
    and every other connection still refuses a line without its person."""
    _, url = feed
    run = service.run_sync(get_settings(), trigger="cli", client=client_for(url), page_size=7)
    assert run.outcome == "succeeded" and run.rejected == 8  # among them an unknown village
    with session_scope()() as session:
        orphans = session.scalar(
            select(func.count())
            .select_from(Payout)
            .outerjoin(Person, Person.id == Payout.person_id)
            .outerjoin(Region, Region.code == Payout.village_code)
            .where(or_(Person.id.is_(None), Region.code.is_(None)))
        )
    assert orphans == 0 and count(Payout) == 20
    orphan = {
        "record_id": "PC202610-9999999",
        "version": 1,
        "person_id": 999_999,
        "village_code": SANGUANZHAI,
        "category_code": "05",
        "item_name": "城乡居民基础养老金",
        "amount_fen": 14300,
        "period": "2026-10",
        "paid_on": date(2026, 10, 10),
        "status": "paid",
        "department": "县社会保险事业管理局",
    }
    with ExitStack() as stack:  # more at once than the pool keeps: the sync's one among them
        connections = [stack.enter_context(get_engine().connect()) for _ in range(8)]
        for connection in connections:
            with pytest.raises(IntegrityError):
                connection.execute(insert(Payout).values(orphan))
            connection.rollback()
    assert count(Payout) == 20


def test_a_second_run_resumes_from_the_saved_cursor(
    committed_db: str, feed: tuple[TinyFeed, str]
) -> None:
    tiny, url = feed
    first = service.run_sync(
        get_settings(), trigger="cli", client=client_for(url), page_size=7, max_pages=2
    )
    assert first.fetched == 14 and first.cursor_end == "14"
    second = service.run_sync(get_settings(), trigger="cli", client=client_for(url), page_size=7)
    assert second.cursor_start == "14"
    assert first.fetched + second.fetched == len(tiny.records)
    tiny.records.append(record(500))  # the next night brings one more
    third = service.run_sync(get_settings(), trigger="cli", client=client_for(url), page_size=7)
    assert (third.fetched, third.created) == (1, 1)


@pytest.mark.parametrize("pages", [PageStream, FeedPages], ids=["child-process", "in-process"])
def test_a_person_is_written_from_the_records_stored_not_those_seen(
    committed_db: str, pages: PageSourceFactory
) -> None:
    """A record not stored (a replay, or a version conflict) changes nothing of its person,
    even when it names them otherwise; a later record of the same run with that name, stored,
    renames them: what a run remembers of a person follows what it stored, not what it saw."""
    renamed = record(1, name="张秀兰")  # a replay of record 1 (the name is not its content)
    conflict = record(1, name="张秀兰", amount="1.00")
    tiny = TinyFeed([record(1), renamed, conflict])

    def run_and_name() -> str:
        with serving(tiny) as url:
            run = service.run_sync(
                get_settings(), trigger="cli", client=client_for(url), page_size=1, pages=pages
            )
        assert run.outcome == "succeeded", run.error
        with session_scope()() as session:
            return session.scalars(select(Person.name_masked)).one()

    assert run_and_name() == "张*英"
    tiny.records += [record(3), renamed, conflict, record(5, name="张秀兰")]
    assert run_and_name() == "张*兰"
    assert count(RejectedRecord) == 2 and count(Payout) == 3


@pytest.mark.parametrize("commit_records", [1, 100], ids=["a-commit-per-page", "grouped"])
def test_a_crash_mid_page_loses_nothing_and_duplicates_nothing(
    committed_db: str,
    feed: tuple[TinyFeed, str],
    monkeypatch: pytest.MonkeyPatch,
    commit_records: int,
) -> None:
    _, url = feed
    real_store = subsidies_service.store_payouts
    calls = {"n": 0}

    def crash_on_third_page(session: Any, records: Any, **options: Any) -> Any:
        calls["n"] += 1
        result = real_store(session, records, **options)
        if calls["n"] == 3:
            raise KeyboardInterrupt  # the process dies inside the page's transaction
        return result

    monkeypatch.setattr(subsidies_service, "store_payouts", crash_on_third_page)
    with pytest.raises(KeyboardInterrupt):
        service.run_sync(
            get_settings(),
            trigger="cli",
            client=client_for(url),
            page_size=7,
            commit_records=commit_records,
        )
    with session_scope()() as session:
        saved_cursor = session.get_one(SyncCursor, steps.FEED).cursor
    # Where the last commit fell depends on timing (a group is committed before waiting for
    # the feed); what was stored always matches the saved cursor exactly.
    good_before = {None: 0, "7": 7, "14": 10}
    if commit_records == 1:
        assert saved_cursor == "14"
    assert count(Payout) == good_before[saved_cursor]  # page 3 rolled back

    monkeypatch.setattr(subsidies_service, "store_payouts", real_store)
    resumed = service.run_sync(get_settings(), trigger="cli", client=client_for(url), page_size=7)
    assert resumed.outcome == "succeeded" and resumed.cursor_start == saved_cursor
    assert count(Payout) == 20 and count(PayoutVersion) == 2
    with session_scope()() as session:
        assert session.scalar(select(func.count()).select_from(RejectedRecord)) == 8
        outcomes = list(session.execute(text("SELECT outcome FROM sync_run ORDER BY id")).scalars())
    assert outcomes == ["failed", "succeeded"]  # the dead run is marked, not left running


def test_only_one_sync_at_a_time(committed_db: str, feed: tuple[TinyFeed, str]) -> None:
    _, url = feed
    assert acquire_lease("another-machine")
    with pytest.raises(SyncAlreadyRunning):
        service.run_sync(get_settings(), trigger="cli", client=client_for(url))
    release_lease("another-machine")
    assert (
        service.run_sync(get_settings(), trigger="cli", client=client_for(url)).outcome
        == "succeeded"
    )


def test_a_feed_that_stays_down_fails_the_run_clearly(committed_db: str) -> None:
    tiny = TinyFeed([record(1)], failures={"0": [503] * 10})
    with serving(tiny) as url:
        run = service.run_sync(get_settings(), trigger="cli", client=client_for(url))
    assert run.outcome == "failed"
    assert run.error is not None and "连续 4 次" in run.error
    assert run.finished_at is not None
    engine_for(committed_db).dispose()


def test_a_feed_that_fails_mid_run_keeps_the_pages_stored_before(committed_db: str) -> None:
    tiny = TinyFeed([record(n) for n in range(1, 12)], failures={"7": [503] * 10})
    with serving(tiny) as url:
        run = service.run_sync(get_settings(), trigger="cli", client=client_for(url), page_size=7)
        assert (run.outcome, run.fetched, run.cursor_end) == ("failed", 7, "7")
        assert count(Payout) == 7
        tiny.failures.clear()  # the platform is back the next night
        resumed = service.run_sync(get_settings(), trigger="cli", client=client_for(url))
    assert (resumed.cursor_start, resumed.fetched, resumed.outcome) == ("7", 4, "succeeded")
    assert count(Payout) == 11
    engine_for(committed_db).dispose()


def test_a_run_goes_on_between_its_commits_as_connections_come_and_go(
    committed_db: str, feed: tuple[TinyFeed, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between two of the run's transactions the lease's heartbeat may take a connection, and
    on PostgreSQL the server may drop the run's (a restart, a failover, an idle timeout).
    Before, each transaction took one from the pool: once the heartbeat had taken the run's,
    a SQLite run went on two connections in turn, each filling a page cache and prepared
    statements of its own (about 20 MB more at 1 000 000 records), so on SQLite the run keeps
    one. Holding one on PostgreSQL failed the run when the server dropped it, so there each
    transaction takes one that the pool checks first."""
    _, url = feed
    engine = get_engine()
    on_sqlite = engine.dialect.name == "sqlite"
    noted: list[Any] = []  # the driver connection of each of the run's transactions
    taken: list[Any] = []
    dropped: list[int] = []
    real_committed = steps.CommitPolicy.committed

    def note(connection: Any) -> None:
        if connection.get_execution_options().get(GIVES_WAY):  # the sync's transactions
            noted.append(connection.connection.driver_connection)

    def between_commits(policy: steps.CommitPolicy) -> None:
        real_committed(policy)
        if not on_sqlite and not dropped:  # the server ends the run's connection, once
            dropped.append(noted[-1].info.backend_pid)
            with create_engine(committed_db, poolclass=NullPool).connect() as other:
                # waits until it has ended (5 s at most), so that the pool's check sees it gone
                other.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": dropped[0]})
        else:  # taken as the heartbeat may, until the run's next transaction begins
            taken.append(engine.connect())

    def hand_back(_connection: Any) -> None:
        while taken:
            taken.pop().close()

    monkeypatch.setattr(steps.CommitPolicy, "committed", between_commits)
    event.listen(engine, "begin", note)
    event.listen(engine, "begin", hand_back)
    try:
        run = service.run_sync(
            get_settings(),
            trigger="cli",
            client=client_for(url),
            page_size=7,
            commit_records=1,
            pages=FeedPages,
        )
    finally:
        event.remove(engine, "begin", hand_back)
        event.remove(engine, "begin", note)
        hand_back(None)
    assert run.outcome == "succeeded", run.error
    assert count(Payout) == 20 and len(noted) >= 4
    if on_sqlite:
        assert len({id(driver) for driver in noted}) == 1
    else:  # the transactions after the drop went on a new connection
        assert {driver.info.backend_pid for driver in noted[1:]} - set(dropped)


def test_a_database_error_ends_the_run_as_failed_with_what_it_stored(
    committed_db: str, feed: tuple[TinyFeed, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before, any error but the feed's left the run `running` (SQLite's "database is locked"
    past its wait, PostgreSQL refusing a value)."""
    _, url = feed
    real_store = subsidies_service.store_payouts
    calls = {"n": 0}

    def locked_on_second_page(session: Any, records: Any, **options: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OperationalError("INSERT ...", {}, Exception("database is locked"))
        return real_store(session, records, **options)

    monkeypatch.setattr(subsidies_service, "store_payouts", locked_on_second_page)
    run = service.run_sync(
        get_settings(), trigger="cli", client=client_for(url), page_size=7, commit_records=1
    )
    assert run.outcome == "failed" and run.finished_at is not None
    assert run.error is not None and "同步意外出错（OperationalError）" in run.error
    assert (run.pages, run.fetched, run.cursor_end) == (1, 7, "7")
    with session_scope()() as session:
        assert session.get_one(SyncCursor, steps.FEED).cursor == "7"
    assert acquire_lease("the-next-run")
