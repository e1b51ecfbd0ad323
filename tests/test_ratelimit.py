import contextlib
import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from sqlalchemy.orm import Session

from app import ratelimit
from app.config import get_settings
from app.errors import RateLimited
from app.logs import anonymous_var
from tests.factories import DEFAULT_PASSWORD, SANGUANZHAI, make_staff
from tests.private_servers import PrivateRedis, wait_until

BACKENDS = ["memory"] + (["redis"] if os.environ.get("LIANYUN_TEST_REDIS_URL") else [])


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if request.param == "redis":
        monkeypatch.setenv("LIANYUN_REDIS_URL", os.environ["LIANYUN_TEST_REDIS_URL"])
    get_settings.cache_clear()
    yield request.param
    get_settings.cache_clear()


def test_the_limit_is_counted_per_key_and_answers_retry_after(backend: str) -> None:
    key = uuid.uuid4().hex
    for _ in range(3):
        ratelimit.hit("3/minute", "test", key)
    with pytest.raises(RateLimited) as info:
        ratelimit.hit("3/minute", "test", key)
    assert 0 < int(info.value.headers["Retry-After"]) <= 60
    ratelimit.hit("3/minute", "test", uuid.uuid4().hex)  # another key is not affected


@pytest.fixture
def private_redis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PrivateRedis]:
    """The app's rate limits in a Redis of this test's own."""
    server = PrivateRedis(tmp_path)
    server.start()
    monkeypatch.setenv("LIANYUN_REDIS_URL", server.url)
    get_settings.cache_clear()
    yield server
    get_settings.cache_clear()
    server.stop()


def test_redis_keys_hold_no_address_and_no_username(
    private_redis: PrivateRedis, app: FastAPI, session: Session
) -> None:
    address = "203.0.113.77"
    staff = make_staff(session, username="wangjianguo")
    client = TestClient(app, client=(address, 50000), raise_server_exceptions=False)
    token_url = "/api/v1/auth/token"
    assert (
        client.post(
            token_url, data={"username": staff.username, "password": DEFAULT_PASSWORD}
        ).status_code
        == 200
    )
    assert (  # after the success: a success forgets the failures per account and client
        client.post(
            token_url, data={"username": staff.username, "password": "wrong-password"}
        ).status_code
        == 401
    )
    lookup = {"id_number": "511923195203220271", "name": "徐平"}
    assert client.post("/api/v1/subsidies/lookup", json=lookup).status_code == 404
    tip = {
        "category": "dibao",
        "village_code": SANGUANZHAI,
        "content": "村干部把低保给了自己的亲戚。",
    }
    assert client.post("/api/v1/tips", json=tip).status_code == 201
    assert client.post("/api/v1/tips/receipt", json={"receipt_code": "0" * 16}).status_code == 404

    keys = [key.decode() for key in private_redis.client().keys("*")]
    # per client: sign-in, lookup, tips, receipts; per account and client; per account
    assert len(keys) == 6, keys
    for key in keys:
        for private in (address, address.replace(".", ""), staff.username):
            assert private not in key


class Blackhole:
    """A TCP listener that accepts connections and never answers: a Redis that times out."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self.listener.settimeout(0.1)
        self.url = f"redis://127.0.0.1:{self.listener.getsockname()[1]}/0"
        self.accepted: list[socket.socket] = []
        self.open = True
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while self.open:
            with contextlib.suppress(TimeoutError):
                self.accepted.append(self.listener.accept()[0])

    def close(self) -> None:
        self.open = False
        self.thread.join(timeout=5)
        for connection in self.accepted:
            connection.close()
        self.listener.close()


@pytest.fixture
def blackhole_redis(monkeypatch: pytest.MonkeyPatch) -> Iterator[Blackhole]:
    hole = Blackhole()
    monkeypatch.setenv("LIANYUN_REDIS_URL", hole.url)
    monkeypatch.setenv("LIANYUN_REDIS_RETRY_SECONDS", "2")
    get_settings.cache_clear()
    yield hole
    ratelimit.reset_outage()
    get_settings.cache_clear()
    hole.close()


def _fallback_gauge() -> float | None:
    return REGISTRY.get_sample_value("lianyun_rate_limit_fallback")


def _outage_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if "Redis unreachable" in r.getMessage()]


def test_a_redis_that_does_not_answer_is_tried_by_one_request_at_a_time(
    blackhole_redis: Blackhole, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING"):
        ratelimit.hit("100/minute", "test", "first")  # meets the outage: one connection only
        assert len(blackhole_redis.accepted) == 1
        wait_until(ratelimit.redis_retry_due, seconds=10, what="the time to try Redis again")

        start = threading.Barrier(20)
        failures: list[BaseException] = []

        def one_request(number: int) -> None:
            start.wait()
            try:
                ratelimit.hit("100/minute", "test", f"concurrent-{number}")
            except BaseException as error:
                failures.append(error)

        threads = [threading.Thread(target=one_request, args=(n,)) for n in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

    assert failures == []  # every request was answered from memory
    assert len(blackhole_redis.accepted) == 2  # one of the twenty tried Redis again
    assert len(_outage_lines(caplog)) == 1
    assert _fallback_gauge() == 1


def test_a_tip_that_meets_the_outage_leaves_no_line_and_no_sample(
    blackhole_redis: Blackhole, caplog: pytest.LogCaptureFixture
) -> None:
    hits_before = REGISTRY.get_sample_value("lianyun_rate_limit_fallback_hits_total") or 0.0
    with caplog.at_level("DEBUG"):
        token = anonymous_var.set(True)
        try:
            ratelimit.hit("5/hour", "tip-submit", "a-tipster", private=True)
        finally:
            anonymous_var.reset(token)
        assert caplog.records == []
        assert _fallback_gauge() == 0
        assert REGISTRY.get_sample_value("lianyun_rate_limit_fallback_hits_total") == hits_before

        # the next other request tells the outage the tip found, and is counted
        ratelimit.hit("10/minute", "lookup", "a-villager")
    assert len(_outage_lines(caplog)) == 1
    assert _fallback_gauge() == 1
    assert len(blackhole_redis.accepted) == 1  # the villager did not wait for Redis again
