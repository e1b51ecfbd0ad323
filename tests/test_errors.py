import sqlite3
from collections.abc import Iterator

import psycopg
import pytest
import sqlalchemy.exc
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.db.engines import SessionDep
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


def test_a_body_over_the_limit_is_refused_before_it_is_read(client: TestClient) -> None:
    big = b'{"refresh_token": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    response = client.post(
        "/api/v1/auth/refresh", content=big, headers={"content-type": "application/json"}
    )
    assert_problem(response, 413, "payload_too_large")

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
        yield b'{"refresh_token": "'
        for _ in range(40):
            yield b"x" * 65536
        yield b'"}'

    streamed = client.post(
        "/api/v1/auth/refresh", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_problem(streamed, 413, "payload_too_large")


def test_an_unexpected_error_is_logged_once_with_its_request_id(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    @app.get("/boom2")
    def boom() -> None:
        raise RuntimeError("kaput")

    with caplog.at_level("ERROR"), TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom2")
    errors = [r for r in caplog.records if r.getMessage() == "unhandled exception"]
    assert len(errors) == 1
    assert errors[0].request_id == response.headers["x-request-id"] == response.json()["request_id"]  # type: ignore[attr-defined]


def test_absurd_ids_in_paths_are_validation_problems(client: TestClient) -> None:
    assert_problem(client.get("/api/v1/policies/99999999999999999999"), 422, "validation_failed")


def test_broken_json_and_enum_errors_read_well(client: TestClient) -> None:
    broken = client.post(
        "/api/v1/auth/refresh",
        content=b'{"refresh_token": ',
        headers={"content-type": "application/json"},
    )
    assert assert_problem(broken, 422, "validation_failed")["errors"][0]["field"] == "body"
    bad_year = client.post(
        "/api/v1/subsidies/lookup", json={"id_number": "x", "name": "y", "category": "99"}
    )
    assert assert_problem(bad_year, 422, "validation_failed")["errors"][0]["field"] == "category"


def test_every_problem_code_has_a_chinese_page(client: TestClient) -> None:
    from app.errors import problem_pages

    for code in ["id_number_invalid", "person_not_found", "payload_too_large", "sync_running"]:
        page = client.get(f"/problems/{code}")
        assert page.status_code == 200, code
        assert code in page.text
    assert all(
        any("\u4e00" <= c <= "\u9fff" for c in title) for title, _ in problem_pages().values()
    )


def test_head_healthz(client: TestClient) -> None:
    assert client.head("/healthz").status_code == 200


def _a_wrong_statement(session: Session) -> None:
    """Runs a statement the database refuses with an OperationalError that is a bug, not an
    outage: a column that does not exist (SQLite), a statement timeout (PostgreSQL)."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("SELECT no_such_column FROM region"))
    else:
        session.execute(text("SET LOCAL statement_timeout = '1ms'"))
        session.execute(text("SELECT pg_sleep(0.2)"))


def test_a_wrong_statement_is_a_500_with_its_traceback_not_a_database_outage(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    @app.get("/wrong-statement")
    def wrong_statement(session: SessionDep) -> None:
        _a_wrong_statement(session)

    with caplog.at_level("WARNING"), TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/wrong-statement")
    assert_problem(response, 500, "internal_error")
    assert "retry-after" not in response.headers
    logged = [r for r in caplog.records if r.getMessage() == "unhandled exception"]
    assert len(logged) == 1 and logged[0].exc_info is not None
    assert not [r for r in caplog.records if "database unavailable" in r.getMessage()]


@pytest.mark.parametrize(
    "error",
    [
        sqlite3.OperationalError("no such column: region.nam"),
        sqlite3.OperationalError('near "SELEC": syntax error'),
        psycopg.errors.lookup("40P01")("deadlock detected"),
        psycopg.errors.lookup("40001")("could not serialize access"),
        psycopg.errors.lookup("57014")("canceling statement due to statement timeout"),
    ],
    ids=["no-such-column", "syntax", "deadlock", "serialization", "statement-timeout"],
)
def test_database_errors_that_are_bugs_are_500s(app: FastAPI, error: Exception) -> None:
    @app.get("/bug")
    def bug() -> None:
        raise sqlalchemy.exc.OperationalError("SELECT 1", {}, error)

    with TestClient(app, raise_server_exceptions=False) as client:
        assert_problem(client.get("/bug"), 500, "internal_error")


@pytest.mark.parametrize(
    "error",
    [
        sqlalchemy.exc.OperationalError(
            "UPDATE t", {}, sqlite3.OperationalError("database is locked")
        ),
        sqlite3.OperationalError("unable to open database file"),
        sqlalchemy.exc.OperationalError(
            "SELECT 1", {}, psycopg.errors.lookup("57P01")("terminating connection")
        ),
        sqlalchemy.exc.OperationalError(
            "SELECT 1", {}, psycopg.errors.lookup("53300")("too many connections")
        ),
        sqlalchemy.exc.OperationalError(
            "SELECT 1", {}, psycopg.OperationalError("connection failed: Connection refused")
        ),
        sqlalchemy.exc.TimeoutError("QueuePool limit of size 5 overflow 10 reached"),
    ],
    ids=["sqlite-locked", "sqlite-cannot-open", "pg-shutdown", "pg-full", "pg-refused", "pool"],
)
def test_database_outages_are_503s_with_retry_after(app: FastAPI, error: Exception) -> None:
    @app.get("/outage")
    def outage() -> None:
        raise error

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/outage")
    assert_problem(response, 503, "database_unavailable")
    assert response.headers["retry-after"] == "5"
