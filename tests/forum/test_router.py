from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import workdays
from app.forum.models import Question
from app.staff.models import Role
from tests.asserts import assert_problem
from tests.factories import FOLOU, SANGUANZHAI, auth_headers, make_staff
from tests.forum.factories import answer_data, days, make_question, question_data
from tests.inquiries.factories import item_data, make_meeting

PUBLIC = "/api/v1/questions"
ADMIN = "/api/v1/admin/questions"


def _status(client: TestClient, code: str) -> dict[str, Any]:
    response = client.post(f"{PUBLIC}/status", json={"code": code})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_villager_asks_the_commission_answers_and_publishes_and_the_public_sees_the_rating(
    client: TestClient, session: Session
) -> None:
    asked = client.post(PUBLIC, json=question_data())
    assert asked.status_code == 201, asked.text
    receipt = asked.json()
    code = receipt["code"]
    assert len(code.replace(" ", "")) == 16 and code.count(" ") == 3
    assert (
        receipt["due_on"]
        == workdays.add_working_days(date.fromisoformat(receipt["submitted_on"]), 5).isoformat()
    )

    # nothing public yet
    assert client.get(PUBLIC).json()["total"] == 0
    mine = _status(client, code)
    assert (mine["state"], mine["kind_name"], mine["answer"]) == ("submitted", "咨询", None)
    question_id = mine["id"]
    assert_problem(client.get(f"{PUBLIC}/{question_id}"), 404, "question_not_found")
    assert_problem(
        client.post(f"{PUBLIC}/rating", json={"code": code, "score": 5}),
        422,
        "question_not_answered",
    )

    commission = make_staff(session, role=Role.commission)
    headers = auth_headers(commission)
    listed = client.get(ADMIN, headers=headers).json()
    assert [q["title"] for q in listed["items"]] == [question_data()["title"]]
    assigned = client.post(
        f"{ADMIN}/{question_id}/assign", json={"answerer_unit": "县民政局"}, headers=headers
    )
    assert assigned.status_code == 200 and assigned.json()["state"] == "assigned"
    answered = client.post(f"{ADMIN}/{question_id}/answer", json=answer_data(), headers=headers)
    assert answered.status_code == 200, answered.text
    assert answered.json()["reply_working_days"] == 0

    # the asker reads the answer at once; the public still sees nothing
    mine = _status(client, code)
    assert mine["answer"] == answer_data()["answer"] and mine["published"] is False
    assert client.get(PUBLIC).json()["total"] == 0

    published = client.post(f"{ADMIN}/{question_id}/publish", headers=headers)
    assert published.status_code == 200 and published.json()["state"] == "published"
    board = client.get(PUBLIC).json()
    assert board["total"] == 1
    item = board["items"][0]
    # the edited version, never the asker's own words
    assert item["title"] == "高龄津贴怎么申请" and item["region_name"].endswith("三官寨村")
    assert item["rating"] is None and item["answerer_unit"] == "县民政局"

    rated = client.post(f"{PUBLIC}/rating", json={"code": code, "score": 4})
    assert rated.status_code == 200 and rated.json()["rating"] == 4
    again = client.post(f"{PUBLIC}/rating", json={"code": code, "score": 1})
    assert_problem(again, 409, "question_already_rated")

    shown = client.get(f"{PUBLIC}/{question_id}").json()
    assert shown["rating"] == 4
    assert shown["body"] == answer_data()["public_body"]
    assert shown["answer"] == answer_data()["answer"]
    assert question_data()["body"] not in str(shown)

    stats = client.get(f"{PUBLIC}/stats").json()
    assert stats["total"]["asked"] == 1 and stats["total"]["answered"] == 1
    assert stats["total"]["reply_rate"] == 1.0 and stats["total"]["mean_rating"] == 4.0
    assert stats["total"]["median_working_days"] == 0


