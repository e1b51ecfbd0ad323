"""A list uploaded or a standard edited re-runs the rules that read it at once, under the sync
lease; while a sync holds the lease, the run is owed and carried out at the end of the sync or
at the scheduler's next tick."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import get_settings
from app.db.engines import engine_for, session_scope
from app.scheduler import start_scheduler
from app.screening import lists, runs
from app.screening.models import Flag, FlagState, ListKind, OwedRun, ScreeningRun
from app.screening.rules import RuleCode
from app.staff.models import Role, Staff
from app.sync import lease, service
from tests.factories import auth_headers, make_staff
from tests.screening.lists_data import deceased_csv
from tests.screening.planting import add_deceased, id_number, plant
from tests.sync.feed_server import TinyFeed, serving
from tests.sync.test_service import client_for, record

OLD = id_number("19400101", 11)
STANDARDS = "/api/v1/admin/screening/standards"
COUNTY = ZoneInfo("Asia/Shanghai")


def _flags(session: Session, rule: RuleCode) -> list[Flag]:
    return list(session.scalars(select(Flag).where(Flag.rule == rule).order_by(Flag.id)))


def _upload_deceased(session: Session, actor: Staff, died_on: str = "2026-08-15") -> int | None:
    read = lists.upload_list(
        session,
        ListKind.deceased,
        data=deceased_csv([(OLD, died_on)]),
        actor=actor,
        settings=get_settings(),
    )
    return read.screening_run_id


def test_a_person_newly_on_the_deceased_list_is_flagged_with_the_upload(
    session: Session,
) -> None:
    plant(session, "D-1", OLD, period="2026-10")
    admin = make_staff(session, role=Role.commission)

    run_id = _upload_deceased(session, admin)

    run = session.get_one(ScreeningRun, run_id)
    assert (run.trigger, run.scope, run.outcome, run.started_by_id) == (
        "list",
        "full",
        "succeeded",
        admin.id,
    )
    assert list(run.counts) == ["after_death"]  # only the rule that reads the list
    assert [f.state for f in _flags(session, RuleCode.after_death)] == [FlagState.open]
    assert _flags(session, RuleCode.duplicate) == []  # other rules wait for their run

    # A new list without them: their flag is withdrawn by the next upload, at once.
    _upload_deceased(session, admin, died_on="2026-12-01")
    assert [f.state for f in _flags(session, RuleCode.after_death)] == [FlagState.withdrawn]


def test_a_standard_edit_re_runs_over_standard(client: TestClient, session: Session) -> None:
    plant(session, "P-1", OLD, amount_fen=14300)
    headers = auth_headers(make_staff(session, role=Role.commission))
    pension = f"{STANDARDS}/城乡居民基础养老金"

    lowered = client.put(pension, json={"max_fen": 10000}, headers=headers)
    assert lowered.status_code == 200, lowered.text
    (flag,) = _flags(session, RuleCode.over_standard)
    assert (flag.state, flag.figures["standard_fen"]) == (FlagState.open, 10000)

    client.put(pension, json={"max_fen": 12000}, headers=headers)
    session.refresh(flag)
    assert (flag.state, flag.figures["standard_fen"]) == (FlagState.open, 12000)

    assert client.delete(pension, headers=headers).status_code == 204
    session.refresh(flag)
    assert flag.state == FlagState.withdrawn
    triggers = session.scalars(select(ScreeningRun.trigger).order_by(ScreeningRun.id)).all()
    assert triggers == ["standard"] * 3


def test_an_upload_during_a_sync_owes_the_run_which_the_next_tick_carries_out(
    committed_db: str,
) -> None:
    settings = get_settings()
    with session_scope().begin() as session:
        plant(session, "D-1", OLD, period="2026-10")
        admin_id = make_staff(session, role=Role.commission).id
        sync_holder = lease.take(session, seconds=300)  # a sync runs

    with session_scope().begin() as session:
        assert _upload_deceased(session, session.get_one(Staff, admin_id)) is None

    with session_scope().begin() as session:
        assert session.scalars(select(OwedRun.rule)).all() == ["after_death"]
        assert _flags(session, RuleCode.after_death) == []  # the list is in, the run owed
    assert runs.run_owed_in_lease(settings) is None  # the tick leaves it to the sync

    with session_scope().begin() as session:
        lease.release(session, sync_holder)
    run = runs.run_owed_in_lease(settings)

    assert run is not None and (run.trigger, run.scope, run.outcome) == (
        "owed",
        "full",
        "succeeded",
    )
    with session_scope().begin() as session:
        assert [f.state for f in _flags(session, RuleCode.after_death)] == [FlagState.open]
        assert session.scalars(select(OwedRun)).all() == []
    assert runs.run_owed_in_lease(settings) is None  # settled: nothing owed any more
    engine_for(committed_db).dispose()


def test_a_run_owed_is_carried_out_at_the_end_of_the_sync(committed_db: str) -> None:
    with session_scope().begin() as session:  # the list came in while a sync ran
        plant(session, "D-1", OLD, period="2026-10")
        add_deceased(session, OLD, date(2026, 8, 15))
        runs.owe(session, [RuleCode.after_death])
    tiny = TinyFeed([record(1)])
    with serving(tiny) as url:
        sync = service.run_sync(get_settings(), trigger="cli", client=client_for(url))

    assert sync.outcome == "succeeded"
    with session_scope().begin() as session:
        triggers = session.scalars(select(ScreeningRun.trigger).order_by(ScreeningRun.id)).all()
        assert triggers == ["sync", "owed"]
        assert [f.record_ids for f in _flags(session, RuleCode.after_death)] == [["D-1"]]
        assert session.scalars(select(OwedRun)).all() == []
    engine_for(committed_db).dispose()


def test_a_change_owed_again_during_an_owed_run_stays_owed(session: Session) -> None:
    runs.owe(session, [RuleCode.after_death, RuleCode.over_standard])
    read = runs._owed(session)
    session.execute(
        OwedRun.__table__.update()
        .where(OwedRun.rule == "over_standard")
        .values(owed_at=datetime(2099, 1, 1, tzinfo=UTC))  # owed again, later
    )
    runs._settle(session, read)
    assert session.scalars(select(OwedRun.rule)).all() == ["over_standard"]


def test_an_incremental_run_on_demand_starts_from_the_last_run_of_every_rule(
    session: Session,
) -> None:
    plant(session, "D-1", OLD)
    runs.run_screening(session, scope=runs.RunScope.full, trigger="staff")
    full_run_started = session.scalars(select(ScreeningRun.started_at)).one()
    admin = make_staff(session, role=Role.commission)
    _upload_deceased(session, admin)  # a run of one rule, later
    run = runs.run_screening(session, scope=runs.RunScope.incremental, trigger="staff")
    since = runs._incremental_since(session, run)
    assert since is not None and since == full_run_started - runs.CLOCK_MARGIN


def test_the_full_screening_is_scheduled_weekly_or_as_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scheduler = start_scheduler(get_settings())
    try:
        weekly = scheduler.get_job("screening-full").next_run_time.astimezone(COUNTY)
        assert scheduler.get_job("screening-owed") is not None
    finally:
        scheduler.shutdown()  # waits for a started job: its log line must not outlive the test
    assert (weekly.weekday(), weekly.hour, weekly.minute) == (6, 4, 0)  # Sunday 04:00

    monkeypatch.setenv("LIANYUN_SCREENING_FULL_CRON", "15 5 * * mon")
    get_settings.cache_clear()
    scheduler = start_scheduler(get_settings())
    try:
        monday = scheduler.get_job("screening-full").next_run_time.astimezone(COUNTY)
    finally:
        scheduler.shutdown()  # waits for a started job: its log line must not outlive the test
    assert (monday.weekday(), monday.hour, monday.minute) == (0, 5, 15)


def test_the_scheduled_full_run_checks_every_line_or_is_owed_while_a_sync_runs(
    committed_db: str,
) -> None:
    settings = get_settings()
    with session_scope().begin() as session:  # stored by a sync whose screening failed
        plant(session, "D-1", OLD)
        plant(session, "D-2", OLD)
        sync_holder = lease.take(session, seconds=300)

    assert runs.run_full_in_lease(settings) is None
    with session_scope().begin() as session:
        assert set(session.scalars(select(OwedRun.rule))) == set(RuleCode)
        lease.release(session, sync_holder)

    run = runs.run_full_in_lease(settings)

    assert run is not None and (run.trigger, run.scope, run.outcome) == (
        "schedule",
        "full",
        "succeeded",
    )
    assert set(run.counts) == set(RuleCode) and run.counts["duplicate"]["new"] == 1
    with session_scope().begin() as session:
        assert session.scalars(select(OwedRun)).all() == []  # the full run settled them
    engine_for(committed_db).dispose()
