"""A real `lianyun serve` whose Redis is killed mid-run and started again: the villagers are
served throughout (rate limits counted in the worker's memory), sign-in refuses with a
Chinese 503, /readyz and /metrics say so, the log says so without an address or content, and
all of it comes back to Redis by itself."""

import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.asserts import assert_problem
from tests.private_servers import PrivateRedis, wait_until
from tests.serving import lianyun, log_once_logged, serving

USERNAME = "fault-admin"
PASSWORD = "fault-admin-password-1"
LOOKUP = {"id_number": "511923195203220271", "name": "徐平"}
TIP_CONTENT = "村主任把我家的低保钱扣下了三个月。"
TIP = {"category": "dibao", "village_code": "511923103204", "content": TIP_CONTENT}


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def served(
    fresh_database_url: str, tmp_path: Path, redis_server: PrivateRedis
) -> Iterator[tuple[str, Path]]:
    log_path = tmp_path / "server.log"
    settings = {"LIANYUN_REDIS_URL": redis_server.url, "LIANYUN_REDIS_RETRY_SECONDS": "0.5"}
    with serving(fresh_database_url, log_path, **settings) as base:
        env = {
            **os.environ,
            "LIANYUN_DATABASE_URL": fresh_database_url,
            "LIANYUN_STAFF_PASSWORD": PASSWORD,
        }
        lianyun(env, "create-staff", "--username", USERNAME, "--role", "county_admin")
        yield base, log_path


def sign_in(base: str) -> httpx.Response:
    return httpx.post(
        f"{base}/api/v1/auth/token", data={"username": USERNAME, "password": PASSWORD}
    )


def lookup(base: str) -> httpx.Response:
    return httpx.post(f"{base}/api/v1/subsidies/lookup", json=LOOKUP)


def log_lines(log_path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]


def outage_logged_in(text: str) -> bool:
    return "Redis unreachable" in text


def outage_logged(log_path: Path) -> bool:
    return outage_logged_in(log_path.read_text())


def test_a_redis_outage_keeps_villagers_served_and_pauses_sign_in(
    served: tuple[str, Path], redis_server: PrivateRedis
) -> None:
    base, log_path = served
    assert sign_in(base).status_code == 200
    assert lookup(base).status_code == 404  # answered: nobody by that name in an empty county
    assert httpx.get(f"{base}/readyz").json()["redis"] == "ok"

    redis_server.stop()

    # the first request to meet the outage is a tip: it goes in, and nothing is logged at that
    # moment (a line stamped on arrival would date the tip), nor is the gauge changed
    assert httpx.post(f"{base}/api/v1/tips", json=TIP).status_code == 201
    assert not outage_logged_in(log_once_logged(base, log_path))
    assert "lianyun_rate_limit_fallback 0.0" in httpx.get(f"{base}/metrics").text

    # the next lookup tells the outage, under its own request id
    answered = lookup(base)
    assert answered.status_code == 404
    wait_until(lambda: outage_logged(log_path), seconds=5, what="the outage in the log")
    outage = next(
        line for line in log_lines(log_path) if "Redis unreachable" in str(line["message"])
    )
    assert outage["request_id"] == answered.headers["x-request-id"]

    # lookups go on, limited in the worker's memory: exactly 10 a minute
    answers = [lookup(base) for _ in range(10)]
    assert [answer.status_code for answer in answers[:9]] == [404] * 9
    assert_problem(answers[9], 429, "rate_limited")

    # sign-in fails closed
    refused = sign_in(base)
    body = assert_problem(refused, 503, "rate_limit_unavailable")
    assert int(refused.headers["retry-after"]) >= 1
    assert body["retry_after"] == int(refused.headers["retry-after"])

    ready = httpx.get(f"{base}/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "degraded" and ready.json()["redis"] == "unavailable"
    metrics = httpx.get(f"{base}/metrics").text
    assert "lianyun_rate_limit_fallback 1.0" in metrics
    hits = next(
        line
        for line in metrics.splitlines()
        if line.startswith("lianyun_rate_limit_fallback_hits_total")
    )
    assert float(hits.split()[1]) == 11  # the lookups; tips are not counted

    redis_server.start()

    wait_until(lambda: sign_in(base).status_code == 200, seconds=10, what="sign-in to come back")
    assert redis_server.client().keys("*")  # counted in Redis again
    ready = httpx.get(f"{base}/readyz").json()
    assert ready["status"] == "ready" and ready["redis"] == "ok"
    assert "lianyun_rate_limit_fallback 0.0" in httpx.get(f"{base}/metrics").text

    app_lines = [line for line in log_lines(log_path) if str(line["logger"]).startswith("app.")]
    text = json.dumps(app_lines, ensure_ascii=False)
    assert any("Redis answers again" in str(line["message"]) for line in app_lines)
    for private in ("127.0.0.1", LOOKUP["id_number"], LOOKUP["name"], TIP_CONTENT, USERNAME):
        assert private not in text
