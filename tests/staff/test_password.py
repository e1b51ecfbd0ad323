"""An account holder changes their own password (a cadre's one-time password first of all):
the current one is checked and guessing it is limited, every session ends, the audit log says
it changed and never what to."""

import time

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEntry
from app.staff.models import Role
from tests.asserts import assert_problem
from tests.factories import DEFAULT_PASSWORD, SANGUANZHAI, make_staff
from tests.staff.test_router import TOKEN_URL, login

URL = "/api/v1/auth/password"
NEW = "xin-mima-2026-shan"


def _bearer(tokens: dict[str, object]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def test_a_cadre_changes_the_one_time_password_and_signs_in_again(
    client: TestClient, session: Session
) -> None:
    cadre = make_staff(session, role=Role.cadre, region_code=SANGUANZHAI)
    tokens = login(client, cadre.username)
    body = {"current_password": DEFAULT_PASSWORD, "new_password": NEW}
    changed = client.post(URL, json=body, headers=_bearer(tokens))
    assert changed.status_code == 204, changed.text

    time.sleep(1.05)  # tokens carry whole seconds
    assert_problem(client.get("/api/v1/auth/me", headers=_bearer(tokens)), 401, "token_invalid")
    refreshed = client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert_problem(refreshed, 401, "token_invalid")
    old = client.post(TOKEN_URL, data={"username": cadre.username, "password": DEFAULT_PASSWORD})
    assert_problem(old, 401, "invalid_credentials")
    fresh = login(client, cadre.username, NEW)
    assert client.get("/api/v1/auth/me", headers=_bearer(fresh)).status_code == 200

    [entry] = session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "staff.password", AuditEntry.entity_id == str(cadre.id)
        )
    )
    assert entry.actor_id == cadre.id
    assert NEW not in str(entry.after) and DEFAULT_PASSWORD not in str(entry.after)


def test_a_wrong_current_password_changes_nothing_and_guessing_is_limited(
    client: TestClient, session: Session
) -> None:
    staff = make_staff(session, role=Role.editor)
    tokens = login(client, staff.username)
    wrong = {"current_password": "not-the-password", "new_password": NEW}
    answers = [client.post(URL, json=wrong, headers=_bearer(tokens)) for _ in range(6)]
    assert_problem(answers[0], 403, "current_password_wrong")
    assert_problem(answers[-1], 429, "rate_limited")  # 5 a minute, as signing in
    assert client.get("/api/v1/auth/me", headers=_bearer(tokens)).status_code == 200
    login(client, staff.username)  # the old password still works


def test_a_new_password_must_be_new_and_not_trivial(client: TestClient, session: Session) -> None:
    staff = make_staff(session, role=Role.commission)
    headers = _bearer(login(client, staff.username))
    same = {"current_password": DEFAULT_PASSWORD, "new_password": DEFAULT_PASSWORD}
    assert_problem(client.post(URL, json=same, headers=headers), 422, "invalid_state")
    weak = {"current_password": DEFAULT_PASSWORD, "new_password": "1234567890"}
    problem = assert_problem(client.post(URL, json=weak, headers=headers), 422, "validation_failed")
    assert "密码太简单" in problem["detail"]
    anonymous = client.post(URL, json={"current_password": "x", "new_password": NEW})
    assert_problem(anonymous, 401, "authentication_required")
    login(client, staff.username)  # unchanged
