import io

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEntry
from app.screening.models import Flag
from app.screening.rules import RuleCode
from app.staff.models import Role
from app.tips.models import Tip
from tests.asserts import assert_problem
from tests.factories import (
    COUNTY,
    FOLOU,
    HUANGLIU,
    SANGUANZHAI,
    XIXING,
    auth_headers,
    make_staff,
)
from tests.screening.factories import flag, seed_flags, seed_lines
from tests.subsidies.factories import ID_A

BASE = "/api/v1/admin/screening"
FLAGS = f"{BASE}/flags"


def _commission(session: Session) -> dict[str, str]:
    return auth_headers(make_staff(session, role=Role.commission))


def _ids(body: dict[str, object]) -> set[int]:
    items = body["items"]
    assert isinstance(items, list)
    return {item["id"] for item in items}


def test_list_shows_rule_names_masked_persons_and_filters(
    client: TestClient, session: Session
) -> None:
    flags = seed_flags(session)
    headers = _commission(session)
    body = client.get(FLAGS, headers=headers).json()
    assert body["total"] == 3 and body["page"] == 1
    assert [item["id"] for item in body["items"]] == sorted(
        (f.id for f in flags.values()), reverse=True
    )

    duplicate = client.get(FLAGS, params={"rule": "duplicate"}, headers=headers).json()
    (item,) = duplicate["items"]
    assert item["rule_name"] == "重复发放" and item["rule_version"] == 1
    assert item["village"] == "平昌县佛楼镇三官寨村" and item["village_code"] == SANGUANZHAI
    assert item["person"] == {"name_masked": "张*英", "id_number_masked": "511923********028X"}
    assert item["record_ids"] == ["A-1", "A-2"]
    assert item["figures"] == {"lines": 2, "total": "286.00"}
    assert item["state"] == "open" and item["state_name"] == "待处理" and item["reason"] is None
    assert item["period"] == "2026-10" and item["item_name"] == "城乡居民基础养老金"
    assert item["created_at"].endswith("+08:00")
    assert ID_A not in str(duplicate)

    jump = client.get(FLAGS, params={"rule": "village_jump"}, headers=headers).json()
    assert jump["items"][0]["person"] is None

    by_township = client.get(FLAGS, params={"township_code": XIXING}, headers=headers).json()
    assert _ids(by_township) == {flags["cadre"].id}
    by_village = client.get(FLAGS, params={"village_code": SANGUANZHAI}, headers=headers).json()
    assert _ids(by_village) == {flags["duplicate"].id, flags["jump"].id}
    by_period = client.get(FLAGS, params={"period": "2026-09"}, headers=headers).json()
    assert _ids(by_period) == {flags["cadre"].id}
    assert client.get(FLAGS, params={"state": "dismissed"}, headers=headers).json()["total"] == 0
    paged = client.get(FLAGS, params={"size": 2, "page": 2}, headers=headers).json()
    assert paged["total"] == 3 and len(paged["items"]) == 1

    for bad in ({"rule": "nonsense"}, {"period": "2026-13"}, {"township_code": "12"}):
        assert_problem(client.get(FLAGS, params=bad, headers=headers), 422, "validation_failed")


def test_a_township_officer_reads_own_township_only(client: TestClient, session: Session) -> None:
    flags = seed_flags(session)
    officer = auth_headers(make_staff(session, role=Role.township_officer, region_code=FOLOU))
    body = client.get(FLAGS, headers=officer).json()
    assert _ids(body) == {flags["duplicate"].id, flags["jump"].id}
    assert client.get(f"{FLAGS}/{flags['duplicate'].id}", headers=officer).status_code == 200
    assert_problem(
        client.get(f"{FLAGS}/{flags['cadre'].id}", headers=officer),
        404,
        "screening_flag_not_found",
    )
    assert_problem(
        client.get(FLAGS, params={"township_code": XIXING}, headers=officer), 403, "forbidden"
    )
    assert_problem(
        client.get(FLAGS, params={"village_code": HUANGLIU}, headers=officer), 403, "forbidden"
    )
    rows = _xlsx_rows(client.get(f"{FLAGS}.xlsx", headers=officer).content)
    assert {row[0] for row in rows[1:]} == {flags["duplicate"].id, flags["jump"].id}
    # reading only
    close = {"state": "dismissed", "reason": "已核实"}
    duplicate = flags["duplicate"].id
    assert_problem(
        client.post(f"{FLAGS}/{duplicate}/close", json=close, headers=officer), 403, "forbidden"
    )
    assert_problem(client.post(f"{FLAGS}/{duplicate}/tip", headers=officer), 403, "forbidden")
    assert_problem(client.get(f"{BASE}/precision", headers=officer), 403, "forbidden")

    for role, region in ((Role.village_clerk, SANGUANZHAI), (Role.editor, COUNTY)):
        headers = auth_headers(make_staff(session, role=role, region_code=region))
        for url in (FLAGS, f"{FLAGS}/{duplicate}", f"{FLAGS}.xlsx", f"{BASE}/precision"):
            assert_problem(client.get(url, headers=headers), 403, "forbidden")
    assert_problem(client.get(FLAGS), 401, "authentication_required")
    admin = auth_headers(make_staff(session, role=Role.county_admin))
    assert client.get(FLAGS, headers=admin).json()["total"] == 3


