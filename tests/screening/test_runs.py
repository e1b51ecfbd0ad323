"""Runs: a re-run never repeats a flag; a dismissed flag stays closed unless its figures change;
a flag whose lines no longer meet the rule is withdrawn; an incremental run checks only the
persons' months the sync touched."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.screening import scope
from app.screening.models import Flag, FlagState, RunScope
from app.screening.rules import RuleCode
from app.screening.runs import run_screening
from app.subsidies.models import Payout
from app.sync.models import SyncRun
from tests.factories import HUANGLIU, SANGUANZHAI
from tests.screening.planting import (
    add_deceased,
    id_number,
    plant,
    plant_month_total,
    set_synced_at,
)

GAOSHI, DASONG = "511923103202", "511923103203"  # 佛楼镇, as 三官寨村
OLD = id_number("19400101", 11)
OTHER = id_number("19400201", 12)


def full(session: Session) -> dict[str, dict[str, int]]:
    return run_screening(session, scope=RunScope.full, trigger="staff").counts


def flags(session: Session, rule: RuleCode) -> list[Flag]:
    return list(session.scalars(select(Flag).where(Flag.rule == rule).order_by(Flag.id)))


def close(flag: Flag, state: FlagState, session: Session) -> None:
    flag.state, flag.reason = state, "已核实：系补发"
    session.flush()


def test_a_re_run_never_repeats_a_flag_for_the_same_lines(session: Session) -> None:
    plant(session, "D-1", OLD)
    plant(session, "D-2", OLD, village_code=HUANGLIU)
    first = full(session)
    second = full(session)

    assert first["duplicate"] == {
        "found": 1,
        "new": 1,
        "reopened": 0,
        "updated": 0,
        "withdrawn": 0,
    }
    assert second["duplicate"] == {
        "found": 1,
        "new": 0,
        "reopened": 0,
        "updated": 0,
        "withdrawn": 0,
    }
    assert len(flags(session, RuleCode.duplicate)) == 1
    assert session.scalar(select(func.count()).select_from(Flag)) == 2  # and two_villages'


def test_a_re_run_leaves_a_flag_found_as_it_was_unwritten(session: Session) -> None:
    """Its 更新时间 is when its figures last changed, not when a run last looked."""
    plant(session, "D-1", OLD)
    plant(session, "D-2", OLD)
    first = run_screening(session, scope=RunScope.full, trigger="staff")
    (flag,) = flags(session, RuleCode.duplicate)
    assert flag.last_run_id == first.id
    written = flag.updated_at

    full(session)
    session.refresh(flag)
    assert (flag.updated_at, flag.last_run_id) == (written, first.id)

    plant(session, "D-3", OLD)
    third = run_screening(session, scope=RunScope.full, trigger="staff")
    session.refresh(flag)
    assert flag.updated_at > written
    assert (flag.last_run_id, flag.figures["line_count"]) == (third.id, 3)


def test_a_dismissed_flag_stays_closed_until_its_figures_change(session: Session) -> None:
    plant(session, "D-1", OLD)
    plant(session, "D-2", OLD)
    full(session)
    (flag,) = flags(session, RuleCode.duplicate)
    close(flag, FlagState.dismissed, session)

    assert full(session)["duplicate"]["reopened"] == 0
    session.refresh(flag)
    assert (flag.state, flag.reason) == (FlagState.dismissed, "已核实：系补发")

    plant(session, "D-2", OLD, version=2, amount_fen=28600)  # corrected at the source
    counts = full(session)["duplicate"]
    session.refresh(flag)
    assert (counts["reopened"], flag.state, flag.reason) == (1, FlagState.open, None)
    assert flag.figures["total_fen"] == 14300 + 28600


def test_a_confirmed_flag_keeps_its_state_when_its_figures_change(session: Session) -> None:
    plant(session, "D-1", OLD)
    plant(session, "D-2", OLD)
    full(session)
    (flag,) = flags(session, RuleCode.duplicate)
    close(flag, FlagState.confirmed, session)
    plant(session, "D-3", OLD)
    assert full(session)["duplicate"]["updated"] == 1
    session.refresh(flag)
    assert (flag.state, flag.record_ids) == (FlagState.confirmed, ["D-1", "D-2", "D-3"])


def test_an_open_flag_whose_lines_are_reversed_is_withdrawn_and_comes_back(
    session: Session,
) -> None:
    plant(session, "D-1", OLD)
    plant(session, "D-2", OLD)
    full(session)
    plant(session, "D-2", OLD, version=2, status="reversed")
    assert full(session)["duplicate"]["withdrawn"] == 1
    (flag,) = flags(session, RuleCode.duplicate)
    assert flag.state == FlagState.withdrawn

    plant(session, "D-2", OLD, version=3)  # paid again
    assert full(session)["duplicate"]["reopened"] == 1
    session.refresh(flag)
    assert flag.state == FlagState.open


def _sync_run(session: Session, started_at: datetime) -> int:
    run = SyncRun(trigger="cli", outcome="succeeded", started_at=started_at)
    session.add(run)
    session.flush()
    return run.id


def test_an_incremental_run_checks_only_the_persons_months_the_sync_touched(
    session: Session,
) -> None:
    night = datetime(2026, 11, 5, 2, 0, tzinfo=UTC)
    # Stored the night before, never screened: left to a full run.
    plant(session, "OLD-1", OTHER)
    plant(session, "OLD-2", OTHER)
    # Stored tonight: a duplicate, and a line after death.
    plant(session, "NEW-1", OLD)
    plant(session, "NEW-2", OLD)
    plant(session, "NEW-3", OLD, period="2026-11", item_name="高龄津贴", amount_fen=5000)
    add_deceased(session, OLD, datetime(2026, 10, 20).date())
    # Stored the night before, in the month tonight touched for OLD: part of that month's check.
    plant(session, "OLD-3", OLD, period="2026-11", item_name="高龄津贴", amount_fen=5000)
    set_synced_at(session, ["OLD-1", "OLD-2", "OLD-3"], night - timedelta(days=1))
    set_synced_at(session, ["NEW-1", "NEW-2", "NEW-3"], night + timedelta(minutes=3))
    sync_run_id = _sync_run(session, night)

    run = run_screening(
        session, scope=RunScope.incremental, trigger="sync", sync_run_id=sync_run_id
    )

    assert run.outcome == "succeeded"
    assert [f.record_ids for f in flags(session, RuleCode.duplicate)] == [
        ["NEW-1", "NEW-2"],
        ["NEW-3", "OLD-3"],
    ]
    assert [f.record_ids for f in flags(session, RuleCode.after_death)] == [["NEW-3", "OLD-3"]]
    assert run.counts["duplicate"]["found"] == 2

    assert full(session)["duplicate"]["new"] == 1  # OLD-1, OLD-2


def test_an_incremental_run_withdraws_only_within_its_scope(session: Session) -> None:
    night = datetime(2026, 11, 5, 2, 0, tzinfo=UTC)
    plant(session, "A-1", OLD)
    plant(session, "A-2", OLD)
    plant(session, "B-1", OTHER)
    plant(session, "B-2", OTHER)
    full(session)
    plant(session, "A-2", OLD, version=2, status="reversed")  # tonight
    set_synced_at(session, ["A-1", "B-1", "B-2"], night - timedelta(days=1))
    set_synced_at(session, ["A-2"], night + timedelta(minutes=3))

    run = run_screening(
        session, scope=RunScope.incremental, trigger="sync", sync_run_id=_sync_run(session, night)
    )

    assert run.counts["duplicate"]["withdrawn"] == 1
    states = {tuple(f.record_ids): f.state for f in flags(session, RuleCode.duplicate)}
    assert states == {("A-1", "A-2"): FlagState.withdrawn, ("B-1", "B-2"): FlagState.open}


def test_an_incremental_run_with_no_run_before_it_checks_everything(session: Session) -> None:
    plant(session, "D-1", OLD)
    plant(session, "D-2", OLD)
    first = run_screening(session, scope=RunScope.incremental, trigger="staff")
    assert (first.scope, first.counts["duplicate"]["new"]) == (RunScope.full, 1)

    plant(session, "E-1", OTHER)
    plant(session, "E-2", OTHER)
    set_synced_at(session, ["D-1", "D-2"], datetime(2026, 1, 1, tzinfo=UTC))
    later = run_screening(session, scope=RunScope.incremental, trigger="staff")
    assert later.scope == RunScope.incremental
    assert later.counts["duplicate"] == {
        "found": 1,
        "new": 1,
        "reopened": 0,
        "updated": 0,
        "withdrawn": 0,
    }


def test_a_sync_that_stored_most_lines_is_screened_in_full(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scope, "INCREMENTAL_MOST_LINES", 2)
    night = datetime(2026, 11, 5, 2, 0, tzinfo=UTC)
    plant(session, "F-1", OTHER)
    plant(session, "F-2", OTHER)  # stored before: an incremental run would not look at them
    plant(session, "G-1", OLD)
    plant(session, "G-2", OLD)
    plant(session, "G-3", OLD, period="2026-09")
    set_synced_at(session, ["F-1", "F-2"], night - timedelta(days=1))
    set_synced_at(session, ["G-1", "G-2", "G-3"], night + timedelta(minutes=3))

    run = run_screening(
        session, scope=RunScope.incremental, trigger="sync", sync_run_id=_sync_run(session, night)
    )

    assert run.scope == RunScope.full  # three lines stored, more than the two allowed
    assert run.counts["duplicate"]["new"] == 2  # F-1 and F-2 checked too


def _incremental_after(session: Session, tonight: list[str]) -> dict[str, dict[str, int]]:
    """An incremental run after a sync that stored the lines `tonight` (and no others)."""
    night = datetime(2026, 11, 5, 2, 0, tzinfo=UTC)
    session.execute(update(Payout).values(synced_at=night - timedelta(days=1)))
    set_synced_at(session, tonight, night + timedelta(minutes=3))
    run = run_screening(
        session, scope=RunScope.incremental, trigger="sync", sync_run_id=_sync_run(session, night)
    )
    return run.counts


@pytest.mark.parametrize(
    "correction",
    [{"number": OTHER}, {"number": OLD, "period": "2026-09"}],
    ids=["to another person", "to another month"],
)
def test_an_incremental_run_withdraws_a_duplicate_whose_line_a_correction_moved(
    session: Session, correction: dict[str, str]
) -> None:
    plant(session, "A-1", OLD)
    plant(session, "A-2", OLD)
    full(session)
    number = correction.pop("number")
    plant(session, "A-2", number, version=2, **correction)  # tonight

    counts = _incremental_after(session, ["A-2"])

    assert counts["duplicate"]["withdrawn"] == 1
    (flag,) = flags(session, RuleCode.duplicate)
    assert flag.state == FlagState.withdrawn


def test_an_incremental_run_withdraws_a_village_jump_no_longer_met(session: Session) -> None:
    for period in ["2026-03", "2026-04", "2026-05", "2026-06", "2026-07", "2026-08"]:
        for village in (SANGUANZHAI, GAOSHI, DASONG):
            plant_month_total(session, village, period, 10000)
    jump = plant_month_total(session, SANGUANZHAI, "2026-09", 30000)  # 3 × 100 yuan
    plant_month_total(session, GAOSHI, "2026-09", 10000)
    plant_month_total(session, DASONG, "2026-09", 10000)
    full(session)
    (flag,) = flags(session, RuleCode.village_jump)
    assert (flag.village_code, flag.period, flag.state) == (
        SANGUANZHAI,
        "2026-09",
        FlagState.open,
    )

    # Tonight one of its two lines is reversed: 150 yuan, not above twice its median.
    plant(
        session,
        jump[0],
        id_number("19500101", 100),
        period="2026-09",
        item_name="高龄津贴",
        amount_fen=15000,
        status="reversed",
        version=2,
    )
    counts = _incremental_after(session, [jump[0]])

    session.refresh(flag)
    assert (counts["village_jump"]["withdrawn"], flag.state) == (1, FlagState.withdrawn)


def test_after_death_flags_a_person_and_item_once_and_a_new_month_reopens_it(
    session: Session,
) -> None:
    add_deceased(session, OLD, datetime(2026, 7, 20).date())
    plant(session, "M-08", OLD, period="2026-08")
    plant(session, "M-09", OLD, period="2026-09")
    first = full(session)
    (flag,) = flags(session, RuleCode.after_death)
    assert (first["after_death"]["new"], flag.record_ids) == (1, ["M-08", "M-09"])
    close(flag, FlagState.dismissed, session)
    assert full(session)["after_death"] == {
        "found": 1,
        "new": 0,
        "reopened": 0,
        "updated": 0,
        "withdrawn": 0,
    }

    # Paid again tonight: the incremental run reads all the person's months, not tonight's.
    plant(session, "M-10", OLD, period="2026-10")
    counts = _incremental_after(session, ["M-10"])

    assert (counts["after_death"]["new"], counts["after_death"]["reopened"]) == (0, 1)
    session.refresh(flag)
    assert (flag.state, flag.record_ids) == (FlagState.open, ["M-08", "M-09", "M-10"])
    assert flag.figures["line_count"] == 3 and flags(session, RuleCode.after_death) == [flag]


def test_an_incremental_run_withdraws_a_person_flag_when_the_last_line_is_reversed(
    session: Session,
) -> None:
    add_deceased(session, OLD, datetime(2026, 7, 20).date())
    plant(session, "M-08", OLD, period="2026-08")
    plant(session, "M-09", OLD, period="2026-09")
    full(session)
    plant(session, "M-08", OLD, period="2026-08", version=2, status="reversed")
    assert _incremental_after(session, ["M-08"])["after_death"]["updated"] == 1
    plant(session, "M-09", OLD, period="2026-09", version=2, status="reversed")
    assert _incremental_after(session, ["M-09"])["after_death"]["withdrawn"] == 1
    (flag,) = flags(session, RuleCode.after_death)
    assert (flag.state, flag.record_ids) == (FlagState.withdrawn, ["M-09"])
