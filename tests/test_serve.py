"""`lianyun serve` as a real process: it migrates first, serves, and logs JSON lines that never
hold a query string, a request body or an Authorization header."""

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.serving import log_once_logged, serving

SECRET_QUERY = "query-secret-7f3a"
SECRET_BODY = "body-secret-91c2"
SECRET_TOKEN = "header-secret-4d8e"


@pytest.fixture
def server(fresh_database_url: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    log_path = tmp_path / "server.log"
    with serving(fresh_database_url, log_path) as base:
        yield base, log_path


def test_served_logs_are_json_with_request_ids_and_no_secrets(server: tuple[str, Path]) -> None:
    base, log_path = server
    regions = httpx.get(f"{base}/api/v1/regions/511923103204?token={SECRET_QUERY}")
    assert regions.status_code == 200 and regions.json()["name"] == "三官寨村"
    login = httpx.post(
        f"{base}/api/v1/auth/token",
        data={"username": "nobody", "password": SECRET_BODY},
        headers={"Authorization": f"Bearer {SECRET_TOKEN}"},
    )
    assert login.status_code == 401
    me = httpx.get(f"{base}/api/v1/auth/me", headers={"Authorization": f"Bearer {SECRET_TOKEN}"})
    assert me.status_code == 401

    text = log_once_logged(base, log_path)
    for secret in (SECRET_QUERY, SECRET_BODY, SECRET_TOKEN, "Bearer", "?token"):
        assert secret not in text
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    access = [line for line in lines if line["logger"] == "app.access"]
    assert {(a["route"], a["status"]) for a in access} >= {
        ("/api/v1/regions/{code}", 200),
        ("/api/v1/auth/token", 401),
        ("/api/v1/auth/me", 401),
    }
    assert all(len(a["request_id"]) == 32 for a in access)
    fields = ["level", "logger", "message", "request_id", "method", "route", "status"]
    assert list(access[0]) == [*fields, "duration_ms", "time"]
    assert datetime.fromisoformat(access[0]["time"]).utcoffset() == timedelta(0)
    assert regions.headers["x-request-id"] in {a["request_id"] for a in access}


def test_a_forwarded_for_header_does_not_dodge_the_rate_limit(server: tuple[str, Path]) -> None:
    base, _ = server
    body = {"id_number": "511923195203220271", "name": "徐平"}
    statuses = [
        httpx.post(
            f"{base}/api/v1/subsidies/lookup",
            json=body,
            headers={"X-Forwarded-For": f"10.9.8.{i}"},
        ).status_code
        for i in range(11)
    ]
    assert statuses[:10] == [404] * 10
    assert statuses[10] == 429