def test_a_question_turned_into_a_tip_shows_the_tips_status_under_the_same_code(
    client: TestClient, session: Session
) -> None:
    words = "村主任把低保名额给了自己的亲戚，我们组真正困难的人家没评上。"
    code = client.post(
        PUBLIC, json=question_data(kind="complaint", title="低保评给了村干部亲戚", body=words)
    ).json()["code"]
    question_id = _status(client, code)["id"]
    commission = make_staff(session, role=Role.commission)
    headers = auth_headers(commission)
    turned = client.post(
        f"{ADMIN}/{question_id}/to-tip", json={"category": "dibao"}, headers=headers
    )
    assert turned.status_code == 200, turned.text
    tip_id = turned.json()["tip_id"]
    assert turned.json()["body"] == ""  # the words went to the tip, encrypted

    mine = _status(client, code)
    assert mine["state"] == "to_tip" and mine["tip"]["state"] == "submitted"
    tip = client.get(f"/api/v1/admin/tips/{tip_id}", headers=headers).json()
    assert words in tip["content"] and tip["source"] == "question"

    accepted = client.post(
        f"/api/v1/admin/tips/{tip_id}/state", json={"state": "accepted"}, headers=headers
    )
    assert accepted.status_code == 200, accepted.text
    client.post(
        f"/api/v1/admin/tips/{tip_id}/replies", json={"body": "已受理，正在核查。"}, headers=headers
    )
    mine = _status(client, code)
    assert mine["tip"]["state_name"] == "已受理"
    assert [m["body"] for m in mine["tip"]["messages"]] == ["已受理，正在核查。"]
    assert session.scalar(select(func.count()).where(Question.body.contains("低保名额"))) == 0


def test_a_question_put_on_a_meeting_list_shows_the_items_number_and_state(
    client: TestClient, session: Session
) -> None:
    code = client.post(PUBLIC, json=question_data(kind="suggest")).json()["code"]
    question_id = _status(client, code)["id"]
    commission = make_staff(session, role=Role.commission)
    meeting = make_meeting(session, commission)
    body = {**item_data(question="村道坑洼多年没人修。"), "meeting_id": meeting.id}
    turned = client.post(
        f"{ADMIN}/{question_id}/to-inquiry", json=body, headers=auth_headers(commission)
    )
    assert turned.status_code == 200, turned.text
    number = turned.json()["inquiry_number"]
    mine = _status(client, code)
    assert mine["inquiry"] == {"number": number, "state_name": "已登记"}
    assert client.get(f"/api/v1/inquiries/{number}").json()["question"] == "村道坑洼多年没人修。"


def test_an_extension_is_public_with_its_reason_and_overdue_questions_are_listed(
    client: TestClient, session: Session
) -> None:
    late, _ = make_question(session, asked_on=days(-30), kind="complaint")
    on_time, code = make_question(session)
    commission = make_staff(session, role=Role.commission)
    headers = auth_headers(commission)
    overdue = client.get(f"{ADMIN}/overdue", headers=headers).json()
    assert [q["id"] for q in overdue["items"]] == [late.id]
    assert overdue["items"][0]["days_overdue"] > 0

    due_before = on_time.due_on
    reason = "需要到村里实地核实，延长 3 个工作日。"
    extended = client.post(
        f"{ADMIN}/{on_time.id}/extend", json={"working_days": 3, "reason": reason}, headers=headers
    )
    assert extended.status_code == 200, extended.text
    assert extended.json()["due_on"] == workdays.add_working_days(due_before, 3).isoformat()
    assert _status(client, code)["extensions"][0]["reason"] == reason
    client.post(f"{ADMIN}/{on_time.id}/answer", json=answer_data(), headers=headers)
    client.post(f"{ADMIN}/{on_time.id}/publish", headers=headers)
    shown = client.get(f"{PUBLIC}/{on_time.id}").json()
    assert shown["first_due_on"] == due_before.isoformat()
    assert [e["reason"] for e in shown["extensions"]] == [reason]


def test_only_the_commission_handles_questions(client: TestClient, session: Session) -> None:
    question, _ = make_question(session)
    officer = make_staff(session, role=Role.township_officer, region_code=FOLOU)
    assert_problem(client.get(ADMIN, headers=auth_headers(officer)), 403, "forbidden")
    assert_problem(client.get(ADMIN), 401, "authentication_required")
    body = answer_data()
    response = client.post(
        f"{ADMIN}/{question.id}/answer", json=body, headers=auth_headers(officer)
    )
    assert_problem(response, 403, "forbidden")


