from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.audit import service
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
