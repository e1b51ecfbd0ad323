"""After every successful sync, an incremental screening in the sync's lease; a screening that
fails leaves the sync succeeded and is recorded failed, logged without a record's values."""

import logging
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import get_settings
from app.db.engines import engine_for, session_scope
from app.db.sqlite import SORTS_ON_DISK
from app.main import create_app
from app.screening import runs
from app.screening.models import Flag, ScreeningRun
from app.screening.rules import RuleCode
from app.staff.models import Role
from app.sync import service
from tests.factories import DEFAULT_PASSWORD, make_staff
from tests.screening.lists_data import deceased_csv, id_number
from tests.subsidies.factories import ID_A, ID_B
from tests.sync.feed_server import TinyFeed, serving
from tests.sync.test_service import client_for, record


def _screening_runs() -> list[ScreeningRun]:
    with session_scope()() as session:
        return list(session.scalars(select(ScreeningRun).order_by(ScreeningRun.id)))


def test_a_successful_sync_is_followed_by_an_incremental_screening(committed_db: str) -> None:
    # ID_A paid twice for 2026-10's pension (records 1 and 3): a duplicate.
    tiny = TinyFeed([record(1), record(2), record(3)])
    with serving(tiny) as url:
        sync = service.run_sync(get_settings(), trigger="cli", client=client_for(url))

    assert sync.outcome == "succeeded"
    (run,) = _screening_runs()
    assert (run.trigger, run.scope, run.sync_run_id, run.outcome) == (
        "sync",
        "incremental",
        sync.id,
        "succeeded",
    )
    assert run.counts["duplicate"]["new"] == 1
    with session_scope()() as session:
        flag = session.scalars(select(Flag).where(Flag.rule == RuleCode.duplicate)).one()
        assert flag.record_ids == ["PC202610-0000001", "PC202610-0000003"]
    engine_for(committed_db).dispose()


def test_a_failed_sync_is_not_screened(committed_db: str) -> None:
    tiny = TinyFeed([record(1)], failures={"0": [503] * 10})
    with serving(tiny) as url:
        sync = service.run_sync(get_settings(), trigger="cli", client=client_for(url))
    assert sync.outcome == "failed"
    assert _screening_runs() == []
    engine_for(committed_db).dispose()


def test_a_screening_failure_leaves_the_sync_succeeded(
    committed_db: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_args: object) -> list[object]:
        raise ValueError(f"a value from a line: {ID_A}")

    monkeypatch.setitem(runs.RULE_FINDERS, RuleCode.after_death, broken)
    tiny = TinyFeed([record(1), record(2), record(3)])
    with caplog.at_level(logging.INFO), serving(tiny) as url:
        sync = service.run_sync(get_settings(), trigger="cli", client=client_for(url))

    assert sync.outcome == "succeeded" and sync.error is None
    (run,) = _screening_runs()
    assert run.outcome == "failed" and run.finished_at is not None
    assert run.error is not None and "筛查意外出错（ValueError）" in run.error
    with session_scope()() as session:  # nothing of the failed run was kept
        assert session.scalars(select(Flag)).all() == []
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "screening failed" in logged
    for secret in (ID_A, ID_B, "张秀英"):
        assert secret not in logged
    engine_for(committed_db).dispose()


def _noting_sorts(options: list[object]) -> Callable[[Session, object], list[object]]:
    """A rule finder that notes whether its transaction sorts on disk (the option, and on
    SQLite the pragma: 1 is a file; PostgreSQL has no such setting), and finds nothing."""

    def finder(session: Session, _scope: object) -> list[object]:
        connection = session.connection()
        pragma = None
        if connection.dialect.name == "sqlite":
            pragma = connection.exec_driver_sql("PRAGMA temp_store").scalar_one()
        options.append((connection.get_execution_options().get(SORTS_ON_DISK), pragma))
        return []

    return finder


def _sorted_on_disk() -> tuple[bool, int | None]:
    return (True, 1 if get_settings().database_url.startswith("sqlite") else None)


def test_the_syncs_screening_sorts_whole_tables_on_disk(
    committed_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A run groups and sorts every paid line: on SQLite in memory its temporary tables grew
    # the sync's process with the payouts (tests/test_db.py holds what the option does there).
    options: list[object] = []
    monkeypatch.setitem(runs.RULE_FINDERS, RuleCode.duplicate, _noting_sorts(options))
    with serving(TinyFeed([record(1), record(2)])) as url:
        sync = service.run_sync(get_settings(), trigger="cli", client=client_for(url))
    assert sync.outcome == "succeeded" and _screening_runs()[0].outcome == "succeeded"
    assert options == [_sorted_on_disk()]
    engine_for(committed_db).dispose()


STANDARD = "/api/v1/admin/screening/standards/城乡居民基础养老金"


def test_a_staff_members_screening_sorts_whole_tables_on_disk(
    committed_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The runs a request makes, in the request's transaction: a staff member's run, and the
    runs again of the rules that read a list just uploaded or a standard just set or deleted.
    Before, they sorted in the API worker's memory (about 47 MB more for a full run of
    1 000 000 lines)."""
    with session_scope().begin() as session:
        make_staff(session, role=Role.commission, username="screener")
    options: list[object] = []
    for rule in (RuleCode.duplicate, RuleCode.after_death, RuleCode.over_standard):
        monkeypatch.setitem(runs.RULE_FINDERS, rule, _noting_sorts(options))
    deceased = ("died.csv", deceased_csv([(id_number(1), "2026-01-05")]), "text/csv")
    with TestClient(create_app(configure_logs=False, schedule_jobs=False)) as client:
        token = client.post(
            "/api/v1/auth/token", data={"username": "screener", "password": DEFAULT_PASSWORD}
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        for method, path, body in (
            ("POST", "/api/v1/admin/screening/runs", {"json": {"scope": "full"}}),
            ("POST", "/api/v1/admin/screening/lists/deceased", {"files": {"file": deceased}}),
            ("PUT", STANDARD, {"json": {"max_fen": 20300}}),
            ("DELETE", STANDARD, {}),
        ):
            options.clear()
            response = client.request(method, path, headers=headers, **body)  # type: ignore[arg-type]
            assert response.status_code < 300, (path, response.text)
            # each rule the request ran, in a transaction sorting on disk
            assert options and set(options) == {_sorted_on_disk()}, path
    engine_for(committed_db).dispose()
