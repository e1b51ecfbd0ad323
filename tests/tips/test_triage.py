from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEntry
from app.staff.models import Role
from app.tips.models import Tip
from tests.asserts import assert_problem
from tests.factories import COUNTY, FOLOU, HUANGLIU, SANGUANZHAI, XIXING, auth_headers, make_staff
from tests.tips.test_router import ADMIN, CONTENT, TIPS, commission, submit


def test_only_the_commission_sees_tips_others_get_404(client: TestClient, session: Session) -> None:
    submit(client)
    tip_id = session.scalars(select(Tip.id)).one()
    others = [
        make_staff(session, role=Role.township_officer, region_code=FOLOU),
        make_staff(session, role=Role.village_clerk, region_code=SANGUANZHAI),
        make_staff(session, role=Role.county_admin, region_code=COUNTY),
        make_staff(session, role=Role.editor, region_code=COUNTY),
    ]
    for staff in others:
        headers = auth_headers(staff)
        for url in (ADMIN, f"{ADMIN}/counts", f"{ADMIN}/{tip_id}"):
            assert_problem(client.get(url, headers=headers), 404, "not_found")
        assert_problem(
            client.post(f"{ADMIN}/{tip_id}/notes", json={"body": "x"}, headers=headers),
            404,
            "not_found",
        )
    assert_problem(client.get(ADMIN), 401, "authentication_required")
    _, headers = commission(session)
    assert client.get(ADMIN, headers=headers).status_code == 200


def test_each_read_of_content_is_audited(client: TestClient, session: Session) -> None:
    submit(client, contact="微信 abc", amount_involved="356.00")
    staff, headers = commission(session)
    tip_id = session.scalars(select(Tip.id)).one()
    for _ in range(2):
        body = client.get(f"{ADMIN}/{tip_id}", headers=headers).json()
        assert body["content"] == CONTENT and body["accused"] == "王某某"
        assert body["contact"] == "微信 abc" and body["is_real_name"] is True
        assert body["amount_involved"] == "356.00"
    reads = session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "tip.read", AuditEntry.entity_id == str(tip_id)
        )
    ).all()
    assert [r.actor_id for r in reads] == [staff.id, staff.id]
    # the list shows no content and audits nothing
    listed = client.get(ADMIN, headers=headers).json()["items"]
    assert "content" not in listed[0]


def test_list_filters_and_counts(client: TestClient, session: Session) -> None:
    submit(client)
    submit(client, village_code=HUANGLIU, category="projects")
    submit(client, village_code=None, category="other")
    _, headers = commission(session)

    def ids(**params: str) -> int:
        response = client.get(ADMIN, params=params, headers=headers)
        assert response.status_code == 200, response.text
        return int(response.json()["total"])

    assert ids() == 3
    assert ids(township_code=FOLOU) == 1 and ids(township_code=XIXING) == 1
    assert ids(category="projects") == 1 and ids(state="submitted") == 3
    assert ids(state="accepted") == 0
    assert ids(submitted_from="2000-01-01", submitted_to="2999-12-31") == 3
    assert ids(submitted_to="2000-01-01") == 0
    assert_problem(
        client.get(ADMIN, params={"state": "lost"}, headers=headers), 422, "validation_failed"
    )
    counts = client.get(f"{ADMIN}/counts", headers=headers).json()
    assert counts["total"] == 3
    assert {r["key"]: r["count"] for r in counts["by_category"]}["projects"] == 1
    assert {r["key"]: r["count"] for r in counts["by_state"]} == {
        "submitted": 3,
        "accepted": 0,
        "investigating": 0,
        "concluded": 0,
        "rejected": 0,
    }


def test_assignment_to_commission_staff_only(client: TestClient, session: Session) -> None:
    submit(client)
    tip_id = session.scalars(select(Tip.id)).one()
    _, headers = commission(session)
    colleague = make_staff(session, role=Role.commission)
    officer = make_staff(session, role=Role.township_officer, region_code=FOLOU)
    response = client.post(
        f"{ADMIN}/{tip_id}/assign", json={"staff_id": colleague.id}, headers=headers
    )
    assert response.status_code == 200 and response.json()["assignee_id"] == colleague.id
    assert_problem(
        client.post(f"{ADMIN}/{tip_id}/assign", json={"staff_id": officer.id}, headers=headers),
        422,
        "tip_assignee_invalid",
    )
    assert_problem(
        client.post(f"{ADMIN}/999999/assign", json={"staff_id": colleague.id}, headers=headers),
        404,
        "tip_not_found",
    )


def test_notes_stay_internal_replies_and_results_reach_the_tipster(
    client: TestClient, session: Session
) -> None:
    code = submit(client)["receipt_code"]
    tip_id = session.scalars(select(Tip.id)).one()
    _, headers = commission(session)
    note = client.post(
        f"{ADMIN}/{tip_id}/notes", json={"body": "内部：疑似涉及村支书"}, headers=headers
    )
    assert note.status_code == 201
    reply = client.post(
        f"{ADMIN}/{tip_id}/replies", json={"body": "已收到，正在核实。"}, headers=headers
    )
    assert reply.status_code == 201
    for state, extra in (
        ("accepted", {}),
        ("investigating", {}),
        ("concluded", {"result": "已追回 1068 元。"}),
    ):
        response = client.post(
            f"{ADMIN}/{tip_id}/state", json={"state": state, **extra}, headers=headers
        )
        assert response.status_code == 200, response.text
    status = client.post(f"{TIPS}/receipt", json={"receipt_code": code}).json()
    assert status["state"] == "concluded" and status["public_result"] == "已追回 1068 元。"
    assert [(m["author"], m["body"]) for m in status["messages"]] == [
        ("staff", "已收到，正在核实。")
    ]
    assert "内部" not in str(status)
    detail = client.get(f"{ADMIN}/{tip_id}", headers=headers).json()
    assert [m["kind"] for m in detail["messages"]] == ["note", "reply"]
    assert detail["closed_on"] is not None


def test_the_state_machine(client: TestClient, session: Session) -> None:
    code = submit(client)["receipt_code"]
    tip_id = session.scalars(select(Tip.id)).one()
    _, headers = commission(session)

    def move(state: str, **extra: str) -> object:
        return client.post(
            f"{ADMIN}/{tip_id}/state", json={"state": state, **extra}, headers=headers
        )

    assert_problem(move("concluded", result="x"), 422, "tip_state_invalid")  # skips steps
    assert_problem(move("investigating"), 422, "tip_state_invalid")
    assert_problem(move("rejected"), 422, "tip_state_invalid")  # no reason
    assert move("rejected", reason="不属于纪委监委受理范围，请向法院起诉。").status_code == 200
    assert_problem(move("accepted"), 422, "tip_state_invalid")  # rejected is final
    status = client.post(f"{TIPS}/receipt", json={"receipt_code": code}).json()
    assert status["state"] == "rejected"
    assert status["rejection_reason"] == "不属于纪委监委受理范围，请向法院起诉。"
    actions = session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity_type == "tip")
    ).all()
    assert "tip.state" in actions
