from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.audit import service
from app.schemas import COUNTY_TZ
from app.staff.models import Role
from tests.asserts import assert_problem
from tests.factories import FOLOU, auth_headers, make_staff


def test_county_admin_reads_the_audit_log_newest_first(
    client: TestClient, session: Session
) -> None:
    admin = make_staff(session)
    service.record(session, actor=admin, action="x.first", entity_type="x", entity_id=1)
    service.record(
        session,
        actor=None,
        action="x.second",
        entity_type="x",
        entity_id=2,
        before={"a": 1},
        after={"a": 2},
    )
    response = client.get(
        "/api/v1/admin/audit", headers=auth_headers(admin), params={"entity_type": "x"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 2 and body["page"] == 1 and body["size"] == 20
    first, second = body["items"]
    assert first["action"] == "x.second" and first["actor_username"] == "system"
    assert first["before"] == {"a": 1} and first["after"] == {"a": 2}
    assert second["actor_id"] == admin.id
    assert first["at"].endswith("+08:00")


def test_audit_filters_and_paging(client: TestClient, session: Session) -> None:
    admin = make_staff(session)
    for i in range(3):
        service.record(session, actor=admin, action="y.step", entity_type="y", entity_id=i)
    headers = auth_headers(admin)
    page = client.get(
        "/api/v1/admin/audit", headers=headers, params={"action": "y.step", "size": 2, "page": 2}
    ).json()
    assert page["total"] == 3 and [e["entity_id"] for e in page["items"]] == ["0"]
    assert_problem(
        client.get("/api/v1/admin/audit", headers=headers, params={"size": 101}),
        422,
        "validation_failed",
    )


def test_only_county_admin_reads_the_audit_log(client: TestClient, session: Session) -> None:
    for role, region in [
        (Role.commission, None),
        (Role.township_officer, FOLOU),
        (Role.editor, None),
    ]:
        staff = make_staff(session, role=role, **({"region_code": region} if region else {}))
        assert_problem(
            client.get("/api/v1/admin/audit", headers=auth_headers(staff)), 403, "forbidden"
        )
    assert_problem(client.get("/api/v1/admin/audit"), 401, "authentication_required")


def test_each_entry_names_the_staff_member_who_wrote_it(
    client: TestClient, session: Session
) -> None:
    admin = make_staff(session, username="auditor-li")
    service.record(session, actor=admin, action="z.named", entity_type="z", entity_id=1)
    response = client.get(
        "/api/v1/admin/audit", headers=auth_headers(admin), params={"action": "z.named"}
    )
    (entry,) = response.json()["items"]
    assert entry["actor_username"] == "auditor-li" and entry["actor_id"] == admin.id


def test_audit_filters_by_actor_by_entity_and_by_a_half_open_time_window(
    client: TestClient, session: Session
) -> None:
    admin, other = make_staff(session), make_staff(session)
    noon = datetime(2026, 3, 2, 12, tzinfo=COUNTY_TZ)
    for hours, actor, entity_id in [(-1, admin, 7), (0, other, 8), (1, admin, 8)]:
        entry = service.record(
            session, actor=actor, action="w.step", entity_type="w", entity_id=entity_id
        )
        entry.at = noon + timedelta(hours=hours)
    session.flush()

    def found(**params: object) -> list[tuple[int, str, str]]:
        response = client.get(
            "/api/v1/admin/audit",
            headers=auth_headers(admin),
            params={"entity_type": "w", **params},
        )
        assert response.status_code == 200
        return [(e["actor_id"], e["entity_id"], e["at"][11:16]) for e in response.json()["items"]]

    assert found(actor_id=admin.id) == [(admin.id, "8", "13:00"), (admin.id, "7", "11:00")]
    assert found(entity_id="8") == [(admin.id, "8", "13:00"), (other.id, "8", "12:00")]
    # since is inclusive, until exclusive: an entry at noon is after noon, not before it
    assert found(since=noon.isoformat()) == [(admin.id, "8", "13:00"), (other.id, "8", "12:00")]
    assert found(until=noon.isoformat()) == [(admin.id, "7", "11:00")]
    assert found(since=noon.isoformat(), until=(noon + timedelta(hours=1)).isoformat()) == [
        (other.id, "8", "12:00")
    ]