def test_bad_input_is_refused_in_chinese_and_nothing_is_stored(
    client: TestClient, session: Session
) -> None:
    def count() -> int:
        return session.scalar(select(func.count()).select_from(Question)) or 0

    for bad in (
        question_data(title=""),
        question_data(body="   "),
        question_data(body="太长" * 2000),
        question_data(kind="praise"),
        question_data(village_code="51192310320"),
        {**question_data(), "name": "张三"},
    ):
        assert_problem(client.post(PUBLIC, json=bad), 422, "validation_failed")
    unknown = client.post(PUBLIC, json=question_data(village_code="511923999999"))
    assert_problem(unknown, 422, "question_village_unknown")
    township = client.post(PUBLIC, json=question_data(village_code=FOLOU))
    assert_problem(township, 422, "question_village_unknown")
    assert count() == 0

    code = client.post(PUBLIC, json=question_data()).json()["code"]
    for score in (0, 6, "5", 4.5):
        response = client.post(f"{PUBLIC}/rating", json={"code": code, "score": score})
        assert_problem(response, 422, "validation_failed")
    assert_problem(
        client.post(f"{PUBLIC}/status", json={"code": "12345"}), 422, "validation_failed"
    )
    wrong = "0000 0000 0000 0000" if code != "0000 0000 0000 0000" else "1111 1111 1111 1111"
    assert_problem(
        client.post(f"{PUBLIC}/status", json={"code": wrong}), 404, "question_code_not_found"
    )
    # guessing is limited, as for tips' receipt codes: ten tries a minute
    for _ in range(9):  # with the one above: ten
        client.post(f"{PUBLIC}/status", json={"code": wrong})
    assert_problem(client.post(f"{PUBLIC}/status", json={"code": code}), 429, "rate_limited")
    assert count() == 1


def test_asking_is_limited_per_client(client: TestClient) -> None:
    for _ in range(5):
        assert client.post(PUBLIC, json=question_data()).status_code == 201
    assert_problem(client.post(PUBLIC, json=question_data()), 429, "rate_limited")


def test_published_answers_are_found_by_the_chinese_search_and_suggested_before_asking(
    client: TestClient, session: Session
) -> None:
    from tests.policies.factories import make_policy

    make_policy(
        session, title="城乡居民最低生活保障（低保）", summary="家庭收入低于低保标准的可以申请。"
    )
    commission = make_staff(session, role=Role.commission)
    headers = auth_headers(commission)
    found, _ = make_question(session)
    hidden, _ = make_question(
        session, title="低保的事情还没答复", body="我家低保的申请交上去两个月了。"
    )
    public = {
        "answer": "低保由村（社区）受理，乡镇审核，县民政局审批，一般一个月内办结。",
        "public_title": "低保申请要多久",
        "public_body": "村民咨询：申请低保以后多久能批下来？",
    }
    client.post(f"{ADMIN}/{found.id}/answer", json=public, headers=headers)
    client.post(f"{ADMIN}/{found.id}/publish", headers=headers)

    hits = client.get(PUBLIC, params={"q": "低保"}).json()
    assert [q["id"] for q in hits["items"]] == [found.id]
    assert "<mark>低保</mark>" in hits["items"][0]["snippet"]
    assert client.get(PUBLIC, params={"q": "养老"}).json()["total"] == 0
    suggested = client.get(f"{PUBLIC}/suggest", params={"q": "低保"}).json()
    assert [q["id"] for q in suggested["questions"]] == [found.id]
    assert suggested["policies"][0]["title"] == "城乡居民最低生活保障（低保）"
    assert client.get(f"{PUBLIC}/suggest", params={"q": "？！"}).json() == {
        "policies": [],
        "questions": [],
    }
    assert hidden.state == "submitted"
    assert SANGUANZHAI in {q["village_code"] for q in hits["items"]}
