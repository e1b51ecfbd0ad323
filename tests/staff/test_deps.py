"""`require_role` on a route made here, at test time: the API's own routes take their guard
when the app is built, so these tests reach what a new route would get."""

from typing import Annotated

from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.staff.deps import require_role
from app.staff.models import Role, Staff
from tests.asserts import assert_problem
from tests.factories import FOLOU, HUANGLIU, SANGUANZHAI, auth_headers, make_staff


def guarded(app: FastAPI, path: str, *roles: Role, region_param: str | None = None) -> None:
    guard = require_role(*roles, region_param=region_param)

    def endpoint(staff: Annotated[Staff, Depends(guard)]) -> dict[str, int]:
        return {"staff_id": staff.id}

    app.add_api_route(path, endpoint)


def test_a_guarded_route_lets_in_only_the_roles_named(
    app: FastAPI, client: TestClient, session: Session
) -> None:
    guarded(app, "/probe/roles", Role.township_officer, Role.editor)
    officer = make_staff(session, role=Role.township_officer, region_code=FOLOU)
    response = client.get("/probe/roles", headers=auth_headers(officer))
    assert response.status_code == 200 and response.json() == {"staff_id": officer.id}
    clerk = make_staff(session, role=Role.village_clerk, region_code=SANGUANZHAI)
    denied = assert_problem(
        client.get("/probe/roles", headers=auth_headers(clerk)), 403, "forbidden"
    )
    assert denied["detail"] == "您的角色不能进行此操作。"
    missing = assert_problem(client.get("/probe/roles"), 401, "authentication_required")
    assert missing["detail"] == "请先登录：请求头中缺少 Authorization: Bearer 令牌。"


def test_a_region_named_in_the_path_or_the_query_must_lie_inside_the_callers(
    app: FastAPI, client: TestClient, session: Session
) -> None:
    guarded(app, "/probe/path/{village}", Role.township_officer, region_param="village")
    guarded(app, "/probe/query", Role.township_officer, region_param="village")
    guarded(app, "/probe/unscoped/{village}", Role.township_officer)
    headers = auth_headers(make_staff(session, role=Role.township_officer, region_code=FOLOU))

    assert client.get(f"/probe/path/{SANGUANZHAI}", headers=headers).status_code == 200
    outside = client.get(f"/probe/path/{HUANGLIU}", headers=headers)
    assert assert_problem(outside, 403, "forbidden")["detail"] == "该地区不在您的管辖范围内。"
    inside = client.get("/probe/query", params={"village": SANGUANZHAI}, headers=headers)
    assert inside.status_code == 200
    outside = client.get("/probe/query", params={"village": HUANGLIU}, headers=headers)
    assert_problem(outside, 403, "forbidden")
    assert client.get("/probe/query", headers=headers).status_code == 200  # none named
    # a route that names no region parameter does not scope by one
    assert client.get(f"/probe/unscoped/{HUANGLIU}", headers=headers).status_code == 200
