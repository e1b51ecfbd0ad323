"""A cadre's attempt as a phone sees it: drawn on the server, answers saved one by one before the
server's deadline, resumed on another phone, submitted or finalised past the deadline."""

import json

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.exams import service
from app.exams.models import ExamAttempt, ExamQuestion
from app.scheduler import finalise_overdue_attempts
from tests.exams.factories import (
    Clock,
    load_bank,
    make_cadre,
    make_exam,
    make_officer,
    right_answers,
    wrong,
)
from tests.factories import HUANGLIU, auth_headers

ATTEMPT_KEYS_BEFORE_REVIEW = {"correct_answer", "correct", "explanation"}


def _start(client: TestClient, exam_id: int, headers: dict[str, str], status: int = 201) -> dict:
    response = client.post(f"/api/v1/exams/{exam_id}/attempts", headers=headers)
    assert response.status_code == status, response.text
    return response.json()


def _save(
    client: TestClient, attempt_id: int, slot: int, answer: str, headers: dict[str, str]
) -> object:
    return client.put(
        f"/api/v1/exam-attempts/{attempt_id}/answers/{slot}",
        json={"answer": answer},
        headers=headers,
    )


def test_an_attempt_is_drawn_once_in_a_fixed_order_and_carries_no_answer(
    client: TestClient, session: Session, exam_clock: Clock
) -> None:
    load_bank(session)
    exam = make_exam(session, make_officer(session))
    headers = auth_headers(make_cadre(session))

    attempt = _start(client, exam.id, headers)

    assert [q["slot"] for q in attempt["questions"]] == [1, 2, 3, 4, 5]
    assert sum(q["points"] for q in attempt["questions"]) == attempt["max_score"] == 40
    assert attempt["deadline"] == "2026-12-01T09:30:00+08:00"  # started 09:00, 30 minutes
    assert attempt["server_time"] == "2026-12-01T09:00:00+08:00"
    for question in attempt["questions"]:
        assert all(question[key] is None for key in ATTEMPT_KEYS_BEFORE_REVIEW)
    sent = json.dumps(attempt, ensure_ascii=False)
    drawn = session.scalars(select(ExamAttempt)).one().slots
    for slot in drawn:
        question = session.get_one(ExamQuestion, slot.question_id)
        assert question.explanation not in sent  # nor is any explanation
    assert attempt["score"] is None and attempt["passed"] is None


def test_a_second_phone_resumes_the_same_attempt_with_what_was_saved(
    client: TestClient, session: Session, exam_clock: Clock
) -> None:
    load_bank(session)
    exam = make_exam(session, make_officer(session))
    cadre = make_cadre(session)
    first_phone, second_phone = auth_headers(cadre), auth_headers(cadre)
    attempt = _start(client, exam.id, first_phone)
    right = right_answers(session, attempt["id"])
    for slot in (1, 2):
        assert _save(client, attempt["id"], slot, right[slot], first_phone).status_code == 200

    exam_clock.advance(minutes=5)
    resumed = _start(client, exam.id, second_phone, status=200)

    assert resumed["id"] == attempt["id"]
    assert [q["text"] for q in resumed["questions"]] == [q["text"] for q in attempt["questions"]]
    assert [q["answer"] for q in resumed["questions"]] == [right[1], right[2], None, None, None]
    assert resumed["answered"] == 2
    assert resumed["deadline"] == attempt["deadline"]  # the clock did not restart
    mine = client.get("/api/v1/exams", headers=second_phone).json()
    assert mine[0]["in_progress_attempt_id"] == attempt["id"]


def test_saving_the_same_answer_twice_is_idempotent_and_the_last_answer_counts(
    client: TestClient, session: Session, exam_clock: Clock
) -> None:
    load_bank(session)
    exam = make_exam(session, make_officer(session))
    headers = auth_headers(make_cadre(session))
    attempt = _start(client, exam.id, headers)
    right = right_answers(session, attempt["id"])

    first = _save(client, attempt["id"], 1, wrong(right[1]), headers)
    again = _save(client, attempt["id"], 1, right[1].lower(), headers)  # a retry, then a change
    retried = _save(client, attempt["id"], 1, right[1], headers)

    assert first.status_code == again.status_code == retried.status_code == 200
    assert retried.json()["answer"] == right[1]
    read = client.get(f"/api/v1/exam-attempts/{attempt['id']}", headers=headers).json()
    assert read["questions"][0]["answer"] == right[1]
    assert read["answered"] == 1


