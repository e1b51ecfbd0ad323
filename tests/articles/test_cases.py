"""Cases (通报曝光): one template, masking past name_public_until, filters, roles, bad input."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.articles.models import Case
from app.audit.models import AuditEntry
from app.staff.models import Role
from tests.articles.factories import CASE, commission, make_case, past
from tests.asserts import assert_problem
from tests.factories import FOLOU, HUANGLIU, SANGUANZHAI, XIXING, auth_headers, make_staff

ADMIN = "/api/v1/admin/cases"


def test_the_commission_publishes_a_case_and_its_text_follows_the_template(
    client: TestClient, session: Session
) -> None:
    headers = auth_headers(commission(session))
    made = client.post(ADMIN, json=CASE, headers=headers)
    assert made.status_code == 201, made.text
    case_id = made.json()["id"]
    assert made.json()["state"] == "draft" and made.json()["amount_involved"] == "8640.00"
    assert_problem(client.get(f"/api/v1/cases/{case_id}"), 404, "case_not_found")
    client.post(f"{ADMIN}/{case_id}/publish", headers=headers)
    shown = client.get(f"/api/v1/cases/{case_id}")
    assert shown.status_code == 200 and shown.headers["etag"]
    case = shown.json()
    assert case["title"] == "西兴镇黄柳村村委会主任王小明违规为亲属申报低保问题"
    assert case["text"] == (
        "西兴镇黄柳村村委会主任王小明违规为亲属申报低保问题。2023年3月，王小明利用职务便利，"
        "为不符合条件的弟弟申报低保，违规领取低保金共计8640元。涉及金额8640元，已追回8640元。"
        "2024年5月20日，县纪委监委对王小明作出处理：党内严重警告、政务撤职。"
    )
    assert [d["name"] for d in case["disciplines"]] == ["党内严重警告", "政务撤职"]
    assert case["tip_category_name"] == "低保/救助" and case["policy_category_name"] == "社会救助"
    assert case["revisit"] is None and case["published_on"]
    actions = session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity_type == "case").order_by(AuditEntry.id)
    ).all()
    assert actions == ["case.create", "case.publish"]


def test_past_name_public_until_the_name_is_masked_everywhere(
    client: TestClient, session: Session
) -> None:
    hidden = make_case(
        session,
        name_public_until=past(1).isoformat(),
        revisit_on="2024-09-10",
        revisit_note="王小明已退回全部钱款",
    )
    named = make_case(
        session,
        person_name="李大强",
        problem="虚报冒领危房改造补助",
        facts="李大强虚报冒领危房改造补助。",
        tip_category="funds",
    )
    detail = client.get(f"/api/v1/cases/{hidden}").json()
    assert detail["person_name"] == "王某某"
    assert "王小明" not in str(detail) and "王某某违规为亲属申报低保" in detail["title"]
    assert "王某某利用职务便利" in detail["facts"] and "对王某某作出处理" in detail["text"]
    assert "王某某已退回" in detail["revisit"]["text"] and "王某某" in detail["revisit"]["note"]
    listed = client.get("/api/v1/cases").json()["items"]
    titles = {c["id"]: c["title"] for c in listed}
    assert "王某某" in titles[hidden] and "李大强" in titles[named]
    found = client.get("/api/v1/cases", params={"q": "低保"}).json()["items"]
    assert [c["id"] for c in found] == [hidden]
    assert "王小明" not in found[0]["snippet"] and "<mark>低保</mark>" in found[0]["snippet"]
    assert client.get("/api/v1/cases", params={"q": "王小明"}).json()["total"] == 0
    admin = client.get(f"{ADMIN}/{hidden}", headers=auth_headers(commission(session))).json()
    assert admin["person_name"] == "王小明"  # staff see the record as it is


def test_the_return_visit_is_shown_when_set(client: TestClient, session: Session) -> None:
    staff = commission(session)
    case_id = make_case(session, actor=staff)
    visit = {
        "money_returned": "8640",
        "rectified": True,
        "revisit_on": "2024-09-10",
        "revisit_note": "低保名单已重新评议并张榜公示",
    }
    updated = client.patch(f"{ADMIN}/{case_id}", json=visit, headers=auth_headers(staff))
    assert updated.status_code == 200, updated.text
    revisit = client.get(f"/api/v1/cases/{case_id}").json()["revisit"]
    assert revisit["money_returned"] == "8640.00" and revisit["rectified"] is True
    assert revisit["text"] == (
        "2024年9月10日回访：已退还群众8640元，问题已整改到位。低保名单已重新评议并张榜公示。"
    )


def test_villagers_see_the_cases_of_their_village_and_township(
    client: TestClient, session: Session
) -> None:
    ours = make_case(session)
    township_only = make_case(session, village_code=None, post="镇民政办工作人员")
    elsewhere = make_case(session, township_code=FOLOU, village_code=SANGUANZHAI)
    old = make_case(session, published_on="2025-06-01", tip_category="funds")

    def ids(**params: Any) -> list[int]:
        return sorted(c["id"] for c in client.get("/api/v1/cases", params=params).json()["items"])

    assert ids(village_code=HUANGLIU) == sorted([ours, old])
    assert ids(township_code=XIXING) == sorted([ours, township_only, old])
    assert ids(township_code=FOLOU) == [elsewhere]
    assert ids(year=2025) == [old]
    assert ids(category="funds") == [old]
    assert_problem(
        client.get("/api/v1/cases", params={"village_code": "12"}), 422, "validation_failed"
    )


def test_a_township_officer_proposes_within_their_township_only(
    client: TestClient, session: Session
) -> None:
    officer = make_staff(session, role=Role.township_officer, region_code=XIXING)
    headers = auth_headers(officer)
    made = client.post(ADMIN, json=CASE, headers=headers)
    assert made.status_code == 201
    case_id = made.json()["id"]
    assert client.post(f"{ADMIN}/{case_id}/submit", headers=headers).json()["state"] == "submitted"
    assert_problem(client.post(f"{ADMIN}/{case_id}/publish", headers=headers), 403, "forbidden")
    elsewhere = {**CASE, "township_code": FOLOU, "village_code": SANGUANZHAI}
    assert_problem(client.post(ADMIN, json=elsewhere, headers=headers), 403, "outside_township")
    editor = make_staff(session, role=Role.editor)
    assert_problem(client.post(ADMIN, json=CASE, headers=auth_headers(editor)), 403, "forbidden")
    client.post(f"{ADMIN}/{case_id}/publish", headers=auth_headers(commission(session)))
    assert_problem(
        client.patch(f"{ADMIN}/{case_id}", json={"post": "会计"}, headers=headers),
        422,
        "case_state_invalid",
    )


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"discipline_on": "2023-01-01"}, "早于问题发生的日期"),
        ({"village_code": "511923999999"}, "没有区划代码为 511923999999 的村"),
        ({"township_code": "511923999000", "village_code": None}, "没有区划代码为 511923999000"),
        ({"village_code": SANGUANZHAI}, "不在这个乡镇"),
        ({"published_on": "2024-01-01"}, "通报日期不能早于"),
        ({"amount_recovered": "9000"}, "追回的金额不能多于"),
        ({"facts_on": "2099-01-01", "discipline_on": "2099-02-01"}, "不能晚于今天"),
    ],
)
def test_inconsistent_cases_are_refused_and_nothing_is_stored(
    client: TestClient, session: Session, change: dict[str, Any], words: str
) -> None:
    headers = auth_headers(commission(session))
    count = session.scalar(select(func.count()).select_from(Case))
    problem = assert_problem(
        client.post(ADMIN, json={**CASE, **change}, headers=headers), 422, "case_invalid"
    )
    assert words in problem["detail"]
    assert session.scalar(select(func.count()).select_from(Case)) == count
    case_id = make_case(session)
    assert_problem(
        client.patch(f"{ADMIN}/{case_id}", json=change, headers=headers), 422, "case_invalid"
    )
    assert "王小明" in client.get(f"/api/v1/cases/{case_id}").json()["title"]


@pytest.mark.parametrize(
    "change",
    [
        {"disciplines": ["dismissed"]},
        {"disciplines": []},
        {"amount_involved": "12.345"},
        {"amount_involved": True},
        {"tip_category": "weather"},
        {"facts_on": "昨天"},
        {"person_name": "王"},
    ],
)
def test_malformed_fields_are_validation_problems(
    client: TestClient, session: Session, change: dict[str, Any]
) -> None:
    headers = auth_headers(commission(session))
    assert_problem(
        client.post(ADMIN, json={**CASE, **change}, headers=headers), 422, "validation_failed"
    )
