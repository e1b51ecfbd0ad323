from collections import Counter

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.config import get_settings
from app.forum import demo
from app.staff.models import Role
from tests.factories import auth_headers, make_staff


def test_the_demo_publishes_answered_questions_of_every_kind_and_leaves_some_open(
    client: TestClient, session: Session
) -> None:
    commission = make_staff(session, role=Role.commission)
    assert demo.load_demo(session, actor=commission, settings=get_settings()) == 15
    assert demo.load_demo(session, actor=commission, settings=get_settings()) == 0  # once

    board = client.get("/api/v1/questions", params={"size": 100}).json()
    assert board["total"] == 15
    assert Counter(q["kind_name"] for q in board["items"]) == {"咨询": 5, "建议": 5, "投诉": 5}
    assert sum(q["rating"] is not None for q in board["items"]) >= 10
    one = client.get(f"/api/v1/questions/{board['items'][0]['id']}").json()
    assert one["answer"] and one["body"] != one["answer"]
    assert client.get("/api/v1/questions", params={"q": "低保"}).json()["total"] >= 2

    headers = auth_headers(commission)
    overdue = client.get("/api/v1/admin/questions/overdue", headers=headers).json()
    assert overdue["total"] == 1
    waiting = client.get(
        "/api/v1/admin/questions", params={"state": "assigned"}, headers=headers
    ).json()
    assert [len(q["extensions"]) for q in waiting["items"]] == [1]
    figures = client.get("/api/v1/questions/stats").json()
    assert figures["total"]["asked"] >= 1