def test_submitting_shows_the_score_and_explanations_when_the_review_is_after_submit(
    client: TestClient, session: Session, exam_clock: Clock
) -> None:
    load_bank(session)
    exam = make_exam(session, make_officer(session))
    headers = auth_headers(make_cadre(session))
    attempt = _start(client, exam.id, headers)
    right = right_answers(session, attempt["id"])
    for slot in (1, 2, 3):  # the three 10-point questions, right
        _save(client, attempt["id"], slot, right[slot], headers)
    _save(client, attempt["id"], 4, wrong(right[4]), headers)  # slot 5 left blank

    exam_clock.advance(minutes=12)
    submitted = client.post(f"/api/v1/exam-attempts/{attempt['id']}/submit", headers=headers)

    assert submitted.status_code == 200, submitted.text
    body = submitted.json()
    assert (body["state"], body["finished_by"], body["score"], body["passed"]) == (
        "finished",
        "submitted",
        30,
        True,
    )
    assert [q["correct"] for q in body["questions"]] == [True, True, True, False, False]
    assert all(q["explanation"] and q["correct_answer"] for q in body["questions"])
    again = client.post(f"/api/v1/exam-attempts/{attempt['id']}/submit", headers=headers)
    assert again.json()["score"] == 30  # submitting twice answers the same
    late = _save(client, attempt["id"], 5, right[5], headers)
    assert late.status_code == 409 and late.json()["code"] == "exam_attempt_finished"


def test_review_after_close_hides_score_and_answers_until_the_window_closes(
    client: TestClient, session: Session, exam_clock: Clock
) -> None:
    load_bank(session)
    exam = make_exam(session, make_officer(session), review="after_close")
    headers = auth_headers(make_cadre(session))
    attempt = _start(client, exam.id, headers)
    submitted = client.post(f"/api/v1/exam-attempts/{attempt['id']}/submit", headers=headers)

    body = submitted.json()
    assert body["state"] == "finished" and body["review_available"] is False
    assert body["score"] is None and body["review_from"] == "2026-12-08T09:00:00+08:00"
    assert all(q["correct_answer"] is None for q in body["questions"])

    exam_clock.advance(days=7)
    later = client.get(f"/api/v1/exam-attempts/{attempt['id']}", headers=headers).json()
    assert later["review_available"] is True and later["score"] == 0
    assert later["questions"][0]["explanation"]


def test_an_answer_after_the_deadline_is_refused_and_the_attempt_keeps_what_was_saved(
    client: TestClient, session: Session, exam_clock: Clock
) -> None:
    load_bank(session)
    exam = make_exam(session, make_officer(session))
    headers = auth_headers(make_cadre(session))
    attempt = _start(client, exam.id, headers)
    right = right_answers(session, attempt["id"])
    exam_clock.advance(minutes=29, seconds=59)
    assert _save(client, attempt["id"], 1, right[1], headers).status_code == 200

    exam_clock.advance(seconds=1)  # 09:30:00, the deadline
    late = _save(client, attempt["id"], 2, right[2], headers)

    assert late.status_code == 409
    assert late.json()["code"] == "exam_deadline_passed" and "截止" in late.json()["detail"]
    read = client.get(f"/api/v1/exam-attempts/{attempt['id']}", headers=headers).json()
    assert (read["state"], read["finished_by"], read["score"]) == ("finished", "deadline", 10)
    assert read["finished_at"] == "2026-12-01T09:30:00+08:00"
    assert [q["answer"] for q in read["questions"]][:2] == [right[1], None]


def test_the_scheduler_finalises_an_abandoned_attempt_with_what_was_saved(
    client: TestClient, session: Session, exam_clock: Clock
) -> None:
    load_bank(session)
    exam = make_exam(session, make_officer(session))
    cadre = make_cadre(session)
    headers = auth_headers(cadre)
    attempt = _start(client, exam.id, headers)
    right = right_answers(session, attempt["id"])
    _save(client, attempt["id"], 2, right[2], headers)
    exam_clock.advance(minutes=31)  # the phone went dark

    assert service.finalise_overdue(session) == 1

    row = session.get_one(ExamAttempt, attempt["id"])
    session.refresh(row)
    assert (row.state, row.finished_by, row.score) == ("finished", "deadline", 10)
    assert service.finalise_overdue(session) == 0


def test_the_deadline_never_passes_the_window_close(
    client: TestClient, session: Session, exam_clock: Clock
) -> None:
    load_bank(session)
    exam = make_exam(session, make_officer(session))
    headers = auth_headers(make_cadre(session))
    exam_clock.advance(days=7, minutes=-10)  # ten minutes before it closes

    attempt = _start(client, exam.id, headers)

    assert attempt["deadline"] == "2026-12-08T09:00:00+08:00"


