"""云端话廉 in the H5 app: a villager asks without a trace, reads the answer by code and rates it
once; the public reads only what the commission published; refusals are Chinese pages."""

import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.forum.models import Question
from app.staff.models import Role
from tests.factories import HUANGLIU, SANGUANZHAI, make_staff
from tests.forum.factories import answered, days, make_question
from tests.web.test_publicity import self_contained

ASKED = {
    "kind": "consult",
    "village_code": SANGUANZHAI,
    "title": "残疾人两项补贴怎么申请",
    "body": "我家孩子有二级残疾证，听说有两项补贴，要到哪里去申请，带什么材料？",
}


def _code(page: str) -> str:
    found = re.search(r'id="receipt-code">(\d{4} \d{4} \d{4} \d{4})<', page)
    assert found is not None, page
    return found[1]


def test_a_villager_asks_reads_the_answer_by_code_and_rates_it_once(
    client: TestClient, session: Session
) -> None:
    form = client.get(f"/questions/new?village={SANGUANZHAI}")
    assert form.status_code == 200 and "三官寨村" in form.text
    assert not form.cookies and form.headers["cache-control"] == "no-store"

    asked = client.post("/questions/new", data=ASKED)
    assert asked.status_code == 201, asked.text
    assert not asked.cookies and asked.headers["cache-control"] == "no-store"
    code = _code(asked.text)
    assert 'id="receipt-image" src="data:image/png;base64,' in asked.text
    assert "云端话廉 → 查我的留言" in asked.text
    question = session.scalars(select(Question).order_by(Question.id.desc()).limit(1)).one()
    assert question.title == ASKED["title"] and question.village_code == SANGUANZHAI

    assert ASKED["title"] not in client.get("/questions").text  # nothing public yet
    waiting = client.post("/questions/mine", data={"code": code.replace(" ", "")})
    assert waiting.status_code == 200 and "已收到，等待交办" in waiting.text
    assert 'id="rate"' not in waiting.text  # nothing to rate before an answer
    early = client.post("/questions/mine", data={"code": code, "score": "5"})
    assert early.status_code == 422 and "答复以后才能评价" in early.text

    answered(session, question, make_staff(session, role=Role.commission), on=days(0))
    mine = client.post("/questions/mine", data={"code": code})
    assert mine.status_code == 200 and "高龄津贴由户籍所在地" in mine.text
    assert 'id="rate"' in mine.text and f'name="code" value="{code.replace(" ", "")}"' in mine.text
    assert f'href="/questions/{question.id}"' in mine.text

    rated = client.post("/questions/mine", data={"code": code, "score": "4"})
    assert rated.status_code == 200 and "谢谢您的评价" in rated.text
    assert "4 分（满意）" in rated.text and 'id="rate"' not in rated.text
    again = client.post("/questions/mine", data={"code": code, "score": "1"})
    assert again.status_code == 409 and "已经评价过" in again.text
    session.refresh(question)
    assert question.rating == 4

    public = client.get(f"/questions/{question.id}")
    assert public.status_code == 200
    assert "高龄津贴怎么申请" in public.text  # the commission's public title
    assert ASKED["body"] not in public.text  # never the asker's own words
    assert "4 分（满意）" in public.text
    board = client.get(f"/questions?village={SANGUANZHAI}").text
    assert f'href="/questions/{question.id}"' in board and "共 1 条" in board


def test_the_board_filters_by_kind_and_village_and_searches(
    client: TestClient, session: Session
) -> None:
    staff = make_staff(session, role=Role.commission)
    consult, _ = make_question(session)
    complaint, _ = make_question(
        session, kind="complaint", village_code=HUANGLIU, title="低保评议没有开会"
    )
    hidden, _ = make_question(session, title="还没有答复的留言")
    for question in (consult, complaint):
        answered(session, question, staff, on=days(0))

    every = client.get("/questions")
    assert every.status_code == 200 and "共 2 条" in every.text
    assert "今年收到留言 3 条，已答复 2 条" in every.text
    assert f'href="/questions/{hidden.id}"' not in every.text
    complaints = client.get("/questions?kind=complaint").text
    assert f'href="/questions/{complaint.id}"' in complaints
    assert f'href="/questions/{consult.id}"' not in complaints
    village = client.get(f"/questions?village={HUANGLIU}").text
    assert "黄柳村" in village and f'href="/questions/{complaint.id}"' in village
    assert f'href="/questions/{consult.id}"' not in village
    found = client.get("/questions", params={"q": "户籍所在地"}).text
    assert "共 2 条" in found and "<mark>" in found
    # filters that name nothing are left out, never a problem in JSON
    for odd in ("kind=nonsense", "village=abc", "village=999999999999", "q="):
        page = client.get(f"/questions?{odd}")
        assert page.status_code == 200 and "共 2 条" in page.text, odd


def test_bad_questions_and_wrong_codes_are_chinese_pages_that_keep_what_was_typed(
    client: TestClient, session: Session
) -> None:
    before = session.scalar(select(Question.id).order_by(Question.id.desc()).limit(1))
    short = client.post("/questions/new", data={**ASKED, "title": "低保"})
    assert short.status_code == 422 and "标题" in short.text
    assert ASKED["body"] in short.text  # what was typed is kept
    unknown = client.post("/questions/new", data={**ASKED, "village_code": "511923999999"})
    assert unknown.status_code == 422 and "没有区划代码为 511923999999" in unknown.text
    after = session.scalar(select(Question.id).order_by(Question.id.desc()).limit(1))
    assert after == before  # nothing half-stored

    wrong = client.post("/questions/mine", data={"code": "1234 5678 9012 3456"})
    assert wrong.status_code == 404 and "没有与这个查询码相符的留言" in wrong.text
    letters = client.post("/questions/mine", data={"code": "abc"})
    assert letters.status_code == 422 and 'role="alert"' in letters.text

    draft, _ = make_question(session)
    for path in ("/questions/x", "/questions/1234567890", f"/questions/{draft.id}"):
        page = client.get(path)
        assert page.status_code == 404, path
        assert page.headers["content-type"].startswith("text/html")


def test_question_pages_are_chinese_self_contained_and_small(
    client: TestClient, session: Session
) -> None:
    question, _ = make_question(session)
    answered(session, question, make_staff(session, role=Role.commission), on=days(0))
    for path in ("/questions", "/questions/new", "/questions/mine", f"/questions/{question.id}"):
        self_contained(client, path)
    home = client.get(f"/?village={SANGUANZHAI}").text
    assert f'href="/questions?village={SANGUANZHAI}"' in home
    assert 'href="/questions"' in client.get("/").text
