"""Issue 24's "done when", through the API as its users meet it: a township officer imports two
cadres and opens a paper for the township; a cadre signs in with the one-time password, sets
their own, answers half on one phone, finishes on another, and sees the score and explanations;
the report shows the township's completion."""

import time

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.exams.models import ExamQuestion
from tests.exams.factories import Clock, exam_data, load_bank, make_officer, right_answers
from tests.factories import FOLOU, SANGUANZHAI, auth_headers

NEW_PASSWORD = "sanguanzhai-li-2026"


def _sign_in(client: TestClient, username: str, password: str) -> dict[str, str]:
    answer = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def test_two_cadres_imported_one_takes_the_paper_on_two_phones_and_the_report_counts_it(
    client: TestClient, session: Session, exam_clock: Clock
) -> None:
    load_bank(session)
    officer = auth_headers(make_officer(session))
    csv = "username,display_name,role,region_code\n"
    csv += f"sgz.li,李明,cadre,{SANGUANZHAI}\nfl.wang,王芳,cadre,{FOLOU}\n"
    imported = client.post(
        "/api/v1/admin/staff/import",
        files={"file": ("干部.csv", csv.encode(), "text/csv")},
        headers=officer,
    )
    assert imported.status_code == 201, imported.text
    one_time = {a["username"]: a["password"] for a in imported.json()["accounts"]}
    paper = client.post("/api/v1/admin/exams", json=exam_data(), headers=officer)
    assert paper.status_code == 201, paper.text
    exam_id = paper.json()["id"]
    assert client.post(f"/api/v1/admin/exams/{exam_id}/open", headers=officer).is_success

    first_phone = _sign_in(client, "sgz.li", one_time["sgz.li"])
    body = {"current_password": one_time["sgz.li"], "new_password": NEW_PASSWORD}
    assert client.post("/api/v1/auth/password", json=body, headers=first_phone).status_code == 204
    time.sleep(1.05)  # a new second: tokens carry whole seconds
    first_phone = _sign_in(client, "sgz.li", NEW_PASSWORD)
    listed = client.get("/api/v1/exams", headers=first_phone).json()
    assert [e["id"] for e in listed] == [exam_id]
    attempt = client.post(f"/api/v1/exams/{exam_id}/attempts", headers=first_phone).json()
    assert not any(q.get("correct_answer") or q.get("explanation") for q in attempt["questions"])
    right = right_answers(session, attempt["id"])
    for slot in (1, 2):  # half of it
        saved = client.put(
            f"/api/v1/exam-attempts/{attempt['id']}/answers/{slot}",
            json={"answer": right[slot]},
            headers=first_phone,
        )
        assert saved.status_code == 200, saved.text

    exam_clock.advance(minutes=6)
    second_phone = _sign_in(client, "sgz.li", NEW_PASSWORD)
    resumed = client.post(f"/api/v1/exams/{exam_id}/attempts", headers=second_phone)
    assert resumed.status_code == 200 and resumed.json()["id"] == attempt["id"]
    assert resumed.json()["answered"] == 2
    for slot in (3, 4, 5):
        client.put(
            f"/api/v1/exam-attempts/{attempt['id']}/answers/{slot}",
            json={"answer": right[slot]},
            headers=second_phone,
        )
    done = client.post(f"/api/v1/exam-attempts/{attempt['id']}/submit", headers=second_phone)
    assert done.status_code == 200, done.text
    assert (done.json()["score"], done.json()["passed"]) == (40, True)
    explained = {q["explanation"] for q in done.json()["questions"]}
    bank_explanations = {q.explanation for q in session.query(ExamQuestion).all()}
    assert explained <= bank_explanations and all(explained)

    report = client.get(f"/api/v1/admin/exams/{exam_id}/report", headers=officer).json()
    assert (report["total"]["cadres"], report["total"]["took"]) == (2, 1)
    [township] = report["townships"]
    assert township["code"] == FOLOU and township["completion_rate"] == 0.5