def test_bad_answers_are_chinese_problems_and_change_nothing(
    client: TestClient, session: Session, exam_clock: Clock
) -> None:
    load_bank(session)
    exam = make_exam(session, make_officer(session))
    cadre = make_cadre(session)
    headers = auth_headers(cadre)
    attempt = _start(client, exam.id, headers)
    kinds = {q["slot"]: q["kind"] for q in attempt["questions"]}
    single = next(s for s, k in kinds.items() if k == "single")
    true_false = next((s for s, k in kinds.items() if k == "true_false"), None)

    not_in = _save(client, attempt["id"], 6, "A", headers)
    assert not_in.status_code == 422 and not_in.json()["code"] == "exam_slot_not_in_attempt"
    assert "第 6 题" in not_in.json()["detail"]
    two_letters = _save(client, attempt["id"], single, "AB", headers)
    assert two_letters.status_code == 422 and two_letters.json()["code"] == "exam_answer_invalid"
    assert "单选题" in two_letters.json()["detail"]
    beyond = _save(client, attempt["id"], single, "Z", headers)
    assert beyond.status_code == 422
    if true_false is not None:
        letter = _save(client, attempt["id"], true_false, "A", headers)
        assert letter.status_code == 422 and "判断题" in letter.json()["detail"]
    empty = client.put(
        f"/api/v1/exam-attempts/{attempt['id']}/answers/1", json={"answer": ""}, headers=headers
    )
    assert empty.status_code == 422 and empty.json()["code"] == "validation_failed"
    someone_else = _save(client, attempt["id"], 1, "A", auth_headers(make_cadre(session)))
    assert someone_else.status_code == 404
    assert (
        client.get(f"/api/v1/exam-attempts/{attempt['id']}", headers=headers).json()["answered"]
        == 0
    )


def test_attempts_beyond_the_allowed_are_refused(
    client: TestClient, session: Session, exam_clock: Clock
) -> None:
    load_bank(session)
    exam = make_exam(session, make_officer(session), attempts_allowed=1)
    headers = auth_headers(make_cadre(session))
    attempt = _start(client, exam.id, headers)
    client.post(f"/api/v1/exam-attempts/{attempt['id']}/submit", headers=headers)

    second = client.post(f"/api/v1/exams/{exam.id}/attempts", headers=headers)

    assert second.status_code == 409
    assert second.json()["code"] == "exam_attempts_exhausted" and "1 次" in second.json()["detail"]


def test_a_cadre_outside_the_audience_or_outside_the_window_cannot_start(
    client: TestClient, session: Session, exam_clock: Clock
) -> None:
    load_bank(session)
    exam = make_exam(session, make_officer(session))
    elsewhere = client.post(
        f"/api/v1/exams/{exam.id}/attempts", headers=auth_headers(make_cadre(session, HUANGLIU))
    )
    assert elsewhere.status_code == 404 and elsewhere.json()["code"] == "exam_not_found"
    headers = auth_headers(make_cadre(session))
    exam_clock.advance(days=8)
    closed = client.post(f"/api/v1/exams/{exam.id}/attempts", headers=headers)
    assert closed.status_code == 422 and closed.json()["code"] == "exam_not_available"
    assert (
        client.get("/api/v1/exams", headers=auth_headers(make_cadre(session, HUANGLIU))).json()
        == []
    )


def test_highest_grade_counts_the_better_of_two_attempts(
    client: TestClient, session: Session, exam_clock: Clock
) -> None:
    load_bank(session)
    exam = make_exam(session, make_officer(session))
    headers = auth_headers(make_cadre(session))
    first = _start(client, exam.id, headers)
    right = right_answers(session, first["id"])
    for slot, answer in right.items():
        _save(client, first["id"], slot, answer, headers)
    client.post(f"/api/v1/exam-attempts/{first['id']}/submit", headers=headers)
    second = _start(client, exam.id, headers)
    client.post(f"/api/v1/exam-attempts/{second['id']}/submit", headers=headers)

    mine = client.get("/api/v1/exams", headers=headers).json()[0]

    assert (mine["attempts_used"], mine["score"], mine["passed"]) == (2, 40, True)
    assert second["number"] == 2


def test_the_scheduler_job_runs_in_its_own_transaction(committed_db: str) -> None:
    finalise_overdue_attempts()  # nothing overdue: nothing to do, no error
