from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEntry
from app.screening.rules import RULES
from app.staff.models import Role
from tests.asserts import assert_problem
from tests.factories import FOLOU, HUANGLIU, auth_headers, make_staff
from tests.screening.planting import id_number, plant
from tests.sync.leases import acquire_lease, release_lease

RUNS = "/api/v1/admin/screening/runs"
OLD = id_number("19400101", 11)


def test_the_commission_runs_a_full_screening_and_sees_it_in_the_runs(
    client: TestClient, session: Session
) -> None:
    member = make_staff(session, role=Role.commission)
    plant(session, "D-1", OLD)
    plant(session, "D-2", OLD, village_code=HUANGLIU)

    response = client.post(RUNS, headers=auth_headers(member), json={"scope": "full"})

    assert response.status_code == 201
    run = response.json()
    assert (run["scope"], run["trigger"], run["outcome"], run["started_by_id"]) == (
        "full",
        "staff",
        "succeeded",
        member.id,
    )
    assert run["counts"]["duplicate"] == {
        "found": 1,
        "new": 1,
        "reopened": 0,
        "updated": 0,
        "withdrawn": 0,
    }
    assert run["counts"]["two_villages"]["new"] == 1
    listed = client.get(RUNS, headers=auth_headers(member)).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == run["id"]
    audited = session.scalars(select(AuditEntry).where(AuditEntry.action == "screening.run")).one()
    assert audited.entity_id == str(run["id"]) and audited.actor_id == member.id


def test_a_screening_waits_while_a_sync_holds_the_lease(
    client: TestClient, session: Session
) -> None:
    admin = make_staff(session)
    assert acquire_lease("a-running-sync", session=session)
    busy = client.post(RUNS, headers=auth_headers(admin), json={"scope": "incremental"})
    body = assert_problem(busy, 409, "sync_running")
    assert "同步" in body["detail"]
    release_lease("a-running-sync", session=session)

    done = client.post(RUNS, headers=auth_headers(admin), json={"scope": "full"})
    assert done.status_code == 201 and done.json()["scope"] == "full"
    again = client.post(RUNS, headers=auth_headers(admin), json={"scope": "incremental"})
    assert again.status_code == 201 and again.json()["scope"] == "incremental"
    assert acquire_lease("the-next-sync", session=session)  # the run gave the lease back


def test_a_scope_outside_the_two_is_refused(client: TestClient, session: Session) -> None:
    admin = make_staff(session)
    response = client.post(RUNS, headers=auth_headers(admin), json={"scope": "everything"})
    assert_problem(response, 422, "validation_failed")


def test_only_the_commission_and_county_admins_screen(client: TestClient, session: Session) -> None:
    officer = make_staff(session, role=Role.township_officer, region_code=FOLOU)
    for response in (
        client.post(RUNS, headers=auth_headers(officer), json={"scope": "full"}),
        client.get(RUNS, headers=auth_headers(officer)),
        client.get("/api/v1/admin/screening/rules", headers=auth_headers(officer)),
    ):
        assert_problem(response, 403, "forbidden")
    assert_problem(client.get(RUNS), 401, "authentication_required")


def test_the_rules_catalogue_gives_each_rule_with_its_version_and_parameters(
    client: TestClient, session: Session
) -> None:
    member = make_staff(session, role=Role.commission)
    rules = client.get("/api/v1/admin/screening/rules", headers=auth_headers(member)).json()
    assert [rule["code"] for rule in rules] == [code.value for code in RULES]
    jump = next(rule for rule in rules if rule["code"] == "village_jump")
    assert jump["name"] == "村月总额异常" and jump["version"] == 1
    assert jump["parameters"]["times_own_median"] == 2