def test_detail_shows_the_lines_as_they_stand_and_the_history(
    client: TestClient, session: Session
) -> None:
    flags = seed_flags(session)
    headers = _commission(session)
    url = f"{FLAGS}/{flags['duplicate'].id}"
    body = client.get(url, headers=headers).json()
    assert body["rule_explanation"].startswith("同一人同一项目同一期")
    assert body["history"] == []
    assert [line["record_id"] for line in body["lines"]] == ["A-1", "A-2"]
    first, second = body["lines"]
    assert first == {
        "record_id": "A-1",
        "village_code": SANGUANZHAI,
        "village": "平昌县佛楼镇三官寨村",
        "category_code": "05",
        "item_name": "城乡居民基础养老金",
        "amount": "143.00",
        "period": "2026-10",
        "paid_on": "2026-10-10",
        "status": "paid",
        "department": "县社会保险事业管理局",
    }
    assert second["department"] == "县民政局"

    client.post(
        f"{url}/close", json={"state": "dismissed", "reason": "两笔分属补发"}, headers=headers
    )
    (entry,) = client.get(url, headers=headers).json()["history"]
    assert entry["action"] == "screening.flag.close"
    assert entry["before"] == {"state": "open", "reason": None, "tip_id": None}
    assert entry["after"] == {"state": "dismissed", "reason": "两笔分属补发", "tip_id": None}
    assert_problem(client.get(f"{FLAGS}/999999", headers=headers), 404, "screening_flag_not_found")


def test_closing_needs_a_reason_and_happens_once(client: TestClient, session: Session) -> None:
    flags = seed_flags(session)
    commission = make_staff(session, role=Role.commission)
    headers = auth_headers(commission)
    url = f"{FLAGS}/{flags['duplicate'].id}/close"
    for body in ({"state": "confirmed"}, {"state": "confirmed", "reason": "   "}):
        problem = assert_problem(
            client.post(url, json=body, headers=headers), 422, "screening_flag_reason_missing"
        )
        assert "理由" in problem["detail"]
    for body in (
        {"state": "withdrawn", "reason": "x"},
        {"state": "confirmed", "reason": "x" * 2001},
    ):
        assert_problem(client.post(url, json=body, headers=headers), 422, "validation_failed")

    done = client.post(
        url, json={"state": "confirmed", "reason": "同一人重复领取"}, headers=headers
    )
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "confirmed" and done.json()["reason"] == "同一人重复领取"
    again = client.post(url, json={"state": "dismissed", "reason": "改主意"}, headers=headers)
    problem = assert_problem(again, 409, "screening_flag_closed")
    assert "确认属实" in problem["detail"]

    session.expire_all()
    stored = session.get(Flag, flags["duplicate"].id)
    assert (
        stored is not None and stored.state == "confirmed" and stored.closed_by_id == commission.id
    )
    entries = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "screening.flag.close")
    ).all()
    assert [(e.actor_id, e.entity_id) for e in entries] == [(commission.id, str(stored.id))]


def test_precision_per_rule(client: TestClient, session: Session) -> None:
    seed_lines(session)
    duplicates = [
        flag(session, RuleCode.duplicate, ids)
        for ids in (("A-1",), ("A-2",), ("C-1",), ("A-1", "A-2"))
    ]
    cadre = flag(
        session, RuleCode.cadre_relative, ("B-1",), village_code=HUANGLIU, period="2026-09"
    )
    headers = _commission(session)
    for closed, state in zip(duplicates, ("confirmed", "confirmed", "dismissed"), strict=False):
        client.post(
            f"{FLAGS}/{closed.id}/close", json={"state": state, "reason": "核实"}, headers=headers
        )
    client.post(
        f"{FLAGS}/{cadre.id}/close", json={"state": "dismissed", "reason": "核实"}, headers=headers
    )

    rows = {row["rule"]: row for row in client.get(f"{BASE}/precision", headers=headers).json()}
    assert set(rows) == {rule.value for rule in RuleCode}
    assert rows["duplicate"] == {
        "rule": "duplicate",
        "rule_name": "重复发放",
        "open": 1,
        "confirmed": 2,
        "dismissed": 1,
        "precision": 0.6667,
    }
    assert rows["cadre_relative"]["precision"] == 0.0
    assert rows["age_mismatch"] == {
        "rule": "age_mismatch",
        "rule_name": "年龄不符",
        "open": 0,
        "confirmed": 0,
        "dismissed": 0,
        "precision": None,
    }


