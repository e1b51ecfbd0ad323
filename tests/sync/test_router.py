from dataclasses import asdict

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEntry
from app.regions.models import Region
from app.staff.models import Role
from app.subsidies import service as subsidies_service
from app.subsidies.models import Payout
from app.sync.models import RejectedRecord, SyncRun
from app.sync.records import RecordChecker, Rejection
from tests.asserts import assert_problem
from tests.factories import FOLOU, auth_headers, make_staff
from tests.subsidies.factories import make_payout
from tests.sync.leases import acquire_lease, release_lease

NEW_VILLAGE = "511923103299"


def quarantine_in_a_new_village(session: Session, record_id: str) -> None:
    """A sound record of a village not yet in the regions, quarantined as replayable."""
    checker = RecordChecker(pepper=b"x", villages=set())
    rejection = checker.check_references(make_payout(record_id=record_id, village_code=NEW_VILLAGE))
    assert isinstance(rejection, Rejection) and rejection.replayable
    session.add(RejectedRecord(**asdict(rejection)))
    session.flush()


def test_staff_read_runs_and_a_run(client: TestClient, session: Session) -> None:
    admin = make_staff(session)
    run = SyncRun(trigger="cli", outcome="succeeded", fetched=10, created=9, rejected=1)
    session.add(run)
    session.flush()
    body = client.get("/api/v1/admin/sync/runs", headers=auth_headers(admin)).json()
    assert body["items"][0]["id"] == run.id and body["items"][0]["fetched"] == 10
    detail = client.get(f"/api/v1/admin/sync/runs/{run.id}", headers=auth_headers(admin))
    assert detail.json()["created"] == 9
    assert_problem(
        client.get("/api/v1/admin/sync/runs/999999", headers=auth_headers(admin)), 404, "not_found"
    )


def test_township_staff_cannot_see_sync(client: TestClient, session: Session) -> None:
    officer = make_staff(session, role=Role.township_officer, region_code=FOLOU)
    assert_problem(
        client.get("/api/v1/admin/sync/runs", headers=auth_headers(officer)), 403, "forbidden"
    )
    assert_problem(client.get("/api/v1/admin/sync/rejected"), 401, "authentication_required")


def test_starting_a_run_without_a_feed_is_a_clear_conflict(
    client: TestClient, session: Session
) -> None:
    admin = make_staff(session)
    response = client.post("/api/v1/admin/sync/runs", headers=auth_headers(admin))
    body = assert_problem(response, 409, "feed_not_configured")
    assert "LIANYUN_FEED_URL" in body["detail"]


def test_rejected_records_replay_once_the_village_exists(
    client: TestClient, session: Session
) -> None:
    admin = make_staff(session)
    quarantine_in_a_new_village(session, "LATE-1")

    listed = client.get("/api/v1/admin/sync/rejected", headers=auth_headers(admin)).json()
    assert [r["reason"] for r in listed["items"]] == ["unknown_village"]
    assert "name_masked" in listed["items"][0]["payload"]

    still = client.post("/api/v1/admin/sync/rejected/replay", headers=auth_headers(admin), json={})
    assert still.json() == {"replayed": 0, "still_rejected": 1}

    session.add(Region(code=NEW_VILLAGE, name="新设村", level="village", parent_code=FOLOU))
    session.flush()
    done = client.post("/api/v1/admin/sync/rejected/replay", headers=auth_headers(admin), json={})
    assert done.json() == {"replayed": 1, "still_rejected": 0}
    assert session.get(Payout, "LATE-1") is not None
    assert (
        client.get("/api/v1/admin/sync/rejected", headers=auth_headers(admin)).json()["total"] == 0
    )
    assert session.scalars(select(AuditEntry).where(AuditEntry.action == "sync.replay")).all()


def test_a_replay_waits_its_turn_while_a_sync_runs_and_leaves_the_lease_free(
    client: TestClient, session: Session
) -> None:
    admin = make_staff(session)
    quarantine_in_a_new_village(session, "LATE-2")
    assert acquire_lease("a-running-sync", session=session)

    busy = client.post("/api/v1/admin/sync/rejected/replay", headers=auth_headers(admin), json={})
    assert_problem(busy, 409, "sync_running")

    release_lease("a-running-sync", session=session)
    done = client.post("/api/v1/admin/sync/rejected/replay", headers=auth_headers(admin), json={})
    assert done.json() == {"replayed": 0, "still_rejected": 1}
    assert acquire_lease("the-next-sync", session=session)


def test_a_replay_of_thirty_chosen_records_is_audited_with_their_ids(
    client: TestClient, session: Session
) -> None:
    """The ids joined with commas went into the audit entry's entity_id (64 characters): on
    PostgreSQL a replay of more than a handful was a 500."""
    admin = make_staff(session)
    for n in range(30):
        quarantine_in_a_new_village(session, f"LATE-{n}")
    ids = sorted(session.scalars(select(RejectedRecord.id)))
    response = client.post(
        "/api/v1/admin/sync/rejected/replay", headers=auth_headers(admin), json={"ids": ids}
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"replayed": 0, "still_rejected": 30}
    audit = client.get(
        "/api/v1/admin/audit", params={"action": "sync.replay"}, headers=auth_headers(admin)
    ).json()
    assert [entry["after"]["ids"] for entry in audit["items"]] == [ids]


def test_two_same_records_that_meet_another_truth_are_counted_and_not_replayed_again(
    client: TestClient, session: Session
) -> None:
    """The replayed were counted as the rows less the distinct conflicting records (two alike
    rows in conflict: one replayed), and a row found in conflict stayed replayable, to be
    tried again by every "replay all"."""
    admin = make_staff(session)
    quarantine_in_a_new_village(session, "LATE-3")
    quarantine_in_a_new_village(session, "LATE-3")  # the platform sent it twice
    session.add(Region(code=NEW_VILLAGE, name="新设村", level="village", parent_code=FOLOU))
    session.flush()
    other_truth = make_payout(record_id="LATE-3", village_code=NEW_VILLAGE, amount_fen=99900)
    subsidies_service.store_payouts(session, [other_truth])  # sent since, with other content

    url, headers = "/api/v1/admin/sync/rejected/replay", auth_headers(admin)
    assert client.post(url, headers=headers, json={}).json() == {
        "replayed": 0,
        "still_rejected": 2,
    }
    rows = client.get("/api/v1/admin/sync/rejected", headers=headers).json()["items"]
    assert [(r["reason"], r["replayable"]) for r in rows] == [("version_conflict", False)] * 2
    assert "不再重新导入" in rows[0]["message"]
    assert client.post(url, headers=headers, json={}).json() == {
        "replayed": 0,
        "still_rejected": 0,
    }
    assert session.get_one(Payout, "LATE-3").amount_fen == 99900
