import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEntry
from app.mockfeed.catalog import ITEM_BY_NAME
from app.screening.models import ItemStandard
from app.screening.standards import DEMO_STANDARDS, load_demo_standards
from app.staff.models import Role, Staff
from app.subsidies import service as subsidies_service
from app.subsidies.items import COUNTY_ITEM_BY_KEY
from tests.asserts import assert_problem
from tests.factories import auth_headers, make_staff
from tests.subsidies.factories import make_payout

URL = "/api/v1/admin/screening/standards"
DIBAO = "城乡居民最低生活保障金"


@pytest.fixture
def admin(session: Session) -> Staff:
    return make_staff(session, role=Role.commission)


def _audits(session: Session, action: str) -> list[AuditEntry]:
    return list(
        session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )


def test_a_standard_is_set_in_yuan_or_fen_and_listed(
    client: TestClient, session: Session, admin: Staff
) -> None:
    headers = auth_headers(admin)
    response = client.put(
        f"{URL}/{DIBAO}", json={"max_yuan": "540", "basis": "县民政局2026年标准"}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["max"] == "540.00"
    pension = client.put(f"{URL}/城乡居民基础养老金", json={"max_fen": 20300}, headers=headers)
    assert pension.json()["max"] == "203.00"
    listed = client.get(URL, headers=headers).json()
    assert [(s["item_name"], s["max"], s["category_code"], s["staff_edited"]) for s in listed] == [
        (DIBAO, "540.00", "01", True),
        ("城乡居民基础养老金", "203.00", "05", True),
    ]
    assert session.get(ItemStandard, DIBAO).max_fen == 54000  # type: ignore[union-attr]


def test_changes_are_audited_before_and_after(
    client: TestClient, session: Session, admin: Staff
) -> None:
    headers = auth_headers(admin)
    client.put(f"{URL}/{DIBAO}", json={"max_yuan": "540.00", "basis": "旧"}, headers=headers)
    client.put(f"{URL}/{DIBAO}", json={"max_yuan": "560.50", "basis": "新"}, headers=headers)
    assert client.delete(f"{URL}/{DIBAO}", headers=headers).status_code == 204
    sets = _audits(session, "screening.standard.set")
    assert [(e.before, e.after) for e in sets] == [
        (None, {"max_fen": 54000, "basis": "旧"}),
        ({"max_fen": 54000, "basis": "旧"}, {"max_fen": 56050, "basis": "新"}),
    ]
    deleted = _audits(session, "screening.standard.delete")
    assert [(e.actor_id, e.entity_id, e.before) for e in deleted] == [
        (admin.id, DIBAO, {"max_fen": 56050, "basis": "新"})
    ]
    assert session.get(ItemStandard, DIBAO) is None
    again = client.delete(f"{URL}/{DIBAO}", headers=headers)
    assert_problem(again, 404, "screening_standard_not_found")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"max_yuan": "540.00", "max_fen": 54000},
        {"max_yuan": "0"},
        {"max_yuan": "5.401"},
        {"max_yuan": "-3"},
        {"max_fen": 0},
        {"max_fen": "54000"},
        {"max_fen": 10**12},
        {"max_fen": 100, "basis": "x" * 201},
    ],
)
def test_a_bad_amount_is_a_chinese_validation_problem(
    client: TestClient, session: Session, admin: Staff, body: dict[str, object]
) -> None:
    response = client.put(f"{URL}/{DIBAO}", json=body, headers=auth_headers(admin))
    assert_problem(response, 422, "validation_failed")
    assert session.get(ItemStandard, DIBAO) is None


def test_an_item_must_be_the_countys_or_one_the_feed_paid(
    client: TestClient, session: Session, admin: Staff
) -> None:
    headers = auth_headers(admin)
    unknown = client.put(f"{URL}/城乡居民低保金", json={"max_fen": 100}, headers=headers)
    assert_problem(unknown, 422, "screening_item_unknown")
    subsidies_service.store_payouts(
        session, [make_payout(item_name="某县自设补贴", category_code="01")]
    )
    paid = client.put(f"{URL}/某县自设补贴", json={"max_fen": 100}, headers=headers)
    assert paid.status_code == 200
    assert paid.json()["category_code"] is None


def test_only_the_commission_and_county_admins_keep_standards(
    client: TestClient, session: Session
) -> None:
    for role in (Role.township_officer, Role.editor):
        staff = make_staff(session, role=role)
        headers = auth_headers(staff)
        assert client.get(URL, headers=headers).status_code == 403
        assert client.put(f"{URL}/{DIBAO}", json={"max_fen": 1}, headers=headers).status_code == 403
        assert client.delete(f"{URL}/{DIBAO}", headers=headers).status_code == 403
    county = make_staff(session, role=Role.county_admin)
    put = client.put(f"{URL}/{DIBAO}", json={"max_fen": 1}, headers=auth_headers(county))
    assert put.status_code == 200
    assert_problem(client.get(URL), 401, "authentication_required")


def test_demo_standards_load_once_and_never_overwrite_a_kept_one(
    client: TestClient, session: Session, admin: Staff
) -> None:
    client.put(
        f"{URL}/{DIBAO}", json={"max_yuan": "600", "basis": "县里的"}, headers=auth_headers(admin)
    )
    added = load_demo_standards(session)
    assert added == len(DEMO_STANDARDS) - 1
    assert load_demo_standards(session) == 0
    kept = session.get(ItemStandard, DIBAO)
    assert kept is not None and (kept.max_fen, kept.basis) == (60000, "县里的")
    listed = {s["item_name"]: s for s in client.get(URL, headers=auth_headers(admin)).json()}
    assert len(listed) == len(DEMO_STANDARDS)
    assert listed["高龄津贴"]["max"] == "900.00" and not listed["高龄津贴"]["staff_edited"]
    assert listed[DIBAO]["staff_edited"]


def test_demo_standards_are_county_items_and_the_demo_feed_stays_within_them() -> None:
    for standard in DEMO_STANDARDS:
        county_item = COUNTY_ITEM_BY_KEY[standard.item_key]
        assert county_item.on_card
        feed_item = ITEM_BY_NAME[county_item.item_name]
        assert feed_item.max_cents <= standard.max_fen, county_item.item_name
        assert 1 <= len(standard.basis) <= 200
