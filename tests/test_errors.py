from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.asserts import assert_problem


def test_unknown_route_is_a_chinese_problem(client: TestClient) -> None:
    body = assert_problem(client.get("/api/v1/no-such-thing?id=1"), 404, "not_found")
    assert body["instance"] == "/api/v1/no-such-thing"
    assert len(body["request_id"]) == 32


def test_wrong_method_is_a_problem_with_allow(client: TestClient) -> None:
    response = client.delete("/api/v1/regions")
    assert_problem(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "GET"


def test_validation_names_the_field_in_chinese(client: TestClient) -> None:
    response = client.post("/api/v1/auth/refresh", json={"refresh_token": 5})
    body = assert_problem(response, 422, "validation_failed")
    assert body["errors"] == [{"field": "refresh_token", "message": "应为文本"}]

    response = client.post(
        "/api/v1/auth/refresh", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert_problem(response, 422, "validation_failed")


def test_unexpected_error_hides_the_traceback(app: FastAPI) -> None:
    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internal detail /srv/app.py line 3")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom")
    body = assert_problem(response, 500, "internal_error")
    assert "secret internal detail" not in response.text
    assert "Traceback" not in response.text
    assert body["request_id"] == response.headers["x-request-id"]


def test_problem_types_resolve_to_a_chinese_page(client: TestClient) -> None:
    body = client.get("/api/v1/no-such-thing").json()
    page = client.get(body["type"])
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "不存在" in page.text
    assert_problem(client.get("/problems/unheard_of"), 404, "not_found")
