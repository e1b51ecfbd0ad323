"""Cadre accounts: imported in bulk by a township officer for their township, one-time passwords
answered once, and an account that can do nothing but take exams."""

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEntry
from app.security import verify_password
from app.staff.deps import current_examinee, examinee_token
from app.staff.models import Role, Staff
from tests.audit.test_every_write import OWN_ACCOUNT_ROUTES, api_routes, needs_staff
from tests.exams.factories import make_cadre, make_officer
from tests.factories import FOLOU, HUANGLIU, SANGUANZHAI, auth_headers

HEADER = "username,display_name,role,region_code\n"


def _import(client: TestClient, headers: dict[str, str], text: str) -> object:
    return client.post(
        "/api/v1/admin/staff/import",
        files={"file": ("干部.csv", text.encode(), "text/csv")},
        headers=headers,
    )


def test_a_township_officer_imports_cadres_and_sees_each_password_once(
    client: TestClient, session: Session
) -> None:
    officer = make_officer(session)
    csv = HEADER + f"fl.yang,杨德明,cadre,{SANGUANZHAI}\nfl.zhao,赵秀英,cadre,{FOLOU}\n"

    response = _import(client, auth_headers(officer), csv)

    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    accounts = response.json()["accounts"]
    assert [(a["username"], a["region_code"]) for a in accounts] == [
        ("fl.yang", SANGUANZHAI),
        ("fl.zhao", FOLOU),
    ]
    for account in accounts:
        staff = session.scalar(select(Staff).where(Staff.username == account["username"]))
        assert staff is not None and staff.role == Role.cadre
        assert verify_password(staff.password_hash, account["password"])
        assert account["password"] not in staff.password_hash
    entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "staff.import")).all()
    assert [e.actor_id for e in entries] == [officer.id, officer.id]
    assert all(a["password"] not in str(e.after) for e in entries for a in accounts)
    signed_in = client.post(
        "/api/v1/auth/token", data={"username": "fl.yang", "password": accounts[0]["password"]}
    )
    assert signed_in.status_code == 200


def test_a_cadre_list_with_bad_rows_creates_no_account(
    client: TestClient, session: Session
) -> None:
    officer = make_officer(session)
    make_cadre(session)  # takes a username of its own
    taken = session.scalars(select(Staff.username)).all()[-1]
    csv = (
        HEADER
        + f"fl.ok,好的一行,cadre,{SANGUANZHAI}\n"  # row 2
        + f"fl.clerk,廉政专干,village_clerk,{SANGUANZHAI}\n"  # row 3: only cadres
        + f"{taken},重名,cadre,{SANGUANZHAI}\n"  # row 4
        + f"fl.ok,同名,cadre,{SANGUANZHAI}\n"  # row 5
        + "X,大写用户名,cadre,511923103999\n"  # row 6
    )

    response = _import(client, auth_headers(officer), csv)

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "staff_import_invalid"
    assert [row["row"] for row in body["rows"]] == [3, 4, 5, 6]
    messages = [row["message"] for row in body["rows"]]
    assert "cadre" in messages[0] and "占用" in messages[1]
    assert "第 2 行" in messages[2] and "用户名" in messages[3]
    assert session.scalar(select(Staff).where(Staff.username == "fl.ok")) is None
    away = _import(
        client,
        auth_headers(officer),
        HEADER + f"fl.ok,好的一行,cadre,{SANGUANZHAI}\nfl.away,西兴的干部,cadre,{HUANGLIU}\n",
    )
    assert away.status_code == 403 and "第 3 行" in away.json()["detail"]
    assert session.scalar(select(Staff).where(Staff.username == "fl.ok")) is None


def test_a_village_clerk_cannot_import_cadres(client: TestClient, session: Session) -> None:
    from tests.factories import make_staff

    clerk = make_staff(session, role=Role.village_clerk, region_code=SANGUANZHAI)
    response = _import(client, auth_headers(clerk), HEADER + f"a.b.c,某某,cadre,{SANGUANZHAI}\n")
    assert response.status_code == 403


def test_a_cadre_is_refused_on_every_staff_route(
    app: FastAPI, client: TestClient, session: Session
) -> None:
    headers = auth_headers(make_cadre(session))
    refused = []
    for route in api_routes(app.routes):
        if not needs_staff(route.dependant) or route.path in OWN_ACCOUNT_ROUTES:
            continue
        if _takes_exams(route):
            continue
        path = route.path
        for name in route.param_convertors:
            path = path.replace("{" + name + "}", "1")
        path = path.replace("{kind}", "deceased").replace("{code}", "x").replace("{number}", "x")
        for method in route.methods:
            response = client.request(method, path, headers=headers)
            if response.status_code != 403:
                refused.append(f"{method} {route.path}: {response.status_code}")
    assert not refused, "a cadre reached:\n" + "\n".join(refused)
    assert client.get("/api/v1/auth/me", headers=headers).json()["role"] == "cadre"


def _takes_exams(route: APIRoute) -> bool:
    def walk(dependant: Dependant) -> bool:
        return any(
            d.call in (current_examinee, examinee_token) or walk(d) for d in dependant.dependencies
        )

    return walk(route.dependant)


def test_only_cadres_take_exams(client: TestClient, session: Session) -> None:
    response = client.get("/api/v1/exams", headers=auth_headers(make_officer(session)))
    assert response.status_code == 403 and "干部" in response.json()["detail"]
