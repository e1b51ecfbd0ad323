"""What the commission reads: per township and village, who took it, completion, mean score, pass
rate; per question the share right; the same in XLSX. And practice, which keeps only counts."""

import io

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from app.exams import service
from app.exams.models import ExamQuestion, PracticeTally
from app.staff.models import Role
from tests.exams.factories import (
    Clock,
    load_bank,
    make_cadre,
    make_exam,
    make_officer,
    right_answers,
    wrong,
)
from tests.factories import COUNTY, FOLOU, SANGUANZHAI, auth_headers, make_staff

OTHER_VILLAGE = "511923103002"  # 佛楼镇佛楼寺社区


def _take(session: Session, exam_id: int, cadre: object, right_slots: int) -> None:
    attempt, _ = service.start_attempt(session, exam_id, cadre=cadre)  # type: ignore[arg-type]
    for slot, answer in right_answers(session, attempt.id).items():
        chosen = answer if slot <= right_slots else wrong(answer)
        service.save_answer(session, attempt.id, slot, answer=chosen, cadre=cadre)  # type: ignore[arg-type]
    service.submit_attempt(session, attempt.id, cadre=cadre)  # type: ignore[arg-type]


def test_the_report_shows_each_village_s_completion_mean_and_pass_rate(
    client: TestClient, session: Session, exam_clock: Clock
) -> None:
    load_bank(session)
    officer = make_officer(session)
    exam = make_exam(session, officer)
    passing, failing, absent = (make_cadre(session) for _ in range(3))
    neighbour = make_cadre(session, OTHER_VILLAGE)
    make_cadre(session, "511923102205")  # 西兴镇: not in the audience
    _take(session, exam.id, passing, right_slots=5)  # 40 of 40
    _take(session, exam.id, failing, right_slots=1)  # 10 of 40, pass mark 24
    _take(session, exam.id, neighbour, right_slots=3)  # 30

    report = client.get(
        f"/api/v1/admin/exams/{exam.id}/report", headers=auth_headers(officer)
    ).json()

    assert report["total"]["cadres"] == 4 and report["total"]["took"] == 3
    [township] = report["townships"]
    assert township["code"] == FOLOU and township["name"] == "佛楼镇"
    villages = {v["code"]: v for v in township["villages"]}
    sanguanzhai = villages[SANGUANZHAI]
    assert sanguanzhai["name"] == "三官寨村"
    assert (sanguanzhai["cadres"], sanguanzhai["took"]) == (3, 2)
    assert sanguanzhai["completion_rate"] == round(2 / 3, 4)
    assert (sanguanzhai["mean_score"], sanguanzhai["pass_rate"]) == (25.0, 0.5)
    assert villages[OTHER_VILLAGE]["pass_rate"] == 1.0
    scores = {row["username"]: row["score"] for row in report["examinees"]}
    assert scores[absent.username] is None and scores[passing.username] == 40
    assert sum(q["answered"] for q in report["questions"]) == 15  # 3 attempts × 5 slots
    assert all(0 <= q["share_right"] <= 1 for q in report["questions"])
    assert report["questions"] == sorted(report["questions"], key=lambda q: q["share_right"])


def test_the_xlsx_report_opens_with_the_same_figures(
    client: TestClient, session: Session, exam_clock: Clock
) -> None:
    load_bank(session)
    officer = make_officer(session)
    exam = make_exam(session, officer)
    cadre = make_cadre(session)
    make_cadre(session)
    _take(session, exam.id, cadre, right_slots=5)

    response = client.get(
        f"/api/v1/admin/exams/{exam.id}/report.xlsx", headers=auth_headers(officer)
    )

    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["乡镇村", "参考人员", "题目"]
    rows = list(book["乡镇村"].iter_rows(values_only=True))
    header = rows.index(
        (
            "乡镇（街道）",
            "村（社区）",
            "区划代码",
            "干部数",
            "参考人数",
            "参考率",
            "平均分",
            "及格率",
        )
    )
    total = rows[header + 1]
    assert total[:1] == ("合计",) and total[3:] == (2, 1, 0.5, 40, 1)
    village = next(r for r in rows if r[2] == SANGUANZHAI)
    assert village[1] == "三官寨村"
    people = list(book["参考人员"].iter_rows(values_only=True))
    assert (cadre.username, 40, "及格") in [(p[1], p[5], p[6]) for p in people]
    questions = list(book["题目"].iter_rows(values_only=True))
    assert len(questions) == 1 + 5


def test_a_report_is_only_for_staff_of_the_region(
    client: TestClient, session: Session, exam_clock: Clock
) -> None:
    load_bank(session)
    exam = make_exam(session, make_officer(session))
    other = make_staff(session, role=Role.township_officer, region_code="511923102000")
    response = client.get(f"/api/v1/admin/exams/{exam.id}/report", headers=auth_headers(other))
    assert response.status_code == 404
    county = make_staff(session, role=Role.commission, region_code=COUNTY)
    assert (
        client.get(
            f"/api/v1/admin/exams/{exam.id}/report", headers=auth_headers(county)
        ).status_code
        == 200
    )


def test_practice_needs_no_account_explains_each_answer_and_keeps_only_counts(
    client: TestClient, session: Session
) -> None:
    load_bank(session)
    questions = client.get(
        "/api/v1/exam-practice/questions", params={"count": 3, "tag": "惠民政策"}
    )
    assert questions.status_code == 200
    drawn = questions.json()
    assert len(drawn) == 3 and all("惠民政策" in q["tags"] for q in drawn)
    assert all("answer" not in q and "explanation" not in q for q in drawn)
    question = drawn[0]
    right = session.get_one(ExamQuestion, question["id"]).answer

    good = client.post(
        "/api/v1/exam-practice/answers", json={"question_id": question["id"], "answer": right}
    )
    bad = client.post(
        "/api/v1/exam-practice/answers",
        json={"question_id": question["id"], "answer": wrong(right)},
    )

    assert good.json()["correct"] is True and good.json()["explanation"]
    assert bad.json()["correct"] is False and bad.json()["correct_answer"] == right
    tally = session.get_one(PracticeTally, question["id"])
    session.refresh(tally)
    assert (tally.answered, tally.correct) == (2, 1)
    columns = {c.key for c in inspect(PracticeTally).columns}
    assert columns == {"question_id", "answered", "correct"}  # no one, no time
    missing = client.post(
        "/api/v1/exam-practice/answers", json={"question_id": 999999, "answer": "A"}
    )
    assert missing.status_code == 404 and missing.json()["code"] == "exam_question_not_found"
    assert session.scalars(select(PracticeTally)).all() == [tally]
