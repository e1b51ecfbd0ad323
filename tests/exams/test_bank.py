"""The question bank: CSV and XLSX imports, all or nothing, row-numbered Chinese problems; the
starter bank; papers that ask more than the bank holds."""

import io

from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.exams import bank
from app.exams.models import ExamQuestion
from app.staff.models import Role
from tests.exams.factories import Clock, exam_data, load_bank, make_officer
from tests.factories import auth_headers, make_staff

HEADER = "kind,tag,text,options,answer,explanation\n"
GOOD = (
    'single,纪律处分条例,对党员的纪律处分有几种？,三种|四种|五种|六种,C,"《条例》规定五种。"\n'
    "multiple,八项规定|作风,八项规定包括哪些？,改进调查研究|精简会议活动|增加检查,AB,见八项规定。\n"
    "true_false,群众纪律,吃拿卡要违反群众纪律。,,T,《条例》群众纪律。\n"
)


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ExamQuestion)) or 0


def test_a_csv_bank_is_imported_and_a_second_import_skips_what_is_there(
    client: TestClient, session: Session
) -> None:
    headers = auth_headers(make_staff(session, role=Role.commission))
    data = (HEADER + GOOD).encode()

    first = client.post(
        "/api/v1/admin/exam-questions/import", files={"file": ("q.csv", data)}, headers=headers
    )
    again = client.post(
        "/api/v1/admin/exam-questions/import", files={"file": ("q.csv", data)}, headers=headers
    )

    assert first.status_code == 200, first.text
    assert (first.json()["created"], first.json()["skipped"]) == (3, 0)
    assert first.json()["tags"] == {"作风": 1, "八项规定": 1, "纪律处分条例": 1, "群众纪律": 1}
    assert (again.json()["created"], again.json()["skipped"]) == (0, 3)
    listed = client.get(
        "/api/v1/admin/exam-questions", params={"tag": "群众纪律"}, headers=headers
    ).json()
    assert listed["total"] == 1
    question = listed["items"][0]
    assert (question["kind"], question["options"], question["answer"]) == (
        "true_false",
        ["正确", "错误"],
        "T",
    )


def test_an_xlsx_bank_with_chinese_headers_is_imported(
    client: TestClient, session: Session
) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["题型", "标签", "题目", "选项", "答案", "解析"])
    sheet.append(
        ["单选", "惠民政策", "高龄津贴从多少岁开始领？", "60岁|70岁|80岁", "C", "满80岁。"]
    )
    sheet.append(["判断", "惠民政策", "低保公示7天。", None, "对", "公示7天。"])
    out = io.BytesIO()
    book.save(out)

    response = client.post(
        "/api/v1/admin/exam-questions/import",
        files={"file": ("题库.xlsx", out.getvalue())},
        headers=auth_headers(make_staff(session, role=Role.county_admin)),
    )

    assert response.status_code == 200, response.text
    assert response.json()["created"] == 2
    stored = session.scalars(select(ExamQuestion).order_by(ExamQuestion.id)).all()
    assert [(q.kind, q.answer) for q in stored] == [("single", "C"), ("true_false", "T")]


def test_a_bank_with_broken_rows_names_each_row_in_chinese_and_stores_nothing(
    client: TestClient, session: Session
) -> None:
    broken = (
        HEADER
        + GOOD
        + "essay,纪律处分条例,论述题,,,解析\n"  # row 5: no such kind
        + "single,,没有标签的题,甲|乙,A,解析\n"  # row 6
        + "single,八项规定,两个答案的单选,甲|乙|丙,AB,解析\n"  # row 7
        + "multiple,八项规定,只有一个答案的多选,甲|乙|丙,A,解析\n"  # row 8
        + "single,八项规定,答案超出选项,甲|乙,C,解析\n"  # row 9
        + "true_false,八项规定,判断题答了字母,,A,解析\n"  # row 10
        + "single,八项规定,没有解析,甲|乙,A,\n"  # row 11
        + 'single,纪律处分条例,对党员的纪律处分有几种？,三种|四种|五种|六种,C,"重复"\n'  # row 12
    )

    response = client.post(
        "/api/v1/admin/exam-questions/import",
        files={"file": ("q.csv", broken.encode())},
        headers=auth_headers(make_staff(session, role=Role.commission)),
    )

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "exam_bank_file_invalid" and body["rows_total"] == 8
    assert [row["row"] for row in body["rows"]] == [5, 6, 7, 8, 9, 10, 11, 12]
    messages = {row["row"]: row["message"] for row in body["rows"]}
    assert "题型" in messages[5] and "标签" in messages[6] and "单选题" in messages[7]
    assert "多选题" in messages[8] and "A 至 B" in messages[9] and "判断题" in messages[10]
    assert "解析" in messages[11] and "第 2 行" in messages[12]
    assert "一道题也没有导入" in body["detail"]
    assert _count(session) == 0


