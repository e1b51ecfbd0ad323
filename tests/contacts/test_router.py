from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEntry
from app.contacts import service
from app.staff.models import Role
from tests.asserts import assert_problem
from tests.factories import COUNTY, FOLOU, HUANGLIU, SANGUANZHAI, XIXING, auth_headers, make_staff

ADMIN = "/api/v1/admin/contacts"


def _number(kind: str, region_code: str, phone: str) -> dict[str, str]:
    return {"kind": kind, "region_code": region_code, "title": "纪委", "phone": phone}


def test_a_village_sees_its_township_the_county_and_its_own_leader(
    client: TestClient, session: Session
) -> None:
    headers = auth_headers(make_staff(session, role=Role.commission))
    for data in (
        _number("county_hotline", COUNTY, "12388"),
        _number("township_commission", FOLOU, "0827-5550101"),
        _number("township_commission", XIXING, "0827-5550102"),
        _number("area_leader", SANGUANZHAI, "0827-5563204"),
        _number("area_leader", HUANGLIU, "0827-5562205"),
    ):
        assert client.post(ADMIN, json=data, headers=headers).status_code == 201
    body = client.get(f"/api/v1/villages/{SANGUANZHAI}/contacts").json()
    assert body["village"] == "平昌县佛楼镇三官寨村"
    assert [(c["kind_name"], c["phone"]) for c in body["items"]] == [
        ("乡镇纪委监督电话", "0827-5550101"),
        ("县纪委监委举报电话", "12388"),
        ("包片领导电话", "0827-5563204"),
    ]
    assert_problem(client.get(f"/api/v1/villages/{FOLOU}/contacts"), 404, "not_found")


def test_numbers_are_kept_on_their_level_once_and_every_change_is_audited(
    client: TestClient, session: Session
) -> None:
    headers = auth_headers(make_staff(session, role=Role.county_admin))
    wrong = client.post(
        ADMIN, json=_number("township_commission", SANGUANZHAI, "0827-1"), headers=headers
    )
    assert_problem(wrong, 422, "contact_region_invalid")
    created = client.post(
        ADMIN, json=_number("area_leader", SANGUANZHAI, "0827-5563204"), headers=headers
    )
    again = client.post(
        ADMIN, json=_number("area_leader", SANGUANZHAI, "0827-5569999"), headers=headers
    )
    assert_problem(again, 409, "contact_exists")
    contact_id = created.json()["id"]
    change = {"title": "佛楼镇包片领导", "person": "副镇长 王某", "phone": "0827-5560000"}
    changed = client.put(f"{ADMIN}/{contact_id}", json=change, headers=headers)
    assert changed.status_code == 200 and changed.json()["phone"] == "0827-5560000"
    assert client.delete(f"{ADMIN}/{contact_id}", headers=headers).status_code == 204
    actions = session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.entity_type == "supervision_contact")
        .order_by(AuditEntry.id)  # PostgreSQL gives rows in no set order without it
    ).all()
    assert actions == ["contact.create", "contact.update", "contact.delete"]


def test_a_township_officer_keeps_only_the_numbers_of_their_township(
    client: TestClient, session: Session
) -> None:
    officer = auth_headers(make_staff(session, role=Role.township_officer, region_code=FOLOU))
    mine = client.post(
        ADMIN, json=_number("area_leader", SANGUANZHAI, "0827-1234"), headers=officer
    )
    assert mine.status_code == 201
    theirs = client.post(ADMIN, json=_number("area_leader", HUANGLIU, "0827-1234"), headers=officer)
    assert_problem(theirs, 403, "forbidden")
    assert client.get(ADMIN, headers=officer).json()["total"] == 1
    clerk = auth_headers(make_staff(session, role=Role.village_clerk, region_code=SANGUANZHAI))
    assert_problem(client.get(ADMIN, headers=clerk), 403, "forbidden")


def test_the_demo_directory_marks_its_made_up_numbers(session: Session) -> None:
    assert service.load_demo(session) > 300
    assert service.load_demo(session) == 0  # safe to run again
    contacts = service.village_contacts(session, SANGUANZHAI).items
    assert [c.demo for c in contacts] == [True, False, True]  # 12388 is the real one
    assert all(c.phone.startswith("0827-") for c in contacts if c.demo)