def _xlsx_rows(content: bytes) -> list[tuple[object, ...]]:
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    return list(sheet.iter_rows(values_only=True))


def test_xlsx_holds_the_open_flags_with_masked_names(client: TestClient, session: Session) -> None:
    flags = seed_flags(session)
    headers = _commission(session)
    client.post(
        f"{FLAGS}/{flags['cadre'].id}/close",
        json={"state": "dismissed", "reason": "已退出"},
        headers=headers,
    )
    response = client.get(f"{FLAGS}.xlsx", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response.headers["content-disposition"]
    header, *rows = _xlsx_rows(response.content)
    assert header == (
        "编号",
        "规则",
        "村（社区）",
        "姓名（打码）",
        "期次",
        "项目",
        "发放记录",
        "数据",
        "发现时间",
    )
    assert [row[0] for row in rows] == [flags["duplicate"].id, flags["jump"].id]
    duplicate = rows[0]
    assert duplicate[1] == "重复发放（duplicate）"
    assert duplicate[2] == "平昌县佛楼镇三官寨村"
    assert duplicate[3] == "张*英"
    assert duplicate[4:7] == ("2026-10", "城乡居民基础养老金", "A-1、A-2")
    assert '"total": "286.00"' in str(duplicate[7])
    assert rows[1][3] is None or rows[1][3] == ""
    assert ID_A[:6].encode() not in response.content  # not even the masked ID number

    only_jump = client.get(f"{FLAGS}.xlsx", params={"rule": "village_jump"}, headers=headers)
    assert [row[0] for row in _xlsx_rows(only_jump.content)[1:]] == [flags["jump"].id]


def test_a_confirmed_flag_opens_one_tip_the_commission_can_read(
    client: TestClient, session: Session
) -> None:
    flags = seed_flags(session)
    headers = _commission(session)
    url = f"{FLAGS}/{flags['duplicate'].id}"
    assert_problem(client.post(f"{url}/tip", headers=headers), 422, "screening_flag_not_confirmed")
    client.post(
        f"{url}/close", json={"state": "confirmed", "reason": "重复领取属实"}, headers=headers
    )
    opened = client.post(f"{url}/tip", headers=headers)
    assert opened.status_code == 200, opened.text
    tip_id = opened.json()["tip_id"]
    assert tip_id is not None
    assert [e["action"] for e in opened.json()["history"]] == [
        "screening.flag.tip",
        "screening.flag.close",
    ]
    assert_problem(client.post(f"{url}/tip", headers=headers), 409, "screening_flag_tip_exists")

    listed = client.get(
        "/api/v1/admin/tips", params={"source": "screening"}, headers=headers
    ).json()
    (brief,) = listed["items"]
    assert brief["id"] == tip_id and brief["source_name"] == "疑点筛查"
    assert brief["village_code"] == SANGUANZHAI and brief["township_code"] == FOLOU
    assert brief["state"] == "submitted" and brief["category"] == "funds"
    tip = client.get(f"/api/v1/admin/tips/{tip_id}", headers=headers).json()
    content = tip["content"]
    assert "重复发放" in content and "A-1" in content and "A-2" in content
    assert "143 元" in content and "张*英" in content and "重复领取属实" in content
    assert '"total": "286.00"' in content
    assert tip["contact"] is None and tip["is_real_name"] is False

    stored = session.get(Tip, tip_id)
    assert stored is not None and stored.receipt_hash is None and stored.content_enc is not None
    assert "重复发放".encode() not in stored.content_enc and b"A-1" not in stored.content_enc


def test_a_social_assistance_flag_becomes_a_dibao_tip(client: TestClient, session: Session) -> None:
    flags = seed_flags(session)
    headers = _commission(session)
    url = f"{FLAGS}/{flags['cadre'].id}"
    client.post(
        f"{url}/close", json={"state": "confirmed", "reason": "村主任配偶"}, headers=headers
    )
    tip_id = client.post(f"{url}/tip", headers=headers).json()["tip_id"]
    tip = client.get(f"/api/v1/admin/tips/{tip_id}", headers=headers).json()
    assert tip["category"] == "dibao" and tip["payout_record_id"] == "B-1"
    assert tip["township_code"] == XIXING