def test_a_bank_file_without_the_header_or_in_utf16_is_refused(
    client: TestClient, session: Session
) -> None:
    headers = auth_headers(make_staff(session, role=Role.commission))
    no_header = client.post(
        "/api/v1/admin/exam-questions/import",
        files={"file": ("q.csv", "题目,答案\n一,A\n".encode())},
        headers=headers,
    )
    assert no_header.status_code == 422 and "表头" in no_header.json()["detail"]
    broken_xlsx = client.post(
        "/api/v1/admin/exam-questions/import",
        files={"file": ("q.xlsx", b"PK\x03\x04broken")},
        headers=headers,
    )
    assert broken_xlsx.status_code == 422 and "Excel" in broken_xlsx.json()["detail"]
    assert _count(session) == 0


def test_only_the_county_and_the_commission_import_the_bank(
    client: TestClient, session: Session
) -> None:
    response = client.post(
        "/api/v1/admin/exam-questions/import",
        files={"file": ("q.csv", (HEADER + GOOD).encode())},
        headers=auth_headers(make_officer(session)),
    )
    assert response.status_code == 403


def test_the_starter_bank_holds_at_least_120_checked_questions_on_the_four_subjects(
    session: Session,
) -> None:
    questions = bank.check_file(bank.STARTER_BANK.read_bytes())
    tags = {tag for q in questions for tag in q.tags}

    assert len(questions) >= 120
    assert tags == {"纪律处分条例", "八项规定", "群众纪律", "惠民政策"}
    assert {q.kind for q in questions} == {"single", "multiple", "true_false"}
    assert all(len(q.explanation) >= 20 for q in questions)  # each says why, from the rule
    assert sum("《" in q.explanation for q in questions) >= len(questions) // 2
    assert bank.load_starter_bank(session).created == len(questions)
    assert bank.load_starter_bank(session).created == 0  # loaded once


def test_a_paper_that_draws_more_than_the_bank_holds_is_refused(
    client: TestClient, session: Session
) -> None:
    load_bank(session)
    data = exam_data(
        draw=[
            {"tag": "群众纪律", "count": 90, "points": 1},
            {"tag": "没有这个标签", "count": 1, "points": 1},
        ],
        pass_mark=1,
    )

    response = client.post(
        "/api/v1/admin/exams", json=data, headers=auth_headers(make_officer(session))
    )

    assert response.status_code == 422
    assert response.json()["code"] == "exam_draw_exceeds_bank"
    assert "“群众纪律”要抽 90 道" in response.json()["detail"]
    assert "“没有这个标签”要抽 1 道，题库只有 0 道" in response.json()["detail"]


def test_a_paper_is_checked_for_its_window_tags_and_pass_mark(
    client: TestClient, session: Session, exam_clock: Clock
) -> None:
    load_bank(session)
    headers = auth_headers(make_officer(session))
    bad = exam_data(closes_at=exam_data()["opens_at"], pass_mark=1000)
    response = client.post("/api/v1/admin/exams", json=bad, headers=headers)
    assert response.status_code == 422 and response.json()["code"] == "validation_failed"
    outside = client.post(
        "/api/v1/admin/exams", json=exam_data(region_code="511923102000"), headers=headers
    )
    assert outside.status_code == 403  # 西兴镇 is not the officer's township
    made = client.post("/api/v1/admin/exams", json=exam_data(), headers=headers)
    assert made.status_code == 201 and made.json()["state"] == "draft"
    assert (made.json()["max_score"], made.json()["question_count"]) == (40, 5)
    opened = client.post(f"/api/v1/admin/exams/{made.json()['id']}/open", headers=headers)
    assert opened.json()["state"] == "open"
    twice = client.post(f"/api/v1/admin/exams/{made.json()['id']}/open", headers=headers)
    assert twice.status_code == 422 and twice.json()["code"] == "exam_state_invalid"
